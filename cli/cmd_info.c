/* citytwin info FILE [--json]: describes a glTF/GLB (and, later, tile content
 * files and tilesets). The file kind is sniffed from its bytes, not its name,
 * and each kind has its own describe function below. */
#include "cli.h"

#include "citytwin/ct_gltf.h"
#include "citytwin/ct_tile_content.h"

#include <stdlib.h>
#include <string.h>

typedef enum info_kind { KIND_UNKNOWN, KIND_GLTF, KIND_GLB, KIND_TILE_CONTENT, KIND_TILESET } info_kind;

static info_kind sniff(const uint8_t *d, size_t n)
{
    if (n >= 4 && !memcmp(d, "glTF", 4))
        return KIND_GLB;
    if (n >= 4 && (!memcmp(d, "b3dm", 4) || !memcmp(d, "i3dm", 4) || !memcmp(d, "pnts", 4) || !memcmp(d, "cmpt", 4)))
        return KIND_TILE_CONTENT;
    size_t i = 0;
    if (n >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
        i++;
    if (i < n && d[i] == '{') {
        /* A tileset has a "root" tile; a glTF has none. Parse to be sure. */
        cJSON *j = cJSON_ParseWithLength((const char *)d, n);
        info_kind k = j && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "root")) ? KIND_TILESET : KIND_GLTF;
        cJSON_Delete(j);
        return k;
    }
    return KIND_UNKNOWN;
}

static cJSON *vec3_json(const double v[3])
{
    return cJSON_CreateDoubleArray(v, 3);
}

static uint32_t primitive_total(const ct_gltf *g)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->mesh_count; i++)
        n += g->meshes[i].primitive_count;
    return n;
}

static int info_gltf(const char *path, const uint8_t *data, size_t size, bool json)
{
    char *dir = ct_path_dirname(path);
    ct_gltf_options opts = {.base_dir = dir, .name = path, .skip_images = true};
    ct_gltf *g = NULL;
    ct_error err = {0};
    ct_status st = ct_gltf_load_memory(data, size, &opts, &g, &err);
    free(dir);
    if (st)
        return cli_fail_err("info", &err);
    bool drawn = g->vertex_count > 0;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", size >= 4 && !memcmp(data, "glTF", 4) ? "glb" : "gltf");
        cJSON_AddNumberToObject(o, "nodes", g->node_count);
        cJSON_AddNumberToObject(o, "meshes", g->mesh_count);
        cJSON_AddNumberToObject(o, "primitives", primitive_total(g));
        cJSON_AddNumberToObject(o, "triangles", (double)g->triangle_count);
        cJSON_AddNumberToObject(o, "vertices", (double)g->vertex_count);
        cJSON_AddNumberToObject(o, "materials", g->material_count);
        cJSON_AddNumberToObject(o, "textures", g->texture_count);
        cJSON_AddNumberToObject(o, "images", g->image_count);
        cJSON_AddNumberToObject(o, "scenes", g->scene_count);
        cJSON_AddNumberToObject(o, "draws", g->draw_count);
        cJSON_AddStringToObject(o, "gltf_version", g->source_version); /* "1.0": upgraded on load */
        cJSON *ext = cJSON_AddArrayToObject(o, "extensions_used");
        for (uint32_t i = 0; i < g->extensions_used_count; i++)
            cJSON_AddItemToArray(ext, cJSON_CreateString(g->extensions_used[i]));
        ext = cJSON_AddArrayToObject(o, "extensions_required");
        for (uint32_t i = 0; i < g->extensions_required_count; i++)
            cJSON_AddItemToArray(ext, cJSON_CreateString(g->extensions_required[i]));
        cJSON_AddItemToObject(o, "bounds_min", drawn ? vec3_json(g->bounds_min) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "bounds_max", drawn ? vec3_json(g->bounds_max) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "rtc_center", g->has_rtc_center ? vec3_json(g->rtc_center) : cJSON_CreateNull());
        cli_print_json(o);
    } else {
        printf("%s: glTF %s (%s%s)\n", path, g->source_version, size >= 4 && !memcmp(data, "glTF", 4) ? "GLB" : "JSON",
               strcmp(g->source_version, "2.0") ? ", upgraded to 2.0 on load" : "");
        printf("  nodes %u, meshes %u, primitives %u, materials %u, textures %u, images %u, scenes %u\n",
               g->node_count, g->mesh_count, primitive_total(g), g->material_count, g->texture_count, g->image_count,
               g->scene_count);
        printf("  default scene draws %u meshes: %llu triangles, %llu vertices\n", g->draw_count,
               (unsigned long long)g->triangle_count, (unsigned long long)g->vertex_count);
        if (drawn)
            printf("  bounds [%g, %g, %g] .. [%g, %g, %g]\n", g->bounds_min[0], g->bounds_min[1], g->bounds_min[2],
                   g->bounds_max[0], g->bounds_max[1], g->bounds_max[2]);
        printf("  extensions used:");
        for (uint32_t i = 0; i < g->extensions_used_count; i++)
            printf(" %s", g->extensions_used[i]);
        printf("%s\n", g->extensions_used_count ? "" : " none");
        if (g->has_rtc_center)
            printf("  CESIUM_RTC center [%.3f, %.3f, %.3f]\n", g->rtc_center[0], g->rtc_center[1], g->rtc_center[2]);
    }
    ct_gltf_destroy(g);
    return 0;
}

/* Tile content files (b3dm/i3dm/pnts/cmpt): the glTF fields summed over the
 * models inside (cmpt flattened), plus features, instances and points. Bounds
 * are in the tile frame (z up, RTC applied), before the tileset's transform. */
static void add_unique(cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        if (!strcmp(e->valuestring, s))
            return;
    cJSON_AddItemToArray(arr, cJSON_CreateString(s));
}

static int info_tile_content(const char *path, const uint8_t *data, size_t size, bool json)
{
    char *dir = ct_path_dirname(path);
    ct_tile_content_options opts = {.uri = path, .base_dir = dir, .skip_images = true};
    ct_tile_content *c = NULL;
    ct_error err = {0};
    ct_status st = ct_tile_content_load_memory(data, size, &opts, &c, &err);
    free(dir);
    if (st)
        return cli_fail_err("info", &err);
    uint64_t nodes = 0, meshes = 0, prims = 0, materials = 0, textures = 0;
    cJSON *ext = cJSON_CreateArray();
    for (uint32_t i = 0; i < c->model_count; i++) {
        const ct_gltf *g = c->models[i].gltf;
        if (!g)
            continue;
        nodes += g->node_count, meshes += g->mesh_count, prims += primitive_total(g);
        materials += g->material_count, textures += g->texture_count;
        for (uint32_t k = 0; k < g->extensions_used_count; k++)
            add_unique(ext, g->extensions_used[k]);
    }
    bool has_bounds = c->bounds_min[0] <= c->bounds_max[0];
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "type", ct_tile_format_name(c->format));
        cJSON_AddNumberToObject(o, "nodes", (double)nodes);
        cJSON_AddNumberToObject(o, "meshes", (double)meshes);
        cJSON_AddNumberToObject(o, "primitives", (double)prims);
        cJSON_AddNumberToObject(o, "triangles", (double)c->triangle_count);
        cJSON_AddNumberToObject(o, "vertices", (double)c->vertex_count);
        cJSON_AddNumberToObject(o, "materials", (double)materials);
        cJSON_AddNumberToObject(o, "textures", (double)textures);
        cJSON_AddItemToObject(o, "extensions_used", ext);
        cJSON_AddItemToObject(o, "bounds_min", has_bounds ? vec3_json(c->bounds_min) : cJSON_CreateNull());
        cJSON_AddItemToObject(o, "bounds_max", has_bounds ? vec3_json(c->bounds_max) : cJSON_CreateNull());
        cJSON_AddNumberToObject(o, "features", (double)c->feature_count);
        cJSON_AddNumberToObject(o, "instances", (double)c->instance_count);
        cJSON_AddNumberToObject(o, "points", (double)c->point_count);
        cJSON_AddNumberToObject(o, "warnings", c->warning_count);
        cJSON *models = cJSON_AddArrayToObject(o, "models");
        for (uint32_t i = 0; i < c->model_count; i++) {
            const ct_tile_model *m = &c->models[i];
            cJSON *mo = cJSON_CreateObject();
            cJSON_AddStringToObject(mo, "type", ct_tile_format_name(m->format));
            cJSON_AddNumberToObject(mo, "byte_offset", (double)m->byte_offset);
            cJSON_AddNumberToObject(mo, "triangles", (double)m->triangle_count);
            cJSON_AddNumberToObject(mo, "points", (double)m->point_count);
            cJSON_AddNumberToObject(mo, "instances", m->instance_count);
            cJSON_AddNumberToObject(mo, "features", m->feature_count);
            cJSON_AddItemToObject(mo, "rtc_center", m->has_rtc_center ? vec3_json(m->rtc_center) : cJSON_CreateNull());
            cJSON *props = cJSON_AddArrayToObject(mo, "properties");
            for (uint32_t k = 0; k < ct_tile_batch_table_property_count(m->batch_table); k++)
                cJSON_AddItemToArray(props, cJSON_CreateString(ct_tile_batch_table_property_name(m->batch_table, k)));
            cJSON_AddItemToArray(models, mo);
        }
        cli_print_json(o);
    } else {
        printf("%s: %s tile content, %u model%s\n", path, ct_tile_format_name(c->format), c->model_count,
               c->model_count == 1 ? "" : "s");
        printf("  %llu triangles, %llu vertices, %llu points, %llu instances, %llu features\n",
               (unsigned long long)c->triangle_count, (unsigned long long)c->vertex_count,
               (unsigned long long)c->point_count, (unsigned long long)c->instance_count,
               (unsigned long long)c->feature_count);
        if (has_bounds)
            printf("  bounds (tile frame, z up) [%.3f, %.3f, %.3f] .. [%.3f, %.3f, %.3f]\n", c->bounds_min[0],
                   c->bounds_min[1], c->bounds_min[2], c->bounds_max[0], c->bounds_max[1], c->bounds_max[2]);
        for (uint32_t i = 0; i < c->model_count; i++) {
            const ct_tile_model *m = &c->models[i];
            printf("  [%u] %s at byte %zu: %llu triangles, %llu points, %u instances, %u features", i,
                   ct_tile_format_name(m->format), m->byte_offset, (unsigned long long)m->triangle_count,
                   (unsigned long long)m->point_count, m->instance_count, m->feature_count);
            if (m->has_rtc_center)
                printf(", RTC [%.3f, %.3f, %.3f]", m->rtc_center[0], m->rtc_center[1], m->rtc_center[2]);
            printf("\n");
            uint32_t np = ct_tile_batch_table_property_count(m->batch_table);
            if (np) {
                printf("      properties:");
                for (uint32_t k = 0; k < np; k++)
                    printf(" %s", ct_tile_batch_table_property_name(m->batch_table, k));
                printf("\n");
            }
        }
        if (c->warning_count)
            printf("  %u problem%s skipped (see warnings above)\n", c->warning_count, c->warning_count == 1 ? "" : "s");
        cJSON_Delete(ext);
    }
    ct_tile_content_destroy(c);
    return 0;
}

/* A tileset: the same walk and output as `citytwin tiles info` (cmd_tiles.c). */
static int info_tileset(const char *path, const uint8_t *data, size_t size, bool json)
{
    return cli_tiles_info(path, json);
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_info) == 0)
        return 0;
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail("info", CT_ERR_USAGE, "unknown option %s (see citytwin info --help)", argv[i]);
        else if (path)
            return cli_fail("info", CT_ERR_USAGE, "one FILE only (got %s and %s)", path, argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return cli_fail("info", CT_ERR_USAGE, "missing FILE (see citytwin info --help)");
    uint8_t *data;
    size_t size;
    ct_error err = {0};
    if (ct_file_read(path, 0, &data, &size, &err))
        return cli_fail_err("info", &err);
    int rc;
    switch (sniff(data, size)) {
    case KIND_GLB:
    case KIND_GLTF: rc = info_gltf(path, data, size, json); break;
    case KIND_TILE_CONTENT: rc = info_tile_content(path, data, size, json); break;
    case KIND_TILESET: rc = info_tileset(path, data, size, json); break;
    default: rc = cli_fail("info", CT_ERR_INPUT, "%s: unknown file type (not glTF, GLB, 3D Tiles content or tileset)", path);
    }
    free(data);
    return rc;
}

const ct_cli_command ct_cmd_info = {
    "info", run, "describe a glTF/GLB, tile content file or tileset",
    "usage: citytwin info FILE [--json]\n"
    "\n"
    "Describes FILE, whose type is recognised from its contents:\n"
    "  glTF 2.0 (.gltf with external or embedded buffers, .glb): counts of nodes,\n"
    "  meshes, primitives, materials, textures; the triangles and vertices drawn by\n"
    "  the default scene (instancing multiplies, strips and fans count as\n"
    "  triangles); its bounds (glTF axes, y up); the extensions used.\n"
    "  3D Tiles content (b3dm, i3dm, pnts, cmpt): the same counts summed over the\n"
    "  models inside (a cmpt is flattened), plus features, instances and points;\n"
    "  bounds in the tile frame (z up, RTC_CENTER applied); per model its type,\n"
    "  byte offset, RTC center and batch table property names.\n"
    "\n"
    "Options:\n"
    "  --json   print one JSON object: {\"nodes\", \"meshes\", \"primitives\", \"triangles\",\n"
    "           \"vertices\", \"materials\", \"textures\", \"extensions_used\", \"bounds_min\",\n"
    "           \"bounds_max\", ...}; for tile content also \"features\", \"instances\",\n"
    "           \"points\", \"warnings\" and \"models\": [{\"type\", \"byte_offset\", ...}]\n"
    "\n"
    "Exit status: 0 ok, 1 usage error, 2 invalid or unreadable file (one line on\n"
    "stderr naming the file and the JSON path or byte offset).\n"};
