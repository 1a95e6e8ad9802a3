/* Fuzz target: 3D Metadata property tables (EXT_structural_metadata).
 * Two input shapes:
 *   - a GLB ("glTF" magic): loaded as tile content (EXT_structural_metadata
 *     buffer views from the BIN chunk), then the properties of feature ids
 *     0..7 of the first primitives are decoded as a pick would;
 *   - JSON text, a NUL byte, then a binary blob: the JSON is
 *     {"schema": {...}, "propertyTables": [...], "views": [[offset, length], ...]}
 *     where views slice the blob (slices outside it become missing views);
 *     the first and last rows of every table are decoded. */
#include "citytwin/ct_tile_content.h"

#include <stdlib.h>
#include <string.h>

static void glb_case(const uint8_t *data, size_t size)
{
    ct_tile_content *c = NULL;
    ct_error err = {0};
    ct_tile_content_options o = {.skip_images = true};
    if (ct_tile_content_load_memory(data, size, &o, &c, &err) != CT_OK)
        return;
    for (uint32_t m = 0; m < c->model_count; m++)
        for (int mesh = 0; mesh < 2; mesh++)
            for (uint32_t f = 0; f < 8; f++)
                cJSON_Delete(ct_tile_content_pick_properties(c, m, mesh, 0, f, NULL));
    ct_tile_content_destroy(c);
}

static void table_case(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return;
    const uint8_t *blob = nul + 1;
    size_t blob_size = size - (size_t)(blob - data);
    cJSON *j = cJSON_ParseWithLength((const char *)data, (size_t)(nul - data));
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(j, "views");
    int nv = cJSON_GetArraySize(vs);
    if (nv > 256)
        nv = 256;
    ct_byte_view views[256];
    memset(views, 0, sizeof views);
    for (int i = 0; i < nv; i++) {
        const cJSON *v = cJSON_GetArrayItem(vs, i);
        double off = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 0)), len = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 1));
        if (off >= 0 && len >= 0 && off <= (double)blob_size && len <= (double)blob_size - off) {
            views[i].data = blob + (size_t)off;
            views[i].size = (size_t)len;
        }
    }
    ct_property_tables *t = NULL;
    ct_error err = {0};
    if (ct_property_tables_create(cJSON_GetObjectItemCaseSensitive(j, "schema"),
                                  cJSON_GetObjectItemCaseSensitive(j, "propertyTables"), views, (uint32_t)nv, "fuzz",
                                  &t, &err) == CT_OK) {
        uint32_t n = ct_property_tables_count(t);
        for (uint32_t k = 0; k < n && k < 16; k++) {
            uint32_t rows = ct_property_tables_rows(t, k);
            for (uint32_t r = 0; r < rows && r < 8; r++)
                cJSON_Delete(ct_property_tables_row(t, k, r));
            if (rows > 8)
                cJSON_Delete(ct_property_tables_row(t, k, rows - 1));
            ct_property_tables_class(t, k);
        }
        ct_property_tables_destroy(t);
    }
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4 && !memcmp(data, "glTF", 4))
        glb_case(data, size);
    else
        table_case(data, size);
    return 0;
}
