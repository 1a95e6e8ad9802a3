/* citytwin analyze flood/pond --report: the HTML page (cli/report.h) with the
 * depth map over the hillshaded DEM and the flood charts. */
#include "flood_cli.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void add_dem_inputs(report *rep, const char *dem_path, const ct_raster *dem)
{
    report_input(rep, "DEM", "%s", dem_path);
    report_input(rep, "DEM grid", "%d x %d cells of %g x %g", dem->width, dem->height, dem->geotransform[1],
                 fabs(dem->geotransform[5]));
    report_input(rep, "CRS", "%s", dem->crs_wkt && *dem->crs_wkt ? dem->crs_wkt : "(none)");
}

/* Depth over the hillshade, with a two-entry legend. */
static report_map *depth_map(const ct_raster *dem, const ct_raster *depth, double max_depth, const char *what)
{
    report_map *m = report_map_create_dem(dem, 0);
    if (!m)
        return NULL;
    double mx = max_depth > 0 ? max_depth : 1;
    report_map_raster(m, depth, report_depth_color, &mx);
    float shallow = (float)(0.05 * mx), deep = (float)mx;
    char label[64];
    snprintf(label, sizeof label, "%s %.2g m", what, (double)shallow);
    report_map_legend(m, report_depth_color(shallow, &mx), label);
    snprintf(label, sizeof label, "%s %.3g m", what, (double)deep);
    report_map_legend(m, report_depth_color(deep, &mx), label);
    return m;
}

static char *depth_histogram(const ct_raster *depth, const char *title)
{
    return report_chart_histogram(title, "depth m", depth->data, (size_t)depth->width * depth->height, 20);
}

ct_status flood_cli_write_static_html(const char *path, const flood_cli_args *a, const ct_raster *dem,
                                      ct_raster *const *depths, const ct_flood_static_result *res, int n,
                                      double seconds, const cJSON *json, ct_error *err)
{
    report *rep = report_create("Flood (static, bathtub)", a->argc, a->argv);
    add_dem_inputs(rep, a->dem, dem);
    for (int i = 0; i < a->n_seeds; i++)
        report_input(rep, "seed", "%.3f, %.3f", a->seeds[2 * i], a->seeds[2 * i + 1]);
    for (int k = 0; k < n; k++)
        report_input(rep, a->use_rise ? "rise" : "level", "%g m", a->levels[k]);
    report_input(rep, "connectivity", "%d", a->connectivity ? a->connectivity : 8);
    const ct_flood_static_result *last = &res[n - 1];
    report_summary(rep, "%s %g: %zu cells, area %.1f m2, volume %.1f m3, max depth %.3f m (%.3f s)",
                   a->use_rise ? "rise" : "level", a->levels[n - 1], last->cells, last->area_m2, last->volume_m3,
                   last->max_depth_m, seconds);
    report_figure(rep, "flooded cells", "%zu", last->cells);
    report_figure(rep, "flooded area", "%.1f m2", last->area_m2);
    report_figure(rep, "volume", "%.1f m3", last->volume_m3);
    report_figure(rep, "max depth", "%.3f m", last->max_depth_m);
    report_figure(rep, "seeds used", "%d of %d", last->seeds_used, a->n_seeds);
    report_figure(rep, "run time", "%.3f s", seconds);
    /* The map shows the largest flood by volume (levels may come in any order). */
    int big = 0;
    for (int k = 1; k < n; k++)
        if (res[k].volume_m3 > res[big].volume_m3)
            big = k;
    report_set_map(rep, depth_map(dem, depths[big], res[big].max_depth_m, "depth"));
    if (n > 1) {
        double *x = malloc((size_t)n * sizeof *x), *area = malloc((size_t)n * sizeof *area),
               *vol = malloc((size_t)n * sizeof *vol);
        if (x && area && vol) {
            for (int k = 0; k < n; k++)
                x[k] = a->levels[k], area[k] = res[k].area_m2, vol[k] = res[k].volume_m3;
            report_series sa = {"area m2", x, area, n}, sv = {"volume m3", x, vol, n};
            const char *xl = a->use_rise ? "rise m" : "level m";
            report_chart(rep, report_chart_lines("Flooded area by level", xl, "area m2", &sa, 1));
            report_chart(rep, report_chart_lines("Flood volume by level", xl, "volume m3", &sv, 1));
        }
        free(x);
        free(area);
        free(vol);
    }
    report_chart(rep, depth_histogram(depths[big], "Depth histogram"));
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}

/* The water budget over time (mass_balance.csv): storage and the cumulative
 * volumes in and out, then the balance error in %. */
static void mass_balance_charts(report *rep, const ct_flood_sim_result *r)
{
    int n = r->n_mass_rows;
    if (n < 1)
        return;
    double *t = malloc((size_t)n * sizeof *t), *v = malloc((size_t)n * 4 * sizeof *v);
    if (t && v) {
        double *storage = v, *in = v + n, *out = v + 2 * n, *pct = v + 3 * n;
        for (int k = 0; k < n; k++) {
            const ct_flood_mass_row *m = &r->mass[k];
            t[k] = m->t;
            storage[k] = m->storage_m3;
            in[k] = m->rain_m3 + m->inflow_m3 + m->boundary_in_m3;
            out[k] = m->boundary_out_m3;
            pct[k] = 100 * m->error;
        }
        report_series s[3] = {{"storage m3", t, storage, n}, {"in (rain, inflow, boundary) m3", t, in, n},
                              {"out (boundary) m3", t, out, n}};
        report_chart(rep, report_chart_lines("Water budget over time", "time s", "volume m3", s, 3));
        report_series e = {"mass balance error %", t, pct, n};
        report_chart(rep, report_chart_lines("Mass balance error over time", "time s", "error %", &e, 1));
    }
    free(t);
    free(v);
}

/* The four edges' boundaries as inputs, and a chart of the stage series. */
static void boundary_inputs(report *rep, const flood_cli_args *a)
{
    static const char *const SIDES[4] = {"north", "south", "west", "east"};
    report_series st[4];
    int n = 0;
    for (int k = 0; k < 4; k++) {
        const ct_flood_boundary *b = &a->boundary[k];
        char name[32];
        snprintf(name, sizeof name, "boundary %s", SIDES[k]);
        if (b->kind == CT_FLOOD_BOUNDARY_FREE)
            report_input(rep, name, "free outflow");
        else if (b->kind == CT_FLOOD_BOUNDARY_LEVEL && a->boundary_csv[k])
            report_input(rep, name, "stage %s", a->boundary_csv[k]);
        else if (b->kind == CT_FLOOD_BOUNDARY_LEVEL)
            report_input(rep, name, "level %g m", b->level);
        else
            report_input(rep, name, "closed");
        if (b->kind == CT_FLOOD_BOUNDARY_LEVEL && b->level_series.n > 0)
            st[n++] = (report_series){SIDES[k], b->level_series.t, b->level_series.v, b->level_series.n};
    }
    if (n)
        report_chart(rep, report_chart_lines("Boundary stage", "time s", "level m", st, n));
}

ct_status flood_cli_write_html(const char *path, const flood_cli_args *a, const ct_raster *dem,
                               const ct_flood_sim_result *r, const cJSON *json, ct_error *err)
{
    report *rep = report_create("Flood (dynamic 2D)", a->argc, a->argv);
    add_dem_inputs(rep, a->dem, dem);
    report_input(rep, "duration", "%g s", a->duration);
    if (a->rain_series)
        report_input(rep, "rain series", "%s", a->rain_series);
    else if (a->rain_rasters)
        report_input(rep, "rain rasters", "%s (%d rasters, mm/h, each held until the next)", a->rain_rasters,
                     a->n_rain_frames);
    else
        report_input(rep, "rain", "%g mm/h", a->rain);
    for (int i = 0; i < a->n_inflows; i++)
        report_input(rep, "inflow", "%.3f, %.3f: %s", a->inflow_xy[2 * i], a->inflow_xy[2 * i + 1], a->inflow_csv[i]);
    for (int i = 0; i < a->n_lines; i++)
        report_input(rep, "inflow line", "%s: %s", a->line_spec[i], a->line_csv[i]);
    if (a->manning_raster)
        report_input(rep, "Manning raster", "%s", a->manning_raster);
    else
        report_input(rep, "Manning n", "%g", a->manning > 0 ? a->manning : 0.03);
    if (a->buildings)
        report_input(rep, "buildings", "%s", a->buildings);
    boundary_inputs(rep, a);
    report_input(rep, "output folder", "%s", a->out_dir);
    report_summary(rep,
                   "%lld steps, %.0f s simulated in %.2f s, max depth %.3f m, flooded %.1f m2, "
                   "mass balance error %.2e",
                   r->steps, r->simulated_s, r->seconds, r->max_depth_m, r->flooded_area_m2, r->mass_balance_error);
    report_figure(rep, "time steps", "%lld", r->steps);
    report_figure(rep, "simulated", "%.0f s", r->simulated_s);
    report_figure(rep, "max depth", "%.3f m", r->max_depth_m);
    report_figure(rep, "flooded area", "%.1f m2", r->flooded_area_m2);
    report_figure(rep, "rain", "%.1f m3", r->rain_m3);
    report_figure(rep, "inflow", "%.1f m3", r->inflow_m3);
    report_figure(rep, "boundary in / out", "%.1f / %.1f m3", r->boundary_in_m3, r->boundary_out_m3);
    report_figure(rep, "final volume", "%.1f m3", r->final_volume_m3);
    report_figure(rep, "mass balance error", "%.2e", r->mass_balance_error);
    report_figure(rep, "speed", "%.2f M cell updates/s", r->cell_updates_per_s / 1e6);
    report_map *m = depth_map(dem, r->max_depth, r->max_depth_m, "max depth");
    report_rgba gauge = {230, 40, 40, 255}, inflow = {250, 180, 0, 255};
    for (int g = 0; g < a->n_gauges; g++) {
        report_map_dot(m, a->gauges[2 * g], a->gauges[2 * g + 1], 4, gauge);
        char name[32]; /* the name of its series in the depth chart */
        snprintf(name, sizeof name, "gauge %d", g + 1);
        report_map_label(m, a->gauges[2 * g], a->gauges[2 * g + 1], 7, name, 0);
    }
    for (int i = 0; i < a->n_inflows; i++)
        report_map_dot(m, a->inflow_xy[2 * i], a->inflow_xy[2 * i + 1], 4, inflow);
    /* inflow lines: one polyline per part (parts end with a NAN pair) */
    for (int i = 0; a->lines && i < a->n_lines; i++) {
        const ct_flood_line_inflow *l = &a->lines[i];
        int start = 0;
        for (int k = 0; k <= l->n_points; k++)
            if (k == l->n_points || isnan(l->xy[2 * k])) {
                if (k - start >= 2)
                    report_map_polyline(m, l->xy + 2 * start, k - start, inflow, 3);
                start = k + 1;
            }
    }
    if (a->n_gauges)
        report_map_legend(m, gauge, "gauge");
    if (a->n_inflows || a->n_lines)
        report_map_legend(m, inflow, "inflow");
    report_set_map(rep, m);
    if (a->n_gauges && r->n_gauge_times > 0) {
        int nt = r->n_gauge_times, ng = a->n_gauges;
        double *y = malloc((size_t)nt * ng * sizeof *y);
        report_series *s = calloc((size_t)ng, sizeof *s);
        char(*names)[32] = calloc((size_t)ng, sizeof *names);
        if (y && s && names) {
            for (int g = 0; g < ng; g++) {
                for (int k = 0; k < nt; k++) {
                    float d = r->gauge_depth[(size_t)k * ng + g];
                    y[(size_t)g * nt + k] = isnan(d) ? 0 : d;
                }
                snprintf(names[g], sizeof names[g], "gauge %d", g + 1);
                s[g] = (report_series){names[g], r->gauge_t, y + (size_t)g * nt, nt};
            }
            report_chart(rep, report_chart_lines("Depth at the gauges", "time s", "depth m", s, ng));
        }
        free(y);
        free(s);
        free(names);
    }
    mass_balance_charts(rep, r);
    report_chart(rep, depth_histogram(r->max_depth, "Maximum depth histogram"));
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}

ct_status flood_cli_write_pond_html(const char *path, int argc, char **argv, const char *dem_path,
                                    const ct_raster *dem, double rain_mm, const ct_raster *depth,
                                    const ct_flood_pond_result *res, double seconds, const cJSON *json,
                                    ct_error *err)
{
    report *rep = report_create("Ponding of rain", argc, argv);
    add_dem_inputs(rep, dem_path, dem);
    report_input(rep, "rain depth", "%g mm", rain_mm);
    report_summary(rep,
                   "%zu cells wet, %.1f m2, %.1f m3 ponded of %.1f m3 rain (%.1f m3 left the map), max depth %.3f m, "
                   "%d depressions (%d full), %.3f s",
                   res->cells, res->area_m2, res->volume_m3, res->rain_volume_m3, res->outflow_m3, res->max_depth_m,
                   res->depressions, res->depressions_full, seconds);
    report_figure(rep, "wet cells", "%zu", res->cells);
    report_figure(rep, "ponded area", "%.1f m2", res->area_m2);
    report_figure(rep, "ponded volume", "%.1f m3", res->volume_m3);
    report_figure(rep, "rain volume", "%.1f m3", res->rain_volume_m3);
    report_figure(rep, "left the map", "%.1f m3", res->outflow_m3);
    report_figure(rep, "max depth", "%.3f m", res->max_depth_m);
    report_figure(rep, "depressions (full)", "%d (%d)", res->depressions, res->depressions_full);
    report_set_map(rep, depth_map(dem, depth, res->max_depth_m, "depth"));
    report_chart(rep, depth_histogram(depth, "Ponded depth histogram"));
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}
