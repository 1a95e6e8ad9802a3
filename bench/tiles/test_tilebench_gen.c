/* Smoke test of the bench/tiles generator on a small size: 3 levels (1 + 4 +
 * 16 = 21 tiles, counted by hand), geometric error halving per level, a leaf
 * decoded by ct_tile_content (2 * 8 * 8 triangles, a 32 x 32 JPEG) lying
 * inside its bounding box, `citytwin tiles validate` without errors or
 * warnings, `tiles info` counts, and the cache on a second run. */
#include "ct_test.h"
#include "tilegen.h"

#include "citytwin/ct_tile_content.h"

#include <cjson/cJSON.h>
#include <sys/wait.h>

static int run(const char *args, char **out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin %s 2>/dev/null", CT_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    if (buf)
        buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static tilegen_desc small(const char *dir)
{
    return (tilegen_desc){.dir = dir, .levels = 3, .grid = 8, .texture = 32, .size_m = 512, .seed = 7};
}

CT_TEST(generates_small_quadtree)
{
    const char *dir = ct_test_tmp_path("gen");
    tilegen_desc d = small(dir);
    tilegen_result r;
    ct_error err = {0};
    CT_REQUIRE(tilegen_write(&d, &r, &err) == CT_OK);
    CT_CHECK(!r.cached);
    CT_CHECK_EQ_INT((int)r.tiles, 21);
    CT_CHECK_EQ_INT((int)r.triangles, 21 * 128);

    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    CT_REQUIRE(ct_file_read(path, 0, &data, &size, &err) == CT_OK);
    cJSON *ts = cJSON_Parse((const char *)data);
    free(data);
    CT_REQUIRE(ts);
    const cJSON *root = get(ts, "root");
    /* twice the mesh spacing: 2 * 512 / 8 = 128 at the root, halving, 0 at the leaves */
    CT_CHECK_NEAR(get(root, "geometricError")->valuedouble, 128, 1e-9);
    const cJSON *c1 = cJSON_GetArrayItem(get(root, "children"), 3);
    CT_CHECK_NEAR(get(c1, "geometricError")->valuedouble, 64, 1e-9);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(get(root, "children")), 4);
    const cJSON *leaf = cJSON_GetArrayItem(get(c1, "children"), 0);
    CT_REQUIRE(leaf);
    CT_CHECK_NEAR(get(leaf, "geometricError")->valuedouble, 0, 0);
    CT_CHECK(get(leaf, "children") == NULL);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(get(root, "transform")), 16);

    /* child 3 of the root is the north-east quarter; its first child the SW
     * leaf of that: x, y in [0, 128] m from the centre, 128 m wide */
    const char *uri = get(get(leaf, "content"), "uri")->valuestring;
    CT_CHECK(!strcmp(uri, "tiles/2/2/2.b3dm"));
    const cJSON *box = get(get(leaf, "boundingVolume"), "box");
    double bx[12];
    for (int i = 0; i < 12; i++)
        bx[i] = cJSON_GetArrayItem(box, i)->valuedouble;
    CT_CHECK_NEAR(bx[0], 64, 1e-9);
    CT_CHECK_NEAR(bx[1], 64, 1e-9);
    CT_CHECK_NEAR(bx[3], 64, 1e-9);
    CT_CHECK_NEAR(bx[7], 64, 1e-9);

    char tile[1024];
    snprintf(tile, sizeof tile, "%s/%s", dir, uri);
    ct_tile_content *c = NULL;
    CT_REQUIRE(ct_tile_content_load_file(tile, NULL, &c, &err) == CT_OK);
    CT_CHECK_EQ_INT(c->format, CT_TILE_FORMAT_B3DM);
    CT_CHECK_EQ_INT((int)c->triangle_count, 2 * 8 * 8);
    CT_CHECK_EQ_INT((int)c->vertex_count, 9 * 9);
    CT_REQUIRE(c->model_count == 1 && c->models[0].gltf);
    const ct_gltf *g = c->models[0].gltf;
    CT_REQUIRE(g->image_count == 1);
    CT_CHECK(!strcmp(g->images[0].mime_type, "image/jpeg"));
    CT_CHECK_EQ_INT(g->images[0].width, 32);
    CT_CHECK(g->images[0].pixels != NULL);
    CT_CHECK(c->models[0].has_rtc_center);
    /* the decoded mesh (y-up turned z-up, RTC applied) lies in the leaf's box */
    for (int k = 0; k < 3; k++) {
        double half = k == 0 ? bx[3] : k == 1 ? bx[7] : bx[11];
        CT_CHECK(c->bounds_min[k] >= bx[k] - half - 1e-3);
        CT_CHECK(c->bounds_max[k] <= bx[k] + half + 1e-3);
    }
    CT_CHECK_NEAR(c->bounds_min[0], 0, 1e-3);
    CT_CHECK_NEAR(c->bounds_max[1], 128, 1e-3);
    ct_tile_content_destroy(c);
    cJSON_Delete(ts);

    /* a second run with the same parameters is served from the cache */
    CT_REQUIRE(tilegen_write(&d, &r, &err) == CT_OK);
    CT_CHECK(r.cached);
}

CT_TEST(validates_with_citytwin)
{
    const char *dir = ct_test_tmp_path("gen");
    tilegen_desc d = small(dir);
    tilegen_result r;
    ct_error err = {0};
    CT_REQUIRE(tilegen_write(&d, &r, &err) == CT_OK);
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "tiles validate '%s/tileset.json' --json", dir);
    CT_CHECK_EQ_INT(run(args, &out), 0);
    cJSON *j = cJSON_Parse(out ? out : "");
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(get(j, "errors")), 0);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(get(j, "warnings")), 0);
    cJSON_Delete(j);
    free(out);
    snprintf(args, sizeof args, "tiles info '%s/tileset.json' --json", dir);
    CT_CHECK_EQ_INT(run(args, &out), 0);
    j = cJSON_Parse(out ? out : "");
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(get(j, "tiles")->valueint, 21);
    CT_CHECK_EQ_INT(get(j, "max_depth")->valueint, 2);
    CT_CHECK_EQ_INT(get(get(j, "contents"), "b3dm")->valueint, 21);
    /* around 113.08 E, 22.58 N */
    const cJSON *b = get(j, "bounds_lonlat");
    CT_CHECK_NEAR(cJSON_GetArrayItem(b, 0)->valuedouble, 113.08, 0.01);
    CT_CHECK_NEAR(cJSON_GetArrayItem(b, 1)->valuedouble, 22.58, 0.01);
    cJSON_Delete(j);
    free(out);
}

CT_TEST_MAIN(CT_CASE(generates_small_quadtree), CT_CASE(validates_with_citytwin))
