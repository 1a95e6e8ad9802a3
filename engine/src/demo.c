/* Demo district generator (docs/demo.md). */
#include "citytwin/ct_demo.h"

const char *const ct_demo_files[] = {NULL};

ct_status ct_demo_generate(const char *out_dir, const ct_demo_desc *desc, ct_error *err)
{
    (void)out_dir;
    (void)desc;
    return ct_error_set(err, CT_ERR_RUNTIME, "demo generator: not implemented yet");
}

ct_status ct_demo_scene_path(char *out, size_t n, ct_error *err)
{
    if (n)
        out[0] = 0;
    return ct_error_set(err, CT_ERR_RUNTIME, "demo generator: not implemented yet");
}
