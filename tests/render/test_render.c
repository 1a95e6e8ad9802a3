/* Renderer tests on synthetic models: exact pixel colors, depth order,
 * blending order, culling, winding flips, picking, instancing, primitive
 * modes, MSAA, textures, reversed-Z and RTE precision far from the origin.
 * Expected values are computed by hand from the sRGB formula and geometry. */
#include "citytwin/ct_geo.h"
#include "citytwin/ct_render.h"
#include "ct_test.h"
#include <epoxy/gl.h>
#include "render_fixture.h"

#define W 64
#define H 64

static ct_render_context *ctx;

static ct_renderer *make_renderer(int msaa, bool picking)
{
    ct_renderer *r = NULL;
    ct_error err = {0};
    ct_renderer_desc d = {.msaa = msaa, .picking = picking};
    if (ct_renderer_create(ctx, &d, &r, &err) != CT_OK)
        fprintf(stderr, "renderer: %s\n", err.msg);
    return r;
}

/* Renders the model (world = identity) with the camera; img must hold W*H*4. */
static void render(ct_renderer *r, const ct_gltf *g, const ct_camera *cam, const double world[16], uint8_t *img)
{
    ct_render_model *m = NULL;
    ct_error err = {0};
    if (ct_render_model_create(r, g, NULL, &m, &err) != CT_OK) {
        fprintf(stderr, "model: %s\n", err.msg);
        return;
    }
    ct_render_frame_desc f = {.camera = cam, .width = W, .height = H};
    ct_renderer_begin_frame(r, &f);
    ct_render_draw_desc d = {.pick_id = 42};
    if (world)
        memcpy(d.world, world, sizeof d.world);
    ct_renderer_draw_model(r, m, &d);
    ct_renderer_end_frame(r);
    ct_renderer_read_pixels(r, img, &err);
    ct_render_model_destroy(m);
}

#define CHECK_RGB(p, R, G, B, tol)            \
    do {                                      \
        CT_CHECK_NEAR((p)[0], R, tol);        \
        CT_CHECK_NEAR((p)[1], G, tol);        \
        CT_CHECK_NEAR((p)[2], B, tol);        \
    } while (0)

CT_TEST(test_context)
{
    CT_REQUIRE(ctx != NULL);
    const char *name = ct_render_context_renderer(ctx);
    CT_CHECK(name && strlen(name) > 0);
    fprintf(stderr, "renderer: %s\n", name);
    ct_renderer *r = make_renderer(0, false);
    CT_REQUIRE(r != NULL);
    /* GL 4.5 (Mesa llvmpipe, NVIDIA) has glClipControl */
    if (epoxy_gl_version() >= 45)
        CT_CHECK(ct_renderer_reversed_z(r));
    ct_renderer_destroy(r);
}

CT_TEST(test_unlit_colors_and_background)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 1, true), -1);
    fx_add_quad(&m, 3, 0, 0, 1, fx_material(0.5f, 0.5f, 0.5f, 1, true), -1); /* right, off-centre */
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    render(r, &m.g, &cam, NULL, img);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), 255, 0, 0, 0);
    /* linear 0.5 is sRGB 187.5: the quad at x = 3 m, 10 m away: screen x = 32 + 32 * 3 / (10 tan 30) = 48.6 */
    CHECK_RGB(fx_px(img, W, 48, H / 2), fx_srgb255(0.5), fx_srgb255(0.5), fx_srgb255(0.5), 1.0);
    /* background default: sRGB (0.75, 0.82, 0.90) */
    CHECK_RGB(fx_px(img, W, 2, 2), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    CT_CHECK_EQ_INT(fx_px(img, W, 2, 2)[3], 255);
    /* the quad spans |x| <= 1 m: 32 +- 32 / (10 tan 30) = 32 +- 5.5 px */
    CHECK_RGB(fx_px(img, W, 32 + 4, H / 2), 255, 0, 0, 0);
    CHECK_RGB(fx_px(img, W, 32 + 7, H / 2), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    ct_renderer_destroy(r);
}

CT_TEST(test_lighting)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 2, fx_material(0.5f, 0.5f, 0.5f, 1, false), -1);
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    ct_render_model *mod;
    ct_error err;
    CT_REQUIRE(ct_render_model_create(r, &m.g, NULL, &mod, &err) == CT_OK);
    /* sun 60 degrees off the quad normal (0,-1,0): n.l = 0.5; colour = 0.5 * (0.35 + 0.8 * 0.5) = 0.375 */
    ct_render_frame_desc f = {.camera = &cam, .width = W, .height = H, .has_sun = true,
                              .sun_direction = {0, -0.5, sqrt(0.75)}, .sun_intensity = 0.8f, .ambient = 0.35f};
    ct_renderer_begin_frame(r, &f);
    ct_renderer_draw_model(r, mod, NULL);
    ct_renderer_end_frame(r);
    ct_renderer_read_pixels(r, img, &err);
    double e = fx_srgb255(0.375);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), e, e, e, 1.5);
    /* sun behind the quad: ambient only, 0.5 * 0.35 */
    f.sun_direction[1] = 1;
    f.sun_direction[2] = 0;
    ct_renderer_begin_frame(r, &f);
    ct_renderer_draw_model(r, mod, NULL);
    ct_renderer_end_frame(r);
    ct_renderer_read_pixels(r, img, &err);
    e = fx_srgb255(0.175);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), e, e, e, 1.5);
    ct_render_model_destroy(mod);
    ct_renderer_destroy(r);
}

CT_TEST(test_depth_order)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    for (int order = 0; order < 2; order++) {
        fx_model m;
        fx_init(&m);
        if (order == 0) {
            fx_add_quad(&m, 0, 5, 0, 2, fx_material(0, 1, 0, 1, true), -1); /* far, green */
            fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 1, true), -1); /* near, red */
        } else {
            fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 1, true), -1);
            fx_add_quad(&m, 0, 5, 0, 2, fx_material(0, 1, 0, 1, true), -1);
        }
        render(r, &m.g, &cam, NULL, img);
        CHECK_RGB(fx_px(img, W, W / 2, H / 2), 255, 0, 0, 0);
        /* the far quad is larger: 2 m at 15 m = 32 + 32*2/(15 tan30) = 39.4; near edge at 37.5 */
        CHECK_RGB(fx_px(img, W, 38, H / 2), 0, 255, 0, 0);
    }
    ct_renderer_destroy(r);
}

CT_TEST(test_blend_order)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    for (int order = 0; order < 2; order++) {
        fx_model m;
        fx_init(&m);
        /* opaque blue far; 50% green in the middle; 50% red nearest. Back to
         * front: (0,0,255) -> green over: (0,127.5,127.5) -> red over: (127.5,63.75,63.75) */
        fx_add_quad(&m, 0, 4, 0, 3, fx_material(0, 0, 1, 1, true), -1);
        if (order == 0) {
            fx_add_quad(&m, 0, 2, 0, 2, fx_material(0, 1, 0, 0.5f, true), -1);
            fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 0.5f, true), -1);
        } else {
            fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 0.5f, true), -1);
            fx_add_quad(&m, 0, 2, 0, 2, fx_material(0, 1, 0, 0.5f, true), -1);
        }
        render(r, &m.g, &cam, NULL, img);
        CHECK_RGB(fx_px(img, W, W / 2, H / 2), 127.5, 63.75, 63.75, 1.5);
    }
    ct_renderer_destroy(r);
}

CT_TEST(test_culling_and_winding)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    uint8_t img[W * H * 4];
    /* seen from behind (camera at +y looking -y) a single-sided quad is culled ... */
    ct_camera back = ct_camera_from_local(0, 10, 0, 180, 0, 0);
    back.near_m = 0.1;
    back.far_m = 100;
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 1, true), -1);
    render(r, &m.g, &back, NULL, img);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    /* ... a double-sided one is not */
    m.mats[0].double_sided = true;
    render(r, &m.g, &back, NULL, img);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), 255, 0, 0, 0);
    /* a mirroring transform (det < 0) flips the winding: front faces stay visible from the front */
    m.mats[0].double_sided = false;
    ct_camera front = fx_camera(10);
    double mirror[16] = {-1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    render(r, &m.g, &front, mirror, img);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), 255, 0, 0, 0);
    /* and are culled from behind */
    render(r, &m.g, &back, mirror, img);
    CHECK_RGB(fx_px(img, W, W / 2, H / 2), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    ct_renderer_destroy(r);
}

CT_TEST(test_picking)
{
    ct_renderer *r = make_renderer(4, true);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, -2, 0, 0, 1, fx_material(1, 0, 0, 1, false), 7);  /* node 0, features 7 */
    fx_add_quad(&m, 2, 1, 0, 1, fx_material(0, 1, 0, 1, false), -1);  /* node 1, no features, y = 1 */
    ct_camera cam = fx_camera(10);
    ct_render_model *mod;
    ct_error err;
    CT_REQUIRE(ct_render_model_create(r, &m.g, NULL, &mod, &err) == CT_OK);
    ct_render_frame_desc f = {.camera = &cam, .width = W, .height = H};
    ct_renderer_begin_frame(r, &f);
    ct_render_draw_desc d = {.pick_id = 99};
    ct_renderer_draw_model(r, mod, &d);
    ct_renderer_end_frame(r);
    /* x = -2 m at 10 m: 32 - 32 * 2 / (10 tan 30) = 20.9 */
    ct_render_pick p;
    CT_REQUIRE(ct_renderer_pick(r, 21, 32, &p, &err) == CT_OK);
    CT_CHECK(p.hit);
    CT_CHECK_EQ_INT(p.pick_id, 99);
    CT_CHECK_EQ_INT(p.node, 0);
    CT_CHECK_EQ_INT(p.mesh, 0);
    CT_CHECK_EQ_INT(p.primitive, 0);
    CT_CHECK_EQ_INT(p.feature_id, 7);
    /* the hit lies on the plane y = 0, on the pixel's ray */
    CT_CHECK_NEAR(p.position.y, 0, 0.01);
    ct_dvec3 o, dir;
    ct_camera_pixel_ray(&cam, 21.5, 32.5, W, H, &o, &dir);
    double t = (0 - o.y) / dir.y;
    CT_CHECK_NEAR(p.position.x, o.x + t * dir.x, 0.01);
    CT_CHECK_NEAR(p.position.z, o.z + t * dir.z, 0.01);
    CT_CHECK_NEAR(p.depth_m, 10, 0.01);
    /* x = +2 m at 11 m: 32 + 32*2/(11 tan 30) = 42.1 */
    CT_REQUIRE(ct_renderer_pick(r, 42, 32, &p, &err) == CT_OK);
    CT_CHECK(p.hit);
    CT_CHECK_EQ_INT(p.node, 1);
    CT_CHECK_EQ_INT(p.feature_id, -1);
    CT_CHECK_NEAR(p.position.y, 1, 0.01);
    /* background */
    CT_REQUIRE(ct_renderer_pick(r, 1, 1, &p, &err) == CT_OK);
    CT_CHECK(!p.hit);
    CT_CHECK(ct_renderer_pick(r, W, 0, &p, &err) == CT_ERR_USAGE);
    ct_render_model_destroy(mod);
    ct_renderer_destroy(r);
}

CT_TEST(test_instancing_and_stats)
{
    ct_renderer *r = make_renderer(1, true);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 0.5, fx_material(1, 1, 0, 1, true), -1);
    /* two instances at x = -2 and x = +2 (column-major float matrices) */
    float inst[32] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, -2, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1};
    m.nodes[0].instance_count = 2;
    m.nodes[0].instance_matrices = inst;
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    ct_render_model *mod;
    ct_error err;
    CT_REQUIRE(ct_render_model_create(r, &m.g, NULL, &mod, &err) == CT_OK);
    ct_render_frame_desc f = {.camera = &cam, .width = W, .height = H};
    ct_renderer_begin_frame(r, &f);
    ct_render_draw_desc d = {.pick_id = 1, .instance_features = true};
    ct_renderer_draw_model(r, mod, &d);
    ct_renderer_end_frame(r);
    ct_renderer_read_pixels(r, img, &err);
    CHECK_RGB(fx_px(img, W, 21, 32), 255, 255, 0, 0);
    CHECK_RGB(fx_px(img, W, 43, 32), 255, 255, 0, 0);
    CHECK_RGB(fx_px(img, W, 32, 32), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    ct_render_frame_stats s = ct_renderer_frame_stats(r);
    CT_CHECK_EQ_INT(s.triangles, 4);
    CT_CHECK_EQ_INT(s.draw_calls, 1);
    ct_render_pick p;
    CT_REQUIRE(ct_renderer_pick(r, 43, 32, &p, &err) == CT_OK);
    CT_CHECK(p.hit);
    CT_CHECK_EQ_INT(p.instance, 1);
    CT_CHECK_EQ_INT(p.feature_id, 1); /* instance index as feature id (i3dm) */
    ct_render_model_destroy(mod);
    ct_renderer_destroy(r);
}

CT_TEST(test_points_and_lines)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 0, 0, 1, false), -1);
    /* the same four corners as a line loop without normals (unlit, per glTF) */
    m.prims[0].mode = CT_GLTF_LINE_LOOP;
    m.prims[0].normals = NULL;
    m.prims[0].index_count = 0;
    m.prims[0].indices = NULL;
    fx_add_quad(&m, 0, 0, 0, 0.6, fx_material(0, 0, 1, 1, true), -1);
    m.prims[1].mode = CT_GLTF_POINTS;
    m.prims[1].index_count = 0;
    ct_camera cam = fx_camera(10);
    uint8_t img[W * H * 4];
    ct_render_model *mod;
    ct_error err;
    CT_REQUIRE(ct_render_model_create(r, &m.g, NULL, &mod, &err) == CT_OK);
    ct_render_frame_desc f = {.camera = &cam, .width = W, .height = H};
    ct_renderer_begin_frame(r, &f);
    ct_render_draw_desc d = {.point_size = 3};
    ct_renderer_draw_model(r, mod, &d);
    ct_renderer_end_frame(r);
    ct_renderer_read_pixels(r, img, &err);
    ct_render_frame_stats s = ct_renderer_frame_stats(r);
    CT_CHECK_EQ_INT(s.lines, 4);
    CT_CHECK_EQ_INT(s.points, 4);
    /* interior is background; some pixel on the bottom edge row is red; a point is blue */
    CHECK_RGB(fx_px(img, W, 32, 32), 0.75 * 255, 0.82 * 255, 0.90 * 255, 1.0);
    int red = 0, blue = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = fx_px(img, W, x, y);
            red += p[0] == 255 && p[1] == 0 && p[2] == 0;
            blue += p[0] == 0 && p[1] == 0 && p[2] == 255;
        }
    /* the square's outline is ~11 px a side: about 44 px of line; 4 points of 3x3 */
    CT_CHECK(red >= 36 && red <= 52);
    CT_CHECK_EQ_INT(blue, 36);
    ct_render_model_destroy(mod);
    ct_renderer_destroy(r);
}

CT_TEST(test_msaa_edges)
{
    uint8_t img1[W * H * 4], img4[W * H * 4];
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 1, fx_material(1, 1, 1, 1, true), -1);
    ct_camera cam = ct_camera_from_local(0, -10, 0, 0, 0, 17); /* rolled: slanted edges */
    cam.near_m = 0.1, cam.far_m = 100;
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    render(r, &m.g, &cam, NULL, img1);
    ct_renderer_destroy(r);
    r = make_renderer(4, false);
    CT_REQUIRE(r);
    render(r, &m.g, &cam, NULL, img4);
    ct_renderer_destroy(r);
    /* without MSAA every red value is the background's (191) or 255; with it, edges get values between */
    int mixed1 = 0, mixed4 = 0;
    for (int i = 0; i < W * H; i++) {
        mixed1 += img1[i * 4] != 255 && img1[i * 4] != 191;
        mixed4 += img4[i * 4] != 255 && img4[i * 4] != 191;
    }
    CT_CHECK_EQ_INT(mixed1, 0);
    CT_CHECK(mixed4 > 20);
}

CT_TEST(test_texture_orientation_and_sampler)
{
    ct_renderer *r = make_renderer(1, false);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    ct_gltf_material mat = fx_material(1, 1, 1, 1, true);
    mat.base_color_texture.texture = 0;
    fx_add_quad(&m, 0, 0, 0, 2, mat, -1);
    /* 2x2 image, first row = top: red, green / blue, white */
    uint8_t px[16] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255};
    m.images[0] = (ct_gltf_image){.width = 2, .height = 2, .pixels = px};
    m.samplers[0] = (ct_gltf_sampler){.mag_filter = 9728, .min_filter = 9728, .wrap_s = 33071, .wrap_t = 33071};
    m.textures[0] = (ct_gltf_texture){.sampler = 0, .image = 0};
    m.g.image_count = m.g.sampler_count = m.g.texture_count = 1;
    ct_camera cam = fx_camera(5);
    uint8_t img[W * H * 4];
    render(r, &m.g, &cam, NULL, img);
    CHECK_RGB(fx_px(img, W, 26, 26), 255, 0, 0, 0);   /* top-left */
    CHECK_RGB(fx_px(img, W, 38, 26), 0, 255, 0, 0);   /* top-right */
    CHECK_RGB(fx_px(img, W, 26, 38), 0, 0, 255, 0);   /* bottom-left */
    CHECK_RGB(fx_px(img, W, 38, 38), 255, 255, 255, 0);
    ct_renderer_destroy(r);
}

/* sRGB 0..255 -> linear 0..1 (the standard transfer function). */
static double srgb_lin(double c255)
{
    double c = c255 / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

/* Renders a quad with a 2x2 nearest-sampled texture and material mat; the four
 * texel centres land on the pixels checked in test_unlit_texture_paths. */
static void render_texel_quad(ct_renderer *r, ct_gltf_material mat, const uint8_t px[16], uint8_t *img)
{
    fx_model m;
    fx_init(&m);
    mat.base_color_texture.texture = 0;
    fx_add_quad(&m, 0, 0, 0, 2, mat, -1);
    m.images[0] = (ct_gltf_image){.width = 2, .height = 2, .pixels = (uint8_t *)px};
    m.samplers[0] = (ct_gltf_sampler){.mag_filter = 9728, .min_filter = 9728, .wrap_s = 33071, .wrap_t = 33071};
    m.textures[0] = (ct_gltf_texture){.sampler = 0, .image = 0};
    m.g.image_count = m.g.sampler_count = m.g.texture_count = 1;
    ct_camera cam = fx_camera(5);
    render(r, &m.g, &cam, NULL, img);
}

/* Unlit textured materials: the opaque white-factor case (photogrammetry) takes
 * the renderer's direct shader path, which writes the texel as is; every other
 * case goes through the sRGB -> linear -> sRGB path. Both must give what the
 * glTF rules say: expected values computed by hand from the sRGB formula. */
CT_TEST(test_unlit_texture_paths)
{
    ct_renderer *r = make_renderer(4, false); /* MSAA as `render` draws by default */
    CT_REQUIRE(r);
    /* top-left, top-right / bottom-left, bottom-right; mid-range values where a
     * wrong transfer function shows; the bottom-left texel is 39% opaque */
    const uint8_t px[16] = {40, 90, 160, 255, 200, 17, 128, 255, 3, 250, 77, 100, 128, 129, 130, 255};
    const int at[4][2] = {{26, 26}, {38, 26}, {26, 38}, {38, 38}};
    uint8_t img[W * H * 4];
    const double bg[3] = {0.75 * 255, 0.82 * 255, 0.90 * 255};

    /* 1: opaque, white factor: the texel itself */
    render_texel_quad(r, fx_material(1, 1, 1, 1, true), px, img);
    for (int t = 0; t < 4; t++)
        CHECK_RGB(fx_px(img, W, at[t][0], at[t][1]), px[t * 4], px[t * 4 + 1], px[t * 4 + 2], 0);

    /* 2: an identity KHR_texture_transform takes the general path: same colors */
    ct_gltf_material tr = fx_material(1, 1, 1, 1, true);
    tr.base_color_texture.has_transform = true;
    const float id3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(tr.base_color_texture.uv_matrix, id3, sizeof id3);
    render_texel_quad(r, tr, px, img);
    for (int t = 0; t < 4; t++)
        CHECK_RGB(fx_px(img, W, at[t][0], at[t][1]), px[t * 4], px[t * 4 + 1], px[t * 4 + 2], 1);

    /* 3: factor (0.5, 1, 0.25) multiplies in linear light: sRGB(f * linear(texel)) */
    render_texel_quad(r, fx_material(0.5f, 1, 0.25f, 1, true), px, img);
    for (int t = 0; t < 4; t++)
        CHECK_RGB(fx_px(img, W, at[t][0], at[t][1]), fx_srgb255(0.5 * srgb_lin(px[t * 4])), px[t * 4 + 1],
                  fx_srgb255(0.25 * srgb_lin(px[t * 4 + 2])), 1);

    /* 4: emissive adds in linear light: sRGB(linear(texel) + 0.1), clamped */
    ct_gltf_material em = fx_material(1, 1, 1, 1, true);
    em.emissive[0] = em.emissive[1] = em.emissive[2] = 0.1f;
    render_texel_quad(r, em, px, img);
    for (int t = 0; t < 4; t++)
        for (int c = 0; c < 3; c++) {
            double l = srgb_lin(px[t * 4 + c]) + 0.1;
            CT_CHECK_NEAR(fx_px(img, W, at[t][0], at[t][1])[c], l >= 1 ? 255 : fx_srgb255(l), 1);
        }

    /* 5: alpha mode MASK (cutoff 0.5): the 39% texel is cut out, the others drawn as is */
    ct_gltf_material mask = fx_material(1, 1, 1, 1, true);
    mask.alpha_mode = CT_GLTF_ALPHA_MASK;
    render_texel_quad(r, mask, px, img);
    for (int t = 0; t < 4; t++) {
        const uint8_t *p = fx_px(img, W, at[t][0], at[t][1]);
        if (t == 2)
            CHECK_RGB(p, bg[0], bg[1], bg[2], 1);
        else
            CHECK_RGB(p, px[t * 4], px[t * 4 + 1], px[t * 4 + 2], 1);
    }
    ct_renderer_destroy(r);
}

/* A camera 50 km from the origin (and at ECEF magnitudes): the float
 * model-view built relative to the eye keeps vertex errors far below 1 cm,
 * where a float world matrix would be off by decimetres. */
CT_TEST(test_rte_precision_50km)
{
    ct_dvec3 sites[2] = {ct_dvec3_make(50000.0, 0, 10.0), ct_geo_ecef_from_lonlat(113.123456, 22.654321, 35.0)};
    for (int s = 0; s < 2; s++) {
        ct_dvec3 obj = sites[s];
        double world[16];
        ct_dmat4_identity(world);
        world[12] = obj.x, world[13] = obj.y, world[14] = obj.z;
        ct_camera cam;
        ct_camera_init(&cam);
        ct_camera_look_at(&cam, ct_dvec3_add(obj, ct_dvec3_make(3.0001, -4.0003, 2.0007)), obj, ct_dvec3_make(0, 0, 1));
        float mv[16];
        ct_render_model_view_f32(&cam, world, mv);
        double view[16], vw[16];
        ct_camera_view(&cam, view);
        ct_dmat4_mul(vw, view, world);
        /* naive: float world and float view matrices, multiplied in float */
        float wf[16], vf[16];
        for (int i = 0; i < 16; i++)
            wf[i] = (float)world[i], vf[i] = (float)view[i];
        double worst_rte = 0, worst_naive = 0;
        for (int k = 0; k < 8; k++) {
            float v[3] = {(k & 1) ? 0.5f : -0.5f, (k & 2) ? 0.5f : -0.5f, (k & 4) ? 0.5f : -0.5f};
            ct_dvec3 exact = ct_dmat4_transform_point(vw, ct_dvec3_make(v[0], v[1], v[2]));
            float e[3], wp[3], nv[3];
            for (int rr = 0; rr < 3; rr++) {
                e[rr] = mv[rr] * v[0] + mv[4 + rr] * v[1] + mv[8 + rr] * v[2] + mv[12 + rr];
                wp[rr] = wf[rr] * v[0] + wf[4 + rr] * v[1] + wf[8 + rr] * v[2] + wf[12 + rr];
            }
            for (int rr = 0; rr < 3; rr++)
                nv[rr] = vf[rr] * wp[0] + vf[4 + rr] * wp[1] + vf[8 + rr] * wp[2] + vf[12 + rr];
            double er = sqrt(pow(e[0] - exact.x, 2) + pow(e[1] - exact.y, 2) + pow(e[2] - exact.z, 2));
            double en = sqrt(pow(nv[0] - exact.x, 2) + pow(nv[1] - exact.y, 2) + pow(nv[2] - exact.z, 2));
            worst_rte = fmax(worst_rte, er);
            worst_naive = fmax(worst_naive, en);
        }
        fprintf(stderr, "site %d: RTE error %.3g m, naive float error %.3g m\n", s, worst_rte, worst_naive);
        CT_CHECK(worst_rte < 0.01 * 0.01); /* 0.1 mm, 100x under the 1 cm budget */
        if (s == 1)
            CT_CHECK(worst_naive > 0.01); /* the check above would catch a renderer without RTE */
    }
}

/* Pixel centroid of non-background pixels (red channel 255). */
static void centroid(const uint8_t *img, double *cx, double *cy, int *count)
{
    double sx = 0, sy = 0, n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double a = fx_px(img, W, x, y)[1] / 255.0; /* green: 0 on the quad, 209 on the background */
            double wgt = 1.0 - a / (0.82);
            if (wgt > 0.01) {
                sx += wgt * (x + 0.5);
                sy += wgt * (y + 0.5);
                n += wgt;
            }
        }
    *cx = n ? sx / n : -1;
    *cy = n ? sy / n : -1;
    *count = (int)n;
}

CT_TEST(test_rte_image_at_ecef)
{
    /* A 20 cm red square on the ellipsoid seen from 2 m: centred on screen,
     * and moving the eye 1 cm sideways moves it by the predicted 0.55 px. */
    ct_renderer *r = make_renderer(4, false);
    CT_REQUIRE(r);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 0, 0, 0.1, fx_material(1, 0, 0, 1, true), -1);
    ct_dvec3 site = ct_geo_ecef_from_lonlat(113.123456, 22.654321, 35.0);
    double enu[16];
    ct_geo_enu_frame(site, enu); /* the quad in the local ENU frame at the site */
    double cx[2], cy[2];
    uint8_t img[W * H * 4];
    for (int k = 0; k < 2; k++) {
        ct_camera cam = ct_camera_from_cesium(113.123456, 22.654321, 35.0, 0, 0, 0);
        ct_dvec3 east = {enu[0], enu[1], enu[2]}, north = {enu[4], enu[5], enu[6]};
        cam.position = ct_dvec3_add(site, ct_dvec3_add(ct_dvec3_scale(north, -2.0), ct_dvec3_scale(east, 0.01 * k)));
        cam.near_m = 0.05, cam.far_m = 100;
        render(r, &m.g, &cam, enu, img);
        int n;
        centroid(img, &cx[k], &cy[k], &n);
        CT_CHECK(n > 20);
    }
    CT_CHECK_NEAR(cx[0], 32, 0.1);
    CT_CHECK_NEAR(cy[0], 32, 0.1);
    /* 1 cm at 2 m with fov 60 over 64 px: 0.01 / (2 tan 30) * 32 = 0.277 px to the left */
    CT_CHECK_NEAR(cx[0] - cx[1], 0.277, 0.05);
    CT_CHECK_NEAR(cy[1], cy[0], 0.05);
    ct_renderer_destroy(r);
}

/* Two large quads 5 cm apart, 1 km away, near plane 0.1 m: reversed-Z (and
 * the log-depth fallback) resolve them; a classic [-1,1] float depth with this
 * near plane would z-fight (resolution ~0.6 m at 1 km). */
static void depth_precision_case(bool force_log)
{
    ct_renderer *r = NULL;
    ct_error err;
    ct_renderer_desc d = {.msaa = 1, .force_log_depth = force_log};
    CT_REQUIRE(ct_renderer_create(ctx, &d, &r, &err) == CT_OK);
    fx_model m;
    fx_init(&m);
    fx_add_quad(&m, 0, 1000.05, 0, 800, fx_material(0, 1, 0, 1, true), -1); /* far: green */
    fx_add_quad(&m, 0, 1000.0, 0, 800, fx_material(1, 0, 0, 1, true), -1);  /* near: red, drawn second */
    ct_camera cam = fx_camera(0);
    cam.near_m = 0.1;
    cam.far_m = 100000;
    uint8_t img[W * H * 4];
    render(r, &m.g, &cam, NULL, img);
    int red = 0;
    for (int i = 0; i < W * H; i++)
        red += img[i * 4] == 255 && img[i * 4 + 1] == 0;
    CT_CHECK_EQ_INT(red, W * H);
    /* and the other submission order */
    fx_init(&m);
    fx_add_quad(&m, 0, 1000.0, 0, 800, fx_material(1, 0, 0, 1, true), -1);
    fx_add_quad(&m, 0, 1000.05, 0, 800, fx_material(0, 1, 0, 1, true), -1);
    render(r, &m.g, &cam, NULL, img);
    red = 0;
    for (int i = 0; i < W * H; i++)
        red += img[i * 4] == 255 && img[i * 4 + 1] == 0;
    CT_CHECK_EQ_INT(red, W * H);
    ct_renderer_destroy(r);
}

CT_TEST(test_reversed_z_precision) { depth_precision_case(false); }
CT_TEST(test_log_depth_precision) { depth_precision_case(true); }

int main(int argc, char **argv)
{
    ct_error err = {0};
    ct_render_context_desc cd = {.width = W, .height = H};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK) {
        fprintf(stderr, "no GL context: %s\n", err.msg);
        return getenv("CI") ? 1 : 77;
    }
    ct_test_case cases[] = {
        CT_CASE(test_context), CT_CASE(test_unlit_colors_and_background), CT_CASE(test_lighting),
        CT_CASE(test_depth_order), CT_CASE(test_blend_order), CT_CASE(test_culling_and_winding),
        CT_CASE(test_picking), CT_CASE(test_instancing_and_stats), CT_CASE(test_points_and_lines),
        CT_CASE(test_msaa_edges), CT_CASE(test_texture_orientation_and_sampler),
        CT_CASE(test_unlit_texture_paths), CT_CASE(test_rte_precision_50km),
        CT_CASE(test_rte_image_at_ecef), CT_CASE(test_reversed_z_precision), CT_CASE(test_log_depth_precision),
    };
    int n = (int)(sizeof cases / sizeof cases[0]), ran = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        ct_test_current = cases[i].name;
        int before = ct_test_failures;
        cases[i].fn();
        fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    ct_render_context_destroy(ctx);
    if (!ran)
        return 1;
    return ct_test_failures > 100 ? 100 : ct_test_failures;
}
