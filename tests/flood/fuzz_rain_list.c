/* Fuzz target: the rain raster list CSV parser (--rain-rasters: time_s,path). */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_flood_rain_list l;
    ct_error err = {0};
    if (ct_flood_rain_list_parse((const char *)data, size, "fuzz.csv", "base", &l, &err) == CT_OK) {
        /* the parser's promises: rows, finite strictly increasing times, non-empty paths under base */
        if (l.n <= 0)
            abort();
        for (int i = 0; i < l.n; i++)
            if (!isfinite(l.frames[i].t) || (i > 0 && !(l.frames[i].t > l.frames[i - 1].t)) || !l.frames[i].path ||
                !l.frames[i].path[0] || (l.frames[i].path[0] != '/' && strncmp(l.frames[i].path, "base/", 5)))
                abort();
        ct_flood_rain_list_free(&l);
    } else if (!err.msg[0] || l.frames || l.n) {
        abort(); /* a failure says why and leaves nothing allocated */
    }
    return 0;
}
