/* Ponding of a rainfall depth: a depression hierarchy built by a priority
 * flood, then fill-spill-merge (after Barnes, Callaghan & Wickert 2020/21).
 *
 * 1. Labels: a priority flood (lowest ground first) seeded with every pit
 *    (a cell with no lower neighbour, one new leaf depression each) and with
 *    every edge or nodata-adjacent cell (the "ocean", label 0). Each cell
 *    takes the label of the neighbour that reached it; where two labels meet,
 *    the pair's lowest saddle (max of the two grounds) is kept.
 * 2. Hierarchy: saddles in rising order merge depressions Kruskal-style (a
 *    union-find): two depressions meeting at saddle e each spill at e, and
 *    become the children of a new metadepression; a depression meeting the
 *    ocean spills out of the map at e.
 * 3. Volumes: V_n(L) = sum over the cells of n's leaves below L of (L - z) A,
 *    from each leaf's sorted ground elevations with prefix sums.
 * 4. Fill-spill-merge: each leaf receives rain x its cells' area (its
 *    catchment). Water above a depression's spill volume overflows at the
 *    saddle into the depression on the other side (entering at the leaf the
 *    saddle touches); when both sides of a saddle are full, they merge and
 *    fill together up to the parent's spill; what reaches the ocean leaves.
 * 5. Levels: a full depression stands at its spill elevation, a partial one
 *    at the level whose volume equals its water (bisection); each cell takes
 *    the level of its highest merged ancestor. */
#include "citytwin/ct_flood.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct heap_item {
    float z;
    uint32_t seq, idx;
} heap_item;

typedef struct heap {
    heap_item *a;
    size_t n, cap;
} heap;

static inline bool item_less(const heap_item *x, const heap_item *y)
{
    return x->z < y->z || (x->z == y->z && x->seq < y->seq);
}

static bool heap_push(heap *h, heap_item it)
{
    if (h->n == h->cap && !ct_array_grow(&h->a, &h->cap, h->n + 1, sizeof *h->a))
        return false;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(&it, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = it;
    return true;
}

static heap_item heap_pop(heap *h)
{
    heap_item top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const heap_item *best = &last;
        if (l < h->n && item_less(&h->a[l], best))
            m = l, best = &h->a[l];
        if (r < h->n && item_less(&h->a[r], best))
            m = r;
        if (m == i)
            break;
        h->a[i] = h->a[m];
        i = m;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

typedef struct saddle {
    int a, b; /* leaf labels (a < b), 0 = ocean */
    float e;
} saddle;

static int cmp_pair(const void *x, const void *y)
{
    const saddle *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->b != q->b)
        return p->b < q->b ? -1 : 1;
    return p->e < q->e ? -1 : p->e > q->e ? 1 : 0;
}

static int cmp_elev(const void *x, const void *y)
{
    const saddle *p = x, *q = y;
    if (p->e != q->e)
        return p->e < q->e ? -1 : 1;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

typedef struct dnode {
    int parent;          /* node index; 0 = ocean (spills out of the map) */
    int ocean_link;      /* parent 0: leaf of an already drained depression its overflow enters, or 0 */
    int child[2];        /* -1 for leaves */
    int link[2];         /* leaf in child[k] where overflow from the other child enters */
    double spill;        /* elevation of the saddle where this node overflows */
    double cap;          /* volume at spill */
    double water;        /* stored (<= cap), merged nodes only hold the combined lake */
    bool merged;         /* internal node whose children are both full */
    double level;
    int first_leaf, n_leaves; /* leaves of this subtree: leaf_list[first_leaf ..] */
} dnode;

typedef struct pond {
    int n_nodes, n_leaves;
    dnode *nodes;        /* [0] ocean, [1..n_leaves] leaves, then metadepressions */
    /* per leaf: sorted ground elevations of its cells and prefix sums */
    size_t *leaf_off;    /* n_leaves + 2 offsets into zs */
    float *zs;
    double *zsum;        /* prefix sums, same indexing (zsum[i] = sum of zs[off..i)) */
    int *leaf_list;
    double area;
    double outflow;
} pond;

/* Volume below level L over one leaf's cells. */
static double leaf_volume(const pond *p, int leaf, double L)
{
    size_t a = p->leaf_off[leaf], b = p->leaf_off[leaf + 1];
    /* count of cells with z < L */
    size_t lo = a, hi = b;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (p->zs[m] < L)
            lo = m + 1;
        else
            hi = m;
    }
    size_t n = lo - a;
    double s = p->zsum[lo] - p->zsum[a];
    return (L * (double)n - s) * p->area;
}

static double node_volume(const pond *p, int node, double L)
{
    const dnode *d = &p->nodes[node];
    double v = 0;
    for (int i = 0; i < d->n_leaves; i++)
        v += leaf_volume(p, p->leaf_list[d->first_leaf + i], L);
    return v;
}

/* Adds water x at leaf `leaf`, climbing until it is absorbed or reaches
 * `stop` (exclusive: returns what overflows out of stop's child), or the
 * ocean (counted as outflow; returns 0). */
static double add_water(pond *p, int leaf, double x, int stop)
{
    int node = leaf;
    dnode *d = &p->nodes[node];
    d->water += x;
    double ov = d->water > d->cap ? d->water - d->cap : 0;
    if (ov > 0)
        d->water = d->cap;
    while (ov > 0) {
        int par = p->nodes[node].parent;
        if (par == stop)
            return ov;
        if (par == 0) {
            int to = p->nodes[node].ocean_link;
            if (to > 0) /* into a depression that drains out of the map at a lower saddle */
                return add_water(p, to, ov, -1);
            p->outflow += ov;
            return 0;
        }
        dnode *pp = &p->nodes[par];
        if (!pp->merged) {
            /* overflow enters the sibling at the saddle's leaf */
            int k = pp->child[0] == node ? 1 : 0;
            double ov2 = add_water(p, pp->link[k], ov, par);
            if (ov2 <= 0)
                return 0;
            /* both sides full: they merge and fill together */
            pp->merged = true;
            pp->water = p->nodes[pp->child[0]].cap + p->nodes[pp->child[1]].cap + ov2;
        } else {
            pp->water += ov;
        }
        ov = pp->water > pp->cap ? pp->water - pp->cap : 0;
        if (ov > 0)
            pp->water = pp->cap;
        node = par;
    }
    return 0;
}

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return a < b ? -1 : a > b;
}

/* Progress in steps of at least 1 % (a callback per cell would cost more
 * than the work). */
typedef struct pond_progress {
    ct_progress_fn fn;
    void *user;
    double last;
} pond_progress;

static void progress_at(pond_progress *pp, double f)
{
    if (!pp->fn || (f < 1 && f < pp->last + 0.01))
        return;
    pp->last = f;
    pp->fn(pp->user, f);
}

ct_status ct_flood_pond_run(const ct_raster *dem, double rain_mm, ct_raster **depth_out, ct_flood_pond_result *res,
                            ct_error *err)
{
    ct_flood_pond_desc d = {.dem = dem, .rain_mm = rain_mm};
    return ct_flood_pond_compute(&d, depth_out, res, err);
}

ct_status ct_flood_pond_compute(const ct_flood_pond_desc *desc, ct_raster **depth_out, ct_flood_pond_result *res,
                                ct_error *err)
{
    const ct_raster *dem = desc->dem;
    const double rain_mm = desc->rain_mm;
    pond_progress pp = {desc->progress, desc->progress_user, 0};
    *depth_out = NULL;
    memset(res, 0, sizeof *res);
    if (!(rain_mm >= 0) || !isfinite(rain_mm))
        return ct_error_set(err, CT_ERR_USAGE, "rain depth must be >= 0 mm");
    const int w = dem->width, h = dem->height;
    const size_t n = (size_t)w * h;
    if (n >= UINT32_MAX)
        return ct_error_set(err, CT_ERR_INPUT, "DEM too large");
    const float *z = dem->data;
    int *label = ct_malloc_array(n, sizeof(int));
    heap hp = {0};
    saddle *sad = NULL;
    size_t n_sad = 0, cap_sad = 0;
    pond p = {0};
    ct_status st = CT_OK;
    if (!label) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        goto done;
    }
    static const int dr[8] = {-1, -1, -1, 0, 0, 1, 1, 1}, dc[8] = {-1, 0, 1, -1, 1, -1, 0, 1};
    uint32_t seq = 0;
    int n_leaves = 0;
    /* Seeds: ocean at edge / nodata-adjacent cells, a new leaf at each pit. */
    size_t n_valid = 0;
    for (int r = 0; r < h; r++) {
        progress_at(&pp, 0.1 * r / h);
        for (int c = 0; c < w; c++) {
            size_t i = (size_t)r * w + c;
            label[i] = -1;
            if (isnan(z[i]))
                continue;
            n_valid++;
            bool edge = false, lower = false, flat_seeded = false;
            for (int k = 0; k < 8; k++) {
                int rr = r + dr[k], cc = c + dc[k];
                if (rr < 0 || rr >= h || cc < 0 || cc >= w || isnan(z[(size_t)rr * w + cc])) {
                    edge = true;
                    continue;
                }
                size_t j = (size_t)rr * w + cc;
                if (z[j] < z[i])
                    lower = true;
                /* a flat pit next to an already seeded one at the same height: the
                 * flood reaches it at that height anyway (fewer zero-volume leaves) */
                if (j < i && z[j] == z[i] && label[j] > 0)
                    flat_seeded = true;
            }
            if (edge || (!lower && !flat_seeded)) {
                label[i] = edge ? 0 : ++n_leaves;
                if (!heap_push(&hp, (heap_item){z[i], seq++, (uint32_t)i})) {
                    st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                    goto done;
                }
            }
        }
    }
    /* Priority flood: labels spread uphill; saddles where labels meet. Every
     * valid cell is popped once: the pops count the progress (0.1 .. 0.75). */
    size_t popped = 0, pop_step = n_valid / 64 + 1;
    while (hp.n) {
        heap_item it = heap_pop(&hp);
        if (pp.fn && ++popped % pop_step == 0)
            progress_at(&pp, 0.1 + 0.65 * (double)popped / (double)n_valid);
        int r = (int)(it.idx / (uint32_t)w), c = (int)(it.idx % (uint32_t)w);
        int la = label[it.idx];
        for (int k = 0; k < 8; k++) {
            int rr = r + dr[k], cc = c + dc[k];
            if (rr < 0 || rr >= h || cc < 0 || cc >= w)
                continue;
            size_t j = (size_t)rr * w + cc;
            if (isnan(z[j]))
                continue;
            if (label[j] < 0) {
                label[j] = la;
                if (!heap_push(&hp, (heap_item){z[j], seq++, (uint32_t)j})) {
                    st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                    goto done;
                }
            } else if (label[j] != la) {
                if (n_sad == cap_sad) {
                    cap_sad = cap_sad ? cap_sad * 2 : 1024;
                    saddle *ns = realloc(sad, cap_sad * sizeof *ns);
                    if (!ns) {
                        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
                        goto done;
                    }
                    sad = ns;
                }
                int a = la < label[j] ? la : label[j], b = la < label[j] ? label[j] : la;
                sad[n_sad++] = (saddle){a, b, z[j] > it.z ? z[j] : it.z};
            }
        }
    }
    progress_at(&pp, 0.75);
    /* Lowest saddle per pair, then in rising order. */
    qsort(sad, n_sad, sizeof *sad, cmp_pair);
    size_t m = 0;
    for (size_t i = 0; i < n_sad; i++)
        if (m == 0 || sad[i].a != sad[m - 1].a || sad[i].b != sad[m - 1].b)
            sad[m++] = sad[i];
    n_sad = m;
    qsort(sad, n_sad, sizeof *sad, cmp_elev);

    /* Hierarchy. */
    p.n_leaves = n_leaves;
    p.area = ct_raster_cell_area(dem);
    int max_nodes = 2 * n_leaves + 2;
    p.nodes = ct_calloc_array((size_t)max_nodes, sizeof(dnode));
    int *uf = ct_malloc_array((size_t)max_nodes, sizeof(int));   /* union-find over nodes */
    int *top = ct_malloc_array((size_t)max_nodes, sizeof(int));  /* set root -> hierarchy node */
    if (!p.nodes || !uf || !top) {
        free(uf);
        free(top);
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        goto done;
    }
    for (int i = 0; i < max_nodes; i++) {
        uf[i] = i;
        top[i] = i;
        p.nodes[i].child[0] = p.nodes[i].child[1] = -1;
        p.nodes[i].parent = -1;
        p.nodes[i].spill = INFINITY;
    }
    p.n_nodes = n_leaves + 1;
    for (size_t i = 0; i < n_sad; i++) {
        int ra = sad[i].a, rb = sad[i].b;
        while (uf[ra] != ra)
            ra = uf[ra] = uf[uf[ra]];
        while (uf[rb] != rb)
            rb = uf[rb] = uf[uf[rb]];
        if (ra == rb)
            continue;
        int na = top[ra], nb = top[rb];
        double e = sad[i].e;
        if (ra == 0 || rb == 0) {
            int d = ra == 0 ? nb : na;
            p.nodes[d].parent = 0;
            p.nodes[d].spill = e;
            p.nodes[d].ocean_link = ra == 0 ? sad[i].a : sad[i].b; /* 0: the map edge itself */
            uf[ra == 0 ? rb : ra] = 0;
            continue;
        }
        int mnode = p.n_nodes++;
        dnode *md = &p.nodes[mnode];
        md->child[0] = na;
        md->child[1] = nb;
        md->link[0] = sad[i].a; /* leaf in child 0's set touching the saddle */
        md->link[1] = sad[i].b;
        /* sad.a/b are leaf labels: assign each to the child whose set holds it */
        {
            int x = sad[i].a;
            while (uf[x] != x)
                x = uf[x];
            if (x != ra) {
                md->link[0] = sad[i].b;
                md->link[1] = sad[i].a;
            }
        }
        p.nodes[na].parent = mnode;
        p.nodes[nb].parent = mnode;
        p.nodes[na].spill = e;
        p.nodes[nb].spill = e;
        uf[rb] = ra;
        top[ra] = mnode;
    }
    free(uf);
    free(top);
    /* Leaves under each node (post-order list). */
    p.leaf_list = ct_malloc_array((size_t)n_leaves + 1, sizeof(int));
    p.leaf_off = ct_calloc_array((size_t)n_leaves + 2, sizeof(size_t));
    if (!p.leaf_list || !p.leaf_off) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        goto done;
    }
    {
        int cnt = 0;
        int *stack = ct_malloc_array((size_t)p.n_nodes * 2 + 2, sizeof(int));
        if (!stack) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            goto done;
        }
        for (int rnode = 1; rnode < p.n_nodes; rnode++) {
            if (p.nodes[rnode].parent > 0)
                continue; /* not a top node */
            /* iterative pre-order; children's ranges nest inside the parent's */
            int sp = 0;
            stack[sp++] = rnode;
            while (sp) {
                int x = stack[--sp];
                if (x < 0) { /* close: fix count */
                    x = -x - 1;
                    p.nodes[x].n_leaves = cnt - p.nodes[x].first_leaf;
                    continue;
                }
                p.nodes[x].first_leaf = cnt;
                if (p.nodes[x].child[0] < 0) {
                    p.leaf_list[cnt++] = x;
                    p.nodes[x].n_leaves = 1;
                    continue;
                }
                stack[sp++] = -x - 1;
                stack[sp++] = p.nodes[x].child[1];
                stack[sp++] = p.nodes[x].child[0];
            }
        }
        free(stack);
    }
    progress_at(&pp, 0.8);
    /* Per-leaf sorted elevations. */
    {
        size_t *cnt = ct_calloc_array((size_t)n_leaves + 2, sizeof(size_t));
        p.zs = ct_malloc_array(n + 1, sizeof(float));
        p.zsum = ct_malloc_array(n + 2, sizeof(double));
        if (!cnt || !p.zs || !p.zsum) {
            free(cnt);
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            if (label[i] > 0)
                cnt[label[i]]++;
        p.leaf_off[1] = 0;
        for (int l = 1; l <= n_leaves; l++)
            p.leaf_off[l + 1] = p.leaf_off[l] + cnt[l];
        for (int l = 1; l <= n_leaves; l++)
            cnt[l] = p.leaf_off[l];
        for (size_t i = 0; i < n; i++)
            if (label[i] > 0)
                p.zs[cnt[label[i]]++] = z[i];
        free(cnt);
        for (int l = 1; l <= n_leaves; l++)
            qsort(p.zs + p.leaf_off[l], p.leaf_off[l + 1] - p.leaf_off[l], sizeof(float), cmp_float);
        size_t tot = p.leaf_off[n_leaves + 1];
        p.zsum[0] = 0;
        for (size_t i = 0; i < tot; i++)
            p.zsum[i + 1] = p.zsum[i] + p.zs[i];
    }
    progress_at(&pp, 0.85);
    for (int i = 1; i < p.n_nodes; i++) {
        if ((i & 0xfff) == 0)
            progress_at(&pp, 0.85 + 0.05 * i / p.n_nodes);
        p.nodes[i].cap = isfinite(p.nodes[i].spill) ? node_volume(&p, i, p.nodes[i].spill) : INFINITY;
    }
    progress_at(&pp, 0.9);

    /* Rain: each cell's rain goes to its leaf (ocean cells: straight out). */
    double rain_m = rain_mm / 1000.0;
    double cell_vol = rain_m * p.area;
    size_t valid = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(z[i])) {
            valid++;
            if (label[i] == 0)
                p.outflow += cell_vol;
        }
    for (int l = 1; l <= n_leaves; l++) {
        double v = (double)(p.leaf_off[l + 1] - p.leaf_off[l]) * cell_vol;
        if (v > 0)
            add_water(&p, l, v, -1);
    }
    /* Levels: full -> spill, partial -> bisection on the node's volume. */
    int full = 0;
    for (int i = 1; i < p.n_nodes; i++) {
        if ((i & 0xfff) == 0)
            progress_at(&pp, 0.9 + 0.07 * i / p.n_nodes);
        dnode *d = &p.nodes[i];
        bool is_leaf = d->child[0] < 0;
        if (d->water >= d->cap - 1e-9 * (d->cap + 1)) {
            d->level = d->spill;
            if (d->cap > 0) /* zero-volume merges of flat pits do not count */
                full++;
            continue;
        }
        if (!is_leaf && !d->merged) {
            d->level = NAN; /* children hold their own lakes */
            continue;
        }
        double lo = is_leaf ? p.zs[p.leaf_off[i]] : fmax(p.nodes[d->child[0]].spill, -INFINITY);
        double hi = d->spill;
        if (!isfinite(hi)) {
            hi = lo + 1.0;
            while (node_volume(&p, i, hi) < d->water)
                hi = lo + 2 * (hi - lo);
        }
        for (int it = 0; it < 60; it++) {
            double mid = 0.5 * (lo + hi);
            if (node_volume(&p, i, mid) < d->water)
                lo = mid;
            else
                hi = mid;
        }
        d->level = 0.5 * (lo + hi);
    }
    ct_raster *depth = ct_raster_create(w, h, dem);
    if (!depth) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        goto done;
    }
    progress_at(&pp, 0.97);
    double vol = 0, maxd = 0;
    size_t wet = 0;
    for (size_t i = 0; i < n; i++) {
        depth->data[i] = NAN;
        int l = label[i];
        if (l <= 0 || isnan(z[i]))
            continue;
        /* highest merged ancestor defines the lake */
        int node = l;
        while (p.nodes[node].parent > 0 && p.nodes[p.nodes[node].parent].merged)
            node = p.nodes[node].parent;
        double L = p.nodes[node].level;
        if (!(L > z[i]) || p.nodes[node].water <= 0)
            continue;
        float dd = (float)(L - z[i]);
        if (!(dd > 0))
            continue;
        depth->data[i] = dd;
        vol += dd * p.area;
        wet++;
        if (dd > maxd)
            maxd = dd;
    }
    res->cells = wet;
    res->area_m2 = wet * p.area;
    res->volume_m3 = vol;
    res->max_depth_m = maxd;
    res->rain_volume_m3 = valid * cell_vol;
    res->outflow_m3 = p.outflow;
    res->depressions = n_leaves;
    res->depressions_full = full;
    *depth_out = depth;
    progress_at(&pp, 1);
done:
    free(label);
    free(hp.a);
    free(sad);
    free(p.nodes);
    free(p.leaf_off);
    free(p.zs);
    free(p.zsum);
    free(p.leaf_list);
    return st;
}
