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
 * Data layout: the rows of this process (all rows, or an MPI row strip) plus
 * one halo row above and below. qx has w+1 faces per owned row (face c is
 * west of cell c); qy face k lies between local rows k-1 and k (k = 0..nh+2;
 * faces 0 and nh+2 are only needed for the q-centred average and come from
 * the neighbours). Everything a face needs is in the halo, so a strip
 * computes exactly the same floats as one process. OpenMP splits rows. */
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
    int r0, nh;        /* owned global rows [r0, r0+nh) */
    int up, down;      /* neighbour ranks, -1 at the global edge */
    int rank, size;
    bool mpi;
    float dx, dy;
    double area;
    float *z, *d, *n2;  /* (nh+2)*w; n2 NULL when Manning's n is constant */
    float n2c;
    uint8_t *wall;      /* (nh+2)*w: 1 = nodata or building */
    float *qx, *qx1;    /* nh*(w+1), old and new */
    float *qy, *qy1;    /* (nh+3)*w */
    float *f;           /* (nh+2)*w limiter factors */
    float *maxd, *maxv, *arrive; /* nh*w */
    float theta, alpha, h_dry, h_wet;
    ct_flood_boundary b[4];
    bool par;           /* big enough for OpenMP threads to pay off */
} sim;

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

/* Sends own first/last row of a (nh+2)-row array to the neighbours and
 * receives their rows into the halo rows 0 and nh+1. */
static void halo_rows(sim *s, float *a)
{
#ifdef CT_HAVE_MPI
    if (!s->mpi)
        return;
    int w = s->w, nh = s->nh;
    int up = s->up >= 0 ? s->up : MPI_PROC_NULL, down = s->down >= 0 ? s->down : MPI_PROC_NULL;
    MPI_Sendrecv(a + (size_t)1 * w, w, MPI_FLOAT, up, 1, a + (size_t)(nh + 1) * w, w, MPI_FLOAT, down, 1,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Sendrecv(a + (size_t)nh * w, w, MPI_FLOAT, down, 2, a, w, MPI_FLOAT, up, 2, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
#else
    (void)s;
    (void)a;
#endif
}

/* End of step: depth rows and qy faces in one message per neighbour. */
static void halo_state(sim *s, float *qy, float *buf)
{
#ifdef CT_HAVE_MPI
    if (!s->mpi)
        return;
    int w = s->w, nh = s->nh;
    int up = s->up >= 0 ? s->up : MPI_PROC_NULL, down = s->down >= 0 ? s->down : MPI_PROC_NULL;
    float *snd = buf, *rcv = buf + 2 * (size_t)w;
    /* upwards: my first owned row and face 2; from below: their first row and face 2 */
    memcpy(snd, s->d + (size_t)1 * w, sizeof(float) * w);
    memcpy(snd + w, qy + (size_t)2 * w, sizeof(float) * w);
    MPI_Sendrecv(snd, 2 * w, MPI_FLOAT, up, 5, rcv, 2 * w, MPI_FLOAT, down, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (s->down >= 0) {
        memcpy(s->d + (size_t)(nh + 1) * w, rcv, sizeof(float) * w);
        memcpy(qy + (size_t)(nh + 2) * w, rcv + w, sizeof(float) * w);
    }
    memcpy(snd, s->d + (size_t)nh * w, sizeof(float) * w);
    memcpy(snd + w, qy + (size_t)nh * w, sizeof(float) * w);
    MPI_Sendrecv(snd, 2 * w, MPI_FLOAT, down, 6, rcv, 2 * w, MPI_FLOAT, up, 6, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (s->up >= 0) {
        memcpy(s->d, rcv, sizeof(float) * w);
        memcpy(qy, rcv + w, sizeof(float) * w);
    }
#else
    (void)s;
    (void)qy;
    (void)buf;
#endif
}

/* Element-wise max of n doubles across ranks, in place. */
static void allreduce_max_n(sim *s, double *v, int n)
{
#ifdef CT_HAVE_MPI
    if (s->mpi)
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#endif
    (void)s;
    (void)v;
    (void)n;
}

static double allreduce_max(sim *s, double v)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        double r;
        MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        return r;
    }
#endif
    (void)s;
    return v;
}

static double reduce_sum(sim *s, double v)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        double r;
        MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        return r;
    }
#endif
    (void)s;
    return v;
}

/* Gathers the owned rows (nh*w floats) of every rank into out (w*h, rank 0). */
static void gather_rows(sim *s, const float *own, float *out)
{
#ifdef CT_HAVE_MPI
    if (s->mpi) {
        int *counts = NULL, *displs = NULL;
        if (s->rank == 0) {
            counts = malloc(sizeof(int) * s->size);
            displs = malloc(sizeof(int) * s->size);
            for (int i = 0; i < s->size; i++) {
                int a = (int)((long long)s->h * i / s->size), b = (int)((long long)s->h * (i + 1) / s->size);
                counts[i] = (b - a) * s->w;
                displs[i] = a * s->w;
            }
        }
        MPI_Gatherv(own, s->nh * s->w, MPI_FLOAT, out, counts, displs, MPI_FLOAT, 0, MPI_COMM_WORLD);
        free(counts);
        free(displs);
        return;
    }
#endif
    memcpy(out, own, sizeof(float) * (size_t)s->nh * s->w);
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

/* Pass A: all new face fluxes of the owned rows. */
static void compute_fluxes(sim *s, float dt)
{
    const int w = s->w, nh = s->nh;
    const float th = s->theta, tc = 0.5f * (1.0f - s->theta);
    const float dx = s->dx, dy = s->dy, hd = s->h_dry;
#pragma omp parallel for schedule(static) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const size_t base = (size_t)lr * w;
        const float *z = s->z + base, *d = s->d + base;
        const uint8_t *wl = s->wall + base;
        const float *qo = s->qx + (size_t)(lr - 1) * (w + 1);
        float *qn = s->qx1 + (size_t)(lr - 1) * (w + 1);
        const float *n2r = s->n2 ? s->n2 + base : NULL;
        flux_row(z, d, z + 1, d + 1, wl, wl + 1, qo + 1, qo, qo + 2, qn + 1, w - 1, n2r, n2r ? n2r + 1 : NULL, s->n2c,
                 th, tc, G * dt, G * dt / dx, hd);
        qn[0] = boundary_flux(s, &s->b[CT_FLOOD_WEST], base, w > 1 ? (long)(base + 1) : -1, qo[0], dt, dx, -1.0f);
        qn[w] = boundary_flux(s, &s->b[CT_FLOOD_EAST], base + w - 1, w > 1 ? (long)(base + w - 2) : -1, qo[w], dt, dx,
                              1.0f);
    }
    /* qy faces k = 1..nh+1 (between local rows k-1 and k). */
#pragma omp parallel for schedule(static) if (s->par)
    for (int k = 1; k <= nh + 1; k++) {
        const float *qo = s->qy + (size_t)k * w, *qp = qo - w, *qnx = qo + w;
        float *qn = s->qy1 + (size_t)k * w;
        bool top_edge = k == 1 && s->up < 0, bottom_edge = k == nh + 1 && s->down < 0;
        if (top_edge || bottom_edge) {
            int lr = top_edge ? 1 : nh;
            int side = top_edge ? CT_FLOOD_NORTH : CT_FLOOD_SOUTH;
            long step = top_edge ? w : -(long)w;
            bool has_in = s->h > 1;
            for (int c = 0; c < w; c++) {
                size_t i = (size_t)lr * w + c;
                qn[c] = boundary_flux(s, &s->b[side], i, has_in ? (long)i + step : -1, qo[c], dt, dy,
                                      top_edge ? -1.0f : 1.0f);
            }
            continue;
        }
        const size_t ba = (size_t)(k - 1) * w, bb = (size_t)k * w;
        const float *za = s->z + ba, *zb = s->z + bb, *da = s->d + ba, *db = s->d + bb;
        const uint8_t *wa = s->wall + ba, *wb = s->wall + bb;
        const float *n2a = s->n2 ? s->n2 + ba : NULL, *n2b = s->n2 ? s->n2 + bb : NULL;
        flux_row(za, da, zb, db, wa, wb, qo, qp, qnx, qn, w, n2a, n2b, s->n2c, th, tc, G * dt, G * dt / dy, hd);
    }
}

/* Pass B + C: limiter factors, then donor scaling of the face fluxes.
 * Returns whether any factor was below 1 on this rank. */
static void limit_fluxes(sim *s, float dt)
{
    const int w = s->w, nh = s->nh;
    const float ax = dt * s->dy, ay = dt * s->dx; /* face length * dt */
    const float vol = s->dx * s->dy;
    int any = 0;
#pragma omp parallel for schedule(static) reduction(| : any) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * (w + 1);
        const float *qn = s->qy1 + (size_t)lr * w, *qs = qn + w;
        const float *d = s->d + (size_t)lr * w;
        float *f = s->f + (size_t)lr * w;
        for (int c = 0; c < w; c++) {
            float out = ax * (maxf(qx[c + 1], 0.0f) + maxf(-qx[c], 0.0f)) +
                        ay * (maxf(qs[c], 0.0f) + maxf(-qn[c], 0.0f));
            float avail = d[c] * vol;
            int lim = out > avail;
            f[c] = self(lim, avail / maxf(out, 1e-30f), 1.0f);
            any |= lim;
        }
    }
    /* Under MPI the neighbours' factors are always needed (a face on the strip
     * edge may have its donor there); alone, skip when nothing was limited. */
    if (!s->mpi && !any)
        return;
    halo_rows(s, s->f);
#pragma omp parallel for schedule(static) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        float *qx = s->qx1 + (size_t)(lr - 1) * (w + 1);
        const float *f = s->f + (size_t)lr * w;
        for (int c = 1; c < w; c++) {
            float q = qx[c];
            if (q > 0)
                qx[c] = q * f[c - 1];
            else if (q < 0)
                qx[c] = q * f[c];
        }
        if (qx[0] < 0)
            qx[0] *= f[0];
        if (qx[w] > 0)
            qx[w] *= f[w - 1];
    }
#pragma omp parallel for schedule(static) if (s->par)
    for (int k = 1; k <= nh + 1; k++) {
        float *qy = s->qy1 + (size_t)k * w;
        const float *fa = s->f + (size_t)(k - 1) * w, *fb = s->f + (size_t)k * w;
        bool top_edge = k == 1 && s->up < 0, bottom_edge = k == nh + 1 && s->down < 0;
        for (int c = 0; c < w; c++) {
            float q = qy[c];
            if (q > 0 && !top_edge)
                qy[c] = q * fa[c];
            else if (q < 0 && !bottom_edge)
                qy[c] = q * fb[c];
        }
    }
}

typedef struct step_stats {
    double hmax;
    double bnd_in, bnd_out;   /* m³ over the step */
    double clipped;           /* m³ added by clipping negative depths */
} step_stats;

/* Pass D: depths from the flux divergence and rain; maxima and arrival. */
static void update_depths(sim *s, float dt, float rain_m, double t_end, step_stats *st)
{
    const int w = s->w, nh = s->nh;
    const float cx = dt / s->dx, cy = dt / s->dy;
    const float hd = s->h_dry, hw = s->h_wet;
    float hmax = 0;
    double clipped = 0;
#pragma omp parallel for schedule(static) reduction(max : hmax) reduction(+ : clipped) if (s->par)
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * (w + 1);
        const float *qn = s->qy1 + (size_t)lr * w, *qs = qn + w;
        float *d = s->d + (size_t)lr * w;
        const uint8_t *wl = s->wall + (size_t)lr * w;
        float *md = s->maxd + (size_t)(lr - 1) * w, *mv = s->maxv + (size_t)(lr - 1) * w;
        float *ar = s->arrive + (size_t)(lr - 1) * w;
        const float tf = (float)t_end;
        float clip_row = 0;
        for (int c = 0; c < w; c++) {
            float v = d[c] + cx * (qx[c] - qx[c + 1]) + cy * (qn[c] - qs[c]) + rain_m;
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
    }
    st->hmax = hmax;
    st->clipped = clipped * (double)s->dx * s->dy;
    /* Boundary exchange over the step (outward positive). */
    double bin = 0, bout = 0;
    for (int lr = 1; lr <= nh; lr++) {
        const float *qx = s->qx1 + (size_t)(lr - 1) * (w + 1);
        double west = -qx[0] * (double)s->dy * dt, east = qx[w] * (double)s->dy * dt;
        if (west > 0) bout += west; else bin -= west;
        if (east > 0) bout += east; else bin -= east;
    }
    if (s->up < 0)
        for (int c = 0; c < w; c++) {
            double v = -s->qy1[(size_t)1 * w + c] * (double)s->dx * dt;
            if (v > 0) bout += v; else bin -= v;
        }
    if (s->down < 0)
        for (int c = 0; c < w; c++) {
            double v = s->qy1[(size_t)(nh + 1) * w + c] * (double)s->dx * dt;
            if (v > 0) bout += v; else bin -= v;
        }
    st->bnd_in = bin;
    st->bnd_out = bout;
}

static double stored_volume(const sim *s)
{
    double v = 0;
    const int w = s->w;
#pragma omp parallel for schedule(static) reduction(+ : v) if (s->par)
    for (int lr = 1; lr <= s->nh; lr++) {
        const float *d = s->d + (size_t)lr * w;
        double rv = 0;
        for (int c = 0; c < w; c++)
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
    memset(r, 0, sizeof *r);
}

/* Deepest inflow cell and fastest inflow rise (m/s) on this rank at t. */
static void inflow_state(const sim *s, const ct_flood_sim_desc *desc, const long *cells, double t, double *h,
                         double *rise)
{
    *h = 0;
    *rise = 0;
    for (int i = 0; i < desc->n_inflows; i++)
        if (cells[i] >= 0) {
            *h = fmax(*h, s->d[cells[i]]);
            *rise = fmax(*rise, fabs(series_at(&desc->inflows[i].q_m3s, t)) / s->area);
        }
}

/* Local cell index (local row lr) of a global (col,row), or -1 if not owned. */
static long owned_index(const sim *s, int col, int row)
{
    if (row < s->r0 || row >= s->r0 + s->nh)
        return -1;
    return (long)(row - s->r0 + 1) * s->w + col;
}

/* Gathers a local (nh+2)-row or nh-row field into a global raster on rank 0;
 * cells not above thr (or NAN; -1 marks never wet) become NAN. */
static ct_status gather_field(sim *s, const float *own_rows, const ct_raster *dem, float thr, ct_raster **out,
                              float *tmp_global, ct_error *err)
{
    *out = NULL;
    float *dst = tmp_global;
    gather_rows(s, own_rows, dst);
    if (s->rank != 0)
        return CT_OK;
    ct_raster *r = ct_raster_create(s->w, s->h, dem);
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    size_t n = (size_t)s->w * s->h;
    for (size_t i = 0; i < n; i++) {
        float v = dst[i];
        r->data[i] = !(v > thr) ? NAN : v;
    }
    *out = r;
    return CT_OK;
}

ct_status ct_flood_sim_run(const ct_flood_sim_desc *desc, ct_flood_sim_result *res, ct_error *err)
{
    memset(res, 0, sizeof *res);
    const ct_raster *dem = desc->dem;
    double t_start = ct_time_now();
    if (!(desc->duration_s > 0))
        return ct_error_set(err, CT_ERR_USAGE, "duration must be > 0");
    if (dem->crs_wkt && *dem->crs_wkt && ct_crs_is_geographic(dem->crs_wkt))
        return ct_error_set(err, CT_ERR_INPUT,
                            "the dynamic flood needs a projected DEM in metres; this one is geographic "
                            "(reproject it, e.g. gdalwarp -t_srs EPSG:NNNN)");
    if (dem->geotransform[2] != 0 || dem->geotransform[4] != 0)
        return ct_error_set(err, CT_ERR_INPUT, "rotated DEM grids are not supported");
    if (dem->width < 1 || dem->height < 1)
        return ct_error_set(err, CT_ERR_INPUT, "empty DEM");
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
    if (s.theta > 1 || s.alpha > 1)
        return ct_error_set(err, CT_ERR_USAGE, "theta and alpha must be in (0, 1]");
    double manning = desc->manning > 0 ? desc->manning : 0.03;
    s.n2c = (float)(manning * manning);
    memcpy(s.b, desc->boundary, sizeof s.b);
    s.rank = 0;
    s.size = 1;
    s.up = s.down = -1;
#ifdef CT_HAVE_MPI
    if (desc->use_mpi) {
        int inited = 0;
        MPI_Initialized(&inited);
        if (inited) {
            s.mpi = true;
            MPI_Comm_rank(MPI_COMM_WORLD, &s.rank);
            MPI_Comm_size(MPI_COMM_WORLD, &s.size);
        }
    }
#endif
    if (s.size > s.h)
        return ct_error_set(err, CT_ERR_USAGE, "%d MPI ranks for a DEM of %d rows", s.size, s.h);
    s.r0 = (int)((long long)s.h * s.rank / s.size);
    s.nh = (int)((long long)s.h * (s.rank + 1) / s.size) - s.r0;
    s.up = s.rank > 0 ? s.rank - 1 : -1;
    s.down = s.rank < s.size - 1 ? s.rank + 1 : -1;
    const int w = s.w, nh = s.nh;
    s.par = (size_t)nh * w >= 32768;
    size_t nloc = (size_t)(nh + 2) * w, nown = (size_t)nh * w;
    s.z = ct_calloc_array(nloc, sizeof(float));
    s.d = ct_calloc_array(nloc, sizeof(float));
    s.wall = ct_calloc_array(nloc, 1);
    s.qx = ct_calloc_array((size_t)nh * (w + 1), sizeof(float));
    s.qx1 = ct_calloc_array((size_t)nh * (w + 1), sizeof(float));
    s.qy = ct_calloc_array((size_t)(nh + 3) * w, sizeof(float));
    s.qy1 = ct_calloc_array((size_t)(nh + 3) * w, sizeof(float));
    s.f = ct_malloc_array(nloc, sizeof(float));
    s.maxd = ct_malloc_array(nown, sizeof(float));
    s.maxv = ct_malloc_array(nown, sizeof(float));
    s.arrive = ct_malloc_array(nown, sizeof(float));
    if (desc->manning_raster)
        s.n2 = ct_malloc_array(nloc, sizeof(float));
    float *global_tmp = s.rank == 0 ? ct_malloc_array((size_t)w * s.h, sizeof(float)) : NULL;
    if (!s.z || !s.d || !s.wall || !s.qx || !s.qx1 || !s.qy || !s.qy1 || !s.f || !s.maxd || !s.maxv || !s.arrive ||
        (desc->manning_raster && !s.n2) || (s.rank == 0 && !global_tmp)) {
        sim_free(&s);
        free(global_tmp);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", w, s.h);
    }
    /* Local rows including halos; rows outside the grid are walls. */
    long valid_local = 0;
    for (int lr = 0; lr < nh + 2; lr++) {
        int gr = s.r0 + lr - 1;
        for (int c = 0; c < w; c++) {
            size_t i = (size_t)lr * w + c;
            s.f[i] = 1.0f;
            if (gr < 0 || gr >= s.h) {
                s.wall[i] = 1;
                continue;
            }
            size_t gi = (size_t)gr * w + c;
            float z = dem->data[gi];
            bool wall = isnan(z) || (desc->blocked && desc->blocked[gi]);
            s.wall[i] = wall;
            s.z[i] = wall ? 0.0f : z;
            if (s.n2) {
                float n = desc->manning_raster->data[gi];
                s.n2[i] = (isnan(n) || n <= 0) ? s.n2c : n * n;
            }
            if (!wall && desc->use_initial_level && (float)desc->initial_level > z)
                s.d[i] = (float)desc->initial_level - z;
            if (!wall && lr >= 1 && lr <= nh)
                valid_local++;
        }
    }
    double valid_cells = reduce_sum(&s, (double)valid_local);
    for (size_t i = 0; i < nown; i++) {
        s.maxd[i] = -1.0f; /* never wet; NAN in the outputs */
        s.maxv[i] = -1.0f;
        s.arrive[i] = -1.0f;
    }
    /* Initial water counts as already arrived (t = 0). */
    for (int lr = 1; lr <= nh; lr++)
        for (int c = 0; c < w; c++) {
            float v = s.d[(size_t)lr * w + c];
            size_t o = (size_t)(lr - 1) * w + c;
            if (v > s.h_dry) {
                s.maxd[o] = v;
                s.maxv[o] = 0;
            }
            if (v > s.h_wet)
                s.arrive[o] = 0;
        }
    /* Inflow and gauge cells. */
    ct_status st = CT_OK;
    long *inflow_cell = calloc((size_t)desc->n_inflows + 1, sizeof(long));
    long *gauge_cell = calloc((size_t)desc->n_gauges + 1, sizeof(long));
    for (int i = 0; i < desc->n_inflows && st == CT_OK; i++) {
        int c, r;
        if (!ct_flood_cell_of(dem, desc->inflows[i].x, desc->inflows[i].y, &c, &r))
            st = ct_error_set(err, CT_ERR_INPUT, "inflow %d (%.3f,%.3f) lies outside the DEM", i + 1,
                              desc->inflows[i].x, desc->inflows[i].y);
        else if (isnan(dem->data[(size_t)r * w + c]) || (desc->blocked && desc->blocked[(size_t)r * w + c]))
            st = ct_error_set(err, CT_ERR_INPUT, "inflow %d (%.3f,%.3f) lies on nodata or a building", i + 1,
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
    if (st != CT_OK) {
        free(inflow_cell);
        free(gauge_cell);
        sim_free(&s);
        free(global_tmp);
        ct_flood_sim_result_free(res);
        return st;
    }

    halo_rows(&s, s.d);
    double v0 = reduce_sum(&s, stored_volume(&s));
    double rain_total = 0, inflow_total = 0, bnd_in = 0, bnd_out = 0, clipped = 0;
    double hmax = 0;
    for (size_t i = 0; i < nloc; i++)
        if (s.d[i] > hmax)
            hmax = s.d[i];
    double h_inflow = 0, rise_inflow = 0;
    {
        double red[3] = {hmax, 0, 0};
        inflow_state(&s, desc, inflow_cell, 0.0, &red[1], &red[2]);
        allreduce_max_n(&s, red, 3);
        hmax = red[0];
        h_inflow = red[1];
        rise_inflow = red[2];
    }
    double *gbuf = ct_calloc_array(2 * (size_t)desc->n_gauges + 1, sizeof(double));
    float *halo_buf = ct_malloc_array(4 * (size_t)w, sizeof(float));
    const double dt_max = desc->dt_max > 0 ? desc->dt_max : 5.0;
    const double T = desc->duration_s;
    double t = 0, next_snap = desc->snapshot_every_s > 0 ? desc->snapshot_every_s : INFINITY;
    double next_gauge = 0;
    long long steps = 0;
    /* 2D CFL length: 1 / sqrt(1/dx² + 1/dy²) (dx / sqrt 2 for square cells). */
    const double min_d = 1.0 / sqrt(1.0 / ((double)s.dx * s.dx) + 1.0 / ((double)s.dy * s.dy));
    float *own = ct_malloc_array(nown ? nown : 1, sizeof(float));
    if (!own || !gbuf || !halo_buf)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");

    while (st == CT_OK) {
        /* Gauges at t (rank-local values, reduced with max: others give -inf). */
        if (desc->n_gauges && t >= next_gauge - 1e-9 && res->n_gauge_times < max_gauge_times) {
            int k = res->n_gauge_times++;
            res->gauge_t[k] = t;
            for (int g = 0; g < desc->n_gauges; g++) {
                /* the owner's value; others -inf (max-reduced); walls: -1e30 -> NAN */
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
        double dt = hmax > 0 ? s.alpha * min_d / sqrt(9.81 * hmax) : dt_max;
        if (dt > dt_max)
            dt = dt_max;
        if (desc->n_inflows) {
            /* The CFL estimate must also hold for the depth an inflow is about
             * to create (a dry domain would otherwise take dt_max): bound it by
             * the deepest inflow cell plus the fastest inflow rise over dt. */
            double hp = h_inflow + rise_inflow * dt;
            for (int it = 0; it < 4 && hp > hmax; it++) {
                double dt2 = s.alpha * min_d / sqrt(9.81 * hp);
                if (dt2 >= dt)
                    break;
                dt = dt2;
                hp = h_inflow + rise_inflow * dt;
            }
        }
        double t_next = t + dt;
        double stop = fmin(T, fmin(next_snap, desc->n_gauges ? next_gauge : INFINITY));
        if (t_next >= stop - 1e-9)
            t_next = stop;
        dt = t_next - t;
        float dtf = (float)dt;
        double rate = desc->rain_series.n > 0 ? series_at(&desc->rain_series, t + 0.5 * dt) : desc->rain_mm_h;
        float rain_m = (float)(rate / 1000.0 / 3600.0 * dt);
        if (rain_m < 0)
            rain_m = 0;

        compute_fluxes(&s, dtf);
        limit_fluxes(&s, dtf);
        step_stats ss;
        update_depths(&s, dtf, rain_m, t_next, &ss);
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
        halo_state(&s, s.qy1, halo_buf);
        float *tmp = s.qx;
        s.qx = s.qx1;
        s.qx1 = tmp;
        tmp = s.qy;
        s.qy = s.qy1;
        s.qy1 = tmp;
        t = t_next;
        {
            double red[3] = {ss.hmax, 0, 0};
            inflow_state(&s, desc, inflow_cell, t, &red[1], &red[2]);
            allreduce_max_n(&s, red, 3);
            hmax = red[0];
            h_inflow = red[1];
            rise_inflow = red[2];
        }
        steps++;
        if (desc->progress && s.rank == 0)
            desc->progress(desc->progress_user, T > 0 ? t / T : 1);
        if (t >= next_snap - 1e-9) {
            if (desc->on_snapshot) {
                for (int lr = 1; lr <= nh; lr++)
                    for (int c = 0; c < w; c++) {
                        size_t i = (size_t)lr * w + c;
                        own[(size_t)(lr - 1) * w + c] = s.wall[i] ? NAN : s.d[i];
                    }
                gather_rows(&s, own, global_tmp);
                if (s.rank == 0) {
                    size_t ng = (size_t)w * s.h;
                    for (size_t i = 0; i < ng; i++)
                        if (!(global_tmp[i] > s.h_dry))
                            global_tmp[i] = NAN;
                    st = desc->on_snapshot(desc->user, next_snap, global_tmp, err);
                }
                /* every rank learns whether rank 0 failed */
                double fail = allreduce_max(&s, st != CT_OK ? 1.0 : 0.0);
                if (fail > 0 && st == CT_OK)
                    st = ct_error_set(err, CT_ERR_RUNTIME, "snapshot failed on rank 0");
            }
            next_snap += desc->snapshot_every_s;
        }
    }
    if (st == CT_OK) {
        /* Outputs. */
        for (int lr = 1; lr <= nh; lr++)
            for (int c = 0; c < w; c++) {
                size_t i = (size_t)lr * w + c;
                own[(size_t)(lr - 1) * w + c] = s.wall[i] ? NAN : s.d[i];
            }
        st = gather_field(&s, own, dem, s.h_dry, &res->final_depth, global_tmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.maxd, dem, s.h_dry, &res->max_depth, global_tmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.maxv, dem, -0.5f, &res->max_velocity, global_tmp, err);
        if (st == CT_OK)
            st = gather_field(&s, s.arrive, dem, -0.5f, &res->arrival_time, global_tmp, err);
    }
    if (st == CT_OK) {
        double vf = reduce_sum(&s, stored_volume(&s));
        res->rain_m3 = reduce_sum(&s, rain_total);
        res->inflow_m3 = reduce_sum(&s, inflow_total);
        res->boundary_in_m3 = reduce_sum(&s, bnd_in);
        res->boundary_out_m3 = reduce_sum(&s, bnd_out);
        double clip = reduce_sum(&s, clipped);
        res->initial_volume_m3 = v0;
        res->final_volume_m3 = vf;
        double in = res->rain_m3 + res->inflow_m3 + res->boundary_in_m3;
        double scale = fmax(fmax(in, v0), fmax(vf, 1e-9));
        res->mass_balance_error = fabs(vf - v0 - in + res->boundary_out_m3) / scale;
        (void)clip; /* clipping shows up in the balance itself */
        res->steps = steps;
        res->simulated_s = t;
        res->ranks = s.size;
        double maxd = 0, area = 0;
        long wet = 0;
        for (size_t i = 0; i < nown; i++) {
            float v = s.maxd[i];
            if (v > maxd)
                maxd = v;
            if (v > s.h_wet)
                wet++;
        }
        res->max_depth_m = allreduce_max(&s, maxd);
        area = reduce_sum(&s, (double)wet) * s.area;
        res->flooded_area_m2 = area;
        res->seconds = ct_time_now() - t_start;
        res->cell_updates_per_s = res->seconds > 0 ? (double)steps * valid_cells / res->seconds : 0;
        if (s.rank != 0) {
            free(res->gauge_t);
            free(res->gauge_depth);
            free(res->gauge_wse);
            res->gauge_t = NULL;
            res->gauge_depth = res->gauge_wse = NULL;
            res->n_gauge_times = 0;
        }
    }
    free(own);
    free(gbuf);
    free(halo_buf);
    free(inflow_cell);
    free(gauge_cell);
    free(global_tmp);
    sim_free(&s);
    if (st != CT_OK)
        ct_flood_sim_result_free(res);
    return st;
}
