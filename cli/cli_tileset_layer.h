/* Internal to the `citytwin` command: a 3D Tiles tileset as a render layer
 * (cli_tileset_layer.c), opened by cli_scene.c for render, pick and view. */
#ifndef CT_CLI_TILESET_LAYER_H
#define CT_CLI_TILESET_LAYER_H

#include "citytwin/ct_render.h"

#include <cjson/cJSON.h>

typedef struct cli_tileset_layer_desc {
    const char *uri;                 /* tileset.json path or URL */
    const char *name;                /* layer name; NULL = uri */
    double sse;                      /* maximum screen-space error; 0 = 16 */
    size_t memory_budget;            /* bytes; 0 = 512 MiB */
    int workers;                     /* 0 = ct_tileset's default (CPUs - 1) */
    bool skip_levels;
    bool allow_outside_folder;
    const char *const *http_headers;
    int n_http_headers;
    /* scene placement (scene files): local ENU frame -> ECEF and the layer's
     * offset/rotation in it */
    bool has_local_frame;
    double scene_to_ecef[16];
    double layer_transform[16];
} cli_tileset_layer_desc;

ct_status cli_tileset_layer_create(ct_renderer *r, const cli_tileset_layer_desc *d, ct_render_layer **out,
                                   ct_error *err);

/* What a pick on a tileset layer hit, added to the pick JSON object o:
 * "tileset", "tile" {id, path, depth, geometric_error, refine, content_uri,
 * content_index, content_format, model}, "feature_id" (replaced: per
 * instance for i3dm), "instance", "properties" (batch table or property
 * table row, null when none), "property_table", "class", and "metadata"
 * {tileset, group, tile, content} from tileset.json. Valid until the next
 * update of the layer. False (o untouched) when l is not a tileset layer. */
bool cli_tileset_layer_pick_details(ct_render_layer *l, const ct_render_pick *p, cJSON *o);

/* The layer's tileset (load mode, wait for workers, statistics), or NULL
 * when l is not a tileset layer. */
struct ct_tileset *cli_tileset_layer_tileset(ct_render_layer *l);

#endif
