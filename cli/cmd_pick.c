/* citytwin pick: what is under a pixel (layer, node, mesh, primitive,
 * feature id, world position), rendered headless into an id buffer. */
#include "cli_scene.h"
#include "cli_tileset_layer.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_raster_layer.h"

#include <stdlib.h>
#include <string.h>

#define SUB "pick"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_pick) == 0)
        return 0;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    int n_inputs = 0, width = 1280, height = 720, rc = 0;
    bool json = false, has_pixel = false, wait = false;
    double pixel[2] = {0}, timeout = 120;
    cli_view_args view = {0};
    cli_layer_options lopts = {0};
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        int v = cli_view_arg(SUB, argc, argv, &i, &view);
        if (v < 0) {
            rc = CT_ERR_USAGE;
            break;
        }
        if (v > 0)
            continue;
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--json"))
            json = true;
        else if (!strcmp(a, "--wait"))
            wait = true;
        else if (!strcmp(a, "--pixel") && has_value) {
            if (cli_parse_numbers(argv[++i], pixel, 2, 2) != 2)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--pixel wants X,Y, got '%s'", argv[i]);
            has_pixel = true;
        } else if (!strcmp(a, "--size") && has_value) {
            if (!cli_parse_size(argv[++i], &width, &height))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--size wants WxH, got '%s'", argv[i]);
        } else if (!strcmp(a, "--sse") && has_value) {
            if (cli_parse_numbers(argv[++i], &lopts.sse, 1, 1) != 1 || !(lopts.sse > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--sse wants a positive number of pixels, got '%s'", argv[i]);
        } else if (!strcmp(a, "--timeout") && has_value) {
            if (cli_parse_numbers(argv[++i], &timeout, 1, 1) != 1 || !(timeout > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--timeout wants seconds > 0, got '%s'", argv[i]);
        } else if (a[0] == '-' && a[1] != 0)
            rc = cli_fail(SUB, CT_ERR_USAGE, "unknown or incomplete option '%s' (see citytwin help pick)", a);
        else
            inputs[n_inputs++] = argv[i];
    }
    if (rc == 0 && !has_pixel)
        rc = cli_fail(SUB, CT_ERR_USAGE, "missing --pixel X,Y");
    if (rc == 0 && n_inputs == 0)
        rc = cli_fail(SUB, CT_ERR_USAGE, "missing INPUT");
    if (rc == 0 && (pixel[0] < 0 || pixel[1] < 0 || pixel[0] >= width || pixel[1] >= height))
        rc = cli_fail(SUB, CT_ERR_USAGE, "--pixel %g,%g is outside the %dx%d view", pixel[0], pixel[1], width, height);
    if (rc != 0) {
        free(inputs);
        return rc;
    }
    ct_error err = {0};
    ct_render_context *ctx;
    ct_renderer *r;
    cli_scene scene;
    ct_renderer_desc rd = {.msaa = 1, .picking = true}; /* one sample: ids are exact per pixel */
    rc = cli_headless_open(SUB, inputs, n_inputs, width, height, &rd, &lopts, &ctx, &r, &scene);
    free(inputs);
    if (rc != 0)
        return rc;
    ct_camera cam;
    rc = cli_view_camera(SUB, &view, &scene, width, height, &cam);
    ct_render_frame_desc fd = {.camera = &cam, .width = width, .height = height};
    double t_start = ct_time_now();
    while (rc == 0) {
        bool complete = true;
        if (cli_scene_update(&scene, r, &cam, width, height, &complete, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            break;
        }
        ct_renderer_begin_frame(r, &fd);
        cli_scene_draw(&scene, r);
        ct_renderer_end_frame(r);
        if (!wait || complete || ct_time_now() - t_start > timeout)
            break;
    }
    ct_render_pick p;
    if (rc == 0 && ct_renderer_pick(r, (int)pixel[0], (int)pixel[1], &p, &err) != CT_OK)
        rc = cli_fail_err(SUB, &err);
    if (rc == 0) {
        ct_render_layer *l = p.hit ? cli_scene_layer_by_pick(&scene, p.pick_id) : NULL;
        const ct_gltf *g = l && l->vt->bounds && l->model_source ? (const ct_gltf *)l->model_source : NULL;
        const char *node_name = g && p.node >= 0 && (uint32_t)p.node < g->node_count ? g->nodes[p.node].name : NULL;
        const char *mesh_name = g && p.mesh >= 0 && (uint32_t)p.mesh < g->mesh_count ? g->meshes[p.mesh].name : NULL;
        /* vector layers: the OGR FID and attributes of the feature */
        char *fj = l && l->vt->feature_json && p.feature_id >= 0 ? l->vt->feature_json(l, p.feature_id) : NULL;
        cJSON *feature = fj ? cJSON_Parse(fj) : NULL;
        free(fj);
        const cJSON *fid = cJSON_GetObjectItemCaseSensitive(feature, "fid");
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(feature, "properties");
        ct_dvec3 ll = {0, 0, 0};
        double value = 0; /* terrain/raster layers: the cell's value under the hit */
        bool has_value = p.hit && ct_render_layer_raster_value(l, p.position, &value);
        if (p.hit && scene.geographic)
            ll = ct_geo_lonlat_from_ecef(p.position);
        cJSON *o = cJSON_CreateObject();
        {
            cJSON_AddBoolToObject(o, "hit", p.hit);
            if (p.hit) {
                cJSON_AddStringToObject(o, "layer", l && l->name ? l->name : "");
                cJSON_AddNumberToObject(o, "node", p.node);
                if (node_name)
                    cJSON_AddStringToObject(o, "node_name", node_name);
                cJSON_AddNumberToObject(o, "mesh", p.mesh);
                if (mesh_name)
                    cJSON_AddStringToObject(o, "mesh_name", mesh_name);
                cJSON_AddNumberToObject(o, "primitive", p.primitive);
                if (cJSON_IsNumber(fid))
                    cJSON_AddNumberToObject(o, "feature_id", fid->valuedouble);
                else if (p.feature_id >= 0)
                    cJSON_AddNumberToObject(o, "feature_id", (double)p.feature_id);
                else
                    cJSON_AddNullToObject(o, "feature_id");
                if (cJSON_IsObject(props))
                    cJSON_AddItemToObject(o, "properties", cJSON_Duplicate(props, true));
                cJSON_AddNumberToObject(o, "instance", p.instance);
                double pos[3] = {p.position.x, p.position.y, p.position.z};
                cJSON_AddItemToObject(o, "position", cJSON_CreateDoubleArray(pos, 3));
                if (scene.geographic) {
                    double lonlat[3] = {ll.x, ll.y, ll.z};
                    cJSON_AddItemToObject(o, "lonlat", cJSON_CreateDoubleArray(lonlat, 3));
                }
                cJSON_AddNumberToObject(o, "distance_m", p.depth_m);
                if (has_value)
                    cJSON_AddNumberToObject(o, "value", value);
                /* tileset layers: tile, per-instance feature id, properties, metadata */
                cli_tileset_layer_pick_details(l, &p, o);
            }
        }
        if (json) {
            cli_print_json(o);
        } else if (!p.hit) {
            printf("nothing at pixel %d,%d\n", (int)pixel[0], (int)pixel[1]);
        } else {
            printf("layer      %s\n", l && l->name ? l->name : "?");
            printf("node       %d%s%s\n", p.node, node_name ? " " : "", node_name ? node_name : "");
            printf("mesh       %d%s%s\n", p.mesh, mesh_name ? " " : "", mesh_name ? mesh_name : "");
            printf("primitive  %d\n", p.primitive);
            const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "tileset");
            const cJSON *tile = cJSON_GetObjectItemCaseSensitive(o, "tile");
            const cJSON *fid = cJSON_GetObjectItemCaseSensitive(o, "feature_id");
            const cJSON *inst = cJSON_GetObjectItemCaseSensitive(o, "instance");
            if (cJSON_IsString(ts))
                printf("tileset    %s\n", ts->valuestring);
            if (cJSON_IsObject(tile)) {
                const cJSON *path = cJSON_GetObjectItemCaseSensitive(tile, "path");
                const cJSON *uri = cJSON_GetObjectItemCaseSensitive(tile, "content_uri");
                const cJSON *depth = cJSON_GetObjectItemCaseSensitive(tile, "depth");
                printf("tile       %s (depth %d) %s\n", cJSON_IsString(path) ? path->valuestring : "?",
                       cJSON_IsNumber(depth) ? depth->valueint : -1, cJSON_IsString(uri) ? uri->valuestring : "");
            }
            if (cJSON_IsNumber(fid))
                printf("feature    %.0f\n", fid->valuedouble);
            if (cJSON_IsNumber(inst) && inst->valuedouble > 0)
                printf("instance   %.0f\n", inst->valuedouble);
            for (int k = 0; k < 2; k++) {
                const char *key = k ? "metadata" : "properties";
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
                char *txt = v && !cJSON_IsNull(v) ? cJSON_PrintUnformatted(v) : NULL;
                if (txt)
                    printf("%-10s %s\n", key, txt);
                free(txt);
            }
            printf("position   %.4f, %.4f, %.4f\n", p.position.x, p.position.y, p.position.z);
            if (scene.geographic)
                printf("lon/lat/h  %.8f, %.8f, %.3f\n", ll.x, ll.y, ll.z);
            printf("distance   %.3f m\n", p.depth_m);
            if (has_value)
                printf("value      %g\n", value);
        }
        if (!json)
            cJSON_Delete(o);
        cJSON_Delete(feature);
    }
    cli_headless_close(ctx, r, &scene);
    return rc;
}

const ct_cli_command ct_cmd_pick = {
    "pick", run, "what is under a pixel: tileset, tile, feature and properties",
    "usage: citytwin pick INPUT... --pixel X,Y [--size WxH] [--camera ...|--fit] [--json]\n"
    "\n"
    "Renders the view headless into an id buffer and reports what is drawn at\n"
    "pixel X,Y (origin top-left): layer, glTF node/mesh/primitive, feature id\n"
    "(EXT_mesh_features / _BATCHID; instance index for instanced features) and\n"
    "the world position of the hit (ECEF plus lon/lat/height for geographic\n"
    "scenes, scene X,Y,Z otherwise). For 3D Tiles: the tileset, the tile (path,\n"
    "depth, geometricError, content URI), the feature's properties (batch table\n"
    "or EXT_structural_metadata property table) and tileset/group/tile/content\n"
    "metadata.\n"
    "\n"
    "  --pixel X,Y            pixel to query (required)\n"
    "  --size WxH             view size (default 1280x720)\n"
    "  --camera LON,LAT,H,HEADING,PITCH[,ROLL] | --fit | --bookmark NAME | --fov DEG\n"
    "                         as for citytwin render (default --fit)\n"
    "  --wait, --timeout S, --sse N   as for citytwin render (tilesets)\n"
    "  --json                 print one JSON object: hit, layer, node, mesh, primitive,\n"
    "                         feature_id, instance, position, lonlat, distance_m;\n"
    "                         value (the cell's value) for terrain and raster layers;\n"
    "                         tilesets add tileset, tile, properties, property_table,\n"
    "                         class, metadata (docs/3dtiles.md, Picking); for vector\n"
    "                         layers feature_id is the OGR FID and properties holds the\n"
    "                         feature's attributes (docs/scene.md, Vector layers)\n"};
