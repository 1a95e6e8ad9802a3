/* HTTP loading against a local test server (tiles_http_server.py): 404, 500,
 * slow and truncated tiles are reported and retried while the rest loads;
 * everything recovers when the server turns healthy; headers and the
 * tileset URL's query reach every request; requests for tiles that left the
 * view are cancelled. Bounded: every wait has a deadline. */
#include "ct_test.h"
#include "tiles_test_scene.h"

#include "citytwin/ct_tile_content.h"

#include <signal.h>

typedef struct server {
    FILE *pipe;
    int port, pid;
    char ctrl[512];
} server;

static bool server_start(server *s, const char *root)
{
    char *ctrl = tt_tempdir("http");
    if (!ctrl)
        return false;
    snprintf(s->ctrl, sizeof s->ctrl, "%s", ctrl);
    free(ctrl);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec python3 '%s/tests/tiles/tiles_http_server.py' '%s' '%s'", CT_SOURCE_DIR, root, s->ctrl);
    s->pipe = popen(cmd, "r");
    if (!s->pipe || fscanf(s->pipe, "%d %d", &s->port, &s->pid) != 2)
        return false;
    return true;
}

static void server_stop(server *s)
{
    if (s->pid > 0)
        kill(s->pid, SIGTERM);
    if (s->pipe)
        pclose(s->pipe);
    tt_rmtree(s->ctrl);
}

static void server_mode(server *s, const char *mode)
{
    char p[700];
    snprintf(p, sizeof p, "%s/healthy", s->ctrl);
    unlink(p);
    snprintf(p, sizeof p, "%s/slow", s->ctrl);
    unlink(p);
    if (mode)
        tt_write(s->ctrl, mode, "1");
}

static const ct_tile *find_by_uri(const ct_tile *t, const char *suffix)
{
    for (int i = 0; i < t->n_contents; i++) {
        const char *u = t->contents[i].uri;
        size_t n = strcspn(u, "?#"), k = strlen(suffix);
        if (n >= k && !strncmp(u + n - k, suffix, k))
            return t;
    }
    for (int i = 0; i < t->n_children; i++) {
        const ct_tile *r = find_by_uri(&t->children[i], suffix);
        if (r)
            return r;
    }
    return NULL;
}

static ct_tileset_view view_inside(const ct_tileset *ts)
{
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    v.viewport_height = 1000;
    v.fovy = M_PI / 3;
    const ct_tile *r = ct_tileset_root(ts);
    if (r->box_valid)
        v.position = r->box.center;
    return v;
}

CT_TEST(faults_reported_then_recovered)
{
    if (system("python3 -c 'import http.server' 2>/dev/null") != 0) {
        fprintf(stderr, "python3 missing: skipping\n");
        exit(77);
    }
    server s = {0};
    double t_start = ct_time_now();
    CT_REQUIRE(server_start(&s, ct_test_data("3dtiles/3d-tiles-tools/TilesetOfTilesets")));
    fprintf(stderr, "  server up after %.2f s\n", ct_time_now() - t_start);
    server_mode(&s, NULL);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/tileset.json?key=abc", s.port);
    const char *headers[] = {"X-Token: t0k"};
    ct_tileset_desc d = {.uri = url, .workers = 2, .http_timeout_s = 1, .http_retries = 1, .retry_base_s = 0.2,
                         .http_headers = headers, .n_http_headers = 1};
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);
    ct_tileset *ts = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    ct_tileset_frame fr;
    ct_tileset_view v = view_inside(ts);
    /* faulty phase: the parent, ll... load; four tiles fail */
    const char *bad[] = {"ul.b3dm", "ur.b3dm", "lr.b3dm", "ll.b3dm"};
    const char *why[] = {"HTTP 404", "HTTP 500", "Timeout", "ransfer"};
    bool all_failed = false;
    double t0 = ct_time_now();
    while (ct_time_now() - t0 < 20 && !all_failed) {
        v = view_inside(ts);
        ct_tileset_update(ts, &v, &fr, NULL);
        all_failed = true;
        for (int i = 0; i < 4; i++) {
            const ct_tile *t = find_by_uri(ct_tileset_root(ts), bad[i]);
            all_failed &= t && t->contents[0].failures > 0;
        }
        tt_sleep_ms(5);
    }
    CT_CHECK(all_failed);
    fprintf(stderr, "  all four failed after %.2f s\n", ct_time_now() - t0);
    for (int i = 0; i < 4; i++) {
        const ct_tile *t = find_by_uri(ct_tileset_root(ts), bad[i]);
        const char *e = t ? t->contents[0].error : NULL;
        fprintf(stderr, "  %s: %s\n", bad[i], e ? e : "(no error)");
        CT_CHECK(e && (strstr(e, why[i]) || (i == 2 && strstr(e, "timed out")) ||
                       (i == 3 && (strstr(e, "truncated") || strstr(e, "closed")))));
    }
    const ct_tile *parent = find_by_uri(ct_tileset_root(ts), "parent.b3dm");
    CT_REQUIRE(parent);
    CT_CHECK(parent->contents[0].state == CT_CONTENT_READY); /* the rest keeps working */
    CT_CHECK(fr.stats.failures_total >= 4);

    /* healthy again: retries bring every tile in */
    server_mode(&s, "healthy");
    t0 = ct_time_now();
    while (ct_time_now() - t0 < 30) {
        v = view_inside(ts);
        ct_tileset_update(ts, &v, &fr, NULL);
        if (fr.stats.all_loaded && fr.stats.tiles_failed == 0 && fr.n_draws == 5)
            break;
        tt_sleep_ms(10);
    }
    CT_CHECK(fr.stats.all_loaded);
    CT_CHECK_EQ_INT(fr.stats.tiles_failed, 0);
    CT_CHECK_EQ_INT(fr.n_draws, 5); /* parent, ll, lr, ur, ul (ADD) */
    CT_CHECK(fr.stats.retries_total >= 4);
    fprintf(stderr, "  recovered after %.2f s, %llu failures, %llu retries\n", ct_time_now() - t0,
            (unsigned long long)fr.stats.failures_total, (unsigned long long)fr.stats.retries_total);
    ct_tileset_destroy(ts);

    /* every request carried the header, gzip and the propagated query */
    char p[700];
    snprintf(p, sizeof p, "%s/requests.log", s.ctrl);
    FILE *f = fopen(p, "r");
    CT_REQUIRE(f);
    char line[1024];
    int n = 0, ok = 0, b3dm_with_key = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        ok += strstr(line, "\tt0k\t") && strstr(line, "gzip");
        b3dm_with_key += strstr(line, ".b3dm?key=abc") != NULL;
    }
    fclose(f);
    CT_CHECK(n >= 11);
    CT_CHECK_EQ_INT(ok, n);
    CT_CHECK(b3dm_with_key >= 5);

    /* cancellation: everything slow (20 s), then the camera looks away */
    server_mode(&s, "slow");
    d.http_timeout_s = 60;
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    t0 = ct_time_now();
    while (ct_time_now() - t0 < 10) {
        v = view_inside(ts);
        ct_tileset_update(ts, &v, &fr, NULL);
        if (fr.stats.requests_in_flight >= 2)
            break;
        tt_sleep_ms(5);
    }
    CT_CHECK(fr.stats.requests_in_flight >= 2);
    v.planes[0][0] = 1;
    v.planes[0][3] = -1e12; /* nothing is in front of this plane */
    t0 = ct_time_now();
    while (ct_time_now() - t0 < 10) {
        ct_tileset_update(ts, &v, &fr, NULL);
        if (fr.stats.requests_in_flight == 0 && fr.stats.requests_queued == 0)
            break;
        tt_sleep_ms(5);
    }
    double t_cancel = ct_time_now() - t0;
    CT_CHECK_EQ_INT(fr.stats.requests_in_flight, 0);
    CT_CHECK(t_cancel < 10); /* well before the server's 20 s answer */
    fprintf(stderr, "  in-flight requests cancelled in %.2f s\n", t_cancel);
    ct_tileset_destroy(ts);
    ct_log_set_level((ct_log_level)lvl);
    server_stop(&s);
}

/* ---- i3dm with an external glTF (gltfFormat 0) over HTTP ---- */

/* The whole file, NUL-terminated. */
static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc(len > 0 ? (size_t)len + 1 : 1);
    *n = d ? fread(d, 1, (size_t)(len > 0 ? len : 0), f) : 0;
    if (d)
        d[*n] = 0;
    fclose(f);
    return d;
}

typedef struct ext_decoder {
    const ct_tileset *ts;
} ext_decoder;

typedef struct ext_fetch {
    const ct_tileset *ts;
    const char *content_uri;
} ext_fetch;

static ct_status ext_fetch_fn(void *user, const char *uri, uint8_t **data, size_t *size, ct_error *err)
{
    const ext_fetch *f = user;
    return ct_tileset_fetch_resource(f->ts, f->content_uri, uri, data, size, err);
}

/* The decode callback as a renderer would write it: tile content with the
 * tileset's fetcher for what the content refers to. */
static ct_status ext_decode(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                            const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    (void)type;
    const ext_decoder *x = user;
    ext_fetch f = {x->ts, uri};
    ct_tile_content_options o = {.uri = uri, .skip_images = true, .tile_transform = tile_transform,
                                 .fetch = ext_fetch_fn, .fetch_user = &f};
    ct_tile_content *c = NULL;
    ct_status st = ct_tile_content_load_memory(data, size, &o, &c, err);
    if (st)
        return st;
    *decoded = c;
    *cpu_bytes = size;
    return CT_OK;
}

static void ext_free(void *user, void *decoded)
{
    (void)user;
    ct_tile_content_destroy(decoded);
}

/* Loads the one-tile tileset at url; returns its content (NULL on failure)
 * and the tile's error message in msg. */
static ct_tile_content *load_one_tile(const char *url, ct_tileset **ts_out, char *msg, size_t msg_size)
{
    ext_decoder x = {0};
    ct_tileset_desc d = {.uri = url, .workers = 1, .http_timeout_s = 5, .http_retries = -1, .retry_base_s = 60,
                         .callbacks = {.user = &x, .decode = ext_decode, .free_decoded = ext_free}};
    ct_tileset *ts = NULL;
    ct_error err = {0};
    msg[0] = 0;
    if (ct_tileset_create(&d, &ts, &err) != CT_OK) {
        snprintf(msg, msg_size, "%s", err.msg);
        return NULL;
    }
    x.ts = ts;
    ct_tileset_frame fr;
    double t0 = ct_time_now();
    const ct_tile *root = ct_tileset_root(ts);
    while (ct_time_now() - t0 < 20) {
        ct_tileset_view v = view_inside(ts);
        ct_tileset_update(ts, &v, &fr, NULL);
        if (root->contents[0].state == CT_CONTENT_READY || root->contents[0].failures > 0)
            break;
        tt_sleep_ms(5);
    }
    *ts_out = ts;
    if (root->contents[0].error)
        snprintf(msg, msg_size, "%s", root->contents[0].error);
    return root->contents[0].state == CT_CONTENT_READY ? root->contents[0].decoded : NULL;
}

CT_TEST(i3dm_external_gltf_over_http)
{
    if (system("python3 -c 'import http.server' 2>/dev/null") != 0) {
        fprintf(stderr, "python3 missing: skipping\n");
        exit(77);
    }
    /* ok/: the sample as shipped (box.glb next to the i3dm); missing/: without box.glb */
    char *root = tt_tempdir("http_ext");
    CT_REQUIRE(root);
    const char *src = ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Instanced/InstancedGltfExternal");
    const char *files[] = {"tileset.json", "instancedGltfExternal.i3dm", "box.glb"};
    for (int sub = 0; sub < 2; sub++)
        for (int i = 0; i < (sub ? 2 : 3); i++) {
            char in[4096], out[1024];
            snprintf(in, sizeof in, "%s/%s", src, files[i]);
            snprintf(out, sizeof out, "%s/%s", sub ? "missing" : "ok", files[i]);
            tt_write(root, out, ""); /* creates the folder */
            snprintf(out, sizeof out, "%s/%s/%s", root, sub ? "missing" : "ok", files[i]);
            size_t n = 0;
            uint8_t *b = read_all(in, &n);
            CT_REQUIRE(b);
            tt_write_bytes(out, b, n);
            free(b);
        }
    server s = {0};
    CT_REQUIRE(server_start(&s, root));
    server_mode(&s, "healthy");
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);

    char url[256], msg[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/tileset.json?key=abc", s.port);
    ct_tileset *ts = NULL;
    const ct_tile_content *c = load_one_tile(url, &ts, msg, sizeof msg);
    if (!c)
        fprintf(stderr, "  ok/: %s\n", msg);
    CT_REQUIRE(c);
    CT_CHECK_EQ_INT(c->instance_count, 25);
    CT_CHECK_EQ_INT(c->triangle_count, 25 * 12); /* box.glb: 12 triangles (the Khronos Box, assimp) */
    ct_tileset_destroy(ts);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing/tileset.json", s.port);
    c = load_one_tile(url, &ts, msg, sizeof msg);
    fprintf(stderr, "  missing/: %s\n", msg);
    CT_CHECK(c == NULL);
    CT_CHECK(strstr(msg, "box.glb") && strstr(msg, "404"));
    ct_tileset_destroy(ts);

    /* the glTF was requested next to the i3dm, with the tileset URL's query */
    char p[700], line[1024];
    snprintf(p, sizeof p, "%s/requests.log", s.ctrl);
    FILE *f = fopen(p, "r");
    CT_REQUIRE(f);
    bool glb = false;
    while (fgets(line, sizeof line, f))
        glb |= !strncmp(line, "/ok/box.glb?key=abc\t", 20);
    fclose(f);
    CT_CHECK(glb);
    ct_log_set_level((ct_log_level)lvl);
    server_stop(&s);
    tt_rmtree(root);
    free(root);
}

CT_TEST(i3dm_external_gltf_stays_in_folder)
{
    /* a local tileset whose i3dm names ../box.glb: refused by the sandbox */
    char *root = tt_tempdir("ext_sandbox");
    CT_REQUIRE(root);
    const char *src = ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Instanced/InstancedGltfExternal");
    char in[4096], out[1024];
    size_t n = 0;
    snprintf(in, sizeof in, "%s/box.glb", src);
    uint8_t *b = read_all(in, &n);
    CT_REQUIRE(b);
    snprintf(out, sizeof out, "%s/box.glb", root);
    tt_write_bytes(out, b, n);
    free(b);
    snprintf(in, sizeof in, "%s/instancedGltfExternal.i3dm", src);
    b = read_all(in, &n);
    CT_REQUIRE(b && n > 32);
    /* the URI "box.glb" sits at the end, padded: rewrite it as "../box.glb" padded the same */
    uint32_t total = b[8] | b[9] << 8 | b[10] << 16 | (uint32_t)b[11] << 24;
    size_t body = 32;
    for (int k = 0; k < 4; k++)
        body += b[12 + 4 * k] | b[13 + 4 * k] << 8 | b[14 + 4 * k] << 16 | (uint32_t)b[15 + 4 * k] << 24;
    CT_REQUIRE(body + 7 <= total && !memcmp(b + body, "box.glb", 7));
    uint8_t *nb = calloc(1, total + 8);
    memcpy(nb, b, body);
    memcpy(nb + body, "../box.glb", 10);
    memset(nb + body + 10, ' ', total + 8 - body - 10);
    uint32_t nt = total + 8;
    nb[8] = (uint8_t)nt, nb[9] = (uint8_t)(nt >> 8), nb[10] = (uint8_t)(nt >> 16), nb[11] = (uint8_t)(nt >> 24);
    snprintf(in, sizeof in, "%s/tileset.json", src);
    uint8_t *tj = read_all(in, &n);
    CT_REQUIRE(tj);
    tt_write(root, "inner/tileset.json", (const char *)tj);
    free(tj);
    snprintf(out, sizeof out, "%s/inner/instancedGltfExternal.i3dm", root);
    tt_write_bytes(out, nb, nt);
    free(nb);
    free(b);
    char url[1024], msg[1024];
    snprintf(url, sizeof url, "%s/inner/tileset.json", root);
    ct_tileset *ts = NULL;
    int lvl = ct_log_get_level();
    ct_log_set_level(CT_LOG_ERROR);
    const ct_tile_content *c = load_one_tile(url, &ts, msg, sizeof msg);
    ct_log_set_level((ct_log_level)lvl);
    fprintf(stderr, "  ../box.glb: %s\n", msg);
    CT_CHECK(c == NULL);
    CT_CHECK(strstr(msg, "box.glb") != NULL && strstr(msg, "outside") != NULL);
    ct_tileset_destroy(ts);
    tt_rmtree(root);
    free(root);
}

CT_TEST_MAIN(CT_CASE(faults_reported_then_recovered), CT_CASE(i3dm_external_gltf_over_http),
             CT_CASE(i3dm_external_gltf_stays_in_folder))
