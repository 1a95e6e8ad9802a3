/* The GL text renderer: a glyph atlas (one RG8 texture, shelf-packed, grown
 * on demand: R = the glyph's coverage, G = the coverage dilated by the halo
 * width, computed once per glyph, size and halo width), a queue of
 * screen-space quads, one draw per flush. The halo is precomputed because a
 * dilation in the fragment shader (dozens of samples per pixel) made text
 * the costliest thing llvmpipe drew. */
#include "ct_shaders_embedded.h"
#include "render_internal.h"
#include "text_internal.h"

#include <epoxy/gl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    ATLAS_W = 1024,
    ATLAS_H0 = 256,
    ATLAS_MAX = 4096,
    PAD = 5,                 /* texels around each glyph: room for its halo (<= 4 px) */
    WHITE = 1,               /* a 4x4 block of full coverage at (1, 1) for rectangles */
};

typedef struct tvert {
    float x, y, u, v;
    uint8_t color[4], halo[4];
    float halo_px;
} tvert;

typedef struct gentry {
    uint64_t key;            /* halo (1/2 px) << 40 | size << 20 | glyph; 0 = empty slot */
    int16_t x, y;            /* bitmap's top-left in the atlas */
    int16_t w, h;
    int16_t left, top;
} gentry;

typedef struct shelf {
    int y, h, x;
} shelf;

struct ct_text_renderer {
    ct_font *font;
    GLuint program, vao, vbo, tex;
    GLint u_viewport, u_atlas, u_atlas_texel;
    /* atlas */
    uint8_t *pixels;
    int height;
    int tex_height;          /* height of the texture storage now */
    int dirty_y0, dirty_y1;  /* rows to upload */
    shelf *shelves;
    int shelf_count, shelf_cap, next_y;
    gentry *map;
    uint32_t map_cap, glyphs;
    bool warned_full;
    /* queue */
    tvert *verts;
    size_t vert_count, vert_cap;
};

/* ---- GL program ---- */

static GLuint build_program(ct_error *err)
{
    return ct_gl_program_build("text", CT_SHADER_TEXT_VS, CT_SHADER_TEXT_FS, NULL, err);
}

/* ---- atlas ---- */

static void atlas_reset(ct_text_renderer *t)
{
    memset(t->pixels, 0, (size_t)ATLAS_W * 2 * t->height);
    for (int y = 0; y < 4; y++)
        memset(t->pixels + ((size_t)(WHITE + y) * ATLAS_W + WHITE) * 2, 255, 8);
    t->shelf_count = 0;
    t->next_y = WHITE + 4 + PAD;
    memset(t->map, 0, t->map_cap * sizeof *t->map);
    t->glyphs = 0;
    t->dirty_y0 = 0;
    t->dirty_y1 = t->height;
}

static bool map_grow(ct_text_renderer *t)
{
    uint32_t cap = t->map_cap * 2;
    gentry *m = calloc(cap, sizeof *m);
    if (!m)
        return false;
    for (uint32_t i = 0; i < t->map_cap; i++) {
        if (!t->map[i].key)
            continue;
        uint32_t h = (uint32_t)((t->map[i].key * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
        while (m[h].key)
            h = (h + 1) & (cap - 1);
        m[h] = t->map[i];
    }
    free(t->map);
    t->map = m;
    t->map_cap = cap;
    return true;
}

static gentry *map_slot(ct_text_renderer *t, uint64_t key)
{
    uint32_t h = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (t->map_cap - 1);
    while (t->map[h].key && t->map[h].key != key)
        h = (h + 1) & (t->map_cap - 1);
    return &t->map[h];
}

/* A place for a w x h block (padding included); false when the atlas is full. */
static bool atlas_alloc(ct_text_renderer *t, int w, int h, int *x, int *y)
{
    for (int i = 0; i < t->shelf_count; i++) {
        shelf *s = &t->shelves[i];
        if (h <= s->h && h * 4 >= s->h * 3 && s->x + w <= ATLAS_W) {
            *x = s->x;
            *y = s->y;
            s->x += w;
            return true;
        }
    }
    if (w > ATLAS_W)
        return false;
    while (t->next_y + h > t->height) {
        if (t->height >= ATLAS_MAX)
            return false;
        int nh = t->height * 2;
        uint8_t *p = realloc(t->pixels, (size_t)ATLAS_W * 2 * nh);
        if (!p)
            return false;
        memset(p + (size_t)ATLAS_W * 2 * t->height, 0, (size_t)ATLAS_W * 2 * (nh - t->height));
        t->pixels = p;
        t->height = nh;
        t->dirty_y0 = 0;
        t->dirty_y1 = nh;
    }
    if (t->shelf_count == t->shelf_cap) {
        int cap = t->shelf_cap ? t->shelf_cap * 2 : 16;
        shelf *s = realloc(t->shelves, (size_t)cap * sizeof *s);
        if (!s)
            return false;
        t->shelves = s;
        t->shelf_cap = cap;
    }
    t->shelves[t->shelf_count++] = (shelf){t->next_y, h, w};
    *x = 0;
    *y = t->next_y;
    t->next_y += h;
    return true;
}

/* G = max over texels within radius of the coverage R, weighted by a
 * one-pixel soft edge: the halo's shape. */
static void dilate(ct_text_renderer *t, int x0, int y0, int w, int h, float radius)
{
    int k = (int)ceilf(radius) + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float best = 0;
            for (int dy = -k; dy <= k; dy++)
                for (int dx = -k; dx <= k; dx++) {
                    int sx = x + dx, sy = y + dy;
                    if (sx < 0 || sy < 0 || sx >= w || sy >= h)
                        continue;
                    float wgt = radius + 1.0f - sqrtf((float)(dx * dx + dy * dy));
                    if (wgt <= 0)
                        continue;
                    float a = t->pixels[((size_t)(y0 + sy) * ATLAS_W + x0 + sx) * 2] / 255.0f * (wgt < 1 ? wgt : 1);
                    best = a > best ? a : best;
                }
            t->pixels[((size_t)(y0 + y) * ATLAS_W + x0 + x) * 2 + 1] = (uint8_t)lroundf(best * 255.0f);
        }
}

/* The glyph's atlas entry, rasterising it on first use; NULL when it cannot
 * be placed (drawn as nothing). */
static const gentry *glyph_entry(ct_text_renderer *t, uint32_t glyph, int size, int halo2)
{
    if (glyph >= (1u << 20) || size <= 0 || size > 2047)
        return NULL;
    uint64_t key = ((uint64_t)halo2 << 40) | ((uint64_t)size << 20) | glyph;
    gentry *e = map_slot(t, key);
    if (e->key)
        return e;
    if ((t->glyphs + 1) * 2 > t->map_cap) {
        if (!map_grow(t))
            return NULL;
        e = map_slot(t, key);
    }
    ct_glyph_bitmap bm;
    if (!ct_font_render_glyph(t->font, glyph, size, &bm) || bm.pitch < bm.width || bm.width > ATLAS_W - 2 * PAD ||
        bm.rows > ATLAS_MAX / 2)
        bm.width = bm.rows = 0; /* remembered as empty (space, or a glyph FreeType cannot render) */
    int x = 0, y = 0;
    if (bm.width && bm.rows && !atlas_alloc(t, bm.width + 2 * PAD, bm.rows + 2 * PAD, &x, &y)) {
        if (!t->warned_full)
            ct_log(CT_LOG_WARN, "text: glyph atlas full (%dx%d); starting it again", ATLAS_W, t->height);
        t->warned_full = true;
        atlas_reset(t);
        e = map_slot(t, key);
        if (!atlas_alloc(t, bm.width + 2 * PAD, bm.rows + 2 * PAD, &x, &y))
            return NULL;
    }
    for (int r = 0; r < bm.rows; r++)
        for (int c = 0; c < bm.width; c++)
            t->pixels[((size_t)(y + PAD + r) * ATLAS_W + x + PAD + c) * 2] = bm.pixels[(size_t)r * bm.pitch + c];
    if (bm.rows && halo2)
        dilate(t, x, y, bm.width + 2 * PAD, bm.rows + 2 * PAD, halo2 * 0.5f);
    if (bm.rows) {
        if (t->dirty_y0 >= t->dirty_y1)
            t->dirty_y0 = y, t->dirty_y1 = y + bm.rows + 2 * PAD;
        t->dirty_y0 = y < t->dirty_y0 ? y : t->dirty_y0;
        t->dirty_y1 = y + bm.rows + 2 * PAD > t->dirty_y1 ? y + bm.rows + 2 * PAD : t->dirty_y1;
    }
    *e = (gentry){key, (int16_t)(x + PAD), (int16_t)(y + PAD), (int16_t)bm.width, (int16_t)bm.rows, (int16_t)bm.left,
                  (int16_t)bm.top};
    t->glyphs++;
    return e;
}

/* ---- create / destroy ---- */

ct_status ct_text_renderer_create(ct_font *font, ct_text_renderer **out, ct_error *err)
{
    *out = NULL;
    ct_text_renderer *t = calloc(1, sizeof *t);
    if (!t)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    t->font = font;
    t->height = ATLAS_H0;
    t->map_cap = 256;
    t->pixels = calloc((size_t)ATLAS_W * 2, ATLAS_H0);
    t->map = calloc(t->map_cap, sizeof *t->map);
    if (!t->pixels || !t->map) {
        ct_text_renderer_destroy(t);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    atlas_reset(t);
    t->program = build_program(err);
    if (!t->program) {
        ct_text_renderer_destroy(t);
        return CT_ERR_RUNTIME;
    }
    t->u_viewport = glGetUniformLocation(t->program, "u_viewport");
    t->u_atlas = glGetUniformLocation(t->program, "u_atlas");
    t->u_atlas_texel = glGetUniformLocation(t->program, "u_atlas_texel");
    glGenVertexArrays(1, &t->vao);
    glGenBuffers(1, &t->vbo);
    glBindVertexArray(t->vao);
    glBindBuffer(GL_ARRAY_BUFFER, t->vbo);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, sizeof(tvert), (void *)offsetof(tvert, x));
    glEnableVertexAttribArray(1);
    glVertexAttribPointer(1, 2, GL_FLOAT, GL_FALSE, sizeof(tvert), (void *)offsetof(tvert, u));
    glEnableVertexAttribArray(2);
    glVertexAttribPointer(2, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(tvert), (void *)offsetof(tvert, color));
    glEnableVertexAttribArray(3);
    glVertexAttribPointer(3, 4, GL_UNSIGNED_BYTE, GL_TRUE, sizeof(tvert), (void *)offsetof(tvert, halo));
    glEnableVertexAttribArray(4);
    glVertexAttribPointer(4, 1, GL_FLOAT, GL_FALSE, sizeof(tvert), (void *)offsetof(tvert, halo_px));
    glBindVertexArray(0);
    glGenTextures(1, &t->tex);
    glBindTexture(GL_TEXTURE_2D, t->tex);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    *out = t;
    return CT_OK;
}

void ct_text_renderer_destroy(ct_text_renderer *t)
{
    if (!t)
        return;
    if (t->program)
        glDeleteProgram(t->program);
    if (t->vao)
        glDeleteVertexArrays(1, &t->vao);
    if (t->vbo)
        glDeleteBuffers(1, &t->vbo);
    if (t->tex)
        glDeleteTextures(1, &t->tex);
    free(t->pixels);
    free(t->shelves);
    free(t->map);
    free(t->verts);
    free(t);
}

void ct_text_renderer_atlas_size(const ct_text_renderer *t, int *width, int *height)
{
    *width = ATLAS_W;
    *height = t->height;
}

uint32_t ct_text_renderer_glyph_count(const ct_text_renderer *t) { return t->glyphs; }

/* ---- queue ---- */

static void to_u8(const float in[4], uint8_t out[4])
{
    for (int k = 0; k < 4; k++) {
        float c = in[k] < 0 ? 0 : in[k] > 1 ? 1 : in[k];
        out[k] = (uint8_t)lroundf(c * 255.0f);
    }
}

static void push_quad(ct_text_renderer *t, float x0, float y0, float x1, float y1, float u0, float v0, float u1,
                      float v1, const uint8_t color[4], const uint8_t halo[4], float halo_px)
{
    if (t->vert_count + 6 > t->vert_cap) {
        size_t cap = t->vert_cap ? t->vert_cap * 2 : 1536;
        tvert *n = realloc(t->verts, cap * sizeof *n);
        if (!n)
            return;
        t->verts = n;
        t->vert_cap = cap;
    }
    tvert c[4] = {{x0, y0, u0, v0, {0}, {0}, halo_px}, {x1, y0, u1, v0, {0}, {0}, halo_px},
                  {x1, y1, u1, v1, {0}, {0}, halo_px}, {x0, y1, u0, v1, {0}, {0}, halo_px}};
    static const int order[6] = {0, 1, 2, 0, 2, 3};
    for (int i = 0; i < 6; i++) {
        tvert *v = &t->verts[t->vert_count++];
        *v = c[order[i]];
        memcpy(v->color, color, 4);
        memcpy(v->halo, halo, 4);
    }
}

void ct_text_renderer_add(ct_text_renderer *t, const ct_text_line *line, float x, float y, const ct_text_style *style)
{
    ct_text_style s = style ? *style : (ct_text_style){0};
    if (s.color[0] == 0 && s.color[1] == 0 && s.color[2] == 0 && s.color[3] == 0)
        s.color[0] = s.color[1] = s.color[2] = s.color[3] = 1;
    float halo = s.halo_px < 0 ? 0 : s.halo_px > 4 ? 4 : s.halo_px;
    uint8_t color[4], halo_color[4];
    to_u8(s.color, color);
    to_u8(s.halo_color, halo_color);
    if (halo <= 0)
        halo_color[3] = 0;
    int size = (int)lroundf(line->size_px), halo2 = (int)lroundf(halo * 2);
    /* Whole pixels: glyph bitmaps drawn 1:1 stay sharp. */
    float bx = roundf(x), by = roundf(y), grow = halo > 0 ? ceilf(halo) + 1 : 0;
    for (uint32_t i = 0; i < line->glyph_count; i++) {
        const gentry *e = glyph_entry(t, line->glyphs[i].glyph, size, halo2);
        if (!e || !e->w || !e->h)
            continue;
        float gx = bx + roundf(line->glyphs[i].x) + e->left, gy = by + roundf(line->glyphs[i].y) - e->top;
        push_quad(t, gx - grow, gy - grow, gx + e->w + grow, gy + e->h + grow, e->x - grow, e->y - grow,
                  e->x + e->w + grow, e->y + e->h + grow, color, halo_color, halo);
    }
}

void ct_text_renderer_add_rect(ct_text_renderer *t, float x, float y, float w, float h, const float color[4])
{
    uint8_t c[4], none[4] = {0, 0, 0, 0};
    to_u8(color, c);
    float u = WHITE + 2.0f; /* the middle of the white block: full coverage */
    push_quad(t, x, y, x + w, y + h, u, u, u, u, c, none, 0);
}

void ct_text_renderer_flush(ct_text_renderer *t, int width, int height)
{
    if (!t->vert_count || width <= 0 || height <= 0) {
        t->vert_count = 0;
        return;
    }
    glActiveTexture(GL_TEXTURE0);
    glBindTexture(GL_TEXTURE_2D, t->tex);
    glBindSampler(0, 0); /* models leave their samplers bound */
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    if (t->tex_height != t->height) {
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RG8, ATLAS_W, t->height, 0, GL_RG, GL_UNSIGNED_BYTE, t->pixels);
        t->tex_height = t->height;
    } else if (t->dirty_y0 < t->dirty_y1) {
        glTexSubImage2D(GL_TEXTURE_2D, 0, 0, t->dirty_y0, ATLAS_W, t->dirty_y1 - t->dirty_y0, GL_RG, GL_UNSIGNED_BYTE,
                        t->pixels + (size_t)t->dirty_y0 * ATLAS_W * 2);
    }
    t->dirty_y0 = t->dirty_y1 = 0;
    glUseProgram(t->program);
    glUniform2f(t->u_viewport, (float)width, (float)height);
    glUniform1i(t->u_atlas, 0);
    glUniform2f(t->u_atlas_texel, 1.0f / ATLAS_W, 1.0f / (float)t->height);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_CULL_FACE);
    glEnable(GL_BLEND);
    glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
    /* Text writes color only: a second attachment (the renderer's pick ids)
     * would otherwise get undefined values under the glyphs. */
    GLint db[2] = {GL_NONE, GL_NONE};
    glGetIntegerv(GL_DRAW_BUFFER0, &db[0]);
    glGetIntegerv(GL_DRAW_BUFFER1, &db[1]);
    if (db[1] != GL_NONE) {
        GLenum one = (GLenum)db[0];
        glDrawBuffers(1, &one);
    }
    glBindVertexArray(t->vao);
    glBindBuffer(GL_ARRAY_BUFFER, t->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)(t->vert_count * sizeof(tvert)), t->verts, GL_STREAM_DRAW);
    glDrawArrays(GL_TRIANGLES, 0, (GLsizei)t->vert_count);
    glBindVertexArray(0);
    if (db[1] != GL_NONE) {
        GLenum both[2] = {(GLenum)db[0], (GLenum)db[1]};
        glDrawBuffers(2, both);
    }
    glDisable(GL_BLEND);
    t->vert_count = 0;
}
