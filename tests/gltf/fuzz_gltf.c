/* libFuzzer target for the glTF reader (GLB container, JSON, accessors,
 * meshopt, Draco, images). Loaded from memory: no external files. Images are
 * decoded with a small pixel limit so the fuzzer explores decoders rather
 * than allocating huge frames. */
#include "citytwin/ct_gltf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet;
    if (!quiet) {
        ct_log_set_level(CT_LOG_QUIET);
        quiet = true;
    }
    ct_gltf_options o = {.name = "fuzz.glb", .max_image_pixels = 1 << 20};
    ct_gltf *g = NULL;
    ct_error err = {0};
    ct_status st = ct_gltf_load_memory(data, size, &o, &g, &err);
    /* On success every index must be in range: touch the data like a renderer would. */
    if (st == CT_OK) {
        volatile float sink = 0;
        for (uint32_t m = 0; m < g->mesh_count; m++)
            for (uint32_t p = 0; p < g->meshes[m].primitive_count; p++) {
                const ct_gltf_primitive *q = &g->meshes[m].primitives[p];
                for (uint32_t i = 0; i < q->index_count; i++)
                    sink += q->positions[(size_t)q->indices[i] * 3];
            }
        (void)sink;
    }
    ct_gltf_destroy(g);
    return 0;
}
