/* Shared between cli/report*.c: a growing string and the map's internals. */
#ifndef CT_CLI_REPORT_INTERNAL_H
#define CT_CLI_REPORT_INTERNAL_H

#include "report.h"

#include <stdarg.h>

typedef struct rbuf {
    char *s;
    size_t len, cap;
    bool oom;
} rbuf;

void rbuf_add(rbuf *b, const char *s, size_t n);
void rbuf_puts(rbuf *b, const char *s);
void rbuf_printf(rbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rbuf_vprintf(rbuf *b, const char *fmt, va_list ap);
void rbuf_escape(rbuf *b, const char *s);
/* The string (malloc'ed, "" when empty) or NULL when an append ran out of memory. */
char *rbuf_take(rbuf *b);

void report_map_destroy(report_map *m);
/* Draws scale bar, north arrow and legend, then encodes the PNG. */
ct_status report_map_encode(report_map *m, uint8_t **png, size_t *size, ct_error *err);
/* GDAL-style geotransform of the map's pixels (north-up). */
void report_map_geotransform(const report_map *m, double gt[6]);

#endif
