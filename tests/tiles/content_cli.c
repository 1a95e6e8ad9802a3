/* `citytwin info` on tile content files as a user runs it: the CLI.md
 * fields plus features/instances/points, and exit code 2 with the byte
 * offset on a corrupt file. */
#include "ct_test.h"

#include <cjson/cJSON.h>

static double num(const cJSON *j, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

CT_TEST(info_json_cmpt)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "info '%s' --json",
             ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Composite/Composite/composite.cmpt"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    const char *fields[] = {"nodes", "meshes", "primitives", "triangles", "vertices", "materials", "textures",
                            "extensions_used", "bounds_min", "bounds_max", "features", "instances", "points"};
    for (int i = 0; i < 13; i++)
        CT_CHECK(cJSON_GetObjectItemCaseSensitive(j, fields[i]) != NULL);
    CT_CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(j, "type")->valuestring, "cmpt"));
    /* b3dm: 10 buildings of 12 triangles; i3dm: 25 boxes of 12 (golden glTF: 420 triangles) */
    CT_CHECK_EQ_INT(num(j, "triangles"), 420);
    CT_CHECK_EQ_INT(num(j, "instances"), 25);
    CT_CHECK_EQ_INT(num(j, "features"), 35);
    CT_CHECK_EQ_INT(num(j, "points"), 0);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "models")), 2);
    cJSON_Delete(j);
    free(out);

    snprintf(args, sizeof args, "info '%s' --json",
             ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/PointCloud/PointCloudRGB/pointCloudRGB.pnts"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    j = cJSON_Parse(out);
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(num(j, "points"), 1000); /* POINTS_LENGTH in the feature table */
    CT_CHECK_EQ_INT(num(j, "triangles"), 0);
    cJSON_Delete(j);
    free(out);
}

CT_TEST(info_corrupt_exit_2)
{
    const char *src = ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/PointCloud/PointCloudRGB/pointCloudRGB.pnts");
    char tmp[4096], args[8192], *out = NULL;
    snprintf(tmp, sizeof tmp, "%s/content_cli_trunc.pnts", CT_BINARY_DIR);
    FILE *in = fopen(src, "rb"), *o = fopen(tmp, "wb");
    CT_REQUIRE(in && o);
    char buf[100];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n, o);
    fclose(in);
    fclose(o);
    snprintf(args, sizeof args, "info '%s' 2>&1", tmp);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 2);
    CT_CHECK(strstr(out, "byteLength 15184 at byte 8 exceeds file size 100") != NULL);
    free(out);
    remove(tmp);
}

CT_TEST_MAIN(CT_CASE(info_json_cmpt), CT_CASE(info_corrupt_exit_2))
