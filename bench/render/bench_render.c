/* bench_render: frame time of a generated 1-million-triangle model at
 * 1920x1080 headless (p50/p95 over 30 frames, triangles/s), and upload
 * throughput (MB/s) of the sample models. No peer tool is installed for
 * rendering, so no ratio is printed.
 * usage: bench_render [frames] [WxH] [triangles] */
#include "citytwin/ct_render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A wavy n x n grid of quads (2 n^2 triangles) in the z-up plane, with normals. */
static void make_grid(ct_gltf *g, ct_gltf_mesh *mesh, ct_gltf_primitive *p, ct_gltf_node *node, ct_gltf_draw *draw,
                      int n)
{
    uint32_t nv = (uint32_t)(n + 1) * (n + 1);
    p->positions = malloc(nv * 3 * sizeof(float));
    p->normals = malloc(nv * 3 * sizeof(float));
    p->indices = malloc((size_t)n * n * 6 * sizeof(uint32_t));
    for (int y = 0; y <= n; y++)
        for (int x = 0; x <= n; x++) {
            uint32_t i = (uint32_t)y * (n + 1) + x;
            float fx = (float)x / n * 1000.0f - 500.0f, fy = (float)y / n * 1000.0f - 500.0f;
            /* glTF is y-up: height in y */
            p->positions[i * 3 + 0] = fx;
            p->positions[i * 3 + 1] = 20.0f * sinf(fx * 0.02f) * cosf(fy * 0.02f);
            p->positions[i * 3 + 2] = fy;
            p->normals[i * 3 + 0] = 0, p->normals[i * 3 + 1] = 1, p->normals[i * 3 + 2] = 0;
        }
    uint32_t k = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint32_t a = (uint32_t)y * (n + 1) + x, b = a + 1, c = a + (n + 1), d = c + 1;
            uint32_t t[6] = {a, c, b, b, c, d};
            memcpy(p->indices + k, t, sizeof t);
            k += 6;
        }
    p->mode = CT_GLTF_TRIANGLES;
    p->material = -1;
    p->vertex_count = nv;
    p->index_count = k;
    float bmin[3] = {-500, -20, -500}, bmax[3] = {500, 20, 500};
    memcpy(p->bounds_min, bmin, sizeof bmin);
    memcpy(p->bounds_max, bmax, sizeof bmax);
    mesh->primitives = p;
    mesh->primitive_count = 1;
    double id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    node->mesh = 0;
    node->parent = -1;
    memcpy(node->world, id, sizeof id);
    draw->node = 0;
    draw->mesh = 0;
    memcpy(draw->world, id, sizeof id);
    g->meshes = mesh;
    g->mesh_count = 1;
    g->nodes = node;
    g->node_count = 1;
    g->draws = draw;
    g->draw_count = 1;
    for (int i = 0; i < 3; i++)
        g->bounds_min[i] = bmin[i], g->bounds_max[i] = bmax[i];
}

static const char *const SAMPLES[] = {
    "gltf/khronos-sample-assets/Duck/glTF-Binary/Duck.glb",
    "gltf/khronos-sample-assets/BoxTextured/glTF-Binary/BoxTextured.glb",
    "gltf/khronos-sample-assets/NormalTangentMirrorTest/glTF-Binary/NormalTangentMirrorTest.glb",
    "gltf/cesium-native/CesiumMilkTruckDraco/CesiumMilkTruck.gltf",
    "gltf/khronos-sample-assets/SimpleInstancing/glTF-Binary/SimpleInstancing.glb",
};

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 30, w = 1920, h = 1080, tris = 1000000;
    if (argc > 2 && sscanf(argv[2], "%dx%d", &w, &h) != 2)
        return 1;
    if (argc > 3)
        tris = atoi(argv[3]);
    if (frames < 1)
        frames = 1;
    ct_error err = {0};
    ct_render_context *ctx;
    ct_renderer *r;
    ct_render_context_desc cd = {.width = w, .height = h};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK || ct_renderer_create(ctx, NULL, &r, &err) != CT_OK) {
        fprintf(stderr, "bench_render: %s\n", err.msg);
        return 3;
    }
    printf("renderer: %s\n", ct_render_context_renderer(ctx));

    /* frame time */
    int n = (int)ceil(sqrt(tris / 2.0));
    ct_gltf g = {0};
    ct_gltf_mesh mesh = {0};
    ct_gltf_primitive prim = {0};
    ct_gltf_node node = {0};
    ct_gltf_draw draw = {0};
    make_grid(&g, &mesh, &prim, &node, &draw, n);
    double t0 = ct_time_now();
    ct_render_model *m;
    if (ct_render_model_create(r, &g, NULL, &m, &err) != CT_OK) {
        fprintf(stderr, "bench_render: %s\n", err.msg);
        return 3;
    }
    ct_renderer_finish(r);
    double t_up = ct_time_now() - t0;
    printf("grid: %d x %d quads = %llu triangles, uploaded %.1f MB in %.3f s (%.0f MB/s)\n", n, n,
           (unsigned long long)prim.index_count / 3, ct_render_model_bytes(m) / 1e6, t_up,
           ct_render_model_bytes(m) / 1e6 / t_up);
    double y2z[16];
    ct_render_y_up_to_z_up(y2z);
    ct_camera cam;
    ct_camera_init(&cam);
    cam.aspect = (double)w / h;
    ct_camera_fit_sphere(&cam, ct_dvec3_make(0, 0, 0), 500 * sqrt(2.0), false);
    ct_render_frame_desc fd = {.camera = &cam, .width = w, .height = h};
    ct_render_draw_desc dd = {0};
    memcpy(dd.world, y2z, sizeof y2z);
    double *ms = calloc((size_t)frames, sizeof *ms);
    uint64_t drawn = 0;
    for (int i = -2; i < frames; i++) { /* two warm-up frames */
        double a = ct_time_now();
        ct_renderer_begin_frame(r, &fd);
        ct_renderer_draw_model(r, m, &dd);
        ct_renderer_end_frame(r);
        ct_renderer_finish(r);
        if (i >= 0)
            ms[i] = (ct_time_now() - a) * 1000;
        drawn = ct_renderer_frame_stats(r).triangles;
    }
    qsort(ms, (size_t)frames, sizeof *ms, cmp_d);
    double p50 = ms[frames / 2], p95 = ms[(int)(0.95 * (frames - 1) + 0.5)];
    printf("frame %dx%d, MSAA 4, %llu triangles: p50 %.1f ms, p95 %.1f ms, %.2f M triangles/s (p50)\n", w, h,
           (unsigned long long)drawn, p50, p95, drawn / (p50 / 1000) / 1e6);
    /* the same without MSAA */
    ct_renderer *r1;
    ct_renderer_desc rd1 = {.msaa = 1};
    ct_render_model *m1;
    if (ct_renderer_create(ctx, &rd1, &r1, &err) == CT_OK && ct_render_model_create(r1, &g, NULL, &m1, &err) == CT_OK) {
        for (int i = -2; i < frames; i++) {
            double a = ct_time_now();
            ct_renderer_begin_frame(r1, &fd);
            ct_renderer_draw_model(r1, m1, &dd);
            ct_renderer_end_frame(r1);
            ct_renderer_finish(r1);
            if (i >= 0)
                ms[i] = (ct_time_now() - a) * 1000;
        }
        qsort(ms, (size_t)frames, sizeof *ms, cmp_d);
        p50 = ms[frames / 2];
        p95 = ms[(int)(0.95 * (frames - 1) + 0.5)];
        printf("frame %dx%d, no MSAA, %llu triangles: p50 %.1f ms, p95 %.1f ms, %.2f M triangles/s (p50)\n", w, h,
               (unsigned long long)drawn, p50, p95, drawn / (p50 / 1000) / 1e6);
        ct_render_model_destroy(m1);
        ct_renderer_destroy(r1);
    }
    free(ms);
    ct_render_model_destroy(m);
    free(prim.positions);
    free(prim.normals);
    free(prim.indices);

    /* upload throughput of the sample models (best of 3; loading not counted) */
    const char *dir = getenv("CT_DATA_DIR");
    if (!dir)
        dir = CT_DATA_DIR_DEFAULT;
    for (size_t s = 0; s < sizeof SAMPLES / sizeof SAMPLES[0]; s++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, SAMPLES[s]);
        ct_gltf *sg;
        if (ct_gltf_load_file(path, NULL, &sg, &err) != CT_OK) {
            printf("upload %s: skipped (%s)\n", SAMPLES[s], err.msg);
            continue;
        }
        double best = INFINITY;
        uint64_t bytes = 0;
        for (int k = 0; k < 3; k++) {
            double a = ct_time_now();
            ct_render_model *sm;
            if (ct_render_model_create(r, sg, NULL, &sm, &err) != CT_OK)
                break;
            ct_renderer_finish(r);
            best = fmin(best, ct_time_now() - a);
            bytes = ct_render_model_bytes(sm);
            ct_render_model_destroy(sm);
        }
        const char *name = strrchr(SAMPLES[s], '/') + 1;
        printf("upload %-32s %8.2f MB in %7.2f ms: %7.0f MB/s\n", name, bytes / 1e6, best * 1000, bytes / 1e6 / best);
        ct_gltf_destroy(sg);
    }
    ct_renderer_destroy(r);
    ct_render_context_destroy(ctx);
    return 0;
}
