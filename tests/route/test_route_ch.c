/* Contraction hierarchy (CT_ROUTE_CH) against plain Dijkstra: random node
 * pairs on Monaco (OSM, 27 turn restrictions applied as node copies) and on
 * generated graphs (one-way, parallel, zero-cost and loop edges), with and
 * without per-query closures; the ALT fallback (CH's path crosses a closure)
 * taken and exact on a hand-computed case; unreachable answers. Returned
 * paths are checked edge by edge: connected, avoiding closed segments, and
 * their edge costs add up to the reported cost. */
#include "ct_test.h"

#include "citytwin/ct_route.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 987654321;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

static int n_path_checks; /* paths checked edge by edge */

static bool same_cost(double a, double b)
{
    return (isinf(a) && isinf(b)) || fabs(a - b) <= 1e-9 * fmax(1, fabs(b));
}

/* A path from node a to node b (both ends on junctions) must chain its edges
 * from a to b, use no closed segment and cost what the result says. */
static bool path_ok(const ct_route_graph *g, const ct_route_path *p, uint32_t a, uint32_t b, const bool *closed)
{
    uint32_t at = a;
    double sum = 0;
    double ax, ay, bx, by, x, y;
    ct_route_graph_node_xy(g, a, &ax, &ay);
    ct_route_graph_node_xy(g, b, &bx, &by);
    for (size_t i = 0; i < p->n_edges; i++) {
        uint32_t t, h, seg;
        double c;
        if (!ct_route_graph_edge(g, p->edges[i], &t, &h, &c, &seg))
            return false;
        /* the first edge may leave from another copy of the start junction */
        ct_route_graph_node_xy(g, t, &x, &y);
        if (t != at && !(i == 0 && x == ax && y == ay))
            return false;
        if (closed && closed[seg])
            return false;
        sum += c;
        at = h;
    }
    ct_route_graph_node_xy(g, at, &x, &y);
    return (p->n_edges == 0 || (x == bx && y == by)) && fabs(sum - p->cost_s) <= 1e-9 * fmax(1, sum);
}

/* Compares CH with Dijkstra on n random node pairs (node costs), then on n/4
 * snapped routes between node positions with path checks; returns mismatches
 * and counts the ALT fallbacks. */
static int compare(const ct_route_graph *g, const ct_route_closures *cl, const bool *closed, int n, int *fallbacks,
                   int *reachable)
{
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    ct_route_searcher *s = ct_route_searcher_create(g);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        uint32_t a = rnd((uint32_t)gi.nodes), b = rnd((uint32_t)gi.nodes);
        double d0 = ct_route_node_cost(s, a, b, cl, CT_ROUTE_DIJKSTRA);
        double d1 = ct_route_node_cost(s, a, b, cl, CT_ROUTE_CH);
        *reachable += isfinite(d0);
        if (!same_cost(d0, d1) && bad++ < 5)
            fprintf(stderr, "nodes %u->%u: dijkstra %.12g ch %.12g\n", a, b, d0, d1);
    }
    for (int i = 0; i < n / 4; i++) {
        uint32_t a = rnd((uint32_t)gi.nodes), b = rnd((uint32_t)gi.nodes);
        double ax, ay, bx, by;
        ct_route_graph_node_xy(g, a, &ax, &ay);
        ct_route_graph_node_xy(g, b, &bx, &by);
        ct_route_query q = {.closures = cl, .algo = CT_ROUTE_CH};
        ct_error err = {0};
        ct_route_result r0 = {0}, r1 = {0};
        if (ct_route_snap_point(g, ax, ay, cl, 0, &q.from, &err) != CT_OK ||
            ct_route_snap_point(g, bx, by, cl, 0, &q.to, &err) != CT_OK)
            continue; /* every road at the node closed */
        CT_CHECK(ct_route_search(s, &q, &r1, &err) == CT_OK);
        q.algo = CT_ROUTE_DIJKSTRA;
        CT_CHECK(ct_route_search(s, &q, &r0, &err) == CT_OK);
        *fallbacks += r1.ch_fallback;
        double c0 = r0.reachable ? r0.paths[0].cost_s : INFINITY, c1 = r1.reachable ? r1.paths[0].cost_s : INFINITY;
        bool ok = same_cost(c0, c1) && r0.reachable == r1.reachable;
        /* snapped exactly onto a junction: the path runs node to node */
        if (ok && r1.reachable && q.from.dist_m == 0 && q.to.dist_m == 0 && (q.from.t == 0 || q.from.t == 1) &&
            (q.to.t == 0 || q.to.t == 1)) {
            ok = path_ok(g, &r1.paths[0], a, b, closed);
            n_path_checks++;
        }
        if (!ok && bad++ < 5)
            fprintf(stderr, "snapped %u->%u: dijkstra %.12g ch %.12g (path check)\n", a, b, c0, c1);
        ct_route_result_free(&r0);
        ct_route_result_free(&r1);
    }
    ct_route_searcher_destroy(s);
    return bad;
}

/* Random closures: k segments, remembered in closed[]. */
static ct_route_closures *random_closures(const ct_route_graph *g, int k, bool *closed)
{
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    ct_route_closures *c = ct_route_closures_create(g);
    memset(closed, 0, gi.segments * sizeof *closed);
    for (int i = 0; i < k; i++) {
        uint32_t sgm = rnd((uint32_t)gi.segments);
        ct_route_closures_add_segment(c, sgm);
        closed[sgm] = true;
    }
    return c;
}

CT_TEST(test_ch_equals_dijkstra_monaco)
{
    ct_route_graph_desc d = {.path = ct_test_data("osm/monaco/monaco.osm.pbf")};
    ct_route_graph *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    CT_CHECK(gi.ch && gi.ch_shortcuts > 0);
    CT_CHECK(gi.restrictions_applied > 0); /* node copies are in the hierarchy */
    int fb = 0, reach = 0;
    CT_CHECK_EQ_INT(compare(g, NULL, NULL, 2000, &fb, &reach), 0);
    CT_CHECK_EQ_INT(fb, 0); /* nothing closed: never a fallback */
    CT_CHECK(reach > 1000);
    bool *closed = calloc(gi.segments, sizeof *closed);
    int fb_total = 0;
    for (int round = 0; round < 3; round++) {
        ct_route_closures *c = random_closures(g, 60, closed);
        fb = 0;
        CT_CHECK_EQ_INT(compare(g, c, closed, 600, &fb, &reach), 0);
        fb_total += fb;
        ct_route_closures_destroy(c);
    }
    /* 60 closed segments cross some best paths, not all */
    CT_CHECK(fb_total > 0 && fb_total < 3 * 150);
    CT_CHECK(n_path_checks > 500);
    free(closed);
    ct_route_graph_destroy(g);
}

/* A jittered 16x16 lattice with random streets (100 m apart, EPSG:3857),
 * plus long streets between random junctions (crossing others without
 * meeting them, as bridges do), parallel streets between the same junctions
 * (through a middle vertex), loops, zero costs, one-way and reverse-only
 * streets; own costs from the cost / reverse_cost fields. */
static const char *write_random_graph(int seed)
{
    enum { N = 16 };
    static char name[64];
    snprintf(name, sizeof name, "random_%d.geojson", seed);
    const char *path = ct_test_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    double px[N * N], py[N * N];
    for (int i = 0; i < N * N; i++) {
        px[i] = (i % N) * 100.0 + rnd(41) - 20.0;
        py[i] = (i / N) * 100.0 + rnd(41) - 20.0;
    }
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
               "\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[\n");
    int nf = 0;
    for (int k = 0; k < 4 * N * N; k++) {
        int a = rnd(N * N), b;
        int kind = k < 2 * N * N ? 0 : (k < 3 * N * N ? 1 : 2);
        if (kind == 0) { /* lattice neighbour */
            b = k % 2 ? a + 1 : a + N;
            if ((k % 2 && a % N == N - 1) || b >= N * N)
                continue;
        } else if (kind == 1) { /* long street */
            b = rnd(N * N);
        } else { /* parallel to / loop at a lattice street */
            b = rnd(4) == 0 ? a : (a + 1 < N * N ? a + 1 : a - 1);
        }
        double cost = rnd(20) == 0 ? 0 : 1 + rnd(1000) / 10.0;
        double rev = rnd(4) == 0 ? -1 : (rnd(20) == 0 ? 0 : 1 + rnd(1000) / 10.0);
        if (rnd(10) == 0) { /* reverse only */
            rev = cost;
            cost = -1;
        }
        fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"cost\":%g,\"reverse_cost\":%g},\"geometry\":"
                   "{\"type\":\"LineString\",\"coordinates\":[[%.3f,%.3f]",
                nf++ ? ",\n" : "", cost, rev, px[a], py[a]);
        if (kind == 2) /* a middle vertex no other street has */
            fprintf(f, ",[%.3f,%.3f]", (px[a] + px[b]) / 2 + 7.123 + k * 1e-3, (py[a] + py[b]) / 2 + 9.877);
        fprintf(f, ",[%.3f,%.3f]]}}", px[b], py[b]);
    }
    fprintf(f, "\n]}\n");
    fclose(f);
    return path;
}

CT_TEST(test_ch_random_graphs)
{
    for (int seed = 0; seed < 4; seed++) {
        const char *path = write_random_graph(seed);
        CT_REQUIRE(path);
        ct_route_graph_desc d = {.path = path, .cost_field = "cost", .reverse_cost_field = "reverse_cost"};
        ct_route_graph *g = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
        ct_route_graph_info gi;
        ct_route_graph_get_info(g, &gi);
        CT_CHECK(gi.ch && gi.nodes > 200);
        int fb = 0, reach = 0;
        CT_CHECK_EQ_INT(compare(g, NULL, NULL, 1000, &fb, &reach), 0);
        CT_CHECK(reach > 300); /* one-way streets leave some pairs unconnected */
        bool *closed = calloc(gi.segments, sizeof *closed);
        ct_route_closures *c = random_closures(g, 40, closed);
        int fb2 = 0;
        CT_CHECK_EQ_INT(compare(g, c, closed, 1000, &fb2, &reach), 0);
        CT_CHECK(fb2 > 0);
        CT_CHECK(n_path_checks > 200 * (seed + 1));
        ct_route_closures_destroy(c);
        free(closed);
        ct_route_graph_destroy(g);
    }
}

/* The hand-built network of test_route.c (costs worked out by hand there):
 * D(0,100) - C(100,100) (fid 3, 10 s), DA 20 s (fid 4), AB one-way 10 s
 * (fid 1), BC 10 s (fid 2), bridge C-E 20 s (fid 5), E-F 10 s (fid 6),
 * F-G 10 s (fid 7), G-H 10 s (fid 8), H-E ~10 s (fid 9); P-Q apart (fid 10). */
static const char *NET =
    "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[\n"
    "{\"type\":\"Feature\",\"id\":1,\"properties\":{\"speed\":36,\"oneway\":\"yes\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[100,0]]}},\n"
    "{\"type\":\"Feature\",\"id\":2,\"properties\":{\"speed\":36,\"oneway\":\"no\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[100,0],[100,100]]}},\n"
    "{\"type\":\"Feature\",\"id\":3,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[100,100],[0,100]]}},\n"
    "{\"type\":\"Feature\",\"id\":4,\"properties\":{\"speed\":18},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,100],[0,0]]}},\n"
    "{\"type\":\"Feature\",\"id\":5,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[100,100],[200,100],[300,100]]}},\n"
    "{\"type\":\"Feature\",\"id\":6,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[300,100],[400,100]]}},\n"
    "{\"type\":\"Feature\",\"id\":7,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[400,100],[400,200]]}},\n"
    "{\"type\":\"Feature\",\"id\":8,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[400,200],[300,200]]}},\n"
    "{\"type\":\"Feature\",\"id\":9,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[300,200],[300,100.2]]}},\n"
    "{\"type\":\"Feature\",\"id\":10,\"properties\":{\"speed\":36},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[1000,1000],[1100,1000]]}}\n"
    "]}\n";

static ct_route_result route(ct_route_graph *g, double fx, double fy, double tx, double ty,
                             const ct_route_closures *c, ct_route_algo algo)
{
    ct_route_query q = {.closures = c, .algo = algo};
    ct_error err = {0};
    ct_route_result r = {0};
    if (ct_route_snap_point(g, fx, fy, c, 0, &q.from, &err) != CT_OK ||
        ct_route_snap_point(g, tx, ty, c, 0, &q.to, &err) != CT_OK)
        return r;
    ct_route_searcher *s = ct_route_searcher_create(g);
    if (ct_route_search(s, &q, &r, &err) != CT_OK)
        fprintf(stderr, "search: %s\n", err.msg);
    ct_route_searcher_destroy(s);
    return r;
}

CT_TEST(test_ch_fallback)
{
    const char *path = ct_test_tmp_path("net.geojson");
    FILE *f = fopen(path, "w");
    CT_REQUIRE(f);
    fputs(NET, f);
    fclose(f);
    ct_route_graph_desc d = {.path = path};
    ct_route_graph *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    /* D -> (400,150) on F-G: D-C 10 + bridge 20 + E-F 10 + half of F-G 5 = 45 s */
    ct_route_result r = route(g, 0, 100, 400, 150, NULL, CT_ROUTE_CH);
    CT_CHECK(r.reachable && !r.ch_fallback);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 45, 1e-9);
    ct_route_result_free(&r);
    /* H-E closed: off the best path, CH's answer stands */
    ct_route_closures *c = ct_route_closures_create(g);
    CT_CHECK_EQ_INT(ct_route_closures_add_fid(c, 9), 1);
    r = route(g, 0, 100, 400, 150, c, CT_ROUTE_CH);
    CT_CHECK(r.reachable && !r.ch_fallback);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 45, 1e-9);
    ct_route_result_free(&r);
    /* D-C closed too: CH's path crosses it, ALT answers: D-A 20 + A-B 10 +
     * B-C 10 + 20 + 10 + 5 = 75 s */
    CT_CHECK_EQ_INT(ct_route_closures_add_fid(c, 3), 1);
    r = route(g, 0, 100, 400, 150, c, CT_ROUTE_CH);
    CT_CHECK(r.reachable && r.ch_fallback);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 75, 1e-9);
    ct_route_result_free(&r);
    /* the bridge closed as well: no way across, with the reason */
    CT_CHECK_EQ_INT(ct_route_closures_add_fid(c, 5), 1);
    r = route(g, 0, 100, 400, 150, c, CT_ROUTE_CH);
    CT_CHECK(!r.reachable);
    CT_CHECK(!strcmp(r.reason, "all paths closed by --close-edges"));
    ct_route_result_free(&r);
    ct_route_closures_destroy(c);
    /* another component: unreachable without any closure */
    r = route(g, 0, 100, 1050, 1000, NULL, CT_ROUTE_CH);
    CT_CHECK(!r.reachable && !r.ch_fallback);
    CT_CHECK(!strcmp(r.reason, "no path: start and end are in different components"));
    ct_route_result_free(&r);
    /* k alternatives: the best by CH, the others by ALT, as with ALT alone */
    ct_route_query q = {.k = 3, .algo = CT_ROUTE_CH};
    ct_route_query qa = {.k = 3, .algo = CT_ROUTE_ALT};
    ct_route_snap_point(g, 0, 100, NULL, 0, &q.from, &err);
    ct_route_snap_point(g, 400, 150, NULL, 0, &q.to, &err);
    qa.from = q.from;
    qa.to = q.to;
    ct_route_searcher *s = ct_route_searcher_create(g);
    ct_route_result rk = {0}, ra = {0};
    CT_CHECK(ct_route_search(s, &q, &rk, &err) == CT_OK);
    CT_CHECK(ct_route_search(s, &qa, &ra, &err) == CT_OK);
    CT_CHECK_EQ_INT(rk.n_paths, ra.n_paths);
    for (int i = 0; i < rk.n_paths && i < ra.n_paths; i++)
        CT_CHECK_NEAR(rk.paths[i].cost_s, ra.paths[i].cost_s, 1e-9);
    ct_route_result_free(&rk);
    ct_route_result_free(&ra);
    ct_route_searcher_destroy(s);
    ct_route_graph_destroy(g);
    /* without a hierarchy (skip_ch) CH queries run ALT and still answer */
    d.skip_ch = true;
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    CT_CHECK(!gi.ch);
    r = route(g, 0, 100, 400, 150, NULL, CT_ROUTE_CH);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 45, 1e-9);
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
}

CT_TEST_MAIN(CT_CASE(test_ch_equals_dijkstra_monaco), CT_CASE(test_ch_random_graphs), CT_CASE(test_ch_fallback))
