/* The report's map: a small software rasterizer over an RGBA image with a
 * north-up world->pixel transform (no GL: the report must work headless and
 * without a GPU), the hillshaded DEM as background, a 5x7 pixel font for the
 * scale bar, north arrow and legend. */
#include "report.h"
#include "report_internal.h"

#include "citytwin/ct_image.h"
#include "citytwin/ct_text.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LEGEND_MAX 16

typedef struct report_label {
    double px, py;           /* anchor, map pixels */
    double gap;              /* pixels between the anchor and the text's left edge */
    char *text;
    double priority;
    size_t order;
} report_label;

struct report_map {
    int w, h;
    uint8_t *rgba;
    double x0, y0, px; /* world x,y of the top-left corner; world units per pixel */
    int n_legend;
    report_rgba legend_color[LEGEND_MAX];
    char legend_label[LEGEND_MAX][40];
    report_label *labels;    /* placed and drawn in report_map_encode */
    size_t n_labels, cap_labels, labels_drawn;
};

/* ------------------------------------------------------------- pixels */

static void blend(report_map *m, int x, int y, report_rgba c, double coverage)
{
    if (x < 0 || y < 0 || x >= m->w || y >= m->h)
        return;
    double a = c.a / 255.0 * coverage;
    if (a <= 0)
        return;
    uint8_t *p = m->rgba + ((size_t)y * m->w + x) * 4;
    p[0] = (uint8_t)lround(p[0] + (c.r - p[0]) * a);
    p[1] = (uint8_t)lround(p[1] + (c.g - p[1]) * a);
    p[2] = (uint8_t)lround(p[2] + (c.b - p[2]) * a);
    p[3] = 255;
}

static report_map *map_alloc(double minx, double miny, double maxx, double maxy, int max_px)
{
    if (max_px <= 0)
        max_px = 800;
    double ew = maxx - minx, eh = maxy - miny;
    if (!(ew > 0) || !(eh > 0) || !isfinite(ew) || !isfinite(eh))
        return NULL;
    report_map *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->px = fmax(ew, eh) / max_px;
    m->w = (int)fmax(1, ceil(ew / m->px - 1e-9));
    m->h = (int)fmax(1, ceil(eh / m->px - 1e-9));
    m->x0 = minx;
    m->y0 = maxy;
    m->rgba = malloc((size_t)m->w * m->h * 4);
    if (!m->rgba) {
        free(m);
        return NULL;
    }
    return m;
}

void report_map_destroy(report_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_labels; i++)
        free(m->labels[i].text);
    free(m->labels);
    free(m->rgba);
    free(m);
}

int report_map_width(const report_map *m) { return m ? m->w : 0; }
int report_map_height(const report_map *m) { return m ? m->h : 0; }

void report_map_geotransform(const report_map *m, double gt[6])
{
    gt[0] = m->x0;
    gt[1] = m->px;
    gt[2] = 0;
    gt[3] = m->y0;
    gt[4] = 0;
    gt[5] = -m->px;
}

void report_map_to_px(const report_map *m, double x, double y, double *px, double *py)
{
    *px = (x - m->x0) / m->px;
    *py = (m->y0 - y) / m->px;
}

static void px_to_world(const report_map *m, double px, double py, double *x, double *y)
{
    *x = m->x0 + px * m->px;
    *y = m->y0 - py * m->px;
}

/* ---------------------------------------------------------- backgrounds */

static void raster_bounds(const ct_raster *r, double *minx, double *miny, double *maxx, double *maxy)
{
    *minx = *miny = INFINITY;
    *maxx = *maxy = -INFINITY;
    const double *g = r->geotransform;
    for (int k = 0; k < 4; k++) {
        double c = (k & 1) ? r->width : 0, rr = (k & 2) ? r->height : 0;
        double x = g[0] + c * g[1] + rr * g[2], y = g[3] + c * g[4] + rr * g[5];
        *minx = fmin(*minx, x);
        *maxx = fmax(*maxx, x);
        *miny = fmin(*miny, y);
        *maxy = fmax(*maxy, y);
    }
}

report_map *report_map_create_dem(const ct_raster *dem, int max_px)
{
    double minx, miny, maxx, maxy;
    raster_bounds(dem, &minx, &miny, &maxx, &maxy);
    report_map *m = map_alloc(minx, miny, maxx, maxy, max_px);
    if (!m)
        return NULL;
    float zmin = INFINITY, zmax = -INFINITY;
    size_t n = (size_t)dem->width * dem->height;
    for (size_t i = 0; i < n; i++)
        if (!isnan(dem->data[i])) {
            zmin = fminf(zmin, dem->data[i]);
            zmax = fmaxf(zmax, dem->data[i]);
        }
    double zr = zmax > zmin ? zmax - zmin : 1;
    double cw = hypot(dem->geotransform[1], dem->geotransform[4]);
    double ch = hypot(dem->geotransform[2], dem->geotransform[5]);
    /* Sun from the north-west at 45 degrees (GDAL's gdaldem default). */
    const double az = 315 * M_PI / 180, alt = 45 * M_PI / 180;
    for (int py = 0; py < m->h; py++) {
        for (int px = 0; px < m->w; px++) {
            uint8_t *p = m->rgba + ((size_t)py * m->w + px) * 4;
            double x, y;
            px_to_world(m, px + 0.5, py + 0.5, &x, &y);
            double c, r;
            ct_raster_world_to_cell(dem, x, y, &c, &r);
            int ci = (int)floor(c), ri = (int)floor(r);
            float z = (ci >= 0 && ri >= 0 && ci < dem->width && ri < dem->height)
                          ? dem->data[(size_t)ri * dem->width + ci]
                          : NAN;
            if (isnan(z)) {
                p[0] = p[1] = p[2] = 250;
                p[3] = 255;
                continue;
            }
            int cl = ci > 0 ? ci - 1 : ci, cr = ci + 1 < dem->width ? ci + 1 : ci;
            int ru = ri > 0 ? ri - 1 : ri, rd = ri + 1 < dem->height ? ri + 1 : ri;
            float zl = dem->data[(size_t)ri * dem->width + cl], zr2 = dem->data[(size_t)ri * dem->width + cr];
            float zu = dem->data[(size_t)ru * dem->width + ci], zd = dem->data[(size_t)rd * dem->width + ci];
            if (isnan(zl)) zl = z;
            if (isnan(zr2)) zr2 = z;
            if (isnan(zu)) zu = z;
            if (isnan(zd)) zd = z;
            double dzdx = cr > cl ? (zr2 - zl) / ((cr - cl) * cw) : 0;
            double dzdy = rd > ru ? (zu - zd) / ((rd - ru) * ch) : 0; /* y grows northwards */
            /* Lambert shading: unit normal (-dz/dx, -dz/dy, 1) against the sun's direction. */
            double nn = sqrt(dzdx * dzdx + dzdy * dzdy + 1);
            double hs = (-dzdx * sin(az) * cos(alt) - dzdy * cos(az) * cos(alt) + sin(alt)) / nn;
            hs = fmax(0, hs);
            double t = (z - zmin) / zr;
            double shade = 0.55 + 0.45 * hs;
            p[0] = (uint8_t)lround((205 + 35 * t) * shade);
            p[1] = (uint8_t)lround((222 + 8 * t) * shade);
            p[2] = (uint8_t)lround((195 + 15 * t) * shade);
            p[3] = 255;
        }
    }
    return m;
}

report_map *report_map_create_box(double minx, double miny, double maxx, double maxy, int max_px)
{
    double pad = 0.05 * fmax(maxx - minx, maxy - miny);
    if (!(pad > 0))
        pad = 50;
    report_map *m = map_alloc(minx - pad, miny - pad, maxx + pad, maxy + pad, max_px);
    if (!m)
        return NULL;
    for (size_t i = 0; i < (size_t)m->w * m->h; i++) {
        m->rgba[4 * i] = 244;
        m->rgba[4 * i + 1] = 242;
        m->rgba[4 * i + 2] = 236;
        m->rgba[4 * i + 3] = 255;
    }
    return m;
}

void report_map_raster(report_map *m, const ct_raster *r, report_color_fn fn, void *user)
{
    if (!m || !r)
        return;
    for (int py = 0; py < m->h; py++)
        for (int px = 0; px < m->w; px++) {
            double x, y;
            px_to_world(m, px + 0.5, py + 0.5, &x, &y);
            double c, rr;
            ct_raster_world_to_cell(r, x, y, &c, &rr);
            if (!(c >= 0 && rr >= 0 && c < r->width && rr < r->height))
                continue;
            report_rgba col = fn(r->data[(size_t)rr * r->width + (size_t)c], user);
            blend(m, px, py, col, 1);
        }
}

/* ------------------------------------------------------------- vectors */

/* Pixel-space thick segment: pixels whose centre is within w/2 of it. */
static void seg_px(report_map *m, double ax, double ay, double bx, double by, report_rgba c, double w)
{
    double hw = fmax(0.5, w / 2);
    int x0 = (int)floor(fmin(ax, bx) - hw), x1 = (int)ceil(fmax(ax, bx) + hw);
    int y0 = (int)floor(fmin(ay, by) - hw), y1 = (int)ceil(fmax(ay, by) + hw);
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= m->w ? m->w - 1 : x1;
    y1 = y1 >= m->h ? m->h - 1 : y1;
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double cx = x + 0.5, cy = y + 0.5;
            double t = l2 > 0 ? ((cx - ax) * dx + (cy - ay) * dy) / l2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double d = hypot(cx - (ax + t * dx), cy - (ay + t * dy));
            if (d <= hw)
                blend(m, x, y, c, 1);
        }
}

void report_map_line(report_map *m, double x0, double y0, double x1, double y1, report_rgba c, double width_px)
{
    if (!m)
        return;
    double ax, ay, bx, by;
    report_map_to_px(m, x0, y0, &ax, &ay);
    report_map_to_px(m, x1, y1, &bx, &by);
    /* Far outside: skip rather than scan a huge box. */
    if (fmax(ax, bx) < -10 || fmin(ax, bx) > m->w + 10 || fmax(ay, by) < -10 || fmin(ay, by) > m->h + 10)
        return;
    if (fabs(ax) > 1e6 || fabs(bx) > 1e6 || fabs(ay) > 1e6 || fabs(by) > 1e6)
        return;
    seg_px(m, ax, ay, bx, by, c, width_px);
}

void report_map_polyline(report_map *m, const double *xy, int n, report_rgba c, double width_px)
{
    for (int i = 0; i + 1 < n; i++)
        report_map_line(m, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2], xy[2 * i + 3], c, width_px);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void report_map_polygon(report_map *m, const double *xy, const int *ring_sizes, int n_rings, report_rgba fill,
                        report_rgba stroke)
{
    if (!m || n_rings <= 0)
        return;
    int total = 0;
    for (int k = 0; k < n_rings; k++)
        total += ring_sizes[k];
    if (total < 3)
        return;
    double *xs = malloc((size_t)total * sizeof *xs);
    if (!xs)
        return;
    if (fill.a) {
        /* Even-odd scanline fill at pixel centres. */
        for (int py = 0; py < m->h; py++) {
            double wy = m->y0 - (py + 0.5) * m->px;
            int nx = 0, base = 0;
            for (int k = 0; k < n_rings; k++) {
                int n = ring_sizes[k];
                for (int i = 0; i < n; i++) {
                    const double *a = xy + 2 * (base + i), *b = xy + 2 * (base + (i + 1) % n);
                    if ((a[1] > wy) != (b[1] > wy))
                        xs[nx++] = a[0] + (wy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                }
                base += n;
            }
            qsort(xs, (size_t)nx, sizeof *xs, cmp_double);
            for (int i = 0; i + 1 < nx; i += 2) {
                double pa = (xs[i] - m->x0) / m->px - 0.5, pb = (xs[i + 1] - m->x0) / m->px - 0.5;
                int a = (int)ceil(pa), b = (int)floor(pb);
                a = a < 0 ? 0 : a;
                b = b >= m->w ? m->w - 1 : b;
                for (int px = a; px <= b; px++)
                    blend(m, px, py, fill, 1);
            }
        }
    }
    free(xs);
    if (stroke.a) {
        int base = 0;
        for (int k = 0; k < n_rings; k++) {
            int n = ring_sizes[k];
            for (int i = 0; i < n; i++) {
                const double *a = xy + 2 * (base + i), *b = xy + 2 * (base + (i + 1) % n);
                report_map_line(m, a[0], a[1], b[0], b[1], stroke, 1.5);
            }
            base += n;
        }
    }
}

void report_map_circle(report_map *m, double x, double y, double radius_world, report_rgba c, double width_px)
{
    if (!m)
        return;
    double cx, cy;
    report_map_to_px(m, x, y, &cx, &cy);
    double r = radius_world / m->px, hw = fmax(0.5, width_px / 2);
    int x0 = (int)fmax(0, floor(cx - r - hw)), x1 = (int)fmin(m->w - 1, ceil(cx + r + hw));
    int y0 = (int)fmax(0, floor(cy - r - hw)), y1 = (int)fmin(m->h - 1, ceil(cy + r + hw));
    for (int py = y0; py <= y1; py++)
        for (int px = x0; px <= x1; px++)
            if (fabs(hypot(px + 0.5 - cx, py + 0.5 - cy) - r) <= hw)
                blend(m, px, py, c, 1);
}

static void dot_px(report_map *m, double cx, double cy, double r, report_rgba c)
{
    for (int py = (int)floor(cy - r); py <= (int)ceil(cy + r); py++)
        for (int px = (int)floor(cx - r); px <= (int)ceil(cx + r); px++)
            if (hypot(px + 0.5 - cx, py + 0.5 - cy) <= r)
                blend(m, px, py, c, 1);
}

void report_map_dot(report_map *m, double x, double y, double radius_px, report_rgba c)
{
    if (!m)
        return;
    double cx, cy;
    report_map_to_px(m, x, y, &cx, &cy);
    if (cx < -radius_px || cy < -radius_px || cx > m->w + radius_px || cy > m->h + radius_px)
        return;
    report_rgba edge = {40, 40, 40, 255};
    dot_px(m, cx, cy, radius_px + 1, edge);
    dot_px(m, cx, cy, radius_px, c);
}

/* ---------------------------------------------------------------- OGR */

static void ogr_rings(report_map *m, OGRGeometryH poly, report_rgba fill, report_rgba stroke)
{
    int nr = OGR_G_GetGeometryCount(poly), total = 0;
    for (int k = 0; k < nr; k++)
        total += OGR_G_GetPointCount(OGR_G_GetGeometryRef(poly, k));
    if (nr <= 0 || total <= 0)
        return;
    double *xy = malloc((size_t)total * 2 * sizeof *xy);
    int *sizes = malloc((size_t)nr * sizeof *sizes);
    if (xy && sizes) {
        int at = 0;
        for (int k = 0; k < nr; k++) {
            OGRGeometryH ring = OGR_G_GetGeometryRef(poly, k);
            int n = OGR_G_GetPointCount(ring);
            for (int i = 0; i < n; i++, at++) {
                xy[2 * at] = OGR_G_GetX(ring, i);
                xy[2 * at + 1] = OGR_G_GetY(ring, i);
            }
            sizes[k] = n;
        }
        report_map_polygon(m, xy, sizes, nr, fill, stroke);
    }
    free(xy);
    free(sizes);
}

void report_map_ogr(report_map *m, void *geometry, report_rgba fill, report_rgba stroke)
{
    OGRGeometryH g = geometry;
    if (!m || !g)
        return;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        ogr_rings(m, g, fill, stroke);
    } else if (t == wkbLineString || t == wkbLinearRing) {
        int n = OGR_G_GetPointCount(g);
        for (int i = 0; i + 1 < n; i++)
            report_map_line(m, OGR_G_GetX(g, i), OGR_G_GetY(g, i), OGR_G_GetX(g, i + 1), OGR_G_GetY(g, i + 1),
                            stroke, 2);
    } else if (t == wkbPoint) {
        report_map_dot(m, OGR_G_GetX(g, 0), OGR_G_GetY(g, 0), 3, fill.a ? fill : stroke);
    } else if (OGR_G_GetGeometryCount(g) > 0) {
        for (int k = 0; k < OGR_G_GetGeometryCount(g); k++)
            report_map_ogr(m, OGR_G_GetGeometryRef(g, k), fill, stroke);
    }
}

int report_map_ogr_source(report_map *m, const char *src, const char *layer_name, const char *crs_wkt,
                          report_rgba fill, report_rgba stroke)
{
    if (!m || !src)
        return -1;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return -1;
    OGRSpatialReferenceH dst = NULL;
    if (crs_wkt && *crs_wkt) {
        dst = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(dst, crs_wkt) != OGRERR_NONE) {
            OSRDestroySpatialReference(dst);
            dst = NULL;
        } else {
            OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
        }
    }
    int drawn = 0;
    /* One layer: the named one, else OSM's "lines", else the first. */
    OGRLayerH only = layer_name ? GDALDatasetGetLayerByName(ds, layer_name) : GDALDatasetGetLayerByName(ds, "lines");
    if (!only)
        only = GDALDatasetGetLayer(ds, 0);
    for (int li = 0; li < 1 && only; li++) {
        OGRLayerH layer = only;
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
        OGRCoordinateTransformationH ct = NULL;
        if (srs && dst && !OSRIsSame(srs, dst)) {
            OGRSpatialReferenceH s2 = OSRClone(srs);
            OSRSetAxisMappingStrategy(s2, OAMS_TRADITIONAL_GIS_ORDER);
            ct = OCTNewCoordinateTransformation(s2, dst);
            OSRDestroySpatialReference(s2);
        }
        OGR_L_ResetReading(layer);
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(layer))) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            if (g && (!ct || OGR_G_Transform(g, ct) == OGRERR_NONE)) {
                report_map_ogr(m, g, fill, stroke);
                drawn++;
            }
            OGR_F_Destroy(f);
        }
        if (ct)
            OCTDestroyCoordinateTransformation(ct);
    }
    if (dst)
        OSRDestroySpatialReference(dst);
    GDALClose(ds);
    return drawn;
}

/* --------------------------------------------------------------- text */

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column. Lower-case letters
 * other than m and k are drawn upper-case. */
typedef struct glyph {
    char c;
    uint8_t rows[7];
} glyph;

static const glyph FONT[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}}, {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}}, {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
};

static const glyph *find_glyph(char c)
{
    if (c != 'm' && c != 'k')
        c = (char)toupper((unsigned char)c);
    for (size_t i = 0; i < sizeof FONT / sizeof FONT[0]; i++)
        if (FONT[i].c == c)
            return &FONT[i];
    return NULL;
}

static int text_width(const char *s, int scale) { return (int)strlen(s) * 6 * scale; }

void report_map_text(report_map *m, int px, int py, const char *s, report_rgba c, int scale)
{
    if (!m || !s)
        return;
    scale = scale < 1 ? 1 : scale > 4 ? 4 : scale;
    for (; *s; s++, px += 6 * scale) {
        const glyph *g = find_glyph(*s);
        if (!g)
            continue;
        for (int r = 0; r < 7; r++)
            for (int b = 0; b < 5; b++)
                if (g->rows[r] & (0x10 >> b))
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++)
                            blend(m, px + b * scale + dx, py + r * scale + dy, c, 1);
    }
}

void report_map_legend(report_map *m, report_rgba c, const char *label)
{
    if (!m || m->n_legend >= LEGEND_MAX)
        return;
    m->legend_color[m->n_legend] = c;
    snprintf(m->legend_label[m->n_legend], sizeof m->legend_label[0], "%s", label ? label : "");
    m->n_legend++;
}

/* ---------------------------------------------------------- decorations */

static void box_px(report_map *m, int x0, int y0, int x1, int y1, report_rgba c)
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            blend(m, x, y, c, 1);
}

static void draw_scale_bar(report_map *m)
{
    /* A round length (1, 2 or 5 x 10^k map units) of about a quarter of the width. */
    double target = m->w * m->px / 4, len = pow(10, floor(log10(target)));
    if (len * 5 <= target)
        len *= 5;
    else if (len * 2 <= target)
        len *= 2;
    int bar = (int)lround(len / m->px);
    if (bar < 4 || bar > m->w - 20)
        return;
    char label[32];
    if (len >= 1000)
        snprintf(label, sizeof label, "%g km", len / 1000);
    else
        snprintf(label, sizeof label, "%g m", len);
    int x = 10, y = m->h - 12;
    report_rgba white = {255, 255, 255, 200}, black = {0, 0, 0, 255};
    int tw = text_width(label, 1);
    box_px(m, x - 4, y - 14, x + (bar > tw ? bar : tw) + 4, y + 8, white);
    box_px(m, x, y, x + bar, y + 4, black);
    box_px(m, x, y - 4, x + 2, y + 4, black);
    box_px(m, x + bar - 2, y - 4, x + bar, y + 4, black);
    report_map_text(m, x, y - 12, label, black, 1);
}

static void draw_north_arrow(report_map *m)
{
    int cx = m->w - 20, top = 8;
    if (m->w < 60 || m->h < 60)
        return;
    report_rgba white = {255, 255, 255, 200}, black = {0, 0, 0, 255};
    box_px(m, cx - 10, top - 2, cx + 11, top + 40, white);
    /* The arrow: a filled triangle pointing up (map y is north-up). */
    for (int y = 0; y < 18; y++)
        for (int x = -y / 2; x <= y / 2; x++)
            blend(m, cx + x, top + 12 + y, black, 1);
    report_map_text(m, cx - 2, top + 1, "N", black, 1);
}

static void draw_legend(report_map *m)
{
    if (!m->n_legend)
        return;
    int wmax = 0;
    for (int i = 0; i < m->n_legend; i++) {
        int tw = text_width(m->legend_label[i], 1);
        wmax = tw > wmax ? tw : wmax;
    }
    int bw = wmax + 26, bh = m->n_legend * 14 + 8;
    int x0 = m->w - bw - 6, y0 = m->h - bh - 6;
    report_rgba white = {255, 255, 255, 220}, black = {0, 0, 0, 255};
    box_px(m, x0, y0, x0 + bw, y0 + bh, white);
    for (int i = 0; i < m->n_legend; i++) {
        int y = y0 + 5 + 14 * i;
        box_px(m, x0 + 5, y, x0 + 15, y + 10, black);
        report_rgba c = m->legend_color[i];
        c.a = 255;
        box_px(m, x0 + 6, y + 1, x0 + 14, y + 9, c);
        report_map_text(m, x0 + 20, y + 2, m->legend_label[i], black, 1);
    }
}

/* ------------------------------------------------------------- labels */

void report_map_label(report_map *m, double x, double y, double gap_px, const char *text, double priority)
{
    if (!m || !text || !*text || !isfinite(x) || !isfinite(y))
        return;
    if (m->n_labels == m->cap_labels) {
        size_t cap = m->cap_labels ? m->cap_labels * 2 : 16;
        report_label *l = realloc(m->labels, cap * sizeof *l);
        if (!l)
            return;
        m->labels = l;
        m->cap_labels = cap;
    }
    char *t = ct_strdup(text);
    if (!t)
        return;
    report_map_to_px(m, x, y, &m->labels[m->n_labels].px, &m->labels[m->n_labels].py);
    m->labels[m->n_labels].gap = gap_px > 0 ? gap_px : 0;
    m->labels[m->n_labels].text = t;
    m->labels[m->n_labels].priority = priority;
    m->labels[m->n_labels].order = m->n_labels;
    m->n_labels++;
}

/* Higher priority first, then the order they were added. */
static int cmp_label(const void *a, const void *b)
{
    const report_label *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

enum { LABEL_CELL = 4 };

/* The labels as the 3D view places them (label_layer.c): right of the
 * anchor, vertically centred, greedy by priority on a 4-pixel grid without
 * overlaps (halo included), none cut by the map's edge. */
static void draw_labels(report_map *m)
{
    m->labels_drawn = 0;
    if (!m->n_labels)
        return;
    ct_font *font = NULL;
    ct_error err = {0};
    if (ct_font_create(NULL, &font, &err) != CT_OK) {
        ct_log(CT_LOG_WARN, "report map: %zu labels skipped: %s", m->n_labels, err.msg);
        return;
    }
    qsort(m->labels, m->n_labels, sizeof *m->labels, cmp_label);
    int gw = (m->w + LABEL_CELL - 1) / LABEL_CELL, gh = (m->h + LABEL_CELL - 1) / LABEL_CELL;
    uint8_t *grid = calloc((size_t)gw * gh, 1);
    const float halo = 2, size = 14;
    ct_text_style ts = {.color = {0.1f, 0.1f, 0.1f, 1}, .halo_color = {1, 1, 1, 0.9f}, .halo_px = halo};
    for (size_t i = 0; grid && i < m->n_labels; i++) {
        const report_label *l = &m->labels[i];
        ct_text_line line;
        if (ct_font_shape(font, l->text, size, &line, &err) != CT_OK)
            continue;
        float th = line.ascent + line.descent;
        float x0 = (float)(l->px + l->gap) - halo, y0 = (float)l->py - th / 2 - halo;
        float x1 = x0 + line.width + 2 * halo, y1 = y0 + th + 2 * halo;
        bool fits = line.glyph_count && x0 >= 0 && y0 >= 0 && x1 <= m->w && y1 <= m->h;
        int cx0 = (int)floorf(x0 / LABEL_CELL), cy0 = (int)floorf(y0 / LABEL_CELL);
        int cx1 = (int)floorf(x1 / LABEL_CELL), cy1 = (int)floorf(y1 / LABEL_CELL);
        cx1 = cx1 >= gw ? gw - 1 : cx1, cy1 = cy1 >= gh ? gh - 1 : cy1;
        for (int y = cy0; fits && y <= cy1; y++)
            for (int x = cx0; fits && x <= cx1; x++)
                fits = !grid[(size_t)y * gw + x];
        if (fits) {
            for (int y = cy0; y <= cy1; y++)
                memset(grid + (size_t)y * gw + cx0, 1, (size_t)(cx1 - cx0 + 1));
            ct_text_draw_rgba(font, &line, x0 + halo, y0 + halo + line.ascent, &ts, m->rgba, m->w, m->h);
            m->labels_drawn++;
        }
        ct_text_line_free(&line);
    }
    ct_log(CT_LOG_INFO, "report map: %zu of %zu labels drawn (the others overlap a higher-priority one or the edge)",
           m->labels_drawn, m->n_labels);
    free(grid);
    ct_font_destroy(font);
}

ct_status report_map_encode(report_map *m, uint8_t **png, size_t *size, ct_error *err)
{
    draw_labels(m);
    draw_scale_bar(m);
    draw_north_arrow(m);
    draw_legend(m);
    return ct_image_encode_png(m->w, m->h, m->rgba, png, size, err);
}

/* ------------------------------------------------------------- colours */

report_rgba report_depth_color(float depth_m, void *max_depth)
{
    report_rgba none = {0, 0, 0, 0};
    if (isnan(depth_m) || depth_m <= 0)
        return none;
    double mx = max_depth ? *(const double *)max_depth : 1;
    double t = mx > 0 ? fmin(1, depth_m / mx) : 1;
    /* Light blue (shallow) to dark blue (deep). */
    report_rgba c = {(uint8_t)lround(150 - 140 * t), (uint8_t)lround(200 - 150 * t), (uint8_t)lround(255 - 85 * t),
                     220};
    return c;
}
