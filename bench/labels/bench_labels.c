/* Labels benchmark: N points on a grid (Chinese + Latin names, e.g.
 * "消防栓 H-0042"), seen obliquely at WxH headless; prints the layer build
 * time (OGR read + shaping), frame times with labels and with the same layer
 * unlabelled (the difference is the label cost: projection, depth reads,
 * collisions, glyph quads), labels drawn/occluded/collided, atlas size; then
 * the labelled frame again on an interactive renderer (the viewer's: depth
 * from an asynchronous read-back of the previous frame) with the number of
 * synchronous read-backs per frame of each (each waits for the GPU).
 * No peer is installed (QGIS is not packaged here), so there is no ratio.
 *   bench_labels [N] [WxH] [FRAMES]     defaults 2000 1280x720 20
 * Environment: BENCH_MSAA=1 (MSAA off; default 4), BENCH_STYLE='{...}' (the
 * labelled layer's style; default {"label":"name","size":4}). */
#define _GNU_SOURCE /* getloadavg */
#include "citytwin/ct_vector.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Wall p50 (ms); *cpu_p50: process CPU time p50 (all threads, llvmpipe's
 * included: much less disturbed by other jobs than wall time). */
static double frames_p50(ct_renderer *r, ct_render_layer *l, const ct_camera *cam, int w, int h, int frames,
                         ct_render_frame_stats *last, double *cpu_p50)
{
    double *t = calloc((size_t)frames, sizeof *t), *c = calloc((size_t)frames, sizeof *c);
    ct_render_frame_desc fd = {.camera = cam, .width = w, .height = h};
    for (int i = -2; i < frames; i++) { /* 2 warm-up frames */
        double t0 = ct_time_now(), c0 = cpu_now();
        ct_renderer_begin_frame(r, &fd);
        l->vt->draw(l, r);
        ct_renderer_end_frame(r);
        ct_renderer_finish(r);
        if (i >= 0) {
            t[i] = (ct_time_now() - t0) * 1000;
            c[i] = (cpu_now() - c0) * 1000;
        }
    }
    qsort(c, (size_t)frames, sizeof *c, cmp);
    *cpu_p50 = c[frames / 2];
    free(c);
    if (last)
        *last = ct_renderer_frame_stats(r);
    qsort(t, (size_t)frames, sizeof *t, cmp);
    double p50 = t[frames / 2];
    free(t);
    return p50;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000, w = 1280, h = 720, frames = argc > 3 ? atoi(argv[3]) : 20;
    if (argc > 2 && sscanf(argv[2], "%dx%d", &w, &h) != 2)
        return 1;
    if (n < 1 || frames < 1)
        return 1;
    char path[256];
    snprintf(path, sizeof path, "/tmp/bench_labels_%d.geojson", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    int side = (int)ceil(sqrt(n));
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}},"
               "\"features\":[");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s{\"type\":\"Feature\",\"properties\":{\"name\":\"消防栓 H-%04d\"},\"geometry\":{\"type\":\"Point\","
                   "\"coordinates\":[%.1f,%.1f]}}",
                i ? "," : "", i, 405000.0 + (i % side) * 20.0, 2498000.0 + (i / side) * 20.0);
    fprintf(f, "]}");
    fclose(f);
    ct_render_context *ctx = NULL;
    ct_renderer *r = NULL, *ri = NULL;
    ct_error err = {0};
    ct_render_context_desc cd = {.width = w, .height = h};
    int msaa = getenv("BENCH_MSAA") ? atoi(getenv("BENCH_MSAA")) : 0;
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK ||
        ct_renderer_create(ctx, &(ct_renderer_desc){.msaa = msaa}, &r, &err) != CT_OK ||
        ct_renderer_create(ctx, &(ct_renderer_desc){.msaa = msaa, .interactive = true}, &ri, &err) != CT_OK) {
        fprintf(stderr, "bench_labels: %s\n", err.msg);
        return 3;
    }
    cJSON *with = cJSON_Parse(getenv("BENCH_STYLE") ? getenv("BENCH_STYLE") : "{\"label\":\"name\",\"size\":4}"), *without = cJSON_Parse("{\"size\":4}");
    ct_render_layer *lw = NULL, *lo = NULL;
    ct_vector_desc d = {.source = path, .name = "points", .style = with, .frame_crs = "EPSG:4547"};
    double t0 = ct_time_now();
    if (ct_render_layer_vector_create(r, &d, &lw, &err) != CT_OK) {
        fprintf(stderr, "bench_labels: %s\n", err.msg);
        return 2;
    }
    double build_with = ct_time_now() - t0;
    d.style = without;
    t0 = ct_time_now();
    if (ct_render_layer_vector_create(r, &d, &lo, &err) != CT_OK)
        return 2;
    double build_without = ct_time_now() - t0;
    ct_render_layer *li = NULL; /* labelled, for the interactive renderer */
    d.style = with;
    if (ct_render_layer_vector_create(ri, &d, &li, &err) != CT_OK)
        return 2;
    /* from the south-west corner, looking north-east over the grid */
    double extent = side * 20.0;
    ct_camera cam = ct_camera_from_local(405000 - 0.15 * extent, 2498000 - 0.15 * extent, 0.25 * extent + 30, 45, -25, 0);
    cam.aspect = (double)w / h;
    cam.near_m = 1;
    cam.far_m = 4 * extent + 1000;
    ct_render_frame_stats fs_with, fs_inter;
    double c_without, c_with, c_inter;
    double p_without = frames_p50(r, lo, &cam, w, h, frames, NULL, &c_without);
    double p_with = frames_p50(r, lw, &cam, w, h, frames, &fs_with, &c_with);
    double p_inter = frames_p50(ri, li, &cam, w, h, frames, &fs_inter, &c_inter);
    ct_vector_label_stats ls;
    ct_render_layer_vector_label_stats(lw, &ls);
    double load[1] = {-1};
    getloadavg(load, 1);
    printf("labels: %d points at %dx%d, %d frames (p50), %s, load %.1f\n", n, w, h, frames,
           ct_render_context_renderer(ctx), load[0]);
    printf("  layer build: %.1f ms with labels, %.1f ms without (font, text shaders and shaping: %.1f ms)\n",
           build_with * 1000, build_without * 1000, (build_with - build_without) * 1000);
    printf("  frame: %.1f ms with labels, %.1f ms without (labels cost %.1f ms); CPU %.1f / %.1f ms\n", p_with,
           p_without, p_with - p_without, c_with, c_without);
    printf("  labels: %u drawn, %u occluded, %u collided, %u culled\n", ls.drawn, ls.occluded, ls.collided, ls.culled);
    ct_render_layer_vector_label_stats(li, &ls);
    printf("  one-shot renderer: %llu synchronous read-backs per frame; interactive renderer: %.1f ms per frame "
           "(CPU %.1f ms), %llu synchronous read-backs, depth %llu frame(s) old (%u drawn, %u occluded)\n",
           (unsigned long long)fs_with.sync_readbacks, p_inter, c_inter, (unsigned long long)fs_inter.sync_readbacks,
           (unsigned long long)fs_inter.depth_age, ls.drawn, ls.occluded);
    ct_render_layer_destroy(lw);
    ct_render_layer_destroy(lo);
    ct_render_layer_destroy(li);
    ct_renderer_destroy(ri);
    cJSON_Delete(with);
    cJSON_Delete(without);
    ct_renderer_destroy(r);
    ct_render_context_destroy(ctx);
    remove(path);
    return 0;
}
