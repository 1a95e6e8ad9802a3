/* Scene file loading (format: docs/scene.md). Every structural error names
 * the file and the JSON path; unknown keys are kept in the raw JSON and
 * logged as warnings so a newer scene still opens in an older citytwin. */
#include "citytwin/ct_scene.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_math.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCENE_MAX_BYTES (64u << 20)

typedef struct loader {
    const char *file; /* for messages */
    ct_scene *s;
    ct_error *err;
} loader;

/* Fails with "file: path: message". */
static ct_status fail(loader *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static ct_status fail(loader *L, const char *path, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ct_error_set(L->err, CT_ERR_INPUT, "%.200s: %.200s: %s", L->file, path, msg);
}

static void warn(loader *L, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(loader *L, const char *path, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ct_log(CT_LOG_WARN, "%.200s: %.200s: %s", L->file, path, msg);
    L->s->warning_count++;
}

/* Builds "parent.key" / "parent[i]" paths into a caller's buffer. */
static const char *path_key(char *buf, size_t n, const char *parent, const char *key)
{
    if (parent && *parent)
        snprintf(buf, n, "%s.%s", parent, key);
    else
        snprintf(buf, n, "%s", key);
    return buf;
}

static const char *path_index(char *buf, size_t n, const char *parent, int i)
{
    snprintf(buf, n, "%s[%d]", parent, i);
    return buf;
}

static void warn_unknown_keys(loader *L, const cJSON *obj, const char *path, const char *const *known)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        bool ok = false;
        for (int i = 0; known[i] && !ok; i++)
            ok = c->string && !strcmp(c->string, known[i]);
        if (!ok) {
            char p[512];
            warn(L, path_key(p, sizeof p, path, c->string ? c->string : "?"), "unknown key (kept, ignored)");
        }
    }
}

static const char *type_desc(const cJSON *j)
{
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsArray(j)) return "an array";
    if (cJSON_IsObject(j)) return "an object";
    if (cJSON_IsNull(j)) return "null";
    return "invalid";
}

/* Optional string member; absent -> def. */
static ct_status get_string(loader *L, const cJSON *obj, const char *key, const char *path, bool required,
                            const char *def, char **out)
{
    char p[512];
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) {
        if (required)
            return fail(L, path_key(p, sizeof p, path, key), "missing");
        *out = ct_strdup(def ? def : "");
        return *out ? CT_OK : ct_error_set(L->err, CT_ERR_RUNTIME, "out of memory");
    }
    if (!cJSON_IsString(j) || !j->valuestring)
        return fail(L, path_key(p, sizeof p, path, key), "expected a string, got %s", type_desc(j));
    if (required && !*j->valuestring)
        return fail(L, path_key(p, sizeof p, path, key), "empty");
    *out = ct_strdup(j->valuestring);
    return *out ? CT_OK : ct_error_set(L->err, CT_ERR_RUNTIME, "out of memory");
}

static ct_status get_number(loader *L, const cJSON *obj, const char *key, const char *path, double def, double *out)
{
    char p[512];
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!j) {
        *out = def;
        return CT_OK;
    }
    if (!cJSON_IsNumber(j))
        return fail(L, path_key(p, sizeof p, path, key), "expected a number, got %s", type_desc(j));
    if (!isfinite(j->valuedouble))
        return fail(L, path_key(p, sizeof p, path, key), "not a finite number");
    *out = j->valuedouble;
    return CT_OK;
}

/* A JSON array of n_min..n_max finite numbers; missing entries keep out's defaults. */
static ct_status get_numbers(loader *L, const cJSON *j, const char *path, int n_min, int n_max, double *out)
{
    if (!cJSON_IsArray(j))
        return fail(L, path, "expected an array of %d to %d numbers, got %s", n_min, n_max, type_desc(j));
    int n = cJSON_GetArraySize(j);
    if (n < n_min || n > n_max)
        return fail(L, path, "expected %d to %d numbers, got %d", n_min, n_max, n);
    int i = 0;
    for (const cJSON *c = j->child; c; c = c->next, i++) {
        char p[512];
        if (!cJSON_IsNumber(c))
            return fail(L, path_index(p, sizeof p, path, i), "expected a number, got %s", type_desc(c));
        if (!isfinite(c->valuedouble))
            return fail(L, path_index(p, sizeof p, path, i), "not a finite number");
        out[i] = c->valuedouble;
    }
    return CT_OK;
}

static ct_status check_lonlat(loader *L, const char *path, double lon, double lat)
{
    char p[512];
    if (lon < -180.0 || lon > 180.0)
        return fail(L, path_index(p, sizeof p, path, 0), "longitude %g out of range", lon);
    if (lat < -90.0 || lat > 90.0)
        return fail(L, path_index(p, sizeof p, path, 1), "latitude %g out of range", lat);
    return CT_OK;
}

/* [lon, lat, h, heading, pitch(, roll)] as --camera. */
static ct_status parse_view(loader *L, const cJSON *j, const char *path, ct_scene_view *v)
{
    double a[6] = {0, 0, 0, 0, 0, 0};
    ct_status st = get_numbers(L, j, path, 5, 6, a);
    if (st)
        return st;
    if ((st = check_lonlat(L, path, a[0], a[1])))
        return st;
    *v = (ct_scene_view){a[0], a[1], a[2], a[3], a[4], a[5]};
    return CT_OK;
}

static char *normalize_path(const char *p)
{
    /* Drops "." segments and folds "dir/.." so messages and caches see one spelling. */
    size_t n = strlen(p);
    char *out = malloc(n + 2);
    if (!out)
        return NULL;
    size_t k = 0;
    const char *s = p;
    bool abs = *s == '/';
    if (abs)
        out[k++] = '/';
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = s;
        while (*e && *e != '/')
            e++;
        size_t len = (size_t)(e - s);
        if (len == 0)
            break;
        if (len == 1 && s[0] == '.') {
            /* skip */
        } else if (len == 2 && s[0] == '.' && s[1] == '.' && k > (abs ? 1u : 0u) &&
                   !(k >= 2 && out[k - 1] == '.' && out[k - 2] == '.' && (k == 2 || out[k - 3] == '/'))) {
            while (k > (abs ? 1u : 0u) && out[k - 1] != '/')
                k--;
            if (k > (abs ? 1u : 0u))
                k--; /* the slash before the dropped segment */
        } else {
            if (k > (abs ? 1u : 0u))
                out[k++] = '/';
            memcpy(out + k, s, len);
            k += len;
        }
        s = e;
    }
    if (k == 0)
        out[k++] = '.';
    out[k] = 0;
    return out;
}

static bool is_url(const char *s)
{
    return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8) || !strncmp(s, "file://", 7);
}

static ct_status parse_layer(loader *L, const cJSON *j, int idx, ct_scene_layer *l)
{
    static const char *const known[] = {"name", "type", "source", "visible", "style", "offset",
                                        "rotation", "height_offset", "description", NULL};
    static const struct { const char *name; ct_layer_type type; } types[] = {
        {"gltf", CT_LAYER_GLTF},     {"tileset", CT_LAYER_TILESET}, {"terrain", CT_LAYER_TERRAIN},
        {"raster", CT_LAYER_RASTER}, {"vector", CT_LAYER_VECTOR},   {"pipes", CT_LAYER_PIPES},
        {"cityjson", CT_LAYER_CITYJSON},
    };
    char path[64], p[512];
    path_index(path, sizeof path, "layers", idx);
    l->json = j;
    l->visible = true;
    if (!cJSON_IsObject(j))
        return fail(L, path, "expected an object, got %s", type_desc(j));
    warn_unknown_keys(L, j, path, known);
    ct_status st;
    if ((st = get_string(L, j, "name", path, false, path, &l->name)))
        return st;
    if ((st = get_string(L, j, "type", path, true, NULL, &l->type_name)))
        return st;
    l->type = CT_LAYER_OTHER;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(l->type_name, types[i].name))
            l->type = types[i].type;
    if (l->type == CT_LAYER_OTHER)
        warn(L, path_key(p, sizeof p, path, "type"), "unknown layer type '%.100s' (kept, not drawn)", l->type_name);
    char *src = NULL;
    if ((st = get_string(L, j, "source", path, true, NULL, &src)))
        return st;
    if (is_url(src) || src[0] == '/') {
        l->source_is_url = is_url(src);
        l->source = src;
    } else {
        char *joined = ct_path_join(L->s->dir, src);
        free(src);
        l->source = joined ? normalize_path(joined) : NULL;
        free(joined);
        if (!l->source)
            return ct_error_set(L->err, CT_ERR_RUNTIME, "out of memory");
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "visible");
    if (v) {
        if (!cJSON_IsBool(v))
            return fail(L, path_key(p, sizeof p, path, "visible"), "expected a boolean, got %s", type_desc(v));
        l->visible = cJSON_IsTrue(v);
    }
    const cJSON *style = cJSON_GetObjectItemCaseSensitive(j, "style");
    if (style && !cJSON_IsObject(style))
        return fail(L, path_key(p, sizeof p, path, "style"), "expected an object, got %s", type_desc(style));
    l->style = style;
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "offset");
    if (off && (st = get_numbers(L, off, path_key(p, sizeof p, path, "offset"), 2, 3, l->offset)))
        return st;
    const cJSON *rot = cJSON_GetObjectItemCaseSensitive(j, "rotation");
    if (rot && (st = get_numbers(L, rot, path_key(p, sizeof p, path, "rotation"), 1, 3, l->rotation)))
        return st;
    return get_number(L, j, "height_offset", path, 0.0, &l->height_offset);
}

static ct_status parse_camera(loader *L, const cJSON *j, int idx, ct_scene_camera *c)
{
    static const char *const known[] = {"name", "camera", "description", NULL};
    char path[64], p[512];
    path_index(path, sizeof path, "cameras", idx);
    if (!cJSON_IsObject(j))
        return fail(L, path, "expected an object, got %s", type_desc(j));
    warn_unknown_keys(L, j, path, known);
    ct_status st = get_string(L, j, "name", path, true, NULL, &c->name);
    if (st)
        return st;
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(j, "camera");
    if (!cam)
        return fail(L, path_key(p, sizeof p, path, "camera"), "missing");
    return parse_view(L, cam, path_key(p, sizeof p, path, "camera"), &c->view);
}

static ct_status parse_tour(loader *L, const cJSON *j, int idx, ct_scene_tour *t)
{
    static const char *const known[] = {"name", "stops", "description", NULL};
    static const char *const known_stop[] = {"camera", "duration", "name", NULL};
    char path[64], p[512], sp[512];
    path_index(path, sizeof path, "tours", idx);
    if (!cJSON_IsObject(j))
        return fail(L, path, "expected an object, got %s", type_desc(j));
    warn_unknown_keys(L, j, path, known);
    ct_status st = get_string(L, j, "name", path, true, NULL, &t->name);
    if (st)
        return st;
    const cJSON *stops = cJSON_GetObjectItemCaseSensitive(j, "stops");
    path_key(p, sizeof p, path, "stops");
    if (!stops)
        return fail(L, p, "missing");
    if (!cJSON_IsArray(stops))
        return fail(L, p, "expected an array, got %s", type_desc(stops));
    int n = cJSON_GetArraySize(stops);
    if (n == 0)
        return fail(L, p, "a tour needs at least one stop");
    t->stops = ct_calloc_array((size_t)n, sizeof *t->stops);
    if (!t->stops)
        return ct_error_set(L->err, CT_ERR_RUNTIME, "out of memory");
    int i = 0;
    for (const cJSON *s = stops->child; s; s = s->next, i++) {
        ct_scene_tour_stop *stop = &t->stops[i];
        t->stop_count = (uint32_t)i + 1;
        path_index(sp, sizeof sp, p, i);
        if (!cJSON_IsObject(s))
            return fail(L, sp, "expected an object, got %s", type_desc(s));
        warn_unknown_keys(L, s, sp, known_stop);
        const cJSON *cam = cJSON_GetObjectItemCaseSensitive(s, "camera");
        char cp[600];
        if (!cam)
            return fail(L, path_key(cp, sizeof cp, sp, "camera"), "missing");
        if ((st = parse_view(L, cam, path_key(cp, sizeof cp, sp, "camera"), &stop->view)))
            return st;
        if ((st = get_number(L, s, "duration", sp, 5.0, &stop->duration)))
            return st;
        if (stop->duration < 0)
            return fail(L, path_key(cp, sizeof cp, sp, "duration"), "negative duration %g", stop->duration);
    }
    return CT_OK;
}

/* Parses an optional top-level array, calling fn for each element. */
typedef ct_status (*elem_fn)(loader *L, const cJSON *j, int idx, void *elem);
static ct_status parse_array(loader *L, const char *key, size_t elem_size, void **items, uint32_t *count, elem_fn fn)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(L->s->json, key);
    if (!arr)
        return CT_OK;
    if (!cJSON_IsArray(arr))
        return fail(L, key, "expected an array, got %s", type_desc(arr));
    int n = cJSON_GetArraySize(arr);
    if (n == 0)
        return CT_OK;
    *items = ct_calloc_array((size_t)n, elem_size);
    if (!*items)
        return ct_error_set(L->err, CT_ERR_RUNTIME, "out of memory");
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        *count = (uint32_t)i + 1; /* counted before parsing so destroy frees partial elements */
        ct_status st = fn(L, c, i, (char *)*items + (size_t)i * elem_size);
        if (st)
            return st;
    }
    return CT_OK;
}

static ct_status layer_fn(loader *L, const cJSON *j, int i, void *e) { return parse_layer(L, j, i, e); }
static ct_status camera_fn(loader *L, const cJSON *j, int i, void *e) { return parse_camera(L, j, i, e); }
static ct_status tour_fn(loader *L, const cJSON *j, int i, void *e) { return parse_tour(L, j, i, e); }

static char *absolute_dir_of(const char *path)
{
    char *dir = path && *path ? ct_path_dirname(path) : ct_strdup(".");
    if (!dir)
        return NULL;
    if (dir[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, ".");
        char *j = ct_path_join(cwd, dir);
        free(dir);
        dir = j;
        if (!dir)
            return NULL;
    }
    char *n = normalize_path(dir);
    free(dir);
    return n;
}

static ct_status parse_root(loader *L)
{
    static const char *const known[] = {"version", "name", "description", "crs", "origin", "layers",
                                        "cameras", "tours", "feeds", "analyses", NULL};
    ct_scene *s = L->s;
    const cJSON *root = s->json;
    if (!cJSON_IsObject(root))
        return ct_error_set(L->err, CT_ERR_INPUT, "%.200s: $: expected a JSON object, got %s", L->file,
                            type_desc(root));
    warn_unknown_keys(L, root, "", known);
    double version = 1;
    const cJSON *vj = cJSON_GetObjectItemCaseSensitive(root, "version");
    ct_status st;
    if (!vj)
        warn(L, "version", "missing, assuming 1");
    else if ((st = get_number(L, root, "version", "", 1, &version)))
        return st;
    if (version != 1)
        return fail(L, "version", "unsupported version %g (this citytwin reads version 1)", version);
    s->version = 1;
    if ((st = get_string(L, root, "name", "", false, "", &s->name)))
        return st;
    if ((st = get_string(L, root, "crs", "", false, "", &s->crs)))
        return st;
    const cJSON *origin = cJSON_GetObjectItemCaseSensitive(root, "origin");
    if (origin) {
        if ((st = get_numbers(L, origin, "origin", 2, 3, s->origin)))
            return st;
        if ((st = check_lonlat(L, "origin", s->origin[0], s->origin[1])))
            return st;
        s->has_origin = true;
    }
    if ((st = parse_array(L, "layers", sizeof(ct_scene_layer), (void **)&s->layers, &s->layer_count, layer_fn)))
        return st;
    if ((st = parse_array(L, "cameras", sizeof(ct_scene_camera), (void **)&s->cameras, &s->camera_count,
                          camera_fn)))
        return st;
    for (uint32_t i = 0; i < s->camera_count; i++)
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(s->cameras[i].name, s->cameras[k].name)) {
                char p[64];
                warn(L, path_index(p, sizeof p, "cameras", (int)i), "duplicate camera name '%.100s' (first wins)",
                     s->cameras[i].name);
                break;
            }
    if ((st = parse_array(L, "tours", sizeof(ct_scene_tour), (void **)&s->tours, &s->tour_count, tour_fn)))
        return st;
    const char *kept[] = {"feeds", "analyses"};
    for (int i = 0; i < 2; i++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, kept[i]);
        if (a && !cJSON_IsArray(a))
            return fail(L, kept[i], "expected an array, got %s", type_desc(a));
        if (i == 0)
            s->feeds = a;
        else
            s->analyses = a;
    }
    return CT_OK;
}

/* cJSON reports where parsing stopped; turn that into a byte offset. */
static ct_status parse_json(loader *L, const char *text, size_t size, size_t base)
{
    const char *end = NULL;
    L->s->json = cJSON_ParseWithLengthOpts(text, size, &end, false);
    if (!L->s->json) {
        size_t off = base + (end && end >= text && end <= text + size ? (size_t)(end - text) : 0);
        return ct_error_set(L->err, CT_ERR_INPUT, "%.200s: byte %zu: invalid JSON", L->file, off);
    }
    return CT_OK;
}

ct_status ct_scene_load_memory(const void *data, size_t size, const char *path, ct_scene **out, ct_error *err)
{
    *out = NULL;
    ct_scene *s = calloc(1, sizeof *s);
    if (!s)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    loader L = {path && *path ? path : "scene", s, err};
    s->path = ct_strdup(path ? path : "");
    s->dir = absolute_dir_of(path);
    if (!s->path || !s->dir) {
        ct_scene_destroy(s);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    /* A UTF-8 byte-order mark (editors on Windows add one) is not JSON: skip it. */
    const uint8_t *bytes = data;
    size_t skip = size >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
    ct_status st = parse_json(&L, (const char *)bytes + skip, size - skip, skip);
    if (!st)
        st = parse_root(&L);
    if (st) {
        ct_scene_destroy(s);
        return st;
    }
    *out = s;
    return CT_OK;
}

ct_status ct_scene_load(const char *path, ct_scene **out, ct_error *err)
{
    *out = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    ct_status st = ct_file_read(path, SCENE_MAX_BYTES, &data, &size, err);
    if (st)
        return st;
    st = ct_scene_load_memory(data, size, path, out, err);
    free(data);
    return st;
}

void ct_scene_destroy(ct_scene *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->layer_count; i++) {
        free(s->layers[i].name);
        free(s->layers[i].type_name);
        free(s->layers[i].source);
    }
    free(s->layers);
    for (uint32_t i = 0; i < s->camera_count; i++)
        free(s->cameras[i].name);
    free(s->cameras);
    for (uint32_t i = 0; i < s->tour_count; i++) {
        free(s->tours[i].name);
        free(s->tours[i].stops);
    }
    free(s->tours);
    cJSON_Delete(s->json);
    free(s->path);
    free(s->dir);
    free(s->name);
    free(s->crs);
    free(s);
}

const ct_scene_camera *ct_scene_find_camera(const ct_scene *s, const char *name)
{
    for (uint32_t i = 0; s && name && i < s->camera_count; i++)
        if (!strcmp(s->cameras[i].name, name))
            return &s->cameras[i];
    return NULL;
}

const ct_scene_layer *ct_scene_find_layer(const ct_scene *s, const char *name)
{
    for (uint32_t i = 0; s && name && i < s->layer_count; i++)
        if (!strcmp(s->layers[i].name, name))
            return &s->layers[i];
    return NULL;
}

const char *ct_layer_type_name(ct_layer_type t)
{
    switch (t) {
    case CT_LAYER_GLTF: return "gltf";
    case CT_LAYER_TILESET: return "tileset";
    case CT_LAYER_TERRAIN: return "terrain";
    case CT_LAYER_RASTER: return "raster";
    case CT_LAYER_VECTOR: return "vector";
    case CT_LAYER_PIPES: return "pipes";
    case CT_LAYER_CITYJSON: return "cityjson";
    default: return "other";
    }
}

void ct_scene_frame_to_ecef(const ct_scene *s, double out[16])
{
    if (!s || !s->has_origin) {
        ct_dmat4_identity(out);
        return;
    }
    ct_geo_enu_frame(ct_geo_ecef_from_lonlat(s->origin[0], s->origin[1], s->origin[2]), out);
}

void ct_scene_layer_transform(const ct_scene_layer *l, double out[16])
{
    const double d = M_PI / 180.0;
    /* Heading turns clockwise seen from above, i.e. by -heading about +z. */
    double h = -l->rotation[0] * d, p = l->rotation[1] * d, r = l->rotation[2] * d;
    double ch = cos(h), sh = sin(h), cp = cos(p), sp = sin(p), cr = cos(r), sr = sin(r);
    double rz[16] = {ch, sh, 0, 0, -sh, ch, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    double rx[16] = {1, 0, 0, 0, 0, cp, sp, 0, 0, -sp, cp, 0, 0, 0, 0, 1};
    double ry[16] = {cr, 0, -sr, 0, 0, 1, 0, 0, sr, 0, cr, 0, 0, 0, 0, 1};
    ct_dmat4_mul(out, rz, rx);
    ct_dmat4_mul(out, out, ry);
    out[12] = l->offset[0];
    out[13] = l->offset[1];
    out[14] = l->offset[2] + l->height_offset;
}

void ct_scene_layer_to_ecef(const ct_scene *s, const ct_scene_layer *l, double out[16])
{
    double frame[16], local[16];
    ct_scene_frame_to_ecef(s, frame);
    ct_scene_layer_transform(l, local);
    ct_dmat4_mul(out, frame, local);
}
