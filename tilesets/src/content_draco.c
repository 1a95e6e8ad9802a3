/* 3DTILES_draco_point_compression for pnts: the feature table names a Draco
 * stream (byteOffset/byteLength in its binary body) and maps semantics
 * (POSITION, RGB, RGBA, NORMAL, BATCH_ID) and batch table properties to
 * Draco attribute ids. Decoding goes through the engine's C shim over
 * libdraco (engine/src/draco_shim.cpp), the only C++ in the project. */
#include "content_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The shim's C interface (declared for the engine in engine/src/gltf_internal.h). */
typedef struct ct_draco_geometry ct_draco_geometry;
int ct_draco_decode(const uint8_t *data, size_t size, ct_draco_geometry **out, char *msg, size_t msg_size);
uint32_t ct_draco_point_count(const ct_draco_geometry *g);
int ct_draco_attribute_components(const ct_draco_geometry *g, uint32_t unique_id);
int ct_draco_attribute_floats(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, float *out);
int ct_draco_attribute_uints(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, uint32_t *out);
void ct_draco_destroy(ct_draco_geometry *g);

static bool attr_id(const cJSON *v, uint32_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1e9) || floor(v->valuedouble) != v->valuedouble)
        return false;
    *out = (uint32_t)v->valuedouble;
    return true;
}

/* Reads attribute `id` with ncomp components as floats into out (count*ncomp). */
static ct_status read_floats(const ct_content_ctx *ctx, const ct_draco_geometry *g, const char *name, uint32_t id,
                             int ncomp, float *out, ct_error *err)
{
    if (ct_draco_attribute_components(g, id) < ncomp || ct_draco_attribute_floats(g, id, ncomp, out))
        return ct_error_set(err, CT_ERR_INPUT, "%s: Draco attribute %u (%s) missing or not %d components", ctx->uri,
                            id, name, ncomp);
    return CT_OK;
}

/* Integer attributes (colors, batch ids); a float attribute is read as normalized * scale. */
static ct_status read_uints(const ct_content_ctx *ctx, const ct_draco_geometry *g, const char *name, uint32_t id,
                            int ncomp, uint32_t count, double scale, uint32_t *out, ct_error *err)
{
    if (ct_draco_attribute_components(g, id) < ncomp)
        return ct_error_set(err, CT_ERR_INPUT, "%s: Draco attribute %u (%s) missing or not %d components", ctx->uri,
                            id, name, ncomp);
    if (ct_draco_attribute_uints(g, id, ncomp, out) == 0)
        return CT_OK;
    float *f = ct_malloc_array((size_t)count * (size_t)ncomp + 1, sizeof(float));
    if (!f)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    ct_status st = read_floats(ctx, g, name, id, ncomp, f, err);
    for (size_t i = 0; !st && i < (size_t)count * (size_t)ncomp; i++) {
        double v = f[i] * scale;
        out[i] = v <= 0 || !isfinite(v) ? 0 : v >= 4294967295.0 ? UINT32_MAX : (uint32_t)lround(v);
    }
    free(f);
    return st;
}

static ct_status decode_batch_table(const ct_content_ctx *ctx, const ct_draco_geometry *g, ct_tile_model *m,
                                    uint32_t count, ct_error *err)
{
    const cJSON *props = ct_batch_table_draco_properties(m->batch_table);
    const cJSON *bt = ct_tile_batch_table_json(m->batch_table);
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        uint32_t id;
        const cJSON *decl = cJSON_GetObjectItemCaseSensitive(bt, p->string);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(decl, "type");
        const cJSON *ctj = cJSON_GetObjectItemCaseSensitive(decl, "componentType");
        int ncomp = cJSON_IsString(type) ? ct_type_components(type->valuestring) : 0;
        ct_ctype ct = cJSON_IsString(ctj) ? ct_ctype_parse(ctj->valuestring) : CT_CT_NONE;
        if (!attr_id(p, &id) || !ncomp || ct == CT_CT_NONE)
            return ct_error_set(err, CT_ERR_INPUT, "%s: batch table Draco property %s: bad attribute id or declaration",
                                ctx->uri, p->string);
        ct_status st;
        if (ct == CT_CT_FLOAT || ct == CT_CT_DOUBLE || ct == CT_CT_BYTE || ct == CT_CT_SHORT || ct == CT_CT_INT) {
            float *v = ct_malloc_array((size_t)count * (size_t)ncomp + 1, sizeof(float));
            if (!v)
                return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
            st = read_floats(ctx, g, p->string, id, ncomp, v, err);
            if (!st)
                st = ct_batch_table_set_decoded(m->batch_table, p->string, CT_CT_FLOAT, ncomp, v, count, err);
            free(v);
        } else {
            uint32_t *v = ct_malloc_array((size_t)count * (size_t)ncomp + 1, sizeof(uint32_t));
            if (!v)
                return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
            st = read_uints(ctx, g, p->string, id, ncomp, count, 1.0, v, err);
            if (!st)
                st = ct_batch_table_set_decoded(m->batch_table, p->string, CT_CT_UINT, ncomp, v, count, err);
            free(v);
        }
        if (st)
            return st;
    }
    return CT_OK;
}

ct_status ct_content_decode_pnts_draco(const ct_content_ctx *ctx, const ct_ftable *ft, const cJSON *ext,
                                       ct_tile_model *m, ct_error *err)
{
    ct_tile_points *P = &m->points;
    uint32_t count = P->count, bo, bl;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(ext, "properties");
    if (!cJSON_IsObject(props) || !attr_id(cJSON_GetObjectItemCaseSensitive(ext, "byteOffset"), &bo) ||
        !attr_id(cJSON_GetObjectItemCaseSensitive(ext, "byteLength"), &bl))
        return ct_error_set(err, CT_ERR_INPUT, "%s: 3DTILES_draco_point_compression needs properties, byteOffset and "
                            "byteLength (feature table at byte %zu)", ctx->uri, ft->json_offset);
    if ((uint64_t)bo + bl > ft->bin_size)
        return ct_error_set(err, CT_ERR_INPUT, "%s: Draco stream byteOffset %u + byteLength %u exceeds the feature "
                            "table binary body of %zu bytes (at byte %zu)", ctx->uri, bo, bl, ft->bin_size,
                            ft->bin_offset);
    ct_draco_geometry *g = NULL;
    char msg[256] = "";
    if (ct_draco_decode(ft->bin + bo, bl, &g, msg, sizeof msg))
        return ct_error_set(err, CT_ERR_INPUT, "%s: Draco stream at byte %zu: %s", ctx->uri, ft->bin_offset + bo, msg);
    ct_status st = CT_OK;
    if (ct_draco_point_count(g) != count)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: Draco stream at byte %zu has %u points, POINTS_LENGTH is %u",
                          ctx->uri, ft->bin_offset + bo, ct_draco_point_count(g), count);
    if (!st && !P->positions) {
        P->positions = ct_malloc_array(count ? count : 1, 3 * sizeof(float));
        if (!P->positions)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    }
    const cJSON *p;
    uint32_t *tmp = NULL;
    cJSON_ArrayForEach(p, props)
    {
        if (st)
            break;
        uint32_t id;
        if (!attr_id(p, &id)) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s: Draco property %s: attribute id is not an integer", ctx->uri,
                              p->string);
            break;
        }
        if (strcmp(p->string, "POSITION") == 0) {
            st = read_floats(ctx, g, p->string, id, 3, P->positions, err);
        } else if (strcmp(p->string, "NORMAL") == 0) {
            free(P->normals); /* a repeated key replaces the earlier one */
            P->normals = ct_malloc_array(count ? count : 1, 3 * sizeof(float));
            st = P->normals ? read_floats(ctx, g, p->string, id, 3, P->normals, err)
                            : ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
            /* Draco may return oct-decoded normals that are not exactly unit length. */
            for (uint32_t i = 0; !st && i < count; i++) {
                float *n = P->normals + 3 * (size_t)i;
                double len = sqrt((double)n[0] * n[0] + (double)n[1] * n[1] + (double)n[2] * n[2]);
                if (len > 0)
                    for (int c = 0; c < 3; c++)
                        n[c] = (float)(n[c] / len);
            }
        } else if (strcmp(p->string, "RGB") == 0 || strcmp(p->string, "RGBA") == 0) {
            int nc = p->string[3] == 'A' ? 4 : 3;
            free(tmp);
            tmp = ct_malloc_array((size_t)count * 4 + 1, sizeof(uint32_t));
            free(P->colors);
            P->colors = ct_malloc_array(count ? count : 1, 4);
            if (!tmp || !P->colors) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
                break;
            }
            st = read_uints(ctx, g, p->string, id, nc, count, 255.0, tmp, err);
            for (uint32_t i = 0; !st && i < count; i++)
                for (int c = 0; c < 4; c++)
                    P->colors[4 * (size_t)i + c] =
                        c < nc ? (uint8_t)(tmp[(size_t)i * nc + c] > 255 ? 255 : tmp[(size_t)i * nc + c]) : 255;
            P->translucent = nc == 4;
            free(tmp);
            tmp = NULL;
        } else if (strcmp(p->string, "BATCH_ID") == 0) {
            free(P->batch_ids);
            P->batch_ids = ct_malloc_array(count ? count : 1, sizeof(uint32_t));
            st = P->batch_ids ? read_uints(ctx, g, p->string, id, 1, count, 1.0, P->batch_ids, err)
                              : ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
        } else {
            st = ct_error_set(err, CT_ERR_INPUT, "%s: Draco property %s is not supported (only POSITION, RGB, RGBA, "
                              "NORMAL, BATCH_ID)", ctx->uri, p->string);
        }
    }
    free(tmp);
    if (!st && m->batch_table && ct_batch_table_draco_properties(m->batch_table))
        st = decode_batch_table(ctx, g, m, count, err);
    ct_draco_destroy(g);
    return st;
}
