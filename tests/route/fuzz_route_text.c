/* Fuzz target for the routing text parsers: speeds CSV, pairs CSV, OSM
 * hstore tags, oneway and maxspeed values. The first byte picks the parser. */
#include "citytwin/ct_route.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    ct_error err;
    switch (data[0] % 3) {
    case 0: {
        ct_route_speeds s;
        if (ct_route_speeds_parse(text, len, &s, &err) == CT_OK)
            ct_route_speeds_free(&s);
        break;
    }
    case 1: {
        ct_route_pairs p;
        if (ct_route_pairs_parse(text, len, "fuzz.csv", &p, &err) == CT_OK)
            ct_route_pairs_free(&p);
        break;
    }
    default: {
        /* hstore and tag values want NUL-terminated strings */
        char *z = malloc(len + 1);
        if (!z)
            return 0;
        memcpy(z, text, len);
        z[len] = 0;
        char v[64];
        ct_route_hstore_get(z, "oneway", v, sizeof v);
        ct_route_hstore_get(z, "maxspeed", v, sizeof v);
        ct_route_oneway_parse(z);
        ct_route_maxspeed_parse(z);
        free(z);
        break;
    }
    }
    return 0;
}
