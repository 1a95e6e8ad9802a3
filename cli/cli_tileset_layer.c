/* A 3D Tiles tileset as a render layer: the thin layer between ct_tileset
 * (selection, streaming, budget; no GL) and the renderer. Workers decode
 * contents with ct_tile_content; the render thread uploads them as render
 * models under the tileset's per-frame time budget and draws the selected
 * tiles with double-precision transforms:
 *   world = placement * tile transform * [instance] * model_matrix. */
#include "cli_tileset_layer.h"

#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tile_gpu {
    ct_render_model **models; /* one per content model (NULL where nothing is drawable) */
    uint32_t n;
} tile_gpu;

typedef struct tileset_layer {
    ct_render_layer base;
    ct_tileset *ts;
    ct_renderer *r;
    ct_tileset_frame frame;
    double placement[16];
    ct_dvec3 center;
    double radius;
    bool has_bounds;
} tileset_layer;

/* ---- worker thread: bytes -> ct_tile_content ---- */

static ct_status decode(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                        const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    char *path = ct_uri_to_path(uri);
    char *dir = path ? ct_path_dirname(path) : NULL;
    ct_tile_content_options o = {.uri = path ? path : uri, .base_dir = dir, .tile_transform = tile_transform};
    ct_tile_content *c = NULL;
    ct_status st = ct_tile_content_load_memory(data, size, &o, &c, err);
    free(dir);
    free(path);
    if (st)
        return st;
    *decoded = c;
    /* CPU copy: vertices (~32 B), indices, points, and images as RGBA */
    size_t bytes = size + (size_t)c->vertex_count * 32 + (size_t)c->triangle_count * 12 + (size_t)c->point_count * 32;
    for (uint32_t i = 0; i < c->model_count; i++) {
        const ct_gltf *g = c->models[i].gltf;
        for (uint32_t k = 0; g && k < g->image_count; k++)
            bytes += (size_t)g->images[k].width * (size_t)g->images[k].height * 4;
    }
    *cpu_bytes = bytes;
    return CT_OK;
}

static void free_decoded(void *user, void *decoded) { ct_tile_content_destroy(decoded); }

/* ---- render thread: upload / unload ---- */

/* A point cloud as a one-primitive POINTS glTF, built on the stack for the
 * upload (the renderer copies what it needs). */
static ct_status upload_points(ct_renderer *r, const ct_tile_points *p, ct_render_model **out, ct_error *err)
{
    float *colors = NULL;
    if (p->colors || p->has_constant_color) {
        colors = ct_malloc_array((size_t)p->count * 4, sizeof(float));
        if (!colors)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        for (uint32_t i = 0; i < p->count; i++)
            for (int k = 0; k < 4; k++)
                colors[4 * i + k] = (p->colors ? p->colors[4 * i + k] : p->constant_color[k]) / 255.0f;
    }
    ct_gltf_primitive prim;
    memset(&prim, 0, sizeof prim);
    prim.mode = CT_GLTF_POINTS;
    prim.material = -1;
    prim.vertex_count = p->count;
    prim.positions = p->positions;
    prim.normals = p->normals;
    prim.colors = colors;
    for (int k = 0; k < 3; k++) {
        prim.bounds_min[k] = INFINITY;
        prim.bounds_max[k] = -INFINITY;
    }
    for (uint32_t i = 0; i < p->count; i++)
        for (int k = 0; k < 3; k++) {
            prim.bounds_min[k] = fminf(prim.bounds_min[k], p->positions[3 * i + k]);
            prim.bounds_max[k] = fmaxf(prim.bounds_max[k], p->positions[3 * i + k]);
        }
    ct_gltf_mesh mesh = {.primitives = &prim, .primitive_count = 1};
    ct_gltf_node node;
    memset(&node, 0, sizeof node);
    node.mesh = 0;
    node.parent = -1;
    ct_dmat4_identity(node.local);
    ct_dmat4_identity(node.world);
    int root = 0;
    ct_gltf_scene scene = {.nodes = &root, .node_count = 1};
    ct_gltf_draw draw;
    memset(&draw, 0, sizeof draw);
    ct_dmat4_identity(draw.world);
    ct_gltf g;
    memset(&g, 0, sizeof g);
    g.nodes = &node;
    g.node_count = 1;
    g.meshes = &mesh;
    g.mesh_count = 1;
    g.scenes = &scene;
    g.scene_count = 1;
    g.default_scene = 0;
    g.draws = &draw;
    g.draw_count = 1;
    g.vertex_count = p->count;
    for (int k = 0; k < 3; k++) {
        g.bounds_min[k] = prim.bounds_min[k];
        g.bounds_max[k] = prim.bounds_max[k];
    }
    ct_status st = ct_render_model_create(r, &g, NULL, out, err);
    free(colors);
    return st;
}

static void unload(void *user, void *gpu)
{
    tile_gpu *t = gpu;
    if (!t)
        return;
    for (uint32_t i = 0; i < t->n; i++)
        if (t->models[i])
            ct_render_model_destroy(t->models[i]);
    free(t->models);
    free(t);
}

static ct_status upload(void *user, const ct_tile *tile, int content_index, void *decoded, void **gpu,
                        size_t *gpu_bytes, ct_error *err)
{
    tileset_layer *L = user;
    const ct_tile_content *c = decoded;
    tile_gpu *t = calloc(1, sizeof *t);
    if (!t)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    t->models = ct_calloc_array(c->model_count ? c->model_count : 1, sizeof *t->models);
    if (!t->models) {
        free(t);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    t->n = c->model_count;
    size_t bytes = 0;
    for (uint32_t i = 0; i < c->model_count; i++) {
        const ct_tile_model *m = &c->models[i];
        ct_status st = CT_OK;
        if (m->gltf)
            st = ct_render_model_create(L->r, m->gltf, NULL, &t->models[i], err);
        else if (m->points.count)
            st = upload_points(L->r, &m->points, &t->models[i], err);
        if (st) {
            unload(NULL, t);
            return st;
        }
        if (t->models[i])
            bytes += ct_render_model_bytes(t->models[i]);
    }
    *gpu = t;
    *gpu_bytes = bytes;
    return CT_OK;
}

/* ---- layer ---- */

static ct_status tl_update(ct_render_layer *l, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err)
{
    tileset_layer *L = (tileset_layer *)l;
    L->r = r;
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    v.position = cam->position;
    v.direction = cam->direction;
    ct_camera_frustum_planes(cam, v.planes);
    v.viewport_height = h > 0 ? h : 1;
    v.fovy = (cam->fov_y_deg > 0 ? cam->fov_y_deg : 60.0) * M_PI / 180.0;
    ct_status st = ct_tileset_update(L->ts, &v, &L->frame, err);
    /* complete: nothing left to load for this view; with the budget full of
     * needed content nothing more can come either */
    const ct_tileset_stats *s = &L->frame.stats;
    *complete = s->all_loaded || (s->budget_limited && s->requests_in_flight == 0 && s->requests_queued == 0);
    return st;
}

static void tl_draw(ct_render_layer *l, ct_renderer *r)
{
    tileset_layer *L = (tileset_layer *)l;
    for (int i = 0; i < L->frame.n_draws; i++) {
        const ct_tileset_draw *d = &L->frame.draws[i];
        const tile_gpu *t = d->gpu;
        const ct_tile_content *c = d->decoded;
        if (!t || !c)
            continue;
        for (uint32_t k = 0; k < t->n && k < c->model_count; k++) {
            const ct_tile_model *m = &c->models[k];
            if (!t->models[k])
                continue;
            ct_render_draw_desc dd;
            memset(&dd, 0, sizeof dd);
            dd.pick_id = l->pick_id;
            dd.force_unlit = m->format == CT_TILE_FORMAT_PNTS;
            dd.point_size = m->format == CT_TILE_FORMAT_PNTS ? 2 : 0;
            if (m->instance_count && m->instance_matrices) {
                for (uint32_t n = 0; n < m->instance_count; n++) {
                    double im[16];
                    ct_dmat4_mul(im, &m->instance_matrices[16 * n], m->model_matrix);
                    ct_dmat4_mul(dd.world, d->transform, im);
                    ct_renderer_draw_model(r, t->models[k], &dd);
                }
            } else {
                ct_dmat4_mul(dd.world, d->transform, m->model_matrix);
                ct_renderer_draw_model(r, t->models[k], &dd);
            }
        }
    }
}

static bool tl_bounds(ct_render_layer *l, ct_dvec3 *center, double *radius)
{
    tileset_layer *L = (tileset_layer *)l;
    if (!L->has_bounds)
        return false;
    *center = L->center;
    *radius = L->radius;
    return true;
}

static void tl_stats(ct_render_layer *l, ct_render_layer_stats *out)
{
    tileset_layer *L = (tileset_layer *)l;
    ct_tileset_stats s;
    ct_tileset_get_stats(L->ts, &s);
    memset(out, 0, sizeof *out);
    out->has_tiles = true;
    out->tiles_selected = (uint64_t)s.tiles_selected;
    out->tiles_loaded = (uint64_t)s.contents_loaded;
    out->tiles_failed = (uint64_t)s.tiles_failed;
    out->bytes_used = s.bytes_used;
    out->bytes_budget = s.bytes_budget;
}

static void tl_destroy(ct_render_layer *l)
{
    tileset_layer *L = (tileset_layer *)l;
    ct_tileset_destroy(L->ts); /* unloads GPU models here, on the render thread */
    free(l->name);
    free(L);
}

static const ct_render_layer_vtable TILESET_VT = {tl_update, tl_draw, tl_bounds, tl_stats, tl_destroy};

/* Bounding sphere of the root volume, placed. */
static void root_sphere(tileset_layer *L)
{
    const ct_tile *root = ct_tileset_root(L->ts);
    ct_obb b;
    ct_bounding_volume_to_obb(&root->bv, root->transform, &b);
    double r2 = 0;
    for (int a = 0; a < 3; a++)
        r2 += ct_dvec3_dot(b.axes[a], b.axes[a]);
    L->center = ct_dmat4_transform_point(L->placement, b.center);
    double sc = 0;
    for (int a = 0; a < 3; a++)
        sc = fmax(sc, ct_dvec3_length(ct_dmat4_transform_dir(L->placement, (ct_dvec3){a == 0, a == 1, a == 2})));
    L->radius = sqrt(r2) * (sc > 0 ? sc : 1);
    L->has_bounds = L->radius > 0 && isfinite(L->radius);
    L->base.geographic = ct_dvec3_length(L->center) > 6.0e6;
}

ct_status cli_tileset_layer_create(ct_renderer *r, const cli_tileset_layer_desc *d, ct_render_layer **out,
                                   ct_error *err)
{
    *out = NULL;
    tileset_layer *L = calloc(1, sizeof *L);
    if (!L)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    L->r = r;
    L->base.vt = &TILESET_VT;
    L->base.name = ct_strdup(d->name ? d->name : d->uri);
    ct_tileset_desc td = {
        .uri = d->uri,
        .max_sse = d->sse,
        .memory_budget = d->memory_budget,
        .skip_levels = d->skip_levels,
        .allow_outside_folder = d->allow_outside_folder,
        .http_headers = d->http_headers,
        .n_http_headers = d->n_http_headers,
        .callbacks = {.user = L, .decode = decode, .free_decoded = free_decoded, .upload = upload, .unload = unload},
    };
    ct_status st = ct_tileset_create(&td, &L->ts, err);
    if (st) {
        free(L->base.name);
        free(L);
        return st;
    }
    /* Placement: a georeferenced (ECEF) tileset takes the scene layer's local
     * adjustment in the scene's ENU frame (F * L * F^-1); a local one is put
     * in the scene frame (F * L). */
    ct_dmat4_identity(L->placement);
    if (d->has_local_frame) {
        const ct_tile *root = ct_tileset_root(L->ts);
        ct_obb b;
        ct_bounding_volume_to_obb(&root->bv, root->transform, &b);
        double fl[16];
        ct_dmat4_mul(fl, d->scene_to_ecef, d->layer_transform);
        if (ct_dvec3_length(b.center) > 6.0e6) {
            double inv[16];
            if (ct_dmat4_invert(inv, d->scene_to_ecef))
                ct_dmat4_mul(L->placement, fl, inv);
        } else {
            memcpy(L->placement, fl, sizeof fl);
        }
        ct_tileset_set_placement(L->ts, L->placement);
    }
    root_sphere(L);
    *out = &L->base;
    return CT_OK;
}
