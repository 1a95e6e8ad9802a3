/* HTTP loading against a local test server (tiles_http_server.py): 404, 500,
 * slow and truncated tiles are reported and retried while the rest loads;
 * everything recovers when the server turns healthy; headers and the
 * tileset URL's query reach every request; requests for tiles that left the
 * view are cancelled. Bounded: every wait has a deadline. */
#include "ct_test.h"
#include "tiles_test_scene.h"

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

CT_TEST_MAIN(CT_CASE(faults_reported_then_recovered))
