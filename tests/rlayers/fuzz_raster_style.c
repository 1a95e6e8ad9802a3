/* Fuzz target: a terrain/raster layer's "style" (ramps, colours, heights)
 * must never crash, leak or abort on any JSON; a parsed ramp is applied to a
 * few values, including the extremes. */
#include "citytwin/ct_raster_layer.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    for (int t = 0; t < 2; t++) {
        ct_raster_style s;
        ct_error err;
        if (ct_raster_style_parse(j, t ? CT_LAYER_TERRAIN : CT_LAYER_RASTER, "fuzz", &s, &err) != CT_OK)
            continue;
        const double v[] = {-INFINITY, -1e300, -1, 0, 0.5, 1, 255, 1e300, INFINITY};
        uint8_t c[4];
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
            ct_color_ramp_apply(&s.ramp, v[i], s.has_min ? s.min : 0, s.has_max ? s.max : 1, c);
    }
    cJSON_Delete(j);
    return 0;
}
