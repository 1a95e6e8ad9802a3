/* glTF 2.0 reader (and GLB writer): parses .gltf/.glb in one pass into plain
 * structs, with every compressed/quantized/sparse accessor already decoded to
 * float or uint32 arrays and every image decoded to RGBA8, so consumers (the
 * renderer, 3D Tiles, analyses) never see glTF's encodings.
 *
 * Conventions: arrays are owned by the ct_gltf and freed by ct_gltf_destroy.
 * Indices into other arrays are -1 when absent. Matrices are column-major
 * doubles. Coordinates are glTF's own (y-up); 3D Tiles applies y-up→z-up. */
#ifndef CT_GLTF_H
#define CT_GLTF_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ct_gltf_mode {
    CT_GLTF_POINTS = 0, CT_GLTF_LINES = 1, CT_GLTF_LINE_LOOP = 2, CT_GLTF_LINE_STRIP = 3,
    CT_GLTF_TRIANGLES = 4, CT_GLTF_TRIANGLE_STRIP = 5, CT_GLTF_TRIANGLE_FAN = 6,
} ct_gltf_mode;

typedef enum ct_gltf_alpha_mode { CT_GLTF_ALPHA_OPAQUE, CT_GLTF_ALPHA_MASK, CT_GLTF_ALPHA_BLEND } ct_gltf_alpha_mode;

typedef struct ct_gltf_texture_ref {
    int texture;        /* -1 = none */
    int texcoord;       /* which TEXCOORD_n (0 or 1) */
    float scale;        /* normalTexture.scale / occlusionTexture.strength; 1 otherwise */
    /* KHR_texture_transform, folded into a 3x3 column-major UV matrix (identity when absent). */
    bool has_transform;
    float uv_matrix[9];
} ct_gltf_texture_ref;

typedef struct ct_gltf_material {
    char *name;
    float base_color[4];
    ct_gltf_texture_ref base_color_texture;
    float metallic, roughness;
    ct_gltf_texture_ref metallic_roughness_texture;
    ct_gltf_texture_ref normal_texture;
    ct_gltf_texture_ref occlusion_texture;
    ct_gltf_texture_ref emissive_texture;
    float emissive[3];
    ct_gltf_alpha_mode alpha_mode;
    float alpha_cutoff;
    bool double_sided;
    bool unlit; /* KHR_materials_unlit */
    /* KHR_techniques_webgl billboard: positions are view-space offsets from
     * the node's origin (the quad faces the camera, unscaled, unrotated) */
    bool billboard;
} ct_gltf_material;

typedef struct ct_gltf_sampler {
    int mag_filter, min_filter; /* GL enums; 0 = unset (renderer default: linear / linear-mipmap-linear) */
    int wrap_s, wrap_t;         /* GL enums; default GL_REPEAT (10497) */
} ct_gltf_sampler;

typedef struct ct_gltf_image {
    char *name;
    char *mime_type;           /* as declared or sniffed: image/png, image/jpeg, image/webp */
    int width, height;
    uint8_t *pixels;           /* RGBA8, width*height*4; NULL if decoding was skipped or failed */
} ct_gltf_image;

typedef struct ct_gltf_texture {
    int sampler; /* -1 = default sampler */
    int image;   /* -1 = none; EXT_texture_webp source preferred when present */
} ct_gltf_texture;

typedef struct ct_gltf_primitive {
    ct_gltf_mode mode;
    int material;              /* -1 = default material */
    uint32_t vertex_count;
    float *positions;          /* 3 per vertex; never NULL when vertex_count > 0 */
    float *normals;            /* 3 per vertex or NULL */
    float *tangents;           /* 4 per vertex or NULL */
    float *texcoords[2];       /* 2 per vertex or NULL */
    float *colors;             /* COLOR_0 as RGBA float, 4 per vertex, or NULL */
    uint32_t *feature_ids;     /* EXT_mesh_features featureIds[0] attribute, or _BATCHID; NULL if none */
    uint32_t index_count;      /* 0 = non-indexed */
    uint32_t *indices;         /* every index < vertex_count (checked) */
    float bounds_min[3], bounds_max[3]; /* of positions, computed */
} ct_gltf_primitive;

typedef struct ct_gltf_mesh {
    char *name;
    ct_gltf_primitive *primitives;
    uint32_t primitive_count;
} ct_gltf_mesh;

typedef struct ct_gltf_node {
    char *name;
    int mesh;                  /* -1 = none */
    int parent;                /* -1 = root */
    int *children;
    uint32_t child_count;
    double local[16];          /* from matrix or TRS */
    double world[16];          /* local chained with parents (for the node's first parent) */
    /* EXT_mesh_gpu_instancing: instance_count matrices (column-major float, 16 each),
     * relative to the node. 0 = not instanced. */
    uint32_t instance_count;
    float *instance_matrices;
} ct_gltf_node;

typedef struct ct_gltf_scene {
    char *name;
    int *nodes;
    uint32_t node_count;
} ct_gltf_scene;

/* One mesh drawn once: the flattened default scene, in traversal order. */
typedef struct ct_gltf_draw {
    int node;
    int mesh;
    double world[16];
    /* det(world) < 0 (an odd number of negative scales): front faces are
     * clockwise, so the renderer must flip its winding / cull mode. Instance
     * matrices (EXT_mesh_gpu_instancing) can flip it again per instance. */
    bool flip_winding;
} ct_gltf_draw;

typedef struct ct_gltf {
    ct_gltf_node *nodes;         uint32_t node_count;
    ct_gltf_mesh *meshes;        uint32_t mesh_count;
    ct_gltf_material *materials; uint32_t material_count;
    ct_gltf_texture *textures;   uint32_t texture_count;
    ct_gltf_image *images;       uint32_t image_count;
    ct_gltf_sampler *samplers;   uint32_t sampler_count;
    ct_gltf_scene *scenes;       uint32_t scene_count;
    int default_scene;           /* "scene", or 0 when scenes exist, else -1 */
    ct_gltf_draw *draws;         uint32_t draw_count; /* default scene flattened */
    char **extensions_used;      uint32_t extensions_used_count;
    char **extensions_required;  uint32_t extensions_required_count;
    bool has_rtc_center;         /* CESIUM_RTC */
    double rtc_center[3];
    /* Totals over draws (instancing multiplies): what the default scene draws. */
    uint64_t triangle_count, vertex_count;
    double bounds_min[3], bounds_max[3]; /* of the default scene, world space (glTF axes) */
    char *json;                  /* the JSON chunk, NUL-terminated, for extras/metadata readers */
    /* Images that could not be read or decoded (logged; pixels stay NULL and the
     * model still loads): a missing texture should not hide the geometry. */
    uint32_t images_failed;
    /* "1.0" when the file was glTF 1.0, upgraded to 2.0 on load (the
     * structs and json above are the 2.0 form); else "2.0" (NULL in a
     * ct_gltf built by hand). */
    const char *source_version;
} ct_gltf;

typedef struct ct_gltf_options {
    /* Directory that relative URIs resolve against; NULL = the file's directory
     * (or no external files at all when loading from memory). */
    const char *base_dir;
    bool skip_images;          /* do not decode images (info, tests) */
    size_t max_file_bytes;     /* per external file; 0 = 2 GiB */
    const char *name;          /* name used in error messages for ct_gltf_load_memory (e.g. "tile 3/1/2.b3dm");
                                  NULL = "(memory)". ct_gltf_load_file uses the path. */
    uint64_t max_image_pixels; /* per image, checked from its header before decoding; 0 = 2^28 */
} ct_gltf_options;

/* Loads .gltf or .glb (sniffed by magic, not extension). opts may be NULL.
 * Fails with CT_ERR_INPUT and a message naming the file and the JSON path or
 * byte offset for anything invalid: GLB container errors, out-of-range indices,
 * accessors past their buffer, index values >= vertex count, cycles or shared
 * children in the node graph, an unsupported extension in extensionsRequired.
 * glTF 1.0 (JSON or binary, e.g. inside old b3dm) is upgraded to 2.0 first
 * (docs/gltf.md). On failure *out is NULL. */
ct_status ct_gltf_load_file(const char *path, const ct_gltf_options *opts, ct_gltf **out, ct_error *err);
ct_status ct_gltf_load_memory(const void *data, size_t size, const ct_gltf_options *opts, ct_gltf **out, ct_error *err);
void ct_gltf_destroy(ct_gltf *g);

/* Writes a GLB with one buffer; for importers and the demo generator.
 * Supports what the reader produces: positions (with min/max), normals,
 * tangents, texcoords 0/1, colors, feature ids (as _FEATURE_ID_0 float +
 * EXT_mesh_features), 16/32-bit indices, materials (factors, alpha mode,
 * double-sided, KHR_materials_unlit, all five texture slots with
 * KHR_texture_transform; images re-encoded as PNG, textures whose image was
 * not decoded are dropped with a warning), samplers, nodes with matrices and
 * EXT_mesh_gpu_instancing, the default scene (or all root nodes; one node per
 * mesh when there are none) and CESIUM_RTC. Deterministic bytes; validated
 * with Khronos glTF-Validator in tests/scene. */
ct_status ct_gltf_write_glb(const ct_gltf *g, const char *path, ct_error *err);
ct_status ct_gltf_write_glb_memory(const ct_gltf *g, uint8_t **data, size_t *size, ct_error *err);

#ifdef __cplusplus
}
#endif
#endif
