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
    /* EXT_structural_metadata property attributes: per-vertex columns copied
     * (de-strided, raw bytes) from the accessors the classes name */
    struct pattr {
        int mesh, primitive;
        char *attribute;   /* "_TEMPERATURE" */
        uint8_t *data;     /* count * elem bytes */
        uint32_t count, elem;
    } *attrs;
    uint32_t attr_count;
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
    for (uint32_t i = 0; i < t->attr_count; i++) {
        free(t->attrs[i].attribute);
        free(t->attrs[i].data);
    }
    free(t->attrs);
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

/* ---- per-vertex columns: property attributes and feature id attributes ---- */

static uint32_t gl_ctype_size(int ct)
{
    switch (ct) {
    case 5120: case 5121: return 1;
    case 5122: case 5123: return 2;
    case 5125: case 5126: return 4;
    default: return 0;
    }
}

static uint32_t gl_type_components(const char *t)
{
    static const char *names[] = {"SCALAR", "VEC2", "VEC3", "VEC4", "MAT2", "MAT3", "MAT4"};
    static const uint32_t n[] = {1, 2, 3, 4, 4, 9, 16};
    for (int i = 0; t && i < 7; i++)
        if (!strcmp(t, names[i]))
            return n[i];
    return 0;
}

static const struct pattr *find_attr(const ct_property_tables *t, int mesh, int prim, const char *name)
{
    for (uint32_t i = 0; t && name && i < t->attr_count; i++)
        if (t->attrs[i].mesh == mesh && t->attrs[i].primitive == prim && !strcmp(t->attrs[i].attribute, name))
            return &t->attrs[i];
    return NULL;
}

/* Copies accessor `name` of a primitive (tightly packed), once. Bad
 * accessors are skipped: the pick then reports that property as missing. */
static void keep_one_attribute(ct_property_tables *t, const cJSON *root, const cJSON *prim_j, int mesh, int prim,
                               const char *name, const ct_byte_view *views, int nv)
{
    if (!name || find_attr(t, mesh, prim, name) || t->attr_count >= 256)
        return;
    const cJSON *ai = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(prim_j, "attributes"), name);
    const cJSON *acc = cJSON_IsNumber(ai) ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "accessors"),
                                                               ai->valueint)
                                          : NULL;
    const cJSON *bv = cJSON_GetObjectItemCaseSensitive(acc, "bufferView");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(acc, "componentType");
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(acc, "count");
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(acc, "type");
    const cJSON *ao = cJSON_GetObjectItemCaseSensitive(acc, "byteOffset");
    uint32_t csize = cJSON_IsNumber(ct) ? gl_ctype_size(ct->valueint) : 0;
    uint32_t ncomp = gl_type_components(cJSON_IsString(ty) ? ty->valuestring : NULL);
    if (!cJSON_IsNumber(bv) || bv->valuedouble < 0 || bv->valuedouble >= nv || !csize || !ncomp ||
        !cJSON_IsNumber(cnt) || !(cnt->valuedouble >= 1) || cnt->valuedouble > CT_CONTENT_MAX_COUNT ||
        (ao && !(cJSON_IsNumber(ao) && ao->valuedouble >= 0 && ao->valuedouble < 1e12))) {
        ct_log(CT_LOG_WARN, "%s: attribute %s of meshes[%d].primitives[%d]: no usable accessor (skipped)", t->where,
               name, mesh, prim);
        return;
    }
    const ct_byte_view *v = &views[bv->valueint];
    const cJSON *stride_j = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "bufferViews"), bv->valueint), "byteStride");
    uint64_t elem = (uint64_t)csize * ncomp, count = (uint64_t)cnt->valuedouble;
    uint64_t stride = cJSON_IsNumber(stride_j) && stride_j->valuedouble >= (double)elem && stride_j->valuedouble <= 252
                          ? (uint64_t)stride_j->valuedouble
                          : elem;
    uint64_t start = ao ? (uint64_t)ao->valuedouble : 0;
    if (!v->data || start > v->size || (count - 1) * stride + elem > v->size - start) {
        ct_log(CT_LOG_WARN, "%s: attribute %s of meshes[%d].primitives[%d]: accessor past its bufferView (skipped)",
               t->where, name, mesh, prim);
        return;
    }
    struct pattr *na = realloc(t->attrs, (t->attr_count + 1) * sizeof *na);
    if (!na)
        return;
    t->attrs = na;
    struct pattr *a = &t->attrs[t->attr_count];
    a->data = ct_malloc_array((size_t)count, (size_t)elem);
    a->attribute = ct_strdup(name);
    if (!a->data || !a->attribute) {
        free(a->data);
        free(a->attribute);
        return;
    }
    for (uint64_t i = 0; i < count; i++)
        memcpy(a->data + i * elem, v->data + start + i * stride, (size_t)elem);
    a->mesh = mesh, a->primitive = prim, a->count = (uint32_t)count, a->elem = (uint32_t)elem;
    t->attr_count++;
}

static void keep_attributes(ct_property_tables *t, const cJSON *root, const ct_byte_view *views, int nv)
{
    const cJSON *pas = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                                         "EXT_structural_metadata"),
        "propertyAttributes");
    const cJSON *mesh_j;
    int mi = 0;
    cJSON_ArrayForEach(mesh_j, cJSON_GetObjectItemCaseSensitive(root, "meshes"))
    {
        const cJSON *prim_j;
        int pi = 0;
        cJSON_ArrayForEach(prim_j, cJSON_GetObjectItemCaseSensitive(mesh_j, "primitives"))
        {
            const cJSON *ext = cJSON_GetObjectItemCaseSensitive(prim_j, "extensions");
            const cJSON *idx;
            cJSON_ArrayForEach(idx, cJSON_GetObjectItemCaseSensitive(
                                        cJSON_GetObjectItemCaseSensitive(ext, "EXT_structural_metadata"),
                                        "propertyAttributes"))
            {
                const cJSON *pa = cJSON_IsNumber(idx) ? cJSON_GetArrayItem(pas, idx->valueint) : NULL;
                const cJSON *pp;
                cJSON_ArrayForEach(pp, cJSON_GetObjectItemCaseSensitive(pa, "properties"))
                {
                    const cJSON *an = cJSON_GetObjectItemCaseSensitive(pp, "attribute");
                    keep_one_attribute(t, root, prim_j, mi, pi, cJSON_IsString(an) ? an->valuestring : NULL, views,
                                       nv);
                }
            }
            const cJSON *fs;
            cJSON_ArrayForEach(fs, cJSON_GetObjectItemCaseSensitive(
                                       cJSON_GetObjectItemCaseSensitive(ext, "EXT_mesh_features"), "featureIds"))
            {
                const cJSON *an = cJSON_GetObjectItemCaseSensitive(fs, "attribute");
                char name[32];
                if (cJSON_IsNumber(an) && an->valuedouble >= 0 && an->valuedouble < 1e6) {
                    snprintf(name, sizeof name, "_FEATURE_ID_%d", an->valueint);
                    keep_one_attribute(t, root, prim_j, mi, pi, name, views, nv);
                }
            }
            pi++;
        }
        mi++;
    }
}

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
    if (!g || !g->json || (!strstr(g->json, "EXT_structural_metadata") && !strstr(g->json, "EXT_mesh_features")))
        return CT_OK;
    cJSON *root = cJSON_Parse(g->json);
    const cJSON *ext = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                                                        "EXT_structural_metadata");
    const cJSON *tables = cJSON_GetObjectItemCaseSensitive(ext, "propertyTables");
    cJSON *no_tables = NULL; /* property textures / attributes only: an empty table list */
    if (!tables && (cJSON_GetObjectItemCaseSensitive(ext, "propertyTextures") ||
                    cJSON_GetObjectItemCaseSensitive(ext, "propertyAttributes") ||
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "extensionsUsed")) > 0))
        tables = no_tables = cJSON_CreateArray();
    if (!tables) {
        cJSON_Delete(root);
        return CT_OK;
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
    if (!st)
        keep_attributes(*out, root, views, nv);
    cJSON_Delete(no_tables);
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

/* ---- what lies under a picked point: feature id textures, property textures, property attributes ---- */

/* Closest point of triangle abc to p (Ericson, Real-Time Collision Detection
 * 5.1.5) as barycentric weights w[3]; returns the squared distance. */
static double closest_on_triangle(const double p[3], const double a[3], const double b[3], const double c[3],
                                  double w[3])
{
    double ab[3], ac[3], ap[3], bp[3], cp[3];
    for (int i = 0; i < 3; i++)
        ab[i] = b[i] - a[i], ac[i] = c[i] - a[i], ap[i] = p[i] - a[i], bp[i] = p[i] - b[i], cp[i] = p[i] - c[i];
#define DOT(x, y) ((x)[0] * (y)[0] + (x)[1] * (y)[1] + (x)[2] * (y)[2])
    double d1 = DOT(ab, ap), d2 = DOT(ac, ap), d3 = DOT(ab, bp), d4 = DOT(ac, bp), d5 = DOT(ab, cp), d6 = DOT(ac, cp);
#undef DOT
    double va = d3 * d6 - d5 * d4, vb = d5 * d2 - d1 * d6, vc = d1 * d4 - d3 * d2;
    if (d1 <= 0 && d2 <= 0)
        w[0] = 1, w[1] = 0, w[2] = 0;
    else if (d3 >= 0 && d4 <= d3)
        w[0] = 0, w[1] = 1, w[2] = 0;
    else if (vc <= 0 && d1 >= 0 && d3 <= 0) {
        double v = d1 / (d1 - d3);
        w[0] = 1 - v, w[1] = v, w[2] = 0;
    } else if (d6 >= 0 && d5 <= d6)
        w[0] = 0, w[1] = 0, w[2] = 1;
    else if (vb <= 0 && d2 >= 0 && d6 <= 0) {
        double v = d2 / (d2 - d6);
        w[0] = 1 - v, w[1] = 0, w[2] = v;
    } else if (va <= 0 && (d4 - d3) >= 0 && (d5 - d6) >= 0) {
        double v = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        w[0] = 0, w[1] = 1 - v, w[2] = v;
    } else {
        double den = va + vb + vc;
        if (!(fabs(den) > 0)) /* degenerate */
            den = 1;
        double v = vb / den, u = vc / den;
        w[0] = 1 - v - u, w[1] = v, w[2] = u;
    }
    double d = 0;
    for (int i = 0; i < 3; i++) {
        double q = w[0] * a[i] + w[1] * b[i] + w[2] * c[i] - p[i];
        d += q * q;
    }
    return d;
}

/* The triangle (or point) of the primitive nearest to local: its three
 * vertices and weights (points: v[0] with weight 1). */
static bool nearest_element(const ct_gltf_primitive *pr, const double local[3], uint32_t v[3], double w[3])
{
    uint32_t n = pr->index_count ? pr->index_count : pr->vertex_count;
    if (!pr->positions || n == 0)
        return false;
#define VID(i) (pr->index_count ? pr->indices[i] : (uint32_t)(i))
    double best = INFINITY;
    if (pr->mode == CT_GLTF_TRIANGLES || pr->mode == CT_GLTF_TRIANGLE_STRIP || pr->mode == CT_GLTF_TRIANGLE_FAN) {
        uint32_t ntri = pr->mode == CT_GLTF_TRIANGLES ? n / 3 : (n >= 3 ? n - 2 : 0);
        for (uint32_t t = 0; t < ntri; t++) {
            uint32_t k[3];
            if (pr->mode == CT_GLTF_TRIANGLES)
                k[0] = VID(3 * t), k[1] = VID(3 * t + 1), k[2] = VID(3 * t + 2);
            else if (pr->mode == CT_GLTF_TRIANGLE_STRIP)
                k[0] = VID(t), k[1] = VID(t + 1), k[2] = VID(t + 2);
            else
                k[0] = VID(0), k[1] = VID(t + 1), k[2] = VID(t + 2);
            double q[3][3], ww[3];
            for (int a = 0; a < 3; a++)
                for (int c = 0; c < 3; c++)
                    q[a][c] = pr->positions[3 * (size_t)k[a] + c];
            double d = closest_on_triangle(local, q[0], q[1], q[2], ww);
            if (d < best) {
                best = d;
                memcpy(v, k, sizeof k);
                memcpy(w, ww, sizeof ww);
            }
        }
    }
    if (best == INFINITY) { /* points and lines: the nearest vertex */
        for (uint32_t i = 0; i < n; i++) {
            uint32_t k = VID(i);
            double d = 0;
            for (int c = 0; c < 3; c++)
                d += pow(pr->positions[3 * (size_t)k + c] - local[c], 2);
            if (d < best) {
                best = d;
                v[0] = v[1] = v[2] = k;
                w[0] = 1, w[1] = w[2] = 0;
            }
        }
    }
#undef VID
    return best < INFINITY;
}

static uint32_t heaviest_vertex(const uint32_t v[3], const double w[3])
{
    int k = 0;
    for (int i = 1; i < 3; i++)
        if (w[i] > w[k])
            k = i;
    return v[k];
}

static double wrap_coord(double t, int wrap)
{
    if (wrap == 33071) /* CLAMP_TO_EDGE */
        return t < 0 ? 0 : t > 1 ? 1 : t;
    double f = t - floor(t);
    if (wrap == 33648 && ((long long)floor(t) & 1)) /* MIRRORED_REPEAT */
        f = 1 - f;
    return f;
}

/* The texel of textureInfo `ti` (index, texCoord) at the picked point:
 * nearest texel, with the sampler's wrap modes. false when there is no
 * decoded image or no such texcoord. */
static bool texel_at(const ct_gltf *g, const ct_gltf_primitive *pr, const cJSON *ti, const uint32_t v[3],
                     const double w[3], const uint8_t **px, double uv[2], int xy[2])
{
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(ti, "index");
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(ti, "texCoord");
    int set = cJSON_IsNumber(tc) ? tc->valueint : 0;
    if (!cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble >= g->texture_count || set < 0 || set > 1 ||
        !pr->texcoords[set])
        return false;
    const ct_gltf_texture *tex = &g->textures[idx->valueint];
    if (tex->image < 0 || (uint32_t)tex->image >= g->image_count)
        return false;
    const ct_gltf_image *im = &g->images[tex->image];
    if (!im->pixels || im->width <= 0 || im->height <= 0)
        return false;
    uv[0] = uv[1] = 0;
    for (int i = 0; i < 3; i++)
        for (int c = 0; c < 2; c++)
            uv[c] += w[i] * pr->texcoords[set][2 * (size_t)v[i] + c];
    int ws = 10497, wt = 10497;
    if (tex->sampler >= 0 && (uint32_t)tex->sampler < g->sampler_count)
        ws = g->samplers[tex->sampler].wrap_s, wt = g->samplers[tex->sampler].wrap_t;
    double s = wrap_coord(uv[0], ws), t = wrap_coord(uv[1], wt);
    xy[0] = (int)floor(s * im->width), xy[1] = (int)floor(t * im->height);
    xy[0] = xy[0] < 0 ? 0 : xy[0] >= im->width ? im->width - 1 : xy[0];
    xy[1] = xy[1] < 0 ? 0 : xy[1] >= im->height ? im->height - 1 : xy[1];
    *px = im->pixels + 4 * ((size_t)xy[1] * (size_t)im->width + (size_t)xy[0]);
    return true;
}

/* Bytes of `channels` (default [0]) of an RGBA8 texel, in order. */
static int texel_channels(const cJSON *ti, const uint8_t *px, uint8_t out[16])
{
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(ti, "channels");
    if (!ch) {
        out[0] = px[0];
        return 1;
    }
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, ch)
    {
        if (n >= 16 || !cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble > 3)
            return -1;
        out[n++] = px[c->valueint];
    }
    return n;
}

/* One metadata entity from raw bytes per property: a one-row property table
 * built on the fly, so types, normalization, offset/scale, enums, noData and
 * defaults follow exactly the table rules. props: {name: source JSON with
 * optional offset/scale}; bytes[i]/sizes[i] in the order of props. */
static cJSON *entity_from_bytes(const ct_property_tables *t, const char *cls, const cJSON *props, uint8_t **bytes,
                                const size_t *sizes, int n)
{
    cJSON *tables = cJSON_CreateArray(), *tab = cJSON_CreateObject(), *tp = cJSON_CreateObject();
    cJSON_AddItemToArray(tables, tab);
    cJSON_AddStringToObject(tab, "class", cls);
    cJSON_AddNumberToObject(tab, "count", 1);
    cJSON_AddItemToObject(tab, "properties", tp);
    ct_byte_view *views = calloc((size_t)n + 1, sizeof *views);
    const cJSON *p;
    int i = 0;
    cJSON_ArrayForEach(p, props)
    {
        if (i >= n)
            break;
        if (bytes[i] && p->string) {
            cJSON *e = cJSON_AddObjectToObject(tp, p->string);
            cJSON_AddNumberToObject(e, "values", i);
            static const char *keep[] = {"offset", "scale", "min", "max"};
            for (int k = 0; k < 4; k++) {
                const cJSON *x = cJSON_GetObjectItemCaseSensitive(p, keep[k]);
                if (x)
                    cJSON_AddItemToObject(e, keep[k], cJSON_Duplicate(x, true));
            }
            views[i] = (ct_byte_view){bytes[i], sizes[i]};
        }
        i++;
    }
    ct_property_tables *one = NULL;
    ct_error err;
    cJSON *row = NULL;
    if (views && ct_property_tables_create(t->schema, tables, views, (uint32_t)n, t->where, &one, &err) == CT_OK)
        row = ct_property_tables_row(one, 0, 0);
    ct_property_tables_destroy(one);
    free(views);
    cJSON_Delete(tables);
    return row;
}

static void read_attr_value(const struct pattr *a, uint32_t vertex, int gl_ct, double *out)
{
    const uint8_t *q = a->data + (size_t)vertex * a->elem;
    switch (gl_ct) {
    case 5121: *out = q[0]; break;
    case 5123: *out = (double)(q[0] | q[1] << 8); break;
    case 5125: *out = (double)ct_rd_u32(q); break;
    case 5126: { float f; memcpy(&f, q, 4); *out = f; break; }
    default: *out = -1;
    }
}

cJSON *ct_tile_content_pick_point(const ct_tile_content *c, uint32_t model_index, int mesh, int primitive,
                                  const double local[3])
{
    if (!c || model_index >= c->model_count || mesh < 0 || primitive < 0)
        return NULL;
    const ct_tile_model *m = &c->models[model_index];
    const ct_gltf *g = m->gltf;
    const ct_property_tables *t = m->property_tables;
    if (!g || !g->json || !t || (uint32_t)mesh >= g->mesh_count || (uint32_t)primitive >= g->meshes[mesh].primitive_count)
        return NULL;
    const ct_gltf_primitive *pr = &g->meshes[mesh].primitives[primitive];
    uint32_t v[3];
    double w[3];
    if (!nearest_element(pr, local, v, w))
        return NULL;
    uint32_t vert = heaviest_vertex(v, w);
    cJSON *root = cJSON_Parse(g->json);
    const cJSON *prim_j = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "meshes"), mesh),
                                         "primitives"),
        primitive);
    const cJSON *pext = cJSON_GetObjectItemCaseSensitive(prim_j, "extensions");
    const cJSON *sm = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "extensions"),
                                                       "EXT_structural_metadata");
    cJSON *out = cJSON_CreateObject();
    /* feature id sets */
    cJSON *fids = cJSON_CreateArray();
    const cJSON *fs;
    int set = 0;
    cJSON_ArrayForEach(fs, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pext, "EXT_mesh_features"),
                                                            "featureIds"))
    {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "set", set++);
        const cJSON *attr = cJSON_GetObjectItemCaseSensitive(fs, "attribute");
        const cJSON *tex = cJSON_GetObjectItemCaseSensitive(fs, "texture");
        double id = -1;
        if (tex) {
            const uint8_t *px;
            double uv[2];
            int xy[2];
            uint8_t ch[16];
            int n = texel_at(g, pr, tex, v, w, &px, uv, xy) ? texel_channels(tex, px, ch) : -1;
            cJSON_AddStringToObject(e, "source", "texture");
            if (n > 0 && n <= 4) {
                id = 0;
                for (int k = 0; k < n; k++) /* channels are the id's bytes, least significant first */
                    id += ldexp(ch[k], 8 * k);
                cJSON_AddItemToObject(e, "texel", cJSON_CreateIntArray(xy, 2));
            }
        } else if (cJSON_IsNumber(attr)) {
            char name[32];
            snprintf(name, sizeof name, "_FEATURE_ID_%d", attr->valueint);
            const struct pattr *a = find_attr(t, mesh, primitive, name);
            cJSON_AddStringToObject(e, "source", "attribute");
            const cJSON *acc = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "accessors"),
                                                  cJSON_GetObjectItemCaseSensitive(
                                                      cJSON_GetObjectItemCaseSensitive(prim_j, "attributes"), name)
                                                      ? cJSON_GetObjectItemCaseSensitive(
                                                            cJSON_GetObjectItemCaseSensitive(prim_j, "attributes"), name)
                                                            ->valueint
                                                      : -1);
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(acc, "componentType");
            if (a && vert < a->count && cJSON_IsNumber(ct))
                read_attr_value(a, vert, ct->valueint, &id);
            else if (set == 1 && pr->feature_ids)
                id = pr->feature_ids[vert];
        } else {
            cJSON_AddStringToObject(e, "source", "implicit"); /* the vertex index */
            id = vert;
        }
        const cJSON *nul = cJSON_GetObjectItemCaseSensitive(fs, "nullFeatureId");
        const cJSON *pt = cJSON_GetObjectItemCaseSensitive(fs, "propertyTable");
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(fs, "label");
        bool is_null = id < 0 || (cJSON_IsNumber(nul) && nul->valuedouble == id);
        if (is_null)
            cJSON_AddNullToObject(e, "feature_id");
        else
            cJSON_AddNumberToObject(e, "feature_id", id);
        if (cJSON_IsString(label))
            cJSON_AddStringToObject(e, "label", label->valuestring);
        if (cJSON_IsNumber(pt)) {
            cJSON_AddNumberToObject(e, "property_table", pt->valuedouble);
            cJSON *row = !is_null && pt->valuedouble >= 0 && pt->valuedouble < ct_property_tables_count(t)
                             ? ct_property_tables_row(t, (uint32_t)pt->valuedouble, (uint32_t)id)
                             : NULL;
            const char *cls = pt->valuedouble >= 0 ? ct_property_tables_class(t, (uint32_t)pt->valuedouble) : NULL;
            if (cls)
                cJSON_AddStringToObject(e, "class", cls);
            cJSON_AddItemToObject(e, "properties", row ? row : cJSON_CreateNull());
        }
        cJSON_AddItemToArray(fids, e);
    }
    /* property textures and attributes the primitive uses */
    cJSON *ptex = cJSON_CreateArray(), *pattr = cJSON_CreateArray();
    const cJSON *psm = cJSON_GetObjectItemCaseSensitive(pext, "EXT_structural_metadata");
    for (int kind = 0; kind < 2; kind++) {
        const char *key = kind ? "propertyAttributes" : "propertyTextures";
        const cJSON *idx;
        cJSON_ArrayForEach(idx, cJSON_GetObjectItemCaseSensitive(psm, key))
        {
            const cJSON *def = cJSON_IsNumber(idx)
                                   ? cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(sm, key), idx->valueint)
                                   : NULL;
            const cJSON *cls = cJSON_GetObjectItemCaseSensitive(def, "class");
            const cJSON *props = cJSON_GetObjectItemCaseSensitive(def, "properties");
            if (!cJSON_IsString(cls) || !cJSON_IsObject(props))
                continue;
            int n = cJSON_GetArraySize(props);
            if (n > 256)
                continue;
            uint8_t **bytes = calloc((size_t)n + 1, sizeof *bytes);
            size_t *sizes = calloc((size_t)n + 1, sizeof *sizes);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "index", idx->valuedouble);
            cJSON_AddStringToObject(e, "class", cls->valuestring);
            const cJSON *pp;
            int i = 0;
            cJSON_ArrayForEach(pp, props)
            {
                if (!bytes || !sizes)
                    break;
                if (kind == 0) {
                    const uint8_t *px;
                    double uv[2];
                    int xy[2];
                    uint8_t ch[16];
                    int nc = texel_at(g, pr, pp, v, w, &px, uv, xy) ? texel_channels(pp, px, ch) : -1;
                    if (nc > 0 && (bytes[i] = malloc((size_t)nc))) {
                        memcpy(bytes[i], ch, (size_t)nc);
                        sizes[i] = (size_t)nc;
                        if (!cJSON_GetObjectItemCaseSensitive(e, "texcoord")) {
                            cJSON_AddItemToObject(e, "texcoord", cJSON_CreateDoubleArray(uv, 2));
                            cJSON_AddItemToObject(e, "texel", cJSON_CreateIntArray(xy, 2));
                        }
                    }
                } else {
                    const cJSON *an = cJSON_GetObjectItemCaseSensitive(pp, "attribute");
                    const struct pattr *a =
                        find_attr(t, mesh, primitive, cJSON_IsString(an) ? an->valuestring : NULL);
                    if (a && vert < a->count && (bytes[i] = malloc(a->elem))) {
                        memcpy(bytes[i], a->data + (size_t)vert * a->elem, a->elem);
                        sizes[i] = a->elem;
                    }
                }
                i++;
            }
            if (kind == 1)
                cJSON_AddNumberToObject(e, "vertex", vert);
            cJSON *row = bytes && sizes ? entity_from_bytes(t, cls->valuestring, props, bytes, sizes, n) : NULL;
            cJSON_AddItemToObject(e, "properties", row ? row : cJSON_CreateNull());
            cJSON_AddItemToArray(kind ? pattr : ptex, e);
            for (int k = 0; bytes && k < n; k++)
                free(bytes[k]);
            free(bytes);
            free(sizes);
        }
    }
    cJSON_Delete(root);
    bool any = cJSON_GetArraySize(fids) + cJSON_GetArraySize(ptex) + cJSON_GetArraySize(pattr) > 0;
    cJSON_AddItemToObject(out, "feature_ids", fids);
    cJSON_AddItemToObject(out, "property_textures", ptex);
    cJSON_AddItemToObject(out, "property_attributes", pattr);
    if (!any) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}
