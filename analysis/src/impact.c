/* Impact radius: layers loaded from OGR into GEOS geometries with an STRtree,
 * queried with exact distances from a prepared incident geometry. */
#define _GNU_SOURCE /* qsort_r */
#include "citytwin/ct_impact.h"
#include "citytwin/ct_geo.h"
#include "impact_flat.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <geos_c.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_impact_layer {
    char *name;
    GEOSContextHandle_t geos;
    GEOSSTRtree *tree;
    size_t n, cap, skipped;
    GEOSGeometry **geoms;
    unsigned char *dims;     /* 0 point, 1 line, 2 polygon */
    int64_t *ids;
    char **sids;             /* string ids, or NULL when numeric */
    double *occupants;       /* polygons; 0 otherwise */
    int *utility;            /* index into utilities, -1 = none */
    char **utilities;
    size_t utility_count;
    OGRFeatureH *features;   /* attributes (no geometry), or NULL */
    ct_impact_flat flat;     /* coordinates for point-incident distances */
};

static void geos_msg(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ct_log(CT_LOG_DEBUG, "GEOS: %s", buf);
}

static GEOSContextHandle_t geos_new(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    if (h) {
        GEOSContext_setNoticeHandler_r(h, geos_msg);
        GEOSContext_setErrorHandler_r(h, geos_msg);
    }
    return h;
}

/* Opens "FILE" or "FILE:layer" (the part after the last colon names a layer
 * when the whole string does not open). */
static GDALDatasetH open_source(const char *source, OGRLayerH *layer, ct_error *err)
{
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(source, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    const char *lname = NULL;
    if (!ds) {
        const char *colon = strrchr(source, ':');
        if (colon && colon != source && colon[1]) {
            char *file = ct_strdup(source);
            file[colon - source] = 0;
            ds = GDALOpenEx(file, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
            free(file);
            lname = colon + 1;
        }
    }
    CPLPopErrorHandler();
    if (!ds) {
        ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source OGR can open", source);
        return NULL;
    }
    *layer = lname ? GDALDatasetGetLayerByName(ds, lname) : GDALDatasetGetLayer(ds, 0);
    if (!*layer) {
        if (lname)
            ct_error_set(err, CT_ERR_INPUT, "%s: no layer named '%s'", source, lname);
        else
            ct_error_set(err, CT_ERR_INPUT, "%s: has no layers", source);
        GDALClose(ds);
        return NULL;
    }
    return ds;
}

static char *srs_wkt(OGRSpatialReferenceH srs)
{
    char *w = NULL;
    if (!srs || OSRExportToWkt(srs, &w) != OGRERR_NONE) {
        CPLFree(w);
        return ct_strdup("");
    }
    char *r = ct_strdup(w);
    CPLFree(w);
    return r;
}

ct_status ct_impact_source_crs(const char *source, char **wkt, ct_error *err)
{
    *wkt = NULL;
    OGRLayerH l = NULL;
    GDALDatasetH ds = open_source(source, &l, err);
    if (!ds)
        return CT_ERR_INPUT;
    *wkt = srs_wkt(OGR_L_GetSpatialRef(l));
    GDALClose(ds);
    return CT_OK;
}

void ct_impact_utm_for(double lon, double lat, char out[16])
{
    int zone = (int)floor((lon + 180.0) / 6.0) + 1;
    if (zone < 1)
        zone = 1;
    if (zone > 60)
        zone = 60;
    snprintf(out, 16, "EPSG:%d", (lat >= 0 ? 32600 : 32700) + zone);
}

/* A value from a field, or from OSM's other_tags ("key"=>"value",...). */
static const char *feature_value(OGRFeatureH f, OGRFeatureDefnH d, const char *key, char *buf, size_t bufsz)
{
    int i = OGR_FD_GetFieldIndex(d, key);
    if (i >= 0)
        return OGR_F_IsFieldSetAndNotNull(f, i) ? OGR_F_GetFieldAsString(f, i) : NULL;
    i = OGR_FD_GetFieldIndex(d, "other_tags");
    if (i < 0 || !OGR_F_IsFieldSetAndNotNull(f, i))
        return NULL;
    const char *tags = OGR_F_GetFieldAsString(f, i);
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\"=>\"", key);
    const char *p = strstr(tags, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    size_t k = 0;
    while (p[k] && p[k] != '"' && k + 1 < bufsz) {
        buf[k] = p[k];
        k++;
    }
    buf[k] = 0;
    return buf;
}

/* Floors from levels fields, else height / 3 m, else 1. */
static double feature_floors(OGRFeatureH f, OGRFeatureDefnH d)
{
    static const char *const lv[] = {"building:levels", "building_levels", "levels", "floors", "storeys"};
    char buf[64];
    for (size_t k = 0; k < sizeof lv / sizeof lv[0]; k++) {
        const char *v = feature_value(f, d, lv[k], buf, sizeof buf);
        double n = v ? atof(v) : 0;
        if (n >= 1 && n < 500)
            return floor(n);
    }
    const char *h = feature_value(f, d, "height", buf, sizeof buf);
    double m = h ? atof(h) : 0;
    if (m > 0 && m < 2000)
        return fmax(1.0, floor(m / 3.0 + 0.5));
    return 1;
}

static const char *feature_use(OGRFeatureH f, OGRFeatureDefnH d, char *buf, size_t bufsz)
{
    static const char *const keys[] = {"building:use", "use", "usage", "building", "amenity", "type"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *v = feature_value(f, d, keys[k], buf, bufsz);
        if (v && *v && strcmp(v, "yes") != 0)
            return v;
    }
    return NULL;
}

static int utility_index(ct_impact_layer *l, const char *v)
{
    for (size_t i = 0; i < l->utility_count; i++)
        if (!strcmp(l->utilities[i], v))
            return (int)i;
    char **nu = realloc(l->utilities, (l->utility_count + 1) * sizeof *nu);
    if (!nu)
        return -1;
    l->utilities = nu;
    l->utilities[l->utility_count] = ct_strdup(v);
    return (int)l->utility_count++;
}

static bool layer_grow(ct_impact_layer *l)
{
    if (l->n < l->cap)
        return true;
    size_t nc = l->cap ? l->cap * 2 : 1024;
#define GROW(field)                                                      \
    do {                                                                 \
        void *p = realloc(l->field, nc * sizeof *l->field);              \
        if (!p)                                                          \
            return false;                                                \
        l->field = p;                                                    \
    } while (0)
    GROW(geoms);
    GROW(dims);
    GROW(ids);
    GROW(occupants);
    GROW(utility);
    if (l->sids)
        GROW(sids);
    if (l->features)
        GROW(features);
#undef GROW
    l->cap = nc;
    return true;
}

static int transform_cb(double *x, double *y, void *ud)
{
    return ct_crs_transform_points((ct_crs_transform *)ud, 1, x, y, NULL, NULL) == CT_OK;
}

static void noop_cb(void *item, void *ud) { (void)item, (void)ud; }

ct_status ct_impact_layer_load(const ct_impact_layer_desc *desc, ct_impact_layer **out, ct_error *err)
{
    *out = NULL;
    if (!desc || !desc->source || !desc->name)
        return ct_error_set(err, CT_ERR_USAGE, "impact layer: name and source are required");
    OGRLayerH ol = NULL;
    GDALDatasetH ds = open_source(desc->source, &ol, err);
    if (!ds)
        return CT_ERR_INPUT;
    ct_status st = CT_OK;
    ct_crs_transform *tr = NULL;
    ct_impact_layer *l = calloc(1, sizeof *l);
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(ol);
    int id_idx = -1, util_idx = -1;
    if (!l) {
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    l->name = ct_strdup(desc->name);
    l->geos = geos_new();
    if (desc->id_field && *desc->id_field) {
        id_idx = OGR_FD_GetFieldIndex(defn, desc->id_field);
        if (id_idx < 0) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s: no field '%s' for ids", desc->source, desc->id_field);
            goto done;
        }
        OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, id_idx));
        if (t != OFTInteger && t != OFTInteger64)
            l->sids = malloc(1);
    }
    util_idx = OGR_FD_GetFieldIndex(defn, desc->utility_field && *desc->utility_field ? desc->utility_field : "utility");
    if (util_idx < 0 && !(desc->utility_field && *desc->utility_field))
        util_idx = OGR_FD_GetFieldIndex(defn, "type");
    if (!desc->drop_attributes)
        l->features = malloc(1);
    if (desc->target_crs && *desc->target_crs) {
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(ol);
        if (!srs) {
            ct_log(CT_LOG_WARN, "%s: layer has no CRS; taken as %s", desc->source, desc->target_crs);
        } else {
            OGRSpatialReferenceH tgt = OSRNewSpatialReference(NULL);
            bool same = false;
            if (OSRSetFromUserInput(tgt, desc->target_crs) == OGRERR_NONE)
                same = OSRIsSame(srs, tgt);
            OSRDestroySpatialReference(tgt);
            if (!same) {
                char *wkt = srs_wkt(srs);
                ct_error e2 = {0};
                if (ct_crs_transform_create(wkt, desc->target_crs, &tr, &e2) != CT_OK)
                    st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot reproject to %s: %s", desc->source,
                                      desc->target_crs, e2.msg);
                free(wkt);
                if (st != CT_OK)
                    goto done;
            }
        }
    }
    if (desc->where && *desc->where && OGR_L_SetAttributeFilter(ol, desc->where) != OGRERR_NONE) {
        st = ct_error_set(err, CT_ERR_USAGE, "%s: bad attribute filter '%s': %s", desc->source, desc->where,
                          CPLGetLastErrorMsg());
        goto done;
    }
    int building_idx = OGR_FD_GetFieldIndex(defn, "building");
    GEOSWKBReader *rd = GEOSWKBReader_create_r(l->geos);
    /* OGR complains per feature (unclosed OSM rings...): those features are counted, not printed. */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    OGR_L_ResetReading(ol);
    OGRFeatureH f;
    size_t wkb_cap = 0;
    unsigned char *wkb = NULL;
    while ((f = OGR_L_GetNextFeature(ol)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGRGeometryH lin = NULL;
        GEOSGeometry *gg = NULL;
        if (g && OGR_G_HasCurveGeometry(g, TRUE))
            g = lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        if (g && !OGR_G_IsEmpty(g)) {
            size_t sz = (size_t)OGR_G_WkbSize(g);
            if (sz > wkb_cap) {
                unsigned char *nw = realloc(wkb, sz);
                if (nw) {
                    wkb = nw;
                    wkb_cap = sz;
                }
            }
            if (sz <= wkb_cap && OGR_G_ExportToIsoWkb(g, wkbNDR, wkb) == OGRERR_NONE)
                gg = GEOSWKBReader_read_r(l->geos, rd, wkb, sz);
        }
        if (lin)
            OGR_G_DestroyGeometry(lin);
        if (gg && tr) {
            GEOSGeometry *t = GEOSGeom_transformXY_r(l->geos, gg, transform_cb, tr);
            GEOSGeom_destroy_r(l->geos, gg);
            gg = t;
        }
        if (!gg || GEOSisEmpty_r(l->geos, gg) != 0 || !layer_grow(l)) {
            if (gg)
                GEOSGeom_destroy_r(l->geos, gg);
            l->skipped++;
            OGR_F_Destroy(f);
            continue;
        }
        if (!ct_impact_flat_add(&l->flat, l->geos, gg)) {
            GEOSGeom_destroy_r(l->geos, gg);
            OGR_F_Destroy(f);
            CPLPopErrorHandler();
            free(wkb);
            GEOSWKBReader_destroy_r(l->geos, rd);
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", desc->source);
            goto done;
        }
        size_t i = l->n;
        l->geoms[i] = gg;
        int dim = GEOSGeom_getDimensions_r(l->geos, gg);
        l->dims[i] = (unsigned char)(dim < 0 ? 0 : dim > 2 ? 2 : dim);
        l->ids[i] = id_idx >= 0 && !l->sids ? OGR_F_GetFieldAsInteger64(f, id_idx) : OGR_F_GetFID(f);
        if (l->sids)
            l->sids[i] = ct_strdup(OGR_F_IsFieldSetAndNotNull(f, id_idx) ? OGR_F_GetFieldAsString(f, id_idx) : "");
        l->occupants[i] = 0;
        /* A polygon layer with a "building" field (OSM) mixes in land use, boundaries...: only buildings hold people. */
        bool building = building_idx < 0 || OGR_F_IsFieldSetAndNotNull(f, building_idx);
        if (l->dims[i] == 2 && building) {
            double area = 0;
            char buf[128];
            GEOSArea_r(l->geos, gg, &area);
            l->occupants[i] = area * feature_floors(f, defn) / ct_impact_m2_per_person(feature_use(f, defn, buf, sizeof buf));
        }
        l->utility[i] = -1;
        if (l->dims[i] == 1 && util_idx >= 0 && OGR_F_IsFieldSetAndNotNull(f, util_idx))
            l->utility[i] = utility_index(l, OGR_F_GetFieldAsString(f, util_idx));
        if (l->features) {
            OGR_F_SetGeometryDirectly(f, NULL);
            l->features[i] = f;
        } else {
            OGR_F_Destroy(f);
        }
        l->n++;
    }
    CPLPopErrorHandler();
    free(wkb);
    GEOSWKBReader_destroy_r(l->geos, rd);
    if (l->skipped)
        ct_log(CT_LOG_INFO, "%s: %zu features skipped (no geometry or not reprojectable)", desc->source, l->skipped);
    l->tree = GEOSSTRtree_create_r(l->geos, 10);
    for (size_t i = 0; i < l->n; i++)
        GEOSSTRtree_insert_r(l->geos, l->tree, l->geoms[i], (void *)(uintptr_t)(i + 1));
    if (l->n) {
        /* The tree is built on the first query; do it now so later queries only read it. */
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(l->geos, 0, 0);
        GEOSSTRtree_query_r(l->geos, l->tree, pt, noop_cb, NULL);
        GEOSGeom_destroy_r(l->geos, pt);
    }
done:
    ct_crs_transform_destroy(tr);
    GDALClose(ds);
    if (st != CT_OK) {
        ct_impact_layer_destroy(l);
        return st;
    }
    *out = l;
    return CT_OK;
}

void ct_impact_layer_destroy(ct_impact_layer *l)
{
    if (!l)
        return;
    if (l->tree)
        GEOSSTRtree_destroy_r(l->geos, l->tree);
    for (size_t i = 0; i < l->n; i++) {
        GEOSGeom_destroy_r(l->geos, l->geoms[i]);
        if (l->sids)
            free(l->sids[i]);
        if (l->features)
            OGR_F_Destroy(l->features[i]);
    }
    for (size_t i = 0; i < l->utility_count; i++)
        free(l->utilities[i]);
    free(l->utilities);
    free(l->geoms);
    free(l->dims);
    free(l->ids);
    free(l->sids);
    free(l->occupants);
    free(l->utility);
    free(l->features);
    ct_impact_flat_free(&l->flat);
    free(l->name);
    if (l->geos)
        GEOS_finish_r(l->geos);
    free(l);
}

size_t ct_impact_layer_size(const ct_impact_layer *l) { return l ? l->n : 0; }
size_t ct_impact_layer_skipped(const ct_impact_layer *l) { return l ? l->skipped : 0; }
const char *ct_impact_layer_name(const ct_impact_layer *l) { return l->name; }
bool ct_impact_layer_ids_numeric(const ct_impact_layer *l) { return l->sids == NULL; }
int64_t ct_impact_layer_id_number(const ct_impact_layer *l, size_t i) { return l->ids[i]; }
const char *ct_impact_layer_id_string(const ct_impact_layer *l, size_t i) { return l->sids ? l->sids[i] : NULL; }
size_t ct_impact_layer_utility_count(const ct_impact_layer *l) { return l->utility_count; }
const char *ct_impact_layer_utility(const ct_impact_layer *l, size_t i) { return l->utilities[i]; }

/* Internal accessors for impact_write.c */
OGRFeatureH ct_impact__feature(const ct_impact_layer *l, size_t i);
const GEOSGeometry *ct_impact__geometry(const ct_impact_layer *l, size_t i);
double ct_impact__occupants(const ct_impact_layer *l, size_t i);
OGRFeatureH ct_impact__feature(const ct_impact_layer *l, size_t i) { return l->features ? l->features[i] : NULL; }
const GEOSGeometry *ct_impact__geometry(const ct_impact_layer *l, size_t i) { return l->geoms[i]; }
double ct_impact__occupants(const ct_impact_layer *l, size_t i) { return l->occupants[i]; }

/* ---- queries ---- */

typedef struct cand_vec {
    size_t n, cap;
    size_t *v;
    bool oom;
} cand_vec;

static void collect_cb(void *item, void *ud)
{
    cand_vec *c = ud;
    if (c->n == c->cap && !ct_array_grow(&c->v, &c->cap, c->n + 1, sizeof *c->v)) {
        c->oom = true;
        return;
    }
    c->v[c->n++] = (size_t)(uintptr_t)item - 1;
}

/* Length of the parts of a line geometry within r of the point (cx, cy): each
 * segment clipped to the circle analytically (exact, no polygonized buffer). */
static double clip_length_point(GEOSContextHandle_t h, const GEOSGeometry *g, double cx, double cy, double r)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
        double s = 0;
        int n = GEOSGetNumGeometries_r(h, g);
        for (int i = 0; i < n; i++)
            s += clip_length_point(h, GEOSGetGeometryN_r(h, g, i), cx, cy, r);
        return s;
    }
    if (type != GEOS_LINESTRING && type != GEOS_LINEARRING)
        return 0;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, g);
    unsigned int n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n) || n < 2)
        return 0;
    double len = 0, x0, y0, x1, y1;
    GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
    for (unsigned int i = 1; i < n; i++, x0 = x1, y0 = y1) {
        GEOSCoordSeq_getXY_r(h, cs, i, &x1, &y1);
        double dx = x1 - x0, dy = y1 - y0, fx = x0 - cx, fy = y0 - cy;
        double a = dx * dx + dy * dy, b = 2 * (fx * dx + fy * dy), c = fx * fx + fy * fy - r * r;
        double disc = b * b - 4 * a * c;
        if (a <= 0 || disc <= 0)
            continue;
        double sq = sqrt(disc), t0 = (-b - sq) / (2 * a), t1 = (-b + sq) / (2 * a);
        double lo = t0 > 0 ? t0 : 0, hi = t1 < 1 ? t1 : 1;
        if (hi > lo)
            len += sqrt(a) * (hi - lo);
    }
    return len;
}

static int hit_cmp_r(const void *a, const void *b, void *ud)
{
    const ct_impact_layer *l = ud;
    const ct_impact_hit *x = a, *y = b;
    if (l->sids) {
        int c = strcmp(l->sids[x->feature], l->sids[y->feature]);
        if (c)
            return c;
    } else if (l->ids[x->feature] != l->ids[y->feature]) {
        return l->ids[x->feature] < l->ids[y->feature] ? -1 : 1;
    }
    return x->feature < y->feature ? -1 : x->feature > y->feature;
}

ct_status ct_impact_run(ct_impact_layer *const *layers, size_t n, const ct_impact_query *q, ct_impact_result **out,
                        ct_error *err)
{
    *out = NULL;
    if (!q || !q->radii || q->radius_count == 0)
        return ct_error_set(err, CT_ERR_USAGE, "impact: at least one radius is needed");
    for (size_t i = 0; i < q->radius_count; i++)
        if (!(q->radii[i] > 0) || !isfinite(q->radii[i]) || (i > 0 && q->radii[i] <= q->radii[i - 1]))
            return ct_error_set(err, CT_ERR_USAGE, "impact: radii must be > 0 and increasing (radius %zu = %g)", i,
                                q->radii[i]);
    GEOSContextHandle_t h = geos_new();
    if (!h)
        return ct_error_set(err, CT_ERR_RUNTIME, "GEOS: cannot create a context");
    GEOSGeometry *inc = NULL;
    bool is_point = false;
    double px = q->x, py = q->y;
    if (q->wkt) {
        GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
        inc = GEOSWKTReader_read_r(h, rd, q->wkt);
        GEOSWKTReader_destroy_r(h, rd);
        if (!inc || GEOSisEmpty_r(h, inc) != 0) {
            if (inc)
                GEOSGeom_destroy_r(h, inc);
            GEOS_finish_r(h);
            return ct_error_set(err, CT_ERR_USAGE, "impact: invalid or empty incident WKT '%.60s'", q->wkt);
        }
        if (GEOSGeomTypeId_r(h, inc) == GEOS_POINT) {
            is_point = true;
            GEOSGeomGetX_r(h, inc, &px);
            GEOSGeomGetY_r(h, inc, &py);
        }
    } else {
        if (!isfinite(q->x) || !isfinite(q->y)) {
            GEOS_finish_r(h);
            return ct_error_set(err, CT_ERR_USAGE, "impact: incident coordinates must be finite");
        }
        inc = GEOSGeom_createPointFromXY_r(h, q->x, q->y);
        is_point = true;
    }
    size_t nr = q->radius_count;
    double rmax = q->radii[nr - 1];
    const GEOSPreparedGeometry *prep = GEOSPrepare_r(h, inc);
    double xmin, ymin, xmax, ymax;
    GEOSGeom_getXMin_r(h, inc, &xmin);
    GEOSGeom_getYMin_r(h, inc, &ymin);
    GEOSGeom_getXMax_r(h, inc, &xmax);
    GEOSGeom_getYMax_r(h, inc, &ymax);
    GEOSGeometry *env = GEOSGeom_createRectangle_r(h, xmin - rmax, ymin - rmax, xmax + rmax, ymax + rmax);
    GEOSGeometry **discs = NULL; /* ring discs for line lengths around non-point incidents */

    ct_status st = CT_OK;
    ct_impact_result *r = calloc(1, sizeof *r);
    if (r) {
        r->ring_count = nr;
        r->radii = ct_malloc_array(nr, sizeof(double));
        r->layer_count = n;
        r->layers = ct_calloc_array(n ? n : 1, sizeof *r->layers);
        GEOSWKTWriter *w = GEOSWKTWriter_create_r(h);
        GEOSWKTWriter_setRoundingPrecision_r(h, w, 3);
        GEOSWKTWriter_setTrim_r(h, w, 1);
        char *wkt = GEOSWKTWriter_write_r(h, w, inc);
        r->incident_wkt = ct_strdup(wkt ? wkt : "");
        GEOSFree_r(h, wkt);
        GEOSWKTWriter_destroy_r(h, w);
    }
    if (!r || !r->radii || !r->layers || !prep || !env) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "impact: out of memory");
        goto done;
    }
    memcpy(r->radii, q->radii, nr * sizeof(double));
    cand_vec cand = {0};
    for (size_t li = 0; li < n && st == CT_OK; li++) {
        const ct_impact_layer *l = layers[li];
        ct_impact_layer_result *lr = &r->layers[li];
        lr->layer = l;
        lr->rings = ct_calloc_array(nr, sizeof *lr->rings);
        if (!lr->rings) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "impact: out of memory");
            break;
        }
        for (size_t k = 0; k < nr; k++) {
            lr->rings[k].utility_count = l->utility_count;
            if (l->utility_count) {
                lr->rings[k].utility_length_m = ct_calloc_array(l->utility_count, sizeof(double));
                if (!lr->rings[k].utility_length_m) {
                    st = ct_error_set(err, CT_ERR_RUNTIME, "impact: out of memory");
                    break;
                }
            }
        }
        cand.n = 0;
        if (l->n && l->tree)
            GEOSSTRtree_query_r(h, l->tree, env, collect_cb, &cand);
        if (cand.oom) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "impact: out of memory");
            break;
        }
        lr->hits = ct_malloc_array(cand.n ? cand.n : 1, sizeof *lr->hits);
        if (!lr->hits) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "impact: out of memory");
            break;
        }
        for (size_t c = 0; c < cand.n; c++) {
            if (q->progress && (c & 1023) == 0)
                q->progress(q->progress_user, (li + (double)c / (double)cand.n) / (double)n);
            size_t fi = cand.v[c];
            double d;
            /* A point incident: plain GEOS distance (point-in-polygon + facets) is
             * cheaper than the prepared one, which indexes each candidate's facets. */
            d = is_point ? ct_impact_flat_distance(&l->flat, fi, px, py) : -1;
            if (d < 0 &&
                !(is_point ? GEOSDistance_r(h, inc, l->geoms[fi], &d) : GEOSPreparedDistance_r(h, prep, l->geoms[fi], &d)))
                continue;
            /* GEOS 3.11's prepared distance from a line or polygon measures between
             * facets only: a polygon holding the whole incident comes out at its
             * boundary distance instead of 0 (found against SpatiaLite). */
            if (!is_point && d > 0 && l->dims[fi] == 2 && GEOSPreparedIntersects_r(h, prep, l->geoms[fi]) == 1)
                d = 0;
            if (!(d <= rmax))
                continue;
            int ring = 0;
            while (d > q->radii[ring])
                ring++;
            lr->hits[lr->hit_count++] = (ct_impact_hit){fi, d, ring};
            unsigned char dim = l->dims[fi];
            lr->has_polygons |= dim == 2;
            lr->has_lines |= dim == 1;
            for (size_t k = (size_t)ring; k < nr; k++) {
                ct_impact_ring_stats *rs = &lr->rings[k];
                rs->count++;
                rs->occupants += l->occupants[fi];
                if (dim != 1)
                    continue;
                double len;
                if (is_point) {
                    len = clip_length_point(h, l->geoms[fi], px, py, q->radii[k]);
                } else {
                    if (!discs) {
                        discs = ct_calloc_array(nr, sizeof *discs);
                        for (size_t j = 0; discs && j < nr; j++)
                            discs[j] = GEOSBuffer_r(h, inc, q->radii[j], 32);
                    }
                    len = 0;
                    GEOSGeometry *x = discs && discs[k] ? GEOSIntersection_r(h, discs[k], l->geoms[fi]) : NULL;
                    if (x) {
                        GEOSLength_r(h, x, &len);
                        GEOSGeom_destroy_r(h, x);
                    }
                }
                rs->length_m += len;
                if (l->utility[fi] >= 0)
                    rs->utility_length_m[l->utility[fi]] += len;
            }
        }
        qsort_r(lr->hits, lr->hit_count, sizeof *lr->hits, hit_cmp_r, (void *)l);
    }
    free(cand.v);
done:
    if (discs) {
        for (size_t j = 0; j < nr; j++)
            if (discs[j])
                GEOSGeom_destroy_r(h, discs[j]);
        free(discs);
    }
    if (env)
        GEOSGeom_destroy_r(h, env);
    if (prep)
        GEOSPreparedGeom_destroy_r(h, prep);
    GEOSGeom_destroy_r(h, inc);
    GEOS_finish_r(h);
    if (st != CT_OK) {
        ct_impact_result_destroy(r);
        return st;
    }
    *out = r;
    return CT_OK;
}

void ct_impact_result_destroy(ct_impact_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->layers && i < r->layer_count; i++) {
        ct_impact_layer_result *lr = &r->layers[i];
        free(lr->hits);
        for (size_t k = 0; lr->rings && k < r->ring_count; k++)
            free(lr->rings[k].utility_length_m);
        free(lr->rings);
    }
    free(r->layers);
    free(r->radii);
    free(r->incident_wkt);
    free(r);
}

const char *ct_impact_layer_feature_string(const ct_impact_layer *l, size_t feature, const char *field)
{
    if (!l || !l->features || feature >= l->n || !l->features[feature] || !field)
        return NULL;
    OGRFeatureH f = l->features[feature];
    int k = OGR_F_GetFieldIndex(f, field);
    if (k < 0 || !OGR_F_IsFieldSetAndNotNull(f, k))
        return NULL;
    const char *v = OGR_F_GetFieldAsString(f, k);
    return v && *v ? v : NULL;
}

char *ct_impact_layer_feature_wkt(const ct_impact_layer *l, size_t feature)
{
    if (!l || feature >= l->n)
        return NULL;
    GEOSWKTWriter *w = GEOSWKTWriter_create_r(l->geos);
    if (!w)
        return NULL;
    GEOSWKTWriter_setTrim_r(l->geos, w, 1);
    char *wkt = GEOSWKTWriter_write_r(l->geos, w, l->geoms[feature]);
    char *out = wkt ? ct_strdup(wkt) : NULL;
    GEOSFree_r(l->geos, wkt);
    GEOSWKTWriter_destroy_r(l->geos, w);
    return out;
}
