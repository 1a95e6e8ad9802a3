/* bench_frame: where the time of one full-detail frame goes. Opens a tileset
 * (by default the bench/tiles generated one) as `citytwin render` does, loads
 * each view to full detail, then times steady frames twice:
 *   - as a whole (update + begin + draw + end + glFinish: what bench_tiles and
 *     `render --stats` report), wall and process CPU time;
 *   - split into passes, with a glFinish after each: clear (begin_frame),
 *     submit (layer draw: CPU work, plus llvmpipe's vertex shading and
 *     binning, which run on the calling thread), raster (the glFinish after
 *     the draws: llvmpipe's rasterizer and fragment shaders on its threads),
 *     resolve (end_frame: blended queue, MSAA resolve).
 * Each view also reports the synchronous GPU->CPU read-backs per frame (label
 * occlusion's depth reads; each waits for the GPU to finish the frame so far)
 * and, with --interactive (the viewer's renderer), how old the depth that
 * occlusion used was: 0 read-backs per frame once one has finished.
 * CPU time (CLOCK_PROCESS_CPUTIME_ID, all threads) is much less disturbed by
 * other jobs on a loaded machine than wall time. Timings never go into ctest. */
#define _GNU_SOURCE
#include "cli_scene.h"
#include "tilegen.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_image.h"

#include <epoxy/gl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double load_avg(void)
{
    double l[3] = {0};
    return getloadavg(l, 3) > 0 ? l[0] : -1;
}

typedef tilegen_view viewpoint;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n ? v[n / 2] : 0;
}

enum { P_WHOLE, P_CLEAR, P_SUBMIT, P_RASTER, P_RESOLVE, P_UPDATE, P_COUNT };
static const char *const PASS[P_COUNT] = {"whole", "clear", "submit", "raster", "resolve", "update"};

/* Whole frames with each shader folder in turn (CT_SHADER_DIR, reloaded),
 * interleaved over a few rounds so that the machine's load hits all alike. */
static void compare_shaders(cli_scene *scene, ct_renderer *r, const ct_camera *cam, int w, int h, int frames,
                            char *dirs)
{
    char *dir[8];
    int nd = 0;
    for (char *t = strtok(dirs, ","); t && nd < 8; t = strtok(NULL, ","))
        dir[nd++] = t;
    enum { ROUNDS = 3 };
    double *wall = calloc((size_t)nd * ROUNDS * frames, sizeof(double));
    double *cpu = calloc((size_t)nd * ROUNDS * frames, sizeof(double));
    ct_render_frame_desc fd = {.camera = cam, .width = w, .height = h};
    ct_error err = {0};
    bool complete;
    for (int round = 0; round < ROUNDS; round++)
        for (int d = 0; d < nd; d++) {
            setenv("CT_SHADER_DIR", dir[d], 1);
            if (ct_renderer_reload_shaders(r, &err) != CT_OK)
                fprintf(stderr, "bench_frame: %s: %s\n", dir[d], err.msg);
            for (int f = 0; f < frames; f++) {
                double a = ct_time_now(), ac = cpu_now();
                cli_scene_update(scene, r, cam, w, h, &complete, &err);
                ct_renderer_begin_frame(r, &fd);
                cli_scene_draw(scene, r);
                ct_renderer_end_frame(r);
                ct_renderer_finish(r);
                size_t k = ((size_t)d * ROUNDS + round) * frames + f;
                wall[k] = (ct_time_now() - a) * 1e3;
                cpu[k] = (cpu_now() - ac) * 1e3;
            }
        }
    for (int d = 0; d < nd; d++) {
        double *wd = wall + (size_t)d * ROUNDS * frames, *cd = cpu + (size_t)d * ROUNDS * frames;
        int n = ROUNDS * frames;
        double cmin = 1e30;
        for (int k = 0; k < n; k++)
            cmin = cd[k] < cmin ? cd[k] : cmin;
        printf("    shaders %-24s whole p50 %.1f ms wall, cpu p50 %.1f min %.1f ms\n", dir[d], median(wd, n),
               median(cd, n), cmin);
    }
    fflush(stdout);
    free(wall);
    free(cpu);
}

static int view(cli_scene *scene, ct_renderer *r, const viewpoint *vp, int w, int h, int frames, double timeout,
                const char *image, const char *shader_dirs)
{
    cli_view_args va = {.has_camera = true, .camera = {vp->lon, vp->lat, vp->height, vp->heading, vp->pitch, 0}};
    ct_camera cam;
    if (cli_view_camera("bench", &va, scene, w, h, &cam) != 0)
        return 1;
    ct_render_frame_desc fd = {.camera = &cam, .width = w, .height = h};
    ct_error err = {0};
    bool complete = false;
    double t0 = ct_time_now();
    int streak = 0;
    while (streak < 3 && ct_time_now() - t0 < timeout) { /* full detail: 3 complete frames in a row */
        if (cli_scene_update(scene, r, &cam, w, h, &complete, &err) != CT_OK)
            return cli_fail_err("bench", &err);
        ct_renderer_begin_frame(r, &fd);
        cli_scene_draw(scene, r);
        ct_renderer_end_frame(r);
        ct_renderer_finish(r);
        streak = complete ? streak + 1 : 0;
        if (!complete)
            ct_sleep_ms(5);
    }
    if (shader_dirs) {
        char *copy = ct_strdup(shader_dirs);
        printf("%-12s %5.1fs to full detail\n", vp->name, ct_time_now() - t0);
        compare_shaders(scene, r, &cam, w, h, frames, copy);
        free(copy);
        return 0;
    }
    double *wall[P_COUNT], *cpu[P_COUNT];
    for (int p = 0; p < P_COUNT; p++) {
        wall[p] = calloc((size_t)frames, sizeof(double));
        cpu[p] = calloc((size_t)frames, sizeof(double));
    }
    for (int f = 0; f < frames; f++) { /* whole frames, as bench_tiles times them */
        double a = ct_time_now(), ac = cpu_now();
        cli_scene_update(scene, r, &cam, w, h, &complete, &err);
        ct_renderer_begin_frame(r, &fd);
        cli_scene_draw(scene, r);
        ct_renderer_end_frame(r);
        ct_renderer_finish(r);
        wall[P_WHOLE][f] = (ct_time_now() - a) * 1e3;
        cpu[P_WHOLE][f] = (cpu_now() - ac) * 1e3;
    }
    for (int f = 0; f < frames; f++) { /* split into passes */
        double t[P_COUNT + 1], c[P_COUNT + 1];
        t[0] = ct_time_now(), c[0] = cpu_now();
        cli_scene_update(scene, r, &cam, w, h, &complete, &err);
        t[1] = ct_time_now(), c[1] = cpu_now();
        ct_renderer_begin_frame(r, &fd);
        ct_renderer_finish(r);
        t[2] = ct_time_now(), c[2] = cpu_now();
        cli_scene_draw(scene, r);
        glFlush();
        t[3] = ct_time_now(), c[3] = cpu_now();
        ct_renderer_finish(r);
        t[4] = ct_time_now(), c[4] = cpu_now();
        ct_renderer_end_frame(r);
        ct_renderer_finish(r);
        t[5] = ct_time_now(), c[5] = cpu_now();
        static const int map[5] = {P_UPDATE, P_CLEAR, P_SUBMIT, P_RASTER, P_RESOLVE};
        for (int k = 0; k < 5; k++) {
            wall[map[k]][f] = (t[k + 1] - t[k]) * 1e3;
            cpu[map[k]][f] = (c[k + 1] - c[k]) * 1e3;
        }
    }
    ct_render_frame_stats fs = ct_renderer_frame_stats(r);
    printf("%-12s %5.1fs %5llu draws %7llu tris %3llu sync reads/frame%s |", vp->name, ct_time_now() - t0,
           (unsigned long long)fs.draw_calls, (unsigned long long)fs.triangles,
           (unsigned long long)fs.sync_readbacks, fs.depth_async ? (fs.depth_age ? " (depth 1+ frame old)" : " (async)") : "");
    for (int p = 0; p < P_COUNT; p++)
        printf(" %s %.1f/%.1f", PASS[p], median(wall[p], frames), median(cpu[p], frames));
    printf("  (ms wall/cpu p50, load %.1f)\n", load_avg());
    fflush(stdout);
    for (int p = 0; p < P_COUNT; p++) {
        free(wall[p]);
        free(cpu[p]);
    }
    if (image) {
        char path[4096];
        snprintf(path, sizeof path, "%s-%s.png", image, vp->name);
        uint8_t *px = ct_malloc_array((size_t)w * h, 4);
        if (!px || ct_renderer_read_pixels(r, px, &err) != CT_OK || ct_image_write_png(path, w, h, px, &err) != CT_OK)
            fprintf(stderr, "bench_frame: %s: %s\n", path, err.msg);
        free(px);
    }
    return 0;
}

static void usage(void)
{
    printf("usage: bench_frame [options]\n"
           "  --tileset PATH      tileset.json or scene (default: DIR/generated-L8-g32-t128-s1/tileset.json)\n"
           "  --out-dir DIR       where bench_tiles generated its tileset (default build/bench/tiles/data)\n"
           "  --view NAME         one of the bench/tiles views (default: all)\n"
           "  --camera LON,LAT,H,HEADING,PITCH   one view of your own\n"
           "  --size WxH          (default 1280x720)   --msaa N (default 4)   --frames N (default 10)\n"
           "  --interactive       the viewer's renderer: label occlusion from asynchronous depth read-back\n"
           "  --images PREFIX     write each view's last frame as PREFIX-VIEW.png\n"
           "  --shaders DIR,DIR   compare whole frames with each shader folder (CT_SHADER_DIR), interleaved\n");
}

int main(int argc, char **argv)
{
    const char *tileset = NULL, *out_dir = CT_BENCH_TILES_DIR, *only = NULL, *image = NULL, *shader_dirs = NULL;
    int w = 1280, h = 720, msaa = 4, frames = 10;
    viewpoint v[16];
    int nv = tilegen_views(&(tilegen_desc){0}, v);
    bool own_camera = false, interactive = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--tileset") && has)
            tileset = argv[++i];
        else if (!strcmp(a, "--out-dir") && has)
            out_dir = argv[++i];
        else if (!strcmp(a, "--view") && has)
            only = argv[++i];
        else if (!strcmp(a, "--camera") && has) {
            double c[5];
            if (cli_parse_numbers(argv[++i], c, 5, 5) != 5)
                return cli_fail("bench", CT_ERR_USAGE, "--camera wants LON,LAT,H,HEADING,PITCH");
            v[0] = (viewpoint){"camera", c[0], c[1], c[2], c[3], c[4]};
            own_camera = true;
        } else if (!strcmp(a, "--size") && has) {
            if (sscanf(argv[++i], "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0)
                return cli_fail("bench", CT_ERR_USAGE, "--size wants WxH");
        } else if (!strcmp(a, "--msaa") && has)
            msaa = atoi(argv[++i]);
        else if (!strcmp(a, "--frames") && has)
            frames = atoi(argv[++i]);
        else if (!strcmp(a, "--interactive"))
            interactive = true;
        else if (!strcmp(a, "--shaders") && has)
            shader_dirs = argv[++i];
        else if (!strcmp(a, "--images") && has)
            image = argv[++i];
        else {
            usage();
            return strcmp(a, "-h") && strcmp(a, "--help") ? CT_ERR_USAGE : 0;
        }
    }
    if (own_camera)
        nv = 1;
    if (frames < 1 || msaa < 1)
        return cli_fail("bench", CT_ERR_USAGE, "--frames and --msaa want values >= 1");
    char path[4096];
    if (!tileset) {
        snprintf(path, sizeof path, "%s/generated-L8-g32-t128-s1/tileset.json", out_dir);
        tileset = path;
    }
    char *inputs[1] = {(char *)tileset};
    ct_render_context *ctx;
    ct_renderer *r;
    cli_scene scene;
    ct_renderer_desc rd = {.msaa = msaa, .interactive = interactive};
    cli_layer_options lo = {.sse = 16, .bytes_budget = 512ull << 20};
    int rc = cli_headless_open("bench", inputs, 1, w, h, &rd, &lo, &ctx, &r, &scene);
    if (rc != 0)
        return rc;
    printf("bench_frame: %s, %dx%d, MSAA %d, %d frames per view, %s renderer, %s\n", tileset, w, h, msaa, frames,
           interactive ? "interactive" : "one-shot", ct_render_context_renderer(ctx));
    for (int i = 0; i < nv && rc == 0; i++)
        if (!only || !strcmp(only, v[i].name))
            rc = view(&scene, r, &v[i], w, h, frames, 120, image, shader_dirs);
    cli_headless_close(ctx, r, &scene);
    return rc;
}
