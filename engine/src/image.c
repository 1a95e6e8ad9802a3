/* Image decoding (PNG/JPEG via Debian's compiled stb_image, WebP via libwebp)
 * and PNG encoding (libpng's simplified API, which reports errors without
 * setjmp). Formats are sniffed by magic bytes; declared MIME types lie often
 * enough in the wild that we never trust them. */
#include "citytwin/ct_image.h"

#include <limits.h>
#include <png.h>
#include <stb/stb_image.h>
#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>

typedef enum { FMT_UNKNOWN, FMT_PNG, FMT_JPEG, FMT_WEBP } image_format;

static image_format sniff(const uint8_t *p, size_t n)
{
    if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
        return FMT_PNG;
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return FMT_JPEG;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
        return FMT_WEBP;
    return FMT_UNKNOWN;
}

static const char *mime_of(image_format f)
{
    switch (f) {
    case FMT_PNG: return "image/png";
    case FMT_JPEG: return "image/jpeg";
    case FMT_WEBP: return "image/webp";
    default: return "unknown";
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the PNG chunk list: every chunk must fit in the data. stb_image trusts
 * IDAT lengths and grows its buffer to them before reading, so a corrupt length
 * would cost a gigabyte allocation before the error. */
static bool png_chunks_fit(const uint8_t *p, size_t n, size_t *bad_offset)
{
    size_t off = 8;
    while (off + 12 <= n) {
        uint32_t len = be32(p + off);
        if ((uint64_t)len + 12 > n - off) {
            *bad_offset = off;
            return false;
        }
        if (!memcmp(p + off + 4, "IEND", 4))
            return true;
        off += (size_t)len + 12;
    }
    *bad_offset = off;
    return false;
}

ct_status ct_image_probe(const void *data, size_t size, int *width, int *height, const char **mime, ct_error *err)
{
    const uint8_t *p = data;
    image_format f = p ? sniff(p, size) : FMT_UNKNOWN;
    int w = 0, h = 0, comp = 0;
    if (f == FMT_UNKNOWN)
        return ct_error_set(err, CT_ERR_INPUT, "image: unknown format (not PNG, JPEG or WebP; %zu bytes)", size);
    if (size > INT_MAX)
        return ct_error_set(err, CT_ERR_INPUT, "image: %zu bytes is too large", size);
    size_t bad;
    if (f == FMT_PNG && !png_chunks_fit(p, size, &bad))
        return ct_error_set(err, CT_ERR_INPUT, "image: corrupt PNG: chunk at byte %zu runs past the end (%zu bytes)",
                            bad, size);
    if (f == FMT_WEBP) {
        if (!WebPGetInfo(p, size, &w, &h))
            return ct_error_set(err, CT_ERR_INPUT, "image: corrupt WebP header");
    } else if (!stbi_info_from_memory(p, (int)size, &w, &h, &comp)) {
        return ct_error_set(err, CT_ERR_INPUT, "image: corrupt %s header: %s", mime_of(f), stbi_failure_reason());
    }
    if (w <= 0 || h <= 0)
        return ct_error_set(err, CT_ERR_INPUT, "image: invalid size %dx%d", w, h);
    if (width)
        *width = w;
    if (height)
        *height = h;
    if (mime)
        *mime = mime_of(f);
    return CT_OK;
}

ct_status ct_image_decode_max(const void *data, size_t size, uint64_t max_pixels, ct_image *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (!max_pixels)
        max_pixels = CT_IMAGE_MAX_PIXELS_DEFAULT;
    int w = 0, h = 0;
    const char *mime = "";
    ct_status st = ct_image_probe(data, size, &w, &h, &mime, err);
    if (st)
        return st;
    /* Check the declared size before the decoder allocates anything. */
    if ((uint64_t)w * (uint64_t)h > max_pixels)
        return ct_error_set(err, CT_ERR_INPUT, "image: %dx%d %s exceeds the limit of %llu pixels", w, h, mime,
                            (unsigned long long)max_pixels);
    uint8_t *pixels = NULL;
    int dw = 0, dh = 0;
    if (!strcmp(mime, "image/webp")) {
        uint8_t *tmp = WebPDecodeRGBA(data, size, &dw, &dh);
        if (tmp) {
            /* WebP's buffer must be released with WebPFree; copy into malloc'ed memory
             * so every ct_image is freed the same way. */
            pixels = ct_malloc_array((size_t)dw * (size_t)dh, 4);
            if (pixels)
                memcpy(pixels, tmp, (size_t)dw * (size_t)dh * 4);
            WebPFree(tmp);
            if (!pixels)
                return ct_error_set(err, CT_ERR_RUNTIME, "image: out of memory for %dx%d", dw, dh);
        } else {
            return ct_error_set(err, CT_ERR_INPUT, "image: corrupt WebP data");
        }
    } else {
        int comp = 0;
        uint8_t *tmp = stbi_load_from_memory(data, (int)size, &dw, &dh, &comp, 4);
        if (!tmp)
            return ct_error_set(err, CT_ERR_INPUT, "image: corrupt %s data: %s", mime, stbi_failure_reason());
        /* stb allocates with malloc (Debian's build uses the defaults), so the
         * buffer can be handed out and released with free(). */
        pixels = tmp;
    }
    if (dw != w || dh != h) {
        free(pixels);
        return ct_error_set(err, CT_ERR_INPUT, "image: decoded size %dx%d differs from header %dx%d", dw, dh, w, h);
    }
    out->width = dw;
    out->height = dh;
    out->pixels = pixels;
    return CT_OK;
}

ct_status ct_image_decode(const void *data, size_t size, ct_image *out, ct_error *err)
{
    return ct_image_decode_max(data, size, 0, out, err);
}

ct_status ct_image_load_file(const char *path, ct_image *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *data = NULL;
    size_t size = 0;
    ct_status st = ct_file_read(path, (size_t)1 << 31, &data, &size, err);
    if (st)
        return st;
    st = ct_image_decode(data, size, out, err);
    free(data);
    if (st)
        ct_error_prefix(err, "%s: ", path);
    return st;
}

ct_status ct_image_encode_png(int w, int h, const uint8_t *rgba, uint8_t **data, size_t *size, ct_error *err)
{
    *data = NULL;
    *size = 0;
    if (w <= 0 || h <= 0 || !rgba || (uint64_t)w * (uint64_t)h > ((uint64_t)1 << 30))
        return ct_error_set(err, CT_ERR_USAGE, "png: invalid image %dx%d", w, h);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGBA;
    png_alloc_size_t n = 0;
    /* First call sizes the output, second fills it. */
    if (!png_image_write_to_memory(&img, NULL, &n, 0, rgba, 0, NULL))
        return ct_error_set(err, CT_ERR_RUNTIME, "png: encoding failed: %s", img.message);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return ct_error_set(err, CT_ERR_RUNTIME, "png: out of memory for %zu bytes", (size_t)n);
    if (!png_image_write_to_memory(&img, buf, &n, 0, rgba, 0, NULL)) {
        free(buf);
        return ct_error_set(err, CT_ERR_RUNTIME, "png: encoding failed: %s", img.message);
    }
    *data = buf;
    *size = n;
    return CT_OK;
}

ct_status ct_image_write_png(const char *path, int w, int h, const uint8_t *rgba, ct_error *err)
{
    uint8_t *data;
    size_t size;
    ct_status st = ct_image_encode_png(w, h, rgba, &data, &size, err);
    if (st) {
        ct_error_prefix(err, "%s: ", path);
        return st;
    }
    st = ct_file_write(path, data, size, err);
    free(data);
    return st;
}

void ct_image_free(ct_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    memset(img, 0, sizeof *img);
}
