/* citytwin analyze pond: where a rainfall depth ponds (depression hierarchy,
 * fill-spill-merge; see docs/flood.md). */
#include "citytwin/ct_flood.h"
#include "citytwin/ct_geo.h"
#include "cli.h"
#include "flood_cli.h"
#include "progress.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze pond"

static const char USAGE[] =
    "usage: citytwin analyze pond --dem DEM --rain-depth MM -o DEPTH.tif [--extent OUT.gpkg]\n"
    "                             [--report OUT.html] [--progress] [--json]\n"
    "\n"
    "Rain of MM millimetres falls on every cell and runs downhill into the depression of its\n"
    "catchment; full depressions spill over their lowest saddle into the next one, depressions\n"
    "whose both sides are full merge; water reaching the raster edge or nodata leaves.\n"
    "  -o DEPTH.tif      ponded depth (Float32, metres, nodata where dry)\n"
    "  --extent FILE     ponds as polygons (.gpkg, .geojson, .shp)\n"
    "  --json            {\"cells\",\"area_m2\",\"volume_m3\",\"max_depth_m\",\"rain_volume_m3\",\n"
    "                     \"outflow_m3\",\"depressions\",\"depressions_full\",\"seconds\"}\n"
    "  --report OUT.html self-contained HTML page: ponded depths over the hillshaded DEM, depth\n"
    "                    histogram, key figures, the JSON report (see docs/report.md)\n"
    "  --progress        progress bar on stderr even when it is not a terminal\n"
    "The DEM must be in a projected CRS (metres).\n";

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_pond) == 0)
        return 0;
    const char *dem_path = NULL, *out = NULL, *extent = NULL, *report_path = NULL;
    double rain = NAN;
    bool json = false, progress = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(argv[i], "--progress")) {
            progress = true;
            continue;
        }
        if (i + 1 >= argc)
            return cli_fail(SUB, CT_ERR_USAGE, "%s needs a value", argv[i]);
        const char *v = argv[++i];
        if (!strcmp(argv[i - 1], "--dem"))
            dem_path = v;
        else if (!strcmp(argv[i - 1], "-o") || !strcmp(argv[i - 1], "--output"))
            out = v;
        else if (!strcmp(argv[i - 1], "--extent"))
            extent = v;
        else if (!strcmp(argv[i - 1], "--report"))
            report_path = v;
        else if (!strcmp(argv[i - 1], "--rain-depth")) {
            char *end;
            errno = 0;
            rain = strtod(v, &end);
            if (end == v || *end || errno || !isfinite(rain) || rain < 0)
                return cli_fail(SUB, CT_ERR_USAGE, "--rain-depth %s: expected millimetres >= 0", v);
        } else
            return cli_fail(SUB, CT_ERR_USAGE, "unknown option %s (see --help)", argv[i - 1]);
    }
    if (!dem_path || !out || isnan(rain))
        return cli_fail(SUB, CT_ERR_USAGE, "--dem DEM, --rain-depth MM and -o DEPTH.tif are required");
    ct_error err = {0};
    ct_raster *dem = NULL, *depth = NULL;
    if (ct_raster_read(dem_path, &dem, &err) != CT_OK)
        return cli_fail_err(SUB, &err);
    int rc = 0;
    if (dem->crs_wkt && *dem->crs_wkt && ct_crs_is_geographic(dem->crs_wkt)) {
        rc = cli_fail(SUB, CT_ERR_INPUT, "%s: the DEM is geographic; pond needs a projected CRS in metres", dem_path);
        goto out;
    }
    double t0 = ct_time_now();
    ct_flood_pond_result res;
    cli_progress bar;
    cli_progress_begin(&bar, "pond", progress);
    ct_flood_pond_desc pd = {.dem = dem, .rain_mm = rain, .progress = cli_progress_update, .progress_user = &bar};
    ct_status pst = ct_flood_pond_compute(&pd, &depth, &res, &err);
    cli_progress_end(&bar);
    if (pst != CT_OK ||
        ct_raster_write_gtiff(depth, out, CT_RASTER_FLOAT32, true, -9999.0, &err) != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto out;
    }
    if (extent) {
        const ct_raster *dl[1] = {depth};
        if (ct_flood_extent_write(extent, dl, &rain, 1, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            goto out;
        }
    }
    double secs = ct_time_now() - t0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "cells", (double)res.cells);
    cJSON_AddNumberToObject(o, "area_m2", res.area_m2);
    cJSON_AddNumberToObject(o, "volume_m3", res.volume_m3);
    cJSON_AddNumberToObject(o, "max_depth_m", res.max_depth_m);
    cJSON_AddNumberToObject(o, "rain_volume_m3", res.rain_volume_m3);
    cJSON_AddNumberToObject(o, "outflow_m3", res.outflow_m3);
    cJSON_AddNumberToObject(o, "depressions", res.depressions);
    cJSON_AddNumberToObject(o, "depressions_full", res.depressions_full);
    cJSON_AddNumberToObject(o, "seconds", secs);
    if (report_path && flood_cli_write_pond_html(report_path, argc, argv, dem_path, dem, rain, depth, &res, secs, o,
                                                 &err) != CT_OK) {
        cJSON_Delete(o);
        rc = cli_fail_err(SUB, &err);
        goto out;
    }
    if (json) {
        cli_print_json(o);
    } else {
        cJSON_Delete(o);
        printf("%zu cells wet, %.1f m2, %.1f m3 ponded of %.1f m3 rain (%.1f m3 left the map), max depth %.3f m, "
               "%d depressions (%d full), %.3f s\n",
               res.cells, res.area_m2, res.volume_m3, res.rain_volume_m3, res.outflow_m3, res.max_depth_m,
               res.depressions, res.depressions_full, secs);
    }
out:
    ct_raster_destroy(depth);
    ct_raster_destroy(dem);
    return rc;
}

const ct_cli_command ct_cmd_analyze_pond = {"pond", run, "ponding of a rainfall depth in depressions", USAGE};
