/* Static flood: hand-computed cases (connectivity, strictly-below rule,
 * nodata barriers, several seeds, rise), errors, extent polygons validity
 * (GEOS) and the ellipsoidal cell area. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <geos_c.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "citytwin/ct_geo.h"

#include <cjson/cJSON.h>
#include <math.h>

/* 5x5 grid, 1 m cells; rows top to bottom. */
static ct_raster *grid5(const float v[25])
{
    ct_raster *r = flood_test_dem(5, 5, 1.0, 0.0, 5.0);
    memcpy(r->data, v, sizeof(float) * 25);
    return r;
}

static int count_wet(const ct_raster *d)
{
    int n = 0;
    for (int i = 0; i < d->width * d->height; i++)
        n += !isnan(d->data[i]);
    return n;
}

CT_TEST(test_connectivity_and_strict_level)
{
    /* A diagonal channel of 1s in a field of 9s, and a cell at exactly 5. */
    const float v[25] = {
        1, 9, 9, 9, 9,
        9, 1, 9, 9, 9,
        9, 9, 1, 9, 9,
        9, 9, 9, 5, 9,
        9, 9, 9, 9, 1,
    };
    ct_raster *dem = grid5(v);
    double seed[2] = {0.5, 4.5}; /* top-left cell */
    ct_flood_static_desc d = {.dem = dem, .seeds_xy = seed, .n_seeds = 1, .level = 5.0};
    ct_flood_static_result res;
    ct_raster *depth = NULL;
    ct_error err = {0};
    /* 8-connectivity: the diagonal floods, but the cell at exactly 5 stays dry
     * (strictly below), which cuts off the bottom-right cell. */
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 3);
    CT_CHECK_NEAR(depth->data[0], 4.0, 0);
    CT_CHECK_NEAR(depth->data[6], 4.0, 0);
    CT_CHECK_NEAR(depth->data[12], 4.0, 0);
    CT_CHECK(isnan(depth->data[18]) && isnan(depth->data[24]));
    CT_CHECK_NEAR(res.volume_m3, 12.0, 1e-9);
    CT_CHECK_NEAR(res.area_m2, 3.0, 1e-9);
    CT_CHECK_NEAR(res.max_depth_m, 4.0, 0);
    ct_raster_destroy(depth);
    /* Level 5.5: the 5-cell floods (depth 0.5) and connects the last one. */
    d.level = 5.5;
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 5);
    CT_CHECK_NEAR(depth->data[18], 0.5, 0);
    CT_CHECK_NEAR(res.volume_m3, 4.5 * 4 + 0.5, 1e-9);
    ct_raster_destroy(depth);
    /* 4-connectivity: diagonal steps do not connect. */
    d.connectivity = 4;
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 1);
    ct_raster_destroy(depth);
    ct_raster_destroy(dem);
}

CT_TEST(test_nodata_barrier_and_seeds)
{
    const float N = NAN;
    const float v[25] = {
        1, 1, N, 2, 2,
        1, 1, N, 2, 2,
        1, 1, N, 2, 2,
        1, 1, N, 2, 2,
        1, 1, N, 2, 2,
    };
    ct_raster *dem = grid5(v);
    double seeds[4] = {0.5, 0.5, 4.5, 0.5};
    ct_flood_static_desc d = {.dem = dem, .seeds_xy = seeds, .n_seeds = 1, .level = 3.0};
    ct_flood_static_result res;
    ct_raster *depth = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 10); /* the nodata column blocks the east half */
    CT_CHECK_NEAR(res.volume_m3, 20.0, 1e-9);
    ct_raster_destroy(depth);
    d.n_seeds = 2;
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 20);
    CT_CHECK_NEAR(res.volume_m3, 20.0 + 10.0, 1e-9);
    ct_raster_destroy(depth);
    /* rise: each seed its own level (ground + 0.5). */
    d.use_rise = true;
    d.rise = 0.5;
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    CT_CHECK_EQ_INT(res.cells, 20);
    CT_CHECK_NEAR(res.volume_m3, 20 * 0.5, 1e-9);
    CT_CHECK_NEAR(depth->data[0], 0.5, 0);
    CT_CHECK_NEAR(depth->data[4], 0.5, 0);
    ct_raster_destroy(depth);
    /* errors: outside, on nodata, all seeds above the level */
    double outside[2] = {7.0, 2.0};
    ct_flood_static_desc e = {.dem = dem, .seeds_xy = outside, .n_seeds = 1, .level = 3.0};
    CT_CHECK(ct_flood_static_run(&e, &depth, &res, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "outside") != NULL);
    CT_CHECK(depth == NULL);
    double on_nd[2] = {2.5, 2.5};
    e.seeds_xy = on_nd;
    CT_CHECK(ct_flood_static_run(&e, &depth, &res, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "nodata") != NULL);
    e.seeds_xy = seeds;
    e.level = 0.5;
    CT_CHECK(ct_flood_static_run(&e, &depth, &res, &err) == CT_ERR_INPUT);
    ct_raster_destroy(dem);
}

/* Reference: a plain breadth-first fill per seed, levels in descending
 * order, with the documented rules (strictly below, nodata blocks, r.lake's
 * last column wets but never spreads). Returns the wet mask. */
static unsigned char *reference_fill(const ct_raster *dem, const int *sc, const int *sr, const float *lv, int n, int conn,
                                     bool compat)
{
    const int w = dem->width, h = dem->height;
    unsigned char *wet = calloc((size_t)w * h, 1);
    int *queue = malloc(sizeof(int) * (size_t)w * h);
    int order[16];
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = 1; i < n; i++) /* stable insertion sort, levels descending */
        for (int j = i; j > 0 && lv[order[j]] > lv[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int oi = 0; oi < n; oi++) {
        int s = order[oi];
        float level = lv[s];
        int k0 = sr[s] * w + sc[s];
        if (wet[k0] || !(dem->data[k0] < level))
            continue;
        wet[k0] = 1;
        int qh = 0, qt = 0;
        queue[qt++] = k0;
        while (qh < qt) {
            int k = queue[qh++], r = k / w, c = k % w;
            if (compat && c == w - 1)
                continue; /* the last column never spreads */
            for (int dr = -1; dr <= 1; dr++)
                for (int dc = -1; dc <= 1; dc++) {
                    if ((!dr && !dc) || (conn == 4 && dr && dc))
                        continue;
                    int rr = r + dr, cc = c + dc;
                    if (rr < 0 || rr >= h || cc < 0 || cc >= w)
                        continue;
                    int kk = rr * w + cc;
                    if (!wet[kk] && dem->data[kk] < level) {
                        wet[kk] = 1;
                        queue[qt++] = kk;
                    }
                }
        }
    }
    free(queue);
    return wet;
}

/* The bit-parallel span fill against the reference on random terrain:
 * widths around the 64-cell word size, nodata, several seeds at different
 * levels (rise), both connectivities, with and without the r.lake quirk. */
CT_TEST(test_matches_breadth_first_fill)
{
    static const int sizes[][2] = {{1, 7}, {2, 5}, {63, 20}, {64, 9}, {65, 33}, {130, 41}, {200, 3}, {129, 129}};
    unsigned rng = 12345;
    ct_log_set_level(CT_LOG_ERROR); /* seeds above their level are warned about, and expected here */
#define RND() (rng = rng * 1103515245u + 12345u, (rng >> 8) & 0xffff)
    int cases = 0, mismatches = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int variant = 0; variant < 12; variant++) {
            int w = sizes[si][0], h = sizes[si][1];
            ct_raster *dem = flood_test_dem(w, h, 2.0, 500000, 5300000);
            /* smooth-ish random relief: valleys connect over long runs */
            for (int r = 0; r < h; r++)
                for (int c = 0; c < w; c++) {
                    float v = (float)(10 + 4 * sin(c * 0.21 + variant) + 3 * cos(r * 0.17 - variant) +
                                      (RND() % 100) / 40.0);
                    dem->data[r * w + c] = RND() % 50 == 0 ? NAN : v;
                }
            int n = 1 + (int)(RND() % 5), sc[8], sr[8];
            double xy[16];
            bool rise = variant % 3 == 0;
            for (int i = 0; i < n; i++) {
                sc[i] = (int)(RND() % w);
                sr[i] = (int)(RND() % h);
                if (variant % 4 == 1)
                    sc[i] = w - 1; /* seeds in the last column */
                if (isnan(dem->data[sr[i] * w + sc[i]]))
                    dem->data[sr[i] * w + sc[i]] = 9.0f;
                xy[2 * i] = 500000 + (sc[i] + 0.5) * 2.0;
                xy[2 * i + 1] = 5300000 - (sr[i] + 0.5) * 2.0;
            }
            double level = 10 + (RND() % 60) / 10.0, rise_by = 0.5 + (RND() % 40) / 10.0;
            float lv[8];
            for (int i = 0; i < n; i++)
                lv[i] = rise ? (float)((double)dem->data[sr[i] * w + sc[i]] + rise_by) : (float)level;
            bool any_below = false;
            for (int i = 0; i < n; i++)
                any_below = any_below || dem->data[sr[i] * w + sc[i]] < lv[i];
            for (int conn = 4; conn <= 8; conn += 4)
                for (int compat = 0; compat <= 1; compat++) {
                    ct_flood_static_desc d = {.dem = dem, .seeds_xy = xy, .n_seeds = n, .level = level,
                                              .use_rise = rise, .rise = rise_by, .connectivity = conn,
                                              .rlake_compat = compat};
                    ct_flood_static_result res;
                    ct_raster *depth = NULL;
                    ct_error err = {0};
                    ct_status st = ct_flood_static_run(&d, &depth, &res, &err);
                    if (!any_below) {
                        CT_CHECK(st == CT_ERR_INPUT);
                        continue;
                    }
                    CT_REQUIRE(st == CT_OK);
                    unsigned char *ref = reference_fill(dem, sc, sr, lv, n, conn, compat);
                    size_t nref = 0;
                    int bad = 0;
                    for (int k = 0; k < w * h; k++) {
                        nref += ref[k];
                        bad += ref[k] == isnan(depth->data[k]);
                    }
                    /* depth = level - ground, the level of the seed that flooded it: any
                     * wet cell's depth is positive and one of level_i - ground */
                    for (int k = 0; k < w * h && !bad; k++) {
                        if (!ref[k])
                            continue;
                        bool one = false;
                        for (int i = 0; i < n; i++)
                            one = one || depth->data[k] == lv[i] - dem->data[k];
                        bad += !one || !(depth->data[k] > 0);
                    }
                    if (bad || res.cells != nref) {
                        fprintf(stderr, "%dx%d variant %d conn %d compat %d: %d cells differ, %zu vs %zu wet\n", w,
                                h, variant, conn, compat, bad, res.cells, nref);
                        mismatches++;
                    }
                    cases++;
                    free(ref);
                    ct_raster_destroy(depth);
                }
            ct_raster_destroy(dem);
        }
#undef RND
    ct_log_set_level(CT_LOG_WARN);
    CT_CHECK_EQ_INT(mismatches, 0);
    CT_CHECK(cases > 300); /* most cases flood something */
}

CT_TEST(test_row_areas_ellipsoid)
{
    /* One row covering the whole globe: WGS84's surface, 510065621.7 km². */
    ct_raster *r = ct_raster_create(1, 1, NULL);
    free(r->crs_wkt);
    r->crs_wkt = strdup("GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
                        "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]]");
    double gt[6] = {-180, 360, 0, 90, 0, -180};
    memcpy(r->geotransform, gt, sizeof gt);
    double *a = ct_flood_row_areas(r);
    CT_REQUIRE(a != NULL);
    CT_CHECK_NEAR(a[0] / 1e6, 510065621.7, 1.0);
    free(a);
    ct_raster_destroy(r);
    /* Projected: the geotransform's cell area. */
    ct_raster *p = flood_test_dem(3, 2, 2.5, 0, 0);
    a = ct_flood_row_areas(p);
    CT_CHECK_NEAR(a[0], 6.25, 1e-12);
    CT_CHECK_NEAR(a[1], 6.25, 1e-12);
    free(a);
    ct_raster_destroy(p);
}

static void geos_msg(const char *fmt, ...) { (void)fmt; }

CT_TEST(test_extent_polygons_valid)
{
    /* A pattern that invites self-touching rings: a ring of water around an
     * island, with a diagonal gap, and two diagonal-only neighbours. */
    const int w = 8, h = 8;
    ct_raster *dem = flood_test_dem(w, h, 10.0, 500000.0, 5300080.0);
    const char *pat[8] = {
        "........",
        ".wwwww..",
        ".w...w..",
        ".w.w.w..",
        ".w..ww..",
        ".wwww...",
        "......w.",
        ".......w",
    };
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = pat[r][c] == 'w' ? 1.0f : 9.0f;
    dem->data[5 * w + 4] = 1.0f;
    dem->data[4 * w + 4] = 9.0f; /* diagonal gap between (4,5) and (5,4) */
    double seeds[4] = {500015.0, 5300080.0 - 15.0, 500075.0, 5300080.0 - 75.0};
    ct_flood_static_desc d = {.dem = dem, .seeds_xy = seeds, .n_seeds = 2, .level = 2.0, .connectivity = 8};
    ct_flood_static_result res;
    ct_raster *depth = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_flood_static_run(&d, &depth, &res, &err) == CT_OK);
    const char *dir = flood_test_tmpdir("extent");
    CT_REQUIRE(dir);
    char path[512];
    double level = 2.0;
    const char *exts[2] = {"gpkg", "geojson"};
    for (int e = 0; e < 2; e++) {
        snprintf(path, sizeof path, "%s/extent.%s", dir, exts[e]);
        const ct_raster *dl[1] = {depth};
        ct_status est = ct_flood_extent_write(path, dl, &level, 1, &err);
        if (est != CT_OK)
            fprintf(stderr, "%s\n", err.msg);
        CT_REQUIRE(est == CT_OK);
        GDALAllRegister();
        GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
        CT_REQUIRE(ds != NULL);
        OGRLayerH lyr = GDALDatasetGetLayer(ds, 0);
        GEOSContextHandle_t gh = GEOS_init_r();
        GEOSContext_setErrorHandler_r(gh, geos_msg);
        GEOSWKBReader *rd = GEOSWKBReader_create_r(gh);
        double area = 0;
        int nf = 0;
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            int sz = OGR_G_WkbSize(g);
            unsigned char *wkb = malloc((size_t)sz);
            OGR_G_ExportToWkb(g, wkbNDR, wkb);
            GEOSGeometry *gg = GEOSWKBReader_read_r(gh, rd, wkb, (size_t)sz);
            CT_CHECK(gg != NULL);
            if (gg) {
                CT_CHECK(GEOSisValid_r(gh, gg) == 1);
                double a;
                GEOSArea_r(gh, gg, &a);
                area += a;
                GEOSGeom_destroy_r(gh, gg);
            }
            CT_CHECK_NEAR(OGR_F_GetFieldAsDouble(f, 0), 2.0, 0);
            free(wkb);
            OGR_F_Destroy(f);
            nf++;
        }
        CT_CHECK(nf >= 1);
        /* The polygons cover exactly the flooded cells. */
        CT_CHECK_NEAR(area, res.cells * 100.0, 1e-6);
        /* in the DEM's CRS */
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(lyr);
        CT_CHECK(srs != NULL);
        if (srs) {
            const char *code = OSRGetAuthorityCode(srs, NULL);
            CT_CHECK(code && !strcmp(code, "32632"));
        }
        GEOSWKBReader_destroy_r(gh, rd);
        GEOS_finish_r(gh);
        GDALClose(ds);
    }
    ct_raster_destroy(depth);
    ct_raster_destroy(dem);
}

CT_TEST(test_cli_static)
{
    const char *dir = flood_test_tmpdir("cli_static");
    CT_REQUIRE(dir);
    char d[256];
    snprintf(d, sizeof d, "%s", dir);
    ct_raster *dem = flood_test_dem(20, 10, 5.0, 500000.0, 5300050.0);
    for (int r = 0; r < 10; r++)
        for (int c = 0; c < 20; c++)
            dem->data[r * 20 + c] = (float)(c < 10 ? 1.0 + 0.1 * c : 5.0);
    char dem_path[512], cmd[2048];
    snprintf(dem_path, sizeof dem_path, "%s/dem.tif", d);
    ct_error err = {0};
    CT_REQUIRE(ct_raster_write_gtiff(dem, dem_path, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    /* A series of levels: one raster per level, polygons with a level field. */
    snprintf(cmd, sizeof cmd,
             "analyze flood --dem %s --seed 500002.5,5300047.5 --level 1.5,2.5 -o %s/depth.tif --extent %s/ext.gpkg "
             "--json > %s/out.json",
             dem_path, d, d, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/depth_1.5.tif", d);
    ct_raster *o = NULL;
    CT_REQUIRE(ct_raster_read(p, &o, &err) == CT_OK);
    CT_CHECK_EQ_INT(count_wet(o), 50); /* columns with 1.0..1.4 */
    ct_raster_destroy(o);
    snprintf(p, sizeof p, "%s/depth_2.5.tif", d);
    CT_REQUIRE(ct_raster_read(p, &o, &err) == CT_OK);
    CT_CHECK_EQ_INT(count_wet(o), 100);
    ct_raster_destroy(o);
    snprintf(p, sizeof p, "%s/out.json", d);
    uint8_t *js;
    size_t n;
    CT_REQUIRE(ct_file_read(p, 0, &js, &n, &err) == CT_OK);
    cJSON *j = cJSON_Parse((char *)js);
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "cells")->valueint, 100);
    CT_CHECK(cJSON_GetObjectItem(j, "area_m2") && cJSON_GetObjectItem(j, "volume_m3") &&
             cJSON_GetObjectItem(j, "max_depth_m") && cJSON_GetObjectItem(j, "seconds"));
    CT_CHECK_NEAR(cJSON_GetObjectItem(j, "area_m2")->valuedouble, 2500.0, 1e-6);
    cJSON_Delete(j);
    free(js);
    /* bad inputs: exit 2 with a message */
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s/missing.tif --seed 1,1 --level 3 -o %s/x.tif", d, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --seed 1,1 --level 3 -o %s/x.tif", dem_path, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --seed 1,1 -o %s/x.tif", dem_path, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 1);
    /* --crs: the same seed given in WGS84 lon/lat floods the same cells. */
    ct_crs_transform *t = NULL;
    CT_REQUIRE(ct_crs_transform_create("EPSG:32632", "EPSG:4326", &t, &err) == CT_OK);
    double lx = 500002.5, ly = 5300047.5;
    CT_REQUIRE(ct_crs_transform_points(t, 1, &lx, &ly, NULL, &err) == CT_OK);
    ct_crs_transform_destroy(t);
    snprintf(cmd, sizeof cmd, "analyze flood --dem %s --crs EPSG:4326 --seed %.9f,%.9f --level 1.5 -o %s/y.tif",
             dem_path, lx, ly, d);
    CT_CHECK_EQ_INT(ct_test_run_cli(cmd, NULL, NULL), 0);
    snprintf(p, sizeof p, "%s/y.tif", d);
    CT_REQUIRE(ct_raster_read(p, &o, &err) == CT_OK);
    CT_CHECK_EQ_INT(count_wet(o), 50);
    ct_raster_destroy(o);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(test_connectivity_and_strict_level), CT_CASE(test_nodata_barrier_and_seeds),
             CT_CASE(test_matches_breadth_first_fill),
             CT_CASE(test_row_areas_ellipsoid), CT_CASE(test_extent_polygons_valid), CT_CASE(test_cli_static))
