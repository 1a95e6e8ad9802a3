/* Text: a font (FreeType face), UTF-8 strings shaped with HarfBuzz into
 * positioned glyphs, and a GL text renderer that rasterises glyphs with
 * FreeType into a glyph atlas (grown on demand) and draws screen-space text
 * with an optional halo (outline) for legibility, or the same text on the CPU
 * into an RGBA image. Used by vector layer labels, the viewer's statistics
 * overlay and the --report map's labels.
 *
 * The default font is Noto Sans CJK SC (Debian fonts-noto-cjk), so Chinese
 * and Latin text both render; no fontconfig lookup. A missing or unreadable
 * font is a CT_ERR_INPUT naming the path; callers then skip their text with
 * one log line.
 *
 * Fonts and shaping need no GL. A ct_text_renderer needs the GL context that
 * is current when it is created (GL calls on that thread only). Pixel
 * coordinates have their origin at the top-left of the viewport, y down. */
#ifndef CT_TEXT_H
#define CT_TEXT_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CT_FONT_DEFAULT_PATH "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
#define CT_FONT_DEFAULT_FAMILY "Noto Sans CJK SC"

typedef struct ct_font ct_font;

typedef struct ct_font_desc {
    const char *path;     /* font file (TTF, OTF, TTC); NULL or "" = $CT_FONT when set, else CT_FONT_DEFAULT_PATH */
    const char *family;   /* face of a collection by family name; NULL = CT_FONT_DEFAULT_FAMILY when the
                             file has it, else the first face */
} ct_font_desc;

ct_status ct_font_create(const ct_font_desc *desc, ct_font **out, ct_error *err);
void ct_font_destroy(ct_font *f);
/* The chosen face's family name ("Noto Sans CJK SC"). */
const char *ct_font_family(const ct_font *f);
/* The file the font was read from. */
const char *ct_font_path(const ct_font *f);

typedef struct ct_text_glyph {
    uint32_t glyph;       /* glyph index in the face */
    float x, y;           /* glyph origin relative to the line's pen start on the baseline, px (y down) */
    uint32_t cluster;     /* byte offset in the UTF-8 string */
} ct_text_glyph;

/* One shaped line of text at a pixel size. */
typedef struct ct_text_line {
    ct_text_glyph *glyphs;
    uint32_t glyph_count;
    float size_px;        /* the size it was shaped at (em height in pixels) */
    float width;          /* sum of advances, px */
    float ascent, descent;/* of the face at this size, px, both >= 0 */
} ct_text_line;

/* Shapes UTF-8 text (one line: newlines are shaped like other characters).
 * Invalid UTF-8 becomes U+FFFD; characters the face lacks become its .notdef
 * glyph. size_px <= 0 means 16. */
ct_status ct_font_shape(ct_font *f, const char *utf8, float size_px, ct_text_line *out, ct_error *err);
void ct_text_line_free(ct_text_line *line);

/* ---- drawing (GL) ---- */

typedef struct ct_text_renderer ct_text_renderer;

typedef struct ct_text_style {
    float color[4];       /* sRGB 0..1 with alpha; all zero = opaque white */
    float halo_color[4];  /* sRGB 0..1 with alpha */
    float halo_px;        /* halo (outline) width in pixels, 0 = none, at most 4 */
} ct_text_style;

/* The font is not owned and must outlive the renderer. Fails with
 * CT_ERR_RUNTIME when the shaders do not build. */
ct_status ct_text_renderer_create(ct_font *font, ct_text_renderer **out, ct_error *err);
void ct_text_renderer_destroy(ct_text_renderer *t);
/* Queues a shaped line whose baseline starts at pixel (x, y). Glyphs missing
 * from the atlas are rasterised now. */
void ct_text_renderer_add(ct_text_renderer *t, const ct_text_line *line, float x, float y, const ct_text_style *style);
/* Queues a filled rectangle (panels behind overlay text); color is sRGB with alpha. */
void ct_text_renderer_add_rect(ct_text_renderer *t, float x, float y, float w, float h, const float color[4]);
/* Draws everything queued, in order, blended over the framebuffer bound now
 * (viewport width x height pixels, no depth test), and empties the queue.
 * Leaves blending and depth testing disabled. */
void ct_text_renderer_flush(ct_text_renderer *t, int width, int height);
/* Atlas size in pixels (grows in height from 1024 x 256 up to 4096 x 4096). */
void ct_text_renderer_atlas_size(const ct_text_renderer *t, int *width, int *height);
/* Glyphs rasterised into the atlas so far. */
uint32_t ct_text_renderer_glyph_count(const ct_text_renderer *t);

/* ---- drawing on the CPU (no GL) ---- */

/* Draws a shaped line into an RGBA8 image (rows top to bottom, width x
 * height pixels) with its baseline starting at pixel (x, y), blended over
 * what is there: every glyph's halo first, then the text, with the GL text
 * renderer's glyphs and halo shape. Pixels outside the image are skipped.
 * Used by the --report map. */
void ct_text_draw_rgba(ct_font *font, const ct_text_line *line, float x, float y, const ct_text_style *style,
                       uint8_t *rgba, int width, int height);

#ifdef __cplusplus
}
#endif
#endif
