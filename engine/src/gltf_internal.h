/* Internal to the glTF reader (gltf*.c, draco_shim.cpp): the load context,
 * accessor decoding and the C interface to Debian's C++ libdraco. */
#ifndef CT_GLTF_INTERNAL_H
#define CT_GLTF_INTERNAL_H

#include "citytwin/ct_gltf.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __cplusplus
#include <cjson/cJSON.h>

/* Limits that keep hostile files from making us allocate without bound:
 * accessors backed by data are bounded by their buffer; these cap the rest. */
#define GLTF_MAX_ZERO_COMPONENTS ((uint64_t)1 << 24) /* accessor without bufferView */
#define GLTF_MESHOPT_MAX_RATIO 256                   /* decoded bytes per compressed byte */

typedef struct gltf_buffer {
    bool loaded;
    const uint8_t *data; /* NULL for a meshopt fallback buffer */
    size_t size;         /* declared byteLength (data holds at least that much) */
    uint8_t *owned;      /* freed at the end (external file or data URI) */
} gltf_buffer;

typedef struct gltf_view {
    bool resolved;
    const uint8_t *data;
    size_t size;
    uint32_t stride;  /* 0 = tightly packed */
    uint8_t *decoded; /* EXT_meshopt_compression output, owned */
} gltf_view;

typedef struct gltf_ctx {
    const char *name;      /* file name for messages */
    const char *base_dir;  /* NULL = no external files */
    const ct_gltf_options *opts;
    ct_error *err;
    cJSON *root;
    const uint8_t *bin;    /* GLB BIN chunk */
    size_t bin_size;
    bool has_bin;
    /* Elements of "buffers", "bufferViews", "accessors", indexed (cJSON arrays are
     * linked lists: looking items up by index would make loading quadratic). */
    const cJSON **buffer_items, **view_items, **accessor_items;
    gltf_buffer *buffers;  uint32_t buffer_count;
    gltf_view *views;      uint32_t view_count;
    uint32_t accessor_count;
    ct_gltf *g;
    bool upgraded_v1;      /* the document was glTF 1.0, upgraded by gltf_v1.c */
} gltf_ctx;

/* Formats "NAME: message" into c->err with CT_ERR_INPUT and returns that. */
ct_status gltf_fail(gltf_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ct_status gltf_fail_status(gltf_ctx *c, ct_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* JSON helpers. Each fails (with the JSON path in the message) when the value
 * has the wrong type or range; absent values give the default. */
ct_status gltf_get_int(gltf_ctx *c, const cJSON *obj, const char *key, int64_t def, int64_t min, int64_t max,
                       const char *path, int64_t *out);
ct_status gltf_get_index(gltf_ctx *c, const cJSON *obj, const char *key, uint32_t count, const char *path, int *out);
ct_status gltf_get_number(gltf_ctx *c, const cJSON *obj, const char *key, double def, const char *path, double *out);
ct_status gltf_get_numbers(gltf_ctx *c, const cJSON *obj, const char *key, int n, const char *path, double *out);
const cJSON *gltf_get_object(const cJSON *obj, const char *key);
const cJSON *gltf_get_array(const cJSON *obj, const char *key);
const cJSON *gltf_get_extension(const cJSON *obj, const char *name);

/* Buffers and views (gltf_accessor.c). */
ct_status gltf_buffer_get(gltf_ctx *c, uint32_t index, const char *path, const gltf_buffer **out);
ct_status gltf_view_get(gltf_ctx *c, uint32_t index, const char *path, const gltf_view **out);

/* Accessors decoded to plain arrays (gltf_accessor.c). */
typedef struct gltf_accessor_info {
    int component_type;  /* 5120..5126 */
    int components;      /* 1,2,3,4,9,16 */
    uint32_t count;
    bool normalized;
} gltf_accessor_info;
ct_status gltf_accessor_info_get(gltf_ctx *c, int index, const char *path, gltf_accessor_info *out);
/* Decodes to count*components floats (normalized integers mapped to [0,1]/[-1,1]).
 * comps_allowed: bit mask of accepted component counts (1<<n). */
ct_status gltf_accessor_floats(gltf_ctx *c, int index, const char *path, unsigned comps_allowed, float **out,
                               uint32_t *count, int *components);
/* Decodes a SCALAR accessor of integers (or floats holding integers) to uint32. */
ct_status gltf_accessor_uints(gltf_ctx *c, int index, const char *path, uint32_t **out, uint32_t *count);

/* glTF 1.0 (gltf_v1.c). The attribute name an upgraded 1.0 document gives to
 * oct-encoded 2-component normals, which the mesh reader decodes. */
#define GLTF_V1_OCT_NORMAL "_CT_V1_OCT_NORMAL"
/* True when the JSON document is glTF 1.0 (asset.version "1.x", or
 * dictionaries keyed by id where 2.0 has arrays). */
bool gltf_v1_detect(const cJSON *root);
/* Replaces c->root (and c->g->json) by the glTF 2.0 equivalent of a 1.0
 * document; errors name the 1.0 JSON path. */
ct_status gltf_v1_upgrade(gltf_ctx *c);
/* KHR_techniques_webgl materials: the technique's diffuse value becomes the
 * base color and the extension is no longer required. */
ct_status gltf_techniques_fallback(gltf_ctx *c);
/* Material m's technique lays its quad out in view space (a billboard). */
bool gltf_technique_is_billboard(gltf_ctx *c, const cJSON *m);

/* Meshes (gltf_mesh.c). */
ct_status gltf_meshes_load(gltf_ctx *c);
ct_status gltf_instancing_load(gltf_ctx *c, const cJSON *node_json, ct_gltf_node *node, const char *path);
void gltf_primitive_free(ct_gltf_primitive *p);
#endif

/* ---- Draco (draco_shim.cpp: the only C++ in the engine) ---- */
typedef struct ct_draco_geometry ct_draco_geometry;
/* Decodes a Draco mesh or point cloud. Returns 0 on success, else writes a reason into msg. */
int ct_draco_decode(const uint8_t *data, size_t size, ct_draco_geometry **out, char *msg, size_t msg_size);
uint32_t ct_draco_point_count(const ct_draco_geometry *g);
uint32_t ct_draco_face_count(const ct_draco_geometry *g); /* 0 for point clouds */
/* Writes face_count*3 corner indices (each < point_count). */
void ct_draco_indices(const ct_draco_geometry *g, uint32_t *out);
/* Components of the attribute with this unique id, or 0 when absent. */
int ct_draco_attribute_components(const ct_draco_geometry *g, uint32_t unique_id);
/* Writes point_count*ncomp floats (integers normalized when Draco says so).
 * ncomp may be smaller than the attribute's; returns 0 on success. */
int ct_draco_attribute_floats(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, float *out);
/* Integer attributes as uint32 (1 = missing or a float attribute); used by 3D Tiles pnts. */
int ct_draco_attribute_uints(const ct_draco_geometry *g, uint32_t unique_id, int ncomp, uint32_t *out);
void ct_draco_destroy(ct_draco_geometry *g);

#ifdef __cplusplus
}
#endif
#endif
