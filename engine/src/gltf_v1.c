/* glTF 1.0 -> 2.0 upgrade of the JSON document, done before the 2.0 parser
 * runs, so the rest of the reader only ever sees glTF 2.0. Old 3D Tiles
 * (b3dm/i3dm written in 2016-2017) embed binary glTF 1.0 (KHR_binary_glTF).
 *
 * What changes (the same mapping as gltf-pipeline's updateVersion, which
 * 3d-tiles-tools' upgrade uses):
 * - every top-level dictionary keyed by id becomes an array; references by id
 *   become indices (in the dictionary's order);
 * - the KHR_binary_glTF buffer "binary_glTF" becomes buffer 0 without a uri
 *   (the GLB body), shaders/images stored in it become bufferView references;
 * - accessor.byteStride moves to a bufferView (one copy of the view per
 *   strided accessor, since 2.0 keeps the stride on the view);
 * - a node's "meshes" list becomes "mesh" (extra meshes go to child nodes);
 * - materials: technique/values and KHR_materials_common become
 *   pbrMetallicRoughness with the diffuse color (sRGB -> linear, as
 *   gltf-pipeline does) or diffuse texture, metallic 0; CONSTANT techniques
 *   become KHR_materials_unlit; BLEND in the technique states gives alphaMode
 *   BLEND, no CULL_FACE gives doubleSided;
 * - BATCHID becomes _BATCHID; oct-encoded 2-component normals (early Cesium
 *   b3dm decoded them in their own shader) are renamed to GLTF_V1_OCT_NORMAL and
 *   decoded by the mesh reader;
 * - techniques, programs, shaders, animations, skins and cameras are dropped;
 *   CESIUM_RTC is kept.
 * Anything else that would change the geometry (WEB3D_quantized_attributes)
 * is refused with the JSON path.
 *
 * KHR_techniques_webgl (glTF 2.0 materials with their own GLSL) gets a
 * fallback here too: the technique's diffuse-like uniform (a texture or a
 * color) becomes the base color, so the model draws with the standard shader. */
#include "gltf_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ids ---- */

/* Ids of one top-level dictionary, sorted for lookup (files with thousands of
 * accessors must not make the upgrade quadratic). */
typedef struct v1_id {
    const char *name;
    int index;
} v1_id;

typedef struct v1_ids {
    v1_id *items;
    int n;
} v1_ids;

static int id_cmp(const void *a, const void *b)
{
    return strcmp(((const v1_id *)a)->name, ((const v1_id *)b)->name);
}

typedef struct v1_ctx {
    gltf_ctx *c;
    const cJSON *in;
    cJSON *out;
    v1_ids buffers, views, accessors, meshes, materials, textures, images, samplers, nodes, scenes, techniques;
    int binary_buffer; /* index of "binary_glTF" when the GLB body backs it, else -1 */
} v1_ctx;

/* A dictionary that must be an object keyed by id (absent = empty). */
static ct_status dict_get(v1_ctx *v, const char *key, const cJSON **out)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(v->in, key);
    *out = NULL;
    if (!d)
        return CT_OK;
    if (!cJSON_IsObject(d))
        return gltf_fail(v->c, "glTF 1.0 %s: expected an object keyed by id", key);
    for (const cJSON *e = d->child; e; e = e->next)
        if (!cJSON_IsObject(e) || !e->string)
            return gltf_fail(v->c, "glTF 1.0 %s[\"%s\"]: not an object", key, e->string ? e->string : "?");
    *out = d;
    return CT_OK;
}

static ct_status ids_build(v1_ctx *v, const char *key, v1_ids *ids)
{
    const cJSON *d;
    ct_status st = dict_get(v, key, &d);
    if (st || !d)
        return st;
    int n = cJSON_GetArraySize(d);
    ids->items = ct_calloc_array((size_t)n + 1, sizeof *ids->items);
    if (!ids->items)
        return gltf_fail_status(v->c, CT_ERR_RUNTIME, "out of memory");
    int i = 0;
    for (const cJSON *e = d->child; e; e = e->next, i++)
        ids->items[i] = (v1_id){e->string, i};
    ids->n = n;
    qsort(ids->items, (size_t)n, sizeof *ids->items, id_cmp);
    for (i = 1; i < n; i++)
        if (!strcmp(ids->items[i - 1].name, ids->items[i].name))
            return gltf_fail(v->c, "glTF 1.0 %s: id \"%s\" appears twice", key, ids->items[i].name);
    return CT_OK;
}

static int ids_find(const v1_ids *ids, const char *name)
{
    if (!ids->n || !name)
        return -1;
    v1_id key = {name, 0};
    const v1_id *hit = bsearch(&key, ids->items, (size_t)ids->n, sizeof key, id_cmp);
    return hit ? hit->index : -1;
}

/* Replaces the id string obj[key] (if present) by its index in ids; an unknown
 * id is an error naming the JSON path. */
static ct_status ref_to_index(v1_ctx *v, cJSON *obj, const char *key, const v1_ids *ids, const char *what,
                              const char *path)
{
    cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!r)
        return CT_OK;
    int idx = cJSON_IsString(r) ? ids_find(ids, r->valuestring) : -1;
    if (idx < 0)
        return gltf_fail(v->c, "glTF 1.0 %s.%s: %s%s%s is not a known %s id", path, key, cJSON_IsString(r) ? "\"" : "",
                         cJSON_IsString(r) ? r->valuestring : "value", cJSON_IsString(r) ? "\"" : "", what);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, key, cJSON_CreateNumber(idx));
    return CT_OK;
}

/* Copies the listed members of src that are present into dst. */
static void copy_keys(cJSON *dst, const cJSON *src, const char *const *keys)
{
    for (; *keys; keys++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(src, *keys);
        if (e)
            cJSON_AddItemToObject(dst, *keys, cJSON_Duplicate(e, true));
    }
}

/* New top-level array out[key], filled by the caller. */
static cJSON *out_array(v1_ctx *v, const char *key)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToObject(v->out, key, a);
    return a;
}

#define ID_PATH(buf, key, id) snprintf(buf, sizeof buf, "%s[\"%.120s\"]", key, id)

/* ------------------------------------------------------------ buffers ---- */

static ct_status upgrade_buffers(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "buffers", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "buffers");
    /* The GLB body is buffer 0 in 2.0 and has no uri. In 1.0 it is the buffer
     * with id "binary_glTF" (its uri, if any, is ignored). The dictionary was
     * indexed in file order, so move it first by renumbering. */
    int bin = v->c->has_bin ? ids_find(&v->buffers, "binary_glTF") : -1;
    if (bin > 0) {
        for (int i = 0; i < v->buffers.n; i++)
            if (v->buffers.items[i].index < bin)
                v->buffers.items[i].index++;
            else if (v->buffers.items[i].index == bin)
                v->buffers.items[i].index = 0;
    }
    v->binary_buffer = bin >= 0 ? 0 : -1;
    if (bin >= 0) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(d, "binary_glTF");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", "binary_glTF");
        static const char *const keys[] = {"byteLength", NULL};
        copy_keys(o, b, keys);
        cJSON_AddItemToArray(arr, o);
    }
    for (const cJSON *b = d->child; b; b = b->next) {
        if (bin >= 0 && !strcmp(b->string, "binary_glTF"))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", b->string);
        static const char *const keys[] = {"uri", "byteLength", NULL};
        copy_keys(o, b, keys);
        cJSON_AddItemToArray(arr, o);
    }
    return CT_OK;
}

static ct_status upgrade_views(v1_ctx *v, cJSON **views_out)
{
    const cJSON *d;
    ct_status st = dict_get(v, "bufferViews", &d);
    *views_out = NULL;
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "bufferViews");
    for (const cJSON *b = d->child; b; b = b->next) {
        char p[160];
        ID_PATH(p, "bufferViews", b->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", b->string);
        static const char *const keys[] = {"buffer", "byteOffset", "byteLength", "target", NULL};
        copy_keys(o, b, keys);
        if (!cJSON_GetObjectItemCaseSensitive(o, "byteLength"))
            cJSON_AddNumberToObject(o, "byteLength", 0); /* 1.0 default */
        if ((st = ref_to_index(v, o, "buffer", &v->buffers, "buffer", p)))
            return st;
    }
    *views_out = arr;
    return CT_OK;
}

static int type_components(const char *t)
{
    static const struct { const char *name; int n; } types[] = {
        {"SCALAR", 1}, {"VEC2", 2}, {"VEC3", 3}, {"VEC4", 4}, {"MAT2", 4}, {"MAT3", 9}, {"MAT4", 16}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].name))
            return types[i].n;
    return 0;
}

static int component_size(int ct)
{
    return ct == 5120 || ct == 5121 ? 1 : ct == 5122 || ct == 5123 ? 2 : ct == 5125 || ct == 5126 ? 4 : 0;
}

static ct_status upgrade_accessors(v1_ctx *v, cJSON *views)
{
    const cJSON *d;
    ct_status st = dict_get(v, "accessors", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "accessors");
    for (const cJSON *a = d->child; a; a = a->next) {
        char p[160];
        ID_PATH(p, "accessors", a->string);
        if (gltf_get_extension(a, "WEB3D_quantized_attributes"))
            return gltf_fail(v->c, "glTF 1.0 %s.extensions.WEB3D_quantized_attributes: not supported", p);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", a->string);
        static const char *const keys[] = {"bufferView", "byteOffset", "componentType", "count", "type", "min", "max",
                                           NULL};
        copy_keys(o, a, keys);
        if ((st = ref_to_index(v, o, "bufferView", &v->views, "bufferView", p)))
            return st;
        /* byteStride lives on the view in 2.0: a strided accessor gets its own
         * copy of its view carrying the stride. */
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(a, "byteStride");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(a, "componentType");
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(o, "bufferView");
        if (!cJSON_IsNumber(s) || s->valuedouble == 0 || !bv || !views)
            continue;
        int elem = (cJSON_IsString(t) ? type_components(t->valuestring) : 0) *
                   (cJSON_IsNumber(ct) ? component_size((int)ct->valuedouble) : 0);
        if (s->valuedouble == elem)
            continue; /* tightly packed: no stride needed */
        if (s->valuedouble < 0 || s->valuedouble > 252 || fmod(s->valuedouble, 4) != 0)
            return gltf_fail(v->c, "glTF 1.0 %s.byteStride: %g cannot be expressed in glTF 2.0 (a multiple of 4 in 4..252)",
                             p, s->valuedouble);
        cJSON *view = cJSON_Duplicate(cJSON_GetArrayItem(views, (int)bv->valuedouble), true);
        cJSON_AddNumberToObject(view, "byteStride", s->valuedouble);
        cJSON_AddItemToArray(views, view);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "bufferView", cJSON_CreateNumber(cJSON_GetArraySize(views) - 1));
    }
    return CT_OK;
}

/* ------------------------------------------------------------- meshes ---- */

/* Type of a 1.0 accessor, or NULL. */
static const char *accessor_type(v1_ctx *v, const char *id)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v->in, "accessors"), id);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

static ct_status upgrade_meshes(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "meshes", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "meshes");
    for (const cJSON *m = d->child; m; m = m->next) {
        char p[160];
        ID_PATH(p, "meshes", m->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        cJSON_AddStringToObject(o, "name", cJSON_IsString(name) ? name->valuestring : m->string);
        const cJSON *prims = gltf_get_array(m, "primitives");
        if (!prims)
            return gltf_fail(v->c, "glTF 1.0 %s.primitives: missing", p);
        cJSON *oprims = cJSON_AddArrayToObject(o, "primitives");
        int i = 0;
        for (const cJSON *pr = prims->child; pr; pr = pr->next, i++) {
            char pp[200];
            snprintf(pp, sizeof pp, "%s.primitives[%d]", p, i);
            if (!cJSON_IsObject(pr))
                return gltf_fail(v->c, "glTF 1.0 %s: not an object", pp);
            cJSON *op = cJSON_CreateObject();
            cJSON_AddItemToArray(oprims, op);
            static const char *const keys[] = {"indices", "material", "mode", NULL};
            copy_keys(op, pr, keys);
            if ((st = ref_to_index(v, op, "indices", &v->accessors, "accessor", pp)) ||
                (st = ref_to_index(v, op, "material", &v->materials, "material", pp)))
                return st;
            const cJSON *attrs = gltf_get_object(pr, "attributes");
            if (!attrs)
                return gltf_fail(v->c, "glTF 1.0 %s.attributes: missing", pp);
            cJSON *oa = cJSON_AddObjectToObject(op, "attributes");
            char ap[240];
            snprintf(ap, sizeof ap, "%s.attributes", pp);
            for (const cJSON *a = attrs->child; a; a = a->next) {
                const char *sem = a->string;
                if (!strcmp(sem, "BATCHID"))
                    sem = "_BATCHID";
                if (!strcmp(sem, "NORMAL") && cJSON_IsString(a) && accessor_type(v, a->valuestring) &&
                    !strcmp(accessor_type(v, a->valuestring), "VEC2"))
                    sem = GLTF_V1_OCT_NORMAL;
                if (cJSON_GetObjectItemCaseSensitive(oa, sem))
                    continue;
                cJSON_AddItemToObject(oa, sem, cJSON_Duplicate(a, false));
                if ((st = ref_to_index(v, oa, sem, &v->accessors, "accessor", ap)))
                    return st;
            }
        }
    }
    return CT_OK;
}

/* ---------------------------------------------------------- materials ---- */

static double srgb_to_linear(double c)
{
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static bool has_word(const char *s, const char *word)
{
    for (; *s; s++) {
        size_t i = 0;
        while (word[i] && tolower((unsigned char)s[i]) == word[i])
            i++;
        if (!word[i])
            return true;
    }
    return false;
}

/* The value of the diffuse-like parameter: the material's own value, else
 * the technique's default. Prefers a key containing "diffuse", then "color",
 * then "emission" (CONSTANT techniques). */
static const cJSON *find_color_value(const cJSON *values, const cJSON *params, const char *const *words)
{
    for (; *words; words++) {
        for (const cJSON *e = values ? values->child : NULL; e; e = e->next)
            if (e->string && has_word(e->string, *words))
                return e;
        for (const cJSON *e = params ? params->child : NULL; e; e = e->next) {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(e, "value");
            if (e->string && val && has_word(e->string, *words))
                return val;
        }
    }
    return NULL;
}

/* Fills a 2.0 material's pbrMetallicRoughness from a color array or a
 * texture (an id for 1.0, a textureInfo object for KHR_techniques_webgl). */
static ct_status set_base_color(gltf_ctx *c, const v1_ids *textures, cJSON *mat, const cJSON *val, const char *path)
{
    cJSON *pbr = cJSON_AddObjectToObject(mat, "pbrMetallicRoughness");
    cJSON_AddNumberToObject(pbr, "metallicFactor", 0);
    cJSON_AddNumberToObject(pbr, "roughnessFactor", 1);
    if (!val)
        return CT_OK;
    if (cJSON_IsArray(val)) {
        int n = cJSON_GetArraySize(val);
        if (n < 3 || n > 4)
            return CT_OK; /* not a color: keep the default */
        double col[4] = {1, 1, 1, 1};
        int k = 0;
        for (const cJSON *e = val->child; e; e = e->next, k++) {
            if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
                return gltf_fail(c, "%s: diffuse color component %d is not a number", path, k);
            col[k] = e->valuedouble;
        }
        for (k = 0; k < 3; k++)
            col[k] = srgb_to_linear(col[k] < 0 ? 0 : col[k] > 1 ? 1 : col[k]);
        col[3] = col[3] < 0 ? 0 : col[3] > 1 ? 1 : col[3];
        cJSON_AddItemToObject(pbr, "baseColorFactor", cJSON_CreateDoubleArray(col, 4));
    } else if (cJSON_IsString(val) && textures) {
        int t = ids_find(textures, val->valuestring);
        if (t < 0)
            return gltf_fail(c, "glTF 1.0 %s: texture \"%s\" is not a known texture id", path, val->valuestring);
        cJSON *ti = cJSON_AddObjectToObject(pbr, "baseColorTexture");
        cJSON_AddNumberToObject(ti, "index", t);
    } else if (cJSON_IsObject(val) && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(val, "index"))) {
        cJSON *ti = cJSON_AddObjectToObject(pbr, "baseColorTexture");
        cJSON_AddNumberToObject(ti, "index", cJSON_GetObjectItemCaseSensitive(val, "index")->valuedouble);
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(val, "texCoord");
        if (cJSON_IsNumber(tc))
            cJSON_AddNumberToObject(ti, "texCoord", tc->valuedouble);
    }
    return CT_OK;
}

static bool states_enable(const cJSON *technique, int gl_enum)
{
    const cJSON *en = gltf_get_array(gltf_get_object(technique, "states"), "enable");
    for (const cJSON *e = en ? en->child : NULL; e; e = e->next)
        if (cJSON_IsNumber(e) && e->valuedouble == gl_enum)
            return true;
    return false;
}

#define GL_CULL_FACE 2884
#define GL_BLEND 3042

static ct_status upgrade_materials(v1_ctx *v)
{
    const cJSON *d, *techniques;
    ct_status st = dict_get(v, "materials", &d);
    if (st || !d || (st = dict_get(v, "techniques", &techniques)))
        return st;
    cJSON *arr = out_array(v, "materials");
    for (const cJSON *m = d->child; m; m = m->next) {
        char p[160];
        ID_PATH(p, "materials", m->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        cJSON_AddStringToObject(o, "name", cJSON_IsString(name) ? name->valuestring : m->string);
        const cJSON *common = gltf_get_extension(m, "KHR_materials_common");
        const cJSON *values, *params = NULL, *tech = NULL;
        bool constant = false, blend = false, double_sided = false;
        if (common) {
            values = gltf_get_object(common, "values");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(common, "technique");
            constant = cJSON_IsString(t) && !strcmp(t->valuestring, "CONSTANT");
            blend = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(common, "transparent"));
            double_sided = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(common, "doubleSided"));
        } else {
            values = gltf_get_object(m, "values");
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "technique");
            tech = cJSON_IsString(t) ? cJSON_GetObjectItemCaseSensitive(techniques, t->valuestring) : NULL;
            params = gltf_get_object(tech, "parameters");
            if (tech) {
                blend = states_enable(tech, GL_BLEND);
                double_sided = !states_enable(tech, GL_CULL_FACE);
            }
            /* A technique without a NORMAL attribute does not light the surface. */
            bool lit = false;
            for (const cJSON *e = params ? params->child : NULL; e; e = e->next) {
                const cJSON *sem = cJSON_GetObjectItemCaseSensitive(e, "semantic");
                if (cJSON_IsString(sem) && !strcmp(sem->valuestring, "NORMAL"))
                    lit = true;
            }
            constant = tech && !lit;
        }
        static const char *const lit_words[] = {"diffuse", "color", "emission", NULL};
        static const char *const unlit_words[] = {"emission", "diffuse", "color", NULL};
        const cJSON *val = find_color_value(values, params, constant ? unlit_words : lit_words);
        char vp[240];
        snprintf(vp, sizeof vp, "%s.values", p);
        if ((st = set_base_color(v->c, &v->textures, o, val, vp)))
            return st;
        if (blend)
            cJSON_AddStringToObject(o, "alphaMode", "BLEND");
        if (double_sided)
            cJSON_AddTrueToObject(o, "doubleSided");
        if (constant)
            cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "extensions"), "KHR_materials_unlit");
    }
    return CT_OK;
}

/* ------------------------------------------------ textures and images ---- */

static ct_status upgrade_textures(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "textures", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "textures");
    for (const cJSON *t = d->child; t; t = t->next) {
        char p[160];
        ID_PATH(p, "textures", t->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        static const char *const keys[] = {"sampler", "source", NULL};
        copy_keys(o, t, keys);
        if ((st = ref_to_index(v, o, "sampler", &v->samplers, "sampler", p)) ||
            (st = ref_to_index(v, o, "source", &v->images, "image", p)))
            return st;
    }
    return CT_OK;
}

static ct_status upgrade_images(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "images", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "images");
    for (const cJSON *im = d->child; im; im = im->next) {
        char p[160];
        ID_PATH(p, "images", im->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", im->string);
        const cJSON *bin = gltf_get_extension(im, "KHR_binary_glTF");
        if (bin) {
            static const char *const keys[] = {"bufferView", "mimeType", NULL};
            copy_keys(o, bin, keys);
            if ((st = ref_to_index(v, o, "bufferView", &v->views, "bufferView", p)))
                return st;
        } else {
            static const char *const keys[] = {"uri", NULL};
            copy_keys(o, im, keys);
        }
    }
    return CT_OK;
}

static ct_status upgrade_samplers(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "samplers", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "samplers");
    for (const cJSON *s = d->child; s; s = s->next) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        static const char *const keys[] = {"magFilter", "minFilter", "wrapS", "wrapT", NULL};
        copy_keys(o, s, keys);
    }
    return CT_OK;
}

/* ----------------------------------------------------- nodes and scenes ---- */

static ct_status id_list_to_indices(v1_ctx *v, const cJSON *list, const v1_ids *ids, const char *what,
                                    const char *path, cJSON *out)
{
    int i = 0;
    for (const cJSON *e = list ? list->child : NULL; e; e = e->next, i++) {
        int idx = cJSON_IsString(e) ? ids_find(ids, e->valuestring) : -1;
        if (idx < 0)
            return gltf_fail(v->c, "glTF 1.0 %s[%d]: not a known %s id", path, i, what);
        cJSON_AddItemToArray(out, cJSON_CreateNumber(idx));
    }
    return CT_OK;
}

static ct_status upgrade_nodes(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "nodes", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "nodes");
    int next = v->nodes.n; /* extra nodes for the 2nd.. meshes of a node go after the 1.0 ones */
    cJSON *extra = cJSON_CreateArray();
    for (const cJSON *n = d->child; n; n = n->next) {
        char p[160];
        ID_PATH(p, "nodes", n->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(n, "name");
        cJSON_AddStringToObject(o, "name", cJSON_IsString(name) ? name->valuestring : n->string);
        static const char *const keys[] = {"matrix", "translation", "rotation", "scale", NULL};
        copy_keys(o, n, keys);
        char cp[200];
        const cJSON *children = cJSON_GetObjectItemCaseSensitive(n, "children");
        cJSON *oc = cJSON_CreateArray();
        snprintf(cp, sizeof cp, "%s.children", p);
        if (children && !cJSON_IsArray(children))
            st = gltf_fail(v->c, "glTF 1.0 %s: not an array", cp);
        if (!st)
            st = id_list_to_indices(v, children, &v->nodes, "node", cp, oc);
        const cJSON *meshes = cJSON_GetObjectItemCaseSensitive(n, "meshes");
        cJSON *om = cJSON_CreateArray();
        snprintf(cp, sizeof cp, "%s.meshes", p);
        if (!st && meshes && !cJSON_IsArray(meshes))
            st = gltf_fail(v->c, "glTF 1.0 %s: not an array", cp);
        if (!st)
            st = id_list_to_indices(v, meshes, &v->meshes, "mesh", cp, om);
        if (st) {
            cJSON_Delete(oc);
            cJSON_Delete(om);
            cJSON_Delete(extra);
            return st;
        }
        int k = 0;
        for (const cJSON *e = om->child; e; e = e->next, k++) {
            if (k == 0) {
                cJSON_AddNumberToObject(o, "mesh", e->valuedouble);
                continue;
            }
            cJSON *child = cJSON_CreateObject();
            cJSON_AddNumberToObject(child, "mesh", e->valuedouble);
            cJSON_AddItemToArray(extra, child);
            cJSON_AddItemToArray(oc, cJSON_CreateNumber(next++));
        }
        cJSON_Delete(om);
        if (cJSON_GetArraySize(oc))
            cJSON_AddItemToObject(o, "children", oc);
        else
            cJSON_Delete(oc);
    }
    while (extra->child)
        cJSON_AddItemToArray(arr, cJSON_DetachItemViaPointer(extra, extra->child));
    cJSON_Delete(extra);
    return CT_OK;
}

static ct_status upgrade_scenes(v1_ctx *v)
{
    const cJSON *d;
    ct_status st = dict_get(v, "scenes", &d);
    if (st || !d)
        return st;
    cJSON *arr = out_array(v, "scenes");
    for (const cJSON *s = d->child; s; s = s->next) {
        char p[200];
        snprintf(p, sizeof p, "scenes[\"%.120s\"].nodes", s->string);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", s->string);
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(s, "nodes");
        if (nodes && !cJSON_IsArray(nodes))
            return gltf_fail(v->c, "glTF 1.0 %s: not an array", p);
        /* A root that names no node (null, as in 3d-tiles-tools'
         * glTF1GlbWithoutBin.glb, or an unknown id) is dropped with a warning:
         * gltf-pipeline's updateVersion maps it to undefined, i.e. nothing to
         * draw, and the 2.0 twins of those files are one empty node. */
        cJSON *on = cJSON_AddArrayToObject(o, "nodes");
        int i = 0;
        for (const cJSON *e = nodes ? nodes->child : NULL; e; e = e->next, i++) {
            int idx = cJSON_IsString(e) ? ids_find(&v->nodes, e->valuestring) : -1;
            if (idx < 0)
                ct_log(CT_LOG_WARN, "%s: glTF 1.0 %s[%d]: not a known node id (skipped)",
                       v->c->name ? v->c->name : "glTF", p, i);
            else
                cJSON_AddItemToArray(on, cJSON_CreateNumber(idx));
        }
    }
    const cJSON *scene = cJSON_GetObjectItemCaseSensitive(v->in, "scene");
    if (scene) {
        int idx = cJSON_IsString(scene) ? ids_find(&v->scenes, scene->valuestring) : -1;
        if (idx < 0)
            return gltf_fail(v->c, "glTF 1.0 scene: not a known scene id");
        cJSON_AddNumberToObject(v->out, "scene", idx);
    }
    return CT_OK;
}

/* ----------------------------------------------------------- document ---- */

bool gltf_v1_detect(const cJSON *root)
{
    const cJSON *asset = cJSON_GetObjectItemCaseSensitive(root, "asset");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(asset, "version");
    if (cJSON_IsString(ver))
        return ver->valuestring[0] == '1' || ver->valuestring[0] == '0';
    /* 1.0 files without asset.version: dictionaries instead of arrays. */
    static const char *const keys[] = {"scenes", "nodes", "meshes", "accessors", "buffers"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, keys[i])))
            return true;
    return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "scene"));
}

static void v1_free(v1_ctx *v)
{
    v1_ids *all[] = {&v->buffers, &v->views,    &v->accessors, &v->meshes, &v->materials, &v->textures,
                     &v->images,  &v->samplers, &v->nodes,     &v->scenes, &v->techniques};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]->items);
}

static ct_status upgrade(v1_ctx *v)
{
    ct_status st;
    const cJSON *used = cJSON_GetObjectItemCaseSensitive(v->in, "extensionsUsed");
    for (const cJSON *e = cJSON_IsArray(used) ? used->child : NULL; e; e = e->next)
        if (cJSON_IsString(e) && !strcmp(e->valuestring, "WEB3D_quantized_attributes"))
            return gltf_fail(v->c, "glTF 1.0 extensionsUsed: WEB3D_quantized_attributes is not supported");
    if ((st = ids_build(v, "buffers", &v->buffers)) || (st = ids_build(v, "bufferViews", &v->views)) ||
        (st = ids_build(v, "accessors", &v->accessors)) || (st = ids_build(v, "meshes", &v->meshes)) ||
        (st = ids_build(v, "materials", &v->materials)) || (st = ids_build(v, "textures", &v->textures)) ||
        (st = ids_build(v, "images", &v->images)) || (st = ids_build(v, "samplers", &v->samplers)) ||
        (st = ids_build(v, "nodes", &v->nodes)) || (st = ids_build(v, "scenes", &v->scenes)) ||
        (st = ids_build(v, "techniques", &v->techniques)))
        return st;
    cJSON *asset = cJSON_AddObjectToObject(v->out, "asset");
    cJSON_AddStringToObject(asset, "version", "2.0");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(v->in, "asset"), "generator");
    char buf[300];
    snprintf(buf, sizeof buf, "%.200s (upgraded from glTF 1.0 by citytwin)", cJSON_IsString(gen) ? gen->valuestring : "?");
    cJSON_AddStringToObject(asset, "generator", buf);
    cJSON *views = NULL;
    if ((st = upgrade_buffers(v)) || (st = upgrade_views(v, &views)) || (st = upgrade_accessors(v, views)) ||
        (st = upgrade_meshes(v)) || (st = upgrade_materials(v)) || (st = upgrade_textures(v)) ||
        (st = upgrade_images(v)) || (st = upgrade_samplers(v)) || (st = upgrade_nodes(v)) || (st = upgrade_scenes(v)))
        return st;
    const cJSON *rtc = gltf_get_extension(v->in, "CESIUM_RTC");
    if (rtc) {
        cJSON *ext = cJSON_AddObjectToObject(v->out, "extensions");
        cJSON_AddItemToObject(ext, "CESIUM_RTC", cJSON_Duplicate(rtc, true));
        cJSON *u = cJSON_AddArrayToObject(v->out, "extensionsUsed");
        cJSON_AddItemToArray(u, cJSON_CreateString("CESIUM_RTC"));
    }
    return CT_OK;
}

ct_status gltf_v1_upgrade(gltf_ctx *c)
{
    v1_ctx v = {.c = c, .in = c->root, .binary_buffer = -1};
    v.out = cJSON_CreateObject();
    if (!v.out)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    ct_status st = upgrade(&v);
    v1_free(&v);
    if (st) {
        cJSON_Delete(v.out);
        return st;
    }
    cJSON_Delete(c->root);
    c->root = v.out;
    c->upgraded_v1 = true;
    /* Consumers reading ct_gltf.json see the document the reader used. */
    char *text = cJSON_PrintUnformatted(v.out);
    if (!text)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    free(c->g->json);
    c->g->json = text;
    return CT_OK;
}

/* ------------------------------------------------ KHR_techniques_webgl ---- */

ct_status gltf_techniques_fallback(gltf_ctx *c)
{
    cJSON *required = cJSON_GetObjectItemCaseSensitive(c->root, "extensionsRequired");
    const cJSON *root_ext = gltf_get_extension(c->root, "KHR_techniques_webgl");
    const cJSON *techniques = gltf_get_array(root_ext, "techniques");
    cJSON *mats = cJSON_GetObjectItemCaseSensitive(c->root, "materials");
    bool any = false;
    int i = 0;
    for (cJSON *m = cJSON_IsArray(mats) ? mats->child : NULL; m; m = m->next, i++) {
        const cJSON *ext = gltf_get_extension(m, "KHR_techniques_webgl");
        if (!ext)
            continue;
        any = true;
        if (cJSON_GetObjectItemCaseSensitive(m, "pbrMetallicRoughness"))
            continue; /* the file gives its own fallback */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(ext, "technique");
        const cJSON *tech = cJSON_IsNumber(t) ? cJSON_GetArrayItem(techniques, (int)t->valuedouble) : NULL;
        const cJSON *uniforms = gltf_get_object(tech, "uniforms");
        bool lit = false;
        const cJSON *attrs = gltf_get_object(tech, "attributes");
        for (const cJSON *a = attrs ? attrs->child : NULL; a; a = a->next) {
            const cJSON *sem = cJSON_GetObjectItemCaseSensitive(a, "semantic");
            if (cJSON_IsString(sem) && !strcmp(sem->valuestring, "NORMAL"))
                lit = true;
        }
        static const char *const words[] = {"diffuse", "color", "emission", NULL};
        const cJSON *val = find_color_value(gltf_get_object(ext, "values"), uniforms, words);
        char p[160];
        snprintf(p, sizeof p, "materials[%d].extensions.KHR_techniques_webgl.values", i);
        ct_status st = set_base_color(c, NULL, m, val, p);
        if (st)
            return st;
        if (!lit && !gltf_get_extension(m, "KHR_materials_unlit")) {
            cJSON *exts = cJSON_GetObjectItemCaseSensitive(m, "extensions");
            cJSON_AddObjectToObject(exts, "KHR_materials_unlit");
        }
    }
    /* Without a materials fallback nothing would draw, so only drop the
     * requirement when the extension is confined to materials. */
    int k = 0;
    for (cJSON *e = cJSON_IsArray(required) ? required->child : NULL; e; e = e->next, k++)
        if (cJSON_IsString(e) && !strcmp(e->valuestring, "KHR_techniques_webgl")) {
            ct_log(CT_LOG_DEBUG, "%s: KHR_techniques_webgl drawn with its diffuse value as base color%s", c->name,
                   any ? "" : " (no material uses it)");
            cJSON_DeleteItemFromArray(required, k);
            break;
        }
    return CT_OK;
}

/* True when material m's KHR_techniques_webgl vertex shader is a billboard:
 * it starts from mat4(1.0) and copies only the translation column of the
 * MODELVIEW uniform (`mv[3] = u_modelViewMatrix[3]`), so the quad is laid out
 * in view space, facing the camera, unscaled (TilesetWithTreeBillboards).
 * CesiumJS runs the technique's own GLSL; citytwin draws with its own shader
 * and recognises this one idiom (shader sources in a bufferView; a shader
 * given by uri is not read). */
bool gltf_technique_is_billboard(gltf_ctx *c, const cJSON *m)
{
    const cJSON *ext = gltf_get_extension(m, "KHR_techniques_webgl");
    const cJSON *root_ext = gltf_get_extension(c->root, "KHR_techniques_webgl");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ext, "technique");
    const cJSON *tech = cJSON_IsNumber(t) ? cJSON_GetArrayItem(gltf_get_array(root_ext, "techniques"), t->valueint)
                                          : NULL;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(tech, "program");
    const cJSON *prog = cJSON_IsNumber(pr) ? cJSON_GetArrayItem(gltf_get_array(root_ext, "programs"), pr->valueint)
                                           : NULL;
    const cJSON *vsi = cJSON_GetObjectItemCaseSensitive(prog, "vertexShader");
    const cJSON *sh = cJSON_IsNumber(vsi) ? cJSON_GetArrayItem(gltf_get_array(root_ext, "shaders"), vsi->valueint)
                                          : NULL;
    const cJSON *bv = cJSON_GetObjectItemCaseSensitive(sh, "bufferView");
    const char *mv_name = NULL;
    const cJSON *u;
    cJSON_ArrayForEach(u, gltf_get_object(tech, "uniforms"))
    {
        const cJSON *sem = cJSON_GetObjectItemCaseSensitive(u, "semantic");
        if (u->string && cJSON_IsString(sem) && !strcmp(sem->valuestring, "MODELVIEW"))
            mv_name = u->string;
    }
    if (!mv_name || strlen(mv_name) > 64 || !cJSON_IsNumber(bv) || bv->valuedouble < 0 ||
        bv->valuedouble >= c->view_count)
        return false;
    const gltf_view *v = NULL;
    ct_error saved = {0}; /* a bad view only means "not recognised" */
    if (c->err)
        saved = *c->err;
    if (gltf_view_get(c, (uint32_t)bv->valuedouble, "KHR_techniques_webgl shader", &v) != CT_OK || !v->data ||
        v->size > (1u << 20)) {
        if (c->err)
            *c->err = saved;
        return false;
    }
    char *src = malloc(v->size + 1); /* without whitespace */
    if (!src)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < v->size; i++)
        if (v->data[i] > ' ')
            src[n++] = (char)v->data[i];
    src[n] = 0;
    char want[96];
    snprintf(want, sizeof want, "[3]=%s[3]", mv_name);
    bool yes = strstr(src, "mat4(1.0)") && strstr(src, want);
    free(src);
    return yes;
}
