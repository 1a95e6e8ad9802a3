/* Fuzz target: a vector layer's "style" (colours, color_by, widths, extrude,
 * heights, where, labels) must never crash, leak or abort on any JSON. The style is
 * applied to a fixed small GeoJSON (a point, a line, a polygon with a hole,
 * attributes of every kind) read through OGR, so each key reaches the code
 * that uses it. */
#include "citytwin/ct_text.h"
#include "citytwin/ct_vector.h"

#include <stdio.h>
#include <stdlib.h>

static const char *SOURCE =
    "{\"type\":\"FeatureCollection\",\"features\":["
    "{\"type\":\"Feature\",\"properties\":{\"kind\":\"hydrant\",\"h\":12.5,\"n\":3},"
    "\"geometry\":{\"type\":\"Point\",\"coordinates\":[10,20]}},"
    "{\"type\":\"Feature\",\"properties\":{\"kind\":\"road\",\"h\":-1,\"n\":null},"
    "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[50,0],[50,40]]}},"
    "{\"type\":\"Feature\",\"properties\":{\"kind\":\"building\",\"h\":\"tall\",\"n\":1e300},"
    "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[40,0],[40,40],[0,40],[0,0]],"
    "[[10,10],[20,10],[20,20],[10,20],[10,10]]]}}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *style = cJSON_ParseWithLength((const char *)data, size);
    if (!style)
        return 0;
    ct_vector_desc d = {.source = SOURCE, .name = "fuzz", .style = style};
    ct_vector *v = NULL;
    ct_error err;
    if (ct_vector_build(&d, &v, &err) == CT_OK) {
        /* label texts go through the shaper as the render layer does */
        static ct_font *font;
        static bool tried;
        if (!tried && ct_font_create(NULL, &font, &err) != CT_OK)
            font = NULL;
        tried = true;
        size_t n = 0;
        const ct_vector_label *labels = ct_vector_labels(v, &n);
        ct_vector_label_style ls;
        ct_vector_get_label_style(v, &ls);
        for (size_t i = 0; font && i < n; i++) {
            ct_text_line line;
            if (ct_font_shape(font, labels[i].text, ls.size_px, &line, &err) == CT_OK)
                ct_text_line_free(&line);
        }
        ct_vector_destroy(v);
    }
    else if (getenv("CT_FUZZ_VERBOSE"))
        fprintf(stderr, "%s\n", err.msg);
    float c[4];
    for (const cJSON *k = cJSON_IsObject(style) ? style->child : NULL; k; k = k->next)
        ct_vector_parse_color(k, c);
    cJSON_Delete(style);
    return 0;
}
