/* Internal to tile content decoding (tilesets/src/content_*.c): feature and
 * batch table readers shared by the b3dm, i3dm and pnts decoders. */
#ifndef CT_CONTENT_INTERNAL_H
#define CT_CONTENT_INTERNAL_H

#include "citytwin/ct_tile_content.h"

/* Largest feature/instance/point count accepted; real tiles stay far below,
 * and every count is also checked against the bytes that must back it. */
#define CT_CONTENT_MAX_COUNT (1u << 28)

/* glTF / 3D Tiles component types. */
typedef enum ct_ctype {
    CT_CT_NONE = 0,
    CT_CT_BYTE = 5120, CT_CT_UBYTE = 5121, CT_CT_SHORT = 5122, CT_CT_USHORT = 5123,
    CT_CT_INT = 5124, CT_CT_UINT = 5125, CT_CT_FLOAT = 5126, CT_CT_DOUBLE = 5130,
} ct_ctype;

size_t ct_ctype_size(ct_ctype t);
/* "UNSIGNED_SHORT" -> CT_CT_USHORT; CT_CT_NONE when unknown. */
ct_ctype ct_ctype_parse(const char *s);
/* "SCALAR" 1, "VEC2" 2, "VEC3" 3, "VEC4" 4, else 0. */
int ct_type_components(const char *s);
/* Reads component c of element i (no bounds check: callers validated). */
double ct_ctype_read(const uint8_t *p, ct_ctype t, size_t i, int ncomp, int c);

/* Little-endian reads that do not need alignment. */
static inline uint32_t ct_rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* One decoding context: which file, for messages. */
typedef struct ct_content_ctx {
    const char *uri;
    const ct_tile_content_options *opts; /* never NULL inside */
    int depth;
    uint32_t *warnings;         /* counter of skipped problems (may be NULL) */
} ct_content_ctx;

/* Logs a problem that was skipped and counts it. */
void ct_content_warn(const ct_content_ctx *ctx, const ct_error *e);

/* A feature table: JSON header + binary body. */
typedef struct ct_ftable {
    const ct_content_ctx *ctx;
    const char *what;           /* "feature table" / "batch table" (messages) */
    cJSON *json;                /* NULL when the JSON part is empty */
    const uint8_t *bin;
    size_t bin_size;
    size_t json_offset;         /* byte offsets in the loaded buffer, for messages */
    size_t bin_offset;
} ct_ftable;

/* A validated binary array inside a table body. */
typedef struct ct_array {
    const uint8_t *data;        /* NULL = absent */
    ct_ctype ctype;
    int ncomp;
    uint32_t count;
} ct_array;

/* Parses the JSON part ("" / spaces only = empty table). Must be an object. */
ct_status ct_ftable_init(ct_ftable *t, const ct_content_ctx *ctx, const char *what, const uint8_t *json,
                         size_t json_len, size_t json_offset, const uint8_t *bin, size_t bin_size,
                         size_t bin_offset, ct_error *err);
void ct_ftable_free(ct_ftable *t);

/* A global unsigned integer (e.g. BATCH_LENGTH). *found=false when absent. */
ct_status ct_ftable_uint(const ct_ftable *t, const char *name, bool required, uint32_t *out, bool *found,
                         ct_error *err);
/* A global vector of n numbers: a JSON array, or {byteOffset[, componentType]} in
 * the binary body (default FLOAT). */
ct_status ct_ftable_vec(const ct_ftable *t, const char *name, int n, double *out, bool *found, ct_error *err);
/* A global boolean (EAST_NORTH_UP). */
bool ct_ftable_bool(const ct_ftable *t, const char *name);
/* A per-element binary property: {"byteOffset": N[, "componentType": "..."]}.
 * allowed is a CT_CT_NONE-terminated list; def_ctype is used when the JSON has
 * no componentType. Absent -> out->data = NULL, CT_OK. */
ct_status ct_ftable_array(const ct_ftable *t, const char *name, uint32_t count, int ncomp, ct_ctype def_ctype,
                          const ct_ctype *allowed, ct_array *out, ct_error *err);

/* Batch table: takes ownership of nothing; copies what it keeps. */
ct_status ct_batch_table_create(const ct_content_ctx *ctx, const uint8_t *json, size_t json_len, size_t json_offset,
                                const uint8_t *bin, size_t bin_size, size_t bin_offset, uint32_t count,
                                ct_tile_batch_table **out, ct_error *err);
void ct_batch_table_destroy(ct_tile_batch_table *bt);
/* Names of properties the 3DTILES_draco_point_compression extension of the batch table
 * maps to Draco attribute ids (pnts); replaced by decoded arrays via ct_batch_table_set_decoded. */
const cJSON *ct_batch_table_draco_properties(const ct_tile_batch_table *bt);
ct_status ct_batch_table_set_decoded(ct_tile_batch_table *bt, const char *name, ct_ctype ctype, int ncomp,
                                     const void *values, uint32_t count, ct_error *err);

/* Properties of one feature (NULL if out of range). */
cJSON *ct_tile_batch_table_feature(const ct_tile_batch_table *bt, uint32_t feature);

/* The common header of b3dm/i3dm/pnts: magic, version, byteLength, then
 * four table lengths (and gltfFormat for i3dm). Offsets are absolute. */
typedef struct ct_tile_header {
    uint32_t byte_length;
    uint32_t ft_json_len, ft_bin_len, bt_json_len, bt_bin_len;
    uint32_t batch_length;      /* legacy b3dm headers only */
    bool legacy;
    uint32_t gltf_format;       /* i3dm */
    size_t ft_json_off, ft_bin_off, bt_json_off, bt_bin_off, body_off, end_off;
} ct_tile_header;
/* header_size: 28 (b3dm, pnts) or 32 (i3dm). Detects legacy b3dm layouts. */
ct_status ct_tile_header_parse(const ct_content_ctx *ctx, const char *magic, const uint8_t *d, size_t n, size_t off,
                               size_t header_size, ct_tile_header *h, ct_error *err);

/* Format decoders: fill m (already zeroed, byte_offset set) from one inner tile. */
ct_status ct_content_decode_b3dm(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err);
ct_status ct_content_decode_i3dm(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err);
ct_status ct_content_decode_pnts(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_tile_model *m,
                                 ct_error *err);
/* Loads an embedded glTF/GLB (body of b3dm/i3dm, or a whole .glb). */
ct_status ct_content_load_gltf(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off, ct_gltf **out,
                               ct_error *err);
/* EXT_structural_metadata property tables of a loaded glTF (d, n: its GLB
 * bytes, for the BIN chunk); *out stays NULL when it has none. */
ct_status ct_content_load_metadata(const ct_content_ctx *ctx, const uint8_t *d, size_t n, size_t off,
                                   const ct_gltf *g, ct_property_tables **out, ct_error *err);
/* Reads an external resource relative to the tile (i3dm gltfFormat 0). */
ct_status ct_content_fetch(const ct_content_ctx *ctx, const char *uri, uint8_t **data, size_t *size, ct_error *err);

/* Octahedral decoding as in CesiumJS AttributeCompression.octDecodeInRange. */
void ct_oct_decode(double x, double y, double range_max, double out[3]);

#endif
