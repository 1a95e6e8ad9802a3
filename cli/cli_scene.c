/* Opening inputs as render layers, camera options, the per-frame layer loop. */
#include "cli_scene.h"
#include "cli_tileset_layer.h"

#include "citytwin/ct_demo.h"
#include "citytwin/ct_tileset.h"
#include "citytwin/ct_raster_layer.h"
#include "citytwin/ct_vector.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { INPUT_GLTF, INPUT_TILESET, INPUT_SCENE } input_kind;

static bool starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static ct_status sniff(const char *path, input_kind *kind, ct_error *err)
{
    if (starts_with(path, "http://") || starts_with(path, "https://")) {
        *kind = INPUT_TILESET;
        return CT_OK;
    }
    const char *ext = ct_path_ext(path);
    if (!strcasecmp(ext, ".glb") || !strcasecmp(ext, ".gltf")) {
        *kind = INPUT_GLTF;
        return CT_OK;
    }
    uint8_t *data;
    size_t size;
    ct_status st = ct_file_read(path, 0, &data, &size, err);
    if (st != CT_OK)
        return st;
    if (size >= 4 && !memcmp(data, "glTF", 4)) {
        free(data);
        *kind = INPUT_GLTF;
        return CT_OK;
    }
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    if (!j)
        return ct_error_set(err, CT_ERR_INPUT, "%s: neither GLB nor JSON", path);
    bool asset = cJSON_GetObjectItemCaseSensitive(j, "asset") != NULL;
    if (asset && cJSON_GetObjectItemCaseSensitive(j, "root"))
        *kind = INPUT_TILESET;
    else if (cJSON_GetObjectItemCaseSensitive(j, "layers"))
        *kind = INPUT_SCENE;
    else if (asset)
        *kind = INPUT_GLTF;
    else {
        cJSON_Delete(j);
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a glTF, tileset.json or scene file (no \"asset\" or \"layers\")",
                            path);
    }
    cJSON_Delete(j);
    return CT_OK;
}

/* 3D Tiles layers (cli_tileset_layer.c): scene and layer are NULL for a
 * tileset given directly. A scene layer's "style" may set "max_sse",
 * "memory_budget_mb", "skip_levels", "allow_outside_folder" and
 * "http_headers" (docs/3dtiles.md). */
static ct_status open_tileset(ct_renderer *r, const char *source, const ct_scene *scene, const ct_scene_layer *layer,
                              const cli_layer_options *opts, ct_render_layer **out, ct_error *err)
{
    *out = NULL;
    cli_tileset_layer_desc d = {.uri = source, .sse = opts ? opts->sse : 0,
                                .memory_budget = opts ? (size_t)opts->bytes_budget : 0};
    if (opts && opts->wait) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        d.workers = cpus > 1 ? (int)cpus : 1;
    }
    const char *headers[32];
    if (layer) {
        /* options live in the layer's "style" (read by the module that draws
         * the layer); keys directly on the layer are accepted too */
        const cJSON *j = layer->style ? layer->style : layer->json;
        const cJSON *v;
        d.name = layer->name;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "max_sse")) && v->valuedouble > 0 && !d.sse)
            d.sse = v->valuedouble;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(j, "memory_budget_mb")) && v->valuedouble > 0 &&
            !d.memory_budget)
            d.memory_budget = (size_t)(v->valuedouble * 1024 * 1024);
        d.skip_levels = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "skip_levels"));
        d.allow_outside_folder = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "allow_outside_folder"));
        const cJSON *h;
        cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(j, "http_headers"))
        {
            if (cJSON_IsString(h) && d.n_http_headers < 32)
                headers[d.n_http_headers++] = h->valuestring;
        }
        d.http_headers = headers;
        if (scene) {
            d.has_local_frame = true;
            ct_scene_frame_to_ecef(scene, d.scene_to_ecef);
            ct_scene_layer_transform(layer, d.layer_transform);
        }
    }
    return cli_tileset_layer_create(r, &d, out, err);
}

/* Vector layers (docs/scene.md, "Vector layers"): features placed in the
 * scene's frame; ground heights from the scene's first terrain layer (drawn
 * or not) when it is a local file. */
static ct_status open_vector(ct_renderer *r, const ct_scene *sc, const ct_scene_layer *sl, ct_render_layer **out,
                             ct_error *err)
{
    ct_vector_desc d = {.source = sl->source, .name = sl->name, .style = sl->style, .has_frame = sc->has_origin,
                        .frame_crs = sc->crs};
    if (sl->source_is_url)
        return ct_error_set(err, CT_ERR_INPUT, "vector sources are read from files, not URLs (%s)", sl->source);
    ct_scene_frame_to_ecef(sc, d.frame_to_ecef);
    ct_scene_layer_transform(sl, d.placement);
    for (uint32_t i = 0; i < sc->layer_count && !d.dem; i++)
        if (sc->layers[i].type == CT_LAYER_TERRAIN && !sc->layers[i].source_is_url)
            d.dem = sc->layers[i].source;
    return ct_render_layer_vector_create(r, &d, out, err);
}

static bool add_layer(cli_scene *s, ct_render_layer *l)
{
    ct_render_layer **n = realloc(s->layers, (s->layer_count + 1) * sizeof *n);
    if (!n) {
        ct_render_layer_destroy(l);
        return false;
    }
    s->layers = n;
    l->pick_id = s->layer_count + 1 < (1u << CLI_PICK_LAYER_BITS) ? s->layer_count + 1 : 0;
    s->layers[s->layer_count++] = l;
    if (l->geographic)
        s->geographic = true;
    return true;
}

static ct_status open_scene_file(cli_scene *s, const char *path, ct_renderer *r, const cli_layer_options *opts,
                                 ct_error *err)
{
    ct_scene *sc = NULL;
    ct_status st = ct_scene_load(path, &sc, err);
    if (st != CT_OK)
        return st;
    for (uint32_t i = 0; i < sc->layer_count; i++) {
        const ct_scene_layer *sl = &sc->layers[i];
        if (!sl->visible)
            continue;
        ct_render_layer *l = NULL;
        double world[16];
        ct_scene_layer_to_ecef(sc, sl, world);
        if (sl->type == CT_LAYER_GLTF) {
            st = ct_render_layer_gltf_create(r, sl->source, world, &l, err);
        } else if (sl->type == CT_LAYER_TILESET) {
            st = open_tileset(r, sl->source, sc, sl, opts, &l, err);
        } else if (sl->type == CT_LAYER_TERRAIN || sl->type == CT_LAYER_RASTER) {
            st = ct_render_layer_raster_create(r, sc, sl, &l, err);
        } else if (sl->type == CT_LAYER_VECTOR) {
            st = open_vector(r, sc, sl, &l, err);
        } else {
            ct_log(CT_LOG_WARN, "%s: layer %s: %s layers are not drawn yet; skipped", path, sl->name,
                   ct_layer_type_name(sl->type));
            continue;
        }
        if (st != CT_OK) {
            /* A broken layer does not stop the scene: logged, counted, skipped. */
            ct_log(CT_LOG_WARN, "%s: layer %s: %s; skipped", path, sl->name, err->msg);
            continue;
        }
        if (sc->has_origin)
            l->geographic = true;
        free(l->name);
        l->name = ct_strdup(sl->name);
        if (!add_layer(s, l))
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    if (sc->has_origin)
        s->geographic = true;
    if (!s->scene)
        s->scene = sc;
    else
        ct_scene_destroy(sc);
    return CT_OK;
}

int cli_scene_open(const char *sub, char **inputs, int n, ct_renderer *r, const cli_layer_options *opts,
                   cli_scene *s)
{
    memset(s, 0, sizeof *s);
    cli_layer_options o = opts ? *opts : (cli_layer_options){0};
    ct_error err = {0};
    char demo[4096];
    char *demo_inputs[1] = {demo};
    if (n == 0) {
        ct_demo_desc dd = {.results = cli_demo_results};
        if (ct_demo_scene_path_ex(demo, sizeof demo, &dd, &err) != CT_OK)
            return cli_fail(sub, err.status, "built-in demo scene: %s", err.msg);
        inputs = demo_inputs;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        input_kind kind;
        ct_status st = sniff(inputs[i], &kind, &err);
        ct_render_layer *l = NULL;
        if (st == CT_OK) {
            if (kind == INPUT_GLTF)
                st = ct_render_layer_gltf_create(r, inputs[i], NULL, &l, &err);
            else if (kind == INPUT_TILESET)
                st = open_tileset(r, inputs[i], NULL, NULL, &o, &l, &err);
            else
                st = open_scene_file(s, inputs[i], r, &o, &err);
        }
        if (st != CT_OK) {
            cli_scene_close(s);
            return cli_fail_err(sub, &err);
        }
        if (l && !add_layer(s, l)) {
            cli_scene_close(s);
            return cli_fail(sub, CT_ERR_RUNTIME, "out of memory");
        }
    }
    return 0;
}

void cli_scene_close(cli_scene *s)
{
    for (uint32_t i = 0; i < s->layer_count; i++)
        ct_render_layer_destroy(s->layers[i]);
    free(s->layers);
    ct_scene_destroy(s->scene);
    memset(s, 0, sizeof *s);
}

bool cli_scene_bounds(const cli_scene *s, ct_dvec3 *center, double *radius)
{
    bool any = false;
    ct_dvec3 c = {0, 0, 0};
    double r = 0;
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_render_layer *l = s->layers[i];
        ct_dvec3 lc;
        double lr;
        if (l->hidden || !l->vt->bounds || !l->vt->bounds(l, &lc, &lr))
            continue;
        if (!any) {
            c = lc, r = lr, any = true;
            continue;
        }
        /* smallest sphere holding both */
        ct_dvec3 d = ct_dvec3_sub(lc, c);
        double dist = ct_dvec3_length(d);
        if (dist + lr <= r)
            continue;
        if (dist + r <= lr) {
            c = lc, r = lr;
            continue;
        }
        double nr = 0.5 * (dist + r + lr);
        c = ct_dvec3_add(c, ct_dvec3_scale(d, (nr - r) / dist));
        r = nr;
    }
    *center = c;
    *radius = r;
    return any;
}

ct_status cli_scene_update(cli_scene *s, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err)
{
    *complete = true;
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_render_layer *l = s->layers[i];
        bool done = true;
        if (l->hidden || !l->vt->update)
            continue;
        ct_status st = l->vt->update(l, r, cam, w, h, &done, err);
        if (st != CT_OK)
            return st;
        *complete = *complete && done;
    }
    return CT_OK;
}

void cli_scene_draw(cli_scene *s, ct_renderer *r)
{
    for (uint32_t i = 0; i < s->layer_count; i++)
        if (!s->layers[i]->hidden && s->layers[i]->vt->draw)
            s->layers[i]->vt->draw(s->layers[i], r);
}

/* Content bytes of all layers now; tile counts when asked. */
static void sample_layers(const cli_scene *s, cli_render_result *res, bool counts)
{
    uint64_t bytes = 0;
    if (counts)
        memset(&res->tiles, 0, sizeof res->tiles);
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_render_layer_stats ls = {0};
        if (!s->layers[i]->vt->stats)
            continue;
        s->layers[i]->vt->stats(s->layers[i], &ls);
        bytes += ls.bytes_used;
        if (ls.bytes_budget)
            res->bytes_budget = ls.bytes_budget;
        if (ls.has_tiles && counts) {
            res->has_tiles = true;
            res->tiles.tiles_selected += ls.tiles_selected;
            res->tiles.tiles_loaded += ls.tiles_loaded;
            res->tiles.tiles_failed += ls.tiles_failed;
            res->tiles.tiles_in_flight += ls.tiles_in_flight;
        }
    }
    if (bytes > res->bytes_peak)
        res->bytes_peak = bytes;
}

static void set_load_mode(cli_scene *s, ct_tileset_load_mode mode)
{
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_tileset *ts = cli_tileset_layer_tileset(s->layers[i]);
        if (ts)
            ct_tileset_set_load_mode(ts, mode);
    }
}

/* Sleeps until a tileset layer has something to apply (a worker finished a
 * request, or decoded contents wait for upload), at most max_s. */
static void wait_for_loads(cli_scene *s, double max_s)
{
    ct_tileset *first = NULL;
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_tileset *ts = cli_tileset_layer_tileset(s->layers[i]);
        if (!ts || s->layers[i]->hidden)
            continue;
        ct_tileset_stats st;
        ct_tileset_get_stats(ts, &st);
        if (st.uploads_pending > 0)
            return;
        if (!first && st.requests_in_flight + st.requests_queued > 0)
            first = ts;
    }
    /* one tileset's signal; with several, a short wait keeps the others going */
    if (first)
        ct_tileset_wait(first, s->layer_count > 1 ? 0.01 : max_s);
    else
        ct_sleep_ms(2); /* nothing in flight yet incomplete: another layer kind, or a retry due */
}

/* One frame: draw + finish; milliseconds. */
static double draw_frame(cli_scene *s, ct_renderer *r, const ct_render_frame_desc *fd)
{
    double t0 = ct_time_now();
    ct_renderer_begin_frame(r, fd);
    cli_scene_draw(s, r);
    ct_renderer_end_frame(r);
    ct_renderer_finish(r);
    return (ct_time_now() - t0) * 1000.0;
}

ct_status cli_scene_render(cli_scene *s, ct_renderer *r, const cli_render_desc *d, cli_render_result *res,
                           ct_error *err)
{
    memset(res, 0, sizeof *res);
    res->t_first_frame_s = res->t_full_detail_s = -1;
    double t0 = d->t_start > 0 ? d->t_start : ct_time_now();
    double timeout = d->timeout_s > 0 ? d->timeout_s : 120;
    int frames = d->frames > 0 ? d->frames : 1;
    const ct_camera *cam = d->frame->camera;
    int w = d->frame->width, h = d->frame->height;
    ct_status st = CT_OK;
    bool complete = false;
    double ms_pending = -1; /* the update of a frame drawn next, in ms */

    if (d->wait) {
        /* load to full detail without drawing: the user only wants the final image */
        if (!d->draw_while_loading)
            set_load_mode(s, CT_TILESET_LOAD_FINAL);
        int streak = 0;
        for (;;) {
            if ((st = cli_scene_update(s, r, cam, w, h, &complete, err)) != CT_OK)
                break;
            res->updates++;
            sample_layers(s, res, false);
            if (complete) {
                if (++streak >= CLI_RENDER_CONFIRM)
                    break;
                continue;
            }
            streak = 0;
            if (ct_time_now() - t0 > timeout) {
                res->timed_out = true;
                break;
            }
            if (d->draw_while_loading) {
                draw_frame(s, r, d->frame);
                res->frames_loading++;
            } else {
                wait_for_loads(s, 0.05);
            }
        }
        set_load_mode(s, CT_TILESET_LOAD_INTERACTIVE);
        ms_pending = 0; /* the last update above belongs to the first frame */
    }
    for (int f = 0; st == CT_OK && f < frames; f++) {
        double ms = 0;
        if (ms_pending >= 0) {
            ms = ms_pending;
            ms_pending = -1;
        } else {
            double tu = ct_time_now();
            if ((st = cli_scene_update(s, r, cam, w, h, &complete, err)) != CT_OK)
                break;
            ms = (ct_time_now() - tu) * 1000.0;
            if (!d->wait)
                res->updates++;
        }
        ms += draw_frame(s, r, d->frame);
        double t = ct_time_now() - t0;
        sample_layers(s, res, true);
        if (d->frame_ms && res->frames < d->frame_ms_cap)
            d->frame_ms[res->frames] = ms;
        res->frames++;
        if (res->t_first_frame_s < 0)
            res->t_first_frame_s = t;
        if (complete && res->t_full_detail_s < 0)
            res->t_full_detail_s = t;
    }
    return st;
}

ct_render_layer *cli_scene_layer_by_pick(const cli_scene *s, uint32_t pick_id)
{
    pick_id &= (1u << CLI_PICK_LAYER_BITS) - 1;
    return pick_id >= 1 && pick_id <= s->layer_count ? s->layers[pick_id - 1] : NULL;
}

int cli_view_arg(const char *sub, int argc, char **argv, int *i, cli_view_args *v)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--fit")) {
        v->fit = true;
        return 1;
    }
    bool cam = !strcmp(a, "--camera"), fov = !strcmp(a, "--fov"), bm = !strcmp(a, "--bookmark");
    if (!cam && !fov && !bm)
        return 0;
    if (*i + 1 >= argc) {
        cli_fail(sub, CT_ERR_USAGE, "%s needs a value", a);
        return -1;
    }
    const char *val = argv[++*i];
    if (cam) {
        double c[6] = {0};
        int n = cli_parse_numbers(val, c, 5, 6);
        if (n < 0) {
            cli_fail(sub, CT_ERR_USAGE, "--camera wants LON,LAT,HEIGHT,HEADING,PITCH[,ROLL], got '%s'", val);
            return -1;
        }
        memcpy(v->camera, c, sizeof c);
        v->has_camera = true;
    } else if (fov) {
        double f;
        if (cli_parse_numbers(val, &f, 1, 1) != 1 || !(f > 0 && f < 180)) {
            cli_fail(sub, CT_ERR_USAGE, "--fov wants degrees in (0, 180), got '%s'", val);
            return -1;
        }
        v->fov = f;
    } else {
        v->bookmark = val;
    }
    return 1;
}

int cli_view_camera(const char *sub, const cli_view_args *v, const cli_scene *s, int width, int height,
                    ct_camera *cam)
{
    ct_camera_init(cam);
    cam->fov_y_deg = v->fov > 0 ? v->fov : 60;
    cam->aspect = (double)width / height;
    ct_dvec3 center;
    double radius;
    if (!cli_scene_bounds(s, &center, &radius) || !(radius > 0)) {
        if (!cli_scene_bounds(s, &center, &radius))
            center = ct_dvec3_make(0, 0, 0);
        radius = 1;
    }
    const double *c = v->camera;
    if (v->has_camera) {
        if (s->geographic)
            ct_camera_set_cesium(cam, c[0], c[1], c[2], c[3], c[4], c[5]);
        else
            ct_camera_set_local(cam, c[0], c[1], c[2], c[3], c[4], c[5]);
    } else if (v->bookmark) {
        const ct_scene_camera *b = s->scene ? ct_scene_find_camera(s->scene, v->bookmark) : NULL;
        if (!b)
            return cli_fail(sub, CT_ERR_USAGE, "no camera bookmark '%s' in the scene", v->bookmark);
        ct_camera_set_cesium(cam, b->view.lon, b->view.lat, b->view.height, b->view.heading, b->view.pitch,
                             b->view.roll);
    } else if (!v->fit && s->scene && s->scene->camera_count > 0) {
        /* A scene's first bookmark is its author's chosen view: a better default than the bounding sphere. */
        const ct_scene_camera *b = &s->scene->cameras[0];
        ct_camera_set_cesium(cam, b->view.lon, b->view.lat, b->view.height, b->view.heading, b->view.pitch,
                             b->view.roll);
    } else {
        ct_camera_fit_sphere(cam, center, radius, s->geographic);
        return 0;
    }
    ct_camera_clip_to_sphere(cam, center, radius);
    return 0;
}

int cli_headless_open(const char *sub, char **inputs, int n, int width, int height, const ct_renderer_desc *rd,
                      const cli_layer_options *opts, ct_render_context **ctx, ct_renderer **r, cli_scene *scene)
{
    ct_error err = {0};
    ct_render_context_desc cd = {.width = width, .height = height};
    *ctx = NULL;
    *r = NULL;
    if (ct_render_context_create(&cd, ctx, &err) != CT_OK || ct_renderer_create(*ctx, rd, r, &err) != CT_OK) {
        ct_render_context_destroy(*ctx);
        *ctx = NULL;
        return cli_fail_err(sub, &err);
    }
    int rc = cli_scene_open(sub, inputs, n, *r, opts, scene);
    if (rc != 0) {
        ct_renderer_destroy(*r);
        ct_render_context_destroy(*ctx);
        *r = NULL;
        *ctx = NULL;
    }
    return rc;
}

void cli_headless_close(ct_render_context *ctx, ct_renderer *r, cli_scene *scene)
{
    cli_scene_close(scene);
    ct_renderer_destroy(r);
    ct_render_context_destroy(ctx);
}
