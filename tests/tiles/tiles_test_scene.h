/* Generated tilesets and cameras for the selection / streaming tests. */
#ifndef TILES_TEST_SCENE_H
#define TILES_TEST_SCENE_H

#include "tiles_test_util.h"

#include "citytwin/ct_tileset.h"

#include <math.h>
#include <time.h>

/* A camera at (x, y, z) looking straight down (-z), square viewport of
 * `height` pixels and vertical fov 60 degrees; far plane unused. */
static inline ct_tileset_view tt_view_down(double x, double y, double z, double height)
{
    ct_tileset_view v;
    memset(&v, 0, sizeof v);
    double t = tan(M_PI / 6);
    v.position = (ct_dvec3){x, y, z};
    v.direction = (ct_dvec3){0, 0, -1};
    /* left/right/bottom/top planes through the camera; near at 0.1 */
    double P[5][4] = {{1, 0, -t, -x + t * z}, {-1, 0, -t, x + t * z}, {0, 1, -t, -y + t * z},
                      {0, -1, -t, y + t * z}, {0, 0, -1, z - 0.1}};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 4; k++)
            v.planes[i][k] = P[i][k];
    v.viewport_height = height;
    v.fovy = M_PI / 3;
    return v;
}

/* Writes a quadtree tileset: square [0,size]^2, `levels` levels, glb content
 * of `payload` bytes per tile, geometric error size/16 halving per level (0
 * at the leaves). With ext_level > 0, tiles at that level hold their subtree
 * in an external tileset ext/L_X_Y.json. */
typedef struct tt_gen {
    const char *dir;
    int levels;
    double size;
    size_t payload;
    int ext_level;
    const char *refine;
} tt_gen;

static inline void tt_gen_tile(const tt_gen *g, FILE *f, int level, int x, int y, bool ext_root);

static inline void tt_gen_write_glb(const tt_gen *g, int level, int x, int y)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/t/%d_%d_%d.glb", g->dir, level, x, y);
    uint8_t *b;
    size_t n = tt_make_glb(&b, g->payload);
    tt_write_bytes(p, b, n);
    free(b);
}

static inline void tt_gen_external(const tt_gen *g, int level, int x, int y)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/ext/%d_%d_%d.json", g->dir, level, x, y);
    FILE *f = fopen(p, "w");
    if (!f)
        return;
    fprintf(f, "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":%g,\"root\":", g->size / 16 / (1 << level));
    tt_gen_tile(g, f, level, x, y, true);
    fprintf(f, "}");
    fclose(f);
}

static inline void tt_gen_tile(const tt_gen *g, FILE *f, int level, int x, int y, bool ext_root)
{
    double s = g->size / (1 << level);
    double ge = level == g->levels - 1 ? 0 : g->size / 16 / (1 << level);
    fprintf(f, "{\"boundingVolume\":{\"box\":[%.17g,%.17g,5, %.17g,0,0, 0,%.17g,0, 0,0,5]},\"geometricError\":%.17g",
            (x + 0.5) * s, (y + 0.5) * s, s / 2, s / 2, ge);
    if (level == 0)
        fprintf(f, ",\"refine\":\"%s\"", g->refine ? g->refine : "REPLACE");
    if (g->ext_level > 0 && level == g->ext_level && !ext_root) {
        fprintf(f, ",\"content\":{\"uri\":\"ext/%d_%d_%d.json\"}}", level, x, y);
        tt_gen_external(g, level, x, y);
        return;
    }
    const char *prefix = ext_root || (g->ext_level > 0 && level > g->ext_level) ? "../t/" : "t/";
    fprintf(f, ",\"content\":{\"uri\":\"%s%d_%d_%d.glb\"}", prefix, level, x, y);
    tt_gen_write_glb(g, level, x, y);
    if (level + 1 < g->levels) {
        fprintf(f, ",\"children\":[");
        for (int i = 0; i < 4; i++) {
            if (i)
                fprintf(f, ",");
            tt_gen_tile(g, f, level + 1, 2 * x + (i & 1), 2 * y + (i >> 1), false);
        }
        fprintf(f, "]");
    }
    fprintf(f, "}");
}

static inline void tt_gen_write(const tt_gen *g)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/t", g->dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/ext", g->dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/tileset.json", g->dir);
    FILE *f = fopen(p, "w");
    if (!f)
        return;
    fprintf(f, "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":%g,\"root\":", g->size / 8);
    tt_gen_tile(g, f, 0, 0, 0, false);
    fprintf(f, "}");
    fclose(f);
}

static inline void tt_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Updates until nothing is left to load (or max_iter frames). */
static inline int tt_settle(ct_tileset *ts, const ct_tileset_view *v, ct_tileset_frame *fr, int max_iter)
{
    for (int i = 0; i < max_iter; i++) {
        ct_tileset_update(ts, v, fr, NULL);
        if (fr->stats.all_loaded)
            return i;
        tt_sleep_ms(2);
    }
    return -1;
}

#endif
