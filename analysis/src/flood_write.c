/* Flood result rasters (Float32 GeoTIFF) written fast on large grids.
 *
 * Why not simply GDAL: compressing a 100 M-cell depth grid is most of a
 * bathtub job's CPU, and GDAL 3.6 compresses on one thread (its NUM_THREADS
 * writer can deadlock or corrupt tiles before 3.7.3, GDAL issue 8470). So
 * GDAL creates the file (georeferencing, CRS, nodata, an empty tile index:
 * SPARSE_OK), and then we compress the tiles ourselves on all cores —
 * the TIFF floating-point predictor (Technote 3) and zstd (the default) or
 * libdeflate, the codecs libtiff uses — and append the finished tiles in order with
 * libtiff's TIFFWriteRawTile, as GDAL itself does for pre-compressed tiles.
 * Tiles that are entirely dry are not stored (sparse: GDAL-based readers see
 * nodata). LZW goes through GDAL (we have no LZW encoder of our own). */
#include "citytwin/ct_flood.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <libdeflate.h>
#include <tiffio.h>
#include <zstd.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef _OPENMP
#include <omp.h>
#endif

enum { TILE = 256 };
static const float NODATA = -9999.0f;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }

bool ct_flood_compress_parse(const char *name, ct_flood_compress *out)
{
    static const struct {
        const char *name;
        ct_flood_compress c;
    } K[] = {{"deflate", CT_FLOOD_COMPRESS_DEFLATE},
             {"zstd", CT_FLOOD_COMPRESS_ZSTD},
             {"lzw", CT_FLOOD_COMPRESS_LZW},
             {"none", CT_FLOOD_COMPRESS_NONE}};
    for (size_t i = 0; name && i < sizeof K / sizeof K[0]; i++)
        if (!strcasecmp(name, K[i].name)) {
            *out = K[i].c;
            return true;
        }
    return false;
}

const char *ct_flood_compress_name(ct_flood_compress c)
{
    switch (c) {
    case CT_FLOOD_COMPRESS_DEFLATE: return "deflate";
    case CT_FLOOD_COMPRESS_LZW: return "lzw";
    case CT_FLOOD_COMPRESS_NONE: return "none";
    default: return "zstd";
    }
}

/* Copies tile (tx,ty) of r into t (TILE x TILE, NAN -> nodata, nodata past
 * the raster's edge); returns false when the tile has no wet cell. */
static bool tile_fill(const ct_raster *r, int tx, int ty, float *t)
{
    int nr = r->height - ty * TILE < TILE ? r->height - ty * TILE : TILE;
    int nc = r->width - tx * TILE < TILE ? r->width - tx * TILE : TILE;
    int wet = 0;
    for (int y = 0; y < TILE; y++) {
        float *dst = t + (size_t)y * TILE;
        int n = y < nr ? nc : 0;
        const float *src = n ? r->data + (size_t)(ty * TILE + y) * r->width + (size_t)tx * TILE : NULL;
        for (int x = 0; x < n; x++) {
            float v = src[x];
            wet |= v == v;
            dst[x] = v == v ? v : NODATA;
        }
        for (int x = n; x < TILE; x++)
            dst[x] = NODATA;
    }
    return wet != 0;
}

/* TIFF floating-point predictor (PREDICTOR=3) on one tile, row by row, as
 * libtiff's fpDiff: the row's 4-byte floats split into byte planes, most
 * significant byte first, then each byte minus the one before it. */
static void tile_fp_predict(const float *t, uint8_t *out)
{
    const size_t wc = TILE, rb = 4 * TILE;
    for (int y = 0; y < TILE; y++) {
        const uint8_t *in = (const uint8_t *)(t + (size_t)y * TILE);
        uint8_t *o = out + (size_t)y * rb;
        for (size_t i = 0; i < wc; i++)
            for (size_t b = 0; b < 4; b++) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                o[b * wc + i] = in[4 * i + b];
#else
                o[(3 - b) * wc + i] = in[4 * i + b];
#endif
            }
        for (size_t i = rb - 1; i > 0; i--)
            o[i] = (uint8_t)(o[i] - o[i - 1]);
    }
}

typedef struct tile_out {
    uint8_t *buf;
    size_t cap, size; /* size 0: dry tile, not stored */
} tile_out;

/* The compress-then-append pipeline: tile i goes through slot i % nslots. */
typedef struct tile_slot {
    uint8_t *buf;
    size_t cap, size;
    int tile;   /* tile held (-1: none yet) */
    bool ready; /* compressed, waiting to be appended */
    bool ok;
} tile_slot;

/* Per-thread compressors and scratch. */
typedef struct coder {
    struct libdeflate_compressor *deflate;
    ZSTD_CCtx *zstd;
    float *tile;
    uint8_t *pred;
} coder;

static bool tile_encode(const ct_raster *r, int tx, int ty, ct_flood_compress c, bool swap, coder *k, tile_out *o)
{
    o->size = 0;
    if (!tile_fill(r, tx, ty, k->tile))
        return true;
    const size_t raw = sizeof(float) * TILE * TILE;
    if (c == CT_FLOOD_COMPRESS_NONE) {
        if (swap)
            TIFFSwabArrayOfFloat(k->tile, (tmsize_t)TILE * TILE);
        memcpy(o->buf, k->tile, raw);
        o->size = raw;
        return true;
    }
    tile_fp_predict(k->tile, k->pred);
    if (c == CT_FLOOD_COMPRESS_ZSTD) {
        size_t n = ZSTD_compressCCtx(k->zstd, o->buf, o->cap, k->pred, raw, 1);
        if (ZSTD_isError(n))
            return false;
        o->size = n;
    } else {
        size_t n = libdeflate_zlib_compress(k->deflate, k->pred, raw, o->buf, o->cap);
        if (n == 0)
            return false;
        o->size = n;
    }
    return true;
}

/* LZW (and the fallback when libtiff cannot reopen the file): GDAL writes
 * and compresses tile by tile on one thread; dry tiles are skipped by
 * SPARSE_OK. */
static ct_status write_with_gdal(const ct_raster *r, const char *path, ct_flood_compress c, ct_error *err)
{
    char **opts = NULL;
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BLOCKXSIZE", "256");
    opts = CSLSetNameValue(opts, "BLOCKYSIZE", "256");
    opts = CSLSetNameValue(opts, "COMPRESS", c == CT_FLOOD_COMPRESS_LZW ? "LZW" : "DEFLATE");
    opts = CSLSetNameValue(opts, "ZLEVEL", "1");
    opts = CSLSetNameValue(opts, "PREDICTOR", "3");
    opts = CSLSetNameValue(opts, "SPARSE_OK", "TRUE");
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    GDALDatasetH ds =
        ct_raster_gtiff_create(path, r->width, r->height, GDT_Float32, r->geotransform, r->crs_wkt, opts, err);
    CSLDestroy(opts);
    if (!ds)
        return CT_ERR_RUNTIME;
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, NODATA);
    float *tile = malloc(sizeof(float) * TILE * TILE);
    ct_status st = tile ? CT_OK : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (int ty = 0; st == CT_OK && ty * TILE < r->height; ty++)
        for (int tx = 0; st == CT_OK && tx * TILE < r->width; tx++) {
            tile_fill(r, tx, ty, tile);
            if (GDALWriteBlock(b, tx, ty, tile) != CE_None)
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed at tile %d,%d: %s", path, tx, ty,
                                  CPLGetLastErrorMsg());
        }
    free(tile);
    GDALClose(ds);
    return st;
}

typedef struct pipe_ctx {
    const ct_raster *r;
    ct_flood_compress c;
    bool swap;
    int ntx, ntiles, nslots;
    tile_slot *slots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int next;    /* next tile to compress */
    int written; /* tiles appended so far */
    bool stop;
} pipe_ctx;

typedef struct worker_arg {
    pipe_ctx *p;
    coder *k;
} worker_arg;

static void *pipe_worker(void *arg)
{
    worker_arg *w = arg;
    pipe_ctx *p = w->p;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        /* a slot is free once the tile nslots before this one is appended;
         * p->next is read again after every wait (another worker may have
         * taken that tile meanwhile) */
        while (!p->stop && p->next < p->ntiles && p->next - p->written >= p->nslots)
            pthread_cond_wait(&p->cv, &p->mu);
        int i = p->next;
        if (p->stop || i >= p->ntiles) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->next = i + 1;
        pthread_mutex_unlock(&p->mu);
        tile_slot *sl = &p->slots[i % p->nslots];
        tile_out o = {sl->buf, sl->cap, 0};
        bool ok = tile_encode(p->r, i % p->ntx, i / p->ntx, p->c, p->swap, w->k, &o);
        pthread_mutex_lock(&p->mu);
        sl->size = o.size;
        sl->ok = ok;
        sl->tile = i;
        sl->ready = true;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Creates the GeoTIFF with GDAL, header and empty tile index only. */
static ct_status create_empty(const ct_raster *r, const char *path, ct_flood_compress c, ct_error *err)
{
    size_t ntiles = (size_t)((r->width + TILE - 1) / TILE) * (size_t)((r->height + TILE - 1) / TILE);
    /* Worst case (incompressible tiles) beyond 4 GB: BigTIFF. */
    double worst = (double)ntiles * (sizeof(float) * TILE * TILE * 1.01 + 64);
    char **opts = NULL;
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BLOCKXSIZE", "256");
    opts = CSLSetNameValue(opts, "BLOCKYSIZE", "256");
    opts = CSLSetNameValue(opts, "COMPRESS", c == CT_FLOOD_COMPRESS_ZSTD ? "ZSTD"
                                             : c == CT_FLOOD_COMPRESS_NONE ? "NONE"
                                                                           : "DEFLATE");
    if (c != CT_FLOOD_COMPRESS_NONE)
        opts = CSLSetNameValue(opts, "PREDICTOR", "3");
    opts = CSLSetNameValue(opts, "SPARSE_OK", "TRUE");
    opts = CSLSetNameValue(opts, "BIGTIFF", worst > 4.0e9 ? "YES" : "NO");
    GDALDatasetH ds =
        ct_raster_gtiff_create(path, r->width, r->height, GDT_Float32, r->geotransform, r->crs_wkt, opts, err);
    CSLDestroy(opts);
    if (!ds)
        return CT_ERR_RUNTIME;
    GDALSetRasterNoDataValue(GDALGetRasterBand(ds, 1), NODATA);
    GDALClose(ds);
    return CT_OK;
}

ct_status ct_flood_raster_write_with(const ct_raster *r, const char *path, const ct_flood_write_desc *d,
                                     ct_error *err)
{
    pthread_once(&g_once, gdal_init);
    ct_flood_compress c = d && d->compress ? d->compress : CT_FLOOD_COMPRESS_ZSTD;
    if (c == CT_FLOOD_COMPRESS_LZW)
        return write_with_gdal(r, path, c, err);
    ct_status st = create_empty(r, path, c, err);
    if (st != CT_OK)
        return st;
    TIFF *tif = TIFFOpen(path, "r+");
    uint32_t tw = 0, tl = 0;
    if (!tif || !TIFFIsTiled(tif) || !TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) ||
        !TIFFGetField(tif, TIFFTAG_TILELENGTH, &tl) || tw != TILE || tl != TILE) {
        if (tif)
            TIFFClose(tif);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot reopen the new GeoTIFF to write its tiles", path);
    }
    bool swap = TIFFIsByteSwapped(tif) != 0;
    const int ntx = (r->width + TILE - 1) / TILE, nty = (r->height + TILE - 1) / TILE;
    int nt = d && d->threads > 0 ? d->threads : 1;
#ifdef _OPENMP
    if (!(d && d->threads > 0))
        nt = omp_get_max_threads();
#endif
    if (nt < 1)
        nt = 1;
    /* nt compressor threads and this thread appending finished tiles in
     * order. Threads block on a condition variable rather than spin (an
     * OpenMP ordered loop spent more CPU spinning than compressing on the
     * loaded shared machine). */
    const size_t raw = sizeof(float) * TILE * TILE;
    size_t cap = c == CT_FLOOD_COMPRESS_ZSTD ? ZSTD_compressBound(raw) : raw + raw / 100 + 1024;
    pipe_ctx p = {.r = r, .c = c, .swap = swap, .ntx = ntx, .ntiles = ntx * nty, .nslots = 4 * nt};
    coder *k = calloc((size_t)nt, sizeof *k);
    p.slots = calloc((size_t)p.nslots, sizeof *p.slots);
    bool ok = k && p.slots;
    for (int i = 0; ok && i < p.nslots; i++) {
        p.slots[i].cap = cap;
        p.slots[i].tile = -1;
        ok = (p.slots[i].buf = malloc(cap)) != NULL;
    }
    for (int i = 0; ok && i < nt; i++) {
        k[i].tile = malloc(raw);
        k[i].pred = malloc(raw);
        if (c == CT_FLOOD_COMPRESS_DEFLATE)
            k[i].deflate = libdeflate_alloc_compressor(1);
        if (c == CT_FLOOD_COMPRESS_ZSTD)
            k[i].zstd = ZSTD_createCCtx();
        ok = k[i].tile && k[i].pred && (c != CT_FLOOD_COMPRESS_DEFLATE || k[i].deflate) &&
             (c != CT_FLOOD_COMPRESS_ZSTD || k[i].zstd);
    }
    pthread_t *th = ok ? calloc((size_t)nt, sizeof *th) : NULL;
    worker_arg *wa = ok ? calloc((size_t)nt, sizeof *wa) : NULL;
    if (!th || !wa)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for the tile compressors", path);
    int started = 0;
    if (st == CT_OK) {
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        for (int i = 0; i < nt; i++) {
            wa[i] = (worker_arg){&p, &k[i]};
            if (pthread_create(&th[i], NULL, pipe_worker, &wa[i]) != 0)
                break;
            started++;
        }
        if (started == 0)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot start a compressor thread", path);
    }
    int failed = -1;
    bool io_error = false;
    for (int i = 0; st == CT_OK && i < p.ntiles; i++) {
        tile_slot *sl = &p.slots[i % p.nslots];
        pthread_mutex_lock(&p.mu);
        while (!(sl->tile == i && sl->ready))
            pthread_cond_wait(&p.cv, &p.mu);
        pthread_mutex_unlock(&p.mu);
        if (!sl->ok) {
            failed = i;
        } else if (sl->size > 0) {
            uint32_t idx = TIFFComputeTile(tif, (uint32_t)(i % ntx) * TILE, (uint32_t)(i / ntx) * TILE, 0, 0);
            if (TIFFWriteRawTile(tif, idx, sl->buf, (tmsize_t)sl->size) != (tmsize_t)sl->size) {
                failed = i;
                io_error = true;
            }
        }
        pthread_mutex_lock(&p.mu);
        sl->ready = false;
        p.written = i + 1;
        if (failed >= 0)
            p.stop = true;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        if (failed >= 0)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: %s at tile %d,%d", path,
                              io_error ? "write failed (disk full?)" : "compression failed", failed % ntx,
                              failed / ntx);
    }
    if (started > 0) {
        pthread_mutex_lock(&p.mu);
        p.stop = true;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
    }
    free(th);
    free(wa);
    for (int i = 0; p.slots && i < p.nslots; i++)
        free(p.slots[i].buf);
    free(p.slots);
    for (int i = 0; k && i < nt; i++) {
        free(k[i].tile);
        free(k[i].pred);
        if (k[i].deflate)
            libdeflate_free_compressor(k[i].deflate);
        ZSTD_freeCCtx(k[i].zstd);
    }
    free(k);
    /* TIFFClose rewrites the tile index (offsets and byte counts). */
    if (TIFFFlush(tif) != 1 && st == CT_OK)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write the tile index", path);
    TIFFClose(tif);
    return st;
}

ct_status ct_flood_raster_write(const ct_raster *r, const char *path, ct_error *err)
{
    return ct_flood_raster_write_with(r, path, NULL, err);
}
