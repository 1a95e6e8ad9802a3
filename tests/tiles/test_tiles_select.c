/* Selection: SSE against hand-computed values, culling per volume type,
 * REPLACE never showing a hole while children load in random order, ADD
 * drawing parent and children, the SSE threshold, viewerRequestVolume. */
#include "ct_test.h"
#include "tiles_test_scene.h"

#include "citytwin/ct_geo.h"

#include <pthread.h>

CT_TEST(sse_hand_computed)
{
    /* 10 m error, 100 m away, 1000 px, 60 deg: 10*1000 / (100 * 2 * tan 30) = 86.6025 px */
    CT_CHECK_NEAR(ct_tileset_sse(10, 100, 1000, M_PI / 3), 86.60254038, 1e-6);
    /* 16 px exactly: d = 10*1000 / (16 * 2 tan 30) = 541.2659 m */
    CT_CHECK_NEAR(ct_tileset_sse(10, 541.2658774, 1000, M_PI / 3), 16.0, 1e-6);
    /* 90 deg fov, 1080 px, 4 m at 200 m: 4*1080 / (200 * 2) = 10.8 */
    CT_CHECK_NEAR(ct_tileset_sse(4, 200, 1080, M_PI / 2), 10.8, 1e-9);
    CT_CHECK(isinf(ct_tileset_sse(1, 0, 1000, 1)));
}

CT_TEST(culling_per_volume_type)
{
    double planes[6][4] = {{1, 0, 0, 0}}; /* half-space x >= 0 */
    double I[16];
    ct_dmat4_identity(I);
    ct_bounding_volume box = {CT_BV_BOX, {5, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}};
    ct_obb o;
    ct_bounding_volume_to_obb(&box, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 1);
    box.v[0] = -5;
    ct_bounding_volume_to_obb(&box, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), -1);
    box.v[0] = 0.5;
    ct_bounding_volume_to_obb(&box, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 0);
    /* rotated box: axes (1,1,0)/(−1,1,0) with half-length sqrt2 reach x = c ± 2 */
    ct_bounding_volume rot = {CT_BV_BOX, {1.9, 0, 0, 1, 1, 0, -1, 1, 0, 0, 0, 1}};
    ct_bounding_volume_to_obb(&rot, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 0);
    rot.v[0] = 2.1;
    ct_bounding_volume_to_obb(&rot, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 1);
    /* sphere radius 2 at x=-1.5 intersects; at -2.5 is out; a transform scaling by 3 makes it reach */
    ct_bounding_volume sph = {CT_BV_SPHERE, {-1.5, 0, 0, 2}};
    ct_bounding_volume_to_obb(&sph, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 0);
    sph.v[0] = -2.5;
    ct_bounding_volume_to_obb(&sph, I, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), -1);
    double S[16];
    ct_dmat4_identity(S);
    S[0] = S[5] = S[10] = 3;
    sph.v[0] = -1; /* centre at -3, radius 6 */
    ct_bounding_volume_to_obb(&sph, S, &o);
    CT_CHECK_EQ_INT(ct_obb_cull(&o, planes), 0);
    /* region around lon 0..1 deg, lat 0..1 deg, 0..100 m: near ECEF x = 6378137 */
    const double d = M_PI / 180;
    ct_bounding_volume reg = {CT_BV_REGION, {0, 0, 1 * d, 1 * d, 0, 100}};
    ct_bounding_volume_to_obb(&reg, I, &o);
    double px[6][4] = {{1, 0, 0, -6.0e6}};
    CT_CHECK_EQ_INT(ct_obb_cull(&o, px), 1);
    double nx[6][4] = {{-1, 0, 0, 6.0e6}}; /* x <= 6e6: outside */
    CT_CHECK_EQ_INT(ct_obb_cull(&o, nx), -1);
    /* the box encloses every corner and the middle of the region (ECEF via PROJ) */
    for (int i = 0; i <= 4; i++)
        for (int j = 0; j <= 4; j++)
            for (int k = 0; k < 2; k++) {
                ct_dvec3 p = ct_geo_ecef_from_lonlat(i * 0.25, j * 0.25, k * 100.0);
                CT_CHECK(ct_obb_distance(&o, p) < 1e-6);
            }
    /* a plane 1 m outside the region's top edge at lat 1 deg cuts nothing */
    ct_dvec3 far = ct_geo_ecef_from_lonlat(0.5, 1.5, 0);
    CT_CHECK(ct_obb_distance(&o, far) > 40000);
}

/* ---- gated loads: the test decides when each tile's decode finishes ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char released[64][256];
    int n_released;
    char requested[64][256];
    int n_requested;
} gate;

static gate G = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static bool gate_is_released(const char *uri)
{
    for (int i = 0; i < G.n_released; i++)
        if (!strcmp(G.released[i], uri))
            return true;
    return false;
}

static ct_status gated_decode(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                              const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    pthread_mutex_lock(&G.mu);
    bool known = false;
    for (int i = 0; i < G.n_requested; i++)
        known |= !strcmp(G.requested[i], uri);
    if (!known && G.n_requested < 64)
        snprintf(G.requested[G.n_requested++], 256, "%s", uri);
    pthread_cond_broadcast(&G.cv);
    double t0 = ct_time_now();
    while (!gate_is_released(uri) && ct_time_now() - t0 < 20) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&G.cv, &G.mu, &ts);
    }
    pthread_mutex_unlock(&G.mu);
    *decoded = malloc(1);
    *cpu_bytes = size;
    return CT_OK;
}

static void gated_free(void *user, void *decoded) { free(decoded); }

/* For every leaf of the full quadtree, how many tiles on its path are drawn. */
static void path_counts(const ct_tileset_frame *fr, const ct_tile *t, int drawn_above, int *min, int *max)
{
    int here = drawn_above;
    for (int i = 0; i < fr->n_draws; i++)
        if (fr->draws[i].tile == t)
            here++;
    if (t->n_children == 0) {
        *min = here < *min ? here : *min;
        *max = here > *max ? here : *max;
        return;
    }
    for (int i = 0; i < t->n_children; i++)
        path_counts(fr, &t->children[i], here, min, max);
}

CT_TEST(replace_never_shows_a_hole)
{
    char *dir = tt_tempdir("replace");
    CT_REQUIRE(dir);
    tt_gen g = {.dir = dir, .levels = 3, .size = 256, .payload = 64};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset *ts = NULL;
    ct_error err = {0};
    ct_tileset_desc d = {.uri = path, .workers = 24, .max_requests_in_flight = 64,
                         .callbacks = {.decode = gated_decode, .free_decoded = gated_free}};
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    /* high above the centre, everything in view, close enough to want the leaves */
    ct_tileset_view v = tt_view_down(128, 128, 60, 1000);
    memset(v.planes, 0, sizeof v.planes);
    ct_tileset_frame fr;
    ct_tileset_update(ts, &v, &fr, NULL);
    /* every tile (1 + 4 + 16) is requested at once, root first */
    double t0 = ct_time_now();
    while (ct_time_now() - t0 < 10) {
        pthread_mutex_lock(&G.mu);
        int n = G.n_requested;
        pthread_mutex_unlock(&G.mu);
        if (n == 21)
            break;
        ct_tileset_update(ts, &v, &fr, NULL);
        tt_sleep_ms(2);
    }
    CT_REQUIRE(G.n_requested == 21);
    /* release in a random order (fixed seed), one load at a time */
    srand(12345);
    char order[21][256];
    for (int i = 0; i < 21; i++)
        snprintf(order[i], 256, "%s", G.requested[i]);
    for (int i = 20; i > 0; i--) {
        int j = rand() % (i + 1);
        char tmp[256];
        memcpy(tmp, order[i], 256);
        memcpy(order[i], order[j], 256);
        memcpy(order[j], tmp, 256);
    }
    bool complete_seen = false; /* once the whole area was drawn, it must stay drawn */
    int bad_frames = 0, overlap_frames = 0, frames = 0;
    const ct_tile *root = ct_tileset_root(ts);
    for (int k = 0; k < 21; k++) {
        pthread_mutex_lock(&G.mu);
        snprintf(G.released[G.n_released++], 256, "%s", order[k]);
        pthread_cond_broadcast(&G.cv);
        pthread_mutex_unlock(&G.mu);
        /* run frames until that load shows up as drawable */
        for (int it = 0; it < 2000; it++) {
            ct_tileset_update(ts, &v, &fr, NULL);
            frames++;
            int mn = 99, mx = 0;
            path_counts(&fr, root, 0, &mn, &mx);
            if (mx > 1)
                overlap_frames++;
            if (complete_seen && mn < 1)
                bad_frames++;
            complete_seen |= mn >= 1;
            if (fr.n_loaded > 0)
                break;
            tt_sleep_ms(1);
        }
    }
    CT_CHECK_EQ_INT(bad_frames, 0);     /* no hole once the area was covered */
    CT_CHECK_EQ_INT(overlap_frames, 0); /* REPLACE: never a parent and its child together */
    CT_CHECK(complete_seen);
    tt_settle(ts, &v, &fr, 500);
    CT_CHECK_EQ_INT(fr.n_draws, 16); /* finally all leaves, nothing else */
    CT_CHECK(fr.stats.all_loaded);
    fprintf(stderr, "  %d frames\n", frames);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

static bool drawn(const ct_tileset_frame *fr, const ct_tile *t)
{
    for (int i = 0; i < fr->n_draws; i++)
        if (fr->draws[i].tile == t)
            return true;
    return false;
}

CT_TEST(add_draws_parent_and_children)
{
    char *dir = tt_tempdir("add");
    CT_REQUIRE(dir);
    tt_gen g = {.dir = dir, .levels = 2, .size = 256, .payload = 64, .refine = "ADD"};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = path, .workers = 2};
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_view v = tt_view_down(128, 128, 300, 1000);
    ct_tileset_frame fr;
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    const ct_tile *root = ct_tileset_root(ts);
    CT_CHECK_EQ_INT(fr.n_draws, 5);
    CT_CHECK(drawn(&fr, root));
    for (int i = 0; i < 4; i++)
        CT_CHECK(drawn(&fr, &root->children[i]));
    /* culling: camera above the lower-left quarter, low: only child 0 (x<128, y<128) in view */
    v = tt_view_down(40, 40, 40, 1000);
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK(drawn(&fr, root));
    CT_CHECK(drawn(&fr, &root->children[0]));
    CT_CHECK(!drawn(&fr, &root->children[3]));
    CT_CHECK_EQ_INT(fr.n_draws, 2);
    /* draws carry the tile transform and the content bytes */
    const ct_tileset_bytes *b = fr.draws[0].decoded;
    CT_CHECK(b && b->size > 12 && !memcmp(b->data, "glTF", 4));
    CT_CHECK_NEAR(fr.draws[0].transform[0], 1, 0);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(sse_threshold_decides_refinement)
{
    char *dir = tt_tempdir("sse");
    CT_REQUIRE(dir);
    /* root: box half size 128 (z 0..10), geometric error 256/16 = 16 m */
    tt_gen g = {.dir = dir, .levels = 2, .size = 256, .payload = 64};
    tt_gen_write(&g);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = path, .workers = 2};
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    const ct_tile *root = ct_tileset_root(ts);
    CT_CHECK_NEAR(root->geometric_error, 16, 0);
    /* sse = 16 * 1000 / (dist * 2 tan 30) = 16 px at dist = 866.03 m above the box top (z = 10) */
    ct_tileset_view v = tt_view_down(128, 128, 10 + 900, 1000); /* 15.4 px: root is enough */
    ct_tileset_frame fr;
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 1);
    CT_CHECK(drawn(&fr, root));
    CT_CHECK_NEAR(root->sse, 16.0 * 1000 / (900 * 2 * tan(M_PI / 6)), 1e-6);
    v = tt_view_down(128, 128, 10 + 830, 1000); /* 16.7 px: refine into the 4 children */
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 4);
    CT_CHECK(!drawn(&fr, root));
    /* a larger maximum SSE brings the root back */
    ct_tileset_set_max_sse(ts, 20);
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 1);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(viewer_request_volume)
{
    char *dir = tt_tempdir("vrv");
    CT_REQUIRE(dir);
    uint8_t *glb;
    size_t n = tt_make_glb(&glb, 32);
    char p[1024];
    snprintf(p, sizeof p, "%s/a.glb", dir);
    tt_write_bytes(p, glb, n);
    snprintf(p, sizeof p, "%s/b.glb", dir);
    tt_write_bytes(p, glb, n);
    free(glb);
    tt_write(dir, "tileset.json",
             "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":100,\"root\":{\"boundingVolume\":{\"box\":[0,0,0,"
             "100,0,0,0,100,0,0,0,10]},\"geometricError\":100,\"refine\":\"ADD\",\"content\":{\"uri\":\"a.glb\"},"
             "\"children\":[{\"boundingVolume\":{\"box\":[0,0,0,10,0,0,0,10,0,0,0,10]},\"geometricError\":0,"
             "\"viewerRequestVolume\":{\"sphere\":[0,0,0,50]},\"content\":{\"uri\":\"b.glb\"}}]}}");
    snprintf(p, sizeof p, "%s/tileset.json", dir);
    ct_tileset *ts = NULL;
    ct_tileset_desc d = {.uri = p, .workers = 1};
    CT_REQUIRE(ct_tileset_create(&d, &ts, NULL) == CT_OK);
    ct_tileset_frame fr;
    ct_tileset_view v = tt_view_down(0, 0, 60, 1000); /* outside the 50 m sphere */
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 1);
    v = tt_view_down(0, 0, 40, 1000); /* inside */
    CT_CHECK(tt_settle(ts, &v, &fr, 2000) >= 0);
    CT_CHECK_EQ_INT(fr.n_draws, 2);
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST_MAIN(CT_CASE(sse_hand_computed), CT_CASE(culling_per_volume_type), CT_CASE(replace_never_shows_a_hole),
             CT_CASE(add_draws_parent_and_children), CT_CASE(sse_threshold_decides_refinement),
             CT_CASE(viewer_request_volume))
