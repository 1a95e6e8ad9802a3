/* Line of sight: against constructed DEMs with analytic clearances and
 * against triangle meshes (Embree), built in memory and as glTF structs. */
#include "ct_test.h"

#include "citytwin/ct_visibility.h"

#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include <unistd.h>

/* A DEM in UTM 32N with 10 m cells, origin (500000, 5001000), z = f(x, y). */
static ct_raster *dem_make(double (*f)(double x, double y))
{
    ct_raster *r = ct_raster_create(100, 100, NULL);
    double gt[6] = {500000, 10, 0, 5001000, 0, -10};
    memcpy(r->geotransform, gt, sizeof gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 32632);
    char *w = NULL;
    OSRExportToWkt(s, &w);
    free(r->crs_wkt);
    r->crs_wkt = strdup(w);
    CPLFree(w);
    OSRDestroySpatialReference(s);
    for (int row = 0; row < 100; row++)
        for (int c = 0; c < 100; c++) {
            double x, y;
            ct_raster_cell_center(r, c, row, &x, &y);
            r->data[(size_t)row * 100 + c] = (float)f(x - 500000, y - 5000000);
        }
    return r;
}

static double flat(double x, double y) { (void)x, (void)y; return 0; }
static double tilted(double x, double y) { (void)y; return 0.1 * x; }
static double wall(double x, double y) { (void)y; return x > 500 && x < 510 ? 50 : 0; }

CT_TEST(dem_clearance_analytic)
{
    ct_raster *dem = dem_make(tilted);
    ct_los_desc d = {.from = {500050, 5000500, 10}, .to = {500950, 5000500, 100}};
    ct_los_result r;
    ct_error err = {0};
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, &err) == CT_OK);
    /* ground 0.1 x and the line 5 + 0.1 x: bilinear interpolation of a plane is exact */
    CT_CHECK(r.visible);
    CT_CHECK_NEAR(r.min_clearance, 5.0, 1e-4);
    CT_CHECK_NEAR(r.length, sqrt(900.0 * 900 + 90 * 90), 1e-9);
    CT_CHECK(r.sample_count >= 180); /* every 5 m */
    CT_CHECK_NEAR(r.samples[r.sample_count / 2].clearance, 5.0, 1e-4);
    ct_los_result_free(&r);
    /* Eye on the ground (5 m at x = 50) lowered to 0 and the target to 85: the
     * clearance runs from -5 to -10, below the ground: blocked by terrain. */
    d.from[2] = 0;
    d.to[2] = 85;
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, &err) == CT_OK);
    CT_CHECK(!r.visible);
    CT_CHECK(!r.blocked_by_mesh);
    ct_los_result_free(&r);
    ct_raster_destroy(dem);
}

CT_TEST(dem_wall_blocks)
{
    ct_raster *dem = dem_make(wall);
    ct_los_desc d = {.from = {500100, 5000500, 2}, .to = {500900, 5000500, 2}};
    ct_los_result r;
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, NULL) == CT_OK);
    CT_CHECK(!r.visible);
    /* bilinear heights rise from cell centre 495 (0) to 505 (50): the 2 m line meets them at x = 495.4 */
    CT_CHECK_NEAR(r.obstruction[0], 500495.4, 0.6);
    CT_CHECK_NEAR(r.obstruction[2], 2, 1e-9);
    CT_CHECK_NEAR(r.min_clearance, -48, 1e-6);
    ct_los_result_free(&r);
    d.from[2] = d.to[2] = 60; /* over the wall */
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, NULL) == CT_OK);
    CT_CHECK(r.visible);
    CT_CHECK_NEAR(r.min_clearance, 10, 1e-6);
    ct_los_result_free(&r);
    /* curvature: over 800 m the midpoint bulge is k d1 d2 / 2a = 0.0125 m for k = 1 */
    ct_raster_destroy(dem);
    dem = dem_make(flat);
    d.from[2] = d.to[2] = 0.01;
    d.curvature = 1;
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, NULL) == CT_OK);
    CT_CHECK(!r.visible);
    CT_CHECK_NEAR(r.min_clearance, 0.01 - 400.0 * 400 / (2 * 6378137.0), 1e-6);
    ct_los_result_free(&r);
    d.from[2] = d.to[2] = 0.013;
    CT_REQUIRE(ct_los_compute(dem, NULL, &d, &r, NULL) == CT_OK);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    ct_raster_destroy(dem);
}

/* A vertical wall of two triangles at x = 500500, y 5000400..5000600, z 0..50. */
static const double QUAD[] = {500500, 5000400, 0, 500500, 5000600, 0, 500500, 5000600, 50, 500500, 5000400, 50};
static const uint32_t QUAD_IDX[] = {0, 1, 2, 0, 2, 3};

CT_TEST(mesh_blocks)
{
    ct_raster *dem = dem_make(flat);
    ct_los_meshes *m = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_add(m, QUAD, 4, QUAD_IDX, 6, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
    CT_CHECK_EQ_INT(ct_los_meshes_triangle_count(m), 2);
    ct_los_desc d = {.from = {500100, 5000500, 10}, .to = {500900, 5000520, 30}};
    ct_los_result r;
    CT_REQUIRE(ct_los_compute(dem, m, &d, &r, &err) == CT_OK);
    CT_CHECK(!r.visible);
    CT_CHECK(r.blocked_by_mesh);
    CT_CHECK_NEAR(r.obstruction[0], 500500, 1e-3);
    CT_CHECK_NEAR(r.obstruction[1], 5000510, 1e-3);
    CT_CHECK_NEAR(r.obstruction[2], 20, 1e-3);
    ct_los_result_free(&r);
    d.from[2] = d.to[2] = 51; /* just over it */
    CT_REQUIRE(ct_los_compute(dem, m, &d, &r, &err) == CT_OK);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    /* mesh only, no DEM */
    d.from[2] = d.to[2] = 49;
    CT_REQUIRE(ct_los_compute(NULL, m, &d, &r, &err) == CT_OK);
    CT_CHECK(!r.visible && r.blocked_by_mesh);
    ct_los_result_free(&r);
    /* bad indices are refused */
    uint32_t bad[] = {0, 1, 7};
    ct_los_meshes *m2 = NULL;
    CT_REQUIRE(ct_los_meshes_create(&m2, &err) == CT_OK);
    CT_CHECK(ct_los_meshes_add(m2, QUAD, 4, bad, 3, &err) == CT_ERR_INPUT);
    ct_los_meshes_destroy(m2);
    ct_los_meshes_destroy(m);
    ct_raster_destroy(dem);
}

/* The same wall as a glTF (Y-up, a node translated 10 m along glTF x),
 * placed with an offset: (x, y, z)_gltf -> (x, -z, y) + offset. */
CT_TEST(gltf_struct_blocks)
{
    float pos[] = {0, 0, 100, 0, 0, -100, 0, 50, -100, 0, 50, 100};
    uint32_t idx[] = {0, 1, 2, 0, 2, 3};
    ct_gltf_primitive prim = {.mode = CT_GLTF_TRIANGLES, .material = -1, .vertex_count = 4, .positions = pos,
                              .index_count = 6, .indices = idx};
    ct_gltf_mesh mesh = {.primitives = &prim, .primitive_count = 1};
    ct_gltf_draw draw = {.node = 0, .mesh = 0, .world = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 10, 0, 0, 1}};
    ct_gltf g = {.meshes = &mesh, .mesh_count = 1, .draws = &draw, .draw_count = 1};
    double offset[3] = {500490, 5000500, 0};
    ct_los_meshes *m = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_add_gltf(m, &g, true, offset, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
    ct_los_desc d = {.from = {500100, 5000550, 10}, .to = {500900, 5000550, 10}};
    ct_los_result r;
    CT_REQUIRE(ct_los_compute(NULL, m, &d, &r, &err) == CT_OK);
    CT_CHECK(!r.visible);
    CT_CHECK_NEAR(r.obstruction[0], 500500, 1e-3);
    ct_los_result_free(&r);
    d.from[1] = d.to[1] = 5000390; /* beside the wall (it spans y 5000400..5000600) */
    CT_REQUIRE(ct_los_compute(NULL, m, &d, &r, &err) == CT_OK);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    ct_los_meshes_destroy(m);
}

CT_TEST(cli)
{
    char dir[] = "/tmp/ct_los_XXXXXX";
    CT_REQUIRE(mkdtemp(dir) != NULL);
    char path[256], args[1024];
    char *out = NULL;
    snprintf(path, sizeof path, "%s/wall.tif", dir);
    ct_raster *dem = dem_make(wall);
    CT_REQUIRE(ct_raster_write_gtiff(dem, path, CT_RASTER_FLOAT32, true, -9999, NULL) == CT_OK);
    ct_raster_destroy(dem);
    snprintf(args, sizeof args, "analyze los --dem %s --from 500100,5000500,2 --to 500900,5000500,2 --json", path);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "\"visible\":false") && strstr(out, "\"blocked_by\":\"terrain\"") &&
             strstr(out, "\"obstruction\":[") && strstr(out, "\"min_clearance_m\""));
    free(out);
    snprintf(args, sizeof args, "analyze los --dem %s --from 500100,5000500,60 --to 500900,5000500,60 --json --profile",
             path);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "\"visible\":true") && strstr(out, "\"profile\":[{\"distance_m\":0"));
    free(out);
    snprintf(args, sizeof args, "analyze los --dem /nonexistent.tif --from 1,2,3 --to 4,5,6");
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    snprintf(args, sizeof args, "analyze los --dem %s --from 1,2,3", path);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze los --dem %s --from 1,2 --to 1,2,3", path);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    /* a real GLB: Khronos' Box, a unit cube about its origin, placed at (1000, 2000, 10) */
    snprintf(args, sizeof args,
             "analyze los --from 995,2000,10 --to 1005,2000,10 --meshes %s --mesh-offset 1000,2000,10 --json",
             ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "\"visible\":false") && strstr(out, "\"blocked_by\":\"mesh\"") &&
             strstr(out, "\"obstruction\":[999.5") && strstr(out, "\"mesh_triangles\":12"));
    free(out);
    snprintf(args, sizeof args,
             "analyze los --from 995,2000,11 --to 1005,2000,11 --meshes %s --mesh-offset 1000,2000,10 --json",
             ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "\"visible\":true") != NULL);
    free(out);
    snprintf(args, sizeof args, "analyze los --from 1,2,3 --to 4,5,6 --meshes /nonexistent.glb");
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CT_CHECK(system(cmd) == 0);
}

/* Progress over the DEM samples (and the mesh ray): moving, ending at 1, with
 * the same answer as without a callback. */
CT_TEST(progress)
{
    ct_raster *dem = dem_make(flat);
    ct_los_meshes *m = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_add(m, QUAD, 4, QUAD_IDX, 6, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
    for (int with_mesh = 0; with_mesh < 2; with_mesh++) {
        ct_test_progress p = {0};
        ct_los_desc d = {.from = {500100, 5000500, 10}, .to = {500900, 5000520, 30}};
        ct_los_result a, b;
        CT_REQUIRE(ct_los_compute(dem, with_mesh ? m : NULL, &d, &a, &err) == CT_OK);
        d.progress = ct_test_progress_record;
        d.progress_user = &p;
        CT_REQUIRE(ct_los_compute(dem, with_mesh ? m : NULL, &d, &b, &err) == CT_OK);
        CT_CHECK_PROGRESS(p, 20); /* 161 samples every 5 m */
        CT_CHECK(a.visible == b.visible && a.blocked_by_mesh == b.blocked_by_mesh);
        CT_CHECK(a.visible == !with_mesh); /* over flat ground, into the mesh wall (x = 500500, z <= 50) */
        CT_CHECK(a.min_clearance == b.min_clearance);
        ct_los_result_free(&a);
        ct_los_result_free(&b);
    }
    ct_los_meshes_destroy(m);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(progress), CT_CASE(dem_clearance_analytic), CT_CASE(dem_wall_blocks), CT_CASE(mesh_blocks),
             CT_CASE(gltf_struct_blocks), CT_CASE(cli))
