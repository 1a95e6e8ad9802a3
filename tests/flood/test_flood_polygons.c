/* Extent polygons (ct_flood_polygons_build): hand-checked shapes, then random
 * masks (holes, islands in holes, diagonal pinches, regions on the raster
 * edge) against GDALPolygonize (4-connected, made valid with GEOS): the same
 * number of polygons, each of ours GEOS-valid and topologically equal to
 * GDAL's polygon of the same region, exteriors counter-clockwise and holes
 * clockwise, the cells counted exactly. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <gdal.h>
#include <gdal_alg.h>
#include <geos_c.h>
#include <ogr_api.h>

#include <math.h>
#include <stdint.h>

static GEOSContextHandle_t g_geos;
static void geos_quiet(const char *fmt, ...) { (void)fmt; }

static void setup(void)
{
    if (g_geos)
        return;
    GDALAllRegister();
    g_geos = GEOS_init_r();
    GEOSContext_setErrorHandler_r(g_geos, geos_quiet);
    GEOSContext_setNoticeHandler_r(g_geos, geos_quiet);
}

/* A raster of w x h cells: wet (depth 1) where mask[i], NAN elsewhere. Cells of
 * 2 x 3 m (exact in binary), origin (1000, 5000) top-left, north up unless flip. */
static ct_raster *mask_raster(const uint8_t *mask, int w, int h, bool flip)
{
    ct_raster *r = flood_test_dem(w, h, 2.0, 1000.0, 5000.0);
    r->geotransform[5] = flip ? 3.0 : -3.0;
    for (int i = 0; i < w * h; i++)
        r->data[i] = mask[i] ? 1.0f : NAN;
    return r;
}

/* Our polygons as GEOS geometries (n_polygons of them, malloc'ed array). */
static GEOSGeometry **ours_geos(const ct_flood_polygons *p, const double gt[6])
{
    GEOSGeometry **out = calloc((size_t)p->n_polygons + 1, sizeof *out);
    for (int k = 0; k < p->n_polygons; k++) {
        int r0 = p->ring_first[k], nr = p->ring_first[k + 1] - r0;
        GEOSGeometry **rings = calloc((size_t)nr, sizeof *rings);
        for (int i = 0; i < nr; i++) {
            size_t n = p->ring_count[r0 + i] + 1;
            double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
            CT_CHECK(ct_flood_polygons_ring_world(p, gt, r0 + i, x, y) == n);
            GEOSCoordSequence *cs = GEOSCoordSeq_copyFromArrays_r(g_geos, x, y, NULL, NULL, (unsigned)n);
            char ccw = 0;
            GEOSCoordSeq_isCCW_r(g_geos, cs, &ccw);
            CT_CHECK(ccw == (i == 0)); /* exterior CCW, holes CW */
            rings[i] = GEOSGeom_createLinearRing_r(g_geos, cs);
            free(x);
            free(y);
        }
        out[k] = GEOSGeom_createPolygon_r(g_geos, rings[0], rings + 1, (unsigned)(nr - 1));
        free(rings);
    }
    return out;
}

/* GDALPolygonize's polygons of the mask (4-connected), made valid. */
static GEOSGeometry **gdal_geos(const uint8_t *mask, int w, int h, const double gt[6], int *n_out)
{
    GDALDatasetH mds = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, 1, GDT_Byte, NULL);
    GDALRasterBandH band = GDALGetRasterBand(mds, 1);
    CT_CHECK(GDALRasterIO(band, GF_Write, 0, 0, w, h, (void *)mask, w, h, GDT_Byte, 0, 0) == CE_None);
    GDALSetGeoTransform(mds, (double *)gt);
    GDALDatasetH vds = GDALCreate(GDALGetDriverByName("Memory"), "", 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH lyr = GDALDatasetCreateLayer(vds, "p", NULL, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("v", OFTInteger);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
    CT_CHECK(GDALPolygonize(band, band, lyr, 0, NULL, NULL, NULL) == CE_None);
    int n = (int)OGR_L_GetFeatureCount(lyr, TRUE);
    GEOSGeometry **out = calloc((size_t)n + 1, sizeof *out);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(g_geos);
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    int k = 0;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL && k < n) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        int sz = OGR_G_WkbSize(g);
        unsigned char *wkb = malloc((size_t)sz);
        OGR_G_ExportToWkb(g, wkbNDR, wkb);
        GEOSGeometry *gg = GEOSWKBReader_read_r(g_geos, rd, wkb, (size_t)sz);
        if (gg && !GEOSisValid_r(g_geos, gg)) {
            GEOSGeometry *v = GEOSMakeValid_r(g_geos, gg);
            GEOSGeom_destroy_r(g_geos, gg);
            gg = v;
        }
        out[k++] = gg;
        free(wkb);
        OGR_F_Destroy(f);
    }
    GEOSWKBReader_destroy_r(g_geos, rd);
    GDALClose(vds);
    GDALClose(mds);
    *n_out = k;
    return out;
}

static int env_cmp(const void *a, const void *b)
{
    const GEOSGeometry *p = *(GEOSGeometry *const *)a, *q = *(GEOSGeometry *const *)b;
    double v[4], u[4];
    GEOSGeom_getXMin_r(g_geos, p, &v[0]);
    GEOSGeom_getYMin_r(g_geos, p, &v[1]);
    GEOSGeom_getXMax_r(g_geos, p, &v[2]);
    GEOSGeom_getYMax_r(g_geos, p, &v[3]);
    GEOSGeom_getXMin_r(g_geos, q, &u[0]);
    GEOSGeom_getYMin_r(g_geos, q, &u[1]);
    GEOSGeom_getXMax_r(g_geos, q, &u[2]);
    GEOSGeom_getYMax_r(g_geos, q, &u[3]);
    for (int i = 0; i < 4; i++)
        if (v[i] != u[i])
            return v[i] < u[i] ? -1 : 1;
    return 0;
}

static void print_mask(const uint8_t *m, int w, int h)
{
    for (int r = 0; r < h && r < 40; r++) {
        for (int c = 0; c < w && c < 100; c++)
            fputc(m[r * w + c] ? 'w' : '.', stderr);
        fputc('\n', stderr);
    }
}

/* Compares ours with GDAL's on one mask; returns true when all checks pass. */
static bool compare_mask(const uint8_t *mask, int w, int h, bool flip)
{
    int fails0 = ct_test_failures;
    ct_raster *r = mask_raster(mask, w, h, flip);
    ct_flood_polygons p;
    ct_error err = {0};
    ct_status st = ct_flood_polygons_build(r, &p, &err);
    CT_CHECK(st == CT_OK);
    if (st != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        ct_raster_destroy(r);
        return false;
    }
    long wet = 0;
    for (int i = 0; i < w * h; i++)
        wet += mask[i] != 0;
    int64_t cells = 0;
    for (int k = 0; k < p.n_polygons; k++)
        cells += p.cells[k];
    CT_CHECK_EQ_INT((long)cells, wet);
    const double *gt = r->geotransform;
    double cell_area = fabs(gt[1] * gt[5]);
    GEOSGeometry **ours = ours_geos(&p, gt);
    double area = 0;
    for (int k = 0; k < p.n_polygons; k++) {
        CT_CHECK(ours[k] && GEOSisValid_r(g_geos, ours[k]) == 1);
        double a = 0;
        GEOSArea_r(g_geos, ours[k], &a);
        CT_CHECK_NEAR(a, p.cells[k] * cell_area, 1e-6);
        area += a;
    }
    CT_CHECK_NEAR(area, wet * cell_area, 1e-6);
    if (!flip) { /* GDAL's polygonizer on the same mask */
        int ng = 0;
        GEOSGeometry **ref = gdal_geos(mask, w, h, gt, &ng);
        CT_CHECK_EQ_INT(p.n_polygons, ng);
        if (ng == p.n_polygons) {
            /* Regions are told apart by their envelopes (two disjoint
             * 4-connected regions cannot share one). */
            qsort(ours, (size_t)ng, sizeof *ours, env_cmp);
            qsort(ref, (size_t)ng, sizeof *ref, env_cmp);
            for (int k = 0; k < ng; k++)
                CT_CHECK(ref[k] && GEOSEquals_r(g_geos, ours[k], ref[k]) == 1);
        }
        /* The unions agree too (this also catches overlaps among ours). */
        GEOSGeometry **oc = malloc(((size_t)p.n_polygons + 1) * sizeof *oc);
        GEOSGeometry **rc = malloc(((size_t)ng + 1) * sizeof *rc);
        for (int k = 0; k < p.n_polygons; k++)
            oc[k] = GEOSGeom_clone_r(g_geos, ours[k]);
        int nr = 0;
        for (int k = 0; k < ng; k++)
            if (ref[k])
                rc[nr++] = GEOSGeom_clone_r(g_geos, ref[k]);
        GEOSGeometry *co = GEOSGeom_createCollection_r(g_geos, GEOS_GEOMETRYCOLLECTION, oc, (unsigned)p.n_polygons);
        GEOSGeometry *cr = GEOSGeom_createCollection_r(g_geos, GEOS_GEOMETRYCOLLECTION, rc, (unsigned)nr);
        GEOSGeometry *uo = GEOSUnaryUnion_r(g_geos, co), *ur = GEOSUnaryUnion_r(g_geos, cr);
        GEOSGeometry *sd = uo && ur ? GEOSSymDifference_r(g_geos, uo, ur) : NULL;
        double sda = -1, uoa = -1;
        if (sd)
            GEOSArea_r(g_geos, sd, &sda);
        if (uo)
            GEOSArea_r(g_geos, uo, &uoa);
        CT_CHECK_NEAR(sda, 0.0, 1e-9);
        CT_CHECK_NEAR(uoa, wet * cell_area, 1e-6);
        GEOSGeometry *all[5] = {co, cr, uo, ur, sd};
        for (int i = 0; i < 5; i++)
            if (all[i])
                GEOSGeom_destroy_r(g_geos, all[i]);
        free(oc);
        free(rc);
        for (int k = 0; k < ng; k++)
            if (ref[k])
                GEOSGeom_destroy_r(g_geos, ref[k]);
        free(ref);
    }
    for (int k = 0; k < p.n_polygons; k++)
        GEOSGeom_destroy_r(g_geos, ours[k]);
    free(ours);
    ct_flood_polygons_free(&p);
    ct_raster_destroy(r);
    bool ok = ct_test_failures == fails0;
    if (!ok) {
        fprintf(stderr, "mask %d x %d%s:\n", w, h, flip ? " (south-up)" : "");
        print_mask(mask, w, h);
    }
    return ok;
}

/* Builds our polygons of a pattern ('w' wet) for the hand-checked cases. */
static bool build_pattern(const char *const *pat, int h, ct_flood_polygons *p, uint8_t *mask)
{
    int w = (int)strlen(pat[0]);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            mask[r * w + c] = pat[r][c] == 'w';
    ct_raster *r = mask_raster(mask, w, h, false);
    ct_error err = {0};
    bool ok = ct_flood_polygons_build(r, p, &err) == CT_OK;
    ct_raster_destroy(r);
    return ok;
}

CT_TEST(test_polygons_hand_cases)
{
    setup();
    uint8_t mask[64];
    ct_flood_polygons p;
    /* A rectangle: 4 corners, collinear ones merged. */
    const char *rect[4] = {"......", ".wwww.", ".wwww.", "......"};
    CT_REQUIRE(build_pattern(rect, 4, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 1);
    CT_CHECK_EQ_INT(p.n_rings, 1);
    CT_CHECK_EQ_INT(p.ring_count[0], 4);
    CT_CHECK_EQ_INT(p.cells[0], 8);
    /* corners (1,1) (5,1) (5,3) (1,3) in some rotation */
    int64_t sx = 0, sy = 0;
    for (int i = 0; i < 4; i++) {
        sx += p.xy[2 * (p.ring_start[0] + i)];
        sy += p.xy[2 * (p.ring_start[0] + i) + 1];
    }
    CT_CHECK_EQ_INT(sx, 12);
    CT_CHECK_EQ_INT(sy, 8);
    ct_flood_polygons_free(&p);
    CT_CHECK(compare_mask(mask, 6, 4, false));
    /* The whole raster wet: the raster's outline. */
    const char *full[2] = {"www", "www"};
    CT_REQUIRE(build_pattern(full, 2, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 1);
    CT_CHECK_EQ_INT(p.ring_count[0], 4);
    CT_CHECK_EQ_INT(p.cells[0], 6);
    ct_flood_polygons_free(&p);
    /* A hole touching the exterior at one corner (the dry cells meet
     * diagonally): one polygon, exterior of 6 corners and a square hole, as
     * GDALPolygonize gives it. */
    const char *pinch[3] = {"www", "w.w", "ww."};
    CT_REQUIRE(build_pattern(pinch, 3, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 1);
    CT_CHECK_EQ_INT(p.n_rings, 2);
    CT_CHECK_EQ_INT(p.ring_count[p.ring_first[0]], 6);
    CT_CHECK_EQ_INT(p.ring_count[p.ring_first[0] + 1], 4);
    CT_CHECK_EQ_INT(p.cells[0], 7);
    ct_flood_polygons_free(&p);
    CT_CHECK(compare_mask(mask, 3, 3, false));
    /* Two regions touching at a corner: two polygons of one cell. */
    const char *diag[2] = {"w.", ".w"};
    CT_REQUIRE(build_pattern(diag, 2, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 2);
    CT_CHECK_EQ_INT(p.n_rings, 2);
    ct_flood_polygons_free(&p);
    CT_CHECK(compare_mask(mask, 2, 2, false));
    /* A ring of water around an island, the island a separate polygon. */
    const char *island[5] = {"wwwww", "w...w", "w.w.w", "w...w", "wwwww"};
    CT_REQUIRE(build_pattern(island, 5, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 2);
    CT_CHECK_EQ_INT(p.n_rings, 3);
    CT_CHECK_EQ_INT(p.cells[0] + p.cells[1], 17);
    ct_flood_polygons_free(&p);
    CT_CHECK(compare_mask(mask, 5, 5, false));
    /* Nothing wet: no polygon; one cell. */
    const char *dry[1] = {"."};
    CT_REQUIRE(build_pattern(dry, 1, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 0);
    ct_flood_polygons_free(&p);
    const char *one[1] = {"w"};
    CT_REQUIRE(build_pattern(one, 1, &p, mask));
    CT_CHECK_EQ_INT(p.n_polygons, 1);
    CT_CHECK_EQ_INT(p.ring_count[0], 4);
    ct_flood_polygons_free(&p);
}

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return (uint32_t)(g_rng >> 11);
}

/* Random masks of four kinds: noise of a given density, rectangles drawn
 * wet and dry over each other (holes, islands in holes), a checkerboard
 * with noise (diagonal pinches everywhere), and frames (rings in rings). */
static void random_mask(uint8_t *m, int w, int h, int kind)
{
    int n = w * h;
    if (kind == 0) {
        uint32_t p = 30 + rnd() % 50;
        for (int i = 0; i < n; i++)
            m[i] = rnd() % 100 < p;
    } else if (kind == 1) {
        memset(m, rnd() & 1, (size_t)n);
        int k = 1 + (int)(rnd() % 30);
        for (int j = 0; j < k; j++) {
            int x0 = (int)(rnd() % w), y0 = (int)(rnd() % h);
            int x1 = x0 + (int)(rnd() % (w - x0)) + 1, y1 = y0 + (int)(rnd() % (h - y0)) + 1;
            uint8_t v = (uint8_t)(j & 1);
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++)
                    m[y * w + x] = v;
        }
    } else if (kind == 2) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                m[y * w + x] = (uint8_t)(((x + y) & 1) ^ (rnd() % 100 < 20));
    } else {
        memset(m, 0, (size_t)n);
        for (int k = 0; 2 * k < w && 2 * k < h; k += 1 + (int)(rnd() % 2)) {
            for (int x = k; x < w - k; x++)
                m[k * w + x] = m[(h - 1 - k) * w + x] = 1;
            for (int y = k; y < h - k; y++)
                m[y * w + k] = m[y * w + w - 1 - k] = 1;
            k++;
        }
        for (int i = 0; i < n / 10; i++) /* gaps and bridges */
            m[rnd() % (uint32_t)n] ^= 1;
    }
}

CT_TEST(test_polygons_random_vs_gdal)
{
    setup();
    enum { MAXN = 130 * 130 };
    uint8_t *m = malloc(MAXN);
    int bad = 0;
    for (int t = 0; t < 128 && bad < 3; t++) {
        /* mostly small masks (many shapes quickly), every 16th one large */
        int lim = t % 16 == 15 ? 130 : 24;
        int w = 1 + (int)(rnd() % lim), h = 1 + (int)(rnd() % lim);
        random_mask(m, w, h, t % 4);
        if (!compare_mask(m, w, h, false))
            bad++;
        if (t % 16 == 5 && !compare_mask(m, w, h, true)) /* south-up geotransform: orientation still OGC */
            bad++;
    }
    free(m);
}

CT_TEST_MAIN(CT_CASE(test_polygons_hand_cases), CT_CASE(test_polygons_random_vs_gdal))
