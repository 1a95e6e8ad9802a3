/* bench_route: graph load, preprocessing and query speed of the router on
 * Monaco (OSM) and on a generated city grid (~200k directed edges): CH
 * (contraction hierarchy, the default), ALT, Dijkstra, bidirectional
 * Dijkstra, and CH with per-query closures; with PostgreSQL + pgRouting
 * installed, the same node-to-node queries through pgr_dijkstra, checking
 * the costs and printing the speed ratio.
 *
 * usage: bench_route [MONACO.osm.pbf] [--queries N] [--grid N] [--pgr-queries N] */
#define _DEFAULT_SOURCE /* getloadavg */
#include "citytwin/ct_route.h"

#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* A grid city: n x n junctions 100 m apart, arterials every 10th line at
 * 50 km/h, the rest 30 km/h, every 4th street one-way. */
static int write_grid(const char *path, int n)
{
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    VSIUnlink(path);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return -1;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 4547);
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, "streets", srs, wkbLineString, NULL);
    OSRDestroySpatialReference(srs);
    OGRFieldDefnH f1 = OGR_Fld_Create("speed", OFTReal), f2 = OGR_Fld_Create("oneway", OFTString);
    OGR_L_CreateField(lyr, f1, 1);
    OGR_L_CreateField(lyr, f2, 1);
    OGR_Fld_Destroy(f1);
    OGR_Fld_Destroy(f2);
    if (OGR_L_StartTransaction(lyr) != OGRERR_NONE)
        return -1;
    const double x0 = 500000, y0 = 2500000;
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j + 1 < n; j++) {
                OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
                OGR_F_SetFieldDouble(f, 0, i % 10 == 0 ? 50 : 30);
                OGR_F_SetFieldString(f, 1, i % 4 == 3 ? (j % 2 ? "yes" : "yes") : "no");
                OGRGeometryH g = OGR_G_CreateGeometry(wkbLineString);
                double ax = dir ? i * 100.0 : j * 100.0, ay = dir ? j * 100.0 : i * 100.0;
                double bx = dir ? i * 100.0 : (j + 1) * 100.0, by = dir ? (j + 1) * 100.0 : i * 100.0;
                OGR_G_AddPoint_2D(g, x0 + ax, y0 + ay);
                OGR_G_AddPoint_2D(g, x0 + bx, y0 + by);
                OGR_F_SetGeometryDirectly(f, g);
                if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
                    return -1;
                OGR_F_Destroy(f);
            }
    if (OGR_L_CommitTransaction(lyr) != OGRERR_NONE)
        return -1;
    GDALClose(ds);
    return 0;
}

typedef struct pair {
    uint32_t s, t;
} pair;

static void bench_graph(const char *name, const char *path, int n_queries, int n_pgr, const char *script)
{
    ct_route_graph_desc d = {.path = path};
    ct_route_graph *g;
    ct_error err = {0};
    double t0 = ct_time_now();
    if (ct_route_graph_load(&d, &g, &err) != CT_OK) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        return;
    }
    double load = ct_time_now() - t0;
    ct_route_graph_info gi;
    ct_route_graph_get_info(g, &gi);
    printf("\n== %s: %zu nodes, %zu directed edges, %zu segments, %zu turn restrictions applied\n", name, gi.nodes,
           gi.edges, gi.segments, gi.restrictions_applied);
    printf("graph load %.3f s (of which preprocessing %.3f s: %d ALT landmarks %.3f s, contraction hierarchy %.3f s, "
           "%zu shortcuts)\n",
           load, gi.prepare_s, gi.landmarks, gi.landmarks_s, gi.ch_s, gi.ch_shortcuts);
    ct_route_searcher *s = ct_route_searcher_create(g);
    /* random reachable node pairs (Dijkstra decides reachability) */
    pair *pairs = malloc((size_t)n_queries * sizeof *pairs);
    double *ref = malloc((size_t)n_queries * sizeof *ref);
    int np = 0, tries = 0;
    while (np < n_queries && tries < n_queries * 20) {
        tries++;
        uint32_t a = rnd((uint32_t)gi.nodes), b = rnd((uint32_t)gi.nodes);
        double c = ct_route_node_cost(s, a, b, NULL, CT_ROUTE_DIJKSTRA);
        if (!isfinite(c) || a == b)
            continue;
        pairs[np] = (pair){a, b};
        ref[np++] = c;
    }
    static const char *const names[4] = {"CH (contraction hier.)", "ALT (A*, 16 landmarks)", "Dijkstra",
                                         "bidirectional Dijkstra"};
    static const ct_route_algo algos[4] = {CT_ROUTE_CH, CT_ROUTE_ALT, CT_ROUTE_DIJKSTRA, CT_ROUTE_BIDIJKSTRA};
    double ms[4];
    for (int a = 0; a < 4; a++) {
        int bad = 0;
        double q0 = ct_time_now();
        for (int i = 0; i < np; i++) {
            double c = ct_route_node_cost(s, pairs[i].s, pairs[i].t, NULL, algos[a]);
            bad += fabs(c - ref[i]) > 1e-6;
        }
        double dt = ct_time_now() - q0;
        ms[a] = dt * 1000 / np;
        printf("%-26s %5d queries: mean %.4f ms, %.0f queries/s, %d cost mismatches vs Dijkstra\n", names[a], np,
               ms[a], np / dt, bad);
    }
    /* CH with 60 random closed segments per batch of queries: the best path
     * avoids them (answered by CH) or crosses one (answered again by ALT) */
    {
        ct_route_closures *cl = ct_route_closures_create(g);
        int bad = 0, fb = 0, nq = 0;
        double t_ch = 0, t_alt = 0;
        for (int i = 0; i < np && cl; i++) {
            if (i % 50 == 0) {
                ct_route_closures_destroy(cl);
                cl = ct_route_closures_create(g);
                for (int k = 0; cl && k < 60; k++)
                    ct_route_closures_add_segment(cl, rnd((uint32_t)gi.segments));
            }
            double q0 = ct_time_now();
            double c1 = ct_route_node_cost(s, pairs[i].s, pairs[i].t, cl, CT_ROUTE_CH);
            double q1 = ct_time_now();
            double c2 = ct_route_node_cost(s, pairs[i].s, pairs[i].t, cl, CT_ROUTE_ALT);
            t_ch += q1 - q0;
            t_alt += ct_time_now() - q1;
            bad += !(c1 == c2 || fabs(c1 - c2) <= 1e-6);
            nq++;
        }
        /* how often CH's path crossed a closure: through the public query API */
        for (int i = 0; i < np && cl; i += 5) {
            double fx, fy, tx, ty;
            ct_route_graph_node_xy(g, pairs[i].s, &fx, &fy);
            ct_route_graph_node_xy(g, pairs[i].t, &tx, &ty);
            ct_route_query q = {.algo = CT_ROUTE_CH, .closures = cl};
            ct_route_result r;
            if (ct_route_snap_point(g, fx, fy, cl, 0, &q.from, &err) != CT_OK ||
                ct_route_snap_point(g, tx, ty, cl, 0, &q.to, &err) != CT_OK ||
                ct_route_search(s, &q, &r, &err) != CT_OK)
                continue;
            fb += r.ch_fallback;
            ct_route_result_free(&r);
        }
        ct_route_closures_destroy(cl);
        printf("%-26s %5d queries: mean %.4f ms (ALT %.4f ms); %d cost mismatches CH vs ALT; "
               "ALT fallback in %d of %d snapped routes\n",
               "CH, 60 closed segments", nq, t_ch * 1000 / (nq ? nq : 1), t_alt * 1000 / (nq ? nq : 1), bad, fb,
               (np + 4) / 5);
    }
    /* snapped routes with geometry, through the public query API (CH) */
    {
        double q0 = ct_time_now();
        int done = 0;
        for (int i = 0; i < np; i++) {
            double fx, fy, tx, ty;
            ct_route_graph_node_xy(g, pairs[i].s, &fx, &fy);
            ct_route_graph_node_xy(g, pairs[i].t, &tx, &ty);
            ct_route_query q = {.algo = CT_ROUTE_CH};
            ct_route_result r;
            if (ct_route_snap_point(g, fx, fy, NULL, 0, &q.from, &err) != CT_OK ||
                ct_route_snap_point(g, tx, ty, NULL, 0, &q.to, &err) != CT_OK ||
                ct_route_search(s, &q, &r, &err) != CT_OK)
                continue;
            done++;
            ct_route_result_free(&r);
        }
        double dt = ct_time_now() - q0;
        printf("%-26s %5d queries: mean %.4f ms (snap both ends + CH + result)\n", "snapped routes", done,
               dt * 1000 / (done ? done : 1));
    }
    /* pgRouting */
    if (n_pgr > 0 && script) {
        char dir[] = "/tmp/ct_bench_pgr_XXXXXX";
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
        } else {
            char p[512];
            snprintf(p, sizeof p, "%s/edges.csv", dir);
            FILE *f = fopen(p, "w");
            fprintf(f, "id,source,target,cost\n");
            for (size_t e = 0; e < gi.edges; e++) {
                uint32_t a, b, sg;
                double c;
                ct_route_graph_edge(g, e, &a, &b, &c, &sg);
                fprintf(f, "%zu,%u,%u,%.17g\n", e + 1, a + 1, b + 1, c);
            }
            fclose(f);
            if (n_pgr > np)
                n_pgr = np;
            snprintf(p, sizeof p, "%s/pairs.csv", dir);
            f = fopen(p, "w");
            fprintf(f, "s,t\n");
            for (int i = 0; i < n_pgr; i++)
                fprintf(f, "%u,%u\n", pairs[i].s + 1, pairs[i].t + 1);
            fclose(f);
            char cmd[1024];
            snprintf(cmd, sizeof cmd, "sh '%s' '%s'", script, dir);
            FILE *pp = popen(cmd, "r");
            double secs = -1;
            if (pp) {
                if (fscanf(pp, "%lf", &secs) != 1)
                    secs = -1;
                int st = pclose(pp);
                if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
                    printf("pgr_dijkstra: PostgreSQL/pgRouting not installed, skipped\n");
                    secs = -2;
                }
            }
            if (secs >= 0) {
                snprintf(p, sizeof p, "%s/pgr_costs.csv", dir);
                f = fopen(p, "r");
                int n = 0, bad = 0;
                unsigned a, b;
                double c;
                while (f && fscanf(f, "%u,%u,%lf", &a, &b, &c) == 3) {
                    double ours = ct_route_node_cost(s, a - 1, b - 1, NULL, CT_ROUTE_CH);
                    if (fabs(ours - c) > 1e-6 * fmax(1, c)) {
                        if (bad++ < 3)
                            printf("  mismatch %u->%u: pgr %.9f ours %.9f\n", a, b, c, ours);
                    }
                    n++;
                }
                if (f)
                    fclose(f);
                double pgr_ms = secs * 1000 / n_pgr;
                printf("pgr_dijkstra               %5d queries: mean %.2f ms (graph rebuilt from SQL per call)\n",
                       n_pgr, pgr_ms);
                printf("costs equal to pgr_dijkstra (CH): %d of %d; per query CH is %.0fx faster than pgr_dijkstra "
                       "(ALT %.0fx, Dijkstra %.0fx, bidir. %.0fx)\n",
                       n - bad, n, pgr_ms / ms[0], pgr_ms / ms[1], pgr_ms / ms[2], pgr_ms / ms[3]);
            } else if (secs == -1) {
                printf("pgr_dijkstra: the PostgreSQL run failed (see %s/pg.log)\n", dir);
            }
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
            if (secs != -1 && system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    free(pairs);
    free(ref);
    ct_route_searcher_destroy(s);
    ct_route_graph_destroy(g);
}

int main(int argc, char **argv)
{
    const char *monaco = CT_DATA_DIR_DEFAULT "/osm/monaco/monaco.osm.pbf";
    int queries = 1000, grid = 240, pgr = 200;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            queries = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--grid") && i + 1 < argc)
            grid = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--pgr-queries") && i + 1 < argc)
            pgr = atoi(argv[++i]);
        else
            monaco = argv[i];
    }
    if (queries < 1)
        queries = 1;
    const char *script = CT_SOURCE_DIR "/bench/route/pgr_dijkstra.sh";
    double la[3];
    if (getloadavg(la, 3) == 3)
        printf("load average at start: %.2f %.2f %.2f\n", la[0], la[1], la[2]);
    bench_graph("Monaco (OSM)", monaco, queries, pgr, script);
    if (grid >= 2) {
        char path[256];
        snprintf(path, sizeof path, "/tmp/ct_bench_grid_%d.gpkg", (int)getpid());
        double t0 = ct_time_now();
        if (write_grid(path, grid) == 0) {
            printf("\n(grid %dx%d written in %.1f s)\n", grid, grid, ct_time_now() - t0);
            char name[64];
            snprintf(name, sizeof name, "city grid %dx%d (GeoPackage)", grid, grid);
            bench_graph(name, path, queries, pgr, script);
        }
        unlink(path);
    }
    return 0;
}
