/* --report for the vector analyses: analyze route, isochrone, impact. No DEM:
 * a light background with the input layers drawn thin and grey, the result
 * over them. */
#include "report_vector.h"

#include <ogr_api.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const report_rgba GREY = {150, 150, 150, 255}, NONE = {0, 0, 0, 0};
static const report_rgba START = {30, 160, 60, 255}, END = {220, 30, 30, 255};

typedef struct box {
    double minx, miny, maxx, maxy;
} box;

static void box_add(box *b, double x, double y)
{
    if (!isfinite(x) || !isfinite(y))
        return;
    b->minx = fmin(b->minx, x);
    b->miny = fmin(b->miny, y);
    b->maxx = fmax(b->maxx, x);
    b->maxy = fmax(b->maxy, y);
}

static box box_empty(void) { return (box){INFINITY, INFINITY, -INFINITY, -INFINITY}; }

static report_map *box_map(box b)
{
    if (!(b.maxx >= b.minx))
        return NULL;
    /* At least 100 m across; report_map_create_box adds 5 % more around, and
     * 5 % here keeps start/end dots clear of the corner decorations. */
    double pad = fmax(0.5 * fmax(100 - (b.maxx - b.minx), 100 - (b.maxy - b.miny)),
                      0.05 * fmax(b.maxx - b.minx, b.maxy - b.miny));
    if (pad > 0)
        b.minx -= pad, b.maxx += pad, b.miny -= pad, b.maxy += pad;
    return report_map_create_box(b.minx, b.miny, b.maxx, b.maxy, 0);
}

/* ---------------------------------------------------------------- route */

ct_status report_route_write(const char *path, int argc, char **argv, const route_cli_common *c,
                             const ct_route_out_row *rows, size_t n, const cJSON *json, ct_error *err)
{
    report *rep = report_create("Routes", argc, argv);
    report_input(rep, "roads", "%s", c->desc.path);
    if (c->desc.layer)
        report_input(rep, "layer", "%s", c->desc.layer);
    const char *crs = ct_route_graph_crs(c->g);
    report_input(rep, "CRS", "%s", crs && *crs ? crs : "(none)");
    if (c->avoid)
        report_input(rep, "avoid", "%s (%zu segments closed)", c->avoid, c->closed_segments);
    size_t reachable = 0;
    double best = INFINITY;
    box b = box_empty();
    for (size_t i = 0; i < n; i++) {
        reachable += rows[i].reachable;
        if (rows[i].reachable)
            best = fmin(best, rows[i].cost_s);
        box_add(&b, rows[i].from_x, rows[i].from_y);
        box_add(&b, rows[i].to_x, rows[i].to_y);
        for (size_t k = 0; k < rows[i].n_points; k++)
            box_add(&b, rows[i].xy[2 * k], rows[i].xy[2 * k + 1]);
    }
    if (isfinite(best))
        report_summary(rep, "%zu routes, %zu reachable, fastest %.1f s", n, reachable, best);
    else
        report_summary(rep, "%zu routes, none reachable", n);
    report_figure(rep, "routes", "%zu (%zu reachable)", n, reachable);
    if (isfinite(best))
        report_figure(rep, "fastest", "%.1f s", best);
    report_figure(rep, "graph load", "%.2f s", c->load_s);
    report_map *m = box_map(b);
    report_map_ogr_source(m, c->desc.path, c->desc.layer, crs, NONE, GREY);
    if (c->avoid)
        report_map_ogr_source(m, c->avoid, NULL, crs, (report_rgba){230, 80, 80, 90}, (report_rgba){200, 40, 40, 255});
    /* Alternatives first, so the best of each pair is drawn on top. */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            if (!rows[i].reachable || (rows[i].rank == 1) != (pass == 1))
                continue;
            report_rgba col = report_palette((int)i);
            report_map_polyline(m, rows[i].xy, (int)rows[i].n_points, col, rows[i].rank == 1 ? 4 : 2);
        }
    for (size_t i = 0; i < n; i++) {
        report_map_dot(m, rows[i].from_x, rows[i].from_y, 5, START);
        report_map_dot(m, rows[i].to_x, rows[i].to_y, 5, END);
        if (rows[i].rank == 1) { /* the query number, as the charts' "query.rank" names it */
            char q[32];
            snprintf(q, sizeof q, "%d", rows[i].query);
            report_map_label(m, rows[i].from_x, rows[i].from_y, 8, q, 0);
        }
    }
    report_map_legend(m, START, "start");
    report_map_legend(m, END, "end");
    report_map_legend(m, GREY, "roads");
    report_set_map(rep, m);
    if (n) {
        char(*labels)[32] = calloc(n, sizeof *labels);
        const char **lp = calloc(n, sizeof *lp);
        double *t = calloc(n, sizeof *t), *len = calloc(n, sizeof *len);
        if (labels && lp && t && len) {
            for (size_t i = 0; i < n; i++) {
                snprintf(labels[i], sizeof labels[i], "%d.%d", rows[i].query, rows[i].rank);
                lp[i] = labels[i];
                t[i] = rows[i].reachable ? rows[i].cost_s : 0;
                len[i] = rows[i].reachable ? rows[i].length_m : 0;
            }
            report_chart(rep, report_chart_bars("Travel time per route (query.rank)", "seconds", lp, t, (int)n));
            report_chart(rep, report_chart_bars("Length per route (query.rank)", "metres", lp, len, (int)n));
        }
        free(labels);
        free(lp);
        free(t);
        free(len);
    }
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}

/* ------------------------------------------------------------ isochrone */

ct_status report_isochrone_write(const char *path, int argc, char **argv, const route_cli_common *c,
                                 const double (*from)[2], int n_from, const ct_route_isochrone *iso, int n,
                                 const cJSON *json, ct_error *err)
{
    report *rep = report_create("Isochrones", argc, argv);
    report_input(rep, "roads", "%s", c->desc.path);
    const char *crs = ct_route_graph_crs(c->g);
    report_input(rep, "CRS", "%s", crs && *crs ? crs : "(none)");
    for (int i = 0; i < n_from; i++)
        report_input(rep, "from", "%.3f, %.3f", from[i][0], from[i][1]);
    OGRGeometryH *g = calloc((size_t)(n > 0 ? n : 1), sizeof *g);
    box b = box_empty();
    for (int i = 0; i < n_from; i++)
        box_add(&b, from[i][0], from[i][1]);
    for (int k = 0; g && k < n; k++) {
        if (iso[k].wkb && OGR_G_CreateFromWkb(iso[k].wkb, NULL, &g[k], (int)iso[k].wkb_size) == OGRERR_NONE) {
            OGREnvelope e;
            OGR_G_GetEnvelope(g[k], &e);
            box_add(&b, e.MinX, e.MinY);
            box_add(&b, e.MaxX, e.MaxY);
        }
        report_figure(rep, "area", "%g min: %.0f m2, %zu road segments", iso[k].minutes, iso[k].area_m2,
                      iso[k].segments_reached);
    }
    if (n > 0)
        report_summary(rep, "%d isochrones, the largest (%g min) %.0f m2", n, iso[n - 1].minutes, iso[n - 1].area_m2);
    report_map *m = box_map(b);
    report_map_ogr_source(m, c->desc.path, c->desc.layer, crs, NONE, GREY);
    /* Largest first, each a translucent fill: nested areas darken inwards. */
    for (int k = n - 1; g && k >= 0; k--) {
        report_rgba col = report_palette(k);
        report_rgba fill = col;
        fill.a = 90;
        report_map_ogr(m, g[k], fill, col);
        char label[48];
        snprintf(label, sizeof label, "%g min", iso[k].minutes);
        report_map_legend(m, col, label);
    }
    for (int i = 0; i < n_from; i++)
        report_map_dot(m, from[i][0], from[i][1], 5, START);
    report_map_legend(m, START, "start");
    report_set_map(rep, m);
    char(*labels)[32] = calloc((size_t)(n > 0 ? n : 1), sizeof *labels);
    const char **lp = calloc((size_t)(n > 0 ? n : 1), sizeof *lp);
    double *area = calloc((size_t)(n > 0 ? n : 1), sizeof *area);
    if (labels && lp && area) {
        for (int k = 0; k < n; k++) {
            snprintf(labels[k], sizeof labels[k], "%g min", iso[k].minutes);
            lp[k] = labels[k];
            area[k] = iso[k].area_m2;
        }
        report_chart(rep, report_chart_bars("Isochrone areas", "m2", lp, area, n));
    }
    free(labels);
    free(lp);
    free(area);
    for (int k = 0; g && k < n; k++)
        if (g[k])
            OGR_G_DestroyGeometry(g[k]);
    free(g);
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}

/* --------------------------------------------------------------- impact */

/* A hit's name beside its dot (points) or at a point on its surface (lines,
 * polygons: GEOS PointOnSurface through OGR), inner rings first. */
static void label_feature(report_map *m, OGRGeometryH g, const char *name, double priority)
{
    if (!name || !g)
        return;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPoint) {
        report_map_label(m, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0), 6, name, priority);
        return;
    }
    OGRGeometryH p = OGR_G_PointOnSurface(g);
    if (!p || OGR_G_IsEmpty(p)) {
        if (p)
            OGR_G_DestroyGeometry(p);
        p = OGR_G_CreateGeometry(wkbPoint);
        if (!p || OGR_G_Centroid(g, p) != OGRERR_NONE) {
            if (p)
                OGR_G_DestroyGeometry(p);
            return;
        }
    }
    report_map_label(m, OGR_G_GetX(p, 0), OGR_G_GetY(p, 0), 3, name, priority);
    OGR_G_DestroyGeometry(p);
}

ct_status report_impact_write(const char *path, int argc, char **argv, ct_impact_layer *const *layers,
                              const char *const *names, const char *const *sources, size_t n_layers,
                              const ct_impact_result *res, const char *crs_label, const cJSON *json, ct_error *err)
{
    report *rep = report_create("Impact radius", argc, argv);
    for (size_t li = 0; li < n_layers; li++)
        report_input(rep, "layer", "%s = %s (%zu features)", names[li], sources[li], ct_impact_layer_size(layers[li]));
    report_input(rep, "CRS", "%s", crs_label ? crs_label : "(none)");
    report_input(rep, "incident", "%s", res->incident_wkt);
    for (size_t k = 0; k < res->ring_count; k++)
        report_input(rep, "ring", "%g m", res->radii[k]);
    size_t nr = res->ring_count;
    double rmax = nr ? res->radii[nr - 1] : 0;
    size_t total = 0;
    for (size_t li = 0; li < n_layers && nr; li++) {
        total += res->layers[li].rings[nr - 1].count;
        for (size_t k = 0; k < nr; k++)
            report_figure(rep, names[li], "%zu within %g m", res->layers[li].rings[k].count, res->radii[k]);
    }
    report_summary(rep, "%zu features of %zu layers within %g m of the incident", total, n_layers, rmax);

    OGRGeometryH inc = NULL;
    char *wkt = res->incident_wkt;
    if (wkt && *wkt)
        OGR_G_CreateFromWkt(&wkt, NULL, &inc);
    report_map *m = NULL;
    if (inc) {
        OGREnvelope e;
        OGR_G_GetEnvelope(inc, &e);
        double pad = rmax * 1.05;
        m = report_map_create_box(e.MinX - pad, e.MinY - pad, e.MaxX + pad, e.MaxY + pad, 0);
    }
    /* Every feature thin and grey (small layers only: a report is not a GIS),
     * hits coloured by their innermost ring. */
    for (size_t li = 0; li < n_layers && m; li++) {
        const ct_impact_layer_result *lr = &res->layers[li];
        size_t nf = ct_impact_layer_size(layers[li]);
        if (nf <= 20000)
            for (size_t f = 0; f < nf; f++) {
                char *fw = ct_impact_layer_feature_wkt(layers[li], f), *p = fw;
                OGRGeometryH g = NULL;
                if (fw && OGR_G_CreateFromWkt(&p, NULL, &g) == OGRERR_NONE) {
                    report_map_ogr(m, g, (report_rgba){200, 200, 200, 255}, GREY);
                    OGR_G_DestroyGeometry(g);
                }
                free(fw);
            }
        for (size_t h = 0; h < lr->hit_count; h++) {
            char *fw = ct_impact_layer_feature_wkt(layers[li], lr->hits[h].feature), *p = fw;
            OGRGeometryH g = NULL;
            if (fw && OGR_G_CreateFromWkt(&p, NULL, &g) == OGRERR_NONE) {
                report_rgba col = report_palette(lr->hits[h].ring + 1);
                report_map_ogr(m, g, col, col);
                label_feature(m, g, ct_impact_layer_feature_string(layers[li], lr->hits[h].feature, "name"),
                              (double)(nr - (size_t)lr->hits[h].ring));
                OGR_G_DestroyGeometry(g);
            }
            free(fw);
        }
    }
    for (size_t k = 0; k < nr && m && inc; k++) {
        OGRGeometryH buf = OGR_G_Buffer(inc, res->radii[k], 32);
        if (buf) {
            report_map_ogr(m, buf, NONE, report_palette((int)k + 1));
            OGR_G_DestroyGeometry(buf);
        }
        char label[48];
        snprintf(label, sizeof label, "%g m", res->radii[k]);
        report_map_legend(m, report_palette((int)k + 1), label);
    }
    if (inc && m) {
        report_rgba black = {20, 20, 20, 255};
        report_map_ogr(m, inc, black, black);
        report_map_legend(m, black, "incident");
    }
    if (inc)
        OGR_G_DestroyGeometry(inc);
    report_set_map(rep, m);

    /* Counts per ring per layer: one bar each, grouped by layer. */
    size_t nb = nr * n_layers;
    char(*labels)[48] = calloc(nb ? nb : 1, sizeof *labels);
    const char **lp = calloc(nb ? nb : 1, sizeof *lp);
    double *cnt = calloc(nb ? nb : 1, sizeof *cnt);
    if (labels && lp && cnt && nb) {
        for (size_t li = 0; li < n_layers; li++)
            for (size_t k = 0; k < nr; k++) {
                size_t i = li * nr + k;
                snprintf(labels[i], sizeof labels[i], "%s %g m", names[li], res->radii[k]);
                lp[i] = labels[i];
                cnt[i] = (double)res->layers[li].rings[k].count;
            }
        report_chart(rep, report_chart_bars("Features per ring and layer", "features", lp, cnt, (int)nb));
    }
    free(labels);
    free(lp);
    free(cnt);
    report_json(rep, json);
    ct_status st = report_write(rep, path, err);
    report_destroy(rep);
    return st;
}
