/* Rain raster series of the dynamic flood (radar nowcasts and the like): the
 * list CSV "time_s,path" and reading one frame onto the DEM grid. The list is
 * parsed from a length-bounded buffer (no reliance on a terminating NUL), so
 * any byte sequence is safe: see tests/flood/fuzz_rain_list.c. */
#include "citytwin/ct_flood.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>

#define FIELD_MAX 64

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

void ct_flood_rain_list_free(ct_flood_rain_list *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        free((char *)l->frames[i].path);
    free(l->frames);
    memset(l, 0, sizeof *l);
}

ct_status ct_flood_rain_list_parse(const char *text, size_t len, const char *name, const char *base_dir,
                                   ct_flood_rain_list *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "rain list";
    size_t pos = 0;
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark */
    int cap = 0;
    long line = 0;
    ct_status st = CT_OK;
    while (pos < len && st == CT_OK) {
        size_t start = pos;
        while (pos < len && text[pos] != '\n' && text[pos] != '\r')
            pos++;
        size_t end = pos;
        if (pos < len && text[pos] == '\r')
            pos++;
        if (pos < len && text[pos] == '\n')
            pos++;
        line++;
        const char *s = text + start;
        size_t n = end - start;
        while (n > 0 && is_blank(s[0]))
            s++, n--;
        while (n > 0 && is_blank(s[n - 1]))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (memchr(s, 0, n)) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: NUL byte (not a text CSV)", name, line);
            break;
        }
        /* time: up to the first ',', ';' or tab; the path: the rest (may hold spaces) */
        size_t k = 0;
        while (k < n && s[k] != ',' && s[k] != ';' && s[k] != '\t')
            k++;
        size_t tl = k;
        while (tl > 0 && is_blank(s[tl - 1]))
            tl--;
        char buf[FIELD_MAX];
        double t = NAN;
        bool num = false;
        if (tl > 0 && tl < sizeof buf) {
            memcpy(buf, s, tl);
            buf[tl] = 0;
            char *e;
            errno = 0;
            t = strtod(buf, &e);
            num = e != buf && *e == 0;
        }
        if (!num && out->n == 0)
            continue; /* a header line before the first row */
        if (!num) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: time is not a number", name, line);
            break;
        }
        if (!isfinite(t)) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: time is not a finite number", name, line);
            break;
        }
        const char *p = k < n ? s + k + 1 : s + n;
        size_t pl = k < n ? n - k - 1 : 0;
        while (pl > 0 && is_blank(p[0]))
            p++, pl--;
        if (pl >= 2 && p[0] == '"' && p[pl - 1] == '"')
            p++, pl -= 2;
        if (pl == 0) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: expected time_s,path (no path)", name, line);
            break;
        }
        if (pl > 4096) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: path longer than 4096 bytes", name, line);
            break;
        }
        if (out->n > 0 && !(t > out->frames[out->n - 1].t)) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: time %g is not after the previous %g (times must increase)",
                              name, line, t, out->frames[out->n - 1].t);
            break;
        }
        if (out->n == cap) {
            if (out->n >= CT_FLOOD_RAIN_LIST_MAX_ROWS) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: more than %d rasters", name, line,
                                  CT_FLOOD_RAIN_LIST_MAX_ROWS);
                break;
            }
            int nc = cap ? 2 * cap : 16;
            ct_flood_rain_frame *nf = realloc(out->frames, sizeof *nf * (size_t)nc);
            if (!nf) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", name);
                break;
            }
            out->frames = nf;
            cap = nc;
        }
        char *rel = strndup(p, pl);
        char *full = rel ? ct_path_join(base_dir && *base_dir ? base_dir : NULL, rel) : NULL;
        free(rel);
        if (!full) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", name);
            break;
        }
        out->frames[out->n++] = (ct_flood_rain_frame){t, full};
    }
    if (st == CT_OK && out->n == 0)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: no time_s,path rows", name);
    if (st != CT_OK)
        ct_flood_rain_list_free(out);
    return st;
}

ct_status ct_flood_rain_list_load(const char *path, ct_flood_rain_list *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t size;
    ct_status st = ct_file_read(path, CT_FLOOD_SERIES_MAX_BYTES, &data, &size, err);
    if (st != CT_OK)
        return st;
    char *dir = ct_path_dirname(path);
    if (!dir) {
        free(data);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    st = ct_flood_rain_list_parse((const char *)data, size, path, dir, out, err);
    free(dir);
    free(data);
    return st;
}

/* ------------------------------------------------------- one frame */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }
static void CPL_STDCALL quiet_handler(CPLErr e, CPLErrorNum n, const char *m)
{
    (void)e;
    (void)n;
    (void)m;
}

static bool same_grid(const ct_raster *a, const ct_raster *b)
{
    if (a->width != b->width || a->height != b->height)
        return false;
    double tol = 1e-9 * fmax(fabs(a->geotransform[1]), fabs(a->geotransform[5]));
    for (int i = 0; i < 6; i++)
        if (fabs(a->geotransform[i] - b->geotransform[i]) > tol)
            return false;
    /* no CRS on either side: taken as the DEM's */
    if (!a->crs_wkt || !*a->crs_wkt || !b->crs_wkt || !*b->crs_wkt)
        return true;
    if (!strcmp(a->crs_wkt, b->crs_wkt))
        return true;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a->crs_wkt), sb = OSRNewSpatialReference(b->crs_wkt);
    bool same = sa && sb && OSRIsSame(sa, sb);
    if (sa)
        OSRDestroySpatialReference(sa);
    if (sb)
        OSRDestroySpatialReference(sb);
    return same;
}

ct_status ct_flood_rain_frame_read(const char *path, const ct_raster *dem, ct_raster **out, ct_error *err)
{
    *out = NULL;
    pthread_once(&g_once, gdal_init);
    ct_raster *hdr = NULL;
    ct_status st = ct_raster_read_header(path, &hdr, err);
    if (st != CT_OK)
        return st;
    ct_raster *r = NULL;
    if (same_grid(hdr, dem)) {
        ct_raster_destroy(hdr);
        st = ct_raster_read(path, &r, err);
        if (st != CT_OK)
            return st;
    } else {
        bool src_crs = hdr->crs_wkt && *hdr->crs_wkt;
        ct_raster_destroy(hdr);
        r = ct_raster_create(dem->width, dem->height, dem);
        if (!r)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        for (size_t i = 0; i < (size_t)dem->width * dem->height; i++)
            r->data[i] = NAN;
        CPLPushErrorHandler(quiet_handler);
        GDALDatasetH src = GDALOpen(path, GA_ReadOnly);
        GDALDatasetH dst = GDALCreate(GDALGetDriverByName("MEM"), "", dem->width, dem->height, 0, GDT_Float32, NULL);
        if (!src || !dst) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot open as a raster", path);
        } else {
            char ptr[64];
            snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", (void *)r->data);
            char *bopts[] = {ptr, NULL};
            GDALAddBand(dst, GDT_Float32, bopts);
            GDALSetGeoTransform(dst, (double *)dem->geotransform);
            bool dem_crs = dem->crs_wkt && *dem->crs_wkt;
            if (dem_crs)
                GDALSetProjection(dst, dem->crs_wkt);
            /* bilinear, exact per-cell transform (no approximation: -et 0),
             * source nodata left out of the kernel, cells without data NAN */
            char *argv[16];
            int a = 0;
            argv[a++] = "-r";
            argv[a++] = "bilinear";
            argv[a++] = "-et";
            argv[a++] = "0";
            argv[a++] = "-dstnodata";
            argv[a++] = "nan";
            if (!src_crs && dem_crs) {
                argv[a++] = "-s_srs";
                argv[a++] = dem->crs_wkt;
            }
            argv[a] = NULL;
            GDALWarpAppOptions *o = GDALWarpAppOptionsNew(argv, NULL);
            int usage = 0;
            GDALDatasetH res = o ? GDALWarp(NULL, dst, 1, &src, o, &usage) : NULL;
            if (!res)
                st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot be resampled onto the DEM grid: %s", path,
                                  CPLGetLastErrorMsg());
            GDALWarpAppOptionsFree(o);
        }
        if (dst)
            GDALClose(dst);
        if (src)
            GDALClose(src);
        CPLPopErrorHandler();
        if (st != CT_OK) {
            ct_raster_destroy(r);
            return st;
        }
    }
    /* nodata (NAN) and negative rates: no rain */
    for (size_t i = 0; i < (size_t)r->width * r->height; i++)
        if (!(r->data[i] > 0))
            r->data[i] = 0;
    *out = r;
    return CT_OK;
}
