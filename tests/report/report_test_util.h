/* Helpers of the --report tests: run the CLI, check the page with
 * check_html.py, decode the map PNG and look at the pixel of a world point. */
#ifndef REPORT_TEST_UTIL_H
#define REPORT_TEST_UTIL_H

#include "citytwin/ct_image.h"
#include "ct_test.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CT_REQUIRE for helpers returning bool. */
#define RT_REQ(cond)                                                                                      \
    do {                                                                                                  \
        if (!(cond)) {                                                                                    \
            fprintf(stderr, "%s:%d: [%s] required check failed: %s\n", __FILE__, __LINE__, ct_test_current, \
                    #cond);                                                                               \
            ct_test_failures++;                                                                           \
            return false;                                                                                 \
        }                                                                                                 \
    } while (0)

/* Runs "citytwin analyze ARGS" (ct_test_run_cli) with stdout copied into the
 * caller's fixed buffer OUT (cut to OUT_SIZE - 1 bytes); returns the exit status. */
static inline int rt_cli(const char *args, char *out, size_t out_size)
{
    char cmd[8192], *o = NULL;
    snprintf(cmd, sizeof cmd, "analyze %s", args);
    int rc = ct_test_run_cli(cmd, &o, NULL);
    snprintf(out, out_size, "%s", o);
    free(o);
    return rc;
}

typedef struct rt_page {
    char *html;
    cJSON *counts;     /* from check_html.py */
    ct_image map;
    double gt[6];
} rt_page;

static inline void rt_page_free(rt_page *p)
{
    free(p->html);
    cJSON_Delete(p->counts);
    ct_image_free(&p->map);
    memset(p, 0, sizeof *p);
}

static inline int rt_b64(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Loads and checks a page: parses with check_html.py (balanced, no external
 * reference), decodes the map's data URI PNG and checks its size against the
 * img's width/height. Returns false (with CT_CHECK failures) on any problem. */
static inline bool rt_page_load(const char *path, rt_page *p)
{
    memset(p, 0, sizeof *p);
    uint8_t *data;
    size_t size;
    ct_error err = {0};
    RT_REQ(ct_file_read(path, 64u << 20, &data, &size, &err) == CT_OK);
    p->html = (char *)data;
    CT_CHECK(strstr(p->html, "http") == NULL); /* no URL at all, not even in text */
    char cmd[1024], out[65536];
    snprintf(cmd, sizeof cmd, "python3 %s/tests/report/check_html.py %s", CT_SOURCE_DIR, path);
    FILE *f = popen(cmd, "r");
    RT_REQ(f != NULL);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int rc = pclose(f);
    CT_CHECK(WIFEXITED(rc) && WEXITSTATUS(rc) == 0);
    p->counts = cJSON_Parse(out);
    RT_REQ(p->counts != NULL);
    const char *img = strstr(p->html, "<img class=\"map\"");
    if (!img)
        return true; /* no map: callers check imgs */
    int w = 0, h = 0;
    const char *ws = strstr(img, "width=\""), *hs = strstr(img, "height=\""), *gs = strstr(img, "data-geotransform=\"");
    RT_REQ(ws && hs && gs);
    w = atoi(ws + 7);
    h = atoi(hs + 8);
    RT_REQ(sscanf(gs + 19, "%lf,%lf,%lf,%lf,%lf,%lf", &p->gt[0], &p->gt[1], &p->gt[2], &p->gt[3], &p->gt[4],
                      &p->gt[5]) == 6);
    const char *b = strstr(img, "src=\"data:image/png;base64,");
    RT_REQ(b != NULL);
    b += strlen("src=\"data:image/png;base64,");
    const char *e = strchr(b, '"');
    RT_REQ(e != NULL);
    size_t len = (size_t)(e - b);
    uint8_t *png = malloc(len / 4 * 3 + 3);
    size_t pn = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = rt_b64(b[i]);
        if (v < 0)
            break; /* '=' padding */
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            png[pn++] = (uint8_t)(acc >> bits);
        }
    }
    ct_status st = ct_image_decode(png, pn, &p->map, &err);
    free(png);
    RT_REQ(st == CT_OK);
    CT_CHECK_EQ_INT(p->map.width, w);
    CT_CHECK_EQ_INT(p->map.height, h);
    return true;
}

/* The map pixel under world (x, y) (north-up geotransform of the page). */
static inline const uint8_t *rt_pixel(const rt_page *p, double x, double y)
{
    int px = (int)floor((x - p->gt[0]) / p->gt[1]), py = (int)floor((y - p->gt[3]) / p->gt[5]);
    if (px < 0 || py < 0 || px >= p->map.width || py >= p->map.height)
        return NULL;
    return p->map.pixels + ((size_t)py * p->map.width + px) * 4;
}

static inline bool rt_is_blue(const uint8_t *c) { return c && c[2] > c[0] + 50 && c[2] > c[1] + 20; }
static inline bool rt_is_green(const uint8_t *c) { return c && c[1] > c[0] + 40 && c[1] > c[2] + 40; }
/* The hillshaded background: greyish-green, blue below green. */
static inline bool rt_is_background(const uint8_t *c) { return c && c[2] < c[1] && abs(c[0] - c[1]) < 40; }

static inline int rt_count(const rt_page *p, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(p->counts, key);
    return cJSON_IsNumber(v) ? v->valueint : -1;
}

static inline double rt_bar_sum(const rt_page *p, int first, int n)
{
    cJSON *a = cJSON_GetObjectItem(p->counts, "bar_values");
    double s = 0;
    for (int i = first; i < first + n; i++) {
        cJSON *v = cJSON_GetArrayItem(a, i);
        s += v ? v->valuedouble : NAN;
    }
    return s;
}

/* Whether python3 runs (the page checks need it). */
static inline bool rt_have_python(void)
{
    static int have = -1;
    if (have < 0)
        have = ct_test_sh("python3 -c 'import html.parser' >/dev/null 2>&1") == 0;
    return have;
}

#endif
