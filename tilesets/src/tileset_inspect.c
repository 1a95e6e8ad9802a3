/* Synchronous walk over a whole tileset (external tilesets and implicit
 * subtrees expanded) for `citytwin tiles info` / `validate`: counts, bounds
 * and structural problems. Children are freed as soon as they are walked so
 * large implicit trees stay small in memory. */
#include "tileset_internal.h"

#include "citytwin/ct_geo.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROBLEMS 2000

typedef struct walk {
    ct_tileset_report *rep;
    tileset_build_ctx ctx;
    tileset_fetcher fetcher;
    tileset_fetch_opts fo;
    uint64_t max_tiles;
    bool skip_contents;
    bool stopped;
    size_t nodes;
    uint64_t next_id;
} walk;

static void add_problem(void *u, ct_tileset_severity sev, const char *msg)
{
    ct_tileset_report *rep = u;
    if (sev == CT_TILESET_ERROR)
        rep->n_errors++;
    else
        rep->n_warnings++;
    if (rep->n_problems >= MAX_PROBLEMS)
        return;
    ct_tileset_problem *p = realloc(rep->problems, (size_t)(rep->n_problems + 1) * sizeof *p);
    if (!p)
        return;
    rep->problems = p;
    p[rep->n_problems].severity = sev;
    p[rep->n_problems].message = ct_strdup(msg);
    rep->n_problems++;
}

void ct_tileset_report_free(ct_tileset_report *rep)
{
    for (int i = 0; i < rep->n_problems; i++)
        free(rep->problems[i].message);
    free(rep->problems);
    memset(rep, 0, sizeof *rep);
}

/* Makes a root URI absolute: local paths become file:// URLs of their real path. */
char *tileset_root_uri(const char *uri, char **sandbox_dir, ct_error *err)
{
    *sandbox_dir = NULL;
    if (tileset_uri_is_http(uri))
        return ct_strdup(uri);
    if (ct_uri_has_scheme(uri) && strncasecmp(uri, "file:", 5)) {
        ct_error_set(err, CT_ERR_INPUT, "%s: unsupported URI scheme", uri);
        return NULL;
    }
    char *path = tileset_uri_to_path(uri);
    char real[PATH_MAX];
    if (!path || !realpath(path, real)) {
        ct_error_set(err, CT_ERR_INPUT, "%s: cannot open (missing or unreadable)", path ? path : uri);
        free(path);
        return NULL;
    }
    free(path);
    *sandbox_dir = ct_path_dirname(real);
    return tileset_path_to_uri(real);
}

static void check_child_inside(walk *w, ct_tile *parent, ct_tile *child)
{
    if (child->implicit)
        return; /* implicit children subdivide their parent exactly */
    if (child->bv.type == CT_BV_REGION && parent->bv.type == CT_BV_REGION) {
        const double *c = child->bv.v, *p = parent->bv.v;
        double eps = 1e-9;
        if (c[0] < p[0] - eps || c[1] < p[1] - eps || c[2] > p[2] + eps || c[3] > p[3] + eps || c[4] < p[4] - 1e-3 ||
            c[5] > p[5] + 1e-3)
            tileset_problem(&w->ctx, CT_TILESET_WARNING, "%s.boundingVolume: region not inside the parent's region",
                            child->path ? child->path : "tile");
        return;
    }
    tileset_tile_bounds(parent);
    tileset_tile_bounds(child);
    const ct_obb *b = &child->box;
    for (int i = 0; i < 8; i++) {
        ct_dvec3 p = b->center;
        for (int a = 0; a < 3; a++)
            p = ct_dvec3_add(p, ct_dvec3_scale(b->axes[a], (i >> a) & 1 ? 1.0 : -1.0));
        /* tolerance: 1 % of the parent's size, as boxes are often rounded */
        if (!tileset_obb_contains_point(&parent->box, p, 0.01)) {
            tileset_problem(&w->ctx, CT_TILESET_WARNING, "%s.boundingVolume: not inside the parent's bounding volume",
                            child->path ? child->path : "tile");
            return;
        }
    }
}

static void walk_tile(walk *w, ct_tile *t);

static void load_content(walk *w, ct_tile *t, ct_tileset_content *ct)
{
    bool is_json_name = false;
    {
        const char *u = ct->uri;
        size_t len = strcspn(u, "?#");
        is_json_name = len >= 5 && !strncasecmp(u + len - 5, ".json", 5);
    }
    if (w->skip_contents && !is_json_name)
        return;
    uint8_t *data = NULL;
    size_t size = 0;
    bool retry = false;
    ct_error e = {0};
    char *label = tileset_tile_label(t);
    if (tileset_fetch(&w->fetcher, &w->fo, ct->uri, &data, &size, &retry, &e)) {
        tileset_problem(&w->ctx, CT_TILESET_ERROR, "%s: content %s", label ? label : "tile", e.msg);
        free(label);
        return;
    }
    ct_content_type type = ct_content_type_sniff(data, size);
    w->rep->contents[type]++;
    w->rep->bytes += size;
    if (type == CT_CONTENT_TYPE_UNKNOWN)
        tileset_problem(&w->ctx, CT_TILESET_WARNING, "%s: content %s: unknown format (magic bytes)",
                        label ? label : "tile", tileset_uri_display(ct->uri));
    if (type == CT_CONTENT_TYPE_JSON) {
        cJSON *doc = NULL;
        const char *name = tileset_uri_display(ct->uri);
        if (tileset_json_parse(data, size, name, &doc, &e) ||
            tileset_attach_external(&w->ctx, t, ct->uri, doc, &e))
            tileset_problem(&w->ctx, CT_TILESET_ERROR, "%s: external tileset: %s", label ? label : "tile", e.msg);
        cJSON_Delete(doc);
    }
    free(label);
    free(data);
}

static void load_subtree(walk *w, ct_tile *t)
{
    char *uri = tileset_implicit_subtree_uri(t);
    if (!uri)
        return;
    uint8_t *data = NULL;
    size_t size = 0;
    bool retry = false;
    ct_error e = {0};
    ct_subtree *st = NULL;
    ct_implicit_desc imp = {t->implicit->octree, t->implicit->subtree_levels};
    if (tileset_fetch(&w->fetcher, &w->fo, uri, &data, &size, &retry, &e) ||
        tileset_subtree_parse(data, size, &imp, uri, &w->fetcher, &w->fo, &st, &e))
        tileset_problem(&w->ctx, CT_TILESET_ERROR, "%s: subtree level %d (%u,%u,%u): %s", t->implicit->label,
                        t->implicit_level, t->implicit_xyz[0], t->implicit_xyz[1], t->implicit_xyz[2], e.msg);
    else
        tileset_implicit_attach_subtree(&w->ctx, t, st);
    free(data);
    free(uri);
}

static void walk_tile(walk *w, ct_tile *t)
{
    if (w->stopped)
        return;
    if (w->rep->tiles >= w->max_tiles) {
        tileset_problem(&w->ctx, CT_TILESET_WARNING, "stopped counting after %llu tiles (limit)",
                        (unsigned long long)w->max_tiles);
        w->stopped = true;
        return;
    }
    w->rep->tiles++;
    if (t->depth > w->rep->max_depth)
        w->rep->max_depth = t->depth;
    if (t->kind == CT_TILE_IMPLICIT && !t->subtree)
        load_subtree(w, t);
    for (int i = 0; i < t->n_contents; i++)
        load_content(w, t, &t->contents[i]);
    if (t->kind == CT_TILE_IMPLICIT)
        tileset_implicit_expand(&w->ctx, t);
    for (int i = 0; i < t->n_children && !w->stopped; i++) {
        ct_tile *c = &t->children[i];
        if (w->ctx.check && !(t->kind == CT_TILE_EXTERNAL))
            check_child_inside(w, t, c);
        walk_tile(w, c);
    }
    tileset_tile_free_children(t, NULL, NULL, &w->nodes);
}

static void root_bounds(ct_tileset_report *rep, ct_tile *root)
{
    if (root->bv.type == CT_BV_REGION) {
        const double d = 180.0 / M_PI;
        rep->has_bounds_lonlat = true;
        for (int i = 0; i < 4; i++)
            rep->bounds_lonlat[i] = root->bv.v[i] * d;
        rep->bounds_height[0] = root->bv.v[4];
        rep->bounds_height[1] = root->bv.v[5];
        return;
    }
    tileset_tile_bounds(root);
    double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
    for (int i = 0; i < 8; i++) {
        ct_dvec3 p = root->box.center;
        for (int a = 0; a < 3; a++)
            p = ct_dvec3_add(p, ct_dvec3_scale(root->box.axes[a], (i >> a) & 1 ? 1.0 : -1.0));
        double r = ct_dvec3_length(p);
        /* only ECEF coordinates near the Earth's surface are georeferenced */
        if (r < 6.2e6 || r > 6.5e6)
            return;
        ct_dvec3 ll = ct_geo_lonlat_from_ecef(p);
        double v[3] = {ll.x, ll.y, ll.z};
        for (int k = 0; k < 3; k++) {
            lo[k] = fmin(lo[k], v[k]);
            hi[k] = fmax(hi[k], v[k]);
        }
    }
    rep->has_bounds_lonlat = true;
    rep->bounds_lonlat[0] = lo[0];
    rep->bounds_lonlat[1] = lo[1];
    rep->bounds_lonlat[2] = hi[0];
    rep->bounds_lonlat[3] = hi[1];
    rep->bounds_height[0] = lo[2];
    rep->bounds_height[1] = hi[2];
}

ct_status ct_tileset_inspect(const ct_tileset_inspect_desc *d, ct_tileset_report *rep, ct_error *err)
{
    memset(rep, 0, sizeof *rep);
    char *sandbox = NULL;
    char *root_uri = tileset_root_uri(d->uri, &sandbox, err);
    if (!root_uri)
        return err ? err->status : CT_ERR_INPUT;
    walk w = {0};
    w.rep = rep;
    w.max_tiles = d->max_tiles ? d->max_tiles : 1000000;
    w.skip_contents = d->skip_contents;
    w.fo.sandbox_dir = d->allow_outside_folder ? NULL : sandbox;
    w.fo.headers = d->http_headers;
    w.fo.n_headers = d->n_http_headers;
    w.fo.retries = 1;
    w.next_id = 1;
    const char *slash = strrchr(tileset_uri_display(root_uri), '/');
    w.ctx = (tileset_build_ctx){
        .base_uri = root_uri,
        .root_uri = root_uri,
        .label = slash ? slash + 1 : root_uri,
        .next_id = &w.next_id,
        .node_count = &w.nodes,
        .max_depth = d->max_depth > 0 ? d->max_depth : 64,
        .max_external_depth = 16,
        .problem = add_problem,
        .problem_user = rep,
        .check = true,
    };
    uint8_t *data = NULL;
    size_t size = 0;
    bool retry = false;
    cJSON *doc = NULL;
    ct_tile root;
    memset(&root, 0, sizeof root);
    ct_status st = tileset_fetch(&w.fetcher, &w.fo, root_uri, &data, &size, &retry, err);
    if (!st)
        st = tileset_json_parse(data, size, tileset_uri_display(root_uri), &doc, err);
    free(data);
    if (!st) {
        w.nodes = 1;
        st = tileset_build(&w.ctx, doc, NULL, &root, err);
    }
    cJSON_Delete(doc);
    if (!st) {
        root_bounds(rep, &root);
        walk_tile(&w, &root);
        tileset_tile_free_fields(&root, NULL, NULL);
    } else {
        ct_tileset_report_free(rep);
    }
    tileset_build_ctx_free(&w.ctx);
    tileset_fetcher_cleanup(&w.fetcher);
    free(root_uri);
    free(sandbox);
    return st;
}
