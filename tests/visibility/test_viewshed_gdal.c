/* Viewshed agreement with gdal_viewshed (same options, cell by cell): the
 * Jaccard index of visible cells on the Luxembourg DEM, the SRTM tile
 * N43E007 (read through /vsizip/) and a synthetic UTM DEM with curvature and
 * a maximum distance. */
#include "ct_test.h"

#include "citytwin/ct_visibility.h"
#include "viewshed_test_util.h"

#include <gdal.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include <stdint.h>
#include <unistd.h>

/* ---- agreement with gdal_viewshed ---- */

static bool have_gdal_viewshed(void)
{
    return system("gdal_viewshed --help >/dev/null 2>&1") == 0 || system("command -v gdal_viewshed >/dev/null 2>&1") == 0;
}

static uint8_t *read_byte_tif(const char *path, int *w, int *h, double gt[6])
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds)
        return NULL;
    *w = GDALGetRasterXSize(ds);
    *h = GDALGetRasterYSize(ds);
    GDALGetGeoTransform(ds, gt);
    uint8_t *b = malloc((size_t)*w * *h);
    if (GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, *w, *h, b, *w, *h, GDT_Byte, 0, 0) != CE_None) {
        free(b);
        b = NULL;
    }
    GDALClose(ds);
    return b;
}

/* Runs gdal_viewshed and the citytwin CLI with the same options; returns the
 * Jaccard index of their visible cells (-1 when the grids differ). */
static double compare_with_gdal(const char *dem, double x, double y, double h, double t, double md, double cc,
                                size_t *cells_out)
{
    char cmd[4096];
    const char *g = ct_test_tmp_path("gdal.tif"), *c = ct_test_tmp_path("ct.tif");
    snprintf(cmd, sizeof cmd, "gdal_viewshed -q -ox %.10g -oy %.10g -oz %g -tz %g -md %g -cc %g -ov 1 '%s' '%s'", x, y,
             h, t, md, cc, dem, g);
    if (system(cmd) != 0)
        return -2;
    snprintf(cmd, sizeof cmd,
             "analyze viewshed --dem '%s' --observer %.10g,%.10g --height %g --target-height %g "
             "--max-distance %g --curvature %g -o '%s'",
             dem, x, y, h, t, md, cc, c);
    if (ct_test_run_cli(cmd, NULL, NULL) != 0)
        return -3;
    int w1, h1, w2, h2;
    double gt1[6], gt2[6];
    uint8_t *a = read_byte_tif(g, &w1, &h1, gt1), *b = read_byte_tif(c, &w2, &h2, gt2);
    double j = -1;
    if (a && b && w1 == w2 && h1 == h2 && memcmp(gt1, gt2, sizeof gt1) == 0) {
        size_t inter = 0, uni = 0, n = (size_t)w1 * h1;
        for (size_t i = 0; i < n; i++) {
            inter += a[i] == 255 && b[i] == 255;
            uni += a[i] == 255 || b[i] == 255;
        }
        j = uni ? (double)inter / uni : 1.0;
        *cells_out = n;
    } else {
        fprintf(stderr, "grids differ: gdal %dx%d, citytwin %dx%d\n", w1, h1, w2, h2);
    }
    free(a);
    free(b);
    return j;
}

CT_TEST(agrees_with_gdal_viewshed)
{
    if (!have_gdal_viewshed()) {
        fprintf(stderr, "gdal_viewshed not installed: skipping\n");
        return;
    }
    size_t n = 0;
    /* Real DEMs in geographic CRSs: no curvature (gdal_viewshed would apply it to
     * distances in degrees) and no max distance (gdal takes it in degrees). */
    const char *lux = ct_test_data("terrain/luxembourg/elev.tif");
    double j = compare_with_gdal(lux, 6.13, 49.61, 10, 0, 0, 0, &n);
    fprintf(stderr, "Luxembourg 95x90: Jaccard %.5f over %zu cells\n", j, n);
    CT_CHECK(j >= 0.993);
    j = compare_with_gdal(lux, 5.95, 49.95, 2, 5, 0, 0, &n);
    fprintf(stderr, "Luxembourg (2nd observer, target 5 m): Jaccard %.5f\n", j);
    CT_CHECK(j >= 0.993);
    char srtm[4200];
    snprintf(srtm, sizeof srtm, "/vsizip/%s/N43E007.hgt", ct_test_data("terrain/srtm/N43E007.hgt.zip"));
    j = compare_with_gdal(srtm, 7.43, 43.77, 2, 0, 0, 0, &n);
    fprintf(stderr, "SRTM N43E007 1201x1201: Jaccard %.5f over %zu cells\n", j, n);
    CT_CHECK(j >= 0.993);
    /* A projected DEM: curvature (gdal's default coefficient) and max distance. */
    ct_raster *dem = flat_dem(601, 601, 30, 0);
    for (int r = 0; r < 601; r++)
        for (int c = 0; c < 601; c++)
            dem->data[(size_t)r * 601 + c] =
                (float)(200 * sin(c * 0.031) * cos(r * 0.023) + 80 * sin((c + 2 * r) * 0.11) + 0.05 * c);
    char path[512];
    snprintf(path, sizeof path, "%s", ct_test_tmp_path("synthetic.tif"));
    CT_REQUIRE(ct_raster_write_gtiff(dem, path, CT_RASTER_FLOAT32, false, 0, NULL) == CT_OK);
    double x, y;
    cell_xy(dem, 300, 280, &x, &y);
    j = compare_with_gdal(path, x, y, 20, 2, 7000, 0.85714, &n);
    fprintf(stderr, "synthetic UTM 601x601 (md 7 km, cc 0.85714): Jaccard %.5f over %zu cells\n", j, n);
    CT_CHECK(j >= 0.993);
    j = compare_with_gdal(path, x + 1234, y - 2345, 2, 0, 0, 0.85714, &n);
    fprintf(stderr, "synthetic UTM 601x601 (whole raster): Jaccard %.5f\n", j);
    CT_CHECK(j >= 0.993);
    ct_raster_destroy(dem);
}

CT_TEST_MAIN(CT_CASE(agrees_with_gdal_viewshed))
