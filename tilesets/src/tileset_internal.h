/* Internal to the tileset module: shared between tileset_*.c files. */
#ifndef CT_TILESET_INTERNAL_H
#define CT_TILESET_INTERNAL_H

#include "citytwin/ct_tileset.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

/* ---- URIs (tileset_uri.c) ---- */
char *tileset_uri_to_path(const char *uri);      /* file:// URL or plain path -> path; NULL for other schemes */
char *tileset_path_to_uri(const char *abs_path); /* "/a b" -> "file:///a%20b" */
bool tileset_uri_is_http(const char *uri);
const char *tileset_uri_display(const char *uri);

/* ---- fetching (tileset_fetch.c) ---- */
typedef struct tileset_fetch_opts {
    const char *sandbox_dir;        /* realpath of the allowed folder; NULL = no limit */
    const char *const *headers;
    int n_headers;
    double timeout_s;               /* 0: 30 */
    int retries;                    /* immediate retries for transient HTTP failures */
    atomic_int *cancel;             /* set by the main thread to abort; may be NULL */
    size_t max_bytes;               /* 0: 1 GiB */
} tileset_fetch_opts;

typedef struct tileset_fetcher {
    void *curl;                     /* CURL easy handle kept for keep-alive */
} tileset_fetcher;

/* Reads a URI (plain path, file://, http(s)://) and undoes gzip. *retryable
 * says whether trying again later might succeed (5xx, timeouts, truncation). */
ct_status tileset_fetch(tileset_fetcher *f, const tileset_fetch_opts *o, const char *uri, uint8_t **data,
                        size_t *size, bool *retryable, ct_error *err);
void tileset_fetcher_cleanup(tileset_fetcher *f);
/* Absolute form of a root URI (local paths -> file:// of their real path) and
 * the folder local reads are confined to (NULL for HTTP). */
char *tileset_root_uri(const char *uri, char **sandbox_dir, ct_error *err);
/* Realpath-based containment check of a local path. */
bool tileset_path_inside(const char *path, const char *dir);

/* ---- implicit tiling ---- */
struct ct_implicit {
    const ct_tile *owner;           /* the explicit tile carrying implicitTiling (frees this) */
    int octree;
    int subtree_levels;
    int available_levels;
    char *subtree_uri;              /* resolved template */
    int n_contents;
    char **content_uris;            /* resolved templates */
    int *content_groups;
    ct_bounding_volume root_bv;
    double root_ge;
    ct_refine refine;
    char *label;                    /* "tileset.json: root" */
};

/* ---- tree building (tileset_tree.c) ---- */
typedef void (*tileset_problem_fn)(void *user, ct_tileset_severity sev, const char *msg);

typedef struct tileset_build_ctx {
    const char *base_uri;           /* URI of the tileset.json being built */
    const char *root_uri;           /* the top tileset.json (for query propagation and cycles) */
    const char *label;              /* short file name for messages */
    uint64_t *next_id;
    size_t *node_count;
    int max_depth;
    int max_external_depth;
    tileset_problem_fn problem;     /* may be NULL: logged */
    void *problem_user;
    bool check;                     /* validate mode: report structural warnings */
    /* out: asset of this tileset.json */
    char *version;
    char gltf_up_axis;              /* asset.gltfUpAxis of the root tileset: 'X', 'Y' or 'Z' */
    double geometric_error;
    char *schema_json, *metadata_json, *groups_json, *properties_json;
} tileset_build_ctx;

void tileset_problem(tileset_build_ctx *c, ct_tileset_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ct_status tileset_json_parse(const uint8_t *data, size_t size, const char *label, cJSON **out, ct_error *err);
/* Builds the tree of a parsed tileset.json into *tile (zeroed storage), under parent (NULL for the top). */
ct_status tileset_build(tileset_build_ctx *c, const cJSON *doc, ct_tile *parent, ct_tile *tile, ct_error *err);
void tileset_build_ctx_free(tileset_build_ctx *c);

/* Attaches a parsed external tileset as the single child of tile. */
ct_status tileset_attach_external(tileset_build_ctx *c, ct_tile *tile, const char *uri, const cJSON *doc,
                                  ct_error *err);
/* Cycle / nesting check before loading uri as an external tileset under tile. */
ct_status tileset_check_external(const tileset_build_ctx *c, const ct_tile *tile, const char *uri, ct_error *err);

/* Implicit trees: a loaded subtree rooted at t (t->implicit_level is its root level). */
void tileset_implicit_attach_subtree(tileset_build_ctx *c, ct_tile *t, ct_subtree *st);
/* Creates t's children (t->subtree must be known). No I/O. */
void tileset_implicit_expand(tileset_build_ctx *c, ct_tile *t);
char *tileset_implicit_subtree_uri(const ct_tile *t);
/* Level of t relative to the root of the subtree it lies in, and its
 * coordinates relative to that root. */
int tileset_implicit_local(const ct_tile *t, uint32_t local[3]);

/* Computes t->box / sphere (lazily, from bv and transform). */
void tileset_tile_bounds(ct_tile *t);
/* Describes a tile for messages (malloc'ed). */
char *tileset_tile_label(const ct_tile *t);

typedef void (*tileset_release_fn)(void *user, ct_tile *tile, ct_tileset_content *content);
/* Frees t's children recursively (calling release for every content). */
void tileset_tile_free_children(ct_tile *t, tileset_release_fn release, void *user, size_t *node_count);
/* Frees t's own fields (not t itself, not children). */
void tileset_tile_free_fields(ct_tile *t, tileset_release_fn release, void *user);

/* ---- subtrees (tileset_subtree.c) ---- */
ct_status tileset_subtree_parse(const uint8_t *data, size_t size, const ct_implicit_desc *imp, const char *base_uri,
                                tileset_fetcher *f, const tileset_fetch_opts *fo, ct_subtree **out, ct_error *err);
uint64_t tileset_morton2(uint32_t x, uint32_t y);
uint64_t tileset_morton3(uint32_t x, uint32_t y, uint32_t z);

/* ---- geometry (tileset_bounds.c) ---- */
void tileset_region_to_obb(const double region[6], ct_obb *box);
void tileset_obb_sphere(const ct_obb *box, ct_dvec3 *center, double *radius);
bool tileset_obb_contains_point(const ct_obb *box, ct_dvec3 p, double tol);

#endif
