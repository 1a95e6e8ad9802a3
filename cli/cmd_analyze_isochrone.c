/* citytwin analyze isochrone: areas reachable within given minutes. */
#include "route_cli.h"
#include "progress.h"
#include "report_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze isochrone"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_isochrone) == 0)
        return 0;
    route_cli_common c = {0};
    double from[64][2], minutes[32] = {5, 8, 10}, buffer = 25;
    int n_from = 0, n_min = 3;
    const char *out_path = NULL;
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
        if (!strcmp(a, "--from")) {
            if (n_from >= 64)
                return cli_fail(SUB, CT_ERR_USAGE, "at most 64 --from points");
            if (route_cli_parse_xy(SUB, a, v, from[n_from++]) < 0)
                return CT_ERR_USAGE;
        } else if (!strcmp(a, "--minutes")) {
            n_min = cli_parse_numbers(v, minutes, 1, 32);
            if (n_min < 1)
                return cli_fail(SUB, CT_ERR_USAGE, "--minutes expects M[,M...] (up to 32), got '%s'", v);
            for (int k = 0; k < n_min; k++)
                if (!(minutes[k] > 0 && minutes[k] <= 24 * 60))
                    return cli_fail(SUB, CT_ERR_USAGE, "--minutes: %g is not in (0, 1440]", minutes[k]);
        } else if (!strcmp(a, "--buffer")) {
            char *end;
            buffer = strtod(v, &end);
            if (end == v || *end || !(buffer > 0 && buffer < 10000))
                return cli_fail(SUB, CT_ERR_USAGE, "--buffer expects metres in (0, 10000), got '%s'", v);
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            out_path = v;
        } else {
            return cli_fail(SUB, CT_ERR_USAGE, "unknown option '%s' (see --help)", a);
        }
    }
    if (n_from == 0)
        return cli_fail(SUB, CT_ERR_USAGE, "need --from X,Y");
    if (!out_path)
        return cli_fail(SUB, CT_ERR_USAGE, "need -o OUT.gpkg");
    if (!c.desc.path)
        return cli_fail(SUB, CT_ERR_USAGE, "--roads SRC is required");
    c.desc.skip_ch = true; /* isochrones run one Dijkstra: no hierarchy needed */
    int rc = route_cli_prepare(SUB, &c);
    if (rc) {
        route_cli_cleanup(&c);
        return rc;
    }
    ct_error err = {0};
    ct_route_snap snaps[64];
    for (int i = 0; i < n_from && rc == 0; i++)
        if (route_cli_snap(&c, from[i], &snaps[i], &err) != CT_OK)
            rc = cli_fail(SUB, CT_ERR_INPUT, "--from %.9g,%.9g: %s", from[i][0], from[i][1], err.msg);
    ct_route_searcher *s = rc ? NULL : ct_route_searcher_create(c.g);
    if (rc == 0 && !s)
        rc = cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    ct_route_isochrone iso[32];
    memset(iso, 0, sizeof iso);
    double t0 = ct_time_now();
    if (rc == 0) {
        cli_progress bar;
        cli_progress_begin(&bar, "isochrone", c.progress);
        ct_route_isochrone_desc d = {.from = snaps, .n_from = (size_t)n_from, .closures = c.closures,
                                     .minutes = minutes, .n_minutes = (size_t)n_min, .buffer_m = buffer,
                                     .progress = cli_progress_update, .progress_user = &bar};
        ct_status st = ct_route_isochrones_compute(s, &d, iso, &err);
        cli_progress_end(&bar);
        if (st != CT_OK)
            rc = cli_fail_err(SUB, &err);
    }
    double secs = ct_time_now() - t0;
    if (rc == 0 && ct_route_write_isochrones(c.g, out_path, iso, (size_t)n_min, &err) != CT_OK)
        rc = cli_fail_err(SUB, &err);
    if (rc == 0) {
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "isochrones");
        cJSON *snap = cJSON_AddArrayToObject(root, "snap_from_m");
        for (int i = 0; i < n_from; i++)
            cJSON_AddItemToArray(snap, cJSON_CreateNumber(snaps[i].dist_m));
        for (int m = 0; m < n_min; m++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "minutes", iso[m].minutes);
            cJSON_AddNumberToObject(o, "area_m2", iso[m].area_m2);
            cJSON_AddNumberToObject(o, "segments", (double)iso[m].segments_reached);
            cJSON_AddItemToArray(arr, o);
            if (!json)
                printf("%g min: %.0f m2, %zu road segments\n", iso[m].minutes, iso[m].area_m2,
                       iso[m].segments_reached);
        }
        cJSON_AddNumberToObject(root, "buffer_m", buffer);
        cJSON_AddNumberToObject(root, "closed_segments", (double)c.closed_segments);
        cJSON_AddNumberToObject(root, "load_s", c.load_s);
        cJSON_AddNumberToObject(root, "seconds", secs);
        if (c.report && report_isochrone_write(c.report, argc, argv, &c, (const double(*)[2])from, n_from, iso, n_min,
                                               root, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            cJSON_Delete(root);
        } else if (json)
            cli_print_json(root);
        else
            cJSON_Delete(root);
    }
    for (int m = 0; m < n_min; m++)
        ct_route_isochrone_free(&iso[m]);
    ct_route_searcher_destroy(s);
    route_cli_cleanup(&c);
    return rc;
}

const ct_cli_command ct_cmd_analyze_isochrone = {
    "isochrone", run, "areas reachable within given minutes",
    "usage: citytwin analyze isochrone --roads SRC --from X,Y [--from X,Y ...] --minutes 5,8,10 -o OUT.gpkg\n"
    "                                  [--buffer M] [--avoid POLYGONS_SRC] [--close-edges ID,ID] [--json]\n\n"
    "Areas reachable from any --from within each number of minutes: the reachable road\n"
    "pieces (partial edges included) buffered by --buffer metres (default 25) and unioned.\n"
    "Writes one (multi)polygon per limit to layer 'isochrones' (fields minutes, area_m2, segments).\n\n"
    "  --roads SRC               OSM .pbf/.osm or any OGR line source\n"
    "  --from X,Y                start (repeatable: the union of all stations' reach)\n"
    "  --minutes M,M,...         limits (default 5,8,10)\n"
    "  --buffer M                half-width of the reachable corridor in metres (default 25)\n"
    "  -o OUT.gpkg               output GeoPackage\n"
    "  --json                    one JSON object on stdout\n" ROUTE_CLI_COMMON_USAGE "\nSee docs/routing.md.\n",
};
