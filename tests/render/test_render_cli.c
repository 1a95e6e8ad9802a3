/* `citytwin render` and `citytwin pick` end to end: exit codes, the PNG,
 * --stats and --json fields, pick results checked against the geometry. */
#include "citytwin/ct_camera.h"
#include "citytwin/ct_geo.h"
#include "citytwin/ct_image.h"
#include "ct_test.h"

#include <cjson/cJSON.h>
#include <unistd.h>

static char box[2048], outpng[2048];

CT_TEST(test_render_stats_and_png)
{
    char args[8192], *out = NULL;
    snprintf(args, sizeof args, "render %s -o %s --size 64x48 --stats --background 255,0,0", box, outpng);
    CT_REQUIRE(ct_test_run_cli(args, &out, NULL) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j != NULL);
    /* a cube: 12 triangles, no points, no tiles */
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "triangles")->valuedouble, 12);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "points")->valuedouble, 0);
    CT_CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "tiles_selected")));
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "frame_ms_p50")));
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "t_first_frame_s")));
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "renderer")));
    const char *keys[] = {"t_full_detail_s", "tiles_loaded", "tiles_failed", "frame_ms_p95", "bytes_budget",
                          "bytes_used_peak"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CT_CHECK(cJSON_GetObjectItem(j, keys[i]) != NULL);
    cJSON_Delete(j);
    free(out);
    ct_image img = {0};
    ct_error err;
    CT_REQUIRE(ct_image_load_file(outpng, &img, &err) == CT_OK);
    CT_CHECK_EQ_INT(img.width, 64);
    CT_CHECK_EQ_INT(img.height, 48);
    /* corner: the background color; centre: the red-ish (0.8,0,0) lit cube, not the background */
    CT_CHECK_EQ_INT(img.pixels[0], 255);
    CT_CHECK_EQ_INT(img.pixels[1], 0);
    CT_CHECK_EQ_INT(img.pixels[2], 0);
    const uint8_t *c = img.pixels + ((size_t)24 * 64 + 32) * 4;
    CT_CHECK(c[0] > 60 && c[0] < 255 && c[1] == 0 && c[2] == 0);
    ct_image_free(&img);
}

CT_TEST(test_render_exit_codes)
{
    char args[8192];
    snprintf(args, sizeof args, "render %s", box); /* no -o */
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "render %s -o %s --camera 1,2", box, outpng);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "render %s -o %s --size 0x5", box, outpng);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "render /nonexistent/model.glb -o %s", outpng);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    snprintf(args, sizeof args, "render %s -o /nonexistent/dir/out.png --size 16x16", box);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 3);
    CT_CHECK_EQ_INT(ct_test_run_cli("render --help", NULL, NULL), 0);
}

CT_TEST(test_render_explicit_camera)
{
    /* local scene (no geographic CRS): X,Y,Z. From 3 m south at the cube's
     * height looking north the cube (|x|,|z| <= 0.5 after y-up -> z-up)
     * covers the centre; looking south (heading 180) it is behind. */
    char args[8192];
    ct_image img = {0};
    ct_error err;
    snprintf(args, sizeof args, "render %s -o %s --size 32x32 --camera 0,-3,0,0,0 --background 0,0,255", box, outpng);
    CT_REQUIRE(ct_test_run_cli(args, NULL, NULL) == 0);
    CT_REQUIRE(ct_image_load_file(outpng, &img, &err) == CT_OK);
    CT_CHECK(img.pixels[(16 * 32 + 16) * 4 + 2] == 0);
    ct_image_free(&img);
    snprintf(args, sizeof args, "render %s -o %s --size 32x32 --camera 0,-3,0,180,0 --background 0,0,255", box, outpng);
    CT_REQUIRE(ct_test_run_cli(args, NULL, NULL) == 0);
    CT_REQUIRE(ct_image_load_file(outpng, &img, &err) == CT_OK);
    CT_CHECK_EQ_INT(img.pixels[(16 * 32 + 16) * 4 + 2], 255);
    ct_image_free(&img);
}

CT_TEST(test_pick)
{
    char args[8192], *out = NULL;
    /* --fit looks at the cube's centre from the south at -45 degrees; a pixel a
     * little above the centre sees the top face z = 0.5 (the cube spans +-0.5) */
    snprintf(args, sizeof args, "pick %s --pixel 32,26 --size 64x64 --json", box);
    CT_REQUIRE(ct_test_run_cli(args, &out, NULL) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j != NULL);
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
    /* Box.gltf: node 0 is the root (matrix), node 1 holds mesh 0 */
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "node")->valuedouble, 1);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "mesh")->valuedouble, 0);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "primitive")->valuedouble, 0);
    CT_CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "feature_id")));
    cJSON *pos = cJSON_GetObjectItem(j, "position");
    CT_REQUIRE(cJSON_GetArraySize(pos) == 3);
    CT_CHECK_NEAR(cJSON_GetArrayItem(pos, 2)->valuedouble, 0.5, 0.01);
    CT_CHECK(fabs(cJSON_GetArrayItem(pos, 0)->valuedouble) < 0.5);
    CT_CHECK(fabs(cJSON_GetArrayItem(pos, 1)->valuedouble) < 0.5);
    cJSON_Delete(j);
    free(out);
    snprintf(args, sizeof args, "pick %s --pixel 0,0 --size 64x64 --json", box);
    CT_REQUIRE(ct_test_run_cli(args, &out, NULL) == 0);
    j = cJSON_Parse(out);
    CT_REQUIRE(j != NULL);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "hit")));
    cJSON_Delete(j);
    free(out);
    snprintf(args, sizeof args, "pick %s --pixel 64,0 --size 64x64", box);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
}

/* A scene file with a geographic origin: the Box placed 0.5 m up in the ENU
 * frame at (114, 22.5), a bookmark 5 m south of it looking north. Picking
 * the centre must hit the box's south face (ENU y = -0.5) at the expected
 * lon/lat/height, computed here with PROJ through ct_geo. */
CT_TEST(test_scene_bookmark_pick)
{
    char scene[2048], json[8192], args[8192], *out = NULL;
    snprintf(scene, sizeof scene, "%s/test_render_cli_%d.scene.json", CT_BINARY_DIR, (int)getpid());
    ct_dvec3 o = ct_geo_ecef_from_lonlat(114.0, 22.5, 0);
    double enu[16];
    ct_geo_enu_frame(o, enu);
    ct_dvec3 eye = ct_geo_lonlat_from_ecef(ct_dmat4_transform_point(enu, ct_dvec3_make(0, -5, 0.5)));
    snprintf(json, sizeof json,
             "{\"version\": 1, \"origin\": [114.0, 22.5, 0],"
             " \"layers\": [{\"name\": \"box\", \"type\": \"gltf\", \"source\": \"%s\", \"offset\": [0, 0, 0.5]}],"
             " \"cameras\": [{\"name\": \"south\", \"camera\": [%.10f, %.10f, %.6f, 0, 0, 0]}]}",
             box, eye.x, eye.y, eye.z);
    ct_error err;
    CT_REQUIRE(ct_file_write(scene, json, strlen(json), &err) == CT_OK);
    snprintf(args, sizeof args, "pick %s --bookmark south --pixel 32,32 --size 64x64 --json", scene);
    int rc = ct_test_run_cli(args, &out, NULL);
    CT_CHECK_EQ_INT(rc, 0);
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    CT_CHECK(j != NULL);
    if (j) {
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
        CT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "layer")), "box"));
        cJSON *ll = cJSON_GetObjectItem(j, "lonlat");
        /* the ray through pixel (32.5, 32.5) meets the face plane (ENU y = -0.5, normal north) */
        ct_camera cam = ct_camera_from_cesium(eye.x, eye.y, eye.z, 0, 0, 0);
        ct_dvec3 ro, rd, north = {enu[4], enu[5], enu[6]};
        ct_camera_pixel_ray(&cam, 32.5, 32.5, 64, 64, &ro, &rd);
        ct_dvec3 p0 = ct_dmat4_transform_point(enu, ct_dvec3_make(0, -0.5, 0.5));
        double t = ct_dvec3_dot(ct_dvec3_sub(p0, ro), north) / ct_dvec3_dot(rd, north);
        ct_dvec3 face = ct_geo_lonlat_from_ecef(ct_dvec3_add(ro, ct_dvec3_scale(rd, t)));
        CT_CHECK(cJSON_GetArraySize(ll) == 3);
        if (cJSON_GetArraySize(ll) == 3) {
            CT_CHECK_NEAR(cJSON_GetArrayItem(ll, 0)->valuedouble, face.x, 1e-7); /* ~1 cm */
            CT_CHECK_NEAR(cJSON_GetArrayItem(ll, 1)->valuedouble, face.y, 1e-7);
            CT_CHECK_NEAR(cJSON_GetArrayItem(ll, 2)->valuedouble, face.z, 0.005);
        }
        CT_CHECK_NEAR(cJSON_GetObjectItem(j, "distance_m")->valuedouble, 4.5, 0.005);
        cJSON_Delete(j);
    }
    free(out);
    /* Without a camera option the scene's first bookmark is the view; --fit still frames the sphere. */
    const char *modes[] = {"", "--fit"};
    for (int m = 0; m < 2; m++) {
        out = NULL;
        snprintf(args, sizeof args, "pick %s %s --pixel 32,32 --size 64x64 --json", scene, modes[m]);
        CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
        j = out ? cJSON_Parse(out) : NULL;
        cJSON *d = j ? cJSON_GetObjectItem(j, "distance_m") : NULL;
        if (m == 0)
            CT_CHECK(d && fabs(d->valuedouble - 4.5) < 0.005);
        else
            CT_CHECK(!d || !cJSON_IsNumber(d) || fabs(d->valuedouble - 4.5) > 0.05);
        cJSON_Delete(j);
        free(out);
    }
    snprintf(args, sizeof args, "render %s --bookmark nowhere -o %s --size 16x16", scene, outpng);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    remove(scene);
}

int main(int argc, char **argv)
{
    snprintf(box, sizeof box, "%s", ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"));
    snprintf(outpng, sizeof outpng, "%s/test_render_cli_%d.png", CT_BINARY_DIR, (int)getpid());
    ct_test_case cases[] = {CT_CASE(test_render_stats_and_png), CT_CASE(test_render_exit_codes),
                            CT_CASE(test_render_explicit_camera), CT_CASE(test_pick),
                            CT_CASE(test_scene_bookmark_pick)};
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        ct_test_current = cases[i].name;
        int before = ct_test_failures;
        cases[i].fn();
        fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    remove(outpng);
    return !ran ? 1 : ct_test_failures > 100 ? 100 : ct_test_failures;
}
