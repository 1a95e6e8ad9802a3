/* The viewer's window, event handling and frame loop. */
#include "citytwin/ct_image.h"
#include "citytwin/ct_text.h"
#include "citytwin/ct_vector.h"
#include "viewer_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ct_viewer {
    ct_viewer_desc desc;
    ct_render_context *ctx;
    ct_renderer *renderer;
    ct_render_layer **layers;
    uint32_t layer_count;
    bool geographic;
    ct_controller ctrl;
    ct_script *script;
    uint64_t frames;
    bool has_frame;
    /* statistics overlay (F3 / I) */
    bool show_stats, stats_failed;
    ct_font *font;
    ct_text_renderer *text;
    double fps, frame_ms;
};

ct_status ct_viewer_create(const ct_viewer_desc *desc, ct_viewer **out, ct_error *err)
{
    *out = NULL;
    ct_viewer *v = calloc(1, sizeof *v);
    if (!v)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    v->desc = desc ? *desc : (ct_viewer_desc){0};
    if (v->desc.script_path && ct_script_load(v->desc.script_path, &v->script, err) != CT_OK) {
        free(v);
        return err ? err->status : CT_ERR_INPUT;
    }
    ct_render_context_desc cd = {.window = true,
                                 .width = v->desc.width,
                                 .height = v->desc.height,
                                 .title = v->desc.title,
                                 .fullscreen = v->desc.fullscreen,
                                 .display = v->desc.display,
                                 .no_vsync = v->desc.no_vsync || v->script != NULL};
    ct_renderer_desc rd = {.msaa = v->desc.msaa, .picking = true, .interactive = true}; /* labels never stall a frame */
    ct_status st = ct_render_context_create(&cd, &v->ctx, err);
    if (st == CT_OK)
        st = ct_renderer_create(v->ctx, &rd, &v->renderer, err);
    if (st != CT_OK) {
        ct_viewer_destroy(v);
        return st;
    }
    ct_camera cam;
    ct_camera_init(&cam);
    ct_controller_init(&v->ctrl, &cam, ct_dvec3_make(0, 0, 0), 1, false);
    *out = v;
    return CT_OK;
}

void ct_viewer_destroy(ct_viewer *v)
{
    if (!v)
        return;
    ct_text_renderer_destroy(v->text);
    ct_font_destroy(v->font);
    ct_renderer_destroy(v->renderer);
    ct_render_context_destroy(v->ctx);
    ct_script_destroy(v->script);
    free(v);
}

ct_renderer *ct_viewer_renderer(ct_viewer *v) { return v->renderer; }
ct_render_context *ct_viewer_context(ct_viewer *v) { return v->ctx; }
uint64_t ct_viewer_frame_count(const ct_viewer *v) { return v->frames; }

void ct_viewer_set_layers(ct_viewer *v, ct_render_layer **layers, uint32_t count, bool geographic)
{
    v->layers = layers;
    v->layer_count = count;
    v->geographic = geographic;
    v->ctrl.geographic = geographic;
}

void ct_viewer_set_camera(ct_viewer *v, const ct_camera *cam, ct_dvec3 center, double radius)
{
    ct_controller_init(&v->ctrl, cam, center, radius, v->geographic);
    /* orbit around the point the camera looks at, at the scene centre's distance */
    double d = ct_dvec3_length(ct_dvec3_sub(center, cam->position));
    v->ctrl.pivot = ct_dvec3_add(cam->position, ct_dvec3_scale(cam->direction, d));
}

/* Window points -> drawable pixels (HiDPI). */
static void to_pixels(ct_viewer *v, int x, int y, int *px, int *py)
{
    int ww, wh, dw, dh;
    SDL_GetWindowSize(ct_render_context_window(v->ctx), &ww, &wh);
    ct_render_context_size(v->ctx, &dw, &dh);
    *px = ww > 0 ? x * dw / ww : x;
    *py = wh > 0 ? y * dh / wh : y;
}

static void screenshot(ct_viewer *v, const char *path)
{
    int w, h;
    ct_renderer_frame_size(v->renderer, &w, &h);
    uint8_t *px = ct_malloc_array((size_t)w * h, 4);
    ct_error err = {0};
    if (!px || ct_renderer_read_pixels(v->renderer, px, &err) != CT_OK || ct_image_write_png(path, w, h, px, &err) != CT_OK)
        ct_log(CT_LOG_ERROR, "screenshot %s: %s", path, px ? err.msg : "out of memory");
    else
        ct_log(CT_LOG_INFO, "screenshot %s (%dx%d)", path, w, h);
    free(px);
}

static bool handle_event(ct_viewer *v, const SDL_Event *e)
{
    ct_controller *c = &v->ctrl;
    int dw, dh;
    ct_render_context_size(v->ctx, &dw, &dh);
    switch (e->type) {
    case SDL_QUIT:
        return false;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_CLOSE)
            return false;
        break;
    case SDL_KEYDOWN: {
        SDL_Scancode sc = e->key.keysym.scancode;
        if (sc < SDL_NUM_SCANCODES)
            c->keys[sc] = true;
        SDL_Keycode k = e->key.keysym.sym;
        if (k == SDLK_ESCAPE)
            return false;
        if (k == SDLK_F11 || k == SDLK_f)
            ct_render_context_set_fullscreen(v->ctx, !ct_render_context_fullscreen(v->ctx));
        else if (k == SDLK_TAB)
            c->mode = c->mode == CT_CTRL_ORBIT ? CT_CTRL_FLY : CT_CTRL_ORBIT;
        else if (k == SDLK_HOME) {
            c->cam = c->home;
            c->pivot = c->center;
        } else if (k == SDLK_F5) {
            ct_error err = {0};
            if (ct_renderer_reload_shaders(v->renderer, &err) != CT_OK)
                ct_log(CT_LOG_ERROR, "shader reload: %s", err.msg);
        } else if (k == SDLK_F3 || k == SDLK_i) {
            v->show_stats = !v->show_stats;
        } else if (k == SDLK_p) {
            char path[64];
            snprintf(path, sizeof path, "citytwin-%llu.png", (unsigned long long)v->frames);
            screenshot(v, path);
        }
        break;
    }
    case SDL_KEYUP:
        if (e->key.keysym.scancode < SDL_NUM_SCANCODES)
            c->keys[e->key.keysym.scancode] = false;
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (!c->drag_button)
            c->drag_button = e->button.button;
        if (e->button.button == SDL_BUTTON_LEFT && c->mode == CT_CTRL_ORBIT && v->has_frame) {
            /* orbit around what is under the cursor */
            int px, py;
            to_pixels(v, e->button.x, e->button.y, &px, &py);
            ct_render_pick p;
            ct_error err;
            if (ct_renderer_pick(v->renderer, px, py, &p, &err) == CT_OK && p.hit)
                c->pivot = p.position;
        }
        break;
    case SDL_MOUSEBUTTONUP:
        if (e->button.button == c->drag_button)
            c->drag_button = 0;
        break;
    case SDL_MOUSEMOTION: {
        int dx, dy;
        to_pixels(v, e->motion.xrel, e->motion.yrel, &dx, &dy);
        if (c->drag_button == SDL_BUTTON_LEFT) {
            if (c->mode == CT_CTRL_ORBIT)
                ct_controller_orbit(c, dx, dy, dh);
            else
                ct_controller_look(c, dx, dy, dh);
        } else if (c->drag_button == SDL_BUTTON_RIGHT || c->drag_button == SDL_BUTTON_MIDDLE) {
            ct_controller_pan(c, dx, dy, dh);
        }
        break;
    }
    case SDL_MOUSEWHEEL: {
        double y = e->wheel.y;
        if (e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
            y = -y;
        ct_controller_zoom(c, y);
        break;
    }
    case SDL_MULTIGESTURE:
        /* touch-pad pinch: dDist is a fraction of the pad's diagonal */
        if (fabsf(e->mgesture.dDist) > 0.002f)
            ct_controller_zoom(c, e->mgesture.dDist * 20.0);
        break;
    default:
        break;
    }
    return true;
}

enum { STATS_LINES = 33, STATS_SIZE = 15, STATS_STEP = 20 };

static void mib(uint64_t bytes, char *out, size_t n) { snprintf(out, n, "%.0f MiB", (double)bytes / (1024.0 * 1024.0)); }

/* The statistics overlay: frame rate and time, draws, and for each layer its
 * tiles (selected / loaded / in flight / failed), bytes against the budget
 * and labels shown, on a translucent panel at the top left. Drawn over the
 * resolved frame, so screenshots (P) show it too. */
static void draw_stats(ct_viewer *v, int w, int h)
{
    if (!v->text && !v->stats_failed) {
        ct_error err = {0};
        if (ct_font_create(NULL, &v->font, &err) != CT_OK || ct_text_renderer_create(v->font, &v->text, &err) != CT_OK) {
            ct_log(CT_LOG_WARN, "viewer: statistics overlay off: %s", err.msg);
            v->stats_failed = true;
        }
    }
    if (!v->text)
        return;
    ct_text_line lines[STATS_LINES];
    int n = 0;
    char buf[512], used[32], budget[32];
    ct_error err = {0};
    ct_render_frame_stats fs = ct_renderer_frame_stats(v->renderer);
    snprintf(buf, sizeof buf, "%.1f fps   %.1f ms/frame   %llu draws   %llu triangles", v->fps, v->frame_ms,
             (unsigned long long)fs.draw_calls, (unsigned long long)fs.triangles);
    if (ct_font_shape(v->font, buf, STATS_SIZE, &lines[n], &err) == CT_OK)
        n++;
    for (uint32_t i = 0; i < v->layer_count && n < STATS_LINES; i++) {
        ct_render_layer *l = v->layers[i];
        ct_render_layer_stats ls = {0};
        if (l->vt->stats)
            l->vt->stats(l, &ls);
        const char *name = l->name ? l->name : "?";
        mib(ls.bytes_used, used, sizeof used);
        if (ls.has_tiles) {
            mib(ls.bytes_budget, budget, sizeof budget);
            snprintf(buf, sizeof buf, "%s%s: tiles %llu selected, %llu loaded, %llu in flight, %llu failed; %s of %s",
                     name, l->hidden ? " (hidden)" : "", (unsigned long long)ls.tiles_selected,
                     (unsigned long long)ls.tiles_loaded, (unsigned long long)ls.tiles_in_flight,
                     (unsigned long long)ls.tiles_failed, used, budget);
        } else {
            snprintf(buf, sizeof buf, "%s%s: %s", name, l->hidden ? " (hidden)" : "", used);
        }
        ct_vector_label_stats lb;
        if (ct_render_layer_vector_label_stats(l, &lb) && lb.labels) {
            size_t k = strlen(buf);
            snprintf(buf + k, sizeof buf - k, "; labels %u of %u shown%s", lb.drawn, lb.labels,
                     lb.font_ok ? "" : " (no font)");
        }
        if (ct_font_shape(v->font, buf, STATS_SIZE, &lines[n], &err) == CT_OK)
            n++;
    }
    float width = 0;
    for (int i = 0; i < n; i++)
        width = lines[i].width > width ? lines[i].width : width;
    const float panel[4] = {0, 0, 0, 0.5f}, x = 16, top = 12;
    ct_text_renderer_add_rect(v->text, x - 8, top - 4, width + 16, (float)(n * STATS_STEP) + 12, panel);
    const ct_text_style st = {.color = {1, 1, 1, 1}, .halo_color = {0, 0, 0, 0.8f}, .halo_px = 1.5f};
    for (int i = 0; i < n; i++) {
        ct_text_renderer_add(v->text, &lines[i], x, top + (float)(i * STATS_STEP) + lines[i].ascent, &st);
        ct_text_line_free(&lines[i]);
    }
    ct_text_renderer_flush(v->text, w, h);
}

ct_status ct_viewer_run(ct_viewer *v, ct_error *err)
{
    bool running = true, script_done = v->script == NULL;
    double last = ct_time_now(), title_time = last, frame_ms = 0;
    uint64_t title_frames = 0;
    SDL_Window *win = ct_render_context_window(v->ctx);
    while (running) {
        const char *shot = NULL;
        if (!script_done && !ct_script_step(v->script, win, &shot))
            script_done = true;
        SDL_Event e;
        while (SDL_PollEvent(&e))
            running = handle_event(v, &e) && running;
        if (!running)
            break;
        double now = ct_time_now();
        double dt = v->script ? 1.0 / 60 : fmin(now - last, 0.1);
        last = now;
        ct_controller_fly(&v->ctrl, dt);
        ct_controller_update_clip(&v->ctrl);
        int w, h;
        ct_render_context_size(v->ctx, &w, &h);
        if (w <= 0 || h <= 0) { /* minimized */
            SDL_Delay(50);
            continue;
        }
        v->ctrl.cam.aspect = (double)w / h;
        double t0 = ct_time_now();
        for (uint32_t i = 0; i < v->layer_count; i++) {
            ct_render_layer *l = v->layers[i];
            bool done;
            if (!l->hidden && l->vt->update && l->vt->update(l, v->renderer, &v->ctrl.cam, w, h, &done, err) != CT_OK)
                ct_log(CT_LOG_WARN, "layer %s: %s", l->name ? l->name : "?", err ? err->msg : "update failed");
        }
        ct_render_frame_desc fd = {.camera = &v->ctrl.cam, .width = w, .height = h};
        ct_renderer_begin_frame(v->renderer, &fd);
        for (uint32_t i = 0; i < v->layer_count; i++)
            if (!v->layers[i]->hidden && v->layers[i]->vt->draw)
                v->layers[i]->vt->draw(v->layers[i], v->renderer);
        ct_renderer_end_frame(v->renderer);
        v->has_frame = true;
        if (v->show_stats)
            draw_stats(v, w, h);
        if (shot)
            screenshot(v, shot);
        ct_renderer_present(v->renderer);
        frame_ms = (ct_time_now() - t0) * 1000;
        v->frames++;
        title_frames++;
        if (now - title_time >= 0.5) {
            ct_render_frame_stats s = ct_renderer_frame_stats(v->renderer);
            v->fps = title_frames / (now - title_time);
            v->frame_ms = frame_ms;
            char title[256];
            snprintf(title, sizeof title, "%s - %.1f fps, %.1f ms, %llu triangles%s",
                     v->desc.title ? v->desc.title : "citytwin", title_frames / (now - title_time), frame_ms,
                     (unsigned long long)s.triangles, v->ctrl.mode == CT_CTRL_FLY ? " [fly]" : "");
            SDL_SetWindowTitle(win, title);
            title_time = now;
            title_frames = 0;
        }
        if (v->desc.max_frames > 0 && v->frames >= (uint64_t)v->desc.max_frames)
            break;
    }
    return CT_OK;
}
