/* --report for analyze viewshed and analyze los. */
#include "report_visibility.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VS_BANDS 10

static report_rgba viewshed_color(float v, void *user)
{
    (void)user;
    report_rgba visible = {40, 200, 60, 170}, hidden = {90, 60, 60, 110}, none = {0, 0, 0, 0};
    if (isnan(v))
        return none;
    return v > 254.5f ? visible : v < 0.5f ? hidden : none;
}

ct_status report_viewshed_write(const char *path, int argc, char **argv, const char *dem_path, const ct_raster *dem,
                                const ct_viewshed_desc *d, const ct_viewshed *v, double seconds, const cJSON *json,
                                ct_error *err)
{
    report *rep = report_create("Viewshed", argc, argv);
    report_input(rep, "DEM", "%s", dem_path);
    report_input(rep, "CRS", "%s", dem->crs_wkt && *dem->crs_wkt ? dem->crs_wkt : "(none)");
    report_input(rep, "observer", "%.3f, %.3f", d->observer_x, d->observer_y);
    report_input(rep, "eye height", "%g m (eye at %.2f m)", d->observer_height, v->observer_z);
    report_input(rep, "target height", "%g m", d->target_height);
    report_input(rep, "max distance", d->max_distance > 0 ? "%g m" : "%g (whole DEM)", d->max_distance);
    report_input(rep, "curvature", "%g", d->curvature);
    double pct = v->total_cells ? 100.0 * v->visible_cells / v->total_cells : 0;
    report_summary(rep, "%llu of %llu cells visible (%.1f %%) from z=%.2f m in %.2f s",
                   (unsigned long long)v->visible_cells, (unsigned long long)v->total_cells, pct, v->observer_z,
                   seconds);
    report_figure(rep, "visible cells", "%llu", (unsigned long long)v->visible_cells);
    report_figure(rep, "cells in range", "%llu", (unsigned long long)v->total_cells);
    report_figure(rep, "visible fraction", "%.1f %%", pct);
    report_figure(rep, "run time", "%.2f s", seconds);

    /* The result as a float raster on its window, for the map. */
    ct_raster win = {.width = v->width, .height = v->height};
    memcpy(win.geotransform, v->geotransform, sizeof win.geotransform);
    size_t n = (size_t)v->width * v->height;
    win.data = malloc((n ? n : 1) * sizeof *win.data);
    report_map *m = report_map_create_dem(dem, 0);
    if (win.data) {
        for (size_t i = 0; i < n; i++)
            win.data[i] = v->cells[i] == v->out_of_range_value ? NAN : v->cells[i];
        report_map_raster(m, &win, viewshed_color, NULL);
    }
    report_rgba obs = {230, 30, 30, 255}, ring = {30, 30, 30, 200};
    if (d->max_distance > 0)
        report_map_circle(m, d->observer_x, d->observer_y, d->max_distance, ring, 1.5);
    report_map_dot(m, d->observer_x, d->observer_y, 4, obs);
    report_map_legend(m, viewshed_color(255, NULL), "visible");
    report_map_legend(m, viewshed_color(0, NULL), "hidden");
    report_map_legend(m, obs, "observer");
    report_set_map(rep, m);

    /* Visible fraction by distance band (cell centres, metres in the CRS). */
    double maxd = d->max_distance;
    if (!(maxd > 0) && win.data) {
        for (int r = 0; r < v->height; r++)
            for (int c = 0; c < v->width; c++) {
                if (isnan(win.data[(size_t)r * v->width + c]))
                    continue;
                double x = v->geotransform[0] + (c + 0.5) * v->geotransform[1] + (r + 0.5) * v->geotransform[2];
                double y = v->geotransform[3] + (c + 0.5) * v->geotransform[4] + (r + 0.5) * v->geotransform[5];
                maxd = fmax(maxd, hypot(x - d->observer_x, y - d->observer_y));
            }
    }
    if (maxd > 0 && win.data) {
        double vis[VS_BANDS] = {0}, tot[VS_BANDS] = {0}, frac[VS_BANDS];
        for (int r = 0; r < v->height; r++)
            for (int c = 0; c < v->width; c++) {
                float val = win.data[(size_t)r * v->width + c];
                if (isnan(val))
                    continue;
                double x = v->geotransform[0] + (c + 0.5) * v->geotransform[1] + (r + 0.5) * v->geotransform[2];
                double y = v->geotransform[3] + (c + 0.5) * v->geotransform[4] + (r + 0.5) * v->geotransform[5];
                int b = (int)(hypot(x - d->observer_x, y - d->observer_y) / maxd * VS_BANDS);
                b = b >= VS_BANDS ? VS_BANDS - 1 : b;
                tot[b]++;
                vis[b] += val > 254.5f;
            }
        char labels[VS_BANDS][32];
        const char *lp[VS_BANDS];
        for (int b = 0; b < VS_BANDS; b++) {
            frac[b] = tot[b] > 0 ? 100 * vis[b] / tot[b] : 0;
            snprintf(labels[b], sizeof labels[b], "%.0f-%.0f", maxd * b / VS_BANDS, maxd * (b + 1) / VS_BANDS);
            lp[b] = labels[b];
        }
        report_chart(rep, report_chart_bars("Visible fraction by distance (m)", "visible %", lp, frac, VS_BANDS));
    }
    free(win.data);
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}

ct_status report_los_write(const char *path, int argc, char **argv, const char *dem_path, const ct_raster *dem,
                           const ct_los_desc *d, const ct_los_result *res, const cJSON *json, ct_error *err)
{
    report *rep = report_create("Line of sight", argc, argv);
    if (dem_path)
        report_input(rep, "DEM", "%s", dem_path);
    if (dem)
        report_input(rep, "CRS", "%s", dem->crs_wkt && *dem->crs_wkt ? dem->crs_wkt : "(none)");
    report_input(rep, "from", "%.3f, %.3f, %.3f", d->from[0], d->from[1], d->from[2]);
    report_input(rep, "to", "%.3f, %.3f, %.3f", d->to[0], d->to[1], d->to[2]);
    if (res->visible)
        report_summary(rep, "visible: %.1f m, minimum clearance %.2f m", res->length, res->min_clearance);
    else
        report_summary(rep, "blocked by %s at %.3f,%.3f,%.3f (%.1f m from the start of %.1f m)",
                       res->blocked_by_mesh ? "a mesh" : "the terrain", res->obstruction[0], res->obstruction[1],
                       res->obstruction[2], res->obstruction_t * res->length, res->length);
    report_figure(rep, "visible", "%s", res->visible ? "yes" : "no");
    report_figure(rep, "length", "%.1f m", res->length);
    report_figure(rep, "minimum clearance", "%.2f m", res->min_clearance);
    report_figure(rep, "samples", "%zu (%zu on DEM holes)", res->sample_count, res->hole_samples);
    report_map *m = NULL;
    if (dem)
        m = report_map_create_dem(dem, 0);
    else
        m = report_map_create_box(fmin(d->from[0], d->to[0]), fmin(d->from[1], d->to[1]), fmax(d->from[0], d->to[0]),
                                  fmax(d->from[1], d->to[1]), 0);
    report_rgba clear = {40, 170, 60, 255}, blocked = {220, 30, 30, 255}, start = {255, 255, 255, 255},
                end = {30, 30, 30, 255};
    if (res->visible) {
        report_map_line(m, d->from[0], d->from[1], d->to[0], d->to[1], clear, 3);
    } else {
        report_map_line(m, d->from[0], d->from[1], res->obstruction[0], res->obstruction[1], clear, 3);
        report_map_line(m, res->obstruction[0], res->obstruction[1], d->to[0], d->to[1], blocked, 3);
        report_map_dot(m, res->obstruction[0], res->obstruction[1], 4, blocked);
    }
    report_map_dot(m, d->from[0], d->from[1], 4, start);
    report_map_dot(m, d->to[0], d->to[1], 4, end);
    report_map_legend(m, clear, "clear");
    if (!res->visible)
        report_map_legend(m, blocked, "blocked");
    report_map_legend(m, start, "from");
    report_map_legend(m, end, "to");
    report_set_map(rep, m);
    size_t n = res->sample_count;
    double *x = malloc((n ? n : 1) * sizeof *x), *line = malloc((n ? n : 1) * sizeof *line),
           *ground = malloc((n ? n : 1) * sizeof *ground);
    if (x && line && ground && n) {
        for (size_t i = 0; i < n; i++) {
            x[i] = res->samples[i].distance;
            line[i] = res->samples[i].line_z;
            ground[i] = res->samples[i].ground_z; /* NAN on holes: skipped by the chart */
        }
        report_series s[2] = {{"terrain", x, ground, (int)n}, {"sight line", x, line, (int)n}};
        report_chart(rep, report_chart_lines("Terrain profile and sight line", "distance m", "height m", s, 2));
    }
    free(x);
    free(line);
    free(ground);
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}
