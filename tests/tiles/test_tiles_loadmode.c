/* Load scheduling (no GL): FINAL mode (what `render --wait` uses) reaches
 * the same draw list as INTERACTIVE with fewer loads, also where a tile is
 * missing (its parent stands in) and under a byte budget that holds loads
 * back; ct_tileset_wait wakes on finished requests; the upload budget grows
 * with the frame interval up to its cap. */
#include "ct_test.h"
#include "tiles_test_scene.h"

/* What was drawn, as comparable keys: the tile's JSON path (stable across
 * runs, unlike ids of lazily expanded tiles) and the content index. */
typedef struct draw_key {
    char key[512];
} draw_key;

static int key_cmp(const void *a, const void *b) { return strcmp(((const draw_key *)a)->key, ((const draw_key *)b)->key); }

static int draw_keys(const ct_tileset_frame *fr, draw_key *out, int cap)
{
    int n = 0;
    for (int i = 0; i < fr->n_draws && n < cap; i++) {
        const ct_tile *t = fr->draws[i].tile;
        /* implicit tiles share their subtree root's path: level and xyz tell them apart */
        snprintf(out[n].key, sizeof out[n].key, "%s#%d L%d %u,%u,%u", t->path ? t->path : "?",
                 fr->draws[i].content_index, t->implicit_level, t->implicit_xyz[0], t->implicit_xyz[1],
                 t->implicit_xyz[2]);
        n++;
    }
    qsort(out, (size_t)n, sizeof *out, key_cmp);
    return n;
}

typedef struct run_result {
    draw_key keys[512];
    int n;
    uint64_t loads;
    int failed;
    bool complete;
    size_t peak;
} run_result;

/* Streams a fresh tileset to completion for one view in the given mode. */
static void run(const ct_tileset_desc *d, const ct_tileset_view *v, ct_tileset_load_mode mode, run_result *r)
{
    memset(r, 0, sizeof *r);
    ct_tileset *ts = NULL;
    CT_REQUIRE(ct_tileset_create(d, &ts, NULL) == CT_OK);
    ct_tileset_set_load_mode(ts, mode);
    ct_tileset_frame fr;
    for (int i = 0; i < 20000 && !r->complete; i++) {
        ct_tileset_update(ts, v, &fr, NULL);
        r->complete = fr.stats.all_loaded;
        if (!r->complete)
            ct_tileset_wait(ts, 0.05);
    }
    r->n = draw_keys(&fr, r->keys, 512);
    r->loads = fr.stats.loads_total;
    r->failed = fr.stats.tiles_failed;
    r->peak = fr.stats.bytes_peak;
    ct_tileset_destroy(ts);
}

static void same_draws(const char *what, const ct_tileset_desc *d, const ct_tileset_view *v, bool fewer)
{
    static run_result a, b;
    run(d, v, CT_TILESET_LOAD_INTERACTIVE, &a);
    run(d, v, CT_TILESET_LOAD_FINAL, &b);
    fprintf(stderr, "  %s: interactive %d draws, %llu loads; final %d draws, %llu loads\n", what, a.n,
            (unsigned long long)a.loads, b.n, (unsigned long long)b.loads);
    CT_CHECK(a.complete && b.complete);
    CT_CHECK(a.n > 0);
    CT_CHECK_EQ_INT(a.n, b.n);
    for (int i = 0; i < a.n && i < b.n; i++)
        if (strcmp(a.keys[i].key, b.keys[i].key)) {
            fprintf(stderr, "  differs: %s / %s\n", a.keys[i].key, b.keys[i].key);
            CT_CHECK(!strcmp(a.keys[i].key, b.keys[i].key));
            break;
        }
    CT_CHECK_EQ_INT(a.failed, b.failed);
    if (fewer)
        CT_CHECK(b.loads < a.loads);
    else
        CT_CHECK(b.loads <= a.loads);
}

CT_TEST(final_same_draws_as_interactive)
{
    /* photogrammetry sample (REPLACE, 293 tiles): root box centred at
     * (216, 32, 91); from 400 m above, SSE 16 at 1000 px stops mid-tree */
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json")};
    ct_tileset_view v = tt_view_down(216, 32, 400, 1000);
    memset(v.planes, 0, sizeof v.planes);
    same_draws("photogrammetry from 400 m", &d, &v, true);
    v = tt_view_down(216, 32, 2000, 1000);
    memset(v.planes, 0, sizeof v.planes);
    d.max_sse = 1e-6; /* every leaf */
    same_draws("photogrammetry, every leaf", &d, &v, true);

    /* implicit quadtree (ADD: every level drawn, nothing to skip) */
    ct_tileset_desc di = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitQuadtree/tileset.json")};
    v = tt_view_down(0.5, 0.5, 2, 1000);
    memset(v.planes, 0, sizeof v.planes);
    same_draws("implicit quadtree (ADD)", &di, &v, false);

    /* generated REPLACE quadtree with external tilesets at level 2, culled view */
    char *dir = tt_tempdir("loadmode");
    CT_REQUIRE(dir);
    tt_gen g = {.dir = dir, .levels = 4, .size = 256, .payload = 64, .ext_level = 2, .refine = "REPLACE"};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset_desc dg = {.uri = path, .workers = 1};
    v = tt_view_down(60, 60, 40, 1000);
    same_draws("generated REPLACE with external tilesets", &dg, &v, true);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(final_missing_tile_parent_stands_in)
{
    /* inside the root box every level is wanted; dragon_high is missing:
     * FINAL loads dragon_medium after all and draws it, as INTERACTIVE does */
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json"),
                         .retry_base_s = 100};
    ct_tileset *probe = NULL;
    CT_REQUIRE(ct_tileset_create(&d, &probe, NULL) == CT_OK);
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    v.viewport_height = 1000;
    v.fovy = M_PI / 3;
    ct_tileset_frame fr;
    ct_tileset_update(probe, &v, &fr, NULL); /* computes the root box */
    v.position = ct_tileset_root(probe)->box.center;
    ct_tileset_destroy(probe);
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);
    static run_result a, b;
    run(&d, &v, CT_TILESET_LOAD_INTERACTIVE, &a);
    run(&d, &v, CT_TILESET_LOAD_FINAL, &b);
    ct_log_set_level((ct_log_level)lvl);
    CT_CHECK(a.complete && b.complete);
    CT_CHECK_EQ_INT(a.failed, 1);
    CT_CHECK_EQ_INT(b.failed, 1);
    CT_REQUIRE(a.n == 1 && b.n == 1);
    CT_CHECK(!strcmp(a.keys[0].key, b.keys[0].key));
    CT_CHECK(strstr(b.keys[0].key, "root.children[0]#0") != NULL); /* dragon_medium */
}

CT_TEST(final_under_budget_pressure)
{
    /* 4 levels of 4 KB tiles, every leaf wanted (64 leaves = 256 KB) under a
     * 100 KB budget: the view cannot be complete at full detail. FINAL falls
     * back to INTERACTIVE selection and ends like it: within budget + 10 %,
     * something drawn, complete by the budget rule (nothing in flight). */
    char *dir = tt_tempdir("loadmode_budget");
    CT_REQUIRE(dir);
    tt_gen g = {.dir = dir, .levels = 4, .size = 256, .payload = 4096, .refine = "REPLACE"};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset_desc d = {.uri = path, .workers = 1, .memory_budget = 100 * 1024, .max_sse = 1e-6};
    ct_tileset_view v = tt_view_down(128, 128, 300, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset *ts = NULL;
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_set_load_mode(ts, CT_TILESET_LOAD_FINAL);
    ct_tileset_frame fr;
    bool done = false, limited = false;
    for (int i = 0; i < 5000 && !done; i++) {
        ct_tileset_update(ts, &v, &fr, NULL);
        limited |= fr.stats.budget_limited;
        done = fr.stats.budget_limited && fr.stats.requests_in_flight == 0 && fr.stats.requests_queued == 0;
        if (!done)
            ct_tileset_wait(ts, 0.05);
    }
    fprintf(stderr, "  budget: %d draws, peak %zu of %zu bytes, %llu loads, %llu evictions\n", fr.n_draws,
            fr.stats.bytes_peak, fr.stats.bytes_budget, (unsigned long long)fr.stats.loads_total,
            (unsigned long long)fr.stats.evictions_total);
    CT_CHECK(limited);
    CT_CHECK(done);
    CT_CHECK(fr.n_draws > 0);
    CT_CHECK(fr.stats.bytes_peak <= (size_t)(d.memory_budget * 1.1));
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(wait_wakes_on_finished_requests)
{
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json")};
    ct_tileset *ts = NULL;
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    CT_CHECK(!ct_tileset_wait(ts, 5)); /* nothing in flight: returns at once, false */
    ct_tileset_view v = tt_view_down(0, 0, 1e7, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset_frame fr;
    ct_tileset_update(ts, &v, &fr, NULL); /* requests the root content */
    CT_CHECK(fr.stats.requests_in_flight + fr.stats.requests_queued == 1);
    /* a local read: the worker is done long before 60 s (a lost wake-up would hang here) */
    CT_CHECK(ct_tileset_wait(ts, 60));
    ct_tileset_update(ts, &v, &fr, NULL);
    CT_CHECK(fr.stats.all_loaded);
    CT_CHECK_EQ_INT(fr.n_draws, 1);
    CT_CHECK(!ct_tileset_wait(ts, 5));
    ct_tileset_destroy(ts);
}

static ct_status upload_noop(void *user, const ct_tile *tile, int content_index, void *decoded, void **gpu,
                             size_t *gpu_bytes, ct_error *err)
{
    *gpu = NULL;
    *gpu_bytes = 0;
    return CT_OK;
}

CT_TEST(upload_budget_follows_frame_interval)
{
    ct_tileset_desc d = {.uri = ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json"),
                         .callbacks = {.upload = upload_noop}};
    ct_tileset *ts = NULL;
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_view v = tt_view_down(0, 0, 1e7, 1000);
    ct_tileset_frame fr;
    ct_tileset_update(ts, &v, &fr, NULL);
    CT_CHECK_NEAR(fr.stats.upload_budget_ms, 4, 1e-9); /* no interval yet: the base budget */
    tt_sleep_ms(200);
    ct_tileset_update(ts, &v, &fr, NULL);
    /* a quarter of an interval of at least 200 ms, at most the 100 ms cap */
    CT_CHECK(fr.stats.upload_budget_ms >= 50 && fr.stats.upload_budget_ms <= 100);
    tt_sleep_ms(500);
    ct_tileset_update(ts, &v, &fr, NULL);
    CT_CHECK_NEAR(fr.stats.upload_budget_ms, 100, 1e-9);
    ct_tileset_set_load_mode(ts, CT_TILESET_LOAD_FINAL);
    ct_tileset_update(ts, &v, &fr, NULL);
    CT_CHECK_NEAR(fr.stats.upload_budget_ms, 100, 1e-9); /* FINAL: chunks of the cap */
    ct_tileset_destroy(ts);

    /* a fixed budget when asked */
    d.upload_frame_fraction = -1;
    d.upload_budget_ms = 2;
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_update(ts, &v, &fr, NULL);
    tt_sleep_ms(100);
    ct_tileset_update(ts, &v, &fr, NULL);
    CT_CHECK_NEAR(fr.stats.upload_budget_ms, 2, 1e-9);
    ct_tileset_destroy(ts);
}

CT_TEST_MAIN(CT_CASE(final_same_draws_as_interactive), CT_CASE(final_missing_tile_parent_stands_in),
             CT_CASE(final_under_budget_pressure), CT_CASE(wait_wakes_on_finished_requests),
             CT_CASE(upload_budget_follows_frame_interval))
