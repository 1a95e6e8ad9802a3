/* ct_image: decoding PNG/JPEG/WebP, PNG writing, bad input. Expected pixels
 * come from independent encoders/decoders (libpng's simplified API, libwebp's
 * encoder, stb's JPEG writer) or from analytic patterns, never from our own output. */
#include "citytwin/ct_image.h"
#include "ct_test.h"

#include <png.h>
#include <unistd.h>
#include <stb/stb_image_write.h>
#include <webp/encode.h>

static uint8_t *make_pattern(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + ((size_t)y * w + x) * 4;
            q[0] = (uint8_t)(x * 255 / (w - 1));
            q[1] = (uint8_t)(y * 255 / (h - 1));
            q[2] = (uint8_t)((x + y) & 0xFF);
            q[3] = (uint8_t)(255 - x);
        }
    return p;
}

CT_TEST(png_file_matches_libpng)
{
    const char *path = ct_test_data("gltf/khronos-sample-assets/BoxTextured/glTF/CesiumLogoFlat.png");
    ct_image img;
    ct_error err = {0};
    CT_REQUIRE(ct_image_load_file(path, &img, &err) == CT_OK);
    CT_CHECK_EQ_INT(img.width, 256); /* `file` says 256 x 256, 8-bit colormap */
    CT_CHECK_EQ_INT(img.height, 256);
    /* Decode again with libpng (an independent decoder) and compare every byte. */
    png_image ref;
    memset(&ref, 0, sizeof ref);
    ref.version = PNG_IMAGE_VERSION;
    CT_REQUIRE(png_image_begin_read_from_file(&ref, path));
    ref.format = PNG_FORMAT_RGBA;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(ref));
    CT_REQUIRE(png_image_finish_read(&ref, NULL, buf, 0, NULL));
    CT_CHECK(memcmp(buf, img.pixels, (size_t)256 * 256 * 4) == 0);
    free(buf);
    ct_image_free(&img);
    CT_CHECK(img.pixels == NULL);
    ct_image_free(&img); /* twice is fine */
}

CT_TEST(png_write_roundtrip)
{
    int w = 37, h = 21;
    uint8_t *pat = make_pattern(w, h);
    char path[] = "/tmp/ct_test_image_XXXXXX";
    int fd = mkstemp(path);
    CT_REQUIRE(fd >= 0);
    close(fd);
    ct_error err = {0};
    CT_REQUIRE(ct_image_write_png(path, w, h, pat, &err) == CT_OK);
    /* read back with libpng */
    png_image ref;
    memset(&ref, 0, sizeof ref);
    ref.version = PNG_IMAGE_VERSION;
    CT_REQUIRE(png_image_begin_read_from_file(&ref, path));
    CT_CHECK_EQ_INT(ref.width, w);
    CT_CHECK_EQ_INT(ref.height, h);
    ref.format = PNG_FORMAT_RGBA;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(ref));
    CT_REQUIRE(png_image_finish_read(&ref, NULL, buf, 0, NULL));
    CT_CHECK(memcmp(buf, pat, (size_t)w * h * 4) == 0);
    free(buf);
    /* and with our own decoder */
    ct_image img;
    CT_REQUIRE(ct_image_load_file(path, &img, &err) == CT_OK);
    CT_CHECK(img.width == w && img.height == h && memcmp(img.pixels, pat, (size_t)w * h * 4) == 0);
    ct_image_free(&img);
    remove(path);
    free(pat);
}

CT_TEST(webp_lossless_decode)
{
    int w = 16, h = 9;
    uint8_t *pat = make_pattern(w, h);
    uint8_t *webp = NULL;
    size_t n = WebPEncodeLosslessRGBA(pat, w, h, w * 4, &webp);
    CT_REQUIRE(n > 0);
    ct_image img;
    ct_error err = {0};
    CT_REQUIRE(ct_image_decode(webp, n, &img, &err) == CT_OK);
    CT_CHECK(img.width == w && img.height == h);
    CT_CHECK(memcmp(img.pixels, pat, (size_t)w * h * 4) == 0);
    const char *mime = NULL;
    int pw = 0, ph = 0;
    CT_CHECK(ct_image_probe(webp, n, &pw, &ph, &mime, &err) == CT_OK && pw == w && ph == h &&
             !strcmp(mime, "image/webp"));
    ct_image_free(&img);
    /* truncated WebP fails cleanly */
    CT_CHECK(ct_image_decode(webp, n / 2, &img, &err) == CT_ERR_INPUT && img.pixels == NULL);
    WebPFree(webp);
    free(pat);
}

typedef struct mem_sink { uint8_t *p; size_t n; } mem_sink;
static void sink_write(void *ctx, void *data, int size)
{
    mem_sink *s = ctx;
    s->p = realloc(s->p, s->n + (size_t)size);
    memcpy(s->p + s->n, data, (size_t)size);
    s->n += (size_t)size;
}

CT_TEST(jpeg_decode)
{
    /* A flat colour survives JPEG compression almost exactly. */
    int w = 24, h = 16;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        rgb[i * 3] = 200;
        rgb[i * 3 + 1] = 100;
        rgb[i * 3 + 2] = 50;
    }
    mem_sink s = {0};
    CT_REQUIRE(stbi_write_jpg_to_func(sink_write, &s, w, h, 3, rgb, 95));
    ct_image img;
    ct_error err = {0};
    CT_REQUIRE(ct_image_decode(s.p, s.n, &img, &err) == CT_OK);
    CT_CHECK(img.width == w && img.height == h);
    int bad = 0;
    for (int i = 0; i < w * h; i++)
        if (abs(img.pixels[i * 4] - 200) > 3 || abs(img.pixels[i * 4 + 1] - 100) > 3 ||
            abs(img.pixels[i * 4 + 2] - 50) > 3 || img.pixels[i * 4 + 3] != 255)
            bad++;
    CT_CHECK_EQ_INT(bad, 0);
    ct_image_free(&img);
    free(s.p);
    free(rgb);
}

CT_TEST(bad_images)
{
    ct_image img;
    ct_error err = {0};
    CT_CHECK(ct_image_decode("GIF89a......", 12, &img, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "unknown format") != NULL);
    CT_CHECK(ct_image_decode(NULL, 0, &img, &err) == CT_ERR_INPUT);
    /* a PNG truncated after its header */
    uint8_t *data;
    size_t size;
    CT_REQUIRE(ct_file_read(ct_test_data("gltf/khronos-sample-assets/BoxTextured/glTF/CesiumLogoFlat.png"), 0, &data,
                            &size, &err) == CT_OK);
    CT_CHECK(ct_image_decode(data, 60, &img, &err) == CT_ERR_INPUT && img.pixels == NULL);
    /* pixel limit is checked from the header, before decoding */
    CT_CHECK(ct_image_decode_max(data, size, 1000, &img, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "256x256") != NULL);
    /* a PNG header claiming 100000 x 100000 pixels */
    uint8_t hdr[64];
    memcpy(hdr, data, 33);
    hdr[16] = 0; hdr[17] = 1; hdr[18] = 0x86; hdr[19] = 0xA0;
    hdr[20] = 0; hdr[21] = 1; hdr[22] = 0x86; hdr[23] = 0xA0;
    CT_CHECK(ct_image_decode(hdr, 33, &img, &err) == CT_ERR_INPUT && img.pixels == NULL);
    /* an IDAT chunk whose length runs past the end (found by fuzzing: stb would
     * first grow a buffer to that length) */
    for (size_t off = 8; off + 8 < size;) {
        uint32_t len = (uint32_t)data[off] << 24 | data[off + 1] << 16 | data[off + 2] << 8 | data[off + 3];
        if (!memcmp(data + off + 4, "IDAT", 4)) {
            data[off] = 0x40;
            CT_CHECK(ct_image_decode(data, size, &img, &err) == CT_ERR_INPUT && img.pixels == NULL);
            CT_CHECK(strstr(err.msg, "corrupt PNG: chunk at byte") != NULL);
            break;
        }
        off += len + 12;
    }
    free(data);
    CT_CHECK(ct_image_load_file("/nonexistent/x.png", &img, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "/nonexistent/x.png") != NULL);
    CT_CHECK(ct_image_write_png("/nonexistent/dir/x.png", 1, 1, (const uint8_t *)"\0\0\0\0", &err) == CT_ERR_RUNTIME);
}

CT_TEST_MAIN(CT_CASE(png_file_matches_libpng), CT_CASE(png_write_roundtrip), CT_CASE(webp_lossless_decode),
             CT_CASE(jpeg_decode), CT_CASE(bad_images))
