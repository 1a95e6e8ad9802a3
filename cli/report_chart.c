/* Inline SVG charts for the report: line charts (hydrographs, profiles), bar
 * charts (counts, times) and histograms. Plain SVG 1.1, no script. */
#include "report.h"
#include "report_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 640
#define H 280
#define L 64 /* plot area margins */
#define R 16
#define T 30
#define B 48

static const char *const PALETTE[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

static void header(rbuf *b, const char *kind, int count, const char *title)
{
    rbuf_printf(b,
                "<svg class=\"chart %s\" data-count=\"%d\" width=\"%d\" "
                "height=\"%d\" viewBox=\"0 0 %d %d\">\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
                "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">",
                kind, count, W, H, W, H, W, H, W / 2);
    rbuf_escape(b, title);
    rbuf_puts(b, "</text>\n");
}

/* A round-ish tick label. */
static void num(rbuf *b, double v)
{
    double a = fabs(v);
    if (a != 0 && (a >= 1e6 || a < 1e-3))
        rbuf_printf(b, "%.2e", v);
    else if (a >= 100)
        rbuf_printf(b, "%.0f", v);
    else
        rbuf_printf(b, "%.3g", v);
}

static void axes(rbuf *b, double x0, double x1, double y0, double y1, const char *xlabel, const char *ylabel,
                 bool x_ticks)
{
    rbuf_printf(b, "<path d=\"M%d %d V%d H%d\" stroke=\"#333\" fill=\"none\"/>\n", L, T, H - B, W - R);
    for (int k = 0; k <= 4; k++) {
        double v = y0 + (y1 - y0) * k / 4;
        double py = (H - B) - (double)(H - B - T) * k / 4;
        rbuf_printf(b, "<path d=\"M%d %.1f H%d\" stroke=\"#eee\"/>", L + 1, py, W - R);
        rbuf_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", L - 4, py + 4);
        num(b, v);
        rbuf_puts(b, "</text>\n");
        if (x_ticks) {
            double xv = x0 + (x1 - x0) * k / 4, px = L + (double)(W - L - R) * k / 4;
            rbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", px, H - B + 14);
            num(b, xv);
            rbuf_puts(b, "</text>\n");
        }
    }
    rbuf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (L + W - R) / 2, H - 8);
    rbuf_escape(b, xlabel);
    rbuf_printf(b, "</text>\n<text x=\"14\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 14 %d)\">",
                (T + H - B) / 2, (T + H - B) / 2);
    rbuf_escape(b, ylabel);
    rbuf_puts(b, "</text>\n");
}

char *report_chart_lines(const char *title, const char *xlabel, const char *ylabel, const report_series *s, int n)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < n; k++)
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                continue;
            x0 = fmin(x0, s[k].x[i]);
            x1 = fmax(x1, s[k].x[i]);
            y0 = fmin(y0, s[k].y[i]);
            y1 = fmax(y1, s[k].y[i]);
        }
    if (!(x1 >= x0)) {
        x0 = 0;
        x1 = 1;
        y0 = 0;
        y1 = 1;
    }
    if (x1 == x0)
        x1 = x0 + 1;
    if (y0 > 0 && y0 < 0.5 * y1)
        y0 = 0; /* start at zero when that costs little */
    if (y1 == y0)
        y1 = y0 + 1;
    rbuf b = {0};
    header(&b, "lines", n, title);
    axes(&b, x0, x1, y0, y1, xlabel, ylabel, true);
    for (int k = 0; k < n; k++) {
        const char *col = PALETTE[k % 10];
        rbuf_printf(&b, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
        for (int i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                continue;
            double px = L + (s[k].x[i] - x0) / (x1 - x0) * (W - L - R);
            double py = (H - B) - (s[k].y[i] - y0) / (y1 - y0) * (H - B - T);
            rbuf_printf(&b, "%.1f,%.1f ", px, py);
        }
        rbuf_puts(&b, "\"/>\n");
        if (s[k].name) {
            int lx = L + 10 + (k % 4) * 140, ly = T + 12 + (k / 4) * 14;
            rbuf_printf(&b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"3\" fill=\"%s\"/><text x=\"%d\" y=\"%d\">",
                        lx, ly - 4, col, lx + 14, ly);
            rbuf_escape(&b, s[k].name);
            rbuf_puts(&b, "</text>\n");
        }
    }
    rbuf_puts(&b, "</svg>");
    return rbuf_take(&b);
}

char *report_chart_bars(const char *title, const char *ylabel, const char *const *labels, const double *values, int n)
{
    double y1 = 0, y0 = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(values[i])) {
            y1 = fmax(y1, values[i]);
            y0 = fmin(y0, values[i]);
        }
    if (y1 == y0)
        y1 = y0 + 1;
    rbuf b = {0};
    header(&b, "bars", n, title);
    axes(&b, 0, 1, y0, y1, "", ylabel, false);
    double slot = n > 0 ? (double)(W - L - R) / n : 1;
    double zero = (H - B) - (0 - y0) / (y1 - y0) * (H - B - T);
    int every = n > 24 ? (n + 23) / 24 : 1; /* thin out labels of many bars */
    for (int i = 0; i < n; i++) {
        double v = isfinite(values[i]) ? values[i] : 0;
        double py = (H - B) - (v - y0) / (y1 - y0) * (H - B - T);
        double top = fmin(py, zero), hgt = fabs(zero - py);
        rbuf_printf(&b,
                    "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>",
                    L + slot * i + slot * 0.1, top, slot * 0.8, hgt, PALETTE[0]);
        if (labels && labels[i])
            rbuf_escape(&b, labels[i]);
        rbuf_puts(&b, ": ");
        num(&b, values[i]);
        rbuf_puts(&b, "</title></rect>\n");
        if (labels && labels[i] && i % every == 0) {
            rbuf_printf(&b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", L + slot * (i + 0.5), H - B + 14);
            rbuf_escape(&b, labels[i]);
            rbuf_puts(&b, "</text>\n");
        }
    }
    rbuf_puts(&b, "</svg>");
    return rbuf_take(&b);
}

char *report_chart_histogram(const char *title, const char *xlabel, const float *values, size_t n, int bins)
{
    if (bins <= 0)
        bins = 20;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i])) {
            lo = fmin(lo, values[i]);
            hi = fmax(hi, values[i]);
        }
    if (!(hi >= lo))
        lo = 0, hi = 1;
    if (hi == lo)
        hi = lo + 1;
    double *counts = calloc((size_t)bins, sizeof *counts);
    char **labels = calloc((size_t)bins, sizeof *labels);
    char *svg = NULL;
    if (counts && labels) {
        for (size_t i = 0; i < n; i++)
            if (isfinite(values[i])) {
                int k = (int)((values[i] - lo) / (hi - lo) * bins);
                counts[k >= bins ? bins - 1 : k < 0 ? 0 : k]++;
            }
        bool ok = true;
        for (int k = 0; k < bins && ok; k++) {
            labels[k] = malloc(32);
            ok = labels[k] != NULL;
            if (ok)
                snprintf(labels[k], 32, "%.3g", lo + (hi - lo) * (k + 0.5) / bins);
        }
        if (ok) {
            rbuf t = {0};
            rbuf_printf(&t, "%s (%s, %d bins from %.3g to %.3g)", title, xlabel, bins, lo, hi);
            char *tt = rbuf_take(&t);
            if (tt)
                svg = report_chart_bars(tt, "cells", (const char *const *)labels, counts, bins);
            free(tt);
        }
    }
    for (int k = 0; labels && k < bins; k++)
        free(labels[k]);
    free(labels);
    free(counts);
    return svg;
}

report_rgba report_palette(int k)
{
    unsigned v = (unsigned)strtoul(PALETTE[(k < 0 ? 0 : k) % 10] + 1, NULL, 16);
    report_rgba c = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v, 255};
    return c;
}
