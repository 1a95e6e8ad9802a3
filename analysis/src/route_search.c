/* Route queries: snapping, Dijkstra (reference), bidirectional Dijkstra, ALT
 * (A* with landmark lower bounds), Yen's k loopless paths, closures. */
#include "route_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRC_FLAG 0x80000000u
#define NONE UINT32_MAX
#define MAX_ACTIVE_LM 6
#define AT_END 1e-9 /* a snap this close to a segment end is on the junction */

/* ---------- heap ---------- */
bool route_heap_push(route_heap *h, double key, uint32_t node)
{
    if (h->n == h->cap && !ct_array_grow(&h->a, &h->cap, h->n + 1, sizeof *h->a))
        return false;
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->a[p].key <= key)
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = (route_heap_item){key, node};
    return true;
}

route_heap_item route_heap_pop(route_heap *h)
{
    route_heap_item top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->a[c + 1].key < h->a[c].key)
            c++;
        if (last.key <= h->a[c].key)
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n)
        h->a[i] = last;
    return top;
}

void route_dijkstra_all(const ct_route_graph *g, const uint32_t *src, size_t n_src, bool backward, double *dist,
                        route_heap *heap)
{
    for (size_t v = 0; v < g->n_nodes; v++)
        dist[v] = INFINITY;
    heap->n = 0;
    for (size_t i = 0; i < n_src; i++) {
        dist[src[i]] = 0;
        route_heap_push(heap, 0, src[i]);
    }
    while (heap->n) {
        route_heap_item it = route_heap_pop(heap);
        if (it.key > dist[it.node])
            continue;
        uint32_t v = it.node;
        if (!backward) {
            for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++) {
                double nd = it.key + g->e_cost[e];
                uint32_t w = g->e_head[e];
                if (nd < dist[w]) {
                    dist[w] = nd;
                    route_heap_push(heap, nd, w);
                }
            }
        } else {
            for (uint32_t k = g->in_off[v]; k < g->in_off[v + 1]; k++) {
                uint32_t e = g->in_edge[k];
                double nd = it.key + g->e_cost[e];
                uint32_t w = g->e_tail[e];
                if (nd < dist[w]) {
                    dist[w] = nd;
                    route_heap_push(heap, nd, w);
                }
            }
        }
    }
}

/* ---------- closures ---------- */
ct_route_closures *ct_route_closures_create(const ct_route_graph *g)
{
    ct_route_closures *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->g = g;
    c->seg_closed = calloc(g->n_segs + 1, 1);
    if (!c->seg_closed) {
        free(c);
        return NULL;
    }
    return c;
}

void ct_route_closures_destroy(ct_route_closures *c)
{
    if (!c)
        return;
    free(c->seg_closed);
    free(c);
}

void ct_route_closures_add_segment(ct_route_closures *c, size_t s)
{
    if (s < c->g->n_segs && !c->seg_closed[s]) {
        c->seg_closed[s] = 1;
        c->count++;
    }
}

size_t ct_route_closures_add_fid(ct_route_closures *c, int64_t fid)
{
    size_t n = 0;
    for (size_t s = 0; s < c->g->n_segs; s++)
        if (c->g->seg_fid[s] == fid) {
            ct_route_closures_add_segment(c, s);
            n++;
        }
    c->by_fid |= n > 0;
    return n;
}

size_t ct_route_closures_count(const ct_route_closures *c)
{
    return c ? c->count : 0;
}

/* ---------- geometry helpers ---------- */
void route_seg_locate(const ct_route_graph *g, uint32_t seg, double t, uint32_t *piece, double *f)
{
    uint32_t a = g->seg_first[seg], b = g->seg_first[seg + 1] - 1;
    double total = 0;
    for (uint32_t i = a; i < b; i++)
        total += hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
    double want = fmin(fmax(t, 0), 1) * total, acc = 0;
    for (uint32_t i = a; i < b; i++) {
        double l = hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
        if (acc + l >= want || i + 1 == b) {
            *piece = i;
            *f = l > 0 ? fmin(fmax((want - acc) / l, 0), 1) : 0;
            return;
        }
        acc += l;
    }
    *piece = a;
    *f = 0;
}

/* ---------- snapping ---------- */
static bool seg_open(const ct_route_graph *g, const ct_route_closures *c, uint32_t s)
{
    if (c && c->seg_closed[s])
        return false;
    return g->seg_edge_off[s + 1] > g->seg_edge_off[s];
}

ct_status ct_route_snap_point(const ct_route_graph *g, double x, double y, const ct_route_closures *closures,
                              double max_dist_m, ct_route_snap *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    double mx = x, my = y;
    if (!isfinite(x) || !isfinite(y))
        return ct_error_set(err, CT_ERR_INPUT, "point (%g, %g) is not finite", x, y);
    if (g->to_metric) {
        ct_error e2 = {0};
        if (ct_crs_transform_points(g->to_metric, 1, &mx, &my, NULL, &e2) != CT_OK || !isfinite(mx) ||
            !isfinite(my))
            return ct_error_set(err, CT_ERR_INPUT, "point (%.9g, %.9g) cannot be projected near the roads", x, y);
    }
    double cell = g->gcell;
    /* query cell (clamped so far-away points cannot overflow), rings from the
     * first one that touches the grid to the last one that does */
    double fx = fmin(fmax(floor((mx - g->gx0) / cell), -1e9), 1e9);
    double fy = fmin(fmax(floor((my - g->gy0) / cell), -1e9), 1e9);
    long qx = (long)fx, qy = (long)fy;
    long ox = qx < 0 ? -qx : (qx >= g->gnx ? qx - (g->gnx - 1) : 0);
    long oy = qy < 0 ? -qy : (qy >= g->gny ? qy - (g->gny - 1) : 0);
    long r0 = ox > oy ? ox : oy, rmax = 0;
    long cx[2] = {0, g->gnx - 1}, cy[2] = {0, g->gny - 1};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            long r = labs(cx[i] - qx) > labs(cy[j] - qy) ? labs(cx[i] - qx) : labs(cy[j] - qy);
            if (r > rmax)
                rmax = r;
        }
    double best = INFINITY;
    uint32_t best_piece = NONE;
    double best_f = 0;
    for (long r = r0; r <= rmax; r++) {
        /* nearest any cell in ring r can be: (r-1) cells away */
        if (best <= (double)(r - 1) * cell)
            break;
        if (max_dist_m > 0 && (double)(r - 1) * cell > max_dist_m)
            break;
        long y0 = qy - r < 0 ? 0 : qy - r, y1 = qy + r >= g->gny ? g->gny - 1 : qy + r;
        for (long yy = y0; yy <= y1; yy++) {
            bool edge_row = yy == qy - r || yy == qy + r;
            long xs[2] = {qx - r, qx + r};
            long xa = edge_row ? (qx - r < 0 ? 0 : qx - r) : 0, xb = edge_row ? (qx + r >= g->gnx ? g->gnx - 1 : qx + r) : 1;
            for (long k = xa; k <= xb; k++) {
                long xx = edge_row ? k : xs[k];
                if (!edge_row && r == 0 && k == 1)
                    break;
                if (xx < 0 || xx >= g->gnx)
                    continue;
                size_t c = (size_t)yy * g->gnx + (size_t)xx;
                for (uint32_t q = g->gcell_off[c]; q < g->gcell_off[c + 1]; q++) {
                    uint32_t i = g->gitems[q];
                    if (!seg_open(g, closures, g->vert_seg[i]))
                        continue;
                    double ax = g->vx[i], ay = g->vy[i], bx = g->vx[i + 1], by = g->vy[i + 1];
                    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
                    double f = l2 > 0 ? ((mx - ax) * dx + (my - ay) * dy) / l2 : 0;
                    f = fmin(fmax(f, 0), 1);
                    double d = hypot(ax + f * dx - mx, ay + f * dy - my);
                    if (d < best || (d == best && i < best_piece)) {
                        best = d;
                        best_piece = i;
                        best_f = f;
                    }
                }
            }
        }
    }
    if (best_piece == NONE || (max_dist_m > 0 && best > max_dist_m)) {
        if (best_piece == NONE)
            return ct_error_set(err, CT_ERR_INPUT, "point (%.9g, %.9g): no open road%s", x, y,
                                max_dist_m > 0 ? " within the snap distance" : "");
        return ct_error_set(err, CT_ERR_INPUT, "point (%.9g, %.9g) is %.0f m from the nearest road (limit %.0f m)", x,
                            y, best, max_dist_m);
    }
    uint32_t s = g->vert_seg[best_piece];
    double total = 0, before = 0;
    for (uint32_t i = g->seg_first[s]; i + 1 < g->seg_first[s + 1]; i++) {
        double l = hypot(g->vx[i + 1] - g->vx[i], g->vy[i + 1] - g->vy[i]);
        if (i < best_piece)
            before += l;
        if (i == best_piece)
            before += best_f * l;
        total += l;
    }
    out->ok = true;
    out->segment = s;
    out->t = total > 0 ? before / total : 0;
    out->dist_m = best;
    out->x = g->vox[best_piece] + best_f * (g->vox[best_piece + 1] - g->vox[best_piece]);
    out->y = g->voy[best_piece] + best_f * (g->voy[best_piece + 1] - g->voy[best_piece]);
    return CT_OK;
}

/* ---------- searcher ---------- */
typedef struct endpoint {
    uint32_t node, edge;
    double cost;
} endpoint;

struct ct_route_searcher {
    const ct_route_graph *g;
    size_t n;
    double *dist, *dist_b;
    uint32_t *pred, *pred_b;
    uint32_t *stamp, *stamp_b, *settled, *settled_b, cur;
    double *tgt_off, *h_cache;
    uint32_t *tgt_stamp, *tgt_idx, *h_stamp;
    uint32_t *ban_junction, *ban_edge, ban_cur;
    route_heap heap, heap_b;
    /* the current search's target set, for the ALT potential */
    const endpoint *tg;
    size_t n_tg;
    int lm_active[MAX_ACTIVE_LM], n_lm_active;
    size_t settled_count;
};

ct_route_searcher *ct_route_searcher_create(const ct_route_graph *g)
{
    ct_route_searcher *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    size_t n = g->n_nodes + 1;
    s->g = g;
    s->n = g->n_nodes;
    s->dist = malloc(n * sizeof *s->dist);
    s->dist_b = malloc(n * sizeof *s->dist_b);
    s->pred = malloc(n * sizeof *s->pred);
    s->pred_b = malloc(n * sizeof *s->pred_b);
    s->stamp = calloc(n, sizeof *s->stamp);
    s->stamp_b = calloc(n, sizeof *s->stamp_b);
    s->settled = calloc(n, sizeof *s->settled);
    s->settled_b = calloc(n, sizeof *s->settled_b);
    s->tgt_off = malloc(n * sizeof *s->tgt_off);
    s->h_cache = malloc(n * sizeof *s->h_cache);
    s->h_stamp = calloc(n, sizeof *s->h_stamp);
    s->tgt_stamp = calloc(n, sizeof *s->tgt_stamp);
    s->tgt_idx = malloc(n * sizeof *s->tgt_idx);
    s->ban_junction = calloc(g->n_junctions + 1, sizeof *s->ban_junction);
    s->ban_edge = calloc(g->n_edges + 1, sizeof *s->ban_edge);
    if (!s->dist || !s->dist_b || !s->pred || !s->pred_b || !s->stamp || !s->stamp_b || !s->settled ||
        !s->settled_b || !s->tgt_off || !s->h_cache || !s->h_stamp || !s->tgt_stamp || !s->tgt_idx || !s->ban_junction || !s->ban_edge) {
        ct_route_searcher_destroy(s);
        return NULL;
    }
    return s;
}

const ct_route_graph *route_searcher_graph(const ct_route_searcher *s)
{
    return s->g;
}

void ct_route_searcher_destroy(ct_route_searcher *s)
{
    if (!s)
        return;
    free(s->dist);
    free(s->dist_b);
    free(s->pred);
    free(s->pred_b);
    free(s->stamp);
    free(s->stamp_b);
    free(s->settled);
    free(s->settled_b);
    free(s->tgt_off);
    free(s->h_cache);
    free(s->h_stamp);
    free(s->tgt_stamp);
    free(s->tgt_idx);
    free(s->ban_junction);
    free(s->ban_edge);
    free(s->heap.a);
    free(s->heap_b.a);
    free(s);
}

static void next_stamp(ct_route_searcher *s)
{
    if (++s->cur == 0) {
        memset(s->stamp, 0, (s->n + 1) * sizeof *s->stamp);
        memset(s->stamp_b, 0, (s->n + 1) * sizeof *s->stamp_b);
        memset(s->settled, 0, (s->n + 1) * sizeof *s->settled);
        memset(s->settled_b, 0, (s->n + 1) * sizeof *s->settled_b);
        memset(s->tgt_stamp, 0, (s->n + 1) * sizeof *s->tgt_stamp);
        memset(s->h_stamp, 0, (s->n + 1) * sizeof *s->h_stamp);
        s->cur = 1;
    }
}

static void next_ban(ct_route_searcher *s)
{
    if (++s->ban_cur == 0) {
        memset(s->ban_junction, 0, (s->g->n_junctions + 1) * sizeof *s->ban_junction);
        memset(s->ban_edge, 0, (s->g->n_edges + 1) * sizeof *s->ban_edge);
        s->ban_cur = 1;
    }
}

/* Lower bound of d(v, t) from landmark distances (on the graph without
 * closures, which only raise costs). INFINITY: v cannot reach t at all. */
static double lm_bound(const ct_route_searcher *s, uint32_t v, uint32_t t, int l)
{
    const ct_route_graph *g = s->g;
    size_t n = g->n_nodes, o = (size_t)l * n;
    double h = 0;
    double vl = g->lm_to[o + v], tl = g->lm_to[o + t]; /* d(v,L), d(t,L) */
    if (isfinite(tl)) {
        if (!isfinite(vl))
            return INFINITY;
        h = fmax(h, vl - tl);
    }
    double lv = g->lm_from[o + v], lt = g->lm_from[o + t]; /* d(L,v), d(L,t) */
    if (isfinite(lv)) {
        if (!isfinite(lt))
            return INFINITY;
        h = fmax(h, lt - lv);
    }
    return h;
}

static double potential_uncached(const ct_route_searcher *s, uint32_t v);

/* The potential of a node, computed once per search. */
static double potential(ct_route_searcher *s, uint32_t v)
{
    if (s->n_lm_active == 0)
        return 0;
    if (s->h_stamp[v] != s->cur) {
        s->h_stamp[v] = s->cur;
        s->h_cache[v] = potential_uncached(s, v);
    }
    return s->h_cache[v];
}

static double potential_uncached(const ct_route_searcher *s, uint32_t v)
{
    double best = INFINITY;
    for (size_t j = 0; j < s->n_tg; j++) {
        double h = 0;
        for (int k = 0; k < s->n_lm_active; k++) {
            double b = lm_bound(s, v, s->tg[j].node, s->lm_active[k]);
            if (b > h)
                h = b;
            if (!isfinite(h))
                break;
        }
        double c = h + s->tg[j].cost;
        if (c < best)
            best = c;
    }
    return best;
}

/* Picks the landmarks with the best bounds between the sources and targets. */
static void choose_landmarks(ct_route_searcher *s, const endpoint *src, size_t n_src)
{
    const ct_route_graph *g = s->g;
    s->n_lm_active = 0;
    if (g->n_landmarks == 0 || n_src == 0 || s->n_tg == 0)
        return;
    double score[64];
    int nl = g->n_landmarks < 64 ? g->n_landmarks : 64;
    for (int l = 0; l < nl; l++) {
        double b = lm_bound(s, src[0].node, s->tg[0].node, l);
        score[l] = isfinite(b) ? b : 1e300;
    }
    int want = nl < MAX_ACTIVE_LM ? nl : MAX_ACTIVE_LM;
    for (int k = 0; k < want; k++) {
        int bi = -1;
        for (int l = 0; l < nl; l++)
            if (score[l] >= 0 && (bi < 0 || score[l] > score[bi]))
                bi = l;
        if (bi < 0)
            break;
        s->lm_active[s->n_lm_active++] = bi;
        score[bi] = -1;
    }
}

typedef struct search_in {
    const endpoint *src;
    size_t n_src;
    const uint8_t *src_banned; /* may be NULL */
    const endpoint *tgt;
    size_t n_tgt;
    const uint8_t *tgt_banned;
    double direct; /* cost when start and end share a segment (INFINITY if not) */
    const uint8_t *closed;
    bool bans;
    ct_route_algo algo;
} search_in;

typedef struct found_path {
    double cost;
    bool direct;
    int src_i, tgt_i;
    uint32_t *edges;
    size_t n_edges;
} found_path;

static bool edge_usable(const ct_route_searcher *s, const search_in *in, uint32_t e, uint32_t w)
{
    const ct_route_graph *g = s->g;
    if (in->closed && in->closed[g->e_seg[e]])
        return false;
    if (in->bans && (s->ban_edge[e] == s->ban_cur || s->ban_junction[g->node_junction[w]] == s->ban_cur))
        return false;
    return true;
}

/* Walks pred[] back from node v to a source. */
static bool collect_edges(const ct_route_searcher *s, const uint32_t *pred, uint32_t v, bool reverse_order,
                          uint32_t **edges, size_t *n, int *end_index)
{
    size_t cnt = 0;
    uint32_t u = v;
    while (!(pred[u] & SRC_FLAG)) {
        uint32_t e = pred[u];
        u = reverse_order ? s->g->e_head[e] : s->g->e_tail[e];
        if (++cnt > s->g->n_edges)
            return false; /* cannot happen with non-negative costs */
    }
    *end_index = (int)(pred[u] & ~SRC_FLAG);
    uint32_t *a = malloc((cnt + 1) * sizeof *a);
    if (!a)
        return false;
    u = v;
    for (size_t i = 0; i < cnt; i++) {
        uint32_t e = pred[u];
        a[reverse_order ? i : cnt - 1 - i] = e;
        u = reverse_order ? s->g->e_head[e] : s->g->e_tail[e];
    }
    *edges = a;
    *n = cnt;
    return true;
}

/* One-directional search: Dijkstra, or A* with the landmark potential. */
static bool search_uni(ct_route_searcher *s, const search_in *in, found_path *out)
{
    const ct_route_graph *g = s->g;
    next_stamp(s);
    uint32_t cur = s->cur;
    s->tg = in->tgt;
    s->n_tg = in->n_tgt;
    endpoint tg_buf[64];
    size_t ntg = 0;
    for (size_t j = 0; j < in->n_tgt && ntg < 64; j++) {
        if (in->tgt_banned && in->tgt_banned[j])
            continue;
        uint32_t t = in->tgt[j].node;
        tg_buf[ntg++] = in->tgt[j];
        if (s->tgt_stamp[t] != cur || in->tgt[j].cost < s->tgt_off[t]) {
            s->tgt_stamp[t] = cur;
            s->tgt_off[t] = in->tgt[j].cost;
            s->tgt_idx[t] = (uint32_t)j;
        }
    }
    s->tg = tg_buf;
    s->n_tg = ntg;
    if (ntg == 0 && !isfinite(in->direct)) {
        memset(out, 0, sizeof *out);
        out->cost = INFINITY;
        return false;
    }
    bool astar = in->algo == CT_ROUTE_ALT && g->n_landmarks > 0;
    if (astar)
        choose_landmarks(s, in->src, in->n_src);
    else
        s->n_lm_active = 0;
    double best = in->direct;
    uint32_t best_node = NONE;
    s->heap.n = 0;
    for (size_t i = 0; i < in->n_src; i++) {
        if (in->src_banned && in->src_banned[i])
            continue;
        uint32_t v = in->src[i].node;
        /* sources are never banned: a spur search starts on a banned junction */
        if (s->stamp[v] == cur && s->dist[v] <= in->src[i].cost)
            continue;
        s->stamp[v] = cur;
        s->dist[v] = in->src[i].cost;
        s->pred[v] = SRC_FLAG | (uint32_t)i;
        double h = astar ? potential(s, v) : 0;
        if (isfinite(h))
            route_heap_push(&s->heap, s->dist[v] + h, v);
    }
    while (s->heap.n) {
        route_heap_item it = route_heap_pop(&s->heap);
        uint32_t v = it.node;
        if (s->settled[v] == cur)
            continue;
        if (it.key >= best)
            break;
        s->settled[v] = cur;
        s->settled_count++;
        double dv = s->dist[v];
        if (s->tgt_stamp[v] == cur && dv + s->tgt_off[v] < best) {
            best = dv + s->tgt_off[v];
            best_node = v;
        }
        for (uint32_t e = g->out_off[v]; e < g->out_off[v + 1]; e++) {
            uint32_t w = g->e_head[e];
            if (s->settled[w] == cur || !edge_usable(s, in, e, w))
                continue;
            double nd = dv + g->e_cost[e];
            if (s->stamp[w] != cur || nd < s->dist[w]) {
                s->stamp[w] = cur;
                s->dist[w] = nd;
                s->pred[w] = e;
                double h = astar ? potential(s, w) : 0;
                if (isfinite(h))
                    route_heap_push(&s->heap, nd + h, w);
            }
        }
    }
    memset(out, 0, sizeof *out);
    out->cost = best;
    if (!isfinite(best))
        return false;
    if (best_node == NONE) {
        out->direct = true;
        return true;
    }
    out->tgt_i = (int)s->tgt_idx[best_node];
    return collect_edges(s, s->pred, best_node, false, &out->edges, &out->n_edges, &out->src_i);
}

static double heap_top(route_heap *h, const uint32_t *settled, uint32_t cur)
{
    while (h->n && settled[h->a[0].node] == cur)
        route_heap_pop(h);
    return h->n ? h->a[0].key : INFINITY;
}

/* Starts both searches: sources forward, targets backward, each node with
 * its cheapest offset (several stations may snap to one node). */
static void seed_both(ct_route_searcher *s, const search_in *in, uint32_t cur)
{
    s->heap.n = s->heap_b.n = 0;
    for (size_t i = 0; i < in->n_src; i++) {
        uint32_t v = in->src[i].node;
        if (s->stamp[v] == cur && s->dist[v] <= in->src[i].cost)
            continue;
        s->stamp[v] = cur;
        s->dist[v] = in->src[i].cost;
        s->pred[v] = SRC_FLAG | (uint32_t)i;
        route_heap_push(&s->heap, s->dist[v], v);
    }
    for (size_t j = 0; j < in->n_tgt; j++) {
        uint32_t v = in->tgt[j].node;
        if (s->stamp_b[v] == cur && s->dist_b[v] <= in->tgt[j].cost)
            continue;
        s->stamp_b[v] = cur;
        s->dist_b[v] = in->tgt[j].cost;
        s->pred_b[v] = SRC_FLAG | (uint32_t)j;
        route_heap_push(&s->heap_b, s->dist_b[v], v);
    }
}

/* Bidirectional Dijkstra (no bans; used for single best routes). */
static bool search_bidi(ct_route_searcher *s, const search_in *in, found_path *out)
{
    const ct_route_graph *g = s->g;
    next_stamp(s);
    uint32_t cur = s->cur;
    double mu = in->direct;
    uint32_t meet = NONE;
    seed_both(s, in, cur);
    for (size_t j = 0; j < in->n_tgt; j++) { /* a node both a source and a target */
        uint32_t v = in->tgt[j].node;
        if (s->stamp[v] == cur && s->dist[v] + s->dist_b[v] < mu) {
            mu = s->dist[v] + s->dist_b[v];
            meet = v;
        }
    }
    for (;;) {
        double tf = heap_top(&s->heap, s->settled, cur), tb = heap_top(&s->heap_b, s->settled_b, cur);
        if (tf + tb >= mu || (!isfinite(tf) && !isfinite(tb)))
            break;
        bool fwd = tf <= tb;
        route_heap *h = fwd ? &s->heap : &s->heap_b;
        route_heap_item it = route_heap_pop(h);
        uint32_t v = it.node;
        uint32_t *settled = fwd ? s->settled : s->settled_b;
        settled[v] = cur;
        s->settled_count++;
        double dv = fwd ? s->dist[v] : s->dist_b[v];
        uint32_t k0 = fwd ? g->out_off[v] : g->in_off[v], k1 = fwd ? g->out_off[v + 1] : g->in_off[v + 1];
        for (uint32_t k = k0; k < k1; k++) {
            uint32_t e = fwd ? k : g->in_edge[k];
            uint32_t w = fwd ? g->e_head[e] : g->e_tail[e];
            if (in->closed && in->closed[g->e_seg[e]])
                continue;
            double nd = dv + g->e_cost[e];
            double *dist = fwd ? s->dist : s->dist_b;
            uint32_t *stamp = fwd ? s->stamp : s->stamp_b, *pred = fwd ? s->pred : s->pred_b;
            if (settled[w] == cur)
                continue;
            if (stamp[w] != cur || nd < dist[w]) {
                stamp[w] = cur;
                dist[w] = nd;
                pred[w] = e;
                route_heap_push(h, nd, w);
            }
            uint32_t *ostamp = fwd ? s->stamp_b : s->stamp;
            double *odist = fwd ? s->dist_b : s->dist;
            if (ostamp[w] == cur && dist[w] + odist[w] < mu) {
                mu = dist[w] + odist[w];
                meet = w;
            }
        }
    }
    memset(out, 0, sizeof *out);
    out->cost = mu;
    if (!isfinite(mu))
        return false;
    if (meet == NONE) {
        out->direct = true;
        return true;
    }
    uint32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (!collect_edges(s, s->pred, meet, false, &a, &na, &out->src_i) ||
        !collect_edges(s, s->pred_b, meet, true, &b, &nb, &out->tgt_i)) {
        free(a);
        free(b);
        return false;
    }
    out->edges = malloc((na + nb + 1) * sizeof *out->edges);
    if (!out->edges) {
        free(a);
        free(b);
        return false;
    }
    memcpy(out->edges, a, na * sizeof *a);
    memcpy(out->edges + na, b, nb * sizeof *b);
    out->n_edges = na + nb;
    free(a);
    free(b);
    return true;
}

/* Appends the original edges of CH arc a, in path order. */
static bool ch_unpack(const ct_route_graph *g, uint32_t a, uint32_t **buf, size_t *n, size_t *cap, uint32_t **stack,
                      size_t *scap)
{
    size_t sn = 0;
    (*stack)[sn++] = a;
    while (sn) {
        uint32_t x = (*stack)[--sn];
        if (g->ch_arc_b[x] == NONE) {
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                uint32_t *nb = realloc(*buf, (nc + 1) * sizeof *nb);
                if (!nb)
                    return false;
                *buf = nb;
                *cap = nc;
            }
            (*buf)[(*n)++] = g->ch_arc_a[x];
            continue;
        }
        if (sn + 2 > *scap) {
            size_t nc = *scap * 2;
            uint32_t *ns = realloc(*stack, nc * sizeof *ns);
            if (!ns)
                return false;
            *stack = ns;
            *scap = nc;
        }
        (*stack)[sn++] = g->ch_arc_b[x]; /* second half after the first */
        (*stack)[sn++] = g->ch_arc_a[x];
    }
    return true;
}

/* One step of the CH query in one direction: settles the heap top unless a
 * higher node proves its label too long (stall-on-demand), relaxes its arcs
 * to higher nodes. */
static void ch_settle(ct_route_searcher *s, bool fwd, double *mu, uint32_t *meet)
{
    const ct_route_graph *g = s->g;
    uint32_t cur = s->cur;
    route_heap *h = fwd ? &s->heap : &s->heap_b;
    double *dist = fwd ? s->dist : s->dist_b, *odist = fwd ? s->dist_b : s->dist;
    uint32_t *stamp = fwd ? s->stamp : s->stamp_b, *ostamp = fwd ? s->stamp_b : s->stamp;
    uint32_t *pred = fwd ? s->pred : s->pred_b, *settled = fwd ? s->settled : s->settled_b;
    route_heap_item it = route_heap_pop(h);
    uint32_t v = it.node;
    settled[v] = cur;
    s->settled_count++;
    double dv = dist[v];
    if (ostamp[v] == cur && dv + odist[v] < *mu) {
        *mu = dv + odist[v];
        *meet = v;
    }
    /* arcs the other way round (from higher nodes into v forward, out of v backward) */
    const uint32_t *soff = fwd ? g->ch_dn_off : g->ch_up_off, *snode = fwd ? g->ch_dn_node : g->ch_up_node;
    const double *scost = fwd ? g->ch_dn_cost : g->ch_up_cost;
    for (uint32_t k = soff[v]; k < soff[v + 1]; k++) {
        uint32_t u = snode[k];
        if (stamp[u] == cur && dist[u] + scost[k] < dv)
            return; /* stalled: v is reached more cheaply through u */
    }
    const uint32_t *off = fwd ? g->ch_up_off : g->ch_dn_off, *node = fwd ? g->ch_up_node : g->ch_dn_node;
    const uint32_t *arc = fwd ? g->ch_up_arc : g->ch_dn_arc;
    const double *cost = fwd ? g->ch_up_cost : g->ch_dn_cost;
    for (uint32_t k = off[v]; k < off[v + 1]; k++) {
        uint32_t w = node[k];
        double nd = dv + cost[k];
        if (settled[w] == cur)
            continue;
        if (stamp[w] != cur || nd < dist[w]) {
            stamp[w] = cur;
            dist[w] = nd;
            pred[w] = arc[k];
            route_heap_push(h, nd, w);
            if (ostamp[w] == cur && nd + odist[w] < *mu) {
                *mu = nd + odist[w];
                *meet = w;
            }
        }
    }
}

/* Walks the CH search tree from the meeting node back to a source (forward)
 * or on to a target (backward); arcs in path order. */
static bool ch_arcs(const ct_route_searcher *s, bool fwd, uint32_t meet, uint32_t **arcs, size_t *n, int *end_index)
{
    const ct_route_graph *g = s->g;
    const uint32_t *pred = fwd ? s->pred : s->pred_b;
    size_t cnt = 0;
    for (uint32_t u = meet; !(pred[u] & SRC_FLAG); u = fwd ? g->ch_arc_tail[pred[u]] : g->ch_arc_head[pred[u]])
        if (++cnt > g->ch_n_arcs)
            return false;
    uint32_t *a = malloc((cnt + 1) * sizeof *a);
    if (!a)
        return false;
    uint32_t u = meet;
    for (size_t i = 0; i < cnt; i++) {
        uint32_t e = pred[u];
        a[fwd ? cnt - 1 - i : i] = e;
        u = fwd ? g->ch_arc_tail[e] : g->ch_arc_head[e];
    }
    *end_index = (int)(pred[u] & ~SRC_FLAG);
    *arcs = a;
    *n = cnt;
    return true;
}

/* Best path by the contraction hierarchy, run on the graph without closures
 * (a CH cannot drop arcs per query). Closures only remove roads, so a best
 * path that crosses no closed segment is also a best path with the closures;
 * one that does is searched again with ALT (exact with closures). Bans (Yen)
 * are not supported here: callers use ALT for spur searches. */
static bool search_ch(ct_route_searcher *s, const search_in *in, found_path *out, bool *fallback)
{
    const ct_route_graph *g = s->g;
    search_in alt = *in;
    alt.algo = CT_ROUTE_ALT;
    *fallback = false;
    if (!g->ch_rank || in->bans || in->src_banned || in->tgt_banned)
        return search_uni(s, &alt, out);
    next_stamp(s);
    uint32_t cur = s->cur;
    double mu = in->direct;
    uint32_t meet = NONE;
    seed_both(s, in, cur);
    /* each direction stops once its smallest key reaches the best meeting */
    for (;;) {
        double tf = heap_top(&s->heap, s->settled, cur), tb = heap_top(&s->heap_b, s->settled_b, cur);
        bool f_on = tf < mu, b_on = tb < mu;
        if (!f_on && !b_on)
            break;
        ch_settle(s, f_on && (!b_on || tf <= tb), &mu, &meet);
    }
    memset(out, 0, sizeof *out);
    out->cost = mu;
    if (!isfinite(mu))
        return false;
    if (meet == NONE) {
        out->direct = true;
        return true;
    }
    uint32_t *fa = NULL, *ba = NULL;
    size_t nfa = 0, nba = 0;
    if (!ch_arcs(s, true, meet, &fa, &nfa, &out->src_i) || !ch_arcs(s, false, meet, &ba, &nba, &out->tgt_i)) {
        free(fa);
        free(ba);
        return search_uni(s, &alt, out);
    }
    size_t cap = 0, scap = 64;
    uint32_t *stack = malloc(scap * sizeof *stack);
    bool ok = stack != NULL;
    for (size_t i = 0; ok && i < nfa + nba; i++)
        ok = ch_unpack(g, i < nfa ? fa[i] : ba[i - nfa], &out->edges, &out->n_edges, &cap, &stack, &scap);
    free(stack);
    free(fa);
    free(ba);
    if (ok && !out->edges)
        ok = (out->edges = malloc(sizeof *out->edges)) != NULL;
    /* the cost summed along the path as Dijkstra sums it (same rounding) */
    double c = in->src[out->src_i].cost;
    for (size_t i = 0; ok && i < out->n_edges; i++) {
        uint32_t e = out->edges[i];
        if (in->closed && in->closed[g->e_seg[e]])
            ok = false, *fallback = true;
        c += g->e_cost[e];
    }
    if (!ok) {
        free(out->edges);
        return search_uni(s, &alt, out);
    }
    out->cost = c + in->tgt[out->tgt_i].cost;
    return true;
}

/* ---------- queries ---------- */
#define MAX_ENDS 64
typedef struct ends {
    endpoint src[MAX_ENDS], tgt[MAX_ENDS];
    size_t n_src, n_tgt;
    double direct;
} ends;

/* Start entries: every node a start can reach along its segment (or, for a
 * start on a junction, the junction's nodes at no cost); end entries: every
 * node from which the end is reached along its segment, with what is left. */
static void add_junction(const ct_route_graph *g, uint32_t j, endpoint *list, size_t *n)
{
    for (uint32_t k = g->jnode_off[j]; k < g->jnode_off[j + 1] && *n < MAX_ENDS; k++)
        list[(*n)++] = (endpoint){g->jnode[k], NONE, 0};
}

static void make_ends(const ct_route_graph *g, const ct_route_snap *from, size_t n_from, const ct_route_snap *to,
                      const uint8_t *closed, ends *E)
{
    E->n_src = E->n_tgt = 0;
    E->direct = INFINITY;
    for (size_t f = 0; f < n_from; f++) {
        uint32_t s = from[f].segment;
        if (closed && closed[s])
            continue;
        if (from[f].t <= AT_END || from[f].t >= 1 - AT_END) {
            add_junction(g, from[f].t <= AT_END ? g->seg_a[s] : g->seg_b[s], E->src, &E->n_src);
            continue;
        }
        for (uint32_t k = g->seg_edge_off[s]; k < g->seg_edge_off[s + 1] && E->n_src < MAX_ENDS; k++) {
            uint32_t e = g->seg_edge[k];
            double rem = g->e_rev[e] ? from[f].t : 1 - from[f].t;
            E->src[E->n_src++] = (endpoint){g->e_head[e], e, rem * g->e_cost[e]};
        }
    }
    if (!to)
        return;
    uint32_t s = to->segment;
    if (closed && closed[s])
        return;
    if (to->t <= AT_END || to->t >= 1 - AT_END) {
        add_junction(g, to->t <= AT_END ? g->seg_a[s] : g->seg_b[s], E->tgt, &E->n_tgt);
        /* both ends on junctions of the same segment need no direct leg: the graph has it */
        return;
    }
    for (uint32_t k = g->seg_edge_off[s]; k < g->seg_edge_off[s + 1] && E->n_tgt < MAX_ENDS; k++) {
        uint32_t e = g->seg_edge[k];
        double part = g->e_rev[e] ? 1 - to->t : to->t;
        E->tgt[E->n_tgt++] = (endpoint){g->e_tail[e], e, part * g->e_cost[e]};
        if (n_from == 1 && from[0].segment == s && from[0].t > AT_END && from[0].t < 1 - AT_END) {
            double d = g->e_rev[e] ? from[0].t - to->t : to->t - from[0].t;
            if (d >= 0 && d * g->e_cost[e] < E->direct)
                E->direct = d * g->e_cost[e];
        }
    }
}

typedef struct kpath {
    found_path p;
} kpath;

static bool same_path(const found_path *a, const found_path *b)
{
    if (a->direct || b->direct)
        return a->direct == b->direct;
    return a->src_i == b->src_i && a->tgt_i == b->tgt_i && a->n_edges == b->n_edges &&
           !memcmp(a->edges, b->edges, a->n_edges * sizeof *a->edges);
}

/* Node of a path before its i-th edge (i = n_edges: the last node). */
static uint32_t path_node(const ct_route_graph *g, const ends *E, const found_path *p, size_t i)
{
    if (i == 0)
        return E->src[p->src_i].node;
    return g->e_head[p->edges[i - 1]];
}

static double path_length(const ct_route_graph *g, const ends *E, const ct_route_snap *from,
                          const ct_route_snap *to, const found_path *p)
{
    if (p->direct)
        return fabs(to->t - from->t) * g->seg_len[to->segment];
    double len = 0;
    uint32_t es = E->src[p->src_i].edge, et = E->tgt[p->tgt_i].edge;
    if (es != NONE)
        len += (g->e_rev[es] ? from->t : 1 - from->t) * g->seg_len[g->e_seg[es]];
    if (et != NONE)
        len += (g->e_rev[et] ? 1 - to->t : to->t) * g->seg_len[g->e_seg[et]];
    for (size_t i = 0; i < p->n_edges; i++)
        len += g->seg_len[g->e_seg[p->edges[i]]];
    return len;
}

/* Yen's algorithm over the search above; paths are loopless in junctions. */
static int yen(ct_route_searcher *s, const ends *E, const uint8_t *closed, ct_route_algo algo, int k,
               found_path *A, bool *fallback)
{
    const ct_route_graph *g = s->g;
    search_in in = {E->src, E->n_src, NULL, E->tgt, E->n_tgt, NULL, E->direct, closed, false, algo};
    if (algo == CT_ROUTE_BIDIJKSTRA && k <= 1) {
        if (!search_bidi(s, &in, &A[0]))
            return 0;
        return 1;
    }
    if (algo == CT_ROUTE_BIDIJKSTRA)
        in.algo = CT_ROUTE_DIJKSTRA;
    bool found;
    if (algo == CT_ROUTE_CH) {
        /* the best path by CH, the spur searches of the alternatives by ALT */
        found = search_ch(s, &in, &A[0], fallback);
        in.algo = CT_ROUTE_ALT;
    } else {
        found = search_uni(s, &in, &A[0]);
    }
    if (!found)
        return 0;
    int na = 1;
    found_path *B = NULL;
    size_t nb = 0, cap_b = 0;
    uint8_t src_ban[64], tgt_ban[64];
    while (na < k) {
        const found_path *prev = &A[na - 1];
        size_t m = prev->direct ? 0 : prev->n_edges;
        /* spur positions: -1 = the virtual start, 0..m = nodes of prev */
        for (long i = -1; i <= (long)m; i++) {
            if (prev->direct && i >= 0)
                break;
            next_ban(s);
            memset(src_ban, 0, sizeof src_ban);
            memset(tgt_ban, 0, sizeof tgt_ban);
            double direct = E->direct;
            for (int a = 0; a < na; a++) {
                const found_path *p = &A[a];
                if (i == -1) {
                    if (p->direct)
                        direct = INFINITY;
                    else
                        src_ban[p->src_i] = 1;
                    continue;
                }
                /* same root: same start entry and the same first i edges */
                if (p->direct || p->src_i != prev->src_i || p->n_edges < (size_t)i ||
                    memcmp(p->edges, prev->edges, (size_t)i * sizeof *p->edges))
                    continue;
                if ((size_t)i < p->n_edges)
                    s->ban_edge[p->edges[i]] = s->ban_cur;
                else
                    tgt_ban[p->tgt_i] = 1;
            }
            double root_cost = 0;
            found_path spur;
            bool ok;
            if (i == -1) {
                search_in si = in;
                si.src_banned = src_ban;
                si.direct = direct;
                si.bans = true;
                ok = search_uni(s, &si, &spur);
            } else {
                for (long q = 0; q < i; q++)
                    s->ban_junction[g->node_junction[path_node(g, E, prev, (size_t)q)]] = s->ban_cur;
                uint32_t spur_node = path_node(g, E, prev, (size_t)i);
                root_cost = E->src[prev->src_i].cost;
                for (long q = 0; q < i; q++)
                    root_cost += g->e_cost[prev->edges[q]];
                endpoint start = {spur_node, NONE, 0};
                /* the spur path may not come back to its own junction (a loop) */
                s->ban_junction[g->node_junction[spur_node]] = s->ban_cur;
                /* target entries at banned junctions are unreachable, except at the spur node itself */
                for (size_t j = 0; j < E->n_tgt; j++)
                    if (E->tgt[j].node != spur_node &&
                        s->ban_junction[g->node_junction[E->tgt[j].node]] == s->ban_cur)
                        tgt_ban[j] = 1;
                search_in si = {&start, 1, NULL, E->tgt, E->n_tgt, tgt_ban, INFINITY, closed, true, in.algo};
                ok = search_uni(s, &si, &spur);
                /* (kept as a guard: the ban above already prevents re-entry) */
                if (ok && !spur.direct) {
                    uint32_t jn = g->node_junction[spur_node];
                    for (size_t q = 0; q < spur.n_edges && ok; q++)
                        ok = g->node_junction[g->e_head[spur.edges[q]]] != jn;
                    if (!ok)
                        free(spur.edges);
                }
                if (ok) {
                    /* splice root + spur */
                    found_path c = {.cost = root_cost + spur.cost, .src_i = prev->src_i, .tgt_i = spur.tgt_i};
                    c.n_edges = (size_t)i + spur.n_edges;
                    c.edges = malloc((c.n_edges + 1) * sizeof *c.edges);
                    if (c.edges) {
                        memcpy(c.edges, prev->edges, (size_t)i * sizeof *c.edges);
                        memcpy(c.edges + i, spur.edges, spur.n_edges * sizeof *c.edges);
                    }
                    free(spur.edges);
                    spur = c;
                    ok = c.edges != NULL;
                }
            }
            if (!ok)
                continue;
            bool dup = false;
            for (int a = 0; a < na && !dup; a++)
                dup = same_path(&A[a], &spur);
            for (size_t b = 0; b < nb && !dup; b++)
                dup = same_path(&B[b], &spur);
            if (dup) {
                free(spur.edges);
                continue;
            }
            if (nb == cap_b) {
                cap_b = cap_b ? cap_b * 2 : 16;
                found_path *nbp = realloc(B, cap_b * sizeof *nbp);
                if (!nbp) {
                    free(spur.edges);
                    break;
                }
                B = nbp;
            }
            B[nb++] = spur;
        }
        if (nb == 0)
            break;
        size_t bi = 0;
        for (size_t b = 1; b < nb; b++)
            if (B[b].cost < B[bi].cost)
                bi = b;
        A[na++] = B[bi];
        B[bi] = B[--nb];
    }
    for (size_t b = 0; b < nb; b++)
        free(B[b].edges);
    free(B);
    return na;
}

static const uint8_t *closed_mask(const ct_route_closures *c)
{
    return c && c->count ? c->seg_closed : NULL;
}

ct_status ct_route_search(ct_route_searcher *s, const ct_route_query *q, ct_route_result *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    const ct_route_graph *g = s->g;
    if (!q->from.ok || !q->to.ok || q->from.segment >= g->n_segs || q->to.segment >= g->n_segs)
        return ct_error_set(err, CT_ERR_USAGE, "route query without snapped start and end");
    int k = q->k <= 0 ? 1 : q->k;
    if (k > 1000)
        return ct_error_set(err, CT_ERR_USAGE, "k = %d alternatives is too many (at most 1000)", k);
    const uint8_t *closed = closed_mask(q->closures);
    ends E;
    make_ends(g, &q->from, 1, &q->to, closed, &E);
    found_path *A = calloc((size_t)k, sizeof *A);
    if (!A)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    size_t settled0 = s->settled_count;
    int na = yen(s, &E, closed, q->algo, k, A, &out->ch_fallback);
    out->settled = s->settled_count - settled0;
    if (na == 0) {
        free(A);
        out->reachable = false;
        const char *why = "no path: start and end are in different components";
        if (closed) {
            ends E2;
            make_ends(g, &q->from, 1, &q->to, NULL, &E2);
            search_in in = {E2.src, E2.n_src, NULL, E2.tgt, E2.n_tgt, NULL, E2.direct, NULL, false, CT_ROUTE_ALT};
            found_path p;
            if (search_uni(s, &in, &p)) {
                free(p.edges);
                const ct_route_closures *c = q->closures;
                why = c->by_polygon && c->by_fid ? "all paths closed by --avoid and --close-edges"
                      : c->by_fid                ? "all paths closed by --close-edges"
                                                 : "all paths closed by --avoid";
            }
        }
        snprintf(out->reason, sizeof out->reason, "%s", why);
        return CT_OK;
    }
    out->reachable = true;
    out->n_paths = na;
    out->paths = calloc((size_t)na, sizeof *out->paths);
    if (!out->paths) {
        for (int i = 0; i < na; i++)
            free(A[i].edges);
        free(A);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    for (int i = 0; i < na; i++) {
        ct_route_path *p = &out->paths[i];
        p->cost_s = A[i].cost;
        p->length_m = path_length(g, &E, &q->from, &q->to, &A[i]);
        p->n_edges = A[i].direct ? 0 : A[i].n_edges;
        p->edges = A[i].edges;
        /* remember the entry edges for geometry: stored past the path edges */
        if (!A[i].direct) {
            uint32_t *ne = realloc(p->edges, (p->n_edges + 2) * sizeof *ne);
            if (ne) {
                ne[p->n_edges] = E.src[A[i].src_i].edge;
                ne[p->n_edges + 1] = E.tgt[A[i].tgt_i].edge;
                p->edges = ne;
            }
        } else {
            free(p->edges);
            p->edges = NULL;
        }
    }
    free(A);
    return CT_OK;
}

void ct_route_result_free(ct_route_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_paths; i++)
        free(r->paths[i].edges);
    free(r->paths);
    r->paths = NULL;
    r->n_paths = 0;
}

double ct_route_node_cost(ct_route_searcher *s, uint32_t from, uint32_t to, const ct_route_closures *closures,
                          ct_route_algo algo)
{
    if (from >= s->g->n_nodes || to >= s->g->n_nodes)
        return INFINITY;
    endpoint a = {from, NONE, 0}, b = {to, NONE, 0};
    search_in in = {&a, 1, NULL, &b, 1, NULL, INFINITY, closed_mask(closures), false, algo};
    found_path p;
    bool fallback, ok = algo == CT_ROUTE_BIDIJKSTRA ? search_bidi(s, &in, &p)
                        : algo == CT_ROUTE_CH     ? search_ch(s, &in, &p, &fallback)
                                                  : search_uni(s, &in, &p);
    if (!ok)
        return INFINITY;
    free(p.edges);
    return p.cost;
}

/* ---------- geometry ---------- */
bool route_pts_add(route_pts *p, double x, double y)
{
    if (p->n && p->xy[2 * p->n - 2] == x && p->xy[2 * p->n - 1] == y)
        return true;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        double *n = realloc(p->xy, nc * 2 * sizeof *n);
        if (!n)
            return false;
        p->xy = n;
        p->cap = nc;
    }
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->n++;
    return true;
}

/* Appends the part of a segment from position t0 to t1 (t0 > t1: backwards). */
bool route_seg_part(const ct_route_graph *g, uint32_t seg, double t0, double t1, bool metric, void *vp)
{
    route_pts *p = vp;
    const double *X = metric ? g->vx : g->vox, *Y = metric ? g->vy : g->voy;
    uint32_t i0, i1;
    double f0, f1;
    route_seg_locate(g, seg, t0, &i0, &f0);
    route_seg_locate(g, seg, t1, &i1, &f1);
    bool ok = route_pts_add(p, X[i0] + f0 * (X[i0 + 1] - X[i0]), Y[i0] + f0 * (Y[i0 + 1] - Y[i0]));
    if (t0 <= t1) {
        for (uint32_t i = i0 + 1; i <= i1; i++)
            ok &= route_pts_add(p, X[i], Y[i]);
    } else {
        for (uint32_t i = i0; i > i1; i--)
            ok &= route_pts_add(p, X[i], Y[i]);
    }
    ok &= route_pts_add(p, X[i1] + f1 * (X[i1 + 1] - X[i1]), Y[i1] + f1 * (Y[i1 + 1] - Y[i1]));
    return ok;
}

ct_status ct_route_path_geometry(const ct_route_graph *g, const ct_route_query *q, const ct_route_path *path,
                                 double **xy, size_t *n_points, ct_error *err)
{
    route_pts p = {0};
    bool ok = true;
    if (!path->edges) {
        ok = route_seg_part(g, q->to.segment, q->from.t, q->to.t, false, &p);
    } else {
        uint32_t es = path->edges[path->n_edges], et = path->edges[path->n_edges + 1];
        if (es != NONE)
            ok &= route_seg_part(g, g->e_seg[es], q->from.t, g->e_rev[es] ? 0 : 1, false, &p);
        else
            ok &= route_pts_add(&p, q->from.x, q->from.y);
        for (size_t i = 0; i < path->n_edges; i++) {
            uint32_t e = path->edges[i];
            ok &= route_seg_part(g, g->e_seg[e], g->e_rev[e] ? 1 : 0, g->e_rev[e] ? 0 : 1, false, &p);
        }
        if (et != NONE)
            ok &= route_seg_part(g, g->e_seg[et], g->e_rev[et] ? 1 : 0, q->to.t, false, &p);
        else
            ok &= route_pts_add(&p, q->to.x, q->to.y);
    }
    if (!ok) {
        free(p.xy);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    if (p.n == 1) { /* start and end at the same spot: a degenerate two-point line */
        if (p.cap < 2) {
            double *n = realloc(p.xy, 4 * sizeof *n);
            if (!n) {
                free(p.xy);
                return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            }
            p.xy = n;
        }
        p.xy[2] = p.xy[0];
        p.xy[3] = p.xy[1];
        p.n = 2;
    }
    *xy = p.xy;
    *n_points = p.n;
    return CT_OK;
}

ct_status ct_route_reach_times(ct_route_searcher *s, const ct_route_snap *from, size_t n_from,
                               const ct_route_closures *closures, double *node_times, ct_error *err)
{
    const ct_route_graph *g = s->g;
    const uint8_t *closed = closed_mask(closures);
    ends E;
    make_ends(g, from, n_from, NULL, closed, &E);
    for (size_t v = 0; v < g->n_nodes; v++)
        node_times[v] = INFINITY;
    route_heap *h = &s->heap;
    h->n = 0;
    for (size_t i = 0; i < E.n_src; i++)
        if (E.src[i].cost < node_times[E.src[i].node]) {
            node_times[E.src[i].node] = E.src[i].cost;
            if (!route_heap_push(h, E.src[i].cost, E.src[i].node))
                return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        }
    while (h->n) {
        route_heap_item it = route_heap_pop(h);
        if (it.key > node_times[it.node])
            continue;
        for (uint32_t e = g->out_off[it.node]; e < g->out_off[it.node + 1]; e++) {
            if (closed && closed[g->e_seg[e]])
                continue;
            double nd = it.key + g->e_cost[e];
            uint32_t w = g->e_head[e];
            if (nd < node_times[w]) {
                node_times[w] = nd;
                if (!route_heap_push(h, nd, w))
                    return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            }
        }
    }
    return CT_OK;
}
