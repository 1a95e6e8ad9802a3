/* OGR features -> a ct_gltf model (ct_vector.h). Geometry is built in a
 * "plane": the scene frame's x, y (metres east/north of the origin) or, for
 * scenes without an origin, frame CRS coordinates relative to the first
 * point; heights are absolute metres. A last pass turns (plane x, y, height)
 * into frame coordinates exactly (through lon/lat, so a point 10 km from the
 * origin sits on the ellipsoid, not on the origin's tangent plane). */
#define GEOS_USE_ONLY_R_API
#include "citytwin/ct_vector.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_raster.h"
#include "citytwin/ct_raster_layer.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <geos_c.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- style ---------------------------------------------------------------- */

/* A number, or the name of a numeric attribute read per feature. */
typedef struct vnum {
    bool set;
    double value;
    const char *field;
    int index;               /* field index in the layer, -1 when absent */
} vnum;

typedef struct vstyle {
    bool has_color;
    float color[4];          /* sRGB 0..1 */
    const char *color_by;
    int color_by_index;
    const cJSON *colors;
    bool has_opacity;
    double opacity;
    vnum width, size, extrude, base, height, lift, outline_width;
    bool outline, fill;
    bool has_outline_color;
    float outline_color[4];
    const char *where, *layer;
    double min_height;       /* floor for ground heights (NAN = none) */
    const char *label;       /* attribute drawn as the label */
    int label_index;
    vnum label_priority;
    ct_vector_label_style label_style;
} vstyle;

enum { B_LIT, B_UNLIT, B_LIT_BLEND, B_UNLIT_BLEND, B_COUNT };

typedef struct vvert {
    double p[3];             /* plane x, y, absolute height */
    float c[4];              /* linear RGB + alpha */
    uint32_t id;
} vvert;

typedef struct vbatch {
    vvert *v;
    size_t n, cap;
} vbatch;

typedef struct vfeature {
    uint32_t id;
    int64_t fid;
    char *props;
} vfeature;

struct ct_vector {
    ct_gltf *gltf;
    double world[16];
    ct_vector_stats stats;
    vfeature *features;
    size_t feature_count;
    ct_vector_label *labels;
    size_t label_count;
    ct_vector_label_style label_style;
};

/* Where the current feature's label goes: the best part seen so far
 * (polygons over lines over points; then the largest area / longest line). */
typedef struct lcand {
    bool has;
    int rank;
    double score;
    double p[3];             /* plane x, y, absolute height */
} lcand;

/* Everything the build needs while reading one layer. */
typedef struct vbuild {
    const ct_vector_desc *d;
    const char *name;
    vstyle st;
    GEOSContextHandle_t geos;
    /* source -> plane */
    ct_crs_transform *src_to_geo;   /* frame: source CRS -> its geographic CRS (lon, lat) */
    ct_crs_transform *src_to_frame; /* no frame: source -> frame CRS (NULL = same) */
    double from_ecef[16];
    bool has_center;
    double center[2];
    /* ground */
    ct_raster *dem;
    ct_crs_transform *to_dem;       /* frame: lon/lat -> DEM CRS; else frame CRS -> DEM CRS (NULL = same) */
    double dem_step;                /* plane units: finest subdivision when draping */
    uint64_t drape_budget;          /* triangles left for adaptive draping */
    vbatch b[B_COUNT];
    vfeature *features;
    size_t feature_count, feature_cap;
    ct_vector_stats stats;
    bool oom;
    size_t transform_failures;
    lcand cand;
    ct_vector_label *labels;
    size_t label_count, label_cap;
} vbuild;

static void style_warn(vbuild *b, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void style_warn(vbuild *b, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ct_log(CT_LOG_WARN, "layer %s: style.%s: %s", b->name, key, msg);
    b->stats.style_warnings++;
}

bool ct_vector_parse_color(const cJSON *v, float out[4])
{
    out[3] = 1;
    if (cJSON_IsString(v)) {
        uint8_t c[4];
        if (!ct_color_parse(v->valuestring, c))
            return false;
        for (int k = 0; k < 4; k++)
            out[k] = (float)c[k] / 255.0f;
        return true;
    }
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    if (n != 3 && n != 4)
        return false;
    for (int k = 0; k < n; k++) {
        const cJSON *c = cJSON_GetArrayItem(v, k);
        if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble <= 255))
            return false;
        out[k] = (float)(c->valuedouble / 255.0);
    }
    return true;
}

static void parse_vnum(vbuild *b, const cJSON *j, const char *key, vnum *out, bool positive)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    out->index = -1;
    if (!v)
        return;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && (!positive || v->valuedouble >= 0)) {
        out->set = true;
        out->value = v->valuedouble;
    } else if (cJSON_IsString(v) && v->valuestring[0]) {
        out->set = true;
        out->field = v->valuestring;
    } else {
        style_warn(b, key, "expected %s metres or an attribute name; ignored", positive ? "non-negative" : "a number of");
    }
}

static const char *const KNOWN_KEYS[] = {"color", "color_by", "colors", "opacity", "width", "size", "extrude",
                                         "base", "height", "lift", "outline", "outline_width", "outline_color",
                                         "where", "layer", "label", "min_height", "fill", "label_size",
                                         "label_color", "label_halo", "label_halo_width", "label_min_distance",
                                         "label_max_distance", "label_priority", NULL};

/* A number in [lo, hi] for key, or false (after a warning) when present but not one. */
static bool style_number(vbuild *b, const cJSON *j, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v)
        return false;
    if (cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi) {
        *out = v->valuedouble;
        return true;
    }
    style_warn(b, key, "expected a number in %g..%g; ignored", lo, hi);
    return false;
}

static void parse_label_style(vbuild *b, const cJSON *j)
{
    ct_vector_label_style *ls = &b->st.label_style;
    double n;
    if (style_number(b, j, "label_size", 4, 256, &n))
        ls->size_px = (float)n;
    if (style_number(b, j, "label_halo_width", 0, 4, &n))
        ls->halo_px = (float)n;
    if (style_number(b, j, "label_min_distance", 0, 1e12, &n))
        ls->min_distance = n;
    if (style_number(b, j, "label_max_distance", 0, 1e12, &n))
        ls->max_distance = n > 0 ? n : INFINITY;
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "label_color")) && !ct_vector_parse_color(v, ls->color)) {
        ls->color[0] = ls->color[1] = ls->color[2] = ls->color[3] = 1;
        style_warn(b, "label_color", "expected a colour like \"#rrggbb\"; ignored");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "label_halo"))) {
        float c[4];
        if (cJSON_IsFalse(v))
            ls->halo_px = 0;
        else if (ct_vector_parse_color(v, c))
            memcpy(ls->halo_color, c, sizeof c);
        else
            style_warn(b, "label_halo", "expected a colour like \"#rrggbb\" or false; ignored");
    }
    parse_vnum(b, j, "label_priority", &b->st.label_priority, false);
}

static void parse_style(vbuild *b, const cJSON *j)
{
    vstyle *s = &b->st;
    memset(s, 0, sizeof *s);
    s->outline = s->fill = true;
    s->color_by_index = -1;
    s->min_height = NAN;
    s->label_index = -1;
    s->label_priority.index = -1;
    s->label_style = (ct_vector_label_style){.size_px = 16,
                                             .color = {1, 1, 1, 1},
                                             .halo_color = {0x20 / 255.0f, 0x20 / 255.0f, 0x20 / 255.0f, 1},
                                             .halo_px = 2,
                                             .max_distance = INFINITY};
    vnum *nums[] = {&s->width, &s->size, &s->extrude, &s->base, &s->height, &s->lift, &s->outline_width};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        nums[i]->index = -1;
    if (!j)
        return;
    if (!cJSON_IsObject(j)) {
        style_warn(b, "(style)", "expected an object; defaults used");
        return;
    }
    const cJSON *k;
    cJSON_ArrayForEach(k, j)
    {
        bool known = false;
        for (int i = 0; KNOWN_KEYS[i]; i++)
            known = known || !strcmp(k->string, KNOWN_KEYS[i]);
        if (!known)
            style_warn(b, k->string, "unknown key for a vector layer; ignored");
    }
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "color"))) {
        s->has_color = ct_vector_parse_color(v, s->color);
        if (!s->has_color)
            style_warn(b, "color", "expected \"#rrggbb\", \"#rrggbbaa\", \"#rgb\" or [r, g, b(, a)] in 0..255; ignored");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "color_by"))) {
        if (cJSON_IsString(v) && v->valuestring[0])
            s->color_by = v->valuestring;
        else
            style_warn(b, "color_by", "expected an attribute name; ignored");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "colors"))) {
        if (cJSON_IsObject(v))
            s->colors = v;
        else
            style_warn(b, "colors", "expected an object {\"value\": \"#rrggbb\"}; ignored");
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "opacity"))) {
        if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1) {
            s->has_opacity = true;
            s->opacity = v->valuedouble;
        } else {
            style_warn(b, "opacity", "expected a number in 0..1; ignored");
        }
    }
    parse_vnum(b, j, "width", &s->width, true);
    parse_vnum(b, j, "size", &s->size, true);
    parse_vnum(b, j, "extrude", &s->extrude, true);
    parse_vnum(b, j, "base", &s->base, false);
    parse_vnum(b, j, "height", &s->height, false);
    parse_vnum(b, j, "lift", &s->lift, false);
    parse_vnum(b, j, "outline_width", &s->outline_width, true);
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "min_height"))) {
        if (cJSON_IsNumber(v) && isfinite(v->valuedouble))
            s->min_height = v->valuedouble;
        else
            style_warn(b, "min_height", "expected a number of metres; ignored");
    }
    const char *bools[] = {"outline", "fill"};
    bool *bdst[] = {&s->outline, &s->fill};
    for (int i = 0; i < 2; i++)
        if ((v = cJSON_GetObjectItemCaseSensitive(j, bools[i]))) {
            if (cJSON_IsBool(v))
                *bdst[i] = cJSON_IsTrue(v);
            else
                style_warn(b, bools[i], "expected true or false; ignored");
        }
    if ((v = cJSON_GetObjectItemCaseSensitive(j, "outline_color"))) {
        s->has_outline_color = ct_vector_parse_color(v, s->outline_color);
        if (!s->has_outline_color)
            style_warn(b, "outline_color", "expected a colour like \"#rrggbb\"; ignored");
    }
    const char *strs[] = {"where", "layer", "label"};
    const char **dst[] = {&s->where, &s->layer, &s->label};
    for (int i = 0; i < 3; i++) {
        if (!(v = cJSON_GetObjectItemCaseSensitive(j, strs[i])))
            continue;
        if (!cJSON_IsString(v)) {
            style_warn(b, strs[i], "expected a string; ignored");
            continue;
        }
        *dst[i] = v->valuestring;
    }
    parse_label_style(b, j);
}

static void resolve_field(vbuild *b, OGRFeatureDefnH fd, const char *key, const char *field, int *index)
{
    *index = -1;
    if (!field)
        return;
    *index = OGR_FD_GetFieldIndex(fd, field);
    if (*index < 0)
        style_warn(b, key, "no attribute '%s' in the source; default used", field);
}

/* A style number for this feature; dflt when unset or the attribute is null. */
static double vnum_get(const vnum *n, OGRFeatureH f, double dflt)
{
    if (!n->set)
        return dflt;
    if (!n->field)
        return n->value;
    if (n->index < 0 || !OGR_F_IsFieldSetAndNotNull(f, n->index))
        return dflt;
    double v = OGR_F_GetFieldAsDouble(f, n->index);
    return isfinite(v) ? v : dflt;
}

static float srgb_to_linear(float c) { return c <= 0.04045f ? c / 12.92f : powf((c + 0.055f) / 1.055f, 2.4f); }

static const char *const PALETTE[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

/* The feature's colour (sRGB + alpha): colors[value of color_by], else color,
 * else a palette entry chosen by a hash of the value, else the default blue. */
static void feature_color(vbuild *b, OGRFeatureH f, float out[4])
{
    const vstyle *s = &b->st;
    cJSON tmp = {0};
    tmp.type = cJSON_String;
    if (s->color_by_index >= 0 && OGR_F_IsFieldSetAndNotNull(f, s->color_by_index)) {
        const char *val = OGR_F_GetFieldAsString(f, s->color_by_index);
        const cJSON *c = s->colors ? cJSON_GetObjectItemCaseSensitive(s->colors, val) : NULL;
        if (c && ct_vector_parse_color(c, out))
            return;
        if (!s->has_color) {
            uint32_t h = 2166136261u;
            for (const char *p = val; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
            tmp.valuestring = (char *)PALETTE[h % 10];
            ct_vector_parse_color(&tmp, out);
            return;
        }
    }
    if (s->has_color) {
        memcpy(out, s->color, sizeof s->color);
        return;
    }
    tmp.valuestring = (char *)PALETTE[0];
    ct_vector_parse_color(&tmp, out);
}

static void to_vertex_color(const float srgb[4], double opacity, float out[4])
{
    for (int k = 0; k < 3; k++)
        out[k] = srgb_to_linear(srgb[k]);
    out[3] = (float)(srgb[3] * opacity);
}

/* ---- frames ---------------------------------------------------------------- */

/* Source (x, y) -> plane; false when PROJ fails. */
static bool to_plane(vbuild *b, double *x, double *y)
{
    if (!isfinite(*x) || !isfinite(*y))
        return false;
    if (b->d->has_frame) {
        if (ct_crs_transform_points(b->src_to_geo, 1, x, y, NULL, NULL) != CT_OK)
            return false;
        ct_dvec3 p = ct_dmat4_transform_point(b->from_ecef, ct_geo_ecef_from_lonlat(*x, *y, 0));
        *x = p.x;
        *y = p.y;
        return true;
    }
    if (b->src_to_frame && ct_crs_transform_points(b->src_to_frame, 1, x, y, NULL, NULL) != CT_OK)
        return false;
    if (!b->has_center) {
        b->center[0] = round(*x);
        b->center[1] = round(*y);
        b->has_center = true;
    }
    *x -= b->center[0];
    *y -= b->center[1];
    return true;
}

/* Plane x, y, absolute height -> frame coordinates (relative to the centre without a frame). */
static ct_dvec3 plane_to_frame(const vbuild *b, const double p[3])
{
    if (!b->d->has_frame)
        return ct_dvec3_make(p[0], p[1], p[2]);
    ct_dvec3 e = ct_dmat4_transform_point(b->d->frame_to_ecef, ct_dvec3_make(p[0], p[1], 0));
    ct_dvec3 ll = ct_geo_lonlat_from_ecef(e);
    return ct_dmat4_transform_point(b->from_ecef, ct_geo_ecef_from_lonlat(ll.x, ll.y, p[2]));
}

static double dem_ground(vbuild *b, double px, double py);

/* Ground height under a plane point, raised to style.min_height. */
static double ground(vbuild *b, double px, double py)
{
    double g = dem_ground(b, px, py);
    return isnan(b->st.min_height) ? g : fmax(g, b->st.min_height);
}

/* Bilinear between DEM cell centres (0 without a DEM, outside it or on nodata). */
static double dem_ground(vbuild *b, double px, double py)
{
    if (!b->dem)
        return 0;
    double x = px, y = py;
    if (b->d->has_frame) {
        ct_dvec3 ll = ct_geo_lonlat_from_ecef(ct_dmat4_transform_point(b->d->frame_to_ecef, ct_dvec3_make(px, py, 0)));
        x = ll.x;
        y = ll.y;
    } else {
        x += b->center[0];
        y += b->center[1];
    }
    if (b->to_dem && ct_crs_transform_points(b->to_dem, 1, &x, &y, NULL, NULL) != CT_OK)
        return 0;
    double col, row;
    ct_raster_world_to_cell(b->dem, x, y, &col, &row);
    col -= 0.5;
    row -= 0.5;
    const ct_raster *r = b->dem;
    if (!(col > -1 && row > -1 && col < r->width && row < r->height))
        return 0;
    int c0 = (int)floor(col), r0 = (int)floor(row);
    double fx = col - c0, fy = row - r0, sum = 0, wsum = 0;
    for (int k = 0; k < 4; k++) {
        int c = c0 + (k & 1), rr = r0 + (k >> 1);
        if (c < 0 || rr < 0 || c >= r->width || rr >= r->height)
            continue;
        float h = r->data[(size_t)rr * r->width + c];
        if (isnan(h))
            continue;
        double w = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
        sum += w * h;
        wsum += w;
    }
    return wsum > 1e-9 ? sum / wsum : 0;
}

/* ---- output buffers -------------------------------------------------------- */

static void emit(vbuild *b, int batch, const double p[3], const float c[4], uint32_t id)
{
    vbatch *v = &b->b[batch];
    if (v->n == v->cap && !ct_array_grow(&v->v, &v->cap, v->n + 1, sizeof *v->v)) {
        b->oom = true;
        return;
    }
    vvert *o = &v->v[v->n++];
    memcpy(o->p, p, sizeof o->p);
    memcpy(o->c, c, sizeof o->c);
    o->id = id;
}

static void tri(vbuild *b, int batch, const double a[3], const double bb[3], const double c[3], const float col[4],
                uint32_t id)
{
    emit(b, batch, a, col, id);
    emit(b, batch, bb, col, id);
    emit(b, batch, c, col, id);
}

static void quad(vbuild *b, int batch, const double a[3], const double bb[3], const double c[3], const double d[3],
                 const float col[4], uint32_t id)
{
    tri(b, batch, a, bb, c, col, id);
    tri(b, batch, a, c, d, col, id);
}

/* ---- label anchors ----------------------------------------------------------- */

static void label_candidate(vbuild *b, int rank, double score, double x, double y, double z)
{
    lcand *c = &b->cand;
    if (!b->st.label || !isfinite(x) || !isfinite(y) || !isfinite(z))
        return;
    if (c->has && (rank < c->rank || (rank == c->rank && score <= c->score)))
        return;
    *c = (lcand){true, rank, score, {x, y, z}};
}

/* ---- points: markers ------------------------------------------------------- */

enum { MARKER_SIDES = 12 };

/* An upright cylinder of diameter size and height 2 size, standing at z. */
static void marker(vbuild *b, int batch, double x, double y, double z, double size, const float col[4], uint32_t id)
{
    double r = size / 2, top = z + 2 * size;
    double c[3] = {x, y, top};
    for (int i = 0; i < MARKER_SIDES; i++) {
        double a0 = 2 * M_PI * i / MARKER_SIDES, a1 = 2 * M_PI * (i + 1) / MARKER_SIDES;
        double p0[3] = {x + r * cos(a0), y + r * sin(a0), z}, p1[3] = {x + r * cos(a1), y + r * sin(a1), z};
        double q0[3] = {p0[0], p0[1], top}, q1[3] = {p1[0], p1[1], top};
        quad(b, batch, p0, p1, q1, q0, col, id);
        tri(b, batch, c, q0, q1, col, id);
    }
}

/* ---- lines: ribbons ---------------------------------------------------------- */

typedef struct vpts {
    double *xy;              /* plane */
    double *z;               /* height per point (absolute), filled by the caller */
    size_t n, cap;
} vpts;

static bool pts_push(vpts *p, double x, double y, double z)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        double *nxy = realloc(p->xy, cap * 2 * sizeof(double));
        if (!nxy)
            return false;
        p->xy = nxy;
        double *nz = realloc(p->z, cap * sizeof(double));
        if (!nz)
            return false;
        p->z = nz;
        p->cap = cap;
    }
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->z[p->n] = z;
    p->n++;
    return true;
}

static void pts_free(vpts *p)
{
    free(p->xy);
    free(p->z);
    memset(p, 0, sizeof *p);
}

/* The point halfway along a polyline (plane x, y and its height). */
static void line_midpoint(const vpts *p, double *len_out, double out[3])
{
    double len = 0;
    for (size_t i = 0; i + 1 < p->n; i++)
        len += hypot(p->xy[2 * i + 2] - p->xy[2 * i], p->xy[2 * i + 3] - p->xy[2 * i + 1]);
    *len_out = len;
    out[0] = p->xy[0], out[1] = p->xy[1], out[2] = p->z[0];
    double half = len / 2, acc = 0;
    for (size_t i = 0; i + 1 < p->n; i++) {
        double l = hypot(p->xy[2 * i + 2] - p->xy[2 * i], p->xy[2 * i + 3] - p->xy[2 * i + 1]);
        if (acc + l >= half && l > 0) {
            double t = (half - acc) / l;
            for (int k = 0; k < 2; k++)
                out[k] = p->xy[2 * i + k] + t * (p->xy[2 * i + 2 + k] - p->xy[2 * i + k]);
            out[2] = p->z[i] + t * (p->z[i + 1] - p->z[i]);
            return;
        }
        acc += l;
    }
}

/* Heights of a line draped on the DEM: the segment a-b is split where the
 * ground between them departs from a straight line by more than 0.25 m (down
 * to the DEM step), so ribbons follow banks and hills without a vertex per cell. */
static void drape_segment(vbuild *b, vpts *out, double ax, double ay, double ga, double bx, double by, double gb,
                          double lift, int depth)
{
    double len = hypot(bx - ax, by - ay);
    if (depth < 12 && len > b->dem_step) {
        double mx = 0.5 * (ax + bx), my = 0.5 * (ay + by), gm = ground(b, mx, my);
        if (fabs(gm - 0.5 * (ga + gb)) > 0.25) {
            drape_segment(b, out, ax, ay, ga, mx, my, gm, lift, depth + 1);
            drape_segment(b, out, mx, my, gm, bx, by, gb, lift, depth + 1);
            return;
        }
    }
    if (!pts_push(out, bx, by, gb + lift))
        b->oom = true;
}

/* A ribbon of width w along pts (mitred joins; closed rings wrap around). */
static void ribbon(vbuild *b, int batch, const vpts *p, bool closed, double w, const float col[4], uint32_t id)
{
    size_t n = p->n;
    if (closed && n > 2 && p->xy[0] == p->xy[2 * (n - 1)] && p->xy[1] == p->xy[2 * (n - 1) + 1])
        n--; /* the closing point is the first one */
    if (n < 2 || !(w > 0))
        return;
    double *side = ct_malloc_array(n * 4, sizeof(double));
    if (!side) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        bool has_prev = closed || i > 0, has_next = closed || i + 1 < n;
        size_t ip = (i + n - 1) % n, in = (i + 1) % n;
        double n0[2] = {0, 0}, n1[2] = {0, 0};
        if (has_prev) {
            double dx = p->xy[2 * i] - p->xy[2 * ip], dy = p->xy[2 * i + 1] - p->xy[2 * ip + 1], l = hypot(dx, dy);
            if (l > 0)
                n0[0] = -dy / l, n0[1] = dx / l;
        }
        if (has_next) {
            double dx = p->xy[2 * in] - p->xy[2 * i], dy = p->xy[2 * in + 1] - p->xy[2 * i + 1], l = hypot(dx, dy);
            if (l > 0)
                n1[0] = -dy / l, n1[1] = dx / l;
        }
        if (n0[0] == 0 && n0[1] == 0)
            memcpy(n0, n1, sizeof n0);
        if (n1[0] == 0 && n1[1] == 0)
            memcpy(n1, n0, sizeof n1);
        double m[2] = {n0[0] + n1[0], n0[1] + n1[1]}, ml = hypot(m[0], m[1]), half = w / 2;
        if (ml < 1e-9) { /* a 180 degree turn */
            m[0] = n0[0], m[1] = n0[1];
        } else {
            m[0] /= ml, m[1] /= ml;
            double cosang = m[0] * n1[0] + m[1] * n1[1];
            half = cosang > 0.25 ? half / cosang : half * 4; /* mitre, limited on sharp turns */
        }
        side[4 * i] = p->xy[2 * i] + m[0] * half;
        side[4 * i + 1] = p->xy[2 * i + 1] + m[1] * half;
        side[4 * i + 2] = p->xy[2 * i] - m[0] * half;
        side[4 * i + 3] = p->xy[2 * i + 1] - m[1] * half;
    }
    size_t segs = closed ? n : n - 1;
    for (size_t s = 0; s < segs; s++) {
        size_t i = s, j = (s + 1) % n;
        double l0[3] = {side[4 * i], side[4 * i + 1], p->z[i]}, r0[3] = {side[4 * i + 2], side[4 * i + 3], p->z[i]};
        double l1[3] = {side[4 * j], side[4 * j + 1], p->z[j]}, r1[3] = {side[4 * j + 2], side[4 * j + 3], p->z[j]};
        quad(b, batch, l0, r0, r1, l1, col, id);
    }
    free(side);
}

/* ---- geometry readers ------------------------------------------------------ */

/* A simple curve (linestring or ring) in plane coordinates, consecutive
 * duplicates dropped; z = the geometry's z (NAN when 2D). False when a point
 * cannot be transformed. */
static bool read_curve(vbuild *b, OGRGeometryH g, vpts *out)
{
    int n = OGR_G_GetPointCount(g);
    bool is3d = OGR_G_CoordinateDimension(g) == 3;
    out->n = 0;
    for (int i = 0; i < n; i++) {
        double x, y, z;
        OGR_G_GetPoint(g, i, &x, &y, &z);
        if (!to_plane(b, &x, &y) || (is3d && !isfinite(z))) {
            b->transform_failures++;
            return false;
        }
        if (out->n && out->xy[2 * (out->n - 1)] == x && out->xy[2 * (out->n - 1) + 1] == y)
            continue;
        if (!pts_push(out, x, y, is3d ? z : NAN)) {
            b->oom = true;
            return false;
        }
    }
    return true;
}

/* Heights for a line's points (and draping in between): the geometry's z,
 * else the style height, else the ground; plus lift. */
static void line_heights(vbuild *b, const vpts *in, double height, double lift, vpts *out)
{
    out->n = 0;
    bool drape = !isfinite(height) && b->dem;
    for (size_t i = 0; i < in->n; i++) {
        double x = in->xy[2 * i], y = in->xy[2 * i + 1];
        if (isfinite(in->z[i]) && !isfinite(height)) {
            if (!pts_push(out, x, y, in->z[i] + lift))
                b->oom = true;
            continue;
        }
        if (!drape) {
            if (!pts_push(out, x, y, (isfinite(height) ? height : 0) + lift))
                b->oom = true;
            continue;
        }
        double g = ground(b, x, y);
        if (i == 0 || isfinite(in->z[i - 1])) {
            if (!pts_push(out, x, y, g + lift))
                b->oom = true;
        } else {
            double px = in->xy[2 * (i - 1)], py = in->xy[2 * (i - 1) + 1];
            drape_segment(b, out, px, py, out->z[out->n - 1] - lift, x, y, g, lift, 0);
        }
    }
}

/* ---- polygons --------------------------------------------------------------- */

static GEOSGeometry *ring_to_geos(vbuild *b, const vpts *p)
{
    size_t n = p->n;
    bool closed = n > 0 && p->xy[0] == p->xy[2 * (n - 1)] && p->xy[1] == p->xy[2 * (n - 1) + 1];
    size_t m = closed ? n : n + 1;
    if (m < 4)
        return NULL;
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(b->geos, (unsigned)m, 2);
    if (!cs)
        return NULL;
    for (size_t i = 0; i < m; i++) {
        size_t k = i < n ? i : 0;
        GEOSCoordSeq_setXY_r(b->geos, cs, (unsigned)i, p->xy[2 * k], p->xy[2 * k + 1]);
    }
    return GEOSGeom_createLinearRing_r(b->geos, cs);
}

/* Height of a polygon vertex from the source's z values: the z of the
 * nearest ring vertex (triangulation adds no points, so it is exact there). */
static double nearest_z(const vpts *rings, size_t n_rings, double x, double y)
{
    double best = INFINITY, z = 0;
    for (size_t r = 0; r < n_rings; r++)
        for (size_t i = 0; i < rings[r].n; i++) {
            double d = hypot(rings[r].xy[2 * i] - x, rings[r].xy[2 * i + 1] - y);
            if (d < best && isfinite(rings[r].z[i]))
                best = d, z = rings[r].z[i];
        }
    return z;
}

typedef struct poly_ctx {
    int batch;
    float col[4];
    uint32_t id;
    double lift;
    double height;           /* absolute (style), NAN = from z/ground */
    const vpts *rings;       /* the source rings (for z) */
    size_t n_rings;
    bool use_z;
} poly_ctx;

static double poly_vertex_height(vbuild *b, const poly_ctx *c, double x, double y)
{
    if (isfinite(c->height))
        return c->height + c->lift;
    if (c->use_z)
        return nearest_z(c->rings, c->n_rings, x, y) + c->lift;
    return ground(b, x, y) + c->lift;
}

/* A triangle draped on the DEM: split into four while the ground at its edge
 * midpoints departs from the plane of its corners by more than 0.25 m (down
 * to the DEM step, within the layer's triangle budget). */
static void drape_tri(vbuild *b, const poly_ctx *c, const double a[3], const double bb[3], const double d[3], int depth)
{
    double mid[3][3] = {{0.5 * (a[0] + bb[0]), 0.5 * (a[1] + bb[1]), 0.5 * (a[2] + bb[2])},
                        {0.5 * (bb[0] + d[0]), 0.5 * (bb[1] + d[1]), 0.5 * (bb[2] + d[2])},
                        {0.5 * (d[0] + a[0]), 0.5 * (d[1] + a[1]), 0.5 * (d[2] + a[2])}};
    double longest = fmax(hypot(a[0] - bb[0], a[1] - bb[1]), fmax(hypot(bb[0] - d[0], bb[1] - d[1]),
                                                                  hypot(d[0] - a[0], d[1] - a[1])));
    bool split = false;
    if (depth < 10 && longest > b->dem_step && b->drape_budget > 4) {
        for (int k = 0; k < 3; k++) {
            double g = ground(b, mid[k][0], mid[k][1]) + c->lift;
            if (fabs(g - mid[k][2]) > 0.25)
                split = true;
            mid[k][2] = g;
        }
        /* the centroid catches a hill inside a large triangle */
        double cx = (a[0] + bb[0] + d[0]) / 3, cy = (a[1] + bb[1] + d[1]) / 3;
        if (fabs(ground(b, cx, cy) + c->lift - (a[2] + bb[2] + d[2]) / 3) > 0.25)
            split = true;
    }
    if (!split) {
        tri(b, c->batch, a, bb, d, c->col, c->id);
        if (b->drape_budget)
            b->drape_budget--;
        return;
    }
    drape_tri(b, c, a, mid[0], mid[2], depth + 1);
    drape_tri(b, c, mid[0], bb, mid[1], depth + 1);
    drape_tri(b, c, mid[2], mid[1], d, depth + 1);
    drape_tri(b, c, mid[0], mid[1], mid[2], depth + 1);
}

/* Triangulates a valid GEOS polygon (constrained Delaunay, holes kept) and
 * emits it flat at top (extrusions), or at per-vertex heights. */
static void fill_polygon(vbuild *b, const GEOSGeometry *poly, const poly_ctx *c, double top, bool flat_top)
{
    GEOSGeometry *tris = GEOSConstrainedDelaunayTriangulation_r(b->geos, poly);
    if (!tris) {
        ct_log(CT_LOG_WARN, "layer %s: feature %u: triangulation failed; fill skipped", b->name, c->id);
        return;
    }
    bool drape = !flat_top && !isfinite(c->height) && !c->use_z && b->dem;
    int nt = GEOSGetNumGeometries_r(b->geos, tris);
    for (int t = 0; t < nt; t++) {
        const GEOSGeometry *tg = GEOSGetGeometryN_r(b->geos, tris, t);
        const GEOSGeometry *ring = GEOSGetExteriorRing_r(b->geos, tg);
        const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(b->geos, ring) : NULL;
        unsigned n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(b->geos, cs, &n) || n < 3)
            continue;
        double v[3][3];
        for (unsigned k = 0; k < 3; k++) {
            GEOSCoordSeq_getXY_r(b->geos, cs, k, &v[k][0], &v[k][1]);
            v[k][2] = flat_top ? top : poly_vertex_height(b, c, v[k][0], v[k][1]);
        }
        if (drape)
            drape_tri(b, c, v[0], v[1], v[2], 0);
        else
            tri(b, c->batch, v[0], v[1], v[2], c->col, c->id);
        b->stats.triangles++;
    }
    GEOSGeom_destroy_r(b->geos, tris);
}

/* The polygons of a (possibly repaired) geometry, in order. */
static void collect_polygons(vbuild *b, const GEOSGeometry *g, const GEOSGeometry ***out, size_t *n, size_t *cap)
{
    int type = GEOSGeomTypeId_r(b->geos, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(b->geos, g) == 1)
            return;
        if (!ct_array_grow(out, cap, *n + 1, sizeof **out)) {
            b->oom = true;
            return;
        }
        (*out)[(*n)++] = g;
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int k = GEOSGetNumGeometries_r(b->geos, g);
        for (int i = 0; i < k; i++)
            collect_polygons(b, GEOSGetGeometryN_r(b->geos, g, i), out, n, cap);
    }
}

static bool ring_from_geos(vbuild *b, const GEOSGeometry *ring, vpts *out)
{
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(b->geos, ring);
    unsigned n = 0;
    out->n = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(b->geos, cs, &n))
        return false;
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        GEOSCoordSeq_getXY_r(b->geos, cs, i, &x, &y);
        if (!pts_push(out, x, y, NAN)) {
            b->oom = true;
            return false;
        }
    }
    return true;
}

/* The label anchor of a polygon: an interior point of its largest part, at
 * the roof of an extrusion, else at the fill's height there. */
static void polygon_label(vbuild *b, const GEOSGeometry **parts, size_t n_parts, OGRFeatureH f, const vpts *rings,
                          size_t n_rings, bool use_z)
{
    const vstyle *s = &b->st;
    size_t best = 0;
    double best_area = -1;
    for (size_t p = 0; p < n_parts; p++) {
        double a = 0;
        if (GEOSArea_r(b->geos, parts[p], &a) && a > best_area)
            best_area = a, best = p;
    }
    if (best_area < 0)
        return;
    GEOSGeometry *pt = GEOSPointOnSurface_r(b->geos, parts[best]);
    double x, y;
    if (!pt || GEOSisEmpty_r(b->geos, pt) != 0 || !GEOSGeomGetX_r(b->geos, pt, &x) || !GEOSGeomGetY_r(b->geos, pt, &y)) {
        if (pt)
            GEOSGeom_destroy_r(b->geos, pt);
        return;
    }
    GEOSGeom_destroy_r(b->geos, pt);
    double extrude = vnum_get(&s->extrude, f, 0), z;
    double height = s->height.set ? vnum_get(&s->height, f, NAN) : NAN;
    if (s->extrude.set && extrude > 0) { /* the same bottom as do_polygon's prism */
        double bottom = vnum_get(&s->base, f, NAN);
        if (!isfinite(bottom))
            bottom = height;
        if (!isfinite(bottom)) {
            bottom = INFINITY;
            for (size_t i = 0; i < rings[0].n; i++)
                bottom = fmin(bottom, use_z ? rings[0].z[i] : ground(b, rings[0].xy[2 * i], rings[0].xy[2 * i + 1]));
        }
        z = bottom + extrude;
    } else {
        poly_ctx c = {.rings = rings, .n_rings = n_rings, .use_z = use_z, .height = height};
        c.lift = vnum_get(&s->lift, f, isfinite(height) || use_z ? 0 : 0.3);
        z = poly_vertex_height(b, &c, x, y);
    }
    label_candidate(b, 3, best_area, x, y, z);
}

/* One OGR polygon: fill (flat, draped or at a height) with an outline, or an
 * extruded prism. Returns false when the feature had to be skipped. */
static bool do_polygon(vbuild *b, OGRGeometryH g, OGRFeatureH f, const float srgb[4], uint32_t id)
{
    int nr = OGR_G_GetGeometryCount(g);
    if (nr < 1)
        return false;
    vpts *rings = calloc((size_t)nr, sizeof *rings);
    GEOSGeometry **holes = calloc((size_t)nr, sizeof *holes);
    GEOSGeometry *shell = NULL, *poly = NULL, *valid = NULL;
    const GEOSGeometry **parts = NULL;
    size_t n_parts = 0, cap = 0;
    bool ok = rings && holes, use_z = true;
    for (int i = 0; ok && i < nr; i++) {
        ok = read_curve(b, OGR_G_GetGeometryRef(g, i), &rings[i]);
        for (size_t k = 0; ok && k < rings[i].n; k++)
            use_z = use_z && isfinite(rings[i].z[k]);
    }
    int n_holes = 0;
    if (ok) {
        shell = ring_to_geos(b, &rings[0]);
        for (int i = 1; shell && i < nr; i++) {
            GEOSGeometry *h = ring_to_geos(b, &rings[i]);
            if (h)
                holes[n_holes++] = h; /* degenerate holes are dropped */
        }
        if (shell)
            poly = GEOSGeom_createPolygon_r(b->geos, shell, holes, (unsigned)n_holes);
        else
            ok = false;
        if (poly)
            shell = NULL, n_holes = 0; /* owned by poly now */
        else
            ok = false;
    }
    if (ok && GEOSisValid_r(b->geos, poly) != 1) {
        valid = GEOSMakeValid_r(b->geos, poly);
        if (!valid)
            ok = false;
        else
            ct_log(CT_LOG_INFO, "layer %s: feature %u: invalid polygon repaired (GEOS MakeValid)", b->name, id);
    }
    if (ok)
        collect_polygons(b, valid ? valid : poly, &parts, &n_parts, &cap);
    ok = ok && n_parts > 0;
    if (ok) {
        const vstyle *s = &b->st;
        double extrude = vnum_get(&s->extrude, f, 0);
        bool extruded = s->extrude.set && extrude > 0;
        double opacity = s->has_opacity ? s->opacity : (extruded ? 1.0 : 0.5);
        poly_ctx c = {.id = id, .rings = rings, .n_rings = (size_t)nr, .use_z = use_z};
        c.height = s->height.set ? vnum_get(&s->height, f, NAN) : NAN;
        c.lift = vnum_get(&s->lift, f, extruded || isfinite(c.height) || use_z ? 0 : 0.3);
        to_vertex_color(srgb, opacity, c.col);
        bool blend = c.col[3] < 1;
        if (extruded) {
            c.batch = blend ? B_LIT_BLEND : B_LIT;
            /* bottom: style base, else the style height, else the lowest point of the footprint */
            double bottom = vnum_get(&s->base, f, NAN);
            if (!isfinite(bottom))
                bottom = isfinite(c.height) ? c.height : NAN;
            if (!isfinite(bottom)) {
                bottom = INFINITY;
                for (size_t i = 0; i < rings[0].n; i++)
                    bottom = fmin(bottom, use_z ? rings[0].z[i] : ground(b, rings[0].xy[2 * i], rings[0].xy[2 * i + 1]));
            }
            double top = bottom + extrude;
            vpts r = {0};
            for (size_t p = 0; p < n_parts; p++) {
                fill_polygon(b, parts[p], &c, top, true);
                int nh = GEOSGetNumInteriorRings_r(b->geos, parts[p]);
                for (int k = -1; k < nh; k++) {
                    const GEOSGeometry *ring = k < 0 ? GEOSGetExteriorRing_r(b->geos, parts[p])
                                                     : GEOSGetInteriorRingN_r(b->geos, parts[p], k);
                    if (!ring || !ring_from_geos(b, ring, &r))
                        continue;
                    for (size_t i = 0; i + 1 < r.n; i++) {
                        double a0[3] = {r.xy[2 * i], r.xy[2 * i + 1], bottom}, a1[3] = {r.xy[2 * i + 2], r.xy[2 * i + 3], bottom};
                        double t0[3] = {a0[0], a0[1], top}, t1[3] = {a1[0], a1[1], top};
                        quad(b, c.batch, a0, a1, t1, t0, c.col, id);
                        b->stats.triangles += 2;
                    }
                }
            }
            pts_free(&r);
        } else {
            c.batch = blend ? B_UNLIT_BLEND : B_UNLIT;
            for (size_t p = 0; s->fill && p < n_parts; p++)
                fill_polygon(b, parts[p], &c, 0, false);
            double ow = vnum_get(&s->outline_width, f, 1.0);
            if (s->outline && ow > 0) {
                float oc[4];
                to_vertex_color(s->has_outline_color ? s->outline_color : srgb, 1.0, oc);
                int ob = oc[3] < 1 ? B_UNLIT_BLEND : B_UNLIT;
                vpts r = {0}, h = {0};
                for (size_t p = 0; p < n_parts; p++) {
                    int nh = GEOSGetNumInteriorRings_r(b->geos, parts[p]);
                    for (int k = -1; k < nh; k++) {
                        const GEOSGeometry *ring = k < 0 ? GEOSGetExteriorRing_r(b->geos, parts[p])
                                                         : GEOSGetInteriorRingN_r(b->geos, parts[p], k);
                        if (!ring || !ring_from_geos(b, ring, &r))
                            continue;
                        if (use_z)
                            for (size_t i = 0; i < r.n; i++)
                                r.z[i] = nearest_z(rings, (size_t)nr, r.xy[2 * i], r.xy[2 * i + 1]);
                        /* the outline sits a little above the fill so it wins the depth test */
                        line_heights(b, &r, c.height, c.lift + 0.05, &h);
                        ribbon(b, ob, &h, true, ow, oc, id);
                        b->stats.triangles += 2 * (h.n ? h.n - 1 : 0);
                    }
                }
                pts_free(&r);
                pts_free(&h);
            }
        }
    }
    if (ok && b->st.label)
        polygon_label(b, parts, n_parts, f, rings, (size_t)nr, use_z);
    free(parts);
    if (valid)
        GEOSGeom_destroy_r(b->geos, valid);
    if (poly)
        GEOSGeom_destroy_r(b->geos, poly);
    if (shell)
        GEOSGeom_destroy_r(b->geos, shell);
    for (int i = 0; holes && i < n_holes; i++)
        GEOSGeom_destroy_r(b->geos, holes[i]);
    free(holes);
    for (int i = 0; rings && i < nr; i++)
        pts_free(&rings[i]);
    free(rings);
    if (ok)
        b->stats.polygons++;
    return ok;
}

static bool do_line(vbuild *b, OGRGeometryH g, OGRFeatureH f, const float srgb[4], uint32_t id)
{
    vpts in = {0}, h = {0};
    bool ok = read_curve(b, g, &in) && in.n >= 2;
    if (ok) {
        const vstyle *s = &b->st;
        double height = s->height.set ? vnum_get(&s->height, f, NAN) : NAN;
        bool has_z = in.n && isfinite(in.z[0]);
        double lift = vnum_get(&s->lift, f, isfinite(height) || has_z ? 0 : 0.3);
        float col[4];
        to_vertex_color(srgb, s->has_opacity ? s->opacity : 1.0, col);
        line_heights(b, &in, height, lift, &h);
        ribbon(b, col[3] < 1 ? B_UNLIT_BLEND : B_UNLIT, &h, false, vnum_get(&s->width, f, 2.0), col, id);
        b->stats.triangles += 2 * (h.n - 1);
        if (b->st.label && h.n >= 2) {
            double len, mid[3];
            line_midpoint(&h, &len, mid);
            label_candidate(b, 2, len, mid[0], mid[1], mid[2]);
        }
        b->stats.lines++;
    }
    pts_free(&in);
    pts_free(&h);
    return ok;
}

static bool do_point(vbuild *b, OGRGeometryH g, OGRFeatureH f, const float srgb[4], uint32_t id)
{
    double x, y, z;
    OGR_G_GetPoint(g, 0, &x, &y, &z);
    bool is3d = OGR_G_CoordinateDimension(g) == 3;
    if (OGR_G_IsEmpty(g) || !to_plane(b, &x, &y) || (is3d && !isfinite(z))) {
        if (!OGR_G_IsEmpty(g))
            b->transform_failures++;
        return false;
    }
    const vstyle *s = &b->st;
    double height = s->height.set ? vnum_get(&s->height, f, NAN) : NAN;
    double base = isfinite(height) ? height : is3d ? z : ground(b, x, y);
    base += vnum_get(&s->lift, f, 0);
    float col[4];
    to_vertex_color(srgb, s->has_opacity ? s->opacity : 1.0, col);
    double size = vnum_get(&s->size, f, 3.0);
    marker(b, col[3] < 1 ? B_LIT_BLEND : B_LIT, x, y, base, size, col, id);
    label_candidate(b, 1, 0, x, y, base + 2 * size);
    b->stats.triangles += 3 * MARKER_SIDES;
    b->stats.points++;
    return true;
}

/* Any geometry: collections recurse, curves are linearized. Returns the number of parts drawn. */
static int do_geometry(vbuild *b, OGRGeometryH g, OGRFeatureH f, const float srgb[4], uint32_t id, int depth)
{
    if (!g || OGR_G_IsEmpty(g) || depth > 8)
        return 0;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (OGR_GT_IsNonLinear(t)) {
        OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        int n = lin ? do_geometry(b, lin, f, srgb, id, depth + 1) : 0;
        OGR_G_DestroyGeometry(lin);
        return n;
    }
    switch (t) {
    case wkbPoint: return do_point(b, g, f, srgb, id);
    case wkbLineString: return do_line(b, g, f, srgb, id);
    case wkbPolygon:
    case wkbTriangle: return do_polygon(b, g, f, srgb, id);
    case wkbMultiPoint:
    case wkbMultiLineString:
    case wkbMultiPolygon:
    case wkbGeometryCollection:
    case wkbPolyhedralSurface:
    case wkbTIN: {
        int n = 0, k = OGR_G_GetGeometryCount(g);
        for (int i = 0; i < k; i++)
            n += do_geometry(b, OGR_G_GetGeometryRef(g, i), f, srgb, id, depth + 1);
        return n;
    }
    default:
        ct_log(CT_LOG_WARN, "layer %s: feature %u: geometry type %s is not drawn", b->name, id,
               OGRGeometryTypeToName(t));
        return 0;
    }
}

/* ---- features ------------------------------------------------------------------ */

static char *properties_json(OGRFeatureH f, OGRFeatureDefnH fd)
{
    cJSON *o = cJSON_CreateObject();
    int n = OGR_FD_GetFieldCount(fd);
    for (int i = 0; o && i < n; i++) {
        OGRFieldDefnH fdef = OGR_FD_GetFieldDefn(fd, i);
        const char *name = OGR_Fld_GetNameRef(fdef);
        if (!OGR_F_IsFieldSetAndNotNull(f, i)) {
            cJSON_AddNullToObject(o, name);
            continue;
        }
        switch (OGR_Fld_GetType(fdef)) {
        case OFTInteger:
            if (OGR_Fld_GetSubType(fdef) == OFSTBoolean)
                cJSON_AddBoolToObject(o, name, OGR_F_GetFieldAsInteger(f, i) != 0);
            else
                cJSON_AddNumberToObject(o, name, OGR_F_GetFieldAsInteger(f, i));
            break;
        case OFTInteger64: cJSON_AddNumberToObject(o, name, (double)OGR_F_GetFieldAsInteger64(f, i)); break;
        case OFTReal: {
            double v = OGR_F_GetFieldAsDouble(f, i);
            if (isfinite(v))
                cJSON_AddNumberToObject(o, name, v);
            else
                cJSON_AddNullToObject(o, name);
            break;
        }
        default: cJSON_AddStringToObject(o, name, OGR_F_GetFieldAsString(f, i)); break;
        }
    }
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

static void add_feature(vbuild *b, uint32_t id, int64_t fid, OGRFeatureH f, OGRFeatureDefnH fd)
{
    if (!ct_array_grow(&b->features, &b->feature_cap, b->feature_count + 1, sizeof *b->features)) {
        b->oom = true;
        return;
    }
    b->features[b->feature_count++] = (vfeature){id, fid, properties_json(f, fd)};
}

enum { LABEL_MAX_BYTES = 256 };

/* The feature's label (its label attribute as text) at the best anchor found. */
static void add_label(vbuild *b, OGRFeatureH f, uint32_t id)
{
    int fi = b->st.label_index;
    if (fi < 0 || !b->cand.has || !OGR_F_IsFieldSetAndNotNull(f, fi))
        return;
    const char *text = OGR_F_GetFieldAsString(f, fi);
    size_t n = strlen(text);
    if (!n)
        return;
    if (n > LABEL_MAX_BYTES) { /* cut at a character boundary */
        n = LABEL_MAX_BYTES;
        while (n > 0 && ((uint8_t)text[n] & 0xC0) == 0x80)
            n--;
    }
    if (!ct_array_grow(&b->labels, &b->label_cap, b->label_count + 1, sizeof *b->labels)) {
        b->oom = true;
        return;
    }
    char *t = malloc(n + 1);
    if (!t) {
        b->oom = true;
        return;
    }
    memcpy(t, text, n);
    t[n] = 0;
    ct_dvec3 q = plane_to_frame(b, b->cand.p);
    static const ct_vector_label_kind kinds[4] = {CT_VECTOR_LABEL_POINT, CT_VECTOR_LABEL_POINT, CT_VECTOR_LABEL_LINE,
                                                  CT_VECTOR_LABEL_POLYGON};
    b->labels[b->label_count++] = (ct_vector_label){
        .text = t,
        .position = {q.x, q.y, q.z},
        .priority = vnum_get(&b->st.label_priority, f, 0),
        .feature_id = id,
        .kind = kinds[b->cand.rank & 3],
    };
}

static int cmp_feature(const void *a, const void *b)
{
    uint32_t x = ((const vfeature *)a)->id, y = ((const vfeature *)b)->id;
    return x < y ? -1 : x > y;
}

/* ---- the model ------------------------------------------------------------------- */

static ct_gltf_material material(bool lit, bool blend)
{
    ct_gltf_material m;
    memset(&m, 0, sizeof m);
    for (int k = 0; k < 4; k++)
        m.base_color[k] = 1;
    ct_gltf_texture_ref none = {.texture = -1, .scale = 1};
    m.base_color_texture = m.metallic_roughness_texture = m.normal_texture = none;
    m.occlusion_texture = m.emissive_texture = none;
    m.metallic = 0;
    m.roughness = 0.9f;
    m.alpha_mode = blend ? CT_GLTF_ALPHA_BLEND : CT_GLTF_ALPHA_OPAQUE;
    m.alpha_cutoff = 0.5f;
    m.double_sided = true;
    m.unlit = !lit;
    return m;
}

static ct_status assemble(vbuild *b, ct_vector *v, ct_error *err)
{
    ct_gltf *g = calloc(1, sizeof *g);
    if (!g)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    v->gltf = g;
    g->materials = calloc(B_COUNT, sizeof *g->materials);
    g->meshes = calloc(1, sizeof *g->meshes);
    g->nodes = calloc(1, sizeof *g->nodes);
    g->scenes = calloc(1, sizeof *g->scenes);
    g->draws = calloc(1, sizeof *g->draws);
    if (!g->materials || !g->meshes || !g->nodes || !g->scenes || !g->draws)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    g->material_count = B_COUNT;
    g->materials[B_LIT] = material(true, false);
    g->materials[B_UNLIT] = material(false, false);
    g->materials[B_LIT_BLEND] = material(true, true);
    g->materials[B_UNLIT_BLEND] = material(false, true);
    g->mesh_count = g->node_count = g->scene_count = g->draw_count = 1;
    g->meshes[0].name = ct_strdup(b->name);
    g->meshes[0].primitives = calloc(B_COUNT, sizeof(ct_gltf_primitive));
    g->nodes[0].name = ct_strdup(b->name);
    g->scenes[0].nodes = calloc(1, sizeof(int));
    if (!g->meshes[0].primitives || !g->scenes[0].nodes)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    g->nodes[0].mesh = 0;
    g->nodes[0].parent = -1;
    ct_dmat4_identity(g->nodes[0].local);
    ct_dmat4_identity(g->nodes[0].world);
    g->scenes[0].node_count = 1;
    g->default_scene = 0;
    g->draws[0].node = 0;
    g->draws[0].mesh = 0;
    ct_dmat4_identity(g->draws[0].world);
    for (int k = 0; k < 3; k++) {
        g->bounds_min[k] = INFINITY;
        g->bounds_max[k] = -INFINITY;
    }
    for (int bi = 0; bi < B_COUNT; bi++) {
        vbatch *vb = &b->b[bi];
        if (!vb->n)
            continue;
        if (vb->n > UINT32_MAX / 4)
            return ct_error_set(err, CT_ERR_RUNTIME, "%s: too many vertices", b->d->source);
        ct_gltf_primitive *p = &g->meshes[0].primitives[g->meshes[0].primitive_count++];
        bool lit = bi == B_LIT || bi == B_LIT_BLEND;
        p->mode = CT_GLTF_TRIANGLES;
        p->material = bi;
        p->vertex_count = (uint32_t)vb->n;
        p->positions = ct_malloc_array(vb->n * 3, sizeof(float));
        p->colors = ct_malloc_array(vb->n * 4, sizeof(float));
        p->feature_ids = ct_malloc_array(vb->n, sizeof(uint32_t));
        p->normals = lit ? ct_malloc_array(vb->n * 3, sizeof(float)) : NULL;
        if (!p->positions || !p->colors || !p->feature_ids || (lit && !p->normals))
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        for (int k = 0; k < 3; k++) {
            p->bounds_min[k] = INFINITY;
            p->bounds_max[k] = -INFINITY;
        }
        for (size_t i = 0; i < vb->n; i++) {
            ct_dvec3 q = plane_to_frame(b, vb->v[i].p);
            float yup[3] = {(float)q.x, (float)q.z, (float)-q.y}; /* glTF y-up, as the glTF layers */
            for (int k = 0; k < 3; k++) {
                p->positions[i * 3 + k] = yup[k];
                p->bounds_min[k] = fminf(p->bounds_min[k], yup[k]);
                p->bounds_max[k] = fmaxf(p->bounds_max[k], yup[k]);
            }
            memcpy(p->colors + i * 4, vb->v[i].c, 4 * sizeof(float));
            p->feature_ids[i] = vb->v[i].id;
        }
        if (lit) /* flat normals from each triangle's winding (double-sided materials flip them for back faces) */
            for (size_t t = 0; t + 2 < vb->n; t += 3) {
                const float *a = p->positions + t * 3, *bb = a + 3, *c = a + 6;
                double e1[3] = {bb[0] - a[0], bb[1] - a[1], bb[2] - a[2]}, e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
                double nx = e1[1] * e2[2] - e1[2] * e2[1], ny = e1[2] * e2[0] - e1[0] * e2[2],
                       nz = e1[0] * e2[1] - e1[1] * e2[0], l = sqrt(nx * nx + ny * ny + nz * nz);
                if (!(l > 0))
                    nx = 0, ny = 1, nz = 0, l = 1;
                for (int k = 0; k < 3; k++) {
                    p->normals[(t + k) * 3] = (float)(nx / l);
                    p->normals[(t + k) * 3 + 1] = (float)(ny / l);
                    p->normals[(t + k) * 3 + 2] = (float)(nz / l);
                }
            }
        for (int k = 0; k < 3; k++) {
            g->bounds_min[k] = fmin(g->bounds_min[k], p->bounds_min[k]);
            g->bounds_max[k] = fmax(g->bounds_max[k], p->bounds_max[k]);
        }
        g->triangle_count += vb->n / 3;
        g->vertex_count += vb->n;
    }
    b->stats.triangles = g->triangle_count;
    return CT_OK;
}

/* ---- setup ------------------------------------------------------------------------- */

static void geos_quiet(const char *fmt, ...) { (void)fmt; }

static bool all_zero(const double m[16])
{
    for (int i = 0; i < 16; i++)
        if (m[i] != 0)
            return false;
    return true;
}

static ct_status setup_frames(vbuild *b, OGRLayerH layer, ct_error *err)
{
    const ct_vector_desc *d = b->d;
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
    char *src_wkt = NULL, *geo_wkt = NULL;
    ct_status st = CT_OK;
    if (srs)
        OSRExportToWkt(srs, &src_wkt);
    bool has_src = src_wkt && *src_wkt;
    const char *frame_crs = d->frame_crs && *d->frame_crs ? d->frame_crs : NULL;
    if (d->has_frame) {
        if (!ct_dmat4_invert(b->from_ecef, d->frame_to_ecef)) {
            st = ct_error_set(err, CT_ERR_USAGE, "the scene frame is not invertible");
            goto done;
        }
        const char *src = has_src ? src_wkt : frame_crs;
        if (!src) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s has no CRS and the scene none either: cannot place it",
                              d->source);
            goto done;
        }
        if (!has_src)
            ct_log(CT_LOG_WARN, "layer %s: %s has no CRS; assuming the scene's (%s)", b->name, d->source, frame_crs);
        /* lon/lat in the source's own geographic CRS (CGCS2000 for EPSG:4547...) */
        OGRSpatialReferenceH s2 = OSRNewSpatialReference(NULL);
        OGRSpatialReferenceH geo = NULL;
        if (OSRSetFromUserInput(s2, src) == OGRERR_NONE && (geo = OSRCloneGeogCS(s2)))
            OSRExportToWkt(geo, &geo_wkt);
        if (geo)
            OSRDestroySpatialReference(geo);
        OSRDestroySpatialReference(s2);
        if (!geo_wkt) {
            st = ct_error_set(err, CT_ERR_INPUT, "the CRS of %s has no geographic base", d->source);
            goto done;
        }
        st = ct_crs_transform_create(src, geo_wkt, &b->src_to_geo, err);
    } else if (has_src && frame_crs) {
        st = ct_crs_transform_create(src_wkt, frame_crs, &b->src_to_frame, err);
    }
    if (st)
        goto done;
    if (d->dem && *d->dem) {
        ct_error derr = {0};
        if (ct_raster_read(d->dem, &b->dem, &derr) != CT_OK) {
            ct_log(CT_LOG_WARN, "layer %s: terrain %s: %s; ground at 0", b->name, d->dem, derr.msg);
            b->dem = NULL;
        } else {
            const char *from = d->has_frame ? geo_wkt : frame_crs ? frame_crs : has_src ? src_wkt : NULL;
            if (*b->dem->crs_wkt && from && ct_crs_transform_create(from, b->dem->crs_wkt, &b->to_dem, &derr) != CT_OK) {
                ct_log(CT_LOG_WARN, "layer %s: terrain %s: %s; ground at 0", b->name, d->dem, derr.msg);
                ct_raster_destroy(b->dem);
                b->dem = NULL;
            }
            if (b->dem) {
                double cell = fmin(fabs(b->dem->geotransform[1]), fabs(b->dem->geotransform[5]));
                if (ct_crs_is_geographic(b->dem->crs_wkt))
                    cell *= 111320.0;
                b->dem_step = fmax(cell, 0.5);
            }
        }
    }
done:
    CPLFree(src_wkt);
    CPLFree(geo_wkt);
    return st;
}

static void build_free(vbuild *b)
{
    for (int i = 0; i < B_COUNT; i++)
        free(b->b[i].v);
    ct_crs_transform_destroy(b->src_to_geo);
    ct_crs_transform_destroy(b->src_to_frame);
    ct_crs_transform_destroy(b->to_dem);
    ct_raster_destroy(b->dem);
    if (b->geos)
        GEOS_finish_r(b->geos);
}

ct_status ct_vector_build(const ct_vector_desc *d, ct_vector **out, ct_error *err)
{
    *out = NULL;
    if (!d || !d->source || !*d->source)
        return ct_error_set(err, CT_ERR_USAGE, "vector layer: no source given");
    vbuild b = {.d = d, .name = d->name && *d->name ? d->name : d->source, .drape_budget = 4000000};
    parse_style(&b, d->style);
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(d->source, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds) {
        const char *why = CPLGetLastErrorMsg();
        return ct_error_set(err, CT_ERR_INPUT, "cannot open %s as a vector source (%s)", d->source,
                            why && *why ? why : "missing, unreadable or not a vector format");
    }
    OGRLayerH layer = b.st.layer ? GDALDatasetGetLayerByName(ds, b.st.layer)
                                 : GDALDatasetGetLayerCount(ds) > 0 ? GDALDatasetGetLayer(ds, 0) : NULL;
    ct_status st = CT_OK;
    ct_vector *v = calloc(1, sizeof *v);
    if (!v)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    else if (!layer)
        st = ct_error_set(err, CT_ERR_INPUT, "%s has no layer %s%s%s", d->source,
                          b.st.layer ? "'" : "", b.st.layer ? b.st.layer : "at all", b.st.layer ? "'" : "");
    else if (b.st.where && OGR_L_SetAttributeFilter(layer, b.st.where) != OGRERR_NONE)
        st = ct_error_set(err, CT_ERR_INPUT, "style.where '%s': %s", b.st.where,
                          CPLGetLastErrorMsg());
    if (!st)
        st = setup_frames(&b, layer, err);
    if (!st) {
        b.geos = GEOS_init_r();
        if (!b.geos)
            st = ct_error_set(err, CT_ERR_RUNTIME, "GEOS init failed");
        else {
            GEOSContext_setNoticeHandler_r(b.geos, geos_quiet);
            GEOSContext_setErrorHandler_r(b.geos, geos_quiet);
        }
    }
    if (!st) {
        OGRFeatureDefnH fd = OGR_L_GetLayerDefn(layer);
        resolve_field(&b, fd, "color_by", b.st.color_by, &b.st.color_by_index);
        resolve_field(&b, fd, "label", b.st.label, &b.st.label_index);
        resolve_field(&b, fd, "label_priority", b.st.label_priority.field, &b.st.label_priority.index);
        vnum *nums[] = {&b.st.width, &b.st.size, &b.st.extrude, &b.st.base, &b.st.height, &b.st.lift,
                        &b.st.outline_width};
        const char *keys[] = {"width", "size", "extrude", "base", "height", "lift", "outline_width"};
        for (int i = 0; i < 7; i++)
            resolve_field(&b, fd, keys[i], nums[i]->field, &nums[i]->index);
        OGR_L_ResetReading(layer);
        OGRFeatureH f;
        uint32_t seq = 0;
        while (!b.oom && (f = OGR_L_GetNextFeature(layer))) {
            b.stats.features++;
            int64_t fid = OGR_F_GetFID(f);
            /* feature id = OGR FID when it fits; else a number above 2^31 */
            uint32_t id = fid >= 0 && fid < 0x7FFFFFFF ? (uint32_t)fid : 0x80000000u + seq;
            seq++;
            float srgb[4];
            feature_color(&b, f, srgb);
            size_t fails = b.transform_failures;
            b.cand.has = false;
            int parts = do_geometry(&b, OGR_F_GetGeometryRef(f), f, srgb, id, 0);
            if (parts > 0) {
                b.stats.drawn++;
                add_feature(&b, id, fid, f, fd);
                add_label(&b, f, id);
            } else {
                b.stats.skipped++;
                if (!OGR_F_GetGeometryRef(f))
                    ct_log(CT_LOG_INFO, "layer %s: feature %lld has no geometry; skipped", b.name, (long long)fid);
                else if (b.transform_failures > fails)
                    ct_log(CT_LOG_WARN, "layer %s: feature %lld: coordinates not finite or not transformable; skipped",
                           b.name, (long long)fid);
                else
                    ct_log(CT_LOG_WARN, "layer %s: feature %lld: empty or invalid geometry; skipped", b.name,
                           (long long)fid);
            }
            OGR_F_Destroy(f);
        }
        if (b.oom)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", d->source);
        else if (b.stats.drawn == 0)
            ct_log(CT_LOG_WARN, "layer %s: nothing to draw (%zu features, %zu skipped)", b.name, b.stats.features,
                   b.stats.skipped);
    }
    if (!st)
        st = assemble(&b, v, err);
    if (!st) {
        double place[16];
        if (all_zero(d->placement))
            ct_dmat4_identity(place);
        else
            memcpy(place, d->placement, sizeof place);
        if (d->has_frame) {
            ct_dmat4_mul(v->world, d->frame_to_ecef, place);
        } else {
            double t[16];
            ct_dmat4_identity(t);
            t[12] = b.center[0];
            t[13] = b.center[1];
            ct_dmat4_mul(v->world, place, t);
        }
        if (b.feature_count)
            qsort(b.features, b.feature_count, sizeof *b.features, cmp_feature);
        v->features = b.features;
        v->feature_count = b.feature_count;
        b.features = NULL;
        v->labels = b.labels;
        v->label_count = b.label_count;
        v->label_style = b.st.label_style;
        b.labels = NULL;
        b.label_count = 0;
        v->stats = b.stats;
        *out = v;
    } else {
        ct_vector_destroy(v);
    }
    for (size_t i = 0; b.features && i < b.feature_count; i++)
        free(b.features[i].props);
    free(b.features);
    for (size_t i = 0; i < b.label_count; i++)
        free(b.labels[i].text);
    free(b.labels);
    build_free(&b);
    GDALClose(ds);
    return st;
}

void ct_vector_destroy(ct_vector *v)
{
    if (!v)
        return;
    ct_gltf_destroy(v->gltf);
    for (size_t i = 0; i < v->feature_count; i++)
        free(v->features[i].props);
    free(v->features);
    for (size_t i = 0; i < v->label_count; i++)
        free(v->labels[i].text);
    free(v->labels);
    free(v);
}

const ct_vector_label *ct_vector_labels(const ct_vector *v, size_t *count)
{
    *count = v->label_count;
    return v->labels;
}

void ct_vector_get_label_style(const ct_vector *v, ct_vector_label_style *out) { *out = v->label_style; }

const ct_gltf *ct_vector_gltf(const ct_vector *v) { return v->gltf; }

ct_gltf *ct_vector_take_gltf(ct_vector *v)
{
    ct_gltf *g = v->gltf;
    v->gltf = NULL;
    return g;
}

void ct_vector_world(const ct_vector *v, double out[16]) { memcpy(out, v->world, sizeof v->world); }

void ct_vector_get_stats(const ct_vector *v, ct_vector_stats *out) { *out = v->stats; }

bool ct_vector_feature(const ct_vector *v, int64_t id, int64_t *fid, const char **properties_json)
{
    if (id < 0 || id > UINT32_MAX || !v->feature_count)
        return false;
    vfeature key = {.id = (uint32_t)id};
    const vfeature *f = bsearch(&key, v->features, v->feature_count, sizeof key, cmp_feature);
    if (!f)
        return false;
    if (fid)
        *fid = f->fid;
    if (properties_json)
        *properties_json = f->props ? f->props : "{}";
    return true;
}
