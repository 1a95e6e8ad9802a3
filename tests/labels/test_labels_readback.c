/* Label occlusion on interactive renderers (ct_renderer_desc.interactive):
 * the depth comes from an asynchronous read-back of an earlier frame (pixel
 * buffer objects + fences) instead of a synchronous glReadPixels per label.
 * A constructed scene (EPSG:4547): a ground square, three 40 m towers (an
 * unlabelled layer) and a 5 x 4 grid of labelled points, some behind the
 * towers, seen from the south. Checked against the one-shot (synchronous)
 * renderer, which test_labels checks by pixels and a reference image:
 *   - a still camera, frames with a glFinish between them (the GPU keeping
 *     up, as with vsync): every frame hides and draws the same labels and
 *     reads the same depth for every pixel, the first synchronously, the
 *     others from the previous frame's read-back without one synchronous
 *     read, and the images are identical; without the glFinish the same;
 *   - the documented one-frame latency: the frame that stops drawing the
 *     towers still hides the labels behind them (the previous frame's
 *     depth), the next frame shows them;
 *   - a resize: the first frame at a new size uses no depth of the old size
 *     (age 0) and matches the one-shot renderer at that size; MSAA on and
 *     off, reversed-Z and logarithmic depth.
 *   - overlays that read no depth queue no read-back; the first frame that
 *     reads again reads synchronously and correctly.
 * Runs on Mesa llvmpipe (no real GPU here): it checks results, not stalls. */
#include "citytwin/ct_vector.h"
#include "ct_test.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define X0 405000.0
#define Y0 2498000.0
#define S 256

typedef struct scene {
    ct_renderer *r;
    ct_render_layer *ground, *towers, *points;
} scene;

typedef struct frame_out {
    ct_vector_label_stats labels;
    ct_render_frame_stats frame;
    float *depth;            /* optional: the whole frame through ct_renderer_read_depth_m, from an overlay */
    int depth_w, depth_h;
    bool depth_ok;
} frame_out;

/* An overlay of the test: what ct_renderer_read_depth_m gives for the whole
 * frame (a rectangle a little larger, so that clipping is exercised too). */
static void depth_overlay(ct_renderer *r, void *user)
{
    frame_out *o = user;
    ct_error err = {0};
    o->depth_ok = ct_renderer_read_depth_m(r, -1, -1, o->depth_w, o->depth_h, o->depth, &err) == CT_OK;
}

static bool same_depth(const frame_out *a, const frame_out *b)
{
    if (!a->depth_ok || !b->depth_ok || a->depth_w != b->depth_w || a->depth_h != b->depth_h)
        return false;
    size_t n = (size_t)a->depth_w * a->depth_h, differ = 0, finite = 0;
    for (size_t i = 0; i < n; i++) {
        differ += memcmp(&a->depth[i], &b->depth[i], sizeof(float)) != 0;
        finite += isfinite(a->depth[i]);
    }
    if (differ)
        fprintf(stderr, "depth: %zu of %zu pixels differ\n", differ, n);
    return !differ && finite > n / 4 && finite < n; /* geometry and sky both in view */
}

static ct_render_context *ctx;
static bool log_depth; /* renderers use logarithmic depth (the fallback without glClipControl) */

static bool have_font(void)
{
    FILE *f = fopen("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = ct_test_tmp_path(name);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

#define FC_HEAD "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}},\"features\":["

static bool write_inputs(char paths[3][512])
{
    char buf[8192];
    snprintf(paths[0], 512, "%s",
             write_file("ground.geojson", FC_HEAD "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":"
                                                  "\"Polygon\",\"coordinates\":[[[404800,2497800],[405200,2497800],"
                                                  "[405200,2498200],[404800,2498200],[404800,2497800]]]}}]}"));
    /* three towers 30 m wide at y = +45, x = -40, 0, 40 */
    int n = snprintf(buf, sizeof buf, FC_HEAD);
    for (int i = 0; i < 3; i++) {
        double cx = X0 - 40 + 40 * i, cy = Y0 + 45;
        n += snprintf(buf + n, sizeof buf - n,
                      "%s{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
                      "[[[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f],[%.1f,%.1f]]]}}",
                      i ? "," : "", cx - 15, cy - 15, cx + 15, cy - 15, cx + 15, cy + 15, cx - 15, cy + 15, cx - 15,
                      cy - 15);
    }
    snprintf(buf + n, sizeof buf - n, "]}");
    snprintf(paths[1], 512, "%s", write_file("towers.geojson", buf));
    /* 5 x 4 points, 25 m apart, x = -60..40 (shifted so some are in the gaps), y = -20..130 */
    n = snprintf(buf, sizeof buf, FC_HEAD);
    for (int i = 0; i < 20; i++) {
        double x = X0 - 60 + 25 * (i % 5), y = Y0 - 20 + 50 * (i / 5);
        n += snprintf(buf + n, sizeof buf - n,
                      "%s{\"type\":\"Feature\",\"id\":%d,\"properties\":{\"name\":\"P%02d\"},\"geometry\":{\"type\":"
                      "\"Point\",\"coordinates\":[%.1f,%.1f]}}",
                      i ? "," : "", i + 1, i, x, y);
    }
    snprintf(buf + n, sizeof buf - n, "]}");
    snprintf(paths[2], 512, "%s", write_file("points.geojson", buf));
    return true;
}

static void scene_destroy(scene *s)
{
    ct_render_layer_destroy(s->ground);
    ct_render_layer_destroy(s->towers);
    ct_render_layer_destroy(s->points);
    ct_renderer_destroy(s->r);
    memset(s, 0, sizeof *s);
}

static bool scene_create(bool interactive, int msaa, scene *s)
{
    memset(s, 0, sizeof *s);
    ct_error err = {0};
    if (!ctx) {
        ct_render_context_desc cd = {.width = S, .height = S};
        if (ct_render_context_create(&cd, &ctx, &err) != CT_OK) {
            fprintf(stderr, "no GL: %s\n", err.msg);
            exit(77);
        }
    }
    ct_renderer_desc rd = {.msaa = msaa, .interactive = interactive, .force_log_depth = log_depth};
    if (ct_renderer_create(ctx, &rd, &s->r, &err) != CT_OK) {
        fprintf(stderr, "renderer: %s\n", err.msg);
        return false;
    }
    char paths[3][512];
    write_inputs(paths);
    static const char *const styles[3] = {
        "{\"color\":\"#2ca02c\",\"opacity\":1,\"outline\":false,\"lift\":0}",
        "{\"color\":\"#c8c0b0\",\"extrude\":40}",
        "{\"color\":\"#1f77b4\",\"size\":3,\"label\":\"name\",\"label_color\":\"#ffff00\",\"label_size\":12}",
    };
    ct_render_layer **out[3] = {&s->ground, &s->towers, &s->points};
    for (int i = 0; i < 3; i++) {
        cJSON *st = cJSON_Parse(styles[i]);
        ct_vector_desc d = {.source = paths[i], .name = i == 2 ? "points" : "other", .style = st,
                            .frame_crs = "EPSG:4547"};
        ct_status rc = ct_render_layer_vector_create(s->r, &d, out[i], &err);
        cJSON_Delete(st);
        if (rc != CT_OK) {
            fprintf(stderr, "layer %d: %s\n", i, err.msg);
            scene_destroy(s);
            return false;
        }
    }
    return true;
}

static ct_camera camera(int w, int h)
{
    ct_camera cam = ct_camera_from_local(X0, Y0 - 180, 50, 0, -12, 0);
    cam.near_m = 1;
    cam.far_m = 2000;
    cam.aspect = (double)w / h;
    return cam;
}

/* One frame of the viewer-style loop; px (w * h * 4) optional. */
static void frame(scene *s, int w, int h, bool towers, bool finish, uint8_t *px, frame_out *out)
{
    ct_camera cam = camera(w, h);
    ct_render_frame_desc fd = {.camera = &cam, .width = w, .height = h};
    ct_renderer_begin_frame(s->r, &fd);
    if (out->depth) {
        out->depth_w = w + 2, out->depth_h = h + 2;
        out->depth_ok = false;
        ct_renderer_add_overlay(s->r, depth_overlay, out);
    }
    s->points->vt->draw(s->points, s->r); /* labels first: hidden by geometry drawn after them */
    if (towers)
        s->towers->vt->draw(s->towers, s->r);
    s->ground->vt->draw(s->ground, s->r);
    ct_renderer_end_frame(s->r);
    out->frame = ct_renderer_frame_stats(s->r);
    ct_render_layer_vector_label_stats(s->points, &out->labels);
    if (px) {
        ct_error err = {0};
        CT_CHECK(ct_renderer_read_pixels(s->r, px, &err) == CT_OK);
    }
    if (finish)
        ct_renderer_finish(s->r);
}

static bool same_labels(const ct_vector_label_stats *a, const ct_vector_label_stats *b)
{
    return a->drawn == b->drawn && a->occluded == b->occluded && a->collided == b->collided && a->culled == b->culled;
}

static void print(const char *what, int i, const frame_out *f)
{
    fprintf(stderr, "%s frame %d: drawn %u occluded %u collided %u culled %u | sync reads %llu, async %d, age %llu, "
                    "queued %d\n",
            what, i, f->labels.drawn, f->labels.occluded, f->labels.collided, f->labels.culled,
            (unsigned long long)f->frame.sync_readbacks, f->frame.depth_async, (unsigned long long)f->frame.depth_age,
            f->frame.depth_queued);
}

static void still_camera(int msaa)
{
    fprintf(stderr, "msaa %d, log depth %d\n", msaa, log_depth);
    scene sync, inter;
    CT_REQUIRE(scene_create(false, msaa, &sync));
    CT_REQUIRE(scene_create(true, msaa, &inter));
    static uint8_t ref[S * S * 4], px[S * S * 4];
    static float ref_depth[(S + 2) * (S + 2)], depth[(S + 2) * (S + 2)];
    frame_out ref_out = {.depth = ref_depth}, f = {.depth = depth};
    frame(&sync, S, S, true, false, ref, &ref_out);
    print("one-shot", 0, &ref_out);
    /* the scene is worth testing: some labels hidden, some drawn, and the
     * one-shot path reads synchronously (once per label that fits) */
    CT_CHECK(ref_out.labels.occluded >= 2);
    CT_CHECK(ref_out.labels.drawn >= 4);
    CT_CHECK(ref_out.frame.sync_readbacks >= ref_out.labels.drawn + ref_out.labels.occluded + 1);
    CT_CHECK(!ref_out.frame.depth_async && !ref_out.frame.depth_queued);
    for (int i = 0; i < 5; i++) { /* the GPU keeps up (glFinish between frames) */
        frame(&inter, S, S, true, true, i == 4 ? px : NULL, &f);
        print("interactive", i, &f);
        CT_CHECK(same_labels(&f.labels, &ref_out.labels));
        CT_CHECK(same_depth(&f, &ref_out)); /* every pixel, bit for bit */
        CT_CHECK(f.frame.depth_queued);
        if (i == 0) /* no earlier frame: this frame's depth, synchronously */
            CT_CHECK(!f.frame.depth_async && f.frame.sync_readbacks > 0 && f.frame.depth_age == 0);
        else /* the previous frame's read-back has finished: never a synchronous read */
            CT_CHECK(f.frame.depth_async && f.frame.sync_readbacks == 0 && f.frame.depth_age == 1);
    }
    CT_CHECK(!memcmp(px, ref, sizeof px)); /* the same image as the one-shot render */
    int async_frames = 0;
    for (int i = 0; i < 6; i++) { /* no glFinish: whatever has finished, never stale or wrong */
        frame(&inter, S, S, true, false, NULL, &f);
        CT_CHECK(same_labels(&f.labels, &ref_out.labels));
        CT_CHECK(same_depth(&f, &ref_out));
        CT_CHECK(f.frame.depth_age <= 3);
        async_frames += f.frame.depth_async;
    }
    fprintf(stderr, "%d of 6 frames without glFinish used an asynchronous read-back\n", async_frames);
    scene_destroy(&sync);
    scene_destroy(&inter);
}

CT_TEST(test_labels_readback_still_camera)
{
    if (!have_font())
        exit(77);
    still_camera(0); /* MSAA 4: depth resolved by a blit first */
    still_camera(1);
    log_depth = true;
    still_camera(1);
    log_depth = false;
}

CT_TEST(test_labels_readback_latency)
{
    if (!have_font())
        exit(77);
    scene sync, inter;
    CT_REQUIRE(scene_create(false, 0, &sync));
    CT_REQUIRE(scene_create(true, 0, &inter));
    frame_out with = {0}, without = {0}, f = {0};
    frame(&sync, S, S, true, false, NULL, &with);
    frame(&sync, S, S, false, false, NULL, &without);
    CT_CHECK(with.labels.occluded >= 2);
    CT_CHECK_EQ_INT(without.labels.occluded, 0);
    for (int i = 0; i < 3; i++)
        frame(&inter, S, S, true, true, NULL, &f);
    CT_CHECK(same_labels(&f.labels, &with.labels));
    frame(&inter, S, S, false, true, NULL, &f); /* the towers are gone */
    print("towers gone", 0, &f);
    CT_CHECK(f.frame.depth_async && f.frame.depth_age == 1);
    CT_CHECK(same_labels(&f.labels, &with.labels)); /* the previous frame's depth: still hidden, one frame late */
    frame(&inter, S, S, false, true, NULL, &f);
    print("towers gone", 1, &f);
    CT_CHECK(f.frame.depth_async && f.frame.sync_readbacks == 0);
    CT_CHECK(same_labels(&f.labels, &without.labels));
    scene_destroy(&sync);
    scene_destroy(&inter);
}

CT_TEST(test_labels_readback_resize)
{
    if (!have_font())
        exit(77);
    scene sync, inter;
    CT_REQUIRE(scene_create(false, 0, &sync));
    CT_REQUIRE(scene_create(true, 0, &inter));
    static const int sizes[4][2] = {{S, S}, {320, 200}, {160, 240}, {S, S}};
    for (int k = 0; k < 4; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        static float ref_depth[400 * 300], depth[400 * 300];
        frame_out ref = {.depth = ref_depth}, f = {.depth = depth};
        frame(&sync, w, h, true, false, NULL, &ref);
        for (int i = 0; i < 3; i++) {
            frame(&inter, w, h, true, true, NULL, &f);
            fprintf(stderr, "%dx%d ", w, h);
            print("interactive", i, &f);
            CT_CHECK(same_labels(&f.labels, &ref.labels));
            CT_CHECK(same_depth(&f, &ref));
            if (i == 0) /* nothing of the old size is used, however recent: synchronous */
                CT_CHECK(!f.frame.depth_async && f.frame.sync_readbacks > 0 && f.frame.depth_age == 0);
            else
                CT_CHECK(f.frame.depth_async && f.frame.sync_readbacks == 0 && f.frame.depth_age == 1);
        }
        int fw, fh;
        ct_renderer_frame_size(inter.r, &fw, &fh);
        CT_CHECK(fw == w && fh == h);
    }
    scene_destroy(&sync);
    scene_destroy(&inter);
}

static void noop_overlay(ct_renderer *r, void *user)
{
    (void)r;
    (void)user;
}

/* Overlays that read no depth (labels all culled by distance, say) queue no
 * read-back; the next frame that reads gets correct depth (synchronously:
 * the newest read-back is too old) and the read-backs resume. */
CT_TEST(test_labels_readback_idle)
{
    if (!have_font())
        exit(77);
    scene sync, inter;
    CT_REQUIRE(scene_create(false, 0, &sync));
    CT_REQUIRE(scene_create(true, 0, &inter));
    static float ref_depth[(S + 2) * (S + 2)], depth[(S + 2) * (S + 2)];
    frame_out ref = {.depth = ref_depth}, f = {.depth = depth};
    frame(&sync, S, S, true, false, NULL, &ref);
    frame(&inter, S, S, true, true, NULL, &f);
    CT_CHECK(f.frame.depth_queued);
    ct_camera cam = camera(S, S);
    ct_render_frame_desc fd = {.camera = &cam, .width = S, .height = S};
    for (int i = 0; i < 6; i++) {
        ct_renderer_begin_frame(inter.r, &fd);
        ct_renderer_add_overlay(inter.r, noop_overlay, NULL);
        inter.towers->vt->draw(inter.towers, inter.r);
        ct_renderer_end_frame(inter.r);
        ct_render_frame_stats fs = ct_renderer_frame_stats(inter.r);
        fprintf(stderr, "idle frame %d: queued %d\n", i, fs.depth_queued);
        CT_CHECK(!fs.depth_queued);
        CT_CHECK_EQ_INT(fs.sync_readbacks, 0);
    }
    for (int i = 0; i < 3; i++) {
        frame(&inter, S, S, true, true, NULL, &f);
        print("after idle", i, &f);
        CT_CHECK(same_depth(&f, &ref));
        CT_CHECK(same_labels(&f.labels, &ref.labels));
        CT_CHECK(f.frame.depth_queued);
        if (i == 0) /* the newest read-back is 7 frames old: not used */
            CT_CHECK(!f.frame.depth_async && f.frame.sync_readbacks > 0);
        else
            CT_CHECK(f.frame.depth_async && f.frame.sync_readbacks == 0 && f.frame.depth_age == 1);
    }
    scene_destroy(&sync);
    scene_destroy(&inter);
}

CT_TEST_MAIN(CT_CASE(test_labels_readback_still_camera), CT_CASE(test_labels_readback_latency),
             CT_CASE(test_labels_readback_resize), CT_CASE(test_labels_readback_idle))
