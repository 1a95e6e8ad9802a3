/* Flat copies of impact-layer geometries for point-incident distances
 * (internal to impact.c). */
#ifndef CT_IMPACT_FLAT_H
#define CT_IMPACT_FLAT_H

#include <geos_c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ct_impact_flat_part {
    uint32_t start, count; /* coordinates in xy (pairs) */
    uint8_t kind;          /* CT_FLAT_POINT, _LINE, _SHELL (a polygon's first ring), _HOLE */
} ct_impact_flat_part;

enum { CT_FLAT_POINT, CT_FLAT_LINE, CT_FLAT_SHELL, CT_FLAT_HOLE };

typedef struct ct_impact_flat {
    size_t n, cap;               /* features */
    uint32_t *first;             /* first part of each feature; UINT32_MAX: not flattened (use GEOS) */
    uint32_t *nparts;            /* parts of each feature */
    ct_impact_flat_part *parts;
    size_t part_n, part_cap;
    double *xy;
    size_t xy_n, xy_cap;         /* doubles */
} ct_impact_flat;

/* Appends feature g (points, lines, polygons and their multi forms; anything
 * else is recorded as "use GEOS"). False only when out of memory. */
bool ct_impact_flat_add(ct_impact_flat *f, GEOSContextHandle_t h, const GEOSGeometry *g);
void ct_impact_flat_free(ct_impact_flat *f);
/* Distance from (px, py) to feature i, computed as GEOS 3.11's DistanceOp
 * does (containment, then point-to-segment distances with the same
 * arithmetic); -1 when the feature was not flattened. */
double ct_impact_flat_distance(const ct_impact_flat *f, size_t i, double px, double py);

#endif
