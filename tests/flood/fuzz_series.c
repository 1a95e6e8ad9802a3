/* Fuzz target: the flood time series CSV parser (rain, inflow hydrographs). */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_flood_series s;
    ct_error err = {0};
    if (ct_flood_series_parse((const char *)data, size, "fuzz.csv", &s, &err) == CT_OK) {
        /* the parser's promises: rows, finite values, strictly increasing times */
        if (s.n <= 0)
            abort();
        for (int i = 0; i < s.n; i++)
            if (!isfinite(s.t[i]) || !isfinite(s.v[i]) || (i > 0 && !(s.t[i] > s.t[i - 1])))
                abort();
        ct_flood_series_free(&s);
    } else if (!err.msg[0] || s.t || s.v) {
        abort(); /* a failure says why and leaves nothing allocated */
    }
    return 0;
}
