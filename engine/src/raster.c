#include "citytwin/ct_raster.h"

#include <gdal.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t g_gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void)
{
    GDALAllRegister();
    CPLSetConfigOption("CPL_LOG", "/dev/null");
}

static void quiet_handler(CPLErr cls, CPLErrorNum num, const char *msg) { (void)cls; (void)num; (void)msg; }

ct_status ct_raster_read(const char *path, ct_raster **out, ct_error *err)
{
    *out = NULL;
    pthread_once(&g_gdal_once, gdal_init);
    CPLPushErrorHandler(quiet_handler);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    CPLPopErrorHandler();
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a raster GDAL can read (%s)", path, CPLGetLastErrorMsg());
    ct_status st = CT_OK;
    ct_raster *r = calloc(1, sizeof *r);
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    if (!r || GDALGetRasterCount(ds) < 1 || w <= 0 || h <= 0) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: raster has no band or zero size", path);
        goto done;
    }
    if ((uint64_t)w * (uint64_t)h > (uint64_t)2000000000) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: raster of %dx%d cells is too large", path, w, h);
        goto done;
    }
    r->width = w;
    r->height = h;
    if (GDALGetGeoTransform(ds, r->geotransform) != CE_None) {
        double id[6] = {0, 1, 0, 0, 0, -1};
        memcpy(r->geotransform, id, sizeof id);
    }
    const char *wkt = GDALGetProjectionRef(ds);
    r->crs_wkt = strdup(wkt ? wkt : "");
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    int has = 0;
    double nd = GDALGetRasterNoDataValue(b, &has);
    r->has_nodata = has != 0;
    r->nodata = nd;
    r->data = malloc((size_t)w * h * sizeof(float));
    if (!r->data || !r->crs_wkt) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for %dx%d raster", path, w, h);
        goto done;
    }
    if (GDALRasterIO(b, GF_Read, 0, 0, w, h, r->data, w, h, GDT_Float32, 0, 0) != CE_None) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot read band 1: %s", path, CPLGetLastErrorMsg());
        goto done;
    }
    float ndf = (float)nd;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (has && (r->data[i] == ndf || (isnan(ndf) && isnan(r->data[i]))))
            r->data[i] = NAN;
done:
    GDALClose(ds);
    if (st != CT_OK) {
        ct_raster_destroy(r);
        return st;
    }
    *out = r;
    return CT_OK;
}

ct_raster *ct_raster_create(int width, int height, const ct_raster *like)
{
    if (width <= 0 || height <= 0)
        return NULL;
    ct_raster *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->width = width;
    r->height = height;
    r->data = calloc((size_t)width * height, sizeof(float));
    r->crs_wkt = strdup(like && like->crs_wkt ? like->crs_wkt : "");
    if (like)
        memcpy(r->geotransform, like->geotransform, sizeof r->geotransform);
    else {
        double id[6] = {0, 1, 0, 0, 0, -1};
        memcpy(r->geotransform, id, sizeof id);
    }
    if (!r->data || !r->crs_wkt) {
        ct_raster_destroy(r);
        return NULL;
    }
    return r;
}

void ct_raster_destroy(ct_raster *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->crs_wkt);
    free(r);
}

ct_status ct_raster_write_gtiff(const ct_raster *r, const char *path, ct_raster_type type,
                                bool has_nodata, double nodata, ct_error *err)
{
    pthread_once(&g_gdal_once, gdal_init);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **opts = NULL;
    opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    opts = CSLSetNameValue(opts, "NUM_THREADS", "ALL_CPUS"); /* parallel DEFLATE for large grids */
    GDALDataType gt = type == CT_RASTER_BYTE ? GDT_Byte : GDT_Float32;
    GDALDatasetH ds = GDALCreate(drv, path, r->width, r->height, 1, gt, opts);
    CSLDestroy(opts);
    if (!ds)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create GeoTIFF: %s", path, CPLGetLastErrorMsg());
    GDALSetGeoTransform(ds, (double *)r->geotransform);
    if (r->crs_wkt && *r->crs_wkt)
        GDALSetProjection(ds, r->crs_wkt);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    if (has_nodata)
        GDALSetRasterNoDataValue(b, nodata);
    size_t n = (size_t)r->width * r->height;
    CPLErr e;
    if (type == CT_RASTER_BYTE) {
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf) {
            GDALClose(ds);
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            float v = r->data[i];
            buf[i] = isnan(v) ? (uint8_t)nodata : (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        e = GDALRasterIO(b, GF_Write, 0, 0, r->width, r->height, buf, r->width, r->height, GDT_Byte, 0, 0);
        free(buf);
    } else {
        float *buf = malloc(n * sizeof(float) + 1);
        if (!buf) {
            GDALClose(ds);
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            buf[i] = isnan(r->data[i]) ? (float)nodata : r->data[i];
        e = GDALRasterIO(b, GF_Write, 0, 0, r->width, r->height, buf, r->width, r->height, GDT_Float32, 0, 0);
        free(buf);
    }
    GDALClose(ds);
    if (e != CE_None)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed: %s", path, CPLGetLastErrorMsg());
    return CT_OK;
}

void ct_raster_world_to_cell(const ct_raster *r, double x, double y, double *col, double *row)
{
    const double *g = r->geotransform;
    double det = g[1] * g[5] - g[2] * g[4];
    double dx = x - g[0], dy = y - g[3];
    *col = (g[5] * dx - g[2] * dy) / det;
    *row = (-g[4] * dx + g[1] * dy) / det;
}

void ct_raster_cell_center(const ct_raster *r, int col, int row, double *x, double *y)
{
    const double *g = r->geotransform;
    *x = g[0] + (col + 0.5) * g[1] + (row + 0.5) * g[2];
    *y = g[3] + (col + 0.5) * g[4] + (row + 0.5) * g[5];
}

double ct_raster_cell_area(const ct_raster *r)
{
    const double *g = r->geotransform;
    return fabs(g[1] * g[5] - g[2] * g[4]);
}
