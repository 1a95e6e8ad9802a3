/* `citytwin tiles info|validate` as a user runs it: JSON fields of CLI.md,
 * exit codes (0, 2 on errors, 1 on usage). */
#include "ct_test.h"

#include <cjson/cJSON.h>

CT_TEST(info_json_fields)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "tiles info '%s' --json",
             ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithRequestVolume/tileset.json"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    const char *fields[] = {"tiles", "max_depth", "contents", "bytes", "bounds_lonlat", "problems"};
    for (int i = 0; i < 6; i++)
        CT_CHECK(cJSON_GetObjectItem(j, fields[i]) != NULL);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(j), 6);
    cJSON *c = cJSON_GetObjectItem(j, "contents");
    const char *types[] = {"b3dm", "i3dm", "pnts", "cmpt", "glb", "json"};
    for (int i = 0; i < 6; i++)
        CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(c, types[i])));
    /* README: city blocks (4 b3dm in city/tileset.json), a building b3dm, a point cloud, an external tileset */
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(c, "b3dm")->valueint, 5);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(c, "pnts")->valueint, 1);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(c, "json")->valueint, 1);
    cJSON *b = cJSON_GetObjectItem(j, "bounds_lonlat");
    CT_REQUIRE(cJSON_GetArraySize(b) == 4);
    /* Philadelphia (Cesium's sample location), around -75.61, 40.04 */
    CT_CHECK_NEAR(cJSON_GetArrayItem(b, 0)->valuedouble, -75.61, 0.01);
    CT_CHECK_NEAR(cJSON_GetArrayItem(b, 1)->valuedouble, 40.04, 0.01);
    cJSON_Delete(j);
    free(out);
}

CT_TEST(validate_exit_codes)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "tiles validate '%s' --json",
             ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 2);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")), 1);
    CT_CHECK(strstr(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "errors"), 0)->valuestring, "dragon_high.b3dm"));
    CT_CHECK(cJSON_IsArray(cJSON_GetObjectItem(j, "warnings")));
    cJSON_Delete(j);
    free(out);
    snprintf(args, sizeof args, "tiles validate '%s' --json",
             ct_test_data("3dtiles/3d-tiles-tools/TilesetOfTilesets/tileset.json"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    free(out);
    CT_CHECK_EQ_INT(ct_test_run_cli("tiles info /nonexistent/tileset.json --json", &out, NULL), 2);
    free(out);
    CT_CHECK_EQ_INT(ct_test_run_cli("tiles info", &out, NULL), 1);
    free(out);
}

CT_TEST(citytwin_info_on_a_tileset)
{
    char args[4096], *a = NULL, *b = NULL;
    const char *ts = ct_test_data("3dtiles/3d-tiles-tools/TilesetOfTilesets/tileset.json");
    snprintf(args, sizeof args, "info '%s' --json", ts);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &a, NULL), 0);
    snprintf(args, sizeof args, "tiles info '%s' --json", ts);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &b, NULL), 0);
    CT_CHECK(a && b && !strcmp(a, b));
    CT_CHECK(a && strstr(a, "\"tiles\":7"));
    free(a);
    free(b);
}

CT_TEST_MAIN(CT_CASE(info_json_fields), CT_CASE(validate_exit_codes), CT_CASE(citytwin_info_on_a_tileset))
