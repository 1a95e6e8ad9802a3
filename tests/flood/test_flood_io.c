/* Raster input/output used by the flood analyses: windowed reads (each MPI
 * rank reads its block plus a halo) and the fast sparse depth writer. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <gdal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 7 x 5 cells, value 10*row + col, one nodata cell at (3,2). */
static const char *write_grid(void)
{
    ct_raster *r = flood_test_dem(7, 5, 2.0, 1000.0, 2000.0);
    for (int i = 0; i < 35; i++)
        r->data[i] = (float)(10 * (i / 7) + i % 7);
    r->data[2 * 7 + 3] = NAN;
    const char *p = ct_test_tmp_path("grid.tif");
    ct_error err = {0};
    CT_CHECK(ct_raster_write_gtiff(r, p, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    ct_raster_destroy(r);
    return p;
}

CT_TEST(test_read_window)
{
    const char *p = write_grid();
    ct_error err = {0};
    ct_raster *hdr = NULL, *w = NULL;
    CT_REQUIRE(ct_raster_read_header(p, &hdr, &err) == CT_OK);
    CT_CHECK_EQ_INT(hdr->width, 7);
    CT_CHECK_EQ_INT(hdr->height, 5);
    CT_CHECK(hdr->data == NULL);
    /* a window reaching one cell past every edge: NAN outside, values inside */
    CT_REQUIRE(ct_raster_read_window(p, -1, -1, 9, 7, &w, &err) == CT_OK);
    CT_CHECK_EQ_INT(w->width, 9);
    CT_CHECK_NEAR(w->geotransform[0], 998.0, 1e-12);
    CT_CHECK_NEAR(w->geotransform[3], 2002.0, 1e-12);
    int bad = 0;
    for (int r = 0; r < 7; r++)
        for (int c = 0; c < 9; c++) {
            float v = w->data[r * 9 + c];
            int gr = r - 1, gc = c - 1;
            bool outside = gr < 0 || gr >= 5 || gc < 0 || gc >= 7;
            if (outside || (gr == 2 && gc == 3))
                bad += !isnan(v);
            else
                bad += v != (float)(10 * gr + gc);
        }
    CT_CHECK_EQ_INT(bad, 0);
    ct_raster_destroy(w);
    /* an inner window: shifted georeferencing, the same cells */
    CT_REQUIRE(ct_raster_read_window(p, 2, 1, 3, 2, &w, &err) == CT_OK);
    CT_CHECK_NEAR(w->geotransform[0], 1004.0, 1e-12);
    CT_CHECK_NEAR(w->geotransform[3], 1998.0, 1e-12);
    CT_CHECK_NEAR(w->data[0], 12, 0);
    CT_CHECK_NEAR(w->data[5], 24, 0);
    ct_raster_destroy(w);
    /* a window entirely outside: all NAN, not an error */
    CT_REQUIRE(ct_raster_read_window(p, 20, 20, 2, 2, &w, &err) == CT_OK);
    CT_CHECK(isnan(w->data[0]) && isnan(w->data[3]));
    ct_raster_destroy(w);
    CT_CHECK(ct_raster_read_window(p, 0, 0, 0, 3, &w, &err) == CT_ERR_INPUT);
    CT_CHECK(ct_raster_read_window("/nonexistent.tif", 0, 0, 1, 1, &w, &err) == CT_ERR_INPUT);
    ct_raster_destroy(hdr);
}

CT_TEST(test_sparse_depth_writer)
{
    /* 600 x 300 cells (3 x 2 tiles of 256, partial edge tiles): wet only in
     * the west third, so the middle and east tiles are entirely dry. */
    int w = 600, h = 300;
    ct_raster *d = flood_test_dem(w, h, 1.0, 0.0, 300.0);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            d->data[r * w + c] = c < 200 && (r + c) % 7 ? 0.001f * (float)(r * w + c) : NAN;
    const char *p = ct_test_tmp_path("depth.tif");
    ct_error err = {0};
    CT_REQUIRE(ct_flood_raster_write(d, p, &err) == CT_OK);
    ct_raster *back = NULL;
    CT_REQUIRE(ct_raster_read(p, &back, &err) == CT_OK);
    CT_CHECK_EQ_INT(back->width, w);
    CT_CHECK_EQ_INT(back->height, h);
    CT_CHECK_NEAR(back->nodata, -9999, 0);
    long diff = 0;
    for (int i = 0; i < w * h; i++) {
        float a = d->data[i], b = back->data[i];
        diff += isnan(a) != isnan(b) || (!isnan(a) && a != b);
    }
    CT_CHECK_EQ_INT(diff, 0);
    for (int k = 0; k < 6; k++)
        CT_CHECK_NEAR(back->geotransform[k], d->geotransform[k], 0);
    /* dry tiles are not stored (empty offsets); wet ones are */
    GDALDatasetH ds = GDALOpen(p, GA_ReadOnly);
    CT_REQUIRE(ds);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    const char *wet = GDALGetMetadataItem(b, "BLOCK_OFFSET_0_0", "TIFF");
    const char *dry = GDALGetMetadataItem(b, "BLOCK_OFFSET_2_1", "TIFF");
    CT_CHECK(wet && atol(wet) > 0);
    CT_CHECK(!dry || atol(dry) == 0);
    GDALClose(ds);
    /* unwritable path: an error naming it */
    CT_CHECK(ct_flood_raster_write(d, "/nonexistent/dir/x.tif", &err) == CT_ERR_RUNTIME);
    CT_CHECK(strstr(err.msg, "/nonexistent/dir/x.tif") != NULL);
    ct_raster_destroy(back);
    ct_raster_destroy(d);
}

/* Every compression, on 1 to 3 threads, on grids smaller than a tile, of
 * exactly one tile and of partial edge tiles: GDAL (its own libtiff
 * decoders and predictor) reads back the same floats, sparse tiles as
 * nodata, and the file says which compression and predictor it uses. */
CT_TEST(test_writer_compressions)
{
    static const ct_flood_compress C[] = {CT_FLOOD_COMPRESS_DEFAULT, CT_FLOOD_COMPRESS_DEFLATE, CT_FLOOD_COMPRESS_ZSTD,
                                          CT_FLOOD_COMPRESS_LZW, CT_FLOOD_COMPRESS_NONE};
    static const char *const NAME[] = {"ZSTD", "DEFLATE", "ZSTD", "LZW", NULL};
    static const int SIZE[][2] = {{5, 3}, {256, 256}, {700, 530}};
    ct_error err = {0};
    for (int s = 0; s < 3; s++) {
        int w = SIZE[s][0], h = SIZE[s][1];
        ct_raster *d = flood_test_dem(w, h, 2.0, 500.0, 1000.0);
        /* smooth depths, a dry band, extreme floats (tiny, huge, negative, subnormal) */
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) {
                float v = (c >= 256 && c < 512) ? NAN : 0.25f + 0.001f * (float)r + 1e-4f * (float)c;
                d->data[(size_t)r * w + c] = v;
            }
        uint32_t subnormal = 0x00000123u;
        memcpy(&d->data[0], &subnormal, 4);
        d->data[w * h - 1] = -3.4e38f;
        d->data[w * h / 2] = 123456.789f;
        for (int k = 0; k < 5; k++)
            for (int t = 1; t <= 3; t++) {
                char name[64];
                snprintf(name, sizeof name, "cmp_%d_%d_%d.tif", s, k, t);
                const char *p = ct_test_tmp_path(name);
                ct_flood_write_desc wd = {.compress = C[k], .threads = t};
                CT_REQUIRE(ct_flood_raster_write_with(d, p, &wd, &err) == CT_OK);
                ct_raster *back = NULL;
                CT_REQUIRE(ct_raster_read(p, &back, &err) == CT_OK);
                CT_REQUIRE(back->width == w && back->height == h);
                long diff = 0;
                for (size_t i = 0; i < (size_t)w * h; i++) {
                    float a = d->data[i], b = back->data[i];
                    diff += isnan(a) != isnan(b) || (!isnan(a) && memcmp(&a, &b, 4) != 0);
                }
                CT_CHECK_EQ_INT(diff, 0);
                for (int g = 0; g < 6; g++)
                    CT_CHECK_NEAR(back->geotransform[g], d->geotransform[g], 0);
                ct_raster_destroy(back);
                GDALDatasetH ds = GDALOpen(p, GA_ReadOnly);
                CT_REQUIRE(ds);
                const char *cm = GDALGetMetadataItem(ds, "COMPRESSION", "IMAGE_STRUCTURE");
                const char *pr = GDALGetMetadataItem(ds, "PREDICTOR", "IMAGE_STRUCTURE");
                if (NAME[k]) {
                    CT_CHECK(cm && !strcmp(cm, NAME[k]));
                    CT_CHECK(pr && !strcmp(pr, "3"));
                } else {
                    CT_CHECK(cm == NULL);
                }
                if (w == 700) { /* tile column 1 (columns 256..511) is dry: not stored */
                    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
                    const char *dry = GDALGetMetadataItem(b, "BLOCK_OFFSET_1_1", "TIFF");
                    const char *wet = GDALGetMetadataItem(b, "BLOCK_OFFSET_2_1", "TIFF");
                    CT_CHECK(wet && atol(wet) > 0);
                    CT_CHECK(!dry || atol(dry) == 0);
                }
                GDALClose(ds);
            }
        ct_raster_destroy(d);
    }
    ct_flood_compress c;
    CT_CHECK(ct_flood_compress_parse("ZSTD", &c) && c == CT_FLOOD_COMPRESS_ZSTD);
    CT_CHECK(ct_flood_compress_parse("none", &c) && c == CT_FLOOD_COMPRESS_NONE);
    CT_CHECK(!ct_flood_compress_parse("jpeg", &c));
    CT_CHECK(!strcmp(ct_flood_compress_name(CT_FLOOD_COMPRESS_DEFAULT), "zstd"));
    CT_CHECK(!strcmp(ct_flood_compress_name(CT_FLOOD_COMPRESS_DEFLATE), "deflate"));
}

/* Many more tiles than the writer's slots (4 per thread): the compressor
 * threads wait for the appender, take tiles in turns and must never take
 * the same tile twice (a bug that once corrupted one tile in a thousand). */
CT_TEST(test_writer_many_tiles)
{
    int w = 16 * 256 - 37, h = 3 * 256 + 5; /* 16 x 4 tiles */
    ct_raster *d = flood_test_dem(w, h, 1.0, 0.0, 1000.0);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            d->data[(size_t)r * w + c] = (r * 7 + c * 3) % 11 == 0 ? NAN : 0.5f + 0.01f * (float)((r * 131 + c * 17) % 977);
    ct_error err = {0};
    for (int k = 0; k < 4; k++) {
        ct_flood_write_desc wd = {.compress = k < 2 ? CT_FLOOD_COMPRESS_ZSTD : CT_FLOOD_COMPRESS_DEFLATE,
                                  .threads = k % 2 ? 3 : 2};
        const char *p = ct_test_tmp_path("many.tif");
        CT_REQUIRE(ct_flood_raster_write_with(d, p, &wd, &err) == CT_OK);
        ct_raster *back = NULL;
        CT_REQUIRE(ct_raster_read(p, &back, &err) == CT_OK);
        long diff = 0;
        for (size_t i = 0; i < (size_t)w * h; i++) {
            float a = d->data[i], b = back->data[i];
            diff += isnan(a) != isnan(b) || (!isnan(a) && a != b);
        }
        CT_CHECK_EQ_INT(diff, 0);
        ct_raster_destroy(back);
    }
    ct_raster_destroy(d);
}

CT_TEST_MAIN(CT_CASE(test_read_window), CT_CASE(test_sparse_depth_writer), CT_CASE(test_writer_compressions),
             CT_CASE(test_writer_many_tiles))
