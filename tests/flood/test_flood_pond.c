/* Ponding (depression hierarchy, fill-spill-merge): hand-computed basins. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <math.h>

/* 5 x 9, 1 m cells, edge cells at 10 (water reaching them leaves). Inside:
 * basin A (cols 1-3, ground 0), a saddle (col 4, ground 2), basin B (cols 5-7,
 * ground 1). A's catchment: 9 + 3 saddle cells; B's: 9; the edge: 24 cells.
 * A holds 18 m³ at its spill (2), B 9 m³, both merged 195 m³ at 10. */
static ct_raster *two_basins(void)
{
    ct_raster *d = flood_test_dem(9, 5, 1.0, 500000, 5300005);
    for (int r = 0; r < 5; r++)
        for (int c = 0; c < 9; c++) {
            float v = 10;
            if (r >= 1 && r <= 3 && c >= 1 && c <= 7)
                v = c <= 3 ? 0.0f : c == 4 ? 2.0f : 1.0f;
            d->data[r * 9 + c] = v;
        }
    return d;
}

static void check_case(double rain_mm, double la, double lb, double lsad, double outflow)
{
    ct_raster *dem = two_basins(), *depth = NULL;
    ct_flood_pond_result res;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_pond_run(dem, rain_mm, &depth, &res, &err) == CT_OK);
    CT_CHECK_NEAR(res.rain_volume_m3, 45 * rain_mm / 1000.0, 1e-9);
    CT_CHECK_NEAR(res.outflow_m3, outflow, 1e-6);
    CT_CHECK_NEAR(res.volume_m3 + res.outflow_m3, res.rain_volume_m3, 1e-5);
    float a = depth->data[2 * 9 + 2], b = depth->data[2 * 9 + 6], s = depth->data[2 * 9 + 4];
    CT_CHECK_NEAR(isnan(a) ? 0 : a, la - 0.0, 1e-5);
    CT_CHECK_NEAR(isnan(b) ? 0 : b, lb > 1 ? lb - 1.0 : 0, 1e-5);
    CT_CHECK_NEAR(isnan(s) ? 0 : s, lsad > 2 ? lsad - 2.0 : 0, 1e-5);
    CT_CHECK(isnan(depth->data[0])); /* the edge stays dry */
    fprintf(stderr, "rain %.0f mm: A %.4f B %.4f saddle %.4f, out %.3f, %d depressions (%d full)\n", rain_mm, a, b, s,
            res.outflow_m3, res.depressions, res.depressions_full);
    ct_raster_destroy(depth);
    ct_raster_destroy(dem);
}

CT_TEST(test_pond_partial) { check_case(500, 6.0 / 9, 1.0 + 4.5 / 9, 0, 24 * 0.5); }

/* 2 m: A gets 24 > 18 (spills 6 into B), B 18 > 9: both full, they merge:
 * 21 L - 15 = 42 -> L = 57/21. */
CT_TEST(test_pond_merge) { check_case(2000, 57.0 / 21, 57.0 / 21, 57.0 / 21, 24 * 2.0); }

/* 1.2 m: A 14.4 < 18 stays below its saddle, B 10.8 > 9 spills 1.8 into A:
 * A holds 16.2 -> level 1.8; B full at 2. */
CT_TEST(test_pond_spill_into_neighbour) { check_case(1200, 16.2 / 9, 2.0, 0, 24 * 1.2); }

/* 10 m: 210 m³ > 195: full to the rim, 15 m³ over the edge. */
CT_TEST(test_pond_overflow_map) { check_case(10000, 10, 10, 10, 24 * 10.0 + 15); }

CT_TEST(test_pond_cli)
{
    const char *dir = flood_test_tmpdir("pond");
    CT_REQUIRE(dir);
    char d[256], p[512], cmd[2048];
    snprintf(d, sizeof d, "%s", dir);
    ct_raster *dem = two_basins();
    ct_error err = {0};
    snprintf(p, sizeof p, "%s/dem.tif", d);
    CT_REQUIRE(ct_raster_write_gtiff(dem, p, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    snprintf(cmd, sizeof cmd,
             "analyze pond --dem %s --rain-depth 500 -o %s/pond.tif --extent %s/pond.geojson --json > %s/o.json", p, d,
             d, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
    snprintf(p, sizeof p, "%s/pond.tif", d);
    ct_raster *o = NULL;
    CT_REQUIRE(ct_raster_read(p, &o, &err) == CT_OK);
    CT_CHECK_NEAR(o->data[2 * 9 + 2], 6.0 / 9, 1e-5);
    ct_raster_destroy(o);
    snprintf(cmd, sizeof cmd, "analyze pond --dem %s/none.tif --rain-depth 5 -o %s/x.tif", d, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof cmd, "analyze pond --dem %s/dem.tif --rain-depth -5 -o %s/x.tif", d, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
    ct_raster_destroy(dem);
}

CT_TEST(test_pond_luxembourg_conserves)
{
    /* a real DEM with nodata around it (reprojection not needed for the balance) */
    ct_raster *dem = NULL, *depth = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_read(ct_test_data("terrain/luxembourg/elev.tif"), &dem, &err) == CT_OK);
    ct_flood_pond_result res;
    CT_REQUIRE(ct_flood_pond_run(dem, 50, &depth, &res, &err) == CT_OK);
    CT_CHECK(res.depressions > 0);
    CT_CHECK_NEAR(res.volume_m3 + res.outflow_m3, res.rain_volume_m3, 1e-6 * res.rain_volume_m3);
    ct_raster_destroy(depth);
    ct_raster_destroy(dem);
}

/* Progress: a 200 x 200 egg-box of pits reports a moving fraction that ends
 * at 1, and reporting changes nothing in the result. */
CT_TEST(test_pond_progress)
{
    ct_raster *dem = flood_test_dem(200, 200, 1.0, 500000, 5300200);
    for (int r = 0; r < 200; r++)
        for (int c = 0; c < 200; c++)
            dem->data[r * 200 + c] = (float)(5 + 2 * sin(c * 0.3) * sin(r * 0.3) + 0.01 * c);
    ct_raster *a = NULL, *b = NULL;
    ct_flood_pond_result ra, rb;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_pond_run(dem, 300, &a, &ra, &err) == CT_OK);
    ct_test_progress p = {0};
    ct_flood_pond_desc d = {.dem = dem, .rain_mm = 300, .progress = ct_test_progress_record, .progress_user = &p};
    CT_REQUIRE(ct_flood_pond_compute(&d, &b, &rb, &err) == CT_OK);
    CT_CHECK_PROGRESS(p, 20);
    CT_CHECK(ra.depressions > 50);
    CT_CHECK_EQ_INT(rb.cells, ra.cells);
    CT_CHECK_EQ_INT(rb.depressions_full, ra.depressions_full);
    CT_CHECK(rb.volume_m3 == ra.volume_m3);
    CT_CHECK(memcmp(a->data, b->data, sizeof(float) * 200 * 200) == 0);
    ct_raster_destroy(a);
    ct_raster_destroy(b);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(test_pond_progress), CT_CASE(test_pond_partial), CT_CASE(test_pond_merge), CT_CASE(test_pond_spill_into_neighbour),
             CT_CASE(test_pond_overflow_map), CT_CASE(test_pond_cli), CT_CASE(test_pond_luxembourg_conserves))
