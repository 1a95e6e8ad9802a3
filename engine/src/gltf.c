/* glTF 2.0 reader: the GLB container, the JSON document (cJSON), materials,
 * textures, images, nodes and scenes, and the flattened default scene with
 * its totals and bounds. Accessors live in gltf_accessor.c, meshes in
 * gltf_mesh.c, Draco in draco_shim.cpp. */
#include "gltf_internal.h"

#include "citytwin/ct_image.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

ct_status gltf_uri_load(gltf_ctx *c, const char *uri, const char *path, uint8_t **out, size_t *size, char **mime);

/* ------------------------------------------------------------- errors ---- */

static ct_status vfail(gltf_ctx *c, ct_status st, const char *fmt, va_list ap)
{
    char msg[900];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return ct_error_set(c->err, st, "%s: %s", c->name, msg);
}

ct_status gltf_fail(gltf_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_status st = vfail(c, CT_ERR_INPUT, fmt, ap);
    va_end(ap);
    return st;
}

ct_status gltf_fail_status(gltf_ctx *c, ct_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ct_status st = vfail(c, status, fmt, ap);
    va_end(ap);
    return st;
}

/* --------------------------------------------------------------- JSON ---- */

/* JSON paths: "accessors[3]" + "." + "count"; top-level keys have no prefix. */
#define DOT(path) ((path)[0] ? "." : "")

ct_status gltf_get_int(gltf_ctx *c, const cJSON *obj, const char *key, int64_t def, int64_t min, int64_t max,
                       const char *path, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        *out = def;
        return CT_OK;
    }
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return gltf_fail(c, "%s%s%s: not an integer", path, DOT(path), key);
    if (d < (double)min || d > (double)max)
        return gltf_fail(c, "%s%s%s: %.0f is out of range (%lld..%lld)", path, DOT(path), key, d, (long long)min, (long long)max);
    *out = (int64_t)d;
    return CT_OK;
}

ct_status gltf_get_index(gltf_ctx *c, const cJSON *obj, const char *key, uint32_t count, const char *path, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = -1;
    if (!v)
        return CT_OK;
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d))
        return gltf_fail(c, "%s%s%s: not an integer index", path, DOT(path), key);
    if (d < 0 || d >= (double)count)
        return gltf_fail(c, "%s%s%s: index %.0f out of range (%u available)", path, DOT(path), key, d, count);
    *out = (int)d;
    return CT_OK;
}

ct_status gltf_get_number(gltf_ctx *c, const cJSON *obj, const char *key, double def, const char *path, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        *out = def;
        return CT_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return gltf_fail(c, "%s%s%s: not a number", path, DOT(path), key);
    *out = v->valuedouble;
    return CT_OK;
}

ct_status gltf_get_numbers(gltf_ctx *c, const cJSON *obj, const char *key, int n, const char *path, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return CT_OK;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != n)
        return gltf_fail(c, "%s.%s: expected an array of %d numbers", path, key, n);
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return gltf_fail(c, "%s.%s[%d]: not a number", path, key, i);
        out[i] = e->valuedouble;
    }
    return CT_OK;
}

const cJSON *gltf_get_object(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *gltf_get_array(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

const cJSON *gltf_get_extension(const cJSON *obj, const char *name)
{
    return gltf_get_object(gltf_get_object(obj, "extensions"), name);
}

static char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? ct_strdup(v->valuestring) : NULL;
}

/* Optional top-level array: absent is fine, another type is an error. */
static ct_status top_array(gltf_ctx *c, const char *key, const cJSON **out, uint32_t *count)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, key);
    *out = NULL;
    *count = 0;
    if (!v)
        return CT_OK;
    if (!cJSON_IsArray(v))
        return gltf_fail(c, "%s: not an array", key);
    *out = v;
    *count = (uint32_t)cJSON_GetArraySize(v);
    for (const cJSON *e = v->child; e; e = e->next)
        if (!cJSON_IsObject(e))
            return gltf_fail(c, "%s: every element must be an object", key);
    return CT_OK;
}

/* --------------------------------------------------------- extensions ---- */

/* Extensions this reader implements (or, for metadata ones, passes through in
 * ct_gltf.json), so a file may require them. */
static const char *const SUPPORTED_EXTENSIONS[] = {
    "KHR_materials_unlit",      "KHR_texture_transform",      "KHR_mesh_quantization",
    "EXT_meshopt_compression",  "KHR_draco_mesh_compression", "EXT_texture_webp",
    "EXT_mesh_gpu_instancing",  "CESIUM_RTC",                 "EXT_mesh_features",
    "EXT_structural_metadata",  "KHR_materials_emissive_strength",
};

static bool extension_supported(const char *name)
{
    for (size_t i = 0; i < sizeof SUPPORTED_EXTENSIONS / sizeof SUPPORTED_EXTENSIONS[0]; i++)
        if (!strcmp(name, SUPPORTED_EXTENSIONS[i]))
            return true;
    return false;
}

static ct_status load_string_list(gltf_ctx *c, const char *key, char ***out, uint32_t *count)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->root, key);
    if (!v)
        return CT_OK;
    if (!cJSON_IsArray(v))
        return gltf_fail(c, "%s: not an array", key);
    int n = cJSON_GetArraySize(v);
    if (!n)
        return CT_OK;
    *out = ct_calloc_array((size_t)n, sizeof(char *));
    if (!*out)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e))
            return gltf_fail(c, "%s[%d]: not a string", key, i);
        (*out)[i] = ct_strdup(e->valuestring);
        *count = (uint32_t)i + 1;
    }
    return CT_OK;
}

static ct_status load_extensions(gltf_ctx *c)
{
    ct_gltf *g = c->g;
    ct_status st;
    if ((st = load_string_list(c, "extensionsUsed", &g->extensions_used, &g->extensions_used_count)) ||
        (st = load_string_list(c, "extensionsRequired", &g->extensions_required, &g->extensions_required_count)))
        return st;
    for (uint32_t i = 0; i < g->extensions_required_count; i++)
        if (!extension_supported(g->extensions_required[i]))
            return gltf_fail(c, "extensionsRequired[%u]: unsupported extension \"%s\"", i, g->extensions_required[i]);
    const cJSON *rtc = gltf_get_extension(c->root, "CESIUM_RTC");
    if (rtc) {
        const cJSON *center = cJSON_GetObjectItemCaseSensitive(rtc, "center");
        if (!center)
            return gltf_fail(c, "extensions.CESIUM_RTC.center: missing");
        if ((st = gltf_get_numbers(c, rtc, "center", 3, "extensions.CESIUM_RTC", g->rtc_center)))
            return st;
        g->has_rtc_center = true;
    }
    return CT_OK;
}

/* ----------------------------------------------- samplers and textures ---- */

static ct_status load_samplers(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "samplers", &arr, &n);
    if (st || !n)
        return st;
    ct_gltf *g = c->g;
    g->samplers = ct_calloc_array(n, sizeof *g->samplers);
    if (!g->samplers)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->sampler_count = n;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "samplers[%u]", i);
        int64_t mag, min, ws, wt;
        if ((st = gltf_get_int(c, j, "magFilter", 0, 0, 65535, p, &mag)) ||
            (st = gltf_get_int(c, j, "minFilter", 0, 0, 65535, p, &min)) ||
            (st = gltf_get_int(c, j, "wrapS", 10497, 0, 65535, p, &ws)) ||
            (st = gltf_get_int(c, j, "wrapT", 10497, 0, 65535, p, &wt)))
            return st;
        g->samplers[i] = (ct_gltf_sampler){(int)mag, (int)min, (int)ws, (int)wt};
    }
    return CT_OK;
}

static ct_status load_textures(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "textures", &arr, &n);
    if (st || !n)
        return st;
    ct_gltf *g = c->g;
    g->textures = ct_calloc_array(n, sizeof *g->textures);
    if (!g->textures)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->texture_count = n;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "textures[%u]", i);
        ct_gltf_texture *t = &g->textures[i];
        if ((st = gltf_get_index(c, j, "sampler", g->sampler_count, p, &t->sampler)) ||
            (st = gltf_get_index(c, j, "source", g->image_count, p, &t->image)))
            return st;
        const cJSON *webp = gltf_get_extension(j, "EXT_texture_webp");
        if (webp) {
            char wp[96];
            snprintf(wp, sizeof wp, "%s.extensions.EXT_texture_webp", p);
            int src;
            if ((st = gltf_get_index(c, webp, "source", g->image_count, wp, &src)))
                return st;
            if (src >= 0)
                t->image = src; /* we decode WebP, so prefer it over the fallback */
        }
    }
    return CT_OK;
}

/* --------------------------------------------------------------- images ---- */

static ct_status load_images(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "images", &arr, &n);
    if (st || !n)
        return st;
    ct_gltf *g = c->g;
    g->images = ct_calloc_array(n, sizeof *g->images);
    if (!g->images)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->image_count = n;
    bool skip = c->opts && c->opts->skip_images;
    uint64_t max_pixels = c->opts ? c->opts->max_image_pixels : 0;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "images[%u]", i);
        ct_gltf_image *im = &g->images[i];
        im->name = json_string(j, "name");
        im->mime_type = json_string(j, "mimeType");
        const cJSON *uri = cJSON_GetObjectItemCaseSensitive(j, "uri");
        int view;
        if ((st = gltf_get_index(c, j, "bufferView", c->view_count, p, &view)))
            return st;
        const uint8_t *data = NULL;
        size_t size = 0;
        uint8_t *owned = NULL;
        if (view >= 0) {
            const gltf_view *v;
            /* A bad bufferView is a structural error, not a bad image. */
            if ((st = gltf_view_get(c, (uint32_t)view, p, &v)))
                return st;
            data = v->data;
            size = v->size;
        } else if (cJSON_IsString(uri)) {
            /* A missing or unreadable image file only loses the texture. */
            ct_error ierr = {0};
            gltf_ctx ic = *c;
            ic.err = &ierr;
            char *mime = NULL;
            if (gltf_uri_load(&ic, uri->valuestring, p, &owned, &size, &mime)) {
                ct_log(CT_LOG_WARN, "%s", ierr.msg);
                g->images_failed++;
                continue;
            }
            if (!im->mime_type)
                im->mime_type = mime;
            else
                free(mime);
            data = owned;
        } else {
            return gltf_fail(c, "%s: needs a uri or a bufferView", p);
        }
        ct_error ierr = {0};
        const char *sniffed = NULL;
        if (ct_image_probe(data, size, &im->width, &im->height, &sniffed, &ierr) == CT_OK) {
            if (!im->mime_type || strcmp(im->mime_type, sniffed) != 0) {
                free(im->mime_type);
                im->mime_type = ct_strdup(sniffed);
            }
            if (!skip) {
                ct_image img;
                if (ct_image_decode_max(data, size, max_pixels, &img, &ierr) == CT_OK)
                    im->pixels = img.pixels;
            }
        }
        if (ierr.msg[0]) {
            ct_log(CT_LOG_WARN, "%s: %s: %s", c->name, p, ierr.msg);
            g->images_failed++;
        }
        free(owned);
    }
    return CT_OK;
}

/* ------------------------------------------------------------ materials ---- */

static void mat3_identity(float m[9])
{
    static const float id[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    memcpy(m, id, sizeof id);
}

static ct_status load_texture_ref(gltf_ctx *c, const cJSON *obj, const char *key, const char *scale_key,
                                  const char *path, ct_gltf_texture_ref *r)
{
    r->texture = -1;
    r->texcoord = 0;
    r->scale = 1;
    r->has_transform = false;
    mat3_identity(r->uv_matrix);
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j)
        return CT_OK;
    char p[160];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!cJSON_IsObject(j))
        return gltf_fail(c, "%s: not an object", p);
    int64_t tc = 0;
    double scale = 1;
    ct_status st;
    if ((st = gltf_get_index(c, j, "index", c->g->texture_count, p, &r->texture)) ||
        (st = gltf_get_int(c, j, "texCoord", 0, 0, 255, p, &tc)) ||
        (st = gltf_get_number(c, j, scale_key ? scale_key : "scale", 1.0, p, &scale)))
        return st;
    if (r->texture < 0)
        return gltf_fail(c, "%s.index: missing", p);
    r->texcoord = (int)tc;
    r->scale = scale_key ? (float)scale : 1.0f;
    const cJSON *tt = gltf_get_extension(j, "KHR_texture_transform");
    if (tt) {
        char tp[224];
        snprintf(tp, sizeof tp, "%s.extensions.KHR_texture_transform", p);
        double off[2] = {0, 0}, sc[2] = {1, 1}, rot = 0;
        if ((st = gltf_get_numbers(c, tt, "offset", 2, tp, off)) || (st = gltf_get_numbers(c, tt, "scale", 2, tp, sc)) ||
            (st = gltf_get_number(c, tt, "rotation", 0, tp, &rot)) ||
            (st = gltf_get_int(c, tt, "texCoord", tc, 0, 255, tp, &tc)))
            return st;
        r->texcoord = (int)tc;
        /* uv' = T * R * S * uv. The rotation matrix is the one implementations
         * (three.js, Babylon, the sample viewer) use, i.e. u' = cos*u + sin*v,
         * v' = -sin*u + cos*v; the GLSL listing in the extension's README has the
         * opposite sign (glTF issue #1563). */
        double cs = cos(rot), sn = sin(rot);
        float *m = r->uv_matrix;
        m[0] = (float)(sc[0] * cs);
        m[1] = (float)(-sc[0] * sn);
        m[2] = 0;
        m[3] = (float)(sc[1] * sn);
        m[4] = (float)(sc[1] * cs);
        m[5] = 0;
        m[6] = (float)off[0];
        m[7] = (float)off[1];
        m[8] = 1;
        r->has_transform = true;
    }
    return CT_OK;
}

static ct_status load_materials(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "materials", &arr, &n);
    if (st || !n)
        return st;
    ct_gltf *g = c->g;
    g->materials = ct_calloc_array(n, sizeof *g->materials);
    if (!g->materials)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->material_count = n;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "materials[%u]", i);
        ct_gltf_material *m = &g->materials[i];
        m->name = json_string(j, "name");
        const cJSON *pbr = gltf_get_object(j, "pbrMetallicRoughness");
        char pp[96];
        snprintf(pp, sizeof pp, "%s.pbrMetallicRoughness", p);
        double bc[4] = {1, 1, 1, 1}, em[3] = {0, 0, 0}, metal = 1, rough = 1, cutoff = 0.5;
        if (pbr && ((st = gltf_get_numbers(c, pbr, "baseColorFactor", 4, pp, bc)) ||
                    (st = gltf_get_number(c, pbr, "metallicFactor", 1.0, pp, &metal)) ||
                    (st = gltf_get_number(c, pbr, "roughnessFactor", 1.0, pp, &rough))))
            return st;
        if ((st = load_texture_ref(c, pbr, "baseColorTexture", NULL, pp, &m->base_color_texture)) ||
            (st = load_texture_ref(c, pbr, "metallicRoughnessTexture", NULL, pp, &m->metallic_roughness_texture)) ||
            (st = load_texture_ref(c, j, "normalTexture", "scale", p, &m->normal_texture)) ||
            (st = load_texture_ref(c, j, "occlusionTexture", "strength", p, &m->occlusion_texture)) ||
            (st = load_texture_ref(c, j, "emissiveTexture", NULL, p, &m->emissive_texture)) ||
            (st = gltf_get_numbers(c, j, "emissiveFactor", 3, p, em)) ||
            (st = gltf_get_number(c, j, "alphaCutoff", 0.5, p, &cutoff)))
            return st;
        for (int k = 0; k < 4; k++)
            m->base_color[k] = (float)bc[k];
        const cJSON *es = gltf_get_extension(j, "KHR_materials_emissive_strength");
        double strength = 1;
        if (es && (st = gltf_get_number(c, es, "emissiveStrength", 1.0, p, &strength)))
            return st;
        for (int k = 0; k < 3; k++)
            m->emissive[k] = (float)(em[k] * strength);
        m->metallic = (float)metal;
        m->roughness = (float)rough;
        m->alpha_cutoff = (float)cutoff;
        const cJSON *am = cJSON_GetObjectItemCaseSensitive(j, "alphaMode");
        m->alpha_mode = CT_GLTF_ALPHA_OPAQUE;
        if (am) {
            if (!cJSON_IsString(am))
                return gltf_fail(c, "%s.alphaMode: not a string", p);
            if (!strcmp(am->valuestring, "MASK"))
                m->alpha_mode = CT_GLTF_ALPHA_MASK;
            else if (!strcmp(am->valuestring, "BLEND"))
                m->alpha_mode = CT_GLTF_ALPHA_BLEND;
            else if (strcmp(am->valuestring, "OPAQUE") != 0)
                return gltf_fail(c, "%s.alphaMode: unknown value \"%s\"", p, am->valuestring);
        }
        m->double_sided = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "doubleSided"));
        m->unlit = gltf_get_extension(j, "KHR_materials_unlit") != NULL;
        m->billboard = gltf_get_extension(j, "KHR_techniques_webgl") && gltf_technique_is_billboard(c, j);
    }
    return CT_OK;
}

/* ------------------------------------------------------ nodes and scenes ---- */

static void dmat4_identity(double m[16])
{
    memset(m, 0, 16 * sizeof(double));
    m[0] = m[5] = m[10] = m[15] = 1;
}

static void dmat4_mul(const double a[16], const double b[16], double out[16])
{
    double r[16];
    for (int col = 0; col < 4; col++)
        for (int row = 0; row < 4; row++) {
            double s = 0;
            for (int k = 0; k < 4; k++)
                s += a[k * 4 + row] * b[col * 4 + k];
            r[col * 4 + row] = s;
        }
    memcpy(out, r, sizeof r);
}

static double det3(const double m[16])
{
    return m[0] * (m[5] * m[10] - m[9] * m[6]) - m[4] * (m[1] * m[10] - m[9] * m[2]) +
           m[8] * (m[1] * m[6] - m[5] * m[2]);
}

static ct_status node_local(gltf_ctx *c, const cJSON *j, const char *p, double local[16])
{
    ct_status st;
    dmat4_identity(local);
    if (cJSON_GetObjectItemCaseSensitive(j, "matrix"))
        return gltf_get_numbers(c, j, "matrix", 16, p, local);
    double t[3] = {0, 0, 0}, q[4] = {0, 0, 0, 1}, s[3] = {1, 1, 1};
    if ((st = gltf_get_numbers(c, j, "translation", 3, p, t)) || (st = gltf_get_numbers(c, j, "rotation", 4, p, q)) ||
        (st = gltf_get_numbers(c, j, "scale", 3, p, s)))
        return st;
    double len = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
    if (len > 0) /* exporters round quaternions; renormalise so R stays a rotation */
        for (int k = 0; k < 4; k++)
            q[k] /= len;
    else
        q[3] = 1;
    double x = q[0], y = q[1], z = q[2], w = q[3];
    local[0] = (1 - 2 * (y * y + z * z)) * s[0];
    local[1] = 2 * (x * y + z * w) * s[0];
    local[2] = 2 * (x * z - y * w) * s[0];
    local[4] = 2 * (x * y - z * w) * s[1];
    local[5] = (1 - 2 * (x * x + z * z)) * s[1];
    local[6] = 2 * (y * z + x * w) * s[1];
    local[8] = 2 * (x * z + y * w) * s[2];
    local[9] = 2 * (y * z - x * w) * s[2];
    local[10] = (1 - 2 * (x * x + y * y)) * s[2];
    local[12] = t[0];
    local[13] = t[1];
    local[14] = t[2];
    return CT_OK;
}

static ct_status load_nodes(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "nodes", &arr, &n);
    if (st || !n)
        return st;
    ct_gltf *g = c->g;
    g->nodes = ct_calloc_array(n, sizeof *g->nodes);
    if (!g->nodes)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->node_count = n;
    for (uint32_t i = 0; i < n; i++)
        g->nodes[i].parent = -1;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "nodes[%u]", i);
        ct_gltf_node *nd = &g->nodes[i];
        nd->name = json_string(j, "name");
        if ((st = gltf_get_index(c, j, "mesh", g->mesh_count, p, &nd->mesh)) || (st = node_local(c, j, p, nd->local)) ||
            (st = gltf_instancing_load(c, j, nd, p)))
            return st;
        const cJSON *ch = cJSON_GetObjectItemCaseSensitive(j, "children");
        if (!ch)
            continue;
        if (!cJSON_IsArray(ch))
            return gltf_fail(c, "%s.children: not an array", p);
        int nc = cJSON_GetArraySize(ch);
        if (!nc)
            continue;
        nd->children = ct_malloc_array((size_t)nc, sizeof(int));
        if (!nd->children)
            return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
        int k = 0;
        for (const cJSON *e = ch->child; e; e = e->next, k++) {
            double d = e->valuedouble;
            if (!cJSON_IsNumber(e) || d != floor(d) || d < 0 || d >= n)
                return gltf_fail(c, "%s.children[%d]: invalid node index", p, k);
            uint32_t child = (uint32_t)d;
            /* glTF node hierarchies are disjoint strict trees: one parent each. */
            if (child == i)
                return gltf_fail(c, "%s.children[%d]: node is its own child", p, k);
            if (g->nodes[child].parent >= 0)
                return gltf_fail(c, "%s.children[%d]: nodes[%u] already has parent nodes[%d]", p, k, child,
                                 g->nodes[child].parent);
            g->nodes[child].parent = (int)i;
            nd->children[k] = (int)child;
            nd->child_count = (uint32_t)k + 1;
        }
    }
    /* World matrices, top-down from every root, iteratively (hierarchies can be deep). */
    int *stack = ct_malloc_array(n, sizeof(int));
    bool *seen = ct_calloc_array(n, sizeof(bool));
    if (!stack || !seen) {
        free(stack);
        free(seen);
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    }
    for (uint32_t r = 0; r < n; r++) {
        if (g->nodes[r].parent >= 0)
            continue;
        uint32_t sp = 0;
        stack[sp++] = (int)r;
        memcpy(g->nodes[r].world, g->nodes[r].local, sizeof g->nodes[r].world);
        while (sp) {
            ct_gltf_node *nd = &g->nodes[stack[--sp]];
            seen[nd - g->nodes] = true;
            for (uint32_t k = 0; k < nd->child_count; k++) {
                ct_gltf_node *ch = &g->nodes[nd->children[k]];
                dmat4_mul(nd->world, ch->local, ch->world);
                stack[sp++] = nd->children[k]; /* each node is pushed once: it has one parent */
            }
        }
    }
    free(stack);
    /* With at most one parent each, a node not reachable from a root is on a cycle. */
    for (uint32_t k = 0; k < n; k++)
        if (!seen[k]) {
            free(seen);
            return gltf_fail(c, "nodes[%u]: part of a cycle in the node hierarchy", k);
        }
    free(seen);
    return CT_OK;
}

static ct_status load_scenes(gltf_ctx *c)
{
    const cJSON *arr;
    uint32_t n;
    ct_status st = top_array(c, "scenes", &arr, &n);
    if (st)
        return st;
    ct_gltf *g = c->g;
    int def;
    if ((st = gltf_get_index(c, c->root, "scene", n, "", &def)))
        return st;
    g->default_scene = def >= 0 ? def : (n ? 0 : -1);
    if (!n)
        return CT_OK;
    g->scenes = ct_calloc_array(n, sizeof *g->scenes);
    bool *used = ct_calloc_array(g->node_count ? g->node_count : 1, sizeof(bool));
    if (!g->scenes || !used) {
        free(used);
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    }
    g->scene_count = n;
    uint32_t i = 0;
    for (const cJSON *j = arr->child; j && st == CT_OK; j = j->next, i++) {
        char p[48];
        snprintf(p, sizeof p, "scenes[%u]", i);
        ct_gltf_scene *s = &g->scenes[i];
        s->name = json_string(j, "name");
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(j, "nodes");
        if (!nodes)
            continue;
        if (!cJSON_IsArray(nodes)) {
            st = gltf_fail(c, "%s.nodes: not an array", p);
            break;
        }
        int nn = cJSON_GetArraySize(nodes);
        if (!nn)
            continue;
        s->nodes = ct_malloc_array((size_t)nn, sizeof(int));
        if (!s->nodes) {
            st = gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
            break;
        }
        memset(used, 0, g->node_count * sizeof(bool));
        int k = 0;
        for (const cJSON *e = nodes->child; e; e = e->next, k++) {
            double d = e->valuedouble;
            if (!cJSON_IsNumber(e) || d != floor(d) || d < 0 || d >= g->node_count) {
                st = gltf_fail(c, "%s.nodes[%d]: invalid node index", p, k);
                break;
            }
            uint32_t nd = (uint32_t)d;
            /* Roots only, each once: otherwise subtrees would be drawn twice. */
            if (g->nodes[nd].parent >= 0) {
                st = gltf_fail(c, "%s.nodes[%d]: nodes[%u] is not a root (its parent is nodes[%d])", p, k, nd,
                               g->nodes[nd].parent);
                break;
            }
            if (used[nd]) {
                st = gltf_fail(c, "%s.nodes[%d]: nodes[%u] is listed twice", p, k, nd);
                break;
            }
            used[nd] = true;
            s->nodes[k] = (int)nd;
            s->node_count = (uint32_t)k + 1;
        }
    }
    free(used);
    return st;
}

/* ------------------------------------------ draws, totals and bounds ---- */

static uint64_t primitive_triangles(const ct_gltf_primitive *p)
{
    if (!p->vertex_count)
        return 0;
    uint64_t n = p->index_count ? p->index_count : p->vertex_count;
    switch (p->mode) {
    case CT_GLTF_TRIANGLES: return n / 3;
    case CT_GLTF_TRIANGLE_STRIP:
    case CT_GLTF_TRIANGLE_FAN: return n >= 3 ? n - 2 : 0;
    default: return 0;
    }
}

static void bounds_add(ct_gltf *g, const double m[16], double x, double y, double z)
{
    double p[3];
    for (int k = 0; k < 3; k++) {
        p[k] = m[k] * x + m[4 + k] * y + m[8 + k] * z + m[12 + k];
        if (p[k] < g->bounds_min[k]) g->bounds_min[k] = p[k];
        if (p[k] > g->bounds_max[k]) g->bounds_max[k] = p[k];
    }
}

/* Exact bounds (every vertex transformed) up to this many vertex transforms;
 * beyond it each primitive's box corners are used, which is conservative. */
#define BOUNDS_EXACT_BUDGET ((uint64_t)1 << 24)

static void draw_bounds(ct_gltf *g, const ct_gltf_draw *d, const double m[16], uint64_t *budget)
{
    const ct_gltf_mesh *mesh = &g->meshes[d->mesh];
    for (uint32_t k = 0; k < mesh->primitive_count; k++) {
        const ct_gltf_primitive *p = &mesh->primitives[k];
        if (!p->vertex_count)
            continue;
        if (p->vertex_count <= *budget) {
            *budget -= p->vertex_count;
            for (uint32_t v = 0; v < p->vertex_count; v++)
                bounds_add(g, m, p->positions[(size_t)v * 3], p->positions[(size_t)v * 3 + 1],
                           p->positions[(size_t)v * 3 + 2]);
        } else {
            for (int corner = 0; corner < 8; corner++)
                bounds_add(g, m, corner & 1 ? p->bounds_max[0] : p->bounds_min[0],
                           corner & 2 ? p->bounds_max[1] : p->bounds_min[1],
                           corner & 4 ? p->bounds_max[2] : p->bounds_min[2]);
        }
    }
}

static ct_status build_draws(gltf_ctx *c)
{
    ct_gltf *g = c->g;
    if (!g->node_count)
        return CT_OK;
    /* Roots of the default scene; with no scenes at all, every root node (so a
     * file without scenes still shows something). */
    uint32_t nroots = 0;
    int *roots = ct_malloc_array(g->node_count, sizeof(int));
    int *stack = ct_malloc_array(g->node_count, sizeof(int));
    g->draws = ct_calloc_array(g->node_count, sizeof *g->draws);
    if (!roots || !stack || !g->draws) {
        free(roots);
        free(stack);
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    }
    if (g->default_scene >= 0) {
        const ct_gltf_scene *s = &g->scenes[g->default_scene];
        if (s->node_count)
            memcpy(roots, s->nodes, s->node_count * sizeof(int));
        nroots = s->node_count;
    } else {
        for (uint32_t i = 0; i < g->node_count; i++)
            if (g->nodes[i].parent < 0)
                roots[nroots++] = (int)i;
    }
    for (uint32_t r = 0; r < nroots; r++) {
        uint32_t sp = 0;
        stack[sp++] = roots[r];
        while (sp) {
            int ni = stack[--sp];
            const ct_gltf_node *nd = &g->nodes[ni];
            if (nd->mesh >= 0) {
                ct_gltf_draw *d = &g->draws[g->draw_count++];
                d->node = ni;
                d->mesh = nd->mesh;
                memcpy(d->world, nd->world, sizeof d->world);
                d->flip_winding = det3(nd->world) < 0;
            }
            for (uint32_t k = nd->child_count; k-- > 0;) /* reversed: children come out in order */
                stack[sp++] = nd->children[k];
        }
    }
    free(roots);
    free(stack);

    /* Totals and bounds over what is drawn. */
    for (int k = 0; k < 3; k++) {
        g->bounds_min[k] = INFINITY;
        g->bounds_max[k] = -INFINITY;
    }
    uint64_t budget = BOUNDS_EXACT_BUDGET;
    for (uint32_t i = 0; i < g->draw_count; i++) {
        const ct_gltf_draw *d = &g->draws[i];
        const ct_gltf_node *nd = &g->nodes[d->node];
        const ct_gltf_mesh *mesh = &g->meshes[d->mesh];
        uint64_t copies = nd->instance_count ? nd->instance_count : 1;
        for (uint32_t k = 0; k < mesh->primitive_count; k++) {
            g->triangle_count += primitive_triangles(&mesh->primitives[k]) * copies;
            g->vertex_count += (uint64_t)mesh->primitives[k].vertex_count * copies;
        }
        if (!nd->instance_count) {
            draw_bounds(g, d, d->world, &budget);
            continue;
        }
        for (uint32_t k = 0; k < nd->instance_count; k++) {
            double inst[16], m[16];
            for (int e = 0; e < 16; e++)
                inst[e] = nd->instance_matrices[(size_t)k * 16 + e];
            dmat4_mul(d->world, inst, m);
            draw_bounds(g, d, m, &budget);
        }
    }
    if (!(g->bounds_min[0] <= g->bounds_max[0]))
        for (int k = 0; k < 3; k++)
            g->bounds_min[k] = g->bounds_max[k] = 0; /* nothing drawn */
    return CT_OK;
}

/* ---------------------------------------------------------- container ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define GLB_MAGIC 0x46546C67u /* "glTF" */
#define CHUNK_JSON 0x4E4F534Au
#define CHUNK_BIN 0x004E4942u

/* Binary glTF 1.0 (KHR_binary_glTF): a 20-byte header (magic, version 1,
 * length, contentLength, contentFormat 0 = JSON), the JSON content, then the
 * body that the buffer "binary_glTF" refers to. */
static ct_status parse_glb_v1(gltf_ctx *c, const uint8_t *d, size_t size, const uint8_t **json, size_t *json_len)
{
    if (size < 20)
        return gltf_fail(c, "glTF 1.0 GLB header truncated: %zu bytes, need 20", size);
    uint32_t length = rd32(d + 8), content_len = rd32(d + 12), format = rd32(d + 16);
    if (length > size)
        return gltf_fail(c, "byte 8: glTF 1.0 GLB length %u is larger than the %zu bytes available (truncated file)",
                         length, size);
    if (length < 20)
        return gltf_fail(c, "byte 8: glTF 1.0 GLB length %u is smaller than its 20-byte header", length);
    if (format != 0)
        return gltf_fail(c, "byte 16: glTF 1.0 GLB contentFormat %u is not 0 (JSON)", format);
    if (content_len > length - 20)
        return gltf_fail(c, "byte 12: glTF 1.0 GLB contentLength %u runs past the GLB length %u", content_len, length);
    *json = d + 20;
    *json_len = content_len;
    c->bin = d + 20 + content_len;
    c->bin_size = length - 20 - content_len;
    c->has_bin = true;
    return CT_OK;
}

/* Splits a GLB into its JSON and BIN chunks (glTF 2.0 §4.4), checking every length. */
static ct_status parse_glb(gltf_ctx *c, const uint8_t *d, size_t size, const uint8_t **json, size_t *json_len)
{
    if (size < 12)
        return gltf_fail(c, "GLB header truncated: %zu bytes, need 12", size);
    uint32_t version = rd32(d + 4), length = rd32(d + 8);
    if (version == 1)
        return parse_glb_v1(c, d, size, json, json_len);
    if (version != 2)
        return gltf_fail(c, "byte 4: unknown GLB version %u", version);
    if (length > size)
        return gltf_fail(c, "byte 8: GLB length %u is larger than the %zu bytes available (truncated file)", length,
                         size);
    if (length < 20)
        return gltf_fail(c, "byte 8: GLB length %u leaves no room for the JSON chunk", length);
    /* Bytes past `length` (e.g. padding of the tile that holds the GLB) are ignored. */
    size = length;
    size_t off = 12;
    for (int chunk = 0; off < size; chunk++) {
        if (size - off < 8)
            return gltf_fail(c, "byte %zu: chunk %d header truncated", off, chunk);
        uint32_t clen = rd32(d + off), ctype = rd32(d + off + 4);
        if (clen > size - off - 8)
            return gltf_fail(c, "byte %zu: chunk %d length %u runs past the end of the GLB (%zu bytes)", off, chunk,
                             clen, size);
        if (clen % 4 != 0)
            return gltf_fail(c, "byte %zu: chunk %d length %u is not a multiple of 4 (chunks must be 4-byte aligned)",
                             off, chunk, clen);
        const uint8_t *body = d + off + 8;
        if (chunk == 0) {
            if (ctype != CHUNK_JSON)
                return gltf_fail(c, "byte %zu: first chunk is not JSON (type 0x%08x)", off + 4, ctype);
            *json = body;
            *json_len = clen;
        } else if (chunk == 1 && ctype == CHUNK_BIN) {
            c->bin = body;
            c->bin_size = clen;
            c->has_bin = true;
        } else if (ctype == CHUNK_JSON || ctype == CHUNK_BIN) {
            return gltf_fail(c, "byte %zu: unexpected extra %s chunk", off, ctype == CHUNK_JSON ? "JSON" : "BIN");
        } /* other chunk types are skipped, as the spec asks */
        off += 8 + (size_t)clen;
    }
    return CT_OK;
}

static ct_status check_asset(gltf_ctx *c)
{
    const cJSON *asset = gltf_get_object(c->root, "asset");
    if (!asset)
        return gltf_fail(c, "asset: missing (required by glTF 2.0)");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(asset, "version");
    if (!cJSON_IsString(v))
        return gltf_fail(c, "asset.version: missing");
    if (strncmp(v->valuestring, "2.", 2) != 0)
        return gltf_fail(c, "asset.version: \"%s\" is not supported, only glTF 2.x", v->valuestring);
    return CT_OK;
}

/* A top-level array as a C array of its elements. */
static ct_status index_array(gltf_ctx *c, const char *key, const cJSON ***items, uint32_t *count)
{
    const cJSON *arr;
    ct_status st = top_array(c, key, &arr, count);
    if (st)
        return st;
    *items = ct_calloc_array(*count + 1, sizeof **items);
    if (!*items)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    uint32_t i = 0;
    for (const cJSON *e = arr ? arr->child : NULL; e && i < *count; e = e->next)
        (*items)[i++] = e;
    return CT_OK;
}

static ct_status parse_document(gltf_ctx *c, const uint8_t *data, size_t size)
{
    const uint8_t *json = data;
    size_t json_len = size;
    ct_status st;
    if (size >= 4 && rd32(data) == GLB_MAGIC) {
        if ((st = parse_glb(c, data, size, &json, &json_len)))
            return st;
    } else if (size >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
        json += 3; /* UTF-8 byte order mark */
        json_len -= 3;
    }
    ct_gltf *g = c->g;
    g->json = malloc(json_len + 1);
    if (!g->json)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory for %zu bytes of JSON", json_len);
    memcpy(g->json, json, json_len);
    g->json[json_len] = 0;
    const char *end = NULL;
    c->root = cJSON_ParseWithLengthOpts(g->json, json_len, &end, false);
    if (!c->root) {
        size_t at = end && end >= g->json ? (size_t)(end - g->json) : 0;
        if (json != data)
            return gltf_fail(c, "invalid JSON at byte %zu of the JSON chunk (file byte %zu)", at,
                             at + (size_t)(json - data));
        return gltf_fail(c, "invalid JSON at byte %zu", at);
    }
    if (!cJSON_IsObject(c->root))
        return gltf_fail(c, "the JSON document is not an object");
    if (gltf_v1_detect(c->root) && (st = gltf_v1_upgrade(c)))
        return st;
    if ((st = check_asset(c)) || (st = gltf_techniques_fallback(c)) || (st = load_extensions(c)))
        return st;
    if ((st = index_array(c, "buffers", &c->buffer_items, &c->buffer_count)) ||
        (st = index_array(c, "bufferViews", &c->view_items, &c->view_count)) ||
        (st = index_array(c, "accessors", &c->accessor_items, &c->accessor_count)))
        return st;
    c->buffers = ct_calloc_array(c->buffer_count + 1, sizeof *c->buffers);
    c->views = ct_calloc_array(c->view_count + 1, sizeof *c->views);
    if (!c->buffers || !c->views)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    /* Order matters: later arrays validate indices into earlier ones. */
    if ((st = load_samplers(c)))
        return st;
    {
        const cJSON *imgs;
        uint32_t ni;
        if ((st = top_array(c, "images", &imgs, &ni)))
            return st;
        g->image_count = ni; /* textures validate their source against this */
    }
    if ((st = load_textures(c)) || (st = load_materials(c)) || (st = load_images(c)) || (st = gltf_meshes_load(c)) ||
        (st = load_nodes(c)) || (st = load_scenes(c)) || (st = build_draws(c)))
        return st;
    return CT_OK;
}

static void ctx_free(gltf_ctx *c)
{
    for (uint32_t i = 0; c->buffers && i < c->buffer_count; i++)
        free(c->buffers[i].owned);
    for (uint32_t i = 0; c->views && i < c->view_count; i++)
        free(c->views[i].decoded);
    free(c->buffers);
    free(c->views);
    free(c->buffer_items);
    free(c->view_items);
    free(c->accessor_items);
    cJSON_Delete(c->root);
}

static ct_status load(const char *name, const char *base_dir, const void *data, size_t size,
                      const ct_gltf_options *opts, ct_gltf **out, ct_error *err)
{
    *out = NULL;
    gltf_ctx c = {.name = name, .base_dir = base_dir, .opts = opts, .err = err};
    c.g = calloc(1, sizeof *c.g);
    if (!c.g)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", name);
    c.g->default_scene = -1;
    ct_status st = data ? parse_document(&c, data, size) : gltf_fail(&c, "no data");
    if (st && c.upgraded_v1 && err) {
        /* The paths name the upgraded 2.0 document: say so. */
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, " (in the glTF 2.0 upgrade of this glTF 1.0 file)");
    }
    c.g->source_version = c.upgraded_v1 ? "1.0" : "2.0";
    ctx_free(&c);
    if (st) {
        ct_gltf_destroy(c.g);
        return st;
    }
    *out = c.g;
    return CT_OK;
}

ct_status ct_gltf_load_memory(const void *data, size_t size, const ct_gltf_options *opts, ct_gltf **out, ct_error *err)
{
    const char *name = opts && opts->name ? opts->name : "(memory)";
    return load(name, opts ? opts->base_dir : NULL, data, size, opts, out, err);
}

ct_status ct_gltf_load_file(const char *path, const ct_gltf_options *opts, ct_gltf **out, ct_error *err)
{
    *out = NULL;
    size_t max = opts && opts->max_file_bytes ? opts->max_file_bytes : ((size_t)2 << 30);
    char *dir = opts && opts->base_dir ? NULL : ct_path_dirname(path);
    const char *base = opts && opts->base_dir ? opts->base_dir : dir;
    /* Map the file rather than read it: everything is copied out while parsing,
     * and a read would first fault in and fill a second copy of a large GLB. */
    ct_status st;
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 && (uint64_t)sb.st_size <= max) {
        void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        fd = -1;
        if (map != MAP_FAILED) {
            st = load(path, base, map, (size_t)sb.st_size, opts, out, err);
            munmap(map, (size_t)sb.st_size);
            free(dir);
            return st;
        }
    }
    if (fd >= 0)
        close(fd);
    /* Not mappable (empty, too large, a pipe...): ct_file_read gives the right error or the bytes. */
    uint8_t *data;
    size_t size;
    st = ct_file_read(path, max, &data, &size, err);
    if (st == CT_OK) {
        st = load(path, base, data, size, opts, out, err);
        free(data);
    }
    free(dir);
    return st;
}

void ct_gltf_destroy(ct_gltf *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->mesh_count; i++) {
        for (uint32_t k = 0; k < g->meshes[i].primitive_count; k++)
            gltf_primitive_free(&g->meshes[i].primitives[k]);
        free(g->meshes[i].primitives);
        free(g->meshes[i].name);
    }
    free(g->meshes);
    for (uint32_t i = 0; i < g->node_count; i++) {
        free(g->nodes[i].name);
        free(g->nodes[i].children);
        free(g->nodes[i].instance_matrices);
    }
    free(g->nodes);
    for (uint32_t i = 0; i < g->material_count; i++)
        free(g->materials[i].name);
    free(g->materials);
    free(g->textures);
    for (uint32_t i = 0; i < g->image_count && g->images; i++) {
        free(g->images[i].name);
        free(g->images[i].mime_type);
        free(g->images[i].pixels);
    }
    free(g->images);
    free(g->samplers);
    for (uint32_t i = 0; i < g->scene_count; i++) {
        free(g->scenes[i].name);
        free(g->scenes[i].nodes);
    }
    free(g->scenes);
    free(g->draws);
    for (uint32_t i = 0; i < g->extensions_used_count; i++)
        free(g->extensions_used[i]);
    free(g->extensions_used);
    for (uint32_t i = 0; i < g->extensions_required_count; i++)
        free(g->extensions_required[i]);
    free(g->extensions_required);
    free(g->json);
    free(g);
}
