/* Dynamic 2D flood: the local inertial approximation of the shallow-water
 * equations (Bates, Horritt & Fewtrell 2010) in the q-centred form of de
 * Almeida et al. (2012), on the DEM grid:
 *
 *   q' = [θ q + (1-θ)/2 (q_prev + q_next) - g h_f dt ∂η/∂x]
 *        / [1 + g dt n² |q| / h_f^(7/3)]
 *   h' = h + dt (Σ q_in - Σ q_out) / cell width + rain dt + inflow dt / A
 *
 * with h_f = max(η_a, η_b) - max(z_a, z_b) the flow depth at a face, no flow
 * where h_f <= h_dry, dt = α / (sqrt(g h_max) sqrt(1/dx² + 1/dy²)): α (0.7) of
 * the 2D stability limit. (Bates et al.'s 1D form α dx / sqrt(g h) with
 * α = 0.7 sits at the 2D limit: a low-friction basin then keeps a chequerboard
 * seiche going, which we measured; hence the 2D form.) The
 * flow limiter keeps depths non-negative and mass exact: when a cell's
 * outflows over dt exceed its water, all its outgoing face fluxes are
 * scaled down by the same factor (each face flux is scaled by its donor
 * cell's factor, so both sides see the same flux).
 *
 * Data layout: the block of this process (the whole grid, or one block of an
 * MPI Cartesian grid of blocks) plus a one-cell halo on every side, row
 * stride W = nw + 2. qx holds nw+3 faces per owned row (face j west of local
 * column j; faces 0 and nw+2 only feed the q-centred average and come from
 * the west/east neighbours); qy face row k lies between local rows k-1 and k
 * (k = 0..nh+2, owned columns only; rows 0 and nh+2 from the north/south
 * neighbours). A face on a block edge is computed by both blocks from the
 * same inputs (cells, old fluxes, the donor's limiter factor: all in the
 * halo), so a block computes exactly the same floats as one process; no
 * corner cell is ever read. OpenMP splits rows. */
#include "citytwin/ct_flood.h"
#include "citytwin/ct_geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef CT_HAVE_MPI
#include <mpi.h>
#endif

#define G 9.81f

typedef struct sim {
    int w, h;          /* global grid */
    int r0, c0;        /* global row/column of the first owned cell */
    int nh, nw;        /* owned rows and columns */
    int W;             /* local row stride: nw + 2 */
    int nb[4];         /* neighbour ranks by CT_FLOOD_NORTH..EAST, -1 at the global edge */
    int rank, size;
    int px, py;        /* blocks: px columns x py rows */
    bool mpi;
#ifdef CT_HAVE_MPI
    MPI_Comm comm;
#endif
    float dx, dy;
    double area;
    float *z, *d, *n2;  /* (nh+2)*W; n2 NULL when Manning's n is constant */
    float n2c;
    uint8_t *wall;      /* (nh+2)*W: 1 = nodata, building or outside the grid */
    float *qx, *qx1;    /* nh*(nw+3), old and new */
    float *qy, *qy1;    /* (nh+3)*nw */
    float *f;           /* (nh+2)*W limiter factors (1 in halos at the global edge) */
    float *maxd, *maxv, *arrive; /* nh*nw */
    float *rain;        /* (nh+2)*W rain rates mm/h of the current raster frame, NULL without */
    float *xbuf;        /* halo packing: 8 * (max(nw, nh) + 1) floats */
    float theta, alpha, h_dry, h_wet;
    ct_flood_boundary b[4];
    bool par;           /* big enough for OpenMP threads to pay off */
} sim;

/* One owned cell of a line inflow: it gets share w of the line's hydrograph. */
typedef struct line_src {
    long cell;
    const ct_flood_series *q;
    double w;
} line_src;

static double series_at(const ct_flood_series *s, double t)
{
    if (s->n <= 0)
        return 0;
    if (t <= s->t[0])
        return s->v[0];
    if (t >= s->t[s->n - 1])
        return s->v[s->n - 1];
    int lo = 0, hi = s->n - 1;
    while (hi - lo > 1) {
        int m = (lo + hi) / 2;
        if (s->t[m] <= t)
            lo = m;
        else
            hi = m;
    }
    double u = (t - s->t[lo]) / (s->t[hi] - s->t[lo]);
    return s->v[lo] + u * (s->v[hi] - s->v[lo]);
}

/* Largest value of a series over [t0, t1]: the ends and the knots between
 * (the curve is piecewise linear). */
static double series_max(const ct_flood_series *s, double t0, double t1)
{
    double m = fmax(series_at(s, t0), series_at(s, t1));
    for (int i = 0; i < s->n; i++)
        if (s->t[i] > t0 && s->t[i] < t1)
            m = fmax(m, s->v[i]);
    return m;
}

/* Volume of a series over [t0, t1] (trapezoids of the piecewise linear curve). */
static double series_integral(const ct_flood_series *s, double t0, double t1)
{
    /* Midpoint rule per step is exact for linear pieces; steps are short. */
    return series_at(s, 0.5 * (t0 + t1)) * (t1 - t0);
}

/* ------------------------------------------------------------ MPI helpers */

bool ct_flood_mpi_init(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
#ifdef CT_HAVE_MPI
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE"))
        return false;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return false;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return true;
#else
    return false;
#endif
}

void ct_flood_mpi_finalize(void)
{
#ifdef CT_HAVE_MPI
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin)
        MPI_Finalize();
#endif
}

/* Block of grid index i of n blocks over len cells: [start, start+count). */
static void block_range(int len, int n, int i, int *start, int *count)
{
    *start = (int)((long long)len * i / n);
    *count = (int)((long long)len * (i + 1) / n) - *start;
}

#ifdef CT_HAVE_MPI
static int peer(int r) { return r >= 0 ? r : MPI_PROC_NULL; }

/* Sends n floats to the low neighbour (north/west) while receiving the high
 * one's into rcv_hi, then the reverse. Missing neighbours: nothing moves. */
static void exchange_axis(sim *s, int lo, int hi, const float *snd_lo, float *rcv_hi, const float *snd_hi,
                          float *rcv_lo, int n, int tag)
{
    MPI_Sendrecv(snd_lo, n, MPI_FLOAT, peer(lo), tag, rcv_hi, n, MPI_FLOAT, peer(hi), tag, s->comm,
                 MPI_STATUS_IGNORE);
    MPI_Sendrecv(snd_hi, n, MPI_FLOAT, peer(hi), tag + 1, rcv_lo, n, MPI_FLOAT, peer(lo), tag + 1, s->comm,
                 MPI_STATUS_IGNORE);
}

/* Local column lc of owned rows 1..nh (stride W) to/from a packed buffer. */
static void col_pack(const sim *s, const float *a, int lc, float *buf)
{
    for (int lr = 1; lr <= s->nh; lr++)
        buf[lr - 1] = a[(size_t)lr * s->W + lc];
}

static void col_unpack(const sim *s, float *a, int lc, const float *buf)
{
    for (int lr = 1; lr <= s->nh; lr++)
        a[(size_t)lr * s->W + lc] = buf[lr - 1];
}

/* Face column j of the nh qx rows (stride nw+3) to/from a packed buffer. */
static void qx_pack(const sim *s, const float *qx, int j, float *buf)
{
    for (int r = 0; r < s->nh; r++)
        buf[r] = qx[(size_t)r * (s->nw + 3) + j];
}

static void qx_unpack(const sim *s, float *qx, int j, const float *buf)
{
    for (int r = 0; r < s->nh; r++)
        qx[(size_t)r * (s->nw + 3) + j] = buf[r];
}
#endif

/* Halo of a cell field (limiter factors): the owned edge rows and columns
 * go to the four neighbours' halos. Corners are never read. */
static void halo_cells(sim *s, float *a)
{
#ifdef CT_HAVE_MPI
    if (!s->mpi)
        return;
    const int W = s->W, nw = s->nw, nh = s->nh;
    if (s->py > 1)
        exchange_axis(s, s->nb[CT_FLOOD_NORTH], s->nb[CT_FLOOD_SOUTH], a + (size_t)W + 1,
                      a + (size_t)(nh + 1) * W + 1, a + (size_t)nh * W + 1, a + 1, nw, 1);
    if (s->px > 1) {
        float *b = s->xbuf, *sw = b, *re = b + nh, *se = b + 2 * nh, *rw = b + 3 * nh;
        col_pack(s, a, 1, sw);
        col_pack(s, a, nw, se);
        exchange_axis(s, s->nb[CT_FLOOD_WEST], s->nb[CT_FLOOD_EAST], sw, re, se, rw, nh, 3);
        if (s->nb[CT_FLOOD_EAST] >= 0)
            col_unpack(s, a, nw + 1, re);
        if (s->nb[CT_FLOOD_WEST] >= 0)
            col_unpack(s, a, 0, rw);
    }
#else
    (void)s;
    (void)a;
#endif
}

/* End of step: depths of the edge rows/columns and the face fluxes next to
 * the shared faces (qy rows 2 and nh, qx columns 2 and nw), one message per
 * neighbour. */
static void halo_state(sim *s, float *qx, float *qy)
{
#ifdef CT_HAVE_MPI
    if (!s->mpi)
        return;
    const int W = s->W, nw = s->nw, nh = s->nh;
    float *b = s->xbuf;
    if (s->py > 1) {
        float *sn = b, *rs = b + 2 * nw, *ss = b + 4 * nw, *rn = b + 6 * nw;
        memcpy(sn, s->d + (size_t)W + 1, sizeof(float) * nw);
        memcpy(sn + nw, qy + (size_t)2 * nw, sizeof(float) * nw);
        memcpy(ss, s->d + (size_t)nh * W + 1, sizeof(float) * nw);
        memcpy(ss + nw, qy + (size_t)nh * nw, sizeof(float) * nw);
        exchange_axis(s, s->nb[CT_FLOOD_NORTH], s->nb[CT_FLOOD_SOUTH], sn, rs, ss, rn, 2 * nw, 5);
        if (s->nb[CT_FLOOD_SOUTH] >= 0) {
            memcpy(s->d + (size_t)(nh + 1) * W + 1, rs, sizeof(float) * nw);
            memcpy(qy + (size_t)(nh + 2) * nw, rs + nw, sizeof(float) * nw);
        }
        if (s->nb[CT_FLOOD_NORTH] >= 0) {
            memcpy(s->d + 1, rn, sizeof(float) * nw);
            memcpy(qy, rn + nw, sizeof(float) * nw);
        }
    }
    if (s->px > 1) {
        float *sw = b, *re = b + 2 * nh, *se = b + 4 * nh, *rw = b + 6 * nh;
        col_pack(s, s->d, 1, sw);
        qx_pack(s, qx, 2, sw + nh);
        col_pack(s, s->d, nw, se);
        qx_pack(s, qx, nw, se + nh);
        exchange_axis(s, s->nb[CT_FLOOD_WEST], s->nb[CT_FLOOD_EAST], sw, re, se, rw, 2 * nh, 7);
        if (s->nb[CT_FLOOD_EAST] >= 0) {
            col_unpack(s, s->d, nw + 1, re);
            qx_unpack(s, qx, nw + 2, re + nh);
        }
        if (s->nb[CT_FLOOD_WEST] >= 0) {
            col_unpack(s, s->d, 0, rw);
            qx_unpack(s, qx, 0, rw + nh);
        }
    }
#else
    (void)s;
    (void)qx;
    (void)qy;
#endif
}

/* Element-wise max of n doubles across ranks, in place. */
static void allreduce_max_n(sim *s, double *v, int n)
{
#ifdef CT_HAVE_MPI
    if (s->mpi)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, s->comm);
#endif
    (void)s;
    (void)v;
    (void)n;
}

static double allreduce_max(sim *s, double v)
{
    allreduce_max_n(s, &v, 1);
    return v;
}

static double reduce_sum(sim *s, double v)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        double r;
        MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, s->comm);
        return r;
    }
#endif
    (void)s;
    return v;
}

/* Sums n values over the ranks in place (one collective call). */
static void reduce_sum_n(sim *s, double *v, int n)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, s->comm);
        return;
    }
#endif
    (void)s;
    (void)v;
    (void)n;
}

/* Every rank learns the first failure: the lowest failing rank's status and
 * message are broadcast, so rank 0 reports what went wrong wherever it was. */
static ct_status agree_status(sim *s, ct_status st, ct_error *err)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        int mine = st != CT_OK ? s->rank : s->size, first = s->size;
        MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, s->comm);
        if (first == s->size)
            return CT_OK;
        int code = (int)st;
        MPI_Bcast(&code, 1, MPI_INT, first, s->comm);
        ct_error tmp = {0};
        ct_error *e = err ? err : &tmp;
        MPI_Bcast(e->msg, (int)sizeof e->msg, MPI_CHAR, first, s->comm);
        e->status = (ct_status)code;
        return (ct_status)code;
    }
#endif
    (void)s;
    (void)err;
    return st;
}

/* Gathers every rank's owned block (nh*nw floats, row-major) into the global
 * w*h grid out on rank 0; tmp: w*h floats on rank 0 (the packed blocks). */
static void gather_blocks(sim *s, const float *own, float *out, float *tmp)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        int *counts = NULL, *displs = NULL;
        if (s->rank == 0) {
            counts = malloc(sizeof(int) * s->size);
            displs = malloc(sizeof(int) * s->size);
            int off = 0;
            for (int i = 0; i < s->size; i++) {
                int rs, nr, cs, nc;
                block_range(s->h, s->py, i / s->px, &rs, &nr);
                block_range(s->w, s->px, i % s->px, &cs, &nc);
                counts[i] = nr * nc;
                displs[i] = off;
                off += nr * nc;
            }
        }
        MPI_Gatherv(own, s->nh * s->nw, MPI_FLOAT, tmp, counts, displs, MPI_FLOAT, 0, s->comm);
        if (s->rank == 0) {
            for (int i = 0; i < s->size; i++) {
                int rs, nr, cs, nc;
                block_range(s->h, s->py, i / s->px, &rs, &nr);
                block_range(s->w, s->px, i % s->px, &cs, &nc);
                for (int r = 0; r < nr; r++)
                    memcpy(out + (size_t)(rs + r) * s->w + cs, tmp + displs[i] + (size_t)r * nc,
                           sizeof(float) * nc);
            }
        }
        free(counts);
        free(displs);
        return;
    }
#endif
    (void)tmp;
    memcpy(out, own, sizeof(float) * (size_t)s->nh * s->nw);
}

/* ------------------------------------------------------------ the scheme */

/* max without libm's NAN rules: NAN in a gives b; compiles to maxss and
 * vectorizes (fmaxf does not, without -ffinite-math-only). */
static inline float maxf(float a, float b) { return a > b ? a : b; }

/* c ? a : b by bit masks (vectorizes where a float ?: does not). */
static inline float self(int c, float a, float b)
{
    uint32_t ia, ib, m = -(uint32_t)(c != 0);
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    uint32_t r = (ia & m) | (ib & ~m);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* Cube root for x > 0 without libm (vectorizable): exponent/3 bit estimate
 * plus three Newton steps (relative error < 1e-7 for the depths used). */
static inline float cbrt_pos(float x)
{
    uint32_t i;
    memcpy(&i, &x, sizeof i);
    i = i / 3u + 709921077u;
    float y;
    memcpy(&y, &i, sizeof y);
    y = (2.0f * y + x / (y * y)) * (1.0f / 3.0f);
    y = (2.0f * y + x / (y * y)) * (1.0f / 3.0f);
    y = (2.0f * y + x / (y * y)) * (1.0f / 3.0f);
    return y;
}

/* New flux across a face from cell a (west/north) to cell b: branch-free so
 * the row loops vectorize; open = 0 for faces touching a wall. gdt = g dt,
 * gdt_d = g dt / distance. */
static inline float face_flux_v(float za, float da, float zb, float db, float q, float qc, float n2, float gdt,
                                float gdt_d, float h_dry, int open)
{
    float ea = za + da, eb = zb + db;
    float hf = maxf(ea, eb) - maxf(za, zb);
    float hs = maxf(hf, h_dry);
    float num = qc - gdt_d * hf * (eb - ea);
    float den = 1.0f + gdt * n2 * fabsf(q) / (hs * hs * cbrt_pos(hs));
    float r = num / den;
    return r * (float)(open & (hf > h_dry)); /* a 0/1 factor vectorizes, a ?: does not */
}

static inline float face_flux(float za, float da, float zb, float db, float q, float qc, float n2, float dt, float dist,
                              float h_dry)
{
    return face_flux_v(za, da, zb, db, q, qc, n2, G * dt, G * dt / dist, h_dry, 1);
}

/* One row of interior faces: cell a = (za, da, wa)[i], cell b = (zb, db, wb)[i],
 * old flux qo[i] and its neighbours along the flow direction qp[i], qnx[i].
 * Called with n2a == NULL (constant n) or not, so both versions vectorize. */
static inline __attribute__((always_inline)) void flux_row(
    const float *restrict za, const float *restrict da, const float *restrict zb, const float *restrict db,
    const uint8_t *restrict wa, const uint8_t *restrict wb, const float *restrict qo, const float *restrict qp,
    const float *restrict qnx, float *restrict qn, int n, const float *restrict n2a, const float *restrict n2b,
    float n2c, float th, float tc, float gdt, float gdt_d, float hd)
{
    if (n2a) {
        for (int i = 0; i < n; i++) {
            float q = qo[i];
            float qc = th * q + tc * (qp[i] + qnx[i]);
            float n2 = 0.5f * (n2a[i] + n2b[i]);
            qn[i] = face_flux_v(za[i], da[i], zb[i], db[i], q, qc, n2, gdt, gdt_d, hd, !(wa[i] | wb[i]));
        }
    } else {
        for (int i = 0; i < n; i++) {
            float q = qo[i];
            float qc = th * q + tc * (qp[i] + qnx[i]);
            qn[i] = face_flux_v(za[i], da[i], zb[i], db[i], q, qc, n2c, gdt, gdt_d, hd, !(wa[i] | wb[i]));
        }
    }
}

static inline float n2_at(const sim *s, size_t i) { return s->n2 ? s->n2[i] : s->n2c; }

/* Boundary face flux for the inner cell i (outward direction sign: +1 when the
 * outside lies at larger index (east/south), -1 when smaller (west/north)).
 * i_in: the next inner cell away from the edge (for the bed slope), or -1. */
static inline float boundary_flux(const sim *s, const ct_flood_boundary *b, size_t i, long i_in, float q, float dt,
                                  float dist, float sign)
{
    if (b->kind == CT_FLOOD_BOUNDARY_CLOSED || s->wall[i])
        return 0.0f;
    float z = s->z[i], d = s->d[i];
    float n2 = n2_at(s, i);
    if (b->kind == CT_FLOOD_BOUNDARY_LEVEL) {
        float eg = maxf((float)b->level, z);
        float out = sign > 0 ? face_flux(z, d, z, eg - z, q, q, n2, dt, dist, s->h_dry)
                             : face_flux(z, eg - z, z, d, q, q, n2, dt, dist, s->h_dry);
        return out;
    }
    /* free: the water surface continues with the local bed slope (at least 0.1 %). */
    if (!(d > s->h_dry))
        return 0.0f;
    float slope = 0.001f;
    if (i_in >= 0 && !s->wall[i_in]) {
        float sb = (s->z[i_in] - z) / dist;
        if (sb > slope)
            slope = sb;
    }
    float zg = z - slope * dist;
    float qq = sign > 0 ? face_flux(z, d, zg, d, q, q, n2, dt, dist, s->h_dry)
                        : face_flux(zg, d, z, d, q, q, n2, dt, dist, s->h_dry);
    /* outflow only */
    if (sign > 0 ? qq < 0 : qq > 0)
        qq = 0;
    return qq;
}

/* Pass A: all new face fluxes of the owned block. */
static void compute_fluxes(sim *s, float dt)
{
    const int W = s->W, nw = s->nw, nh = s->nh, QW = nw + 3;
    const float th = s->theta, tc = 0.5f * (1.0f - s->theta);
    const float dx = s->dx, dy = s->dy, hd = s->h_dry;
    const bool west_edge = s->nb[CT_FLOOD_WEST] < 0, east_edge = s->nb[CT_FLOOD_EAST] < 0;
    /* interior faces j in [jlo, jhi]: face j lies between local columns j-1 and j */
    const int jlo = west_edge ? 2 : 1, jhi = east_edge ? nw : nw + 1;
#pragma omp parallel for schedule(static) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const size_t base = (size_t)lr * W;
        const float *z = s->z + base, *d = s->d + base;
        const uint8_t *wl = s->wall + base;
        const float *qo = s->qx + (size_t)(lr - 1) * QW;
        float *qn = s->qx1 + (size_t)(lr - 1) * QW;
        const float *n2r = s->n2 ? s->n2 + base : NULL;
        const int a = jlo - 1;
        flux_row(z + a, d + a, z + a + 1, d + a + 1, wl + a, wl + a + 1, qo + jlo, qo + jlo - 1, qo + jlo + 1,
                 qn + jlo, jhi - jlo + 1, n2r ? n2r + a : NULL, n2r ? n2r + a + 1 : NULL, s->n2c, th, tc, G * dt,
                 G * dt / dx, hd);
        if (west_edge)
            qn[1] = boundary_flux(s, &s->b[CT_FLOOD_WEST], base + 1, s->w > 1 ? (long)(base + 2) : -1, qo[1], dt, dx,
                                  -1.0f);
        if (east_edge)
            qn[nw + 1] = boundary_flux(s, &s->b[CT_FLOOD_EAST], base + nw, s->w > 1 ? (long)(base + nw - 1) : -1,
                                       qo[nw + 1], dt, dx, 1.0f);
    }
    /* qy faces k = 1..nh+1 (between local rows k-1 and k). */
#pragma omp parallel for schedule(static) if (s->par)
    for (int k = 1; k <= nh + 1; k++) {
        const float *qo = s->qy + (size_t)k * nw, *qp = qo - nw, *qnx = qo + nw;
        float *qn = s->qy1 + (size_t)k * nw;
        bool top_edge = k == 1 && s->nb[CT_FLOOD_NORTH] < 0, bottom_edge = k == nh + 1 && s->nb[CT_FLOOD_SOUTH] < 0;
        if (top_edge || bottom_edge) {
            int lr = top_edge ? 1 : nh;
            int side = top_edge ? CT_FLOOD_NORTH : CT_FLOOD_SOUTH;
            long step = top_edge ? W : -(long)W;
            bool has_in = s->h > 1;
            for (int c = 0; c < nw; c++) {
                size_t i = (size_t)lr * W + c + 1;
                qn[c] = boundary_flux(s, &s->b[side], i, has_in ? (long)i + step : -1, qo[c], dt, dy,
                                      top_edge ? -1.0f : 1.0f);
            }
            continue;
        }
        const size_t ba = (size_t)(k - 1) * W + 1, bb = (size_t)k * W + 1;
        const float *za = s->z + ba, *zb = s->z + bb, *da = s->d + ba, *db = s->d + bb;
        const uint8_t *wa = s->wall + ba, *wb = s->wall + bb;
        const float *n2a = s->n2 ? s->n2 + ba : NULL, *n2b = s->n2 ? s->n2 + bb : NULL;
        flux_row(za, da, zb, db, wa, wb, qo, qp, qnx, qn, nw, n2a, n2b, s->n2c, th, tc, G * dt, G * dt / dy, hd);
    }
}

/* Pass B + C: limiter factors, then donor scaling of the face fluxes. */
static void limit_fluxes(sim *s, float dt)
{
    const int W = s->W, nw = s->nw, nh = s->nh, QW = nw + 3;
    const float ax = dt * s->dy, ay = dt * s->dx; /* face length * dt */
    const float vol = s->dx * s->dy;
    int any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * QW + 1; /* qx[c]: west face of owned column c */
        const float *qn = s->qy1 + (size_t)lr * nw, *qs = qn + nw;
        const float *d = s->d + (size_t)lr * W + 1;
        float *f = s->f + (size_t)lr * W + 1;
        for (int c = 0; c < nw; c++) {
            float out = ax * (maxf(qx[c + 1], 0.0f) + maxf(-qx[c], 0.0f)) +
                        ay * (maxf(qs[c], 0.0f) + maxf(-qn[c], 0.0f));
            float avail = d[c] * vol;
            int lim = out > avail;
            f[c] = self(lim, avail / maxf(out, 1e-30f), 1.0f);
            any |= lim;
        }
    }
    /* Under MPI the neighbours' factors are always needed (a face on the block
     * edge may have its donor there); alone, skip when nothing was limited. */
    if (!s->mpi && !any)
        return;
    halo_cells(s, s->f);
    /* Halo factors at the global edge stay 1: inflow from outside is not scaled. */
#pragma omp parallel for schedule(static) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        float *qx = s->qx1 + (size_t)(lr - 1) * QW;
        const float *f = s->f + (size_t)lr * W;
        for (int j = 1; j <= nw + 1; j++) {
            float q = qx[j];
            if (q > 0)
                qx[j] = q * f[j - 1];
            else if (q < 0)
                qx[j] = q * f[j];
        }
    }
#pragma omp parallel for schedule(static) if (s->par)
    for (int k = 1; k <= nh + 1; k++) {
        float *qy = s->qy1 + (size_t)k * nw;
        const float *fa = s->f + (size_t)(k - 1) * W + 1, *fb = s->f + (size_t)k * W + 1;
        for (int c = 0; c < nw; c++) {
            float q = qy[c];
            if (q > 0)
                qy[c] = q * fa[c];
            else if (q < 0)
                qy[c] = q * fb[c];
        }
    }
}

typedef struct step_stats {
    double rain_m;            /* rain depths summed over the valid cells (raster rain only) */
    double hmax;
    double bnd_in, bnd_out;   /* m³ over the step */
    double clipped;           /* m³ added by clipping negative depths */
} step_stats;

/* Pass D: depths from the flux divergence and rain; maxima and arrival. */
static void update_depths(sim *s, float dt, float rain_m, double dt_rain, double t_end, step_stats *st)
{
    const int W = s->W, nw = s->nw, nh = s->nh, QW = nw + 3;
    const float cx = dt / s->dx, cy = dt / s->dy;
    const float hd = s->h_dry, hw = s->h_wet;
    float hmax = 0;
    double clipped = 0, rain_sum = 0;
#pragma omp parallel for schedule(static) reduction(max : hmax) reduction(+ : clipped, rain_sum) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * QW + 1;
        const float *qn = s->qy1 + (size_t)lr * nw, *qs = qn + nw;
        float *d = s->d + (size_t)lr * W + 1;
        const uint8_t *wl = s->wall + (size_t)lr * W + 1;
        float *md = s->maxd + (size_t)(lr - 1) * nw, *mv = s->maxv + (size_t)(lr - 1) * nw;
        float *ar = s->arrive + (size_t)(lr - 1) * nw;
        const float tf = (float)t_end;
        const float *rr = s->rain ? s->rain + (size_t)lr * W + 1 : NULL;
        float clip_row = 0;
        double rain_row = 0;
        for (int c = 0; c < nw; c++) {
            /* raster rain: the cell's rate over this step, rounded as the constant rate is */
            float rc = rr ? (float)((double)rr[c] / 1000.0 / 3600.0 * dt_rain) : rain_m;
            rain_row += rr && !wl[c] ? (double)rc : 0.0;
            float v = d[c] + cx * (qx[c] - qx[c + 1]) + cy * (qn[c] - qs[c]) + rc;
            clip_row += maxf(-v, 0.0f);
            v = maxf(v, 0.0f);
            v *= (float)!wl[c]; /* walls hold no water (no flux reaches them) */
            d[c] = v;
            hmax = maxf(hmax, v);
            /* maxima and arrival start at -1 (never wet) */
            int wet = v > hd;
            md[c] = maxf(md[c], self(wet, v, -1.0f));
            float inv = 1.0f / maxf(v, hd);
            float u = 0.5f * (qx[c] + qx[c + 1]) * inv, vv = 0.5f * (qn[c] + qs[c]) * inv;
            float sp = sqrtf(u * u + vv * vv);
            mv[c] = maxf(mv[c], self(wet, sp, -1.0f));
            ar[c] = self((v > hw) & (ar[c] < 0.0f), tf, ar[c]);
        }
        clipped += clip_row;
        rain_sum += rain_row;
    }
    st->rain_m = rain_sum;
    st->hmax = hmax;
    st->clipped = clipped * (double)s->dx * s->dy;
    /* Boundary exchange over the step (outward positive), on the global edges only. */
    double bin = 0, bout = 0;
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * QW;
        if (s->nb[CT_FLOOD_WEST] < 0) {
            double west = -qx[1] * (double)s->dy * dt;
            if (west > 0) bout += west; else bin -= west;
        }
        if (s->nb[CT_FLOOD_EAST] < 0) {
            double east = qx[nw + 1] * (double)s->dy * dt;
            if (east > 0) bout += east; else bin -= east;
        }
    }
    if (s->nb[CT_FLOOD_NORTH] < 0)
        for (int c = 0; c < nw; c++) {
            double v = -s->qy1[(size_t)1 * nw + c] * (double)s->dx * dt;
            if (v > 0) bout += v; else bin -= v;
        }
    if (s->nb[CT_FLOOD_SOUTH] < 0)
        for (int c = 0; c < nw; c++) {
            double v = s->qy1[(size_t)(nh + 1) * nw + c] * (double)s->dx * dt;
            if (v > 0) bout += v; else bin -= v;
        }
    st->bnd_in = bin;
    st->bnd_out = bout;
}

static double stored_volume(const sim *s)
{
    double v = 0;
    const int W = s->W;
#pragma omp parallel for schedule(static) reduction(+ : v) if (s->par)
    for (int lr = 1; lr <= s->nh; lr++) {
        const float *d = s->d + (size_t)lr * W + 1;
        double rv = 0;
        for (int c = 0; c < s->nw; c++)
            rv += d[c];
        v += rv;
    }
    return v * s->area;
}

static void sim_free(sim *s)
{
    free(s->z);
    free(s->d);
    free(s->n2);
    free(s->wall);
    free(s->qx);
    free(s->qx1);
    free(s->qy);
    free(s->qy1);
    free(s->f);
    free(s->maxd);
    free(s->maxv);
    free(s->arrive);
    free(s->rain);
    free(s->xbuf);
#ifdef CT_HAVE_MPI
    if (s->mpi && s->comm != MPI_COMM_NULL)
        MPI_Comm_free(&s->comm);
#endif
}

void ct_flood_sim_result_free(ct_flood_sim_result *r)
{
    ct_raster_destroy(r->max_depth);
    ct_raster_destroy(r->max_velocity);
    ct_raster_destroy(r->arrival_time);
    ct_raster_destroy(r->final_depth);
    free(r->gauge_t);
    free(r->gauge_depth);
    free(r->gauge_wse);
    free(r->mass);
    memset(r, 0, sizeof *r);
}

/* Appends the water budget at t (collective: every rank calls it at the same
 * t; the local totals are summed over the ranks). */
static void mass_record(sim *s, ct_flood_sim_result *res, int max_rows, double t, double v0, double rain,
                        double inflow, double bnd_in, double bnd_out)
{
    double v[5] = {rain, inflow, bnd_in, bnd_out, stored_volume(s)};
    reduce_sum_n(s, v, 5);
    if (res->n_mass_rows >= max_rows)
        return;
    ct_flood_mass_row *m = &res->mass[res->n_mass_rows++];
    m->t = t;
    m->rain_m3 = v[0];
    m->inflow_m3 = v[1];
    m->boundary_in_m3 = v[2];
    m->boundary_out_m3 = v[3];
    m->storage_m3 = v[4];
    double in = v[0] + v[1] + v[2];
    double scale = fmax(fmax(in, v0), fmax(v[4], 1e-9));
    m->error = fabs(v[4] - v0 - in + v[3]) / scale;
}

/* Deepest inflow cell and fastest inflow rise (m/s) on this rank at t. */
static void inflow_state(const sim *s, const ct_flood_sim_desc *desc, const long *cells, const line_src *ls,
                         int n_ls, double t, double *h, double *rise)
{
    *h = 0;
    *rise = 0;
    for (int i = 0; i < desc->n_inflows; i++)
        if (cells[i] >= 0) {
            *h = fmax(*h, s->d[cells[i]]);
            *rise = fmax(*rise, fabs(series_at(&desc->inflows[i].q_m3s, t)) / s->area);
        }
    for (int i = 0; i < n_ls; i++) {
        *h = fmax(*h, s->d[ls[i].cell]);
        *rise = fmax(*rise, fabs(series_at(ls[i].q, t)) * ls[i].w / s->area);
    }
}

/* Local cell index of a global (col,row), or -1 if not owned. */
static long owned_index(const sim *s, int col, int row)
{
    if (row < s->r0 || row >= s->r0 + s->nh || col < s->c0 || col >= s->c0 + s->nw)
        return -1;
    return (long)(row - s->r0 + 1) * s->W + (col - s->c0 + 1);
}


/* The owned cells of all line inflows with their shares (length in the cell
 * over the line's length on valid cells). Collective: every rank finds the
 * same cells (the geometry is global) and learns from the owners which are
 * walls, so the shares are the same floats as in one process. */
static ct_status line_sources(sim *s, const ct_flood_sim_desc *desc, const ct_raster *dem, line_src **out, int *n_out,
                              ct_error *err)
{
    *out = NULL;
    *n_out = 0;
    line_src *src = NULL;
    int n = 0, cap = 0;
    ct_status st = CT_OK;
    for (int li = 0; li < desc->n_line_inflows && st == CT_OK; li++) {
        const ct_flood_line_inflow *L = &desc->line_inflows[li];
        long *cells = NULL;
        double *len = NULL, *flag = NULL;
        int m = 0;
        st = ct_flood_line_cells(dem, L->xy, L->n_points, &cells, &len, &m, NULL, err);
        if (st != CT_OK)
            ct_error_prefix(err, "line inflow %d: ", li + 1);
        if (st == CT_OK && !(flag = ct_calloc_array((size_t)m, sizeof(double))))
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        st = agree_status(s, st, err);
        if (st != CT_OK) {
            free(cells);
            free(len);
            free(flag);
            break;
        }
        /* 1: valid, 2: wall, from the owner (others say 0) */
        for (int k = 0; k < m; k++) {
            long i = owned_index(s, (int)(cells[k] % s->w), (int)(cells[k] / s->w));
            if (i >= 0)
                flag[k] = s->wall[i] ? 2 : 1;
        }
        allreduce_max_n(s, flag, m);
        double total = 0;
        for (int k = 0; k < m; k++)
            if (flag[k] == 1)
                total += len[k];
        if (!(total > 0))
            st = ct_error_set(err, CT_ERR_INPUT, "line inflow %d: every cell it crosses is nodata or a building",
                              li + 1);
        for (int k = 0; k < m && st == CT_OK; k++) {
            long i = owned_index(s, (int)(cells[k] % s->w), (int)(cells[k] / s->w));
            if (i < 0 || flag[k] != 1)
                continue;
            if (n == cap) {
                int nc = cap ? 2 * cap : 16;
                line_src *ns = realloc(src, sizeof *src * (size_t)nc);
                if (!ns) {
                    st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                    break;
                }
                src = ns;
                cap = nc;
            }
            src[n++] = (line_src){i, &L->q_m3s, len[k] / total};
        }
        free(cells);
        free(len);
        free(flag);
        st = agree_status(s, st, err);
    }
    if (st != CT_OK) {
        free(src);
        return st;
    }
    *out = src;
    *n_out = n;
    return CT_OK;
}

/* Owned cells of a (nh+2)*W field into a packed nh*nw block (walls NAN). */
static void own_depths(const sim *s, float *own)
{
    for (int lr = 1; lr <= s->nh; lr++)
        for (int c = 1; c <= s->nw; c++) {
            size_t i = (size_t)lr * s->W + c;
            own[(size_t)(lr - 1) * s->nw + c - 1] = s->wall[i] ? NAN : s->d[i];
        }
}

/* Gathers an owned nh*nw field into a global raster on rank 0; cells not
 * above thr (or NAN; -1 marks never wet) become NAN. */
static ct_status gather_field(sim *s, const float *own, const ct_raster *like, float thr, ct_raster **out,
                              float *glob, float *tmp, ct_error *err)
{
    *out = NULL;
    gather_blocks(s, own, glob, tmp);
    if (s->rank != 0)
        return CT_OK;
    ct_raster *r = ct_raster_create(s->w, s->h, like);
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    size_t n = (size_t)s->w * s->h;
    for (size_t i = 0; i < n; i++) {
        float v = glob[i];
        r->data[i] = !(v > thr) ? NAN : v;
    }
    *out = r;
    return CT_OK;
}

/* Lowest ground of the valid cells along each global edge (by side), over
 * all ranks; +inf for a side without valid cells. A level boundary's depth
 * over that ground bounds the flow depth at its faces (for the CFL step). */
static void edge_min_ground(sim *s, double zmin[4])
{
    double neg[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    const int W = s->W;
    for (int side = 0; side < 4; side++) {
        if (s->nb[side] >= 0)
            continue;
        bool ns = side == CT_FLOOD_NORTH || side == CT_FLOOD_SOUTH;
        int n = ns ? s->nw : s->nh;
        for (int k = 1; k <= n; k++) {
            int lr = ns ? (side == CT_FLOOD_NORTH ? 1 : s->nh) : k;
            int lc = ns ? k : (side == CT_FLOOD_WEST ? 1 : s->nw);
            size_t i = (size_t)lr * W + lc;
            if (!s->wall[i])
                neg[side] = fmax(neg[side], -(double)s->z[i]);
        }
    }
    allreduce_max_n(s, neg, 4);
    for (int side = 0; side < 4; side++)
        zmin[side] = -neg[side];
}

/* Deepest water a level boundary puts over its edge during [t0, t1] (0 if none). */
static double boundary_depth_max(const ct_flood_sim_desc *desc, const double zmin[4], double t0, double t1)
{
    double h = 0;
    for (int side = 0; side < 4; side++) {
        const ct_flood_boundary *b = &desc->boundary[side];
        if (b->kind != CT_FLOOD_BOUNDARY_LEVEL || !isfinite(zmin[side]))
            continue;
        double lev = b->level_series.n > 0 ? series_max(&b->level_series, t0, t1) : b->level;
        h = fmax(h, lev - zmin[side]);
    }
    return h;
}

/* Copies the window (block plus halo) of a global w*h float grid (0 outside). */
static void float_window(const float *g, int w, int h, int r0, int nh, int c0, int nw, float *out)
{
    const int W = nw + 2;
    for (int lr = 0; lr < nh + 2; lr++)
        for (int lc = 0; lc < W; lc++) {
            int gr = r0 + lr - 1, gc = c0 + lc - 1;
            bool in = gr >= 0 && gr < h && gc >= 0 && gc < w;
            out[(size_t)lr * W + lc] = in ? g[(size_t)gr * w + gc] : 0.0f;
        }
}

/* Loads a rain frame into s->rain (collective): rank 0 reads it onto the
 * whole DEM grid (ct_flood_rain_frame_read: the same cells whatever the block
 * layout) and sends each rank its window; glob: w*h floats on rank 0. */
static ct_status rain_frame_scatter(sim *s, const ct_raster *dem, const char *path, float *glob, ct_error *err)
{
    ct_status st = CT_OK;
    if (s->rank == 0) {
        ct_raster *r = NULL;
        st = ct_flood_rain_frame_read(path, dem, &r, err);
        if (st == CT_OK) {
            memcpy(glob, r->data, sizeof(float) * (size_t)s->w * s->h);
            ct_raster_destroy(r);
        }
    }
    st = agree_status(s, st, err);
    if (st != CT_OK)
        return st;
    if (s->rank == 0)
        float_window(glob, s->w, s->h, s->r0, s->nh, s->c0, s->nw, s->rain);
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        size_t nloc = (size_t)(s->nh + 2) * s->W;
        if (s->rank == 0) {
            float *buf = NULL;
            for (int i = 1; i < s->size; i++) {
                int r0, nh, c0, nw;
                block_range(s->h, s->py, i / s->px, &r0, &nh);
                block_range(s->w, s->px, i % s->px, &c0, &nw);
                size_t m = (size_t)(nh + 2) * (nw + 2);
                float *nb = realloc(buf, m * sizeof(float)); /* grows; a failure here ends the job */
                if (!nb)
                    MPI_Abort(s->comm, 3);
                buf = nb;
                float_window(glob, s->w, s->h, r0, nh, c0, nw, buf);
                MPI_Send(buf, (int)m, MPI_FLOAT, i, 11, s->comm);
            }
            free(buf);
        } else {
            MPI_Recv(s->rain, (int)nloc, MPI_FLOAT, 0, 11, s->comm, MPI_STATUS_IGNORE);
        }
    }
#endif
    return CT_OK;
}

/* ------------------------------------------------------------- set-up */

/* Splits the ranks into py x px blocks on a Cartesian communicator (more
 * blocks along the longer side: shorter halos) and finds this rank's block
 * and neighbours. Alone: one block, no neighbours. */
static ct_status setup_blocks(sim *s, bool use_mpi, ct_error *err)
{
    s->rank = 0;
    s->size = 1;
    s->px = s->py = 1;
    for (int k = 0; k < 4; k++)
        s->nb[k] = -1;
    int iy = 0, ix = 0;
#ifdef CT_HAVE_MPI
    s->comm = MPI_COMM_NULL;
    int inited = 0;
    MPI_Initialized(&inited);
    if (use_mpi && inited) {
        int size;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        int dims[2] = {0, 0}, periods[2] = {0, 0};
        MPI_Dims_create(size, 2, dims); /* dims[0] >= dims[1] */
        int py = s->h > s->w ? dims[0] : dims[1], px = size / py;
        if (py > s->h || px > s->w)
            return ct_error_set(err, CT_ERR_USAGE, "%d MPI ranks (%d x %d blocks) for a DEM of %d x %d cells", size,
                                px, py, s->w, s->h);
        int d2[2] = {py, px};
        if (MPI_Cart_create(MPI_COMM_WORLD, 2, d2, periods, 0, &s->comm) != MPI_SUCCESS)
            return ct_error_set(err, CT_ERR_RUNTIME, "MPI_Cart_create failed");
        s->mpi = true;
        s->size = size;
        s->py = py;
        s->px = px;
        MPI_Comm_rank(s->comm, &s->rank); /* no reordering: the same rank as in MPI_COMM_WORLD */
        int coords[2];
        MPI_Cart_coords(s->comm, s->rank, 2, coords);
        iy = coords[0];
        ix = coords[1];
        int lo, hi;
        MPI_Cart_shift(s->comm, 0, 1, &lo, &hi);
        s->nb[CT_FLOOD_NORTH] = lo == MPI_PROC_NULL ? -1 : lo;
        s->nb[CT_FLOOD_SOUTH] = hi == MPI_PROC_NULL ? -1 : hi;
        MPI_Cart_shift(s->comm, 1, 1, &lo, &hi);
        s->nb[CT_FLOOD_WEST] = lo == MPI_PROC_NULL ? -1 : lo;
        s->nb[CT_FLOOD_EAST] = hi == MPI_PROC_NULL ? -1 : hi;
    }
#else
    (void)use_mpi;
    (void)err;
#endif
    block_range(s->h, s->py, iy, &s->r0, &s->nh);
    block_range(s->w, s->px, ix, &s->c0, &s->nw);
    s->W = s->nw + 2;
    return CT_OK;
}

/* The block plus halo ((nh+2) x W floats) of an in-memory raster, NAN outside. */
static float *window_of(const sim *s, const ct_raster *r)
{
    float *out = ct_malloc_array((size_t)(s->nh + 2) * s->W, sizeof(float));
    if (!out)
        return NULL;
    for (int lr = 0; lr < s->nh + 2; lr++)
        for (int lc = 0; lc < s->W; lc++) {
            int gr = s->r0 + lr - 1, gc = s->c0 + lc - 1;
            bool in = gr >= 0 && gr < s->h && gc >= 0 && gc < s->w;
            out[(size_t)lr * s->W + lc] = in ? r->data[(size_t)gr * s->w + gc] : NAN;
        }
    return out;
}

/* The block plus halo of a file, read with a GDAL window (NAN outside). */
static ct_status window_read(const sim *s, const char *path, float **out, ct_error *err)
{
    ct_raster *r = NULL;
    ct_status st = ct_raster_read_window(path, s->c0 - 1, s->r0 - 1, s->W, s->nh + 2, &r, err);
    if (st != CT_OK)
        return st;
    *out = r->data;
    r->data = NULL;
    ct_raster_destroy(r);
    return CT_OK;
}

/* Copies the window of a global w*h byte mask for a block (0 outside). */
static void mask_window(const uint8_t *mask, int w, int h, int r0, int nh, int c0, int nw, uint8_t *out)
{
    const int W = nw + 2;
    for (int lr = 0; lr < nh + 2; lr++)
        for (int lc = 0; lc < W; lc++) {
            int gr = r0 + lr - 1, gc = c0 + lc - 1;
            bool in = gr >= 0 && gr < h && gc >= 0 && gc < w;
            out[(size_t)lr * W + lc] = in ? mask[(size_t)gr * w + gc] : 0;
        }
}

/* This block's building mask window: from desc->blocked, or rasterized on
 * rank 0 over the whole grid (exactly the cells of a one-process run) and
 * sent to each rank. *out stays NULL when there are no buildings. */
static ct_status load_buildings(sim *s, const ct_flood_sim_desc *desc, const ct_raster *hdr, uint8_t **out,
                                ct_error *err)
{
    *out = NULL;
    size_t nloc = (size_t)(s->nh + 2) * s->W;
    if (desc->blocked) {
        uint8_t *bw = malloc(nloc);
        if (!bw)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        mask_window(desc->blocked, s->w, s->h, s->r0, s->nh, s->c0, s->nw, bw);
        *out = bw;
        return CT_OK;
    }
    if (!desc->buildings_src)
        return CT_OK;
    uint8_t *full = NULL;
    size_t n = 0;
    ct_status st = CT_OK;
    if (s->rank == 0) {
        st = ct_flood_buildings_mask(hdr, desc->buildings_src, &full, &n, err);
        if (st == CT_OK)
            ct_log(CT_LOG_INFO, "%s: %zu cells blocked by buildings", desc->buildings_src, n);
    }
    uint8_t *bw = malloc(nloc);
    if (st == CT_OK && !bw)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    st = agree_status(s, st, err);
    if (st != CT_OK) {
        free(full);
        free(bw);
        return st;
    }
    if (s->rank == 0)
        mask_window(full, s->w, s->h, s->r0, s->nh, s->c0, s->nw, bw);
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        if (s->rank == 0) {
            uint8_t *buf = NULL;
            for (int i = 1; i < s->size; i++) {
                int r0, nh, c0, nw;
                block_range(s->h, s->py, i / s->px, &r0, &nh);
                block_range(s->w, s->px, i % s->px, &c0, &nw);
                size_t m = (size_t)(nh + 2) * (nw + 2);
                uint8_t *nb = realloc(buf, m); /* grows; a failure here ends the job */
                if (!nb)
                    MPI_Abort(s->comm, 3);
                buf = nb;
                mask_window(full, s->w, s->h, r0, nh, c0, nw, buf);
                MPI_Send(buf, (int)m, MPI_BYTE, i, 9, s->comm);
            }
            free(buf);
        } else {
            MPI_Recv(bw, (int)nloc, MPI_BYTE, 0, 9, s->comm, MPI_STATUS_IGNORE);
        }
    }
#endif
    free(full);
    *out = bw;
    return CT_OK;
}

/* Fills z, wall, n2, initial depths and the limiter factors of the block
 * plus halo from the DEM (memory or file), Manning raster and buildings. */
static ct_status load_block(sim *s, const ct_flood_sim_desc *desc, const ct_raster *hdr, long *valid_local,
                            long *blocked_local, ct_error *err)
{
    float *zw = NULL, *nwin = NULL;
    uint8_t *bw = NULL;
    ct_status st = CT_OK;
    if (desc->dem)
        zw = window_of(s, desc->dem);
    else
        st = window_read(s, desc->dem_path, &zw, err);
    if (st == CT_OK && !zw)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    if (st == CT_OK && desc->manning_raster) {
        if (desc->manning_raster->width != s->w || desc->manning_raster->height != s->h)
            st = ct_error_set(err, CT_ERR_INPUT, "Manning raster: %dx%d cells, the DEM has %dx%d",
                              desc->manning_raster->width, desc->manning_raster->height, s->w, s->h);
        else if (!(nwin = window_of(s, desc->manning_raster)))
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    } else if (st == CT_OK && desc->manning_path) {
        ct_raster *mh = NULL;
        st = ct_raster_read_header(desc->manning_path, &mh, err);
        if (st == CT_OK && (mh->width != s->w || mh->height != s->h))
            st = ct_error_set(err, CT_ERR_INPUT, "%s: %dx%d cells, the DEM has %dx%d", desc->manning_path, mh->width,
                              mh->height, s->w, s->h);
        ct_raster_destroy(mh);
        if (st == CT_OK)
            st = window_read(s, desc->manning_path, &nwin, err);
    }
    st = agree_status(s, st, err);
    if (st == CT_OK)
        st = load_buildings(s, desc, hdr, &bw, err);
    if (st != CT_OK) {
        free(zw);
        free(nwin);
        free(bw);
        return st;
    }
    long valid = 0, blocked = 0;
    const size_t nloc = (size_t)(s->nh + 2) * s->W;
    for (size_t i = 0; i < nloc; i++) {
        int lr = (int)(i / (size_t)s->W), lc = (int)(i % (size_t)s->W);
        float z = zw[i];
        bool wall = isnan(z) || (bw && bw[i]);
        s->f[i] = 1.0f;
        s->wall[i] = wall;
        s->z[i] = wall ? 0.0f : z;
        if (s->n2) {
            float n = nwin ? nwin[i] : NAN;
            s->n2[i] = (isnan(n) || n <= 0) ? s->n2c : n * n;
        }
        if (!wall && desc->use_initial_level && (float)desc->initial_level > z)
            s->d[i] = (float)desc->initial_level - z;
        bool own = lr >= 1 && lr <= s->nh && lc >= 1 && lc <= s->nw;
        valid += own && !wall;
        blocked += own && bw && bw[i];
    }
    *valid_local = valid;
    *blocked_local = blocked;
    free(zw);
    free(nwin);
    free(bw);
    return CT_OK;
}

ct_status ct_flood_sim_run(const ct_flood_sim_desc *desc, ct_flood_sim_result *res, ct_error *err)
{
    memset(res, 0, sizeof *res);
    double t_start = ct_time_now();
    if (!(desc->duration_s > 0))
        return ct_error_set(err, CT_ERR_USAGE, "duration must be > 0");
    if (!desc->dem && !desc->dem_path)
        return ct_error_set(err, CT_ERR_USAGE, "no DEM (dem or dem_path)");
    /* The grid's size and georeferencing: the raster itself, or the file's header. */
    ct_raster *hdr_owned = NULL;
    if (!desc->dem) {
        ct_status st = ct_raster_read_header(desc->dem_path, &hdr_owned, err);
        if (st != CT_OK)
            return st;
    }
    const ct_raster *dem = desc->dem ? desc->dem : hdr_owned;
    ct_status st = CT_OK;
    if (dem->crs_wkt && *dem->crs_wkt && ct_crs_is_geographic(dem->crs_wkt))
        st = ct_error_set(err, CT_ERR_INPUT,
                          "the dynamic flood needs a projected DEM in metres; this one is geographic "
                          "(reproject it, e.g. gdalwarp -t_srs EPSG:NNNN)");
    else if (dem->geotransform[2] != 0 || dem->geotransform[4] != 0)
        st = ct_error_set(err, CT_ERR_INPUT, "rotated DEM grids are not supported");
    else if (dem->width < 1 || dem->height < 1)
        st = ct_error_set(err, CT_ERR_INPUT, "empty DEM");
    if (st != CT_OK) {
        ct_raster_destroy(hdr_owned);
        return st;
    }
    sim s = {0};
    s.w = dem->width;
    s.h = dem->height;
    s.dx = (float)fabs(dem->geotransform[1]);
    s.dy = (float)fabs(dem->geotransform[5]);
    s.area = (double)s.dx * s.dy;
    s.theta = desc->theta > 0 ? (float)desc->theta : 0.9f;
    s.alpha = desc->alpha > 0 ? (float)desc->alpha : 0.7f;
    s.h_dry = desc->h_dry > 0 ? (float)desc->h_dry : 0.001f;
    s.h_wet = desc->h_wet > 0 ? (float)desc->h_wet : 0.01f;
    if (s.theta > 1 || s.alpha > 1) {
        ct_raster_destroy(hdr_owned);
        return ct_error_set(err, CT_ERR_USAGE, "theta and alpha must be in (0, 1]");
    }
    if (desc->n_rain_rasters > 0 && (desc->rain_mm_h != 0 || desc->rain_series.n > 0)) {
        ct_raster_destroy(hdr_owned);
        return ct_error_set(err, CT_ERR_USAGE, "rain rasters, a constant rain and a rain series are exclusive");
    }
    for (int i = 1; i < desc->n_rain_rasters; i++)
        if (!(desc->rain_rasters[i].t > desc->rain_rasters[i - 1].t)) {
            ct_raster_destroy(hdr_owned);
            return ct_error_set(err, CT_ERR_INPUT, "rain raster %d (%s): time %g is not after the previous %g", i + 1,
                                desc->rain_rasters[i].path, desc->rain_rasters[i].t, desc->rain_rasters[i - 1].t);
        }
    double manning = desc->manning > 0 ? desc->manning : 0.03;
    s.n2c = (float)(manning * manning);
    memcpy(s.b, desc->boundary, sizeof s.b);
    st = setup_blocks(&s, desc->use_mpi, err);
    if (st != CT_OK) {
        ct_raster_destroy(hdr_owned);
        return st;
    }
    const int w = s.w, W = s.W, nh = s.nh, nw = s.nw;
    s.par = (size_t)nh * nw >= 32768;
    size_t nloc = (size_t)(nh + 2) * W, nown = (size_t)nh * nw;
    s.z = ct_calloc_array(nloc, sizeof(float));
    s.d = ct_calloc_array(nloc, sizeof(float));
    s.wall = ct_calloc_array(nloc, 1);
    s.qx = ct_calloc_array((size_t)nh * (nw + 3), sizeof(float));
    s.qx1 = ct_calloc_array((size_t)nh * (nw + 3), sizeof(float));
    s.qy = ct_calloc_array((size_t)(nh + 3) * nw, sizeof(float));
    s.qy1 = ct_calloc_array((size_t)(nh + 3) * nw, sizeof(float));
    s.f = ct_malloc_array(nloc, sizeof(float));
    s.maxd = ct_malloc_array(nown, sizeof(float));
    s.maxv = ct_malloc_array(nown, sizeof(float));
    s.arrive = ct_malloc_array(nown, sizeof(float));
    s.xbuf = ct_malloc_array(8 * ((size_t)(nw > nh ? nw : nh) + 1), sizeof(float));
    if (desc->manning_raster || desc->manning_path)
        s.n2 = ct_malloc_array(nloc, sizeof(float));
    if (desc->n_rain_rasters > 0)
        s.rain = ct_calloc_array(nloc, sizeof(float));
    size_t nglob = (size_t)w * s.h;
    float *glob = s.rank == 0 ? ct_malloc_array(nglob, sizeof(float)) : NULL;
    float *gtmp = s.rank == 0 && s.mpi ? ct_malloc_array(nglob, sizeof(float)) : NULL;
    if (!s.z || !s.d || !s.wall || !s.qx || !s.qx1 || !s.qy || !s.qy1 || !s.f || !s.maxd || !s.maxv || !s.arrive ||
        !s.xbuf || ((desc->manning_raster || desc->manning_path) && !s.n2) || (s.rank == 0 && !glob) ||
        (desc->n_rain_rasters > 0 && !s.rain) ||
        (s.rank == 0 && s.mpi && !gtmp))
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", w, s.h);
    st = agree_status(&s, st, err);
    long valid_local = 0, blocked_local = 0;
    if (st == CT_OK)
        st = load_block(&s, desc, dem, &valid_local, &blocked_local, err);
    if (st != CT_OK) {
        sim_free(&s);
        free(glob);
        free(gtmp);
        ct_raster_destroy(hdr_owned);
        return st;
    }
    double valid_cells = reduce_sum(&s, (double)valid_local);
    res->blocked_cells = (size_t)reduce_sum(&s, (double)blocked_local);
    for (size_t i = 0; i < nown; i++) {
        s.maxd[i] = -1.0f; /* never wet; NAN in the outputs */
        s.maxv[i] = -1.0f;
        s.arrive[i] = -1.0f;
    }
    /* Initial water counts as already arrived (t = 0). */
    for (int lr = 1; lr <= nh; lr++)
        for (int c = 1; c <= nw; c++) {
            float v = s.d[(size_t)lr * W + c];
            size_t o = (size_t)(lr - 1) * nw + c - 1;
            if (v > s.h_dry) {
                s.maxd[o] = v;
                s.maxv[o] = 0;
            }
            if (v > s.h_wet)
                s.arrive[o] = 0;
        }
    /* Inflow and gauge cells: found on the whole grid, owned by one rank. */
    long *inflow_cell = calloc((size_t)desc->n_inflows + 1, sizeof(long));
    long *gauge_cell = calloc((size_t)desc->n_gauges + 1, sizeof(long));
    if (!inflow_cell || !gauge_cell)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (int i = 0; i < desc->n_inflows && st == CT_OK; i++) {
        int c, r;
        if (!ct_flood_cell_of(dem, desc->inflows[i].x, desc->inflows[i].y, &c, &r))
            st = ct_error_set(err, CT_ERR_INPUT, "inflow %d (%.3f,%.3f) lies outside the DEM", i + 1,
                              desc->inflows[i].x, desc->inflows[i].y);
        else
            inflow_cell[i] = owned_index(&s, c, r);
    }
    for (int i = 0; i < desc->n_gauges && st == CT_OK; i++) {
        int c, r;
        if (!ct_flood_cell_of(dem, desc->gauges_xy[2 * i], desc->gauges_xy[2 * i + 1], &c, &r))
            st = ct_error_set(err, CT_ERR_INPUT, "gauge %d (%.3f,%.3f) lies outside the DEM", i + 1,
                              desc->gauges_xy[2 * i], desc->gauges_xy[2 * i + 1]);
        else
            gauge_cell[i] = owned_index(&s, c, r);
    }
    /* the owner checks its inflow cells */
    for (int i = 0; i < desc->n_inflows && st == CT_OK; i++)
        if (inflow_cell[i] >= 0 && s.wall[inflow_cell[i]])
            st = ct_error_set(err, CT_ERR_INPUT, "inflow %d (%.3f,%.3f) lies on nodata or a building", i + 1,
                              desc->inflows[i].x, desc->inflows[i].y);
    st = agree_status(&s, st, err);
    line_src *lsrc = NULL;
    int n_lsrc = 0;
    if (st == CT_OK)
        st = line_sources(&s, desc, dem, &lsrc, &n_lsrc, err);
    /* every rain raster must open before the run starts (rank 0 reads them) */
    for (int i = 0; st == CT_OK && s.rank == 0 && i < desc->n_rain_rasters; i++) {
        ct_raster *rh = NULL;
        st = ct_raster_read_header(desc->rain_rasters[i].path, &rh, err);
        if (st != CT_OK)
            ct_error_prefix(err, "rain raster %d (t = %g s): ", i + 1, desc->rain_rasters[i].t);
        ct_raster_destroy(rh);
    }
    st = agree_status(&s, st, err);
    double gauge_every = desc->gauge_every_s > 0 ? desc->gauge_every_s : 60.0;
    int max_gauge_times = desc->n_gauges ? (int)(desc->duration_s / gauge_every) + 3 : 0;
    if (desc->snapshot_every_s > 0 && desc->n_gauges)
        max_gauge_times += (int)(desc->duration_s / desc->snapshot_every_s) + 1;
    if (st == CT_OK && desc->n_gauges) {
        res->gauge_t = calloc((size_t)max_gauge_times, sizeof(double));
        res->gauge_depth = calloc((size_t)max_gauge_times * desc->n_gauges, sizeof(float));
        res->gauge_wse = calloc((size_t)max_gauge_times * desc->n_gauges, sizeof(float));
        if (!res->gauge_t || !res->gauge_depth || !res->gauge_wse)
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    /* Mass balance rows: t = 0, one per interval, the end (and slack for rounding). */
    double mass_every = desc->mass_balance_every_s > 0 ? desc->mass_balance_every_s : gauge_every;
    if (desc->duration_s / mass_every > 1e6)
        mass_every = desc->duration_s / 1e6;
    int max_mass_rows = (int)(desc->duration_s / mass_every) + 3;
    if (st == CT_OK && !(res->mass = ct_calloc_array((size_t)max_mass_rows, sizeof *res->mass)))
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    double *gbuf = ct_calloc_array(2 * (size_t)desc->n_gauges + 1, sizeof(double));
    float *own = ct_malloc_array(nown ? nown : 1, sizeof(float));
    if (st == CT_OK && (!own || !gbuf))
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    st = agree_status(&s, st, err);
    if (st != CT_OK) {
        free(lsrc);
        free(own);
        free(gbuf);
        free(inflow_cell);
        free(gauge_cell);
        sim_free(&s);
        free(glob);
        free(gtmp);
        ct_raster_destroy(hdr_owned);
        ct_flood_sim_result_free(res);
        return st;
    }

    double v0 = reduce_sum(&s, stored_volume(&s));
    double rain_total = 0, inflow_total = 0, bnd_in = 0, bnd_out = 0, clipped = 0;
    mass_record(&s, res, max_mass_rows, 0, v0, 0, 0, 0, 0);
    double next_mass = mass_every;
    double hmax = 0;
    for (size_t i = 0; i < nloc; i++)
        if (s.d[i] > hmax)
            hmax = s.d[i];
    double zmin_edge[4];
    edge_min_ground(&s, zmin_edge);
    double h_inflow = 0, rise_inflow = 0;
    {
        double red[3] = {hmax, 0, 0};
        inflow_state(&s, desc, inflow_cell, lsrc, n_lsrc, 0.0, &red[1], &red[2]);
        allreduce_max_n(&s, red, 3);
        hmax = red[0];
        h_inflow = red[1];
        rise_inflow = red[2];
    }
    const double dt_max = desc->dt_max > 0 ? desc->dt_max : 5.0;
    const double T = desc->duration_s;
    double t = 0, next_snap = desc->snapshot_every_s > 0 ? desc->snapshot_every_s : INFINITY;
    double next_gauge = 0;
    long long steps = 0;
    /* 2D CFL length: 1 / sqrt(1/dx² + 1/dy²) (dx / sqrt 2 for square cells). */
    const double min_d = 1.0 / sqrt(1.0 / ((double)s.dx * s.dx) + 1.0 / ((double)s.dy * s.dy));

    int frame = -1; /* the rain raster falling now (-1: none yet) */
    while (st == CT_OK) {
        /* Rain rasters: switch to the last frame whose time has come. */
        if (desc->n_rain_rasters > 0) {
            int f = frame;
            while (f + 1 < desc->n_rain_rasters && t >= desc->rain_rasters[f + 1].t - 1e-9)
                f++;
            if (f != frame) {
                frame = f;
                st = rain_frame_scatter(&s, dem, desc->rain_rasters[f].path, glob, err);
                if (st != CT_OK)
                    break;
            }
        }
        /* Gauges at t (the owner's values, max-reduced: others give -inf). */
        if (desc->n_gauges && t >= next_gauge - 1e-9 && res->n_gauge_times < max_gauge_times) {
            int k = res->n_gauge_times++;
            res->gauge_t[k] = t;
            for (int g = 0; g < desc->n_gauges; g++) {
                /* walls: -1e30 -> NAN */
                double dv = -INFINITY, wv = -INFINITY;
                long i = gauge_cell[g];
                if (i >= 0) {
                    dv = s.wall[i] ? -1e30 : s.d[i];
                    wv = s.wall[i] ? -1e30 : (double)(s.z[i] + s.d[i]);
                }
                gbuf[2 * g] = dv;
                gbuf[2 * g + 1] = wv;
            }
            allreduce_max_n(&s, gbuf, 2 * desc->n_gauges);
            for (int g = 0; g < desc->n_gauges; g++) {
                res->gauge_depth[(size_t)k * desc->n_gauges + g] = gbuf[2 * g] < -1e29 ? NAN : (float)gbuf[2 * g];
                res->gauge_wse[(size_t)k * desc->n_gauges + g] =
                    gbuf[2 * g + 1] < -1e29 ? NAN : (float)gbuf[2 * g + 1];
            }
            next_gauge += gauge_every;
        }
        if (t >= T - 1e-9)
            break;
        /* A level boundary's water over the lowest edge ground counts as a
         * depth for the step (a rising stage must not enter a dry grid in
         * one overlong step); the same value on every rank. */
        double h_cfl = fmax(hmax, boundary_depth_max(desc, zmin_edge, t, t + dt_max));
        double dt = h_cfl > 0 ? s.alpha * min_d / sqrt(9.81 * h_cfl) : dt_max;
        if (dt > dt_max)
            dt = dt_max;
        if (desc->n_inflows || desc->n_line_inflows) {
            /* The CFL estimate must also hold for the depth an inflow is about
             * to create (a dry domain would otherwise take dt_max): bound it by
             * the deepest inflow cell plus the fastest inflow rise over dt. */
            double hp = h_inflow + rise_inflow * dt;
            for (int it = 0; it < 4 && hp > h_cfl; it++) {
                double dt2 = s.alpha * min_d / sqrt(9.81 * hp);
                if (dt2 >= dt)
                    break;
                dt = dt2;
                hp = h_inflow + rise_inflow * dt;
            }
        }
        double t_next = t + dt;
        double stop = fmin(T, fmin(next_snap, desc->n_gauges ? next_gauge : INFINITY));
        if (frame + 1 < desc->n_rain_rasters)
            stop = fmin(stop, desc->rain_rasters[frame + 1].t); /* each frame's interval exactly */
        if (t_next >= stop - 1e-9)
            t_next = stop;
        dt = t_next - t;
        float dtf = (float)dt;
        double rate = desc->rain_series.n > 0 ? series_at(&desc->rain_series, t + 0.5 * dt) : desc->rain_mm_h;
        float rain_m = (float)(rate / 1000.0 / 3600.0 * dt);
        if (rain_m < 0)
            rain_m = 0;

        /* stage boundaries: the level at the middle of the step */
        for (int side = 0; side < 4; side++)
            if (s.b[side].kind == CT_FLOOD_BOUNDARY_LEVEL && s.b[side].level_series.n > 0)
                s.b[side].level = series_at(&s.b[side].level_series, t + 0.5 * dt);
        compute_fluxes(&s, dtf);
        limit_fluxes(&s, dtf);
        step_stats ss;
        if (desc->n_rain_rasters > 0)
            rain_m = 0;
        update_depths(&s, dtf, rain_m, frame >= 0 ? dt : 0.0, t_next, &ss);
        if (s.rain)
            rain_total += ss.rain_m * s.area;
        else
            rain_total += (double)rain_m * valid_local * s.area;
        bnd_in += ss.bnd_in;
        bnd_out += ss.bnd_out;
        clipped += ss.clipped;
        for (int i = 0; i < desc->n_inflows; i++) {
            double vol = series_integral(&desc->inflows[i].q_m3s, t, t_next);
            long ci = inflow_cell[i];
            if (ci >= 0) {
                float add = (float)(vol / s.area);
                if (s.d[ci] + add < 0) /* negative hydrograph: extraction, limited to the water present */
                    add = -s.d[ci];
                s.d[ci] += add;
                inflow_total += (double)add * s.area;
                if (s.d[ci] > ss.hmax)
                    ss.hmax = s.d[ci];
            }
        }
        for (int i = 0; i < n_lsrc; i++) {
            long ci = lsrc[i].cell;
            float add = (float)(series_integral(lsrc[i].q, t, t_next) * lsrc[i].w / s.area);
            if (s.d[ci] + add < 0)
                add = -s.d[ci];
            s.d[ci] += add;
            inflow_total += (double)add * s.area;
            if (s.d[ci] > ss.hmax)
                ss.hmax = s.d[ci];
        }
        halo_state(&s, s.qx1, s.qy1);
        float *tmp = s.qx;
        s.qx = s.qx1;
        s.qx1 = tmp;
        tmp = s.qy;
        s.qy = s.qy1;
        s.qy1 = tmp;
        t = t_next;
        {
            double red[3] = {ss.hmax, 0, 0};
            inflow_state(&s, desc, inflow_cell, lsrc, n_lsrc, t, &red[1], &red[2]);
            allreduce_max_n(&s, red, 3);
            hmax = red[0];
            h_inflow = red[1];
            rise_inflow = red[2];
        }
        steps++;
        if (desc->progress && s.rank == 0)
            desc->progress(desc->progress_user, T > 0 ? t / T : 1);
        /* the budget once per interval (the end's row comes with the totals below) */
        if (t >= next_mass - 1e-9 && t < T - 1e-9) {
            mass_record(&s, res, max_mass_rows, t, v0, rain_total, inflow_total, bnd_in, bnd_out);
            while (next_mass <= t + 1e-9)
                next_mass += mass_every;
        }
        if (t >= next_snap - 1e-9) {
            if (desc->on_snapshot) {
                own_depths(&s, own);
                gather_blocks(&s, own, glob, gtmp);
                if (s.rank == 0) {
                    for (size_t i = 0; i < nglob; i++)
                        if (!(glob[i] > s.h_dry))
                            glob[i] = NAN;
                    st = desc->on_snapshot(desc->user, next_snap, glob, err);
                }
                /* every rank learns whether rank 0 failed */
                st = agree_status(&s, st, err);
            }
            next_snap += desc->snapshot_every_s;
        }
    }
    if (st == CT_OK) {
        /* Outputs. */
        own_depths(&s, own);
        st = gather_field(&s, own, dem, s.h_dry, &res->final_depth, glob, gtmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.maxd, dem, s.h_dry, &res->max_depth, glob, gtmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.maxv, dem, -0.5f, &res->max_velocity, glob, gtmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.arrive, dem, -0.5f, &res->arrival_time, glob, gtmp, err);
        st = agree_status(&s, st, err);
    }
    if (st == CT_OK) {
        double vf = reduce_sum(&s, stored_volume(&s));
        res->rain_m3 = reduce_sum(&s, rain_total);
        res->inflow_m3 = reduce_sum(&s, inflow_total);
        res->boundary_in_m3 = reduce_sum(&s, bnd_in);
        res->boundary_out_m3 = reduce_sum(&s, bnd_out);
        (void)clipped; /* clipping shows up in the balance itself */
        res->initial_volume_m3 = v0;
        res->final_volume_m3 = vf;
        double in = res->rain_m3 + res->inflow_m3 + res->boundary_in_m3;
        double scale = fmax(fmax(in, v0), fmax(vf, 1e-9));
        res->mass_balance_error = fabs(vf - v0 - in + res->boundary_out_m3) / scale;
        /* the last row: the totals themselves */
        if (res->n_mass_rows < max_mass_rows)
            res->n_mass_rows++;
        res->mass[res->n_mass_rows - 1] = (ct_flood_mass_row){
            t, res->rain_m3, res->inflow_m3, res->boundary_in_m3, res->boundary_out_m3, vf, res->mass_balance_error};
        res->steps = steps;
        res->simulated_s = t;
        res->ranks = s.size;
        res->blocks_x = s.px;
        res->blocks_y = s.py;
        double maxd = 0;
        long wet = 0;
        for (size_t i = 0; i < nown; i++) {
            float v = s.maxd[i];
            if (v > maxd)
                maxd = v;
            if (v > s.h_wet)
                wet++;
        }
        res->max_depth_m = allreduce_max(&s, maxd);
        res->flooded_area_m2 = reduce_sum(&s, (double)wet) * s.area;
        res->seconds = ct_time_now() - t_start;
        res->cell_updates_per_s = res->seconds > 0 ? (double)steps * valid_cells / res->seconds : 0;
        if (s.rank != 0) {
            free(res->gauge_t);
            free(res->gauge_depth);
            free(res->gauge_wse);
            res->gauge_t = NULL;
            res->gauge_depth = res->gauge_wse = NULL;
            res->n_gauge_times = 0;
            free(res->mass);
            res->mass = NULL;
            res->n_mass_rows = 0;
        }
    }
    free(lsrc);
    free(own);
    free(gbuf);
    free(inflow_cell);
    free(gauge_cell);
    free(glob);
    free(gtmp);
    sim_free(&s);
    ct_raster_destroy(hdr_owned);
    if (st != CT_OK)
        ct_flood_sim_result_free(res);
    return st;
}
