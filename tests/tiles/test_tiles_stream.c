/* Streaming through the worker pool: the photogrammetry sample loaded
 * completely (timed), an implicit tileset, a missing content reported and
 * retried while its parent stays drawn, gzip-encoded files, the sandbox and
 * external cycles at run time, placement in a scene frame. */
#include "ct_test.h"
#include "tiles_test_scene.h"

#include <cjson/cJSON.h>
#include <zlib.h>

static int count_leaves(const cJSON *tile)
{
    const cJSON *ch = cJSON_GetObjectItem(tile, "children");
    int n = cJSON_GetArraySize(ch), leaves = 0;
    if (n == 0)
        return 1;
    for (int i = 0; i < n; i++)
        leaves += count_leaves(cJSON_GetArrayItem(ch, i));
    return leaves;
}

static void photogrammetry(bool skip_levels)
{
    const char *path = ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json");
    uint8_t *data = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_file_read(path, 0, &data, &n, NULL) == CT_OK);
    cJSON *doc = cJSON_Parse((const char *)data);
    free(data);
    int leaves = count_leaves(cJSON_GetObjectItem(doc, "root"));
    cJSON_Delete(doc);
    ct_tileset *ts = NULL;
    ct_error err = {0};
    ct_tileset_desc d = {.uri = path, .skip_levels = skip_levels, .max_sse = 1e-6};
    double t0 = ct_time_now();
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    /* the root box is centred at (216, 32, 91), 323 x 64 x 242 m: look at it from 2 km, no culling */
    ct_tileset_view v = tt_view_down(216, 32, 2000, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset_frame fr;
    double t_first = -1;
    int i;
    for (i = 0; i < 20000; i++) {
        ct_tileset_update(ts, &v, &fr, NULL);
        if (t_first < 0 && fr.n_draws > 0)
            t_first = ct_time_now() - t0;
        if (fr.stats.all_loaded)
            break;
        tt_sleep_ms(1);
    }
    double t_all = ct_time_now() - t0;
    CT_CHECK(fr.stats.all_loaded);
    CT_CHECK_EQ_INT(fr.n_draws, leaves); /* every leaf, nothing else (REPLACE) */
    CT_CHECK_EQ_INT(fr.stats.tiles_failed, 0);
    fprintf(stderr, "  photogrammetry (%s): %d leaves of 293 tiles, first frame %.3f s, all loaded %.3f s, %llu loads, "
                    "%zu bytes, %d frames\n",
            skip_levels ? "skip levels" : "base", leaves, t_first, t_all, (unsigned long long)fr.stats.loads_total,
            fr.stats.bytes_used, i);
    ct_tileset_destroy(ts);
}

CT_TEST(photogrammetry_all_tiles) { photogrammetry(false); }
CT_TEST(photogrammetry_skip_levels) { photogrammetry(true); }

CT_TEST(implicit_quadtree_streams)
{
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitQuadtree/tileset.json")};
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    /* unit square; from 2 m the level-5 tiles (error 1 m) still refine... all 32 leaves have content (ADD) */
    ct_tileset_view v = tt_view_down(0.5, 0.5, 2, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset_frame fr;
    CT_CHECK(tt_settle(ts, &v, &fr, 5000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 32);
    ct_tileset_destroy(ts);
}

CT_TEST(missing_content_retried_parent_stays)
{
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json"),
                         .retry_base_s = 0.02};
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    const ct_tile *root = ct_tileset_root(ts);
    /* stand inside the root box: infinite SSE, every level wanted */
    const ct_tile *t = root;
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    v.viewport_height = 1000;
    v.fovy = M_PI / 3;
    ct_tileset_frame fr;
    uint64_t failed_events = 0;
    for (int i = 0; i < 3000; i++) {
        v.position = t->box_valid ? t->box.center : v.position;
        ct_tileset_update(ts, &v, &fr, NULL);
        failed_events += (uint64_t)fr.n_failed;
        if (fr.stats.retries_total >= 3)
            break;
        tt_sleep_ms(2);
    }
    CT_CHECK(failed_events >= 2);
    CT_CHECK(fr.stats.retries_total >= 3);
    CT_CHECK(fr.stats.failures_total >= 3);
    /* dragon_medium (children[0]) stays drawn in place of its missing child */
    CT_REQUIRE(root->n_children == 1);
    const ct_tile *medium = &root->children[0];
    CT_CHECK_EQ_INT(fr.n_draws, 1);
    CT_CHECK(fr.n_draws == 1 && fr.draws[0].tile == medium);
    const ct_tile *high = &medium->children[0];
    CT_CHECK(high->contents[0].error && strstr(high->contents[0].error, "dragon_high.b3dm"));
    ct_log_set_level((ct_log_level)lvl);
    ct_tileset_destroy(ts);
}

CT_TEST(gzip_files_and_runtime_errors)
{
    char *dir = tt_tempdir("gz");
    CT_REQUIRE(dir);
    uint8_t *glb;
    size_t n = tt_make_glb(&glb, 1000);
    char p[1024];
    snprintf(p, sizeof p, "%s/a.glb", dir);
    gzFile gz = gzopen(p, "wb");
    CT_REQUIRE(gz);
    gzwrite(gz, glb, (unsigned)n);
    gzclose(gz);
    const char *box = "{\"box\":[0,0,0,10,0,0,0,10,0,0,0,10]}";
    char json[4096];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":10,\"root\":{\"boundingVolume\":%s,"
             "\"geometricError\":10,\"refine\":\"ADD\",\"content\":{\"uri\":\"a.glb\"},\"children\":["
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"../escape.glb\"}},"
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"tileset.json\"}}]}}",
             box, box, box);
    tt_write(dir, "tileset.json", json);
    snprintf(p, sizeof p, "%s/tileset.json", dir);
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = p, .workers = 1, .retry_base_s = 100};
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_view v = tt_view_down(0, 0, 5, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset_frame fr;
    for (int i = 0; i < 2000; i++) {
        ct_tileset_update(ts, &v, &fr, NULL);
        if (fr.stats.tiles_failed == 2 && fr.stats.all_loaded)
            break;
        tt_sleep_ms(1);
    }
    CT_CHECK_EQ_INT(fr.stats.tiles_failed, 2);
    CT_REQUIRE(fr.n_draws == 1);
    const ct_tileset_bytes *b = fr.draws[0].decoded;
    CT_CHECK(b->size == n && !memcmp(b->data, glb, n)); /* inflated */
    const ct_tile *root = ct_tileset_root(ts);
    CT_CHECK(strstr(root->children[0].contents[0].error, "outside the tileset's folder") != NULL);
    CT_CHECK(strstr(root->children[1].contents[0].error, "cycle") != NULL);
    ct_tileset_destroy(ts);
    ct_log_set_level((ct_log_level)lvl);
    free(glb);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(placement_in_scene_frame)
{
    char *dir = tt_tempdir("place");
    CT_REQUIRE(dir);
    tt_gen g = {.dir = dir, .levels = 2, .size = 256, .payload = 16, .refine = "ADD"};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    /* a tileset far from the scene origin: scene = tileset + (6378137, 1e5, -3.5) */
    ct_tileset_desc d = {.uri = path, .workers = 1};
    ct_dmat4_identity(d.scene_from_tileset);
    d.scene_from_tileset[12] = 6378137.0;
    d.scene_from_tileset[13] = 1e5;
    d.scene_from_tileset[14] = -3.5;
    ct_tileset *ts = NULL;
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    /* the lower-left quarter seen from the scene frame */
    ct_tileset_view v = tt_view_down(6378137.0 + 40, 1e5 + 40, -3.5 + 40, 1000);
    ct_tileset_frame fr;
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 2); /* root + child 0, as without placement */
    CT_CHECK_NEAR(fr.draws[0].transform[12], 6378137.0, 0);
    CT_CHECK_NEAR(fr.draws[0].transform[13], 1e5, 0);
    CT_CHECK_NEAR(fr.draws[0].transform[14], -3.5, 0);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST_MAIN(CT_CASE(photogrammetry_all_tiles), CT_CASE(photogrammetry_skip_levels), CT_CASE(implicit_quadtree_streams),
             CT_CASE(missing_content_retried_parent_stays), CT_CASE(gzip_files_and_runtime_errors),
             CT_CASE(placement_in_scene_frame))
