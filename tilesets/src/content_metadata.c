/* EXT_structural_metadata / 3D Metadata property tables (binary table
 * format): the JSON and the referenced buffer views are copied at load time;
 * one row is decoded on demand (picking), with every offset and length
 * checked against the bytes that back it, so untrusted tables cannot read
 * out of bounds. A property whose data is bad is left out of the row (and
 * logged); the other properties still decode. */
#include "content_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest array decoded into one value (a pick result, not a bulk export). */
#define MAX_ARRAY_ELEMENTS 4096u

struct ct_property_tables {
    cJSON *schema;         /* copy; may be NULL (tables then decode to nothing) */
    cJSON *tables;         /* copy of propertyTables */
    uint8_t **views;       /* copies of the referenced buffer views (NULL = not referenced / missing) */
    size_t *view_sizes;
    uint32_t view_count;
    char *where;           /* for messages */
};

/* ---- component types ---- */

typedef enum mtype { M_NONE, M_INT8, M_UINT8, M_INT16, M_UINT16, M_INT32, M_UINT32, M_INT64, M_UINT64, M_FLOAT32, M_FLOAT64 } mtype;

static mtype mtype_parse(const char *s)
{
    static const char *const names[] = {"", "INT8", "UINT8", "INT16", "UINT16", "INT32",
                                        "UINT32", "INT64", "UINT64", "FLOAT32", "FLOAT64"};
    for (int i = 1; s && i <= M_FLOAT64; i++)
        if (!strcmp(s, names[i]))
            return (mtype)i;
    return M_NONE;
}

static size_t mtype_size(mtype t)
{
    static const size_t sz[] = {0, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8};
    return sz[t];
}

static uint64_t rd_u64(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Raw value of one component (integers exactly up to 2^53). */
static double mtype_read(const uint8_t *p, mtype t)
{
    uint64_t u = rd_u64(p, mtype_size(t));
    switch (t) {
    case M_INT8: return (int8_t)u;
    case M_UINT8: return (uint8_t)u;
    case M_INT16: return (int16_t)u;
    case M_UINT16: return (uint16_t)u;
    case M_INT32: return (int32_t)u;
    case M_UINT32: return (uint32_t)u;
    case M_INT64: return (double)(int64_t)u;
    case M_UINT64: return (double)u;
    case M_FLOAT32: {
        uint32_t b = (uint32_t)u;
        float f;
        memcpy(&f, &b, 4);
        return f;
    }
    case M_FLOAT64: {
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    default: return 0;
    }
}

/* normalized integers: unsigned / max, signed max(v / max, -1) */
static double mtype_normalize(double v, mtype t)
{
    switch (t) {
    case M_INT8: return fmax(v / 127.0, -1.0);
    case M_UINT8: return v / 255.0;
    case M_INT16: return fmax(v / 32767.0, -1.0);
    case M_UINT16: return v / 65535.0;
    case M_INT32: return fmax(v / 2147483647.0, -1.0);
    case M_UINT32: return v / 4294967295.0;
    case M_INT64: return fmax(v / 9223372036854775807.0, -1.0);
    case M_UINT64: return v / 18446744073709551615.0;
    default: return v;
    }
}

/* ---- creation ---- */

static void note_view(const cJSON *p, const char *key, bool *used, uint32_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < n)
        used[(uint32_t)v->valuedouble] = true;
}

ct_status ct_property_tables_create(const cJSON *schema, const cJSON *tables, const ct_byte_view *views,
                                    uint32_t view_count, const char *where, ct_property_tables **out, ct_error *err)
{
    *out = NULL;
    where = where ? where : "<memory>";
    if (!cJSON_IsArray(tables))
        return ct_error_set(err, CT_ERR_INPUT, "%s: propertyTables is not an array", where);
    if (schema && !cJSON_IsObject(schema))
        return ct_error_set(err, CT_ERR_INPUT, "%s: schema is not an object", where);
    ct_property_tables *t = calloc(1, sizeof *t);
    bool *used = view_count ? calloc(view_count, sizeof *used) : NULL;
    if (!t || (view_count && !used)) {
        free(t);
        free(used);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", where);
    }
    t->where = ct_strdup(where);
    t->schema = schema ? cJSON_Duplicate(schema, true) : NULL;
    t->tables = cJSON_Duplicate(tables, true);
    t->view_count = view_count;
    t->views = view_count ? calloc(view_count, sizeof *t->views) : NULL;
    t->view_sizes = view_count ? calloc(view_count, sizeof *t->view_sizes) : NULL;
    bool ok = t->where && t->tables && (!schema || t->schema) && (!view_count || (t->views && t->view_sizes));
    const cJSON *tab;
    cJSON_ArrayForEach(tab, tables)
    {
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(tab, "properties"))
        {
            note_view(p, "values", used, view_count);
            note_view(p, "arrayOffsets", used, view_count);
            note_view(p, "stringOffsets", used, view_count);
        }
    }
    for (uint32_t i = 0; ok && i < view_count; i++) {
        if (!used[i] || !views[i].data)
            continue;
        t->views[i] = malloc(views[i].size ? views[i].size : 1);
        if (!t->views[i])
            ok = false;
        else {
            memcpy(t->views[i], views[i].data, views[i].size);
            t->view_sizes[i] = views[i].size;
        }
    }
    free(used);
    if (!ok) {
        ct_property_tables_destroy(t);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", where);
    }
    *out = t;
    return CT_OK;
}

void ct_property_tables_destroy(ct_property_tables *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->view_count && t->views; i++)
        free(t->views[i]);
    free(t->views);
    free(t->view_sizes);
    cJSON_Delete(t->schema);
    cJSON_Delete(t->tables);
    free(t->where);
    free(t);
}

uint32_t ct_property_tables_count(const ct_property_tables *t)
{
    return t ? (uint32_t)cJSON_GetArraySize(t->tables) : 0;
}

static const cJSON *table_at(const ct_property_tables *t, uint32_t i)
{
    const cJSON *tab = t && i < ct_property_tables_count(t) ? cJSON_GetArrayItem(t->tables, (int)i) : NULL;
    return cJSON_IsObject(tab) ? tab : NULL;
}

const char *ct_property_tables_class(const ct_property_tables *t, uint32_t table)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(table_at(t, table), "class");
    return cJSON_IsString(c) ? c->valuestring : NULL;
}

static bool json_count(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 4294967295.0 ||
        v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

uint32_t ct_property_tables_rows(const ct_property_tables *t, uint32_t table)
{
    uint64_t n = 0;
    return json_count(cJSON_GetObjectItemCaseSensitive(table_at(t, table), "count"), &n) ? (uint32_t)n : 0;
}

size_t ct_property_tables_bytes(const ct_property_tables *t)
{
    size_t n = 0;
    for (uint32_t i = 0; t && i < t->view_count; i++)
        n += t->view_sizes[i];
    return n;
}

/* ---- one row ---- */

/* How one property of one table is stored and typed. */
typedef struct mprop {
    const char *name;
    enum { K_NUMBER, K_STRING, K_BOOLEAN, K_ENUM } kind;
    mtype ctype;            /* numbers and enums */
    int ncomp;              /* SCALAR 1, VECn n, MATn n*n */
    bool array;
    uint64_t count;         /* fixed-length arrays; 0 = variable */
    bool normalized;
    const cJSON *offset, *scale, *no_data, *def, *enum_values;
    const uint8_t *values;
    size_t values_size;
    const uint8_t *array_offsets, *string_offsets;
    size_t array_offsets_n, string_offsets_n; /* elements */
    mtype array_offset_type, string_offset_type;
} mprop;

static bool view_get(const ct_property_tables *t, const cJSON *v, const uint8_t **data, size_t *size)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble >= t->view_count)
        return false;
    uint32_t i = (uint32_t)v->valuedouble;
    if (!t->views[i])
        return false;
    *data = t->views[i];
    *size = t->view_sizes[i];
    return true;
}

static mtype offset_type(const cJSON *o)
{
    if (!o)
        return M_UINT32;
    mtype m = cJSON_IsString(o) ? mtype_parse(o->valuestring) : M_NONE;
    return m == M_UINT8 || m == M_UINT16 || m == M_UINT32 || m == M_UINT64 ? m : M_NONE;
}

/* Resolves the class definition and storage of one table property. Returns
 * NULL on success or a message for the log. */
static const char *mprop_init(const ct_property_tables *t, const cJSON *cls, const char *name, const cJSON *tp,
                              mprop *p)
{
    memset(p, 0, sizeof *p);
    p->name = name;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cls, "properties"), name);
    if (!cJSON_IsObject(def))
        return "not a property of the class";
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(def, "type");
    if (!cJSON_IsString(type))
        return "class property has no type";
    const char *ty = type->valuestring;
    p->ncomp = 1;
    if (!strcmp(ty, "STRING"))
        p->kind = K_STRING;
    else if (!strcmp(ty, "BOOLEAN"))
        p->kind = K_BOOLEAN;
    else if (!strcmp(ty, "ENUM")) {
        p->kind = K_ENUM;
        const cJSON *et = cJSON_GetObjectItemCaseSensitive(def, "enumType");
        const cJSON *en = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->schema, "enums"),
                                                           cJSON_IsString(et) ? et->valuestring : "");
        if (!cJSON_IsObject(en))
            return "enumType not found in the schema";
        const cJSON *vt = cJSON_GetObjectItemCaseSensitive(en, "valueType");
        p->ctype = vt ? (cJSON_IsString(vt) ? mtype_parse(vt->valuestring) : M_NONE) : M_UINT16;
        if (p->ctype == M_NONE || p->ctype == M_FLOAT32 || p->ctype == M_FLOAT64)
            return "bad enum valueType";
        p->enum_values = cJSON_GetObjectItemCaseSensitive(en, "values");
    } else {
        p->kind = K_NUMBER;
        if (!strcmp(ty, "SCALAR"))
            p->ncomp = 1;
        else if (!strncmp(ty, "VEC", 3) && ty[3] >= '2' && ty[3] <= '4' && !ty[4])
            p->ncomp = ty[3] - '0';
        else if (!strncmp(ty, "MAT", 3) && ty[3] >= '2' && ty[3] <= '4' && !ty[4])
            p->ncomp = (ty[3] - '0') * (ty[3] - '0');
        else
            return "unknown type";
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(def, "componentType");
        p->ctype = cJSON_IsString(ct) ? mtype_parse(ct->valuestring) : M_NONE;
        if (p->ctype == M_NONE)
            return "missing or unknown componentType";
        p->normalized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "normalized")) && p->ctype < M_FLOAT32;
    }
    p->array = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(def, "array"));
    if (p->array) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(def, "count");
        if (c && (!json_count(c, &p->count) || p->count < 1))
            return "bad array count";
        if (p->count > MAX_ARRAY_ELEMENTS)
            return "array count too large";
    }
    /* the table may override offset and scale (not min/max: they are not applied) */
    p->offset = cJSON_GetObjectItemCaseSensitive(tp, "offset");
    if (!p->offset)
        p->offset = cJSON_GetObjectItemCaseSensitive(def, "offset");
    p->scale = cJSON_GetObjectItemCaseSensitive(tp, "scale");
    if (!p->scale)
        p->scale = cJSON_GetObjectItemCaseSensitive(def, "scale");
    p->no_data = cJSON_GetObjectItemCaseSensitive(def, "noData");
    p->def = cJSON_GetObjectItemCaseSensitive(def, "default");
    if (!view_get(t, cJSON_GetObjectItemCaseSensitive(tp, "values"), &p->values, &p->values_size))
        return "values buffer view missing or out of range";
    if (p->array && p->count == 0) {
        size_t sz;
        p->array_offset_type = offset_type(cJSON_GetObjectItemCaseSensitive(tp, "arrayOffsetType"));
        if (p->array_offset_type == M_NONE)
            return "bad arrayOffsetType";
        if (!view_get(t, cJSON_GetObjectItemCaseSensitive(tp, "arrayOffsets"), &p->array_offsets, &sz))
            return "arrayOffsets buffer view missing or out of range";
        p->array_offsets_n = sz / mtype_size(p->array_offset_type);
    }
    if (p->kind == K_STRING) {
        size_t sz;
        p->string_offset_type = offset_type(cJSON_GetObjectItemCaseSensitive(tp, "stringOffsetType"));
        if (p->string_offset_type == M_NONE)
            return "bad stringOffsetType";
        if (!view_get(t, cJSON_GetObjectItemCaseSensitive(tp, "stringOffsets"), &p->string_offsets, &sz))
            return "stringOffsets buffer view missing or out of range";
        p->string_offsets_n = sz / mtype_size(p->string_offset_type);
    }
    return NULL;
}

static bool offset_at(const uint8_t *d, size_t n, mtype t, uint64_t i, uint64_t *out)
{
    if (i >= n)
        return false;
    size_t s = mtype_size(t);
    *out = rd_u64(d + i * s, s);
    return true;
}

/* Component c of element e of a fixed array element i: the matching entry of
 * an offset/scale structure, or dflt. */
static double transform_param(const cJSON *v, const mprop *p, uint64_t i, int c, double dflt)
{
    if (v && p->array)
        v = cJSON_GetArrayItem(v, (int)i);
    if (v && p->ncomp > 1)
        v = cJSON_GetArrayItem(v, c);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* Replaces bytes that are not valid UTF-8 with '?', so the JSON stays valid. */
static void utf8_sanitize(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        bool ok = len > 0 && i + len <= n && !(len == 2 && c < 0xC2);
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
}

/* Element e (an index into the property array) as raw JSON (no transform):
 * NULL when its bytes are missing. */
static cJSON *element_raw(const mprop *p, uint64_t e)
{
    if (p->kind == K_BOOLEAN) {
        if (e / 8 >= p->values_size)
            return NULL;
        return cJSON_CreateBool((p->values[e / 8] >> (e % 8)) & 1);
    }
    if (p->kind == K_STRING) {
        uint64_t a, b;
        if (!offset_at(p->string_offsets, p->string_offsets_n, p->string_offset_type, e, &a) ||
            !offset_at(p->string_offsets, p->string_offsets_n, p->string_offset_type, e + 1, &b) || a > b ||
            b > p->values_size)
            return NULL;
        char *s = malloc((size_t)(b - a) + 1);
        if (!s)
            return NULL;
        memcpy(s, p->values + a, (size_t)(b - a));
        s[b - a] = 0;
        utf8_sanitize(s, (size_t)(b - a));
        cJSON *j = cJSON_CreateString(s);
        free(s);
        return j;
    }
    size_t es = mtype_size(p->ctype) * (size_t)p->ncomp;
    if (e >= p->values_size / es)
        return NULL;
    const uint8_t *d = p->values + e * es;
    if (p->kind == K_ENUM) {
        double v = mtype_read(d, p->ctype);
        const cJSON *ev;
        cJSON_ArrayForEach(ev, p->enum_values)
        {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(ev, "value");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(ev, "name");
            if (cJSON_IsNumber(val) && val->valuedouble == v && cJSON_IsString(nm))
                return cJSON_CreateString(nm->valuestring);
        }
        return cJSON_CreateNumber(v); /* not a declared value: keep the number */
    }
    if (p->ncomp == 1)
        return cJSON_CreateNumber(mtype_read(d, p->ctype));
    cJSON *a = cJSON_CreateArray();
    for (int c = 0; a && c < p->ncomp; c++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(mtype_read(d + c * mtype_size(p->ctype), p->ctype)));
    return a;
}

/* normalized, offset and scale applied in place to a numeric element i */
static void element_transform(const mprop *p, cJSON *v, uint64_t i)
{
    bool apply = p->kind == K_NUMBER && (p->normalized || p->ctype >= M_FLOAT32) && (p->offset || p->scale ||
                                                                                    p->normalized);
    if (!apply || (p->array && p->count == 0 && !p->normalized))
        return;
    bool fixed = !(p->array && p->count == 0); /* offset/scale only for fixed layouts */
    for (int c = 0; c < p->ncomp; c++) {
        cJSON *x = p->ncomp == 1 ? v : cJSON_GetArrayItem(v, c);
        if (!cJSON_IsNumber(x))
            continue;
        double r = p->normalized ? mtype_normalize(x->valuedouble, p->ctype) : x->valuedouble;
        if (fixed)
            r = transform_param(p->offset, p, i, c, 0) + transform_param(p->scale, p, i, c, 1) * r;
        cJSON_SetNumberValue(x, r);
    }
}

/* The property value of `row`, or NULL (message in *why) when its data is bad. */
static cJSON *property_value(const mprop *p, uint64_t row, const char **why)
{
    uint64_t first = row, n = 1;
    if (p->array && p->count) {
        first = row * p->count;
        n = p->count;
    } else if (p->array) {
        uint64_t a, b;
        if (!offset_at(p->array_offsets, p->array_offsets_n, p->array_offset_type, row, &a) ||
            !offset_at(p->array_offsets, p->array_offsets_n, p->array_offset_type, row + 1, &b) || a > b) {
            *why = "array offsets out of range or decreasing";
            return NULL;
        }
        if (b - a > MAX_ARRAY_ELEMENTS) {
            *why = "variable-length array too long";
            return NULL;
        }
        first = a;
        n = b - a;
    }
    cJSON *raw = p->array ? cJSON_CreateArray() : NULL;
    cJSON *single = NULL;
    for (uint64_t i = 0; i < n; i++) {
        cJSON *e = element_raw(p, first + i);
        if (!e) {
            cJSON_Delete(raw);
            *why = "values past the end of their buffer view";
            return NULL;
        }
        if (raw)
            cJSON_AddItemToArray(raw, e);
        else
            single = e;
    }
    cJSON *v = raw ? raw : single;
    if (p->no_data && cJSON_Compare(v, p->no_data, true)) {
        cJSON_Delete(v);
        return p->def ? cJSON_Duplicate(p->def, true) : cJSON_CreateNull();
    }
    if (p->array) {
        uint64_t i = 0;
        cJSON *e;
        cJSON_ArrayForEach(e, v) element_transform(p, e, i++);
    } else {
        element_transform(p, v, 0);
    }
    return v;
}

cJSON *ct_property_tables_row(const ct_property_tables *t, uint32_t table, uint32_t row)
{
    const cJSON *tab = table_at(t, table);
    if (!tab || row >= ct_property_tables_rows(t, table))
        return NULL;
    const char *cname = ct_property_tables_class(t, table);
    const cJSON *cls = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t->schema, "classes"),
                                                        cname ? cname : "");
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const cJSON *tp;
    cJSON_ArrayForEach(tp, cJSON_GetObjectItemCaseSensitive(tab, "properties"))
    {
        if (!tp->string)
            continue;
        mprop p;
        const char *why = cJSON_IsObject(cls) ? mprop_init(t, cls, tp->string, tp, &p) : "class not in the schema";
        cJSON *v = why ? NULL : property_value(&p, row, &why);
        if (!v) {
            ct_log(CT_LOG_WARN, "%s: propertyTables[%u].properties.%s: %s (skipped)", t->where, table, tp->string,
                   why ? why : "out of memory");
            continue;
        }
        cJSON_AddItemToObject(o, tp->string, v);
    }
    /* class properties absent from the table take their default */
    const cJSON *cp;
    cJSON_ArrayForEach(cp, cJSON_GetObjectItemCaseSensitive(cls, "properties"))
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(cp, "default");
        if (cp->string && d && !cJSON_GetObjectItemCaseSensitive(o, cp->string) &&
            !cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tab, "properties"), cp->string))
            cJSON_AddItemToObject(o, cp->string, cJSON_Duplicate(d, true));
    }
    return o;
}

/* ---- glTF EXT_structural_metadata ---- */

/* The BIN chunk of a GLB, or false. */
static bool glb_bin_chunk(const uint8_t *d, size_t n, const uint8_t **bin, size_t *bin_size)
{
    if (n < 20 || memcmp(d, "glTF", 4))
        return false;
    size_t len = ct_rd_u32(d + 8) < n ? ct_rd_u32(d + 8) : n;
    size_t json_len = ct_rd_u32(d + 12);
    if (json_len > len - 20)
        return false;
    size_t at = 20 + json_len;
    if (len - at < 8 || ct_rd_u32(d + at + 4) != 0x004E4942u)
        return false;
    size_t bl = ct_rd_u32(d + at);
    if (bl > len - at - 8)
        return false;
    *bin = d + at + 8;
    *bin_size = bl;
    return true;
}

ct_status ct_content_load_metadata(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off,
                                   const ct_gltf *g, ct_property_tables **out, ct_error *err)
{
    *out = NULL;
    if (!g || !g->json || !strstr(g->json, "EXT_structural_metadata"))
        return CT_OK;
    cJSON *root = cJSON_Parse(g->json);
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                                                        "EXT_structural_metadata");
    const cJSON *tables = cJSON_GetObjectItemCaseSensitive(ext, "propertyTables");
    if (!tables) {
        cJSON_Delete(root);
        return CT_OK; /* property textures / attributes only: not decoded */
    }
    char where[600];
    snprintf(where, sizeof where, "%s (glTF at byte %zu): EXT_structural_metadata", ctx->uri, off);
    ct_status st = CT_OK;
    cJSON *ext_schema = NULL;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(ext, "schema");
    const cJSON *schema_uri = cJSON_GetObjectItemCaseSensitive(ext, "schemaUri");
    if (!schema && cJSON_IsString(schema_uri)) {
        uint8_t *sd = NULL;
        size_t ss = 0;
        st = ct_content_fetch(ctx, schema_uri->valuestring, &sd, &ss, err);
        if (!st) {
            ext_schema = cJSON_ParseWithLength((const char *)sd, ss);
            if (!cJSON_IsObject(ext_schema))
                st = ct_error_set(err, CT_ERR_INPUT, "%s: schemaUri %s is not a JSON object", where,
                                  schema_uri->valuestring);
        }
        free(sd);
        schema = ext_schema;
    }
    const cJSON *bviews = cJSON_GetObjectItemCaseSensitive(root, "bufferViews");
    const cJSON *buffers = cJSON_GetObjectItemCaseSensitive(root, "buffers");
    int nv = cJSON_GetArraySize(bviews), nb = cJSON_GetArraySize(buffers);
    ct_byte_view *views = nv > 0 ? calloc((size_t)nv, sizeof *views) : NULL;
    ct_byte_view *bufs = nb > 0 ? calloc((size_t)nb, sizeof *bufs) : NULL;
    uint8_t **owned = nb > 0 ? calloc((size_t)nb, sizeof *owned) : NULL;
    if (!st && ((nv > 0 && !views) || (nb > 0 && (!bufs || !owned))))
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", where);
    /* buffers: the GLB's BIN chunk (buffer 0 without uri) or a file next to the tile */
    for (int i = 0; !st && i < nb; i++) {
        const cJSON *b = cJSON_GetArrayItem(buffers, i);
        const cJSON *uri = cJSON_GetObjectItemCaseSensitive(b, "uri");
        if (!uri && i == 0) {
            glb_bin_chunk(d, n, &bufs[0].data, &bufs[0].size);
        } else if (cJSON_IsString(uri) && strncmp(uri->valuestring, "data:", 5)) {
            ct_error e;
            if (ct_content_fetch(ctx, uri->valuestring, &owned[i], &bufs[i].size, &e))
                ct_content_warn(ctx, &e);
            else
                bufs[i].data = owned[i];
        }
    }
    for (int i = 0; !st && i < nv; i++) {
        const cJSON *v = cJSON_GetArrayItem(bviews, i);
        const cJSON *bi = cJSON_GetObjectItemCaseSensitive(v, "buffer");
        const cJSON *bo = cJSON_GetObjectItemCaseSensitive(v, "byteOffset");
        const cJSON *bl = cJSON_GetObjectItemCaseSensitive(v, "byteLength");
        double o = cJSON_IsNumber(bo) ? bo->valuedouble : 0, l = cJSON_IsNumber(bl) ? bl->valuedouble : -1;
        if (!cJSON_IsNumber(bi) || !(bi->valuedouble >= 0) || bi->valuedouble >= nb || !(o >= 0) || !(l >= 0))
            continue;
        const ct_byte_view *b = &bufs[(int)bi->valuedouble];
        if (b->data && o <= (double)b->size && l <= (double)b->size - o) {
            views[i].data = b->data + (size_t)o;
            views[i].size = (size_t)l;
        }
    }
    if (!st)
        st = ct_property_tables_create(schema, tables, views, (uint32_t)(nv > 0 ? nv : 0), where, out, err);
    for (int i = 0; owned && i < nb; i++)
        free(owned[i]);
    free(owned);
    free(bufs);
    free(views);
    cJSON_Delete(ext_schema);
    cJSON_Delete(root);
    return st;
}

/* featureIds[0] of a primitive's EXT_mesh_features, or NULL */
static const cJSON *first_feature_ids(const cJSON *root, int mesh, int primitive)
{
    const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "meshes"), mesh);
    const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "primitives"), primitive);
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "extensions"),
                                                       "EXT_mesh_features");
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(mf, "featureIds"), 0);
}

cJSON *ct_tile_content_pick_properties(const ct_tile_content *c, uint32_t model_index, int mesh, int primitive,
                                       uint32_t feature_id, int *property_table)
{
    if (property_table)
        *property_table = -1;
    if (!c || model_index >= c->model_count)
        return NULL;
    const ct_tile_model *m = &c->models[model_index];
    if (m->batch_table)
        return ct_tile_content_feature_properties(c, model_index, feature_id);
    if (!m->property_tables || !m->gltf || !m->gltf->json || mesh < 0 || primitive < 0)
        return NULL;
    cJSON *root = cJSON_Parse(m->gltf->json);
    const cJSON *fid = first_feature_ids(root, mesh, primitive);
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(fid, "propertyTable");
    const cJSON *nul = cJSON_GetObjectItemCaseSensitive(fid, "nullFeatureId");
    cJSON *row = NULL;
    if (cJSON_IsNumber(pt) && pt->valuedouble >= 0 && pt->valuedouble < ct_property_tables_count(m->property_tables) &&
        !(cJSON_IsNumber(nul) && nul->valuedouble == (double)feature_id)) {
        row = ct_property_tables_row(m->property_tables, (uint32_t)pt->valuedouble, feature_id);
        if (row && property_table)
            *property_table = (int)pt->valuedouble;
    }
    cJSON_Delete(root);
    return row;
}
