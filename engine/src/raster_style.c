/* Colours, colour ramps and the style of terrain/raster layers (docs/scene.md). */
#include "citytwin/ct_raster_layer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool ct_color_parse(const char *s, uint8_t rgba[4])
{
    if (!s || s[0] != '#')
        return false;
    size_t n = strlen(s + 1);
    uint8_t c[4] = {0, 0, 0, 255};
    if (n == 3) { /* #rgb: each digit doubled, as in CSS */
        for (int i = 0; i < 3; i++) {
            int d = hex_digit(s[1 + i]);
            if (d < 0)
                return false;
            c[i] = (uint8_t)(d * 17);
        }
        memcpy(rgba, c, 4);
        return true;
    }
    if (n != 6 && n != 8)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hex_digit(s[1 + 2 * i]), lo = hex_digit(s[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        c[i] = (uint8_t)(hi * 16 + lo);
    }
    memcpy(rgba, c, 4);
    return true;
}

typedef struct named_ramp {
    const char *name;
    bool normalized, discrete, min_zero;
    int count;
    struct {
        double v;
        const char *color;
    } stops[8];
} named_ramp;

/* Colours: depth from ColorBrewer Blues, viridis from matplotlib (5 samples),
 * terrain a common hypsometric tint (lowland green, tan, brown, rock, snow). */
static const named_ramp NAMED[] = {
    {"depth", true, false, true, 4, {{0, "#c6dbef"}, {0.25, "#6baed6"}, {0.5, "#3182bd"}, {1, "#08306b"}}},
    {"viridis", true, false, false, 5,
     {{0, "#440154"}, {0.25, "#3b528b"}, {0.5, "#21918c"}, {0.75, "#5ec962"}, {1, "#fde725"}}},
    /* citytwin's and gdal_viewshed's viewshed rasters: 0 hidden, 255 visible */
    {"visibility", false, true, false, 2, {{0, "#00000000"}, {1, "#2ca02cb3"}}},
    {"terrain", true, false, false, 6,
     {{0, "#2e6b30"}, {0.2, "#6b9a3d"}, {0.45, "#c8b86b"}, {0.7, "#9b7148"}, {0.9, "#8a8580"}, {1, "#f4f4f4"}}},
    {"gray", true, false, false, 2, {{0, "#000000"}, {1, "#ffffff"}}},
};

bool ct_color_ramp_named(const char *name, ct_color_ramp *out)
{
    for (size_t i = 0; name && i < sizeof NAMED / sizeof NAMED[0]; i++) {
        const named_ramp *n = &NAMED[i];
        if (strcmp(n->name, name) != 0)
            continue;
        memset(out, 0, sizeof *out);
        out->normalized = n->normalized;
        out->discrete = n->discrete;
        out->default_min_zero = n->min_zero;
        out->count = n->count;
        for (int k = 0; k < n->count; k++) {
            out->values[k] = n->stops[k].v;
            ct_color_parse(n->stops[k].color, out->rgba[k]);
        }
        return true;
    }
    return false;
}

void ct_color_ramp_apply(const ct_color_ramp *r, double v, double min, double max, uint8_t out[4])
{
    if (r->count <= 0) {
        memset(out, 255, 4);
        return;
    }
    double t = v;
    if (r->normalized)
        t = max > min ? (v - min) / (max - min) : 0;
    int k = 0; /* last stop with value <= t */
    while (k + 1 < r->count && r->values[k + 1] <= t)
        k++;
    if (!(t > r->values[0]) || k + 1 >= r->count || r->discrete) { /* NaN: the first colour */
        memcpy(out, r->rgba[k], 4);
        return;
    }
    double f = (t - r->values[k]) / (r->values[k + 1] - r->values[k]);
    f = f > 0 ? fmin(f, 1) : 0; /* inf/inf at extreme stops */
    for (int c = 0; c < 4; c++)
        out[c] = (uint8_t)lround(r->rgba[k][c] + f * (r->rgba[k + 1][c] - r->rgba[k][c]));
}

static ct_status parse_ramp(const cJSON *j, const char *where, ct_color_ramp *out, ct_error *err)
{
    if (cJSON_IsString(j)) {
        if (!ct_color_ramp_named(j->valuestring, out))
            return ct_error_set(err, CT_ERR_INPUT,
                                "%s.ramp: unknown ramp '%s' (known: depth, viridis, visibility, terrain, gray)", where,
                                j->valuestring);
        return CT_OK;
    }
    if (!cJSON_IsArray(j))
        return ct_error_set(err, CT_ERR_INPUT, "%s.ramp: expected a ramp name or a list of [value, \"#rrggbb\"]",
                            where);
    int n = cJSON_GetArraySize(j);
    if (n < 1 || n > CT_COLOR_RAMP_MAX_STOPS)
        return ct_error_set(err, CT_ERR_INPUT, "%s.ramp: expected 1 to %d stops, got %d", where,
                            CT_COLOR_RAMP_MAX_STOPS, n);
    memset(out, 0, sizeof *out);
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, j)
    {
        const cJSON *v = cJSON_GetArrayItem(s, 0), *c = cJSON_GetArrayItem(s, 1);
        if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) != 2 || !cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            !cJSON_IsString(c))
            return ct_error_set(err, CT_ERR_INPUT, "%s.ramp[%d]: expected [value, \"#rrggbb\"]", where, i);
        if (!ct_color_parse(c->valuestring, out->rgba[i]))
            return ct_error_set(err, CT_ERR_INPUT, "%s.ramp[%d][1]: '%s' is not #rrggbb or #rrggbbaa", where, i,
                                c->valuestring);
        if (i > 0 && !(v->valuedouble > out->values[i - 1]))
            return ct_error_set(err, CT_ERR_INPUT, "%s.ramp[%d][0]: values must increase (%g after %g)", where, i,
                                v->valuedouble, out->values[i - 1]);
        out->values[i++] = v->valuedouble;
    }
    out->count = n;
    return CT_OK;
}

static ct_status number_in(const cJSON *j, const char *where, const char *key, double lo, double hi, double *out,
                           ct_error *err)
{
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble) || j->valuedouble < lo || j->valuedouble > hi)
        return ct_error_set(err, CT_ERR_INPUT, "%s.%s: expected a number in [%g, %g]", where, key, lo, hi);
    *out = j->valuedouble;
    return CT_OK;
}

ct_status ct_raster_style_parse(const cJSON *style, ct_layer_type type, const char *where, ct_raster_style *out,
                                ct_error *err)
{
    memset(out, 0, sizeof *out);
    bool terrain = type == CT_LAYER_TERRAIN;
    ct_color_ramp_named(terrain ? "terrain" : "viridis", &out->ramp);
    out->opacity = 1;
    out->lit = terrain;
    out->height = CT_RASTER_HEIGHT_GROUND;
    out->drape_offset = 0.5;
    out->max_triangles = 2e6;
    if (!style)
        return CT_OK;
    if (!cJSON_IsObject(style))
        return ct_error_set(err, CT_ERR_INPUT, "%s: expected an object", where);
    const cJSON *j;
    ct_status st = CT_OK;
    cJSON_ArrayForEach(j, style)
    {
        const char *k = j->string ? j->string : "";
        if (!strcmp(k, "ramp"))
            st = parse_ramp(j, where, &out->ramp, err);
        else if (!strcmp(k, "interpolate")) {
            if (!cJSON_IsBool(j))
                st = ct_error_set(err, CT_ERR_INPUT, "%s.interpolate: expected true or false", where);
        } else if (!strcmp(k, "color")) {
            out->has_color = cJSON_IsString(j) && ct_color_parse(j->valuestring, out->color);
            if (!out->has_color)
                st = ct_error_set(err, CT_ERR_INPUT, "%s.color: expected \"#rrggbb\" or \"#rrggbbaa\"", where);
        } else if (!strcmp(k, "min")) {
            st = number_in(j, where, k, -1e300, 1e300, &out->min, err);
            out->has_min = true;
        } else if (!strcmp(k, "max")) {
            st = number_in(j, where, k, -1e300, 1e300, &out->max, err);
            out->has_max = true;
        } else if (!strcmp(k, "opacity"))
            st = number_in(j, where, k, 0, 1, &out->opacity, err);
        else if (!strcmp(k, "lit") || !strcmp(k, "hillshade")) {
            if (!cJSON_IsBool(j))
                st = ct_error_set(err, CT_ERR_INPUT, "%s.%s: expected true or false", where, k);
            *(k[0] == 'l' ? &out->lit : &out->hillshade) = cJSON_IsTrue(j);
        } else if (!strcmp(k, "height") && !terrain) {
            if (cJSON_IsNumber(j)) {
                out->height = CT_RASTER_HEIGHT_CONSTANT;
                st = number_in(j, where, k, -1e7, 1e7, &out->height_value, err);
            } else if (cJSON_IsString(j) && !strcmp(j->valuestring, "ground"))
                out->height = CT_RASTER_HEIGHT_GROUND;
            else if (cJSON_IsString(j) && !strcmp(j->valuestring, "ground+value"))
                out->height = CT_RASTER_HEIGHT_GROUND_VALUE;
            else
                st = ct_error_set(err, CT_ERR_INPUT, "%s.height: expected \"ground\", \"ground+value\" or metres",
                                  where);
        } else if (!strcmp(k, "drape_on") && !terrain) {
            if (!cJSON_IsString(j))
                st = ct_error_set(err, CT_ERR_INPUT, "%s.drape_on: expected a terrain layer name", where);
            out->drape_on = j->valuestring;
        } else if (!strcmp(k, "drape_offset") && !terrain)
            st = number_in(j, where, k, -1e4, 1e4, &out->drape_offset, err);
        else if (!strcmp(k, "max_triangles"))
            st = number_in(j, where, k, 2, 1e9, &out->max_triangles, err);
        else
            ct_log(CT_LOG_WARN, "%s.%s: unknown key for a %s layer (ignored)", where, k, terrain ? "terrain" : "raster");
        if (st != CT_OK)
            return st;
    }
    /* after the loop: "interpolate" may come before "ramp" */
    if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(style, "interpolate")))
        out->ramp.discrete = true;
    else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(style, "interpolate")))
        out->ramp.discrete = false;
    if (out->has_min && out->has_max && !(out->max > out->min))
        return ct_error_set(err, CT_ERR_INPUT, "%s: max (%g) must be greater than min (%g)", where, out->max, out->min);
    return CT_OK;
}
