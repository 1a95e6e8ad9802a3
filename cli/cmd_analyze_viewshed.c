/* citytwin analyze viewshed: visible cells from an observer on a DEM. */
#include "cli.h"
#include "progress.h"
#include "report_visibility.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_visibility.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze viewshed"

static const char USAGE[] =
    "usage: citytwin analyze viewshed --dem DEM --observer X,Y --height H [--target-height T]\n"
    "                 [--max-distance D] [--curvature K] -o OUT.tif [--json]\n"
    "                 [--buildings SRC [--height-field F] [--default-height H]]\n"
    "                 [--surface RASTER | --building-heights RASTER]\n"
    "                 [--crs CRS] [--out-of-range V] [--threads N] [--report OUT.html] [--progress]\n\n"
    "Cells of the DEM an eye at H metres above the ground at X,Y sees (gdal_viewshed's\n"
    "algorithm and options: -oz H -tz T -md D -cc K). Output: Byte GeoTIFF, 255 visible,\n"
    "0 hidden, V (default 1, the nodata value) beyond --max-distance and on DEM holes;\n"
    "the raster covers the max-distance window as gdal_viewshed's does.\n\n"
    "  --dem DEM            elevation raster (any GDAL format; /vsizip/ works)\n"
    "  --observer X,Y       in the DEM's CRS, or in --crs\n"
    "  --height H           eye height above the ground (metres)\n"
    "  --target-height T    height of the targets above their cells (default 0)\n"
    "  --max-distance D     metres; 0 or absent = the whole DEM\n"
    "  --curvature K        earth curvature and refraction coefficient (default 0.85714, 0 = flat)\n"
    "  --buildings SRC      footprints (OGR, SRC or SRC:layer) raised onto the DEM by their height\n"
    "  --height-field F     building height attribute (default 'height'; else levels x 3 m)\n"
    "  --default-height H   height of footprints without one (default 0: skipped)\n"
    "  --surface RASTER     a surface model (same grid) used for sight lines and targets; the\n"
    "                       observer stands H above the --dem ground when both are given\n"
    "  --building-heights RASTER  heights above the ground (nDSM, metres; same grid, nodata = 0)\n"
    "                       added to --dem for sight lines and targets; the observer stands H\n"
    "                       above the ground\n"
    "  --crs CRS            CRS of --observer (EPSG:n, PROJ string or WKT)\n"
    "  --out-of-range V     value (and nodata tag) of cells beyond range, 1..254 (default 1)\n"
    "  --threads N          worker threads (default: all cores, at most 4)\n"
    "  -o OUT.tif           output GeoTIFF\n"
    "  --json               print {visible_cells, total_cells, seconds, ...} on stdout\n"
    "  --report OUT.html    self-contained HTML page: visible cells over the hillshaded DEM,\n"
    "                       visible fraction by distance band, the JSON (see docs/report.md)\n"
    "  --progress           progress bar on stderr even when it is not a terminal\n";

static int run(int argc, char **argv);
const ct_cli_command ct_cmd_analyze_viewshed = {"viewshed", run, "visible cells from an observer on a DEM", USAGE};

static bool parse_num(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == 0 && isfinite(*v);
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_viewshed) == 0)
        return 0;
    const char *dem_path = NULL, *out_path = NULL, *buildings = NULL, *height_field = NULL, *surface = NULL,
               *heights_path = NULL, *crs = NULL, *report_path = NULL;
    double obs[2] = {0}, height = NAN, oor = 1, default_height = 0;
    bool has_obs = false, json = false, progress = false;
    ct_viewshed_desc d = {0};
    d.curvature = CT_VIEWSHED_DEFAULT_CURVATURE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--progress")) {
            progress = true;
            continue;
        }
        if (!v)
            return cli_fail(SUB, CT_ERR_USAGE, "%s needs a value", a);
        if (!strcmp(a, "--dem"))
            dem_path = v;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
            out_path = v;
        else if (!strcmp(a, "--observer"))
            ok = has_obs = cli_parse_numbers(v, obs, 2, 2) == 2;
        else if (!strcmp(a, "--height"))
            ok = parse_num(v, &height);
        else if (!strcmp(a, "--target-height"))
            ok = parse_num(v, &d.target_height);
        else if (!strcmp(a, "--max-distance"))
            ok = parse_num(v, &d.max_distance) && d.max_distance >= 0;
        else if (!strcmp(a, "--curvature"))
            ok = parse_num(v, &d.curvature);
        else if (!strcmp(a, "--buildings"))
            buildings = v;
        else if (!strcmp(a, "--height-field"))
            height_field = v;
        else if (!strcmp(a, "--default-height"))
            ok = parse_num(v, &default_height) && default_height >= 0;
        else if (!strcmp(a, "--surface"))
            surface = v;
        else if (!strcmp(a, "--building-heights"))
            heights_path = v;
        else if (!strcmp(a, "--crs"))
            crs = v;
        else if (!strcmp(a, "--report"))
            report_path = v;
        else if (!strcmp(a, "--out-of-range"))
            ok = parse_num(v, &oor) && oor >= 1 && oor <= 254 && oor == floor(oor);
        else if (!strcmp(a, "--threads")) {
            double t;
            ok = parse_num(v, &t) && t >= 1 && t <= 256;
            d.threads = ok ? (int)t : 0;
        } else
            return cli_fail(SUB, CT_ERR_USAGE, "unknown option '%s' (see --help)", a);
        if (!ok)
            return cli_fail(SUB, CT_ERR_USAGE, "bad value '%s' for %s", v, a);
        i++;
    }
    if (!dem_path && !surface)
        return cli_fail(SUB, CT_ERR_USAGE, "--dem DEM is required");
    if (heights_path && (!dem_path || surface))
        return cli_fail(SUB, CT_ERR_USAGE, "--building-heights needs --dem and excludes --surface");
    if (!has_obs)
        return cli_fail(SUB, CT_ERR_USAGE, "--observer X,Y is required");
    if (isnan(height))
        return cli_fail(SUB, CT_ERR_USAGE, "--height H is required");
    if (!out_path)
        return cli_fail(SUB, CT_ERR_USAGE, "-o OUT.tif is required");
    d.observer_height = height;
    d.out_of_range_value = (uint8_t)oor;

    double t0 = ct_time_now();
    ct_error err = {0};
    ct_raster *dem = NULL, *surf = NULL;
    /* A bare DEM is streamed block row by block row during the scan (only its
     * header is read here); buildings, a surface or a report need it whole. */
    bool stream = dem_path && !surface && !heights_path && !buildings && !report_path;
    if (stream && ct_raster_read_header(dem_path, &dem, &err) != CT_OK)
        return cli_fail_err(SUB, &err);
    if (!stream && dem_path && ct_visibility_dem_read(dem_path, d.threads, &dem, &err) != CT_OK)
        return cli_fail_err(SUB, &err);
    if (surface && ct_visibility_dem_read(surface, d.threads, &surf, &err) != CT_OK) {
        ct_raster_destroy(dem);
        return cli_fail_err(SUB, &err);
    }
    if (heights_path) { /* the surface is the ground plus the heights */
        if (ct_visibility_dem_read(heights_path, d.threads, &surf, &err) != CT_OK) {
            ct_raster_destroy(dem);
            return cli_fail_err(SUB, &err);
        }
        if (surf->width != dem->width || surf->height != dem->height) {
            int sw = surf->width, sh = surf->height, dw = dem->width, dh = dem->height;
            ct_raster_destroy(dem);
            ct_raster_destroy(surf);
            return cli_fail(SUB, CT_ERR_INPUT, "%s: heights are %dx%d cells, the DEM %dx%d: they must share one grid",
                            heights_path, sw, sh, dw, dh);
        }
        size_t n = (size_t)dem->width * dem->height;
        for (size_t k = 0; k < n; k++)
            surf->data[k] = dem->data[k] + (surf->data[k] > 0 ? surf->data[k] : 0.0f); /* NAN height: 0 */
    }
    const ct_raster *base = dem ? dem : surf;
    if (crs) {
        ct_crs_transform *tr = NULL;
        if (!base->crs_wkt || !*base->crs_wkt) {
            ct_raster_destroy(dem);
            ct_raster_destroy(surf);
            return cli_fail(SUB, CT_ERR_INPUT, "%s: the DEM has no CRS to transform --observer into", dem_path ? dem_path : surface);
        }
        if (ct_crs_transform_create(crs, base->crs_wkt, &tr, &err) != CT_OK ||
            ct_crs_transform_points(tr, 1, &obs[0], &obs[1], NULL, &err) != CT_OK) {
            ct_crs_transform_destroy(tr);
            ct_raster_destroy(dem);
            ct_raster_destroy(surf);
            return cli_fail(SUB, CT_ERR_USAGE, "--crs %s: %s", crs, err.msg);
        }
        ct_crs_transform_destroy(tr);
    }
    d.observer_x = obs[0];
    d.observer_y = obs[1];
    ct_raster *work = surf ? surf : dem;
    if (surf && dem) {
        if (surf->width != dem->width || surf->height != dem->height) {
            int sw = surf->width, sh = surf->height, dw = dem->width, dh = dem->height;
            ct_raster_destroy(dem);
            ct_raster_destroy(surf);
            return cli_fail(SUB, CT_ERR_INPUT, "%s: surface is %dx%d cells, the DEM %dx%d: they must share one grid",
                            surface, sw, sh, dw, dh);
        }
        double col, row;
        ct_raster_world_to_cell(dem, obs[0], obs[1], &col, &row);
        if (col >= 0 && row >= 0 && col < dem->width && row < dem->height) {
            float g = dem->data[(size_t)row * dem->width + (size_t)col];
            if (!isnan(g)) {
                d.has_observer_ground = true;
                d.observer_ground = g;
            }
        }
    }
    size_t burned = 0;
    if (buildings && ct_visibility_burn_buildings(work, buildings, height_field, default_height, &burned, &err) != CT_OK) {
        ct_raster_destroy(dem);
        ct_raster_destroy(surf);
        return cli_fail_err(SUB, &err);
    }
    ct_viewshed *v = NULL;
    cli_progress bar;
    cli_progress_begin(&bar, "viewshed", progress);
    d.progress = cli_progress_update;
    d.progress_user = &bar;
    ct_status st = stream ? ct_viewshed_compute_file(dem_path, &d, &v, &err) : ct_viewshed_compute(work, &d, &v, &err);
    cli_progress_end(&bar);
    if (st == CT_OK)
        st = ct_viewshed_write_gtiff(v, out_path, &err);
    if (st != CT_OK) {
        ct_viewshed_destroy(v);
        ct_raster_destroy(dem);
        ct_raster_destroy(surf);
        return cli_fail_err(SUB, &err);
    }
    double secs = ct_time_now() - t0;
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "visible_cells", (double)v->visible_cells);
        cJSON_AddNumberToObject(o, "total_cells", (double)v->total_cells);
        cJSON_AddNumberToObject(o, "seconds", secs);
        cJSON_AddNumberToObject(o, "width", v->width);
        cJSON_AddNumberToObject(o, "height", v->height);
        cJSON_AddNumberToObject(o, "observer_z", v->observer_z);
        cJSON_AddNumberToObject(o, "buildings_burned", (double)burned);
        cJSON_AddStringToObject(o, "output", out_path);
        if (report_path) {
            st = report_viewshed_write(report_path, argc, argv, dem_path ? dem_path : surface, work, &d, v, secs, o,
                                       &err);
            if (st != CT_OK) {
                cJSON_Delete(o);
                ct_viewshed_destroy(v);
                ct_raster_destroy(dem);
                ct_raster_destroy(surf);
                return cli_fail_err(SUB, &err);
            }
        }
        if (json)
            cli_print_json(o);
        else
            cJSON_Delete(o);
    }
    ct_raster_destroy(dem);
    ct_raster_destroy(surf);
    if (!json) {
        printf("%llu of %llu cells visible (%.1f %%) from z=%.2f m in %.2f s -> %s\n",
               (unsigned long long)v->visible_cells, (unsigned long long)v->total_cells,
               v->total_cells ? 100.0 * v->visible_cells / v->total_cells : 0.0, v->observer_z, secs, out_path);
    }
    ct_viewshed_destroy(v);
    return 0;
}
