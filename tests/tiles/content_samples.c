/* The b3dm / i3dm / pnts inside the other sample folders decode, with counts
 * taken independently from the files themselves: triangles from the embedded
 * GLB's JSON accessors (parsed here with cJSON), points and instances from
 * the feature table JSON (glTF 1.0 bodies counted over their dictionaries,
 * since the reader upgrades them to 2.0). */
#include "ct_test.h"

#include "content_build.h"

#include "citytwin/ct_tile_content.h"

#include <dirent.h>

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static uint64_t node_triangles(const cJSON *doc, int n, int depth)
{
    const cJSON *node = cJSON_GetArrayItem(item(doc, "nodes"), n);
    if (!node || depth > 64)
        return 0;
    uint64_t t = 0;
    if (cJSON_IsNumber(item(node, "mesh"))) {
        const cJSON *p;
        cJSON_ArrayForEach(p, item(cJSON_GetArrayItem(item(doc, "meshes"), item(node, "mesh")->valueint), "primitives"))
        {
            int mode = item(p, "mode") ? item(p, "mode")->valueint : 4;
            const cJSON *acc = item(doc, "accessors");
            int ai = item(p, "indices") ? item(p, "indices")->valueint : item(item(p, "attributes"), "POSITION")->valueint;
            uint64_t k = (uint64_t)item(cJSON_GetArrayItem(acc, ai), "count")->valuedouble;
            if (mode == 4)
                t += k / 3;
            else if (mode == 5 || mode == 6)
                t += k >= 3 ? k - 2 : 0;
        }
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, item(node, "children"))
        t += node_triangles(doc, c->valueint, depth + 1);
    return t;
}

/* glTF 1.0: the same count over dictionaries keyed by id (node.meshes lists). */
static uint64_t node_triangles_v1(const cJSON *doc, const char *id, int depth)
{
    const cJSON *node = item(item(doc, "nodes"), id);
    if (!node || depth > 64)
        return 0;
    uint64_t t = 0;
    const cJSON *m, *p, *c;
    cJSON_ArrayForEach(m, item(node, "meshes"))
        cJSON_ArrayForEach(p, item(item(item(doc, "meshes"), m->valuestring), "primitives"))
        {
            int mode = item(p, "mode") ? item(p, "mode")->valueint : 4;
            const char *ai = item(p, "indices") ? item(p, "indices")->valuestring
                                                : item(item(p, "attributes"), "POSITION")->valuestring;
            uint64_t k = (uint64_t)item(item(item(doc, "accessors"), ai), "count")->valuedouble;
            t += mode == 4 ? k / 3 : (mode == 5 || mode == 6) && k >= 3 ? k - 2 : 0;
        }
    cJSON_ArrayForEach(c, item(node, "children"))
        t += node_triangles_v1(doc, c->valuestring, depth + 1);
    return t;
}

/* Triangles drawn by the default scene of the GLB at d (JSON chunk only);
 * glTF 1.0 binary (KHR_binary_glTF: 20-byte header, contentLength at 12) too. */
static int64_t glb_triangles(const uint8_t *d, size_t n, int *version)
{
    *version = (int)(d[4] | d[5] << 8);
    if ((*version != 1 && *version != 2) || n < 20)
        return -1;
    uint32_t len = d[12] | d[13] << 8 | d[14] << 16 | (uint32_t)d[15] << 24;
    cJSON *doc = cJSON_ParseWithLength((const char *)d + 20, len);
    if (!doc)
        return -1;
    if (*version == 1) {
        uint64_t t = 0;
        const cJSON *r;
        cJSON_ArrayForEach(r, item(item(item(doc, "scenes"), item(doc, "scene")->valuestring), "nodes"))
            t += node_triangles_v1(doc, r->valuestring, 0);
        cJSON_Delete(doc);
        return (int64_t)t;
    }
    const cJSON *scene = cJSON_GetArrayItem(item(doc, "scenes"), item(doc, "scene") ? item(doc, "scene")->valueint : 0);
    uint64_t t = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, item(scene, "nodes"))
        t += node_triangles(doc, r->valueint, 0);
    cJSON_Delete(doc);
    return (int64_t)t;
}

static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int ok_count, v1_count;

static void check_file(const char *path)
{
    size_t n;
    uint8_t *d = tb_read_file(path, &n);
    if (!d || n < 28)
        return;
    bool i3dm = !memcmp(d, "i3dm", 4), pnts = !memcmp(d, "pnts", 4);
    size_t hs = i3dm ? 32 : 28;
    uint32_t fj = u32(d + 12), fb = u32(d + 16), bj = u32(d + 20), bb = u32(d + 24);
    cJSON *ft = cJSON_ParseWithLength((const char *)d + hs, fj);
    int64_t expect_tri = 0;
    int version = 2;
    uint64_t mult = 1;
    if (i3dm)
        mult = (uint64_t)item(ft, "INSTANCES_LENGTH")->valuedouble;
    if (!pnts) {
        size_t body = hs + fj + fb + bj + bb;
        if (i3dm && u32(d + 28) == 0) {
            char uri[256] = {0}, full[8192];
            memcpy(uri, d + body, n - body < 255 ? n - body : 255);
            for (char *s = uri + strlen(uri); s > uri && (s[-1] == ' ');)
                *--s = 0;
            snprintf(full, sizeof full, "%.*s/%s", (int)(strrchr(path, '/') - path), path, uri);
            size_t gn;
            uint8_t *g = tb_read_file(full, &gn);
            expect_tri = g ? glb_triangles(g, gn, &version) : -1;
            free(g);
        } else {
            expect_tri = glb_triangles(d + body, n - body, &version);
        }
    }
    ct_tile_content_options o = {.skip_images = true};
    ct_tile_content *c = NULL;
    ct_error err = {0};
    ct_status st = ct_tile_content_load_file(path, &o, &c, &err);
    if (version == 1)
        v1_count++; /* upgraded to glTF 2.0 on load: the counts must still match */
    {
        if (st)
            fprintf(stderr, "%s: %s\n", path, err.msg);
        CT_REQUIRE(st == CT_OK);
        if (pnts)
            CT_CHECK_EQ_INT(c->point_count, (uint64_t)item(ft, "POINTS_LENGTH")->valuedouble);
        else
            CT_CHECK_EQ_INT(c->triangle_count, (uint64_t)expect_tri * mult);
        CT_CHECK_EQ_INT(c->instance_count, i3dm ? mult : 0);
        ok_count++;
    }
    ct_tile_content_destroy(c);
    cJSON_Delete(ft);
    free(d);
}

static void walk(const char *dir, int depth)
{
    DIR *dd = opendir(dir);
    if (!dd || depth > 6)
        return;
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.')
            continue;
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        const char *x = strrchr(e->d_name, '.');
        if (x && (!strcmp(x, ".b3dm") || !strcmp(x, ".i3dm") || !strcmp(x, ".pnts")))
            check_file(p);
        else if (!x)
            walk(p, depth + 1);
    }
    closedir(dd);
}

CT_TEST(sample_folders_decode)
{
    const char *dirs[] = {"3dtiles/3d-tiles-samples/1.0/TilesetWithRequestVolume",
                          "3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards",
                          "3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD", "3dtiles/3d-tiles-tools/Tileset",
                          "3dtiles/3d-tiles-tools/TilesetOfTilesets", "3dtiles/3d-tiles-validator/ImplicitTileMetadata",
                          "3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char d[4096];
        snprintf(d, sizeof d, "%s", ct_test_data(dirs[i]));
        walk(d, 0);
    }
    fprintf(stderr, "  %d decoded with matching counts, %d of them glTF 1.0 bodies\n", ok_count, v1_count);
    /* every file decodes: 307 with glTF 2.0 bodies (KHR_techniques_webgl included), 10 with glTF 1.0 */
    CT_CHECK(ok_count >= 317);
    CT_CHECK(v1_count >= 10);
}

CT_TEST(deliberately_broken_sample)
{
    /* 3d-tiles-validator's TilesetOfTilesetsWithError: ll.b3dm claims more bytes than it has. */
    ct_tile_content *c = NULL;
    ct_error err = {0};
    CT_CHECK(ct_tile_content_load_file(ct_test_data("3dtiles/3d-tiles-validator/TilesetOfTilesetsWithError/tileset3/ll.b3dm"),
                                       NULL, &c, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "ll.b3dm: b3dm byteLength 9716 at byte 8 exceeds file size 9684") != NULL);
    CT_CHECK(c == NULL);
}

CT_TEST_MAIN(CT_CASE(sample_folders_decode), CT_CASE(deliberately_broken_sample))
