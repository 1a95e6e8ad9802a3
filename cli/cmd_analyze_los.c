/* citytwin analyze los: line of sight between two 3D points. */
#include "cli.h"
#include "progress.h"
#include "report_visibility.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_visibility.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze los"

static const char USAGE[] =
    "usage: citytwin analyze los --dem DEM --from X,Y,Z --to X,Y,Z [--meshes INPUT...] [--json]\n"
    "                 [--step M] [--curvature K] [--crs CRS] [--profile] [--mesh-offset X,Y,Z] [--z-up]\n"
    "                 [--report OUT.html] [--progress]\n\n"
    "Is the segment between two points (absolute heights, metres) clear of the terrain\n"
    "and of 3D meshes? The segment is sampled every --step metres (default half a cell)\n"
    "with bilinear DEM heights; meshes are hit-tested with one Embree ray.\n\n"
    "  --dem DEM            elevation raster (any GDAL format)\n"
    "  --from X,Y,Z         start (the eye), in the DEM's CRS or in --crs\n"
    "  --to X,Y,Z           end (the target)\n"
    "  --meshes INPUT...    glTF/GLB files whose coordinates are in the DEM's CRS after\n"
    "                       --mesh-offset is added (glTF Y-up is turned Z-up unless --z-up)\n"
    "  --step M             sampling step in metres (default half the smallest cell side)\n"
    "  --curvature K        earth curvature and refraction coefficient (default 0 = none)\n"
    "  --crs CRS            CRS of --from/--to\n"
    "  --profile            include every sample (distance, line and ground heights) in the JSON\n"
    "  --json               print {visible, obstruction, min_clearance_m, length_m, ...}\n"
    "  --report OUT.html    self-contained HTML page: the sight line over the hillshaded DEM,\n"
    "                       the terrain profile with the sight line, the JSON (see docs/report.md)\n"
    "  --progress           progress bar on stderr even when it is not a terminal (meshes loaded,\n"
    "                       then the DEM samples)\n";

static int run(int argc, char **argv);
const ct_cli_command ct_cmd_analyze_los = {"los", run, "line of sight between two 3D points", USAGE};

static bool parse_num(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == 0 && isfinite(*v);
}

/* One bar over the stages: meshes loaded, then ct_los_compute's own fraction
 * mapped into [base, 1]. */
typedef struct los_bar {
    cli_progress bar;
    double base;
} los_bar;

static void los_progress(void *user, double f)
{
    los_bar *b = user;
    cli_progress_update(&b->bar, b->base + (1 - b->base) * f);
}

static cJSON *xyz(const double *p)
{
    return cJSON_CreateDoubleArray(p, 3);
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_los) == 0)
        return 0;
    const char *dem_path = NULL, *crs = NULL, *report_path = NULL;
    const char **meshes = calloc((size_t)argc + 1, sizeof *meshes);
    size_t nmesh = 0;
    bool json = false, profile = false, has_from = false, has_to = false, z_up = false, progress = false;
    double offset[3] = {0};
    ct_los_desc d = {0};
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--profile")) {
            profile = true;
            continue;
        }
        if (!strcmp(a, "--progress")) {
            progress = true;
            continue;
        }
        if (!strcmp(a, "--z-up")) {
            z_up = true;
            continue;
        }
        if (!strcmp(a, "--meshes")) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
                meshes[nmesh++] = argv[++i];
            if (!nmesh)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--meshes needs at least one file");
            continue;
        }
        if (!v) {
            rc = cli_fail(SUB, CT_ERR_USAGE, "%s needs a value", a);
            break;
        }
        if (!strcmp(a, "--dem"))
            dem_path = v;
        else if (!strcmp(a, "--from"))
            ok = has_from = cli_parse_numbers(v, d.from, 3, 3) == 3;
        else if (!strcmp(a, "--to"))
            ok = has_to = cli_parse_numbers(v, d.to, 3, 3) == 3;
        else if (!strcmp(a, "--step"))
            ok = parse_num(v, &d.step) && d.step > 0;
        else if (!strcmp(a, "--curvature"))
            ok = parse_num(v, &d.curvature);
        else if (!strcmp(a, "--crs"))
            crs = v;
        else if (!strcmp(a, "--report"))
            report_path = v;
        else if (!strcmp(a, "--mesh-offset"))
            ok = cli_parse_numbers(v, offset, 3, 3) == 3;
        else {
            rc = cli_fail(SUB, CT_ERR_USAGE, "unknown option '%s' (see --help)", a);
            break;
        }
        if (!ok)
            rc = cli_fail(SUB, CT_ERR_USAGE, "bad value '%s' for %s", v, a);
        i++;
    }
    if (rc == 0 && !dem_path && !nmesh)
        rc = cli_fail(SUB, CT_ERR_USAGE, "--dem DEM (or --meshes) is required");
    if (rc == 0 && (!has_from || !has_to))
        rc = cli_fail(SUB, CT_ERR_USAGE, "--from X,Y,Z and --to X,Y,Z are required");
    if (rc) {
        free(meshes);
        return rc;
    }
    ct_error err = {0};
    ct_raster *dem = NULL;
    ct_los_meshes *lm = NULL;
    ct_los_result res = {0};
    los_bar bar = {.base = nmesh ? 0.9 : 0};
    cli_progress_begin(&bar.bar, "los", progress);
    if (dem_path && ct_raster_read(dem_path, &dem, &err) != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto done;
    }
    if (crs) {
        const char *dst = dem && dem->crs_wkt && *dem->crs_wkt ? dem->crs_wkt : NULL;
        if (!dst) {
            rc = cli_fail(SUB, CT_ERR_INPUT, "--crs given but %s has no CRS", dem_path ? dem_path : "the input");
            goto done;
        }
        ct_crs_transform *tr = NULL;
        double x[2] = {d.from[0], d.to[0]}, y[2] = {d.from[1], d.to[1]};
        if (ct_crs_transform_create(crs, dst, &tr, &err) != CT_OK || ct_crs_transform_points(tr, 2, x, y, NULL, &err) != CT_OK) {
            ct_crs_transform_destroy(tr);
            rc = cli_fail(SUB, CT_ERR_USAGE, "--crs %s: %s", crs, err.msg);
            goto done;
        }
        ct_crs_transform_destroy(tr);
        d.from[0] = x[0], d.to[0] = x[1], d.from[1] = y[0], d.to[1] = y[1];
    }
    if (nmesh) {
        if (ct_los_meshes_create(&lm, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        for (size_t i = 0; i < nmesh; i++) {
            ct_gltf *g = NULL;
            if (ct_gltf_load_file(meshes[i], &(ct_gltf_options){.skip_images = true}, &g, &err) != CT_OK) {
                cli_progress_end(&bar.bar);
                rc = cli_fail_err(SUB, &err);
                goto done;
            }
            ct_status st = ct_los_meshes_add_gltf(lm, g, !z_up, offset, &err);
            ct_gltf_destroy(g);
            if (st != CT_OK) {
                cli_progress_end(&bar.bar);
                rc = cli_fail(SUB, st, "%s: %s", meshes[i], err.msg);
                goto done;
            }
            cli_progress_update(&bar.bar, 0.8 * (double)(i + 1) / (double)nmesh);
        }
        if (ct_los_meshes_commit(lm, &err) != CT_OK) {
            cli_progress_end(&bar.bar);
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        cli_progress_update(&bar.bar, 0.9);
    }
    d.progress = los_progress;
    d.progress_user = &bar;
    ct_status cst = ct_los_compute(dem, lm, &d, &res, &err);
    cli_progress_end(&bar.bar);
    if (cst != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto done;
    }
    if (json || report_path) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "visible", res.visible);
        cJSON_AddItemToObject(o, "from", xyz(d.from));
        cJSON_AddItemToObject(o, "to", xyz(d.to));
        cJSON_AddNumberToObject(o, "length_m", res.length);
        if (res.visible) {
            cJSON_AddNullToObject(o, "obstruction");
            cJSON_AddNullToObject(o, "obstruction_distance_m");
            cJSON_AddNullToObject(o, "blocked_by");
        } else {
            cJSON_AddItemToObject(o, "obstruction", xyz(res.obstruction));
            cJSON_AddNumberToObject(o, "obstruction_distance_m", res.obstruction_t * res.length);
            cJSON_AddStringToObject(o, "blocked_by", res.blocked_by_mesh ? "mesh" : "terrain");
        }
        if (isnan(res.min_clearance))
            cJSON_AddNullToObject(o, "min_clearance_m");
        else
            cJSON_AddNumberToObject(o, "min_clearance_m", res.min_clearance);
        cJSON_AddNumberToObject(o, "samples", (double)res.sample_count);
        cJSON_AddNumberToObject(o, "hole_samples", (double)res.hole_samples);
        cJSON_AddNumberToObject(o, "mesh_triangles", (double)ct_los_meshes_triangle_count(lm));
        if (profile) {
            cJSON *arr = cJSON_AddArrayToObject(o, "profile");
            for (size_t i = 0; i < res.sample_count; i++) {
                const ct_los_sample *s = &res.samples[i];
                cJSON *p = cJSON_CreateObject();
                cJSON_AddNumberToObject(p, "distance_m", s->distance);
                cJSON_AddNumberToObject(p, "line_z", s->line_z);
                if (isnan(s->ground_z)) {
                    cJSON_AddNullToObject(p, "ground_z");
                    cJSON_AddNullToObject(p, "clearance_m");
                } else {
                    cJSON_AddNumberToObject(p, "ground_z", s->ground_z);
                    cJSON_AddNumberToObject(p, "clearance_m", s->clearance);
                }
                cJSON_AddItemToArray(arr, p);
            }
        }
        if (report_path && report_los_write(report_path, argc, argv, dem_path, dem, &d, &res, o, &err) != CT_OK) {
            cJSON_Delete(o);
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        if (json) {
            cli_print_json(o);
            goto done;
        }
        cJSON_Delete(o);
    }
    if (res.visible) {
        printf("visible: %.1f m, minimum clearance %.2f m\n", res.length, res.min_clearance);
    } else {
        printf("blocked by %s at %.3f,%.3f,%.3f (%.1f m from the start of %.1f m)\n",
               res.blocked_by_mesh ? "a mesh" : "the terrain", res.obstruction[0], res.obstruction[1],
               res.obstruction[2], res.obstruction_t * res.length, res.length);
    }
done:
    ct_los_result_free(&res);
    ct_los_meshes_destroy(lm);
    ct_raster_destroy(dem);
    free(meshes);
    return rc;
}
