/* The --report HTML page: one file, no external reference, every string from
 * the inputs escaped. */
#include "report.h"
#include "report_internal.h"

#include "citytwin/ct_image.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef CT_VERSION
#define CT_VERSION "dev"
#endif

struct report {
    char *title, *command, *summary;
    rbuf inputs, figures, charts;
    report_map *map;
    char *json;
    double t0;
};

/* ------------------------------------------------------------- buffers */

void rbuf_add(rbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void rbuf_puts(rbuf *b, const char *s) { rbuf_add(b, s, strlen(s)); }

void rbuf_vprintf(rbuf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    char *tmp = malloc((size_t)n + 1);
    if (!tmp) {
        b->oom = true;
        return;
    }
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    rbuf_add(b, tmp, (size_t)n);
    free(tmp);
}

void rbuf_printf(rbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void rbuf_escape(rbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': rbuf_puts(b, "&amp;"); break;
        case '<': rbuf_puts(b, "&lt;"); break;
        case '>': rbuf_puts(b, "&gt;"); break;
        case '"': rbuf_puts(b, "&quot;"); break;
        case '\'': rbuf_puts(b, "&#39;"); break;
        default: rbuf_add(b, s, 1);
        }
    }
}

char *rbuf_take(rbuf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (!b->s)
        return calloc(1, 1);
    return b->s;
}

static char *vformat(const char *fmt, va_list ap)
{
    rbuf b = {0};
    rbuf_vprintf(&b, fmt, ap);
    return rbuf_take(&b);
}

char *report_escape(const char *s)
{
    rbuf b = {0};
    rbuf_escape(&b, s ? s : "");
    return rbuf_take(&b);
}

char *report_base64(const uint8_t *data, size_t size)
{
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((size + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < size; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        *o++ = T[v >> 18];
        *o++ = T[(v >> 12) & 63];
        *o++ = T[(v >> 6) & 63];
        *o++ = T[v & 63];
    }
    if (i < size) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < size ? (uint32_t)data[i + 1] << 8 : 0);
        *o++ = T[v >> 18];
        *o++ = T[(v >> 12) & 63];
        *o++ = i + 1 < size ? T[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = 0;
    return out;
}

/* ---------------------------------------------------------------- page */

report *report_create(const char *title, int argc, char **argv)
{
    report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->title = strdup(title ? title : "citytwin report");
    rbuf cmd = {0};
    rbuf_puts(&cmd, "citytwin analyze");
    for (int i = 0; i < argc; i++) {
        rbuf_puts(&cmd, " ");
        bool quote = argv[i][strcspn(argv[i], " \t\"'$")] != 0;
        if (quote)
            rbuf_puts(&cmd, "'");
        rbuf_add(&cmd, argv[i], strlen(argv[i]));
        if (quote)
            rbuf_puts(&cmd, "'");
    }
    r->command = rbuf_take(&cmd);
    r->t0 = ct_time_now();
    return r;
}

void report_destroy(report *r)
{
    if (!r)
        return;
    free(r->title);
    free(r->command);
    free(r->summary);
    free(r->inputs.s);
    free(r->figures.s);
    free(r->charts.s);
    free(r->json);
    report_map_destroy(r->map);
    free(r);
}

static void table_row(rbuf *b, const char *key, const char *value)
{
    rbuf_puts(b, "<tr><th>");
    rbuf_escape(b, key);
    rbuf_puts(b, "</th><td>");
    rbuf_escape(b, value);
    rbuf_puts(b, "</td></tr>\n");
}

void report_input(report *r, const char *key, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    table_row(&r->inputs, key, v);
    free(v);
}

void report_figure(report *r, const char *name, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    table_row(&r->figures, name, v);
    free(v);
}

void report_summary(report *r, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    va_start(ap, fmt);
    free(r->summary);
    r->summary = vformat(fmt, ap);
    va_end(ap);
}

void report_chart(report *r, char *svg)
{
    if (!r || !svg) {
        free(svg);
        return;
    }
    rbuf_puts(&r->charts, "<figure>");
    rbuf_add(&r->charts, svg, strlen(svg));
    rbuf_puts(&r->charts, "</figure>\n");
    free(svg);
}

void report_json(report *r, const cJSON *json)
{
    if (!r || !json)
        return;
    free(r->json);
    r->json = cJSON_Print(json);
}

void report_set_map(report *r, report_map *m)
{
    if (!r) {
        report_map_destroy(m);
        return;
    }
    report_map_destroy(r->map);
    r->map = m;
}

static const char CSS[] =
    "body{font-family:sans-serif;margin:2em auto;max-width:960px;color:#222;background:#fff}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.5em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse}th,td{text-align:left;padding:2px 10px;border-bottom:1px solid #eee;"
    "vertical-align:top}th{font-weight:600}code,pre{font-family:monospace;font-size:.9em;background:#f4f4f4}"
    "pre{padding:.5em;overflow:auto}.summary{font-size:1.1em;background:#eef5ff;padding:.6em;border-left:4px solid #36c}"
    "img.map{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}figure{margin:1em 0}"
    "svg.chart{font-size:11px;font-family:sans-serif}.meta{color:#777;font-size:.85em}";

ct_status report_write(report *r, const char *path, ct_error *err)
{
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
    rbuf b = {0};
    rbuf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    rbuf_escape(&b, r->title);
    rbuf_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n<h1>", CSS);
    rbuf_escape(&b, r->title);
    rbuf_puts(&b, "</h1>\n");
    if (r->summary) {
        rbuf_puts(&b, "<p class=\"summary\">");
        rbuf_escape(&b, r->summary);
        rbuf_puts(&b, "</p>\n");
    }
    rbuf_puts(&b, "<h2>Command</h2>\n<pre>");
    rbuf_escape(&b, r->command);
    rbuf_puts(&b, "</pre>\n");
    if (r->inputs.len) {
        rbuf_puts(&b, "<h2>Inputs</h2>\n<table class=\"inputs\">\n");
        rbuf_add(&b, r->inputs.s, r->inputs.len);
        rbuf_puts(&b, "</table>\n");
    }
    if (r->figures.len) {
        rbuf_puts(&b, "<h2>Key figures</h2>\n<table class=\"figures\">\n");
        rbuf_add(&b, r->figures.s, r->figures.len);
        rbuf_puts(&b, "</table>\n");
    }
    if (r->map) {
        uint8_t *png = NULL;
        size_t png_size = 0;
        ct_status st = report_map_encode(r->map, &png, &png_size, err);
        if (st != CT_OK) {
            free(b.s);
            return st;
        }
        char *b64 = report_base64(png, png_size);
        free(png);
        if (!b64) {
            free(b.s);
            return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        }
        double gt[6];
        report_map_geotransform(r->map, gt);
        rbuf_printf(&b,
                    "<h2>Map</h2>\n<img class=\"map\" alt=\"result map\" width=\"%d\" height=\"%d\" "
                    "data-geotransform=\"%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\" src=\"data:image/png;base64,",
                    report_map_width(r->map), report_map_height(r->map), gt[0], gt[1], gt[2], gt[3], gt[4], gt[5]);
        rbuf_add(&b, b64, strlen(b64));
        rbuf_puts(&b, "\">\n");
        free(b64);
    }
    if (r->charts.len) {
        rbuf_puts(&b, "<h2>Charts</h2>\n");
        rbuf_add(&b, r->charts.s, r->charts.len);
    }
    if (r->json) {
        rbuf_puts(&b, "<h2>JSON report</h2>\n<details><summary>JSON</summary>\n<pre class=\"json\">");
        rbuf_escape(&b, r->json);
        rbuf_puts(&b, "</pre></details>\n");
    }
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    rbuf_printf(&b, "<p class=\"meta\">citytwin %s, run %s, %.2f s</p>\n</body></html>\n", CT_VERSION, when,
                ct_time_now() - r->t0);
    char *s = rbuf_take(&b);
    if (!s)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
    ct_status st = ct_file_write(path, s, strlen(s), err);
    free(s);
    return st;
}
