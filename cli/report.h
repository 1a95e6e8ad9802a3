/* `--report OUT.html` of the analyze subcommands: one self-contained HTML page
 * (inline CSS, the map as a data: URI PNG, charts as inline SVG, the JSON
 * report in a <details>; no script, no external URL), a top-down map image
 * drawn by citytwin (hillshaded DEM or a light background, the result over it,
 * scale bar, north arrow, legend) and SVG charts. See docs/report.md. */
#ifndef CT_CLI_REPORT_H
#define CT_CLI_REPORT_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_raster.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* ------------------------------------------------------------- the page */

typedef struct report report;

/* title: e.g. "Flood (static)"; argv: the command as run (recorded escaped). */
report *report_create(const char *title, int argc, char **argv);
void report_destroy(report *r);
/* Inputs table rows (files, CRS, options); value printf-style. */
void report_input(report *r, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The one-line summary (the same line the command prints). */
void report_summary(report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Key figures table rows. */
void report_figure(report *r, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds an SVG chart (report takes the malloc'ed string; NULL is ignored). */
void report_chart(report *r, char *svg);
/* Embeds the JSON report (copied). */
void report_json(report *r, const cJSON *json);
/* Writes the page; the file names the map's georeferencing in data- attributes
 * of its <img> (see report_map_attrs). */
ct_status report_write(report *r, const char *path, ct_error *err);

/* HTML-escapes s (& < > " ') appended to a malloc'ed string. */
char *report_escape(const char *s);
/* Base64 of data (malloc'ed, NUL-terminated). */
char *report_base64(const uint8_t *data, size_t size);

/* -------------------------------------------------------------- the map */

typedef struct report_rgba {
    uint8_t r, g, b, a;
} report_rgba;

typedef struct report_map report_map;

/* A map of the DEM's extent, hillshaded (sun from the north-west, 45 deg),
 * at most max_px pixels on its long side (0 = 800). */
report_map *report_map_create_dem(const ct_raster *dem, int max_px);
/* A light background map of the box (padded by 5 %) when there is no DEM. */
report_map *report_map_create_box(double minx, double miny, double maxx, double maxy, int max_px);
/* Takes the map into the page (drawn decorations first: scale bar, north arrow,
 * legend). The map may be NULL (no map section). */
void report_set_map(report *r, report_map *m);

/* World (map CRS) -> pixel (fractional, top-left origin). */
void report_map_to_px(const report_map *m, double x, double y, double *px, double *py);
int report_map_width(const report_map *m);
int report_map_height(const report_map *m);
/* Colour of each map pixel whose centre lies on a cell of r: fn returns
 * a colour with a = 0 to leave the pixel as it is. Blends by alpha. */
typedef report_rgba (*report_color_fn)(float value, void *user);
void report_map_raster(report_map *m, const ct_raster *r, report_color_fn fn, void *user);
/* Vector drawing in world coordinates. */
void report_map_line(report_map *m, double x0, double y0, double x1, double y1, report_rgba c, double width_px);
void report_map_polyline(report_map *m, const double *xy, int n, report_rgba c, double width_px);
/* Even-odd fill of rings (ring_sizes[k] points each, xy pairs one after another). */
void report_map_polygon(report_map *m, const double *xy, const int *ring_sizes, int n_rings, report_rgba fill,
                        report_rgba stroke);
void report_map_circle(report_map *m, double x, double y, double radius_world, report_rgba c, double width_px);
void report_map_dot(report_map *m, double x, double y, double radius_px, report_rgba c);
/* Draws an OGR geometry (OGRGeometryH) in the map's CRS: polygons filled,
 * lines stroked, points as dots. */
void report_map_ogr(report_map *m, void *ogr_geometry, report_rgba fill, report_rgba stroke);
/* Draws every feature of one layer of an OGR source (layer_name, else OSM's
 * "lines", else the first), reprojected into crs_wkt when both have a CRS;
 * returns the number of features drawn or -1. */
int report_map_ogr_source(report_map *m, const char *src, const char *layer_name, const char *crs_wkt,
                          report_rgba fill, report_rgba stroke);
/* A feature label: text (UTF-8, any script the font has: Noto Sans CJK)
 * left-aligned gap_px right of world (x, y) and vertically centred on it,
 * dark with a white halo. Placed when the map is encoded, higher priority
 * first (then the order added) without overlaps; labels that would overlap
 * a placed one or the map's edge are left out. Without the font (missing
 * Noto Sans CJK, bad $CT_FONT) no labels are drawn, with one warning. */
void report_map_label(report_map *m, double x, double y, double gap_px, const char *text, double priority);
/* A legend entry (label printed upper-case in the map's small font). */
void report_map_legend(report_map *m, report_rgba c, const char *label);
/* Text in the small built-in font at pixel (px, py), scale 1..4. */
void report_map_text(report_map *m, int px, int py, const char *s, report_rgba c, int scale);

/* -------------------------------------------------------------- charts */

typedef struct report_series {
    const char *name;
    const double *x, *y;
    int n;
} report_series;

/* A line chart: one <polyline class="line"> per series. */
char *report_chart_lines(const char *title, const char *xlabel, const char *ylabel, const report_series *s, int n);
/* A bar chart: one <rect class="bar"> per value. */
char *report_chart_bars(const char *title, const char *ylabel, const char *const *labels, const double *values, int n);
/* Histogram of the finite values (bins equal-width bars; 0 = 20). */
char *report_chart_histogram(const char *title, const char *xlabel, const float *values, size_t n, int bins);

/* Colour k of the chart palette (for map lines matching chart series). */
report_rgba report_palette(int k);

/* Colours shared by the analyses. */
report_rgba report_depth_color(float depth_m, void *max_depth);

#endif
