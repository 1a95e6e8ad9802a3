/* Routing text inputs: the speed table CSV, the pairs CSV, and the OSM tag
 * values (hstore other_tags, oneway, maxspeed). All parsers take untrusted
 * bytes (fuzzed by tests/route/fuzz_route_text.c). */
#include "citytwin/ct_route.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Fire engines drive roughly at these speeds (km/h) when the way has no
 * usable maxspeed; 0 means the class is not driveable. See docs/routing.md. */
static const ct_route_speed DEFAULT_SPEEDS[] = {
    {"motorway", 90},     {"motorway_link", 45}, {"trunk", 80},          {"trunk_link", 40},
    {"primary", 60},      {"primary_link", 30},  {"secondary", 50},      {"secondary_link", 25},
    {"tertiary", 40},     {"tertiary_link", 20}, {"unclassified", 30},   {"residential", 25},
    {"living_street", 10}, {"service", 15},      {"road", 20},           {"track", 10},
    {"pedestrian", 8},    {"busway", 40},        {"footway", 0},         {"path", 0},
    {"cycleway", 0},      {"steps", 0},          {"bridleway", 0},       {"corridor", 0},
    {"construction", 0},  {"proposed", 0},       {"platform", 0},        {"elevator", 0},
};

void ct_route_speeds_default(ct_route_speeds *out)
{
    size_t n = sizeof DEFAULT_SPEEDS / sizeof DEFAULT_SPEEDS[0];
    out->items = ct_malloc_array(n, sizeof *out->items);
    out->count = out->items ? n : 0;
    if (out->items)
        memcpy(out->items, DEFAULT_SPEEDS, sizeof DEFAULT_SPEEDS);
}

void ct_route_speeds_free(ct_route_speeds *s)
{
    if (!s)
        return;
    free(s->items);
    s->items = NULL;
    s->count = 0;
}

double ct_route_speeds_get(const ct_route_speeds *s, const char *road_class)
{
    if (!s || !road_class)
        return -1;
    for (size_t i = 0; i < s->count; i++)
        if (!strcasecmp(s->items[i].road_class, road_class))
            return s->items[i].kmh;
    return -1;
}

/* Sets or adds one class. */
static bool speeds_put(ct_route_speeds *s, const char *cls, double kmh)
{
    for (size_t i = 0; i < s->count; i++)
        if (!strcasecmp(s->items[i].road_class, cls)) {
            s->items[i].kmh = kmh;
            return true;
        }
    ct_route_speed *n = realloc(s->items, (s->count + 1) * sizeof *n);
    if (!n)
        return false;
    s->items = n;
    snprintf(n[s->count].road_class, sizeof n[s->count].road_class, "%s", cls);
    n[s->count].kmh = kmh;
    s->count++;
    return true;
}

/* Splits the next line off [*p, end): returns its bounds without "\r\n". */
static bool next_line(const char **p, const char *end, const char **ls, const char **le)
{
    if (*p >= end)
        return false;
    const char *s = *p, *e = s;
    while (e < end && *e != '\n')
        e++;
    *p = e < end ? e + 1 : end;
    while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    /* a UTF-8 byte-order mark on the first line */
    if (e - s >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
        s += 3;
    *ls = s;
    *le = e;
    return true;
}

/* Splits a CSV line at commas into at most max fields copied into buf. */
static int split_fields(const char *s, const char *e, char fields[][64], int max)
{
    int n = 0;
    while (n < max) {
        const char *c = s;
        while (c < e && *c != ',')
            c++;
        const char *a = s, *b = c;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b - a >= 2 && *a == '"' && b[-1] == '"') {
            a++;
            b--;
        }
        size_t len = (size_t)(b - a);
        if (len > 63)
            len = 63;
        memcpy(fields[n], a, len);
        fields[n][len] = 0;
        n++;
        if (c >= e)
            return n;
        s = c + 1;
    }
    return n + 1; /* too many */
}

static bool parse_double(const char *s, double *v)
{
    if (!*s)
        return false;
    char *end;
    *v = strtod(s, &end);
    return *end == 0 && isfinite(*v);
}

ct_status ct_route_speeds_parse(const char *text, size_t len, ct_route_speeds *out, ct_error *err)
{
    out->items = NULL;
    out->count = 0;
    const char *p = text, *end = text + len, *ls, *le;
    int line = 0;
    while (next_line(&p, end, &ls, &le)) {
        line++;
        if (ls == le || *ls == '#')
            continue;
        char f[3][64];
        int n = split_fields(ls, le, f, 2);
        double kmh;
        if (n == 2 && !parse_double(f[1], &kmh) && line == 1)
            continue; /* header "class,kmh" */
        if (n != 2 || !f[0][0] || !parse_double(f[1], &kmh) || kmh < 0 || kmh > 400) {
            ct_route_speeds_free(out);
            return ct_error_set(err, CT_ERR_INPUT, "line %d: expected 'class,kmh' with 0 <= kmh <= 400", line);
        }
        if (!speeds_put(out, f[0], kmh)) {
            ct_route_speeds_free(out);
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
    }
    return CT_OK;
}

ct_status ct_route_speeds_load(const char *path, ct_route_speeds *out, ct_error *err)
{
    ct_route_speeds_default(out);
    if (!path)
        return CT_OK;
    uint8_t *data;
    size_t size;
    ct_status st = ct_file_read(path, 16u << 20, &data, &size, err);
    if (st != CT_OK) {
        ct_route_speeds_free(out);
        return st;
    }
    ct_route_speeds rows;
    st = ct_route_speeds_parse((const char *)data, size, &rows, err);
    free(data);
    if (st != CT_OK) {
        ct_route_speeds_free(out);
        return ct_error_prefix(err, "%s: ", path);
    }
    for (size_t i = 0; i < rows.count; i++)
        speeds_put(out, rows.items[i].road_class, rows.items[i].kmh);
    ct_route_speeds_free(&rows);
    return CT_OK;
}

void ct_route_pairs_free(ct_route_pairs *p)
{
    if (!p)
        return;
    free(p->xy);
    p->xy = NULL;
    p->count = 0;
}

ct_status ct_route_pairs_parse(const char *text, size_t len, const char *name, ct_route_pairs *out, ct_error *err)
{
    out->xy = NULL;
    out->count = 0;
    size_t cap = 0;
    const char *p = text, *end = text + len, *ls, *le;
    int line = 0, col[4] = {-1, -1, -1, -1};
    static const char *const names[4] = {"from_x", "from_y", "to_x", "to_y"};
    bool header = false;
    while (next_line(&p, end, &ls, &le)) {
        line++;
        if (ls == le || *ls == '#')
            continue;
        char f[17][64];
        int n = split_fields(ls, le, f, 16);
        if (!header) {
            for (int i = 0; i < n && i < 16; i++)
                for (int k = 0; k < 4; k++)
                    if (!strcasecmp(f[i], names[k]))
                        col[k] = i;
            for (int k = 0; k < 4; k++)
                if (col[k] < 0)
                    return ct_error_set(err, CT_ERR_INPUT, "%s: line %d: header must name from_x,from_y,to_x,to_y",
                                        name, line);
            header = true;
            continue;
        }
        double v[4];
        for (int k = 0; k < 4; k++)
            if (col[k] >= n || col[k] >= 16 || !parse_double(f[col[k]], &v[k])) {
                ct_route_pairs_free(out);
                return ct_error_set(err, CT_ERR_INPUT, "%s: line %d: column %s is not a number", name, line,
                                    names[k]);
            }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 64;
            double *nx = realloc(out->xy, cap * 4 * sizeof *nx);
            if (!nx) {
                ct_route_pairs_free(out);
                return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            }
            out->xy = nx;
        }
        memcpy(out->xy + out->count * 4, v, sizeof v);
        out->count++;
    }
    if (!header)
        return ct_error_set(err, CT_ERR_INPUT, "%s: empty (expected a header from_x,from_y,to_x,to_y)", name);
    return CT_OK;
}

/* hstore as GDAL writes it: "k"=>"v","k2"=>"v2", with \" and \\ escapes. */
static const char *hstore_string(const char *p, char *buf, size_t cap)
{
    if (*p != '"')
        return NULL;
    p++;
    size_t n = 0;
    while (*p && *p != '"') {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < cap)
            buf[n++] = *p;
        p++;
    }
    if (*p != '"')
        return NULL;
    if (cap)
        buf[n < cap ? n : cap - 1] = 0;
    return p + 1;
}

bool ct_route_hstore_get(const char *hstore, const char *key, char *value, size_t cap)
{
    if (!hstore || !key || !value || cap == 0)
        return false;
    const char *p = hstore;
    char k[256], v[1024];
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            return false;
        p = hstore_string(p, k, sizeof k);
        if (!p)
            return false;
        while (*p == ' ')
            p++;
        if (p[0] != '=' || p[1] != '>')
            return false;
        p += 2;
        while (*p == ' ')
            p++;
        p = hstore_string(p, v, sizeof v);
        if (!p)
            return false;
        if (!strcmp(k, key)) {
            snprintf(value, cap, "%s", v);
            return true;
        }
    }
    return false;
}

int ct_route_oneway_parse(const char *v)
{
    if (!v || !*v)
        return 2;
    if (!strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "true"))
        return 1;
    if (!strcmp(v, "-1") || !strcasecmp(v, "reverse") || !strcasecmp(v, "backward"))
        return -1;
    if (!strcasecmp(v, "no") || !strcmp(v, "0") || !strcasecmp(v, "false"))
        return 0;
    return 2; /* "reversible", "alternating", unknown: treated by the caller */
}

double ct_route_maxspeed_parse(const char *v)
{
    if (!v || !*v)
        return -1;
    if (!strcasecmp(v, "walk"))
        return 5;
    char *end;
    double s = strtod(v, &end);
    if (end == v || !isfinite(s) || s <= 0 || s > 400)
        return -1; /* "none", "signals", country codes like "DE:urban" */
    while (*end == ' ')
        end++;
    if (!*end || !strcasecmp(end, "km/h") || !strcasecmp(end, "kmh") || !strcasecmp(end, "kph"))
        return s;
    if (!strcasecmp(end, "mph"))
        return s * 1.609344;
    if (!strcasecmp(end, "knots"))
        return s * 1.852;
    return -1;
}
