/* Static ("bathtub") inundation from seed points, with r.lake's semantics:
 * a cell floods when its ground is strictly below the level (float32
 * compare, as r.lake reads level and DEM as FCELL) and it is connected to a
 * seed through such cells (8-connectivity as r.lake's 3x3 window, or 4);
 * nodata cells never flood and block the flow; depth = level - ground in
 * float32. A breadth-first fill over a flat queue: O(cells), no per-cell
 * allocation. */
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

/* Fills from the seeds in s[0..n) that share one level. depth doubles as the
 * visited marker (non-NAN = flooded); queue has room for every cell. */
static void fill_level(const ct_raster *dem, float *depth, uint32_t *queue, const seed_info *s, int n, float level,
                       int connectivity, bool rlake_compat)
{
    const int w = dem->width, h = dem->height;
    const float *z = dem->data;
    size_t head = 0, tail = 0;
    for (int i = 0; i < n; i++) {
        size_t k = (size_t)s[i].row * w + s[i].col;
        if (!isnan(depth[k]))
            continue;
        depth[k] = level - z[k];
        queue[tail++] = (uint32_t)k;
    }
    static const int dc8[8] = {-1, 0, 1, -1, 1, -1, 0, 1}, dr8[8] = {-1, -1, -1, 0, 0, 1, 1, 1};
    static const int dc4[4] = {0, -1, 1, 0}, dr4[4] = {-1, 0, 0, 1};
    const int *dc = connectivity == 4 ? dc4 : dc8, *dr = connectivity == 4 ? dr4 : dr8;
    const int nn = connectivity == 4 ? 4 : 8;
    while (head < tail) {
        uint32_t k = queue[head++];
        int r = (int)(k / (uint32_t)w), c = (int)(k % (uint32_t)w);
        /* r.lake's window reads the last column as dry: it never spreads from there. */
        if (rlake_compat && c == w - 1)
            continue;
        if (r > 0 && r < h - 1 && c > 0 && c < w - 1) {
            for (int i = 0; i < nn; i++) {
                size_t m = (size_t)((long)k + (long)dr[i] * w + dc[i]);
                float zm = z[m];
                if (zm < level && isnan(depth[m])) { /* NAN ground fails zm < level */
                    depth[m] = level - zm;
                    queue[tail++] = (uint32_t)m;
                }
            }
        } else {
            for (int i = 0; i < nn; i++) {
                int rr = r + dr[i], cc = c + dc[i];
                if (rr < 0 || rr >= h || cc < 0 || cc >= w)
                    continue;
                size_t m = (size_t)rr * w + cc;
                float zm = z[m];
                if (zm < level && isnan(depth[m])) {
                    depth[m] = level - zm;
                    queue[tail++] = (uint32_t)m;
                }
            }
        }
    }
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
    uint32_t *queue = ct_malloc_array(cells, sizeof(uint32_t));
    double *row_area = ct_flood_row_areas(dem);
    if (!depth || !queue || !row_area) {
        ct_raster_destroy(depth);
        free(queue);
        free(row_area);
        free(seeds);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for a %dx%d flood", dem->width, dem->height);
    }
    for (size_t i = 0; i < cells; i++)
        depth->data[i] = NAN;
    /* Higher levels first: a lower seed's flood is either inside a higher
     * one's (nothing to add) or disjoint from it, so one marker suffices. */
    qsort(seeds, (size_t)used, sizeof *seeds, cmp_level_desc);
    for (int i = 0; i < used;) {
        int j = i;
        while (j < used && seeds[j].level == seeds[i].level)
            j++;
        fill_level(dem, depth->data, queue, seeds + i, j - i, seeds[i].level, conn, d->rlake_compat);
        i = j;
    }
    size_t n = 0;
    double area = 0, vol = 0, maxd = 0;
    for (int r = 0; r < dem->height; r++) {
        const float *row = depth->data + (size_t)r * dem->width;
        for (int c = 0; c < dem->width; c++) {
            float v = row[c];
            if (isnan(v))
                continue;
            n++;
            area += row_area[r];
            vol += row_area[r] * v;
            if (v > maxd)
                maxd = v;
        }
    }
    res->cells = n;
    res->area_m2 = area;
    res->volume_m3 = vol;
    res->max_depth_m = maxd;
    res->seeds_used = used;
    free(queue);
    free(row_area);
    free(seeds);
    *depth_out = depth;
    return CT_OK;
}
