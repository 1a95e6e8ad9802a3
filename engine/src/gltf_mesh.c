/* glTF meshes: primitives with their attributes and indices (plain accessors,
 * KHR_draco_mesh_compression, KHR_mesh_quantization through the accessor
 * decoder), EXT_mesh_features / _BATCHID feature ids, and node instancing
 * (EXT_mesh_gpu_instancing). */
#include "gltf_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIT(n) (1u << (n))

void gltf_primitive_free(ct_gltf_primitive *p)
{
    free(p->positions);
    free(p->normals);
    free(p->tangents);
    free(p->texcoords[0]);
    free(p->texcoords[1]);
    free(p->colors);
    free(p->feature_ids);
    free(p->indices);
}

/* Which vertex attributes we keep, and their component counts. */
typedef enum { ATTR_POSITION, ATTR_NORMAL, ATTR_TANGENT, ATTR_TEXCOORD_0, ATTR_TEXCOORD_1, ATTR_COLOR_0, ATTR_FEATURE_ID, ATTR_N } attr_kind;

static float **attr_slot(ct_gltf_primitive *p, attr_kind k)
{
    switch (k) {
    case ATTR_POSITION: return &p->positions;
    case ATTR_NORMAL: return &p->normals;
    case ATTR_TANGENT: return &p->tangents;
    case ATTR_TEXCOORD_0: return &p->texcoords[0];
    case ATTR_TEXCOORD_1: return &p->texcoords[1];
    case ATTR_COLOR_0: return &p->colors;
    default: return NULL;
    }
}

static const unsigned ATTR_COMPS[ATTR_N] = {BIT(3), BIT(3), BIT(4), BIT(2), BIT(2), BIT(3) | BIT(4), BIT(1)};

/* COLOR_0 may be RGB: widen to RGBA with alpha 1. */
static ct_status widen_rgb(gltf_ctx *c, float **data, uint32_t count, const char *path)
{
    float *rgba = ct_malloc_array((size_t)count, 4 * sizeof(float));
    if (!rgba)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", path);
    for (uint32_t i = 0; i < count; i++) {
        memcpy(rgba + (size_t)i * 4, *data + (size_t)i * 3, 3 * sizeof(float));
        rgba[(size_t)i * 4 + 3] = 1.0f;
    }
    free(*data);
    *data = rgba;
    return CT_OK;
}

static ct_status floats_to_uints(gltf_ctx *c, float *f, uint32_t count, uint32_t **out, const char *path)
{
    *out = ct_malloc_array(count ? count : 1, sizeof(uint32_t));
    if (!*out)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", path);
    for (uint32_t i = 0; i < count; i++) {
        /* feature ids are integers even when stored as floats; round, and map garbage to "no feature" */
        double v = nearbyint(f[i]);
        (*out)[i] = v >= 0 && v < 4294967295.0 ? (uint32_t)v : UINT32_MAX;
    }
    return CT_OK;
}

/* Name of the attribute holding the primitive's feature ids, or NULL. */
static const char *feature_id_attribute(const cJSON *prim, const cJSON *attrs, char *buf, size_t buf_size,
                                        bool *implicit)
{
    *implicit = false;
    const cJSON *mf = gltf_get_extension(prim, "EXT_mesh_features");
    if (mf) {
        const cJSON *ids = gltf_get_array(mf, "featureIds");
        const cJSON *first = ids ? cJSON_GetArrayItem(ids, 0) : NULL;
        if (cJSON_IsObject(first)) {
            const cJSON *a = cJSON_GetObjectItemCaseSensitive(first, "attribute");
            if (cJSON_IsNumber(a) && a->valuedouble >= 0 && a->valuedouble < 1e6) {
                snprintf(buf, buf_size, "_FEATURE_ID_%d", (int)a->valuedouble);
                return buf;
            }
            if (!cJSON_GetObjectItemCaseSensitive(first, "texture")) {
                *implicit = true; /* neither attribute nor texture: the vertex index is the id */
                return NULL;
            }
            ct_log(CT_LOG_DEBUG, "glTF: feature ID textures (EXT_mesh_features) are not decoded");
        }
    }
    if (cJSON_GetObjectItemCaseSensitive(attrs, "_BATCHID"))
        return "_BATCHID";
    if (cJSON_GetObjectItemCaseSensitive(attrs, "BATCHID"))
        return "BATCHID";
    return NULL;
}

typedef struct draco_state {
    ct_draco_geometry *geo;
    const cJSON *attrs; /* extension's attribute name → Draco unique id */
} draco_state;

/* Reads one attribute, from Draco when the extension lists it, else from its accessor. */
static ct_status read_attribute(gltf_ctx *c, const draco_state *d, const char *name, int accessor, unsigned comps_allowed,
                                const char *path, float **out, uint32_t *count, int *comps)
{
    const cJSON *did = d->geo ? cJSON_GetObjectItemCaseSensitive(d->attrs, name) : NULL;
    if (!did)
        return gltf_accessor_floats(c, accessor, path, comps_allowed, out, count, comps);
    if (!cJSON_IsNumber(did) || did->valuedouble < 0 || did->valuedouble > UINT32_MAX)
        return gltf_fail(c, "%s: Draco attribute id is not a valid integer", path);
    uint32_t uid = (uint32_t)did->valuedouble;
    int n = ct_draco_attribute_components(d->geo, uid);
    /* Components come from the glTF accessor's type; Draco must have at least that many. */
    gltf_accessor_info info;
    ct_status st = gltf_accessor_info_get(c, accessor, path, &info);
    if (st)
        return st;
    if (!(comps_allowed & BIT(info.components)) || n < info.components)
        return gltf_fail(c, "%s: Draco attribute %u has %d components, accessor type needs %d", path, uid, n,
                         info.components);
    uint32_t np = ct_draco_point_count(d->geo);
    float *f = ct_malloc_array((size_t)np ? np : 1, (size_t)info.components * sizeof(float));
    if (!f)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", path);
    if (ct_draco_attribute_floats(d->geo, uid, info.components, f)) {
        free(f);
        return gltf_fail(c, "%s: Draco attribute %u could not be converted", path, uid);
    }
    *out = f;
    *count = np;
    *comps = info.components;
    return CT_OK;
}

/* Oct-encoded 2-component normals of an upgraded glTF 1.0 document (early
 * Cesium b3dm decoded them in their own shader): the integers are read as
 * unsigned in [0, 255] or [0, 65535] and decoded as CesiumJS octDecodeInRange. */
static ct_status read_oct_normals(gltf_ctx *c, const cJSON *attrs, ct_gltf_primitive *p, const char *path)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(attrs, GLTF_V1_OCT_NORMAL);
    if (!a)
        return CT_OK;
    char ap[192];
    snprintf(ap, sizeof ap, "%s.attributes.NORMAL (oct-encoded, glTF 1.0)", path);
    if (!cJSON_IsNumber(a) || a->valuedouble < 0 || a->valuedouble > INT32_MAX)
        return gltf_fail(c, "%s: not an accessor index", ap);
    gltf_accessor_info info;
    ct_status st = gltf_accessor_info_get(c, (int)a->valuedouble, ap, &info);
    if (st)
        return st;
    int ct = info.component_type;
    if (ct != 5120 && ct != 5121 && ct != 5122 && ct != 5123)
        return gltf_fail(c, "%s: componentType %d is not an 8- or 16-bit integer", ap, ct);
    float *f = NULL;
    uint32_t count = 0;
    if ((st = gltf_accessor_floats(c, (int)a->valuedouble, ap, BIT(2), &f, &count, NULL)))
        return st;
    if (count != p->vertex_count) {
        free(f);
        return gltf_fail(c, "%s: count %u differs from POSITION count %u", ap, count, p->vertex_count);
    }
    p->normals = ct_malloc_array((size_t)count ? count : 1, 3 * sizeof(float));
    if (!p->normals) {
        free(f);
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", ap);
    }
    double range = ct == 5120 || ct == 5121 ? 255.0 : 65535.0, wrap = range + 1;
    for (uint32_t i = 0; i < count; i++) {
        double e[2];
        for (int k = 0; k < 2; k++) {
            e[k] = f[2 * i + k];
            if (e[k] < 0)
                e[k] += wrap; /* signed storage of an unsigned value */
            e[k] = e[k] / range * 2.0 - 1.0;
        }
        double x = e[0], y = e[1], z = 1.0 - fabs(x) - fabs(y);
        if (z < 0) {
            double ox = x;
            x = (1.0 - fabs(y)) * (x < 0 ? -1.0 : 1.0);
            y = (1.0 - fabs(ox)) * (y < 0 ? -1.0 : 1.0);
        }
        double len = sqrt(x * x + y * y + z * z);
        if (len == 0)
            len = 1;
        p->normals[3 * i] = (float)(x / len);
        p->normals[3 * i + 1] = (float)(y / len);
        p->normals[3 * i + 2] = (float)(z / len);
    }
    free(f);
    return CT_OK;
}

static ct_status load_primitive(gltf_ctx *c, const cJSON *j, ct_gltf_primitive *p, const char *path)
{
    ct_status st;
    int64_t mode;
    if (!cJSON_IsObject(j))
        return gltf_fail(c, "%s: not an object", path);
    if ((st = gltf_get_int(c, j, "mode", 4, 0, 6, path, &mode)) ||
        (st = gltf_get_index(c, j, "material", c->g->material_count, path, &p->material)))
        return st;
    p->mode = (ct_gltf_mode)mode;
    const cJSON *attrs = gltf_get_object(j, "attributes");
    if (!attrs)
        return gltf_fail(c, "%s.attributes: missing", path);

    draco_state d = {0};
    const cJSON *dext = gltf_get_extension(j, "KHR_draco_mesh_compression");
    if (dext) {
        char dp[192];
        snprintf(dp, sizeof dp, "%s.extensions.KHR_draco_mesh_compression", path);
        int view;
        if ((st = gltf_get_index(c, dext, "bufferView", c->view_count, dp, &view)))
            return st;
        d.attrs = gltf_get_object(dext, "attributes");
        if (view < 0 || !d.attrs)
            return gltf_fail(c, "%s: bufferView and attributes are required", dp);
        const gltf_view *v;
        if ((st = gltf_view_get(c, (uint32_t)view, dp, &v)))
            return st;
        char msg[256] = "";
        if (ct_draco_decode(v->data, v->size, &d.geo, msg, sizeof msg))
            return gltf_fail(c, "%s: %s", dp, msg);
    }

    /* Vertex attributes. */
    static const char *names[ATTR_N] = {"POSITION", "NORMAL", "TANGENT", "TEXCOORD_0", "TEXCOORD_1", "COLOR_0", NULL};
    char fid_buf[32];
    bool implicit_ids;
    const char *fid_name = feature_id_attribute(j, attrs, fid_buf, sizeof fid_buf, &implicit_ids);
    bool have_count = false;
    const cJSON *pos = cJSON_GetObjectItemCaseSensitive(attrs, "POSITION");
    for (int k = 0; k < ATTR_N && st == CT_OK; k++) {
        const char *name = k == ATTR_FEATURE_ID ? fid_name : names[k];
        if (!name)
            continue;
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(attrs, name);
        if (!a)
            continue;
        char ap[192];
        snprintf(ap, sizeof ap, "%s.attributes.%s", path, name);
        if (!cJSON_IsNumber(a))
            st = gltf_fail(c, "%s: not an accessor index", ap);
        if (st)
            break;
        if (k != ATTR_POSITION && !pos)
            break; /* without positions there is nothing to draw; the rest is not needed */
        float *data = NULL;
        uint32_t count = 0;
        int comps = 0;
        double idx = a->valuedouble;
        if (idx < 0 || idx > INT32_MAX || idx != floor(idx)) {
            st = gltf_fail(c, "%s: invalid accessor index", ap);
            break;
        }
        st = read_attribute(c, &d, name, (int)idx, ATTR_COMPS[k], ap, &data, &count, &comps);
        if (st)
            break;
        if (have_count && count != p->vertex_count) {
            free(data);
            st = gltf_fail(c, "%s: count %u differs from POSITION count %u", ap, count, p->vertex_count);
            break;
        }
        if (k == ATTR_POSITION) {
            p->vertex_count = count;
            have_count = true;
        }
        if (k == ATTR_COLOR_0 && comps == 3 && (st = widen_rgb(c, &data, count, ap))) {
            free(data);
            break;
        }
        if (k == ATTR_FEATURE_ID) {
            st = floats_to_uints(c, data, count, &p->feature_ids, ap);
            free(data);
        } else {
            *attr_slot(p, (attr_kind)k) = data;
        }
    }
    if (st == CT_OK && pos && !p->normals && c->upgraded_v1)
        st = read_oct_normals(c, attrs, p, path);
    if (st == CT_OK && !pos)
        ct_log(CT_LOG_DEBUG, "%s: %s has no POSITION attribute; nothing to draw", c->name, path);
    if (st == CT_OK && implicit_ids && p->vertex_count) {
        p->feature_ids = ct_malloc_array(p->vertex_count, sizeof(uint32_t));
        if (!p->feature_ids)
            st = gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", path);
        for (uint32_t i = 0; st == CT_OK && i < p->vertex_count; i++)
            p->feature_ids[i] = i;
    }

    /* Indices. */
    const cJSON *ji = cJSON_GetObjectItemCaseSensitive(j, "indices");
    if (st == CT_OK && ji && pos) {
        char ip[192];
        snprintf(ip, sizeof ip, "%s.indices", path);
        if (d.geo) {
            uint32_t nf = ct_draco_face_count(d.geo);
            if (nf == 0) {
                st = gltf_fail(c, "%s: Draco data is a point cloud but the primitive has indices", ip);
            } else if ((uint64_t)nf * 3 > UINT32_MAX) {
                st = gltf_fail(c, "%s: too many Draco faces", ip);
            } else {
                p->indices = ct_malloc_array((size_t)nf * 3, sizeof(uint32_t));
                if (!p->indices)
                    st = gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", ip);
                else {
                    ct_draco_indices(d.geo, p->indices);
                    p->index_count = nf * 3;
                }
            }
        } else if (!cJSON_IsNumber(ji) || ji->valuedouble < 0 || ji->valuedouble > INT32_MAX) {
            st = gltf_fail(c, "%s: not an accessor index", ip);
        } else {
            gltf_accessor_info info;
            st = gltf_accessor_info_get(c, (int)ji->valuedouble, ip, &info);
            if (st == CT_OK && info.component_type != 5121 && info.component_type != 5123 &&
                info.component_type != 5125)
                st = gltf_fail(c, "%s: componentType %d is not an unsigned integer type", ip, info.component_type);
            if (st == CT_OK)
                st = gltf_accessor_uints(c, (int)ji->valuedouble, ip, &p->indices, &p->index_count);
        }
        for (uint32_t i = 0; st == CT_OK && i < p->index_count; i++)
            if (p->indices[i] >= p->vertex_count)
                st = gltf_fail(c, "%s: index %u at position %u is out of range (%u vertices)", ip, p->indices[i], i,
                               p->vertex_count);
    }
    if (d.geo)
        ct_draco_destroy(d.geo);
    if (st)
        return st;

    /* Bounds from the positions themselves (accessor min/max are not trusted). */
    for (int k = 0; k < 3; k++) {
        p->bounds_min[k] = p->vertex_count ? INFINITY : 0;
        p->bounds_max[k] = p->vertex_count ? -INFINITY : 0;
    }
    for (uint32_t i = 0; i < p->vertex_count; i++)
        for (int k = 0; k < 3; k++) {
            float v = p->positions[(size_t)i * 3 + k];
            if (v < p->bounds_min[k]) p->bounds_min[k] = v;
            if (v > p->bounds_max[k]) p->bounds_max[k] = v;
        }
    return CT_OK;
}

ct_status gltf_meshes_load(gltf_ctx *c)
{
    const cJSON *meshes = gltf_get_array(c->root, "meshes");
    ct_gltf *g = c->g;
    int n = meshes ? cJSON_GetArraySize(meshes) : 0;
    if (!n)
        return CT_OK;
    g->meshes = ct_calloc_array((size_t)n, sizeof *g->meshes);
    if (!g->meshes)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    g->mesh_count = (uint32_t)n;
    int m = 0;
    for (const cJSON *jm = meshes->child; jm; jm = jm->next, m++) {
        char path[64];
        snprintf(path, sizeof path, "meshes[%d]", m);
        if (!cJSON_IsObject(jm))
            return gltf_fail(c, "%s: not an object", path);
        ct_gltf_mesh *mesh = &g->meshes[m];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(jm, "name");
        if (cJSON_IsString(name))
            mesh->name = ct_strdup(name->valuestring);
        const cJSON *prims = gltf_get_array(jm, "primitives");
        int np = prims ? cJSON_GetArraySize(prims) : 0;
        if (!np)
            return gltf_fail(c, "%s.primitives: missing or empty", path);
        mesh->primitives = ct_calloc_array((size_t)np, sizeof *mesh->primitives);
        if (!mesh->primitives)
            return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
        mesh->primitive_count = (uint32_t)np;
        int i = 0;
        for (const cJSON *jp = prims->child; jp; jp = jp->next, i++) {
            char pp[96];
            snprintf(pp, sizeof pp, "%s.primitives[%d]", path, i);
            ct_status st = load_primitive(c, jp, &mesh->primitives[i], pp);
            if (st)
                return st;
        }
    }
    return CT_OK;
}

/* ------------------------------------------------ EXT_mesh_gpu_instancing */

ct_status gltf_instancing_load(gltf_ctx *c, const cJSON *node_json, ct_gltf_node *node, const char *path)
{
    const cJSON *ext = gltf_get_extension(node_json, "EXT_mesh_gpu_instancing");
    if (!ext)
        return CT_OK;
    char ep[128];
    snprintf(ep, sizeof ep, "%s.extensions.EXT_mesh_gpu_instancing.attributes", path);
    const cJSON *attrs = gltf_get_object(ext, "attributes");
    if (!attrs)
        return gltf_fail(c, "%s: missing", ep);
    static const char *names[3] = {"TRANSLATION", "ROTATION", "SCALE"};
    static const unsigned comps[3] = {BIT(3), BIT(4), BIT(3)};
    float *data[3] = {NULL, NULL, NULL};
    uint32_t count = 0;
    bool have = false;
    ct_status st = CT_OK;
    for (int k = 0; k < 3 && st == CT_OK; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(attrs, names[k]);
        if (!a)
            continue;
        char ap[192];
        snprintf(ap, sizeof ap, "%s.%s", ep, names[k]);
        if (!cJSON_IsNumber(a) || a->valuedouble < 0 || a->valuedouble > INT32_MAX) {
            st = gltf_fail(c, "%s: not an accessor index", ap);
            break;
        }
        uint32_t n;
        st = gltf_accessor_floats(c, (int)a->valuedouble, ap, comps[k], &data[k], &n, NULL);
        if (st == CT_OK && have && n != count)
            st = gltf_fail(c, "%s: count %u differs from the other instancing attributes (%u)", ap, n, count);
        count = n;
        have = true;
    }
    if (st == CT_OK && have) {
        node->instance_matrices = ct_malloc_array(count, 16 * sizeof(float));
        if (!node->instance_matrices)
            st = gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", ep);
    }
    if (st == CT_OK && have) {
        node->instance_count = count;
        for (uint32_t i = 0; i < count; i++) {
            float t[3] = {0, 0, 0}, q[4] = {0, 0, 0, 1}, s[3] = {1, 1, 1};
            if (data[0]) memcpy(t, data[0] + (size_t)i * 3, sizeof t);
            if (data[1]) memcpy(q, data[1] + (size_t)i * 4, sizeof q);
            if (data[2]) memcpy(s, data[2] + (size_t)i * 3, sizeof s);
            float *m = node->instance_matrices + (size_t)i * 16;
            float x = q[0], y = q[1], z = q[2], w = q[3];
            /* column-major T * R * S */
            m[0] = (1 - 2 * (y * y + z * z)) * s[0];
            m[1] = (2 * (x * y + z * w)) * s[0];
            m[2] = (2 * (x * z - y * w)) * s[0];
            m[3] = 0;
            m[4] = (2 * (x * y - z * w)) * s[1];
            m[5] = (1 - 2 * (x * x + z * z)) * s[1];
            m[6] = (2 * (y * z + x * w)) * s[1];
            m[7] = 0;
            m[8] = (2 * (x * z + y * w)) * s[2];
            m[9] = (2 * (y * z - x * w)) * s[2];
            m[10] = (1 - 2 * (x * x + y * y)) * s[2];
            m[11] = 0;
            m[12] = t[0];
            m[13] = t[1];
            m[14] = t[2];
            m[15] = 1;
        }
    }
    for (int k = 0; k < 3; k++)
        free(data[k]);
    return st;
}
