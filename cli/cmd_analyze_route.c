/* citytwin analyze route: fastest routes (and k alternatives) on a road graph,
 * from one or more stations to incidents, or a CSV of pairs. */
#include "route_cli.h"
#include "progress.h"
#include "report_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------- shared with cmd_analyze_isochrone.c ---------- */
int route_cli_parse_xy(const char *sub, const char *opt, const char *s, double xy[2])
{
    if (cli_parse_numbers(s, xy, 2, 2) != 2 || !isfinite(xy[0]) || !isfinite(xy[1])) {
        cli_fail(sub, CT_ERR_USAGE, "%s expects X,Y, got '%s'", opt, s);
        return -1;
    }
    return 0;
}

static int need_value(const char *sub, int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_fail(sub, CT_ERR_USAGE, "%s needs a value", argv[i]);
        return -1;
    }
    return 0;
}

static int parse_pos(const char *sub, const char *opt, const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    if (end == s || *end || !isfinite(*v) || *v <= 0) {
        cli_fail(sub, CT_ERR_USAGE, "%s expects a positive number, got '%s'", opt, s);
        return -1;
    }
    return 0;
}

int route_cli_parse_common(const char *sub, route_cli_common *c, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    static const char *const with_value[] = {"--roads", "--layer", "--speeds", "--cost-field", "--reverse-cost-field",
                                             "--class-field", "--speed-field", "--oneway-field", "--default-speed",
                                             "--snap-tolerance", "--avoid", "--close-edges", "--crs", "--max-snap",
                                             "--report"};
    if (!strcmp(a, "--no-turn-restrictions")) {
        c->desc.ignore_turn_restrictions = true;
        return 1;
    }
    if (!strcmp(a, "--progress")) {
        c->progress = true;
        return 1;
    }
    int k = -1;
    for (int j = 0; j < (int)(sizeof with_value / sizeof *with_value); j++)
        if (!strcmp(a, with_value[j]))
            k = j;
    if (k < 0)
        return 0;
    if (need_value(sub, argc, argv, *i) < 0)
        return -1;
    const char *v = argv[++*i];
    switch (k) {
    case 0: c->desc.path = v; break;
    case 1: c->desc.layer = v; break;
    case 2: c->speeds_path = v; break;
    case 3: c->desc.cost_field = v; break;
    case 4: c->desc.reverse_cost_field = v; break;
    case 5: c->desc.class_field = v; break;
    case 6: c->desc.speed_field = v; break;
    case 7: c->desc.oneway_field = v; break;
    case 8: return parse_pos(sub, a, v, &c->desc.default_kmh) < 0 ? -1 : 1;
    case 9: return parse_pos(sub, a, v, &c->desc.snap_tolerance) < 0 ? -1 : 1;
    case 10: c->avoid = v; break;
    case 11: c->close_edges = v; break;
    case 12: c->crs = v; break;
    case 13: return parse_pos(sub, a, v, &c->max_snap_m) < 0 ? -1 : 1;
    case 14: c->report = v; break;
    }
    return 1;
}

int route_cli_prepare(const char *sub, route_cli_common *c)
{
    ct_error err = {0};
    if (!c->desc.path)
        return cli_fail(sub, CT_ERR_USAGE, "--roads SRC is required");
    if (c->desc.reverse_cost_field && !c->desc.cost_field)
        return cli_fail(sub, CT_ERR_USAGE, "--reverse-cost-field needs --cost-field");
    if (c->max_snap_m <= 0)
        c->max_snap_m = 1000;
    if (ct_route_speeds_load(c->speeds_path, &c->speeds, &err) != CT_OK)
        return cli_fail_err(sub, &err);
    c->desc.speeds = &c->speeds;
    double t0 = ct_time_now();
    if (ct_route_graph_load(&c->desc, &c->g, &err) != CT_OK)
        return cli_fail_err(sub, &err);
    c->load_s = ct_time_now() - t0;
    c->closures = ct_route_closures_create(c->g);
    if (!c->closures)
        return cli_fail(sub, CT_ERR_RUNTIME, "out of memory");
    if (c->close_edges) {
        const char *p = c->close_edges;
        while (*p) {
            char *end;
            long long id = strtoll(p, &end, 10);
            if (end == p || (*end && *end != ','))
                return cli_fail(sub, CT_ERR_USAGE, "--close-edges expects ID,ID,..., got '%s'", c->close_edges);
            if (ct_route_closures_add_fid(c->closures, id) == 0)
                ct_log(CT_LOG_WARN, "--close-edges: no road with feature id %lld", id);
            p = *end ? end + 1 : end;
        }
    }
    if (c->avoid) {
        size_t n;
        if (ct_route_closures_add_polygons(c->closures, c->avoid, &n, &err) != CT_OK)
            return cli_fail_err(sub, &err);
    }
    c->closed_segments = ct_route_closures_count(c->closures);
    if (c->crs) {
        const char *dst = ct_route_graph_crs(c->g);
        if (!*dst)
            return cli_fail(sub, CT_ERR_USAGE, "--crs given but %s has no CRS", c->desc.path);
        if (ct_crs_transform_create(c->crs, dst, &c->coord_t, &err) != CT_OK)
            return cli_fail(sub, CT_ERR_USAGE, "--crs %s: %s", c->crs, err.msg);
    }
    return 0;
}

ct_status route_cli_snap(route_cli_common *c, const double xy[2], ct_route_snap *out, ct_error *err)
{
    double x = xy[0], y = xy[1];
    if (c->coord_t && ct_crs_transform_points(c->coord_t, 1, &x, &y, NULL, err) != CT_OK)
        return err ? err->status : CT_ERR_INPUT;
    return ct_route_snap_point(c->g, x, y, c->closures, c->max_snap_m, out, err);
}

void route_cli_cleanup(route_cli_common *c)
{
    ct_route_closures_destroy(c->closures);
    ct_route_graph_destroy(c->g);
    ct_route_speeds_free(&c->speeds);
    ct_crs_transform_destroy(c->coord_t);
}

/* ---------- route ---------- */
#define SUB "analyze route"

typedef struct pair {
    double from[2], to[2];
    int from_index, to_index;
} pair;

static cJSON *xy_json(const double xy[2])
{
    double v[2] = {xy[0], xy[1]};
    return cJSON_CreateDoubleArray(v, 2);
}

static void json_num_or_null(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_route) == 0)
        return 0;
    route_cli_common c = {0};
    double from[64][2], to[64][2];
    int n_from = 0, n_to = 0, k = 1;
    const char *pairs_path = NULL, *out_path = NULL, *algo_s = "ch";
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int r = route_cli_parse_common(SUB, &c, argc, argv, &i);
        if (r < 0)
            return CT_ERR_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (a[0] != '-' || i + 1 >= argc)
            return cli_fail(SUB, CT_ERR_USAGE, a[0] == '-' ? "%s needs a value" : "unexpected argument '%s'", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--from") || !strcmp(a, "--to")) {
            bool f = a[3] == 'r';
            if ((f ? n_from : n_to) >= 64)
                return cli_fail(SUB, CT_ERR_USAGE, "at most 64 %s points", a);
            if (route_cli_parse_xy(SUB, a, v, f ? from[n_from] : to[n_to]) < 0)
                return CT_ERR_USAGE;
            if (f)
                n_from++;
            else
                n_to++;
        } else if (!strcmp(a, "--pairs")) {
            pairs_path = v;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            out_path = v;
        } else if (!strcmp(a, "--algorithm")) {
            algo_s = v;
        } else if (!strcmp(a, "--k")) {
            char *end;
            long kk = strtol(v, &end, 10);
            if (end == v || *end || kk < 1 || kk > 100)
                return cli_fail(SUB, CT_ERR_USAGE, "--k expects a number of routes from 1 to 100, got '%s'", v);
            k = (int)kk;
        } else {
            return cli_fail(SUB, CT_ERR_USAGE, "unknown option '%s' (see --help)", a);
        }
    }
    ct_route_algo algo;
    if (!strcmp(algo_s, "ch"))
        algo = CT_ROUTE_CH;
    else if (!strcmp(algo_s, "alt"))
        algo = CT_ROUTE_ALT;
    else if (!strcmp(algo_s, "dijkstra"))
        algo = CT_ROUTE_DIJKSTRA;
    else if (!strcmp(algo_s, "bidijkstra"))
        algo = CT_ROUTE_BIDIJKSTRA;
    else
        return cli_fail(SUB, CT_ERR_USAGE, "--algorithm must be ch, alt, dijkstra or bidijkstra, got '%s'", algo_s);
    if (pairs_path && (n_from || n_to))
        return cli_fail(SUB, CT_ERR_USAGE, "give either --pairs or --from/--to, not both");
    if (!pairs_path && (n_from == 0 || n_to == 0))
        return cli_fail(SUB, CT_ERR_USAGE, "need --from X,Y and --to X,Y (or --pairs CSV)");
    if (!c.desc.path)
        return cli_fail(SUB, CT_ERR_USAGE, "--roads SRC is required");

    /* the query list */
    ct_error err = {0};
    pair *pairs = NULL;
    size_t n_pairs = 0;
    if (pairs_path) {
        uint8_t *data;
        size_t size;
        ct_route_pairs pp;
        if (ct_file_read(pairs_path, 256u << 20, &data, &size, &err) != CT_OK)
            return cli_fail_err(SUB, &err);
        ct_status st = ct_route_pairs_parse((const char *)data, size, pairs_path, &pp, &err);
        free(data);
        if (st != CT_OK)
            return cli_fail_err(SUB, &err);
        pairs = calloc(pp.count + 1, sizeof *pairs);
        for (size_t i = 0; pairs && i < pp.count; i++)
            pairs[i] = (pair){{pp.xy[4 * i], pp.xy[4 * i + 1]}, {pp.xy[4 * i + 2], pp.xy[4 * i + 3]}, (int)i,
                              (int)i};
        n_pairs = pp.count;
        ct_route_pairs_free(&pp);
    } else {
        pairs = calloc((size_t)(n_from * n_to) + 1, sizeof *pairs);
        for (int t = 0; pairs && t < n_to; t++)
            for (int f = 0; f < n_from; f++)
                pairs[n_pairs++] = (pair){{from[f][0], from[f][1]}, {to[t][0], to[t][1]}, f, t};
    }
    if (!pairs)
        return cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");

    c.desc.skip_ch = algo != CT_ROUTE_CH; /* the hierarchy only serves --algorithm ch */
    int rc = route_cli_prepare(SUB, &c);
    if (rc) {
        free(pairs);
        route_cli_cleanup(&c);
        return rc;
    }
    ct_route_searcher *srch = ct_route_searcher_create(c.g);
    if (!srch) {
        free(pairs);
        route_cli_cleanup(&c);
        return cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    }
    cJSON *root = cJSON_CreateObject(), *routes = cJSON_AddArrayToObject(root, "routes");
    ct_route_out_row *rows = calloc(n_pairs * (size_t)k + 1, sizeof *rows);
    size_t n_rows = 0;
    double query_s = 0, best_cost = INFINITY;
    size_t ch_fallbacks = 0;
    int best_row = -1;
    rc = 0;
    cli_progress bar;
    cli_progress_begin(&bar, "route", c.progress);
    for (size_t q = 0; q < n_pairs && rc == 0 && rows; q++) {
        cli_progress_update(&bar, (double)q / (double)n_pairs);
        const pair *P = &pairs[q];
        ct_route_query rq = {.closures = c.closures, .k = k, .algo = algo};
        ct_route_result res = {0};
        double t0 = ct_time_now();
        ct_error e1 = {0}, e2 = {0};
        ct_status s1 = route_cli_snap(&c, P->from, &rq.from, &e1);
        ct_status s2 = route_cli_snap(&c, P->to, &rq.to, &e2);
        if ((s1 != CT_OK || s2 != CT_OK) && !pairs_path) {
            rc = cli_fail(SUB, CT_ERR_INPUT, "%s %.9g,%.9g: %s", s1 != CT_OK ? "--from" : "--to",
                          s1 != CT_OK ? P->from[0] : P->to[0], s1 != CT_OK ? P->from[1] : P->to[1],
                          s1 != CT_OK ? e1.msg : e2.msg);
            break;
        }
        if (s1 == CT_OK && s2 == CT_OK) {
            if (ct_route_search(srch, &rq, &res, &err) != CT_OK) {
                rc = cli_fail_err(SUB, &err);
                break;
            }
        } else {
            res.reachable = false;
            snprintf(res.reason, sizeof res.reason, "%s: %.140s", s1 != CT_OK ? "start" : "end",
                     s1 != CT_OK ? e1.msg : e2.msg);
        }
        query_s += ct_time_now() - t0;
        ch_fallbacks += res.ch_fallback;
        int n_out = res.reachable ? res.n_paths : 1;
        for (int r = 0; r < n_out; r++) {
            const ct_route_path *p = res.reachable ? &res.paths[r] : NULL;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "from", xy_json(P->from));
            cJSON_AddItemToObject(o, "to", xy_json(P->to));
            json_num_or_null(o, "cost_s", p ? p->cost_s : NAN);
            json_num_or_null(o, "length_m", p ? p->length_m : NAN);
            json_num_or_null(o, "snap_from_m", rq.from.ok ? rq.from.dist_m : NAN);
            json_num_or_null(o, "snap_to_m", rq.to.ok ? rq.to.dist_m : NAN);
            cJSON_AddBoolToObject(o, "reachable", p != NULL);
            if (!p)
                cJSON_AddStringToObject(o, "reason", res.reason);
            cJSON_AddNumberToObject(o, "rank", r + 1);
            cJSON_AddNumberToObject(o, pairs_path ? "row" : "from_index", pairs_path ? (double)q : P->from_index);
            if (!pairs_path)
                cJSON_AddNumberToObject(o, "to_index", P->to_index);
            if (p)
                cJSON_AddNumberToObject(o, "edges", (double)p->n_edges);
            if (p && r == 0 && p->cost_s < best_cost) {
                best_cost = p->cost_s;
                best_row = cJSON_GetArraySize(routes);
            }
            cJSON_AddItemToArray(routes, o);
            if (out_path || c.report) {
                ct_route_out_row *R = &rows[n_rows++];
                *R = (ct_route_out_row){(int)q,       r + 1,      P->from_index, P->to_index, P->from[0],
                                        P->from[1],   P->to[0],   P->to[1],      p ? p->cost_s : NAN,
                                        p ? p->length_m : NAN,    rq.from.ok ? rq.from.dist_m : NAN,
                                        rq.to.ok ? rq.to.dist_m : NAN, p != NULL, NULL, 0};
                if (p && ct_route_path_geometry(c.g, &rq, p, (double **)&R->xy, &R->n_points, &err) != CT_OK)
                    rc = cli_fail_err(SUB, &err);
            }
            if (!json) {
                if (p)
                    printf("route %zu.%d: %.1f s, %.0f m (snapped %.1f m / %.1f m)\n", q, r + 1, p->cost_s,
                           p->length_m, rq.from.dist_m, rq.to.dist_m);
                else
                    printf("route %zu: unreachable: %s\n", q, res.reason);
            }
        }
        ct_route_result_free(&res);
    }
    cli_progress_end(&bar);
    if (rc == 0 && out_path && rows && ct_route_write_routes(c.g, out_path, rows, n_rows, &err) != CT_OK)
        rc = cli_fail_err(SUB, &err);
    if (rc == 0) {
        ct_route_graph_info gi;
        ct_route_graph_get_info(c.g, &gi);
        if (best_row >= 0)
            cJSON_AddNumberToObject(root, "best", best_row);
        else
            cJSON_AddNullToObject(root, "best");
        cJSON_AddNumberToObject(root, "query_ms_mean", n_pairs ? query_s * 1000 / (double)n_pairs : 0);
        cJSON_AddNumberToObject(root, "load_s", c.load_s);
        cJSON_AddStringToObject(root, "algorithm", algo_s);
        cJSON_AddNumberToObject(root, "closed_segments", (double)c.closed_segments);
        cJSON_AddNumberToObject(root, "ch_fallbacks", (double)ch_fallbacks);
        cJSON *gj = cJSON_AddObjectToObject(root, "graph");
        cJSON_AddNumberToObject(gj, "nodes", (double)gi.nodes);
        cJSON_AddNumberToObject(gj, "edges", (double)gi.edges);
        cJSON_AddNumberToObject(gj, "segments", (double)gi.segments);
        cJSON_AddNumberToObject(gj, "restrictions_applied", (double)gi.restrictions_applied);
        cJSON_AddNumberToObject(gj, "landmarks", gi.landmarks);
        cJSON_AddNumberToObject(gj, "prepare_s", gi.prepare_s);
        cJSON_AddNumberToObject(gj, "landmarks_s", gi.landmarks_s);
        cJSON_AddBoolToObject(gj, "ch", gi.ch);
        cJSON_AddNumberToObject(gj, "ch_shortcuts", (double)gi.ch_shortcuts);
        cJSON_AddNumberToObject(gj, "ch_s", gi.ch_s);
        if (c.report && rows && report_route_write(c.report, argc, argv, &c, rows, n_rows, root, &err) != CT_OK)
            rc = cli_fail_err(SUB, &err);
        if (rc != 0)
            cJSON_Delete(root);
        else if (json)
            cli_print_json(root);
        else {
            printf("graph: %zu nodes, %zu edges, loaded in %.2f s; %zu queries, %.3f ms each\n", gi.nodes, gi.edges,
                   c.load_s, n_pairs, n_pairs ? query_s * 1000 / (double)n_pairs : 0);
            cJSON_Delete(root);
        }
    } else {
        cJSON_Delete(root);
    }
    for (size_t i = 0; rows && i < n_rows; i++)
        free((void *)rows[i].xy);
    free(rows);
    ct_route_searcher_destroy(srch);
    free(pairs);
    route_cli_cleanup(&c);
    return rc;
}

const ct_cli_command ct_cmd_analyze_route = {
    "route", run, "fastest routes on a road graph",
    "usage: citytwin analyze route --roads SRC (--from X,Y [--from X,Y ...] --to X,Y [--to X,Y ...] | --pairs CSV)\n"
    "                              [--k N] [--avoid POLYGONS_SRC] [--close-edges ID,ID]\n"
    "                              [--cost-field F --reverse-cost-field F] [-o OUT.gpkg] [--json]\n\n"
    "Fastest routes from every --from (e.g. fire stations) to every --to (an incident;\n"
    "or the incident as --from and hospitals as --to). Points snap to the nearest point\n"
    "of the nearest open road. Unreachable pairs are reported with a reason, not an error.\n\n"
    "  --roads SRC               OSM .pbf/.osm or any OGR line source\n"
    "  --from X,Y / --to X,Y     start / end points (repeatable, up to 64 each)\n"
    "  --pairs CSV               one route per row: header from_x,from_y,to_x,to_y\n"
    "  --k N                     the N best loopless routes (Yen), 1..100 (default 1)\n"
    "  --algorithm A             ch (default: contraction hierarchy), alt (A* + landmarks),\n"
    "                            dijkstra, bidijkstra\n"
    "  -o OUT.gpkg               routes as lines with attributes (layer 'routes')\n"
    "  --json                    one JSON object on stdout\n" ROUTE_CLI_COMMON_USAGE
    "\nSee docs/routing.md.\n",
};
