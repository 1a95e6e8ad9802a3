/* Image decoding and PNG writing: PNG, JPEG (stb_image, Debian's compiled
 * libstb) and WebP (libwebp), sniffed by magic bytes, always decoded to RGBA8.
 * Used by the glTF reader for textures and by the renderer for headless output
 * and reference-image tests. */
#ifndef CT_IMAGE_H
#define CT_IMAGE_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_image {
    int width, height;
    uint8_t *pixels; /* RGBA8, width*height*4 bytes, rows top to bottom; malloc'ed */
} ct_image;

/* Default limit on width*height accepted by ct_image_decode (256 Mpixel = 1 GiB RGBA). */
#define CT_IMAGE_MAX_PIXELS_DEFAULT ((uint64_t)1 << 28)

/* Decodes PNG, JPEG or WebP from memory (format sniffed by magic, not by name).
 * Fails with CT_ERR_INPUT on an unknown format, corrupt data or an image larger
 * than CT_IMAGE_MAX_PIXELS_DEFAULT; *out is zeroed on failure. */
ct_status ct_image_decode(const void *data, size_t size, ct_image *out, ct_error *err);
/* Same with an explicit pixel limit (0 = default); the size is checked from the
 * header before any pixel buffer is allocated. */
ct_status ct_image_decode_max(const void *data, size_t size, uint64_t max_pixels, ct_image *out, ct_error *err);
/* Reads the header only: width/height and a MIME type ("image/png", "image/jpeg",
 * "image/webp"). Returns CT_ERR_INPUT when the format is not recognised. */
ct_status ct_image_probe(const void *data, size_t size, int *width, int *height, const char **mime, ct_error *err);
/* Reads and decodes a file; error messages name the path. */
ct_status ct_image_load_file(const char *path, ct_image *out, ct_error *err);
/* Encodes RGBA8 rows (top to bottom) as PNG into a malloc'ed buffer. */
ct_status ct_image_encode_png(int w, int h, const uint8_t *rgba, uint8_t **data, size_t *size, ct_error *err);
/* Writes RGBA8 as a PNG file. */
ct_status ct_image_write_png(const char *path, int w, int h, const uint8_t *rgba, ct_error *err);
/* Frees the pixels and zeroes the struct; safe on a zeroed or already freed image. */
void ct_image_free(ct_image *img);

#ifdef __cplusplus
}
#endif
#endif
