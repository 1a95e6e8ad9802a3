/* Shared between text.c (fonts, shaping) and text_draw.c (atlas, GL); not a public header. */
#ifndef CT_TEXT_INTERNAL_H
#define CT_TEXT_INTERNAL_H

#include "citytwin/ct_text.h"

/* A glyph rasterised by FreeType: 8-bit coverage, rows top to bottom. */
typedef struct ct_glyph_bitmap {
    const uint8_t *pixels;   /* owned by the font; valid until its next call */
    int width, rows, pitch;
    int left, top;           /* bitmap origin relative to the pen on the baseline (top: up, px) */
} ct_glyph_bitmap;

/* Rasterises glyph at size_px (whole pixels); false when FreeType fails
 * (the glyph is then drawn as nothing). */
bool ct_font_render_glyph(ct_font *f, uint32_t glyph, int size_px, ct_glyph_bitmap *out);

#endif
