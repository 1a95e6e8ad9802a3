/* 3D Tiles tilesets: the tile tree (tileset.json 1.0/1.1, external tilesets,
 * implicit tiling), per-frame selection (screen-space error, culling,
 * REPLACE/ADD refinement), streaming (worker pool over files and HTTP) and a
 * byte budget with LRU eviction. No OpenGL here: the caller decodes, uploads
 * and frees content through callbacks, and draws the list update() returns.
 *
 * Frames: "tileset frame" is where the tileset's transforms chain to (ECEF for
 * georeferenced tilesets). desc.scene_from_tileset places it in the caller's
 * scene frame (double precision); views and draw transforms are in the scene
 * frame. Threads: every function runs on the caller's (render) thread except
 * the decode callback, which runs on workers. */
#ifndef CT_TILESET_H
#define CT_TILESET_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- tree ---------------------------------------------------------------- */

typedef enum ct_bv_type { CT_BV_NONE, CT_BV_BOX, CT_BV_REGION, CT_BV_SPHERE } ct_bv_type;

/* As written in tileset.json. box: center[3] + 3 half-axes[9];
 * region: west, south, east, north (radians), min height, max height;
 * sphere: center[3], radius. */
typedef struct ct_bounding_volume {
    ct_bv_type type;
    double v[12];
} ct_bounding_volume;

/* An oriented box in the tileset frame (half-axes may be degenerate). */
typedef struct ct_obb {
    ct_dvec3 center;
    ct_dvec3 axes[3];
} ct_obb;

typedef enum ct_refine { CT_REFINE_REPLACE = 0, CT_REFINE_ADD = 1 } ct_refine;

typedef enum ct_content_state {
    CT_CONTENT_UNLOADED = 0,
    CT_CONTENT_QUEUED,   /* waiting for a worker */
    CT_CONTENT_LOADING,  /* a worker fetches/decodes it */
    CT_CONTENT_DECODED,  /* decoded, waiting for upload on the render thread */
    CT_CONTENT_READY,    /* uploaded (or nothing to upload): drawable */
    CT_CONTENT_FAILED,   /* last attempt failed; retried after a back-off */
} ct_content_state;

/* What a content URI turned out to be (sniffed from its bytes). */
typedef enum ct_content_type {
    CT_CONTENT_TYPE_UNKNOWN = 0,
    CT_CONTENT_TYPE_B3DM,
    CT_CONTENT_TYPE_I3DM,
    CT_CONTENT_TYPE_PNTS,
    CT_CONTENT_TYPE_CMPT,
    CT_CONTENT_TYPE_GLB,     /* glb or glTF JSON */
    CT_CONTENT_TYPE_JSON,    /* an external tileset */
    CT_CONTENT_TYPE_COUNT
} ct_content_type;
const char *ct_content_type_name(ct_content_type t); /* "b3dm", ... "json", "unknown" */
/* Sniffs magic bytes (after gzip is undone): "b3dm", "i3dm", "pnts", "cmpt", "glTF", '{'. */
ct_content_type ct_content_type_sniff(const uint8_t *data, size_t size);

typedef struct ct_tile ct_tile;

/* One entry of a tile's content / contents[]. */
typedef struct ct_tileset_content {
    char *uri;               /* resolved (absolute path or URL) */
    int group;               /* index into the tileset's groups, -1 = none */
    char *metadata_json;     /* content.metadata as raw JSON, or NULL */
    ct_bounding_volume bv;   /* content.boundingVolume (type NONE if absent) */
    ct_content_state state;
    ct_content_type type;
    void *decoded;           /* from callbacks.decode (NULL when none) */
    void *gpu;               /* from callbacks.upload */
    size_t cpu_bytes, gpu_bytes;
    int failures;            /* consecutive failed attempts */
    char *error;             /* last failure message, or NULL */
    /* internal bookkeeping */
    double retry_at;
    uint64_t last_used_frame;
    struct ct_tileset_job *job;
    int lru_prev, lru_next;
} ct_tileset_content;

/* A tile. Read-only for callers; children of external tilesets and implicit
 * trees appear lazily and may be released again under memory pressure. */
struct ct_tile {
    ct_tile *parent;
    ct_tile *children;       /* contiguous array */
    int n_children;
    uint64_t id;             /* unique in this tileset for the session */
    int depth;               /* 0 at the root, across external tilesets */
    double geometric_error;  /* as written */
    ct_refine refine;
    ct_bounding_volume bv;
    bool has_request_volume;
    ct_bounding_volume request_volume;
    double transform[16];    /* tile -> tileset frame (chained down the tree) */
    ct_obb box;              /* bounding volume in the tileset frame */
    ct_dvec3 sphere_center;  /* enclosing sphere in the tileset frame */
    double sphere_radius;
    bool box_valid;          /* box/sphere computed (lazily for implicit and region tiles) */
    ct_obb request_box;      /* viewerRequestVolume in the tileset frame */
    double ge_scale;         /* max scale of transform, applied to geometric error */
    ct_tileset_content *contents;
    int n_contents;
    char *metadata_json;     /* tile.metadata raw JSON, or NULL */
    char *path;              /* JSON path for messages ("tileset.json: root.children[2]") */

    /* What expands this tile's children lazily: an external tileset (its one
     * content is JSON) or an implicit subtree. */
    enum { CT_TILE_PLAIN, CT_TILE_EXTERNAL, CT_TILE_IMPLICIT } kind;
    bool expanded;           /* children known */
    int implicit_level;
    uint32_t implicit_xyz[3];
    struct ct_implicit *implicit;   /* shared implicit tiling description */
    struct ct_subtree *subtree;     /* subtree this tile lies in (NULL until loaded) */
    struct ct_subtree *own_subtree; /* subtree rooted here (owned) */
    ct_tileset_content expansion;   /* loading state of the external tileset / subtree */

    /* selection bookkeeping */
    uint64_t visited_frame;
    double sse;
    float priority;
};

/* ---- callbacks ------------------------------------------------------------ */

typedef struct ct_tileset_callbacks {
    void *user;
    /* Worker thread: turns content bytes (gzip already undone) into whatever the
     * caller draws, and reports its CPU size. tile_transform is the tile's
     * transform (tile -> tileset frame; i3dm east-north-up placement needs it).
     * NULL: the bytes themselves are kept (decoded points to a
     * ct_tileset_bytes). Must be thread-safe. */
    ct_status (*decode)(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                        const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err);
    void (*free_decoded)(void *user, void *decoded);
    /* Render thread, under the per-frame upload time budget: creates GPU
     * objects for decoded content. NULL: nothing is uploaded. */
    ct_status (*upload)(void *user, const ct_tile *tile, int content_index, void *decoded, void **gpu,
                        size_t *gpu_bytes, ct_error *err);
    void (*unload)(void *user, void *gpu);
    /* Drop the decoded copy after a successful upload (saves CPU memory; the
     * renderer then cannot pick on CPU data). */
    bool free_decoded_after_upload;
} ct_tileset_callbacks;

/* The content of a tile when no decode callback is set. */
typedef struct ct_tileset_bytes {
    uint8_t *data;
    size_t size;
} ct_tileset_bytes;

/* ---- creation ------------------------------------------------------------- */

typedef struct ct_tileset_desc {
    const char *uri;                 /* tileset.json: path, file:// or http(s):// URL */
    int workers;                     /* 0: number of CPUs - 1, at least 1 */
    int max_requests_in_flight;      /* 0: 16 */
    double max_sse;                  /* maximum screen-space error in pixels; 0: 16 */
    size_t memory_budget;            /* bytes for content (CPU + GPU); 0: 512 MiB */
    double upload_budget_ms;         /* render-thread upload time per frame at least; 0: 4 ms */
    /* Slow frames upload more: the budget grows to this share of the time
     * since the previous update (a 1 s llvmpipe frame may upload for 250 ms,
     * a 16 ms frame keeps the 4 ms), up to upload_budget_max_ms.
     * 0: 0.25; < 0: always upload_budget_ms. */
    double upload_frame_fraction;
    double upload_budget_max_ms;     /* 0: 100 ms */
    bool skip_levels;                /* REPLACE: request only wanted tiles, not ancestors first */
    bool allow_outside_folder;       /* let a local tileset read files outside its folder */
    const char *const *http_headers; /* "Name: value" lines (tokens...) */
    int n_http_headers;
    double http_timeout_s;           /* per request; 0: 30 */
    int http_retries;                /* immediate retries on 5xx/timeouts/truncation; 0: 2, <0: none */
    double retry_base_s;             /* tile-level retry back-off after a failure; 0: 1 s (doubles, max 64x) */
    int max_depth;                   /* tree depth limit; 0: 64 */
    int max_external_depth;          /* nesting of external tilesets; 0: 16 */
    double scene_from_tileset[16];   /* placement; all zero: identity */
    ct_tileset_callbacks callbacks;
} ct_tileset_desc;

typedef struct ct_tileset ct_tileset;

/* Reads the root tileset.json (synchronously) and starts the workers. */
ct_status ct_tileset_create(const ct_tileset_desc *desc, ct_tileset **out, ct_error *err);
/* Stops workers (cancelling requests) and frees content through the callbacks. */
void ct_tileset_destroy(ct_tileset *ts);

const ct_tile *ct_tileset_root(const ct_tileset *ts);
const char *ct_tileset_version(const ct_tileset *ts);        /* asset.version */
char ct_tileset_gltf_up_axis(const ct_tileset *ts);          /* asset.gltfUpAxis of the root: 'X', 'Y' (default) or 'Z' */
double ct_tileset_geometric_error(const ct_tileset *ts);
/* Raw JSON (NULL when absent) of the root tileset's schema, metadata, groups, properties. */
const char *ct_tileset_schema_json(const ct_tileset *ts);
const char *ct_tileset_metadata_json(const ct_tileset *ts);
const char *ct_tileset_groups_json(const ct_tileset *ts);
const char *ct_tileset_properties_json(const ct_tileset *ts);
void ct_tileset_set_max_sse(ct_tileset *ts, double max_sse);
void ct_tileset_set_memory_budget(ct_tileset *ts, size_t bytes);
/* Refinement by geometric error instead of screen-space error, for analyses
 * that have no camera (line of sight): a tile is refined while its geometric
 * error (scaled by its transform) is above max_error, wherever the view is;
 * max_error < 0 refines down to the leaves. NAN: back to screen-space error
 * (the default). The view's planes still cull. */
void ct_tileset_set_max_geometric_error(ct_tileset *ts, double max_error);
/* Replaces desc.scene_from_tileset; false (and no change) when not invertible. */
bool ct_tileset_set_placement(ct_tileset *ts, const double scene_from_tileset[16]);
/* How loads serve the caller.
 * INTERACTIVE (default): every frame is drawn, so REPLACE trees load
 *   ancestors first (a parent stays until its children can replace it) and
 *   uploads keep to the per-frame budget.
 * FINAL: the caller draws only once the view is complete (`render --wait`):
 *   REPLACE ancestors the final view does not draw are not loaded (skip
 *   levels), uploads are not held to a per-frame budget (done in chunks of
 *   at most upload_budget_max_ms so requests keep flowing). A parent is still
 *   loaded where a descendant failed, and the mode falls back to INTERACTIVE
 *   selection once the byte budget holds loads back. The complete view has
 *   no holes either way, and when the budget holds what it needs it draws
 *   exactly the tiles INTERACTIVE draws. Setting the mode restarts it. */
typedef enum ct_tileset_load_mode { CT_TILESET_LOAD_INTERACTIVE = 0, CT_TILESET_LOAD_FINAL = 1 } ct_tileset_load_mode;
void ct_tileset_set_load_mode(ct_tileset *ts, ct_tileset_load_mode mode);
/* Blocks until a worker has finished a request (the next update has something
 * to apply) or timeout_s passed; returns at once when uploads are waiting or
 * nothing is in flight. True when there is something new. Render thread. */
bool ct_tileset_wait(ct_tileset *ts, double timeout_s);
/* Finds a loaded tile by id (for picking); NULL if it is gone. */
const ct_tile *ct_tileset_find_tile(const ct_tileset *ts, uint64_t id);

/* ---- per frame ------------------------------------------------------------- */

typedef struct ct_tileset_view {
    ct_dvec3 position;          /* camera, scene frame */
    ct_dvec3 direction;         /* unit view direction (for request priority); zero: ignored */
    double planes[6][4];        /* a,b,c,d: inside when a*x+b*y+c*z+d >= 0; all zero = no culling */
    double viewport_height;     /* pixels */
    double fovy;                /* vertical field of view, radians */
} ct_tileset_view;

/* Fills planes from a column-major projection*view matrix (Gribb-Hartmann),
 * plus the other fields. */
void ct_tileset_view_from_matrix(ct_tileset_view *view, const double view_proj[16], ct_dvec3 position,
                                 ct_dvec3 direction, double viewport_height, double fovy);

typedef struct ct_tileset_draw {
    const ct_tile *tile;
    uint64_t tile_id;
    int content_index;
    void *decoded;              /* NULL after free_decoded_after_upload */
    void *gpu;
    double transform[16];       /* content -> scene frame */
} ct_tileset_draw;

typedef struct ct_tileset_stats {
    uint64_t frame;
    int tiles_visited, tiles_culled, tiles_selected;
    int contents_loaded;        /* resident (decoded or uploaded) */
    int requests_in_flight, requests_queued;
    int tiles_failed;           /* contents currently in failed state */
    uint64_t loads_total, failures_total, evictions_total, retries_total;
    size_t bytes_used, bytes_peak, bytes_budget;
    size_t tree_nodes;          /* tile nodes allocated */
    int uploads_pending;        /* decoded contents waiting for the render thread */
    double upload_budget_ms;    /* the upload budget of this update (< 0: none) */
    bool all_loaded;            /* nothing left to load for this view (failed tiles waiting excluded) */
    bool budget_limited;        /* loads held back because the budget is full */
} ct_tileset_stats;

/* Events of this frame (ids of tiles), valid until the next update. */
typedef struct ct_tileset_frame {
    const ct_tileset_draw *draws;
    int n_draws;
    const uint64_t *loaded;     /* contents that became drawable */
    int n_loaded;
    const uint64_t *unloaded;   /* contents evicted */
    int n_unloaded;
    const uint64_t *failed;     /* contents that failed this frame */
    int n_failed;
    ct_tileset_stats stats;
} ct_tileset_frame;

/* Selects tiles for the view, applies finished loads, uploads under the time
 * budget, evicts under the byte budget, schedules requests. Never blocks on
 * I/O. The frame's arrays are owned by ts. */
ct_status ct_tileset_update(ct_tileset *ts, const ct_tileset_view *view, ct_tileset_frame *frame, ct_error *err);
void ct_tileset_get_stats(const ct_tileset *ts, ct_tileset_stats *stats);
/* Fetches a resource that a content refers to (an i3dm's external glTF,
 * gltfFormat 0) with the tileset's own rules: ref is resolved against
 * base_uri (the content's URI as the decode callback got it), local reads
 * stay inside the tileset's folder unless allow_outside_folder, HTTP uses
 * the tileset's headers, timeout and retries, and the tileset URL's query is
 * propagated. Thread-safe (each call uses its own connection): meant for the
 * decode callback on worker threads, e.g. as a ct_tile_fetch_fn. *data is
 * malloc'ed. Not cancelled with its tile; the HTTP timeout bounds it. */
ct_status ct_tileset_fetch_resource(const ct_tileset *ts, const char *base_uri, const char *ref, uint8_t **data,
                                    size_t *size, ct_error *err);

/* ---- inspection (CLI tiles info / validate) -------------------------------- */

typedef enum ct_tileset_severity { CT_TILESET_ERROR, CT_TILESET_WARNING } ct_tileset_severity;

typedef struct ct_tileset_problem {
    ct_tileset_severity severity;
    char *message;               /* one line: file/URI and JSON path */
} ct_tileset_problem;

typedef struct ct_tileset_report {
    uint64_t tiles;              /* every tile, external tilesets and implicit trees included */
    int max_depth;
    uint64_t contents[CT_CONTENT_TYPE_COUNT]; /* by sniffed type */
    uint64_t bytes;              /* content bytes read (after gzip) */
    bool has_bounds_lonlat;
    double bounds_lonlat[4];     /* west, south, east, north degrees */
    double bounds_height[2];
    ct_tileset_problem *problems;
    int n_problems;
    int n_errors, n_warnings;
} ct_tileset_report;

typedef struct ct_tileset_inspect_desc {
    const char *uri;
    bool allow_outside_folder;
    bool skip_contents;          /* do not read contents (no type sniffing, no byte count) */
    uint64_t max_tiles;          /* stop expanding beyond; 0: 1 million */
    int max_depth;               /* 0: 64 */
    const char *const *http_headers;
    int n_http_headers;
} ct_tileset_inspect_desc;

/* Walks the whole tree synchronously (every external tileset and subtree),
 * checks structural rules and fills the report. Returns CT_ERR_INPUT only when
 * the root tileset cannot be read at all; other problems go into the report. */
ct_status ct_tileset_inspect(const ct_tileset_inspect_desc *desc, ct_tileset_report *report, ct_error *err);
void ct_tileset_report_free(ct_tileset_report *report);

/* ---- building blocks (exposed for tests and tools) ------------------------- */

/* RFC 3986 section 5.2 reference resolution. Returns a malloc'ed string. */
char *ct_uri_resolve(const char *base, const char *ref);
/* Local path of a plain path or file:// URL (percent-decoded, query and
 * fragment dropped); NULL for other schemes. malloc'ed. */
char *ct_uri_to_path(const char *uri);
/* True for "scheme:" prefixed references. */
bool ct_uri_has_scheme(const char *uri);
/* Adds base's query parameters to uri's, keeping uri's own (CesiumJS
 * propagates a tileset URL's query string, e.g. access tokens, to children). */
char *ct_uri_with_query_of(const char *uri, const char *base);
/* Substitutes {level},{x},{y},{z} in an implicit tiling template. */
char *ct_uri_template(const char *tmpl, int level, uint32_t x, uint32_t y, uint32_t z);

/* Inflates gzip data when it starts with 1f 8b; otherwise copies. */
ct_status ct_gunzip_if_needed(const uint8_t *data, size_t size, size_t max_out, uint8_t **out, size_t *out_size,
                              ct_error *err);

/* Implicit tiling subtree (binary .subtree or JSON), parsed and validated. */
typedef struct ct_subtree ct_subtree;
typedef struct ct_implicit_desc {
    int octree;                  /* 0 quadtree, 1 octree */
    int subtree_levels;
} ct_implicit_desc;
/* base_uri locates external buffers (read through the same sandbox rules:
 * folder = sandbox folder or NULL for none). */
ct_status ct_subtree_parse(const uint8_t *data, size_t size, const ct_implicit_desc *imp, const char *base_uri,
                           const char *sandbox_dir, ct_subtree **out, ct_error *err);
void ct_subtree_destroy(ct_subtree *st);
/* Availability by level (relative to the subtree root) and Morton index within that level. */
bool ct_subtree_tile_available(const ct_subtree *st, int level, uint64_t morton);
bool ct_subtree_content_available(const ct_subtree *st, int content, int level, uint64_t morton);
bool ct_subtree_child_available(const ct_subtree *st, uint64_t morton);
int ct_subtree_content_count(const ct_subtree *st);
/* Subtree metadata (3D Tiles 1.1 implicit tiling) of the tile at (level,
 * morton) (content < 0: the tileMetadata table) or of its content number
 * `content` (the contentMetadata table), as malloc'ed JSON {"class": ...,
 * "properties": {...}}. The row is the tile's rank among the available tiles
 * (contents) of the subtree, as the spec packs them. NULL when the tile or
 * content is not available, there is no table, or the row is past the table's
 * count (logged, naming `where`). schema_json: the tileset's schema. */
char *ct_subtree_metadata_json(const ct_subtree *st, const char *schema_json, int content, int level,
                               uint64_t morton, const char *where);
/* The same for a tile of a loaded implicit tree: its tile metadata
 * (content_index < 0) or that of t->contents[content_index]. */
char *ct_tileset_implicit_metadata_json(const ct_tileset *ts, const ct_tile *t, int content_index);

/* Screen-space error as CesiumJS defines it: ge * height / (distance * 2 tan(fovy/2)). */
double ct_tileset_sse(double geometric_error, double distance, double viewport_height, double fovy);
/* Oriented box of a bounding volume under a transform (regions ignore it). */
void ct_bounding_volume_to_obb(const ct_bounding_volume *bv, const double transform[16], ct_obb *box);
/* -1 outside, 0 intersecting, 1 inside the planes (scene-free, same frame). */
int ct_obb_cull(const ct_obb *box, const double planes[6][4]);
double ct_obb_distance(const ct_obb *box, ct_dvec3 p);

#ifdef __cplusplus
}
#endif
#endif
