/* Scene files: what the viewer and `citytwin render` show. A scene is a JSON
 * file (format: docs/scene.md) naming a CRS and a geographic origin, layers
 * (each a source with a style and a placement), camera bookmarks, tours,
 * live feeds and analysis presets. Loading checks the structure, resolves
 * every relative source against the scene file's folder, and keeps the raw
 * JSON so later modules (styles, feeds, analyses) read their own parts.
 *
 * Frames: the scene's local frame is East-North-Up at `origin` (metres,
 * z up). A layer is placed in it by rotation (heading, pitch, roll) then
 * offset (+ height_offset on z); see ct_scene_layer_to_ecef. Content of
 * glTF layers is glTF's y-up: it is turned z-up as 3D Tiles does
 * (x, y, z) -> (x, -z, y) before the layer transform. */
#ifndef CT_SCENE_H
#define CT_SCENE_H

#include "citytwin/ct_core.h"

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_layer_type {
    CT_LAYER_OTHER = 0, /* a type this version does not know: kept (type_name), warned about */
    CT_LAYER_GLTF,      /* "gltf": a .gltf/.glb model in the scene's local frame */
    CT_LAYER_TILESET,   /* "tileset": 3D Tiles tileset.json (file or http(s) URL) */
    CT_LAYER_TERRAIN,   /* "terrain": a DEM (any GDAL raster) drawn as a surface */
    CT_LAYER_RASTER,    /* "raster": a GDAL raster drawn as a colored grid (e.g. flood depth) */
    CT_LAYER_VECTOR,    /* "vector": OGR features (points, lines, footprints) */
    CT_LAYER_PIPES,     /* "pipes": pipeline survey (lines + points) drawn as 3D tubes */
    CT_LAYER_CITYJSON,  /* "cityjson": CityJSON / CityGML buildings */
} ct_layer_type;

/* A camera pose as on the command line (--camera): WGS84 degrees, ellipsoidal
 * height in metres, heading clockwise from north, pitch negative looking down. */
typedef struct ct_scene_view {
    double lon, lat, height;
    double heading, pitch, roll;
} ct_scene_view;

typedef struct ct_scene_layer {
    char *name;              /* "layers[i]" when absent */
    ct_layer_type type;
    char *type_name;         /* as written ("gltf", ...) */
    char *source;            /* absolute path, or the URL as written (http://, https://, file://) */
    bool source_is_url;
    bool visible;            /* default true */
    double offset[3];        /* metres in the local ENU frame; default 0 */
    double rotation[3];      /* heading, pitch, roll in degrees; default 0 */
    double height_offset;    /* metres added to z (photogrammetry alignment); default 0 */
    const cJSON *style;      /* the layer's "style" object or NULL; owned by the scene */
    const cJSON *json;       /* the whole layer object (for keys later modules add) */
} ct_scene_layer;

typedef struct ct_scene_camera {
    char *name;
    ct_scene_view view;
} ct_scene_camera;

typedef struct ct_scene_tour_stop {
    ct_scene_view view;
    double duration;         /* seconds spent flying to this stop; default 5 */
} ct_scene_tour_stop;

typedef struct ct_scene_tour {
    char *name;
    ct_scene_tour_stop *stops;
    uint32_t stop_count;
} ct_scene_tour;

typedef struct ct_scene {
    char *path;              /* the scene file as given ("" from memory without a path) */
    char *dir;               /* absolute folder relative sources were resolved against */
    int version;             /* 1 */
    char *name;              /* "" when absent */
    char *crs;               /* e.g. "EPSG:4547"; "" when absent */
    bool has_origin;
    double origin[3];        /* lon, lat (WGS84 degrees), height (m): the local frame's anchor */
    ct_scene_layer *layers;   uint32_t layer_count;
    ct_scene_camera *cameras; uint32_t camera_count;
    ct_scene_tour *tours;     uint32_t tour_count;
    const cJSON *feeds;      /* "feeds" array as written, or NULL */
    const cJSON *analyses;   /* "analyses" array as written, or NULL */
    uint32_t warning_count;  /* unknown keys/types and other non-fatal problems, each logged */
    cJSON *json;             /* the whole document; owned by the scene */
} ct_scene;

/* Loads a scene file. Errors name the file and the JSON path:
 * "scene.json: layers[2].source: missing". */
ct_status ct_scene_load(const char *path, ct_scene **out, ct_error *err);
/* Same from memory; path (may be NULL) is used for messages and to resolve
 * relative sources (NULL: against the current directory). */
ct_status ct_scene_load_memory(const void *data, size_t size, const char *path, ct_scene **out, ct_error *err);
void ct_scene_destroy(ct_scene *s);

/* The camera bookmark with this name, or NULL. */
const ct_scene_camera *ct_scene_find_camera(const ct_scene *s, const char *name);
/* The first layer with this name, or NULL. */
const ct_scene_layer *ct_scene_find_layer(const ct_scene *s, const char *name);

/* "gltf", "tileset", ... ("other" for CT_LAYER_OTHER). */
const char *ct_layer_type_name(ct_layer_type t);

/* The scene's local frame: ENU at origin -> ECEF (column-major). Identity
 * when the scene has no origin (its coordinates are then used as they are). */
void ct_scene_frame_to_ecef(const ct_scene *s, double out[16]);
/* A layer's placement in the local frame (z-up metres): translate(offset +
 * height_offset on z) * rotate(heading about -z i.e. clockwise from north,
 * then pitch about x, then roll about y). */
void ct_scene_layer_transform(const ct_scene_layer *l, double out[16]);
/* Both chained: layer content (z-up) -> ECEF. */
void ct_scene_layer_to_ecef(const ct_scene *s, const ct_scene_layer *l, double out[16]);

#ifdef __cplusplus
}
#endif
#endif
