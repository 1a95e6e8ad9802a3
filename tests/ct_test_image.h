/* Image comparison shared by the reference-image tests (glTF samples in
 * tests/render, tilesets in tests/tiles): RMSE over RGB (0..255) against a
 * reference PNG of the same size. */
#ifndef CT_TEST_IMAGE_H
#define CT_TEST_IMAGE_H

#include "citytwin/ct_image.h"

#include <math.h>
#include <stdio.h>

static inline double ct_test_image_rmse(const uint8_t *a, const uint8_t *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            double d = (double)a[i * 4 + c] - b[i * 4 + c];
            s += d * d;
        }
    return sqrt(s / (3.0 * n));
}

/* RMSE of the RGBA image img (size x size) against dir/name; INFINITY when
 * the reference is missing or of another size. */
static inline double ct_test_image_compare(const char *dir, const char *name, const uint8_t *img, int size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ct_image ref = {0};
    ct_error err = {0};
    if (ct_image_load_file(path, &ref, &err) != CT_OK) {
        fprintf(stderr, "reference: %s\n", err.msg);
        return INFINITY;
    }
    double e = ref.width == size && ref.height == size ? ct_test_image_rmse(img, ref.pixels, size * size) : INFINITY;
    ct_image_free(&ref);
    return e;
}

#endif
