/* Fuzz target: a tileset.json in a temp folder, walked by ct_tileset_inspect
 * (tree building, implicit tiling declarations, external links). */
#include "citytwin/ct_tileset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void cleanup(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        atexit(cleanup);
        snprintf(dir, sizeof dir, "/tmp/ct_fuzz_tileset_%d", (int)getpid());
        char cmd[300];
        snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
        if (system(cmd) != 0)
            return 0;
    }
    char path[300];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ct_tileset_inspect_desc d = {.uri = path, .max_tiles = 20000};
    ct_tileset_report r;
    ct_error err = {0};
    if (ct_tileset_inspect(&d, &r, &err) == CT_OK)
        ct_tileset_report_free(&r);
    return 0;
}
