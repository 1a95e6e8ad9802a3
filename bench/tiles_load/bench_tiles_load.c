/* Loading figures for docs/3dtiles.md: the photogrammetry sample (293 b3dm
 * tiles, JPEG textures) walked by ct_tileset_inspect (`tiles info`) and
 * streamed through the worker pool until every wanted tile is decoded
 * (ct_tile_content, textures decoded), with 1 and 2 workers, base and
 * skip-levels traversal. No peer tool is installed for this (CesiumJS would
 * need a browser), so only absolute figures are printed.
 *
 * usage: bench_tiles_load [TILESET] [REPEAT] */
#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ct_status decode(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                        const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    ct_tile_content_options o = {.uri = uri, .tile_transform = tile_transform};
    ct_tile_content *c = NULL;
    ct_status st = ct_tile_content_load_memory(data, size, &o, &c, err);
    *decoded = c;
    *cpu_bytes = size;
    return st;
}

static void free_decoded(void *user, void *d) { ct_tile_content_destroy(d); }

static void stream(const char *path, int workers, bool skip, bool decode_on)
{
    ct_tileset_desc d = {.uri = path, .workers = workers, .skip_levels = skip, .max_sse = 1e-6,
                         .max_requests_in_flight = 32};
    if (decode_on)
        d.callbacks = (ct_tileset_callbacks){.decode = decode, .free_decoded = free_decoded};
    double t0 = ct_time_now();
    ct_tileset *ts = NULL;
    ct_error err = {0};
    if (ct_tileset_create(&d, &ts, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    v.viewport_height = 1080;
    v.fovy = M_PI / 3;
    const ct_tile *root = ct_tileset_root(ts);
    ct_tileset_frame fr;
    double t_first = -1;
    for (int i = 0; i < 200000; i++) {
        ct_tileset_update(ts, &v, &fr, NULL);
        if (root->box_valid)
            v.position = (ct_dvec3){root->box.center.x, root->box.center.y, root->box.center.z + 2000};
        if (t_first < 0 && fr.n_draws > 0)
            t_first = ct_time_now() - t0;
        if (fr.stats.all_loaded)
            break;
        struct timespec s = {0, 500000};
        nanosleep(&s, NULL);
    }
    double t = ct_time_now() - t0;
    printf("stream %-6s %-5s workers %d: first frame %.3f s, all %d drawn tiles loaded %.3f s, %llu loads, %.1f MB "
           "resident\n",
           decode_on ? "decode" : "bytes", skip ? "skip" : "base", workers, t_first, fr.n_draws, t,
           (unsigned long long)fr.stats.loads_total, fr.stats.bytes_used / 1e6);
    ct_tileset_destroy(ts);
}

int main(int argc, char **argv)
{
    char def[4096];
    snprintf(def, sizeof def, "%s/3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json",
             getenv("CT_DATA_DIR") ? getenv("CT_DATA_DIR") : CT_DATA_DIR_DEFAULT);
    const char *path = argc > 1 ? argv[1] : def;
    int repeat = argc > 2 ? atoi(argv[2]) : 3;
    ct_log_set_level(CT_LOG_ERROR);
    double best = 1e9;
    ct_tileset_report rep;
    for (int r = 0; r < repeat; r++) {
        double t0 = ct_time_now();
        ct_tileset_inspect_desc d = {.uri = path};
        if (ct_tileset_inspect(&d, &rep, NULL)) {
            fprintf(stderr, "%s: cannot read\n", path);
            return 2;
        }
        double t = ct_time_now() - t0;
        best = t < best ? t : best;
        if (r + 1 < repeat)
            ct_tileset_report_free(&rep);
    }
    printf("tiles info: %llu tiles, %llu bytes, best of %d: %.3f s\n", (unsigned long long)rep.tiles,
           (unsigned long long)rep.bytes, repeat, best);
    ct_tileset_report_free(&rep);
    stream(path, 1, false, false);
    stream(path, 1, false, true);
    stream(path, 2, false, true);
    stream(path, 1, true, true);
    stream(path, 2, true, true);
    return 0;
}
