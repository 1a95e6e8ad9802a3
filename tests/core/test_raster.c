/* Raster reading: large rasters are read in row bands on several threads
 * (one GDAL handle each); streams (/vsistdin/) with one handle. Every cell is
 * checked against the formula that wrote it. */
#include "citytwin/ct_raster.h"
#include "ct_test.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { W = 3001, H = 2999 }; /* 9 M cells: above the two-band threshold */

static float cell_value(int r, int c) { return (r * 7 + c * 3) % 101 == 0 ? NAN : (float)(r * 0.5 + c * 0.25); }

static const char *write_fixture(void)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s", ct_test_tmp_path("bands.tif"));
    ct_raster *r = ct_raster_create(W, H, NULL);
    if (!r)
        return NULL;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            r->data[(size_t)y * W + x] = cell_value(y, x);
    ct_error err = {0};
    ct_status st = ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, true, -9999, &err);
    ct_raster_destroy(r);
    CT_CHECK(st == CT_OK);
    return st == CT_OK ? path : NULL;
}

static size_t count_wrong(const ct_raster *r, int col0, int row0)
{
    size_t bad = 0;
    for (int y = 0; y < r->height; y++)
        for (int x = 0; x < r->width; x++) {
            int fr = y + row0, fc = x + col0;
            float want = fr < 0 || fc < 0 || fr >= H || fc >= W ? NAN : cell_value(fr, fc);
            float got = r->data[(size_t)y * r->width + x];
            bool wrong = isnan(want) ? !isnan(got) : got != want;
            if (wrong && bad == 0)
                fprintf(stderr, "first wrong cell: window %d,%d (file %d,%d): %g, want %g\n", x, y, fc, fr, got, want);
            bad += wrong;
        }
    return bad;
}

CT_TEST(test_read_in_bands_equals_file)
{
    const char *path = write_fixture();
    CT_REQUIRE(path != NULL);
    ct_raster *r = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_read(path, &r, &err) == CT_OK);
    CT_CHECK_EQ_INT(r->width, W);
    CT_CHECK_EQ_INT(r->height, H);
    CT_CHECK_EQ_INT(count_wrong(r, 0, 0), 0);
    ct_raster_destroy(r);
    /* a window hanging over the top-left corner: NAN outside */
    CT_REQUIRE(ct_raster_read_window(path, -5, -7, W, H, &r, &err) == CT_OK);
    CT_CHECK_EQ_INT(count_wrong(r, -5, -7), 0);
    ct_raster_destroy(r);
}

CT_TEST(test_read_stdin_stream)
{
    const char *path = write_fixture();
    CT_REQUIRE(path != NULL);
    int fd = open(path, O_RDONLY), saved = dup(0);
    CT_REQUIRE(fd >= 0 && saved >= 0);
    CT_REQUIRE(dup2(fd, 0) == 0);
    ct_raster *r = NULL;
    ct_error err = {0};
    ct_status st = ct_raster_read("/vsistdin/", &r, &err);
    dup2(saved, 0);
    close(fd);
    close(saved);
    CT_REQUIRE(st == CT_OK);
    CT_CHECK_EQ_INT(count_wrong(r, 0, 0), 0);
    ct_raster_destroy(r);
}

CT_TEST_MAIN(CT_CASE(test_read_in_bands_equals_file), CT_CASE(test_read_stdin_stream))
