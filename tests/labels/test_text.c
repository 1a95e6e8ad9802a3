/* The text module: shaping checked against FreeType directly (glyph indices
 * and advances read from the face without HarfBuzz), a full-width
 * ideograph's advance of exactly one em (by the font's design), missing fonts
 * and faces reported by name, bad UTF-8 survived, glyphs drawn by the GL
 * text renderer landing inside the box shaping predicts, and CPU drawing
 * equal to FreeType's own rendering. */
#include "citytwin/ct_render.h"
#include "citytwin/ct_text.h"
#include "ct_test.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool have_font(void)
{
    FILE *f = fopen(CT_FONT_DEFAULT_PATH, "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* Sum of FreeType's unhinted advances (px) of the code points of s at size
 * px in face `index` of the default font; glyph indices into idx. */
static double ft_advance(const uint32_t *cps, int n, int size, uint32_t *idx)
{
    FT_Library lib;
    FT_Face face;
    if (FT_Init_FreeType(&lib))
        return NAN;
    if (FT_New_Face(lib, CT_FONT_DEFAULT_PATH, 2, &face)) { /* face 2 of the collection: Noto Sans CJK SC (fc-scan) */
        FT_Done_FreeType(lib);
        return NAN;
    }
    FT_Set_Pixel_Sizes(face, 0, (FT_UInt)size);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        idx[i] = FT_Get_Char_Index(face, cps[i]);
        if (FT_Load_Glyph(face, idx[i], FT_LOAD_NO_HINTING))
            sum = NAN;
        sum += face->glyph->advance.x / 64.0;
    }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    return sum;
}

CT_TEST(test_text_default_font)
{
    if (!have_font())
        exit(77);
    ct_font *f = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_font_create(NULL, &f, &err) == CT_OK);
    CT_CHECK(!strcmp(ct_font_family(f), "Noto Sans CJK SC"));
    CT_CHECK(!strcmp(ct_font_path(f), CT_FONT_DEFAULT_PATH));
    ct_font_destroy(f);
}

CT_TEST(test_text_shape_cjk)
{
    if (!have_font())
        exit(77);
    ct_font *f = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_font_create(NULL, &f, &err) == CT_OK);
    ct_text_line line;
    CT_REQUIRE(ct_font_shape(f, "消防站", 32, &line, &err) == CT_OK);
    uint32_t cps[3] = {0x6D88, 0x9632, 0x7AD9}, idx[3];
    double adv = ft_advance(cps, 3, 32, idx);
    CT_CHECK_EQ_INT(line.glyph_count, 3);
    /* ideographs are one em wide: 3 x 32 px */
    CT_CHECK_NEAR(line.width, 96.0, 1e-3);
    CT_CHECK_NEAR(line.width, adv, 1e-3);
    for (int i = 0; i < 3 && i < (int)line.glyph_count; i++) {
        CT_CHECK(line.glyphs[i].glyph == idx[i] && idx[i] != 0);
        CT_CHECK_NEAR(line.glyphs[i].x, 32.0 * i, 1e-3);
        CT_CHECK_EQ_INT(line.glyphs[i].cluster, 3 * i); /* 3 UTF-8 bytes each */
    }
    CT_CHECK(line.ascent > 20 && line.descent > 2 && line.ascent + line.descent < 64);
    ct_text_line_free(&line);
    ct_font_destroy(f);
}

CT_TEST(test_text_shape_latin)
{
    if (!have_font())
        exit(77);
    ct_font *f = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_font_create(NULL, &f, &err) == CT_OK);
    const char *s = "Pump 12"; /* no kerning pair in it */
    ct_text_line line;
    CT_REQUIRE(ct_font_shape(f, s, 20, &line, &err) == CT_OK);
    uint32_t cps[16], idx[16];
    int n = (int)strlen(s);
    for (int i = 0; i < n; i++)
        cps[i] = (uint32_t)s[i];
    double adv = ft_advance(cps, n, 20, idx);
    CT_CHECK_EQ_INT(line.glyph_count, n);
    CT_CHECK_NEAR(line.width, adv, 0.05);
    for (int i = 0; i < n && i < (int)line.glyph_count; i++)
        CT_CHECK(line.glyphs[i].glyph == idx[i]);
    ct_text_line_free(&line);
    /* GPOS kerning is applied: "ra" is tighter than r and a side by side */
    uint32_t hy[2] = {'r', 'a'};
    CT_REQUIRE(ct_font_shape(f, "ra", 20, &line, &err) == CT_OK);
    CT_CHECK(line.width < ft_advance(hy, 2, 20, idx) - 0.1);
    ct_text_line_free(&line);
    /* empty text: no glyphs, still the metrics */
    CT_REQUIRE(ct_font_shape(f, "", 20, &line, &err) == CT_OK);
    CT_CHECK_EQ_INT(line.glyph_count, 0);
    CT_CHECK(line.width == 0 && line.ascent > 0);
    ct_text_line_free(&line);
    ct_font_destroy(f);
}

CT_TEST(test_text_bad_input)
{
    ct_font *f = NULL;
    ct_error err = {0};
    ct_font_desc d = {.path = "/nonexistent/fonts/NoSuchFont.ttf"};
    CT_CHECK(ct_font_create(&d, &f, &err) == CT_ERR_INPUT);
    CT_CHECK(f == NULL);
    CT_CHECK(strstr(err.msg, "/nonexistent/fonts/NoSuchFont.ttf") != NULL);
    /* a file that is not a font */
    d.path = CT_SOURCE_DIR "/README.md";
    CT_CHECK(ct_font_create(&d, &f, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "README.md") != NULL);
    if (!have_font())
        exit(77);
    ct_font_desc fam = {.family = "No Such Family"};
    CT_CHECK(ct_font_create(&fam, &f, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "No Such Family") != NULL);
    /* a named face of the collection */
    fam.family = "Noto Sans CJK JP";
    CT_REQUIRE(ct_font_create(&fam, &f, &err) == CT_OK);
    CT_CHECK(!strcmp(ct_font_family(f), "Noto Sans CJK JP"));
    /* invalid UTF-8 becomes replacement glyphs, never a crash */
    ct_text_line line;
    CT_REQUIRE(ct_font_shape(f, "\xff\xfe\xc3(abc\xe6\xb6", 16, &line, &err) == CT_OK);
    CT_CHECK(line.glyph_count >= 4);
    ct_text_line_free(&line);
    ct_font_destroy(f);
}

/* White text on black: every lit pixel inside the box shaping predicts, and
 * every glyph visibly drawn. */
CT_TEST(test_text_renderer_draws_in_box)
{
    if (!have_font())
        exit(77);
    enum { W = 256, H = 96 };
    ct_render_context *ctx = NULL;
    ct_renderer *r = NULL;
    ct_error err = {0};
    ct_render_context_desc cd = {.width = W, .height = H};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK) {
        fprintf(stderr, "no GL: %s\n", err.msg);
        exit(77);
    }
    CT_REQUIRE(ct_renderer_create(ctx, &(ct_renderer_desc){.msaa = 1}, &r, &err) == CT_OK);
    ct_font *f = NULL;
    ct_text_renderer *t = NULL;
    CT_REQUIRE(ct_font_create(NULL, &f, &err) == CT_OK);
    CT_REQUIRE(ct_text_renderer_create(f, &t, &err) == CT_OK);
    ct_text_line line;
    CT_REQUIRE(ct_font_shape(f, "消防站 Fire", 32, &line, &err) == CT_OK);
    ct_camera cam;
    ct_camera_init(&cam);
    ct_render_frame_desc fd = {.camera = &cam, .width = W, .height = H, .has_background = true};
    ct_renderer_begin_frame(r, &fd);
    ct_renderer_end_frame(r);
    const float x0 = 20, base = 60;
    ct_text_renderer_add(t, &line, x0, base, &(ct_text_style){0});
    ct_text_renderer_flush(t, W, H);
    uint8_t *px = malloc(W * H * 4);
    CT_REQUIRE(ct_renderer_read_pixels(r, px, &err) == CT_OK);
    int inside = 0, outside = 0, cols_lit[W] = {0};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            bool lit = px[(y * W + x) * 4] > 128;
            bool in = x >= x0 - 1 && x <= x0 + line.width + 1 && y >= base - line.ascent - 1 && y <= base + line.descent + 1;
            inside += lit && in;
            outside += lit && !in;
            if (lit)
                cols_lit[x] = 1;
        }
    CT_CHECK(outside == 0);
    CT_CHECK(inside > 300);
    /* each ideograph (32 px cells from x0) has ink */
    for (int g = 0; g < 3; g++) {
        int any = 0;
        for (int x = (int)x0 + 32 * g + 2; x < (int)x0 + 32 * g + 30; x++)
            any |= cols_lit[x];
        CT_CHECK(any);
    }
    /* 8 glyphs, the space has no bitmap but is remembered */
    CT_CHECK_EQ_INT(ct_text_renderer_glyph_count(t), 8);
    /* the atlas grows: 300 distinct ideographs at 48 px do not fit 1024 x 256 */
    char big[300 * 3 + 1];
    for (int i = 0; i < 300; i++) {
        uint32_t cp = 0x4E00 + (uint32_t)i;
        big[3 * i] = (char)(0xE0 | (cp >> 12));
        big[3 * i + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        big[3 * i + 2] = (char)(0x80 | (cp & 0x3F));
    }
    big[900] = 0;
    ct_text_line l2;
    CT_REQUIRE(ct_font_shape(f, big, 48, &l2, &err) == CT_OK);
    ct_text_renderer_add(t, &l2, 0, 40, NULL);
    ct_text_renderer_flush(t, W, H);
    int aw, ah;
    ct_text_renderer_atlas_size(t, &aw, &ah);
    CT_CHECK(aw == 1024 && ah > 256);
    CT_CHECK(ct_text_renderer_glyph_count(t) >= 300);
    ct_text_line_free(&l2);
    ct_text_line_free(&line);
    free(px);
    ct_text_renderer_destroy(t);
    ct_font_destroy(f);
    ct_renderer_destroy(r);
    ct_render_context_destroy(ctx);
}

/* CPU drawing (the --report map's labels): white text on black equals the
 * coverage FreeType renders for the glyph itself; a halo colours the pixels
 * next to the ink and leaves those farther than its width alone. */
CT_TEST(test_text_draw_rgba)
{
    if (!have_font())
        exit(77);
    enum { W = 64, H = 64, SIZE = 32, BX = 10, BY = 44 };
    ct_font *f = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_font_create(NULL, &f, &err) == CT_OK);
    ct_text_line line;
    CT_REQUIRE(ct_font_shape(f, "消", SIZE, &line, &err) == CT_OK);
    CT_REQUIRE(line.glyph_count == 1);
    static uint8_t img[W * H * 4], halo_img[W * H * 4];
    for (int i = 0; i < W * H; i++)
        img[4 * i + 3] = halo_img[4 * i + 3] = 255;
    ct_text_style plain = {.color = {1, 1, 1, 1}};
    ct_text_draw_rgba(f, &line, BX, BY, &plain, img, W, H);
    ct_text_style haloed = {.color = {1, 1, 1, 1}, .halo_color = {1, 0, 0, 1}, .halo_px = 2};
    ct_text_draw_rgba(f, &line, BX, BY, &haloed, halo_img, W, H);
    /* the reference: FreeType itself, hinted as the atlas renders */
    FT_Library lib;
    FT_Face face;
    CT_REQUIRE(!FT_Init_FreeType(&lib));
    CT_REQUIRE(!FT_New_Face(lib, CT_FONT_DEFAULT_PATH, 2, &face));
    FT_Set_Pixel_Sizes(face, 0, SIZE);
    CT_REQUIRE(!FT_Load_Glyph(face, FT_Get_Char_Index(face, 0x6D88), FT_LOAD_DEFAULT));
    CT_REQUIRE(!FT_Render_Glyph(face->glyph, FT_RENDER_MODE_NORMAL));
    const FT_Bitmap *bm = &face->glyph->bitmap;
    int gx = BX + face->glyph->bitmap_left, gy = BY - face->glyph->bitmap_top;
    static uint8_t ref[W * H];
    int ink = 0;
    for (int r = 0; r < (int)bm->rows; r++)
        for (int c = 0; c < (int)bm->width; c++)
            if (gx + c >= 0 && gy + r >= 0 && gx + c < W && gy + r < H) {
                ref[(gy + r) * W + gx + c] = bm->buffer[r * bm->pitch + c];
                ink += bm->buffer[r * bm->pitch + c] > 0;
            }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    int diff = 0, halo_near = 0, near = 0, far_touched = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = &img[(y * W + x) * 4], *q = &halo_img[(y * W + x) * 4];
            diff += abs(p[0] - ref[y * W + x]) > 1 || p[1] != p[0] || p[2] != p[0];
            /* distance to the nearest fully covered pixel */
            int d2 = 1 << 20;
            for (int yy = 0; yy < H; yy++)
                for (int xx = 0; xx < W; xx++)
                    if (ref[yy * W + xx] == 255 && (xx - x) * (xx - x) + (yy - y) * (yy - y) < d2)
                        d2 = (xx - x) * (xx - x) + (yy - y) * (yy - y);
            bool any_ink = ref[y * W + x] > 0;
            if (!any_ink && d2 == 1) { /* next to full ink: all halo */
                near++;
                halo_near += q[0] > 240 && q[1] < 15 && q[2] < 15;
            }
            if (d2 > 36 && (q[0] || q[1] || q[2])) /* > 6 px from any full ink: untouched */
                far_touched++;
        }
    fprintf(stderr, "消 at %d px: %d ink pixels, %d differ from FreeType; halo: %d of %d next to the ink, %d far\n",
            SIZE, ink, diff, halo_near, near, far_touched);
    CT_CHECK(ink > 100);
    CT_CHECK_EQ_INT(diff, 0);
    CT_CHECK(near > 20);
    CT_CHECK_EQ_INT(halo_near, near);
    CT_CHECK_EQ_INT(far_touched, 0);
    ct_text_line_free(&line);
    ct_font_destroy(f);
}

CT_TEST_MAIN(CT_CASE(test_text_default_font), CT_CASE(test_text_shape_cjk), CT_CASE(test_text_shape_latin),
             CT_CASE(test_text_bad_input), CT_CASE(test_text_renderer_draws_in_box), CT_CASE(test_text_draw_rgba))
