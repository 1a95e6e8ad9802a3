/* Feature tables and batch tables of b3dm/i3dm/pnts: a JSON header whose
 * properties are either global values or references into a binary body
 * ({byteOffset, componentType, type}). Every reference is bounds-checked
 * against the body before anything reads or allocates from it. */
#include "content_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t ct_ctype_size(ct_ctype t)
{
    switch (t) {
    case CT_CT_BYTE: case CT_CT_UBYTE: return 1;
    case CT_CT_SHORT: case CT_CT_USHORT: return 2;
    case CT_CT_INT: case CT_CT_UINT: case CT_CT_FLOAT: return 4;
    case CT_CT_DOUBLE: return 8;
    default: return 0;
    }
}

static const struct { const char *name; ct_ctype t; } ctype_names[] = {
    {"BYTE", CT_CT_BYTE}, {"UNSIGNED_BYTE", CT_CT_UBYTE}, {"SHORT", CT_CT_SHORT},
    {"UNSIGNED_SHORT", CT_CT_USHORT}, {"INT", CT_CT_INT}, {"UNSIGNED_INT", CT_CT_UINT},
    {"FLOAT", CT_CT_FLOAT}, {"DOUBLE", CT_CT_DOUBLE},
};

ct_ctype ct_ctype_parse(const char *s)
{
    for (size_t i = 0; s && i < sizeof ctype_names / sizeof ctype_names[0]; i++)
        if (strcmp(s, ctype_names[i].name) == 0)
            return ctype_names[i].t;
    return CT_CT_NONE;
}

static const char *ctype_name(ct_ctype t)
{
    for (size_t i = 0; i < sizeof ctype_names / sizeof ctype_names[0]; i++)
        if (ctype_names[i].t == t)
            return ctype_names[i].name;
    return "?";
}

int ct_type_components(const char *s)
{
    if (!s)
        return 0;
    if (strcmp(s, "SCALAR") == 0) return 1;
    if (strcmp(s, "VEC2") == 0) return 2;
    if (strcmp(s, "VEC3") == 0) return 3;
    if (strcmp(s, "VEC4") == 0) return 4;
    return 0;
}

double ct_ctype_read(const uint8_t *p, ct_ctype t, size_t i, int ncomp, int c)
{
    size_t k = i * (size_t)ncomp + (size_t)c;
    switch (t) {
    case CT_CT_BYTE: return (int8_t)p[k];
    case CT_CT_UBYTE: return p[k];
    case CT_CT_SHORT: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case CT_CT_USHORT: { uint16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case CT_CT_INT: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case CT_CT_UINT: { uint32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case CT_CT_FLOAT: { float v; memcpy(&v, p + 4 * k, 4); return v; }
    case CT_CT_DOUBLE: { double v; memcpy(&v, p + 8 * k, 8); return v; }
    default: return 0;
    }
}

void ct_oct_decode(double x, double y, double range_max, double out[3])
{
    /* CesiumJS fromSNorm: clamp to [0, range] then map to [-1, 1]. */
    x = x < 0 ? 0 : x > range_max ? range_max : x;
    y = y < 0 ? 0 : y > range_max ? range_max : y;
    double vx = x / range_max * 2.0 - 1.0, vy = y / range_max * 2.0 - 1.0;
    double vz = 1.0 - (fabs(vx) + fabs(vy));
    if (vz < 0.0) {
        double ox = vx;
        vx = (1.0 - fabs(vy)) * (ox < 0.0 ? -1.0 : 1.0);
        vy = (1.0 - fabs(ox)) * (vy < 0.0 ? -1.0 : 1.0);
    }
    double len = sqrt(vx * vx + vy * vy + vz * vz);
    if (len <= 0)
        len = 1;
    out[0] = vx / len;
    out[1] = vy / len;
    out[2] = vz / len;
}

/* Parses a JSON header; trailing spaces/NULs (padding) are allowed. */
static ct_status parse_json_object(const ct_content_ctx *ctx, const char *what, const uint8_t *json, size_t len,
                                   size_t off, cJSON **out, ct_error *err)
{
    *out = NULL;
    size_t n = len;
    while (n > 0 && (json[n - 1] == ' ' || json[n - 1] == 0 || json[n - 1] == '\n' || json[n - 1] == '\r' ||
                     json[n - 1] == '\t'))
        n--;
    if (n == 0)
        return CT_OK;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts((const char *)json, n, &end, false);
    if (!root) {
        size_t at = end && end >= (const char *)json && end <= (const char *)json + n ? (size_t)(end - (const char *)json) : 0;
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s JSON is not valid JSON (near byte %zu)", ctx->uri, what,
                            off + at);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s JSON at byte %zu is not an object", ctx->uri, what, off);
    }
    *out = root;
    return CT_OK;
}

ct_status ct_ftable_init(ct_ftable *t, const ct_content_ctx *ctx, const char *what, const uint8_t *json,
                         size_t json_len, size_t json_offset, const uint8_t *bin, size_t bin_size,
                         size_t bin_offset, ct_error *err)
{
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->what = what;
    t->bin = bin;
    t->bin_size = bin_size;
    t->json_offset = json_offset;
    t->bin_offset = bin_offset;
    return parse_json_object(ctx, what, json, json_len, json_offset, &t->json, err);
}

void ct_ftable_free(ct_ftable *t)
{
    cJSON_Delete(t->json);
    t->json = NULL;
}

static const cJSON *ft_get(const ct_ftable *t, const char *name)
{
    return t->json ? cJSON_GetObjectItemCaseSensitive(t->json, name) : NULL;
}

/* JSON numbers that are exact non-negative integers up to max. */
static bool json_uint(const cJSON *v, double max, uint32_t *out)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= 0 && d <= max) || floor(d) != d)
        return false;
    *out = (uint32_t)d;
    return true;
}

ct_status ct_ftable_uint(const ct_ftable *t, const char *name, bool required, uint32_t *out, bool *found,
                         ct_error *err)
{
    const cJSON *v = ft_get(t, name);
    if (found)
        *found = v != NULL;
    if (!v) {
        if (required)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu has no %s", t->ctx->uri, t->what,
                                t->json_offset, name);
        return CT_OK;
    }
    /* A global may also live in the binary body: {"byteOffset": n} (UNSIGNED_INT). */
    if (cJSON_IsObject(v)) {
        ct_array a;
        static const ct_ctype allowed[] = {CT_CT_UINT, CT_CT_NONE};
        ct_status st = ct_ftable_array(t, name, 1, 1, CT_CT_UINT, allowed, &a, err);
        if (st)
            return st;
        *out = (uint32_t)ct_ctype_read(a.data, a.ctype, 0, 1, 0);
        if (*out > CT_CONTENT_MAX_COUNT)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s %s = %u is absurd (more than %u)", t->ctx->uri, t->what,
                                name, *out, CT_CONTENT_MAX_COUNT);
        return CT_OK;
    }
    if (!json_uint(v, 4294967295.0, out))
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu: %s is not a non-negative integer", t->ctx->uri,
                            t->what, t->json_offset, name);
    if (*out > CT_CONTENT_MAX_COUNT)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu: %s = %u is absurd (more than %u)", t->ctx->uri,
                            t->what, t->json_offset, name, *out, CT_CONTENT_MAX_COUNT);
    return CT_OK;
}

ct_status ct_ftable_vec(const ct_ftable *t, const char *name, int n, double *out, bool *found, ct_error *err)
{
    const cJSON *v = ft_get(t, name);
    *found = false;
    if (!v)
        return CT_OK;
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) != n)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu: %s must have %d numbers", t->ctx->uri,
                                t->what, t->json_offset, name, n);
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
                return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu: %s[%d] is not a finite number",
                                    t->ctx->uri, t->what, t->json_offset, name, i);
            out[i++] = e->valuedouble;
        }
        *found = true;
        return CT_OK;
    }
    if (cJSON_IsObject(v)) {
        static const ct_ctype allowed[] = {CT_CT_FLOAT, CT_CT_DOUBLE, CT_CT_UBYTE, CT_CT_NONE};
        ct_array a;
        ct_status st = ct_ftable_array(t, name, 1, n, CT_CT_FLOAT, allowed, &a, err);
        if (st)
            return st;
        for (int i = 0; i < n; i++) {
            out[i] = ct_ctype_read(a.data, a.ctype, 0, n, i);
            if (!isfinite(out[i]))
                return ct_error_set(err, CT_ERR_INPUT, "%s: %s: %s[%d] is not finite", t->ctx->uri, t->what, name, i);
        }
        *found = true;
        return CT_OK;
    }
    return ct_error_set(err, CT_ERR_INPUT, "%s: %s at byte %zu: %s must be an array of %d numbers", t->ctx->uri,
                        t->what, t->json_offset, name, n);
}

bool ct_ftable_bool(const ct_ftable *t, const char *name)
{
    return cJSON_IsTrue(ft_get(t, name));
}

/* Validates {byteOffset, componentType} against the body; shared by both tables. */
static ct_status table_array(const ct_content_ctx *ctx, const char *what, const cJSON *v, const char *name,
                             const uint8_t *bin, size_t bin_size, size_t bin_offset, uint32_t count, int ncomp,
                             ct_ctype def_ctype, const ct_ctype *allowed, ct_array *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(v))
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s property %s must be an object with byteOffset", ctx->uri,
                            what, name);
    uint32_t byte_offset;
    const cJSON *bo = cJSON_GetObjectItemCaseSensitive(v, "byteOffset");
    if (!json_uint(bo, 4294967295.0, &byte_offset))
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s property %s: byteOffset missing or not a non-negative integer",
                            ctx->uri, what, name);
    ct_ctype ct = def_ctype;
    const cJSON *ctj = cJSON_GetObjectItemCaseSensitive(v, "componentType");
    if (ctj) {
        ct = cJSON_IsString(ctj) ? ct_ctype_parse(ctj->valuestring) : CT_CT_NONE;
        if (ct == CT_CT_NONE)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s property %s: unknown componentType", ctx->uri, what, name);
    }
    bool ok = allowed == NULL;
    for (const ct_ctype *a = allowed; a && *a != CT_CT_NONE; a++)
        ok = ok || *a == ct;
    if (!ok)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s property %s: componentType %s not allowed here", ctx->uri,
                            what, name, ctype_name(ct));
    size_t elem = ct_ctype_size(ct) * (size_t)ncomp;
    /* count <= 2^32 and elem <= 32, so this cannot overflow a 64-bit size_t. */
    uint64_t need = (uint64_t)count * elem;
    if ((uint64_t)byte_offset > bin_size || need > (uint64_t)bin_size - byte_offset)
        return ct_error_set(err, CT_ERR_INPUT,
                            "%s: %s property %s: byteOffset %u + %u x %zu bytes exceeds the binary body of %zu bytes "
                            "(at byte %zu)",
                            ctx->uri, what, name, byte_offset, count, elem, bin_size, bin_offset);
    out->data = bin + byte_offset;
    out->ctype = ct;
    out->ncomp = ncomp;
    out->count = count;
    return CT_OK;
}

ct_status ct_ftable_array(const ct_ftable *t, const char *name, uint32_t count, int ncomp, ct_ctype def_ctype,
                          const ct_ctype *allowed, ct_array *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    const cJSON *v = ft_get(t, name);
    if (!v)
        return CT_OK;
    return table_array(t->ctx, t->what, v, name, t->bin, t->bin_size, t->bin_offset, count, ncomp, def_ctype, allowed,
                       out, err);
}

/* ---- batch tables ---------------------------------------------------- */

typedef struct bt_prop {
    const char *name;           /* points into the JSON */
    const cJSON *json;          /* JSON array of per-feature values, or NULL */
    const uint8_t *data;        /* binary values (into bt->binary or decoded), or NULL */
    uint8_t *decoded;           /* owned (Draco-decoded) */
    ct_ctype ctype;
    int ncomp;
} bt_prop;

struct ct_tile_batch_table {
    cJSON *json;
    uint8_t *binary;            /* copy of the body */
    size_t binary_size;
    uint32_t count;
    bt_prop *props;
    uint32_t prop_count;
    const cJSON *hierarchy;     /* 3DTILES_batch_table_hierarchy (or legacy HIERARCHY) */
    /* Hierarchy decoded: per instance its class and index within the class. */
    uint32_t h_instances;
    uint32_t *h_class, *h_index, *h_parent_start, *h_parent_count, *h_parents;
    uint32_t h_parent_total;
    uint32_t h_class_count;
};

/* A hierarchy id list: JSON array or binary {byteOffset, componentType}. */
static ct_status hier_ids(const ct_content_ctx *ctx, const ct_tile_batch_table *bt, const cJSON *h, const char *name,
                          uint32_t count, uint32_t **out, ct_error *err)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, name);
    if (!v)
        return CT_OK;
    uint32_t *ids = ct_malloc_array(count ? count : 1, sizeof *ids);
    if (!ids)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    if (cJSON_IsArray(v)) {
        if ((uint32_t)cJSON_GetArraySize(v) != count) {
            free(ids);
            return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy %s has %d entries, expected %u",
                                ctx->uri, name, cJSON_GetArraySize(v), count);
        }
        uint32_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!json_uint(e, 4294967295.0, &ids[i])) {
                free(ids);
                return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy %s[%u] is not an integer",
                                    ctx->uri, name, i);
            }
            i++;
        }
    } else {
        static const ct_ctype allowed[] = {CT_CT_UBYTE, CT_CT_USHORT, CT_CT_UINT, CT_CT_NONE};
        ct_array a;
        ct_status st = table_array(ctx, "batch table hierarchy", v, name, bt->binary, bt->binary_size, 0, count, 1,
                                   CT_CT_USHORT, allowed, &a, err);
        if (st) {
            free(ids);
            return st;
        }
        for (uint32_t i = 0; i < count; i++)
            ids[i] = (uint32_t)ct_ctype_read(a.data, a.ctype, i, 1, 0);
    }
    *out = ids;
    return CT_OK;
}

static ct_status hierarchy_init(const ct_content_ctx *ctx, ct_tile_batch_table *bt, ct_error *err)
{
    const cJSON *h = bt->hierarchy;
    uint32_t n = 0;
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(h, "classes");
    if (!cJSON_IsArray(classes))
        return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy has no classes array", ctx->uri);
    bt->h_class_count = (uint32_t)cJSON_GetArraySize(classes);
    if (!json_uint(cJSON_GetObjectItemCaseSensitive(h, "instancesLength"), CT_CONTENT_MAX_COUNT, &n))
        return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy instancesLength missing or absurd", ctx->uri);
    const cJSON *cids = cJSON_GetObjectItemCaseSensitive(h, "classIds");
    /* Bound n by the data that backs it before allocating. */
    if (cJSON_IsArray(cids) && (uint32_t)cJSON_GetArraySize(cids) != n)
        return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy classIds has %d entries, instancesLength %u",
                            ctx->uri, cJSON_GetArraySize(cids), n);
    if (!cids)
        return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy has no classIds", ctx->uri);
    ct_status st = hier_ids(ctx, bt, h, "classIds", n, &bt->h_class, err);
    if (st)
        return st;
    bt->h_instances = n;
    for (uint32_t i = 0; i < n; i++)
        if (bt->h_class[i] >= bt->h_class_count)
            return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy classIds[%u] = %u out of range", ctx->uri,
                                i, bt->h_class[i]);
    /* Index of each instance within its class, and each class's length. */
    bt->h_index = ct_calloc_array(n ? n : 1, sizeof(uint32_t));
    uint32_t *seen = ct_calloc_array(bt->h_class_count ? bt->h_class_count : 1, sizeof(uint32_t));
    if (!bt->h_index || !seen) {
        free(seen);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    }
    for (uint32_t i = 0; i < n; i++)
        bt->h_index[i] = seen[bt->h_class[i]]++;
    uint32_t ci = 0;
    const cJSON *cls;
    cJSON_ArrayForEach(cls, classes)
    {
        uint32_t len;
        if (!json_uint(cJSON_GetObjectItemCaseSensitive(cls, "length"), CT_CONTENT_MAX_COUNT, &len) || len != seen[ci]) {
            free(seen);
            return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy classes[%u].length does not match classIds",
                                ctx->uri, ci);
        }
        ci++;
    }
    free(seen);
    /* Parents: parentCounts (default 1 each) and parentIds. */
    st = hier_ids(ctx, bt, h, "parentCounts", n, &bt->h_parent_count, err);
    if (st)
        return st;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++)
        total += bt->h_parent_count ? bt->h_parent_count[i] : 1;
    if (cJSON_GetObjectItemCaseSensitive(h, "parentIds")) {
        if (total > CT_CONTENT_MAX_COUNT)
            return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy parent count %llu is absurd", ctx->uri,
                                (unsigned long long)total);
        st = hier_ids(ctx, bt, h, "parentIds", (uint32_t)total, &bt->h_parents, err);
        if (st)
            return st;
        bt->h_parent_total = (uint32_t)total;
        for (uint32_t i = 0; i < bt->h_parent_total; i++)
            if (bt->h_parents[i] >= n)
                return ct_error_set(err, CT_ERR_INPUT, "%s: batch table hierarchy parentIds[%u] = %u out of range",
                                    ctx->uri, i, bt->h_parents[i]);
        bt->h_parent_start = ct_malloc_array(n ? n : 1, sizeof(uint32_t));
        if (!bt->h_parent_start)
            return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
        uint32_t s = 0;
        for (uint32_t i = 0; i < n; i++) {
            bt->h_parent_start[i] = s;
            s += bt->h_parent_count ? bt->h_parent_count[i] : 1;
        }
    }
    return CT_OK;
}

void ct_batch_table_destroy(ct_tile_batch_table *bt)
{
    if (!bt)
        return;
    for (uint32_t i = 0; i < bt->prop_count; i++)
        free(bt->props[i].decoded);
    free(bt->props);
    free(bt->binary);
    free(bt->h_class);
    free(bt->h_index);
    free(bt->h_parent_start);
    free(bt->h_parent_count);
    free(bt->h_parents);
    cJSON_Delete(bt->json);
    free(bt);
}

ct_status ct_batch_table_create(const ct_content_ctx *ctx, const uint8_t *json, size_t json_len, size_t json_offset,
                                const uint8_t *bin, size_t bin_size, size_t bin_offset, uint32_t count,
                                ct_tile_batch_table **out, ct_error *err)
{
    *out = NULL;
    cJSON *root = NULL;
    ct_status st = parse_json_object(ctx, "batch table", json, json_len, json_offset, &root, err);
    if (st)
        return st;
    if (!root && bin_size == 0)
        return CT_OK;
    ct_tile_batch_table *bt = calloc(1, sizeof *bt);
    if (!bt) {
        cJSON_Delete(root);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    }
    bt->json = root ? root : cJSON_CreateObject();
    bt->count = count;
    if (bin_size) {
        bt->binary = malloc(bin_size);
        if (!bt->binary) {
            ct_batch_table_destroy(bt);
            return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
        }
        memcpy(bt->binary, bin, bin_size);
        bt->binary_size = bin_size;
    }
    int n = cJSON_GetArraySize(bt->json);
    bt->props = ct_calloc_array(n > 0 ? (size_t)n : 1, sizeof *bt->props);
    if (!bt->props) {
        ct_batch_table_destroy(bt);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", ctx->uri);
    }
    const cJSON *draco = ct_batch_table_draco_properties(bt);
    const cJSON *v;
    /* Messages are formatted before bt (which owns the names) is destroyed. */
    cJSON_ArrayForEach(v, bt->json)
    {
        if (!v->string)
            continue;
        if (strcmp(v->string, "extensions") == 0 || strcmp(v->string, "extras") == 0) {
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "3DTILES_batch_table_hierarchy");
            if (h)
                bt->hierarchy = h;
            continue;
        }
        if (strcmp(v->string, "HIERARCHY") == 0) { /* pre-1.0 name of the extension */
            if (!bt->hierarchy)
                bt->hierarchy = v;
            continue;
        }
        bt_prop *p = &bt->props[bt->prop_count];
        p->name = v->string;
        if (cJSON_IsArray(v)) {
            if ((uint32_t)cJSON_GetArraySize(v) < count) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s: batch table property %s has %d values, expected %u",
                                  ctx->uri, v->string, cJSON_GetArraySize(v), count);
                break;
            }
            p->json = v;
        } else if (cJSON_IsObject(v)) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(v, "type");
            const cJSON *ctj = cJSON_GetObjectItemCaseSensitive(v, "componentType");
            int ncomp = cJSON_IsString(type) ? ct_type_components(type->valuestring) : 0;
            if (!ncomp) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s: batch table property %s: type missing or unknown", ctx->uri,
                                  v->string);
                break;
            }
            if (!cJSON_IsString(ctj) || ct_ctype_parse(ctj->valuestring) == CT_CT_NONE) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s: batch table property %s: componentType missing or unknown",
                                  ctx->uri, v->string);
                break;
            }
            if (draco && cJSON_GetObjectItemCaseSensitive(draco, v->string)) {
                /* Values live in the Draco stream; filled in by the pnts decoder. */
                p->ctype = ct_ctype_parse(ctj->valuestring);
                p->ncomp = ncomp;
            } else {
                ct_array a;
                st = table_array(ctx, "batch table", v, v->string, bt->binary, bt->binary_size, bin_offset, count,
                                 ncomp, CT_CT_NONE, NULL, &a, err);
                if (st)
                    break;
                p->data = a.data;
                p->ctype = a.ctype;
                p->ncomp = ncomp;
            }
        } else {
            /* Not per-feature data (a scalar or string): kept in the JSON, not a property. */
            continue;
        }
        bt->prop_count++;
    }
    if (st) {
        ct_batch_table_destroy(bt);
        return st;
    }
    if (bt->hierarchy) {
        st = hierarchy_init(ctx, bt, err);
        if (st) {
            ct_batch_table_destroy(bt);
            return st;
        }
    }
    *out = bt;
    return CT_OK;
}

const cJSON *ct_batch_table_draco_properties(const ct_tile_batch_table *bt)
{
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(bt->json, "extensions");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(ext, "3DTILES_draco_point_compression");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(d, "properties");
    return cJSON_IsObject(p) ? p : NULL;
}

ct_status ct_batch_table_set_decoded(ct_tile_batch_table *bt, const char *name, ct_ctype ctype, int ncomp,
                                     const void *values, uint32_t count, ct_error *err)
{
    for (uint32_t i = 0; i < bt->prop_count; i++) {
        bt_prop *p = &bt->props[i];
        if (strcmp(p->name, name) != 0)
            continue;
        size_t bytes = (size_t)count * (size_t)ncomp * ct_ctype_size(ctype);
        free(p->decoded);
        p->decoded = malloc(bytes ? bytes : 1);
        if (!p->decoded)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        memcpy(p->decoded, values, bytes);
        p->data = p->decoded;
        p->ctype = ctype;
        p->ncomp = ncomp;
        return CT_OK;
    }
    return CT_OK;
}

uint32_t ct_tile_batch_table_property_count(const ct_tile_batch_table *bt) { return bt ? bt->prop_count : 0; }

const char *ct_tile_batch_table_property_name(const ct_tile_batch_table *bt, uint32_t i)
{
    return bt && i < bt->prop_count ? bt->props[i].name : NULL;
}

const cJSON *ct_tile_batch_table_json(const ct_tile_batch_table *bt) { return bt ? bt->json : NULL; }

static cJSON *binary_value(const uint8_t *data, ct_ctype ct, int ncomp, uint32_t i)
{
    if (ncomp == 1)
        return cJSON_CreateNumber(ct_ctype_read(data, ct, i, 1, 0));
    cJSON *arr = cJSON_CreateArray();
    for (int c = 0; c < ncomp && arr; c++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(ct_ctype_read(data, ct, i, ncomp, c)));
    return arr;
}

/* Adds the properties of hierarchy instance `inst` that obj does not have yet. */
static void hierarchy_add_instance(const ct_tile_batch_table *bt, uint32_t inst, cJSON *obj)
{
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(bt->hierarchy, "classes");
    const cJSON *cls = cJSON_GetArrayItem(classes, (int)bt->h_class[inst]);
    const cJSON *instances = cJSON_GetObjectItemCaseSensitive(cls, "instances");
    uint32_t idx = bt->h_index[inst];
    uint32_t len = 0;
    json_uint(cJSON_GetObjectItemCaseSensitive(cls, "length"), CT_CONTENT_MAX_COUNT, &len);
    const cJSON *v;
    cJSON_ArrayForEach(v, instances)
    {
        if (!v->string || cJSON_GetObjectItemCaseSensitive(obj, v->string))
            continue;
        cJSON *val = NULL;
        if (cJSON_IsArray(v)) {
            const cJSON *e = cJSON_GetArrayItem(v, (int)idx);
            if (e)
                val = cJSON_Duplicate(e, true);
        } else if (cJSON_IsObject(v)) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(v, "type");
            int ncomp = cJSON_IsString(type) ? ct_type_components(type->valuestring) : 0;
            const cJSON *ctj = cJSON_GetObjectItemCaseSensitive(v, "componentType");
            ct_ctype ct = cJSON_IsString(ctj) ? ct_ctype_parse(ctj->valuestring) : CT_CT_NONE;
            ct_array a;
            ct_error e;
            if (ncomp && ct != CT_CT_NONE &&
                table_array(&(ct_content_ctx){"", NULL, 0}, "hierarchy", v, v->string, bt->binary, bt->binary_size, 0,
                            len, ncomp, ct, NULL, &a, &e) == CT_OK)
                val = binary_value(a.data, ct, ncomp, idx);
        }
        if (val)
            cJSON_AddItemToObject(obj, v->string, val);
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cls, "name");
    if (cJSON_IsString(name) && !cJSON_GetObjectItemCaseSensitive(obj, "class"))
        cJSON_AddStringToObject(obj, "class", name->valuestring);
}

static void hierarchy_add(const ct_tile_batch_table *bt, uint32_t feature, cJSON *obj)
{
    if (feature >= bt->h_instances)
        return;
    /* Breadth-first over ancestors, nearest first; the visit budget bounds cycles. */
    uint32_t queue[64];
    uint32_t head = 0, tail = 0, budget = bt->h_instances + 1;
    queue[tail++] = feature;
    while (head < tail && budget--) {
        uint32_t inst = queue[head++];
        hierarchy_add_instance(bt, inst, obj);
        if (!bt->h_parents)
            continue;
        uint32_t s = bt->h_parent_start[inst], k = bt->h_parent_count ? bt->h_parent_count[inst] : 1;
        for (uint32_t j = 0; j < k && s + j < bt->h_parent_total; j++) {
            uint32_t p = bt->h_parents[s + j];
            if (p == inst)
                continue; /* a root is its own parent */
            if (tail < sizeof queue / sizeof queue[0])
                queue[tail++] = p;
        }
    }
}

cJSON *ct_tile_batch_table_feature(const ct_tile_batch_table *bt, uint32_t feature)
{
    if (!bt || feature >= bt->count)
        return NULL;
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    for (uint32_t i = 0; i < bt->prop_count; i++) {
        const bt_prop *p = &bt->props[i];
        cJSON *val = NULL;
        if (p->json) {
            const cJSON *e = cJSON_GetArrayItem(p->json, (int)feature);
            val = e ? cJSON_Duplicate(e, true) : cJSON_CreateNull();
        } else if (p->data) {
            val = binary_value(p->data, p->ctype, p->ncomp, feature);
        }
        if (val)
            cJSON_AddItemToObject(obj, p->name, val);
    }
    if (bt->hierarchy)
        hierarchy_add(bt, feature, obj);
    return obj;
}
