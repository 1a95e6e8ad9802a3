/* Text drawn on the CPU into an RGBA image (the --report map): the glyphs
 * FreeType rasterises for the GL text renderer, and the same halo (the
 * coverage dilated by the halo width with a one-pixel soft edge), without GL. */
#include "text_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void blend_px(uint8_t *rgba, int width, int height, int x, int y, const uint8_t c[4], float coverage)
{
    if (x < 0 || y < 0 || x >= width || y >= height)
        return;
    float a = c[3] / 255.0f * coverage;
    if (a <= 0)
        return;
    uint8_t *p = rgba + ((size_t)y * width + x) * 4;
    for (int k = 0; k < 3; k++)
        p[k] = (uint8_t)lroundf(p[k] + (c[k] - p[k]) * a);
    p[3] = (uint8_t)lroundf(p[3] + (255 - p[3]) * a);
}

static void to_u8(const float in[4], uint8_t out[4])
{
    for (int k = 0; k < 4; k++) {
        float c = in[k] < 0 ? 0 : in[k] > 1 ? 1 : in[k];
        out[k] = (uint8_t)lroundf(c * 255.0f);
    }
}

/* One glyph's halo: max over the bitmap's pixels within radius of their
 * coverage, weighted by the soft edge (text_draw.c's dilate). */
static void draw_halo(const ct_glyph_bitmap *bm, int gx, int gy, float radius, const uint8_t c[4], uint8_t *rgba,
                      int width, int height)
{
    int k = (int)ceilf(radius) + 1;
    for (int y = -k; y < bm->rows + k; y++)
        for (int x = -k; x < bm->width + k; x++) {
            float best = 0;
            for (int dy = -k; dy <= k; dy++)
                for (int dx = -k; dx <= k; dx++) {
                    int sx = x + dx, sy = y + dy;
                    if (sx < 0 || sy < 0 || sx >= bm->width || sy >= bm->rows)
                        continue;
                    float wgt = radius + 1.0f - sqrtf((float)(dx * dx + dy * dy));
                    if (wgt <= 0)
                        continue;
                    float a = bm->pixels[(size_t)sy * bm->pitch + sx] / 255.0f * (wgt < 1 ? wgt : 1);
                    best = a > best ? a : best;
                }
            blend_px(rgba, width, height, gx + x, gy + y, c, best);
        }
}

void ct_text_draw_rgba(ct_font *font, const ct_text_line *line, float x, float y, const ct_text_style *style,
                       uint8_t *rgba, int width, int height)
{
    if (!font || !line || !rgba || width <= 0 || height <= 0)
        return;
    ct_text_style s = style ? *style : (ct_text_style){0};
    if (s.color[0] == 0 && s.color[1] == 0 && s.color[2] == 0 && s.color[3] == 0)
        s.color[0] = s.color[1] = s.color[2] = s.color[3] = 1;
    float halo = s.halo_px < 0 ? 0 : s.halo_px > 4 ? 4 : s.halo_px;
    halo = roundf(halo * 2) * 0.5f; /* half pixels, as the GL atlas keys them */
    uint8_t color[4], halo_color[4];
    to_u8(s.color, color);
    to_u8(s.halo_color, halo_color);
    int size = (int)lroundf(line->size_px);
    float bx = roundf(x), by = roundf(y);
    /* Every halo first, then the text: a glyph's halo never covers its
     * neighbour's strokes. */
    for (int pass = halo > 0 && halo_color[3] ? 0 : 1; pass < 2; pass++)
        for (uint32_t i = 0; i < line->glyph_count; i++) {
            ct_glyph_bitmap bm;
            if (!ct_font_render_glyph(font, line->glyphs[i].glyph, size, &bm) || !bm.width || !bm.rows ||
                bm.pitch < bm.width)
                continue;
            int gx = (int)(bx + roundf(line->glyphs[i].x)) + bm.left;
            int gy = (int)(by + roundf(line->glyphs[i].y)) - bm.top;
            if (gx + bm.width + 6 < 0 || gy + bm.rows + 6 < 0 || gx - 6 >= width || gy - 6 >= height)
                continue;
            if (pass == 0) {
                draw_halo(&bm, gx, gy, halo, halo_color, rgba, width, height);
                continue;
            }
            for (int r = 0; r < bm.rows; r++)
                for (int c = 0; c < bm.width; c++) {
                    uint8_t cov = bm.pixels[(size_t)r * bm.pitch + c];
                    if (cov)
                        blend_px(rgba, width, height, gx + c, gy + r, color, cov / 255.0f);
                }
        }
}
