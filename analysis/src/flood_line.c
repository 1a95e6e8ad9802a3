/* Line inflows of the dynamic flood: reading a line (WKT, a coordinate list
 * or the line features of an OGR source) and finding the DEM cells it
 * crosses with the length of line inside each, so that a hydrograph can be
 * spread along a river bank or a culvert mouth in proportion to length. */
#include "citytwin/ct_flood.h"
#include "citytwin/ct_geo.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }
static void CPL_STDCALL quiet_handler(CPLErr e, CPLErrorNum n, const char *m)
{
    (void)e;
    (void)n;
    (void)m;
}

/* ------------------------------------------------------------- points */

typedef struct pts {
    double *xy;
    int n;
    size_t cap; /* points */
} pts;

static bool pts_add(pts *p, double x, double y)
{
    if (p->n == INT_MAX || !ct_array_grow(&p->xy, &p->cap, (size_t)p->n + 1, 2 * sizeof(double)))
        return false;
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->n++;
    return true;
}

/* Appends the line parts of g (LineString, MultiLineString, collections of
 * them; curves linearized), each part followed by a NAN separator. Returns
 * the number of parts, -1 when out of memory. */
static int add_geometry(pts *p, OGRGeometryH g)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiLineString || t == wkbGeometryCollection || t == wkbMultiCurve || t == wkbCompoundCurve) {
        if (t == wkbCompoundCurve || t == wkbMultiCurve) {
            OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
            int r = lin ? add_geometry(p, lin) : 0;
            if (lin)
                OGR_G_DestroyGeometry(lin);
            return r;
        }
        int parts = 0;
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
            int r = add_geometry(p, OGR_G_GetGeometryRef(g, i));
            if (r < 0)
                return -1;
            parts += r;
        }
        return parts;
    }
    if (t != wkbLineString && t != wkbCircularString)
        return 0;
    int n = OGR_G_GetPointCount(g);
    if (n < 2)
        return 0;
    for (int i = 0; i < n; i++)
        if (!pts_add(p, OGR_G_GetX(g, i), OGR_G_GetY(g, i)))
            return -1;
    return pts_add(p, NAN, NAN) ? 1 : -1;
}

static bool starts_with_ci(const char *s, const char *prefix)
{
    while (isspace((unsigned char)*s))
        s++;
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* "X1,Y1;X2,Y2;..." (at least two points). */
static ct_status parse_coords(const char *spec, pts *p, ct_error *err)
{
    const char *s = spec;
    while (*s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || *end != ',')
            return ct_error_set(err, CT_ERR_INPUT, "line %s: expected X1,Y1;X2,Y2;... at character %d", spec,
                                (int)(s - spec) + 1);
        s = end + 1;
        double y = strtod(s, &end);
        if (end == s || (*end && *end != ';') || !isfinite(x) || !isfinite(y))
            return ct_error_set(err, CT_ERR_INPUT, "line %s: expected X1,Y1;X2,Y2;... at character %d", spec,
                                (int)(s - spec) + 1);
        if (!pts_add(p, x, y))
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        s = *end ? end + 1 : end;
    }
    if (p->n < 2)
        return ct_error_set(err, CT_ERR_INPUT, "line %s: needs at least two points", spec);
    if (!pts_add(p, NAN, NAN))
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    return CT_OK;
}

/* All line features of the first layer of an OGR source, in the DEM's CRS. */
static ct_status read_source(const char *src, const char *dem_wkt, pts *p, ct_error *err)
{
    CPLPushErrorHandler(quiet_handler);
    GDALDatasetH in = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!in)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source OGR can read (nor WKT, nor X1,Y1;X2,Y2)", src);
    if (GDALDatasetGetLayerCount(in) < 1) {
        GDALClose(in);
        return ct_error_set(err, CT_ERR_INPUT, "%s: no layer", src);
    }
    OGRLayerH lyr = GDALDatasetGetLayer(in, 0);
    OGRSpatialReferenceH ls = OGR_L_GetSpatialRef(lyr), dem_srs = NULL;
    OGRCoordinateTransformationH ct = NULL;
    ct_status st = CT_OK;
    if (dem_wkt && *dem_wkt && ls) {
        dem_srs = OSRNewSpatialReference(dem_wkt);
        if (dem_srs && !OSRIsSame(ls, dem_srs)) {
            OSRSetAxisMappingStrategy(dem_srs, OAMS_TRADITIONAL_GIS_ORDER);
            OGRSpatialReferenceH lsc = OSRClone(ls);
            OSRSetAxisMappingStrategy(lsc, OAMS_TRADITIONAL_GIS_ORDER);
            CPLPushErrorHandler(quiet_handler);
            ct = OCTNewCoordinateTransformation(lsc, dem_srs);
            CPLPopErrorHandler();
            OSRRelease(lsc);
            if (!ct)
                st = ct_error_set(err, CT_ERR_INPUT, "%s: no transformation from the layer's CRS to the DEM's", src);
        }
    }
    long skipped = 0;
    int parts = 0;
    OGR_L_ResetReading(lyr);
    OGRFeatureH f;
    while (st == CT_OK && (f = OGR_L_GetNextFeature(lyr)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGRGeometryH c = g ? OGR_G_Clone(g) : NULL;
        if (!c || (ct && OGR_G_Transform(c, ct) != OGRERR_NONE)) {
            skipped++;
        } else {
            int r = add_geometry(p, c);
            if (r < 0)
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            else if (r == 0)
                skipped++;
            parts += r > 0 ? r : 0;
        }
        if (c)
            OGR_G_DestroyGeometry(c);
        OGR_F_Destroy(f);
    }
    if (skipped)
        ct_log(CT_LOG_WARN, "%s: %ld features skipped (not lines or not transformable)", src, skipped);
    if (st == CT_OK && parts == 0)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: layer %s has no line features", src, OGR_L_GetName(lyr));
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (dem_srs)
        OSRRelease(dem_srs);
    GDALClose(in);
    return st;
}

ct_status ct_flood_line_read(const char *spec, const char *dem_crs_wkt, const char *crs, double **xy, int *n_points,
                             ct_error *err)
{
    *xy = NULL;
    *n_points = 0;
    pthread_once(&g_once, gdal_init);
    pts p = {0};
    ct_status st = CT_OK;
    bool literal = true; /* coordinates typed in: in crs (when given) */
    if (starts_with_ci(spec, "LINESTRING") || starts_with_ci(spec, "MULTILINESTRING")) {
        OGRGeometryH g = NULL;
        char *w = (char *)spec;
        if (OGR_G_CreateFromWkt(&w, NULL, &g) != OGRERR_NONE || !g)
            st = ct_error_set(err, CT_ERR_INPUT, "line %s: invalid WKT", spec);
        else {
            int r = add_geometry(&p, g);
            if (r < 0)
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            else if (r == 0)
                st = ct_error_set(err, CT_ERR_INPUT, "line %s: needs at least two points", spec);
        }
        if (g)
            OGR_G_DestroyGeometry(g);
    } else if (strchr(spec, ';') || (spec[0] && strchr("+-.0123456789", spec[0]) && strchr(spec, ','))) {
        st = parse_coords(spec, &p, err);
    } else {
        literal = false;
        st = read_source(spec, dem_crs_wkt, &p, err);
    }
    if (st == CT_OK && literal && crs && *crs) {
        if (!dem_crs_wkt || !*dem_crs_wkt)
            st = ct_error_set(err, CT_ERR_INPUT, "--crs given but the DEM has no CRS to transform into");
        ct_crs_transform *t = NULL;
        if (st == CT_OK)
            st = ct_crs_transform_create(crs, dem_crs_wkt, &t, err);
        for (int i = 0; st == CT_OK && i < p.n; i++)
            if (!isnan(p.xy[2 * i]))
                st = ct_crs_transform_points(t, 1, &p.xy[2 * i], &p.xy[2 * i + 1], NULL, err);
        ct_crs_transform_destroy(t);
    }
    if (st != CT_OK) {
        free(p.xy);
        return st;
    }
    *xy = p.xy;
    *n_points = p.n;
    return CT_OK;
}

/* -------------------------------------------------------------- cells */

typedef struct piece {
    long cell;
    double len;
} piece;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_piece(const void *a, const void *b)
{
    long x = ((const piece *)a)->cell, y = ((const piece *)b)->cell;
    return x < y ? -1 : x > y;
}

ct_status ct_flood_line_cells(const ct_raster *dem, const double *xy, int n_points, long **cells, double **lengths,
                              int *n_cells, double *outside_m, ct_error *err)
{
    *cells = NULL;
    *lengths = NULL;
    *n_cells = 0;
    if (outside_m)
        *outside_m = 0;
    const double *gt = dem->geotransform;
    if (gt[2] != 0 || gt[4] != 0 || gt[1] == 0 || gt[5] == 0)
        return ct_error_set(err, CT_ERR_INPUT, "rotated or degenerate DEM grids are not supported");
    const int w = dem->width, h = dem->height;
    piece *pc = NULL;
    size_t np = 0, capp = 0;
    double *u = NULL, outside = 0;
    size_t capu = 0;
    ct_status st = CT_OK;
    for (int i = 0; i + 1 < n_points && st == CT_OK; i++) {
        double x0 = xy[2 * i], y0 = xy[2 * i + 1], x1 = xy[2 * i + 2], y1 = xy[2 * i + 3];
        if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1))
            continue; /* a part separator */
        double len = hypot(x1 - x0, y1 - y0);
        if (!(len > 0))
            continue;
        /* in cell units: column c = (x - gt0) / gt1, row r = (y - gt3) / gt5 */
        double c0 = (x0 - gt[0]) / gt[1], c1 = (x1 - gt[0]) / gt[1];
        double r0 = (y0 - gt[3]) / gt[5], r1 = (y1 - gt[3]) / gt[5];
        /* parameters where the segment crosses grid lines (inside the grid only) */
        double cl = fmax(ceil(fmin(c0, c1)), 0), ch = fmin(floor(fmax(c0, c1)), w);
        double rl = fmax(ceil(fmin(r0, r1)), 0), rh = fmin(floor(fmax(r0, r1)), h);
        double need = 2 + (ch >= cl ? ch - cl + 1 : 0) + (rh >= rl ? rh - rl + 1 : 0);
        if (need > 1e8) {
            st = ct_error_set(err, CT_ERR_INPUT, "line segment %d crosses more than 10^8 cells", i + 1);
            break;
        }
        if ((size_t)need > capu) {
            double *nu = realloc(u, sizeof(double) * (size_t)need);
            if (!nu) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                break;
            }
            u = nu;
            capu = (size_t)need;
        }
        size_t nu = 0;
        u[nu++] = 0;
        u[nu++] = 1;
        if (c1 != c0)
            for (double k = cl; k <= ch; k++) {
                double v = (k - c0) / (c1 - c0);
                if (v > 0 && v < 1)
                    u[nu++] = v;
            }
        if (r1 != r0)
            for (double k = rl; k <= rh; k++) {
                double v = (k - r0) / (r1 - r0);
                if (v > 0 && v < 1)
                    u[nu++] = v;
            }
        qsort(u, nu, sizeof *u, cmp_double);
        for (size_t k = 0; k + 1 < nu; k++) {
            double du = u[k + 1] - u[k];
            if (!(du > 0))
                continue;
            double um = 0.5 * (u[k] + u[k + 1]);
            double cc = floor(c0 + um * (c1 - c0)), rr = floor(r0 + um * (r1 - r0));
            double piece_len = du * len;
            if (cc < 0 || cc >= w || rr < 0 || rr >= h) {
                outside += piece_len;
                continue;
            }
            if (!ct_array_grow(&pc, &capp, np + 1, sizeof *pc)) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                break;
            }
            pc[np++] = (piece){(long)rr * w + (long)cc, piece_len};
        }
    }
    free(u);
    if (st == CT_OK && np == 0)
        st = ct_error_set(err, CT_ERR_INPUT, "the line lies outside the DEM (or has no length)");
    long *oc = NULL;
    double *ol = NULL;
    size_t m = 0;
    if (st == CT_OK) {
        /* merge the pieces of each cell (a stable order: by cell index) */
        qsort(pc, np, sizeof *pc, cmp_piece);
        oc = malloc(sizeof *oc * np);
        ol = malloc(sizeof *ol * np);
        if (!oc || !ol)
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        for (size_t k = 0; st == CT_OK && k < np; k++) {
            if (m > 0 && oc[m - 1] == pc[k].cell) {
                ol[m - 1] += pc[k].len;
            } else {
                oc[m] = pc[k].cell;
                ol[m++] = pc[k].len;
            }
        }
    }
    free(pc);
    if (st != CT_OK) {
        free(oc);
        free(ol);
        return st;
    }
    if (outside > 0)
        ct_log(CT_LOG_WARN, "%.3f m of the line lies outside the DEM (left out)", outside);
    if (outside_m)
        *outside_m = outside;
    *cells = oc;
    *lengths = ol;
    *n_cells = (int)m;
    return CT_OK;
}
