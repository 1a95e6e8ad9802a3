/* Raster result layers: a scene's `terrain` layers (a DEM drawn as a shaded
 * surface) and `raster` layers (any single-band raster coloured by a ramp and
 * draped on the terrain, or raised to ground + value: a flood's water
 * surface). Format of the `style` keys: docs/scene.md.
 *
 * Both are built on the CPU as an in-memory ct_gltf in the scene's local
 * frame (raster CRS -> lon/lat/h -> ECEF -> scene ENU through PROJ, cell
 * values as ellipsoidal heights, as the demo's model is built) and drawn by
 * the glTF model renderer, so blending, picking and bounds work as for any
 * model. Large rasters are read decimated (every n-th cell) so a layer stays
 * under its triangle budget; nodata cells are left out (holes). */
#ifndef CT_RASTER_LAYER_H
#define CT_RASTER_LAYER_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_render.h"
#include "citytwin/ct_scene.h"

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- colours and ramps ---- */

/* "#rgb", "#rrggbb" or "#rrggbbaa" (sRGB). false when malformed. */
bool ct_color_parse(const char *s, uint8_t rgba[4]);

enum { CT_COLOR_RAMP_MAX_STOPS = 64 };

typedef struct ct_color_ramp {
    int count;                   /* stops, ascending values */
    double values[CT_COLOR_RAMP_MAX_STOPS];
    uint8_t rgba[CT_COLOR_RAMP_MAX_STOPS][4];
    bool normalized;             /* values are 0..1, spread over the style's min..max (named ramps) */
    bool discrete;               /* a value takes the colour of the last stop <= it (no blending) */
    bool default_min_zero;       /* named "depth": min defaults to 0 rather than the data minimum */
} ct_color_ramp;

/* A named ramp: "depth" (water blues), "viridis", "visibility" (0 transparent,
 * >= 1 green), "terrain" (hypsometric), "gray". false when unknown. */
bool ct_color_ramp_named(const char *name, ct_color_ramp *out);
/* The colour of value v; min/max spread a normalized ramp (ignored otherwise).
 * Beyond the ends: the end colours. sRGB interpolation, alpha included. */
void ct_color_ramp_apply(const ct_color_ramp *r, double v, double min, double max, uint8_t out[4]);

/* ---- style ---- */

typedef enum ct_raster_height {
    CT_RASTER_HEIGHT_GROUND,       /* draped on the terrain (+ drape_offset) */
    CT_RASTER_HEIGHT_GROUND_VALUE, /* "ground+value": ground + the cell's value (water surface of a depth grid) */
    CT_RASTER_HEIGHT_CONSTANT,     /* a number: ellipsoidal height in metres */
} ct_raster_height;

typedef struct ct_raster_style {
    ct_color_ramp ramp;
    bool has_color;          /* "color": one colour for every cell (instead of the ramp) */
    uint8_t color[4];
    bool has_min, has_max;   /* "min"/"max": the ends of a named ramp; default the data range */
    double min, max;
    double opacity;          /* "opacity": 0..1, multiplies the colours' alpha; default 1 */
    bool lit;                /* "lit": sun shading; default true for terrain, false for raster (exact colours) */
    bool hillshade;          /* "hillshade": bake a hillshade (sun NW, 45 deg) into the colours, unlit */
    ct_raster_height height; /* "height": "ground" (default), "ground+value" or a number */
    double height_value;
    const char *drape_on;    /* "drape_on": terrain layer name; NULL = the scene's first terrain layer */
    double drape_offset;     /* "drape_offset": metres above the ground when draped; default 0.5 */
    double max_triangles;    /* "max_triangles": decimation budget; default 2,000,000 */
} ct_raster_style;

/* Reads a terrain or raster layer's "style" object (may be NULL: defaults).
 * `where` names the style in messages, e.g. "scene.json: layers[3].style".
 * Unknown keys are logged and ignored. Errors (CT_ERR_INPUT): unknown ramp
 * name, malformed colour, stops out of order, values out of range. */
ct_status ct_raster_style_parse(const cJSON *style, ct_layer_type type, const char *where, ct_raster_style *out,
                                ct_error *err);

/* ---- building (CPU only) ---- */

typedef struct ct_raster_layer_info {
    int width, height;          /* source raster size in cells */
    int stride;                 /* 1 = every cell; n = every n-th cell in both directions */
    int subdivisions;           /* raster layers: quads per cell side (to follow a finer terrain) */
    uint64_t cells_drawn;       /* cells with triangles */
    uint64_t cells_skipped;     /* nodata, transparent, off the terrain */
    uint64_t triangles;
    double value_min, value_max; /* of the valid (decimated) cells */
    bool blended;               /* drawn with alpha blending */
} ct_raster_layer_info;

/* The layer's mesh as a ct_gltf in the scene's local frame (glTF y-up, so it is
 * placed like a glTF layer: ct_scene_layer_to_ecef * y-up->z-up). scene may be
 * NULL (then coordinates are the raster's own). Caller destroys *out. */
ct_status ct_raster_layer_build(const ct_scene *scene, const ct_scene_layer *layer, ct_gltf **out,
                                ct_raster_layer_info *info, ct_error *err);

/* ---- render layers ---- */

/* A terrain or raster scene layer as a render layer (layer->type picks which).
 * Placed by ct_scene_layer_to_ecef (scene NULL: identity). */
ct_status ct_render_layer_raster_create(ct_renderer *r, const ct_scene *scene, const ct_scene_layer *layer,
                                        ct_render_layer **out, ct_error *err);
/* The raster value under a world position (e.g. a pick's), for layers made by
 * ct_render_layer_raster_create; false for other layers, holes and outside. */
bool ct_render_layer_raster_value(const ct_render_layer *l, ct_dvec3 world, double *value);
/* What the layer drew (NULL for other layers). */
const ct_raster_layer_info *ct_render_layer_raster_info(const ct_render_layer *l);

#ifdef __cplusplus
}
#endif
#endif
