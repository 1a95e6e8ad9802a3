/* Viewshed on a DEM: the single-scan method of Wang, Robinson & White (2000)
 * in the "edge" variant GDAL's gdal_viewshed uses, so both give the same
 * cells. Each cell's sight-line height is interpolated from the two cells
 * next to it towards the observer (already processed), a cell is visible
 * when its height + target height reaches that line, and the cell then keeps
 * max(height, line) as the "observable height" later cells look over.
 *
 * Why four quadrants: the row through the observer and the column through it
 * only depend on themselves; once they are done, each quadrant (up-left,
 * up-right, down-left, down-right) only reads its own previous row and its
 * own cells, so the four run in parallel with identical results. */
#include "citytwin/ct_visibility.h"
#include "visibility_internal.h"

#include <gdal.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define HOLE_HEIGHT (-1e30) /* observable height of a hole next to the observer: blocks nothing */

/* Rows of the DEM read from the file as the scan needs them: one block row
 * (of the window's columns) at a time per thread and direction, so the
 * whole DEM never sits in memory (faulting in a 400 MB grid cost more CPU
 * than the scan itself on our virtual machines). */
typedef struct vs_strip {
    float *buf;   /* rows r0..r0+n-1 of the window, w cells each */
    int r0, n;
} vs_strip;

typedef struct vs_file {
    GDALRasterBandH band[4]; /* one dataset handle per thread group */
    GDALDatasetH ds[4];
    void *block[4];          /* one block of the file's type, per group */
    GDALDataType type;
    int bx, by;              /* block size */
    bool has_nd;
    float nd;
    vs_strip strip[8];       /* per group and direction (up, down) */
    int failed_row;          /* first block row that could not be read, -1 */
} vs_file;

typedef struct vs_ctx {
    const float *mem;   /* the DEM in memory (NULL: read from file) */
    size_t mem_w;       /* its row length */
    vs_file *file;
    const float *orow;  /* the observer's row, window columns 0..w-1 */
    const float *ocol;  /* the observer's column, window rows 0..h-1 */
    int xs, ys, w, h;   /* window in the DEM */
    int cx, cy;         /* observer in the window */
    double zo;          /* eye height */
    double tz;          /* target height */
    double md2;         /* max distance squared (metres^2); 0 = none */
    double cc, diam;    /* curvature coefficient and sphere diameter (0 = no correction) */
    double sx, sy;      /* metres per CRS unit along x and y (1 for projected CRSs) */
    const double *gt;
    uint8_t oor;
    uint8_t *out;
    double *center;     /* observable heights of the observer's column, per window row */
    double *row0;       /* observable heights of the observer's row, per window column */
    ct_progress_fn progress; /* optional, called from OpenMP thread 0 only */
    void *progress_user;
    int *rows_done;     /* rows scanned by all quadrants (about 2 h in all) */
} vs_ctx;

/* Squared metric distance of a cell offset (in cells) from the observer. */
static inline double offset_r2(const vs_ctx *c, int dc, int dr)
{
    double x = (c->gt[1] * dc + c->gt[2] * dr) * c->sx;
    double y = (c->gt[4] * dc + c->gt[5] * dr) * c->sy;
    return x * x + y * y;
}

/* Nodata cells of a freshly read run of heights become NAN. */
static void nodata_to_nan(float *v, size_t n, float nd)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == nd || (isnan(nd) && isnan(v[i])))
            v[i] = NAN;
}

/* Reads the block row holding window row `row` (all window columns) into
 * strip s, through group g's dataset handle. Unreadable blocks: NAN and
 * failed_row set (reported once the scan ends). */
static void strip_load(const vs_ctx *c, vs_strip *s, int g, int row)
{
    vs_file *f = c->file;
    int j = (c->ys + row) / f->by;
    int r0 = j * f->by - c->ys, r1 = r0 + f->by;
    if (r0 < 0)
        r0 = 0;
    if (r1 > c->h)
        r1 = c->h;
    s->r0 = r0;
    s->n = r1 - r0;
    int dsize = GDALGetDataTypeSizeBytes(f->type);
    int i0 = c->xs / f->bx, i1 = (c->xs + c->w - 1) / f->bx;
    for (int i = i0; i <= i1; i++) {
        /* block columns [bc0, bc1) of this block that fall inside the window */
        int bc0 = c->xs > i * f->bx ? c->xs - i * f->bx : 0;
        int bc1 = c->xs + c->w < (i + 1) * f->bx ? c->xs + c->w - i * f->bx : f->bx;
        float *dst0 = s->buf + (i * f->bx + bc0 - c->xs);
        if (!f->band[g] || GDALReadBlock(f->band[g], i, j, f->block[g]) != CE_None) {
            for (int r = 0; r < s->n; r++)
                for (int k = 0; k < bc1 - bc0; k++)
                    dst0[(size_t)r * c->w + k] = NAN;
#pragma omp critical(vs_fail)
            if (f->failed_row < 0 || j < f->failed_row)
                f->failed_row = j;
            continue;
        }
        for (int r = 0; r < s->n; r++) {
            int br = c->ys + r0 + r - j * f->by; /* row inside the block */
            GDALCopyWords((const char *)f->block[g] + ((size_t)br * f->bx + bc0) * dsize, f->type, dsize,
                          dst0 + (size_t)r * c->w, GDT_Float32, sizeof(float), bc1 - bc0);
        }
    }
    if (f->has_nd)
        for (int r = 0; r < s->n; r++)
            nodata_to_nan(s->buf + (size_t)r * c->w, (size_t)c->w, f->nd);
}

/* Heights of window row `row`, window columns 0..w-1, for thread group g
 * scanning in direction dir (0 up, 1 down). */
static const float *vs_row(const vs_ctx *c, int g, int dir, int row)
{
    if (c->mem)
        return c->mem + (size_t)(c->ys + row) * c->mem_w + (size_t)c->xs;
    vs_strip *s = &c->file->strip[2 * g + dir];
    if (row < s->r0 || row >= s->r0 + s->n)
        strip_load(c, s, g, row);
    return s->buf + (size_t)(row - s->r0) * c->w;
}

/* Height v of a window cell lowered for curvature; false when out of range. */
static inline bool cell_height(const vs_ctx *c, double v, double r2, double *z)
{
    if (c->diam > 0)
        v -= c->cc * r2 / c->diam;
    *z = v;
    return !(c->md2 > 0 && r2 > c->md2);
}

/* Sight-line height at distance i along a line through the observer, from the
 * observable height za one cell closer. */
static inline double line_height(int i, double za, double zo)
{
    return i == 1 ? za : (za - zo) / (i - 1) + za;
}

/* Sight-line height at (i, j) (i < j): interpolated between the cell at
 * (i-1, j-1) (za) and the one at (i, j-1) or (i-1, j) (zb), in the plane
 * through the observer. */
static inline double edge_height(int i, int j, double za, double zb, double zo)
{
    if (i == j)
        return line_height(i, za, zo);
    return ((za - zo) * i + (zb - zo) * (j - i)) / (j - 1) + zo;
}

/* Observable height left by a cell of height h under a sight line at z:
 * max(h, z), and z for a hole (NaN h compares false). */
static inline double observable(double h, double z)
{
    return h > z ? h : z;
}

/* Visibility of one cell given its height h and the sight-line height z;
 * returns the observable height it leaves behind. */
static inline double set_cell(const vs_ctx *c, uint8_t *o, double h, double z)
{
    if (isnan(h)) {
        *o = c->oor;
        return z;
    }
    *o = h + c->tz < z ? 0 : 255;
    return h < z ? z : h;
}

static void scan_observer_row(vs_ctx *c)
{
    uint8_t *o = c->out + (size_t)c->cy * c->w;
    double *r0 = c->row0;
    float g = c->orow[c->cx];
    r0[c->cx] = isnan(g) ? HOLE_HEIGHT : g;
    o[c->cx] = 255;
    for (int s = -1; s <= 1; s += 2) {
        bool out = false;
        for (int dx = 1;; dx++) {
            int col = c->cx + s * dx;
            if (col < 0 || col >= c->w)
                break;
            if (out) {
                o[col] = c->oor;
                continue;
            }
            double h, r2 = offset_r2(c, s * dx, 0);
            bool in = cell_height(c, c->orow[col], r2, &h);
            if (dx == 1) { /* the observer's neighbours are always visible */
                r0[col] = isnan(h) ? HOLE_HEIGHT : h;
                o[col] = isnan(h) ? c->oor : 255;
                continue;
            }
            if (!in) {
                out = true;
                o[col] = c->oor;
                continue;
            }
            double z = line_height(dx, r0[col - s], c->zo);
            r0[col] = set_cell(c, &o[col], h, z);
        }
    }
}

static void scan_observer_column(vs_ctx *c)
{
    c->center[c->cy] = c->row0[c->cx];
    for (int s = -1; s <= 1; s += 2) {
        bool out = false;
        for (int dy = 1;; dy++) {
            int row = c->cy + s * dy;
            if (row < 0 || row >= c->h)
                break;
            uint8_t *o = c->out + (size_t)row * c->w + c->cx;
            double h, r2 = offset_r2(c, 0, s * dy);
            bool in = cell_height(c, c->ocol[row], r2, &h);
            if (out || !in) {
                out = true;
                *o = c->oor;
                c->center[row] = isnan(h) ? HOLE_HEIGHT : h;
                continue;
            }
            double z = line_height(dy, c->center[row - s], c->zo);
            c->center[row] = set_cell(c, o, h, z);
        }
    }
}

/* One quadrant (sxd, syd = +-1, away from the observer), scanned one row at a
 * time. Arrays are indexed by dx, the column distance from the observer's
 * column (0 = that column): P and C hold the observable heights of the
 * previous and the current row, H the current row's heights (curvature
 * applied, NaN for holes), Z its sight-line heights. */
typedef struct vs_quad {
    int sxd, syd;
    int nq, nrows;  /* cells per row beside the observer's column, rows beyond the observer's row */
    int lim;        /* cells of the current row within range: dx = 1..lim */
    double *P, *C, *H, *Z;
} vs_quad;

/* Row dy of a quadrant, before the part that depends on its own cells:
 * heights, range, the cells nearer the observer's column than the diagonal
 * (they only read the previous row: independent, vectorizable), the
 * diagonal cell. The arithmetic is edge_height / line_height's, in the
 * same order, so the results are bitwise those of the plain scan. */
static void quad_row_begin(const vs_ctx *c, vs_quad *q, int g, int dy, const double *D)
{
    int row = c->cy + q->syd * dy;
    const float *src = vs_row(c, g, q->syd > 0, row) + c->cx;
    double *restrict H = q->H;
    int lim = 0;
    for (int dx = 1; dx <= q->nq; dx++) {
        double r2 = offset_r2(c, q->sxd * dx, q->syd * dy);
        if (c->md2 > 0 && r2 > c->md2)
            break; /* distance only grows further out along the row */
        double v = src[q->sxd * dx];
        if (c->diam > 0)
            v -= c->cc * r2 / c->diam;
        H[dx] = v;
        lim = dx;
    }
    q->lim = lim;
    const double *restrict P = q->P;
    double *restrict C = q->C, *restrict Z = q->Z;
    double zo = c->zo;
    int na = dy - 1 < lim ? dy - 1 : lim;
    double dm = D[dy - 1];
    for (int dx = 1; dx <= na; dx++) {
        double z = ((P[dx - 1] - zo) * D[dx] + (P[dx] - zo) * D[dy - dx]) / dm + zo;
        Z[dx] = z;
        C[dx] = observable(H[dx], z);
    }
    if (dy <= lim) {
        double za = P[dy - 1];
        double z = dy == 1 ? za : (za - zo) / dm + za;
        Z[dy] = z;
        C[dy] = observable(H[dy], z);
    }
}

/* The cells beyond the diagonal (dx > dy) each depend on the previous cell
 * of the same row: a chain bound by the division's latency. Up to four
 * quadrants' chains are interleaved so that the core overlaps them. */
#define CHAIN_STEP(k)                                                                                       \
    do {                                                                                                    \
        int dx_ = dy + 1 + t;                                                                               \
        double z_ = ((L[k]->P[dx_ - 1] - zo) * ddy + (cp##k - zo) * D[dx_ - dy]) / D[dx_ - 1] + zo;         \
        L[k]->Z[dx_] = z_;                                                                                  \
        cp##k = observable(L[k]->H[dx_], z_);                                                               \
        L[k]->C[dx_] = cp##k;                                                                               \
    } while (0)

static void quad_chains(vs_quad **lanes, int nl, int dy, double zo, const double *D)
{
    vs_quad *L[4];
    int n[4];
    int m = 0;
    for (int i = 0; i < nl; i++) {
        int k = lanes[i]->lim - dy;
        if (k <= 0)
            continue;
        /* insertion by decreasing length */
        int j = m++;
        while (j > 0 && n[j - 1] < k) {
            n[j] = n[j - 1];
            L[j] = L[j - 1];
            j--;
        }
        n[j] = k;
        L[j] = lanes[i];
    }
    if (m == 0)
        return;
    double ddy = D[dy];
    double cp0 = L[0]->C[dy], cp1 = m > 1 ? L[1]->C[dy] : 0, cp2 = m > 2 ? L[2]->C[dy] : 0,
           cp3 = m > 3 ? L[3]->C[dy] : 0;
    int t = 0;
    if (m == 4) {
        for (; t < n[3]; t++) {
            CHAIN_STEP(0);
            CHAIN_STEP(1);
            CHAIN_STEP(2);
            CHAIN_STEP(3);
        }
        m = 3;
    }
    if (m == 3) {
        for (; t < n[2]; t++) {
            CHAIN_STEP(0);
            CHAIN_STEP(1);
            CHAIN_STEP(2);
        }
        m = 2;
    }
    if (m == 2) {
        for (; t < n[1]; t++) {
            CHAIN_STEP(0);
            CHAIN_STEP(1);
        }
    }
    for (; t < n[0]; t++)
        CHAIN_STEP(0);
    (void)cp1;
    (void)cp2;
    (void)cp3;
}

/* Writes row dy's cells, counts them, and makes it the previous row. */
static void quad_row_end(const vs_ctx *c, vs_quad *q, int dy)
{
    int row = c->cy + q->syd * dy;
    uint8_t *o = c->out + (size_t)row * c->w + c->cx;
    const double *restrict H = q->H, *restrict Z = q->Z;
    double tz = c->tz;
    uint8_t oor = c->oor;
    int lim = q->lim;
    if (q->sxd > 0) {
        for (int dx = 1; dx <= lim; dx++) {
            double h = H[dx];
            uint8_t v = h + tz < Z[dx] ? 0 : 255;
            o[dx] = h != h ? oor : v;
        }
        for (int dx = lim + 1; dx <= q->nq; dx++)
            o[dx] = oor;
    } else {
        for (int dx = 1; dx <= lim; dx++) {
            double h = H[dx];
            uint8_t v = h + tz < Z[dx] ? 0 : 255;
            o[-dx] = h != h ? oor : v;
        }
        for (int dx = lim + 1; dx <= q->nq; dx++)
            o[-dx] = oor;
    }
    double *t = q->P;
    q->P = q->C;
    q->C = t;
    q->P[0] = c->center[row];
}

/* Scans a group of quadrants in lockstep, row distance by row distance. */
static void scan_quadrants(const vs_ctx *c, int group, vs_quad **g, int ng, const double *D)
{
    int maxrows = 0;
    for (int i = 0; i < ng; i++)
        if (g[i]->nq > 0 && g[i]->nrows > maxrows)
            maxrows = g[i]->nrows;
    for (int dy = 1; dy <= maxrows; dy++) {
        vs_quad *act[4];
        int na = 0;
        for (int i = 0; i < ng; i++)
            if (g[i]->nq > 0 && dy <= g[i]->nrows)
                act[na++] = g[i];
        for (int i = 0; i < na; i++)
            quad_row_begin(c, act[i], group, dy, D);
        quad_chains(act, na, dy, c->zo, D);
        for (int i = 0; i < na; i++)
            quad_row_end(c, act[i], dy);
        if (c->progress) {
            int done;
#pragma omp atomic capture
            done = *c->rows_done += na;
#ifdef _OPENMP
            if (omp_get_thread_num() == 0)
#endif
                c->progress(c->progress_user, done / (2.0 * c->h));
        }
    }
}

/* Metres per CRS unit (x, y) and the semi-major axis; false if the CRS is unknown. */
static bool crs_scale(const char *wkt, double lat, double *sx, double *sy, double *semi_major)
{
    *sx = *sy = 1;
    *semi_major = 0;
    if (!wkt || !*wkt)
        return false;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    bool ok = OSRSetFromUserInput(srs, wkt) == OGRERR_NONE;
    if (ok) {
        OGRErr e = OGRERR_NONE;
        double a = OSRGetSemiMajor(srs, &e);
        if (e == OGRERR_NONE && a > 0)
            *semi_major = a;
        else
            ok = false;
        if (ok && OSRIsGeographic(srs)) {
            double m_per_deg = a * M_PI / 180.0;
            *sy = m_per_deg;
            *sx = m_per_deg * cos(lat * M_PI / 180.0);
        } else if (ok) {
            double lin = OSRGetLinearUnits(srs, NULL);
            if (lin > 0)
                *sx = *sy = lin;
        }
    }
    OSRDestroySpatialReference(srs);
    return ok;
}

/* What the scan reads: a DEM in memory, or a file read block row by block
 * row while scanning. */
typedef struct vs_input {
    int width, height;
    double gt[6];
    const char *crs_wkt;
    const float *data;  /* in memory (nodata already NAN); NULL: read path */
    const char *path;
    bool has_nd;        /* file: nodata value to turn into NAN */
    float nd;
} vs_input;

/* File input: one dataset handle and block buffer per thread group; the
 * observer's row and column read up front (block by block: no block cache,
 * which would otherwise fill with the whole file on a striped DEM). */
static ct_status file_open(const vs_input *in, vs_ctx *c, vs_file *f, int ngroups, float **orow, float **ocol,
                           ct_error *err)
{
    memset(f, 0, sizeof *f);
    f->failed_row = -1;
    f->has_nd = in->has_nd;
    f->nd = in->nd;
    for (int g = 0; g < ngroups; g++) {
        f->ds[g] = GDALOpenEx(in->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        f->band[g] = f->ds[g] ? GDALGetRasterBand(f->ds[g], 1) : NULL;
        if (!f->band[g])
            return ct_error_set(err, CT_ERR_INPUT, "%s: cannot reopen the DEM", in->path);
    }
    GDALGetBlockSize(f->band[0], &f->bx, &f->by);
    f->type = GDALGetRasterDataType(f->band[0]);
    int dsize = GDALGetDataTypeSizeBytes(f->type);
    if (f->bx <= 0 || f->by <= 0 || dsize <= 0 || GDALDataTypeIsComplex(f->type))
        return ct_error_set(err, CT_ERR_INPUT, "%s: unsupported band layout", in->path);
    for (int g = 0; g < ngroups; g++)
        if (!(f->block[g] = malloc((size_t)f->bx * f->by * dsize)))
            return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", in->path);
    /* strips: group g scans upward (dir 0), downward (dir 1) or both */
    for (int g = 0; g < ngroups; g++)
        for (int dir = 0; dir < 2; dir++) {
            bool used = ngroups == 1 || (ngroups == 2 ? dir == g : dir == g / 2);
            if (used && !(f->strip[2 * g + dir].buf = ct_malloc_array((size_t)f->by * c->w, sizeof(float))))
                return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for a strip of %d rows", in->path, f->by);
            f->strip[2 * g + dir].n = 0;
        }
    *orow = ct_malloc_array((size_t)c->w, sizeof(float));
    *ocol = ct_malloc_array((size_t)c->h, sizeof(float));
    if (!*orow || !*ocol)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", in->path);
    c->file = f;
    /* the observer's row: one strip load, copied out */
    vs_strip *s0 = f->strip[0].buf ? &f->strip[0] : &f->strip[1];
    strip_load(c, s0, 0, c->cy);
    memcpy(*orow, s0->buf + (size_t)(c->cy - s0->r0) * c->w, sizeof(float) * c->w);
    s0->n = 0;
    /* the observer's column: the blocks of its block column */
    int col = c->xs + c->cx, i = col / f->bx;
    for (int j = c->ys / f->by; j <= (c->ys + c->h - 1) / f->by; j++) {
        bool ok = GDALReadBlock(f->band[0], i, j, f->block[0]) == CE_None;
        for (int br = 0; br < f->by; br++) {
            int row = j * f->by + br - c->ys;
            if (row < 0 || row >= c->h)
                continue;
            float v = NAN;
            if (ok)
                GDALCopyWords((const char *)f->block[0] + ((size_t)br * f->bx + (col - i * f->bx)) * dsize, f->type,
                              dsize, &v, GDT_Float32, sizeof(float), 1);
            (*ocol)[row] = v;
        }
        if (!ok && (f->failed_row < 0 || j < f->failed_row))
            f->failed_row = j;
    }
    if (f->has_nd)
        nodata_to_nan(*ocol, (size_t)c->h, f->nd);
    if (f->failed_row >= 0)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cannot read block row %d: %s", in->path, f->failed_row,
                            CPLGetLastErrorMsg());
    return CT_OK;
}

static void file_close(vs_file *f)
{
    for (int g = 0; g < 4; g++) {
        if (f->ds[g])
            GDALClose(f->ds[g]);
        free(f->block[g]);
    }
    for (int k = 0; k < 8; k++)
        free(f->strip[k].buf);
}

static ct_status viewshed_run(const vs_input *in, const ct_viewshed_desc *desc, ct_viewshed **out, ct_error *err)
{
    *out = NULL;
    const double *gt = in->gt;
    double inv[6];
    if (!GDALInvGeoTransform((double *)gt, inv))
        return ct_error_set(err, CT_ERR_INPUT, "viewshed: the DEM's geotransform cannot be inverted");
    double fx = inv[0] + inv[1] * desc->observer_x + inv[2] * desc->observer_y;
    double fy = inv[3] + inv[4] * desc->observer_x + inv[5] * desc->observer_y;
    if (!(fx >= 0 && fy >= 0 && fx < in->width && fy < in->height))
        return ct_error_set(err, CT_ERR_INPUT,
                            "viewshed: observer (%.3f, %.3f) falls outside the DEM (cell %.1f, %.1f of %dx%d)",
                            desc->observer_x, desc->observer_y, fx, fy, in->width, in->height);
    if (!(desc->max_distance >= 0) || !isfinite(desc->observer_height) || !isfinite(desc->target_height) ||
        !isfinite(desc->curvature))
        return ct_error_set(err, CT_ERR_USAGE, "viewshed: max distance must be >= 0 and heights finite");
    int ox = (int)fx, oy = (int)fy;

    vs_ctx c = {0};
    c.gt = gt;
    double semi_major;
    bool known = crs_scale(in->crs_wkt, desc->observer_y, &c.sx, &c.sy, &semi_major);
    c.diam = known && desc->curvature != 0 ? 2.0 * semi_major : 0;
    c.cc = desc->curvature;
    c.md2 = desc->max_distance * desc->max_distance;
    c.tz = desc->target_height;
    c.oor = desc->out_of_range_value ? desc->out_of_range_value : 1;

    int xs = 0, ys = 0, xe = in->width, ye = in->height;
    if (desc->max_distance > 0) {
        double hx = desc->max_distance / (fabs(gt[1]) * c.sx), hy = desc->max_distance / (fabs(gt[5]) * c.sy);
        if (gt[2] != 0 || gt[4] != 0) /* rotated: keep the whole raster */
            hx = hy = 1e18;
        double a = floor(ox - hx), b = ceil(ox + hx) + 1, d = floor(oy - hy), e = ceil(oy + hy) + 1;
        xs = a > 0 ? (int)a : 0;
        ys = d > 0 ? (int)d : 0;
        xe = b < in->width ? (int)b : in->width;
        ye = e < in->height ? (int)e : in->height;
    }
    c.xs = xs;
    c.ys = ys;
    c.w = xe - xs;
    c.h = ye - ys;
    c.cx = ox - xs;
    c.cy = oy - ys;
    int nthreads = 1;
#ifdef _OPENMP
    nthreads = desc->threads > 0 ? desc->threads : omp_get_max_threads();
    if (nthreads > 4)
        nthreads = 4;
#endif
    /* Groups of quadrants scanned by one thread each: all four interleaved on
     * one thread, the upper and the lower pair on two, one each on four. */
    int ngroups = nthreads >= 4 ? 4 : nthreads >= 2 ? 2 : 1;

    vs_file file;
    float *orow = NULL, *ocol = NULL;
    ct_status st = CT_OK;
    if (in->data) {
        c.mem = in->data;
        c.mem_w = (size_t)in->width;
        orow = (float *)(in->data + (size_t)oy * in->width + xs); /* not freed: points into the DEM */
        ocol = ct_malloc_array((size_t)c.h, sizeof(float));
        if (!ocol)
            return ct_error_set(err, CT_ERR_RUNTIME, "viewshed: out of memory");
        for (int r = 0; r < c.h; r++)
            ocol[r] = in->data[(size_t)(ys + r) * in->width + (size_t)ox];
    } else {
        st = file_open(in, &c, &file, ngroups, &orow, &ocol, err);
    }
    c.orow = orow;
    c.ocol = ocol;
    float ground = st == CT_OK ? orow[c.cx] : NAN;
    if (st == CT_OK && isnan(ground) && !desc->has_observer_ground)
        st = ct_error_set(err, CT_ERR_INPUT, "viewshed: observer (%.3f, %.3f) stands on a nodata cell (%d, %d)",
                          desc->observer_x, desc->observer_y, ox, oy);
    c.zo = (desc->has_observer_ground ? desc->observer_ground : ground) + desc->observer_height;

    ct_viewshed *v = NULL;
    double *bufs = NULL;
    size_t rl = (size_t)c.w + 2;
    if (st == CT_OK) {
        v = calloc(1, sizeof *v);
        c.out = ct_malloc_array((size_t)c.w * c.h, 1);
        c.center = ct_malloc_array((size_t)c.h, sizeof(double));
        c.row0 = ct_malloc_array((size_t)c.w, sizeof(double));
        /* Per quadrant: P, C, H, Z rows of w + 1 doubles; D[i] = i as a double. */
        bufs = ct_malloc_array(16 * rl + (size_t)(c.w > c.h ? c.w : c.h) + 2, sizeof(double));
        if (!v || !c.out || !c.center || !c.row0 || !bufs)
            st = ct_error_set(err, CT_ERR_RUNTIME, "viewshed: out of memory for a %dx%d window", c.w, c.h);
    }
    if (st != CT_OK) {
        free(v);
        free(c.out);
        free(c.center);
        free(c.row0);
        free(bufs);
        free(ocol);
        if (!in->data) {
            free(orow);
            file_close(&file);
        }
        return st;
    }
    int rows_done = 0;
    c.progress = desc->progress;
    c.progress_user = desc->progress_user;
    c.rows_done = &rows_done;
    ct_visibility_advise_huge(c.out, (size_t)c.w * c.h);
    double *D = bufs + 16 * rl;
    for (int i = 0; i < (c.w > c.h ? c.w : c.h) + 2; i++)
        D[i] = i;
    scan_observer_row(&c);
    scan_observer_column(&c);
    vs_quad quads[4];
    for (int q = 0; q < 4; q++) {
        vs_quad *Q = &quads[q];
        double *b = bufs + 4 * rl * q;
        Q->sxd = q & 1 ? 1 : -1;
        Q->syd = q & 2 ? 1 : -1;
        Q->nq = Q->sxd > 0 ? c.w - 1 - c.cx : c.cx;
        Q->nrows = Q->syd > 0 ? c.h - 1 - c.cy : c.cy;
        Q->lim = 0;
        Q->P = b;
        Q->C = b + rl;
        Q->H = b + 2 * rl;
        Q->Z = b + 3 * rl;
        for (int dx = 0; dx <= Q->nq; dx++)
            Q->P[dx] = c.row0[c.cx + Q->sxd * dx];
    }
    vs_quad *groups[4][4] = {{&quads[0], &quads[1], &quads[2], &quads[3]}};
    int gsize[4] = {4};
    if (ngroups == 2) {
        groups[0][0] = &quads[0], groups[0][1] = &quads[1], gsize[0] = 2;
        groups[1][0] = &quads[2], groups[1][1] = &quads[3], gsize[1] = 2;
    } else if (ngroups == 4) {
        for (int q = 0; q < 4; q++)
            groups[q][0] = &quads[q], gsize[q] = 1;
    }
#pragma omp parallel for schedule(static, 1) num_threads(ngroups)
    for (int g = 0; g < ngroups; g++)
        scan_quadrants(&c, g, groups[g], gsize[g], D);
    free(bufs);
    free(c.center);
    free(c.row0);
    free(ocol);
    if (!in->data) {
        free(orow);
        int bad = file.failed_row;
        file_close(&file);
        if (bad >= 0) {
            free(c.out);
            free(v);
            return ct_error_set(err, CT_ERR_INPUT, "%s: cannot read block row %d", in->path, bad);
        }
    }
    uint64_t vis = 0, tot = 0;
    size_t n = (size_t)c.w * c.h;
    for (size_t i = 0; i < n; i++) {
        vis += c.out[i] == 255;
        tot += c.out[i] != c.oor;
    }
    v->width = c.w;
    v->height = c.h;
    v->x_off = xs;
    v->y_off = ys;
    v->cells = c.out;
    v->out_of_range_value = c.oor;
    v->visible_cells = vis;
    v->total_cells = tot;
    v->observer_col = ox;
    v->observer_row = oy;
    v->observer_z = c.zo;
    v->geotransform[0] = gt[0] + gt[1] * xs + gt[2] * ys;
    v->geotransform[1] = gt[1];
    v->geotransform[2] = gt[2];
    v->geotransform[3] = gt[3] + gt[4] * xs + gt[5] * ys;
    v->geotransform[4] = gt[4];
    v->geotransform[5] = gt[5];
    v->crs_wkt = ct_strdup(in->crs_wkt ? in->crs_wkt : "");
    *out = v;
    return CT_OK;
}

ct_status ct_viewshed_compute(const ct_raster *dem, const ct_viewshed_desc *desc, ct_viewshed **out, ct_error *err)
{
    *out = NULL;
    if (!dem || !dem->data || !desc)
        return ct_error_set(err, CT_ERR_USAGE, "viewshed: no DEM or options");
    vs_input in = {.width = dem->width, .height = dem->height, .crs_wkt = dem->crs_wkt, .data = dem->data};
    memcpy(in.gt, dem->geotransform, sizeof in.gt);
    return viewshed_run(&in, desc, out, err);
}

ct_status ct_viewshed_compute_file(const char *path, const ct_viewshed_desc *desc, ct_viewshed **out, ct_error *err)
{
    *out = NULL;
    if (!path || !desc)
        return ct_error_set(err, CT_ERR_USAGE, "viewshed: no DEM or options");
    GDALAllRegister();
    CPLPushErrorHandler(CPLQuietErrorHandler);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a raster GDAL can read", path);
    vs_input in = {.width = GDALGetRasterXSize(ds), .height = GDALGetRasterYSize(ds), .path = path};
    if (GDALGetRasterCount(ds) < 1 || in.width <= 0 || in.height <= 0) {
        GDALClose(ds);
        return ct_error_set(err, CT_ERR_INPUT, "%s: no band, or an empty raster", path);
    }
    if (GDALGetGeoTransform(ds, in.gt) != CE_None) {
        double id[6] = {0, 1, 0, 0, 0, -1};
        memcpy(in.gt, id, sizeof id);
    }
    const char *wkt = GDALGetProjectionRef(ds);
    char *crs = ct_strdup(wkt ? wkt : "");
    int has = 0;
    double nd = GDALGetRasterNoDataValue(GDALGetRasterBand(ds, 1), &has);
    GDALClose(ds);
    in.crs_wkt = crs;
    in.has_nd = has != 0;
    in.nd = (float)nd;
    ct_status st = crs ? viewshed_run(&in, desc, out, err) : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    free(crs);
    return st;
}

ct_status ct_viewshed_write_gtiff(const ct_viewshed *v, const char *path, ct_error *err)
{
    char **opts = NULL;
    /* A visibility mask is long runs of 0 and 255: PackBits (run-length) costs
     * almost nothing over no compression and makes the file ~60x smaller. */
    opts = CSLSetNameValue(opts, "COMPRESS", "PACKBITS");
    opts = CSLSetNameValue(opts, "TILED", "YES");
    opts = CSLSetNameValue(opts, "BIGTIFF", "IF_SAFER");
    GDALDatasetH ds =
        ct_raster_gtiff_create(path, v->width, v->height, GDT_Byte, v->geotransform, v->crs_wkt, opts, err);
    CSLDestroy(opts);
    if (!ds)
        return CT_ERR_RUNTIME;
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, v->out_of_range_value);
    /* Tile by tile through GDALWriteBlock from one small buffer: a whole-
     * raster GDALRasterIO would first copy the mask into GDAL's block cache
     * (another 100 MB of fresh memory for a 10,000^2 grid). */
    int bx = 0, by = 0;
    GDALGetBlockSize(b, &bx, &by);
    CPLErr e = CE_None;
    uint8_t *tile = bx > 0 && by > 0 ? malloc((size_t)bx * by) : NULL;
    if (!tile) {
        e = GDALRasterIO(b, GF_Write, 0, 0, v->width, v->height, v->cells, v->width, v->height, GDT_Byte, 0, 0);
    } else {
        int nbx = (v->width + bx - 1) / bx, nby = (v->height + by - 1) / by;
        for (int j = 0; j < nby && e == CE_None; j++)
            for (int i = 0; i < nbx && e == CE_None; i++) {
                int cw = (i + 1) * bx > v->width ? v->width - i * bx : bx;
                int ch = (j + 1) * by > v->height ? v->height - j * by : by;
                if (cw < bx || ch < by)
                    memset(tile, v->out_of_range_value, (size_t)bx * by);
                for (int r = 0; r < ch; r++)
                    memcpy(tile + (size_t)r * bx, v->cells + (size_t)(j * by + r) * v->width + (size_t)i * bx,
                           (size_t)cw);
                e = GDALWriteBlock(b, i, j, tile);
            }
        free(tile);
    }
    GDALClose(ds);
    if (e != CE_None)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write: %s", path, CPLGetLastErrorMsg());
    return CT_OK;
}

void ct_viewshed_destroy(ct_viewshed *v)
{
    if (!v)
        return;
    free(v->cells);
    free(v->crs_wkt);
    free(v);
}
