/* Forcings of the dynamic flood beyond constant rain and point inflows:
 * stage (time-varying level) boundaries, line inflows, rain raster series.
 * Expectations are worked out by hand (volumes, stages), not copied from a run. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <cjson/cJSON.h>
#include <math.h>

static double volume_of(const ct_raster *depth)
{
    double v = 0, a = ct_raster_cell_area(depth);
    for (size_t i = 0; i < (size_t)depth->width * depth->height; i++)
        if (!isnan(depth->data[i]))
            v += depth->data[i] * a;
    return v;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* ------------------------------------------------------- stage boundary */

CT_TEST(test_stage_boundary_tide)
{
    /* A flat closed basin (200 m x 100 m, ground 0, water at 0.5 m) whose east
     * edge sees a stage rising linearly (r = 1 m/h) from 0.5 m to 1.5 m, then
     * held. The basin is short (a long wave, c = sqrt(g h) >= 2.2 m/s, crosses
     * L = 200 m in about a minute), so its level follows the stage; the start
     * and the stop of the rise each ring a quarter-wave seiche (the open edge
     * a node) of amplitude about r L / c = 0.025 m, weakly damped. So: the far
     * (west) end within 2 r L / c = 5 cm of the stage after 10 minutes, and at
     * the end; the water that came in over the edge is the basin's rise,
     * 20000 m2 x 1 m = 20000 m3, within the seiche (2.5 cm x 20000 m2 = 500 m3). */
    int w = 20, h = 10;
    ct_raster *dem = flood_test_dem(w, h, 10, 500000, 5300000);
    for (int i = 0; i < w * h; i++)
        dem->data[i] = 0;
    double st_t[2] = {0, 3600}, st_v[2] = {0.5, 1.5};
    double gauge[4] = {500005, 5299950, 500195, 5299950}; /* west and east end cells */
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 4200, .use_initial_level = true, .initial_level = 0.5,
                           .gauges_xy = gauge, .n_gauges = 2, .gauge_every_s = 60};
    d.boundary[CT_FLOOD_EAST] = (ct_flood_boundary){CT_FLOOD_BOUNDARY_LEVEL, 0, {2, st_t, st_v}};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    double worst = 0;
    for (int k = 0; k < r.n_gauge_times; k++) {
        double t = r.gauge_t[k];
        double stage = t >= 3600 ? 1.5 : 0.5 + t / 3600;
        double west = r.gauge_wse[(size_t)k * 2];
        if (t >= 600)
            worst = fmax(worst, fabs(west - stage));
    }
    double end_west = r.gauge_wse[(size_t)(r.n_gauge_times - 1) * 2];
    fprintf(stderr, "stage: %d gauge rows, worst west lag %.4f m after 600 s, end level %.4f m, in %.1f m3, out %.1f m3, "
            "error %.2e\n", r.n_gauge_times, worst, end_west, r.boundary_in_m3, r.boundary_out_m3, r.mass_balance_error);
    CT_CHECK(r.n_gauge_times >= 70);
    CT_CHECK(worst < 0.05);
    CT_CHECK_NEAR(end_west, 1.5, 0.05);
    /* budget: independent of the model's own bookkeeping */
    double v0 = 0.5 * w * h * 100, vf = volume_of(r.final_depth);
    double net_in = r.boundary_in_m3 - r.boundary_out_m3;
    CT_CHECK_NEAR(vf - v0, net_in, 1e-3 * r.boundary_in_m3);
    CT_CHECK_NEAR(net_in, 20000, 500);
    CT_CHECK(r.mass_balance_error < 1e-3);
    CT_CHECK_NEAR(r.rain_m3 + r.inflow_m3, 0, 0);
    ct_flood_sim_result_free(&r);

    /* A constant stage series is the fixed level L: the same run, float for float. */
    double c_t[1] = {0}, c_v[1] = {0.8};
    ct_flood_sim_desc d2 = {.dem = dem, .duration_s = 300, .use_initial_level = true, .initial_level = 0.5};
    d2.boundary[CT_FLOOD_EAST] = (ct_flood_boundary){CT_FLOOD_BOUNDARY_LEVEL, 0, {1, c_t, c_v}};
    ct_flood_sim_result r2, r3;
    CT_REQUIRE(ct_flood_sim_run(&d2, &r2, &err) == CT_OK);
    d2.boundary[CT_FLOOD_EAST] = (ct_flood_boundary){CT_FLOOD_BOUNDARY_LEVEL, 0.8, {0}};
    CT_REQUIRE(ct_flood_sim_run(&d2, &r3, &err) == CT_OK);
    CT_CHECK_EQ_INT(r2.steps, r3.steps);
    CT_CHECK(memcmp(r2.final_depth->data, r3.final_depth->data, sizeof(float) * w * h) == 0);
    ct_flood_sim_result_free(&r2);
    ct_flood_sim_result_free(&r3);
    ct_raster_destroy(dem);
}

CT_TEST(test_stage_boundary_cli)
{
    const char *tmp = flood_test_tmpdir("stage");
    CT_REQUIRE(tmp);
    char dir[256], p[600], cmd[4096], dem_path[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = flood_test_dem(20, 10, 10, 500000, 5300000);
    for (int i = 0; i < 200; i++)
        dem->data[i] = 0;
    ct_error err = {0};
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(dem, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(dem);
    snprintf(p, sizeof p, "%s/tide.csv", dir);
    write_text(p, "time_s,level_m\n0,0.2\n600,0.5\n");
    snprintf(cmd, sizeof cmd,
             "%s analyze flood --dem %s --duration 1500 --boundary east=level:%s --out-dir %s/out "
             "--report %s/r.html --json > %s/out.json",
             flood_test_cli(), dem_path, p, dir, dir, dir);
    CT_CHECK_EQ_INT(flood_test_sh(cmd), 0);
    snprintf(p, sizeof p, "%s/out.json", dir);
    uint8_t *js = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    cJSON *j = cJSON_Parse((char *)js);
    free(js);
    CT_REQUIRE(j);
    /* a dry flat basin filled to 0.5 m by the stage: 20000 m2 x 0.5 m, give
     * or take the seiche (r L / c: 0.5 m/h x 200 m / 2.2 m/s = 1.3 cm: 260 m3) */
    double in = cJSON_GetObjectItem(j, "boundary_in_m3")->valuedouble;
    double fv = cJSON_GetObjectItem(j, "final_volume_m3")->valuedouble;
    fprintf(stderr, "stage CLI: in %.1f m3, final %.1f m3\n", in, fv);
    CT_CHECK_NEAR(fv, 10000, 300);
    CT_CHECK(cJSON_GetObjectItem(j, "mass_balance_error")->valuedouble < 1e-3);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/r.html", dir);
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    CT_CHECK(strstr((char *)js, "Boundary stage") != NULL);
    CT_CHECK(strstr((char *)js, "tide.csv") != NULL);
    free(js);
    /* bad stage CSVs: missing, times not increasing -> exit 2 */
    snprintf(cmd, sizeof cmd, "%s analyze flood --dem %s --duration 10 --boundary level:%s/none.csv --out-dir %s/o 2>/dev/null",
             flood_test_cli(), dem_path, dir, dir);
    CT_CHECK_EQ_INT(flood_test_sh(cmd), 2);
    snprintf(p, sizeof p, "%s/back.csv", dir);
    write_text(p, "0,1\n60,2\n30,3\n");
    snprintf(cmd, sizeof cmd, "%s analyze flood --dem %s --duration 10 --boundary west=level:%s --out-dir %s/o 2>&1",
             flood_test_cli(), dem_path, p, dir);
    CT_CHECK_EQ_INT(flood_test_sh(cmd), 2);
}

/* ----------------------------------------------------------- line inflows */

CT_TEST(test_line_cells)
{
    /* 10 x 6 cells of 5 m from (500000, 5300000): cell (c, r) spans
     * x 500000+5c .. +5, y 5300000-5r .. -5. */
    ct_raster *dem = flood_test_dem(10, 6, 5, 500000, 5300000);
    ct_error err = {0};
    long *cells;
    double *len, out;
    int n;
    /* horizontal through the centres of row 2, from the west edge of column 2
     * to the east edge of column 6: exactly 5 cells, 5 m each */
    double h[4] = {500010, 5299987.5, 500035, 5299987.5};
    CT_REQUIRE(ct_flood_line_cells(dem, h, 2, &cells, &len, &n, &out, &err) == CT_OK);
    CT_CHECK_EQ_INT(n, 5);
    for (int k = 0; k < n && k < 5; k++) {
        CT_CHECK_EQ_INT(cells[k], 2 * 10 + 2 + k);
        CT_CHECK_NEAR(len[k], 5, 1e-9);
    }
    CT_CHECK_NEAR(out, 0, 0);
    free(cells);
    free(len);
    /* a diagonal through the corner shared by cells (0,0) and (1,1): those
     * two get sqrt(50) each, the corner-touching (1,0) and (0,1) nothing */
    double dgl[4] = {500000, 5300000, 500010, 5299990};
    CT_REQUIRE(ct_flood_line_cells(dem, dgl, 2, &cells, &len, &n, &out, &err) == CT_OK);
    CT_CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CT_CHECK_EQ_INT(cells[0], 0);
        CT_CHECK_EQ_INT(cells[1], 11);
        CT_CHECK_NEAR(len[0], sqrt(50), 1e-9);
        CT_CHECK_NEAR(len[1], sqrt(50), 1e-9);
    }
    free(cells);
    free(len);
    /* two parts (NAN separator), the first partly outside: 10 m out, 2 x 5 m
     * in row 0; the second a vertical 7.5 m in column 9 (rows 4 and 5: 2.5 + 5) */
    double parts[10] = {499990, 5299997.5, 500010, 5299997.5, NAN, NAN, 500047, 5299977.5, 500047, 5299970};
    CT_REQUIRE(ct_flood_line_cells(dem, parts, 5, &cells, &len, &n, &out, &err) == CT_OK);
    CT_CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CT_CHECK_EQ_INT(cells[0], 0);
        CT_CHECK_EQ_INT(cells[1], 1);
        CT_CHECK_EQ_INT(cells[2], 49);
        CT_CHECK_EQ_INT(cells[3], 59);
        CT_CHECK_NEAR(len[0], 5, 1e-9);
        CT_CHECK_NEAR(len[1], 5, 1e-9);
        CT_CHECK_NEAR(len[2], 2.5, 1e-9);
        CT_CHECK_NEAR(len[3], 5, 1e-9);
    }
    CT_CHECK_NEAR(out, 10, 1e-9);
    free(cells);
    free(len);
    /* wholly outside: an error naming it */
    double far[4] = {400000, 5000000, 400100, 5000000};
    CT_CHECK(ct_flood_line_cells(dem, far, 2, &cells, &len, &n, &out, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "outside") != NULL);
    ct_raster_destroy(dem);
}

CT_TEST(test_line_inflow_split_and_volume)
{
    ct_raster *dem = flood_test_dem(10, 6, 5, 500000, 5300000);
    for (int i = 0; i < 60; i++)
        dem->data[i] = 0;
    ct_error err = {0};
    /* One step of 0.5 s on a dry grid (no flux yet): 2 m3/s over the 5 cells
     * of row 2 (columns 2..6) puts 2 x 0.5 / 5 = 0.2 m3 in each, 0.008 m deep. */
    double h[4] = {500010, 5299987.5, 500035, 5299987.5};
    double qt[1] = {0}, qv[1] = {2};
    ct_flood_line_inflow li = {h, 2, {1, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 0.5, .dt_max = 0.5, .line_inflows = &li, .n_line_inflows = 1};
    ct_flood_sim_result r;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    CT_CHECK_EQ_INT(r.steps, 1);
    int wet = 0;
    for (int i = 0; i < 60; i++) {
        float v = r.final_depth->data[i];
        bool on_line = i >= 22 && i <= 26;
        if (on_line)
            CT_CHECK_NEAR(v, 0.2 / 25, 1e-7);
        else
            CT_CHECK(isnan(v));
        wet += !isnan(v);
    }
    CT_CHECK_EQ_INT(wet, 5);
    CT_CHECK_NEAR(r.inflow_m3, 1.0, 1e-6);
    ct_flood_sim_result_free(&r);
    /* A building on column 4: the 4 other cells get a quarter each. */
    uint8_t blocked[60] = {0};
    blocked[24] = 1;
    d.blocked = blocked;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    for (int c = 2; c <= 6; c++) {
        float v = r.final_depth->data[20 + c];
        if (c == 4)
            CT_CHECK(isnan(v));
        else
            CT_CHECK_NEAR(v, 0.25 / 25, 1e-7);
    }
    ct_flood_sim_result_free(&r);
    d.blocked = NULL;
    /* Unequal lengths: 5 m in column 2, 2.5 m in column 3: shares 2/3, 1/3. */
    double u[4] = {500010, 5299987.5, 500017.5, 5299987.5};
    li.xy = u;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    CT_CHECK_NEAR(r.final_depth->data[22], (2.0 / 3) / 25, 1e-7);
    CT_CHECK_NEAR(r.final_depth->data[23], (1.0 / 3) / 25, 1e-7);
    ct_flood_sim_result_free(&r);
    /* Volume over a hydrograph 0 -> 2 m3/s in 100 s, 2 until 300 s, held after:
     * 100 + 400 + 200 = 700 m3 by 400 s, all still on the closed grid. */
    li.xy = h;
    double ht[3] = {0, 100, 300}, hv[3] = {0, 2, 2};
    li.q_m3s = (ct_flood_series){3, ht, hv};
    ct_flood_sim_desc d2 = {.dem = dem, .duration_s = 400, .line_inflows = &li, .n_line_inflows = 1};
    CT_REQUIRE(ct_flood_sim_run(&d2, &r, &err) == CT_OK);
    fprintf(stderr, "line inflow: %.4f m3 in (700 by hand), %.4f m3 on the grid, %lld steps\n", r.inflow_m3,
            volume_of(r.final_depth), r.steps);
    CT_CHECK_NEAR(r.inflow_m3, 700, 0.7);
    CT_CHECK_NEAR(volume_of(r.final_depth), r.inflow_m3, 1e-4 * 700);
    ct_flood_sim_result_free(&r);
    /* a line wholly on buildings: an input error */
    li.xy = u;
    uint8_t all[60];
    memset(all, 1, sizeof all);
    d.blocked = all;
    CT_CHECK(ct_flood_sim_run(&d, &r, &err) == CT_ERR_INPUT);
    ct_raster_destroy(dem);
}

CT_TEST(test_line_inflow_cli)
{
    const char *tmp = flood_test_tmpdir("line");
    CT_REQUIRE(tmp);
    char dir[256], p[600], q[600], cmd[4096], dem_path[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = flood_test_dem(10, 6, 5, 500000, 5300000);
    for (int i = 0; i < 60; i++)
        dem->data[i] = 0;
    ct_error err = {0};
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(dem, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(dem);
    snprintf(q, sizeof q, "%s/q.csv", dir);
    write_text(q, "time_s,q_m3s\n0,1\n");
    /* the same line three ways: WKT, a coordinate list, a GeoJSON file in
     * EPSG:32632 (the DEM's CRS); 1 m3/s for 100 s = 100 m3 each time */
    snprintf(p, sizeof p, "%s/line.geojson", dir);
    write_text(p, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
                  "\"urn:ogc:def:crs:EPSG::32632\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[500010,5299987.5],[500035,5299987.5]]}}]}");
    const char *specs[3] = {"'LINESTRING(500010 5299987.5,500035 5299987.5)'", "'500010,5299987.5;500035,5299987.5'",
                            p};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd,
                 "%s analyze flood --dem %s --duration 100 --inflow-line %s:%s --out-dir %s/o%d --report %s/r%d.html "
                 "--json > %s/o%d.json",
                 flood_test_cli(), dem_path, specs[k], q, dir, k, dir, k, dir, k);
        CT_CHECK_EQ_INT(flood_test_sh(cmd), 0);
        char jp[700];
        snprintf(jp, sizeof jp, "%s/o%d.json", dir, k);
        uint8_t *js = NULL;
        size_t n = 0;
        CT_REQUIRE(ct_file_read(jp, 0, &js, &n, &err) == CT_OK);
        cJSON *j = cJSON_Parse((char *)js);
        free(js);
        CT_REQUIRE(j);
        CT_CHECK_NEAR(cJSON_GetObjectItem(j, "inflow_m3")->valuedouble, 100, 1e-3);
        CT_CHECK_NEAR(cJSON_GetObjectItem(j, "final_volume_m3")->valuedouble, 100, 1e-3);
        cJSON_Delete(j);
    }
    snprintf(p, sizeof p, "%s/r0.html", dir);
    uint8_t *js = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    CT_CHECK(strstr((char *)js, "inflow line") != NULL);
    free(js);
    /* bad input: a line outside the DEM, a missing line file, bad coordinates, a missing hydrograph: exit 2 */
    const char *bad[4] = {"'400000,5000000;400100,5000000'", "/nonexistent/line.gpkg", "'500010,abc;1,2'",
                          "'500010,5299987.5;500035,5299987.5'"};
    for (int k = 0; k < 4; k++) {
        snprintf(cmd, sizeof cmd, "%s analyze flood --dem %s --duration 10 --inflow-line %s:%s --out-dir %s/bad 2>&1",
                 flood_test_cli(), dem_path, bad[k], k == 3 ? "/nonexistent/q.csv" : q, dir);
        CT_CHECK_EQ_INT(flood_test_sh(cmd), 2);
    }
    /* usage: no hydrograph */
    snprintf(cmd, sizeof cmd, "%s analyze flood --dem %s --duration 10 --inflow-line 1,2 --out-dir %s/bad 2>/dev/null",
             flood_test_cli(), dem_path, dir);
    CT_CHECK_EQ_INT(flood_test_sh(cmd), 1);
}

CT_TEST_MAIN(CT_CASE(test_stage_boundary_tide), CT_CASE(test_stage_boundary_cli), CT_CASE(test_line_cells),
             CT_CASE(test_line_inflow_split_and_volume), CT_CASE(test_line_inflow_cli))
