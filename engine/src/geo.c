#include "citytwin/ct_geo.h"

#include <math.h>
#include <proj.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One PROJ context and geodetic<->ECEF pipeline per thread: PJ objects are not
 * thread-safe. A pthread key destroys them when a worker thread exits. */
typedef struct geo_tls { PJ_CONTEXT *ctx; PJ *cart; } geo_tls;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void geo_tls_free(void *p)
{
    geo_tls *t = p;
    if (t->cart)
        proj_destroy(t->cart);
    if (t->ctx)
        proj_context_destroy(t->ctx);
    free(t);
}

static void geo_key_create(void) { pthread_key_create(&g_key, geo_tls_free); }

static PJ *cart_pipeline(void)
{
    pthread_once(&g_once, geo_key_create);
    geo_tls *t = pthread_getspecific(g_key);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            abort(); /* a few bytes; nothing sensible to do without them */
        t->ctx = proj_context_create();
        proj_log_level(t->ctx, PJ_LOG_NONE);
        t->cart = proj_create(t->ctx, "+proj=cart +ellps=WGS84");
        pthread_setspecific(g_key, t);
    }
    return t->cart;
}

ct_dvec3 ct_geo_ecef_from_lonlat(double lon_deg, double lat_deg, double height_m)
{
    PJ *p = cart_pipeline();
    PJ_COORD c = proj_coord(proj_torad(lon_deg), proj_torad(lat_deg), height_m, 0);
    PJ_COORD r = proj_trans(p, PJ_FWD, c);
    return ct_dvec3_make(r.xyz.x, r.xyz.y, r.xyz.z);
}

ct_dvec3 ct_geo_lonlat_from_ecef(ct_dvec3 e)
{
    PJ *p = cart_pipeline();
    PJ_COORD r = proj_trans(p, PJ_INV, proj_coord(e.x, e.y, e.z, 0));
    return ct_dvec3_make(proj_todeg(r.lpz.lam), proj_todeg(r.lpz.phi), r.lpz.z);
}

void ct_geo_enu_frame(ct_dvec3 o, double m[16])
{
    ct_dvec3 ll = ct_geo_lonlat_from_ecef(o);
    double lon = ll.x * M_PI / 180.0, lat = ll.y * M_PI / 180.0;
    /* ENU basis of the ellipsoid normal at (lon, lat): a frame, not a projection. */
    ct_dvec3 east = {-sin(lon), cos(lon), 0};
    ct_dvec3 north = {-sin(lat) * cos(lon), -sin(lat) * sin(lon), cos(lat)};
    ct_dvec3 up = {cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)};
    double f[16] = {east.x, east.y, east.z, 0, north.x, north.y, north.z, 0, up.x, up.y, up.z, 0, o.x, o.y, o.z, 1};
    memcpy(m, f, sizeof f);
}

struct ct_crs_transform {
    PJ_CONTEXT *ctx;
    PJ *pj;
};

ct_status ct_crs_transform_create(const char *src, const char *dst, ct_crs_transform **out, ct_error *err)
{
    *out = NULL;
    ct_crs_transform *t = calloc(1, sizeof *t);
    if (!t)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    t->ctx = proj_context_create();
    proj_log_level(t->ctx, PJ_LOG_NONE);
    PJ *raw = proj_create_crs_to_crs(t->ctx, src, dst, NULL);
    if (!raw) {
        ct_crs_transform_destroy(t);
        return ct_error_set(err, CT_ERR_INPUT, "cannot build a transform from '%.200s' to '%.200s'", src, dst);
    }
    t->pj = proj_normalize_for_visualization(t->ctx, raw);
    proj_destroy(raw);
    if (!t->pj) {
        ct_crs_transform_destroy(t);
        return ct_error_set(err, CT_ERR_INPUT, "cannot normalize the transform from '%.200s' to '%.200s'", src, dst);
    }
    *out = t;
    return CT_OK;
}

ct_status ct_crs_transform_points(ct_crs_transform *t, size_t n, double *x, double *y, double *z, ct_error *err)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        PJ_COORD c = proj_coord(x[i], y[i], z ? z[i] : 0, HUGE_VAL);
        PJ_COORD r = proj_trans(t->pj, PJ_FWD, c);
        if (!isfinite(r.xyz.x) || !isfinite(r.xyz.y)) {
            bad++;
            continue;
        }
        x[i] = r.xyz.x;
        y[i] = r.xyz.y;
        if (z)
            z[i] = r.xyz.z;
    }
    if (bad)
        return ct_error_set(err, CT_ERR_INPUT, "%zu of %zu points could not be transformed", bad, n);
    return CT_OK;
}

void ct_crs_transform_destroy(ct_crs_transform *t)
{
    if (!t)
        return;
    if (t->pj)
        proj_destroy(t->pj);
    if (t->ctx)
        proj_context_destroy(t->ctx);
    free(t);
}

bool ct_crs_is_geographic(const char *crs)
{
    PJ_CONTEXT *ctx = proj_context_create();
    proj_log_level(ctx, PJ_LOG_NONE);
    PJ *p = proj_create(ctx, crs);
    bool geo = false;
    if (p) {
        PJ_TYPE ty = proj_get_type(p);
        geo = ty == PJ_TYPE_GEOGRAPHIC_2D_CRS || ty == PJ_TYPE_GEOGRAPHIC_3D_CRS;
        proj_destroy(p);
    }
    proj_context_destroy(ctx);
    return geo;
}
