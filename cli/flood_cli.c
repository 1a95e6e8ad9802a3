/* Internal to `citytwin analyze flood`: option parsing, CSV series, and the
 * dynamic run with its output files. */
#include "flood_cli.h"

#include "citytwin/ct_geo.h"
#include "cli.h"
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int need(const char *sub, int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_fail(sub, CT_ERR_USAGE, "%s needs a value", argv[i]);
        return 0;
    }
    return 1;
}

static bool parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == 0 && errno == 0 && isfinite(*v);
}

/* closed | free | level:L | level:STAGE.csv, optionally SIDE=...; a stage
 * CSV path goes to csv[side] (loaded by the run). */
static int parse_boundary(const char *sub, const char *s, ct_flood_boundary b[4], const char *csv[4])
{
    static const char *const SIDES[4] = {"north", "south", "west", "east"};
    int side = -1;
    const char *eq = strchr(s, '=');
    if (eq) {
        for (int i = 0; i < 4; i++)
            if ((size_t)(eq - s) == strlen(SIDES[i]) && !strncmp(s, SIDES[i], (size_t)(eq - s)))
                side = i;
        if (side < 0)
            return cli_fail(sub, CT_ERR_USAGE, "--boundary %s: side must be north, south, west or east", s);
        s = eq + 1;
    }
    ct_flood_boundary v = {0};
    const char *path = NULL;
    if (!strcmp(s, "closed"))
        v.kind = CT_FLOOD_BOUNDARY_CLOSED;
    else if (!strcmp(s, "free"))
        v.kind = CT_FLOOD_BOUNDARY_FREE;
    else if (!strncmp(s, "level:", 6) && parse_double(s + 6, &v.level))
        v.kind = CT_FLOOD_BOUNDARY_LEVEL;
    else if (!strncmp(s, "level:", 6) && s[6])
        v.kind = CT_FLOOD_BOUNDARY_LEVEL, path = s + 6; /* not a number: a stage series time_s,level_m */
    else
        return cli_fail(sub, CT_ERR_USAGE, "--boundary %s: expected closed, free, level:L or level:STAGE.csv", s);
    for (int i = 0; i < 4; i++)
        if (side < 0 || side == i) {
            b[i] = v;
            csv[i] = path;
        }
    return 0;
}

int flood_cli_parse(const char *sub, int argc, char **argv, flood_cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->gauge_every = 60;
    a->argc = argc;
    a->argv = argv;
    bool has_level = false, has_rise = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool flag = !strcmp(o, "--json") || !strcmp(o, "--rlake-compat") || !strcmp(o, "--progress");
        if (!flag && !need(sub, argc, argv, i))
            return CT_ERR_USAGE;
        const char *v = flag ? NULL : argv[i + 1];
        if (!strcmp(o, "--json")) {
            a->json = true;
            continue;
        }
        if (!strcmp(o, "--progress")) {
            a->progress = true;
            continue;
        }
        if (!strcmp(o, "--rlake-compat")) {
            a->rlake_compat = true;
            continue;
        }
        i++;
        if (!strcmp(o, "--dem"))
            a->dem = v;
        else if (!strcmp(o, "-o") || !strcmp(o, "--output"))
            a->out = v;
        else if (!strcmp(o, "--extent"))
            a->extent = v;
        else if (!strcmp(o, "--crs"))
            a->crs = v;
        else if (!strcmp(o, "--compress")) {
            if (!ct_flood_compress_parse(v, &a->compress))
                return cli_fail(sub, CT_ERR_USAGE, "--compress %s: expected deflate, zstd, lzw or none", v);
        }
        else if (!strcmp(o, "--seed") || !strcmp(o, "--gauge")) {
            bool seed = !strcmp(o, "--seed");
            int *n = seed ? &a->n_seeds : &a->n_gauges;
            double *xy = seed ? a->seeds : a->gauges;
            if (*n >= FLOOD_CLI_MAX)
                return cli_fail(sub, CT_ERR_USAGE, "too many %s points (max %d)", o, FLOOD_CLI_MAX);
            if (cli_parse_numbers(v, xy + 2 * *n, 2, 2) != 2)
                return cli_fail(sub, CT_ERR_USAGE, "%s %s: expected X,Y", o, v);
            (*n)++;
        } else if (!strcmp(o, "--level") || !strcmp(o, "--rise")) {
            if (!strcmp(o, "--level"))
                has_level = true;
            else
                has_rise = true;
            int n = cli_parse_numbers(v, a->levels, 1, FLOOD_CLI_MAX);
            if (n < 1)
                return cli_fail(sub, CT_ERR_USAGE, "%s %s: expected a number or a comma-separated list", o, v);
            for (int k = 0; k < n; k++)
                if (!isfinite(a->levels[k]))
                    return cli_fail(sub, CT_ERR_USAGE, "%s %s: not a finite number", o, v);
            a->n_levels = n;
        } else if (!strcmp(o, "--connectivity")) {
            if (strcmp(v, "8") && strcmp(v, "4"))
                return cli_fail(sub, CT_ERR_USAGE, "--connectivity must be 8 or 4");
            a->connectivity = atoi(v);
        } else if (!strcmp(o, "--duration") || !strcmp(o, "--rain") || !strcmp(o, "--manning") ||
                   !strcmp(o, "--snapshot-every") || !strcmp(o, "--gauge-every") || !strcmp(o, "--alpha") ||
                   !strcmp(o, "--theta") || !strcmp(o, "--initial-level") || !strcmp(o, "--mass-balance-every")) {
            double x;
            if (!parse_double(v, &x))
                return cli_fail(sub, CT_ERR_USAGE, "%s %s: not a number", o, v);
            bool nonneg = strcmp(o, "--initial-level") != 0;
            if (nonneg && x < 0)
                return cli_fail(sub, CT_ERR_USAGE, "%s must not be negative", o);
            if (!strcmp(o, "--duration"))
                a->duration = x, a->dynamic = true;
            else if (!strcmp(o, "--rain"))
                a->rain = x, a->has_rain = true;
            else if (!strcmp(o, "--manning"))
                a->manning = x;
            else if (!strcmp(o, "--snapshot-every"))
                a->snapshot_every = x;
            else if (!strcmp(o, "--gauge-every"))
                a->gauge_every = x;
            else if (!strcmp(o, "--alpha"))
                a->alpha = x;
            else if (!strcmp(o, "--theta"))
                a->theta = x;
            else if (!strcmp(o, "--mass-balance-every"))
                a->mass_every = x;
            else
                a->initial_level = x, a->has_initial_level = true;
        } else if (!strcmp(o, "--rain-series"))
            a->rain_series = v;
        else if (!strcmp(o, "--rain-rasters"))
            a->rain_rasters = v;
        else if (!strcmp(o, "--manning-raster"))
            a->manning_raster = v;
        else if (!strcmp(o, "--buildings"))
            a->buildings = v;
        else if (!strcmp(o, "--out-dir"))
            a->out_dir = v, a->dynamic = true;
        else if (!strcmp(o, "--report"))
            a->report = v;
        else if (!strcmp(o, "--boundary")) {
            int rc = parse_boundary(sub, v, a->boundary, a->boundary_csv);
            if (rc)
                return rc;
        } else if (!strcmp(o, "--inflow")) {
            const char *colon = strchr(v, ':');
            if (a->n_inflows >= FLOOD_CLI_MAX)
                return cli_fail(sub, CT_ERR_USAGE, "too many --inflow (max %d)", FLOOD_CLI_MAX);
            char xy[128];
            if (!colon || (size_t)(colon - v) >= sizeof xy || !colon[1])
                return cli_fail(sub, CT_ERR_USAGE, "--inflow %s: expected X,Y:HYDROGRAPH.csv", v);
            memcpy(xy, v, (size_t)(colon - v));
            xy[colon - v] = 0;
            if (cli_parse_numbers(xy, a->inflow_xy + 2 * a->n_inflows, 2, 2) != 2)
                return cli_fail(sub, CT_ERR_USAGE, "--inflow %s: expected X,Y:HYDROGRAPH.csv", v);
            a->inflow_csv[a->n_inflows++] = colon + 1;
        } else if (!strcmp(o, "--inflow-line")) {
            /* the hydrograph follows the last ':' (WKT and X,Y;X,Y lists have none) */
            const char *colon = strrchr(v, ':');
            if (a->n_lines >= FLOOD_CLI_MAX)
                return cli_fail(sub, CT_ERR_USAGE, "too many --inflow-line (max %d)", FLOOD_CLI_MAX);
            if (!colon || colon == v || !colon[1])
                return cli_fail(sub, CT_ERR_USAGE, "--inflow-line %s: expected LINE:HYDROGRAPH.csv", v);
            char *spec = strndup(v, (size_t)(colon - v));
            if (!spec)
                return cli_fail(sub, CT_ERR_RUNTIME, "out of memory");
            a->line_spec[a->n_lines] = spec;
            a->line_csv[a->n_lines++] = colon + 1;
        } else
            return cli_fail(sub, CT_ERR_USAGE, "unknown option %s (see --help)", o);
    }
    if (has_level && has_rise)
        return cli_fail(sub, CT_ERR_USAGE, "--level and --rise are exclusive");
    a->use_rise = has_rise;
    if (a->has_rain && a->rain_series)
        return cli_fail(sub, CT_ERR_USAGE, "--rain and --rain-series are exclusive");
    if (a->rain_rasters && (a->has_rain || a->rain_series))
        return cli_fail(sub, CT_ERR_USAGE, "--rain-rasters is exclusive with --rain and --rain-series");
    if (a->manning > 0 && a->manning_raster)
        return cli_fail(sub, CT_ERR_USAGE, "--manning and --manning-raster are exclusive");
    if (a->dynamic) {
        if (!(a->duration > 0))
            return cli_fail(sub, CT_ERR_USAGE, "--duration S (> 0) is required for a dynamic flood");
        if (!a->out_dir)
            return cli_fail(sub, CT_ERR_USAGE, "--out-dir DIR is required for a dynamic flood");
        if (a->n_seeds || a->n_levels)
            return cli_fail(sub, CT_ERR_USAGE, "--seed/--level/--rise belong to the static flood, not with --duration");
    }
    return 0;
}

void flood_cli_args_free(flood_cli_args *a)
{
    for (int i = 0; i < a->n_lines; i++)
        free(a->line_spec[i]);
    a->n_lines = 0;
}

ct_status flood_cli_transform_points(const char *crs, const ct_raster *dem, double *xy, int n, ct_error *err)
{
    if (!crs || n == 0)
        return CT_OK;
    if (!dem->crs_wkt || !*dem->crs_wkt)
        return ct_error_set(err, CT_ERR_INPUT, "--crs given but the DEM has no CRS to transform into");
    ct_crs_transform *t;
    ct_status st = ct_crs_transform_create(crs, dem->crs_wkt, &t, err);
    if (st != CT_OK)
        return st;
    double x[FLOOD_CLI_MAX], y[FLOOD_CLI_MAX];
    for (int i = 0; i < n; i++)
        x[i] = xy[2 * i], y[i] = xy[2 * i + 1];
    st = ct_crs_transform_points(t, (size_t)n, x, y, NULL, err);
    for (int i = 0; i < n; i++)
        xy[2 * i] = x[i], xy[2 * i + 1] = y[i];
    ct_crs_transform_destroy(t);
    return st;
}

void flood_cli_series_path(const char *out, double value, char *buf, size_t size)
{
    if (isnan(value)) {
        snprintf(buf, size, "%s", out);
        return;
    }
    const char *ext = ct_path_ext(out);
    size_t stem = strlen(out) - strlen(ext);
    snprintf(buf, size, "%.*s_%g%s", (int)stem, out, value, *ext ? ext : ".tif");
}

ct_status flood_cli_read_series(const char *path, ct_flood_series *s, ct_error *err)
{
    return ct_flood_series_load(path, s, err);
}

/* ----------------------------------------------------------------- dynamic */

typedef struct snap_ctx {
    const char *dir;
    const ct_raster *like;
    ct_flood_compress compress;
} snap_ctx;

static ct_status write_snapshot(void *user, double t, const float *depth, ct_error *err)
{
    snap_ctx *s = user;
    ct_raster r = *s->like;
    r.data = (float *)depth;
    char name[64], *path;
    snprintf(name, sizeof name, "depth_%.0f.tif", t);
    path = ct_path_join(s->dir, name);
    ct_flood_write_desc wd = {.compress = s->compress};
    ct_status st = ct_flood_raster_write_with(&r, path, &wd, err);
    free(path);
    return st;
}

static ct_status write_grid(const char *dir, const char *name, const ct_raster *r, ct_flood_compress c,
                            ct_error *err)
{
    char *path = ct_path_join(dir, name);
    ct_flood_write_desc wd = {.compress = c};
    ct_status st = ct_flood_raster_write_with(r, path, &wd, err);
    free(path);
    return st;
}

static cJSON *report_json(const ct_flood_sim_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "steps", (double)r->steps);
    cJSON_AddNumberToObject(o, "simulated_s", r->simulated_s);
    cJSON_AddNumberToObject(o, "cell_updates_per_s", r->cell_updates_per_s);
    cJSON_AddNumberToObject(o, "mass_balance_error", r->mass_balance_error);
    cJSON_AddNumberToObject(o, "max_depth_m", r->max_depth_m);
    cJSON_AddNumberToObject(o, "flooded_area_m2", r->flooded_area_m2);
    cJSON_AddNumberToObject(o, "seconds", r->seconds);
    cJSON_AddNumberToObject(o, "rain_m3", r->rain_m3);
    cJSON_AddNumberToObject(o, "inflow_m3", r->inflow_m3);
    cJSON_AddNumberToObject(o, "boundary_in_m3", r->boundary_in_m3);
    cJSON_AddNumberToObject(o, "boundary_out_m3", r->boundary_out_m3);
    cJSON_AddNumberToObject(o, "final_volume_m3", r->final_volume_m3);
    cJSON_AddNumberToObject(o, "ranks", r->ranks);
    cJSON_AddNumberToObject(o, "blocks_x", r->blocks_x);
    cJSON_AddNumberToObject(o, "blocks_y", r->blocks_y);
    cJSON_AddNumberToObject(o, "mass_balance_rows", r->n_mass_rows);
    return o;
}

static ct_status write_gauges(const char *dir, const flood_cli_args *a, const ct_flood_sim_result *r, ct_error *err)
{
    char *path = ct_path_join(dir, "gauges.csv");
    FILE *f = fopen(path, "w");
    if (!f) {
        ct_status st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write", path);
        free(path);
        return st;
    }
    fprintf(f, "time_s");
    for (int g = 0; g < a->n_gauges; g++)
        fprintf(f, ",g%d_depth_m,g%d_wse_m", g + 1, g + 1);
    fprintf(f, "\n");
    for (int k = 0; k < r->n_gauge_times; k++) {
        fprintf(f, "%.3f", r->gauge_t[k]);
        for (int g = 0; g < a->n_gauges; g++)
            fprintf(f, ",%.5f,%.5f", r->gauge_depth[(size_t)k * a->n_gauges + g],
                    r->gauge_wse[(size_t)k * a->n_gauges + g]);
        fprintf(f, "\n");
    }
    bool ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    ct_status st = ok ? CT_OK : ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed", path);
    free(path);
    return st;
}

/* mass_balance.csv: the water budget over time (ct_flood_mass_row), m³ and %. */
static ct_status write_mass_balance(const char *dir, const ct_flood_sim_result *r, ct_error *err)
{
    char *path = ct_path_join(dir, "mass_balance.csv");
    FILE *f = fopen(path, "w");
    if (!f) {
        ct_status st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write", path);
        free(path);
        return st;
    }
    fprintf(f, "time_s,rain_m3,inflow_m3,boundary_in_m3,boundary_out_m3,storage_m3,error_pct\n");
    for (int k = 0; k < r->n_mass_rows; k++) {
        const ct_flood_mass_row *m = &r->mass[k];
        fprintf(f, "%.3f,%.9g,%.9g,%.9g,%.9g,%.9g,%.4g\n", m->t, m->rain_m3, m->inflow_m3, m->boundary_in_m3,
                m->boundary_out_m3, m->storage_m3, 100 * m->error);
    }
    bool ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    ct_status st = ok ? CT_OK : ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed", path);
    free(path);
    return st;
}

int flood_cli_run_dynamic(const char *sub, flood_cli_args *a)
{
    int rank = 0, size = 1;
    bool mpi = ct_flood_mpi_init(&rank, &size);
    ct_error err = {0};
    int rc = 0;
    /* Only the DEM's header here: each rank reads its own block in the run. */
    ct_raster *dem = NULL, *full_dem = NULL;
    ct_flood_series rain = {0};
    ct_flood_inflow inflows[FLOOD_CLI_MAX];
    memset(inflows, 0, sizeof inflows);
    ct_flood_sim_result res = {0};
    ct_flood_line_inflow *lines = NULL;
    ct_flood_rain_list frames = {0};
    if (ct_raster_read_header(a->dem, &dem, &err) != CT_OK)
        goto fail;
    if (a->rain_series && flood_cli_read_series(a->rain_series, &rain, &err) != CT_OK)
        goto fail;
    if (a->rain_rasters && ct_flood_rain_list_load(a->rain_rasters, &frames, &err) != CT_OK)
        goto fail;
    a->n_rain_frames = frames.n;
    for (int i = 0; i < a->n_inflows; i++) {
        inflows[i].x = a->inflow_xy[2 * i];
        inflows[i].y = a->inflow_xy[2 * i + 1];
        if (flood_cli_read_series(a->inflow_csv[i], &inflows[i].q_m3s, &err) != CT_OK)
            goto fail;
    }
    for (int k = 0; k < 4; k++)
        if (a->boundary_csv[k] && flood_cli_read_series(a->boundary_csv[k], &a->boundary[k].level_series, &err) != CT_OK)
            goto fail;
    if (a->n_lines && !(lines = calloc((size_t)a->n_lines, sizeof *lines))) {
        ct_error_set(&err, CT_ERR_RUNTIME, "out of memory");
        goto fail;
    }
    a->lines = lines;
    for (int i = 0; i < a->n_lines; i++) {
        double *xy = NULL;
        if (ct_flood_line_read(a->line_spec[i], dem->crs_wkt, a->crs, &xy, &lines[i].n_points, &err) != CT_OK)
            goto fail;
        lines[i].xy = xy;
        if (flood_cli_read_series(a->line_csv[i], &lines[i].q_m3s, &err) != CT_OK)
            goto fail;
    }
    if (flood_cli_transform_points(a->crs, dem, a->gauges, a->n_gauges, &err) != CT_OK)
        goto fail;
    if (a->crs) {
        double xy[2 * FLOOD_CLI_MAX];
        for (int i = 0; i < a->n_inflows; i++)
            xy[2 * i] = inflows[i].x, xy[2 * i + 1] = inflows[i].y;
        if (flood_cli_transform_points(a->crs, dem, xy, a->n_inflows, &err) != CT_OK)
            goto fail;
        for (int i = 0; i < a->n_inflows; i++)
            inflows[i].x = xy[2 * i], inflows[i].y = xy[2 * i + 1];
    }
    if (ct_dir_create(a->out_dir, &err) != CT_OK) /* every rank: none may stop alone before the run */
        goto fail;
    snap_ctx snap = {a->out_dir, dem, a->compress};
    ct_flood_sim_desc d = {
        .duration_s = a->duration, .rain_mm_h = a->rain, .rain_series = rain,
        .inflows = inflows, .n_inflows = a->n_inflows, .manning = a->manning,
        .dem = NULL, .dem_path = a->dem, .manning_path = a->manning_raster, .buildings_src = a->buildings,
        .gauges_xy = a->gauges, .n_gauges = a->n_gauges, .gauge_every_s = a->gauge_every,
        .snapshot_every_s = a->snapshot_every, .alpha = a->alpha, .theta = a->theta,
        .use_initial_level = a->has_initial_level, .initial_level = a->initial_level,
        .on_snapshot = write_snapshot, .user = &snap, .use_mpi = mpi, .mass_balance_every_s = a->mass_every,
        .line_inflows = lines, .n_line_inflows = a->n_lines,
        .rain_rasters = frames.frames, .n_rain_rasters = frames.n,
    };
    memcpy(d.boundary, a->boundary, sizeof d.boundary);
    cli_progress bar;
    cli_progress_begin(&bar, "flood", a->progress);
    if (rank == 0) {
        d.progress = cli_progress_update;
        d.progress_user = &bar;
    }
    ct_status sim_st = ct_flood_sim_run(&d, &res, &err);
    if (rank == 0)
        cli_progress_end(&bar);
    if (sim_st != CT_OK)
        goto fail;
    if (rank == 0) {
        if (write_grid(a->out_dir, "max_depth.tif", res.max_depth, a->compress, &err) != CT_OK ||
            write_grid(a->out_dir, "max_velocity.tif", res.max_velocity, a->compress, &err) != CT_OK ||
            write_grid(a->out_dir, "arrival_time.tif", res.arrival_time, a->compress, &err) != CT_OK ||
            write_grid(a->out_dir, "final_depth.tif", res.final_depth, a->compress, &err) != CT_OK ||
            write_gauges(a->out_dir, a, &res, &err) != CT_OK || write_mass_balance(a->out_dir, &res, &err) != CT_OK)
            goto fail;
        cJSON *rep = report_json(&res);
        char *s = cJSON_Print(rep);
        char *path = ct_path_join(a->out_dir, "report.json");
        ct_status st = s ? ct_file_write(path, s, strlen(s), &err) : CT_ERR_RUNTIME;
        free(s);
        free(path);
        if (st != CT_OK) {
            cJSON_Delete(rep);
            goto fail;
        }
        /* the report draws the whole DEM: read it here, on rank 0 only */
        if (a->report && (ct_raster_read(a->dem, &full_dem, &err) != CT_OK ||
                          flood_cli_write_html(a->report, a, full_dem, &res, rep, &err) != CT_OK)) {
            cJSON_Delete(rep);
            goto fail;
        }
        if (a->json)
            cli_print_json(rep);
        else {
            cJSON_Delete(rep);
            printf("%lld steps, %.0f s simulated in %.2f s (%.1f M cell updates/s), max depth %.3f m, "
                   "flooded %.1f m2, mass balance error %.2e\n",
                   res.steps, res.simulated_s, res.seconds, res.cell_updates_per_s / 1e6, res.max_depth_m,
                   res.flooded_area_m2, res.mass_balance_error);
        }
    }
    goto done;
fail:
    /* every rank fails alike (the run agrees on the first error): rank 0 says it */
    rc = rank == 0 ? cli_fail_err(sub, &err) : (int)err.status;
done:
    ct_flood_sim_result_free(&res);
    for (int i = 0; i < a->n_inflows; i++)
        ct_flood_series_free(&inflows[i].q_m3s);
    ct_flood_series_free(&rain);
    for (int k = 0; k < 4; k++)
        ct_flood_series_free(&a->boundary[k].level_series);
    for (int i = 0; lines && i < a->n_lines; i++) {
        free((double *)lines[i].xy);
        ct_flood_series_free(&lines[i].q_m3s);
    }
    free(lines);
    a->lines = NULL;
    ct_flood_rain_list_free(&frames);
    ct_raster_destroy(full_dem);
    ct_raster_destroy(dem);
    if (mpi)
        ct_flood_mpi_finalize();
    return rc;
}
