/* tileset.json (1.0 and 1.1) into the tile tree: bounding volumes,
 * transforms chained down, refine inherited, content / contents[], external
 * tilesets, viewerRequestVolume, metadata kept as raw JSON, implicit tiling
 * (children created lazily from subtrees). Every message names the file and
 * the JSON path. */
#include "tileset_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tileset_problem(tileset_build_ctx *c, ct_tileset_severity sev, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c && c->problem)
        c->problem(c->problem_user, sev, msg);
    else
        ct_log(sev == CT_TILESET_ERROR ? CT_LOG_WARN : CT_LOG_INFO, "tileset: %s", msg);
}

ct_status tileset_json_parse(const uint8_t *data, size_t size, const char *label, cJSON **out, ct_error *err)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts((const char *)data, size, &end, false);
    if (!doc) {
        size_t off = end ? (size_t)(end - (const char *)data) : 0;
        return ct_error_set(err, CT_ERR_INPUT, "%s: invalid JSON near byte %zu", label, off);
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return ct_error_set(err, CT_ERR_INPUT, "%s: top level is not a JSON object", label);
    }
    *out = doc;
    return CT_OK;
}

static char *json_raw(const cJSON *j)
{
    return j ? cJSON_PrintUnformatted(j) : NULL;
}

static bool read_numbers(const cJSON *arr, double *out, int n)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n)
        return false;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return false;
        out[i++] = e->valuedouble;
    }
    return true;
}

/* Parses a boundingVolume object; path is used for messages. */
static bool read_bv(tileset_build_ctx *c, const cJSON *j, const char *path, ct_bounding_volume *bv)
{
    memset(bv, 0, sizeof *bv);
    if (!cJSON_IsObject(j)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s: missing or not an object", c->label, path);
        return false;
    }
    const cJSON *box = cJSON_GetObjectItemCaseSensitive(j, "box");
    const cJSON *region = cJSON_GetObjectItemCaseSensitive(j, "region");
    const cJSON *sphere = cJSON_GetObjectItemCaseSensitive(j, "sphere");
    if (box) {
        if (!read_numbers(box, bv->v, 12)) {
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s.box: expected 12 numbers", c->label, path);
            return false;
        }
        bv->type = CT_BV_BOX;
    } else if (region) {
        if (!read_numbers(region, bv->v, 6)) {
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s.region: expected 6 numbers", c->label, path);
            return false;
        }
        const double *r = bv->v;
        if (r[1] > r[3] || r[4] > r[5] || fabs(r[0]) > M_PI + 1e-9 || fabs(r[2]) > M_PI + 1e-9 ||
            fabs(r[1]) > M_PI / 2 + 1e-9 || fabs(r[3]) > M_PI / 2 + 1e-9) {
            tileset_problem(c, CT_TILESET_ERROR,
                            "%s: %s.region: out of range (west,south,east,north in radians, minH <= maxH)",
                            c->label, path);
            return false;
        }
        bv->type = CT_BV_REGION;
    } else if (sphere) {
        if (!read_numbers(sphere, bv->v, 4) || bv->v[3] < 0) {
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s.sphere: expected 4 numbers with radius >= 0", c->label,
                            path);
            return false;
        }
        bv->type = CT_BV_SPHERE;
    } else {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s: needs box, region or sphere", c->label, path);
        return false;
    }
    return true;
}

static void tile_world_transform(ct_tile *t, const ct_tile *parent, const double local[16])
{
    if (parent)
        ct_dmat4_mul(t->transform, parent->transform, local);
    else
        memcpy(t->transform, local, sizeof t->transform);
    double sc = 0;
    for (int a = 0; a < 3; a++)
        sc = fmax(sc, ct_dvec3_length(ct_dmat4_transform_dir(t->transform, (ct_dvec3){a == 0, a == 1, a == 2})));
    t->ge_scale = sc > 0 ? sc : 1.0;
}

void tileset_tile_bounds(ct_tile *t)
{
    if (t->box_valid)
        return;
    ct_bounding_volume_to_obb(&t->bv, t->transform, &t->box);
    tileset_obb_sphere(&t->box, &t->sphere_center, &t->sphere_radius);
    if (t->has_request_volume)
        ct_bounding_volume_to_obb(&t->request_volume, t->transform, &t->request_box);
    t->box_valid = true;
}

char *tileset_tile_label(const ct_tile *t)
{
    char buf[512];
    if (t->path)
        return ct_strdup(t->path);
    if (t->implicit && t->implicit->octree)
        snprintf(buf, sizeof buf, "%s (implicit tile level %d, x %u, y %u, z %u)", t->implicit->label,
                 t->implicit_level, t->implicit_xyz[0], t->implicit_xyz[1], t->implicit_xyz[2]);
    else if (t->implicit)
        snprintf(buf, sizeof buf, "%s (implicit tile level %d, x %u, y %u)", t->implicit->label, t->implicit_level,
                 t->implicit_xyz[0], t->implicit_xyz[1]);
    else
        snprintf(buf, sizeof buf, "tile %llu", (unsigned long long)t->id);
    return ct_strdup(buf);
}

static char *resolve_content_uri(tileset_build_ctx *c, const char *ref)
{
    char *abs = ct_uri_resolve(c->base_uri, ref);
    if (!abs)
        return NULL;
    /* CesiumJS propagates the query of the tileset's URL (tokens) to its children. */
    if (tileset_uri_is_http(abs)) {
        char *q = ct_uri_with_query_of(abs, c->base_uri);
        free(abs);
        abs = q;
    }
    return abs;
}

static bool read_content(tileset_build_ctx *c, const cJSON *j, const char *path, ct_tileset_content *ct)
{
    memset(ct, 0, sizeof *ct);
    ct->group = -1;
    ct->lru_prev = -1;
    if (!cJSON_IsObject(j)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s: not an object", c->label, path);
        return false;
    }
    const cJSON *uri = cJSON_GetObjectItemCaseSensitive(j, "uri");
    if (!uri)
        uri = cJSON_GetObjectItemCaseSensitive(j, "url"); /* pre-1.0 tilesets */
    if (!cJSON_IsString(uri) || !uri->valuestring[0]) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.uri: missing or not a string", c->label, path);
        return false;
    }
    ct->uri = resolve_content_uri(c, uri->valuestring);
    if (!ct->uri)
        return false;
    const cJSON *bv = cJSON_GetObjectItemCaseSensitive(j, "boundingVolume");
    if (bv) {
        char p[600];
        snprintf(p, sizeof p, "%s.boundingVolume", path);
        if (!read_bv(c, bv, p, &ct->bv))
            ct->bv.type = CT_BV_NONE;
    }
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(j, "group");
    if (cJSON_IsNumber(g) && g->valuedouble >= 0 && g->valuedouble < 1e9)
        ct->group = (int)g->valuedouble;
    else if (g)
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.group: not a valid index", c->label, path);
    ct->metadata_json = json_raw(cJSON_GetObjectItemCaseSensitive(j, "metadata"));
    return true;
}

static ct_tile *new_children(tileset_build_ctx *c, int n)
{
    ct_tile *ch = ct_calloc_array((size_t)n, sizeof *ch);
    if (ch && c->node_count)
        *c->node_count += (size_t)n;
    return ch;
}

static void build_implicit(tileset_build_ctx *c, const cJSON *it, const char *path, ct_tile *t);

/* Builds one explicit tile (and recursively its children). Returns false when
 * the tile is unusable (bad bounding volume / geometric error); the caller
 * then drops it. */
static bool build_tile(tileset_build_ctx *c, const cJSON *j, const char *path, ct_tile *parent, ct_tile *t,
                       int depth)
{
    memset(t, 0, sizeof *t);
    t->parent = parent;
    t->depth = depth;
    t->id = (*c->next_id)++;
    t->expansion.lru_prev = -1;
    t->expansion.group = -1;
    char lbl[700];
    snprintf(lbl, sizeof lbl, "%s: %s", c->label, path);
    t->path = ct_strdup(lbl);
    if (!cJSON_IsObject(j)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s: tile is not an object", c->label, path);
        return false;
    }
    char p[600];
    snprintf(p, sizeof p, "%s.boundingVolume", path);
    if (!read_bv(c, cJSON_GetObjectItemCaseSensitive(j, "boundingVolume"), p, &t->bv))
        return false;
    const cJSON *ge = cJSON_GetObjectItemCaseSensitive(j, "geometricError");
    if (!cJSON_IsNumber(ge) || !isfinite(ge->valuedouble) || ge->valuedouble < 0) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.geometricError: missing or not a number >= 0", c->label, path);
        return false;
    }
    t->geometric_error = ge->valuedouble;

    const cJSON *refine = cJSON_GetObjectItemCaseSensitive(j, "refine");
    t->refine = parent ? parent->refine : CT_REFINE_REPLACE;
    if (refine) {
        const char *r = cJSON_IsString(refine) ? refine->valuestring : "";
        if (!strcmp(r, "ADD"))
            t->refine = CT_REFINE_ADD;
        else if (!strcmp(r, "REPLACE"))
            t->refine = CT_REFINE_REPLACE;
        else if (!strcasecmp(r, "add") || !strcasecmp(r, "replace")) {
            t->refine = !strcasecmp(r, "add") ? CT_REFINE_ADD : CT_REFINE_REPLACE;
            tileset_problem(c, CT_TILESET_WARNING, "%s: %s.refine: \"%s\" should be upper case", c->label, path, r);
        } else
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s.refine: must be \"ADD\" or \"REPLACE\"", c->label, path);
    } else if (!parent && c->check) {
        tileset_problem(c, CT_TILESET_WARNING, "%s: %s.refine: missing on the root tile (REPLACE assumed)", c->label,
                        path);
    }

    double local[16];
    ct_dmat4_identity(local);
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(j, "transform");
    if (tr && !read_numbers(tr, local, 16)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.transform: expected 16 numbers", c->label, path);
        ct_dmat4_identity(local);
    }
    tile_world_transform(t, parent, local);

    const cJSON *vrv = cJSON_GetObjectItemCaseSensitive(j, "viewerRequestVolume");
    if (vrv) {
        snprintf(p, sizeof p, "%s.viewerRequestVolume", path);
        t->has_request_volume = read_bv(c, vrv, p, &t->request_volume);
    }
    t->metadata_json = json_raw(cJSON_GetObjectItemCaseSensitive(j, "metadata"));

    const cJSON *content = cJSON_GetObjectItemCaseSensitive(j, "content");
    const cJSON *contents = cJSON_GetObjectItemCaseSensitive(j, "contents");
    if (content && contents)
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s: has both content and contents", c->label, path);
    if (contents) {
        int n = cJSON_IsArray(contents) ? cJSON_GetArraySize(contents) : -1;
        if (n < 0)
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s.contents: not an array", c->label, path);
        if (n > 0) {
            t->contents = ct_calloc_array((size_t)n, sizeof *t->contents);
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, contents)
            {
                snprintf(p, sizeof p, "%s.contents[%d]", path, i++);
                if (t->contents && read_content(c, e, p, &t->contents[t->n_contents]))
                    t->n_contents++;
                else if (t->contents)
                    free(t->contents[t->n_contents].uri), t->contents[t->n_contents].uri = NULL;
            }
        }
    } else if (content) {
        t->contents = ct_calloc_array(1, sizeof *t->contents);
        snprintf(p, sizeof p, "%s.content", path);
        if (t->contents && read_content(c, content, p, &t->contents[0]))
            t->n_contents = 1;
    }
    for (int i = 0; i < t->n_contents; i++) {
        const char *u = t->contents[i].uri;
        /* Predict external tilesets by extension (confirmed by the bytes when loaded). */
        const char *q = strpbrk(u, "?#");
        size_t len = q ? (size_t)(q - u) : strlen(u);
        if (len >= 5 && !strncasecmp(u + len - 5, ".json", 5)) {
            t->kind = CT_TILE_EXTERNAL;
            t->contents[i].type = CT_CONTENT_TYPE_JSON; /* predicted; the bytes decide */
        }
    }

    const cJSON *implicit = cJSON_GetObjectItemCaseSensitive(j, "implicitTiling");
    if (!implicit) {
        const cJSON *ext = cJSON_GetObjectItemCaseSensitive(j, "extensions");
        implicit = ext ? cJSON_GetObjectItemCaseSensitive(ext, "3DTILES_implicit_tiling") : NULL;
    }
    const cJSON *children = cJSON_GetObjectItemCaseSensitive(j, "children");
    if (implicit) {
        if (children)
            tileset_problem(c, CT_TILESET_ERROR, "%s: %s: a tile with implicitTiling must not have children",
                            c->label, path);
        build_implicit(c, implicit, path, t);
        return true;
    }
    t->expanded = t->kind != CT_TILE_EXTERNAL;
    if (!children)
        return true;
    if (!cJSON_IsArray(children)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.children: not an array", c->label, path);
        return true;
    }
    int n = cJSON_GetArraySize(children);
    if (n == 0)
        return true;
    if (depth + 1 > c->max_depth) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.children: tree deeper than the limit of %d levels", c->label,
                        path, c->max_depth);
        return true;
    }
    if (t->kind == CT_TILE_EXTERNAL)
        tileset_problem(c, CT_TILESET_WARNING, "%s: %s: a tile with an external tileset also has children",
                        c->label, path);
    t->children = new_children(c, n);
    if (!t->children)
        return true;
    int i = 0, k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, children)
    {
        snprintf(p, sizeof p, "%s.children[%d]", path, i++);
        if (build_tile(c, e, p, t, &t->children[k], depth + 1)) {
            ct_tile *ch = &t->children[k];
            if (c->check && ch->geometric_error > t->geometric_error * (1 + 1e-9))
                tileset_problem(c, CT_TILESET_ERROR,
                                "%s: %s.geometricError: %g is larger than the parent's %g (must not increase down "
                                "the tree)",
                                c->label, p, ch->geometric_error, t->geometric_error);
            k++;
        } else {
            tileset_tile_free_children(&t->children[k], NULL, NULL, c->node_count);
            tileset_tile_free_fields(&t->children[k], NULL, NULL);
            if (c->node_count)
                (*c->node_count)--;
        }
    }
    t->n_children = k;
    /* children keep pointers to their parent: fix them after the array is final */
    for (int m = 0; m < k; m++)
        for (int q = 0; q < t->children[m].n_children; q++)
            t->children[m].children[q].parent = &t->children[m];
    return true;
}

static void build_implicit(tileset_build_ctx *c, const cJSON *it, const char *path, ct_tile *t)
{
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(it, "subdivisionScheme");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(it, "subtreeLevels");
    const cJSON *avail = cJSON_GetObjectItemCaseSensitive(it, "availableLevels");
    if (!avail)
        avail = cJSON_GetObjectItemCaseSensitive(it, "maximumLevel"); /* draft extension: max level = avail - 1 */
    const cJSON *subtrees = cJSON_GetObjectItemCaseSensitive(it, "subtrees");
    const cJSON *suri = subtrees ? cJSON_GetObjectItemCaseSensitive(subtrees, "uri") : NULL;
    int octree = -1;
    if (cJSON_IsString(scheme))
        octree = !strcmp(scheme->valuestring, "OCTREE") ? 1 : !strcmp(scheme->valuestring, "QUADTREE") ? 0 : -1;
    if (octree < 0) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.implicitTiling.subdivisionScheme: must be QUADTREE or OCTREE",
                        c->label, path);
        return;
    }
    if (!cJSON_IsNumber(levels) || levels->valuedouble < 1 || levels->valuedouble > (octree ? 20 : 30) ||
        levels->valuedouble != floor(levels->valuedouble)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.implicitTiling.subtreeLevels: must be an integer in 1..30 (1..20 for octrees)",
                        c->label, path);
        return;
    }
    if (!cJSON_IsNumber(avail) || avail->valuedouble < 1 || avail->valuedouble != floor(avail->valuedouble)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.implicitTiling.availableLevels: must be an integer >= 1",
                        c->label, path);
        return;
    }
    if (!cJSON_IsString(suri)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.implicitTiling.subtrees.uri: missing", c->label, path);
        return;
    }
    if (t->bv.type != CT_BV_BOX && t->bv.type != CT_BV_REGION) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: %s.boundingVolume: implicit tiling needs a box or a region",
                        c->label, path);
        return;
    }
    struct ct_implicit *im = calloc(1, sizeof *im);
    if (!im)
        return;
    im->owner = t;
    im->octree = octree;
    im->subtree_levels = (int)levels->valuedouble;
    double av = avail->valuedouble;
    if (av > c->max_depth - t->depth) {
        tileset_problem(c, CT_TILESET_ERROR,
                        "%s: %s.implicitTiling.availableLevels: %g levels exceed the depth limit of %d", c->label,
                        path, av, c->max_depth);
        av = c->max_depth - t->depth;
        if (av < 1)
            av = 1;
    }
    im->available_levels = (int)av;
    if (im->available_levels > 31)
        im->available_levels = 31; /* coordinates are 32-bit */
    im->subtree_uri = resolve_content_uri(c, suri->valuestring);
    im->root_bv = t->bv;
    im->root_ge = t->geometric_error;
    im->refine = t->refine;
    char lbl[700];
    snprintf(lbl, sizeof lbl, "%s: %s", c->label, path);
    im->label = ct_strdup(lbl);
    /* content templates: the tile's content(s) */
    im->n_contents = t->n_contents;
    if (t->n_contents) {
        im->content_uris = ct_calloc_array((size_t)t->n_contents, sizeof(char *));
        im->content_groups = ct_calloc_array((size_t)t->n_contents, sizeof(int));
        if (!im->content_uris || !im->content_groups)
            im->n_contents = 0;
        for (int i = 0; i < im->n_contents; i++) {
            im->content_uris[i] = t->contents[i].uri;
            t->contents[i].uri = NULL;
            im->content_groups[i] = t->contents[i].group;
            free(t->contents[i].metadata_json);
        }
        free(t->contents);
        t->contents = NULL;
        t->n_contents = 0;
    }
    t->implicit = im;
    t->kind = CT_TILE_IMPLICIT;
    t->implicit_level = 0;
    t->expanded = false;
}

void tileset_build_ctx_free(tileset_build_ctx *c)
{
    free(c->version);
    free(c->schema_json);
    free(c->metadata_json);
    free(c->groups_json);
    free(c->properties_json);
    c->version = c->schema_json = c->metadata_json = c->groups_json = c->properties_json = NULL;
}

ct_status tileset_build(tileset_build_ctx *c, const cJSON *doc, ct_tile *parent, ct_tile *tile, ct_error *err)
{
    const cJSON *asset = cJSON_GetObjectItemCaseSensitive(doc, "asset");
    const cJSON *version = asset ? cJSON_GetObjectItemCaseSensitive(asset, "version") : NULL;
    if (!cJSON_IsObject(asset))
        return ct_error_set(err, CT_ERR_INPUT, "%s: asset: missing (not a tileset.json?)", c->label);
    if (!cJSON_IsString(version)) {
        tileset_problem(c, CT_TILESET_ERROR, "%s: asset.version: missing or not a string", c->label);
    } else {
        const char *v = version->valuestring;
        if (strcmp(v, "1.0") && strcmp(v, "1.1") && strcmp(v, "0.0"))
            tileset_problem(c, CT_TILESET_WARNING, "%s: asset.version: \"%s\" is not 1.0 or 1.1", c->label, v);
        free(c->version);
        c->version = ct_strdup(v);
    }
    /* CesiumJS reads gltfUpAxis from the root tileset only; so do we. */
    const cJSON *up = asset ? cJSON_GetObjectItemCaseSensitive(asset, "gltfUpAxis") : NULL;
    if (!parent) {
        c->gltf_up_axis = 'Y';
        if (cJSON_IsString(up) && (!strcmp(up->valuestring, "X") || !strcmp(up->valuestring, "Y") ||
                                   !strcmp(up->valuestring, "Z")))
            c->gltf_up_axis = up->valuestring[0];
        else if (up)
            tileset_problem(c, CT_TILESET_WARNING, "%s: asset.gltfUpAxis: expected \"X\", \"Y\" or \"Z\"; using Y",
                            c->label);
    }
    const cJSON *ge = cJSON_GetObjectItemCaseSensitive(doc, "geometricError");
    if (!cJSON_IsNumber(ge) || ge->valuedouble < 0)
        tileset_problem(c, CT_TILESET_ERROR, "%s: geometricError: missing or not a number >= 0", c->label);
    else
        c->geometric_error = ge->valuedouble;
    free(c->schema_json);
    free(c->metadata_json);
    free(c->groups_json);
    free(c->properties_json);
    c->schema_json = json_raw(cJSON_GetObjectItemCaseSensitive(doc, "schema"));
    c->metadata_json = json_raw(cJSON_GetObjectItemCaseSensitive(doc, "metadata"));
    c->groups_json = json_raw(cJSON_GetObjectItemCaseSensitive(doc, "groups"));
    c->properties_json = json_raw(cJSON_GetObjectItemCaseSensitive(doc, "properties"));
    const cJSON *root = cJSON_GetObjectItemCaseSensitive(doc, "root");
    if (!cJSON_IsObject(root))
        return ct_error_set(err, CT_ERR_INPUT, "%s: root: missing or not an object", c->label);
    int depth = parent ? parent->depth + 1 : 0;
    if (!build_tile(c, root, "root", parent, tile, depth)) {
        tileset_tile_free_children(tile, NULL, NULL, c->node_count);
        tileset_tile_free_fields(tile, NULL, NULL);
        memset(tile, 0, sizeof *tile);
        return ct_error_set(err, CT_ERR_INPUT, "%s: root: unusable tile (see previous problems)", c->label);
    }
    if (c->check && cJSON_IsNumber(ge) && tile->geometric_error > ge->valuedouble * (1 + 1e-9))
        tileset_problem(c, CT_TILESET_ERROR, "%s: root.geometricError: %g is larger than the tileset's %g", c->label,
                        tile->geometric_error, ge->valuedouble);
    return CT_OK;
}

static bool same_resource(const char *a, const char *b)
{
    size_t la = strcspn(a, "#"), lb = strcspn(b, "#");
    return la == lb && !strncmp(a, b, la);
}

ct_status tileset_check_external(const tileset_build_ctx *c, const ct_tile *tile, const char *uri, ct_error *err)
{
    if (c->root_uri && same_resource(c->root_uri, uri))
        return ct_error_set(err, CT_ERR_INPUT, "%s: external tileset cycle: it refers back to the root tileset",
                            tileset_uri_display(uri));
    int nesting = 0;
    for (const ct_tile *a = tile->parent; a; a = a->parent) {
        if (a->kind != CT_TILE_EXTERNAL)
            continue;
        nesting++;
        for (int i = 0; i < a->n_contents; i++)
            if (a->contents[i].uri && same_resource(a->contents[i].uri, uri))
                return ct_error_set(err, CT_ERR_INPUT, "%s: external tileset cycle (already loaded by an ancestor)",
                                    tileset_uri_display(uri));
    }
    if (nesting >= c->max_external_depth)
        return ct_error_set(err, CT_ERR_INPUT, "%s: external tilesets nested deeper than %d",
                            tileset_uri_display(uri), c->max_external_depth);
    if (tile->depth + 1 > c->max_depth)
        return ct_error_set(err, CT_ERR_INPUT, "%s: tree deeper than the limit of %d levels",
                            tileset_uri_display(uri), c->max_depth);
    return CT_OK;
}

ct_status tileset_attach_external(tileset_build_ctx *c, ct_tile *tile, const char *uri, const cJSON *doc,
                                  ct_error *err)
{
    if (tileset_check_external(c, tile, uri, err))
        return err ? err->status : CT_ERR_INPUT;
    if (tile->n_children)
        return ct_error_set(err, CT_ERR_INPUT, "%s: the tile referencing this external tileset already has children",
                            tileset_uri_display(uri));
    ct_tile *ch = new_children(c, 1);
    if (!ch)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    tileset_build_ctx sub = *c;
    sub.base_uri = uri;
    const char *slash = strrchr(tileset_uri_display(uri), '/');
    sub.label = slash ? slash + 1 : tileset_uri_display(uri);
    sub.version = sub.schema_json = sub.metadata_json = sub.groups_json = sub.properties_json = NULL;
    ct_status st = tileset_build(&sub, doc, tile, ch, err);
    if (!st && c->check && sub.geometric_error > tile->geometric_error * (1 + 1e-9))
        tileset_problem(c, CT_TILESET_WARNING,
                        "%s: geometricError: %g is larger than the referencing tile's %g (%s)",
                        tileset_uri_display(uri), sub.geometric_error, tile->geometric_error,
                        tile->path ? tile->path : "implicit tile");
    tileset_build_ctx_free(&sub);
    if (st) {
        free(ch);
        if (c->node_count)
            (*c->node_count)--;
        return st;
    }
    if (c->check && ch->geometric_error > tile->geometric_error * (1 + 1e-9))
        tileset_problem(c, CT_TILESET_WARNING,
                        "%s: root.geometricError: %g is larger than the referencing tile's %g",
                        tileset_uri_display(uri), ch->geometric_error, tile->geometric_error);
    tile->children = ch;
    tile->n_children = 1;
    tile->kind = CT_TILE_EXTERNAL;
    tile->expanded = true;
    return CT_OK;
}

/* ---- implicit trees ---- */

char *tileset_implicit_subtree_uri(const ct_tile *t)
{
    return ct_uri_template(t->implicit->subtree_uri, t->implicit_level, t->implicit_xyz[0], t->implicit_xyz[1],
                           t->implicit_xyz[2]);
}

/* Bounding volume of the implicit tile (level, x, y, z) from the root's. */
static void implicit_bv(const struct ct_implicit *im, int level, const uint32_t xyz[3], ct_bounding_volume *bv)
{
    *bv = im->root_bv;
    double n = ldexp(1.0, level);
    if (im->root_bv.type == CT_BV_BOX) {
        const double *r = im->root_bv.v;
        double f[3];
        for (int a = 0; a < 3; a++)
            f[a] = -1.0 + (2.0 * xyz[a] + 1.0) / n;
        if (!im->octree)
            f[2] = 0;
        for (int k = 0; k < 3; k++) {
            double c = r[k];
            for (int a = 0; a < 3; a++)
                c += r[3 + 3 * a + k] * f[a];
            bv->v[k] = c;
        }
        for (int a = 0; a < 3; a++) {
            double s = (a == 2 && !im->octree) ? 1.0 : 1.0 / n;
            for (int k = 0; k < 3; k++)
                bv->v[3 + 3 * a + k] = r[3 + 3 * a + k] * s;
        }
    } else {
        const double *r = im->root_bv.v;
        double east = r[2] < r[0] ? r[2] + 2 * M_PI : r[2];
        double dx = (east - r[0]) / n, dy = (r[3] - r[1]) / n;
        bv->v[0] = r[0] + dx * xyz[0];
        bv->v[2] = r[0] + dx * (xyz[0] + 1);
        if (bv->v[0] > M_PI)
            bv->v[0] -= 2 * M_PI;
        if (bv->v[2] > M_PI)
            bv->v[2] -= 2 * M_PI;
        bv->v[1] = r[1] + dy * xyz[1];
        bv->v[3] = r[1] + dy * (xyz[1] + 1);
        if (im->octree) {
            double dz = (r[5] - r[4]) / n;
            bv->v[4] = r[4] + dz * xyz[2];
            bv->v[5] = r[4] + dz * (xyz[2] + 1);
        }
    }
}

static void implicit_init_tile(tileset_build_ctx *c, ct_tile *parent, ct_tile *t, int level, const uint32_t xyz[3])
{
    memset(t, 0, sizeof *t);
    t->parent = parent;
    t->depth = parent->depth + 1;
    t->id = (*c->next_id)++;
    t->implicit = parent->implicit;
    t->implicit_level = level;
    memcpy(t->implicit_xyz, xyz, sizeof t->implicit_xyz);
    t->kind = CT_TILE_IMPLICIT;
    t->refine = t->implicit->refine;
    t->geometric_error = t->implicit->root_ge / ldexp(1.0, level);
    memcpy(t->transform, parent->transform, sizeof t->transform);
    t->ge_scale = parent->ge_scale;
    implicit_bv(t->implicit, level, xyz, &t->bv);
    t->expansion.lru_prev = -1;
    t->expansion.group = -1;
}

/* Level of t relative to the root of the subtree it lies in, and its
 * coordinates relative to that root. */
int tileset_implicit_local(const ct_tile *t, uint32_t local[3])
{
    const ct_tile *r = t;
    while (r->own_subtree == NULL && r->parent && r->parent->implicit == t->implicit)
        r = r->parent;
    int l = t->implicit_level - r->implicit_level;
    for (int a = 0; a < 3; a++)
        local[a] = t->implicit_xyz[a] - (r->implicit_xyz[a] << l);
    return l;
}

static uint64_t morton(const struct ct_implicit *im, const uint32_t xyz[3])
{
    return im->octree ? tileset_morton3(xyz[0], xyz[1], xyz[2]) : tileset_morton2(xyz[0], xyz[1]);
}

static void implicit_make_contents(ct_tile *t, int local_level, const uint32_t local[3])
{
    const struct ct_implicit *im = t->implicit;
    if (!t->subtree || im->n_contents == 0)
        return;
    uint64_t m = morton(im, local);
    int n = 0;
    for (int i = 0; i < im->n_contents; i++)
        if (ct_subtree_content_available(t->subtree, i, local_level, m))
            n++;
    if (!n)
        return;
    t->contents = ct_calloc_array((size_t)n, sizeof *t->contents);
    if (!t->contents)
        return;
    for (int i = 0; i < im->n_contents; i++) {
        if (!ct_subtree_content_available(t->subtree, i, local_level, m))
            continue;
        ct_tileset_content *ct = &t->contents[t->n_contents++];
        ct->uri = ct_uri_template(im->content_uris[i], t->implicit_level, t->implicit_xyz[0], t->implicit_xyz[1],
                                  t->implicit_xyz[2]);
        ct->group = im->content_groups[i];
        ct->lru_prev = -1;
    }
}

void tileset_implicit_attach_subtree(tileset_build_ctx *c, ct_tile *t, ct_subtree *st)
{
    t->own_subtree = st;
    t->subtree = st;
    uint32_t zero[3] = {0, 0, 0};
    if (!ct_subtree_tile_available(st, 0, 0))
        tileset_problem(c, CT_TILESET_WARNING, "%s: subtree root tile level %d is not available",
                        t->implicit->label, t->implicit_level);
    implicit_make_contents(t, 0, zero);
}

void tileset_implicit_expand(tileset_build_ctx *c, ct_tile *t)
{
    if (t->expanded || !t->implicit || !t->subtree)
        return;
    const struct ct_implicit *im = t->implicit;
    t->expanded = true;
    if (t->implicit_level + 1 >= im->available_levels || t->depth + 1 > c->max_depth)
        return;
    uint32_t local[3];
    int l = tileset_implicit_local(t, local);
    int nch = im->octree ? 8 : 4;
    bool avail[8] = {0};
    int n = 0;
    bool next_is_subtree_root = (l + 1 == im->subtree_levels);
    for (int i = 0; i < nch; i++) {
        uint32_t cl[3] = {2 * local[0] + (i & 1), 2 * local[1] + ((i >> 1) & 1), 2 * local[2] + ((i >> 2) & 1)};
        if (!im->octree)
            cl[2] = 0;
        uint64_t m = morton(im, cl);
        avail[i] = next_is_subtree_root ? ct_subtree_child_available(t->subtree, m)
                                        : ct_subtree_tile_available(t->subtree, l + 1, m);
        n += avail[i];
    }
    if (!n)
        return;
    t->children = new_children(c, n);
    if (!t->children)
        return;
    for (int i = 0, k = 0; i < nch; i++) {
        if (!avail[i])
            continue;
        uint32_t xyz[3] = {2 * t->implicit_xyz[0] + (i & 1), 2 * t->implicit_xyz[1] + ((i >> 1) & 1),
                           im->octree ? 2 * t->implicit_xyz[2] + ((i >> 2) & 1) : 0};
        ct_tile *ch = &t->children[k++];
        implicit_init_tile(c, t, ch, t->implicit_level + 1, xyz);
        if (!next_is_subtree_root) {
            ch->subtree = t->subtree;
            uint32_t cl[3] = {2 * local[0] + (i & 1), 2 * local[1] + ((i >> 1) & 1),
                              im->octree ? 2 * local[2] + ((i >> 2) & 1) : 0};
            implicit_make_contents(ch, l + 1, cl);
        }
    }
    t->n_children = n;
}

/* ---- freeing ---- */

static void free_content(ct_tile *t, ct_tileset_content *ct, tileset_release_fn release, void *user)
{
    if (release)
        release(user, t, ct);
    free(ct->uri);
    free(ct->metadata_json);
    free(ct->error);
    memset(ct, 0, sizeof *ct);
}

void tileset_tile_free_children(ct_tile *t, tileset_release_fn release, void *user, size_t *node_count)
{
    for (int i = 0; i < t->n_children; i++) {
        tileset_tile_free_children(&t->children[i], release, user, node_count);
        tileset_tile_free_fields(&t->children[i], release, user);
    }
    if (node_count)
        *node_count -= (size_t)t->n_children;
    free(t->children);
    t->children = NULL;
    t->n_children = 0;
}

void tileset_tile_free_fields(ct_tile *t, tileset_release_fn release, void *user)
{
    for (int i = 0; i < t->n_contents; i++)
        free_content(t, &t->contents[i], release, user);
    free(t->contents);
    t->contents = NULL;
    t->n_contents = 0;
    if (release)
        release(user, t, &t->expansion);
    free(t->expansion.uri);
    free(t->expansion.error);
    memset(&t->expansion, 0, sizeof t->expansion);
    t->expansion.lru_prev = -1;
    free(t->metadata_json);
    t->metadata_json = NULL;
    free(t->path);
    t->path = NULL;
    if (t->own_subtree) {
        ct_subtree_destroy(t->own_subtree);
        t->own_subtree = NULL;
        t->subtree = NULL;
    }
    if (t->implicit && t->implicit->owner == t) {
        struct ct_implicit *im = t->implicit;
        free(im->subtree_uri);
        for (int i = 0; i < im->n_contents; i++)
            free(im->content_uris[i]);
        free(im->content_uris);
        free(im->content_groups);
        free(im->label);
        free(im);
        t->implicit = NULL;
    }
}
