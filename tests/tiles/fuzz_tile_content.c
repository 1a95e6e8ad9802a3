/* Fuzz target for tile content (b3dm, i3dm, pnts, cmpt, glb). Built once per
 * format: with FUZZ_MAGIC defined the first four bytes are forced to that
 * magic, so the fuzzer spends its time inside one format's parser. After a
 * successful load it also reads feature properties, feature ids, float
 * instance matrices and what lies under a few points of every glTF primitive
 * (feature id / property textures and attributes), which index into the
 * decoded tables and images (decoded for inputs up to 64 KiB). */
#include "citytwin/ct_tile_content.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
#ifdef FUZZ_MAGIC
    if (size >= 4)
        memcpy(copy, FUZZ_MAGIC, 4);
#endif
    ct_log_set_level(CT_LOG_QUIET);
    ct_tile_content_options o = {.uri = "fuzz", .skip_images = size > 65536, .max_depth = 4};
    ct_tile_content *c = NULL;
    ct_error err = {0};
    if (ct_tile_content_load_memory(copy, size, &o, &c, &err) == CT_OK) {
        for (uint32_t m = 0; m < c->model_count; m++) {
            const ct_tile_model *md = &c->models[m];
            for (uint32_t f = 0; f < md->feature_count && f < 4; f++)
                cJSON_Delete(ct_tile_content_feature_properties(c, m, f));
            cJSON_Delete(ct_tile_content_feature_properties(c, m, md->feature_count));
            for (uint32_t i = 0; i < md->instance_count && i < 4; i++)
                ct_tile_model_instance_feature_id(md, i);
            for (uint32_t i = 0; i < md->points.count && i < 4; i++)
                ct_tile_model_point_feature_id(md, i);
            if (md->instance_count && md->instance_count < 4096) {
                float *fm = malloc((size_t)md->instance_count * 16 * sizeof(float));
                double origin[3] = {0, 0, 0};
                if (fm)
                    ct_tile_model_instance_matrices_float(md, origin, fm);
                free(fm);
            }
            for (uint32_t k = 0; md->gltf && k < md->gltf->mesh_count && k < 4; k++)
                for (uint32_t p = 0; p < md->gltf->meshes[k].primitive_count && p < 4; p++)
                    for (int q = 0; q < 2; q++) {
                        double local[3] = {q ? 1e30 : -7.5, 0, q ? -1e30 : 7.5};
                        cJSON_Delete(ct_tile_content_pick_point(c, m, (int)k, (int)p, local));
                    }
        }
        ct_tile_content_destroy(c);
    }
    free(copy);
    return 0;
}
