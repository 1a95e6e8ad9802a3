/* Memory budget: a scripted camera flight low over a generated 1365-tile
 * quadtree (levels 2.. in external tilesets) never holds more than the budget
 * + 10 %, releases external tilesets' tile nodes, and brings content back
 * when the camera returns. */
#include "ct_test.h"
#include "tiles_test_scene.h"

/* pretend GPU upload: reports as many GPU bytes as the content has */
static ct_status fake_upload(void *user, const ct_tile *tile, int index, void *decoded, void **gpu, size_t *gpu_bytes,
                             ct_error *err)
{
    const ct_tileset_bytes *b = decoded;
    *gpu = malloc(8);
    *gpu_bytes = b->size;
    (*(int *)user)++;
    return CT_OK;
}

static void fake_unload(void *user, void *gpu) { free(gpu); }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int drawn_ids(const ct_tileset_frame *fr, uint64_t *ids)
{
    for (int i = 0; i < fr->n_draws; i++)
        ids[i] = fr->draws[i].tile_id;
    qsort(ids, (size_t)fr->n_draws, sizeof *ids, cmp_u64);
    return fr->n_draws;
}

CT_TEST(flight_stays_within_budget)
{
    char *dir = tt_tempdir("budget");
    CT_REQUIRE(dir);
    /* 6 levels: 1+4+16+64+256+1024 = 1365 tiles of ~8 KiB, over 1024 m */
    tt_gen g = {.dir = dir, .levels = 6, .size = 1024, .payload = 8192, .ext_level = 2};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    int uploads = 0;
    const size_t budget = 1200 * 1024;
    ct_tileset *ts = NULL;
    ct_error err = {0};
    ct_tileset_desc d = {.uri = path, .workers = 2, .memory_budget = budget,
                         .callbacks = {.user = &uploads, .upload = fake_upload, .unload = fake_unload}};
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    ct_tileset_frame fr;
    /* start low over one corner */
    ct_tileset_view v = tt_view_down(64, 64, 40, 800);
    CT_CHECK(tt_settle(ts, &v, &fr, 3000) >= 0);
    static uint64_t first[4096], again[4096];
    int n_first = drawn_ids(&fr, first);
    CT_CHECK(n_first > 0);
    size_t nodes_start = fr.stats.tree_nodes;
    uint64_t loads_start = fr.stats.loads_total;
    size_t max_used = 0;
    int limited_frames = 0;
    /* fly a lawn-mower pattern over the whole square, then back to the start */
    int steps = 0;
    for (int row = 0; row < 4; row++)
        for (int col = 0; col < 8; col++) {
            double x = 64 + (row % 2 ? 7 - col : col) * 128, y = 64 + row * 256;
            v = tt_view_down(x, y, 40, 800);
            for (int it = 0; it < 400; it++) {
                ct_tileset_update(ts, &v, &fr, NULL);
                if (fr.stats.bytes_used > max_used)
                    max_used = fr.stats.bytes_used;
                limited_frames += fr.stats.budget_limited;
                if (fr.stats.all_loaded)
                    break;
                tt_sleep_ms(1);
            }
            CT_CHECK(fr.stats.all_loaded);
            steps++;
        }
    size_t nodes_far = fr.stats.tree_nodes;
    fprintf(stderr, "  %d stops, peak %zu bytes (budget %zu), max seen %zu, evictions %llu, loads %llu, nodes %zu -> %zu\n",
            steps, fr.stats.bytes_peak, budget, max_used, (unsigned long long)fr.stats.evictions_total,
            (unsigned long long)fr.stats.loads_total, nodes_start, nodes_far);
    CT_CHECK(fr.stats.bytes_peak <= budget + budget / 10);
    CT_CHECK(max_used <= budget + budget / 10);
    CT_CHECK(fr.stats.evictions_total > 0);
    /* external tilesets the camera left were released (1 + 4 + 16 explicit tiles stay) */
    CT_CHECK(nodes_far < 1365);
    /* back to the start: the same tiles are drawn again, reloaded */
    v = tt_view_down(64, 64, 40, 800);
    CT_CHECK(tt_settle(ts, &v, &fr, 3000) >= 0);
    int n_again = drawn_ids(&fr, again);
    CT_CHECK_EQ_INT(n_again, n_first);
    /* ids of re-created external tiles differ: compare the content URIs instead */
    int same = 0;
    for (int i = 0; i < fr.n_draws; i++)
        same += fr.draws[i].tile->contents[fr.draws[i].content_index].state == CT_CONTENT_READY;
    CT_CHECK_EQ_INT(same, n_first);
    CT_CHECK(fr.stats.loads_total > loads_start);
    CT_CHECK(fr.stats.bytes_peak <= budget + budget / 10);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST_MAIN(CT_CASE(flight_stays_within_budget))
