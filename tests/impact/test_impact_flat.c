/* Point-incident distances of the impact query (impact_flat.c) against
 * GEOSDistance_r, which the query used before and which test_impact_monaco
 * ties to SpatiaLite: random polygons with holes, multipolygons, lines and
 * multipoints, incidents anywhere, on vertices, on edges and inside holes.
 * Every distance must be the same double. */
#include "ct_test.h"

#include "../../analysis/src/impact_flat.h"

#include <geos_c.h>
#include <stdint.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static GEOSGeometry *ring(GEOSContextHandle_t h, double cx, double cy, double r, int n, bool hole)
{
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n + 1, 2);
    for (int i = 0; i < n; i++) {
        double a = (hole ? -1 : 1) * 2 * M_PI * i / n, rr = r * (0.6 + 0.4 * rnd());
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, cx + rr * cos(a), cy + rr * sin(a));
    }
    double x, y;
    GEOSCoordSeq_getXY_r(h, cs, 0, &x, &y);
    GEOSCoordSeq_setXY_r(h, cs, (unsigned)n, x, y);
    return GEOSGeom_createLinearRing_r(h, cs);
}

static GEOSGeometry *polygon(GEOSContextHandle_t h, double cx, double cy, double r)
{
    int nh = rnd() < 0.5 ? 1 : 0;
    GEOSGeometry *holes[1];
    if (nh)
        holes[0] = ring(h, cx, cy, r * 0.3, 5 + (int)(rnd() * 5), true);
    return GEOSGeom_createPolygon_r(h, ring(h, cx, cy, r, 4 + (int)(rnd() * 12), false), holes, (unsigned)nh);
}

static GEOSGeometry *random_geom(GEOSContextHandle_t h, int kind)
{
    double cx = 500000 + rnd() * 200, cy = 4000000 + rnd() * 200;
    switch (kind) {
    case 0:
        return polygon(h, cx, cy, 5 + rnd() * 40);
    case 1: {
        GEOSGeometry *p[2] = {polygon(h, cx, cy, 10), polygon(h, cx + 60, cy + 10, 15)};
        return GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, p, 2);
    }
    case 2: {
        int n = 2 + (int)(rnd() * 6);
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)n, 2);
        for (int i = 0; i < n; i++)
            GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, cx + rnd() * 80, cy + rnd() * 80);
        return GEOSGeom_createLineString_r(h, cs);
    }
    case 3: {
        GEOSGeometry *p[3];
        for (int i = 0; i < 3; i++)
            p[i] = GEOSGeom_createPointFromXY_r(h, cx + rnd() * 50, cy + rnd() * 50);
        return GEOSGeom_createCollection_r(h, GEOS_MULTIPOINT, p, 3);
    }
    default: { /* axis-aligned square: incidents on its edges */
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 5, 2);
        double s = 20;
        GEOSCoordSeq_setXY_r(h, cs, 0, cx, cy);
        GEOSCoordSeq_setXY_r(h, cs, 1, cx + s, cy);
        GEOSCoordSeq_setXY_r(h, cs, 2, cx + s, cy + s);
        GEOSCoordSeq_setXY_r(h, cs, 3, cx, cy + s);
        GEOSCoordSeq_setXY_r(h, cs, 4, cx, cy);
        return GEOSGeom_createPolygon_r(h, GEOSGeom_createLinearRing_r(h, cs), NULL, 0);
    }
    }
}

CT_TEST(same_distances_as_geos)
{
    GEOSContextHandle_t h = GEOS_init_r();
    ct_impact_flat f = {0};
    enum { NG = 400, NP = 60 };
    GEOSGeometry *g[NG];
    for (int i = 0; i < NG; i++) {
        g[i] = random_geom(h, i % 5);
        CT_REQUIRE(g[i] && ct_impact_flat_add(&f, h, g[i]));
    }
    long checked = 0, zero = 0, bad = 0;
    for (int i = 0; i < NG; i++) {
        /* incidents: random around, the first vertex, an edge midpoint, the centroid */
        const GEOSGeometry *first = GEOSGeomTypeId_r(h, g[i]) == GEOS_MULTIPOLYGON || GEOSGeomTypeId_r(h, g[i]) == GEOS_MULTIPOINT
                                        ? GEOSGetGeometryN_r(h, g[i], 0)
                                        : g[i];
        const GEOSGeometry *line = GEOSGeomTypeId_r(h, first) == GEOS_POLYGON ? GEOSGetExteriorRing_r(h, first) : first;
        const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, line);
        double vx, vy, wx = 0, wy = 0;
        GEOSCoordSeq_getXY_r(h, cs, 0, &vx, &vy);
        unsigned int n = 0;
        GEOSCoordSeq_getSize_r(h, cs, &n);
        if (n > 1)
            GEOSCoordSeq_getXY_r(h, cs, 1, &wx, &wy);
        GEOSGeometry *cen = GEOSGetCentroid_r(h, g[i]);
        double cxx, cyy;
        GEOSGeomGetX_r(h, cen, &cxx);
        GEOSGeomGetY_r(h, cen, &cyy);
        GEOSGeom_destroy_r(h, cen);
        for (int k = 0; k < NP; k++) {
            double px, py;
            if (k == 0)
                px = vx, py = vy;
            else if (k == 1 && n > 1)
                px = (vx + wx) / 2, py = (vy + wy) / 2;
            else if (k == 2)
                px = cxx, py = cyy;
            else
                px = 500000 - 50 + rnd() * 350, py = 4000000 - 50 + rnd() * 350;
            GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, px, py);
            double dg = -1, df = ct_impact_flat_distance(&f, (size_t)i, px, py);
            CT_REQUIRE(GEOSDistance_r(h, pt, g[i], &dg) == 1);
            if (df != dg) {
                if (bad < 5)
                    fprintf(stderr, "geometry %d point (%.17g, %.17g): flat %.17g, GEOS %.17g\n", i, px, py, df, dg);
                bad++;
            }
            checked++;
            zero += dg == 0;
            GEOSGeom_destroy_r(h, pt);
        }
    }
    CT_CHECK_EQ_INT(bad, 0);
    CT_CHECK_EQ_INT(checked, NG * NP);
    CT_CHECK(zero > 200); /* incidents inside and on polygons were exercised */
    /* a geometry collection is left to GEOS */
    GEOSGeometry *parts[1] = {GEOSGeom_createPointFromXY_r(h, 1, 2)};
    GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, 1);
    CT_REQUIRE(ct_impact_flat_add(&f, h, coll));
    CT_CHECK(ct_impact_flat_distance(&f, NG, 0, 0) < 0);
    GEOSGeom_destroy_r(h, coll);
    for (int i = 0; i < NG; i++)
        GEOSGeom_destroy_r(h, g[i]);
    ct_impact_flat_free(&f);
    GEOS_finish_r(h);
}

CT_TEST_MAIN(CT_CASE(same_distances_as_geos))
