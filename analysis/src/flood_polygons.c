/* Extent polygons of a depth raster without GDALPolygonize: one scan over the
 * grid finds each boundary ring at its topmost-leftmost edge and follows the
 * cracks between wet and dry cells around it (every boundary edge once; only
 * the corners where the direction changes are kept).
 *
 * Wet cells (not NAN) are 4-connected, dry cells 8-connected, as
 * GDALPolygonize's default. At a "saddle" corner (two wet cells touching only
 * diagonally) the tracer turns towards the wet cell it follows, so regions
 * that touch at a corner get separate rings. When both wet cells belong to
 * the same region the ring passes that corner twice (an "inverted" ring that
 * GEOS rejects); it is split there into two simple rings touching at the
 * corner: the outer one is the exterior, the other a hole, as OGC wants.
 *
 * Holes are given to their region without a label image: a hole ring found
 * at edge (column c, row r) has the wet cell (c, r-1) above it; the run of
 * wet cells of row r-1 through it starts at a vertical edge with dry on its
 * left, which lies on a ring of the same region that was found earlier in
 * the scan (the region's exterior or another of its holes). After tracing,
 * one pass over the vertical segments of all rings finds those owners.
 *
 * Memory: one bit per horizontal cell edge (visited), two row buffers and
 * the ring corners. */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Moves: east, south, west, north (row numbers grow southwards). */
static const int DX[4] = {1, 0, -1, 0}, DY[4] = {0, 1, 0, -1};
/* The cells around corner (x, y), clockwise: NW, NE, SE, SW. Walking in
 * direction d, the cell ahead-left is quad (d+1)&3, ahead-right (d+2)&3. */
static const int QX[4] = {-1, 0, 0, -1}, QY[4] = {-1, -1, 0, 0};

typedef struct corner {
    int32_t x, y;
} corner;

typedef struct corners {
    corner *v;
    uint8_t *saddle; /* only used for the ring being traced */
    size_t n, cap;
} corners;

typedef struct piece { /* one output ring */
    size_t start, count;
    int traced;    /* the traced ring it comes from */
    int64_t area2; /* twice the signed area in cells: > 0 exterior, < 0 hole */
} piece;

typedef struct traced {
    bool hole; /* found at an edge with wet above (a hole) or below (an exterior) */
    int owner; /* hole: the traced ring of the same region found earlier; -1 until known */
    int region;
} traced;

typedef struct query { /* the left edge of the wet run above a hole */
    int32_t x, y;
    int hole;
} query;

typedef struct saddle_map { /* corner -> stack position, reset per ring by generation */
    uint64_t *key;
    size_t *pos;
    uint32_t *gen;
    size_t cap;
    uint32_t cur;
} saddle_map;

typedef struct builder {
    const float *d;
    int w, h;
    uint64_t *visited; /* (h + 1) x w bits: horizontal edge above cell (x, y) */
    corners ring;      /* the ring being traced */
    corners stack;     /* splitting the ring at repeated corners */
    corners out;       /* all output rings' corners */
    piece *pieces;
    size_t n_pieces, cap_pieces;
    traced *traced;
    size_t n_traced, cap_traced;
    query *queries;
    size_t n_queries, cap_queries;
    saddle_map map;
} builder;

static inline bool wet_at(const builder *b, int x, int y)
{
    return x >= 0 && y >= 0 && x < b->w && y < b->h && !isnan(b->d[(size_t)y * b->w + x]);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static bool corners_push(corners *c, int32_t x, int32_t y, bool saddle, bool with_flags)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        corner *v = realloc(c->v, cap * sizeof *v);
        if (!v)
            return false;
        c->v = v;
        if (with_flags) {
            uint8_t *s = realloc(c->saddle, cap);
            if (!s)
                return false;
            c->saddle = s;
        }
        c->cap = cap;
    }
    c->v[c->n] = (corner){x, y};
    if (with_flags)
        c->saddle[c->n] = saddle;
    c->n++;
    return true;
}

/* Follows the ring through the edge leaving corner (sx, sy) in direction d0,
 * wet cells on the right, into b->ring (corners where the direction changes,
 * saddles flagged). Marks the horizontal edges it walks as visited. */
static bool ring_trace(builder *b, int sx, int sy, int d0)
{
    b->ring.n = 0;
    int x = sx, y = sy, d = d0;
    for (;;) {
        if (d == 0)
            b->visited[((size_t)y * b->w + x) >> 6] |= 1ull << (((size_t)y * b->w + x) & 63);
        else if (d == 2)
            b->visited[((size_t)y * b->w + x - 1) >> 6] |= 1ull << (((size_t)y * b->w + x - 1) & 63);
        x += DX[d];
        y += DY[d];
        int l = (d + 1) & 3, r = (d + 2) & 3;
        bool wr = wet_at(b, x + QX[r], y + QY[r]);
        int nd = d;
        if (!wr) { /* turn right around the wet cell we follow (also at a saddle) */
            nd = (d + 1) & 3;
            bool wl = wet_at(b, x + QX[l], y + QY[l]);
            if (!corners_push(&b->ring, x, y, wl, true))
                return false;
        } else if (wet_at(b, x + QX[l], y + QY[l])) {
            nd = (d + 3) & 3;
            if (!corners_push(&b->ring, x, y, false, true))
                return false;
        }
        d = nd;
        if (x == sx && y == sy && d == d0)
            return true;
    }
}

static bool map_reset(saddle_map *m, size_t need)
{
    if (m->cap < 2 * need || !m->cap) {
        size_t cap = 64;
        while (cap < 2 * need)
            cap *= 2;
        free(m->key);
        free(m->pos);
        free(m->gen);
        m->key = malloc(cap * sizeof *m->key);
        m->pos = malloc(cap * sizeof *m->pos);
        m->gen = calloc(cap, sizeof *m->gen);
        m->cap = cap;
        m->cur = 0;
        if (!m->key || !m->pos || !m->gen)
            return false;
    }
    if (++m->cur == 0) { /* generation wrapped: clear */
        memset(m->gen, 0, m->cap * sizeof *m->gen);
        m->cur = 1;
    }
    return true;
}

static size_t *map_slot(saddle_map *m, corner c)
{
    uint64_t k = (uint64_t)(uint32_t)c.x << 32 | (uint32_t)c.y;
    size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
    while (m->gen[i] == m->cur && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (m->gen[i] != m->cur) {
        m->gen[i] = m->cur;
        m->key[i] = k;
        m->pos[i] = SIZE_MAX;
    }
    return &m->pos[i];
}

static bool piece_add(builder *b, const corner *v, size_t n, int t)
{
    if (!grow((void **)&b->pieces, &b->cap_pieces, b->n_pieces + 1, sizeof(piece)))
        return false;
    piece *p = &b->pieces[b->n_pieces++];
    p->start = b->out.n;
    p->count = n;
    p->traced = t;
    int64_t a = 0;
    for (size_t i = 0; i < n; i++) {
        corner c = v[i], e = v[i + 1 < n ? i + 1 : 0];
        a += (int64_t)c.x * e.y - (int64_t)e.x * c.y;
        if (!corners_push(&b->out, c.x, c.y, false, false))
            return false;
    }
    p->area2 = a;
    return true;
}

/* Splits the traced ring where it passes a saddle corner twice: the part
 * between the two passes becomes a ring of its own. */
static bool ring_split(builder *b, int t)
{
    size_t n_saddles = 0;
    for (size_t i = 0; i < b->ring.n; i++)
        n_saddles += b->ring.saddle[i];
    if (n_saddles < 2)
        return piece_add(b, b->ring.v, b->ring.n, t);
    if (!map_reset(&b->map, n_saddles))
        return false;
    corners *s = &b->stack;
    s->n = 0;
    for (size_t i = 0; i < b->ring.n; i++) {
        corner c = b->ring.v[i];
        if (b->ring.saddle[i]) {
            size_t *p = map_slot(&b->map, c);
            if (*p < s->n && s->v[*p].x == c.x && s->v[*p].y == c.y) {
                if (!piece_add(b, s->v + *p, s->n - *p, t))
                    return false;
                s->n = *p;
            }
            *p = s->n;
        }
        if (!corners_push(s, c.x, c.y, false, false))
            return false;
    }
    return piece_add(b, s->v, s->n, t);
}

static bool traced_add(builder *b, bool hole)
{
    if (!grow((void **)&b->traced, &b->cap_traced, b->n_traced + 1, sizeof(traced)))
        return false;
    b->traced[b->n_traced++] = (traced){.hole = hole, .owner = -1, .region = -1};
    return true;
}

static int query_cmp(const void *a, const void *b)
{
    const query *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

/* Finds, for each hole query (x, y), the ring holding the northward
 * vertical edge at column x through row y. */
static void owners_find(builder *b)
{
    if (!b->n_queries)
        return;
    qsort(b->queries, b->n_queries, sizeof(query), query_cmp);
    for (size_t k = 0; k < b->n_pieces; k++) {
        const piece *p = &b->pieces[k];
        const corner *v = b->out.v + p->start;
        for (size_t i = 0; i < p->count; i++) {
            corner c = v[i], e = v[i + 1 < p->count ? i + 1 : 0];
            if (c.x != e.x || e.y >= c.y)
                continue; /* not a northward segment: rows e.y .. c.y-1 */
            size_t lo = 0, hi = b->n_queries; /* first query >= (c.x, e.y) */
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const query *q = &b->queries[mid];
                if (q->x < c.x || (q->x == c.x && q->y < e.y))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (; lo < b->n_queries && b->queries[lo].x == c.x && b->queries[lo].y < c.y; lo++)
                b->traced[b->queries[lo].hole].owner = p->traced;
        }
    }
}

static void builder_free(builder *b)
{
    free(b->visited);
    free(b->ring.v);
    free(b->ring.saddle);
    free(b->stack.v);
    free(b->out.v);
    free(b->pieces);
    free(b->traced);
    free(b->queries);
    free(b->map.key);
    free(b->map.pos);
    free(b->map.gen);
}

void ct_flood_polygons_free(ct_flood_polygons *p)
{
    if (!p)
        return;
    free(p->ring_first);
    free(p->ring_start);
    free(p->ring_count);
    free(p->xy);
    free(p->cells);
    memset(p, 0, sizeof *p);
}

static ct_status oom(builder *b, uint8_t *rows, ct_error *err)
{
    free(rows);
    builder_free(b);
    return ct_error_set(err, CT_ERR_RUNTIME, "extent polygons: out of memory");
}

/* Fills the output from the pieces: regions in the order their exteriors
 * were found, exterior ring first. */
static ct_status polygons_assemble(builder *b, ct_flood_polygons *out, ct_error *err)
{
    int n_regions = 0;
    for (size_t t = 0; t < b->n_traced; t++) {
        traced *r = &b->traced[t];
        if (!r->hole) {
            r->region = n_regions++;
        } else if (r->owner >= 0 && (size_t)r->owner < t && b->traced[r->owner].region >= 0) {
            r->region = b->traced[r->owner].region;
        } else {
            return ct_error_set(err, CT_ERR_RUNTIME, "extent polygons: hole ring %zu has no region (internal error)",
                                t);
        }
    }
    out->n_polygons = n_regions;
    out->n_rings = (int)b->n_pieces;
    out->ring_first = calloc((size_t)n_regions + 1, sizeof(int));
    out->ring_start = ct_malloc_array(b->n_pieces + 1, sizeof(size_t));
    out->ring_count = ct_malloc_array(b->n_pieces + 1, sizeof(size_t));
    out->cells = calloc((size_t)n_regions + 1, sizeof(int64_t));
    int *fill = calloc((size_t)n_regions + 1, sizeof(int));
    if (!out->ring_first || !out->ring_start || !out->ring_count || !out->cells || !fill) {
        free(fill);
        return ct_error_set(err, CT_ERR_RUNTIME, "extent polygons: out of memory");
    }
    int *exterior = fill; /* first: exteriors per region, counted to check there is exactly one */
    for (size_t k = 0; k < b->n_pieces; k++) {
        const piece *p = &b->pieces[k];
        int reg = b->traced[p->traced].region;
        out->ring_first[reg + 1]++;
        out->cells[reg] += p->area2 / 2;
        if (p->area2 > 0) {
            if (b->traced[p->traced].hole || exterior[reg]++) {
                free(fill);
                return ct_error_set(err, CT_ERR_RUNTIME,
                                    "extent polygons: region %d has a second exterior ring (internal error)", reg);
            }
        }
    }
    for (int r = 0; r < n_regions; r++) {
        if (exterior[r] != 1) {
            free(fill);
            return ct_error_set(err, CT_ERR_RUNTIME, "extent polygons: region %d has no exterior ring (internal error)",
                                r);
        }
        out->ring_first[r + 1] += out->ring_first[r];
    }
    for (int r = 0; r < n_regions; r++)
        fill[r] = 1; /* slot 0 of each region is its exterior */
    for (size_t k = 0; k < b->n_pieces; k++) {
        const piece *p = &b->pieces[k];
        int reg = b->traced[p->traced].region;
        int slot = out->ring_first[reg] + (p->area2 > 0 ? 0 : fill[reg]++);
        out->ring_start[slot] = p->start;
        out->ring_count[slot] = p->count;
    }
    free(fill);
    out->xy = (int32_t *)b->out.v; /* corner is two int32: x, y */
    b->out.v = NULL;
    return CT_OK;
}

ct_status ct_flood_polygons_build(const ct_raster *r, ct_flood_polygons *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (r->width < 1 || r->height < 1)
        return CT_OK; /* no cells, no polygons */
    if (!r->data)
        return ct_error_set(err, CT_ERR_USAGE, "extent polygons: raster without data");
    builder b = {.d = r->data, .w = r->width, .h = r->height};
    size_t w = (size_t)r->width, h = (size_t)r->height;
    b.visited = calloc(((h + 1) * w + 63) / 64, sizeof(uint64_t));
    uint8_t *rows = calloc(2 * w, 1);
    if (!b.visited || !rows)
        return oom(&b, rows, err);
    uint8_t *above = rows, *below = rows + w;
    /* Row boundary y lies between rows y-1 (above) and y (below). */
    for (size_t y = 0; y <= h; y++) {
        if (y < h) {
            const float *row = r->data + y * w;
            for (size_t x = 0; x < w; x++)
                below[x] = !isnan(row[x]);
        } else {
            memset(below, 0, w);
        }
        long last_dry = -1; /* in the row above */
        for (size_t x = 0; x < w; x++) {
            uint8_t a = above[x], c = below[x];
            if (!a)
                last_dry = (long)x;
            if (a == c)
                continue;
            size_t bit = y * w + x;
            if (b.visited[bit >> 6] >> (bit & 63) & 1)
                continue;
            int t = (int)b.n_traced;
            if (b.n_traced >= INT32_MAX - 1 || !traced_add(&b, !c))
                return oom(&b, rows, err);
            if (c) { /* wet below: the exterior of a region, walked eastwards */
                if (!ring_trace(&b, (int)x, (int)y, 0))
                    return oom(&b, rows, err);
            } else { /* wet above: a hole, walked westwards */
                if (!grow((void **)&b.queries, &b.cap_queries, b.n_queries + 1, sizeof(query)))
                    return oom(&b, rows, err);
                b.queries[b.n_queries++] = (query){(int32_t)(last_dry + 1), (int32_t)y - 1, t};
                if (!ring_trace(&b, (int)x + 1, (int)y, 2))
                    return oom(&b, rows, err);
            }
            if (!ring_split(&b, t))
                return oom(&b, rows, err);
        }
        uint8_t *tmp = above;
        above = below;
        below = tmp;
    }
    free(rows);
    owners_find(&b);
    ct_status st = polygons_assemble(&b, out, err);
    builder_free(&b);
    if (st != CT_OK)
        ct_flood_polygons_free(out);
    return st;
}

size_t ct_flood_polygons_ring_world(const ct_flood_polygons *p, const double gt[6], int ring, double *x, double *y)
{
    size_t n = p->ring_count[ring];
    const int32_t *v = p->xy + 2 * p->ring_start[ring];
    /* The grid rings have exteriors positive with rows growing downwards; the
     * geotransform's determinant says whether the world flips that. */
    bool reverse = gt[1] * gt[5] - gt[2] * gt[4] < 0;
    for (size_t i = 0; i <= n; i++) {
        size_t k = i == n ? 0 : i;
        if (reverse)
            k = (n - k) % n;
        double cx = v[2 * k], cy = v[2 * k + 1];
        x[i] = gt[0] + cx * gt[1] + cy * gt[2];
        y[i] = gt[3] + cx * gt[4] + cy * gt[5];
    }
    return n + 1;
}
