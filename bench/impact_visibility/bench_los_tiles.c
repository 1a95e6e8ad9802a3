/* bench_los_tiles: line of sight against a 3D Tiles tileset (default: the
 * landform photogrammetry sample of the shared data). For each sight line:
 * tiles loaded, triangles, seconds (median of ROUNDS runs, each a fresh
 * tileset: tree walk, loads, decode, Embree build, one ray).
 * usage: bench_los_tiles [TILESET.json] [ROUNDS] */
#include "citytwin/ct_visibility.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *ts = argc > 1 ? argv[1]
                              : "../shared/data/3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json";
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    if (rounds < 1 || rounds > 50)
        rounds = 3;
    /* landform frame: box centre (216.2, 32.3, 90.7), half-axes 161.6, 32.2, 120.9; surface across y */
    struct {
        const char *name;
        double from[3], to[3];
    } lines[] = {
        {"across the surface (centre)", {216.2, 120, 90.7}, {216.2, -50, 90.7}},
        {"grazing along x at y = 10", {0, 10, 90.7}, {450, 10, 90.7}},
        {"diagonal through the box", {60, 60, -20}, {370, 5, 200}},
    };
    ct_log_set_level(CT_LOG_ERROR);
    for (size_t l = 0; l < sizeof lines / sizeof lines[0]; l++) {
        double t[50];
        ct_los_tileset_stats st = {0};
        bool visible = false;
        for (int r = 0; r < rounds; r++) {
            double t0 = ct_time_now();
            ct_los_tileset_desc td = {.uri = ts};
            memcpy(td.from, lines[l].from, sizeof td.from);
            memcpy(td.to, lines[l].to, sizeof td.to);
            ct_los_meshes *m = NULL;
            ct_error err = {0};
            memset(&st, 0, sizeof st);
            ct_los_desc d = {0};
            memcpy(d.from, td.from, sizeof d.from);
            memcpy(d.to, td.to, sizeof d.to);
            ct_los_result res;
            if (ct_los_meshes_create(&m, &err) || ct_los_meshes_add_tileset(m, &td, &st, &err) ||
                ct_los_meshes_commit(m, &err) || ct_los_compute(NULL, m, &d, &res, &err)) {
                fprintf(stderr, "bench_los_tiles: %s\n", err.msg);
                ct_los_meshes_destroy(m);
                return 1;
            }
            visible = res.visible;
            ct_los_result_free(&res);
            ct_los_meshes_destroy(m);
            t[r] = ct_time_now() - t0;
        }
        qsort(t, (size_t)rounds, sizeof t[0], cmp);
        printf("%-30s tiles_loaded %3zu  tiles_failed %zu  triangles %7zu  %s  %.3f s (median of %d)\n",
               lines[l].name, st.tiles_loaded, st.tiles_failed, st.triangles, visible ? "visible" : "blocked",
               t[rounds / 2], rounds);
    }
    FILE *f = fopen("/proc/loadavg", "r");
    char load[128] = "?";
    if (f) {
        if (!fgets(load, sizeof load, f))
            strcpy(load, "?");
        fclose(f);
    }
    printf("load average: %s", load);
    return 0;
}
