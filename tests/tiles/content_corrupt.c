/* Corrupt tile content: every failure must be a clean CT_ERR_INPUT with a
 * message naming the tile and the place, never a crash or a leak (this test
 * also runs in the ASan/UBSan build). The corrupt variants are generated here
 * from real samples and from hand-built tiles. */
#define _GNU_SOURCE /* memmem */
#include "ct_test.h"

#include "content_build.h"

#include "citytwin/ct_tile_content.h"

#define LEGACY "3dtiles/3d-tiles-tools/legacy-formats/"

static ct_status try_load(const uint8_t *d, size_t n, ct_error *err, uint32_t *warnings)
{
    ct_tile_content_options o = {.skip_images = true, .uri = "tile 0/0.b3dm"};
    ct_tile_content *c = NULL;
    memset(err, 0, sizeof *err);
    ct_status st = ct_tile_content_load_memory(d, n, &o, &c, err);
    if (st == CT_OK) {
        if (warnings)
            *warnings = c->warning_count;
        ct_tile_content_destroy(c);
    } else {
        /* Every message names the tile. */
        if (!strstr(err->msg, "tile 0/0.b3dm")) {
            fprintf(stderr, "message without uri: %s\n", err->msg);
            ct_test_failures++;
        }
        if (c)
            ct_test_failures++;
    }
    return st;
}

static const char *samples[] = {
    LEGACY "Batched/BatchedWithBatchTableBinary/batchedWithBatchTableBinary.b3dm",
    LEGACY "Batched/BatchedDeprecated1/batchedDeprecated1.b3dm",
    LEGACY "Instanced/InstancedQuantizedOct32POrientation/instancedQuantizedOct32POrientation.i3dm",
    LEGACY "PointCloud/PointCloudBatched/pointCloudBatched.pnts",
    LEGACY "PointCloud/PointCloudDracoBatched/pointCloudDracoBatched.pnts",
    LEGACY "Composite/Composite/composite.cmpt",
};

CT_TEST(truncations_fail_cleanly)
{
    int fails = 0, runs = 0;
    for (size_t s = 0; s < sizeof samples / sizeof samples[0]; s++) {
        size_t n;
        uint8_t *d = tb_read_file(ct_test_data(samples[s]), &n);
        CT_REQUIRE(d && n > 64);
        uint8_t *copy = malloc(n);
        /* Every length through the headers and tables, then a stride through the body. */
        for (size_t len = 0; len < n; len += len < 700 ? 1 : 61) {
            ct_error err;
            memcpy(copy, d, len);
            CT_CHECK(try_load(copy, len, &err, NULL) == CT_ERR_INPUT);
            /* Same cut with byteLength patched to match, so inner parsing sees the cut. */
            if (len >= 12) {
                tb_set_u32(copy + 8, (uint32_t)len);
                ct_status st = try_load(copy, len, &err, NULL);
                CT_CHECK(st == CT_OK || st == CT_ERR_INPUT);
                fails += st != CT_OK;
            }
            runs++;
        }
        free(copy);
        free(d);
    }
    fprintf(stderr, "  %d truncations, %d patched ones rejected\n", runs, fails);
}

/* Sets one header field to an absurd length and checks the message. */
static void check_field(const char *rel, size_t field, const char *expect)
{
    size_t n;
    uint8_t *d = tb_read_file(ct_test_data(rel), &n);
    CT_REQUIRE(d);
    tb_set_u32(d + field, 4000000000u);
    ct_error err;
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    if (expect && !strstr(err.msg, expect)) {
        fprintf(stderr, "field %zu of %s: got \"%s\", expected \"%s\"\n", field, rel, err.msg, expect);
        ct_test_failures++;
    }
    free(d);
}

CT_TEST(absurd_header_fields)
{
    const char *b3dm = LEGACY "Batched/BatchedWithBatchTable/batchedWithBatchTable.b3dm"; /* 10304 bytes */
    check_field(b3dm, 4, "version 4000000000 at byte 4");
    check_field(b3dm, 8, "byteLength 4000000000 at byte 8 exceeds file size 10304");
    check_field(b3dm, 12, "featureTableJSONByteLength 4000000000 at byte 12 exceeds file size 10304");
    check_field(b3dm, 16, "featureTableBinaryByteLength 4000000000 at byte 16");
    check_field(b3dm, 20, NULL); /* read as a legacy layout, which then does not parse */
    check_field(b3dm, 24, NULL);
    const char *i3dm = LEGACY "Instanced/InstancedOrientation/instancedOrientation.i3dm";
    check_field(i3dm, 12, "featureTableJSONByteLength 4000000000 at byte 12");
    check_field(i3dm, 16, "featureTableBinaryByteLength 4000000000 at byte 16");
    check_field(i3dm, 20, "batchTableJSONByteLength 4000000000 at byte 20");
    check_field(i3dm, 24, "batchTableBinaryByteLength 4000000000 at byte 24");
    check_field(i3dm, 28, "gltfFormat 4000000000 at byte 28");
    const char *pnts = LEGACY "PointCloud/PointCloudRGB/pointCloudRGB.pnts";
    check_field(pnts, 20, "batchTableJSONByteLength 4000000000 at byte 20");
    const char *cmpt = LEGACY "Composite/Composite/composite.cmpt";
    check_field(cmpt, 4, "cmpt version 4000000000 at byte 4");
    check_field(cmpt, 8, "cmpt byteLength 4000000000 at byte 8");
    check_field(cmpt, 12, "cmpt tilesLength 4000000000 at byte 12");
    check_field(cmpt, 16 + 8, "inner tile 0 byteLength 4000000000 at byte 24");
    check_field(cmpt, 16 + 9672 + 16, "featureTableBinaryByteLength 4000000000 at byte 9704");
}

static void check_tile(const char *magic, const char *ft, const void *bin, size_t bin_len, const char *bt,
                       const char *expect)
{
    size_t glb_n = 0, n;
    uint8_t *glb = tb_read_file(ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"), &glb_n);
    bool model = strcmp(magic, "pnts") != 0;
    uint8_t *d = tb_tile(magic, ft, bin, bin_len, bt, NULL, 0, model ? glb : NULL, model ? glb_n : 0, 1, &n);
    ct_error err;
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    if (!strstr(err.msg, expect)) {
        fprintf(stderr, "%s %s: got \"%s\", expected \"%s\"\n", magic, ft, err.msg, expect);
        ct_test_failures++;
    }
    free(d);
    free(glb);
}

CT_TEST(bad_feature_tables)
{
    float p[6] = {0};
    check_tile("b3dm", "{\"BATCH_LENGTH\":4000000000}", NULL, 0, NULL, "BATCH_LENGTH = 4000000000 is absurd");
    check_tile("b3dm", "{\"BATCH_LENGTH\":-1}", NULL, 0, NULL, "BATCH_LENGTH is not a non-negative integer");
    check_tile("b3dm", "{\"BATCH_LENGTH\":1,\"RTC_CENTER\":[1,2]}", NULL, 0, NULL, "RTC_CENTER must have 3 numbers");
    check_tile("b3dm", "[1,2]", NULL, 0, NULL, "is not an object");
    check_tile("b3dm", "{\"BATCH_LENGTH\":", NULL, 0, NULL, "not valid JSON");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":100000000,\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL,
               "POSITION: byteOffset 0 + 100000000 x 12 bytes exceeds the binary body of 24 bytes");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":2}", p, sizeof p, NULL, "neither POSITION nor POSITION_QUANTIZED");
    check_tile("i3dm", "{\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL, "has no INSTANCES_LENGTH");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"POSITION\":{\"byteOffset\":20}}", p, sizeof p, NULL,
               "byteOffset 20 + 1 x 12 bytes exceeds");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"POSITION\":{\"byteOffset\":0,\"componentType\":\"DOUBLE\"}}", p,
               sizeof p, NULL, "componentType DOUBLE not allowed");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"POSITION_QUANTIZED\":{\"byteOffset\":0}}", p, sizeof p, NULL,
               "needs QUANTIZED_VOLUME_OFFSET");
    check_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"POSITION\":{\"byteOffset\":0},\"NORMAL_UP\":{\"byteOffset\":0}}", p,
               sizeof p, NULL, "NORMAL_UP and NORMAL_RIGHT must come together");
    check_tile("pnts", "{\"POINTS_LENGTH\":300000000,\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL, "absurd");
    check_tile("pnts", "{\"POINTS_LENGTH\":3,\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL,
               "byteOffset 0 + 3 x 12 bytes exceeds the binary body of 24 bytes");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"POSITION\":{\"byteOffset\":1.5}}", p, sizeof p, NULL,
               "byteOffset missing or not a non-negative integer");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"POSITION\":{\"byteOffset\":0},\"RGB\":{\"byteOffset\":0,\"componentType\":\"BOGUS\"}}",
               p, sizeof p, NULL, "unknown componentType");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"POSITION\":{\"byteOffset\":0},\"BATCH_ID\":{\"byteOffset\":0}}", p,
               sizeof p, NULL, "BATCH_ID but no BATCH_LENGTH");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"CONSTANT_RGBA\":[0,0,0,300],\"POSITION\":{\"byteOffset\":0}}", p,
               sizeof p, NULL, "CONSTANT_RGBA[3] is not in 0..255");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"extensions\":{\"3DTILES_draco_point_compression\":{\"properties\":"
               "{\"POSITION\":0},\"byteOffset\":0,\"byteLength\":24}}}", p, sizeof p, NULL, "Draco stream at byte");
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"extensions\":{\"3DTILES_draco_point_compression\":{\"properties\":"
               "{\"POSITION\":0},\"byteOffset\":8,\"byteLength\":24}}}", p, sizeof p, NULL,
               "byteOffset 8 + byteLength 24 exceeds");
    float nan_pos[3] = {NAN, 0, 0};
    check_tile("pnts", "{\"POINTS_LENGTH\":1,\"POSITION\":{\"byteOffset\":0}}", nan_pos, sizeof nan_pos, NULL,
               "non-finite position");
}

CT_TEST(bad_batch_tables_are_skipped)
{
    size_t glb_n, n;
    uint8_t *glb = tb_read_file(ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"), &glb_n);
    const char *bad[] = {
        "{\"height\":[1,2]}",                                                         /* shorter than BATCH_LENGTH */
        "{\"height\":{\"byteOffset\":0,\"componentType\":\"FLOAT\",\"type\":\"SCALAR\"}}", /* no binary body */
        "{\"height\":{\"byteOffset\":0,\"componentType\":\"FLOAT\"}}",                 /* no type */
        "{\"extensions\":{\"3DTILES_batch_table_hierarchy\":{\"classes\":[],\"instancesLength\":4000000000}}}",
        "{\"extensions\":{\"3DTILES_batch_table_hierarchy\":{\"classes\":[{\"length\":1,\"instances\":{}}],"
        "\"instancesLength\":1,\"classIds\":[5]}}}",
        "{\"extensions\":{\"3DTILES_batch_table_hierarchy\":{\"classes\":[{\"length\":3,\"instances\":{}}],"
        "\"instancesLength\":3,\"classIds\":[0,0,0],\"parentIds\":[1,2,9]}}}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *d = tb_tile("b3dm", "{\"BATCH_LENGTH\":3}", NULL, 0, bad[i], NULL, 0, glb, glb_n, 0, &n);
        ct_error err;
        uint32_t warnings = 0;
        CT_CHECK(try_load(d, n, &err, &warnings) == CT_OK);
        if (warnings != 1)
            fprintf(stderr, "batch table %s: %u warnings\n", bad[i], warnings);
        CT_CHECK_EQ_INT(warnings, 1);
        free(d);
    }
    /* A hierarchy whose parents form a cycle still answers (bounded walk). */
    const char *cycle = "{\"extensions\":{\"3DTILES_batch_table_hierarchy\":{\"classes\":[{\"name\":\"A\",\"length\":2,"
                        "\"instances\":{\"v\":[1,2]}}],\"instancesLength\":2,\"classIds\":[0,0],\"parentIds\":[1,0]}}}";
    uint8_t *d = tb_tile("b3dm", "{\"BATCH_LENGTH\":2}", NULL, 0, cycle, NULL, 0, glb, glb_n, 0, &n);
    ct_tile_content_options o = {.skip_images = true};
    ct_tile_content *c = NULL;
    ct_error err;
    CT_REQUIRE(ct_tile_content_load_memory(d, n, &o, &c, &err) == CT_OK);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 0);
    CT_CHECK(f && cJSON_GetObjectItemCaseSensitive(f, "v")->valuedouble == 1);
    cJSON_Delete(f);
    ct_tile_content_destroy(c);
    free(d);
    free(glb);
}

CT_TEST(bad_magic_version_and_nesting)
{
    ct_error err;
    CT_CHECK(try_load((const uint8_t *)"abcdefghijklmnopqrstuvwxyz0123456789", 36, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "unknown tile magic \"abcd\" at byte 0") != NULL);
    CT_CHECK(try_load(NULL, 0, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(try_load((const uint8_t *)"{\"foo\":1}", 9, &err, NULL) == CT_ERR_INPUT);
    size_t n;
    uint8_t *d = tb_read_file(ct_test_data(LEGACY "PointCloud/PointCloudRGB/pointCloudRGB.pnts"), &n);
    tb_set_u32(d + 4, 2);
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "pnts version 2 at byte 4") != NULL);
    free(d);

    /* A cmpt with an unknown inner magic. */
    uint8_t junk[16] = "junk\1\0\0\0\20\0\0\0";
    uint8_t *tiles[1] = {junk};
    size_t sizes[1] = {16};
    d = tb_cmpt(1, tiles, sizes, &n);
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "unknown tile magic \"junk\" at byte 16") != NULL);
    free(d);

    /* Nesting bomb: 10000 cmpt headers inside each other. */
    int depth = 10000;
    n = (size_t)depth * 16;
    d = calloc(1, n);
    for (int i = 0; i < depth; i++) {
        uint8_t *h = d + 16 * (size_t)i;
        memcpy(h, "cmpt", 4);
        tb_set_u32(h + 4, 1);
        tb_set_u32(h + 8, (uint32_t)(n - 16 * (size_t)i));
        tb_set_u32(h + 12, i + 1 < depth ? 1 : 0);
    }
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "nested deeper than 8 levels") != NULL);
    free(d);
}

CT_TEST(draco_points_length_checked_before_allocating)
{
    /* POINTS_LENGTH 1000 -> 2e8 (same bytes): with Draco nothing else bounds the
     * count, so it must be checked against the stream before 2.4 GB are allocated
     * (found by fuzz_pnts; ASan would abort on such an allocation). */
    size_t n;
    uint8_t *d = tb_read_file(ct_test_data(LEGACY "PointCloud/PointCloudDraco/pointCloudDraco.pnts"), &n);
    CT_REQUIRE(d);
    char *at = memmem(d, n, "\"POINTS_LENGTH\":1000", 19);
    CT_REQUIRE(at);
    memcpy(at + 16, "2e8 ", 4);
    ct_error err;
    CT_CHECK(try_load(d, n, &err, NULL) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "has 1000 points, POINTS_LENGTH is 200000000") != NULL);
    free(d);
}

CT_TEST(external_uri_rules)
{
    size_t n;
    const char *uris[] = {"http://example.com/a.glb", "/etc/passwd", "missing.glb", "   "};
    for (size_t i = 0; i < 4; i++) {
        float p[3] = {0};
        uint8_t *d = tb_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL,
                             NULL, 0, uris[i], strlen(uris[i]), 0, &n);
        ct_tile_content_options o = {.base_dir = ct_test_data(LEGACY "Instanced/InstancedGltfExternal"), .uri = "t"};
        ct_tile_content *c = NULL;
        ct_error err = {0};
        CT_CHECK(ct_tile_content_load_memory(d, n, &o, &c, &err) != CT_OK && c == NULL);
        CT_CHECK(err.msg[0] != 0);
        free(d);
    }
}

CT_TEST_MAIN(CT_CASE(truncations_fail_cleanly), CT_CASE(absurd_header_fields), CT_CASE(bad_feature_tables),
             CT_CASE(bad_batch_tables_are_skipped), CT_CASE(bad_magic_version_and_nesting),
             CT_CASE(draco_points_length_checked_before_allocating), CT_CASE(external_uri_rules))
