/* Fuzz target: the scene parser must never crash, leak or abort on any bytes. */
#include "citytwin/ct_scene.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_scene *s = NULL;
    ct_error err;
    if (ct_scene_load_memory(data, size, "fuzz/scene.json", &s, &err) == CT_OK) {
        ct_scene_find_camera(s, "overview");
        for (uint32_t i = 0; i < s->layer_count; i++) {
            double m[16];
            ct_scene_layer_to_ecef(s, &s->layers[i], m);
        }
        ct_scene_destroy(s);
    }
    return 0;
}
