/* glTF buffers, buffer views and accessors: loading buffers (GLB BIN chunk,
 * data URIs, external files), EXT_meshopt_compression views, and decoding any
 * accessor (every component type, normalized, strided/interleaved, matrix
 * column padding, sparse) into plain float or uint32 arrays. Every range is
 * checked in 64-bit arithmetic before it is read. */
#include "gltf_internal.h"

#include <meshoptimizer.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- URIs ---- */

/* Base64 alphabet (standard, plus the URL-safe '-' and '_' seen in the wild); 0xFF = invalid. */
static uint8_t b64_table[256];

static void b64_init(void)
{
    static const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t t[256];
    memset(t, 0xFF, sizeof t);
    for (int i = 0; i < 64; i++)
        t[(unsigned char)a[i]] = (uint8_t)i;
    t['-'] = 62;
    t['_'] = 63;
    memcpy(b64_table, t, sizeof t);
}

/* Decodes base64 (padding optional). Returns false on a bad character. */
static bool b64_decode(const char *s, size_t n, uint8_t **out, size_t *out_size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, b64_init);
    while (n && s[n - 1] == '=')
        n--;
    uint8_t *buf = malloc(n / 4 * 3 + 3);
    if (!buf)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) { /* four characters → three bytes */
        uint8_t a = b64_table[p[i]], b = b64_table[p[i + 1]], c = b64_table[p[i + 2]], d = b64_table[p[i + 3]];
        if ((a | b | c | d) & 0x80) {
            free(buf);
            return false;
        }
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
        buf[o++] = (uint8_t)(v >> 16);
        buf[o++] = (uint8_t)(v >> 8);
        buf[o++] = (uint8_t)v;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (; i < n; i++) {
        uint8_t v = b64_table[p[i]];
        if (v & 0x80) {
            free(buf);
            return false;
        }
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = buf;
    *out_size = o;
    return true;
}

/* A data URI ("data:[mime][;base64],payload") → bytes. *mime gets a malloc'ed copy when asked. */
static ct_status decode_data_uri(gltf_ctx *c, const char *uri, const char *path, uint8_t **out, size_t *size,
                                 char **mime)
{
    const char *comma = strchr(uri, ',');
    if (!comma)
        return gltf_fail(c, "%s.uri: data URI without ','", path);
    const char *meta = uri + 5;
    size_t meta_len = (size_t)(comma - meta);
    if (meta_len < 7 || memcmp(comma - 7, ";base64", 7) != 0)
        return gltf_fail(c, "%s.uri: only base64 data URIs are supported", path);
    if (mime) {
        const char *semi = memchr(meta, ';', meta_len);
        size_t ml = (size_t)(semi - meta);
        *mime = malloc(ml + 1);
        if (*mime) {
            memcpy(*mime, meta, ml);
            (*mime)[ml] = 0;
        }
    }
    if (!b64_decode(comma + 1, strlen(comma + 1), out, size)) {
        if (mime) {
            free(*mime);
            *mime = NULL;
        }
        return gltf_fail(c, "%s.uri: invalid base64 in data URI", path);
    }
    return CT_OK;
}

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Relative URI → file path under base_dir, with %XX escapes decoded. */
static ct_status uri_to_path(gltf_ctx *c, const char *uri, const char *path, char **out)
{
    if (!c->base_dir)
        return gltf_fail(c, "%s.uri: external file \"%s\" but no base directory (loaded from memory)", path, uri);
    if (strstr(uri, "://") || uri[0] == '/')
        return gltf_fail(c, "%s.uri: \"%s\": only relative file URIs are supported", path, uri);
    size_t n = strlen(uri);
    char *dec = malloc(n + 1), *d = dec;
    if (!dec)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hex_value(uri[i + 1]) : -1, lo = i + 2 < n ? hex_value(uri[i + 2]) : -1;
        if (uri[i] == '%' && hi >= 0 && lo >= 0) {
            *d++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *d++ = uri[i];
        }
    }
    *d = 0;
    *out = ct_path_join(c->base_dir, dec);
    free(dec);
    if (!*out)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "out of memory");
    return CT_OK;
}

ct_status gltf_uri_load(gltf_ctx *c, const char *uri, const char *path, uint8_t **out, size_t *size, char **mime)
{
    *out = NULL;
    *size = 0;
    if (mime)
        *mime = NULL;
    if (!strncmp(uri, "data:", 5))
        return decode_data_uri(c, uri, path, out, size, mime);
    char *file;
    ct_status st = uri_to_path(c, uri, path, &file);
    if (st)
        return st;
    ct_error ferr = {0};
    size_t max = c->opts && c->opts->max_file_bytes ? c->opts->max_file_bytes : ((size_t)2 << 30);
    st = ct_file_read(file, max, out, size, &ferr);
    free(file);
    if (st)
        return gltf_fail_status(c, st, "%s.uri: %s", path, ferr.msg);
    return CT_OK;
}

/* ------------------------------------------------------------- buffers ---- */

ct_status gltf_buffer_get(gltf_ctx *c, uint32_t index, const char *path, const gltf_buffer **out)
{
    if (index >= c->buffer_count)
        return gltf_fail(c, "%s: buffer index %u out of range (%u buffers)", path, index, c->buffer_count);
    gltf_buffer *b = &c->buffers[index];
    *out = b;
    if (b->loaded)
        return CT_OK;
    char bp[64];
    snprintf(bp, sizeof bp, "buffers[%u]", index);
    const cJSON *j = c->buffer_items[index];
    if (!cJSON_IsObject(j))
        return gltf_fail(c, "%s: not an object", bp);
    int64_t len;
    ct_status st = gltf_get_int(c, j, "byteLength", -1, 0, INT64_MAX, bp, &len);
    if (st)
        return st;
    if (len < 0)
        return gltf_fail(c, "%s.byteLength: missing", bp);
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(j, "uri");
    if (uri && !cJSON_IsString(uri))
        return gltf_fail(c, "%s.uri: not a string", bp);
    if (uri) {
        uint8_t *data;
        size_t size;
        st = gltf_uri_load(c, uri->valuestring, bp, &data, &size, NULL);
        if (st)
            return st;
        b->owned = data;
        if ((uint64_t)size < (uint64_t)len)
            return gltf_fail(c, "%s.byteLength: %lld bytes declared but the data has %zu", bp, (long long)len, size);
        b->data = data;
    } else if (index == 0 && c->has_bin) {
        if ((uint64_t)c->bin_size < (uint64_t)len)
            return gltf_fail(c, "%s.byteLength: %lld bytes declared but the GLB BIN chunk has %zu", bp,
                             (long long)len, c->bin_size);
        b->data = c->bin;
    } else {
        const cJSON *mo = gltf_get_extension(j, "EXT_meshopt_compression");
        if (!mo || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mo, "fallback")))
            return gltf_fail(c, "%s: no uri and no GLB BIN chunk", bp);
        b->data = NULL; /* only meshopt-compressed views may point here */
    }
    b->size = (size_t)len;
    b->loaded = true;
    return CT_OK;
}

/* ----------------------------------------------------------- meshopt ---- */

static ct_status meshopt_decode(gltf_ctx *c, const cJSON *ext, const char *vp, gltf_view *v, size_t view_len)
{
    char ep[160];
    snprintf(ep, sizeof ep, "%s.extensions.EXT_meshopt_compression", vp);
    int buffer;
    int64_t off, len, stride, count;
    ct_status st;
    if ((st = gltf_get_index(c, ext, "buffer", c->buffer_count, ep, &buffer)) ||
        (st = gltf_get_int(c, ext, "byteOffset", 0, 0, INT64_MAX, ep, &off)) ||
        (st = gltf_get_int(c, ext, "byteLength", -1, 0, INT64_MAX, ep, &len)) ||
        (st = gltf_get_int(c, ext, "byteStride", -1, 1, 256, ep, &stride)) ||
        (st = gltf_get_int(c, ext, "count", -1, 1, UINT32_MAX, ep, &count)))
        return st;
    if (buffer < 0 || len < 0 || stride < 0 || count < 0)
        return gltf_fail(c, "%s: buffer, byteLength, byteStride and count are required", ep);
    const cJSON *jm = cJSON_GetObjectItemCaseSensitive(ext, "mode");
    const cJSON *jf = cJSON_GetObjectItemCaseSensitive(ext, "filter");
    const char *mode = cJSON_IsString(jm) ? jm->valuestring : "";
    const char *filter = cJSON_IsString(jf) ? jf->valuestring : "NONE";
    const gltf_buffer *b;
    if ((st = gltf_buffer_get(c, (uint32_t)buffer, ep, &b)))
        return st;
    if (!b->data || (uint64_t)off + (uint64_t)len > b->size)
        return gltf_fail(c, "%s: range %lld+%lld is outside buffers[%d] (%zu bytes)", ep, (long long)off,
                         (long long)len, buffer, b->data ? b->size : 0);
    uint64_t out_len = (uint64_t)count * (uint64_t)stride;
    if (out_len > view_len)
        return gltf_fail(c, "%s: count*byteStride = %llu exceeds the view's byteLength %zu", ep,
                         (unsigned long long)out_len, view_len);
    /* The decoded size must be plausible for the compressed size before we allocate it. */
    if (view_len > (uint64_t)len * GLTF_MESHOPT_MAX_RATIO + 65536)
        return gltf_fail(c, "%s: %zu decoded bytes from %lld compressed is implausible", ep, view_len, (long long)len);
    v->decoded = calloc(view_len ? view_len : 1, 1);
    if (!v->decoded)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory for %zu bytes", ep, view_len);
    const unsigned char *src = b->data + off;
    int rc;
    if (!strcmp(mode, "ATTRIBUTES")) {
        /* meshopt asserts on these, so check them first */
        if (stride % 4 != 0)
            return gltf_fail(c, "%s.byteStride: %lld is not a multiple of 4", ep, (long long)stride);
        rc = meshopt_decodeVertexBuffer(v->decoded, (size_t)count, (size_t)stride, src, (size_t)len);
        if (rc == 0) {
            if (!strcmp(filter, "OCTAHEDRAL")) {
                if (stride != 4 && stride != 8)
                    return gltf_fail(c, "%s: OCTAHEDRAL filter needs byteStride 4 or 8", ep);
                meshopt_decodeFilterOct(v->decoded, (size_t)count, (size_t)stride);
            } else if (!strcmp(filter, "QUATERNION")) {
                if (stride != 8)
                    return gltf_fail(c, "%s: QUATERNION filter needs byteStride 8", ep);
                meshopt_decodeFilterQuat(v->decoded, (size_t)count, (size_t)stride);
            } else if (!strcmp(filter, "EXPONENTIAL")) {
                meshopt_decodeFilterExp(v->decoded, (size_t)count, (size_t)stride);
            } else if (strcmp(filter, "NONE") != 0) {
                return gltf_fail(c, "%s.filter: unknown filter \"%s\"", ep, filter);
            }
        }
    } else if (!strcmp(mode, "TRIANGLES") || !strcmp(mode, "INDICES")) {
        if (stride != 2 && stride != 4)
            return gltf_fail(c, "%s.byteStride: %lld must be 2 or 4 for %s", ep, (long long)stride, mode);
        if (mode[0] == 'T') {
            if (count % 3 != 0)
                return gltf_fail(c, "%s.count: %lld is not a multiple of 3", ep, (long long)count);
            rc = meshopt_decodeIndexBuffer(v->decoded, (size_t)count, (size_t)stride, src, (size_t)len);
        } else {
            rc = meshopt_decodeIndexSequence(v->decoded, (size_t)count, (size_t)stride, src, (size_t)len);
        }
    } else {
        return gltf_fail(c, "%s.mode: unknown mode \"%s\"", ep, mode);
    }
    if (rc != 0)
        return gltf_fail(c, "%s: meshopt decoding failed (code %d; data at byte %lld of buffers[%d])", ep, rc,
                         (long long)off, buffer);
    v->data = v->decoded;
    v->size = view_len;
    return CT_OK;
}

/* ------------------------------------------------------- buffer views ---- */

ct_status gltf_view_get(gltf_ctx *c, uint32_t index, const char *path, const gltf_view **out)
{
    if (index >= c->view_count)
        return gltf_fail(c, "%s: bufferView index %u out of range (%u bufferViews)", path, index, c->view_count);
    gltf_view *v = &c->views[index];
    *out = v;
    if (v->resolved)
        return CT_OK;
    char vp[64];
    snprintf(vp, sizeof vp, "bufferViews[%u]", index);
    const cJSON *j = c->view_items[index];
    if (!cJSON_IsObject(j))
        return gltf_fail(c, "%s: not an object", vp);
    int buffer;
    int64_t off, len, stride;
    ct_status st;
    if ((st = gltf_get_index(c, j, "buffer", c->buffer_count, vp, &buffer)) ||
        (st = gltf_get_int(c, j, "byteOffset", 0, 0, INT64_MAX, vp, &off)) ||
        (st = gltf_get_int(c, j, "byteLength", -1, 0, INT64_MAX, vp, &len)) ||
        (st = gltf_get_int(c, j, "byteStride", 0, 0, 252, vp, &stride)))
        return st;
    if (buffer < 0 || len < 0)
        return gltf_fail(c, "%s: buffer and byteLength are required", vp);
    if (stride != 0 && (stride < 4 || stride % 4 != 0))
        return gltf_fail(c, "%s.byteStride: %lld must be a multiple of 4 in 4..252", vp, (long long)stride);
    v->stride = (uint32_t)stride;
    const gltf_buffer *b;
    if ((st = gltf_buffer_get(c, (uint32_t)buffer, vp, &b)))
        return st;
    if ((uint64_t)off + (uint64_t)len > b->size)
        return gltf_fail(c, "%s: byteOffset %lld + byteLength %lld is past the end of buffers[%d] (%zu bytes)", vp,
                         (long long)off, (long long)len, buffer, b->size);
    const cJSON *mo = gltf_get_extension(j, "EXT_meshopt_compression");
    if (mo) {
        if ((st = meshopt_decode(c, mo, vp, v, (size_t)len)))
            return st;
    } else {
        if (!b->data)
            return gltf_fail(c, "%s: refers to buffers[%d], a meshopt fallback buffer without data", vp, buffer);
        v->data = b->data + off;
        v->size = (size_t)len;
    }
    v->resolved = true;
    return CT_OK;
}

/* ---------------------------------------------------------- accessors ---- */

static int component_size(int ct)
{
    switch (ct) {
    case 5120: case 5121: return 1;
    case 5122: case 5123: return 2;
    case 5125: case 5126: return 4;
    default: return 0;
    }
}

static int type_components(const char *t)
{
    static const struct { const char *name; int n; } types[] = {
        {"SCALAR", 1}, {"VEC2", 2}, {"VEC3", 3}, {"VEC4", 4}, {"MAT2", 4}, {"MAT3", 9}, {"MAT4", 16},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].name))
            return types[i].n;
    return 0;
}

/* Element layout: cols columns of rows components; matrix columns start on
 * 4-byte boundaries (glTF 2.0 §3.6.2.4), which only matters for 1- and 2-byte MATn. */
typedef struct layout {
    int rows, cols, csize;
    size_t col_stride, elem_size;
} layout;

static layout layout_of(int ct, int comps)
{
    layout l = {comps, 1, component_size(ct), 0, 0};
    if (comps == 9) {
        l.rows = l.cols = 3;
    } else if (comps == 16) {
        l.rows = l.cols = 4;
    } /* MAT2 (also 4 components, like VEC4) is set up by acc_open */
    l.col_stride = (size_t)l.rows * (size_t)l.csize;
    if (l.cols > 1)
        l.col_stride = (l.col_stride + 3) & ~(size_t)3;
    l.elem_size = l.col_stride * (size_t)l.cols;
    return l;
}

typedef struct acc {
    gltf_accessor_info info;
    layout lay;
    const cJSON *json;
    char path[96];
} acc;

static ct_status acc_open(gltf_ctx *c, int index, const char *path, acc *a)
{
    memset(a, 0, sizeof *a);
    if (index < 0 || (uint32_t)index >= c->accessor_count)
        return gltf_fail(c, "%s: accessor index %d out of range (%u accessors)", path, index, c->accessor_count);
    snprintf(a->path, sizeof a->path, "accessors[%d]", index);
    a->json = c->accessor_items[index];
    if (!cJSON_IsObject(a->json))
        return gltf_fail(c, "%s: not an object", a->path);
    int64_t ct, count;
    ct_status st;
    if ((st = gltf_get_int(c, a->json, "componentType", -1, 0, 100000, a->path, &ct)) ||
        (st = gltf_get_int(c, a->json, "count", -1, 0, UINT32_MAX, a->path, &count)))
        return st;
    if (!component_size((int)ct))
        return gltf_fail(c, "%s.componentType: invalid value %lld", a->path, (long long)ct);
    if (count < 1)
        return gltf_fail(c, "%s.count: missing or less than 1", a->path);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a->json, "type");
    int comps = cJSON_IsString(t) ? type_components(t->valuestring) : 0;
    if (!comps)
        return gltf_fail(c, "%s.type: missing or invalid", a->path);
    a->info.component_type = (int)ct;
    a->info.components = comps;
    a->info.count = (uint32_t)count;
    a->info.normalized = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a->json, "normalized"));
    a->lay = layout_of((int)ct, comps);
    if (!strcmp(t->valuestring, "MAT2")) {
        a->lay.rows = a->lay.cols = 2;
        a->lay.col_stride = ((size_t)2 * a->lay.csize + 3) & ~(size_t)3;
        a->lay.elem_size = a->lay.col_stride * 2;
    }
    return CT_OK;
}

ct_status gltf_accessor_info_get(gltf_ctx *c, int index, const char *path, gltf_accessor_info *out)
{
    acc a;
    ct_status st = acc_open(c, index, path, &a);
    if (st)
        return st;
    *out = a.info;
    return CT_OK;
}

/* Reads one component as double (normalized per glTF 2.0 §3.11 when asked). */
static inline double read_comp(const uint8_t *p, int ct, bool norm)
{
    switch (ct) {
    case 5120: { int8_t v; memcpy(&v, p, 1); return norm ? (v < -127 ? -1.0 : v / 127.0) : v; }
    case 5121: { uint8_t v = *p; return norm ? v / 255.0 : v; }
    case 5122: { int16_t v; memcpy(&v, p, 2); return norm ? (v < -32767 ? -1.0 : v / 32767.0) : v; }
    case 5123: { uint16_t v; memcpy(&v, p, 2); return norm ? v / 65535.0 : v; }
    case 5125: { uint32_t v; memcpy(&v, p, 4); return norm ? v / 4294967295.0 : v; }
    default: { float v; memcpy(&v, p, 4); return v; }
    }
}

/* Decodes count elements starting at src (stride bytes apart) into dst (components per element). */
static void convert_floats(const uint8_t *src, size_t stride, uint32_t count, const acc *a, float *dst)
{
    const layout *l = &a->lay;
    int ct = a->info.component_type;
    bool norm = a->info.normalized;
    int comps = a->info.components;
    if (ct == 5126 && l->cols == 1 && stride == l->elem_size) {
        memcpy(dst, src, (size_t)count * l->elem_size); /* the common case: packed floats */
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = src + (size_t)i * stride;
        float *d = dst + (size_t)i * comps;
        for (int col = 0; col < l->cols; col++)
            for (int r = 0; r < l->rows; r++)
                *d++ = (float)read_comp(e + col * l->col_stride + (size_t)r * l->csize, ct, norm);
    }
}

static uint32_t to_uint(double v)
{
    return v >= 0 && v < 4294967296.0 ? (uint32_t)v : UINT32_MAX;
}

static void convert_uints(const uint8_t *src, size_t stride, uint32_t count, int ct, uint32_t *dst)
{
    switch (ct) {
    case 5121:
        for (uint32_t i = 0; i < count; i++)
            dst[i] = src[(size_t)i * stride];
        break;
    case 5123:
        for (uint32_t i = 0; i < count; i++) {
            uint16_t v;
            memcpy(&v, src + (size_t)i * stride, 2);
            dst[i] = v;
        }
        break;
    case 5125:
        if (stride == 4) {
            memcpy(dst, src, (size_t)count * 4);
            break;
        }
        for (uint32_t i = 0; i < count; i++)
            memcpy(&dst[i], src + (size_t)i * stride, 4);
        break;
    default:
        for (uint32_t i = 0; i < count; i++)
            dst[i] = to_uint(read_comp(src + (size_t)i * stride, ct, false));
        break;
    }
}

/* Finds the bytes of count elements (elem_size each, stride apart) in a
 * bufferView at byteOffset, checking the whole range. */
static ct_status view_range(gltf_ctx *c, const cJSON *obj, const char *path, uint32_t count, size_t elem_size,
                            bool allow_stride, const uint8_t **src, size_t *stride)
{
    int view;
    int64_t off;
    ct_status st;
    if ((st = gltf_get_index(c, obj, "bufferView", c->view_count, path, &view)) ||
        (st = gltf_get_int(c, obj, "byteOffset", 0, 0, INT64_MAX, path, &off)))
        return st;
    if (view < 0)
        return gltf_fail(c, "%s.bufferView: missing", path);
    const gltf_view *v;
    char vp[128];
    snprintf(vp, sizeof vp, "%s.bufferView", path);
    if ((st = gltf_view_get(c, (uint32_t)view, vp, &v)))
        return st;
    size_t s = allow_stride && v->stride ? v->stride : elem_size;
    if (s < elem_size)
        return gltf_fail(c, "%s: bufferViews[%d].byteStride %zu is smaller than the element size %zu", path, view, s,
                         elem_size);
    /* 64-bit: count < 2^32, stride <= 256, offsets < 2^63 (checked above), so no overflow. */
    uint64_t end = (uint64_t)off + (uint64_t)(count - 1) * s + elem_size;
    if ((uint64_t)off > v->size || end > v->size)
        return gltf_fail(c,
                         "%s: byteOffset %lld + %u elements of %zu bytes (stride %zu) ends at byte %llu, past the end "
                         "of bufferViews[%d] (%zu bytes)",
                         path, (long long)off, count, elem_size, s, (unsigned long long)end, view, v->size);
    *src = v->data + off;
    *stride = s;
    return CT_OK;
}

/* Applies sparse substitution: callback converts n values into dst at element index. */
typedef struct sparse_view {
    uint32_t count;
    uint32_t *indices;
    const uint8_t *values;
    size_t value_stride;
} sparse_view;

static ct_status sparse_open(gltf_ctx *c, const acc *a, sparse_view *sv)
{
    memset(sv, 0, sizeof *sv);
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(a->json, "sparse");
    if (!sp)
        return CT_OK;
    char p[160];
    snprintf(p, sizeof p, "%s.sparse", a->path);
    if (!cJSON_IsObject(sp))
        return gltf_fail(c, "%s: not an object", p);
    int64_t n;
    ct_status st = gltf_get_int(c, sp, "count", -1, 1, a->info.count, p, &n);
    if (st)
        return st;
    if (n < 1)
        return gltf_fail(c, "%s.count: missing", p);
    const cJSON *ji = gltf_get_object(sp, "indices"), *jv = gltf_get_object(sp, "values");
    if (!ji || !jv)
        return gltf_fail(c, "%s: indices and values are required", p);
    char ip[192], vp[192];
    snprintf(ip, sizeof ip, "%s.indices", p);
    snprintf(vp, sizeof vp, "%s.values", p);
    int64_t ict;
    if ((st = gltf_get_int(c, ji, "componentType", -1, 0, 100000, ip, &ict)))
        return st;
    if (ict != 5121 && ict != 5123 && ict != 5125)
        return gltf_fail(c, "%s.componentType: %lld is not an unsigned integer type", ip, (long long)ict);
    const uint8_t *isrc;
    size_t istride;
    if ((st = view_range(c, ji, ip, (uint32_t)n, (size_t)component_size((int)ict), false, &isrc, &istride)))
        return st;
    if ((st = view_range(c, jv, vp, (uint32_t)n, a->lay.elem_size, false, &sv->values, &sv->value_stride)))
        return st;
    sv->indices = ct_malloc_array((size_t)n, sizeof(uint32_t));
    if (!sv->indices)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory", p);
    convert_uints(isrc, istride, (uint32_t)n, (int)ict, sv->indices);
    sv->count = (uint32_t)n;
    for (uint32_t i = 0; i < sv->count; i++)
        if (sv->indices[i] >= a->info.count) {
            uint32_t bad = sv->indices[i];
            free(sv->indices);
            sv->indices = NULL;
            return gltf_fail(c, "%s: sparse index %u (entry %u) is out of range (count %u)", ip, bad, i,
                             a->info.count);
        }
    return CT_OK;
}

/* Base data of the accessor (or NULL when it has no bufferView: zeros). */
static ct_status base_range(gltf_ctx *c, const acc *a, const uint8_t **src, size_t *stride)
{
    *src = NULL;
    *stride = 0;
    if (!cJSON_GetObjectItemCaseSensitive(a->json, "bufferView")) {
        if ((uint64_t)a->info.count * (uint64_t)a->info.components > GLTF_MAX_ZERO_COMPONENTS)
            return gltf_fail(c, "%s.count: %u elements without a bufferView exceeds the limit of %llu components",
                             a->path, a->info.count, (unsigned long long)GLTF_MAX_ZERO_COMPONENTS);
        return CT_OK;
    }
    return view_range(c, a->json, a->path, a->info.count, a->lay.elem_size, true, src, stride);
}

ct_status gltf_accessor_floats(gltf_ctx *c, int index, const char *path, unsigned comps_allowed, float **out,
                               uint32_t *count, int *components)
{
    *out = NULL;
    acc a;
    ct_status st = acc_open(c, index, path, &a);
    if (st)
        return st;
    if (!(comps_allowed & (1u << a.info.components)))
        return gltf_fail(c, "%s: %s has %d components per element, not allowed here", path, a.path,
                         a.info.components);
    const uint8_t *src;
    size_t stride;
    if ((st = base_range(c, &a, &src, &stride)))
        return st;
    float *dst = src ? ct_malloc_array((size_t)a.info.count * a.info.components, sizeof(float))
                     : ct_calloc_array((size_t)a.info.count * a.info.components, sizeof(float));
    if (!dst)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory for %u elements", a.path, a.info.count);
    if (src)
        convert_floats(src, stride, a.info.count, &a, dst);
    sparse_view sv;
    if ((st = sparse_open(c, &a, &sv))) {
        free(dst);
        return st;
    }
    for (uint32_t i = 0; i < sv.count; i++)
        convert_floats(sv.values + (size_t)i * sv.value_stride, sv.value_stride, 1, &a,
                       dst + (size_t)sv.indices[i] * a.info.components);
    free(sv.indices);
    *out = dst;
    *count = a.info.count;
    if (components)
        *components = a.info.components;
    return CT_OK;
}

ct_status gltf_accessor_uints(gltf_ctx *c, int index, const char *path, uint32_t **out, uint32_t *count)
{
    *out = NULL;
    acc a;
    ct_status st = acc_open(c, index, path, &a);
    if (st)
        return st;
    if (a.info.components != 1)
        return gltf_fail(c, "%s: %s must be SCALAR", path, a.path);
    const uint8_t *src;
    size_t stride;
    if ((st = base_range(c, &a, &src, &stride)))
        return st;
    uint32_t *dst = src ? ct_malloc_array(a.info.count, sizeof(uint32_t))
                        : ct_calloc_array(a.info.count, sizeof(uint32_t));
    if (!dst)
        return gltf_fail_status(c, CT_ERR_RUNTIME, "%s: out of memory for %u elements", a.path, a.info.count);
    if (src)
        convert_uints(src, stride, a.info.count, a.info.component_type, dst);
    sparse_view sv;
    if ((st = sparse_open(c, &a, &sv))) {
        free(dst);
        return st;
    }
    for (uint32_t i = 0; i < sv.count; i++)
        convert_uints(sv.values + (size_t)i * sv.value_stride, sv.value_stride, 1, a.info.component_type,
                      dst + sv.indices[i]);
    free(sv.indices);
    *out = dst;
    *count = a.info.count;
    return CT_OK;
}
