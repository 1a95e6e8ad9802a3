/* Routing with GEOS and OGR: closures from avoid-polygons, isochrone
 * polygons (reachable edge fragments buffered and unioned), GeoPackage
 * output of routes and isochrones. */
#include "route_internal.h"

#include <gdal.h>
#include <geos_c.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void geos_msg(const char *fmt, ...)
{
    (void)fmt;
}

static GEOSContextHandle_t geos_start(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    if (h) {
        GEOSContext_setNoticeHandler_r(h, geos_msg);
        GEOSContext_setErrorHandler_r(h, geos_msg);
    }
    return h;
}

static OGRSpatialReferenceH graph_srs(const ct_route_graph *g)
{
    if (!g->crs_wkt || !*g->crs_wkt)
        return NULL;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(g->crs_wkt);
    if (srs)
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    return srs;
}

/* Transform from a layer CRS to the graph's metric CRS (NULL: identity). */
static OGRCoordinateTransformationH to_metric_ct(const ct_route_graph *g, OGRSpatialReferenceH src, bool *fail)
{
    *fail = false;
    if (!src)
        return NULL;
    OGRSpatialReferenceH dst = OSRNewSpatialReference(NULL);
    OGRErr e = g->metric_crs[0] ? OSRSetFromUserInput(dst, g->metric_crs)
                                : (g->crs_wkt && *g->crs_wkt ? OSRSetFromUserInput(dst, g->crs_wkt) : OGRERR_FAILURE);
    if (e != OGRERR_NONE) {
        OSRDestroySpatialReference(dst);
        return NULL; /* the graph has no CRS: take coordinates as they are */
    }
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReferenceH s2 = OSRClone(src);
    OSRSetAxisMappingStrategy(s2, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(s2, dst);
    OSRDestroySpatialReference(dst);
    OSRDestroySpatialReference(s2);
    *fail = ct == NULL;
    return ct;
}

static GEOSGeometry *seg_linestring(GEOSContextHandle_t h, const ct_route_graph *g, uint32_t s)
{
    uint32_t a = g->seg_first[s], n = g->seg_first[s + 1] - a;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, n, 2);
    if (!cs)
        return NULL;
    for (uint32_t i = 0; i < n; i++)
        GEOSCoordSeq_setXY_r(h, cs, i, g->vx[a + i], g->vy[a + i]);
    return GEOSGeom_createLineString_r(h, cs);
}

ct_status ct_route_closures_add_polygons(ct_route_closures *c, const char *path, size_t *n_closed, ct_error *err)
{
    const ct_route_graph *g = c->g;
    *n_closed = 0;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source GDAL can read", path);
    GEOSContextHandle_t h = geos_start();
    size_t polys = 0, before = c->count;
    ct_status st = CT_OK;
    for (int li = 0; li < GDALDatasetGetLayerCount(ds) && st == CT_OK; li++) {
        OGRLayerH lyr = GDALDatasetGetLayer(ds, li);
        bool fail;
        OGRCoordinateTransformationH ct = to_metric_ct(g, OGR_L_GetSpatialRef(lyr), &fail);
        if (fail) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s: layer '%s': cannot transform its CRS to the roads' CRS", path,
                              OGR_L_GetName(lyr));
            break;
        }
        OGRFeatureH f;
        OGR_L_ResetReading(lyr);
        while ((f = OGR_L_GetNextFeature(lyr))) {
            OGRGeometryH geom = OGR_F_GetGeometryRef(f);
            OGRwkbGeometryType t = geom ? wkbFlatten(OGR_G_GetGeometryType(geom)) : wkbUnknown;
            if (t != wkbPolygon && t != wkbMultiPolygon) {
                OGR_F_Destroy(f);
                continue;
            }
            OGRGeometryH gc = OGR_G_Clone(geom);
            if (ct && OGR_G_Transform(gc, ct) != OGRERR_NONE) {
                ct_log(CT_LOG_WARN, "%s: feature %lld: cannot transform, skipped", path, (long long)OGR_F_GetFID(f));
                OGR_G_DestroyGeometry(gc);
                OGR_F_Destroy(f);
                continue;
            }
            int sz = OGR_G_WkbSize(gc);
            unsigned char *wkb = malloc(sz > 0 ? (size_t)sz : 1);
            GEOSGeometry *poly = NULL;
            if (wkb && OGR_G_ExportToWkb(gc, wkbNDR, wkb) == OGRERR_NONE)
                poly = GEOSGeomFromWKB_buf_r(h, wkb, (size_t)sz);
            free(wkb);
            OGR_G_DestroyGeometry(gc);
            if (!poly) {
                ct_log(CT_LOG_WARN, "%s: feature %lld: bad polygon, skipped", path, (long long)OGR_F_GetFID(f));
                OGR_F_Destroy(f);
                continue;
            }
            polys++;
            double px0, py0, px1, py1;
            GEOSGeom_getXMin_r(h, poly, &px0);
            GEOSGeom_getYMin_r(h, poly, &py0);
            GEOSGeom_getXMax_r(h, poly, &px1);
            GEOSGeom_getYMax_r(h, poly, &py1);
            const GEOSPreparedGeometry *prep = GEOSPrepare_r(h, poly);
            for (size_t s = 0; s < g->n_segs && prep; s++) {
                if (c->seg_closed[s])
                    continue;
                double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
                for (uint32_t i = g->seg_first[s]; i < g->seg_first[s + 1]; i++) {
                    x0 = fmin(x0, g->vx[i]);
                    x1 = fmax(x1, g->vx[i]);
                    y0 = fmin(y0, g->vy[i]);
                    y1 = fmax(y1, g->vy[i]);
                }
                if (x1 < px0 || x0 > px1 || y1 < py0 || y0 > py1)
                    continue;
                GEOSGeometry *ls = seg_linestring(h, g, (uint32_t)s);
                if (ls && GEOSPreparedIntersects_r(h, prep, ls) == 1)
                    ct_route_closures_add_segment(c, s);
                GEOSGeom_destroy_r(h, ls);
            }
            GEOSPreparedGeom_destroy_r(h, prep);
            GEOSGeom_destroy_r(h, poly);
            OGR_F_Destroy(f);
        }
        if (ct)
            OCTDestroyCoordinateTransformation(ct);
    }
    GEOS_finish_r(h);
    GDALClose(ds);
    if (st != CT_OK)
        return st;
    if (polys == 0)
        return ct_error_set(err, CT_ERR_INPUT, "%s: no polygons", path);
    *n_closed = c->count - before;
    c->by_polygon = true;
    return CT_OK;
}

/* ---------- isochrones ---------- */
typedef struct unproject {
    ct_crs_transform *t;
} unproject;

static int unproject_xy(double *x, double *y, void *ud)
{
    unproject *u = ud;
    return ct_crs_transform_points(u->t, 1, x, y, NULL, NULL) == CT_OK;
}

static GEOSGeometry *pts_line(GEOSContextHandle_t h, const route_pts *p)
{
    if (p->n < 2)
        return NULL;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)p->n, 2);
    if (!cs)
        return NULL;
    for (size_t i = 0; i < p->n; i++)
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)i, p->xy[2 * i], p->xy[2 * i + 1]);
    return GEOSGeom_createLineString_r(h, cs);
}

ct_status ct_route_isochrones(ct_route_searcher *s, const ct_route_snap *from, size_t n_from,
                              const ct_route_closures *closures, const double *minutes, size_t n_minutes,
                              double buffer_m, ct_route_isochrone *out, ct_error *err)
{
    ct_route_isochrone_desc d = {.from = from, .n_from = n_from, .closures = closures, .minutes = minutes,
                                 .n_minutes = n_minutes, .buffer_m = buffer_m};
    return ct_route_isochrones_compute(s, &d, out, err);
}

/* Progress of limit m (of n) at fraction f of its own work, after the reach
 * times (the first 10 %). */
static void iso_progress(const ct_route_isochrone_desc *d, size_t m, double f)
{
    if (d->progress)
        d->progress(d->progress_user, 0.1 + 0.9 * ((double)m + f) / (double)d->n_minutes);
}

ct_status ct_route_isochrones_compute(ct_route_searcher *s, const ct_route_isochrone_desc *desc,
                                      ct_route_isochrone *out, ct_error *err)
{
    const ct_route_snap *from = desc->from;
    const size_t n_from = desc->n_from, n_minutes = desc->n_minutes;
    const ct_route_closures *closures = desc->closures;
    const double *minutes = desc->minutes;
    double buffer_m = desc->buffer_m;
    const ct_route_graph *g = route_searcher_graph(s);
    memset(out, 0, n_minutes * sizeof *out);
    if (buffer_m <= 0)
        buffer_m = 25;
    double *times = ct_malloc_array(g->n_nodes + 1, sizeof *times);
    if (!times)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    ct_status st = ct_route_reach_times(s, from, n_from, closures, times, err);
    if (st != CT_OK) {
        free(times);
        return st;
    }
    if (desc->progress)
        desc->progress(desc->progress_user, n_minutes ? 0.1 : 1);
    const uint8_t *closed = closures && closures->count ? closures->seg_closed : NULL;
    GEOSContextHandle_t h = geos_start();
    unproject up = {NULL};
    if (g->to_metric && (st = ct_crs_transform_create(g->metric_crs, g->crs_wkt, &up.t, err)) != CT_OK) {
        GEOS_finish_r(h);
        free(times);
        return st;
    }
    for (size_t m = 0; m < n_minutes && st == CT_OK; m++) {
        double T = minutes[m] * 60;
        out[m].minutes = minutes[m];
        size_t cap = 1024, n = 0;
        GEOSGeometry **lines = malloc(cap * sizeof *lines);
        uint8_t *seg_hit = calloc(g->n_segs + 1, 1);
        if (!lines || !seg_hit) {
            free(lines);
            free(seg_hit);
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            break;
        }
        /* fragments: [tail side of every edge whose tail is reached; the start segments from the snap points] */
        size_t n_extra = 0;
        for (size_t f = 0; f < n_from; f++)
            n_extra += g->seg_edge_off[from[f].segment + 1] - g->seg_edge_off[from[f].segment];
        for (size_t k = 0; k < g->n_edges + n_extra && st == CT_OK; k++) {
            if (k > 0 && (k & 0x3fff) == 0)
                iso_progress(desc, m, 0.2 * (double)k / (double)(g->n_edges + n_extra));
            uint32_t e, seg;
            double t0, t1;
            if (k < g->n_edges) {
                e = (uint32_t)k;
                seg = g->e_seg[e];
                double d = times[g->e_tail[e]];
                if (!(d < T) || (closed && closed[seg]))
                    continue;
                double frac = g->e_cost[e] > 0 ? fmin(1, (T - d) / g->e_cost[e]) : 1;
                t0 = g->e_rev[e] ? 1 : 0;
                t1 = g->e_rev[e] ? 1 - frac : frac;
            } else {
                size_t r = k - g->n_edges, f = 0;
                while (r >= g->seg_edge_off[from[f].segment + 1] - g->seg_edge_off[from[f].segment]) {
                    r -= g->seg_edge_off[from[f].segment + 1] - g->seg_edge_off[from[f].segment];
                    f++;
                }
                seg = from[f].segment;
                e = g->seg_edge[g->seg_edge_off[seg] + r];
                if (closed && closed[seg])
                    continue;
                double span = g->e_cost[e] > 0 ? T / g->e_cost[e] : 1;
                t0 = from[f].t;
                t1 = g->e_rev[e] ? fmax(0, t0 - span) : fmin(1, t0 + span);
            }
            route_pts p = {0};
            route_seg_part(g, seg, t0, t1, true, &p);
            if (p.n == 1)
                route_pts_add(&p, p.xy[0] + 1e-3, p.xy[1]);
            GEOSGeometry *ls = pts_line(h, &p);
            free(p.xy);
            if (!ls)
                continue;
            if (!seg_hit[seg]) {
                seg_hit[seg] = 1;
                out[m].segments_reached++;
            }
            if (n == cap) {
                GEOSGeometry **nl = realloc(lines, cap * 2 * sizeof *nl);
                if (!nl) {
                    GEOSGeom_destroy_r(h, ls);
                    st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                    break;
                }
                lines = nl;
                cap *= 2;
            }
            lines[n++] = ls;
        }
        free(seg_hit);
        if (st != CT_OK || n == 0) {
            for (size_t i = 0; i < n; i++)
                GEOSGeom_destroy_r(h, lines[i]);
            free(lines);
            iso_progress(desc, m, 1);
            continue;
        }
        iso_progress(desc, m, 0.2);
        /* buffering each (simplified) fragment, then one cascaded union, is
         * several times faster than buffering the multi-line at once */
        size_t buf_step = n / 20 + 1;
        for (size_t i = 0; i < n; i++) {
            if (i % buf_step == buf_step - 1)
                iso_progress(desc, m, 0.2 + 0.5 * (double)i / (double)n);
            GEOSGeometry *simple = GEOSSimplify_r(h, lines[i], buffer_m * 0.05);
            GEOSGeometry *b = GEOSBuffer_r(h, simple ? simple : lines[i], buffer_m, 4);
            GEOSGeom_destroy_r(h, simple);
            GEOSGeom_destroy_r(h, lines[i]);
            lines[i] = b ? b : GEOSGeom_createEmptyPolygon_r(h);
        }
        iso_progress(desc, m, 0.7);
        GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, lines, (unsigned)n);
        free(lines);
        GEOSGeometry *poly = coll ? GEOSUnaryUnion_r(h, coll) : NULL;
        GEOSGeom_destroy_r(h, coll);
        iso_progress(desc, m, 0.95);
        if (!poly) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "GEOS buffer failed for the %g-minute isochrone", minutes[m]);
            break;
        }
        GEOSArea_r(h, poly, &out[m].area_m2);
        if (up.t) {
            GEOSGeometry *p2 = GEOSGeom_transformXY_r(h, poly, unproject_xy, &up);
            GEOSGeom_destroy_r(h, poly);
            poly = p2;
            if (!poly) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "cannot transform the isochrone back to the roads' CRS");
                break;
            }
        }
        GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
        size_t sz = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(h, w, poly, &sz);
        GEOSWKBWriter_destroy_r(h, w);
        GEOSGeom_destroy_r(h, poly);
        if (wkb) {
            out[m].wkb = malloc(sz);
            if (out[m].wkb) {
                memcpy(out[m].wkb, wkb, sz);
                out[m].wkb_size = sz;
            }
            GEOSFree_r(h, wkb);
        }
        iso_progress(desc, m, 1);
    }
    ct_crs_transform_destroy(up.t);
    GEOS_finish_r(h);
    free(times);
    return st;
}

void ct_route_isochrone_free(ct_route_isochrone *iso)
{
    if (!iso)
        return;
    free(iso->wkb);
    iso->wkb = NULL;
    iso->wkb_size = 0;
}

/* ---------- GeoPackage output ---------- */
static ct_status create_layer(const ct_route_graph *g, const char *path, const char *name, OGRwkbGeometryType type,
                              GDALDatasetH *ds_out, OGRLayerH *lyr_out, ct_error *err)
{
    GDALAllRegister();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    if (!drv)
        return ct_error_set(err, CT_ERR_RUNTIME, "GDAL has no GPKG driver");
    VSIUnlink(path);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create: %s", path, CPLGetLastErrorMsg());
    OGRSpatialReferenceH srs = graph_srs(g);
    OGRLayerH lyr = GDALDatasetCreateLayer(ds, name, srs, type, NULL);
    if (srs)
        OSRDestroySpatialReference(srs);
    if (!lyr) {
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create layer '%s'", path, name);
    }
    *ds_out = ds;
    *lyr_out = lyr;
    return CT_OK;
}

static void add_field(OGRLayerH lyr, const char *name, OGRFieldType t)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
}

ct_status ct_route_write_routes(const ct_route_graph *g, const char *path, const ct_route_out_row *rows, size_t n,
                                ct_error *err)
{
    GDALDatasetH ds;
    OGRLayerH lyr;
    ct_status st = create_layer(g, path, "routes", wkbLineString, &ds, &lyr, err);
    if (st != CT_OK)
        return st;
    static const char *const ints[] = {"query", "rank", "from_index", "to_index", "reachable"};
    static const char *const reals[] = {"from_x", "from_y", "to_x", "to_y", "cost_s", "length_m", "snap_from_m",
                                        "snap_to_m"};
    for (int i = 0; i < 5; i++)
        add_field(lyr, ints[i], OFTInteger);
    for (int i = 0; i < 8; i++)
        add_field(lyr, reals[i], OFTReal);
    bool tx = OGR_L_StartTransaction(lyr) == OGRERR_NONE;
    for (size_t r = 0; r < n && st == CT_OK; r++) {
        const ct_route_out_row *R = &rows[r];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        int iv[5] = {R->query, R->rank, R->from_index, R->to_index, R->reachable};
        double dv[8] = {R->from_x, R->from_y, R->to_x, R->to_y, R->cost_s, R->length_m, R->snap_from_m, R->snap_to_m};
        for (int i = 0; i < 5; i++)
            OGR_F_SetFieldInteger(f, i, iv[i]);
        for (int i = 0; i < 8; i++)
            if (isfinite(dv[i]))
                OGR_F_SetFieldDouble(f, 5 + i, dv[i]);
        if (R->xy && R->n_points >= 2) {
            OGRGeometryH ls = OGR_G_CreateGeometry(wkbLineString);
            for (size_t i = 0; i < R->n_points; i++)
                OGR_G_AddPoint_2D(ls, R->xy[2 * i], R->xy[2 * i + 1]);
            OGR_F_SetGeometryDirectly(f, ls);
        }
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write route %zu", path, r);
        OGR_F_Destroy(f);
    }
    if (tx && OGR_L_CommitTransaction(lyr) != OGRERR_NONE && st == CT_OK)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot commit", path);
    GDALClose(ds);
    return st;
}

ct_status ct_route_write_isochrones(const ct_route_graph *g, const char *path, const ct_route_isochrone *iso,
                                    size_t n, ct_error *err)
{
    GDALDatasetH ds;
    OGRLayerH lyr;
    ct_status st = create_layer(g, path, "isochrones", wkbMultiPolygon, &ds, &lyr, err);
    if (st != CT_OK)
        return st;
    add_field(lyr, "minutes", OFTReal);
    add_field(lyr, "area_m2", OFTReal);
    add_field(lyr, "segments", OFTInteger);
    for (size_t i = 0; i < n && st == CT_OK; i++) {
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
        OGR_F_SetFieldDouble(f, 0, iso[i].minutes);
        OGR_F_SetFieldDouble(f, 1, iso[i].area_m2);
        OGR_F_SetFieldInteger(f, 2, (int)iso[i].segments_reached);
        if (iso[i].wkb) {
            OGRGeometryH geom = NULL;
            if (OGR_G_CreateFromWkb(iso[i].wkb, NULL, &geom, (int)iso[i].wkb_size) == OGRERR_NONE && geom) {
                OGRGeometryH mp = OGR_G_ForceToMultiPolygon(geom);
                OGR_F_SetGeometryDirectly(f, mp);
            }
        }
        if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write isochrone %zu", path, i);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return st;
}
