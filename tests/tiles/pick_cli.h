/* `citytwin pick` as the tiles tests run it: one pick at a pixel of a
 * 320x240 view, waiting for full detail, its --json answer parsed. */
#ifndef CT_TILES_PICK_CLI_H
#define CT_TILES_PICK_CLI_H

#include "ct_test.h"

#include <cjson/cJSON.h>

/* Picks PIXEL ("x,y") in INPUT seen from CAMERA; EXTRA (may be NULL) adds
 * options. Returns the parsed JSON (cJSON_Delete it), or NULL after logging
 * the command, its exit status and its stdout when it failed. */
static inline cJSON *tiles_pick_cli(const char *input, const char *camera, const char *pixel, const char *extra)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "pick '%s' --camera %s --pixel %s --size 320x240 --wait --json %s", input, camera,
             pixel, extra ? extra : "");
    int rc = ct_test_run_cli(args, &out, NULL);
    cJSON *j = rc == 0 && out ? cJSON_Parse(out) : NULL;
    if (!j)
        fprintf(stderr, "pick %s -> exit %d: %s\n", args, rc, out ? out : "");
    free(out);
    return j;
}

#endif
