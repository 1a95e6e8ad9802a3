/* Vector layers: OGR features (any format, any CRS) turned into a drawable
 * model. Points become markers, lines ribbons of a width in metres, polygons
 * draped fills with an outline or extruded prisms; every vertex goes through
 * PROJ (source CRS -> its geographic CRS -> ECEF -> the scene's frame) and
 * takes its height from the geometry (3D), a style value, a DEM, or 0.
 * Styles are the scene layer's "style" object (docs/scene.md, "Vector
 * layers"). The model is a plain ct_gltf (y-up, as glTF layers) whose
 * feature ids are OGR FIDs, so the renderer and picking need nothing new.
 *
 * Building the model needs no GL (ct_vector_build); ct_render_layer_vector_create
 * builds and uploads it as a render layer. Bad features (no geometry, invalid
 * rings, NaN coordinates, points PROJ cannot transform) are skipped, logged
 * and counted; bad style values are warned about (naming the layer and key)
 * and replaced by defaults. */
#ifndef CT_VECTOR_H
#define CT_VECTOR_H

#include "citytwin/ct_gltf.h"
#include "citytwin/ct_render.h"

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_vector_desc {
    const char *source;        /* any OGR datasource (path) */
    const char *name;          /* layer name used in messages; NULL = source */
    const cJSON *style;        /* the scene layer's "style" object; NULL = defaults */
    /* Where content goes. has_frame: features are placed in the scene's local
     * frame (ENU metres, z up; frame_to_ecef from ct_scene_frame_to_ecef) and
     * the source must have a CRS. Otherwise content is in frame_crs
     * coordinates (a scene without origin), or the source's own when
     * frame_crs is NULL or "". */
    bool has_frame;
    double frame_to_ecef[16];
    const char *frame_crs;
    /* The layer's placement (offset, rotation) applied after: frame ->
     * frame (ct_scene_layer_transform). All zero = identity. */
    double placement[16];
    /* Ground heights for features without z (any GDAL raster, any CRS; the
     * scene's terrain layer). NULL: ground is at height 0. */
    const char *dem;
} ct_vector_desc;

typedef struct ct_vector_stats {
    size_t features;           /* read from the source (after "where") */
    size_t drawn;              /* features that produced geometry */
    size_t skipped;            /* no geometry, invalid, untransformable */
    size_t points, lines, polygons; /* drawn parts by kind */
    uint64_t triangles;
    uint32_t style_warnings;   /* bad or unknown style keys */
} ct_vector_stats;

typedef struct ct_vector ct_vector;

/* Reads the source and builds the model. Fails (CT_ERR_INPUT, message naming
 * the source; the caller adds the layer name) when the source cannot be opened, has no layer of
 * the requested name, the "where" filter is invalid, or the CRS cannot be
 * placed in the frame. An empty layer (or one whose features are all
 * skipped) is not an error: the model is empty and a warning is logged. */
ct_status ct_vector_build(const ct_vector_desc *desc, ct_vector **out, ct_error *err);
void ct_vector_destroy(ct_vector *v);

/* The model (owned by v unless taken): one node, one mesh; positions are
 * content coordinates turned y-up (x, z, -y) and relative to
 * ct_vector_world's translation. */
const ct_gltf *ct_vector_gltf(const ct_vector *v);
/* Moves the model out (the caller destroys it); v keeps its features. */
ct_gltf *ct_vector_take_gltf(ct_vector *v);
/* Model (z-up) -> world: frame_to_ecef * placement, or placement * a
 * translation to the content's first point (keeps float vertices small)
 * without a frame. */
void ct_vector_world(const ct_vector *v, double out[16]);
void ct_vector_get_stats(const ct_vector *v, ct_vector_stats *out);
/* The feature drawn with render feature id `id`: its OGR FID and its
 * attributes as a JSON object text ({"name": "...", "floors": 3}); false when
 * unknown. */
bool ct_vector_feature(const ct_vector *v, int64_t id, int64_t *fid, const char **properties_json);

/* ---- labels (style "label": attribute name; docs/scene.md) ---- */

typedef enum ct_vector_label_kind {
    CT_VECTOR_LABEL_POINT,     /* beside the marker: anchor at the marker's top */
    CT_VECTOR_LABEL_LINE,      /* centred on the midpoint of the longest part */
    CT_VECTOR_LABEL_POLYGON,   /* centred on an interior point (GEOSPointOnSurface) of the largest part, on the roof when extruded */
} ct_vector_label_kind;

typedef struct ct_vector_label {
    char *text;                /* UTF-8: the attribute's value as text */
    double position[3];        /* anchor in content coordinates (z-up): world = ct_vector_world * position */
    double priority;           /* style label_priority; higher is placed first */
    uint32_t feature_id;       /* render feature id (the OGR FID) */
    ct_vector_label_kind kind;
} ct_vector_label;

typedef struct ct_vector_label_style {
    float size_px;             /* label_size: text height (em) in pixels; default 16 */
    float color[4];            /* label_color: sRGB + alpha; default white */
    float halo_color[4];       /* label_halo: sRGB + alpha; default #202020 */
    float halo_px;             /* label_halo_width: pixels, 0 = no halo; default 2 */
    double min_distance, max_distance; /* label_min/max_distance: metres from the camera; default 0, infinity */
} ct_vector_label_style;

/* The features' labels in reading order (count 0 without style "label"). */
const ct_vector_label *ct_vector_labels(const ct_vector *v, size_t *count);
void ct_vector_get_label_style(const ct_vector *v, ct_vector_label_style *out);

/* A vector layer for the renderer: the model drawn as a glTF layer, plus
 * feature_json (FID and attributes) for picks. */
ct_status ct_render_layer_vector_create(ct_renderer *r, const ct_vector_desc *desc, ct_render_layer **out,
                                        ct_error *err);

/* What the last frame did with a vector render layer's labels. */
typedef struct ct_vector_label_stats {
    uint32_t labels;           /* features with a label */
    uint32_t drawn;
    uint32_t culled;           /* behind the camera, (partly) off screen, outside label_min/max_distance or empty text */
    uint32_t occluded;         /* anchor hidden behind terrain, buildings or other geometry */
    uint32_t collided;         /* would overlap a label placed before it (higher priority or nearer) */
    bool font_ok;              /* false: the font could not be loaded and labels are skipped */
} ct_vector_label_stats;

/* Label statistics of a layer made by ct_render_layer_vector_create; false
 * for other layers. */
bool ct_render_layer_vector_label_stats(const ct_render_layer *l, ct_vector_label_stats *out);

/* Parses a colour: "#rgb", "#rrggbb", "#rrggbbaa" or [r, g, b(, a)] with
 * 0..255 components; out is sRGB 0..1 with alpha. */
bool ct_vector_parse_color(const cJSON *v, float out[4]);

#ifdef __cplusplus
}
#endif
#endif
