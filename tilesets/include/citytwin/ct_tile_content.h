/* 3D Tiles tile content: decodes one content file (b3dm, i3dm, pnts, cmpt,
 * glb/glTF) into plain structs the renderer, picking and `info` can use.
 *
 * The format is sniffed from the magic, never from the file name. A JSON file
 * is reported as CT_TILE_FORMAT_TILESET (an external tileset, handled by the
 * tree code) or CT_TILE_FORMAT_GLTF; a "subt" file as CT_TILE_FORMAT_SUBTREE,
 * both with no models.
 *
 * A content is a flat list of models (cmpt inner tiles are flattened in file
 * order). Coordinates: every model has a model_matrix (double, column-major)
 * taking its own coordinates to the tile's z-up frame (the frame that the
 * tile's `transform` then takes to ECEF):
 *
 *   tile_pos = instance_matrix[i] * model_matrix * gltf->draws[d].world * v
 *
 * where instance_matrix is the identity for non-instanced models. For b3dm
 * and glb, model_matrix = translate(RTC_CENTER or CESIUM_RTC) * Y_UP_TO_Z_UP;
 * for i3dm, model_matrix = Y_UP_TO_Z_UP and the instance matrices hold the
 * instance positions (RTC_CENTER and quantization already applied, in double);
 * for pnts, model_matrix = translate(origin) where origin = RTC_CENTER (+
 * QUANTIZED_VOLUME_OFFSET for quantized positions), and points.positions are
 * floats relative to it (pnts is already z-up).
 *
 * Thread-safety: no global state, no OpenGL. Different contents may be
 * loaded and queried concurrently from any threads; one content must not be
 * destroyed while another thread reads it. */
#ifndef CT_TILE_CONTENT_H
#define CT_TILE_CONTENT_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_math.h"

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_tile_format {
    CT_TILE_FORMAT_UNKNOWN = 0,
    CT_TILE_FORMAT_B3DM,
    CT_TILE_FORMAT_I3DM,
    CT_TILE_FORMAT_PNTS,
    CT_TILE_FORMAT_CMPT,
    CT_TILE_FORMAT_GLB,
    CT_TILE_FORMAT_GLTF,    /* glTF JSON */
    CT_TILE_FORMAT_TILESET, /* JSON with "asset" and "root": an external tileset */
    CT_TILE_FORMAT_SUBTREE, /* implicit-tiling subtree ("subt" magic) */
} ct_tile_format;

/* "b3dm", "i3dm", "pnts", "cmpt", "glb", "gltf", "json" (tileset), "subtree", "unknown". */
const char *ct_tile_format_name(ct_tile_format f);
/* Looks at the first bytes only (magic, or the first JSON keys). */
ct_tile_format ct_tile_format_sniff(const void *data, size_t size);

/* Point cloud (pnts) payload, decoded: quantization, oct-encoding, RGB565,
 * CONSTANT_RGBA and Draco are already undone. */
typedef struct ct_tile_points {
    uint32_t count;
    float *positions;            /* 3 per point, relative to the model origin (model_matrix) */
    uint8_t *colors;             /* RGBA8, 4 per point, or NULL (then see constant_color) */
    bool has_constant_color;     /* CONSTANT_RGBA (used when colors is NULL) */
    uint8_t constant_color[4];
    bool translucent;            /* RGBA colors or CONSTANT_RGBA with alpha < 255 */
    float *normals;              /* 3 per point (unit length) or NULL */
    uint32_t *batch_ids;         /* BATCH_ID per point or NULL */
} ct_tile_points;

typedef struct ct_tile_batch_table ct_tile_batch_table; /* opaque, see functions below */
typedef struct ct_property_tables ct_property_tables;   /* opaque: EXT_structural_metadata, see below */

typedef struct ct_tile_model {
    ct_tile_format format;       /* B3DM, I3DM, PNTS, GLB or GLTF */
    size_t byte_offset;          /* where this (inner) tile starts in the loaded buffer */
    ct_gltf *gltf;               /* the model (NULL for pnts) */
    bool has_rtc_center;         /* RTC_CENTER in the feature table, or CESIUM_RTC in the glTF */
    double rtc_center[3];
    double origin[3];            /* translation part of model_matrix (RTC / quantization offset) */
    double model_matrix[16];     /* model -> tile frame (z-up), see the top of this file */

    /* i3dm: instance_count > 0. Matrices are tile-frame, double, 16 each
     * (column-major), translation included. */
    uint32_t instance_count;
    double *instance_matrices;
    uint32_t *instance_batch_ids; /* BATCH_ID per instance, or NULL: feature id = instance index */

    ct_tile_points points;        /* pnts only */

    /* Features: BATCH_LENGTH (b3dm, pnts with BATCH_ID), INSTANCES_LENGTH (i3dm),
     * POINTS_LENGTH for pnts whose batch table is per point, else 0. */
    uint32_t feature_count;
    ct_tile_batch_table *batch_table; /* NULL when the tile has none */
    /* glTF EXT_structural_metadata property tables (3D Tiles 1.1 feature
     * metadata), NULL when the glTF has none or they could not be read. */
    ct_property_tables *property_tables;

    /* Totals for this model as drawn (instancing multiplies). */
    uint64_t triangle_count, vertex_count, point_count;
} ct_tile_model;

typedef struct ct_tile_content {
    ct_tile_format format;       /* of the outer file */
    ct_tile_model *models;
    uint32_t model_count;
    /* Totals over models. */
    uint64_t triangle_count, vertex_count, point_count, instance_count, feature_count;
    /* Tile-frame (z-up) bounds over all models, instances included; min > max when empty. */
    double bounds_min[3], bounds_max[3];
    uint32_t warning_count;      /* things skipped and logged (e.g. a bad batch table) */
} ct_tile_content;

/* Fetches an external resource (i3dm gltfFormat 0) by URI relative to the
 * tile. *data must be malloc'ed; the loader frees it. */
typedef ct_status (*ct_tile_fetch_fn)(void *user, const char *uri, uint8_t **data, size_t *size, ct_error *err);

typedef struct ct_tile_content_options {
    const char *uri;             /* name used in messages; NULL = "<memory>" */
    const char *base_dir;        /* directory for relative URIs (i3dm external glTF, glTF buffers);
                                    NULL = external references fail unless fetch is set */
    bool skip_images;            /* do not decode textures (info, tests) */
    int max_depth;               /* cmpt nesting limit; 0 = 8 */
    size_t max_external_bytes;   /* per external file; 0 = 256 MiB */
    /* The tile's computed transform (tile frame -> ECEF), column-major; NULL =
     * identity. Only used to place i3dm EAST_NORTH_UP frames on the globe. */
    const double *tile_transform;
    ct_tile_fetch_fn fetch;      /* optional, overrides reading base_dir/uri from disk */
    void *fetch_user;
    /* The tileset's asset.gltfUpAxis (3D Tiles 1.0): 'Y' (0 = default, the
     * glTF convention), 'Z' (no rotation) or 'X'. Old photogrammetry exports
     * write z-up glTF and say so here; CesiumJS honours it, so must we. */
    char gltf_up_axis;
} ct_tile_content_options;

/* Decodes one content buffer. opts may be NULL. On failure *out is NULL and
 * err names the uri and the byte offset. */
ct_status ct_tile_content_load_memory(const void *data, size_t size, const ct_tile_content_options *opts,
                                      ct_tile_content **out, ct_error *err);
/* Reads and decodes a file; uri defaults to path, base_dir to its directory. */
ct_status ct_tile_content_load_file(const char *path, const ct_tile_content_options *opts, ct_tile_content **out,
                                    ct_error *err);
void ct_tile_content_destroy(ct_tile_content *c);

/* Properties of one feature as a new cJSON object {"name": value, ...} built
 * from the model's batch table (JSON arrays, binary properties and the
 * 3DTILES_batch_table_hierarchy extension, nearest ancestor first). The
 * caller frees it with cJSON_Delete. NULL when the model has no batch table
 * or feature_id is out of range. */
cJSON *ct_tile_content_feature_properties(const ct_tile_content *c, uint32_t model_index, uint32_t feature_id);

/* Properties of a picked glTF feature: for a b3dm/i3dm/pnts model the
 * batch table row (as above); for glTF 1.1 content the row of the property
 * table that the primitive's EXT_mesh_features featureIds[0] points to.
 * {"name": value, ...}, or NULL when there is nothing (no table, feature id
 * out of range or equal to nullFeatureId). *property_table (may be NULL) gets
 * the property table index, -1 for batch tables. */
cJSON *ct_tile_content_pick_properties(const ct_tile_content *c, uint32_t model_index, int mesh, int primitive,
                                       uint32_t feature_id, int *property_table);

/* EXT_mesh_features / EXT_structural_metadata at a picked point of a glTF
 * primitive. `local` is the hit in the primitive's own coordinates (its glTF
 * node frame). The triangle nearest to it is found (for points and lines the
 * nearest vertex), then:
 *   "feature_ids": every featureIds set there: {"set", "source" ("attribute",
 *       "texture", "implicit" = vertex index), "feature_id" (null for
 *       nullFeatureId), "label", "texel", and with a propertyTable its
 *       "property_table", "class", "properties" row};
 *   "property_textures": {"index", "class", "texcoord" [u, v], "texel" [x, y],
 *       "properties"}: channels of the nearest texel (sampler wrap modes),
 *       bytes in channel order, decoded as the class says;
 *   "property_attributes": {"index", "class", "vertex", "properties"}: the
 *       values of the hit triangle's vertex with the largest weight.
 * Values follow the property-table rules (normalized, offset/scale, enums,
 * noData, defaults). New object, or NULL when the primitive has none of these
 * (or images were not decoded). */
cJSON *ct_tile_content_pick_point(const ct_tile_content *c, uint32_t model_index, int mesh, int primitive,
                                  const double local[3]);

/* The feature id a picked element belongs to: vertex feature ids come from the
 * glTF (primitive->feature_ids); for instances and points use these. */
uint32_t ct_tile_model_instance_feature_id(const ct_tile_model *m, uint32_t instance);
uint32_t ct_tile_model_point_feature_id(const ct_tile_model *m, uint32_t point);

/* Batch table inspection. */
uint32_t ct_tile_batch_table_property_count(const ct_tile_batch_table *bt);
const char *ct_tile_batch_table_property_name(const ct_tile_batch_table *bt, uint32_t i);
/* The whole batch table JSON (including extensions such as
 * 3DTILES_batch_table_hierarchy), owned by the content. */
const cJSON *ct_tile_batch_table_json(const ct_tile_batch_table *bt);

/* ---- 3D Metadata property tables (binary table format) ----
 * Shared by glTF EXT_structural_metadata and implicit-tiling subtrees.
 * Decoding is per row and bounds-checked: offsets past the end, decreasing
 * offsets and absurd counts leave that property out of the row (logged). */
typedef struct ct_byte_view {
    const uint8_t *data;         /* NULL = not available */
    size_t size;
} ct_byte_view;

/* schema: a 3D Metadata schema object ({"classes", "enums"}), may be NULL;
 * tables: the propertyTables array; views[i]: bytes of buffer view i. Copies
 * the JSON and the views the tables reference. */
ct_status ct_property_tables_create(const cJSON *schema, const cJSON *tables, const ct_byte_view *views,
                                    uint32_t view_count, const char *where, ct_property_tables **out,
                                    ct_error *err);
void ct_property_tables_destroy(ct_property_tables *t);
uint32_t ct_property_tables_count(const ct_property_tables *t);
const char *ct_property_tables_class(const ct_property_tables *t, uint32_t table); /* NULL if none */
uint32_t ct_property_tables_rows(const ct_property_tables *t, uint32_t table);
/* Bytes held (copied buffer views), for memory budgets. */
size_t ct_property_tables_bytes(const ct_property_tables *t);
/* Row as {"property": value}: SCALAR -> number, VECn/MATn -> array (MATn
 * column-major), STRING -> string, BOOLEAN -> bool, ENUM -> its name, arrays
 * -> arrays; normalized, offset and scale applied; a noData value becomes the
 * default (or null); class properties missing from the table get their
 * default. 64-bit integers beyond 2^53 lose precision. NULL if out of range. */
cJSON *ct_property_tables_row(const ct_property_tables *t, uint32_t table, uint32_t row);

/* Instance matrices as floats relative to a render origin (e.g. the tile
 * center), so the GPU gets small numbers: out[16*i] = M_i - translate(origin). */
void ct_tile_model_instance_matrices_float(const ct_tile_model *m, const double origin[3], float *out);

/* The 3D Tiles y-up to z-up rotation (+90 degrees about x). */
void ct_tile_y_up_to_z_up(double out[16]);
/* The same for any gltfUpAxis: 'Y' (or 0) as above, 'Z' identity, 'X' a
 * rotation of -90 degrees about y (CesiumJS's Axis.X_UP_TO_Z_UP). */
void ct_tile_up_axis_to_z_up(char axis, double out[16]);

#ifdef __cplusplus
}
#endif
#endif
