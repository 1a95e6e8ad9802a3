/* Implicit tiling subtrees: binary .subtree ("subt" header + JSON + binary
 * chunk) and plain JSON subtrees with external buffers. Parsed and checked
 * against the 3D Tiles 1.1 rules (the same ones 3d-tiles-validator applies):
 * buffers/bufferViews, exactly one of bitstream/constant, bitstream lengths,
 * availableCount, tile-parent and content-tile consistency, metadata indices. */
#include "tileset_internal.h"

#include "citytwin/ct_tile_content.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct avail {
    int constant;            /* 0/1, or -1 for a bitstream */
    const uint8_t *bits;
    uint64_t nbits;
} avail;

struct ct_subtree {
    int octree, levels;
    avail tile, child;
    avail *content;
    int n_content;
    uint8_t **buffers;
    size_t *buffer_sizes;
    int n_buffers;
    /* metadata: the propertyTables JSON, the buffer views they index (into
     * buffers), tileMetadata (-1 none) and contentMetadata[n_content] (-1 none) */
    cJSON *tables;
    ct_byte_view *views;
    int n_views;
    int tile_metadata;
    int *content_metadata;
};

uint64_t tileset_morton2(uint32_t x, uint32_t y)
{
    uint64_t m = 0;
    for (int i = 0; i < 32; i++)
        m |= ((uint64_t)((x >> i) & 1) << (2 * i)) | ((uint64_t)((y >> i) & 1) << (2 * i + 1));
    return m;
}

uint64_t tileset_morton3(uint32_t x, uint32_t y, uint32_t z)
{
    uint64_t m = 0;
    for (int i = 0; i < 21; i++)
        m |= ((uint64_t)((x >> i) & 1) << (3 * i)) | ((uint64_t)((y >> i) & 1) << (3 * i + 1)) |
             ((uint64_t)((z >> i) & 1) << (3 * i + 2));
    return m;
}

/* Number of tiles in levels [0, levels) and the first index of a level. */
static uint64_t level_offset(int octree, int level)
{
    uint64_t n = octree ? 8 : 4, p = 1, sum = 0;
    for (int i = 0; i < level; i++) {
        sum += p;
        p *= n;
    }
    return sum;
}

static bool bit_get(const avail *a, uint64_t i)
{
    if (a->constant >= 0)
        return a->constant != 0;
    if (i >= a->nbits)
        return false;
    return (a->bits[i >> 3] >> (i & 7)) & 1;
}

bool ct_subtree_tile_available(const ct_subtree *st, int level, uint64_t m)
{
    if (level < 0 || level >= st->levels)
        return false;
    uint64_t per_level = (uint64_t)1 << ((st->octree ? 3 : 2) * level);
    if (m >= per_level)
        return false;
    return bit_get(&st->tile, level_offset(st->octree, level) + m);
}

bool ct_subtree_content_available(const ct_subtree *st, int content, int level, uint64_t m)
{
    if (content < 0 || content >= st->n_content || level < 0 || level >= st->levels)
        return false;
    uint64_t per_level = (uint64_t)1 << ((st->octree ? 3 : 2) * level);
    if (m >= per_level)
        return false;
    return bit_get(&st->content[content], level_offset(st->octree, level) + m);
}

bool ct_subtree_child_available(const ct_subtree *st, uint64_t m)
{
    return m < st->child.nbits && bit_get(&st->child, m);
}

int ct_subtree_content_count(const ct_subtree *st) { return st->n_content; }

void ct_subtree_destroy(ct_subtree *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n_buffers; i++)
        free(st->buffers[i]);
    free(st->buffers);
    free(st->buffer_sizes);
    free(st->content);
    cJSON_Delete(st->tables);
    free(st->views);
    free(st->content_metadata);
    free(st);
}

static bool is_index(const cJSON *j, double limit)
{
    return cJSON_IsNumber(j) && j->valuedouble >= 0 && j->valuedouble == floor(j->valuedouble) &&
           j->valuedouble < limit;
}

typedef struct view { const uint8_t *p; size_t n; } view;

static ct_status read_avail(const cJSON *j, const char *what, const view *views, int n_views, uint64_t nbits,
                            avail *a, const char *label, ct_error *err)
{
    if (!cJSON_IsObject(j))
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s: must be an object", label, what);
    const cJSON *bs = cJSON_GetObjectItemCaseSensitive(j, "bitstream");
    if (!bs)
        bs = cJSON_GetObjectItemCaseSensitive(j, "bufferView"); /* 3DTILES_implicit_tiling draft */
    const cJSON *cst = cJSON_GetObjectItemCaseSensitive(j, "constant");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(j, "availableCount");
    if (bs && cst)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s: has both bitstream and constant", label, what);
    if (!bs && !cst)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s: needs bitstream or constant", label, what);
    uint64_t ones = 0;
    if (cst) {
        if (!cJSON_IsNumber(cst))
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.constant: must be an integer", label, what);
        if (cst->valuedouble != 0 && cst->valuedouble != 1)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.constant: must be 0 or 1 (got %g)", label, what,
                                cst->valuedouble);
        a->constant = (int)cst->valuedouble;
        a->nbits = nbits;
        ones = a->constant ? nbits : 0;
    } else {
        if (!cJSON_IsNumber(bs))
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.bitstream: must be an integer", label, what);
        if (!is_index(bs, n_views))
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.bitstream: %g is not a valid bufferView index (%d views)",
                                label, what, bs->valuedouble, n_views);
        const view *v = &views[(int)bs->valuedouble];
        uint64_t need = (nbits + 7) / 8;
        if (v->n != need)
            return ct_error_set(err, CT_ERR_INPUT,
                                "%s: %s.bitstream: bufferView %d has %zu bytes, %llu bits need exactly %llu", label,
                                what, (int)bs->valuedouble, v->n, (unsigned long long)nbits,
                                (unsigned long long)need);
        a->constant = -1;
        a->bits = v->p;
        a->nbits = nbits;
        for (uint64_t i = 0; i < nbits; i++)
            ones += (v->p[i >> 3] >> (i & 7)) & 1;
    }
    if (count) {
        if (!is_index(count, 1e18))
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.availableCount: must be an integer >= 0", label, what);
        if ((uint64_t)count->valuedouble != ones)
            return ct_error_set(err, CT_ERR_INPUT, "%s: %s.availableCount: says %.0f but %llu are available", label,
                                what, count->valuedouble, (unsigned long long)ones);
    }
    return CT_OK;
}

static ct_status load_external_buffer(const char *base_uri, const char *uri, tileset_fetcher *f,
                                      const tileset_fetch_opts *fo, uint8_t **data, size_t *size, ct_error *err)
{
    char *abs = ct_uri_resolve(base_uri, uri);
    if (!abs)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    bool retry = false;
    ct_status st = tileset_fetch(f, fo, abs, data, size, &retry, err);
    free(abs);
    return st;
}

static ct_status parse_json_part(ct_subtree *st, const cJSON *doc, const uint8_t *bin, size_t bin_size,
                                 const char *base_uri, tileset_fetcher *f, const tileset_fetch_opts *fo,
                                 const char *label, ct_error *err)
{
    const cJSON *buffers = cJSON_GetObjectItemCaseSensitive(doc, "buffers");
    const cJSON *views_j = cJSON_GetObjectItemCaseSensitive(doc, "bufferViews");
    int nb = 0, nv = 0;
    if (buffers) {
        if (!cJSON_IsArray(buffers) || cJSON_GetArraySize(buffers) < 1)
            return ct_error_set(err, CT_ERR_INPUT, "%s: buffers: must be a non-empty array", label);
        nb = cJSON_GetArraySize(buffers);
    }
    if (views_j) {
        if (!cJSON_IsArray(views_j) || cJSON_GetArraySize(views_j) < 1)
            return ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews: must be a non-empty array", label);
        if (!buffers)
            return ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews: present but there are no buffers", label);
        nv = cJSON_GetArraySize(views_j);
    }
    if (nb > 1024 || nv > 65536)
        return ct_error_set(err, CT_ERR_INPUT, "%s: too many buffers or bufferViews", label);
    st->buffers = ct_calloc_array((size_t)nb + 1, sizeof *st->buffers);
    st->buffer_sizes = ct_calloc_array((size_t)nb + 1, sizeof *st->buffer_sizes);
    if (!st->buffers || !st->buffer_sizes)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    bool used_bin = false;
    for (int i = 0; i < nb; i++) {
        const cJSON *b = cJSON_GetArrayItem(buffers, i);
        const cJSON *len = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "byteLength") : NULL;
        const cJSON *uri = cJSON_IsObject(b) ? cJSON_GetObjectItemCaseSensitive(b, "uri") : NULL;
        if (!is_index(len, 1e15) || len->valuedouble < 1)
            return ct_error_set(err, CT_ERR_INPUT, "%s: buffers[%d].byteLength: must be an integer >= 1", label, i);
        size_t want = (size_t)len->valuedouble;
        uint8_t *data = NULL;
        size_t size = 0;
        if (uri) {
            if (!cJSON_IsString(uri))
                return ct_error_set(err, CT_ERR_INPUT, "%s: buffers[%d].uri: must be a string", label, i);
            if (!base_uri)
                return ct_error_set(err, CT_ERR_INPUT, "%s: buffers[%d].uri: external buffer but no base URI", label,
                                    i);
            if (load_external_buffer(base_uri, uri->valuestring, f, fo, &data, &size, err))
                return ct_error_prefix(err, "%s: buffers[%d]: ", label, i);
        } else {
            if (used_bin || !bin)
                return ct_error_set(err, CT_ERR_INPUT, "%s: buffers[%d]: no uri and no binary chunk for it", label, i);
            used_bin = true;
            size = bin_size;
            data = malloc(size ? size : 1);
            if (!data)
                return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            memcpy(data, bin, size);
        }
        st->buffers[i] = data;
        st->buffer_sizes[i] = size;
        st->n_buffers = i + 1;
        if (size < want)
            return ct_error_set(err, CT_ERR_INPUT, "%s: buffers[%d]: byteLength %zu but only %zu bytes available",
                                label, i, want, size);
        st->buffer_sizes[i] = want;
    }
    view *views = ct_calloc_array((size_t)nv + 1, sizeof *views);
    if (!views)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    ct_status s = CT_OK;
    for (int i = 0; i < nv && !s; i++) {
        const cJSON *v = cJSON_GetArrayItem(views_j, i);
        const cJSON *buf = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "buffer") : NULL;
        const cJSON *off = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "byteOffset") : NULL;
        const cJSON *len = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "byteLength") : NULL;
        if (!is_index(buf, nb))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews[%d].buffer: not a valid buffer index", label, i);
        else if (off && !is_index(off, 1e15))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews[%d].byteOffset: must be an integer >= 0", label, i);
        else if (!is_index(len, 1e15) || len->valuedouble < 1)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews[%d].byteLength: must be an integer >= 1", label, i);
        else {
            int b = (int)buf->valuedouble;
            size_t o = off ? (size_t)off->valuedouble : 0, n = (size_t)len->valuedouble;
            if (o > st->buffer_sizes[b] || n > st->buffer_sizes[b] - o)
                s = ct_error_set(err, CT_ERR_INPUT, "%s: bufferViews[%d]: bytes %zu..%zu outside buffer %d (%zu bytes)",
                                 label, i, o, o + n, b, st->buffer_sizes[b]);
            else
                views[i] = (view){st->buffers[b] + o, n};
        }
    }
    uint64_t ntiles = level_offset(st->octree, st->levels);
    uint64_t nchild = (uint64_t)1 << ((st->octree ? 3 : 2) * st->levels);
    if (!s) {
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(doc, "tileAvailability");
        if (!ta)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: tileAvailability: missing", label);
        else
            s = read_avail(ta, "tileAvailability", views, nv, ntiles, &st->tile, label, err);
    }
    if (!s) {
        const cJSON *ca = cJSON_GetObjectItemCaseSensitive(doc, "childSubtreeAvailability");
        if (!ca)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: childSubtreeAvailability: missing", label);
        else
            s = read_avail(ca, "childSubtreeAvailability", views, nv, nchild, &st->child, label, err);
    }
    const cJSON *cas = cJSON_GetObjectItemCaseSensitive(doc, "contentAvailability");
    if (!s && cas) {
        if (cJSON_IsObject(cas)) { /* draft extension: a single object */
            st->content = calloc(1, sizeof *st->content);
            if (!st->content)
                s = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            else if (!(s = read_avail(cas, "contentAvailability", views, nv, ntiles, &st->content[0], label, err)))
                st->n_content = 1;
        } else if (!cJSON_IsArray(cas) || cJSON_GetArraySize(cas) < 1) {
            s = ct_error_set(err, CT_ERR_INPUT, "%s: contentAvailability: must be a non-empty array", label);
        } else {
            int n = cJSON_GetArraySize(cas);
            st->content = ct_calloc_array((size_t)n, sizeof *st->content);
            if (!st->content)
                s = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            for (int i = 0; i < n && !s; i++) {
                char what[64];
                snprintf(what, sizeof what, "contentAvailability[%d]", i);
                s = read_avail(cJSON_GetArrayItem(cas, i), what, views, nv, ntiles, &st->content[i], label, err);
                if (!s)
                    st->n_content = i + 1;
            }
        }
    }
    /* metadata indices (values themselves are left to the metadata reader) */
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(doc, "propertyTables");
    int npt = 0;
    if (!s && pt) {
        if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) < 1)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: propertyTables: must be a non-empty array", label);
        else {
            npt = cJSON_GetArraySize(pt);
            for (int i = 0; i < npt && !s; i++)
                if (!cJSON_IsObject(cJSON_GetArrayItem(pt, i)))
                    s = ct_error_set(err, CT_ERR_INPUT, "%s: propertyTables[%d]: must be an object", label, i);
        }
    }
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(doc, "tileMetadata");
    if (!s && tm) {
        if (!cJSON_IsNumber(tm))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: tileMetadata: must be an integer", label);
        else if (!pt)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: tileMetadata: present but there are no propertyTables", label);
        else if (!is_index(tm, npt))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: tileMetadata: %g is not a valid propertyTables index", label,
                             tm->valuedouble);
    }
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(doc, "contentMetadata");
    if (!s && cm) {
        if (!cJSON_IsArray(cm))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: contentMetadata: must be an array", label);
        else if (!pt)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: contentMetadata: present but there are no propertyTables", label);
        else {
            int i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, cm)
            {
                if (!s && !cJSON_IsNumber(e))
                    s = ct_error_set(err, CT_ERR_INPUT, "%s: contentMetadata[%d]: must be an integer", label, i);
                else if (!s && !is_index(e, npt))
                    s = ct_error_set(err, CT_ERR_INPUT, "%s: contentMetadata[%d]: %g is not a valid propertyTables index",
                                     label, i, e->valuedouble);
                i++;
            }
            if (!s && cJSON_GetArraySize(cm) != st->n_content)
                s = ct_error_set(err, CT_ERR_INPUT, "%s: contentMetadata: has %d entries for %d contentAvailability",
                                 label, cJSON_GetArraySize(cm), st->n_content);
        }
    }
    /* consistency: an available tile's parent is available; content only on
     * available tiles; child subtrees only below available tiles */
    if (!s && st->tile.constant < 0) {
        int shift = st->octree ? 3 : 2;
        for (int l = 1; l < st->levels && !s; l++) {
            uint64_t off = level_offset(st->octree, l), poff = level_offset(st->octree, l - 1);
            uint64_t n = (uint64_t)1 << (shift * l);
            for (uint64_t m = 0; m < n; m++)
                if (bit_get(&st->tile, off + m) && !bit_get(&st->tile, poff + (m >> shift))) {
                    s = ct_error_set(err, CT_ERR_INPUT,
                                     "%s: tileAvailability: tile at level %d index %llu is available but its parent "
                                     "is not",
                                     label, l, (unsigned long long)m);
                    break;
                }
        }
    }
    for (int c = 0; c < st->n_content && !s; c++)
        for (uint64_t i = 0; st->content[c].constant < 0 && i < ntiles; i++)
            if (bit_get(&st->content[c], i) && !bit_get(&st->tile, i)) {
                s = ct_error_set(err, CT_ERR_INPUT,
                                 "%s: contentAvailability[%d]: content at bit %llu but the tile is not available", label,
                                 c, (unsigned long long)i);
                break;
            }
    if (!s && st->child.constant < 0) {
        int shift = st->octree ? 3 : 2;
        uint64_t poff = level_offset(st->octree, st->levels - 1);
        for (uint64_t m = 0; m < nchild; m++)
            if (bit_get(&st->child, m) && !bit_get(&st->tile, poff + (m >> shift))) {
                s = ct_error_set(err, CT_ERR_INPUT,
                                 "%s: childSubtreeAvailability: child subtree %llu below an unavailable tile", label,
                                 (unsigned long long)m);
                break;
            }
    }
    /* keep what the metadata reader needs (the views point into st->buffers) */
    st->tile_metadata = -1;
    if (!s && pt) {
        st->tables = cJSON_Duplicate(pt, true);
        st->views = ct_calloc_array((size_t)nv + 1, sizeof *st->views);
        st->content_metadata = ct_calloc_array((size_t)st->n_content + 1, sizeof *st->content_metadata);
        if (!st->tables || !st->views || !st->content_metadata)
            s = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        for (int i = 0; !s && i < nv; i++)
            st->views[i] = (ct_byte_view){views[i].p, views[i].n};
        st->n_views = nv;
        st->tile_metadata = tm ? (int)tm->valuedouble : -1;
        for (int i = 0; !s && i < st->n_content; i++) {
            const cJSON *e = cJSON_GetArrayItem(cm, i);
            st->content_metadata[i] = cJSON_IsNumber(e) ? (int)e->valuedouble : -1;
        }
    }
    free(views);
    return s;
}

/* Number of available bits before bit i: metadata of available tiles (and
 * contents) is tightly packed by increasing tile index (3D Tiles 1.1,
 * implicit tiling, "Tile metadata" / "Content metadata"). */
static uint64_t avail_rank(const avail *a, uint64_t i)
{
    if (a->constant >= 0)
        return a->constant ? i : 0;
    uint64_t r = 0, n = i < a->nbits ? i : a->nbits;
    for (uint64_t k = 0; k < n; k++)
        r += (a->bits[k >> 3] >> (k & 7)) & 1;
    return r;
}

char *ct_subtree_metadata_json(const ct_subtree *st, const char *schema_json, int content, int level,
                               uint64_t morton, const char *where)
{
    if (!st || !st->tables)
        return NULL;
    int table = -1;
    const avail *a = NULL;
    if (content < 0) {
        table = st->tile_metadata;
        a = &st->tile;
    } else if (content < st->n_content) {
        table = st->content_metadata[content];
        a = &st->content[content];
    }
    bool ok = content < 0 ? ct_subtree_tile_available(st, level, morton)
                          : ct_subtree_content_available(st, content, level, morton);
    if (table < 0 || !ok)
        return NULL;
    uint64_t row = avail_rank(a, level_offset(st->octree, level) + morton);
    where = where ? where : "subtree";
    cJSON *schema = schema_json ? cJSON_Parse(schema_json) : NULL;
    ct_property_tables *pt = NULL;
    ct_error err;
    char *out = NULL;
    if (ct_property_tables_create(schema, st->tables, st->views, (uint32_t)st->n_views, where, &pt, &err)) {
        ct_log(CT_LOG_WARN, "%s", err.msg);
    } else if (row >= ct_property_tables_rows(pt, (uint32_t)table)) {
        /* count too small for the available tiles: CesiumJS reads nothing there either */
        ct_log(CT_LOG_WARN, "%s: propertyTables[%d]: %s %llu of level %d is row %llu, but the table has %u rows", where,
               table, content < 0 ? "tile" : "content", (unsigned long long)morton, level, (unsigned long long)row,
               ct_property_tables_rows(pt, (uint32_t)table));
    } else {
        cJSON *o = cJSON_CreateObject();
        const char *cls = ct_property_tables_class(pt, (uint32_t)table);
        if (cls)
            cJSON_AddStringToObject(o, "class", cls);
        cJSON *props = ct_property_tables_row(pt, (uint32_t)table, (uint32_t)row);
        cJSON_AddItemToObject(o, "properties", props ? props : cJSON_CreateObject());
        out = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
    }
    ct_property_tables_destroy(pt);
    cJSON_Delete(schema);
    return out;
}

char *ct_tileset_implicit_metadata_json(const ct_tileset *ts, const ct_tile *t, int content_index)
{
    if (!t || t->kind != CT_TILE_IMPLICIT || !t->subtree || !t->implicit)
        return NULL;
    uint32_t local[3];
    int level = tileset_implicit_local(t, local);
    uint64_t m = t->implicit->octree ? tileset_morton3(local[0], local[1], local[2]) : tileset_morton2(local[0], local[1]);
    int content = -1;
    if (content_index >= 0) { /* t->contents holds only the available ones, in order */
        for (int i = 0, k = 0; i < t->implicit->n_contents && content < 0; i++)
            if (ct_subtree_content_available(t->subtree, i, level, m) && k++ == content_index)
                content = i;
        if (content < 0)
            return NULL;
    }
    char where[512];
    snprintf(where, sizeof where, "%s: subtree of level %d (%u,%u,%u)", t->implicit->label ? t->implicit->label : "?",
             t->implicit_level - level, t->implicit_xyz[0] >> level, t->implicit_xyz[1] >> level,
             t->implicit_xyz[2] >> level);
    return ct_subtree_metadata_json(t->subtree, ct_tileset_schema_json(ts), content, level, m, where);
}

static uint64_t rd_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

ct_status tileset_subtree_parse(const uint8_t *data, size_t size, const ct_implicit_desc *imp, const char *base_uri,
                                tileset_fetcher *f, const tileset_fetch_opts *fo, ct_subtree **out, ct_error *err)
{
    *out = NULL;
    const char *label = base_uri ? tileset_uri_display(base_uri) : "subtree";
    if (imp->subtree_levels < 1 || imp->subtree_levels > (imp->octree ? 20 : 30))
        return ct_error_set(err, CT_ERR_INPUT, "%s: subtreeLevels %d out of range", label, imp->subtree_levels);
    /* a bitstream for 2^60 tiles cannot exist: refuse absurd levels before counting */
    ct_subtree *st = calloc(1, sizeof *st);
    if (!st)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    st->octree = imp->octree;
    st->levels = imp->subtree_levels;
    const uint8_t *json = data, *bin = NULL;
    size_t json_size = size, bin_size = 0;
    ct_status s = CT_OK;
    if (size >= 4 && !memcmp(data, "subt", 4)) {
        if (size < 24)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: byte 0: binary subtree header needs 24 bytes, file has %zu", label,
                             size);
        else {
            uint32_t version = data[4] | data[5] << 8 | data[6] << 16 | (uint32_t)data[7] << 24;
            uint64_t jl = rd_u64(data + 8), bl = rd_u64(data + 16);
            if (version != 1)
                s = ct_error_set(err, CT_ERR_INPUT, "%s: byte 4: version %u, expected 1", label, version);
            else if (jl % 8)
                s = ct_error_set(err, CT_ERR_INPUT, "%s: byte 8: jsonByteLength %llu is not a multiple of 8", label,
                                 (unsigned long long)jl);
            else if (bl % 8)
                s = ct_error_set(err, CT_ERR_INPUT, "%s: byte 16: binaryByteLength %llu is not a multiple of 8", label,
                                 (unsigned long long)bl);
            else if (jl > size - 24 || bl > size - 24 - jl || 24 + jl + bl != size)
                s = ct_error_set(err, CT_ERR_INPUT,
                                 "%s: byte 8: header lengths (24 + %llu + %llu) do not match the file size %zu", label,
                                 (unsigned long long)jl, (unsigned long long)bl, size);
            else {
                json = data + 24;
                json_size = (size_t)jl;
                bin = bl ? data + 24 + jl : NULL;
                bin_size = (size_t)bl;
            }
        }
    } else if (size >= 4 && (data[0] != '{' && data[0] != ' ' && data[0] != '\n' && data[0] != '\r' &&
                             data[0] != '\t' && !(data[0] == 0xEF && data[1] == 0xBB))) {
        s = ct_error_set(err, CT_ERR_INPUT, "%s: byte 0: not a subtree (magic is not \"subt\" and not JSON)", label);
    }
    cJSON *doc = NULL;
    if (!s) {
        const char *end = NULL;
        doc = cJSON_ParseWithLengthOpts((const char *)json, json_size, &end, false);
        if (!doc)
            s = ct_error_set(err, CT_ERR_INPUT, "%s: invalid subtree JSON near byte %zu", label,
                             (size_t)(end ? (const uint8_t *)end - data : 0));
        else if (!cJSON_IsObject(doc))
            s = ct_error_set(err, CT_ERR_INPUT, "%s: subtree JSON is not an object", label);
    }
    if (!s)
        s = parse_json_part(st, doc, bin, bin_size, base_uri, f, fo, label, err);
    cJSON_Delete(doc);
    if (s) {
        ct_subtree_destroy(st);
        return s;
    }
    *out = st;
    return CT_OK;
}

ct_status ct_subtree_parse(const uint8_t *data, size_t size, const ct_implicit_desc *imp, const char *base_uri,
                           const char *sandbox_dir, ct_subtree **out, ct_error *err)
{
    tileset_fetcher f = {0};
    tileset_fetch_opts fo = {.sandbox_dir = sandbox_dir};
    char *base = NULL;
    if (base_uri && !ct_uri_has_scheme(base_uri) && base_uri[0] == '/')
        base = tileset_path_to_uri(base_uri);
    ct_status s = tileset_subtree_parse(data, size, imp, base ? base : base_uri, &f, &fo, out, err);
    free(base);
    tileset_fetcher_cleanup(&f);
    return s;
}
