/* Terrain and raster layers on a generated N x N DEM (default 4000: 16 M
 * cells, 1 m, UTM 49N at the demo's longitude): time to read + mesh + place
 * (CPU) for a terrain at the default 2 M triangle budget, a flood depth grid
 * as its water surface (ground+value) and a draped grid; then one headless
 * frame of all three. Prints one JSON object (build_cpu_s: CPU time, less
 * sensitive to a loaded machine than build_s). Usage: bench_raster_layer [N] */
#include "citytwin/ct_geo.h"
#include "citytwin/ct_raster.h"
#include "citytwin/ct_raster_layer.h"
#include "citytwin/ct_render.h"
#include "citytwin/ct_scene.h"

#include <cpl_conv.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *WKT_UTM49 = "EPSG:32649";

static ct_status write_grid(const char *path, int n, double e0, double n0, int kind, ct_error *err)
{
    ct_raster *r = ct_raster_create(n, n, NULL);
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    double gt[6] = {e0 - n / 2.0, 1, 0, n0 + n / 2.0, 0, -1};
    memcpy(r->geotransform, gt, sizeof gt);
    /* GDAL wants the CRS as WKT */
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    OSRImportFromEPSG(srs, 32649);
    OSRExportToWkt(srs, &wkt);
    free(r->crs_wkt);
    r->crs_wkt = strdup(wkt ? wkt : "");
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double ground = 10 * sin(x * 0.003) * cos(y * 0.002) + 0.004 * x; /* hills rising east */
            r->data[(size_t)y * n + x] = kind == 0 ? (float)ground : ground < 2 ? (float)(2 - ground) : NAN;
        }
    ct_status st = ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, true, -9999, err);
    ct_raster_destroy(r);
    return st;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4000;
    if (n < 16 || n > 20000) {
        fprintf(stderr, "usage: bench_raster_layer [N in 16..20000]\n");
        return 1;
    }
    ct_error err = {0};
    double e0 = 113.08, n0 = 22.58;
    ct_crs_transform *t = NULL;
    if (ct_crs_transform_create("EPSG:4326", WKT_UTM49, &t, &err) || ct_crs_transform_points(t, 1, &e0, &n0, NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 3;
    }
    ct_crs_transform_destroy(t);
    char dir[] = "/tmp/ct_bench_raster_XXXXXX";
    if (!mkdtemp(dir))
        return 3;
    char dem[256], depth[256], scene_path[256];
    snprintf(dem, sizeof dem, "%s/dem.tif", dir);
    snprintf(depth, sizeof depth, "%s/depth.tif", dir);
    snprintf(scene_path, sizeof scene_path, "%s/scene.json", dir);
    double t0 = ct_time_now();
    if (write_grid(dem, n, e0, n0, 0, &err) || write_grid(depth, n, e0, n0, 1, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 3;
    }
    double t_write = ct_time_now() - t0;
    const char *json = "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
                       "{\"name\":\"terrain\",\"type\":\"terrain\",\"source\":\"dem.tif\"},"
                       "{\"name\":\"flood\",\"type\":\"raster\",\"source\":\"depth.tif\","
                       "\"style\":{\"ramp\":\"depth\",\"height\":\"ground+value\",\"opacity\":0.8}},"
                       "{\"name\":\"drape\",\"type\":\"raster\",\"source\":\"depth.tif\",\"style\":{\"ramp\":\"viridis\"}}]}";
    ct_scene *s = NULL;
    if (ct_file_write(scene_path, json, strlen(json), &err) || ct_scene_load(scene_path, &s, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 3;
    }
    printf("{\"cells\": %lld, \"write_s\": %.2f, \"layers\": [", (long long)n * n, t_write);
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_gltf *g = NULL;
        ct_raster_layer_info info;
        t0 = ct_time_now();
        clock_t c0 = clock();
        if (ct_raster_layer_build(s, &s->layers[i], &g, &info, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 3;
        }
        printf("%s{\"name\": \"%s\", \"build_s\": %.2f, \"build_cpu_s\": %.2f, \"stride\": %d, "
               "\"subdivisions\": %d, \"triangles\": %llu}",
               i ? ", " : "", s->layers[i].name, ct_time_now() - t0, (double)(clock() - c0) / CLOCKS_PER_SEC,
               info.stride, info.subdivisions, (unsigned long long)info.triangles);
        ct_gltf_destroy(g);
    }
    printf("]");
    /* one headless 1280x720 frame of the three (upload included in create) */
    ct_render_context *ctx = NULL;
    ct_renderer *r = NULL;
    ct_render_context_desc cd = {.width = 1280, .height = 720};
    if (ct_render_context_create(&cd, &ctx, &err) == CT_OK && ct_renderer_create(ctx, NULL, &r, &err) == CT_OK) {
        ct_render_layer *l[3] = {0};
        t0 = ct_time_now();
        for (uint32_t i = 0; i < 3; i++)
            ct_render_layer_raster_create(r, s, &s->layers[i], &l[i], &err);
        double t_create = ct_time_now() - t0;
        ct_camera cam;
        ct_camera_init(&cam);
        cam.aspect = 1280.0 / 720;
        ct_camera_set_cesium(&cam, 113.08, 22.58 - n * 0.6 / 111320, n * 0.6, 0, -45, 0);
        ct_render_frame_desc f = {.camera = &cam};
        double best = INFINITY;
        for (int k = 0; k < 3; k++) {
            t0 = ct_time_now();
            ct_renderer_begin_frame(r, &f);
            for (int i = 0; i < 3; i++)
                if (l[i])
                    l[i]->vt->draw(l[i], r);
            ct_renderer_end_frame(r);
            ct_renderer_finish(r);
            best = fmin(best, ct_time_now() - t0);
        }
        printf(", \"create_all_s\": %.2f, \"frame_ms\": %.1f, \"renderer\": \"%s\"", t_create, best * 1000,
               ct_render_context_renderer(ctx));
        for (int i = 0; i < 3; i++)
            ct_render_layer_destroy(l[i]);
    }
    ct_renderer_destroy(r);
    ct_render_context_destroy(ctx);
    printf("}\n");
    ct_scene_destroy(s);
    remove(dem);
    remove(depth);
    remove(scene_path);
    remove(dir);
    return 0;
}
