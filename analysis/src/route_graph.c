/* Road graph loading: OGR features -> ways -> junctions and segments ->
 * directed edges (+ node copies for turn restrictions) -> CSR, landmarks and
 * the snapping grid. */
#include "route_internal.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <geodesic.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------- growable arrays ---------- */
#define VEC(T) struct { T *a; size_t n, cap; }
#define VEC_PUSH(v, x)                                                                \
    (((v).n < (v).cap || ct_array_grow(&(v).a, &(v).cap, (v).n + 1, sizeof *(v).a)) \
         ? ((v).a[(v).n++] = (x), true)                                                \
         : false)

typedef VEC(double) dvec;

typedef struct way {
    size_t first, n; /* vertex range in the way vertex arrays */
    int64_t fid;
    double kmh;       /* speed mode */
    int oneway;       /* 1 forward only, -1 backward only, 0 both */
    double cost_f, cost_b; /* layer-cost mode (NAN when speed mode) */
} way;

typedef struct restriction {
    size_t from_first, from_n, to_first, to_n; /* vertex ranges in the relation vertex arrays */
    double vx, vy;                             /* via node, source CRS */
    bool only;
} restriction;

typedef struct loader {
    const ct_route_graph_desc *d;
    const ct_route_speeds *speeds;
    VEC(way) ways;
    VEC(double) wx;
    VEC(double) wy;
    VEC(restriction) rels;
    VEC(double) rx;
    VEC(double) ry;
    int fi_cost, fi_rcost, fi_speed, fi_class, fi_oneway, fi_tags, fi_highway;
    size_t skipped;
} loader;

/* ---------- coordinate hash: exact source coordinates -> value ---------- */
typedef struct xy_map {
    uint64_t *kx, *ky;
    uint32_t *val;
    size_t cap, n;
} xy_map;

static uint64_t dbits(double v)
{
    uint64_t u;
    if (v == 0)
        v = 0; /* -0 == +0 */
    memcpy(&u, &v, 8);
    return u;
}

static size_t xy_hash(uint64_t a, uint64_t b, size_t mask)
{
    uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (size_t)h & mask;
}

static bool xy_map_init(xy_map *m, size_t expected)
{
    m->cap = 64;
    while (m->cap < expected * 2)
        m->cap *= 2;
    m->n = 0;
    m->kx = malloc(m->cap * 8);
    m->ky = malloc(m->cap * 8);
    m->val = malloc(m->cap * 4);
    if (!m->kx || !m->ky || !m->val)
        return false;
    memset(m->val, 0xff, m->cap * 4);
    return true;
}

static void xy_map_free(xy_map *m)
{
    free(m->kx);
    free(m->ky);
    free(m->val);
}

/* Returns the slot of (x, y); *found tells whether it was there. */
static size_t xy_map_slot(const xy_map *m, double x, double y, bool *found)
{
    uint64_t a = dbits(x), b = dbits(y);
    size_t i = xy_hash(a, b, m->cap - 1);
    while (m->val[i] != UINT32_MAX) {
        if (m->kx[i] == a && m->ky[i] == b) {
            *found = true;
            return i;
        }
        i = (i + 1) & (m->cap - 1);
    }
    *found = false;
    m->kx[i] = a;
    m->ky[i] = b;
    return i;
}

/* ---------- reading ---------- */
static int field_index(OGRFeatureDefnH defn, const char *want, const char *const *auto_names)
{
    if (want)
        return OGR_FD_GetFieldIndex(defn, want);
    for (int i = 0; auto_names && auto_names[i]; i++) {
        int k = OGR_FD_GetFieldIndex(defn, auto_names[i]);
        if (k >= 0)
            return k;
    }
    return -1;
}

static bool add_line_vertices(loader *L, OGRGeometryH geom, way w)
{
    int n = OGR_G_GetPointCount(geom);
    if (n < 2)
        return false;
    w.first = L->wx.n;
    w.n = 0;
    for (int i = 0; i < n; i++) {
        double x = OGR_G_GetX(geom, i), y = OGR_G_GetY(geom, i);
        if (!isfinite(x) || !isfinite(y))
            return false;
        if (w.n > 0 && L->wx.a[L->wx.n - 1] == x && L->wy.a[L->wy.n - 1] == y)
            continue; /* repeated vertex */
        if (!(VEC_PUSH(L->wx, x)) || !(VEC_PUSH(L->wy, y)))
            return false;
        w.n++;
    }
    if (w.n < 2) {
        L->wx.n = L->wy.n = w.first;
        return false;
    }
    return VEC_PUSH(L->ways, w);
}

/* Adds a line feature as one way per line part. */
static void add_line_feature(loader *L, OGRFeatureH f, way w)
{
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g) {
        L->skipped++;
        return;
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    bool any = false;
    if (t == wkbLineString) {
        any = add_line_vertices(L, g, w);
    } else if (t == wkbMultiLineString) {
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            any |= add_line_vertices(L, OGR_G_GetGeometryRef(g, i), w);
    }
    if (!any)
        L->skipped++;
}

static void read_osm_line(loader *L, OGRFeatureH f)
{
    const char *hw = L->fi_highway >= 0 ? OGR_F_GetFieldAsString(f, L->fi_highway) : "";
    const char *tags = L->fi_tags >= 0 ? OGR_F_GetFieldAsString(f, L->fi_tags) : "";
    if (!hw || !*hw) {
        L->skipped++;
        return;
    }
    double kmh = ct_route_speeds_get(L->speeds, hw);
    char v[256];
    if (kmh <= 0 || (ct_route_hstore_get(tags, "area", v, sizeof v) && !strcmp(v, "yes"))) {
        L->skipped++;
        return;
    }
    if (ct_route_hstore_get(tags, "maxspeed", v, sizeof v)) {
        double m = ct_route_maxspeed_parse(v);
        if (m > 0)
            kmh = m;
    }
    int oneway = 0;
    if (!strcmp(hw, "motorway") || !strcmp(hw, "motorway_link"))
        oneway = 1;
    if (ct_route_hstore_get(tags, "junction", v, sizeof v) && (!strcmp(v, "roundabout") || !strcmp(v, "circular")))
        oneway = 1;
    if (ct_route_hstore_get(tags, "oneway", v, sizeof v)) {
        int o = ct_route_oneway_parse(v);
        if (o != 2)
            oneway = o;
    }
    way w = {.fid = OGR_F_GetFID(f), .kmh = kmh, .oneway = oneway, .cost_f = NAN, .cost_b = NAN};
    add_line_feature(L, f, w);
}

static void read_generic_line(loader *L, OGRFeatureH f)
{
    way w = {.fid = OGR_F_GetFID(f), .kmh = L->d->default_kmh > 0 ? L->d->default_kmh : 30, .cost_f = NAN,
             .cost_b = NAN};
    if (L->fi_cost >= 0) {
        if (!OGR_F_IsFieldSetAndNotNull(f, L->fi_cost)) {
            L->skipped++;
            return;
        }
        w.cost_f = OGR_F_GetFieldAsDouble(f, L->fi_cost);
        w.cost_b = L->fi_rcost >= 0 && OGR_F_IsFieldSetAndNotNull(f, L->fi_rcost)
                       ? OGR_F_GetFieldAsDouble(f, L->fi_rcost)
                       : (L->fi_rcost >= 0 ? -1 : w.cost_f);
        if (!isfinite(w.cost_f) || !isfinite(w.cost_b)) {
            L->skipped++;
            return;
        }
        add_line_feature(L, f, w);
        return;
    }
    if (L->fi_class >= 0 && OGR_F_IsFieldSetAndNotNull(f, L->fi_class)) {
        double k = ct_route_speeds_get(L->speeds, OGR_F_GetFieldAsString(f, L->fi_class));
        if (k == 0) {
            L->skipped++;
            return;
        }
        if (k > 0)
            w.kmh = k;
    }
    if (L->fi_speed >= 0 && OGR_F_IsFieldSetAndNotNull(f, L->fi_speed)) {
        double k = ct_route_maxspeed_parse(OGR_F_GetFieldAsString(f, L->fi_speed));
        if (k > 0)
            w.kmh = k;
    }
    if (L->fi_oneway >= 0 && OGR_F_IsFieldSetAndNotNull(f, L->fi_oneway)) {
        int o = ct_route_oneway_parse(OGR_F_GetFieldAsString(f, L->fi_oneway));
        w.oneway = o == 2 ? 0 : o;
    }
    add_line_feature(L, f, w);
}

/* A restriction relation as GDAL's OSM driver gives it: a geometry collection
 * of the member geometries in member order, without roles. We take the first
 * line as "from", the second as "to" and the point as "via" (the order OSM
 * editors write); via-way restrictions (no point) are skipped. */
static void read_osm_restriction(loader *L, OGRFeatureH f, int fi_type, size_t *n_read)
{
    if (fi_type < 0 || strcmp(OGR_F_GetFieldAsString(f, fi_type), "restriction"))
        return;
    const char *tags = L->fi_tags >= 0 ? OGR_F_GetFieldAsString(f, L->fi_tags) : "";
    char v[128];
    if (!ct_route_hstore_get(tags, "restriction", v, sizeof v))
        return;
    (*n_read)++;
    restriction r = {0};
    if (!strncmp(v, "no_", 3))
        r.only = false;
    else if (!strncmp(v, "only_", 5))
        r.only = true;
    else
        return;
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    if (!g)
        return;
    int lines = 0, points = 0;
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
        OGRGeometryH m = OGR_G_GetGeometryRef(g, i);
        OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(m));
        if (t == wkbPoint) {
            r.vx = OGR_G_GetX(m, 0);
            r.vy = OGR_G_GetY(m, 0);
            points++;
        } else if (t == wkbLineString && lines < 2) {
            size_t first = L->rx.n;
            for (int k = 0; k < OGR_G_GetPointCount(m); k++) {
                if (!(VEC_PUSH(L->rx, OGR_G_GetX(m, k))) || !(VEC_PUSH(L->ry, OGR_G_GetY(m, k))))
                    return;
            }
            if (lines == 0) {
                r.from_first = first;
                r.from_n = L->rx.n - first;
            } else {
                r.to_first = first;
                r.to_n = L->rx.n - first;
            }
            lines++;
        }
    }
    if (lines == 2 && points == 1)
        (void)(VEC_PUSH(L->rels, r));
}

static bool layer_is_lines(OGRLayerH lyr)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_L_GetGeomType(lyr));
    return t == wkbLineString || t == wkbMultiLineString;
}

static ct_status read_source_ds(loader *L, ct_route_graph *g, ct_error *err);

static ct_status read_source(loader *L, ct_route_graph *g, ct_error *err)
{
    GDALAllRegister();
    /* GDAL's own warnings (e.g. the OSM driver's unclosed multipolygon rings) are not ours to print */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    ct_status st = read_source_ds(L, g, err);
    CPLPopErrorHandler();
    return st;
}

static ct_status read_source_ds(loader *L, ct_route_graph *g, ct_error *err)
{
    const ct_route_graph_desc *d = L->d;
    if (!ct_file_exists(d->path) && strncmp(d->path, "/vsi", 4))
        return ct_error_set(err, CT_ERR_INPUT, "%s: no such file", d->path);
    GDALDatasetH ds = GDALOpenEx(d->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    size_t plen = strlen(d->path);
    if (!ds && plen > 3 && !strcmp(d->path + plen - 3, ".gz") && strncmp(d->path, "/vsi", 4)) {
        /* gzipped OSM XML (.osm.gz) and the like: GDAL reads them through /vsigzip/ */
        char *gz = malloc(plen + 16);
        if (gz) {
            snprintf(gz, plen + 16, "/vsigzip/%s", d->path);
            ds = GDALOpenEx(gz, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
            free(gz);
        }
    }
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source GDAL can read", d->path);
    GDALDriverH drv = GDALGetDatasetDriver(ds);
    g->osm = drv && !strcmp(GDALGetDriverShortName(drv), "OSM");
    OGRLayerH lyr = NULL;
    if (d->layer) {
        lyr = GDALDatasetGetLayerByName(ds, d->layer);
        if (!lyr) {
            GDALClose(ds);
            return ct_error_set(err, CT_ERR_INPUT, "%s: no layer named '%s'", d->path, d->layer);
        }
    } else if (g->osm) {
        lyr = GDALDatasetGetLayerByName(ds, "lines");
    } else {
        for (int i = 0; i < GDALDatasetGetLayerCount(ds) && !lyr; i++)
            if (layer_is_lines(GDALDatasetGetLayer(ds, i)))
                lyr = GDALDatasetGetLayer(ds, i);
    }
    if (!lyr || (!g->osm && !layer_is_lines(lyr))) {
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_INPUT, "%s: no line layer%s%s%s", d->path, d->layer ? " (layer '" : "",
                            d->layer ? d->layer : "", d->layer ? "' is not lines)" : "");
    }
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(lyr);
    g->crs_wkt = NULL;
    if (srs) {
        OSRExportToWkt(srs, &g->crs_wkt);
        g->geographic = OSRIsGeographic(srs);
    }
    if (!g->crs_wkt)
        g->crs_wkt = CPLStrdup("");
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
    static const char *const cls_names[] = {"highway", "class", "road_class", "fclass", "type", NULL};
    static const char *const speed_names[] = {"speed", "speed_kmh", "maxspeed", "max_speed", NULL};
    static const char *const oneway_names[] = {"oneway", "one_way", NULL};
    L->fi_tags = OGR_FD_GetFieldIndex(defn, "other_tags");
    L->fi_highway = OGR_FD_GetFieldIndex(defn, "highway");
    L->fi_cost = d->cost_field ? OGR_FD_GetFieldIndex(defn, d->cost_field) : -1;
    L->fi_rcost = d->reverse_cost_field ? OGR_FD_GetFieldIndex(defn, d->reverse_cost_field) : -1;
    L->fi_class = field_index(defn, d->class_field, cls_names);
    L->fi_speed = field_index(defn, d->speed_field, speed_names);
    L->fi_oneway = field_index(defn, d->oneway_field, oneway_names);
    const char *missing = d->cost_field && L->fi_cost < 0                 ? d->cost_field
                          : d->reverse_cost_field && L->fi_rcost < 0      ? d->reverse_cost_field
                          : d->class_field && L->fi_class < 0             ? d->class_field
                          : d->speed_field && L->fi_speed < 0             ? d->speed_field
                          : d->oneway_field && L->fi_oneway < 0           ? d->oneway_field
                                                                          : NULL;
    if (missing) {
        char *name = ct_strdup(OGR_L_GetName(lyr));
        GDALClose(ds);
        ct_status st = ct_error_set(err, CT_ERR_INPUT, "%s: layer '%s' has no field '%s'", d->path, name, missing);
        free(name);
        return st;
    }
    g->layer_costs = L->fi_cost >= 0;
    size_t n_rel_read = 0;
    if (g->osm && !d->layer) {
        /* The OSM driver wants interleaved reading over all layers. */
        OGRLayerH rel_lyr = GDALDatasetGetLayerByName(ds, "other_relations");
        /* the driver then skips building points and multipolygons */
        GDALDatasetExecuteSQL(ds,
                              d->ignore_turn_restrictions ? "SET interest_layers = lines"
                                                          : "SET interest_layers = lines,other_relations",
                              NULL, NULL);
        int fi_type = rel_lyr ? OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(rel_lyr), "type") : -1;
        int fi_rtags = rel_lyr ? OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(rel_lyr), "other_tags") : -1;
        GDALDatasetResetReading(ds);
        for (;;) {
            OGRLayerH fl = NULL;
            OGRFeatureH f = GDALDatasetGetNextFeature(ds, &fl, NULL, NULL, NULL);
            if (!f)
                break;
            if (fl == lyr) {
                read_osm_line(L, f);
            } else if (fl == rel_lyr && !d->ignore_turn_restrictions) {
                int keep = L->fi_tags;
                L->fi_tags = fi_rtags;
                read_osm_restriction(L, f, fi_type, &n_rel_read);
                L->fi_tags = keep;
            }
            OGR_F_Destroy(f);
        }
    } else {
        OGR_L_ResetReading(lyr);
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(lyr))) {
            if (g->osm)
                read_osm_line(L, f);
            else
                read_generic_line(L, f);
            OGR_F_Destroy(f);
        }
    }
    GDALClose(ds);
    g->info.restrictions_read = n_rel_read;
    g->info.features_skipped = L->skipped;
    if (L->ways.n == 0)
        return ct_error_set(err, CT_ERR_INPUT, "%s: no usable road lines (%zu features skipped)", d->path,
                            L->skipped);
    return CT_OK;
}

/* ---------- building ---------- */
static ct_status setup_metric(ct_route_graph *g, const loader *L, ct_error *err)
{
    if (!g->geographic)
        return CT_OK;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < L->wx.n; i++) {
        x0 = fmin(x0, L->wx.a[i]);
        x1 = fmax(x1, L->wx.a[i]);
        y0 = fmin(y0, L->wy.a[i]);
        y1 = fmax(y1, L->wy.a[i]);
    }
    snprintf(g->metric_crs, sizeof g->metric_crs,
             "+proj=tmerc +lat_0=%.9f +lon_0=%.9f +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs", (y0 + y1) / 2,
             (x0 + x1) / 2);
    return ct_crs_transform_create(g->crs_wkt, g->metric_crs, &g->to_metric, err);
}

static ct_status to_metric(const ct_route_graph *g, size_t n, const double *sx, const double *sy, double *mx,
                           double *my, ct_error *err)
{
    memcpy(mx, sx, n * sizeof *mx);
    memcpy(my, sy, n * sizeof *my);
    if (!g->to_metric || n == 0)
        return CT_OK;
    return ct_crs_transform_points(g->to_metric, n, mx, my, NULL, err);
}

static double piece_length(const ct_route_graph *g, double ax, double ay, double bx, double by, double mx0,
                           double my0, double mx1, double my1)
{
    if (!g->geographic)
        return hypot(mx1 - mx0, my1 - my0);
    static struct geod_geodesic geod;
    static int init;
    if (!init) {
        geod_init(&geod, 6378137.0, 1 / 298.257223563);
        init = 1;
    }
    double s12;
    geod_inverse(&geod, ay, ax, by, bx, &s12, NULL, NULL);
    return s12;
}

typedef struct edge_rec {
    uint32_t tail, head, seg;
    uint8_t rev;
    double cost;
} edge_rec;

typedef VEC(edge_rec) edge_vec;

/* Junction clustering: node-vertices closer than tol share a junction. */
typedef struct jgrid {
    xy_map cells; /* cell (as doubles) -> head junction */
    uint32_t *next;
    double tol;
} jgrid;

static uint32_t junction_for(ct_route_graph *g, jgrid *jg, dvec *jx, dvec *jy, double x, double y,
                             uint32_t **next, size_t *next_cap)
{
    double cx = floor(x / jg->tol), cy = floor(y / jg->tol);
    uint32_t best = UINT32_MAX;
    double bd = jg->tol;
    for (int dx = -1; dx <= 1; dx++)
        for (int dy = -1; dy <= 1; dy++) {
            bool found;
            size_t slot = xy_map_slot(&jg->cells, cx + dx, cy + dy, &found);
            if (!found)
                continue;
            for (uint32_t j = jg->cells.val[slot]; j != UINT32_MAX; j = (*next)[j]) {
                double dd = hypot(jx->a[j] - x, jy->a[j] - y);
                if (dd <= bd) {
                    bd = dd;
                    best = j;
                }
            }
        }
    /* xy_map_slot reserved keys for misses; undo by leaving val empty (UINT32_MAX): harmless */
    if (best != UINT32_MAX)
        return best;
    uint32_t j = (uint32_t)jx->n;
    if (!(VEC_PUSH(*jx, x)) || !(VEC_PUSH(*jy, y)))
        return UINT32_MAX;
    if (jx->n > *next_cap) {
        size_t nc = *next_cap ? *next_cap * 2 : 1024;
        uint32_t *nn = realloc(*next, nc * sizeof *nn);
        if (!nn)
            return UINT32_MAX;
        *next = nn;
        *next_cap = nc;
    }
    bool found;
    size_t slot = xy_map_slot(&jg->cells, cx, cy, &found);
    (*next)[j] = found ? jg->cells.val[slot] : UINT32_MAX;
    jg->cells.val[slot] = j;
    if (!found)
        jg->cells.n++;
    (void)g;
    return j;
}

/* Splits ways at junctions into segments; fills junctions, segments, vertices. */
static ct_status build_segments(ct_route_graph *g, loader *L, edge_vec *edges, ct_error *err)
{
    size_t nv = L->wx.n;
    double *mx = ct_malloc_array(nv, sizeof *mx), *my = ct_malloc_array(nv, sizeof *my);
    uint8_t *is_node = calloc(nv ? nv : 1, 1);
    xy_map cnt = {0};
    if (!mx || !my || !is_node || !xy_map_init(&cnt, nv)) {
        free(mx);
        free(my);
        free(is_node);
        xy_map_free(&cnt);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory (%zu vertices)", nv);
    }
    ct_status st = to_metric(g, nv, L->wx.a, L->wy.a, mx, my, err);
    /* a vertex is a junction when it ends a way or is shared by two ways (or twice by one) */
    for (size_t i = 0; st == CT_OK && i < nv; i++) {
        bool found;
        size_t s = xy_map_slot(&cnt, L->wx.a[i], L->wy.a[i], &found);
        cnt.val[s] = found ? cnt.val[s] + 1 : 1;
    }
    for (size_t w = 0; st == CT_OK && w < L->ways.n; w++) {
        const way *W = &L->ways.a[w];
        for (size_t k = 0; k < W->n; k++) {
            size_t i = W->first + k;
            bool found;
            size_t s = xy_map_slot(&cnt, L->wx.a[i], L->wy.a[i], &found);
            is_node[i] = k == 0 || k + 1 == W->n || cnt.val[s] > 1;
        }
    }
    xy_map_free(&cnt);

    jgrid jg = {.tol = L->d->snap_tolerance > 0 ? L->d->snap_tolerance : (g->osm ? 0.01 : 0.5)};
    dvec jx = {0};
    dvec jy = {0};
    uint32_t *jnext = NULL;
    size_t jnext_cap = 0;
    uint32_t *vj = ct_malloc_array(nv ? nv : 1, sizeof *vj);
    if (st == CT_OK && (!vj || !xy_map_init(&jg.cells, nv / 2 + 16)))
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (size_t i = 0; st == CT_OK && i < nv; i++) {
        vj[i] = UINT32_MAX;
        if (is_node[i]) {
            vj[i] = junction_for(g, &jg, &jx, &jy, mx[i], my[i], &jnext, &jnext_cap);
            if (vj[i] == UINT32_MAX)
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
    }
    free(jnext);
    xy_map_free(&jg.cells);

    /* segments */
    VEC(uint32_t) sfirst = {0};
    VEC(uint32_t) sa = {0};
    VEC(uint32_t) sb = {0};
    VEC(double) slen = {0};
    VEC(int64_t) sfid = {0};
    VEC(double) ovx = {0};
    VEC(double) ovy = {0};
    VEC(double) omx = {0};
    VEC(double) omy = {0};
    bool oom = false;
    for (size_t w = 0; st == CT_OK && w < L->ways.n && !oom; w++) {
        const way *W = &L->ways.a[w];
        double way_len = 0;
        for (size_t k = 0; k + 1 < W->n; k++) {
            size_t i = W->first + k;
            way_len += piece_length(g, L->wx.a[i], L->wy.a[i], L->wx.a[i + 1], L->wy.a[i + 1], mx[i], my[i],
                                    mx[i + 1], my[i + 1]);
        }
        size_t k0 = 0;
        for (size_t k = 1; k < W->n && !oom; k++) {
            size_t i = W->first + k;
            if (!is_node[i])
                continue;
            size_t i0 = W->first + k0;
            double len = 0;
            for (size_t q = i0; q < i; q++)
                len += piece_length(g, L->wx.a[q], L->wy.a[q], L->wx.a[q + 1], L->wy.a[q + 1], mx[q], my[q],
                                    mx[q + 1], my[q + 1]);
            uint32_t a = vj[i0], b = vj[i];
            k0 = k;
            if (a == b && len <= jg.tol * 2)
                continue; /* collapsed by snapping */
            uint32_t s = (uint32_t)sa.n;
            oom |= !(VEC_PUSH(sfirst, (uint32_t)ovx.n));
            for (size_t q = i0; q <= i; q++) {
                oom |= !(VEC_PUSH(ovx, L->wx.a[q]));
                oom |= !(VEC_PUSH(ovy, L->wy.a[q]));
                oom |= !(VEC_PUSH(omx, mx[q]));
                oom |= !(VEC_PUSH(omy, my[q]));
            }
            oom |= !(VEC_PUSH(sa, a));
            oom |= !(VEC_PUSH(sb, b));
            oom |= !(VEC_PUSH(slen, len));
            oom |= !(VEC_PUSH(sfid, W->fid));
            double cf, cb;
            if (isnan(W->cost_f)) {
                double c = len / (W->kmh / 3.6);
                cf = W->oneway == -1 ? -1 : c;
                cb = W->oneway == 1 ? -1 : c;
            } else {
                double share = way_len > 0 ? len / way_len : 1.0 / (double)(W->n - 1);
                cf = W->cost_f < 0 ? -1 : W->cost_f * share;
                cb = W->cost_b < 0 ? -1 : W->cost_b * share;
            }
            if (cf >= 0) {
                edge_rec e = {a, b, s, 0, cf};
                oom |= !(VEC_PUSH(*edges, e));
            }
            if (cb >= 0) {
                edge_rec e = {b, a, s, 1, cb};
                oom |= !(VEC_PUSH(*edges, e));
            }
        }
    }
    oom |= !(VEC_PUSH(sfirst, (uint32_t)ovx.n));
    if (st == CT_OK && oom)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory building segments");
    free(mx);
    free(my);
    free(is_node);
    free(vj);
    g->n_junctions = jx.n;
    g->jx = jx.a;
    g->jy = jy.a;
    g->n_segs = sa.n;
    g->seg_first = sfirst.a;
    g->seg_a = sa.a;
    g->seg_b = sb.a;
    g->seg_len = slen.a;
    g->seg_fid = sfid.a;
    g->n_verts = ovx.n;
    g->vox = ovx.a;
    g->voy = ovy.a;
    g->vx = omx.a;
    g->vy = omy.a;
    if (st == CT_OK && g->n_segs == 0)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: the road lines form no segments", L->d->path);
    return st;
}

/* Finds the segment at junction j whose vertex next to j equals (nx, ny) in
 * source coordinates. */
static uint32_t seg_at_junction(const ct_route_graph *g, const uint32_t *jseg_off, const uint32_t *jseg, uint32_t j,
                                double nx, double ny)
{
    for (uint32_t k = jseg_off[j]; k < jseg_off[j + 1]; k++) {
        uint32_t s = jseg[k];
        uint32_t f = g->seg_first[s], l = g->seg_first[s + 1] - 1;
        if (g->seg_a[s] == j && g->vox[f + 1] == nx && g->voy[f + 1] == ny)
            return s;
        if (g->seg_b[s] == j && g->vox[l - 1] == nx && g->voy[l - 1] == ny)
            return s;
    }
    return UINT32_MAX;
}

typedef struct turn_rule {
    uint32_t via, from_seg, to_seg;
    bool only;
} turn_rule;

/* Matches restriction relations to (via junction, from segment, to segment). */
static size_t match_restrictions(ct_route_graph *g, const loader *L, turn_rule **out)
{
    *out = NULL;
    if (L->rels.n == 0)
        return 0;
    /* junction by exact source coordinate of segment ends */
    xy_map jm;
    if (!xy_map_init(&jm, g->n_segs * 2))
        return 0;
    uint32_t *deg = calloc(g->n_junctions + 1, sizeof *deg);
    for (size_t s = 0; s < g->n_segs; s++) {
        uint32_t ends[2] = {g->seg_first[s], g->seg_first[s + 1] - 1};
        uint32_t js[2] = {g->seg_a[s], g->seg_b[s]};
        for (int e = 0; e < 2; e++) {
            bool found;
            size_t slot = xy_map_slot(&jm, g->vox[ends[e]], g->voy[ends[e]], &found);
            jm.val[slot] = js[e];
        }
        deg[g->seg_a[s] + 1]++;
        if (g->seg_b[s] != g->seg_a[s])
            deg[g->seg_b[s] + 1]++;
    }
    for (size_t j = 0; j < g->n_junctions; j++)
        deg[j + 1] += deg[j];
    uint32_t *jseg = malloc((g->n_segs * 2 + 1) * sizeof *jseg);
    uint32_t *fill = calloc(g->n_junctions + 1, sizeof *fill);
    turn_rule *rules = calloc(L->rels.n * 4, sizeof *rules);
    size_t n = 0;
    if (!jseg || !fill || !rules)
        goto done;
    for (size_t s = 0; s < g->n_segs; s++) {
        jseg[deg[g->seg_a[s]] + fill[g->seg_a[s]]++] = (uint32_t)s;
        if (g->seg_b[s] != g->seg_a[s])
            jseg[deg[g->seg_b[s]] + fill[g->seg_b[s]]++] = (uint32_t)s;
    }
    for (size_t r = 0; r < L->rels.n; r++) {
        const restriction *R = &L->rels.a[r];
        bool found;
        size_t slot = xy_map_slot(&jm, R->vx, R->vy, &found);
        if (!found || jm.val[slot] == UINT32_MAX)
            continue;
        uint32_t v = jm.val[slot];
        uint32_t from_s[2], to_s[2];
        int nf = 0, nt = 0;
        for (int which = 0; which < 2; which++) {
            size_t first = which ? R->to_first : R->from_first, cnt = which ? R->to_n : R->from_n;
            for (size_t k = 0; k < cnt; k++) {
                if (L->rx.a[first + k] != R->vx || L->ry.a[first + k] != R->vy)
                    continue;
                for (int side = -1; side <= 1; side += 2) {
                    if ((side < 0 && k == 0) || (side > 0 && k + 1 >= cnt))
                        continue;
                    uint32_t s = seg_at_junction(g, deg, jseg, v, L->rx.a[first + k + side], L->ry.a[first + k + side]);
                    if (s == UINT32_MAX)
                        continue;
                    if (which == 0 && nf < 2)
                        from_s[nf++] = s;
                    else if (which == 1 && nt < 2)
                        to_s[nt++] = s;
                }
            }
        }
        if (nf == 0 || nt == 0)
            continue;
        for (int a = 0; a < nf; a++)
            for (int b = 0; b < nt; b++)
                rules[n++] = (turn_rule){v, from_s[a], to_s[b], R->only};
        g->info.restrictions_applied++;
    }
done:
    xy_map_free(&jm);
    free(deg);
    free(jseg);
    free(fill);
    if (n == 0) {
        free(rules);
        rules = NULL;
    }
    *out = rules;
    return n;
}

static bool turn_allowed(const turn_rule *rules, size_t n, uint32_t via, uint32_t from_seg, uint32_t to_seg)
{
    bool has_only = false, only_ok = false;
    for (size_t i = 0; i < n; i++) {
        const turn_rule *r = &rules[i];
        if (r->via != via || r->from_seg != from_seg)
            continue;
        if (r->only) {
            has_only = true;
            only_ok |= r->to_seg == to_seg;
        } else if (r->to_seg == to_seg) {
            return false;
        }
    }
    return !has_only || only_ok;
}

/* Node-splits restricted junctions: one node per incoming edge there, each
 * with the outgoing edges its incoming edge may turn into. */
static bool apply_turn_rules(ct_route_graph *g, edge_vec *edges, const turn_rule *rules, size_t n_rules)
{
    size_t nj = g->n_junctions;
    uint32_t *node_junction = malloc((nj + edges->n + 1) * sizeof *node_junction);
    if (!node_junction)
        return false;
    for (size_t j = 0; j < nj; j++)
        node_junction[j] = (uint32_t)j;
    size_t n_nodes = nj;
    if (n_rules > 0) {
        uint8_t *restricted = calloc(nj, 1);
        uint32_t *head_node = malloc((edges->n + 1) * sizeof *head_node);
        uint32_t *first_in = malloc(nj * sizeof *first_in);
        if (!restricted || !head_node || !first_in) {
            free(restricted);
            free(head_node);
            free(first_in);
            free(node_junction);
            return false;
        }
        for (size_t i = 0; i < n_rules; i++)
            restricted[rules[i].via] = 1;
        memset(first_in, 0xff, nj * sizeof *first_in);
        size_t n_orig = edges->n;
        for (size_t e = 0; e < n_orig; e++) {
            uint32_t h = edges->a[e].head;
            head_node[e] = h;
            if (!restricted[h])
                continue;
            if (first_in[h] == UINT32_MAX) {
                first_in[h] = (uint32_t)e; /* keeps the junction's own node */
            } else {
                head_node[e] = (uint32_t)n_nodes;
                node_junction[n_nodes++] = h;
            }
        }
        /* outgoing edges of restricted junctions: one copy per (incoming, allowed outgoing) */
        bool oom = false;
        for (size_t ein = 0; ein < n_orig && !oom; ein++) {
            uint32_t v = edges->a[ein].head;
            if (!restricted[v])
                continue;
            for (size_t eo = 0; eo < n_orig; eo++) {
                if (edges->a[eo].tail != v)
                    continue;
                if (!turn_allowed(rules, n_rules, v, edges->a[ein].seg, edges->a[eo].seg))
                    continue;
                edge_rec e = edges->a[eo];
                e.tail = head_node[ein];
                e.head = head_node[eo];
                oom |= !(VEC_PUSH(*edges, e));
            }
        }
        /* the original edges: retarget heads; drop those leaving restricted junctions (replaced above) */
        size_t w = 0;
        for (size_t e = 0; e < edges->n; e++) {
            if (e < n_orig) {
                if (restricted[edges->a[e].tail] && first_in[edges->a[e].tail] != UINT32_MAX)
                    continue;
                edges->a[e].head = head_node[e];
            }
            edges->a[w++] = edges->a[e];
        }
        edges->n = w;
        free(restricted);
        free(head_node);
        free(first_in);
        if (oom) {
            free(node_junction);
            return false;
        }
    }
    g->n_nodes = n_nodes;
    g->node_junction = node_junction;
    return true;
}

static int cmp_edge_tail(const void *a, const void *b)
{
    const edge_rec *x = a, *y = b;
    if (x->tail != y->tail)
        return x->tail < y->tail ? -1 : 1;
    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return (int)x->rev - (int)y->rev;
}

static bool build_csr(ct_route_graph *g, edge_vec *edges)
{
    size_t n = g->n_nodes, m = edges->n;
    qsort(edges->a, m, sizeof *edges->a, cmp_edge_tail);
    g->n_edges = m;
    g->e_tail = malloc((m + 1) * sizeof *g->e_tail);
    g->e_head = malloc((m + 1) * sizeof *g->e_head);
    g->e_seg = malloc((m + 1) * sizeof *g->e_seg);
    g->e_rev = malloc(m + 1);
    g->e_cost = malloc((m + 1) * sizeof *g->e_cost);
    g->out_off = calloc(n + 1, sizeof *g->out_off);
    g->in_off = calloc(n + 1, sizeof *g->in_off);
    g->in_edge = malloc((m + 1) * sizeof *g->in_edge);
    g->seg_edge_off = calloc(g->n_segs + 1, sizeof *g->seg_edge_off);
    g->seg_edge = malloc((m + 1) * sizeof *g->seg_edge);
    uint32_t *fill = calloc(n + g->n_segs + 1, sizeof *fill);
    if (!g->e_tail || !g->e_head || !g->e_seg || !g->e_rev || !g->e_cost || !g->out_off || !g->in_off ||
        !g->in_edge || !g->seg_edge_off || !g->seg_edge || !fill) {
        free(fill);
        return false;
    }
    for (size_t e = 0; e < m; e++) {
        g->e_tail[e] = edges->a[e].tail;
        g->e_head[e] = edges->a[e].head;
        g->e_seg[e] = edges->a[e].seg;
        g->e_rev[e] = edges->a[e].rev;
        g->e_cost[e] = edges->a[e].cost;
        g->out_off[g->e_tail[e] + 1]++;
        g->in_off[g->e_head[e] + 1]++;
        g->seg_edge_off[g->e_seg[e] + 1]++;
    }
    for (size_t v = 0; v < n; v++) {
        g->out_off[v + 1] += g->out_off[v];
        g->in_off[v + 1] += g->in_off[v];
    }
    for (size_t s = 0; s < g->n_segs; s++)
        g->seg_edge_off[s + 1] += g->seg_edge_off[s];
    for (size_t e = 0; e < m; e++)
        g->in_edge[g->in_off[g->e_head[e]] + fill[g->e_head[e]]++] = (uint32_t)e;
    memset(fill, 0, (n + g->n_segs + 1) * sizeof *fill);
    for (size_t e = 0; e < m; e++)
        g->seg_edge[g->seg_edge_off[g->e_seg[e]] + fill[g->e_seg[e]]++] = (uint32_t)e;
    free(fill);
    /* nodes of each junction */
    g->jnode_off = calloc(g->n_junctions + 1, sizeof *g->jnode_off);
    g->jnode = malloc((n + 1) * sizeof *g->jnode);
    if (!g->jnode_off || !g->jnode)
        return false;
    for (size_t v = 0; v < n; v++)
        g->jnode_off[g->node_junction[v] + 1]++;
    for (size_t j = 0; j < g->n_junctions; j++)
        g->jnode_off[j + 1] += g->jnode_off[j];
    /* nodes are numbered junctions first, copies after: filling in node order keeps the junction's own node first */
    uint32_t *jf = calloc(g->n_junctions + 1, sizeof *jf);
    if (!jf)
        return false;
    for (size_t v = 0; v < n; v++) {
        uint32_t j = g->node_junction[v];
        g->jnode[g->jnode_off[j] + jf[j]++] = (uint32_t)v;
    }
    free(jf);
    return true;
}

/* Uniform grid over geometry pieces for snapping. */
static bool build_grid(ct_route_graph *g)
{
    g->vert_seg = malloc((g->n_verts + 1) * sizeof *g->vert_seg);
    if (!g->vert_seg)
        return false;
    double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    size_t pieces = 0;
    for (size_t s = 0; s < g->n_segs; s++)
        for (uint32_t i = g->seg_first[s]; i < g->seg_first[s + 1]; i++) {
            g->vert_seg[i] = (uint32_t)s;
            x0 = fmin(x0, g->vx[i]);
            y0 = fmin(y0, g->vy[i]);
            x1 = fmax(x1, g->vx[i]);
            y1 = fmax(y1, g->vy[i]);
            pieces += i + 1 < g->seg_first[s + 1];
        }
    double w = fmax(x1 - x0, 1), h = fmax(y1 - y0, 1);
    double cell = fmax(sqrt(w * h / (double)(pieces + 1)) * 1.5, 1.0);
    while (w / cell > 4096 || h / cell > 4096)
        cell *= 2;
    g->gx0 = x0;
    g->gy0 = y0;
    g->gcell = cell;
    g->gnx = (int)(w / cell) + 1;
    g->gny = (int)(h / cell) + 1;
    size_t nc = (size_t)g->gnx * (size_t)g->gny;
    g->gcell_off = calloc(nc + 1, sizeof *g->gcell_off);
    if (!g->gcell_off)
        return false;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t *fill = pass ? calloc(nc, sizeof *fill) : NULL;
        if (pass && !fill)
            return false;
        for (size_t s = 0; s < g->n_segs; s++)
            for (uint32_t i = g->seg_first[s]; i + 1 < g->seg_first[s + 1]; i++) {
                int cx0 = (int)((fmin(g->vx[i], g->vx[i + 1]) - x0) / cell);
                int cx1 = (int)((fmax(g->vx[i], g->vx[i + 1]) - x0) / cell);
                int cy0 = (int)((fmin(g->vy[i], g->vy[i + 1]) - y0) / cell);
                int cy1 = (int)((fmax(g->vy[i], g->vy[i + 1]) - y0) / cell);
                for (int cy = cy0; cy <= cy1 && cy < g->gny; cy++)
                    for (int cx = cx0; cx <= cx1 && cx < g->gnx; cx++) {
                        size_t c = (size_t)cy * g->gnx + cx;
                        if (!pass)
                            g->gcell_off[c + 1]++;
                        else
                            g->gitems[g->gcell_off[c] + fill[c]++] = i;
                    }
            }
        if (!pass) {
            for (size_t c = 0; c < nc; c++)
                g->gcell_off[c + 1] += g->gcell_off[c];
            g->gitems = malloc((g->gcell_off[nc] + 1) * sizeof *g->gitems);
            if (!g->gitems)
                return false;
        }
        free(fill);
    }
    return true;
}

/* Landmarks for ALT, chosen farthest-first inside the strongly connected part
 * around a well-connected seed, by round-trip distance d(L,v) + d(v,L): a
 * landmark that cannot be left (a dead end of one-way streets) or reached
 * would give no bounds. */
static bool build_landmarks(ct_route_graph *g, int want)
{
    size_t n = g->n_nodes;
    if (want <= 0 || n < 2)
        return true;
    if ((size_t)want > n)
        want = (int)n;
    double *fw = ct_malloc_array(n, sizeof *fw), *bw = ct_malloc_array(n, sizeof *bw);
    double *score = ct_malloc_array(n, sizeof *score);
    g->lm_from = ct_malloc_array(n * (size_t)want, sizeof *g->lm_from);
    g->lm_to = ct_malloc_array(n * (size_t)want, sizeof *g->lm_to);
    route_heap heap = {0};
    bool ok = fw && bw && score && g->lm_from && g->lm_to;
    uint32_t seed = 0;
    size_t best_reach = 0;
    for (int probe = 0; ok && probe < 8; probe++) {
        uint32_t s = (uint32_t)((n / 8) * (size_t)probe);
        route_dijkstra_all(g, &s, 1, false, fw, &heap);
        route_dijkstra_all(g, &s, 1, true, bw, &heap);
        size_t reach = 0;
        for (size_t v = 0; v < n; v++)
            reach += isfinite(fw[v]) && isfinite(bw[v]);
        if (reach > best_reach) {
            best_reach = reach;
            seed = s;
        }
        if (reach * 2 > n)
            break;
    }
    if (ok) {
        route_dijkstra_all(g, &seed, 1, false, fw, &heap);
        route_dijkstra_all(g, &seed, 1, true, bw, &heap);
        for (size_t v = 0; v < n; v++)
            score[v] = isfinite(fw[v]) && isfinite(bw[v]) ? fw[v] + bw[v] : -1;
    }
    int k = 0;
    for (; ok && k < want; k++) {
        uint32_t far = UINT32_MAX;
        double fd = 0;
        for (size_t v = 0; v < n; v++)
            if (score[v] > fd) {
                fd = score[v];
                far = (uint32_t)v;
            }
        if (far == UINT32_MAX)
            break;
        double *lf = g->lm_from + (size_t)k * n, *lt = g->lm_to + (size_t)k * n;
        route_dijkstra_all(g, &far, 1, false, lf, &heap);
        route_dijkstra_all(g, &far, 1, true, lt, &heap);
        for (size_t v = 0; v < n; v++)
            if (score[v] > 0)
                score[v] = fmin(score[v], lf[v] + lt[v]);
        score[far] = -1;
    }
    g->n_landmarks = k;
    free(fw);
    free(bw);
    free(score);
    free(heap.a);
    return ok;
}

ct_status ct_route_graph_load(const ct_route_graph_desc *desc, ct_route_graph **out, ct_error *err)
{
    *out = NULL;
    if (!desc || !desc->path)
        return ct_error_set(err, CT_ERR_USAGE, "no road source given");
    double t0 = ct_time_now();
    ct_route_speeds def = {0};
    loader L = {.d = desc, .speeds = desc->speeds};
    if (!L.speeds) {
        ct_route_speeds_default(&def);
        L.speeds = &def;
    }
    ct_route_graph *g = calloc(1, sizeof *g);
    if (!g)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    edge_vec edges = {0};
    turn_rule *rules = NULL;
    ct_status st = read_source(&L, g, err);
    if (st == CT_OK)
        st = setup_metric(g, &L, err);
    if (st == CT_OK)
        st = build_segments(g, &L, &edges, err);
    size_t n_rules = 0;
    if (st == CT_OK) {
        g->info.features_read = L.ways.n;
        n_rules = desc->ignore_turn_restrictions ? 0 : match_restrictions(g, &L, &rules);
        if (!apply_turn_rules(g, &edges, rules, n_rules) || !build_csr(g, &edges) || !build_grid(g))
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory building the graph");
    }
    free(rules);
    free(edges.a);
    free(L.ways.a);
    free(L.wx.a);
    free(L.wy.a);
    free(L.rels.a);
    free(L.rx.a);
    free(L.ry.a);
    ct_route_speeds_free(&def);
    if (st != CT_OK) {
        ct_route_graph_destroy(g);
        return st;
    }
    double t1 = ct_time_now();
    int lm = desc->landmarks == 0 ? 16 : desc->landmarks;
    if (!build_landmarks(g, lm)) {
        ct_route_graph_destroy(g);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory building landmarks");
    }
    double t2 = ct_time_now();
    if (!desc->skip_ch && !route_ch_build(g)) {
        ct_route_graph_destroy(g);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory building the contraction hierarchy");
    }
    g->info.ch = g->ch_rank != NULL;
    g->info.nodes = g->n_nodes;
    g->info.junctions = g->n_junctions;
    g->info.edges = g->n_edges;
    g->info.segments = g->n_segs;
    g->info.landmarks = g->n_landmarks;
    g->info.geographic = g->geographic;
    g->info.osm = g->osm;
    g->info.load_s = t1 - t0;
    g->info.prepare_s = ct_time_now() - t1;
    g->info.landmarks_s = t2 - t1;
    g->info.ch_s = ct_time_now() - t2;
    *out = g;
    return CT_OK;
}

void ct_route_graph_destroy(ct_route_graph *g)
{
    if (!g)
        return;
    CPLFree(g->crs_wkt);
    ct_crs_transform_destroy(g->to_metric);
    free(g->jx);
    free(g->jy);
    free(g->node_junction);
    free(g->jnode_off);
    free(g->jnode);
    free(g->seg_first);
    free(g->seg_a);
    free(g->seg_b);
    free(g->seg_len);
    free(g->seg_fid);
    free(g->vx);
    free(g->vy);
    free(g->vox);
    free(g->voy);
    free(g->e_tail);
    free(g->e_head);
    free(g->e_seg);
    free(g->e_rev);
    free(g->e_cost);
    free(g->out_off);
    free(g->in_off);
    free(g->in_edge);
    free(g->seg_edge_off);
    free(g->seg_edge);
    free(g->lm_from);
    free(g->lm_to);
    route_ch_free(g);
    free(g->gcell_off);
    free(g->gitems);
    free(g->vert_seg);
    free(g);
}

void ct_route_graph_get_info(const ct_route_graph *g, ct_route_graph_info *info)
{
    *info = g->info;
}

const char *ct_route_graph_crs(const ct_route_graph *g)
{
    return g->crs_wkt ? g->crs_wkt : "";
}

bool ct_route_graph_node_xy(const ct_route_graph *g, size_t node, double *x, double *y)
{
    if (node >= g->n_nodes)
        return false;
    uint32_t j = g->node_junction[node];
    /* the source position of a junction: an end vertex of any of its segments */
    for (uint32_t k = g->out_off[node]; k < g->out_off[node + 1]; k++) {
        uint32_t e = k, s = g->e_seg[e];
        uint32_t v = g->seg_a[s] == j ? g->seg_first[s] : g->seg_first[s + 1] - 1;
        *x = g->vox[v];
        *y = g->voy[v];
        return true;
    }
    for (uint32_t k = g->in_off[node]; k < g->in_off[node + 1]; k++) {
        uint32_t s = g->e_seg[g->in_edge[k]];
        uint32_t v = g->seg_b[s] == j ? g->seg_first[s + 1] - 1 : g->seg_first[s];
        *x = g->vox[v];
        *y = g->voy[v];
        return true;
    }
    return false;
}

bool ct_route_graph_edge(const ct_route_graph *g, size_t edge, uint32_t *tail, uint32_t *head, double *cost,
                         uint32_t *segment)
{
    if (edge >= g->n_edges)
        return false;
    if (tail)
        *tail = g->e_tail[edge];
    if (head)
        *head = g->e_head[edge];
    if (cost)
        *cost = g->e_cost[edge];
    if (segment)
        *segment = g->e_seg[edge];
    return true;
}

int64_t ct_route_graph_segment_fid(const ct_route_graph *g, size_t segment)
{
    return segment < g->n_segs ? g->seg_fid[segment] : -1;
}
