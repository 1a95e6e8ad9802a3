/* citytwin analyze flood: static (bathtub) inundation from seeds, or a
 * dynamic 2D local-inertial flood (see docs/flood.md). */
#include "citytwin/ct_flood.h"
#include "citytwin/ct_geo.h"
#include "cli.h"
#include "flood_cli.h"
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze flood"
#define MAX_ITEMS 256

static const char USAGE[] =
    "usage: citytwin analyze flood --dem DEM --seed X,Y [--seed X,Y ...] (--level L[,L...] | --rise R[,R...])\n"
    "                              [--connectivity 8|4] -o DEPTH.tif [--extent OUT.gpkg] [--crs CRS]\n"
    "                              [--rlake-compat] [--compress deflate|zstd|lzw|none] [--report OUT.html]\n"
    "                              [--progress] [--json]\n"
    "       citytwin analyze flood --dem DEM --duration S [--rain MM_PER_H | --rain-series CSV |\n"
    "                              --rain-rasters LIST.csv]\n"
    "                              [--inflow X,Y:HYDROGRAPH.csv ...] [--inflow-line LINE:HYDROGRAPH.csv ...]\n"
    "                              [--manning N | --manning-raster R]\n"
    "                              [--boundary closed|free|level:L|level:CSV|SIDE=KIND ...] [--buildings SRC]\n"
    "                              [--gauge X,Y ...] [--snapshot-every S] --out-dir DIR [--crs CRS]\n"
    "                              [--alpha A] [--theta T] [--initial-level L] [--mass-balance-every S]\n"
    "                              [--report OUT.html]\n"
    "                              [--progress] [--json]\n"
    "\n"
    "Static: cells strictly below the level and connected to a seed (r.lake semantics).\n"
    "  --level L[,L...]  absolute water level(s); with several, -o out.tif writes out_<L>.tif per level\n"
    "  --rise R[,R...]   level = ground at each seed + R\n"
    "  --connectivity    8 (default, as r.lake) or 4\n"
    "  --extent FILE     flooded area as polygons (.gpkg, .geojson, .shp), DEM CRS, field 'level'\n"
    "  --rlake-compat    reproduce r.lake's last-column quirk cell for cell\n"
    "Dynamic: local inertial shallow-water model (projected DEM in metres).\n"
    "  --duration S      simulated seconds\n"
    "  --rain MM_PER_H   constant rain; --rain-series CSV: time_s,mm_per_h (linear interpolation)\n"
    "  --rain-rasters LIST.csv  rows time_s,path of rain rasters in mm/h (any GDAL raster; paths\n"
    "                    relative to the list's folder; resampled bilinearly onto the DEM grid when\n"
    "                    it differs; nodata = no rain); each falls until the next one's time\n"
    "  --inflow X,Y:CSV  point inflow hydrograph, CSV time_s,q_m3s\n"
    "  --inflow-line LINE:CSV  inflow along a line, spread over the cells it crosses by length;\n"
    "                    LINE: LINESTRING(...) WKT, X1,Y1;X2,Y2;... (DEM CRS or --crs), or an OGR\n"
    "                    source (all line features of its first layer, reprojected)\n"
    "  --manning N       Manning's n (default 0.03); --manning-raster R on the DEM grid\n"
    "  --boundary B      closed (default), free (outflow), level:L (fixed level), level:STAGE.csv\n"
    "                    (time_s,level_m: a river or tide stage, linear in time); per side: east=level:tide.csv\n"
    "  --buildings SRC   OGR polygons rasterized as walls (reprojected to the DEM's CRS)\n"
    "  --gauge X,Y       depth and level time series in gauges.csv (every --gauge-every S, default 60)\n"
    "  --snapshot-every S  writes depth_<seconds>.tif\n"
    "  --out-dir DIR     max_depth.tif, max_velocity.tif, arrival_time.tif, final_depth.tif,\n"
    "                    gauges.csv, mass_balance.csv, report.json\n"
    "  --mass-balance-every S  rows of mass_balance.csv (cumulative rain, inflow, boundary in/out,\n"
    "                    storage, error %%) every S simulated seconds (default --gauge-every)\n"
    "  --alpha A (CFL, 0.7)  --theta T (q-centred weighting, 0.9)  --initial-level L (start with water)\n"
    "Both:\n"
    "  --compress C      output GeoTIFF compression: zstd (default, level 1; GDAL >= 2.3 reads it),\n"
    "                    deflate (level 1; any TIFF reader, ~2x the CPU), lzw, none; with the\n"
    "                    floating-point predictor (not none)\n"
    "  --report OUT.html self-contained HTML page: inputs, summary, key figures, a depth map over\n"
    "                    the hillshaded DEM, charts (depth histogram; area/volume by level;\n"
    "                    gauge hydrographs; water budget over time), the JSON report (see docs/report.md)\n"
    "  --progress        progress bar on stderr even when it is not a terminal\n"
    "Coordinates are in the DEM's CRS unless --crs says otherwise. Run under\n"
    "mpirun -np N for 2D block domain decomposition (same result as one process).\n";

/* ------------------------------------------------------------------ static */

static int run_static(flood_cli_args *a)
{
    ct_error err = {0};
    ct_raster *dem = NULL;
    if (ct_raster_read(a->dem, &dem, &err) != CT_OK)
        return cli_fail_err(SUB, &err);
    int rc = 0;
    if (flood_cli_transform_points(a->crs, dem, a->seeds, a->n_seeds, &err) != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto out;
    }
    double t0 = ct_time_now();
    int n = a->n_levels;
    ct_raster *depths[MAX_ITEMS] = {0};
    ct_flood_static_result res[MAX_ITEMS];
    cli_progress bar;
    cli_progress_begin(&bar, "flood", a->progress);
    for (int k = 0; k < n; k++) {
        cli_progress_update(&bar, (double)k / n);
        ct_flood_static_desc d = {
            .dem = dem, .seeds_xy = a->seeds, .n_seeds = a->n_seeds,
            .level = a->levels[k], .use_rise = a->use_rise, .rise = a->levels[k],
            .connectivity = a->connectivity, .rlake_compat = a->rlake_compat,
        };
        /* The last level needs no copy of the DEM unless the report draws it:
         * the DEM grid becomes the depth grid (half the memory). */
        ct_status st;
        if (k == n - 1 && !a->report) {
            st = ct_flood_static_run_in_place(&d, dem, &res[k], &err);
            if (st == CT_OK) {
                depths[k] = dem;
                dem = NULL;
            }
        } else {
            st = ct_flood_static_run(&d, &depths[k], &res[k], &err);
        }
        if (st != CT_OK) {
            cli_progress_end(&bar);
            rc = cli_fail_err(SUB, &err);
            goto free_depths;
        }
    }
    cli_progress_end(&bar);
    cJSON *levels = cJSON_CreateArray();
    for (int k = 0; k < n; k++) {
        char path[4096];
        flood_cli_series_path(a->out, n > 1 ? a->levels[k] : NAN, path, sizeof path);
        ct_flood_write_desc wd = {.compress = a->compress};
        if (ct_flood_raster_write_with(depths[k], path, &wd, &err) != CT_OK) {
            cJSON_Delete(levels);
            rc = cli_fail_err(SUB, &err);
            goto free_depths;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, a->use_rise ? "rise" : "level", a->levels[k]);
        cJSON_AddNumberToObject(o, "cells", (double)res[k].cells);
        cJSON_AddNumberToObject(o, "area_m2", res[k].area_m2);
        cJSON_AddNumberToObject(o, "volume_m3", res[k].volume_m3);
        cJSON_AddNumberToObject(o, "max_depth_m", res[k].max_depth_m);
        cJSON_AddStringToObject(o, "output", path);
        cJSON_AddItemToArray(levels, o);
    }
    if (a->extent) {
        /* Polygon levels: the absolute level, or for --rise the rise. */
        if (ct_flood_extent_write(a->extent, (const ct_raster *const *)depths, a->levels, n, &err) != CT_OK) {
            cJSON_Delete(levels);
            rc = cli_fail_err(SUB, &err);
            goto free_depths;
        }
    }
    double secs = ct_time_now() - t0;
    const ct_flood_static_result *last = &res[n - 1];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "cells", (double)last->cells);
    cJSON_AddNumberToObject(o, "area_m2", last->area_m2);
    cJSON_AddNumberToObject(o, "volume_m3", last->volume_m3);
    cJSON_AddNumberToObject(o, "max_depth_m", last->max_depth_m);
    cJSON_AddNumberToObject(o, "seconds", secs);
    cJSON_AddNumberToObject(o, "seeds_used", last->seeds_used);
    cJSON_AddItemToObject(o, "levels", levels);
    if (a->report &&
        flood_cli_write_static_html(a->report, a, dem, depths, res, n, secs, o, &err) != CT_OK) {
        cJSON_Delete(o);
        rc = cli_fail_err(SUB, &err);
        goto free_depths;
    }
    if (a->json) {
        cli_print_json(o);
    } else {
        for (int k = 0; k < n; k++)
            printf("%s %g: %zu cells, area %.1f m2, volume %.1f m3, max depth %.3f m\n",
                   a->use_rise ? "rise" : "level", a->levels[k], res[k].cells, res[k].area_m2, res[k].volume_m3,
                   res[k].max_depth_m);
        printf("%.3f s\n", secs);
        if (a->report)
            printf("report: %s\n", a->report);
        cJSON_Delete(o);
    }
free_depths:
    for (int k = 0; k < n; k++)
        ct_raster_destroy(depths[k]);
out:
    ct_raster_destroy(dem);
    return rc;
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_flood) == 0)
        return 0;
    flood_cli_args a;
    int rc = flood_cli_parse(SUB, argc, argv, &a);
    if (rc != 0) {
        flood_cli_args_free(&a);
        return rc;
    }
    if (!a.dem) {
        rc = cli_fail(SUB, CT_ERR_USAGE, "--dem DEM is required");
    } else if (a.dynamic) {
        rc = flood_cli_run_dynamic(SUB, &a);
    } else {
        if (a.n_seeds == 0)
            rc = cli_fail(SUB, CT_ERR_USAGE, "--seed X,Y is required (or --duration for a dynamic flood)");
        else if (a.n_levels == 0)
            rc = cli_fail(SUB, CT_ERR_USAGE, "--level L or --rise R is required");
        else if (!a.out)
            rc = cli_fail(SUB, CT_ERR_USAGE, "-o DEPTH.tif is required");
        else
            rc = run_static(&a);
    }
    flood_cli_args_free(&a);
    return rc;
}

const ct_cli_command ct_cmd_analyze_flood = {"flood", run, "static (bathtub) or dynamic 2D flood on a DEM", USAGE};
