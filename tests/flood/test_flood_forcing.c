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
             "analyze flood --dem %s --duration 1500 --boundary east=level:%s --out-dir %s/out "
             "--report %s/r.html --json > %s/out.json",
             dem_path, p, dir, dir, dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
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
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --boundary level:%s/none.csv --out-dir %s/o",
             dem_path, dir, dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    snprintf(p, sizeof p, "%s/back.csv", dir);
    write_text(p, "0,1\n60,2\n30,3\n");
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --boundary west=level:%s --out-dir %s/o", dem_path,
             p, dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
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
                 "analyze flood --dem %s --duration 100 --inflow-line %s:%s --out-dir %s/o%d --report %s/r%d.html "
                 "--json > %s/o%d.json",
                 dem_path, specs[k], q, dir, k, dir, k, dir, k);
        CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
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
        snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --inflow-line %s:%s --out-dir %s/bad", dem_path,
                 bad[k], k == 3 ? "/nonexistent/q.csv" : q, dir);
        CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    }
    /* usage: no hydrograph */
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --inflow-line 1,2 --out-dir %s/bad", dem_path, dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
}

/* ------------------------------------------------------------ rain rasters */

static const char WGS84_WKT[] = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
                                "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433],AUTHORITY[\"EPSG\",\"4326\"]]";

/* A rain raster file: w x h cells of size cell from (x0, y0), value f(c, r). */
static void write_rain(const char *path, int w, int h, double cell, double x0, double y0, float (*f)(int, int),
                       bool wgs84)
{
    ct_raster *r = flood_test_dem(w, h, cell, x0, y0);
    if (wgs84) {
        free(r->crs_wkt);
        r->crs_wkt = strdup(WGS84_WKT);
    }
    for (int rr = 0; rr < h; rr++)
        for (int c = 0; c < w; c++)
            r->data[rr * w + c] = f(c, rr);
    ct_error err = {0};
    if (ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, true, -9999, &err) != CT_OK)
        fprintf(stderr, "%s\n", err.msg);
    ct_raster_destroy(r);
}

static float f60(int c, int r) { (void)c, (void)r; return 60; }
static float f36(int c, int r) { (void)c, (void)r; return 36; }
static float f72(int c, int r) { (void)c, (void)r; return 72; }
/* left half (columns < 10) 72 mm/h, right half nodata */
static float half(int c, int r) { (void)r; return c < 10 ? 72 : NAN; }
/* a ramp in x on a 10 m grid starting 20 m west of the DEM: centre x = x0 + 10 c + 5 */
static float ramp(int c, int r) { (void)r; return (float)(10 + 0.5 * (10 * c + 5)); }

static ct_raster *bumpy_dem(void)
{
    ct_raster *dem = flood_test_dem(30, 20, 5, 500000, 5300000);
    for (int r = 0; r < 20; r++)
        for (int c = 0; c < 30; c++)
            dem->data[r * 30 + c] = (float)(1.0 + 0.02 * c + 0.3 * sin(c * 0.5) * cos(r * 0.4));
    return dem;
}

CT_TEST(test_rain_rasters_constant_equals_rain)
{
    const char *tmp = flood_test_tmpdir("rainc");
    CT_REQUIRE(tmp);
    char dir[256], same[600], coarse[600], geo[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = bumpy_dem();
    ct_error err = {0};
    snprintf(same, sizeof same, "%s/same.tif", dir);
    write_rain(same, 30, 20, 5, 500000, 5300000, f60, false);
    /* 10 m cells, another origin, 2 cells of margin: resampled bilinearly */
    snprintf(coarse, sizeof coarse, "%s/coarse.tif", dir);
    write_rain(coarse, 19, 14, 10, 499980, 5300020, f60, false);
    /* WGS84 degrees around the DEM (lon 9, lat 47.84): reprojected */
    snprintf(geo, sizeof geo, "%s/geo.tif", dir);
    write_rain(geo, 20, 50, 0.001, 8.99, 47.87, f60, true);
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 600, .rain_mm_h = 60};
    ct_flood_sim_result ref, r;
    CT_REQUIRE(ct_flood_sim_run(&d, &ref, &err) == CT_OK);
    /* by hand: 60 mm/h over 600 s on 600 cells of 25 m2 = 0.01 m x 15000 m2 */
    CT_CHECK_NEAR(ref.rain_m3, 150, 150 * 1e-6);
    const char *paths[3] = {same, coarse, geo};
    for (int k = 0; k < 3; k++) {
        ct_flood_rain_frame fr = {0, paths[k]};
        ct_flood_sim_desc d2 = {.dem = dem, .duration_s = 600, .rain_rasters = &fr, .n_rain_rasters = 1};
        if (ct_flood_sim_run(&d2, &r, &err) != CT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            CT_CHECK(0);
            continue;
        }
        int diff = 0;
        for (int i = 0; i < 600; i++) {
            float a = ref.final_depth->data[i], b = r.final_depth->data[i];
            diff += (isnan(a) != isnan(b)) || (!isnan(a) && a != b);
        }
        fprintf(stderr, "rain raster %s: %lld steps (%lld with --rain), rain %.9f m3 (%.9f), %d cells differ\n",
                paths[k], r.steps, ref.steps, r.rain_m3, ref.rain_m3, diff);
        /* on the DEM's grid and after resampling a constant: bitwise the same run */
        CT_CHECK_EQ_INT(r.steps, ref.steps);
        CT_CHECK_EQ_INT(diff, 0);
        CT_CHECK_NEAR(r.rain_m3, ref.rain_m3, 1e-9 * ref.rain_m3);
        ct_flood_sim_result_free(&r);
    }
    ct_flood_sim_result_free(&ref);
    ct_raster_destroy(dem);
}

CT_TEST(test_rain_rasters_step_volume)
{
    const char *tmp = flood_test_tmpdir("rains");
    CT_REQUIRE(tmp);
    char dir[256], a[600], b[600], list[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = bumpy_dem();
    ct_error err = {0};
    snprintf(a, sizeof a, "%s/a.tif", dir);
    snprintf(b, sizeof b, "%s/b.tif", dir);
    write_rain(a, 30, 20, 5, 500000, 5300000, f36, false);
    write_rain(b, 30, 20, 5, 500000, 5300000, f72, false);
    /* 36 mm/h from 0 to 200 s, 72 mm/h from 200 s to the end (500 s), closed
     * edges: 15000 m2 x (1e-5 m/s x 200 s + 2e-5 m/s x 300 s) = 120 m3 */
    ct_flood_rain_frame fr[2] = {{0, a}, {200, b}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 500, .rain_rasters = fr, .n_rain_rasters = 2,
                           .mass_balance_every_s = 100};
    ct_flood_sim_result r;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    fprintf(stderr, "step rain: %.6f m3 (120 by hand), stored %.6f m3\n", r.rain_m3, volume_of(r.final_depth));
    CT_CHECK_NEAR(r.rain_m3, 120, 120 * 1e-6);
    CT_CHECK_NEAR(r.final_volume_m3, 120, 120 * 1e-5);
    /* the budget at 200 s: the first interval only, 15000 x 1e-5 x 200 = 30 m3 */
    bool seen = false;
    for (int k = 0; k < r.n_mass_rows; k++)
        if (fabs(r.mass[k].t - 200) < 1e-6) {
            CT_CHECK_NEAR(r.mass[k].rain_m3, 30, 30 * 1e-6);
            seen = true;
        }
    CT_CHECK(seen);
    ct_flood_sim_result_free(&r);
    /* no rain before the first frame: frames at 100 and 300 s,
     * 15000 x (1e-5 x 200 + 2e-5 x 200) = 90 m3 */
    fr[0].t = 100;
    fr[1].t = 300;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    CT_CHECK_NEAR(r.rain_m3, 90, 90 * 1e-6);
    ct_flood_sim_result_free(&r);
    /* a linear ramp on a 10 m grid (2 cells of margin): bilinear resampling
     * reproduces it at the DEM cell centres, rate(x) = 10 + 0.5 (x - 499980);
     * the volume over 300 s is summed here from that formula */
    char rp[600];
    snprintf(rp, sizeof rp, "%s/ramp.tif", dir);
    write_rain(rp, 19, 14, 10, 499980, 5300020, ramp, false);
    double expect = 0;
    for (int c = 0; c < 30; c++) {
        double x = 500000 + 5 * c + 2.5;
        expect += 20 * (10 + 0.5 * (x - 499980)) / 3.6e6 * 300 * 25;
    }
    ct_flood_rain_frame one = {0, rp};
    ct_flood_sim_desc d3 = {.dem = dem, .duration_s = 300, .rain_rasters = &one, .n_rain_rasters = 1};
    CT_REQUIRE(ct_flood_sim_run(&d3, &r, &err) == CT_OK);
    fprintf(stderr, "ramp rain: %.6f m3 (%.6f by hand)\n", r.rain_m3, expect);
    CT_CHECK_NEAR(r.rain_m3, expect, expect * 1e-6);
    ct_flood_sim_result_free(&r);
    /* the list file: relative paths from its folder, a header, exact volume */
    snprintf(list, sizeof list, "%s/list.csv", dir);
    write_text(list, "time_s,path\n0,a.tif\n200,b.tif\n");
    ct_flood_rain_list l;
    CT_REQUIRE(ct_flood_rain_list_load(list, &l, &err) == CT_OK);
    CT_CHECK_EQ_INT(l.n, 2);
    CT_CHECK(strcmp(l.frames[1].path, b) == 0);
    ct_flood_rain_list_free(&l);
    ct_raster_destroy(dem);
}

CT_TEST(test_rain_rasters_spatial)
{
    /* A flat closed basin of 20 x 10 cells split by a wall (column 10): rain
     * of 72 mm/h on the west half only (nodata in the east) for 300 s puts
     * 72 / 3.6e6 x 300 = 6 mm on every west cell and nothing in the east. */
    const char *tmp = flood_test_tmpdir("rainh");
    CT_REQUIRE(tmp);
    char dir[256], p[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = flood_test_dem(20, 10, 5, 500000, 5300000);
    for (int i = 0; i < 200; i++)
        dem->data[i] = 0;
    uint8_t wall[200] = {0};
    for (int r = 0; r < 10; r++)
        wall[r * 20 + 10] = 1;
    snprintf(p, sizeof p, "%s/half.tif", dir);
    write_rain(p, 20, 10, 5, 500000, 5300000, half, false);
    ct_flood_rain_frame fr = {0, p};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 300, .rain_rasters = &fr, .n_rain_rasters = 1,
                           .blocked = wall};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    int west_ok = 0, east_dry = 0;
    for (int rr = 0; rr < 10; rr++)
        for (int c = 0; c < 20; c++) {
            float v = r.final_depth->data[rr * 20 + c];
            if (c < 10)
                west_ok += fabs(v - 0.006) < 1e-6;
            else
                east_dry += isnan(v);
        }
    CT_CHECK_EQ_INT(west_ok, 100);
    CT_CHECK_EQ_INT(east_dry, 100);
    CT_CHECK_NEAR(r.rain_m3, 100 * 25 * 0.006, 15 * 1e-6);
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(test_rain_rasters_cli)
{
    const char *tmp = flood_test_tmpdir("rainl");
    CT_REQUIRE(tmp);
    char dir[256], p[600], cmd[4096], dem_path[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    ct_raster *dem = bumpy_dem();
    ct_error err = {0};
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(dem, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(dem);
    snprintf(p, sizeof p, "%s/a.tif", dir);
    write_rain(p, 30, 20, 5, 500000, 5300000, f36, false);
    snprintf(p, sizeof p, "%s/b.tif", dir);
    write_rain(p, 30, 20, 5, 500000, 5300000, f72, false);
    snprintf(p, sizeof p, "%s/list.csv", dir);
    write_text(p, "time_s,path\n0,a.tif\n200,b.tif\n");
    snprintf(cmd, sizeof cmd,
             "cd / && %s analyze flood --dem %s --duration 500 --rain-rasters %s --out-dir %s/out --report %s/r.html "
             "--json > %s/out.json",
             flood_test_cli(), dem_path, p, dir, dir, dir);
    CT_CHECK_EQ_INT(ct_test_sh(cmd), 0);
    snprintf(p, sizeof p, "%s/out.json", dir);
    uint8_t *js = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    cJSON *j = cJSON_Parse((char *)js);
    free(js);
    CT_REQUIRE(j);
    CT_CHECK_NEAR(cJSON_GetObjectItem(j, "rain_m3")->valuedouble, 120, 120 * 1e-6);
    cJSON_Delete(j);
    snprintf(p, sizeof p, "%s/r.html", dir);
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    CT_CHECK(strstr((char *)js, "rain rasters") != NULL);
    free(js);
    /* bad input: a raster missing from the list, a missing list, times not
     * increasing, a file that is no raster: exit 2 */
    const char *lists[4] = {"0,a.tif\n300,missing.tif\n", NULL, "0,a.tif\n0,b.tif\n", "0,list.csv\n"};
    for (int k = 0; k < 4; k++) {
        snprintf(p, sizeof p, "%s/bad%d.csv", dir, k);
        if (lists[k])
            write_text(p, lists[k]);
        snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 400 --rain-rasters %s --out-dir %s/bad", dem_path,
                 p, dir);
        CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    }
    /* exclusive with --rain and --rain-series: usage */
    snprintf(cmd, sizeof cmd,
             "analyze flood --dem %s --duration 10 --rain 5 --rain-rasters %s/list.csv --out-dir %s/bad", dem_path, dir,
             dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
}

CT_TEST_MAIN(CT_CASE(test_stage_boundary_tide), CT_CASE(test_stage_boundary_cli), CT_CASE(test_line_cells),
             CT_CASE(test_line_inflow_split_and_volume), CT_CASE(test_line_inflow_cli),
             CT_CASE(test_rain_rasters_constant_equals_rain), CT_CASE(test_rain_rasters_step_volume),
             CT_CASE(test_rain_rasters_spatial), CT_CASE(test_rain_rasters_cli))
