/* Time series CSVs of the dynamic flood (rain mm/h, inflow hydrographs m³/s):
 * two columns time_s,value. Parsed from a length-bounded buffer (no reliance
 * on a terminating NUL) so that any byte sequence is safe; see the fuzz target
 * tests/flood/fuzz_series.c. */
#include "citytwin/ct_flood.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 64

static bool is_space(char c) { return c == ' ' || c == '\t'; }
static bool is_sep(char c) { return c == ',' || c == ';' || c == '\t' || c == ' '; }

/* Splits one line (without its end) into at most 3 fields; returns the count. */
static int split(const char *s, size_t n, const char *field[3], size_t flen[3])
{
    int k = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_space(s[i]))
            i++;
        if (i >= n)
            break;
        size_t start = i;
        while (i < n && !is_sep(s[i]))
            i++;
        if (k < 3) {
            field[k] = s + start;
            flen[k] = i - start;
        }
        k++;
        while (i < n && is_space(s[i]))
            i++;
        if (i < n && (s[i] == ',' || s[i] == ';'))
            i++;
    }
    return k;
}

typedef enum { NUM_OK, NUM_BAD, NUM_NONFINITE, NUM_LONG } num_status;

static num_status parse_num(const char *s, size_t n, double *v)
{
    char buf[FIELD_MAX];
    if (n == 0)
        return NUM_BAD;
    if (n >= sizeof buf)
        return NUM_LONG;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    errno = 0;
    *v = strtod(buf, &end);
    if (end == buf || *end)
        return NUM_BAD;
    if (!isfinite(*v))
        return NUM_NONFINITE;
    return NUM_OK;
}

ct_status ct_flood_series_parse(const char *text, size_t len, const char *name, ct_flood_series *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "series";
    size_t pos = 0;
    if (len >= 3 && (uint8_t)text[0] == 0xEF && (uint8_t)text[1] == 0xBB && (uint8_t)text[2] == 0xBF)
        pos = 3; /* UTF-8 byte order mark */
    size_t cap = 0;
    double *t = NULL, *v = NULL;
    int n = 0;
    long line = 0;
    ct_status st = CT_OK;
    while (pos < len && st == CT_OK) {
        size_t start = pos;
        while (pos < len && text[pos] != '\n' && text[pos] != '\r')
            pos++;
        size_t end = pos;
        /* \n, \r\n or a lone \r ends a line */
        if (pos < len && text[pos] == '\r')
            pos++;
        if (pos < len && text[pos] == '\n')
            pos++;
        line++;
        const char *s = text + start;
        size_t ln = end - start;
        size_t i = 0;
        while (i < ln && is_space(s[i]))
            i++;
        if (i == ln || s[i] == '#')
            continue; /* blank line or comment */
        if (memchr(s, 0, ln)) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: NUL byte (not a text CSV)", name, line);
            break;
        }
        const char *f[3] = {0};
        size_t fl[3] = {0};
        int nf = split(s, ln, f, fl);
        double a = 0, b = 0;
        num_status sa = parse_num(f[0], fl[0], &a);
        if (sa == NUM_BAD && n == 0)
            continue; /* a header line before the first row */
        if (nf != 2) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: expected 2 columns time_s,value, found %d", name, line, nf);
            break;
        }
        num_status sb = parse_num(f[1], fl[1], &b);
        num_status bad = sa != NUM_OK ? sa : sb;
        const char *col = sa != NUM_OK ? "time" : "value";
        if (bad == NUM_BAD) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: %s is not a number", name, line, col);
            break;
        }
        if (bad == NUM_NONFINITE) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: %s is not a finite number", name, line, col);
            break;
        }
        if (bad == NUM_LONG) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: %s field longer than %d characters", name, line, col,
                              FIELD_MAX - 1);
            break;
        }
        if (n > 0 && !(a > t[n - 1])) {
            st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: time %g is not after the previous %g (times must increase)",
                              name, line, a, t[n - 1]);
            break;
        }
        if ((size_t)n == cap) {
            if (n >= CT_FLOOD_SERIES_MAX_ROWS) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s:%ld: more than %d rows", name, line, CT_FLOOD_SERIES_MAX_ROWS);
                break;
            }
            size_t nc = cap ? cap * 2 : 64;
            double *t2 = realloc(t, nc * sizeof *t);
            if (t2)
                t = t2;
            double *v2 = t2 ? realloc(v, nc * sizeof *v) : NULL;
            if (v2)
                v = v2;
            if (!t2 || !v2) {
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", name);
                break;
            }
            cap = nc;
        }
        t[n] = a;
        v[n++] = b;
    }
    if (st == CT_OK && n == 0)
        st = ct_error_set(err, CT_ERR_INPUT, "%s: no time_s,value rows", name);
    if (st != CT_OK) {
        free(t);
        free(v);
        return st;
    }
    out->n = n;
    out->t = t;
    out->v = v;
    return CT_OK;
}

ct_status ct_flood_series_load(const char *path, ct_flood_series *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *data;
    size_t size;
    ct_status st = ct_file_read(path, CT_FLOOD_SERIES_MAX_BYTES, &data, &size, err);
    if (st != CT_OK)
        return st;
    st = ct_flood_series_parse((const char *)data, size, path, out, err);
    free(data);
    return st;
}

void ct_flood_series_free(ct_flood_series *s)
{
    if (!s)
        return;
    free((double *)s->t);
    free((double *)s->v);
    memset(s, 0, sizeof *s);
}
