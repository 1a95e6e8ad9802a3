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
    "                 [--tileset TILESET.json]... [--tiles-max-error M] [--tiles-height-offset M]\n"
    "                 [--step M] [--curvature K] [--crs CRS] [--profile] [--mesh-offset X,Y,Z] [--z-up]\n"
    "                 [--report OUT.html] [--progress]\n\n"
    "Is the segment between two points (absolute heights, metres) clear of the terrain\n"
    "and of 3D meshes and 3D Tiles? The segment is sampled every --step metres (default\n"
    "half a cell) with bilinear DEM heights; meshes are hit-tested with one Embree ray.\n\n"
    "  --dem DEM            elevation raster (any GDAL format)\n"
    "  --from X,Y,Z         start (the eye), in the DEM's CRS or in --crs\n"
    "  --to X,Y,Z           end (the target)\n"
    "  --meshes INPUT...    glTF/GLB files whose coordinates are in the DEM's CRS after\n"
    "                       --mesh-offset is added (glTF Y-up is turned Z-up unless --z-up)\n"
    "  --tileset PATH       3D Tiles tileset.json (path or http(s) URL; repeatable): the tiles\n"
    "                       whose bounding volume meets the segment are loaded down to the\n"
    "                       finest level (b3dm, i3dm, cmpt, glb; instances expanded) and\n"
    "                       hit-tested with the meshes. Georeferenced (ECEF) tilesets go to the\n"
    "                       DEM's CRS (without --dem: --crs, else EPSG:4326 lon,lat); others are\n"
    "                       taken as coordinates in that CRS, plus --mesh-offset\n"
    "  --tiles-max-error M  stop descending at tiles whose geometric error is <= M metres\n"
    "                       (default: the finest level)\n"
    "  --tiles-height-offset M  added to the tileset's ellipsoidal heights before they are\n"
    "                       compared with DEM/--from/--to heights (e.g. minus the geoid\n"
    "                       undulation); default 0\n"
    "  --step M             sampling step in metres (default half the smallest cell side)\n"
    "  --curvature K        earth curvature and refraction coefficient (default 0 = none)\n"
    "  --crs CRS            CRS of --from/--to (without --dem: also of the analysis)\n"
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
    const char **tilesets = calloc((size_t)argc + 1, sizeof *tilesets);
    size_t nmesh = 0, ntiles = 0;
    double tiles_max_error = 0, tiles_height_offset = 0;
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
        else if (!strcmp(a, "--tileset"))
            tilesets[ntiles++] = v;
        else if (!strcmp(a, "--tiles-max-error"))
            ok = parse_num(v, &tiles_max_error) && tiles_max_error >= 0;
        else if (!strcmp(a, "--tiles-height-offset"))
            ok = parse_num(v, &tiles_height_offset);
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
    if (rc == 0 && !dem_path && !nmesh && !ntiles)
        rc = cli_fail(SUB, CT_ERR_USAGE, "--dem DEM (or --meshes, --tileset) is required");
    if (rc == 0 && (!has_from || !has_to))
        rc = cli_fail(SUB, CT_ERR_USAGE, "--from X,Y,Z and --to X,Y,Z are required");
    if (rc) {
        free(meshes);
        free(tilesets);
        return rc;
    }
    ct_error err = {0};
    ct_raster *dem = NULL;
    ct_los_meshes *lm = NULL;
    ct_los_result res = {0};
    ct_los_tileset_stats tstats = {0};
    bool any_georef = false;
    los_bar bar = {.base = nmesh || ntiles ? 0.9 : 0};
    cli_progress_begin(&bar.bar, "los", progress);
    if (dem_path && ct_raster_read(dem_path, &dem, &err) != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto done;
    }
    if (crs && !dem) {
        d.crs = crs; /* no DEM: --crs is the analysis CRS itself */
    } else if (crs) {
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
    if (nmesh || ntiles) {
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
            ct_status st = ct_los_meshes_set_source(lm, meshes[i], false, &err);
            if (st == CT_OK)
                st = ct_los_meshes_add_gltf(lm, g, !z_up, offset, &err);
            ct_gltf_destroy(g);
            if (st != CT_OK) {
                cli_progress_end(&bar.bar);
                rc = cli_fail(SUB, st, "%s: %s", meshes[i], err.msg);
                goto done;
            }
            cli_progress_update(&bar.bar, 0.4 * (double)(i + 1) / (double)nmesh);
        }
        for (size_t i = 0; i < ntiles; i++) {
            ct_los_tileset_desc td = {.uri = tilesets[i],
                                      .crs = dem ? dem->crs_wkt : (crs ? crs : "EPSG:4326"),
                                      .max_error = tiles_max_error,
                                      .height_offset = tiles_height_offset};
            memcpy(td.from, d.from, sizeof td.from);
            memcpy(td.to, d.to, sizeof td.to);
            memcpy(td.offset, offset, sizeof td.offset);
            if (ct_los_meshes_add_tileset(lm, &td, &tstats, &err) != CT_OK) {
                cli_progress_end(&bar.bar);
                rc = cli_fail_err(SUB, &err);
                goto done;
            }
            any_georef |= tstats.georeferenced;
            cli_progress_update(&bar.bar, 0.4 + 0.4 * (double)(i + 1) / (double)ntiles);
        }
        if (ct_los_meshes_commit(lm, &err) != CT_OK) {
            cli_progress_end(&bar.bar);
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        cli_progress_update(&bar.bar, 0.9);
    }
    if (!dem && !crs && any_georef)
        d.crs = "EPSG:4326"; /* lon, lat: lengths in metres all the same */
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
            cJSON_AddStringToObject(o, "blocked_by",
                                    res.blocked_by_tileset ? "tileset" : res.blocked_by_mesh ? "mesh" : "terrain");
        }
        if (res.obstruction_source)
            cJSON_AddStringToObject(o, "obstruction_source", res.obstruction_source);
        else
            cJSON_AddNullToObject(o, "obstruction_source");
        if (isnan(res.min_clearance))
            cJSON_AddNullToObject(o, "min_clearance_m");
        else
            cJSON_AddNumberToObject(o, "min_clearance_m", res.min_clearance);
        cJSON_AddNumberToObject(o, "samples", (double)res.sample_count);
        cJSON_AddNumberToObject(o, "hole_samples", (double)res.hole_samples);
        cJSON_AddNumberToObject(o, "mesh_triangles", (double)ct_los_meshes_triangle_count(lm));
        if (ntiles) {
            cJSON_AddNumberToObject(o, "tiles_loaded", (double)tstats.tiles_loaded);
            cJSON_AddNumberToObject(o, "tiles_failed", (double)tstats.tiles_failed);
            cJSON_AddNumberToObject(o, "tileset_triangles", (double)tstats.triangles);
        }
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
        printf("blocked by %s%s%s at %.3f,%.3f,%.3f (%.1f m from the start of %.1f m)\n",
               res.blocked_by_tileset ? "a tileset" : res.blocked_by_mesh ? "a mesh" : "the terrain",
               res.obstruction_source ? " " : "", res.obstruction_source ? res.obstruction_source : "", res.obstruction[0], res.obstruction[1],
               res.obstruction[2], res.obstruction_t * res.length, res.length);
    }
done:
    ct_los_result_free(&res);
    ct_los_meshes_destroy(lm);
    ct_raster_destroy(dem);
    free(meshes);
    free(tilesets);
    return rc;
}
