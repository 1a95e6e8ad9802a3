/* Static ("bathtub") inundation from seed points, with r.lake's semantics:
 * a cell floods when its ground is strictly below the level (float32
 * compare, as r.lake reads level and DEM as FCELL) and it is connected to a
 * seed through such cells (8-connectivity as r.lake's 3x3 window, or 4);
 * nodata cells never flood and block the flow; depth = level - ground in
 * float32. A scanline (span) fill: O(cells), row-wise memory access, a small
 * stack of run starts; area and volume gathered while filling. */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct seed_info {
    int col, row;
    float level;
} seed_info;

static int cmp_level_desc(const void *a, const void *b)
{
    float la = ((const seed_info *)a)->level, lb = ((const seed_info *)b)->level;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Flood statistics gathered while filling: per row, so the sums do not
 * depend on the fill order within a row's area factor. */
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

static inline void flood_cells(const float *z, float *depth, size_t a, size_t b, float level, int row,
                               fill_stats *st)
{
    double sum = 0;
    float mx = st->maxd;
    for (size_t i = a; i <= b; i++) {
        float d = level - z[i];
        depth[i] = d;
        sum += d;
        mx = d > mx ? d : mx;
    }
    st->row_sum[row] += sum;
    st->row_cnt[row] += b - a + 1;
    st->maxd = mx;
}

/* Scanline (span) fill from the seeds in s[0..n) that share one level: each
 * popped cell grows into the maximal run of floodable cells of its row, the
 * run is flooded at once, and the rows above and below are scanned over the
 * run (one cell wider each side with 8-connectivity) for the starts of new
 * runs. Floodable: ground strictly below the level (NAN ground fails the
 * compare) and not flooded yet; depth doubles as the visited marker. The
 * same cells as a breadth-first fill, with a small stack and row-wise memory
 * access. r.lake compatibility: last-column cells never spread, so runs stop
 * at column w-2 and the last column is flooded afterwards from its western
 * neighbours. Returns false when out of memory. */
static bool fill_level(const ct_raster *dem, float *depth, cell_stack *stack, const seed_info *s, int n,
                       float level, int connectivity, bool rlake_compat, fill_stats *st)
{
    const int w = dem->width, h = dem->height;
    const float *z = dem->data;
    const int cmax = rlake_compat ? w - 2 : w - 1; /* last column that spreads */
#define FLOODABLE(k) (z[k] < level && isnan(depth[k]))
    stack->n = 0;
    for (int i = 0; i < n; i++) {
        size_t k = (size_t)s[i].row * w + s[i].col;
        if (!isnan(depth[k]))
            continue;
        if (s[i].col > cmax) /* an r.lake last-column seed floods only itself */
            flood_cells(z, depth, k, k, level, s[i].row, st);
        else if (!stack_push(stack, (uint32_t)k))
            return false;
    }
    const int widen = connectivity == 8 ? 1 : 0;
    while (stack->n > 0) {
        uint32_t k = stack->v[--stack->n];
        if (!FLOODABLE(k))
            continue;
        int r = (int)(k / (uint32_t)w), c = (int)(k % (uint32_t)w);
        size_t row = (size_t)r * w;
        int l = c, rr = c;
        while (l > 0 && FLOODABLE(row + l - 1))
            l--;
        while (rr < cmax && FLOODABLE(row + rr + 1))
            rr++;
        flood_cells(z, depth, row + l, row + rr, level, r, st);
        int a = l - widen > 0 ? l - widen : 0, b = rr + widen < cmax ? rr + widen : cmax;
        for (int nr = r - 1; nr <= r + 1; nr += 2) {
            if (nr < 0 || nr >= h)
                continue;
            size_t nrow = (size_t)nr * w;
            for (int x = a; x <= b; x++) {
                if (!FLOODABLE(nrow + x))
                    continue;
                if (!stack_push(stack, (uint32_t)(nrow + x)))
                    return false;
                while (x + 1 <= b && FLOODABLE(nrow + x + 1)) /* one push per run */
                    x++;
            }
        }
    }
    if (rlake_compat && w >= 2) {
        for (int r = 0; r < h; r++) {
            size_t k = (size_t)r * w + w - 1, west = k - 1;
            if (!FLOODABLE(k))
                continue;
            bool wet = !isnan(depth[west]);
            if (connectivity == 8)
                wet = wet || (r > 0 && !isnan(depth[west - w])) || (r + 1 < h && !isnan(depth[west + w]));
            if (wet)
                flood_cells(z, depth, k, k, level, r, st);
        }
    }
#undef FLOODABLE
    return true;
}

ct_status ct_flood_static_run(const ct_flood_static_desc *d, ct_raster **depth_out, ct_flood_static_result *res,
                              ct_error *err)
{
    *depth_out = NULL;
    memset(res, 0, sizeof *res);
    const ct_raster *dem = d->dem;
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
    ct_raster *depth = ct_raster_create(dem->width, dem->height, dem);
    size_t cells = (size_t)dem->width * dem->height;
    double *row_area = ct_flood_row_areas(dem);
    fill_stats st = {ct_calloc_array((size_t)dem->height, sizeof(double)),
                     ct_calloc_array((size_t)dem->height, sizeof(size_t)), 0.0f};
    cell_stack stack = {0};
    if (!depth || !row_area || !st.row_sum || !st.row_cnt) {
        ct_raster_destroy(depth);
        free(row_area);
        free(st.row_sum);
        free(st.row_cnt);
        free(seeds);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", dem->width, dem->height);
    }
    for (size_t i = 0; i < cells; i++)
        depth->data[i] = NAN;
    /* Higher levels first: a lower seed's flood is either inside a higher
     * one's (nothing to add) or disjoint from it, so one marker suffices. */
    qsort(seeds, (size_t)used, sizeof *seeds, cmp_level_desc);
    bool ok = true;
    for (int i = 0; i < used && ok;) {
        int j = i;
        while (j < used && seeds[j].level == seeds[i].level)
            j++;
        ok = fill_level(dem, depth->data, &stack, seeds + i, j - i, seeds[i].level, conn, d->rlake_compat, &st);
        i = j;
    }
    size_t n = 0;
    double area = 0, vol = 0;
    for (int r = 0; r < dem->height; r++) {
        n += st.row_cnt[r];
        area += row_area[r] * (double)st.row_cnt[r];
        vol += row_area[r] * st.row_sum[r];
    }
    res->cells = n;
    res->area_m2 = area;
    res->volume_m3 = vol;
    res->max_depth_m = st.maxd;
    res->seeds_used = used;
    free(stack.v);
    free(st.row_sum);
    free(st.row_cnt);
    free(row_area);
    free(seeds);
    if (!ok) {
        ct_raster_destroy(depth);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", dem->width, dem->height);
    }
    *depth_out = depth;
    return CT_OK;
}
