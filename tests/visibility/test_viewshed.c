/* Viewshed: constructed DEMs with analytic answers, agreement with
 * gdal_viewshed (Jaccard index of visible cells) on real DEMs, bad input. */
#include "ct_test.h"

#include "citytwin/ct_visibility.h"
#include "viewshed_test_util.h"

#include <gdal.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include <stdint.h>
#include <unistd.h>

CT_TEST(flat_plain_fully_visible)
{
    ct_raster *dem = flat_dem(101, 81, 10, 50);
    ct_viewshed_desc d = {.observer_height = 2};
    cell_xy(dem, 50, 40, &d.observer_x, &d.observer_y);
    ct_viewshed *v = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, &err) == CT_OK);
    CT_CHECK_EQ_INT(v->width, 101);
    CT_CHECK_EQ_INT(v->height, 81);
    CT_CHECK_EQ_INT(v->visible_cells, 101 * 81);
    CT_CHECK_EQ_INT(v->total_cells, 101 * 81);
    CT_CHECK_NEAR(v->observer_z, 52, 1e-9);
    ct_viewshed_destroy(v);
    ct_raster_destroy(dem);
}

/* A 10 m wall along column 60; eye 2 m above flat ground at column 50: every
 * cell behind the wall is hidden (the sight line over the wall top only rises),
 * everything up to the wall is visible. */
CT_TEST(wall_hides_what_is_behind)
{
    ct_raster *dem = flat_dem(101, 101, 10, 0);
    for (int r = 0; r < 101; r++)
        dem->data[(size_t)r * 101 + 60] = 10;
    ct_viewshed_desc d = {.observer_height = 2};
    cell_xy(dem, 50, 50, &d.observer_x, &d.observer_y);
    ct_viewshed *v = NULL;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    int wrong_front = 0, wrong_back = 0;
    for (int r = 0; r < 101; r++)
        for (int c = 0; c < 101; c++) {
            uint8_t o = v->cells[(size_t)r * 101 + c];
            if (c <= 60 && o != 255)
                wrong_front++;
            if (c > 60 && o != 0)
                wrong_back++;
        }
    CT_CHECK_EQ_INT(wrong_front, 0);
    CT_CHECK_EQ_INT(wrong_back, 0);
    /* A target tall enough to look over the wall: the sight line over the top
     * reaches 2 + 8 d/100 m at d metres from the eye; 30 m masts at the far edge
     * (d = 400..500 m, line 34..42 m) stay hidden, 50 m ones show. */
    ct_viewshed_destroy(v);
    d.target_height = 50;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    CT_CHECK_EQ_INT(v->cells[(size_t)50 * 101 + 100], 255);
    ct_viewshed_destroy(v);
    d.target_height = 30;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    CT_CHECK_EQ_INT(v->cells[(size_t)50 * 101 + 100], 0);
    ct_viewshed_destroy(v);
    ct_raster_destroy(dem);
}

/* Earth curvature on a flat plain: with heights lowered by k d^2 / 2a, a cell
 * on the ground is visible from an eye h metres up iff d <= sqrt(2 a h / k)
 * (+ sqrt(2 a T / k) for a target T metres up). Within 2 cells of that horizon
 * the grid decides; outside it the answer is exact. */
static void check_horizon(double h, double t, double k)
{
    const double a = 6378137.0, cs = 100;
    ct_raster *dem = flat_dem(401, 401, cs, 0);
    ct_viewshed_desc d = {.observer_height = h, .target_height = t, .curvature = k};
    cell_xy(dem, 200, 200, &d.observer_x, &d.observer_y);
    ct_viewshed *v = NULL;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    double horizon = sqrt(2 * a * h / k) + sqrt(2 * a * t / k);
    int bad = 0, near = 0;
    double worst = 0;
    for (int r = 0; r < 401; r++)
        for (int c = 0; c < 401; c++) {
            double dist = cs * hypot(c - 200, r - 200);
            /* As gdal_viewshed, the six neighbours of the observer outside its row are
             * compared with the observer's own (unlowered) ground, so on a curved
             * plain they come out hidden: not part of the horizon check. */
            if (abs(c - 200) <= 1 && abs(r - 200) <= 1)
                continue;
            uint8_t o = v->cells[(size_t)r * 401 + c];
            bool wrong = dist < horizon - 2 * cs ? o != 255 : dist > horizon + 2 * cs ? o != 0 : false;
            if (wrong) {
                bad++;
                if (fabs(dist - horizon) > worst)
                    worst = fabs(dist - horizon);
                fprintf(stderr, "  cell %d,%d at %.0f m (horizon %.0f m): %d\n", c, r, dist, horizon, o);
            }
            if (fabs(dist - horizon) <= 2 * cs)
                near++;
        }
    CT_CHECK_EQ_INT(bad, 0);
    CT_CHECK(near > 0);
    ct_viewshed_destroy(v);
    ct_raster_destroy(dem);
}

CT_TEST(curvature_horizon_analytic)
{
    check_horizon(10, 0, 1.0);        /* 11.3 km */
    check_horizon(5, 2, 0.85714);     /* 8.6 + 5.5 km */
}

CT_TEST(max_distance_window_and_nodata)
{
    ct_raster *dem = flat_dem(201, 201, 10, 0);
    ct_viewshed_desc d = {.observer_height = 2, .max_distance = 300};
    cell_xy(dem, 100, 100, &d.observer_x, &d.observer_y);
    ct_viewshed *v = NULL;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    /* 30 cells each way: floor(100 - 30) .. ceil(100 + 30) + 1, as gdal_viewshed 3.6 */
    CT_CHECK_EQ_INT(v->width, 61);
    CT_CHECK_EQ_INT(v->height, 61);
    CT_CHECK_EQ_INT(v->x_off, 70);
    int bad = 0;
    uint64_t inside = 0;
    for (int r = 0; r < v->height; r++)
        for (int c = 0; c < v->width; c++) {
            double dx = (c + v->x_off - 100) * 10.0, dy = (r + v->y_off - 100) * 10.0;
            bool in = dx * dx + dy * dy <= 300.0 * 300.0;
            inside += in;
            bad += v->cells[(size_t)r * v->width + c] != (in ? 255 : 1);
        }
    CT_CHECK_EQ_INT(bad, 0);
    CT_CHECK_EQ_INT(v->total_cells, inside);
    ct_viewshed_destroy(v);
    /* A DEM hole: reported as nodata, blocks nothing. */
    dem->data[(size_t)100 * 201 + 110] = NAN;
    dem->data[(size_t)100 * 201 + 111] = 100; /* a tower right behind the hole */
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    CT_CHECK_EQ_INT(v->cells[(size_t)(100 - v->y_off) * v->width + (110 - v->x_off)], 1);
    CT_CHECK_EQ_INT(v->cells[(size_t)(100 - v->y_off) * v->width + (111 - v->x_off)], 255);
    CT_CHECK_EQ_INT(v->cells[(size_t)(100 - v->y_off) * v->width + (115 - v->x_off)], 0);
    ct_viewshed_destroy(v);
    ct_raster_destroy(dem);
}

CT_TEST(bad_observer)
{
    ct_raster *dem = flat_dem(20, 20, 10, 0);
    ct_viewshed_desc d = {.observer_height = 2, .observer_x = 400000, .observer_y = 5000100};
    ct_viewshed *v = NULL;
    ct_error err = {0};
    CT_CHECK(ct_viewshed_compute(dem, &d, &v, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "outside") != NULL);
    CT_CHECK(v == NULL);
    dem->data[(size_t)5 * 20 + 5] = NAN;
    cell_xy(dem, 5, 5, &d.observer_x, &d.observer_y);
    CT_CHECK(ct_viewshed_compute(dem, &d, &v, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "nodata") != NULL);
    ct_raster_destroy(dem);
}

/* ---- the command line ---- */

CT_TEST(cli_errors_and_json)
{
    CT_CHECK_EQ_INT(
        ct_test_run_cli("analyze viewshed --dem /nonexistent.tif --observer 1,2 --height 2 -o /tmp/x.tif", NULL, NULL),
        2);
    CT_CHECK_EQ_INT(ct_test_run_cli("analyze viewshed --observer 1,2 --height 2 -o /tmp/x.tif", NULL, NULL), 1);
    CT_CHECK_EQ_INT(ct_test_run_cli("analyze viewshed --dem x.tif --observer 1 --height 2 -o /tmp/x.tif", NULL, NULL),
                    1);
    CT_CHECK_EQ_INT(
        ct_test_run_cli("analyze viewshed --dem x.tif --observer 1,2 --height 2 -o /tmp/x.tif --bogus 3", NULL, NULL),
        1);
    const char *lux = ct_test_data("terrain/luxembourg/elev.tif");
    char args[2048], *buf = NULL;
    snprintf(args, sizeof args, "analyze viewshed --dem %s --observer 1,2 --height 2 -o %s", lux,
             ct_test_tmp_path("o.tif"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2); /* observer outside */
    /* --json prints exactly one object with the contract's fields */
    snprintf(args, sizeof args, "analyze viewshed --dem %s --observer 6.13,49.61 --height 10 -o %s --json", lux,
             ct_test_tmp_path("o.tif"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &buf, NULL), 0);
    size_t got = strlen(buf);
    CT_CHECK(got > 0 && buf[0] == '{');
    CT_CHECK(strstr(buf, "\"visible_cells\"") && strstr(buf, "\"total_cells\"") && strstr(buf, "\"seconds\""));
    CT_CHECK(strchr(buf, '\n') == buf + got - 1);
    free(buf);
}

/* --building-heights (an nDSM) and --surface (ground + heights) see the same
 * cells; footprints of the same block burned with --buildings too. The block
 * hides the ground behind it, not the ground beside it. */
CT_TEST(cli_heights_surface_footprints_agree)
{
    ct_raster *dem = flat_dem(101, 101, 10, 5), *hts = flat_dem(101, 101, 10, 0), *surf = flat_dem(101, 101, 10, 5);
    for (int r = 45; r <= 55; r++)
        for (int c = 60; c <= 64; c++) {
            hts->data[(size_t)r * 101 + c] = 30;
            surf->data[(size_t)r * 101 + c] = 35;
        }
    hts->data[(size_t)10 * 101 + 10] = NAN; /* nodata height counts as 0 */
    const char *dp = ct_test_tmp_path("hdem.tif"), *hp = ct_test_tmp_path("hts.tif"), *sp = ct_test_tmp_path("hsurf.tif");
    char dpath[1024], hpath[1024], spath[1024];
    snprintf(dpath, sizeof dpath, "%s", dp);
    snprintf(hpath, sizeof hpath, "%s", hp);
    snprintf(spath, sizeof spath, "%s", sp);
    ct_error err = {0};
    CT_REQUIRE(ct_raster_write_gtiff(dem, dpath, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    CT_REQUIRE(ct_raster_write_gtiff(hts, hpath, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    CT_REQUIRE(ct_raster_write_gtiff(surf, spath, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    char gj[1024];
    snprintf(gj, sizeof gj, "%s", ct_test_tmp_path("hb.geojson"));
    FILE *f = fopen(gj, "w");
    CT_REQUIRE(f != NULL);
    /* cells 60..64 x 45..55: x 500600..500650, y 5000450..5000560 */
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::32632\"}},"
               "\"features\":[{\"type\":\"Feature\",\"properties\":{\"height\":30},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[500600,5000450],[500650,5000450],[500650,5000560],[500600,5000560],[500600,5000450]]]}}]}\n");
    fclose(f);
    double ox, oy;
    cell_xy(dem, 40, 50, &ox, &oy);
    const char *variants[3][2] = {{"--building-heights", hpath}, {"--surface", spath}, {"--buildings", gj}};
    ct_raster *out[3] = {NULL};
    for (int k = 0; k < 3; k++) {
        char args[4096], op[1024];
        snprintf(op, sizeof op, "%s", ct_test_tmp_path(k == 0 ? "vh0.tif" : k == 1 ? "vh1.tif" : "vh2.tif"));
        snprintf(args, sizeof args, "analyze viewshed --dem %s %s %s --observer %.3f,%.3f --height 2 -o %s", dpath,
                 variants[k][0], variants[k][1], ox, oy, op);
        CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 0);
        CT_REQUIRE(ct_raster_read(op, &out[k], &err) == CT_OK);
    }
    CT_CHECK_NEAR(out[0]->data[(size_t)50 * 101 + 60], 255, 0); /* the facade's top */
    CT_CHECK_NEAR(out[0]->data[(size_t)50 * 101 + 80], 0, 0);   /* ground behind */
    CT_CHECK_NEAR(out[0]->data[(size_t)20 * 101 + 80], 255, 0); /* ground beside */
    CT_CHECK_NEAR(out[0]->data[(size_t)10 * 101 + 10], 255, 0); /* the nodata height */
    for (int k = 1; k < 3; k++) {
        size_t differ = 0;
        for (size_t i = 0; i < (size_t)101 * 101; i++)
            differ += out[k]->data[i] != out[0]->data[i] && !(isnan(out[k]->data[i]) && isnan(out[0]->data[i]));
        CT_CHECK_EQ_INT(differ, 0);
    }
    /* usage: heights need --dem and exclude --surface; grids must match */
    char args[4096];
    snprintf(args, sizeof args, "analyze viewshed --building-heights %s --observer %.3f,%.3f --height 2 -o /tmp/x.tif",
             hpath, ox, oy);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(
        args, sizeof args,
        "analyze viewshed --dem %s --surface %s --building-heights %s --observer %.3f,%.3f --height 2 -o /tmp/x.tif",
        dpath, spath, hpath, ox, oy);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    ct_raster *small = flat_dem(50, 50, 10, 0);
    char smp[1024];
    snprintf(smp, sizeof smp, "%s", ct_test_tmp_path("hsmall.tif"));
    CT_REQUIRE(ct_raster_write_gtiff(small, smp, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    snprintf(args, sizeof args,
             "analyze viewshed --dem %s --building-heights %s --observer %.3f,%.3f --height 2 -o /tmp/x.tif", dpath,
             smp, ox, oy);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    snprintf(args, sizeof args, "analyze viewshed --dem %s --surface %s --observer %.3f,%.3f --height 2 -o /tmp/x.tif",
             dpath, smp, ox, oy);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    for (int k = 0; k < 3; k++)
        ct_raster_destroy(out[k]);
    ct_raster_destroy(small);
    ct_raster_destroy(dem);
    ct_raster_destroy(hts);
    ct_raster_destroy(surf);
}

/* Footprints burned onto the DEM: a 30 m block hides the ground behind it. */
CT_TEST(buildings_burned)
{
    const char *gpkg = ct_test_tmp_path("b.geojson");
    FILE *f = fopen(gpkg, "w");
    CT_REQUIRE(f != NULL);
    /* cells 60..64 x 45..55 of a flat_dem(101,101,10): x 500600..500650, y from the top */
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::32632\"}},"
               "\"features\":[{\"type\":\"Feature\",\"properties\":{\"height\":30},\"geometry\":{\"type\":\"Polygon\","
               "\"coordinates\":[[[500600,5000450],[500650,5000450],[500650,5000560],[500600,5000560],[500600,5000450]]]}},"
               "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500000,5000000]}}]}\n");
    fclose(f);
    ct_raster *dem = flat_dem(101, 101, 10, 0);
    size_t burned = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_visibility_burn_buildings(dem, gpkg, NULL, 0, &burned, &err) == CT_OK);
    CT_CHECK_EQ_INT(burned, 1);
    /* row 50 (centre y 5000505) lies inside the block (rows 45..55) */
    CT_CHECK_NEAR(dem->data[(size_t)50 * 101 + 62], 30, 1e-6);
    CT_CHECK_NEAR(dem->data[(size_t)50 * 101 + 66], 0, 1e-6);
    ct_viewshed_desc d = {.observer_height = 2};
    cell_xy(dem, 40, 50, &d.observer_x, &d.observer_y);
    ct_viewshed *v = NULL;
    CT_REQUIRE(ct_viewshed_compute(dem, &d, &v, NULL) == CT_OK);
    CT_CHECK_EQ_INT(v->cells[(size_t)50 * 101 + 60], 255); /* the facade's top */
    CT_CHECK_EQ_INT(v->cells[(size_t)50 * 101 + 62], 0);   /* a flat roof is not seen from below */
    CT_CHECK_EQ_INT(v->cells[(size_t)50 * 101 + 80], 0);   /* ground behind */
    CT_CHECK_EQ_INT(v->cells[(size_t)20 * 101 + 80], 255); /* ground beside */
    ct_viewshed_destroy(v);
    CT_CHECK(ct_visibility_burn_buildings(dem, "/nonexistent.gpkg", NULL, 0, &burned, &err) == CT_ERR_INPUT);
    ct_raster_destroy(dem);
}

/* Fills the stack below the caller with hex-looking bytes ('a'). */
__attribute__((noinline)) static void dirty_stack(void)
{
    volatile char buf[16384];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = 'a';
}

/* Regression: the footprint burner handed GDAL's MEM driver a pointer text
 * without a terminating NUL, so hex-looking stack garbage after it changed the
 * address (segfault seen once in `analyze viewshed --buildings`; with a dirty
 * stack it crashed every time). */
CT_TEST(buildings_burned_with_dirty_stack)
{
    const char *path = ct_test_tmp_path("b2.geojson");
    FILE *f = fopen(path, "w");
    CT_REQUIRE(f != NULL);
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
               "\"urn:ogc:def:crs:EPSG::32632\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{\"height\":12},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[500100,5000100],[500300,5000100],[500300,5000300],"
               "[500100,5000300],[500100,5000100]]]}}]}\n");
    fclose(f);
    for (int k = 0; k < 5; k++) {
        ct_raster *dem = flat_dem(51, 51, 10, 5);
        size_t burned = 0;
        ct_error err = {0};
        dirty_stack();
        CT_REQUIRE(ct_visibility_burn_buildings(dem, path, NULL, 0, &burned, &err) == CT_OK);
        CT_CHECK_EQ_INT(burned, 1);
        /* cell (20, 30): centre (500205, 5000205), inside */
        CT_CHECK_NEAR(dem->data[(size_t)30 * 51 + 20], 17, 1e-6);
        CT_CHECK_NEAR(dem->data[(size_t)30 * 51 + 40], 5, 1e-6);
        ct_raster_destroy(dem);
    }
}

CT_TEST_MAIN(CT_CASE(flat_plain_fully_visible), CT_CASE(cli_heights_surface_footprints_agree), CT_CASE(wall_hides_what_is_behind), CT_CASE(curvature_horizon_analytic),
             CT_CASE(max_distance_window_and_nodata), CT_CASE(bad_observer),
             CT_CASE(cli_errors_and_json), CT_CASE(buildings_burned),
             CT_CASE(buildings_burned_with_dirty_stack))
