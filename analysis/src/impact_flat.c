/* Point-incident distances without GEOS calls. Why: for a point incident,
 * GEOSDistance_r spent most of a query's time in generic machinery
 * (dynamic casts, emptiness checks, allocations) around a few subtractions
 * per segment. The coordinates are copied once at load; the distance is the
 * one GEOS computes (algorithm::Distance::pointToSegment, the same
 * operations in the same order, so the same doubles), and a point inside a
 * polygon or on its boundary is at 0, as DistanceOp's containment step says.
 * test_impact checks the values against GEOSDistance_r bit for bit. */
#include "impact_flat.h"

#include "citytwin/ct_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool add_seq(ct_impact_flat *f, GEOSContextHandle_t h, const GEOSGeometry *g, uint8_t kind, bool *ok)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, g);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n == 0) {
        *ok = false;
        return true;
    }
    if (!ct_array_grow(&f->parts, &f->part_cap, f->part_n + 1, sizeof *f->parts) ||
        !ct_array_grow(&f->xy, &f->xy_cap, f->xy_n + 2 * (size_t)n, sizeof(double)))
        return false;
    for (unsigned int i = 0; i < n; i++) {
        double x, y;
        if (!GEOSCoordSeq_getXY_r(h, cs, i, &x, &y)) {
            *ok = false;
            return true;
        }
        f->xy[f->xy_n + 2 * i] = x;
        f->xy[f->xy_n + 2 * i + 1] = y;
    }
    f->parts[f->part_n++] = (ct_impact_flat_part){(uint32_t)(f->xy_n / 2), n, kind};
    f->xy_n += 2 * (size_t)n;
    return true;
}

static bool add_geom(ct_impact_flat *f, GEOSContextHandle_t h, const GEOSGeometry *g, bool *ok)
{
    switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_POINT:
        return add_seq(f, h, g, CT_FLAT_POINT, ok);
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        return add_seq(f, h, g, CT_FLAT_LINE, ok);
    case GEOS_POLYGON: {
        const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, g);
        if (!shell) {
            *ok = false;
            return true;
        }
        if (!add_seq(f, h, shell, CT_FLAT_SHELL, ok))
            return false;
        int nh = GEOSGetNumInteriorRings_r(h, g);
        for (int i = 0; i < nh && *ok; i++)
            if (!add_seq(f, h, GEOSGetInteriorRingN_r(h, g, i), CT_FLAT_HOLE, ok))
                return false;
        return true;
    }
    case GEOS_MULTIPOINT:
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON: {
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n && *ok; i++) {
            const GEOSGeometry *c = GEOSGetGeometryN_r(h, g, i);
            if (GEOSisEmpty_r(h, c) != 0) /* GEOS skips empty components */
                continue;
            if (!add_geom(f, h, c, ok))
                return false;
        }
        return true;
    }
    default: /* collections: left to GEOS */
        *ok = false;
        return true;
    }
}

bool ct_impact_flat_add(ct_impact_flat *f, GEOSContextHandle_t h, const GEOSGeometry *g)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 256;
        uint32_t *a = realloc(f->first, nc * sizeof *a);
        if (!a)
            return false;
        f->first = a;
        uint32_t *b = realloc(f->nparts, nc * sizeof *b);
        if (!b)
            return false;
        f->nparts = b;
        f->cap = nc;
    }
    size_t part0 = f->part_n, xy0 = f->xy_n;
    bool ok = f->part_n < UINT32_MAX / 2 && f->xy_n / 2 < UINT32_MAX / 2;
    if (ok && !add_geom(f, h, g, &ok))
        return false;
    if (!ok || f->part_n == part0) {
        f->part_n = part0;
        f->xy_n = xy0;
        f->first[f->n] = UINT32_MAX;
        f->nparts[f->n] = 0;
    } else {
        f->first[f->n] = (uint32_t)part0;
        f->nparts[f->n] = (uint32_t)(f->part_n - part0);
    }
    f->n++;
    return true;
}

void ct_impact_flat_free(ct_impact_flat *f)
{
    free(f->first);
    free(f->nparts);
    free(f->parts);
    free(f->xy);
    memset(f, 0, sizeof *f);
}

/* geom::Coordinate::distance */
static inline double pt_dist(double px, double py, double ax, double ay)
{
    double dx = px - ax, dy = py - ay;
    return sqrt(dx * dx + dy * dy);
}

/* algorithm::Distance::pointToSegment */
static inline double seg_dist(double px, double py, double ax, double ay, double bx, double by)
{
    if (ax == bx && ay == by)
        return pt_dist(px, py, ax, ay);
    double len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay);
    double r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2;
    if (r <= 0.0)
        return pt_dist(px, py, ax, ay);
    if (r >= 1.0)
        return pt_dist(px, py, bx, by);
    double s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2;
    return fabs(s) * sqrt(len2);
}

/* Ray crossing count (algorithm::RayCrossingCounter): 1 inside, 0 on the
 * boundary, -1 outside. The orientation is evaluated in double precision
 * (GEOS falls back to double-double arithmetic for nearly collinear
 * points); it can only disagree for a point within rounding of the ring,
 * whose distance is then ~1e-12 m instead of 0. */
static int ring_locate(const double *xy, uint32_t n, double px, double py)
{
    int crossings = 0;
    for (uint32_t i = 1; i < n; i++) {
        double x1 = xy[2 * i - 2], y1 = xy[2 * i - 1], x2 = xy[2 * i], y2 = xy[2 * i + 1];
        if (x1 < px && x2 < px)
            continue;
        if (px == x2 && py == y2)
            return 0;
        if (y1 == py && y2 == py) {
            double lo = x1 < x2 ? x1 : x2, hi = x1 < x2 ? x2 : x1;
            if (px >= lo && px <= hi)
                return 0;
            continue;
        }
        if ((y1 > py && y2 <= py) || (y2 > py && y1 <= py)) {
            double det = (x2 - x1) * (py - y2) - (y2 - y1) * (px - x2);
            int sign = det > 0 ? 1 : det < 0 ? -1 : 0;
            if (sign == 0)
                return 0;
            if (y2 < y1)
                sign = -sign;
            if (sign > 0)
                crossings++;
        }
    }
    return crossings & 1 ? 1 : -1;
}

double ct_impact_flat_distance(const ct_impact_flat *f, size_t i, double px, double py)
{
    uint32_t p0 = f->first[i];
    if (p0 == UINT32_MAX)
        return -1;
    const ct_impact_flat_part *parts = f->parts + p0;
    uint32_t np = f->nparts[i];
    /* containment: inside (or on) a shell and not strictly inside one of its holes */
    for (uint32_t k = 0; k < np; k++) {
        if (parts[k].kind != CT_FLAT_SHELL)
            continue;
        int loc = ring_locate(f->xy + 2 * (size_t)parts[k].start, parts[k].count, px, py);
        if (loc < 0)
            continue;
        if (loc == 0)
            return 0;
        bool in = true;
        for (uint32_t j = k + 1; j < np && parts[j].kind == CT_FLAT_HOLE && in; j++) {
            int hl = ring_locate(f->xy + 2 * (size_t)parts[j].start, parts[j].count, px, py);
            if (hl == 0)
                return 0;
            in = hl < 0;
        }
        if (in)
            return 0;
    }
    double best = INFINITY;
    for (uint32_t k = 0; k < np; k++) {
        const double *c = f->xy + 2 * (size_t)parts[k].start;
        uint32_t n = parts[k].count;
        if (parts[k].kind == CT_FLAT_POINT || n == 1) {
            double d = pt_dist(px, py, c[0], c[1]);
            if (d < best)
                best = d;
            continue;
        }
        for (uint32_t s = 1; s < n; s++) {
            double d = seg_dist(px, py, c[2 * s - 2], c[2 * s - 1], c[2 * s], c[2 * s + 1]);
            if (d < best)
                best = d;
        }
    }
    return best;
}
