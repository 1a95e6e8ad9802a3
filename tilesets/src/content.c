/* Tile content entry points: sniffing, the shared b3dm/i3dm/pnts header,
 * cmpt (recursive, depth-limited), glb/glTF content, totals and bounds. */
#include "content_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *ct_tile_format_name(ct_tile_format f)
{
    switch (f) {
    case CT_TILE_FORMAT_B3DM: return "b3dm";
    case CT_TILE_FORMAT_I3DM: return "i3dm";
    case CT_TILE_FORMAT_PNTS: return "pnts";
    case CT_TILE_FORMAT_CMPT: return "cmpt";
    case CT_TILE_FORMAT_GLB: return "glb";
    case CT_TILE_FORMAT_GLTF: return "gltf";
    case CT_TILE_FORMAT_TILESET: return "json";
    case CT_TILE_FORMAT_SUBTREE: return "subtree";
    default: return "unknown";
    }
}

ct_tile_format ct_tile_format_sniff(const void *data, size_t size)
{
    const uint8_t *d = data;
    if (size >= 4) {
        if (memcmp(d, "b3dm", 4) == 0) return CT_TILE_FORMAT_B3DM;
        if (memcmp(d, "i3dm", 4) == 0) return CT_TILE_FORMAT_I3DM;
        if (memcmp(d, "pnts", 4) == 0) return CT_TILE_FORMAT_PNTS;
        if (memcmp(d, "cmpt", 4) == 0) return CT_TILE_FORMAT_CMPT;
        if (memcmp(d, "glTF", 4) == 0) return CT_TILE_FORMAT_GLB;
        if (memcmp(d, "subt", 4) == 0) return CT_TILE_FORMAT_SUBTREE;
    }
    size_t i = 0;
    if (size >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF)
        i = 3; /* UTF-8 BOM */
    while (i < size && isspace(d[i]))
        i++;
    if (i >= size || d[i] != '{')
        return CT_TILE_FORMAT_UNKNOWN;
    cJSON *root = cJSON_ParseWithLength((const char *)d + i, size - i);
    ct_tile_format f = CT_TILE_FORMAT_UNKNOWN;
    if (cJSON_IsObject(root)) {
        if (cJSON_GetObjectItemCaseSensitive(root, "root"))
            f = CT_TILE_FORMAT_TILESET;
        else if (cJSON_GetObjectItemCaseSensitive(root, "asset"))
            f = CT_TILE_FORMAT_GLTF;
    }
    cJSON_Delete(root);
    return f;
}

void ct_tile_y_up_to_z_up(double m[16])
{
    /* Rotation of +90 degrees about x: (x, y, z) -> (x, -z, y). */
    ct_dmat4_identity(m);
    m[5] = 0, m[6] = 1;  /* column 1 (y axis) -> +z */
    m[9] = -1, m[10] = 0; /* column 2 (z axis) -> -y */
}

void ct_tile_up_axis_to_z_up(char axis, double m[16])
{
    if (axis == 'Z') {
        ct_dmat4_identity(m);
    } else if (axis == 'X') {
        /* (x, y, z) -> (-z, y, x): the x axis goes to +z */
        ct_dmat4_identity(m);
        m[0] = 0, m[2] = 1;   /* column 0 (x axis) -> +z */
        m[8] = -1, m[10] = 0; /* column 2 (z axis) -> -x */
    } else {
        ct_tile_y_up_to_z_up(m);
    }
}

ct_status ct_tile_header_parse(const ct_content_ctx *ctx, const char *magic, const uint8_t *d, size_t n, size_t off,
                               size_t header_size, ct_tile_header *h, ct_error *err)
{
    memset(h, 0, sizeof *h);
    if (n < header_size)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s header needs %zu bytes at byte %zu, only %zu left (truncated)",
                            ctx->uri, magic, header_size, off, n);
    uint32_t version = ct_rd_u32(d + 4);
    if (version != 1)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s version %u at byte %zu is not supported (expected 1)", ctx->uri,
                            magic, version, off + 4);
    h->byte_length = ct_rd_u32(d + 8);
    if (h->byte_length > n)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s byteLength %u at byte %zu exceeds file size %zu", ctx->uri,
                            magic, h->byte_length, off + 8, n);
    uint32_t v[5] = {0};
    for (size_t i = 0; i < (header_size - 12) / 4 && i < 5; i++) /* 4 fields, 5 for i3dm */
        v[i] = ct_rd_u32(d + 12 + 4 * i);
    static const char *names[] = {"featureTableJSONByteLength", "featureTableBinaryByteLength",
                                  "batchTableJSONByteLength", "batchTableBinaryByteLength"};
    size_t pos = header_size;
    uint32_t len[4] = {v[0], v[1], v[2], v[3]};
    /* Legacy b3dm layouts, detected as CesiumJS does: in them the field read as
     * batchTableJSONByteLength (or batchTableBinaryByteLength) actually holds the
     * first bytes of the JSON ('{' / '"') or the glTF magic, i.e. >= 0x22000000. */
    if (strcmp(magic, "b3dm") == 0 && v[2] >= 570425344u) {
        /* [batchLength][batchTableByteLength], 20-byte header */
        h->legacy = true;
        h->batch_length = v[0];
        len[0] = len[1] = len[3] = 0;
        len[2] = v[1];
        pos = 20;
    } else if (strcmp(magic, "b3dm") == 0 && v[3] >= 570425344u) {
        /* [batchTableJSONByteLength][batchTableBinaryByteLength][batchLength], 24-byte header */
        h->legacy = true;
        h->batch_length = v[2];
        len[0] = len[1] = 0;
        len[2] = v[0];
        len[3] = v[1];
        pos = 24;
    }
    if (strcmp(magic, "i3dm") == 0)
        h->gltf_format = v[4];
    if (h->byte_length < pos)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s byteLength %u at byte %zu is smaller than its header (%zu bytes)",
                            ctx->uri, magic, h->byte_length, off + 8, pos);
    size_t *offs[4] = {&h->ft_json_off, &h->ft_bin_off, &h->bt_json_off, &h->bt_bin_off};
    uint64_t cur = pos;
    for (int i = 0; i < 4; i++) {
        size_t field_at = h->legacy ? (i == 2 ? (pos == 20 ? 16 : 12) : i == 3 ? 16 : 12) : 12 + 4 * (size_t)i;
        if ((uint64_t)len[i] > h->byte_length - cur)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s %u at byte %zu exceeds file size %u (%llu bytes left)",
                                ctx->uri, names[i], len[i], off + field_at, h->byte_length,
                                (unsigned long long)(h->byte_length - cur));
        *offs[i] = (size_t)cur;
        cur += len[i];
    }
    h->ft_json_len = len[0], h->ft_bin_len = len[1], h->bt_json_len = len[2], h->bt_bin_len = len[3];
    h->body_off = (size_t)cur;
    h->end_off = h->byte_length;
    return CT_OK;
}

void ct_content_warn(const ct_content_ctx *ctx, const ct_error *e)
{
    ct_log(CT_LOG_WARN, "%s (skipped)", e->msg);
    if (ctx->warnings)
        (*ctx->warnings)++;
}

ct_status ct_content_fetch(const ct_content_ctx *ctx, const char *uri, uint8_t **data, size_t *size, ct_error *err)
{
    *data = NULL;
    *size = 0;
    const ct_tile_content_options *o = ctx->opts;
    if (o->fetch) {
        ct_status st = o->fetch(o->fetch_user, uri, data, size, err);
        if (st) /* the fetcher names the resolved URI; say which tile asked for it */
            ct_error_prefix(err, "%s: external resource %s: ", ctx->uri, uri);
        return st;
    }
    if (!o->base_dir)
        return ct_error_set(err, CT_ERR_INPUT, "%s: external resource %s cannot be resolved (no base directory)",
                            ctx->uri, uri);
    if (uri[0] == '/' || strstr(uri, "://"))
        return ct_error_set(err, CT_ERR_INPUT, "%s: external resource %s is not a relative path", ctx->uri, uri);
    char *path = ct_path_join(o->base_dir, uri);
    if (!path)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    ct_status st = ct_file_read(path, o->max_external_bytes ? o->max_external_bytes : (256u << 20), data, size, err);
    free(path);
    if (st)
        ct_error_prefix(err, "%s: ", ctx->uri);
    return st;
}

ct_status ct_content_load_gltf(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_gltf **out,
                               ct_error *err)
{
    char name[512];
    snprintf(name, sizeof name, "%s (glTF at byte %zu)", ctx->uri, off);
    ct_gltf_options go = {0};
    go.base_dir = ctx->opts->base_dir;
    go.skip_images = ctx->opts->skip_images;
    go.max_file_bytes = ctx->opts->max_external_bytes;
    go.name = name;
    return ct_gltf_load_memory(d, n, &go, out, err);
}

static ct_status decode_glb(const ct_content_ctx *ctx, ct_tile_format f, const uint8_t *d, size_t n, size_t off,
                            ct_tile_model *m, ct_error *err)
{
    m->format = f;
    ct_status st = ct_content_load_gltf(ctx, d, n, off, &m->gltf, err);
    if (st)
        return st;
    ct_error e;
    if (ct_content_load_metadata(ctx, d, n, off, m->gltf, &m->property_tables, &e))
        ct_content_warn(ctx, &e); /* the geometry still draws; picks just have no properties */
    double yup[16], t[16];
    ct_tile_up_axis_to_z_up(ctx->opts->gltf_up_axis, yup);
    ct_dmat4_identity(t);
    if (m->gltf->has_rtc_center) {
        m->has_rtc_center = true;
        memcpy(m->rtc_center, m->gltf->rtc_center, sizeof m->rtc_center);
        memcpy(m->origin, m->rtc_center, sizeof m->origin);
        t[12] = m->origin[0], t[13] = m->origin[1], t[14] = m->origin[2];
    }
    ct_dmat4_mul(m->model_matrix, t, yup);
    return CT_OK;
}

/* A growing list of models. */
typedef struct model_list {
    ct_tile_model *v;
    uint32_t n, cap;
} model_list;

static ct_tile_model *model_push(model_list *l, size_t off)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        ct_tile_model *nv = realloc(l->v, (size_t)cap * sizeof *nv);
        if (!nv)
            return NULL;
        l->v = nv;
        l->cap = cap;
    }
    ct_tile_model *m = &l->v[l->n++];
    memset(m, 0, sizeof *m);
    m->byte_offset = off;
    ct_dmat4_identity(m->model_matrix);
    return m;
}

static void model_free(ct_tile_model *m)
{
    ct_gltf_destroy(m->gltf);
    free(m->instance_matrices);
    free(m->instance_batch_ids);
    free(m->points.positions);
    free(m->points.colors);
    free(m->points.normals);
    free(m->points.batch_ids);
    ct_batch_table_destroy(m->batch_table);
    ct_property_tables_destroy(m->property_tables);
}

static ct_status decode_any(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, model_list *l,
                            ct_error *err);

static ct_status decode_cmpt(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, model_list *l,
                             ct_error *err)
{
    int max_depth = ctx->opts->max_depth > 0 ? ctx->opts->max_depth : 8;
    if (ctx->depth >= max_depth)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt at byte %zu nested deeper than %d levels", ctx->uri, off,
                            max_depth);
    if (n < 16)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt header needs 16 bytes at byte %zu, only %zu left (truncated)",
                            ctx->uri, off, n);
    uint32_t version = ct_rd_u32(d + 4), byte_length = ct_rd_u32(d + 8), tiles = ct_rd_u32(d + 12);
    if (version != 1)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt version %u at byte %zu is not supported (expected 1)",
                            ctx->uri, version, off + 4);
    if (byte_length > n)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt byteLength %u at byte %zu exceeds file size %zu", ctx->uri,
                            byte_length, off + 8, n);
    if (byte_length < 16)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt byteLength %u at byte %zu is smaller than its header", ctx->uri,
                            byte_length, off + 8);
    /* Each inner tile has at least a 12-byte header: bound tilesLength by the bytes. */
    if ((uint64_t)tiles * 12 > byte_length - 16)
        return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt tilesLength %u at byte %zu cannot fit in %u bytes", ctx->uri,
                            tiles, off + 12, byte_length);
    ct_content_ctx inner = *ctx;
    inner.depth = ctx->depth + 1;
    size_t pos = 16;
    for (uint32_t i = 0; i < tiles; i++) {
        if (byte_length - pos < 12)
            return ct_error_set(err, CT_ERR_INPUT, "%s: cmpt inner tile %u at byte %zu: header truncated", ctx->uri, i,
                                off + pos);
        uint32_t len = ct_rd_u32(d + pos + 8);
        if (len < 12 || len > byte_length - pos)
            return ct_error_set(err, CT_ERR_INPUT,
                                "%s: cmpt inner tile %u byteLength %u at byte %zu exceeds the composite (%zu bytes left)",
                                ctx->uri, i, len, off + pos + 8, byte_length - pos);
        ct_status st = decode_any(&inner, d + pos, len, off + pos, l, err);
        if (st)
            return st;
        pos += len;
    }
    return CT_OK;
}

static ct_status decode_any(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, model_list *l,
                            ct_error *err)
{
    if (n < 4)
        return ct_error_set(err, CT_ERR_INPUT, "%s: content at byte %zu too short (%zu bytes) to hold a magic",
                            ctx->uri, off, n);
    ct_tile_format f = CT_TILE_FORMAT_UNKNOWN;
    if (memcmp(d, "b3dm", 4) == 0) f = CT_TILE_FORMAT_B3DM;
    else if (memcmp(d, "i3dm", 4) == 0) f = CT_TILE_FORMAT_I3DM;
    else if (memcmp(d, "pnts", 4) == 0) f = CT_TILE_FORMAT_PNTS;
    else if (memcmp(d, "cmpt", 4) == 0) f = CT_TILE_FORMAT_CMPT;
    else if (memcmp(d, "glTF", 4) == 0) f = CT_TILE_FORMAT_GLB;
    if (f == CT_TILE_FORMAT_CMPT)
        return decode_cmpt(ctx, d, n, off, l, err);
    if (f == CT_TILE_FORMAT_UNKNOWN) {
        char m[20];
        size_t k = 0;
        for (int i = 0; i < 4; i++)
            k += (size_t)snprintf(m + k, sizeof m - k, isprint(d[i]) ? "%c" : "\\x%02x", d[i]);
        return ct_error_set(err, CT_ERR_INPUT, "%s: unknown tile magic \"%s\" at byte %zu", ctx->uri, m, off);
    }
    ct_tile_model *m = model_push(l, off);
    if (!m)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    switch (f) {
    case CT_TILE_FORMAT_B3DM: return ct_content_decode_b3dm(ctx, d, n, off, m, err);
    case CT_TILE_FORMAT_I3DM: return ct_content_decode_i3dm(ctx, d, n, off, m, err);
    case CT_TILE_FORMAT_PNTS: return ct_content_decode_pnts(ctx, d, n, off, m, err);
    default: return decode_glb(ctx, CT_TILE_FORMAT_GLB, d, n, off, m, err);
    }
}

static uint64_t gltf_points(const ct_gltf *g)
{
    uint64_t n = 0;
    for (uint32_t i = 0; g && i < g->draw_count; i++) {
        const ct_gltf_draw *dr = &g->draws[i];
        if (dr->mesh < 0 || (uint32_t)dr->mesh >= g->mesh_count)
            continue;
        uint64_t inst = 1;
        if (dr->node >= 0 && (uint32_t)dr->node < g->node_count && g->nodes[dr->node].instance_count)
            inst = g->nodes[dr->node].instance_count;
        const ct_gltf_mesh *me = &g->meshes[dr->mesh];
        for (uint32_t p = 0; p < me->primitive_count; p++)
            if (me->primitives[p].mode == CT_GLTF_POINTS)
                n += (uint64_t)me->primitives[p].vertex_count * inst;
    }
    return n;
}

static void bounds_add(ct_tile_content *c, const double m[16], const double mn[3], const double mx[3])
{
    if (!(mn[0] <= mx[0] && mn[1] <= mx[1] && mn[2] <= mx[2]))
        return;
    for (int k = 0; k < 8; k++) {
        ct_dvec3 p = {k & 1 ? mx[0] : mn[0], k & 2 ? mx[1] : mn[1], k & 4 ? mx[2] : mn[2]};
        ct_dvec3 q = ct_dmat4_transform_point(m, p);
        double a[3] = {q.x, q.y, q.z};
        for (int j = 0; j < 3; j++) {
            if (a[j] < c->bounds_min[j]) c->bounds_min[j] = a[j];
            if (a[j] > c->bounds_max[j]) c->bounds_max[j] = a[j];
        }
    }
}

static void totals(ct_tile_content *c)
{
    for (int j = 0; j < 3; j++)
        c->bounds_min[j] = INFINITY, c->bounds_max[j] = -INFINITY;
    for (uint32_t i = 0; i < c->model_count; i++) {
        ct_tile_model *m = &c->models[i];
        uint64_t inst = m->instance_count ? m->instance_count : 1;
        if (m->gltf) {
            m->triangle_count = m->gltf->triangle_count * inst;
            m->vertex_count = m->gltf->vertex_count * inst;
            m->point_count = gltf_points(m->gltf) * inst;
            if (m->instance_count) {
                for (uint32_t k = 0; k < m->instance_count; k++) {
                    double t[16];
                    ct_dmat4_mul(t, m->instance_matrices + 16 * (size_t)k, m->model_matrix);
                    bounds_add(c, t, m->gltf->bounds_min, m->gltf->bounds_max);
                }
            } else {
                bounds_add(c, m->model_matrix, m->gltf->bounds_min, m->gltf->bounds_max);
            }
        } else if (m->points.count) {
            m->point_count = m->vertex_count = m->points.count;
            double mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
            for (uint32_t p = 0; p < m->points.count; p++)
                for (int j = 0; j < 3; j++) {
                    double v = m->points.positions[3 * (size_t)p + j];
                    if (v < mn[j]) mn[j] = v;
                    if (v > mx[j]) mx[j] = v;
                }
            bounds_add(c, m->model_matrix, mn, mx);
        }
        c->triangle_count += m->triangle_count;
        c->vertex_count += m->vertex_count;
        c->point_count += m->point_count;
        c->instance_count += m->instance_count;
        c->feature_count += m->feature_count;
    }
}

ct_status ct_tile_content_load_memory(const void *data, size_t size, const ct_tile_content_options *opts,
                                      ct_tile_content **out, ct_error *err)
{
    *out = NULL;
    ct_tile_content_options o = opts ? *opts : (ct_tile_content_options){0};
    uint32_t c_warnings = 0;
    ct_content_ctx ctx = {o.uri ? o.uri : "<memory>", &o, 0, &c_warnings};
    if (!data && size)
        return ct_error_set(err, CT_ERR_USAGE, "%s: no data", ctx.uri);
    ct_tile_format f = ct_tile_format_sniff(data, size);
    ct_tile_content *c = calloc(1, sizeof *c);
    if (!c)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx.uri);
    c->format = f;
    model_list l = {0};
    ct_status st = CT_OK;
    if (f == CT_TILE_FORMAT_TILESET || f == CT_TILE_FORMAT_SUBTREE) {
        /* Not renderable content: the tree code handles these. */
    } else if (f == CT_TILE_FORMAT_GLTF) {
        ct_tile_model *m = model_push(&l, 0);
        st = m ? decode_glb(&ctx, CT_TILE_FORMAT_GLTF, data, size, 0, m, err)
               : ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx.uri);
    } else if (f == CT_TILE_FORMAT_UNKNOWN && size > 0 && memchr("{ \t\r\n", ((const uint8_t *)data)[0], 5)) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: JSON content is neither a tileset nor glTF (or is invalid)", ctx.uri);
    } else {
        st = decode_any(&ctx, data, size, 0, &l, err);
    }
    c->models = l.v;
    c->model_count = l.n;
    if (st) {
        ct_tile_content_destroy(c);
        return st;
    }
    c->warning_count = c_warnings;
    totals(c);
    *out = c;
    return CT_OK;
}

ct_status ct_tile_content_load_file(const char *path, const ct_tile_content_options *opts, ct_tile_content **out,
                                    ct_error *err)
{
    *out = NULL;
    ct_tile_content_options o = opts ? *opts : (ct_tile_content_options){0};
    uint8_t *data = NULL;
    size_t size = 0;
    ct_status st = ct_file_read(path, 0, &data, &size, err);
    if (st)
        return st;
    char *dir = NULL;
    if (!o.base_dir)
        o.base_dir = dir = ct_path_dirname(path);
    if (!o.uri)
        o.uri = path;
    st = ct_tile_content_load_memory(data, size, &o, out, err);
    free(dir);
    free(data);
    return st;
}

void ct_tile_content_destroy(ct_tile_content *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->model_count; i++)
        model_free(&c->models[i]);
    free(c->models);
    free(c);
}

cJSON *ct_tile_content_feature_properties(const ct_tile_content *c, uint32_t model_index, uint32_t feature_id)
{
    if (!c || model_index >= c->model_count)
        return NULL;
    const ct_tile_model *m = &c->models[model_index];
    if (feature_id >= m->feature_count)
        return NULL;
    return ct_tile_batch_table_feature(m->batch_table, feature_id);
}

uint32_t ct_tile_model_instance_feature_id(const ct_tile_model *m, uint32_t instance)
{
    if (!m || instance >= m->instance_count)
        return UINT32_MAX;
    return m->instance_batch_ids ? m->instance_batch_ids[instance] : instance;
}

uint32_t ct_tile_model_point_feature_id(const ct_tile_model *m, uint32_t point)
{
    if (!m || point >= m->points.count)
        return UINT32_MAX;
    return m->points.batch_ids ? m->points.batch_ids[point] : point;
}

void ct_tile_model_instance_matrices_float(const ct_tile_model *m, const double origin[3], float *out)
{
    for (uint32_t i = 0; m && i < m->instance_count; i++) {
        const double *s = m->instance_matrices + 16 * (size_t)i;
        float *d = out + 16 * (size_t)i;
        for (int k = 0; k < 16; k++)
            d[k] = (float)s[k];
        d[12] = (float)(s[12] - origin[0]);
        d[13] = (float)(s[13] - origin[1]);
        d[14] = (float)(s[14] - origin[2]);
    }
}
