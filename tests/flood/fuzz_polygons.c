/* Fuzz target: the extent polygonizer on arbitrary wet masks. The first
 * byte is the width (1..64), every following bit one cell (row-major). */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1 + 64 * 64 / 8)
        return 0;
    int w = 1 + data[0] % 64, n = (int)(size - 1) * 8, h = n / w;
    if (h < 1)
        return 0;
    ct_raster *r = ct_raster_create(w, h, NULL);
    long wet = 0;
    for (int i = 0; i < w * h; i++) {
        bool on = data[1 + i / 8] >> (i % 8) & 1;
        r->data[i] = on ? 1.0f : NAN;
        wet += on;
    }
    ct_flood_polygons p;
    ct_error err = {0};
    if (ct_flood_polygons_build(r, &p, &err) != CT_OK)
        abort(); /* any mask has polygons */
    int64_t cells = 0;
    for (int k = 0; k < p.n_polygons; k++) {
        if (p.cells[k] < 1 || p.ring_first[k + 1] <= p.ring_first[k])
            abort();
        cells += p.cells[k];
        for (int ring = p.ring_first[k]; ring < p.ring_first[k + 1]; ring++) {
            size_t m = p.ring_count[ring];
            const int32_t *v = p.xy + 2 * p.ring_start[ring];
            int64_t a2 = 0;
            if (m < 4 || m % 2)
                abort(); /* rectilinear rings turn an even number of times */
            for (size_t i = 0; i < m; i++) {
                const int32_t *c = v + 2 * i, *e = v + 2 * ((i + 1) % m);
                if (c[0] < 0 || c[0] > w || c[1] < 0 || c[1] > h || ((c[0] == e[0]) == (c[1] == e[1])))
                    abort(); /* inside the grid, each side horizontal or vertical */
                a2 += (int64_t)c[0] * e[1] - (int64_t)e[0] * c[1];
            }
            if ((ring == p.ring_first[k]) != (a2 > 0))
                abort(); /* the exterior first, holes the other way round */
        }
    }
    if (cells != wet)
        abort();
    ct_flood_polygons_free(&p);
    ct_raster_destroy(r);
    return 0;
}
