/* Static ("bathtub") inundation from seed points, with r.lake's semantics:
 * a cell floods when its ground is strictly below the level (float32
 * compare, as r.lake reads level and DEM as FCELL) and it is connected to a
 * seed through such cells (8-connectivity as r.lake's 3x3 window, or 4);
 * nodata cells never flood and block the flow; depth = level - ground in
 * float32. A scanline (span) fill: O(cells), row-wise memory access, a small
 * stack of run starts; area and volume gathered while filling.
 *
 * The fill works in place: a flooded cell's ground is never read again, so
 * its depth overwrites it, and a bit per cell (12.5 MB for 100 M cells) marks
 * what is wet. A second 400 MB grid would cost more than the fill itself on
 * a large DEM: fresh memory is zeroed by the kernel (and, on VMs with free
 * page reporting, first faulted in by the host). */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef struct seed_info {
    int col, row;
    float level;
} seed_info;

static int cmp_level_desc(const void *a, const void *b)
{
    float la = ((const seed_info *)a)->level, lb = ((const seed_info *)b)->level;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Flood statistics, per row so that the sums do not depend on the number of
 * threads. */
typedef struct fill_stats {
    double *row_sum;  /* Σ depth per row */
    size_t *row_cnt;  /* flooded cells per row */
    float maxd;
} fill_stats;

/* A growable stack of cell indices (span starts). */
typedef struct cell_stack {
    uint32_t *v;
    size_t n, cap;
} cell_stack;

static bool stack_push(cell_stack *s, uint32_t k)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4096;
        uint32_t *nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return false;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = k;
    return true;
}

/* The fill's view of the grid: the cells, and one bit row of wet cells per
 * grid row (wpr 64-bit words each). */
typedef struct grid {
    float *z; /* ground; a wet cell's depth once its level has been applied */
    uint64_t *wet;
    int w, h, wpr;
    int cmax;    /* last column from which water spreads */
    float level; /* of the seeds being filled */
} grid;

static inline bool is_wet(const grid *g, int r, int c)
{
    return (g->wet[(size_t)r * g->wpr + (c >> 6)] >> (c & 63)) & 1u;
}

/* Cells 64j.. of row r that are free: ground strictly below the level (NAN
 * fails the compare), not wet, column <= cmax. Computed from the ground on
 * demand, 4 cells per compare: cheaper than keeping a mask per level. */
static inline uint64_t free_word(const grid *g, int r, int j)
{
    uint64_t wet = g->wet[(size_t)r * g->wpr + j];
    if (wet == UINT64_MAX)
        return 0;
    int c0 = j * 64, n = g->cmax + 1 - c0 < 64 ? g->cmax + 1 - c0 : 64;
    const float *z = g->z + (size_t)r * g->w + c0;
    uint64_t below = 0;
    int i = 0;
#ifdef __SSE2__
    __m128 lv = _mm_set1_ps(g->level);
    for (; i + 4 <= n; i += 4)
        below |= (uint64_t)_mm_movemask_ps(_mm_cmplt_ps(_mm_loadu_ps(z + i), lv)) << i;
#endif
    for (; i < n; i++)
        below |= (uint64_t)(z[i] < g->level) << i;
    return below & ~wet;
}

/* First column >= x (x <= cmax) of row r that is not free; cmax + 1 at most. */
static int next_blocked(const grid *g, int r, int x)
{
    int j = x >> 6, jmax = g->cmax >> 6;
    uint64_t m = ~free_word(g, r, j) & (UINT64_MAX << (x & 63));
    while (!m) {
        if (++j > jmax)
            return g->cmax + 1;
        m = ~free_word(g, r, j);
    }
    int c = j * 64 + __builtin_ctzll(m);
    return c < g->cmax + 1 ? c : g->cmax + 1;
}

/* Last column < x (x <= cmax) of row r that is not free; -1 at least. */
static int prev_blocked(const grid *g, int r, int x)
{
    int j = x >> 6;
    uint64_t m = (x & 63) ? ~free_word(g, r, j) & ((UINT64_C(1) << (x & 63)) - 1) : 0;
    while (!m) {
        if (--j < 0)
            return -1;
        m = ~free_word(g, r, j);
    }
    return j * 64 + 63 - __builtin_clzll(m);
}

/* First free column in [x, b] (b <= cmax) of row r; b + 1 if none. */
static int next_free(const grid *g, int r, int x, int b)
{
    int j = x >> 6, jb = b >> 6;
    uint64_t m = free_word(g, r, j) & (UINT64_MAX << (x & 63));
    while (!m) {
        if (++j > jb)
            return b + 1;
        m = free_word(g, r, j);
    }
    int c = j * 64 + __builtin_ctzll(m);
    return c <= b ? c : b + 1;
}

static void set_wet(grid *g, int r, int l, int rr, int *rmin, int *rmax)
{
    uint64_t *row = g->wet + (size_t)r * g->wpr;
    int jl = l >> 6, jr = rr >> 6;
    uint64_t ml = UINT64_MAX << (l & 63), mr = UINT64_MAX >> (63 - (rr & 63));
    if (jl == jr) {
        row[jl] |= ml & mr;
    } else {
        row[jl] |= ml;
        for (int j = jl + 1; j < jr; j++)
            row[j] = UINT64_MAX;
        row[jr] |= mr;
    }
    *rmin = r < *rmin ? r : *rmin;
    *rmax = r > *rmax ? r : *rmax;
}

/* Scanline (span) fill from the seeds in s[0..n) that share g->level: each
 * popped cell grows into the maximal run of free cells of its row, the run
 * turns wet at once, and the rows above and below are scanned over the run
 * (one cell wider each side with 8-connectivity) for the starts of new runs,
 * 64 cells per step. The same cells as a breadth-first fill, with a small
 * stack. r.lake compatibility: last-column cells never spread, so runs stop
 * at column w-2 and the last column is wetted afterwards from its western
 * neighbours. Rows that got wet: [*rmin, *rmax]. False when out of memory. */
static bool fill_level(grid *g, cell_stack *stack, const seed_info *s, int n, int connectivity, bool rlake_compat,
                       int *rmin, int *rmax)
{
    const int w = g->w, h = g->h, cmax = g->cmax;
    stack->n = 0;
    for (int i = 0; i < n; i++) {
        if (is_wet(g, s[i].row, s[i].col))
            continue;
        if (s[i].col > cmax) /* an r.lake last-column seed floods only itself */
            set_wet(g, s[i].row, s[i].col, s[i].col, rmin, rmax);
        else if (!stack_push(stack, (uint32_t)((size_t)s[i].row * w + s[i].col)))
            return false;
    }
    const int widen = connectivity == 8 ? 1 : 0;
    while (stack->n > 0) {
        uint32_t k = stack->v[--stack->n];
        int r = (int)(k / (uint32_t)w), c = (int)(k % (uint32_t)w);
        if (!((free_word(g, r, c >> 6) >> (c & 63)) & 1u))
            continue;
        int l = prev_blocked(g, r, c) + 1, rr = next_blocked(g, r, c) - 1;
        set_wet(g, r, l, rr, rmin, rmax);
        int a = l - widen > 0 ? l - widen : 0, b = rr + widen < cmax ? rr + widen : cmax;
        for (int nr = r - 1; nr <= r + 1; nr += 2) {
            if (nr < 0 || nr >= h)
                continue;
            for (int x = next_free(g, nr, a, b); x <= b;) { /* one push per run */
                if (!stack_push(stack, (uint32_t)((size_t)nr * w + x)))
                    return false;
                x = next_blocked(g, nr, x);
                if (x > b)
                    break;
                x = next_free(g, nr, x, b);
            }
        }
    }
    if (rlake_compat && w >= 2) {
        for (int r = 0; r < h; r++) {
            float zg = g->z[(size_t)r * w + w - 1];
            if (!(zg < g->level) || is_wet(g, r, w - 1))
                continue;
            bool next_to_water = is_wet(g, r, w - 2);
            if (connectivity == 8)
                next_to_water = next_to_water || (r > 0 && is_wet(g, r - 1, w - 2)) ||
                                (r + 1 < h && is_wet(g, r + 1, w - 2));
            if (next_to_water)
                set_wet(g, r, w - 1, w - 1, rmin, rmax);
        }
    }
    return true;
}

/* Rows [r0, r1]: cells wet and not yet done get depth = level - ground (and
 * are marked done when done is not NULL), in column order per row, with the
 * row statistics; with dry, cells that are not wet become NAN (nodata). In
 * parallel over rows. */
static void apply_level(grid *g, uint64_t *done, int r0, int r1, bool dry, fill_stats *st)
{
    const float level = g->level;
    float mx = st->maxd;
#pragma omp parallel for schedule(dynamic, 16) reduction(max : mx)
    for (int r = r0; r <= r1; r++) {
        float *zr = g->z + (size_t)r * g->w;
        const uint64_t *wr = g->wet + (size_t)r * g->wpr;
        uint64_t *dr = done ? done + (size_t)r * g->wpr : NULL;
        double sum = 0;
        size_t cnt = 0;
        for (int j = 0; j < g->wpr; j++) {
            int c0 = j * 64, n = g->w - c0 < 64 ? g->w - c0 : 64;
            uint64_t full = n == 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
            uint64_t m = wr[j] & ~(dr ? dr[j] : 0);
            float *z = zr + c0;
            if (m == full) {
                for (int i = 0; i < n; i++) {
                    float d = level - z[i];
                    z[i] = d;
                    sum += d;
                    mx = d > mx ? d : mx;
                }
            } else {
                for (uint64_t b = m; b; b &= b - 1) {
                    int i = __builtin_ctzll(b);
                    float d = level - z[i];
                    z[i] = d;
                    sum += d;
                    mx = d > mx ? d : mx;
                }
            }
            if (dry && wr[j] != full)
                for (int i = 0; i < n; i++)
                    if (!((wr[j] >> i) & 1u))
                        z[i] = NAN;
            cnt += (size_t)__builtin_popcountll(m);
            if (dr)
                dr[j] |= m;
        }
        st->row_sum[r] += sum;
        st->row_cnt[r] += cnt;
    }
    st->maxd = mx;
}

ct_status ct_flood_static_run_in_place(const ct_flood_static_desc *d, ct_raster *dem, ct_flood_static_result *res,
                                       ct_error *err)
{
    memset(res, 0, sizeof *res);
    int conn = d->connectivity ? d->connectivity : 8;
    if (conn != 4 && conn != 8)
        return ct_error_set(err, CT_ERR_USAGE, "connectivity must be 4 or 8, not %d", d->connectivity);
    if (d->n_seeds < 1)
        return ct_error_set(err, CT_ERR_USAGE, "at least one seed point is needed");
    if ((uint64_t)dem->width * dem->height >= UINT32_MAX)
        return ct_error_set(err, CT_ERR_INPUT, "DEM of %dx%d cells is too large", dem->width, dem->height);
    seed_info *seeds = ct_malloc_array((size_t)d->n_seeds, sizeof *seeds);
    if (!seeds)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    int used = 0;
    for (int i = 0; i < d->n_seeds; i++) {
        double x = d->seeds_xy[2 * i], y = d->seeds_xy[2 * i + 1];
        int c, r;
        if (!ct_flood_cell_of(dem, x, y, &c, &r)) {
            free(seeds);
            return ct_error_set(err, CT_ERR_INPUT, "seed %d (%.6f,%.6f) lies outside the DEM", i + 1, x, y);
        }
        float zg = dem->data[(size_t)r * dem->width + c];
        if (isnan(zg)) {
            free(seeds);
            return ct_error_set(err, CT_ERR_INPUT, "seed %d (%.6f,%.6f) lies on a nodata cell (col %d, row %d)", i + 1,
                                x, y, c, r);
        }
        /* r.lake parses the level with %f: a float32 level. */
        float level = d->use_rise ? (float)((double)zg + d->rise) : (float)d->level;
        if (!(zg < level)) {
            ct_log(CT_LOG_WARN, "seed %d (%.6f,%.6f): ground %.3f is not below the level %.3f; skipped", i + 1, x, y,
                   zg, level);
            continue;
        }
        seeds[used++] = (seed_info){c, r, level};
    }
    if (used == 0) {
        free(seeds);
        return ct_error_set(err, CT_ERR_INPUT, "no seed lies below its water level (ground >= level at every seed)");
    }
    const int w = dem->width, h = dem->height, wpr = (w + 63) / 64;
    /* Higher levels first: a lower seed's flood is either inside a higher
     * one's (nothing to add) or disjoint from it, so one wet mask suffices;
     * with several levels, "done" tells which wet cells have their depth. */
    qsort(seeds, (size_t)used, sizeof *seeds, cmp_level_desc);
    bool several = seeds[0].level != seeds[used - 1].level;
    grid g = {.z = dem->data, .wet = ct_calloc_array((size_t)wpr * h, sizeof(uint64_t)), .w = w, .h = h,
              .wpr = wpr, .cmax = d->rlake_compat ? w - 2 : w - 1};
    uint64_t *done = several ? ct_calloc_array((size_t)wpr * h, sizeof(uint64_t)) : NULL;
    double *row_area = ct_flood_row_areas(dem);
    fill_stats st = {ct_calloc_array((size_t)h, sizeof(double)), ct_calloc_array((size_t)h, sizeof(size_t)), 0.0f};
    cell_stack stack = {0};
    bool ok = g.wet && (done || !several) && row_area && st.row_sum && st.row_cnt;
    for (int i = 0; i < used && ok;) {
        int j = i, rmin = h, rmax = -1;
        while (j < used && seeds[j].level == seeds[i].level)
            j++;
        g.level = seeds[i].level;
        ok = fill_level(&g, &stack, seeds + i, j - i, conn, d->rlake_compat, &rmin, &rmax);
        if (ok && several && rmin <= rmax)
            apply_level(&g, done, rmin, rmax, false, &st);
        else if (ok && !several)
            apply_level(&g, NULL, 0, h - 1, true, &st);
        i = j;
    }
    if (ok && several)
        apply_level(&g, done, 0, h - 1, true, &st); /* everything is done: only the dry cells */
    if (ok) {
        for (int r = 0; r < h; r++) {
            res->cells += st.row_cnt[r];
            res->area_m2 += row_area[r] * (double)st.row_cnt[r];
            res->volume_m3 += row_area[r] * st.row_sum[r];
        }
        res->max_depth_m = st.maxd;
        res->seeds_used = used;
    }
    free(stack.v);
    free(st.row_sum);
    free(st.row_cnt);
    free(row_area);
    free(g.wet);
    free(done);
    free(seeds);
    if (!ok)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", dem->width, dem->height);
    return CT_OK;
}

ct_status ct_flood_static_run(const ct_flood_static_desc *d, ct_raster **depth_out, ct_flood_static_result *res,
                              ct_error *err)
{
    *depth_out = NULL;
    memset(res, 0, sizeof *res);
    const ct_raster *dem = d->dem;
    ct_raster *depth = ct_raster_create(dem->width, dem->height, dem);
    if (!depth)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", dem->width, dem->height);
    memcpy(depth->data, dem->data, (size_t)dem->width * dem->height * sizeof(float));
    ct_status st = ct_flood_static_run_in_place(d, depth, res, err);
    if (st != CT_OK) {
        ct_raster_destroy(depth);
        return st;
    }
    *depth_out = depth;
    return CT_OK;
}
