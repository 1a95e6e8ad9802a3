/* The demo's analysis results (ct_demo_desc.results): runs the scene's
 * presets (flood, impact, the routes; docs/demo.md) with the analysis library and
 * writes what the result layers draw. Lives in the CLI because the engine
 * does not link the analyses. Deterministic: GeoJSON and GeoTIFF only (a
 * GeoPackage would carry a timestamp). */
#include "cli.h"

#include "citytwin/ct_demo.h"
#include "citytwin/ct_flood.h"
#include "citytwin/ct_impact.h"
#include "citytwin/ct_route.h"

#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>

static const cJSON *preset(const cJSON *analyses, const char *type)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, analyses)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");
        if (cJSON_IsString(t) && !strcmp(t->valuestring, type))
            return a;
    }
    return NULL;
}

static bool xy_of(const cJSON *a, const char *key, double xy[2])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, key);
    if (cJSON_GetArraySize(v) < 2)
        return false;
    for (int k = 0; k < 2; k++) {
        const cJSON *c = cJSON_GetArrayItem(v, k);
        if (!cJSON_IsNumber(c))
            return false;
        xy[k] = c->valuedouble;
    }
    return true;
}

static char *in_dir(const char *dir, const cJSON *a, const char *key)
{
    const char *rel = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, key));
    return rel ? ct_path_join(dir, rel) : NULL;
}

/* River flood preset: depth raster and extent polygons (field "level"). */
static ct_status run_flood(const char *dir, const cJSON *a, ct_error *err)
{
    double seed[2];
    const cJSON *level = cJSON_GetObjectItemCaseSensitive(a, "level");
    char *dem_path = in_dir(dir, a, "dem");
    char *depth_path = ct_path_join(dir, "flood_depth.tif"), *extent_path = ct_path_join(dir, "flood_extent.geojson");
    ct_raster *dem = NULL, *depth = NULL;
    ct_status st = CT_OK;
    if (!dem_path || !depth_path || !extent_path || !xy_of(a, "seed", seed) || !cJSON_IsNumber(level))
        st = ct_error_set(err, CT_ERR_INPUT, "flood preset: needs dem, seed and level");
    if (!st)
        st = ct_raster_read(dem_path, &dem, err);
    if (!st) {
        ct_flood_static_desc d = {.dem = dem, .seeds_xy = seed, .n_seeds = 1, .level = level->valuedouble};
        ct_flood_static_result res;
        st = ct_flood_static_run(&d, &depth, &res, err);
    }
    if (!st)
        st = ct_raster_write_gtiff(depth, depth_path, CT_RASTER_FLOAT32, true, -9999, err);
    if (!st) {
        const ct_raster *dl[1] = {depth};
        st = ct_flood_extent_write(extent_path, dl, &level->valuedouble, 1, err);
    }
    ct_raster_destroy(dem);
    ct_raster_destroy(depth);
    free(dem_path);
    free(depth_path);
    free(extent_path);
    return st;
}

/* Gas-leak preset: the features within each ring and the ring discs. */
static ct_status run_impact(const char *dir, const cJSON *a, const char *crs, ct_error *err)
{
    double at[2], radii[16];
    size_t n_radii = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(a, "rings"))
    {
        if (cJSON_IsNumber(r) && n_radii < 16)
            radii[n_radii++] = r->valuedouble;
    }
    if (!xy_of(a, "at", at) || n_radii == 0)
        return ct_error_set(err, CT_ERR_INPUT, "impact preset: needs at and rings");
    const char *id_field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "id_field"));
    ct_impact_layer *layers[8] = {0};
    size_t n = 0;
    ct_status st = CT_OK;
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(a, "layers"))
    {
        if (st || n == 8 || !cJSON_IsString(l))
            continue;
        char *src = ct_path_join(dir, l->valuestring);
        ct_impact_layer_desc d = {.name = l->string, .source = src, .id_field = id_field};
        st = src ? ct_impact_layer_load(&d, &layers[n], err) : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        if (!st)
            n++;
        free(src);
    }
    ct_impact_result *res = NULL;
    if (!st) {
        ct_impact_query q = {.x = at[0], .y = at[1], .radii = radii, .radius_count = n_radii};
        st = ct_impact_run(layers, n, &q, &res, err);
    }
    char *out = ct_path_join(dir, "impact.geojson");
    if (!st)
        st = ct_impact_write(res, out, crs, err);
    free(out);
    ct_impact_result_destroy(res);
    for (size_t i = 0; i < n; i++)
        ct_impact_layer_destroy(layers[i]);
    return st;
}

/* A route preset (the fire engine's, the ambulance's): the fastest route as
 * one GeoJSON line with its cost, into "output" (default route.geojson);
 * "avoid" (optional) closes the roads crossing its polygons, e.g. the flood
 * extent written just before. */
static ct_status run_route(const char *dir, const cJSON *a, ct_error *err)
{
    double from[2], to[2];
    char *roads = in_dir(dir, a, "roads"), *avoid = in_dir(dir, a, "avoid");
    const char *output = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "output"));
    if (!roads || !xy_of(a, "from", from) || !xy_of(a, "to", to)) {
        free(roads);
        free(avoid);
        return ct_error_set(err, CT_ERR_INPUT, "route preset: needs roads, from and to");
    }
    ct_route_graph_desc gd = {.path = roads, .landmarks = -1, .skip_ch = true}; /* one query: plain Dijkstra */
    ct_route_graph *g = NULL;
    ct_route_searcher *s = NULL;
    ct_route_closures *closed = NULL;
    ct_route_result res = {0};
    ct_route_query q = {0};
    double *xy = NULL;
    size_t n_xy = 0;
    ct_status st = ct_route_graph_load(&gd, &g, err);
    if (!st && avoid) {
        size_t n_closed = 0;
        if (!(closed = ct_route_closures_create(g)))
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        else
            st = ct_route_closures_add_polygons(closed, avoid, &n_closed, err);
        q.closures = closed;
    }
    if (!st)
        st = ct_route_snap_point(g, from[0], from[1], closed, 1000, &q.from, err);
    if (!st)
        st = ct_route_snap_point(g, to[0], to[1], closed, 1000, &q.to, err);
    if (!st && !(s = ct_route_searcher_create(g)))
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    if (!st)
        st = ct_route_search(s, &q, &res, err);
    if (!st && (!res.reachable || res.n_paths < 1))
        st = ct_error_set(err, CT_ERR_INPUT, "route preset: the destination is not reachable (%s)", res.reason);
    if (!st)
        st = ct_route_path_geometry(g, &q, &res.paths[0], &xy, &n_xy, err);
    if (!st) {
        /* GeoJSON written by hand: fixed precision, same bytes every run */
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "name"));
        size_t cap = 512 + n_xy * 48;
        char *text = malloc(cap);
        if (!text) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        } else {
            size_t k = (size_t)snprintf(
                text, cap,
                "{\"type\": \"FeatureCollection\", \"name\": \"route\", \"crs\": {\"type\": \"name\", \"properties\": "
                "{\"name\": \"urn:ogc:def:crs:EPSG::4547\"}},\n\"features\": [{\"type\": \"Feature\", \"id\": 1, "
                "\"properties\": {\"name\": \"%s\", \"cost_s\": %.2f, \"length_m\": %.1f, \"snap_from_m\": %.1f, "
                "\"snap_to_m\": %.1f}, \"geometry\": {\"type\": \"LineString\", \"coordinates\": [",
                name ? name : "route", res.paths[0].cost_s, res.paths[0].length_m, q.from.dist_m, q.to.dist_m);
            for (size_t i = 0; i < n_xy && k < cap; i++)
                k += (size_t)snprintf(text + k, cap - k, "%s[%.3f, %.3f]", i ? ", " : "", xy[2 * i], xy[2 * i + 1]);
            if (k < cap)
                k += (size_t)snprintf(text + k, cap - k, "]}}]}\n");
            char *out = ct_path_join(dir, output ? output : "route.geojson");
            st = k < cap && out ? ct_file_write(out, text, k, err) : ct_error_set(err, CT_ERR_RUNTIME, "route: buffer");
            free(out);
            free(text);
        }
    }
    free(xy);
    ct_route_result_free(&res);
    ct_route_searcher_destroy(s);
    ct_route_closures_destroy(closed);
    ct_route_graph_destroy(g);
    free(roads);
    free(avoid);
    return st;
}

ct_status cli_demo_results(const char *dir, ct_error *err)
{
    char *scene_path = ct_path_join(dir, "scene.json");
    uint8_t *data = NULL;
    size_t size = 0;
    ct_status st = scene_path ? ct_file_read(scene_path, 0, &data, &size, err)
                              : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    free(scene_path);
    if (st)
        return st;
    cJSON *scene = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    const cJSON *an = cJSON_GetObjectItemCaseSensitive(scene, "analyses");
    const char *crs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(scene, "crs"));
    const cJSON *flood = preset(an, "flood"), *impact = preset(an, "impact"), *route = preset(an, "route");
    if (!flood || !impact || !route)
        st = ct_error_set(err, CT_ERR_INPUT, "%s/scene.json: the flood, impact and route presets are missing", dir);
    if (!st)
        st = run_flood(dir, flood, err);
    if (!st)
        st = run_impact(dir, impact, crs, err);
    const cJSON *a;
    cJSON_ArrayForEach(a, an)
    {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "type"));
        if (!st && type && !strcmp(type, "route"))
            st = run_route(dir, a, err);
    }
    cJSON_Delete(scene);
    return st;
}
