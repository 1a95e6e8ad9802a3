/* Dynamic 2D flood (local inertial): lake at rest, mass conservation,
 * MacDonald long-channel analytic solutions (SWASHES), a pond filling to its
 * sill, symmetric radial spreading, buildings, nodata holes, bad input. */
#include "ct_test.h"
#include "flood_test_util.h"
#include "citytwin/ct_geo.h"

#include <cjson/cJSON.h>

#include <math.h>
#include <omp.h>

static double volume_of(const ct_raster *depth)
{
    double v = 0, a = ct_raster_cell_area(depth);
    for (size_t i = 0; i < (size_t)depth->width * depth->height; i++)
        if (!isnan(depth->data[i]))
            v += depth->data[i] * a;
    return v;
}

CT_TEST(test_lake_at_rest)
{
    /* Bumpy ground, some of it above the lake; closed edges. */
    int w = 40, h = 30;
    ct_raster *dem = flood_test_dem(w, h, 10, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = (float)(3.0 + 2.5 * sin(c * 0.4) * cos(r * 0.3));
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 600, .use_initial_level = true, .initial_level = 4.0};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    double max_dev = 0, max_v = 0;
    for (int i = 0; i < w * h; i++) {
        float z = dem->data[i], fd = r.final_depth->data[i];
        double expect = z < 4.0f ? 4.0f - z : 0;
        double got = isnan(fd) ? 0 : fd;
        if (expect > 0.001 || got > 0)
            max_dev = fmax(max_dev, fabs(got - expect));
        if (!isnan(r.max_velocity->data[i]))
            max_v = fmax(max_v, r.max_velocity->data[i]);
    }
    fprintf(stderr, "lake at rest: max depth change %.3g m, max speed %.3g m/s, %lld steps\n", max_dev, max_v, r.steps);
    CT_CHECK(max_dev < 1e-4);
    CT_CHECK(max_v < 1e-3);
    CT_CHECK(r.steps > 100);
    CT_CHECK(r.mass_balance_error < 1e-6);
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(test_mass_conservation)
{
    /* A tilted, bumpy basin with closed edges: every drop of rain and inflow
     * must be in the final depth raster (counted independently here). */
    int w = 50, h = 40;
    ct_raster *dem = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = (float)(0.02 * c + 0.5 * sin(c * 0.3) * sin(r * 0.25));
    dem->data[5 * w + 5] = NAN; /* a nodata hole */
    double rt[3] = {0, 300, 600}, rv[3] = {0, 100, 0}; /* mm/h triangle: 8.33 mm in total */
    double qt[2] = {0, 600}, qv[2] = {2.0, 0.0};       /* 600 m³ in total */
    ct_flood_inflow inflow = {.x = 500000 + 40 * 5 + 2.5, .y = 5300000 - 20 * 5 - 2.5, .q_m3s = {2, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 900, .rain_series = {3, rt, rv}, .inflows = &inflow,
                           .n_inflows = 1};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    double valid_area = (w * h - 1) * 25.0;
    double rain_expect = 0.5 * 600 * (100.0 / 1000 / 3600) * valid_area; /* triangle area */
    double inflow_expect = 0.5 * 600 * 2.0;
    double stored = volume_of(r.final_depth); /* misses films under 1 mm */
    fprintf(stderr, "mass: rain %.3f (expect %.3f) inflow %.3f (expect %.3f) stored %.3f, error %.2e\n", r.rain_m3,
            rain_expect, r.inflow_m3, inflow_expect, stored, r.mass_balance_error);
    CT_CHECK_NEAR(r.rain_m3, rain_expect, 1e-3 * rain_expect);
    CT_CHECK_NEAR(r.inflow_m3, inflow_expect, 1e-3 * inflow_expect);
    CT_CHECK_NEAR(r.final_volume_m3, rain_expect + inflow_expect, 1e-3 * (rain_expect + inflow_expect));
    CT_CHECK(stored <= rain_expect + inflow_expect + 1e-6);
    CT_CHECK(r.mass_balance_error < 1e-3);
    CT_CHECK(isnan(r.max_depth->data[5 * w + 5]));
    ct_flood_sim_result_free(&r);

    /* Inflow only (no films on dry slopes): the depth raster itself holds it. */
    d.rain_series.n = 0;
    d.duration_s = 1800;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    stored = volume_of(r.final_depth);
    fprintf(stderr, "inflow only: stored %.3f m3 of %.3f\n", stored, inflow_expect);
    CT_CHECK_NEAR(stored, inflow_expect, 5e-3 * inflow_expect); /* films under 1 mm on the wetted slopes */
    ct_flood_sim_result_free(&r);
    d.rain_series.n = 3;
    d.duration_s = 900;

    /* With a free edge: inflow + rain - outflow - storage within 0.1 %. */
    for (int s = 0; s < 4; s++)
        d.boundary[s].kind = CT_FLOOD_BOUNDARY_FREE;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    double bal = r.rain_m3 + r.inflow_m3 + r.boundary_in_m3 - r.boundary_out_m3 - r.final_volume_m3;
    fprintf(stderr, "free edges: out %.3f m3, stored %.3f, balance %.3g m3\n", r.boundary_out_m3, r.final_volume_m3, bal);
    CT_CHECK(r.boundary_out_m3 > 1.0);
    CT_CHECK(fabs(bal) < 1e-3 * (r.rain_m3 + r.inflow_m3));
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

/* Runs the MacDonald case in dir and returns the mean / max absolute error
 * of the water surface along the middle row against mcdo_*.csv. */
static void macdonald(const char *dir, const char *csv, double q_cell, double rain_mm_h, double duration, double *mae,
                      double *maxe)
{
    char p[1024];
    *mae = *maxe = INFINITY;
    snprintf(p, sizeof p, "terrain/flood-benchmarks/%s/dem.asc", dir);
    ct_raster *dem = NULL;
    ct_error err = {0};
    if (ct_raster_read(ct_test_data(p), &dem, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    snprintf(p, sizeof p, "terrain/flood-benchmarks/%s/%s", dir, csv);
    FILE *f = fopen(ct_test_data(p), "r");
    if (!f)
        return;
    double xs[256], wse[256];
    int n = 0;
    char line[256];
    while (fgets(line, sizeof line, f) && n < 256) {
        double a, b, c;
        if (sscanf(line, "%lf,%lf,%lf", &a, &b, &c) == 3)
            xs[n] = a, wse[n++] = c;
    }
    fclose(f);
    /* SWASHES set-up (as itzi's test): Manning 0.033, inflow q.asc at the west
     * column (m/s over the 5 m cell), the analytic depth held at the east end. */
    double qt[1] = {0}, qv[1] = {q_cell * 25.0};
    ct_flood_inflow in[3];
    for (int k = 0; k < 3; k++)
        in[k] = (ct_flood_inflow){2.5, 5.0 - 5.0 * k, {1, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = duration, .rain_mm_h = rain_mm_h, .inflows = in, .n_inflows = 3,
                           .manning = 0.033};
    d.boundary[CT_FLOOD_EAST] = (ct_flood_boundary){CT_FLOOD_BOUNDARY_LEVEL, wse[n - 1]};
    ct_flood_sim_result r;
    if (ct_flood_sim_run(&d, &r, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        ct_raster_destroy(dem);
        return;
    }
    double s = 0, m = 0;
    for (int i = 0; i < n; i++) {
        int c = (int)(xs[i] / 5.0);
        float z = dem->data[1 * dem->width + c], dd = r.final_depth->data[1 * dem->width + c];
        double e = fabs((double)z + (isnan(dd) ? 0 : dd) - wse[i]);
        s += e;
        m = fmax(m, e);
    }
    *mae = s / n;
    *maxe = m;
    fprintf(stderr, "%s: %d points, MAE %.4f m, max %.4f m, %lld steps, mass error %.2e\n", dir, n, *mae, *maxe,
            r.steps, r.mass_balance_error);
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

/* The water budget over time: the mass-conservation basin (rain triangle
 * 0-300-600 s peaking at 100 mm/h, inflow 2 -> 0 m³/s over 600 s, closed
 * edges), a row every 100 s. Cumulative rain and inflow follow the integrals
 * of the inputs, storage their sum, and the last row is the totals. */
CT_TEST(test_mass_balance_series)
{
    int w = 50, h = 40;
    ct_raster *dem = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = (float)(0.02 * c + 0.5 * sin(c * 0.3) * sin(r * 0.25));
    double rt[3] = {0, 300, 600}, rv[3] = {0, 100, 0};
    double qt[2] = {0, 600}, qv[2] = {2.0, 0.0};
    ct_flood_inflow inflow = {.x = 500000 + 40 * 5 + 2.5, .y = 5300000 - 20 * 5 - 2.5, .q_m3s = {2, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 900, .rain_series = {3, rt, rv}, .inflows = &inflow,
                           .n_inflows = 1, .mass_balance_every_s = 100};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    /* t = 0, the first step end past 100, 200, ..., 800 (steps are at most 5 s here), and 900 */
    CT_REQUIRE(r.n_mass_rows == 10);
    const double area = w * h * 25.0;
    for (int k = 0; k < r.n_mass_rows; k++) {
        const ct_flood_mass_row *m = &r.mass[k];
        double t = m->t;
        if (k < 9) {
            CT_CHECK(t >= 100.0 * k - 1e-9 && t <= 100.0 * k + 5 + 1e-9);
        }
        /* by hand: rain depth = integral of the rate (mm/h), inflow = integral of q */
        double tr = fmin(t, 600), mm_s = 100.0 / 300; /* rate slope, mm/h per s */
        double rain_mmh_s = tr <= 300 ? 0.5 * mm_s * tr * tr : 0.5 * 300 * 100 + (tr - 300) * 100 - 0.5 * mm_s * (tr - 300) * (tr - 300);
        double rain = rain_mmh_s / 1000 / 3600 * area;
        double q = 2 * tr - tr * tr / 600;
        CT_CHECK_NEAR(m->rain_m3, rain, 1e-3 * rain + 1e-6);
        CT_CHECK_NEAR(m->inflow_m3, q, 1e-3 * q + 1e-6);
        CT_CHECK_NEAR(m->storage_m3, m->rain_m3 + m->inflow_m3, 1e-3 * (rain + q) + 1e-6);
        CT_CHECK(m->boundary_in_m3 == 0 && m->boundary_out_m3 == 0);
        CT_CHECK(m->error < 1e-3);
        if (k > 0)
            CT_CHECK(t > r.mass[k - 1].t && m->rain_m3 >= r.mass[k - 1].rain_m3);
    }
    CT_CHECK(r.mass[0].t == 0 && r.mass[0].storage_m3 == 0 && r.mass[0].rain_m3 == 0);
    const ct_flood_mass_row *last = &r.mass[r.n_mass_rows - 1];
    CT_CHECK(last->t == r.simulated_s && last->t == 900);
    CT_CHECK(last->rain_m3 == r.rain_m3 && last->inflow_m3 == r.inflow_m3);
    CT_CHECK(last->boundary_in_m3 == r.boundary_in_m3 && last->boundary_out_m3 == r.boundary_out_m3);
    CT_CHECK(last->storage_m3 == r.final_volume_m3 && last->error == r.mass_balance_error);
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(test_macdonald_no_rain)
{
    double mae, maxe;
    macdonald("macdonald-long-channel-no-rain", "mcdo_norain.csv", 0.4, 0, 3600, &mae, &maxe);
    CT_CHECK(mae < 0.03); /* itzi's tolerance for the same case */
    CT_CHECK(maxe < 0.1);
}

CT_TEST(test_macdonald_rain)
{
    double mae, maxe;
    macdonald("macdonald-long-channel-rain", "mcdo_rain.csv", 0.2, 3600, 3600, &mae, &maxe);
    CT_CHECK(mae < 0.04);
    CT_CHECK(maxe < 0.1);
}

CT_TEST(test_pond_fills_to_sill)
{
    /* An 8x8-cell basin (ground 0) inside a rim (ground 10) with one sill
     * cell at 1.0 leading to a lower plain with a free edge. Inflow of
     * 12,000 m³ over 40 min (capacity to the sill: 6,400 m³) then nothing: the basin must
     * end level with the sill. */
    int w = 20, h = 20;
    ct_raster *dem = flood_test_dem(w, h, 10, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            float v = -1.0f - 0.01f * (float)c;
            if (r >= 5 && r <= 14 && c >= 5 && c <= 14)
                v = 10;
            if (r >= 6 && r <= 13 && c >= 6 && c <= 13)
                v = 0;
            dem->data[r * w + c] = v;
        }
    dem->data[9 * w + 14] = 1.0f; /* the sill in the east rim */
    double qt[3] = {0, 2400, 2401}, qv[3] = {5, 5, 0};
    ct_flood_inflow in = {.x = 500000 + 8 * 10 + 5, .y = 5300000 - 8 * 10 - 5, .q_m3s = {3, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 14400, .inflows = &in, .n_inflows = 1};
    for (int s = 0; s < 4; s++)
        d.boundary[s].kind = CT_FLOOD_BOUNDARY_FREE;
    double g[2] = {500000 + 10 * 10 + 5, 5300000 - 10 * 10 - 5};
    d.gauges_xy = g;
    d.n_gauges = 1;
    d.gauge_every_s = 600;
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    float level = r.gauge_wse[r.n_gauge_times - 1];
    fprintf(stderr, "pond: final level %.4f m (sill 1.0), spilled %.0f m3\n", level, r.boundary_out_m3);
    CT_CHECK(level >= 1.0f - 1e-3f);
    CT_CHECK(level <= 1.03f);
    /* the whole basin is level */
    for (int rr = 6; rr <= 13; rr++)
        for (int c = 6; c <= 13; c++)
            CT_CHECK_NEAR(r.final_depth->data[rr * w + c], level, 2e-3);
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(test_radial_symmetry)
{
    int n = 41;
    ct_raster *dem = flood_test_dem(n, n, 5, 500000, 5300000);
    double qt[1] = {0}, qv[1] = {5.0};
    ct_flood_inflow in = {.x = 500000 + 20 * 5 + 2.5, .y = 5300000 - 20 * 5 - 2.5, .q_m3s = {1, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 120, .inflows = &in, .n_inflows = 1, .manning = 0.02};
    ct_flood_sim_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    const float *m = r.max_depth->data;
    double worst = 0;
    int wet = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            float a = m[y * n + x];
            float b[3] = {m[y * n + (n - 1 - x)], m[(n - 1 - y) * n + x], m[x * n + y]};
            wet += !isnan(a);
            for (int k = 0; k < 3; k++) {
                if (isnan(a) != isnan(b[k]))
                    worst = INFINITY;
                else if (!isnan(a))
                    worst = fmax(worst, fabs(a - b[k]));
            }
        }
    fprintf(stderr, "radial: %d wet cells, worst asymmetry %.3g m\n", wet, worst);
    CT_CHECK(wet > 100);
    CT_CHECK(worst < 1e-4);
    /* it spreads: the front left the centre in every direction alike */
    CT_CHECK(!isnan(m[20 * n + 10]) && !isnan(m[10 * n + 20]));
    ct_flood_sim_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(test_threads_deterministic)
{
    /* big enough (>= 32768 cells) for the OpenMP loops to split */
    int w = 220, h = 200;
    ct_raster *dem = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = (float)(0.01 * (c + r) + 0.3 * sin(c * 0.5) * cos(r * 0.4));
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 60, .rain_mm_h = 2000};
    d.boundary[CT_FLOOD_EAST].kind = CT_FLOOD_BOUNDARY_FREE;
    ct_flood_sim_result a, b;
    ct_error err = {0};
    omp_set_num_threads(1);
    CT_REQUIRE(ct_flood_sim_run(&d, &a, &err) == CT_OK);
    omp_set_num_threads(2);
    CT_REQUIRE(ct_flood_sim_run(&d, &b, &err) == CT_OK);
    CT_CHECK(memcmp(a.max_depth->data, b.max_depth->data, sizeof(float) * w * h) == 0);
    CT_CHECK(memcmp(a.final_depth->data, b.final_depth->data, sizeof(float) * w * h) == 0);
    CT_CHECK_EQ_INT(a.steps, b.steps);
    ct_flood_sim_result_free(&a);
    ct_flood_sim_result_free(&b);
    ct_raster_destroy(dem);
}

CT_TEST(test_buildings_block_flow)
{
    /* A footprint given in WGS84 lon/lat (reprojected onto the UTM grid)
     * covers a block of cells: they stay dry and water flows around. */
    int n = 30;
    ct_raster *dem = flood_test_dem(n, n, 5, 500000, 5300000);
    const char *dir = flood_test_tmpdir("bld");
    CT_REQUIRE(dir);
    char path[512];
    snprintf(path, sizeof path, "%s/b.geojson", dir);
    /* The footprint's corners in UTM, then to lon/lat. */
    double xs[4] = {500050, 500100, 500100, 500050}, ys[4] = {5299950, 5299950, 5299900, 5299900};
    ct_crs_transform *t;
    ct_error err = {0};
    CT_REQUIRE(ct_crs_transform_create("EPSG:32632", "EPSG:4326", &t, &err) == CT_OK);
    CT_REQUIRE(ct_crs_transform_points(t, 4, xs, ys, NULL, &err) == CT_OK);
    ct_crs_transform_destroy(t);
    FILE *f = fopen(path, "w");
    CT_REQUIRE(f);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":"
               "{\"type\":\"Polygon\",\"coordinates\":[[[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f],[%.9f,%.9f]]]}},"
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[9,47]}}]}\n",
            xs[0], ys[0], xs[1], ys[1], xs[2], ys[2], xs[3], ys[3], xs[0], ys[0]);
    fclose(f);
    uint8_t *mask = NULL;
    size_t cells = 0;
    CT_REQUIRE(ct_flood_buildings_mask(dem, path, &mask, &cells, &err) == CT_OK);
    CT_CHECK_EQ_INT(cells, 100); /* 10 x 10 cells of 5 m */
    CT_CHECK(mask[12 * n + 12] == 1 && mask[9 * n + 9] == 0 && mask[20 * n + 20] == 0);
    double qt[1] = {0}, qv[1] = {3.0};
    ct_flood_inflow in = {.x = 500000 + 2.5, .y = 5300000 - 2.5, .q_m3s = {1, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 1500, .inflows = &in, .n_inflows = 1, .blocked = mask};
    ct_flood_sim_result r;
    CT_REQUIRE(ct_flood_sim_run(&d, &r, &err) == CT_OK);
    CT_CHECK(isnan(r.max_depth->data[12 * n + 12]));
    CT_CHECK(!isnan(r.max_depth->data[25 * n + 25])); /* flowed around the block */
    CT_CHECK(r.mass_balance_error < 1e-3);
    ct_flood_sim_result_free(&r);
    /* an inflow on the building is bad input */
    in.x = 500075;
    in.y = 5299925;
    CT_CHECK(ct_flood_sim_run(&d, &r, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "building") != NULL);
    free(mask);
    /* a source OGR cannot read */
    CT_CHECK(ct_flood_buildings_mask(dem, "/nonexistent/b.gpkg", &mask, &cells, &err) == CT_ERR_INPUT);
    ct_raster_destroy(dem);
}

CT_TEST(test_bad_input)
{
    ct_raster *dem = flood_test_dem(10, 10, 5, 500000, 5300000);
    ct_error err = {0};
    ct_flood_sim_result r;
    double qt[1] = {0}, qv[1] = {1};
    ct_flood_inflow in = {.x = 0, .y = 0, .q_m3s = {1, qt, qv}};
    ct_flood_sim_desc d = {.dem = dem, .duration_s = 10, .inflows = &in, .n_inflows = 1};
    CT_CHECK(ct_flood_sim_run(&d, &r, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "outside") != NULL);
    double g[2] = {1e9, 1e9};
    ct_flood_sim_desc d2 = {.dem = dem, .duration_s = 10, .gauges_xy = g, .n_gauges = 1};
    CT_CHECK(ct_flood_sim_run(&d2, &r, &err) == CT_ERR_INPUT);
    /* geographic DEMs: clear error */
    ct_raster *geo = NULL;
    CT_REQUIRE(ct_raster_read(ct_test_data("terrain/luxembourg/elev.tif"), &geo, &err) == CT_OK);
    ct_flood_sim_desc d3 = {.dem = geo, .duration_s = 10};
    CT_CHECK(ct_flood_sim_run(&d3, &r, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "projected") != NULL);
    ct_raster_destroy(geo);
    ct_raster_destroy(dem);
    /* CLI: missing DEM, missing hydrograph, bad CSV row -> exit 2 */
    const char *dir = flood_test_tmpdir("bad");
    CT_REQUIRE(dir);
    char dd[256], cmd[2048], csv[512], dem_path[512];
    snprintf(dd, sizeof dd, "%s", dir);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s/none.tif --duration 10 --out-dir %s/o", dd, dd);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    ct_raster *dem2 = flood_test_dem(10, 10, 5, 500000, 5300000);
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", dd);
    CT_REQUIRE(ct_raster_write_gtiff(dem2, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(dem2);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --inflow 500010,5299990:%s/none.csv --out-dir %s/o",
             dem_path, dd, dd);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    snprintf(csv, sizeof csv, "%s/bad.csv", dd);
    FILE *f = fopen(csv, "w");
    fprintf(f, "time_s,q\n0,1\n10,abc\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --inflow 500010,5299990:%s --out-dir %s/o",
             dem_path, csv, dd);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    /* usage errors -> 1 */
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10", dem_path);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --duration 10 --boundary sideways --out-dir %s/o", dem_path, dd);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
}

CT_TEST(test_cli_outputs)
{
    const char *dir = flood_test_tmpdir("cli_dyn");
    CT_REQUIRE(dir);
    char dd[256], cmd[2048], p[600], dem_path[512];
    snprintf(dd, sizeof dd, "%s", dir);
    ct_raster *dem = flood_test_dem(30, 20, 5, 500000, 5300000);
    for (int r = 0; r < 20; r++)
        for (int c = 0; c < 30; c++)
            dem->data[r * 30 + c] = (float)(0.05 * c);
    ct_error err = {0};
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", dd);
    CT_REQUIRE(ct_raster_write_gtiff(dem, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    snprintf(p, sizeof p, "%s/rain.csv", dd);
    FILE *f = fopen(p, "w");
    fprintf(f, "time_s,mm_per_h\n0,50\n300,50\n301,0\n");
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "analyze flood --dem %s --duration 600 --rain-series %s --boundary west=free --gauge 500002.5,5299950 "
             "--gauge-every 100 --snapshot-every 200 --out-dir %s/out --json > %s/stdout.json",
             dem_path, p, dd, dd);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
    const char *files[] = {"max_depth.tif", "max_velocity.tif", "arrival_time.tif", "final_depth.tif",
                           "depth_200.tif", "depth_400.tif", "depth_600.tif", "gauges.csv", "report.json",
                           "mass_balance.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/out/%s", dd, files[i]);
        if (!ct_file_exists(p))
            fprintf(stderr, "missing %s\n", p);
        CT_CHECK(ct_file_exists(p));
    }
    snprintf(p, sizeof p, "%s/stdout.json", dd);
    uint8_t *js;
    size_t n;
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    cJSON *j = cJSON_Parse((char *)js);
    CT_REQUIRE(j);
    const char *fields[] = {"steps", "simulated_s", "cell_updates_per_s", "mass_balance_error", "max_depth_m",
                            "flooded_area_m2", "seconds"};
    for (size_t i = 0; i < 7; i++)
        CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, fields[i])));
    CT_CHECK_NEAR(cJSON_GetObjectItem(j, "simulated_s")->valuedouble, 600, 1e-9);
    CT_CHECK(cJSON_GetObjectItem(j, "mass_balance_error")->valuedouble < 1e-3);
    double rain_m3 = cJSON_GetObjectItem(j, "rain_m3")->valuedouble;
    double out_m3 = cJSON_GetObjectItem(j, "boundary_out_m3")->valuedouble;
    double final_m3 = cJSON_GetObjectItem(j, "final_volume_m3")->valuedouble;
    double mb_error = cJSON_GetObjectItem(j, "mass_balance_error")->valuedouble;
    CT_CHECK(out_m3 > 0); /* the free west edge lets water out */
    cJSON_Delete(j);
    free(js);
    /* mass_balance.csv: a row at 0, 100, ..., 500 (the gauge times) and at 600,
     * the last one holding the totals of the JSON */
    snprintf(p, sizeof p, "%s/out/mass_balance.csv", dd);
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    CT_CHECK(strncmp((char *)js, "time_s,rain_m3,inflow_m3,boundary_in_m3,boundary_out_m3,storage_m3,error_pct\n",
                     77) == 0);
    int mb_rows = -1; /* lines minus the header */
    const char *last_row = NULL;
    for (size_t i = 0; i < n; i++)
        if (js[i] == '\n') {
            mb_rows++;
            if (i + 1 < n)
                last_row = (const char *)js + i + 1;
        }
    CT_CHECK_EQ_INT(mb_rows, 7);
    double v[7] = {0};
    CT_REQUIRE(last_row && sscanf(last_row, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                                  &v[6]) == 7);
    CT_CHECK_NEAR(v[0], 600, 1e-9);
    CT_CHECK_NEAR(v[1], rain_m3, 1e-8 * rain_m3);
    CT_CHECK_NEAR(v[4], out_m3, 1e-8 * out_m3);
    CT_CHECK_NEAR(v[5], final_m3, 1e-8 * final_m3);
    CT_CHECK_NEAR(v[6], 100 * mb_error, 1e-3 * 100 * mb_error + 1e-12);
    free(js);
    /* gauges.csv: header + rows at 0,100,...,600 */
    snprintf(p, sizeof p, "%s/out/gauges.csv", dd);
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += js[i] == '\n';
    CT_CHECK(lines >= 8);
    CT_CHECK(strstr((char *)js, "time_s,g1_depth_m,g1_wse_m") != NULL);
    free(js);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(test_lake_at_rest), CT_CASE(test_mass_conservation), CT_CASE(test_mass_balance_series), CT_CASE(test_macdonald_no_rain),
             CT_CASE(test_macdonald_rain), CT_CASE(test_pond_fills_to_sill), CT_CASE(test_radial_symmetry),
             CT_CASE(test_threads_deterministic), CT_CASE(test_buildings_block_flow), CT_CASE(test_bad_input),
             CT_CASE(test_cli_outputs))
