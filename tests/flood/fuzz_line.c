/* Fuzz target: the --inflow-line text (WKT LINESTRING/MULTILINESTRING or
 * "X1,Y1;X2,Y2;...") and the cells such a line crosses on a small grid.
 * Inputs that would be taken as a file name are skipped (no files opened). */
#include "citytwin/ct_flood.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool literal_line(const char *s)
{
    const char *t = s;
    while (isspace((unsigned char)*t))
        t++;
    if (!strncasecmp(t, "LINESTRING", 10) || !strncasecmp(t, "MULTILINESTRING", 15))
        return true;
    return strchr(s, ';') || (s[0] && strchr("+-.0123456789", s[0]) && strchr(s, ','));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = 0;
    if (!literal_line(spec)) {
        free(spec);
        return 0;
    }
    double *xy = NULL;
    int n = 0;
    ct_error err = {0};
    if (ct_flood_line_read(spec, NULL, NULL, &xy, &n, &err) == CT_OK) {
        /* the promises: at least two points and a NAN separator at the end */
        if (!xy || n < 3 || !isnan(xy[2 * (n - 1)]))
            abort();
        ct_raster *dem = ct_raster_create(16, 16, NULL); /* cells 1 x 1, origin (0, 0), y down */
        if (dem) {
            long *cells = NULL;
            double *len = NULL, outside = 0;
            int nc = 0;
            if (ct_flood_line_cells(dem, xy, n, &cells, &len, &nc, &outside, &err) == CT_OK) {
                for (int i = 0; i < nc; i++)
                    if (cells[i] < 0 || cells[i] >= 256 || !(len[i] >= 0))
                        abort();
            }
            free(cells);
            free(len);
            ct_raster_destroy(dem);
        }
        free(xy);
    } else if (!err.msg[0] || xy) {
        abort(); /* a failure says why and hands back nothing */
    }
    free(spec);
    return 0;
}
