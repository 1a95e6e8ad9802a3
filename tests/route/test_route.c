/* Routing tests: hand-built graphs with answers worked out by hand, OSM
 * loading counted independently with ogrinfo, ALT/bidirectional Dijkstra
 * against plain Dijkstra on random Monaco pairs, isochrones, bad input. */
#include "ct_test.h"

#include "citytwin/ct_demo.h"
#include "citytwin/ct_route.h"

#include <cjson/cJSON.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>
#include <unistd.h>

static char tmpdir[256];

static ct_route_graph *g_monaco;

/* Runs at exit: each ctest case is its own process. */
static void cleanup(void)
{
    char cmd[512];
    if (tmpdir[0] && !getenv("CT_ROUTE_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    ct_route_graph_destroy(g_monaco);
    g_monaco = NULL;
}

static const char *tmp_path(const char *name)
{
    static char buf[64][512];
    static int k;
    k = (k + 1) % 64; /* callers keep a few paths at once */
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/ct_route_test_XXXXXX");
        if (!mkdtemp(tmpdir))
            abort();
        atexit(cleanup);
    }
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

/* The hand-built test network (planar metres, no CRS; speed 36 km/h = 10 m/s
 * unless said otherwise):
 *
 *   D(0,100) ---- C(100,100) ==== bridge (200 m) ==== E(300,100) -- F(400,100)
 *     |             |                                 |              |
 *   A(0,0)  --->  B(100,0)                          H(300,200) --- G(400,200)... (square 2)
 *
 * AB one-way A->B (fid 1), BC (2), CD (3), DA at 18 km/h = 5 m/s (fid 4),
 * bridge CE (5), square 2: EF (6), FG (7), GH (8), HE (9), and a separate
 * component PQ (10) at (1000,1000)-(1100,1000). */
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

static ct_route_graph *load_net(ct_route_graph_desc *extra)
{
    const char *p = tmp_path("net.geojson");
    write_text(p, NET);
    ct_route_graph_desc d = extra ? *extra : (ct_route_graph_desc){0};
    d.path = p;
    ct_route_graph *g = NULL;
    ct_error err = {0};
    if (ct_route_graph_load(&d, &g, &err) != CT_OK)
        fprintf(stderr, "load: %s\n", err.msg);
    return g;
}

/* Runs one query from (fx,fy) to (tx,ty); returns the result (caller frees). */
static ct_route_result route(ct_route_graph *g, double fx, double fy, double tx, double ty,
                             const ct_route_closures *c, int k, ct_route_algo algo, ct_route_query *q_out)
{
    ct_route_query q = {.closures = c, .k = k, .algo = algo};
    ct_error err = {0};
    ct_route_result r = {0};
    if (ct_route_snap_point(g, fx, fy, c, 0, &q.from, &err) != CT_OK ||
        ct_route_snap_point(g, tx, ty, c, 0, &q.to, &err) != CT_OK) {
        fprintf(stderr, "snap: %s\n", err.msg);
        return r;
    }
    ct_route_searcher *s = ct_route_searcher_create(g);
    if (ct_route_search(s, &q, &r, &err) != CT_OK)
        fprintf(stderr, "search: %s\n", err.msg);
    ct_route_searcher_destroy(s);
    if (q_out)
        *q_out = q;
    return r;
}

CT_TEST(test_oneway)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    /* junctions A B C D E F G H, P Q; H-E end at (300,100.2) snaps to E (0.5 m tolerance) */
    CT_CHECK_EQ_INT(gi.junctions, 10);
    CT_CHECK_EQ_INT(gi.segments, 10);
    CT_CHECK_EQ_INT(gi.edges, 19); /* 10 segments, AB one way */
    for (int algo = 0; algo < CT_ROUTE_ALGO_COUNT; algo++) {
        ct_route_result r = route(g, 0, 0, 100, 0, NULL, 1, (ct_route_algo)algo, NULL);
        CT_CHECK(r.reachable);
        CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 10, 1e-9); /* A->B */
        ct_route_result_free(&r);
        r = route(g, 100, 0, 0, 0, NULL, 1, (ct_route_algo)algo, NULL);
        /* B->A against the one-way: B-C-D-A = 10 + 10 + 20 */
        CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 40, 1e-9);
        CT_CHECK_NEAR(r.n_paths ? r.paths[0].length_m : -1, 300, 1e-9);
        ct_route_result_free(&r);
    }
    ct_route_graph_destroy(g);
}

/* The layer's own costs (pgRouting convention: negative reverse = one-way)
 * and a --speeds table for a class field. */
CT_TEST(test_layer_costs_and_speeds)
{
    const char *p = tmp_path("costs.geojson");
    write_text(p, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
                  "\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[\n"
                  "{\"type\":\"Feature\",\"id\":1,\"properties\":{\"c\":7,\"rc\":-1,\"class\":\"residential\"},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[100,0],[200,0]]}},\n"
                  "{\"type\":\"Feature\",\"id\":2,\"properties\":{\"c\":3,\"rc\":4,\"class\":\"primary\"},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[200,0],[200,100]]}},\n"
                  "{\"type\":\"Feature\",\"id\":3,\"properties\":{\"c\":5,\"rc\":5,\"class\":\"footway\"},"
                  "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[200,100],[0,0]]}}]}\n");
    ct_route_graph_desc d = {.path = p, .cost_field = "c", .reverse_cost_field = "rc"};
    ct_route_graph *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    /* (0,0)->(200,100): 7 + 3 = 10; back: 5 on feature 3 (not 4 + reverse of the one-way) */
    ct_route_result r = route(g, 0, 0, 200, 100, NULL, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 5, 1e-9); /* feature 3 is cheaper still */
    ct_route_result_free(&r);
    ct_route_closures *c = ct_route_closures_create(g);
    ct_route_closures_add_fid(c, 3);
    r = route(g, 0, 0, 200, 100, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 10, 1e-9);
    ct_route_result_free(&r);
    /* mid-way along feature 1 (split at no junction): half its cost */
    r = route(g, 100, 0, 200, 0, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 3.5, 1e-9);
    ct_route_result_free(&r);
    r = route(g, 200, 100, 0, 0, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(!r.reachable); /* the only other way is the one-way feature 1 */
    ct_route_result_free(&r);
    ct_route_closures_destroy(c);
    ct_route_graph_destroy(g);

    /* speeds by class: residential 36 km/h (10 m/s), primary 72 (20 m/s), footway not driveable */
    const char *csv = "class,kmh\nresidential,36\nprimary,72\n";
    ct_route_speeds sp;
    const char *csv_path = tmp_path("speeds.csv");
    write_text(csv_path, csv);
    CT_REQUIRE(ct_route_speeds_load(csv_path, &sp, &err) == CT_OK);
    ct_route_graph_desc d2 = {.path = p, .speeds = &sp};
    CT_REQUIRE(ct_route_graph_load(&d2, &g, &err) == CT_OK);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    CT_CHECK_EQ_INT(gi.features_read, 2);
    CT_CHECK_EQ_INT(gi.features_skipped, 1);
    r = route(g, 0, 0, 200, 100, NULL, 1, CT_ROUTE_DIJKSTRA, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 200 / 10.0 + 100 / 20.0, 1e-9);
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
    ct_route_speeds_free(&sp);
}

CT_TEST(test_snap_mid_edge)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    ct_route_query q;
    /* (50,10) snaps to the middle of AB (10 m off), (100,50) lies on BC */
    ct_route_result r = route(g, 50, 10, 100, 50, NULL, 1, CT_ROUTE_ALT, &q);
    CT_CHECK_NEAR(q.from.dist_m, 10, 1e-9);
    CT_CHECK_NEAR(q.from.x, 50, 1e-9);
    CT_CHECK_NEAR(q.from.y, 0, 1e-9);
    CT_CHECK_NEAR(q.to.dist_m, 0, 1e-9);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 10, 1e-9); /* 50 m to B + 50 m up BC */
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].length_m : -1, 100, 1e-9);
    if (r.n_paths) {
        double *xy;
        size_t n;
        ct_error err;
        CT_REQUIRE(ct_route_path_geometry(g, &q, &r.paths[0], &xy, &n, &err) == CT_OK);
        CT_CHECK_EQ_INT(n, 3); /* (50,0) (100,0) (100,50) */
        if (n == 3) {
            CT_CHECK_NEAR(xy[0], 50, 1e-9);
            CT_CHECK_NEAR(xy[2], 100, 1e-9);
            CT_CHECK_NEAR(xy[3], 0, 1e-9);
            CT_CHECK_NEAR(xy[5], 50, 1e-9);
        }
        free(xy);
    }
    ct_route_result_free(&r);
    /* far away and non-finite points: an answer (or a clear error), quickly */
    ct_route_snap far;
    ct_error e2;
    CT_CHECK(ct_route_snap_point(g, 1e15, -3e14, NULL, 0, &far, &e2) == CT_OK && far.dist_m > 1e14);
    CT_CHECK(ct_route_snap_point(g, 1e15, -3e14, NULL, 1000, &far, &e2) == CT_ERR_INPUT);
    CT_CHECK(ct_route_snap_point(g, NAN, 0, NULL, 0, &far, &e2) == CT_ERR_INPUT);
    CT_CHECK(ct_route_snap_point(g, 1050, 1300, NULL, 0, &far, &e2) == CT_OK && fabs(far.dist_m - 300) < 1e-9);
    /* both ends on the one-way AB: forwards directly, backwards all around */
    r = route(g, 20, 0, 80, 0, NULL, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 6, 1e-9);
    ct_route_result_free(&r);
    r = route(g, 80, 0, 20, 0, NULL, 1, CT_ROUTE_DIJKSTRA, NULL);
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 2 + 10 + 10 + 20 + 2, 1e-9);
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
}

CT_TEST(test_closures)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    ct_route_closures *c = ct_route_closures_create(g);
    CT_CHECK_EQ_INT(ct_route_closures_add_fid(c, 2), 1); /* BC */
    /* B -> C without BC: B has no other way out (AB is one-way into B): the
     * start snaps to the nearest open road instead: (100,0) is on AB's end. */
    ct_route_result r = route(g, 50, 0, 100, 100, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(!r.reachable);
    CT_CHECK(strstr(r.reason, "closed by --close-edges") != NULL);
    ct_route_result_free(&r);
    ct_route_closures_destroy(c);

    /* an avoid polygon over the bridge cuts square 2 off */
    const char *poly = tmp_path("flood.geojson");
    write_text(poly, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{},"
                     "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[190,90],[210,90],[210,110],[190,110],"
                     "[190,90]]]}}]}");
    c = ct_route_closures_create(g);
    size_t n = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_route_closures_add_polygons(c, poly, &n, &err) == CT_OK);
    CT_CHECK_EQ_INT(n, 1);
    r = route(g, 0, 0, 400, 150, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(!r.reachable);
    CT_CHECK(!strcmp(r.reason, "all paths closed by --avoid"));
    ct_route_result_free(&r);
    r = route(g, 0, 0, 400, 150, NULL, 1, CT_ROUTE_ALT, NULL);
    /* A-B-C (20 s) + bridge 20 s + E-F 10 s + F up 5 s */
    CT_CHECK_NEAR(r.n_paths ? r.paths[0].cost_s : -1, 55, 1e-6);
    ct_route_result_free(&r);
    ct_route_closures_destroy(c);
    ct_route_graph_destroy(g);
}

CT_TEST(test_disconnected)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    for (int algo = 0; algo < CT_ROUTE_ALGO_COUNT; algo++) {
        ct_route_result r = route(g, 0, 0, 1050, 1000, NULL, 1, (ct_route_algo)algo, NULL);
        CT_CHECK(!r.reachable);
        CT_CHECK(!strcmp(r.reason, "no path: start and end are in different components"));
        ct_route_result_free(&r);
    }
    ct_route_graph_destroy(g);
}

CT_TEST(test_k_alternatives)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    /* A to C: A-B-C 20 s, A-D-C 20 + 10 = 30 s; no other loopless way */
    ct_route_result r = route(g, 0, 0, 100, 100, NULL, 5, CT_ROUTE_ALT, NULL);
    CT_REQUIRE(r.reachable);
    CT_CHECK_EQ_INT(r.n_paths, 2);
    if (r.n_paths == 2) {
        CT_CHECK_NEAR(r.paths[0].cost_s, 20, 1e-9);
        CT_CHECK_NEAR(r.paths[1].cost_s, 30, 1e-9);
    }
    ct_route_result_free(&r);
    /* mid-AB to mid-FG (square 2 gives two ways round): 5+10 to C, 20 bridge,
     * then E-F-(half FG) 15 s or E-H-G-(half GF) 9.98+10+5 s */
    r = route(g, 50, 0, 400, 150, NULL, 4, CT_ROUTE_DIJKSTRA, NULL);
    CT_REQUIRE(r.reachable);
    CT_CHECK(r.n_paths >= 2);
    if (r.n_paths >= 2) {
        CT_CHECK_NEAR(r.paths[0].cost_s, 15 + 20 + 15, 1e-6);
        CT_CHECK_NEAR(r.paths[1].cost_s, 15 + 20 + 9.98 + 10 + 5, 1e-6);
        for (int i = 1; i < r.n_paths; i++)
            CT_CHECK(r.paths[i].cost_s >= r.paths[i - 1].cost_s);
        /* distinct edge sequences */
        for (int i = 0; i < r.n_paths; i++)
            for (int j = i + 1; j < r.n_paths; j++)
                CT_CHECK(r.paths[i].n_edges != r.paths[j].n_edges ||
                         memcmp(r.paths[i].edges, r.paths[j].edges, r.paths[i].n_edges * sizeof(uint32_t)));
    }
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
}

/* The demo district's street layer (citytwin demo): every road feature
 * carries from_node / to_node / length / speed_kmh / oneway. A Floyd-Warshall
 * over those attributes (independent of our topology building and
 * geometry) must give the same fastest times between junctions. */
CT_TEST(test_demo_streets)
{
    const char *dir = tmp_path("demo");
    ct_error err = {0};
    CT_REQUIRE(ct_demo_generate(dir, NULL, &err) == CT_OK);
    char roads[600];
    snprintf(roads, sizeof roads, "%s/roads.geojson", dir);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(roads, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    OGRLayerH lyr = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH fd = OGR_L_GetLayerDefn(lyr);
    int fi_from = OGR_FD_GetFieldIndex(fd, "from_node"), fi_to = OGR_FD_GetFieldIndex(fd, "to_node");
    int fi_len = OGR_FD_GetFieldIndex(fd, "length"), fi_sp = OGR_FD_GetFieldIndex(fd, "speed_kmh");
    int fi_ow = OGR_FD_GetFieldIndex(fd, "oneway");
    CT_REQUIRE(fi_from >= 0 && fi_to >= 0 && fi_len >= 0 && fi_sp >= 0 && fi_ow >= 0);
    enum { MAXN = 512 };
    static double D[MAXN][MAXN], nx[MAXN], ny[MAXN];
    static bool seen[MAXN];
    for (int i = 0; i < MAXN; i++)
        for (int j = 0; j < MAXN; j++)
            D[i][j] = i == j ? 0 : INFINITY;
    int n = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(lyr))) {
        int a = OGR_F_GetFieldAsInteger(f, fi_from), b = OGR_F_GetFieldAsInteger(f, fi_to);
        double c = OGR_F_GetFieldAsDouble(f, fi_len) / (OGR_F_GetFieldAsDouble(f, fi_sp) / 3.6);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (a >= 0 && b >= 0 && a < MAXN && b < MAXN && g) {
            int last = OGR_G_GetPointCount(g) - 1;
            nx[a] = OGR_G_GetX(g, 0), ny[a] = OGR_G_GetY(g, 0), seen[a] = true;
            nx[b] = OGR_G_GetX(g, last), ny[b] = OGR_G_GetY(g, last), seen[b] = true;
            D[a][b] = fmin(D[a][b], c);
            if (!OGR_F_GetFieldAsInteger(f, fi_ow))
                D[b][a] = fmin(D[b][a], c);
            n = a + 1 > n ? a + 1 : n;
            n = b + 1 > n ? b + 1 : n;
        }
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    CT_REQUIRE(n > 10);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (D[i][k] + D[k][j] < D[i][j])
                    D[i][j] = D[i][k] + D[k][j];
    ct_route_graph_desc d = {.path = roads};
    ct_route_graph *g = NULL;
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    int compared = 0, bad = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            if (!seen[i] || !seen[j] || i == j)
                continue;
            ct_route_result r = route(g, nx[i], ny[i], nx[j], ny[j], NULL, 1, CT_ROUTE_ALT, NULL);
            double ours = r.reachable ? r.paths[0].cost_s : INFINITY;
            /* the layer's lengths are rounded to centimetres */
            bool ok = isinf(D[i][j]) ? isinf(ours) : fabs(ours - D[i][j]) <= 1e-3 * D[i][j] + 0.01;
            if (!ok && bad++ < 5)
                fprintf(stderr, "demo %d->%d: ours %.4f attributes %.4f\n", i, j, ours, D[i][j]);
            compared++;
            ct_route_result_free(&r);
        }
    CT_CHECK(compared > 100);
    CT_CHECK_EQ_INT(bad, 0);
    /* the river cuts the district in two: closing what crosses it leaves no way over */
    char river[600];
    snprintf(river, sizeof river, "%s/river.geojson", dir);
    ct_route_closures *c = ct_route_closures_create(g);
    size_t closed = 0;
    CT_REQUIRE(ct_route_closures_add_polygons(c, river, &closed, &err) == CT_OK);
    CT_CHECK(closed >= 1);
    ct_route_result r = route(g, 404935, 2498609, 405677, 2497889, c, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(!r.reachable && !strcmp(r.reason, "all paths closed by --avoid"));
    ct_route_result_free(&r);
    ct_route_closures_destroy(c);
    ct_route_graph_destroy(g);
}

/* Yen against brute force: every simple path between two corners of a small
 * grid with mixed speeds and one-way streets, enumerated by depth-first
 * search; the k best costs must match. */
static double bf_costs[20000];
static int bf_n;

static void bf_dfs(ct_route_graph *g, size_t n_edges, uint32_t v, uint32_t t, double cost, uint8_t *on_path)
{
    if (v == t) {
        if (bf_n < 20000)
            bf_costs[bf_n++] = cost;
        return;
    }
    on_path[v] = 1;
    for (size_t e = 0; e < n_edges; e++) {
        uint32_t a, b;
        double c;
        ct_route_graph_edge(g, e, &a, &b, &c, NULL);
        if (a == v && !on_path[b])
            bf_dfs(g, n_edges, b, t, cost + c, on_path);
    }
    on_path[v] = 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

CT_TEST(test_yen_bruteforce)
{
    char buf[16384];
    size_t o = (size_t)snprintf(buf, sizeof buf, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\","
                                "\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::3857\"}},\"features\":[");
    int id = 0;
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++) {
                int ax = dir ? i : j, ay = dir ? j : i, bx = dir ? i : j + 1, by = dir ? j + 1 : i;
                int speed = 20 + (i * 7 + j * 13 + dir * 5) % 5 * 10;
                const char *ow = (i + j + dir) % 5 == 0 ? "yes" : "no";
                o += (size_t)snprintf(buf + o, sizeof buf - o,
                                      "%s{\"type\":\"Feature\",\"id\":%d,\"properties\":{\"speed\":%d,\"oneway\":\"%s\"},"
                                      "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[%d,%d],[%d,%d]]}}",
                                      id ? "," : "", id + 1, speed, ow, ax * 100, ay * 100, bx * 100, by * 100);
                id++;
            }
    snprintf(buf + o, sizeof buf - o, "]}");
    const char *p = tmp_path("grid4.geojson");
    write_text(p, buf);
    ct_route_graph_desc d = {.path = p};
    ct_route_graph *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    CT_REQUIRE(gi.nodes == 16);
    const double ends[2][4] = {{0, 0, 300, 300}, {300, 0, 0, 200}};
    for (int q = 0; q < 2; q++) {
        ct_route_query rq;
        ct_route_result r = route(g, ends[q][0], ends[q][1], ends[q][2], ends[q][3], NULL, 12, CT_ROUTE_ALT, &rq);
        CT_REQUIRE(r.reachable);
        /* the graph nodes at the two corners */
        uint32_t s = UINT32_MAX, t = UINT32_MAX;
        for (uint32_t v = 0; v < gi.nodes; v++) {
            double x, y;
            ct_route_graph_node_xy(g, v, &x, &y);
            if (x == ends[q][0] && y == ends[q][1])
                s = v;
            if (x == ends[q][2] && y == ends[q][3])
                t = v;
        }
        CT_REQUIRE(s != UINT32_MAX && t != UINT32_MAX);
        uint8_t on_path[16] = {0};
        bf_n = 0;
        bf_dfs(g, gi.edges, s, t, 0, on_path);
        qsort(bf_costs, (size_t)bf_n, sizeof *bf_costs, cmp_double);
        CT_CHECK(bf_n >= 12);
        CT_CHECK_EQ_INT(r.n_paths, bf_n < 12 ? bf_n : 12);
        for (int i = 0; i < r.n_paths && i < bf_n; i++)
            CT_CHECK_NEAR(r.paths[i].cost_s, bf_costs[i], 1e-9);
        ct_route_result_free(&r);
    }
    ct_route_graph_destroy(g);
}

/* The GraphHopper turn-restriction sample; its node 2 sits at lon 0, lat 0,
 * which GDAL's OSM driver drops (see docs/routing.md), so we move it to
 * (0.001, 0.001) in a copy. */
static const char *turn_file_with(const char *restriction);

static const char *turn_file(void)
{
    return turn_file_with(NULL);
}

/* The same file with its restriction value replaced (NULL: as it is). */
static const char *turn_file_with(const char *restriction)
{
    uint8_t *data;
    size_t size;
    ct_error err;
    if (ct_file_read(ct_test_data("osm/synthetic/test_simple_turncosts.osm.xml"), 0, &data, &size, &err) != CT_OK)
        return NULL;
    const char *needle = "lat=\"0.0\" lon=\"0.0\"";
    char *hit = strstr((char *)data, needle);
    const char *out = tmp_path(restriction ? "turn_only.osm" : "turn.osm");
    FILE *f = fopen(out, "w");
    if (!hit || !f) {
        free(data);
        if (f)
            fclose(f);
        return NULL;
    }
    fwrite(data, 1, (size_t)(hit - (char *)data), f);
    fputs("lat=\"0.001\" lon=\"0.001\"", f);
    const char *rest = hit + strlen(needle), *nl = restriction ? strstr(rest, "no_left_turn") : NULL;
    if (nl) {
        fwrite(rest, 1, (size_t)(nl - rest), f);
        fputs(restriction, f);
        fputs(nl + strlen("no_left_turn"), f);
    } else {
        fputs(rest, f);
    }
    fclose(f);
    free(data);
    return out;
}

static double geod_len(const double *lonlat, int n)
{
    struct geod_geodesic gd;
    geod_init(&gd, 6378137.0, 1 / 298.257223563);
    double sum = 0;
    for (int i = 0; i + 1 < n; i++) {
        double s;
        geod_inverse(&gd, lonlat[2 * i + 1], lonlat[2 * i], lonlat[2 * i + 3], lonlat[2 * i + 2], &s, NULL, NULL);
        sum += s;
    }
    return sum;
}

CT_TEST(test_turn_restriction)
{
    const char *path = turn_file();
    CT_REQUIRE(path);
    ct_route_graph_desc d = {.path = path};
    ct_route_graph *g = NULL, *g0 = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    d.ignore_turn_restrictions = true;
    CT_REQUIRE(ct_route_graph_load(&d, &g0, &err) == CT_OK);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    CT_CHECK_EQ_INT(gi.restrictions_read, 1);
    CT_CHECK_EQ_INT(gi.restrictions_applied, 1);
    /* from node 1 (0,-0.5) to node 7 (-1,0): way 1 then no_left_turn onto way 3
     * forces the loop 2-3-4-2 (ways 111 and 2) */
    ct_route_result r = route(g, 0, -0.5, -1, 0, NULL, 1, CT_ROUTE_ALT, NULL);
    ct_route_result r0 = route(g0, 0, -0.5, -1, 0, NULL, 1, CT_ROUTE_ALT, NULL);
    CT_REQUIRE(r.reachable && r0.reachable);
    const double loop[] = {0.001, 0.001, 0.0, 0.5, 0.5, 0.0, 0.001, 0.001};
    double loop_s = geod_len(loop, 4) / (50 / 3.6); /* secondary: 50 km/h */
    CT_CHECK_NEAR(r.paths[0].cost_s - r0.paths[0].cost_s, loop_s, 1e-6);
    const double direct[] = {0.0, -0.5, 0.001, 0.001, -0.5, 0.0, -1, 0};
    CT_CHECK_NEAR(r0.paths[0].length_m, geod_len(direct, 4), 1e-6);
    /* the other Dijkstra variants agree on the split graph */
    ct_route_result r2 = route(g, 0, -0.5, -1, 0, NULL, 1, CT_ROUTE_BIDIJKSTRA, NULL);
    CT_CHECK_NEAR(r2.n_paths ? r2.paths[0].cost_s : -1, r.paths[0].cost_s, 1e-9);
    ct_route_result_free(&r2);
    r2 = route(g, 0, -0.5, -1, 0, NULL, 1, CT_ROUTE_CH, NULL); /* the hierarchy holds the node copies */
    CT_CHECK_NEAR(r2.n_paths ? r2.paths[0].cost_s : -1, r.paths[0].cost_s, 1e-9);
    ct_route_result_free(&r);
    ct_route_result_free(&r0);
    ct_route_result_free(&r2);
    ct_route_graph_destroy(g);
    ct_route_graph_destroy(g0);
}

/* only_straight_on from way 1 onto way 3 at node 2: from node 1 nothing but
 * way 3 (a one-way dead end towards 7 and 8) can be reached, so node 3 on
 * way 111 is unreachable; without restrictions it is reached directly. */
CT_TEST(test_turn_only)
{
    const char *path = turn_file_with("only_straight_on");
    CT_REQUIRE(path);
    ct_route_graph_desc d = {.path = path};
    ct_route_graph *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    ct_route_result r = route(g, 0, -0.5, 0, 0.5, NULL, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(!r.reachable);
    ct_route_result_free(&r);
    r = route(g, 0, -0.5, 0, 0.5, NULL, 1, CT_ROUTE_CH, NULL);
    CT_CHECK(!r.reachable);
    ct_route_result_free(&r);
    r = route(g, 0, -0.5, -1, 0, NULL, 1, CT_ROUTE_DIJKSTRA, NULL); /* straight on is fine */
    CT_CHECK(r.reachable);
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
    d.ignore_turn_restrictions = true;
    CT_REQUIRE(ct_route_graph_load(&d, &g, &err) == CT_OK);
    r = route(g, 0, -0.5, 0, 0.5, NULL, 1, CT_ROUTE_ALT, NULL);
    CT_CHECK(r.reachable);
    ct_route_result_free(&r);
    ct_route_graph_destroy(g);
}

/* Runs a shell command and reads one integer from the line matching "key". */
static long ogr_count(const char *sql)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -q -dialect sqlite -sql \"%s\" '%s' 2>/dev/null", sql,
             ct_test_data("osm/monaco/monaco.osm.pbf"));
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[512];
    long v = -1;
    while (fgets(line, sizeof line, p)) {
        char *eq = strstr(line, "n (Integer) = ");
        if (eq)
            v = atol(eq + 14);
    }
    pclose(p);
    return v;
}

static ct_route_graph *monaco(void)
{
    ct_route_graph *g = g_monaco;
    if (!g) {
        ct_route_graph_desc d = {.path = ct_test_data("osm/monaco/monaco.osm.pbf")};
        ct_error err = {0};
        if (ct_route_graph_load(&d, &g, &err) != CT_OK)
            fprintf(stderr, "monaco: %s\n", err.msg);
        g_monaco = g;
        if (g && !tmpdir[0])
            tmp_path("x"); /* registers the cleanup */
    }
    return g;
}

CT_TEST(test_osm_counts)
{
    if (system("ogrinfo --version > /dev/null 2>&1") != 0) {
        fprintf(stderr, "ogrinfo missing: skipping the count check\n");
        return;
    }
    ct_route_graph *g = monaco();
    CT_REQUIRE(g);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    /* the driveable classes of the built-in table, not tagged area=yes */
    long ways = ogr_count("SELECT COUNT(*) AS n FROM lines WHERE highway IN ('motorway','motorway_link','trunk',"
                          "'trunk_link','primary','primary_link','secondary','secondary_link','tertiary',"
                          "'tertiary_link','unclassified','residential','living_street','service','road','track',"
                          "'pedestrian','busway') AND (other_tags IS NULL OR other_tags NOT LIKE "
                          "'%\\\"area\\\"=>\\\"yes\\\"%')");
    long rels = ogr_count("SELECT COUNT(*) AS n FROM other_relations WHERE type = 'restriction'");
    CT_CHECK(ways > 1000);
    CT_CHECK_EQ_INT(gi.features_read, ways);
    CT_CHECK_EQ_INT(gi.restrictions_read, rels);
    CT_CHECK(gi.restrictions_applied > 0 && gi.restrictions_applied <= gi.restrictions_read);
    CT_CHECK(gi.geographic && gi.osm);
    CT_CHECK(gi.landmarks == 16);
}

static uint64_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

CT_TEST(test_alt_equals_dijkstra_monaco)
{
    ct_route_graph *g = monaco();
    CT_REQUIRE(g);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    ct_route_searcher *s = ct_route_searcher_create(g);
    ct_route_closures *c = ct_route_closures_create(g);
    for (int i = 0; i < 60; i++) /* a random tenth of a typical city: close 60 segments */
        ct_route_closures_add_segment(c, rnd((uint32_t)gi.segments));
    int mismatches = 0, reachable = 0;
    /* 1,200 node pairs and 400 snapped point pairs, half of each with closures */
    for (int i = 0; i < 1200; i++) {
        const ct_route_closures *cl = i % 2 ? c : NULL;
        uint32_t a = rnd((uint32_t)gi.nodes), b = rnd((uint32_t)gi.nodes);
        double d0 = ct_route_node_cost(s, a, b, cl, CT_ROUTE_DIJKSTRA);
        double d1 = ct_route_node_cost(s, a, b, cl, CT_ROUTE_ALT);
        double d2 = ct_route_node_cost(s, a, b, cl, CT_ROUTE_BIDIJKSTRA);
        reachable += isfinite(d0);
        bool same = (isinf(d0) && isinf(d1) && isinf(d2)) || (fabs(d0 - d1) < 1e-6 && fabs(d0 - d2) < 1e-6);
        if (!same && mismatches++ < 5)
            fprintf(stderr, "pair %u->%u: dijkstra %.9f alt %.9f bidi %.9f\n", a, b, d0, d1, d2);
    }
    CT_CHECK_EQ_INT(mismatches, 0);
    CT_CHECK(reachable > 600);
    /* snapped queries between random points, with closures, all three algorithms */
    mismatches = 0;
    for (int i = 0; i < 400; i++) {
        double fx = 7.41 + rnd(30000) * 1e-6, fy = 43.725 + rnd(25000) * 1e-6;
        double tx = 7.41 + rnd(30000) * 1e-6, ty = 43.725 + rnd(25000) * 1e-6;
        double cost[CT_ROUTE_ALGO_COUNT];
        bool same = true;
        for (int algo = 0; algo < CT_ROUTE_ALGO_COUNT; algo++) {
            ct_route_result r = route(g, fx, fy, tx, ty, i % 2 ? c : NULL, 1, (ct_route_algo)algo, NULL);
            cost[algo] = r.reachable ? r.paths[0].cost_s : INFINITY;
            ct_route_result_free(&r);
        }
        for (int algo = 0; algo < CT_ROUTE_ALGO_COUNT; algo++)
            same &= (isinf(cost[algo]) && isinf(cost[CT_ROUTE_DIJKSTRA])) ||
                    fabs(cost[algo] - cost[CT_ROUTE_DIJKSTRA]) < 1e-6;
        if (!same && mismatches++ < 5)
            fprintf(stderr, "query %d: ch %.9f alt %.9f dijkstra %.9f bidi %.9f\n", i, cost[0], cost[1], cost[2],
                    cost[3]);
    }
    CT_CHECK_EQ_INT(mismatches, 0);
    ct_route_closures_destroy(c);
    ct_route_searcher_destroy(s);
}

CT_TEST(test_k_monaco_ordered)
{
    ct_route_graph *g = monaco();
    CT_REQUIRE(g);
    ct_route_result r = route(g, 7.4190, 43.7310, 7.4270, 43.7390, NULL, 4, CT_ROUTE_ALT, NULL);
    CT_REQUIRE(r.reachable);
    CT_CHECK_EQ_INT(r.n_paths, 4);
    ct_route_result r1 = route(g, 7.4190, 43.7310, 7.4270, 43.7390, NULL, 1, CT_ROUTE_DIJKSTRA, NULL);
    CT_CHECK_NEAR(r.paths[0].cost_s, r1.n_paths ? r1.paths[0].cost_s : -1, 1e-6);
    for (int i = 1; i < r.n_paths; i++) {
        CT_CHECK(r.paths[i].cost_s >= r.paths[i - 1].cost_s - 1e-9);
        for (int j = 0; j < i; j++)
            CT_CHECK(r.paths[i].n_edges != r.paths[j].n_edges ||
                     memcmp(r.paths[i].edges, r.paths[j].edges, r.paths[i].n_edges * sizeof(uint32_t)));
        /* loopless: no junction twice (checked through edge tails) */
        for (size_t a = 0; a < r.paths[i].n_edges; a++)
            for (size_t b = a + 1; b < r.paths[i].n_edges; b++) {
                uint32_t ta, tb;
                ct_route_graph_edge(g, r.paths[i].edges[a], &ta, NULL, NULL, NULL);
                ct_route_graph_edge(g, r.paths[i].edges[b], &tb, NULL, NULL, NULL);
                double xa, ya, xb, yb;
                ct_route_graph_node_xy(g, ta, &xa, &ya);
                ct_route_graph_node_xy(g, tb, &xb, &yb);
                CT_CHECK(xa != xb || ya != yb);
            }
    }
    ct_route_result_free(&r);
    ct_route_result_free(&r1);
}

/* Point-in-isochrone tests against one parsed, prepared polygon. */
typedef struct iso_poly {
    OGRGeometryH geom;
    OGRPreparedGeometryH prep;
} iso_poly;

static iso_poly iso_open(const ct_route_isochrone *iso)
{
    iso_poly p = {0};
    if (iso->wkb && OGR_G_CreateFromWkb(iso->wkb, NULL, &p.geom, (int)iso->wkb_size) == OGRERR_NONE)
        p.prep = OGRCreatePreparedGeometry(p.geom);
    return p;
}

static bool iso_contains(const iso_poly *p, double x, double y)
{
    if (!p->prep)
        return false;
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(pt, 0, x, y);
    bool in = OGRPreparedGeometryIntersects(p->prep, pt);
    OGR_G_DestroyGeometry(pt);
    return in;
}

static void iso_close(iso_poly *p)
{
    if (p->prep)
        OGRDestroyPreparedGeometry(p->prep);
    if (p->geom)
        OGR_G_DestroyGeometry(p->geom);
}

CT_TEST(test_isochrone_grid)
{
    ct_route_graph *g = load_net(NULL);
    CT_REQUIRE(g);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    ct_route_searcher *s = ct_route_searcher_create(g);
    ct_route_snap from;
    ct_error err;
    CT_REQUIRE(ct_route_snap_point(g, 0, 0, NULL, 0, &from, &err) == CT_OK);
    double minutes[2] = {0.5, 1.0}, buffer = 5;
    ct_route_isochrone iso[2];
    CT_REQUIRE(ct_route_isochrones(s, &from, 1, NULL, minutes, 2, buffer, iso, &err) == CT_OK);
    double *t = calloc(gi.nodes, sizeof *t);
    CT_REQUIRE(ct_route_reach_times(s, &from, 1, NULL, t, &err) == CT_OK);
    /* by hand: A 0, B 10, C 20, D 20 (via DA at 5 m/s), E 40, F 50, H 49.98, G 59.98, P,Q never */
    int checked_in = 0, checked_out = 0;
    for (int m = 0; m < 2; m++) {
        double T = minutes[m] * 60;
        iso_poly ip = iso_open(&iso[m]);
        for (size_t v = 0; v < gi.nodes; v++) {
            double x, y;
            CT_REQUIRE(ct_route_graph_node_xy(g, v, &x, &y));
            if (t[v] <= T) {
                CT_CHECK(iso_contains(&ip, x, y));
                checked_in++;
            } else if (t[v] > T + buffer / 5.0) { /* beyond the buffer at the slowest speed */
                CT_CHECK(!iso_contains(&ip, x, y));
                checked_out++;
            }
        }
        iso_close(&ip);
    }
    CT_CHECK(checked_in >= 4 + 7);
    CT_CHECK(checked_out >= 6 + 2);
    /* 30 s: A-B (100 m), B-C, the whole of DA and CD from C... area is about
     * (corridors) x 10 m wide; just bound it: more than AB+BC, less than the square */
    CT_CHECK(iso[0].area_m2 > 2000 && iso[0].area_m2 < 100 * 100 + 4000);
    CT_CHECK(iso[1].area_m2 > iso[0].area_m2);
    ct_route_isochrone_free(&iso[0]);
    ct_route_isochrone_free(&iso[1]);
    free(t);
    ct_route_searcher_destroy(s);
    ct_route_graph_destroy(g);
}

CT_TEST(test_isochrone_monaco)
{
    ct_route_graph *g = monaco();
    CT_REQUIRE(g);
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    ct_route_searcher *s = ct_route_searcher_create(g);
    ct_route_snap from;
    ct_error err;
    CT_REQUIRE(ct_route_snap_point(g, 7.4236, 43.7384, NULL, 0, &from, &err) == CT_OK);
    double minutes[1] = {2};
    ct_route_isochrone iso[1];
    CT_REQUIRE(ct_route_isochrones(s, &from, 1, NULL, minutes, 1, 25, iso, &err) == CT_OK);
    double *t = calloc(gi.nodes, sizeof *t);
    CT_REQUIRE(ct_route_reach_times(s, &from, 1, NULL, t, &err) == CT_OK);
    int in = 0, bad = 0, far_out = 0;
    iso_poly ip = iso_open(&iso[0]);
    for (size_t v = 0; v < gi.nodes; v++) {
        double x, y;
        if (!ct_route_graph_node_xy(g, v, &x, &y))
            continue;
        if (t[v] <= 120) {
            in++;
            bad += !iso_contains(&ip, x, y);
        } else if (!isfinite(t[v]) || t[v] > 600) {
            far_out += !iso_contains(&ip, x, y);
        }
    }
    CT_CHECK(in > 50);
    CT_CHECK_EQ_INT(bad, 0);
    CT_CHECK(far_out > 100);
    CT_CHECK(iso[0].area_m2 > 1e5);
    iso_close(&ip);
    ct_route_isochrone_free(&iso[0]);
    free(t);
    ct_route_searcher_destroy(s);
}

/* Progress of the isochrones: moving through the reach times, fragments,
 * buffers and unions of each limit, ending at 1; the areas are the same as
 * without a callback. */
CT_TEST(test_isochrone_progress)
{
    ct_route_graph *g = monaco();
    CT_REQUIRE(g);
    ct_route_searcher *s = ct_route_searcher_create(g);
    ct_route_snap from;
    ct_error err;
    CT_REQUIRE(ct_route_snap_point(g, 7.4236, 43.7384, NULL, 0, &from, &err) == CT_OK);
    double minutes[2] = {1, 2};
    ct_route_isochrone a[2], b[2];
    CT_REQUIRE(ct_route_isochrones(s, &from, 1, NULL, minutes, 2, 25, a, &err) == CT_OK);
    ct_test_progress p = {0};
    ct_route_isochrone_desc d = {.from = &from, .n_from = 1, .minutes = minutes, .n_minutes = 2, .buffer_m = 25,
                                 .progress = ct_test_progress_record, .progress_user = &p};
    CT_REQUIRE(ct_route_isochrones_compute(s, &d, b, &err) == CT_OK);
    CT_CHECK_PROGRESS(p, 20);
    for (int m = 0; m < 2; m++) {
        CT_CHECK(a[m].area_m2 > 0 && a[m].area_m2 == b[m].area_m2);
        CT_CHECK_EQ_INT(a[m].segments_reached, b[m].segments_reached);
        ct_route_isochrone_free(&a[m]);
        ct_route_isochrone_free(&b[m]);
    }
    ct_route_searcher_destroy(s);
}

/* ---- the command line ---- */

CT_TEST(test_cli_errors)
{
    char args[2048];
    const char *net = tmp_path("net.geojson");
    write_text(net, NET);
    /* missing file -> 2 */
    CT_CHECK_EQ_INT(ct_test_run_cli("analyze route --roads /nonexistent.pbf --from 0,0 --to 1,1", NULL, NULL), 2);
    /* empty layer -> 2 */
    const char *empty = tmp_path("empty.geojson");
    write_text(empty, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 1,1", empty);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    /* points, not lines -> 2 */
    const char *pts = tmp_path("points.geojson");
    write_text(pts, "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{},"
                    "\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}]}");
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 1,1", pts);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    /* point far outside the graph -> 2 */
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 50000,50000", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    /* bad speeds CSV -> 2 */
    const char *sp = tmp_path("speeds.csv");
    write_text(sp, "class,kmh\nresidential,fast\n");
    snprintf(args, sizeof args, "analyze route --roads %s --speeds %s --from 0,0 --to 100,100", net, sp);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
}

CT_TEST(test_cli_usage)
{
    char *out = NULL;
    char args[2048];
    const char *net = tmp_path("net.geojson");
    write_text(net, NET);
    /* absurd --k, unknown option, missing --to -> 1 */
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 100,100 --k 100000", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 100,100 --k 0", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 100,100 --bogus", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,zero --to 1,1", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze isochrone --roads %s --from 0,0 --minutes 5,-1 -o %s", net,
             tmp_path("iso.gpkg"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    /* unreachable is an answer, not an error */
    snprintf(args, sizeof args, "analyze route --roads %s --from 0,0 --to 1050,1000 --json", net);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "routes"), 0);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r0, "reachable")));
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(r0, "reason")));
    cJSON_Delete(j);
}

CT_TEST(test_cli_route_json)
{
    char *out = NULL;
    char args[2048];
    const char *net = tmp_path("net.geojson");
    write_text(net, NET);
    const char *gpkg = tmp_path("routes.gpkg");
    /* two stations to one incident, k = 2; the incident at mid-BC */
    snprintf(args, sizeof args,
             "analyze route --roads %s --from 0,0 --from 400,150 --to 100,50 --k 2 -o %s --json --close-edges 4", net,
             gpkg);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    cJSON *routes = cJSON_GetObjectItem(j, "routes");
    /* station 0 (DA closed): A-B-mid BC = 15 s, or A-B-C-back to mid BC = 25 s;
     * station 1: mid-FG -> F -> E -> bridge -> C -> mid BC = 5 + 10 + 20 + 5 = 40 s,
     * or via G-H-E: 5 + 10 + 9.98 + 20 + 5 = 49.98 s */
    CT_REQUIRE(cJSON_GetArraySize(routes) == 4);
    static const double want[4] = {15, 25, 40, 49.98};
    for (int i = 0; i < 4; i++)
        CT_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(routes, i), "cost_s")->valuedouble, want[i], 1e-6);
    CT_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(routes, 0), "snap_to_m")->valuedouble, 0, 1e-9);
    CT_CHECK_EQ_INT(cJSON_GetObjectItem(j, "best")->valueint, 0);
    /* the default is the contraction hierarchy; DA lies on no best path: no fallback */
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "algorithm")) &&
             !strcmp(cJSON_GetObjectItem(j, "algorithm")->valuestring, "ch"));
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "ch_fallbacks")) &&
             cJSON_GetObjectItem(j, "ch_fallbacks")->valueint == 0);
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "graph"), "ch")));
    cJSON_Delete(j);
    /* the GeoPackage has the 4 lines */
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    CT_CHECK_EQ_INT(OGR_L_GetFeatureCount(GDALDatasetGetLayerByName(ds, "routes"), 1), 4);
    GDALClose(ds);
    /* the first line runs from the snapped start (0,0) to the snapped end (100,50) */
    ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    OGRLayerH rl = GDALDatasetGetLayerByName(ds, "routes");
    OGRFeatureH rf = OGR_L_GetNextFeature(rl);
    CT_REQUIRE(rf);
    OGRGeometryH rg = OGR_F_GetGeometryRef(rf);
    int np = rg ? OGR_G_GetPointCount(rg) : 0;
    CT_CHECK(np >= 2);
    if (np >= 2) {
        CT_CHECK_NEAR(OGR_G_GetX(rg, 0), 0, 1e-9);
        CT_CHECK_NEAR(OGR_G_GetY(rg, 0), 0, 1e-9);
        CT_CHECK_NEAR(OGR_G_GetX(rg, np - 1), 100, 1e-9);
        CT_CHECK_NEAR(OGR_G_GetY(rg, np - 1), 50, 1e-9);
    }
    OGR_F_Destroy(rf);
    GDALClose(ds);
    /* --crs: the same incident given in lon/lat (spherical Mercator inverse by hand) */
    const double R = 6378137.0, deg = 180 / M_PI;
    snprintf(args, sizeof args, "analyze route --roads %s --crs EPSG:4326 --from 0,0 --to %.12f,%.12f --json", net,
             100 / R * deg, atan(sinh(50 / R)) * deg);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    /* A-B (10 s) and half of B-C (5 s); DA is open again here */
    CT_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "routes"), 0), "cost_s")->valuedouble,
                  15, 1e-5);
    cJSON_Delete(j);
    /* --pairs */
    const char *pairs = tmp_path("pairs.csv");
    write_text(pairs, "from_x,from_y,to_x,to_y\n0,0,100,0\n100,0,0,0\n0,0,1050,1000\n");
    snprintf(args, sizeof args, "analyze route --roads %s --pairs %s --json", net, pairs);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    routes = cJSON_GetObjectItem(j, "routes");
    CT_REQUIRE(cJSON_GetArraySize(routes) == 3);
    CT_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(routes, 0), "cost_s")->valuedouble, 10, 1e-9);
    CT_CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(routes, 1), "cost_s")->valuedouble, 40, 1e-9);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(routes, 2), "reachable")));
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "query_ms_mean")));
    CT_CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "load_s")));
    cJSON_Delete(j);
    /* isochrone through the CLI */
    snprintf(args, sizeof args, "analyze isochrone --roads %s --from 0,0 --minutes 0.5,1 --buffer 5 -o %s --json",
             net, tmp_path("iso.gpkg"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "isochrones")), 2);
    cJSON_Delete(j);
}

CT_TEST(test_text_parsers)
{
    char v[64];
    CT_CHECK(ct_route_hstore_get("\"oneway\"=>\"yes\",\"maxspeed\"=>\"30 mph\"", "maxspeed", v, sizeof v));
    CT_CHECK(!strcmp(v, "30 mph"));
    CT_CHECK(!ct_route_hstore_get("\"oneway\"=>\"yes\"", "maxspeed", v, sizeof v));
    CT_CHECK(ct_route_hstore_get("\"name\"=>\"a \\\"b\\\"\",\"k\"=>\"v\"", "k", v, sizeof v) && !strcmp(v, "v"));
    CT_CHECK(!ct_route_hstore_get("\"broken=>", "broken", v, sizeof v));
    CT_CHECK_EQ_INT(ct_route_oneway_parse("yes"), 1);
    CT_CHECK_EQ_INT(ct_route_oneway_parse("true"), 1);
    CT_CHECK_EQ_INT(ct_route_oneway_parse("1"), 1);
    CT_CHECK_EQ_INT(ct_route_oneway_parse("-1"), -1);
    CT_CHECK_EQ_INT(ct_route_oneway_parse("no"), 0);
    CT_CHECK_EQ_INT(ct_route_oneway_parse("reversible"), 2);
    CT_CHECK_NEAR(ct_route_maxspeed_parse("50"), 50, 0);
    CT_CHECK_NEAR(ct_route_maxspeed_parse("30 mph"), 48.28032, 1e-9);
    CT_CHECK_NEAR(ct_route_maxspeed_parse("DE:urban"), -1, 0);
    CT_CHECK_NEAR(ct_route_maxspeed_parse("none"), -1, 0);
    ct_route_speeds s;
    ct_error err;
    const char *csv = "class,kmh\n# comment\nresidential, 20\nfootway,5\r\n";
    CT_REQUIRE(ct_route_speeds_parse(csv, strlen(csv), &s, &err) == CT_OK);
    CT_CHECK_EQ_INT(s.count, 2);
    CT_CHECK_NEAR(ct_route_speeds_get(&s, "residential"), 20, 0);
    ct_route_speeds_free(&s);
    CT_CHECK(ct_route_speeds_parse("a,b,c\n", 6, &s, &err) == CT_ERR_INPUT);
    CT_CHECK(ct_route_speeds_parse("x,1\ny,-3\n", 9, &s, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "line 2") != NULL);
    ct_route_pairs p;
    const char *pc = "to_x,to_y,from_x,from_y\n1,2,3,4\n";
    CT_REQUIRE(ct_route_pairs_parse(pc, strlen(pc), "p.csv", &p, &err) == CT_OK);
    CT_CHECK_EQ_INT(p.count, 1);
    CT_CHECK(p.xy[0] == 3 && p.xy[1] == 4 && p.xy[2] == 1 && p.xy[3] == 2);
    ct_route_pairs_free(&p);
    CT_CHECK(ct_route_pairs_parse("a,b\n1,2\n", 8, "p.csv", &p, &err) == CT_ERR_INPUT);
    CT_CHECK(ct_route_pairs_parse("from_x,from_y,to_x,to_y\n1,2,3\n", 31, "p.csv", &p, &err) == CT_ERR_INPUT);
}

CT_TEST_MAIN(CT_CASE(test_text_parsers), CT_CASE(test_oneway), CT_CASE(test_layer_costs_and_speeds), CT_CASE(test_snap_mid_edge), CT_CASE(test_closures),
             CT_CASE(test_disconnected), CT_CASE(test_k_alternatives), CT_CASE(test_yen_bruteforce), CT_CASE(test_turn_restriction), CT_CASE(test_turn_only), CT_CASE(test_demo_streets),
             CT_CASE(test_osm_counts), CT_CASE(test_alt_equals_dijkstra_monaco), CT_CASE(test_k_monaco_ordered),
             CT_CASE(test_isochrone_grid), CT_CASE(test_isochrone_monaco), CT_CASE(test_isochrone_progress), CT_CASE(test_cli_errors), CT_CASE(test_cli_usage),
             CT_CASE(test_cli_route_json))
