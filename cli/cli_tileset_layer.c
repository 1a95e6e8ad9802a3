/* A 3D Tiles tileset as a render layer: the thin layer between ct_tileset
 * (selection, streaming, budget; no GL) and the renderer. Workers decode
 * contents with ct_tile_content; the render thread uploads them as render
 * models under the tileset's per-frame time budget and draws the selected
 * tiles with double-precision transforms:
 *   world = placement * tile transform * [instance] * model_matrix. */
#include "cli_tileset_layer.h"

#include "cli_scene.h"

#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct tile_gpu {
    ct_render_model **models; /* one per content model (NULL where nothing is drawable) */
    uint32_t n;
} tile_gpu;

/* One draw call of the last frame, found again from its pick id. */
typedef struct pick_slot {
    int draw;          /* index into frame.draws */
    uint32_t model;    /* content model */
    int64_t instance;  /* i3dm instance drawn by this call, -1 = none */
} pick_slot;

typedef struct tileset_layer {
    ct_render_layer base;
    pick_slot *slots;
    uint32_t n_slots, cap_slots;
    ct_tileset *ts;
    ct_renderer *r;
    ct_tileset_frame frame;
    double placement[16];
    ct_dvec3 center;
    double radius;
    bool has_bounds;
} tileset_layer;

/* ---- worker thread: bytes -> ct_tile_content ---- */

/* Resources a content refers to (i3dm external glTF) come through the
 * tileset's own fetcher: from disk inside its folder, or over HTTP. */
typedef struct content_fetch {
    const ct_tileset *ts;
    const char *content_uri;
} content_fetch;

static ct_status fetch_resource(void *user, const char *uri, uint8_t **data, size_t *size, ct_error *err)
{
    const content_fetch *f = user;
    return ct_tileset_fetch_resource(f->ts, f->content_uri, uri, data, size, err);
}

static ct_status decode(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                        const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    char *path = ct_uri_to_path(uri);
    char *dir = path ? ct_path_dirname(path) : NULL;
    tileset_layer *L = user;
    content_fetch cf = {L->ts, uri};
    ct_tile_content_options o = {.uri = path ? path : uri, .base_dir = dir, .tile_transform = tile_transform,
                                 .fetch = L->ts ? fetch_resource : NULL, .fetch_user = &cf,
                                 .gltf_up_axis = L->ts ? ct_tileset_gltf_up_axis(L->ts) : 'Y'};
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
        bytes += ct_property_tables_bytes(c->models[i].property_tables);
    }
    *cpu_bytes = bytes;
    return CT_OK;
}

static void free_decoded(void *user, void *decoded) { ct_tile_content_destroy(decoded); }

/* ---- render thread: upload / unload ---- */

/* A point cloud as a one-primitive POINTS glTF, built on the stack for the
 * upload (the renderer copies what it needs). */
static ct_status upload_points(ct_renderer *r, const ct_tile_points *p, uint32_t feature_count,
                               ct_render_model **out, ct_error *err)
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
    /* feature ids for picking: BATCH_ID, or the point index when the batch
     * table is per point */
    uint32_t *index_ids = NULL;
    prim.feature_ids = p->batch_ids;
    if (!p->batch_ids && feature_count == p->count && p->count) {
        index_ids = ct_malloc_array(p->count, sizeof *index_ids);
        for (uint32_t i = 0; index_ids && i < p->count; i++)
            index_ids[i] = i;
        prim.feature_ids = index_ids;
    }
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
    free(index_ids);
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
            st = upload_points(L->r, &m->points, m->feature_count, &t->models[i], err);
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

/* The pick id of one draw call: the layer's id in the low bits, the slot
 * (1-based) above; calls beyond what the bits hold get the layer id only. */
static uint32_t slot_push(tileset_layer *L, int draw, uint32_t model, int64_t instance)
{
    uint32_t layer = L->base.pick_id;
    if (L->n_slots + 1 >= (1u << (32 - CLI_PICK_LAYER_BITS)))
        return layer;
    if (L->n_slots == L->cap_slots) {
        uint32_t cap = L->cap_slots ? L->cap_slots * 2 : 256;
        pick_slot *n = realloc(L->slots, (size_t)cap * sizeof *n);
        if (!n)
            return layer;
        L->slots = n;
        L->cap_slots = cap;
    }
    L->slots[L->n_slots++] = (pick_slot){draw, model, instance};
    return layer | (L->n_slots << CLI_PICK_LAYER_BITS);
}

static void tl_draw(ct_render_layer *l, ct_renderer *r)
{
    tileset_layer *L = (tileset_layer *)l;
    L->n_slots = 0;
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
            dd.force_unlit = m->format == CT_TILE_FORMAT_PNTS;
            dd.point_size = m->format == CT_TILE_FORMAT_PNTS ? 2 : 0;
            if (m->instance_count && m->instance_matrices) {
                for (uint32_t n = 0; n < m->instance_count; n++) {
                    double im[16];
                    ct_dmat4_mul(im, &m->instance_matrices[16 * n], m->model_matrix);
                    ct_dmat4_mul(dd.world, d->transform, im);
                    dd.pick_id = slot_push(L, i, k, n);
                    ct_renderer_draw_model(r, t->models[k], &dd);
                }
            } else {
                ct_dmat4_mul(dd.world, d->transform, m->model_matrix);
                dd.pick_id = slot_push(L, i, k, -1);
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
    out->tiles_in_flight = (uint64_t)s.requests_in_flight;
    out->bytes_used = s.bytes_used;
    out->bytes_budget = s.bytes_budget;
}

static void tl_destroy(ct_render_layer *l)
{
    tileset_layer *L = (tileset_layer *)l;
    ct_tileset_destroy(L->ts); /* unloads GPU models here, on the render thread */
    free(L->slots);
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
        .workers = d->workers,
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

struct ct_tileset *cli_tileset_layer_tileset(ct_render_layer *l)
{
    return l && l->vt == &TILESET_VT ? ((tileset_layer *)l)->ts : NULL;
}

/* ---- picking ---- */

/* A metadata entity from tileset.json ({"class", "properties"}) with the
 * schema's defaults filled in for absent properties and noData values. */
static cJSON *metadata_entity(const char *raw, const cJSON *schema)
{
    cJSON *e = raw ? cJSON_Parse(raw) : NULL;
    if (!cJSON_IsObject(e)) {
        cJSON_Delete(e);
        return NULL;
    }
    const cJSON *cname = cJSON_GetObjectItemCaseSensitive(e, "class");
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(schema, "classes"),
                                                        cJSON_IsString(cname) ? cname->valuestring : "");
    cJSON *props = cJSON_GetObjectItemCaseSensitive(e, "properties");
    if (props && !cJSON_IsObject(props))
        return e; /* not what the spec says: shown as written */
    const cJSON *cp;
    cJSON_ArrayForEach(cp, cJSON_GetObjectItemCaseSensitive(cls, "properties"))
    {
        const cJSON *def = cJSON_GetObjectItemCaseSensitive(cp, "default");
        const cJSON *nd = cJSON_GetObjectItemCaseSensitive(cp, "noData");
        cJSON *v = cJSON_GetObjectItemCaseSensitive(props, cp->string);
        if (!props && def)
            props = cJSON_AddObjectToObject(e, "properties");
        if (v && nd && cJSON_Compare(v, nd, true))
            cJSON_ReplaceItemInObjectCaseSensitive(props, cp->string, def ? cJSON_Duplicate(def, true)
                                                                             : cJSON_CreateNull());
        else if (!v && def)
            cJSON_AddItemToObject(props, cp->string, cJSON_Duplicate(def, true));
    }
    return e;
}

/* EXT_mesh_features / EXT_structural_metadata under the hit: the hit is taken
 * back to the primitive's own frame (placement * tile * [instance] * model *
 * node), where the content finds its triangle, texel and vertex. A feature id
 * texture in featureIds[0] (the id buffer only holds vertex ids) gives the
 * pick's feature_id and properties. */
static void pick_point_details(const tileset_layer *L, const ct_tileset_draw *d, const ct_tile_model *m,
                               const pick_slot *s, const ct_render_pick *p, cJSON *o)
{
    (void)L;
    const ct_tile_content *c = d->decoded;
    if (!m || !m->gltf || !m->property_tables || p->mesh < 0 || p->primitive < 0)
        return;
    const ct_gltf_draw *gd = NULL;
    for (uint32_t i = 0; i < m->gltf->draw_count && !gd; i++)
        if (m->gltf->draws[i].node == p->node && m->gltf->draws[i].mesh == p->mesh)
            gd = &m->gltf->draws[i];
    if (!gd)
        return;
    double a[16], b[16], full[16], inv[16];
    if (s->instance >= 0 && m->instance_matrices && (uint32_t)s->instance < m->instance_count) {
        ct_dmat4_mul(a, &m->instance_matrices[16 * (size_t)s->instance], m->model_matrix);
        ct_dmat4_mul(b, d->transform, a);
    } else {
        ct_dmat4_mul(b, d->transform, m->model_matrix);
    }
    ct_dmat4_mul(full, b, gd->world);
    if (!ct_dmat4_invert(inv, full))
        return;
    ct_dvec3 q = ct_dmat4_transform_point(inv, p->position);
    double local[3] = {q.x, q.y, q.z};
    cJSON *pp = ct_tile_content_pick_point(c, s->model, p->mesh, p->primitive, local);
    if (!pp)
        return;
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pp, "feature_ids"), 0);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(f0, "source");
    if (cJSON_IsString(src) && !strcmp(src->valuestring, "texture")) {
        const cJSON *fid = cJSON_GetObjectItemCaseSensitive(f0, "feature_id");
        cJSON_ReplaceItemInObjectCaseSensitive(o, "feature_id", cJSON_Duplicate(fid, true));
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(f0, "properties");
        if (props) {
            cJSON_ReplaceItemInObjectCaseSensitive(o, "properties", cJSON_Duplicate(props, true));
            cJSON_DeleteItemFromObjectCaseSensitive(o, "property_table");
            cJSON_DeleteItemFromObjectCaseSensitive(o, "class");
            cJSON_AddItemToObject(o, "property_table",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(f0, "property_table"), true));
            const cJSON *cls = cJSON_GetObjectItemCaseSensitive(f0, "class");
            if (cls)
                cJSON_AddItemToObject(o, "class", cJSON_Duplicate(cls, true));
        }
    }
    static const char *keys[] = {"feature_ids", "property_textures", "property_attributes"};
    for (int k = 0; k < 3; k++) {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(pp, keys[k]);
        if (cJSON_GetArraySize(v) > 0)
            cJSON_AddItemToObject(o, keys[k], v);
        else
            cJSON_Delete(v);
    }
    cJSON_Delete(pp);
}

bool cli_tileset_layer_pick_details(ct_render_layer *l, const ct_render_pick *p, cJSON *o)
{
    if (!l || l->vt != &TILESET_VT)
        return false;
    tileset_layer *L = (tileset_layer *)l;
    cJSON_AddStringToObject(o, "tileset", l->name ? l->name : "");
    uint32_t slot = p->pick_id >> CLI_PICK_LAYER_BITS;
    if (slot == 0 || slot > L->n_slots || L->slots[slot - 1].draw >= L->frame.n_draws) {
        cJSON_AddNullToObject(o, "tile");
        return true;
    }
    const pick_slot *s = &L->slots[slot - 1];
    const ct_tileset_draw *d = &L->frame.draws[s->draw];
    const ct_tile *t = d->tile;
    const ct_tileset_content *tc =
        t && d->content_index >= 0 && d->content_index < t->n_contents ? &t->contents[d->content_index] : NULL;
    cJSON *tj = cJSON_AddObjectToObject(o, "tile");
    cJSON_AddNumberToObject(tj, "id", (double)d->tile_id);
    if (t) {
        cJSON_AddStringToObject(tj, "path", t->path ? t->path : "");
        cJSON_AddNumberToObject(tj, "depth", t->depth);
        cJSON_AddNumberToObject(tj, "geometric_error", t->geometric_error);
        cJSON_AddStringToObject(tj, "refine", t->refine == CT_REFINE_ADD ? "ADD" : "REPLACE");
        if (t->kind == CT_TILE_IMPLICIT) {
            double xyz[3] = {t->implicit_xyz[0], t->implicit_xyz[1], t->implicit_xyz[2]};
            cJSON_AddNumberToObject(tj, "implicit_level", t->implicit_level);
            cJSON_AddItemToObject(tj, "implicit_xyz", cJSON_CreateDoubleArray(xyz, 3));
        }
    }
    const ct_tile_content *c = d->decoded;
    cJSON_AddStringToObject(tj, "content_uri", tc && tc->uri ? tc->uri : "");
    cJSON_AddNumberToObject(tj, "content_index", d->content_index);
    const ct_tile_model *m = c && s->model < c->model_count ? &c->models[s->model] : NULL;
    if (m)
        cJSON_AddStringToObject(tj, "content_format", ct_tile_format_name(m->format));
    cJSON_AddNumberToObject(tj, "model", s->model);
    /* feature id: per instance for i3dm (each instance is its own draw call) */
    int64_t fid = p->feature_id;
    if (m && s->instance >= 0) {
        uint32_t f = ct_tile_model_instance_feature_id(m, (uint32_t)s->instance);
        fid = f == UINT32_MAX ? -1 : (int64_t)f;
        cJSON *ij = cJSON_CreateNumber((double)s->instance);
        if (!cJSON_ReplaceItemInObjectCaseSensitive(o, "instance", ij))
            cJSON_AddItemToObject(o, "instance", ij);
    }
    cJSON *fj = fid >= 0 ? cJSON_CreateNumber((double)fid) : cJSON_CreateNull();
    if (!cJSON_ReplaceItemInObjectCaseSensitive(o, "feature_id", fj))
        cJSON_AddItemToObject(o, "feature_id", fj);
    int table = -1;
    cJSON *props = m && fid >= 0 && fid < UINT32_MAX
                       ? ct_tile_content_pick_properties(c, s->model, p->mesh, p->primitive, (uint32_t)fid, &table)
                       : NULL;
    if (props) {
        cJSON_AddItemToObject(o, "properties", props);
        if (table >= 0) {
            const char *cls = ct_property_tables_class(m->property_tables, (uint32_t)table);
            cJSON_AddNumberToObject(o, "property_table", table);
            if (cls)
                cJSON_AddStringToObject(o, "class", cls);
        }
    } else {
        cJSON_AddNullToObject(o, "properties");
    }
    pick_point_details(L, d, m, s, p, o);
    /* 3D Tiles 1.1 metadata of the tileset, the content's group, the tile and the content */
    const char *sraw = ct_tileset_schema_json(L->ts);
    cJSON *schema = sraw ? cJSON_Parse(sraw) : NULL;
    cJSON *md = cJSON_CreateObject();
    cJSON *e;
    if ((e = metadata_entity(ct_tileset_metadata_json(L->ts), schema)))
        cJSON_AddItemToObject(md, "tileset", e);
    const char *graw = ct_tileset_groups_json(L->ts);
    if (tc && tc->group >= 0 && graw) {
        cJSON *groups = cJSON_Parse(graw);
        char *one = cJSON_PrintUnformatted(cJSON_GetArrayItem(groups, tc->group));
        if ((e = metadata_entity(one, schema))) {
            cJSON_AddNumberToObject(e, "index", tc->group);
            cJSON_AddItemToObject(md, "group", e);
        }
        free(one);
        cJSON_Delete(groups);
    }
    if (t && (e = metadata_entity(t->metadata_json, schema)))
        cJSON_AddItemToObject(md, "tile", e);
    if (tc && (e = metadata_entity(tc->metadata_json, schema)))
        cJSON_AddItemToObject(md, "content", e);
    /* implicit tiles: tileMetadata / contentMetadata rows of their subtree
     * (defaults and noData already applied by the property-table reader) */
    for (int k = 0; t && t->kind == CT_TILE_IMPLICIT && k < 2; k++) {
        const char *key = k ? "content" : "tile";
        if (cJSON_GetObjectItemCaseSensitive(md, key) || (k && !tc))
            continue;
        char *raw = ct_tileset_implicit_metadata_json(L->ts, t, k ? d->content_index : -1);
        if ((e = raw ? cJSON_Parse(raw) : NULL))
            cJSON_AddItemToObject(md, key, e);
        free(raw);
    }
    cJSON_Delete(schema);
    if (cJSON_GetArraySize(md) > 0)
        cJSON_AddItemToObject(o, "metadata", md);
    else
        cJSON_Delete(md);
    return true;
}
