/* Fonts (FreeType faces) and shaping (HarfBuzz). No GL here: shaping and
 * glyph rasterisation are testable without a context. */
#include "text_internal.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <hb-ft.h>
#include <hb.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ct_font {
    FT_Library lib;
    FT_Face face;
    hb_font_t *hb;
    int size_px;             /* size the face is set to now (0 = none yet) */
    char *path;
    char *family;
};

/* FreeType's error names are compiled out of Debian's build; a few by hand. */
static const char *ft_error_text(FT_Error e)
{
    switch (e) {
    case FT_Err_Cannot_Open_Resource: return "cannot open the file";
    case FT_Err_Unknown_File_Format: return "not a font file FreeType knows";
    case FT_Err_Invalid_File_Format: return "broken font file";
    case FT_Err_Invalid_Argument: return "invalid argument (face index?)";
    case FT_Err_Out_Of_Memory: return "out of memory";
    default: return "FreeType error";
    }
}

static bool set_size(ct_font *f, int size_px)
{
    if (f->size_px == size_px)
        return true;
    if (FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)size_px))
        return false;
    hb_ft_font_changed(f->hb);
    f->size_px = size_px;
    return true;
}

ct_status ct_font_create(const ct_font_desc *desc, ct_font **out, ct_error *err)
{
    *out = NULL;
    ct_font_desc d = desc ? *desc : (ct_font_desc){0};
    const char *path = d.path && *d.path ? d.path : getenv("CT_FONT");
    if (!path || !*path)
        path = CT_FONT_DEFAULT_PATH;
    bool want_default = !d.family || !*d.family;
    const char *family = want_default ? CT_FONT_DEFAULT_FAMILY : d.family;
    ct_font *f = calloc(1, sizeof *f);
    if (!f)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    FT_Error e = FT_Init_FreeType(&f->lib);
    if (e) {
        free(f);
        return ct_error_set(err, CT_ERR_RUNTIME, "font: FreeType init failed (%d)", e);
    }
    e = FT_New_Face(f->lib, path, 0, &f->face);
    if (e) {
        ct_font_destroy(f);
        return ct_error_set(err, CT_ERR_INPUT, "font %s: %s (install fonts-noto-cjk or set CT_FONT)", path,
                            ft_error_text(e));
    }
    /* A collection (.ttc): the face of the wanted family. */
    long faces = f->face->num_faces, chosen = -1;
    for (long i = 0; i < faces && chosen < 0; i++) {
        FT_Face face = f->face;
        if (i > 0 && FT_New_Face(f->lib, path, i, &face))
            continue;
        if (face->family_name && !strcmp(face->family_name, family))
            chosen = i;
        if (i > 0)
            FT_Done_Face(face);
    }
    if (chosen < 0 && !want_default) {
        ct_error_set(err, CT_ERR_INPUT, "font %s: no face of family '%s' (first: '%s')", path, family,
                     f->face->family_name ? f->face->family_name : "?");
        ct_font_destroy(f);
        return CT_ERR_INPUT;
    }
    if (chosen > 0) {
        FT_Done_Face(f->face);
        f->face = NULL;
        if ((e = FT_New_Face(f->lib, path, chosen, &f->face))) {
            ct_font_destroy(f);
            return ct_error_set(err, CT_ERR_INPUT, "font %s: face %ld: %s", path, chosen, ft_error_text(e));
        }
    }
    if (!FT_IS_SCALABLE(f->face)) {
        ct_font_destroy(f);
        return ct_error_set(err, CT_ERR_INPUT, "font %s: not a scalable (outline) font", path);
    }
    f->hb = hb_ft_font_create_referenced(f->face);
    f->path = ct_strdup(path);
    f->family = ct_strdup(f->face->family_name ? f->face->family_name : "");
    if (!f->hb || !f->path || !f->family) {
        ct_font_destroy(f);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    /* Unhinted advances: positions scale exactly with the size. */
    hb_ft_font_set_load_flags(f->hb, FT_LOAD_DEFAULT | FT_LOAD_NO_HINTING);
    *out = f;
    return CT_OK;
}

void ct_font_destroy(ct_font *f)
{
    if (!f)
        return;
    if (f->hb)
        hb_font_destroy(f->hb); /* drops its reference to the face */
    if (f->face)
        FT_Done_Face(f->face);
    if (f->lib)
        FT_Done_FreeType(f->lib);
    free(f->path);
    free(f->family);
    free(f);
}

const char *ct_font_family(const ct_font *f) { return f->family; }
const char *ct_font_path(const ct_font *f) { return f->path; }

ct_status ct_font_shape(ct_font *f, const char *utf8, float size_px, ct_text_line *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    int size = size_px > 0 ? (int)lroundf(fminf(size_px, 512.0f)) : 16;
    if (size < 1)
        size = 1;
    if (!set_size(f, size))
        return ct_error_set(err, CT_ERR_RUNTIME, "font %s: cannot set size %d px", f->path, size);
    out->size_px = (float)size;
    out->ascent = (float)f->face->size->metrics.ascender / 64.0f;
    out->descent = (float)-f->face->size->metrics.descender / 64.0f;
    if (!utf8 || !*utf8)
        return CT_OK;
    hb_buffer_t *buf = hb_buffer_create();
    if (!hb_buffer_allocation_successful(buf)) {
        hb_buffer_destroy(buf);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    size_t len = strlen(utf8);
    hb_buffer_add_utf8(buf, utf8, len > INT32_MAX ? INT32_MAX : (int)len, 0, -1);
    hb_buffer_guess_segment_properties(buf);
    /* Not the process locale: the same glyphs everywhere, Chinese forms for
     * the city's text (Han characters shared with Japanese differ). */
    hb_buffer_set_language(buf, hb_language_from_string("zh-Hans", -1));
    hb_shape(f->hb, buf, NULL, 0);
    unsigned n = 0;
    hb_glyph_info_t *info = hb_buffer_get_glyph_infos(buf, &n);
    hb_glyph_position_t *pos = hb_buffer_get_glyph_positions(buf, NULL);
    if (n) {
        out->glyphs = ct_malloc_array(n, sizeof *out->glyphs);
        if (!out->glyphs) {
            hb_buffer_destroy(buf);
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
    }
    double pen_x = 0, pen_y = 0;
    for (unsigned i = 0; i < n; i++) {
        out->glyphs[i].glyph = info[i].codepoint; /* after shaping: the glyph index */
        out->glyphs[i].cluster = info[i].cluster;
        out->glyphs[i].x = (float)((pen_x + pos[i].x_offset) / 64.0);
        out->glyphs[i].y = (float)((pen_y - pos[i].y_offset) / 64.0); /* HarfBuzz y is up */
        pen_x += pos[i].x_advance;
        pen_y -= pos[i].y_advance;
    }
    out->glyph_count = n;
    out->width = (float)(pen_x / 64.0);
    hb_buffer_destroy(buf);
    return CT_OK;
}

void ct_text_line_free(ct_text_line *line)
{
    if (!line)
        return;
    free(line->glyphs);
    memset(line, 0, sizeof *line);
}

bool ct_font_render_glyph(ct_font *f, uint32_t glyph, int size_px, ct_glyph_bitmap *out)
{
    memset(out, 0, sizeof *out);
    if (!set_size(f, size_px))
        return false;
    if (FT_Load_Glyph(f->face, glyph, FT_LOAD_DEFAULT) || FT_Render_Glyph(f->face->glyph, FT_RENDER_MODE_NORMAL))
        return false;
    const FT_Bitmap *bm = &f->face->glyph->bitmap;
    if (bm->pixel_mode != FT_PIXEL_MODE_GRAY)
        return false;
    out->pixels = bm->buffer;
    out->width = (int)bm->width;
    out->rows = (int)bm->rows;
    out->pitch = bm->pitch;
    out->left = f->face->glyph->bitmap_left;
    out->top = f->face->glyph->bitmap_top;
    return true;
}
