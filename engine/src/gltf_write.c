/* GLB writer: turns the decoded ct_gltf structs back into a binary glTF 2.0
 * with one buffer. Each accessor gets its own tightly packed bufferView,
 * 4-byte aligned, so the file is simple to check by hand and valid for
 * Khronos' glTF-Validator. Images are re-encoded as PNG (lossless, and the
 * reader hands out RGBA8 anyway). Output is deterministic. */
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_image.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GL_UNSIGNED_SHORT 5123
#define GL_UNSIGNED_INT 5125
#define GL_FLOAT 5126
#define GL_ARRAY_BUFFER 34962
#define GL_ELEMENT_ARRAY_BUFFER 34963

typedef struct writer {
    const ct_gltf *g;
    uint8_t *bin;
    size_t bin_size, bin_cap;
    cJSON *root, *views, *accessors;
    int *texture_map;      /* input texture index -> output index, or -1 when dropped */
    bool uses_texture_transform, uses_instancing;
    bool oom;
    ct_error *err;
} writer;

/* A float as the shortest decimal that reads back as the same float: keeps
 * factors like 0.8 readable instead of 0.800000011920929. */
static double clean_float(float f)
{
    char buf[32];
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)f);
        if ((float)strtod(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f;
}

static cJSON *float_array(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(clean_float(v[i])));
    return a;
}

static cJSON *double_array(const double *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
    return a;
}

/* Appends bytes at a 4-byte aligned offset; returns the offset or SIZE_MAX. */
static size_t bin_append(writer *w, const void *data, size_t n)
{
    size_t off = (w->bin_size + 3u) & ~(size_t)3u;
    size_t need = off + n;
    if (need < off) {
        w->oom = true;
        return SIZE_MAX;
    }
    if (need > w->bin_cap) {
        size_t cap = w->bin_cap ? w->bin_cap : 4096;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *nb = realloc(w->bin, cap);
        if (!nb) {
            w->oom = true;
            return SIZE_MAX;
        }
        w->bin = nb;
        w->bin_cap = cap;
    }
    memset(w->bin + w->bin_size, 0, off - w->bin_size); /* padding is zeros: deterministic bytes */
    memcpy(w->bin + off, data, n);
    w->bin_size = need;
    return off;
}

/* One bufferView for the given bytes; returns its index or -1. */
static int add_view(writer *w, const void *data, size_t n, int target)
{
    size_t off = bin_append(w, data, n);
    if (off == SIZE_MAX)
        return -1;
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "buffer", 0);
    cJSON_AddNumberToObject(v, "byteOffset", (double)off);
    cJSON_AddNumberToObject(v, "byteLength", (double)n);
    if (target)
        cJSON_AddNumberToObject(v, "target", target);
    cJSON_AddItemToArray(w->views, v);
    return cJSON_GetArraySize(w->views) - 1;
}

static const char *TYPE_NAMES[] = {NULL, "SCALAR", "VEC2", "VEC3", "VEC4"};

/* A float attribute accessor of `comps` components; with_bounds adds min/max
 * (required for POSITION). Returns the accessor index or -1. */
static int add_float_accessor_to(writer *w, const float *v, uint32_t count, int comps, bool with_bounds, int target)
{
    int view = add_view(w, v, (size_t)count * (size_t)comps * sizeof(float), target);
    if (view < 0)
        return -1;
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "bufferView", view);
    cJSON_AddNumberToObject(a, "componentType", GL_FLOAT);
    cJSON_AddNumberToObject(a, "count", count);
    cJSON_AddStringToObject(a, "type", TYPE_NAMES[comps]);
    if (with_bounds) {
        /* Exact float values (not cleaned): validators compare them bit for bit. */
        double mn[4], mx[4];
        for (int c = 0; c < comps; c++)
            mn[c] = mx[c] = v[c];
        for (uint32_t i = 1; i < count; i++)
            for (int c = 0; c < comps; c++) {
                double x = v[(size_t)i * (size_t)comps + (size_t)c];
                if (x < mn[c]) mn[c] = x;
                if (x > mx[c]) mx[c] = x;
            }
        cJSON_AddItemToObject(a, "min", double_array(mn, comps));
        cJSON_AddItemToObject(a, "max", double_array(mx, comps));
    }
    cJSON_AddItemToArray(w->accessors, a);
    return cJSON_GetArraySize(w->accessors) - 1;
}

static int add_float_accessor(writer *w, const float *v, uint32_t count, int comps, bool with_bounds)
{
    return add_float_accessor_to(w, v, count, comps, with_bounds, GL_ARRAY_BUFFER);
}

static int add_index_accessor(writer *w, const uint32_t *idx, uint32_t count, uint32_t vertex_count)
{
    int view;
    int type;
    /* 16-bit when every index fits below the restart value 65535. */
    if (vertex_count <= 65535) {
        uint16_t *s = ct_malloc_array(count, sizeof *s);
        if (!s) {
            w->oom = true;
            return -1;
        }
        for (uint32_t i = 0; i < count; i++)
            s[i] = (uint16_t)idx[i];
        view = add_view(w, s, (size_t)count * 2u, GL_ELEMENT_ARRAY_BUFFER);
        free(s);
        type = GL_UNSIGNED_SHORT;
    } else {
        view = add_view(w, idx, (size_t)count * 4u, GL_ELEMENT_ARRAY_BUFFER);
        type = GL_UNSIGNED_INT;
    }
    if (view < 0)
        return -1;
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "bufferView", view);
    cJSON_AddNumberToObject(a, "componentType", type);
    cJSON_AddNumberToObject(a, "count", count);
    cJSON_AddStringToObject(a, "type", "SCALAR");
    cJSON_AddItemToArray(w->accessors, a);
    return cJSON_GetArraySize(w->accessors) - 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Feature ids become a float SCALAR attribute (vertex attributes cannot be
 * 32-bit integers in glTF; floats hold ids exactly below 2^24). */
static ct_status add_feature_ids(writer *w, const ct_gltf_primitive *p, const char *where, cJSON *attrs, cJSON *prim)
{
    uint32_t n = p->vertex_count;
    float *f = ct_malloc_array(n, sizeof *f);
    uint32_t *sorted = ct_malloc_array(n, sizeof *sorted);
    if (!f || !sorted) {
        free(f);
        free(sorted);
        return ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        if (p->feature_ids[i] >= (1u << 24)) {
            free(f);
            free(sorted);
            return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: feature id %u too large (max 16777215)", where,
                                p->feature_ids[i]);
        }
        f[i] = (float)p->feature_ids[i];
        sorted[i] = p->feature_ids[i];
    }
    qsort(sorted, n, sizeof *sorted, cmp_u32);
    uint32_t distinct = n ? 1 : 0;
    for (uint32_t i = 1; i < n; i++)
        distinct += sorted[i] != sorted[i - 1];
    free(sorted);
    int acc = add_float_accessor(w, f, n, 1, false);
    free(f);
    if (acc < 0)
        return ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory");
    cJSON_AddNumberToObject(attrs, "_FEATURE_ID_0", acc);
    cJSON *ext = cJSON_AddObjectToObject(cJSON_AddObjectToObject(prim, "extensions"), "EXT_mesh_features");
    cJSON *ids = cJSON_AddArrayToObject(ext, "featureIds");
    cJSON *id = cJSON_CreateObject();
    cJSON_AddNumberToObject(id, "featureCount", distinct);
    cJSON_AddNumberToObject(id, "attribute", 0);
    cJSON_AddItemToArray(ids, id);
    return CT_OK;
}

static ct_status write_primitive(writer *w, const ct_gltf_primitive *p, int mesh, int pi, cJSON *prims, bool *features)
{
    char where[64];
    snprintf(where, sizeof where, "meshes[%d].primitives[%d]", mesh, pi);
    if (p->vertex_count == 0 || !p->positions)
        return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: no vertices", where);
    if ((int)p->mode < 0 || p->mode > CT_GLTF_TRIANGLE_FAN)
        return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: invalid mode %d", where, (int)p->mode);
    if (p->material >= (int)w->g->material_count)
        return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: material %d out of range", where, p->material);
    for (uint32_t i = 0; i < 3 * p->vertex_count; i++)
        if (!isfinite(p->positions[i]))
            return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: vertex %u: position is not a finite number", where,
                                i / 3);
    for (uint32_t i = 0; i < p->index_count; i++)
        if (p->indices[i] >= p->vertex_count)
            return ct_error_set(w->err, CT_ERR_INPUT, "glb: %s: index %u = %u not below vertex count %u", where, i,
                                p->indices[i], p->vertex_count);
    cJSON *prim = cJSON_CreateObject();
    cJSON_AddItemToArray(prims, prim);
    cJSON *attrs = cJSON_AddObjectToObject(prim, "attributes");
    uint32_t n = p->vertex_count;
    struct { const char *name; const float *data; int comps; bool bounds; } attr[] = {
        {"POSITION", p->positions, 3, true},     {"NORMAL", p->normals, 3, false},
        {"TANGENT", p->tangents, 4, false},      {"TEXCOORD_0", p->texcoords[0], 2, false},
        {"TEXCOORD_1", p->texcoords[1], 2, false}, {"COLOR_0", p->colors, 4, false},
    };
    for (size_t a = 0; a < sizeof attr / sizeof attr[0]; a++) {
        if (!attr[a].data)
            continue;
        int acc = add_float_accessor(w, attr[a].data, n, attr[a].comps, attr[a].bounds);
        if (acc < 0)
            return ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory");
        cJSON_AddNumberToObject(attrs, attr[a].name, acc);
    }
    if (p->feature_ids) {
        ct_status st = add_feature_ids(w, p, where, attrs, prim);
        if (st)
            return st;
        *features = true;
    }
    if (p->index_count) {
        int acc = add_index_accessor(w, p->indices, p->index_count, n);
        if (acc < 0)
            return ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory");
        cJSON_AddNumberToObject(prim, "indices", acc);
    }
    if (p->material >= 0)
        cJSON_AddNumberToObject(prim, "material", p->material);
    if (p->mode != CT_GLTF_TRIANGLES)
        cJSON_AddNumberToObject(prim, "mode", p->mode);
    return CT_OK;
}

/* textureInfo JSON, or NULL when the slot is empty or its texture was dropped. */
static cJSON *texture_info(writer *w, const ct_gltf_texture_ref *r, const char *scale_key)
{
    if (r->texture < 0 || r->texture >= (int)w->g->texture_count || w->texture_map[r->texture] < 0)
        return NULL;
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "index", w->texture_map[r->texture]);
    if (r->texcoord > 0)
        cJSON_AddNumberToObject(t, "texCoord", r->texcoord);
    if (scale_key && r->scale != 1.0f)
        cJSON_AddNumberToObject(t, scale_key, clean_float(r->scale));
    if (r->has_transform) {
        /* KHR_texture_transform back from the reader's matrix T*R*S, whose
         * columns are (sx cos, -sx sin) and (sy sin, sy cos). A shear has no
         * such form: the nearest rotation and scales are written. */
        const float *m = r->uv_matrix;
        double rot = atan2(-(double)m[1], (double)m[0]);
        double sx = hypot(m[0], m[1]), sy = m[3] * sin(rot) + m[4] * cos(rot);
        cJSON *tt = cJSON_AddObjectToObject(cJSON_AddObjectToObject(t, "extensions"), "KHR_texture_transform");
        float off[2] = {m[6], m[7]}, sc[2] = {(float)sx, (float)sy};
        cJSON_AddItemToObject(tt, "offset", float_array(off, 2));
        cJSON_AddNumberToObject(tt, "rotation", rot);
        cJSON_AddItemToObject(tt, "scale", float_array(sc, 2));
        w->uses_texture_transform = true;
    }
    return t;
}

static void write_material(writer *w, const ct_gltf_material *m, cJSON *out, bool *unlit)
{
    if (m->name && *m->name)
        cJSON_AddStringToObject(out, "name", m->name);
    cJSON *pbr = cJSON_AddObjectToObject(out, "pbrMetallicRoughness");
    cJSON_AddItemToObject(pbr, "baseColorFactor", float_array(m->base_color, 4));
    cJSON_AddNumberToObject(pbr, "metallicFactor", clean_float(m->metallic));
    cJSON_AddNumberToObject(pbr, "roughnessFactor", clean_float(m->roughness));
    cJSON *t;
    if ((t = texture_info(w, &m->base_color_texture, NULL)))
        cJSON_AddItemToObject(pbr, "baseColorTexture", t);
    if ((t = texture_info(w, &m->metallic_roughness_texture, NULL)))
        cJSON_AddItemToObject(pbr, "metallicRoughnessTexture", t);
    if ((t = texture_info(w, &m->normal_texture, "scale")))
        cJSON_AddItemToObject(out, "normalTexture", t);
    if ((t = texture_info(w, &m->occlusion_texture, "strength")))
        cJSON_AddItemToObject(out, "occlusionTexture", t);
    if ((t = texture_info(w, &m->emissive_texture, NULL)))
        cJSON_AddItemToObject(out, "emissiveTexture", t);
    if (m->emissive[0] != 0 || m->emissive[1] != 0 || m->emissive[2] != 0)
        cJSON_AddItemToObject(out, "emissiveFactor", float_array(m->emissive, 3));
    if (m->alpha_mode == CT_GLTF_ALPHA_MASK) {
        cJSON_AddStringToObject(out, "alphaMode", "MASK");
        cJSON_AddNumberToObject(out, "alphaCutoff", clean_float(m->alpha_cutoff));
    } else if (m->alpha_mode == CT_GLTF_ALPHA_BLEND) {
        cJSON_AddStringToObject(out, "alphaMode", "BLEND");
    }
    if (m->double_sided)
        cJSON_AddTrueToObject(out, "doubleSided");
    if (m->unlit) {
        cJSON_AddObjectToObject(cJSON_AddObjectToObject(out, "extensions"), "KHR_materials_unlit");
        *unlit = true;
    }
}

/* Images that were not decoded cannot be re-encoded: their textures are
 * dropped (and the materials lose those slots) with a warning. */
static ct_status write_textures(writer *w)
{
    const ct_gltf *g = w->g;
    w->texture_map = ct_malloc_array(g->texture_count, sizeof(int));
    int *image_map = ct_malloc_array(g->image_count, sizeof(int));
    if (!w->texture_map || !image_map) {
        free(image_map);
        return ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory");
    }
    cJSON *images = cJSON_CreateArray();
    for (uint32_t i = 0; i < g->image_count; i++) {
        const ct_gltf_image *im = &g->images[i];
        image_map[i] = -1;
        if (!im->pixels || im->width <= 0 || im->height <= 0)
            continue;
        uint8_t *png = NULL;
        size_t png_size = 0;
        ct_status st = ct_image_encode_png(im->width, im->height, im->pixels, &png, &png_size, w->err);
        if (st) {
            cJSON_Delete(images);
            free(image_map);
            return ct_error_prefix(w->err, "glb: images[%u]: ", i);
        }
        int view = add_view(w, png, png_size, 0);
        free(png);
        if (view < 0)
            break;
        cJSON *j = cJSON_CreateObject();
        if (im->name && *im->name)
            cJSON_AddStringToObject(j, "name", im->name);
        cJSON_AddNumberToObject(j, "bufferView", view);
        cJSON_AddStringToObject(j, "mimeType", "image/png");
        cJSON_AddItemToArray(images, j);
        image_map[i] = cJSON_GetArraySize(images) - 1;
    }
    cJSON *textures = cJSON_CreateArray();
    for (uint32_t i = 0; i < g->texture_count; i++) {
        const ct_gltf_texture *t = &g->textures[i];
        w->texture_map[i] = -1;
        if (t->image < 0 || t->image >= (int)g->image_count || image_map[t->image] < 0) {
            ct_log(CT_LOG_WARN, "glb: textures[%u]: image not decoded, texture dropped", i);
            continue;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "source", image_map[t->image]);
        if (t->sampler >= 0 && t->sampler < (int)g->sampler_count)
            cJSON_AddNumberToObject(j, "sampler", t->sampler);
        cJSON_AddItemToArray(textures, j);
        w->texture_map[i] = cJSON_GetArraySize(textures) - 1;
    }
    free(image_map);
    if (cJSON_GetArraySize(images))
        cJSON_AddItemToObject(w->root, "images", images);
    else
        cJSON_Delete(images);
    if (cJSON_GetArraySize(textures))
        cJSON_AddItemToObject(w->root, "textures", textures);
    else
        cJSON_Delete(textures);
    if (g->sampler_count) {
        cJSON *samplers = cJSON_AddArrayToObject(w->root, "samplers");
        for (uint32_t i = 0; i < g->sampler_count; i++) {
            const ct_gltf_sampler *s = &g->samplers[i];
            cJSON *j = cJSON_CreateObject();
            if (s->mag_filter) cJSON_AddNumberToObject(j, "magFilter", s->mag_filter);
            if (s->min_filter) cJSON_AddNumberToObject(j, "minFilter", s->min_filter);
            if (s->wrap_s && s->wrap_s != 10497) cJSON_AddNumberToObject(j, "wrapS", s->wrap_s);
            if (s->wrap_t && s->wrap_t != 10497) cJSON_AddNumberToObject(j, "wrapT", s->wrap_t);
            cJSON_AddItemToArray(samplers, j);
        }
    }
    return w->oom ? ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory") : CT_OK;
}

static bool is_identity(const double m[16])
{
    for (int i = 0; i < 16; i++)
        if (m[i] != ((i % 5) == 0 ? 1.0 : 0.0))
            return false;
    return true;
}

/* An affine matrix as translation, rotation quaternion (x, y, z, w) and
 * scale; a mirroring matrix gets a negative x scale. */
static void decompose(const float *m, float t[3], float q[4], float s[3])
{
    double c[3][3];
    for (int k = 0; k < 3; k++) {
        t[k] = m[12 + k];
        for (int r = 0; r < 3; r++)
            c[k][r] = m[k * 4 + r];
    }
    double sc[3];
    for (int k = 0; k < 3; k++)
        sc[k] = sqrt(c[k][0] * c[k][0] + c[k][1] * c[k][1] + c[k][2] * c[k][2]);
    double det = c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) - c[1][0] * (c[0][1] * c[2][2] - c[0][2] * c[2][1]) +
                 c[2][0] * (c[0][1] * c[1][2] - c[0][2] * c[1][1]);
    if (det < 0)
        sc[0] = -sc[0];
    double r[3][3]; /* r[row][col] */
    for (int k = 0; k < 3; k++)
        for (int row = 0; row < 3; row++)
            r[row][k] = sc[k] != 0 ? c[k][row] / sc[k] : (row == k);
    double x, y, z, wq, tr = r[0][0] + r[1][1] + r[2][2];
    if (tr > 0) {
        double k = sqrt(tr + 1.0) * 2;
        wq = 0.25 * k, x = (r[2][1] - r[1][2]) / k, y = (r[0][2] - r[2][0]) / k, z = (r[1][0] - r[0][1]) / k;
    } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
        double k = sqrt(1.0 + r[0][0] - r[1][1] - r[2][2]) * 2;
        wq = (r[2][1] - r[1][2]) / k, x = 0.25 * k, y = (r[0][1] + r[1][0]) / k, z = (r[0][2] + r[2][0]) / k;
    } else if (r[1][1] > r[2][2]) {
        double k = sqrt(1.0 + r[1][1] - r[0][0] - r[2][2]) * 2;
        wq = (r[0][2] - r[2][0]) / k, x = (r[0][1] + r[1][0]) / k, y = 0.25 * k, z = (r[1][2] + r[2][1]) / k;
    } else {
        double k = sqrt(1.0 + r[2][2] - r[0][0] - r[1][1]) * 2;
        wq = (r[1][0] - r[0][1]) / k, x = (r[0][2] + r[2][0]) / k, y = (r[1][2] + r[2][1]) / k, z = 0.25 * k;
    }
    double l = sqrt(x * x + y * y + z * z + wq * wq);
    if (!(l > 0))
        x = y = z = 0, wq = l = 1;
    q[0] = (float)(x / l), q[1] = (float)(y / l), q[2] = (float)(z / l), q[3] = (float)(wq / l);
    for (int k = 0; k < 3; k++)
        s[k] = (float)sc[k];
}

/* EXT_mesh_gpu_instancing: TRANSLATION / ROTATION / SCALE per instance. */
static ct_status write_instances(writer *w, const ct_gltf_node *nd, cJSON *node)
{
    uint32_t n = nd->instance_count;
    float *t = ct_malloc_array((size_t)n * 3, sizeof *t), *q = ct_malloc_array((size_t)n * 4, sizeof *q),
          *s = ct_malloc_array((size_t)n * 3, sizeof *s);
    ct_status st = CT_OK;
    if (!t || !q || !s)
        st = ct_error_set(w->err, CT_ERR_RUNTIME, "out of memory");
    for (uint32_t i = 0; i < n && !st; i++)
        decompose(nd->instance_matrices + (size_t)i * 16, t + 3 * i, q + 4 * i, s + 3 * i);
    if (!st) {
        cJSON *attrs = cJSON_CreateObject();
        const char *names[3] = {"TRANSLATION", "ROTATION", "SCALE"};
        const float *data[3] = {t, q, s};
        const int comps[3] = {3, 4, 3};
        for (int a = 0; a < 3 && !st; a++) {
            int acc = add_float_accessor_to(w, data[a], n, comps[a], false, 0); /* not vertex data */
            if (acc < 0)
                st = ct_error_set(w->err, CT_ERR_RUNTIME, "out of memory");
            else
                cJSON_AddNumberToObject(attrs, names[a], acc);
        }
        cJSON *ext = cJSON_AddObjectToObject(cJSON_AddObjectToObject(node, "extensions"), "EXT_mesh_gpu_instancing");
        cJSON_AddItemToObject(ext, "attributes", attrs);
        w->uses_instancing = true;
    }
    free(t);
    free(q);
    free(s);
    return st;
}

static ct_status write_nodes(writer *w)
{
    const ct_gltf *g = w->g;
    cJSON *nodes = cJSON_AddArrayToObject(w->root, "nodes");
    cJSON *scene_nodes = cJSON_CreateArray();
    if (g->node_count == 0) {
        /* No node graph: one node per mesh, so every mesh is drawn. */
        for (uint32_t i = 0; i < g->mesh_count; i++) {
            cJSON *n = cJSON_CreateObject();
            cJSON_AddNumberToObject(n, "mesh", i);
            cJSON_AddItemToArray(nodes, n);
            cJSON_AddItemToArray(scene_nodes, cJSON_CreateNumber(i));
        }
    }
    for (uint32_t i = 0; i < g->node_count; i++) {
        const ct_gltf_node *nd = &g->nodes[i];
        cJSON *n = cJSON_CreateObject();
        cJSON_AddItemToArray(nodes, n);
        if (nd->name && *nd->name)
            cJSON_AddStringToObject(n, "name", nd->name);
        if (nd->mesh >= (int)g->mesh_count) {
            cJSON_Delete(scene_nodes);
            return ct_error_set(w->err, CT_ERR_INPUT, "glb: nodes[%u]: mesh %d out of range", i, nd->mesh);
        }
        if (nd->mesh >= 0)
            cJSON_AddNumberToObject(n, "mesh", nd->mesh);
        if (nd->child_count) {
            cJSON *ch = cJSON_AddArrayToObject(n, "children");
            for (uint32_t c = 0; c < nd->child_count; c++) {
                if (nd->children[c] < 0 || nd->children[c] >= (int)g->node_count || nd->children[c] == (int)i) {
                    cJSON_Delete(scene_nodes);
                    return ct_error_set(w->err, CT_ERR_INPUT, "glb: nodes[%u].children[%u]: node %d out of range", i,
                                        c, nd->children[c]);
                }
                cJSON_AddItemToArray(ch, cJSON_CreateNumber(nd->children[c]));
            }
        }
        if (!is_identity(nd->local))
            cJSON_AddItemToObject(n, "matrix", double_array(nd->local, 16));
        if (nd->instance_count && nd->instance_matrices && nd->mesh >= 0) {
            ct_status st = write_instances(w, nd, n);
            if (st) {
                cJSON_Delete(scene_nodes);
                return ct_error_prefix(w->err, "glb: nodes[%u]: ", i);
            }
        }
        if (g->node_count && nd->parent < 0 && !(g->default_scene >= 0 && g->default_scene < (int)g->scene_count))
            cJSON_AddItemToArray(scene_nodes, cJSON_CreateNumber(i));
    }
    /* The default scene's roots when the input has one; else every root node. */
    if (g->node_count && g->default_scene >= 0 && g->default_scene < (int)g->scene_count) {
        const ct_gltf_scene *sc = &g->scenes[g->default_scene];
        for (uint32_t i = 0; i < sc->node_count; i++) {
            if (sc->nodes[i] < 0 || sc->nodes[i] >= (int)g->node_count) {
                cJSON_Delete(scene_nodes);
                return ct_error_set(w->err, CT_ERR_INPUT, "glb: scenes[%d].nodes[%u]: node %d out of range",
                                    g->default_scene, i, sc->nodes[i]);
            }
            cJSON_AddItemToArray(scene_nodes, cJSON_CreateNumber(sc->nodes[i]));
        }
    }
    cJSON *scenes = cJSON_AddArrayToObject(w->root, "scenes");
    cJSON *scene = cJSON_CreateObject();
    if (g->default_scene >= 0 && g->default_scene < (int)g->scene_count && g->scenes[g->default_scene].name &&
        *g->scenes[g->default_scene].name)
        cJSON_AddStringToObject(scene, "name", g->scenes[g->default_scene].name);
    /* glTF wants non-empty arrays: an empty model gets a scene without nodes. */
    if (cJSON_GetArraySize(scene_nodes))
        cJSON_AddItemToObject(scene, "nodes", scene_nodes);
    else
        cJSON_Delete(scene_nodes);
    if (!cJSON_GetArraySize(nodes))
        cJSON_DeleteItemFromObject(w->root, "nodes");
    cJSON_AddItemToArray(scenes, scene);
    cJSON_AddNumberToObject(w->root, "scene", 0);
    return CT_OK;
}

static ct_status build(writer *w)
{
    const ct_gltf *g = w->g;
    cJSON *asset = cJSON_AddObjectToObject(w->root, "asset");
    cJSON_AddStringToObject(asset, "version", "2.0");
    cJSON_AddStringToObject(asset, "generator", "citytwin");
    bool unlit = false, features = false;
    ct_status st = write_textures(w);
    if (st)
        return st;
    if (g->material_count) {
        cJSON *mats = cJSON_AddArrayToObject(w->root, "materials");
        for (uint32_t i = 0; i < g->material_count; i++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddItemToArray(mats, m);
            write_material(w, &g->materials[i], m, &unlit);
        }
    }
    cJSON *meshes = cJSON_CreateArray();
    for (uint32_t i = 0; i < g->mesh_count && !st; i++) {
        const ct_gltf_mesh *m = &g->meshes[i];
        cJSON *mj = cJSON_CreateObject();
        cJSON_AddItemToArray(meshes, mj);
        if (m->name && *m->name)
            cJSON_AddStringToObject(mj, "name", m->name);
        if (m->primitive_count == 0)
            st = ct_error_set(w->err, CT_ERR_INPUT, "glb: meshes[%u]: no primitives", i);
        cJSON *prims = cJSON_AddArrayToObject(mj, "primitives");
        for (uint32_t p = 0; p < m->primitive_count && !st; p++)
            st = write_primitive(w, &m->primitives[p], (int)i, (int)p, prims, &features);
    }
    if (!st)
        st = write_nodes(w);
    if (st) {
        cJSON_Delete(meshes);
        return st;
    }
    if (cJSON_GetArraySize(meshes))
        cJSON_AddItemToObject(w->root, "meshes", meshes);
    else
        cJSON_Delete(meshes);
    if (cJSON_GetArraySize(w->accessors))
        cJSON_AddItemToObject(w->root, "accessors", w->accessors);
    else
        cJSON_Delete(w->accessors);
    w->accessors = NULL;
    if (cJSON_GetArraySize(w->views))
        cJSON_AddItemToObject(w->root, "bufferViews", w->views);
    else
        cJSON_Delete(w->views);
    w->views = NULL;
    if (w->bin_size) {
        cJSON *bufs = cJSON_AddArrayToObject(w->root, "buffers");
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "byteLength", (double)((w->bin_size + 3u) & ~(size_t)3u));
        cJSON_AddItemToArray(bufs, b);
    }
    cJSON *used = cJSON_CreateArray();
    if (g->has_rtc_center) {
        cJSON *rtc = cJSON_AddObjectToObject(cJSON_AddObjectToObject(w->root, "extensions"), "CESIUM_RTC");
        cJSON_AddItemToObject(rtc, "center", double_array(g->rtc_center, 3));
        cJSON_AddItemToArray(used, cJSON_CreateString("CESIUM_RTC"));
    }
    if (features)
        cJSON_AddItemToArray(used, cJSON_CreateString("EXT_mesh_features"));
    if (unlit)
        cJSON_AddItemToArray(used, cJSON_CreateString("KHR_materials_unlit"));
    if (w->uses_texture_transform)
        cJSON_AddItemToArray(used, cJSON_CreateString("KHR_texture_transform"));
    if (w->uses_instancing)
        cJSON_AddItemToArray(used, cJSON_CreateString("EXT_mesh_gpu_instancing"));
    if (cJSON_GetArraySize(used))
        cJSON_AddItemToObject(w->root, "extensionsUsed", used);
    else
        cJSON_Delete(used);
    return w->oom ? ct_error_set(w->err, CT_ERR_RUNTIME, "glb: out of memory") : CT_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

ct_status ct_gltf_write_glb_memory(const ct_gltf *g, uint8_t **data, size_t *size, ct_error *err)
{
    *data = NULL;
    *size = 0;
    if (!g)
        return ct_error_set(err, CT_ERR_USAGE, "glb: no model given");
    writer w = {.g = g, .err = err};
    w.root = cJSON_CreateObject();
    /* One bufferView list for images (written first) and geometry. */
    w.views = cJSON_CreateArray();
    w.accessors = cJSON_CreateArray();
    if (!w.root || !w.views || !w.accessors) {
        cJSON_Delete(w.root);
        cJSON_Delete(w.views);
        cJSON_Delete(w.accessors);
        return ct_error_set(err, CT_ERR_RUNTIME, "glb: out of memory");
    }
    ct_status st = build(&w);
    char *json = st ? NULL : cJSON_PrintUnformatted(w.root);
    cJSON_Delete(w.root);
    cJSON_Delete(w.views);
    cJSON_Delete(w.accessors);
    free(w.texture_map);
    if (!st && !json)
        st = ct_error_set(err, CT_ERR_RUNTIME, "glb: out of memory");
    if (st) {
        free(w.bin);
        return st;
    }
    size_t json_len = strlen(json), json_pad = (json_len + 3u) & ~(size_t)3u;
    size_t bin_pad = (w.bin_size + 3u) & ~(size_t)3u;
    size_t total = 12 + 8 + json_pad + (bin_pad ? 8 + bin_pad : 0);
    if (total > UINT32_MAX) {
        free(json);
        free(w.bin);
        return ct_error_set(err, CT_ERR_INPUT, "glb: %zu bytes exceed GLB's 4 GiB limit", total);
    }
    uint8_t *out = malloc(total);
    if (!out) {
        free(json);
        free(w.bin);
        return ct_error_set(err, CT_ERR_RUNTIME, "glb: out of memory for %zu bytes", total);
    }
    memcpy(out, "glTF", 4);
    put_u32(out + 4, 2);
    put_u32(out + 8, (uint32_t)total);
    put_u32(out + 12, (uint32_t)json_pad);
    memcpy(out + 16, "JSON", 4);
    memcpy(out + 20, json, json_len);
    memset(out + 20 + json_len, ' ', json_pad - json_len); /* JSON chunk pads with spaces */
    if (bin_pad) {
        uint8_t *b = out + 20 + json_pad;
        put_u32(b, (uint32_t)bin_pad);
        memcpy(b + 4, "BIN\0", 4);
        memcpy(b + 8, w.bin, w.bin_size);
        memset(b + 8 + w.bin_size, 0, bin_pad - w.bin_size); /* BIN chunk pads with zeros */
    }
    free(json);
    free(w.bin);
    *data = out;
    *size = total;
    return CT_OK;
}

ct_status ct_gltf_write_glb(const ct_gltf *g, const char *path, ct_error *err)
{
    uint8_t *data;
    size_t size;
    ct_status st = ct_gltf_write_glb_memory(g, &data, &size, err);
    if (st) {
        ct_error_prefix(err, "%s: ", path);
        return st;
    }
    st = ct_file_write(path, data, size, err);
    free(data);
    return st;
}
