/* The interleaved, multi-threaded viewshed scan against a plain one-cell-at-
 * a-time reference: the scan citytwin had before the speed work (which agreed
 * with gdal_viewshed cell for cell, test_viewshed_gdal), kept here verbatim
 * in its arithmetic. Rough random terrain with holes, observers in the middle,
 * on every edge and in corners, with and without curvature, maximum distance,
 * target height and a rotated geotransform, on 1 to 4 threads: every cell
 * must be equal. */
#include "ct_test.h"

#include "citytwin/ct_visibility.h"
#include "viewshed_test_util.h"

#include <gdal.h>
#include <cpl_string.h>
#include <math.h>
#include <stdint.h>

/* ---- the reference scan (one cell at a time, one thread) ---- */

typedef struct ref_ctx {
    const ct_raster *dem;
    int xs, ys, w, h, cx, cy;
    double zo, tz, md2, cc, diam;
    const double *gt;
    uint8_t oor;
    uint8_t *out;
    double *center, *row0;
} ref_ctx;

#define REF_HOLE (-1e30)

static double ref_r2(const ref_ctx *c, int dc, int dr)
{
    double x = c->gt[1] * dc + c->gt[2] * dr;
    double y = c->gt[4] * dc + c->gt[5] * dr;
    return x * x + y * y;
}

static bool ref_height(const ref_ctx *c, int col, int row, double r2, double *z)
{
    double v = c->dem->data[(size_t)(c->ys + row) * c->dem->width + (size_t)(c->xs + col)];
    if (c->diam > 0)
        v -= c->cc * r2 / c->diam;
    *z = v;
    return !(c->md2 > 0 && r2 > c->md2);
}

static double ref_line(int i, double za, double zo)
{
    return i == 1 ? za : (za - zo) / (i - 1) + za;
}

static double ref_edge(int i, int j, double za, double zb, double zo)
{
    if (i == j)
        return ref_line(i, za, zo);
    return ((za - zo) * i + (zb - zo) * (j - i)) / (j - 1) + zo;
}

static double ref_set(const ref_ctx *c, uint8_t *o, double h, double z)
{
    if (isnan(h)) {
        *o = c->oor;
        return z;
    }
    *o = h + c->tz < z ? 0 : 255;
    return h < z ? z : h;
}

static void ref_scan(ref_ctx *c)
{
    /* observer row */
    uint8_t *o = c->out + (size_t)c->cy * c->w;
    float g = c->dem->data[(size_t)(c->ys + c->cy) * c->dem->width + (size_t)(c->xs + c->cx)];
    c->row0[c->cx] = isnan(g) ? REF_HOLE : g;
    o[c->cx] = 255;
    for (int s = -1; s <= 1; s += 2) {
        bool out = false;
        for (int dx = 1; c->cx + s * dx >= 0 && c->cx + s * dx < c->w; dx++) {
            int col = c->cx + s * dx;
            if (out) {
                o[col] = c->oor;
                continue;
            }
            double h, r2 = ref_r2(c, s * dx, 0);
            bool in = ref_height(c, col, c->cy, r2, &h);
            if (dx == 1) {
                c->row0[col] = isnan(h) ? REF_HOLE : h;
                o[col] = isnan(h) ? c->oor : 255;
                continue;
            }
            if (!in) {
                out = true;
                o[col] = c->oor;
                continue;
            }
            c->row0[col] = ref_set(c, &o[col], h, ref_line(dx, c->row0[col - s], c->zo));
        }
    }
    /* observer column */
    c->center[c->cy] = c->row0[c->cx];
    for (int s = -1; s <= 1; s += 2) {
        bool out = false;
        for (int dy = 1; c->cy + s * dy >= 0 && c->cy + s * dy < c->h; dy++) {
            int row = c->cy + s * dy;
            uint8_t *p = c->out + (size_t)row * c->w + c->cx;
            double h, r2 = ref_r2(c, 0, s * dy);
            bool in = ref_height(c, c->cx, row, r2, &h);
            if (out || !in) {
                out = true;
                *p = c->oor;
                c->center[row] = isnan(h) ? REF_HOLE : h;
                continue;
            }
            c->center[row] = ref_set(c, p, h, ref_line(dy, c->center[row - s], c->zo));
        }
    }
    /* quadrants */
    double *prev = malloc(sizeof(double) * (c->w + 1)), *cur = malloc(sizeof(double) * (c->w + 1));
    for (int q = 0; q < 4; q++) {
        int sxd = q & 1 ? 1 : -1, syd = q & 2 ? 1 : -1;
        int nq = sxd > 0 ? c->w - 1 - c->cx : c->cx;
        if (nq <= 0)
            continue;
        for (int k = 0; k < nq; k++)
            prev[k] = c->row0[c->cx + sxd * (k + 1)];
        double prev_center = c->row0[c->cx];
        for (int dy = 1; c->cy + syd * dy >= 0 && c->cy + syd * dy < c->h; dy++) {
            int row = c->cy + syd * dy;
            uint8_t *orow = c->out + (size_t)row * c->w;
            bool out = false;
            for (int dx = 1; dx <= nq; dx++) {
                int k = dx - 1, col = c->cx + sxd * dx;
                if (out) {
                    orow[col] = c->oor;
                    continue;
                }
                double h, r2 = ref_r2(c, sxd * dx, syd * dy);
                if (!ref_height(c, col, row, r2, &h)) {
                    out = true;
                    orow[col] = c->oor;
                    continue;
                }
                double last = dx == 1 ? prev_center : prev[k - 1], z;
                if (dx >= dy)
                    z = dx == dy ? ref_line(dy, last, c->zo) : ref_edge(dy, dx, last, cur[k - 1], c->zo);
                else
                    z = ref_edge(dx, dy, last, prev[k], c->zo);
                cur[k] = ref_set(c, &orow[col], h, z);
            }
            double *t = prev;
            prev = cur;
            cur = t;
            prev_center = c->center[row];
        }
    }
    free(prev);
    free(cur);
}

/* ---- cases ---- */

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* Rough terrain: smooth hills plus cell noise of +-15 m, a few holes. */
static ct_raster *rough_dem(int w, int h, uint32_t seed, int holes)
{
    ct_raster *r = flat_dem(w, h, 10, 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            r->data[(size_t)y * w + x] =
                (float)(100 + 60 * sin(x * 0.05) * cos(y * 0.037) + 30 * sin((x + y) * 0.11) +
                        (double)(lcg(&seed) % 3000) / 100.0);
    for (int i = 0; i < holes; i++)
        r->data[(size_t)(lcg(&seed) % h) * w + lcg(&seed) % w] = NAN;
    return r;
}

/* Computes with citytwin on `threads` threads and with the reference on the
 * same window; returns the number of differing cells (-1 on failure). */
static long compare(const ct_raster *dem, const ct_viewshed_desc *d0, int threads, double cc_diam)
{
    ct_viewshed_desc d = *d0;
    d.threads = threads;
    ct_viewshed *v = NULL;
    ct_error err = {0};
    if (ct_viewshed_compute(dem, &d, &v, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    ref_ctx c = {0};
    c.dem = dem;
    c.gt = dem->geotransform;
    c.xs = v->x_off;
    c.ys = v->y_off;
    c.w = v->width;
    c.h = v->height;
    c.cx = v->observer_col - v->x_off;
    c.cy = v->observer_row - v->y_off;
    c.zo = v->observer_z;
    c.tz = d.target_height;
    c.md2 = d.max_distance * d.max_distance;
    c.cc = d.curvature;
    c.diam = d.curvature != 0 ? cc_diam : 0;
    c.oor = v->out_of_range_value;
    c.out = calloc((size_t)c.w * c.h, 1);
    c.center = malloc(sizeof(double) * c.h);
    c.row0 = malloc(sizeof(double) * c.w);
    ref_scan(&c);
    long diff = 0;
    uint64_t vis = 0;
    for (size_t i = 0; i < (size_t)c.w * c.h; i++) {
        diff += c.out[i] != v->cells[i];
        vis += c.out[i] == 255;
    }
    if (vis != v->visible_cells)
        diff++;
    free(c.out);
    free(c.center);
    free(c.row0);
    ct_viewshed_destroy(v);
    return diff;
}

static const double DIAM = 2.0 * 6378137.0; /* UTM 32N: WGS84 semi-major axis */

CT_TEST(same_cells_as_reference)
{
    const int W = 173, H = 151;
    ct_raster *dem = rough_dem(W, H, 12345u, 60);
    const int obs[][2] = {{86, 75}, {0, 75}, {W - 1, 75}, {86, 0}, {86, H - 1}, {0, 0}, {W - 1, H - 1},
                          {1, H - 2}, {20, 130}, {150, 9}};
    int cases = 0;
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        if (isnan(dem->data[(size_t)obs[i][1] * W + obs[i][0]]))
            dem->data[(size_t)obs[i][1] * W + obs[i][0]] = 50;
        double x, y;
        cell_xy(dem, obs[i][0], obs[i][1], &x, &y);
        for (int variant = 0; variant < 4; variant++) {
            ct_viewshed_desc d = {.observer_x = x, .observer_y = y, .observer_height = 1.5 + variant * 7};
            d.curvature = variant & 1 ? CT_VIEWSHED_DEFAULT_CURVATURE : 0;
            d.max_distance = variant & 2 ? 640 : 0;
            d.target_height = variant == 3 ? 2 : 0;
            for (int t = 1; t <= 4; t++) {
                long diff = compare(dem, &d, t, DIAM);
                if (diff != 0)
                    fprintf(stderr, "observer (%d,%d) variant %d threads %d: %ld cells differ\n", obs[i][0],
                            obs[i][1], variant, t, diff);
                CT_CHECK(diff == 0);
                cases++;
            }
        }
    }
    CT_CHECK_EQ_INT(cases, 160);
    ct_raster_destroy(dem);
}

CT_TEST(huge_curvature_makes_long_chains_of_hidden_cells)
{
    /* A plain on a tiny sphere (K = 2000): most cells are hidden, so the
     * sight line, not the terrain, carries each row's chain. */
    ct_raster *dem = flat_dem(120, 90, 10, 20);
    double x, y;
    cell_xy(dem, 33, 40, &x, &y);
    ct_viewshed_desc d = {.observer_x = x, .observer_y = y, .observer_height = 3, .curvature = 2000};
    for (int t = 1; t <= 4; t++)
        CT_CHECK_EQ_INT(compare(dem, &d, t, DIAM), 0);
    ct_raster_destroy(dem);
}

CT_TEST(rotated_geotransform)
{
    /* With a rotated grid the range along a row is not monotonic: both scans
     * stop a row at its first cell out of range. */
    ct_raster *dem = rough_dem(97, 83, 777u, 10);
    double gt[6] = {500000, 8.66, -5, 5001000, -5, -8.66};
    memcpy(dem->geotransform, gt, sizeof gt);
    double x, y;
    cell_xy(dem, 40, 30, &x, &y);
    if (isnan(dem->data[30 * 97 + 40]))
        dem->data[30 * 97 + 40] = 50;
    ct_viewshed_desc d = {.observer_x = x, .observer_y = y, .observer_height = 5, .max_distance = 300,
                          .curvature = CT_VIEWSHED_DEFAULT_CURVATURE};
    for (int t = 1; t <= 4; t++)
        CT_CHECK_EQ_INT(compare(dem, &d, t, DIAM), 0);
    ct_raster_destroy(dem);
}

/* Writes dem as a GeoTIFF (nodata -9999 for holes) with the given layout. */
static const char *write_dem(const ct_raster *dem, const char *name, const char *tiled, const char *bx,
                             const char *by, GDALDataType type)
{
    GDALAllRegister();
    const char *p = ct_test_tmp_path(name);
    char **o = CSLSetNameValue(NULL, "TILED", tiled);
    if (!strcmp(tiled, "YES"))
        o = CSLSetNameValue(o, "BLOCKXSIZE", bx);
    o = CSLSetNameValue(o, "BLOCKYSIZE", by);
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), p, dem->width, dem->height, 1, type, o);
    CSLDestroy(o);
    if (!ds)
        return NULL;
    GDALSetGeoTransform(ds, (double *)dem->geotransform);
    GDALSetProjection(ds, dem->crs_wkt);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, -9999);
    size_t n = (size_t)dem->width * dem->height;
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = isnan(dem->data[i]) ? -9999.0f : dem->data[i];
    CPLErr e = GDALRasterIO(b, GF_Write, 0, 0, dem->width, dem->height, v, dem->width, dem->height, GDT_Float32, 0, 0);
    free(v);
    GDALClose(ds);
    return e == CE_None ? p : NULL;
}

/* The file-streaming scan (ct_viewshed_compute_file: block rows read while
 * scanning) gives the same cells as the in-memory scan of the same DEM:
 * tiled with small blocks (windows that start and end inside blocks),
 * striped, and Int16 (type conversion), observers in the middle, on edges
 * and in corners, with range windows, on 1, 2 and 4 threads. */
CT_TEST(file_streaming_same_cells)
{
    const int W = 173, H = 151;
    ct_raster *dem = rough_dem(W, H, 4242u, 40);
    const int obs[][2] = {{86, 75}, {0, 0}, {W - 1, H - 1}, {3, 140}, {170, 2}};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        if (isnan(dem->data[(size_t)obs[i][1] * W + obs[i][0]]))
            dem->data[(size_t)obs[i][1] * W + obs[i][0]] = 50;
    ct_raster *dem16 = ct_raster_create(W, H, dem);
    for (size_t i = 0; i < (size_t)W * H; i++)
        dem16->data[i] = isnan(dem->data[i]) ? NAN : floorf(dem->data[i]);
    struct {
        const char *name, *tiled, *bx, *by;
        GDALDataType type;
        const ct_raster *mem;
    } L[] = {{"tiled16.tif", "YES", "16", "16", GDT_Float32, dem},
             {"striped.tif", "NO", "0", "7", GDT_Float32, dem},
             {"int16.tif", "YES", "32", "48", GDT_Int16, dem16}};
    int cases = 0;
    for (size_t l = 0; l < sizeof L / sizeof L[0]; l++) {
        const char *p = write_dem(L[l].mem, L[l].name, L[l].tiled, L[l].bx, L[l].by, L[l].type);
        CT_REQUIRE(p != NULL);
        for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
            double x, y;
            cell_xy(dem, obs[i][0], obs[i][1], &x, &y);
            for (int variant = 0; variant < 3; variant++) {
                ct_viewshed_desc d = {.observer_x = x, .observer_y = y, .observer_height = 2 + variant * 9,
                                      .curvature = CT_VIEWSHED_DEFAULT_CURVATURE,
                                      .max_distance = variant == 1 ? 470 : variant == 2 ? 900 : 0,
                                      .target_height = variant == 2 ? 1.5 : 0};
                for (int t = 1; t <= 4; t *= 2) {
                    d.threads = t;
                    ct_viewshed *a = NULL, *b = NULL;
                    ct_error err = {0};
                    CT_REQUIRE(ct_viewshed_compute(L[l].mem, &d, &a, &err) == CT_OK);
                    CT_REQUIRE(ct_viewshed_compute_file(p, &d, &b, &err) == CT_OK);
                    CT_REQUIRE(a->width == b->width && a->height == b->height);
                    CT_CHECK_EQ_INT(a->x_off, b->x_off);
                    CT_CHECK_EQ_INT(a->y_off, b->y_off);
                    CT_CHECK(a->observer_z == b->observer_z);
                    CT_CHECK(a->visible_cells == b->visible_cells && a->total_cells == b->total_cells);
                    long diff = 0;
                    for (size_t k = 0; k < (size_t)a->width * a->height; k++)
                        diff += a->cells[k] != b->cells[k];
                    if (diff)
                        fprintf(stderr, "%s observer (%d,%d) variant %d threads %d: %ld cells differ\n", L[l].name,
                                obs[i][0], obs[i][1], variant, t, diff);
                    CT_CHECK(diff == 0);
                    ct_viewshed_destroy(a);
                    ct_viewshed_destroy(b);
                    cases++;
                }
            }
        }
    }
    CT_CHECK_EQ_INT(cases, 135);
    /* errors: no file, observer outside, observer on a hole */
    ct_error err = {0};
    ct_viewshed *v = NULL;
    ct_viewshed_desc d = {.observer_x = 0, .observer_y = 0, .observer_height = 2};
    CT_CHECK(ct_viewshed_compute_file("/nonexistent/dem.tif", &d, &v, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "/nonexistent/dem.tif") != NULL);
    const char *p = ct_test_tmp_path("tiled16.tif");
    CT_CHECK(ct_viewshed_compute_file(p, &d, &v, &err) == CT_ERR_INPUT);
    CT_CHECK(v == NULL);
    ct_raster_destroy(dem16);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(same_cells_as_reference), CT_CASE(huge_curvature_makes_long_chains_of_hidden_cells),
             CT_CASE(rotated_geotransform), CT_CASE(file_streaming_same_cells))
