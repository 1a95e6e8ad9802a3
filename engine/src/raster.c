#include "citytwin/ct_raster.h"

#include <gdal.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t g_gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void)
{
    GDALAllRegister();
    CPLSetConfigOption("CPL_LOG", "/dev/null");
}

/* Cell buffers of large rasters: 2 MiB aligned and marked for transparent
 * huge pages, so filling a 400 MB grid takes ~200 page faults instead of
 * ~100,000 (page faults dominated reading a 10,000 x 10,000 DEM on our VMs).
 * Plain malloc below 32 MiB. Freed with free(). */
static void *cells_alloc(size_t n, bool zero)
{
    size_t bytes = n * sizeof(float);
    if (bytes < ((size_t)32 << 20))
        return zero ? calloc(n ? n : 1, sizeof(float)) : malloc(bytes ? bytes : 1);
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    if (zero)
        memset(p, 0, bytes);
    return p;
}

static void quiet_handler(CPLErr cls, CPLErrorNum num, const char *msg) { (void)cls; (void)num; (void)msg; }

/* Uncompressed GeoTIFFs: reads go straight into our buffer, bypassing the
 * block cache (a 400 MB DEM: 0.15 s CPU instead of 2.6 s). GDAL reads this
 * option when the file is opened and falls back to its generic path where it
 * does not apply (compressed files, other formats). */
static GDALDatasetH open_direct(const char *path)
{
    const char *prev = CPLGetThreadLocalConfigOption("GTIFF_DIRECT_IO", NULL);
    char *saved = prev ? CPLStrdup(prev) : NULL;
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", "YES");
    CPLPushErrorHandler(quiet_handler);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    CPLPopErrorHandler();
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", saved);
    CPLFree(saved);
    return ds;
}

/* Opens path and fills r's size, georeferencing, CRS and nodata (no data). */
static ct_status open_header(const char *path, GDALDatasetH *ds_out, ct_raster **out, ct_error *err)
{
    *out = NULL;
    *ds_out = NULL;
    pthread_once(&g_gdal_once, gdal_init);
    GDALDatasetH ds = open_direct(path);
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a raster GDAL can read (%s)", path, CPLGetLastErrorMsg());
    ct_raster *r = calloc(1, sizeof *r);
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    if (!r || GDALGetRasterCount(ds) < 1 || w <= 0 || h <= 0) {
        free(r);
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_INPUT, "%s: raster has no band or zero size", path);
    }
    r->width = w;
    r->height = h;
    if (GDALGetGeoTransform(ds, r->geotransform) != CE_None) {
        double id[6] = {0, 1, 0, 0, 0, -1};
        memcpy(r->geotransform, id, sizeof id);
    }
    const char *wkt = GDALGetProjectionRef(ds);
    r->crs_wkt = strdup(wkt ? wkt : "");
    int has = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has);
    r->has_nodata = has != 0;
    r->nodata = nd;
    if (!r->crs_wkt) {
        ct_raster_destroy(r);
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    *ds_out = ds;
    *out = r;
    return CT_OK;
}

ct_status ct_raster_read_header(const char *path, ct_raster **out, ct_error *err)
{
    GDALDatasetH ds;
    ct_status st = open_header(path, &ds, out, err);
    if (st == CT_OK)
        GDALClose(ds);
    return st;
}

/* Rows [y0, y1) of columns [x0, x1) of band 1 into dst (row stride in
 * cells), nodata as NAN. */
typedef struct rows_job {
    const char *path;
    GDALDatasetH ds; /* NULL: the thread opens its own handle */
    int x0, x1, y0, y1;
    float *dst;
    size_t stride;
    bool has_nodata;
    float nodata;
    bool ok, reopen_failed;
    char msg[256];
} rows_job;

static void *read_rows(void *arg)
{
    rows_job *j = arg;
    GDALDatasetH ds = j->ds ? j->ds : open_direct(j->path);
    if (!ds) {
        j->reopen_failed = true;
        return NULL;
    }
    CPLErr e = GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, j->x0, j->y0, j->x1 - j->x0, j->y1 - j->y0, j->dst,
                            j->x1 - j->x0, j->y1 - j->y0, GDT_Float32, sizeof(float),
                            (GSpacing)(sizeof(float) * j->stride));
    if (e != CE_None)
        snprintf(j->msg, sizeof j->msg, "%s", CPLGetLastErrorMsg());
    else if (j->has_nodata) {
        float ndf = j->nodata;
        for (int y = j->y0; y < j->y1; y++) {
            float *row = j->dst + (size_t)(y - j->y0) * j->stride;
            for (int x = 0; x < j->x1 - j->x0; x++)
                if (row[x] == ndf || (isnan(ndf) && isnan(row[x])))
                    row[x] = NAN;
        }
    }
    j->ok = e == CE_None;
    if (!j->ds)
        GDALClose(ds);
    return NULL;
}

/* Large windows of local files are read in row bands on all cores, each
 * thread with its own GDAL handle: decoding (and the kernel faulting in the fresh buffer) run in
 * parallel, which halves reading a 400 MB DEM on two cores. */
static bool read_rows_parallel(rows_job *whole, char *msg, size_t msg_size)
{
    enum { MAX_THREADS = 8, MIN_CELLS = 1 << 22 };
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int rows = whole->y1 - whole->y0;
    uint64_t cells = (uint64_t)rows * (uint64_t)(whole->x1 - whole->x0);
    int nt = cores < 1 ? 1 : cores > MAX_THREADS ? MAX_THREADS : (int)cores;
    /* Only plain files are opened again: a stream (/vsistdin/, a pipe) is
     * one shared reader that a second handle would race with. */
    struct stat sb;
    if (stat(whole->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        nt = 1;
    if ((uint64_t)nt * MIN_CELLS > cells)
        nt = (int)(cells / MIN_CELLS) + 1;
    if (nt > rows)
        nt = rows;
    rows_job jobs[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int i = 0; i < nt; i++) {
        jobs[i] = *whole;
        jobs[i].y0 = whole->y0 + (int)((int64_t)rows * i / nt);
        jobs[i].y1 = whole->y0 + (int)((int64_t)rows * (i + 1) / nt);
        jobs[i].dst = whole->dst + (size_t)(jobs[i].y0 - whole->y0) * whole->stride;
        jobs[i].ds = i == 0 ? whole->ds : NULL;
        if (i > 0)
            started[i] = pthread_create(&th[i], NULL, read_rows, &jobs[i]) == 0;
    }
    read_rows(&jobs[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i])
            pthread_join(th[i], NULL);
        if (!started[i] || jobs[i].reopen_failed) {
            /* no thread to spare, or a source that opens once (/vsistdin/):
             * read these rows with the first handle */
            jobs[i].ds = whole->ds;
            read_rows(&jobs[i]);
        }
    }
    for (int i = 0; i < nt; i++)
        if (!jobs[i].ok) {
            snprintf(msg, msg_size, "rows %d-%d: %s", jobs[i].y0, jobs[i].y1 - 1, jobs[i].msg);
            return false;
        }
    return true;
}

/* Reads window (col0,row0,w,h) of band 1 into r->data (w*h), NAN outside the
 * raster and on nodata; r holds the file's header and becomes the window. */
static ct_status read_window(const char *path, GDALDatasetH ds, ct_raster *r, int col0, int row0, int w, int h,
                             ct_error *err)
{
    if (w <= 0 || h <= 0 || (uint64_t)w * (uint64_t)h > (uint64_t)2000000000)
        return ct_error_set(err, CT_ERR_INPUT, "%s: window of %dx%d cells is empty or too large", path, w, h);
    const int fw = r->width, fh = r->height;
    r->data = cells_alloc((size_t)w * h, false);
    if (!r->data)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for %dx%d raster", path, w, h);
    /* the part inside the raster */
    int a0 = col0 > 0 ? col0 : 0, b0 = row0 > 0 ? row0 : 0;
    int a1 = col0 + w < fw ? col0 + w : fw, b1 = row0 + h < fh ? row0 + h : fh;
    if (a0 > col0 || b0 > row0 || a1 < col0 + w || b1 < row0 + h || a1 <= a0 || b1 <= b0)
        for (size_t i = 0; i < (size_t)w * h; i++)
            r->data[i] = NAN;
    if (a1 > a0 && b1 > b0) {
        rows_job whole = {.path = path, .ds = ds, .x0 = a0, .x1 = a1, .y0 = b0, .y1 = b1,
                          .dst = r->data + (size_t)(b0 - row0) * w + (a0 - col0), .stride = (size_t)w,
                          .has_nodata = r->has_nodata, .nodata = (float)r->nodata};
        char msg[300];
        if (!read_rows_parallel(&whole, msg, sizeof msg))
            return ct_error_set(err, CT_ERR_INPUT, "%s: cannot read band 1, %s", path, msg);
    }
    double *g = r->geotransform;
    double x0 = g[0] + col0 * g[1] + row0 * g[2], y0 = g[3] + col0 * g[4] + row0 * g[5];
    if (col0 != 0 || row0 != 0) {
        g[0] = x0;
        g[3] = y0;
    }
    r->width = w;
    r->height = h;
    return CT_OK;
}

ct_status ct_raster_read_window(const char *path, int col0, int row0, int w, int h, ct_raster **out, ct_error *err)
{
    GDALDatasetH ds;
    ct_raster *r;
    ct_status st = open_header(path, &ds, &r, err);
    if (st != CT_OK)
        return st;
    st = read_window(path, ds, r, col0, row0, w, h, err);
    GDALClose(ds);
    if (st != CT_OK) {
        ct_raster_destroy(r);
        return st;
    }
    *out = r;
    return CT_OK;
}

ct_status ct_raster_read(const char *path, ct_raster **out, ct_error *err)
{
    GDALDatasetH ds;
    ct_raster *r;
    *out = NULL;
    ct_status st = open_header(path, &ds, &r, err);
    if (st != CT_OK)
        return st;
    if ((uint64_t)r->width * (uint64_t)r->height > (uint64_t)2000000000)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: raster of %dx%d cells is too large", path, r->width, r->height);
    else
        st = read_window(path, ds, r, 0, 0, r->width, r->height, err);
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
    r->data = cells_alloc((size_t)width * height, true);
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

void *ct_raster_gtiff_create(const char *path, int width, int height, int gdal_type, const double geotransform[6],
                             const char *crs_wkt, char **options, ct_error *err)
{
    pthread_once(&g_gdal_once, gdal_init);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH ds = drv ? GDALCreate(drv, path, width, height, 1, (GDALDataType)gdal_type, options) : NULL;
    if (!ds) {
        ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create GeoTIFF: %s", path, CPLGetLastErrorMsg());
        return NULL;
    }
    GDALSetGeoTransform(ds, (double *)geotransform);
    if (crs_wkt && *crs_wkt)
        GDALSetProjection(ds, crs_wkt);
    return ds;
}

ct_status ct_raster_write_gtiff(const ct_raster *r, const char *path, ct_raster_type type,
                                bool has_nodata, double nodata, ct_error *err)
{
    char **opts = NULL;
    opts = CSLSetNameValue(opts, "COMPRESS", "DEFLATE");
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    /* No NUM_THREADS: GDAL 3.6.0-3.7.2 multi-threaded GTiff compression can
     * deadlock or corrupt tiles when blocks of the file being written are
     * read back (GDAL issue 8470, fixed by PR 8561 in 3.7.3; Debian 12 ships
     * 3.6.2), and on this shared 2-core machine it gave no measurable gain. */
    GDALDataType gt = type == CT_RASTER_BYTE ? GDT_Byte : GDT_Float32;
    GDALDatasetH ds = ct_raster_gtiff_create(path, r->width, r->height, gt, r->geotransform, r->crs_wkt, opts, err);
    CSLDestroy(opts);
    if (!ds)
        return CT_ERR_RUNTIME;
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
