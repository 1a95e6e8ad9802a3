/* `citytwin info` on glTF: runs the real binary (CT_BINARY_DIR/cli/citytwin),
 * parses its --json output and checks the CLI.md fields, exit codes and the
 * one-line error. Expected counts as in test_gltf.c (assimp / hand). */
#include "ct_test.h"

#include <cjson/cJSON.h>
/* The last run's stdout and stderr (freed by the next run and by cleanup). */
static char *out_buf, *err_buf;

static int run_cli(const char *args)
{
    free(out_buf);
    free(err_buf);
    return ct_test_run_cli(args, &out_buf, &err_buf);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

CT_TEST(info_json_duck)
{
    char args[8192];
    snprintf(args, sizeof args, "info --json %s", ct_test_data("gltf/khronos-sample-assets/Duck/glTF-Binary/Duck.glb"));
    CT_REQUIRE(run_cli(args) == 0);
    cJSON *j = cJSON_Parse(out_buf);
    CT_REQUIRE(j && cJSON_IsObject(j));
    /* exactly one JSON object on stdout: one line */
    CT_CHECK(strchr(out_buf, '\n') == out_buf + strlen(out_buf) - 1);
    CT_CHECK_EQ_INT(num(j, "nodes"), 3);
    CT_CHECK_EQ_INT(num(j, "meshes"), 1);
    CT_CHECK_EQ_INT(num(j, "primitives"), 1);
    CT_CHECK_EQ_INT(num(j, "triangles"), 4212); /* assimp */
    CT_CHECK_EQ_INT(num(j, "vertices"), 2399);  /* assimp */
    CT_CHECK_EQ_INT(num(j, "materials"), 1);
    CT_CHECK_EQ_INT(num(j, "textures"), 1);
    CT_CHECK(cJSON_IsArray(cJSON_GetObjectItem(j, "extensions_used")));
    const cJSON *bmin = cJSON_GetObjectItem(j, "bounds_min"), *bmax = cJSON_GetObjectItem(j, "bounds_max");
    CT_REQUIRE(cJSON_GetArraySize(bmin) == 3 && cJSON_GetArraySize(bmax) == 3);
    /* Duck.gltf POSITION min x -69.2985 scaled by nodes[1]'s 0.01 */
    CT_CHECK_NEAR(cJSON_GetArrayItem(bmin, 0)->valuedouble, -0.692985, 1e-5);
    CT_CHECK(cJSON_GetArrayItem(bmax, 1)->valuedouble > cJSON_GetArrayItem(bmin, 1)->valuedouble);
    cJSON_Delete(j);
}

CT_TEST(info_json_extensions_and_instancing)
{
    char args[8192];
    snprintf(args, sizeof args, "info --json %s", ct_test_data("gltf/3d-tiles-tools/box-variants/BoxMeshopt.glb"));
    CT_REQUIRE(run_cli(args) == 0);
    cJSON *j = cJSON_Parse(out_buf);
    CT_REQUIRE(j);
    const cJSON *ext = cJSON_GetObjectItem(j, "extensions_used");
    int found = 0;
    for (const cJSON *e = ext ? ext->child : NULL; e; e = e->next)
        found += cJSON_IsString(e) && !strcmp(e->valuestring, "EXT_meshopt_compression");
    CT_CHECK_EQ_INT(found, 1);
    CT_CHECK_EQ_INT(num(j, "triangles"), 12);
    cJSON_Delete(j);
    snprintf(args, sizeof args, "info --json %s",
             ct_test_data("gltf/khronos-sample-assets/SimpleInstancing/glTF/SimpleInstancing.gltf"));
    CT_REQUIRE(run_cli(args) == 0);
    j = cJSON_Parse(out_buf);
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(num(j, "triangles"), 125 * 12); /* hand: 125 instances of a 12-triangle box */
    cJSON_Delete(j);
}

CT_TEST(info_text_and_errors)
{
    char args[8192];
    snprintf(args, sizeof args, "info %s", ct_test_data("gltf/khronos-sample-assets/Box/glTF/Box.gltf"));
    CT_CHECK(run_cli(args) == 0);
    CT_CHECK(strstr(out_buf, "12 triangles") != NULL);
    CT_CHECK(out_buf[0] != '{');

    /* glTF 1.0 is upgraded on load and says so */
    snprintf(args, sizeof args, "info %s",
             ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/BatchedLegacy/BatchedWithGltf1With2DNormals/"
                          "batchedWithGltf1With2DNormals.glb"));
    CT_CHECK(run_cli(args) == 0);
    CT_CHECK(strstr(out_buf, "glTF 1.0 (GLB, upgraded to 2.0 on load)") != NULL);
    CT_CHECK(strstr(out_buf, "1 triangles") != NULL);
    snprintf(args, sizeof args, "info --json %s",
             ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/BatchedLegacy/BatchedWithGltf1With2DNormals/"
                          "batchedWithGltf1With2DNormals.glb"));
    CT_CHECK(run_cli(args) == 0);
    cJSON *j = cJSON_Parse(out_buf);
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "gltf_version")) &&
             !strcmp(cJSON_GetObjectItem(j, "gltf_version")->valuestring, "1.0"));
    cJSON_Delete(j);

    /* a glTF 1.0 GLB whose scene names a null node: an empty model, one warning */
    const char *v1 = ct_test_data("gltf/3d-tiles-tools/box-variants/glTF1GlbWithoutBin.glb");
    snprintf(args, sizeof args, "info --json %s", v1);
    CT_CHECK_EQ_INT(run_cli(args), 0);
    j = cJSON_Parse(out_buf);
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "draws")) && cJSON_GetObjectItem(j, "draws")->valueint == 0);
    cJSON_Delete(j);
    CT_CHECK(strstr(err_buf, "not a known node id") != NULL);

    /* bad input: exit 2, nothing on stdout, one line on stderr naming the file */
    const char *bad = ct_test_tmp_path("truncated.glb");
    static const unsigned char trunc[] = {'g', 'l', 'T', 'F', 2, 0, 0, 0, 200, 0, 0, 0, 100, 0, 0, 0, 'J', 'S', 'O', 'N'};
    FILE *bf = fopen(bad, "wb");
    CT_REQUIRE(bf && fwrite(trunc, 1, sizeof trunc, bf) == sizeof trunc);
    fclose(bf);
    snprintf(args, sizeof args, "info --json %s", bad);
    CT_CHECK_EQ_INT(run_cli(args), 2);
    CT_CHECK(out_buf[0] == 0);
    CT_CHECK(strstr(err_buf, "truncated.glb") != NULL);
    CT_CHECK(strchr(err_buf, '\n') == err_buf + strlen(err_buf) - 1);

    CT_CHECK_EQ_INT(run_cli("info --json /nonexistent/file.glb"), 2);
    CT_CHECK(strstr(err_buf, "/nonexistent/file.glb") != NULL);
    snprintf(args, sizeof args, "info %s", ct_test_data("SOURCES.md"));
    CT_CHECK_EQ_INT(run_cli(args), 2);
    CT_CHECK(strstr(err_buf, "unknown file type") != NULL);

    /* usage errors: exit 1 */
    CT_CHECK_EQ_INT(run_cli("info"), 1);
    CT_CHECK_EQ_INT(run_cli("info --bogus x.glb"), 1);
    CT_CHECK_EQ_INT(run_cli("info --help"), 0);
    CT_CHECK(strstr(out_buf, "usage: citytwin info") != NULL);
}

CT_TEST(cleanup)
{
    free(out_buf);
    free(err_buf);
    out_buf = err_buf = NULL;
}

CT_TEST_MAIN(CT_CASE(info_json_duck), CT_CASE(info_json_extensions_and_instancing), CT_CASE(info_text_and_errors), CT_CASE(cleanup))
