/* Implicit tiling subtrees against 3d-tiles-validator's valid and invalid
 * samples (subtrees-valid-and-invalid: file names say which is which; the
 * implicit tiling they belong to is validSubtreeImplicitTiling.json.input). */
#include "ct_test.h"

#include "citytwin/ct_tileset.h"

#include <cjson/cJSON.h>
#include <dirent.h>

static const char *DIR_REL = "3dtiles/3d-tiles-validator/subtrees-valid-and-invalid";

static ct_status parse_file(const char *dir, const char *name, const ct_implicit_desc *imp, ct_subtree **st,
                            ct_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    uint8_t *data = NULL;
    size_t n = 0;
    ct_status s = ct_file_read(path, 0, &data, &n, err);
    if (!s)
        s = ct_subtree_parse(data, n, imp, path, dir, st, err);
    free(data);
    return s;
}

static ct_implicit_desc read_tiling(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/validSubtreeImplicitTiling.json.input", dir);
    uint8_t *data = NULL;
    size_t n = 0;
    ct_implicit_desc imp = {0, 0};
    if (ct_file_read(path, 0, &data, &n, NULL))
        return imp;
    cJSON *j = cJSON_Parse((const char *)data);
    free(data);
    imp.octree = !strcmp(cJSON_GetObjectItem(j, "subdivisionScheme")->valuestring, "OCTREE");
    imp.subtree_levels = cJSON_GetObjectItem(j, "subtreeLevels")->valueint;
    cJSON_Delete(j);
    return imp;
}

CT_TEST(validator_samples)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", ct_test_data(DIR_REL));
    ct_implicit_desc imp = read_tiling(dir);
    CT_REQUIRE(imp.subtree_levels == 3 && imp.octree == 0);
    DIR *d = opendir(dir);
    CT_REQUIRE(d);
    struct dirent *e;
    int valid = 0, invalid = 0;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        const char *ext = strrchr(name, '.');
        if (!ext || (strcmp(ext, ".json") && strcmp(ext, ".subtree")))
            continue;
        bool should_pass = !strncmp(name, "valid", 5) || !strcmp(name, "binarySubtreeValid.subtree");
        ct_subtree *st = NULL;
        ct_error err = {0};
        ct_status s = parse_file(dir, name, &imp, &st, &err);
        if (should_pass) {
            valid++;
            if (s)
                fprintf(stderr, "valid %s rejected: %s\n", name, err.msg);
            CT_CHECK(s == CT_OK);
        } else {
            invalid++;
            if (!s)
                fprintf(stderr, "invalid %s accepted\n", name);
            CT_CHECK(s == CT_ERR_INPUT);
            CT_CHECK(strlen(err.msg) > 10);
            CT_CHECK(strstr(err.msg, name) != NULL); /* names the file */
            fprintf(stderr, "  %s\n", err.msg);
        }
        ct_subtree_destroy(st);
    }
    closedir(d);
    CT_CHECK_EQ_INT(valid, 5);
    CT_CHECK(invalid >= 38);
}

CT_TEST(valid_subtree_availability)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", ct_test_data(DIR_REL));
    ct_implicit_desc imp = {0, 3};
    ct_subtree *st = NULL;
    ct_error err = {0};
    CT_REQUIRE(parse_file(dir, "validSubtree.json", &imp, &st, &err) == CT_OK);
    /* validBuffer.bin bytes 0..2 = 0d 32 01: bits 0,2,3 | 9,12,13 | 16 (LSB first) */
    CT_CHECK(ct_subtree_tile_available(st, 0, 0));
    CT_CHECK(!ct_subtree_tile_available(st, 1, 0));
    CT_CHECK(ct_subtree_tile_available(st, 1, 1));  /* bit 2 */
    CT_CHECK(ct_subtree_tile_available(st, 1, 2));  /* bit 3 */
    CT_CHECK(!ct_subtree_tile_available(st, 1, 3)); /* bit 4 */
    CT_CHECK(ct_subtree_tile_available(st, 2, 4));  /* bit 5 + 4 = 9 */
    CT_CHECK(ct_subtree_tile_available(st, 2, 11)); /* bit 16 */
    CT_CHECK(!ct_subtree_tile_available(st, 2, 12));
    CT_CHECK(!ct_subtree_tile_available(st, 3, 0)); /* beyond the subtree */
    /* bytes 8..15 = 00 00 06 60 06 60 00 00: child bits 17,18,29,30,33,34,45,46 */
    CT_CHECK(ct_subtree_child_available(st, 17));
    CT_CHECK(ct_subtree_child_available(st, 46));
    CT_CHECK(!ct_subtree_child_available(st, 16));
    CT_CHECK(!ct_subtree_child_available(st, 64));
    CT_CHECK_EQ_INT(ct_subtree_content_count(st), 1);
    CT_CHECK(!ct_subtree_content_available(st, 0, 0, 0)); /* constant 0 */
    ct_subtree_destroy(st);
    /* the binary form of the same subtree answers the same */
    CT_REQUIRE(parse_file(dir, "binarySubtreeValid.subtree", &imp, &st, &err) == CT_OK);
    CT_CHECK(ct_subtree_tile_available(st, 1, 1));
    CT_CHECK(ct_subtree_child_available(st, 17));
    ct_subtree_destroy(st);
}

CT_TEST(morton_and_absurd_inputs)
{
    ct_implicit_desc imp = {0, 3};
    ct_subtree *st = NULL;
    ct_error err = {0};
    /* constant availability for a huge subtree needs no memory */
    ct_implicit_desc big = {1, 20};
    const char *j = "{\"tileAvailability\":{\"constant\":1},\"childSubtreeAvailability\":{\"constant\":1}}";
    CT_REQUIRE(ct_subtree_parse((const uint8_t *)j, strlen(j), &big, NULL, NULL, &st, &err) == CT_OK);
    CT_CHECK(ct_subtree_tile_available(st, 19, 12345));
    ct_subtree_destroy(st);
    st = NULL;
    /* header claiming more bytes than the file */
    uint8_t hdr[32] = {'s', 'u', 'b', 't', 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    CT_CHECK(ct_subtree_parse(hdr, sizeof hdr, &imp, NULL, NULL, &st, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "byte") != NULL);
    CT_CHECK(ct_subtree_parse(hdr, 5, &imp, NULL, NULL, &st, &err) == CT_ERR_INPUT);
    CT_CHECK(st == NULL);
}

CT_TEST_MAIN(CT_CASE(validator_samples), CT_CASE(valid_subtree_availability), CT_CASE(morton_and_absurd_inputs))
