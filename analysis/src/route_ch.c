/* Contraction hierarchy (CH) preprocessing for the road graph.
 *
 * Nodes are contracted one by one in the order of a priority (edge
 * difference + contracted neighbours + level, updated lazily). Contracting v
 * adds a shortcut u->w for every pair of remaining neighbours u->v->w unless
 * a witness path u->w avoiding v, no longer than the pair, is found by a
 * Dijkstra limited in settled nodes and hops (a limit that stops the search
 * only adds a shortcut that was not needed: never wrong). Every arc keeps the
 * two arcs it replaces (tail->middle, middle->head) so a query path unpacks
 * into original directed edges. The query is in route_search.c. */
#include "route_internal.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

typedef struct ch_link {
    uint32_t w, arc;
    double cost;
} ch_link;

typedef struct ch_list {
    ch_link *a;
    uint32_t n, cap;
} ch_list;

typedef struct ch_build {
    ct_route_graph *g;
    size_t n;
    ch_list *out, *in; /* links among nodes not yet contracted */
    ch_list *up, *dn;  /* final: v's arcs to / from higher nodes */
    uint8_t *done;
    uint32_t *level, *deleted_nb;
    /* arcs: tail, head, cost, children (b == NONE: a is an original edge) */
    uint32_t *at, *ah, *aa, *ab;
    double *ac;
    size_t n_arcs, cap_arcs;
    /* witness search workspace */
    double *wd;
    uint32_t *wstamp, *whops, *wtarget, wcur;
    route_heap heap;
} ch_build;

static bool list_push(ch_list *l, ch_link k)
{
    if (l->n == l->cap) {
        uint32_t nc = l->cap ? l->cap * 2 : 4;
        ch_link *na = realloc(l->a, nc * sizeof *na);
        if (!na)
            return false;
        l->a = na;
        l->cap = nc;
    }
    l->a[l->n++] = k;
    return true;
}

static void list_remove(ch_list *l, uint32_t w)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->a[i].w == w) {
            l->a[i] = l->a[--l->n];
            return;
        }
}

static ch_link *list_find(ch_list *l, uint32_t w)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->a[i].w == w)
            return &l->a[i];
    return NULL;
}

static uint32_t arc_add(ch_build *b, uint32_t t, uint32_t h, double c, uint32_t a, uint32_t b2)
{
    if (b->n_arcs == b->cap_arcs) {
        size_t nc = b->cap_arcs ? b->cap_arcs * 2 : 1024;
        uint32_t *nt = realloc(b->at, nc * sizeof *nt);
        if (nt)
            b->at = nt;
        uint32_t *nh = realloc(b->ah, nc * sizeof *nh);
        if (nh)
            b->ah = nh;
        uint32_t *na = realloc(b->aa, nc * sizeof *na);
        if (na)
            b->aa = na;
        uint32_t *nb = realloc(b->ab, nc * sizeof *nb);
        if (nb)
            b->ab = nb;
        double *ncst = realloc(b->ac, nc * sizeof *ncst);
        if (ncst)
            b->ac = ncst;
        if (!nt || !nh || !na || !nb || !ncst || nc >= NONE)
            return NONE;
        b->cap_arcs = nc;
    }
    size_t i = b->n_arcs++;
    b->at[i] = t;
    b->ah[i] = h;
    b->ac[i] = c;
    b->aa[i] = a;
    b->ab[i] = b2;
    return (uint32_t)i;
}

/* Adds or improves the link t->h (keeps one link per ordered pair: the cheapest). */
static bool link_set(ch_build *b, uint32_t t, uint32_t h, double c, uint32_t arc)
{
    ch_link *o = list_find(&b->out[t], h);
    if (o) {
        if (o->cost <= c)
            return true;
        o->cost = c;
        o->arc = arc;
        ch_link *i = list_find(&b->in[h], t);
        if (i) {
            i->cost = c;
            i->arc = arc;
        }
        return true;
    }
    return list_push(&b->out[t], (ch_link){h, arc, c}) && list_push(&b->in[h], (ch_link){t, arc, c});
}

/* Witness search from u avoiding v: distances to nodes within max_cost,
 * settling at most max_settle nodes over paths of at most max_hops links;
 * stops early once the n_targets nodes marked in wtarget are settled. */
static void witness(ch_build *b, uint32_t u, uint32_t v, double max_cost, int max_settle, uint32_t max_hops,
                    uint32_t n_targets)
{
    uint32_t cur = b->wcur;
    route_heap *h = &b->heap;
    h->n = 0;
    b->wstamp[u] = cur;
    b->wd[u] = 0;
    b->whops[u] = 0;
    route_heap_push(h, 0, u);
    int settled = 0;
    while (h->n) {
        route_heap_item it = route_heap_pop(h);
        uint32_t x = it.node;
        if (it.key > b->wd[x])
            continue;
        if (++settled > max_settle)
            break;
        if (b->wtarget[x] == cur && --n_targets == 0)
            break;
        if (b->whops[x] >= max_hops)
            continue;
        const ch_list *l = &b->out[x];
        for (uint32_t i = 0; i < l->n; i++) {
            uint32_t y = l->a[i].w;
            double nd = it.key + l->a[i].cost;
            if (y == v || nd > max_cost)
                continue;
            if (b->wstamp[y] != cur || nd < b->wd[y]) {
                b->wstamp[y] = cur;
                b->wd[y] = nd;
                b->whops[y] = b->whops[x] + 1;
                route_heap_push(h, nd, y);
            }
        }
    }
}

/* A fresh stamp for the next witness search (distances and targets). */
static uint32_t witness_begin(ch_build *b)
{
    if (++b->wcur == 0) {
        memset(b->wstamp, 0, b->n * sizeof *b->wstamp);
        memset(b->wtarget, 0, b->n * sizeof *b->wtarget);
        b->wcur = 1;
    }
    return b->wcur;
}

static double witness_dist(const ch_build *b, uint32_t w)
{
    return b->wstamp[w] == b->wcur ? b->wd[w] : INFINITY;
}

/* Contracts v (apply) or counts the shortcuts contracting it would add. */
static int contract(ch_build *b, uint32_t v, bool apply, bool *ok)
{
    ch_list *in = &b->in[v], *out = &b->out[v];
    int added = 0;
    /* estimating a priority may over-count shortcuts (cheap, small limits);
     * contracting searches further for fewer shortcuts */
    int settle = apply ? 1000 : 100;
    uint32_t hops = apply ? 64 : 8;
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t u = in->a[i].w;
        double cu = in->a[i].cost, max_cost = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->a[j].w != u && cu + out->a[j].cost > max_cost)
                max_cost = cu + out->a[j].cost;
        if (out->n == 0 || (out->n == 1 && out->a[0].w == u))
            continue;
        uint32_t cur = witness_begin(b), n_targets = 0;
        for (uint32_t j = 0; j < out->n; j++)
            if (out->a[j].w != u && b->wtarget[out->a[j].w] != cur) {
                b->wtarget[out->a[j].w] = cur;
                n_targets++;
            }
        witness(b, u, v, max_cost, settle, hops, n_targets);
        for (uint32_t j = 0; j < out->n; j++) {
            uint32_t w = out->a[j].w;
            if (w == u)
                continue;
            double c = cu + out->a[j].cost;
            if (witness_dist(b, w) <= c)
                continue;
            added++;
            if (apply) {
                uint32_t arc = arc_add(b, u, w, c, in->a[i].arc, out->a[j].arc);
                if (arc == NONE || !link_set(b, u, w, c, arc))
                    *ok = false;
            }
        }
    }
    return added;
}

static double priority(ch_build *b, uint32_t v)
{
    bool ok = true;
    int added = contract(b, v, false, &ok);
    int removed = (int)(b->in[v].n + b->out[v].n);
    return 2.0 * (added - removed) + b->deleted_nb[v] + b->level[v];
}

static void ch_build_free(ch_build *b)
{
    for (size_t v = 0; b->out && v < b->n; v++)
        free(b->out[v].a);
    for (size_t v = 0; b->in && v < b->n; v++)
        free(b->in[v].a);
    for (size_t v = 0; b->up && v < b->n; v++)
        free(b->up[v].a);
    for (size_t v = 0; b->dn && v < b->n; v++)
        free(b->dn[v].a);
    free(b->out);
    free(b->in);
    free(b->up);
    free(b->dn);
    free(b->done);
    free(b->level);
    free(b->deleted_nb);
    free(b->at);
    free(b->ah);
    free(b->aa);
    free(b->ab);
    free(b->ac);
    free(b->wd);
    free(b->wstamp);
    free(b->whops);
    free(b->wtarget);
    free(b->heap.a);
}

/* CSR of the final up / down lists. */
static bool to_csr(const ch_build *b, const ch_list *l, uint32_t **off, uint32_t **node, double **cost,
                   uint32_t **arc)
{
    size_t m = 0;
    for (size_t v = 0; v < b->n; v++)
        m += l[v].n;
    *off = ct_malloc_array(b->n + 1, sizeof **off);
    *node = ct_malloc_array(m + 1, sizeof **node);
    *cost = ct_malloc_array(m + 1, sizeof **cost);
    *arc = ct_malloc_array(m + 1, sizeof **arc);
    if (!*off || !*node || !*cost || !*arc)
        return false;
    size_t k = 0;
    for (size_t v = 0; v < b->n; v++) {
        (*off)[v] = (uint32_t)k;
        for (uint32_t i = 0; i < l[v].n; i++, k++) {
            (*node)[k] = l[v].a[i].w;
            (*cost)[k] = l[v].a[i].cost;
            (*arc)[k] = l[v].a[i].arc;
        }
    }
    (*off)[b->n] = (uint32_t)k;
    return true;
}

bool route_ch_build(ct_route_graph *g)
{
    ch_build b = {.g = g, .n = g->n_nodes};
    size_t n = b.n;
    if (n == 0)
        return true;
    b.out = calloc(n, sizeof *b.out);
    b.in = calloc(n, sizeof *b.in);
    b.up = calloc(n, sizeof *b.up);
    b.dn = calloc(n, sizeof *b.dn);
    b.done = calloc(n, 1);
    b.level = calloc(n, sizeof *b.level);
    b.deleted_nb = calloc(n, sizeof *b.deleted_nb);
    b.wd = ct_malloc_array(n, sizeof *b.wd);
    b.wstamp = calloc(n, sizeof *b.wstamp);
    b.whops = ct_malloc_array(n, sizeof *b.whops);
    b.wtarget = calloc(n, sizeof *b.wtarget);
    double *pri = ct_malloc_array(n, sizeof *pri);
    g->ch_rank = ct_malloc_array(n, sizeof *g->ch_rank);
    bool ok = b.out && b.in && b.up && b.dn && b.done && b.level && b.deleted_nb && b.wd && b.wstamp && b.whops && b.wtarget &&
              pri && g->ch_rank;
    /* original edges: one link per ordered pair (the cheapest; ties: the
     * lowest edge id), no self-loops (never on a shortest path) */
    for (size_t e = 0; ok && e < g->n_edges; e++) {
        uint32_t t = g->e_tail[e], h = g->e_head[e];
        if (t == h)
            continue;
        ch_link *o = list_find(&b.out[t], h);
        if (o && o->cost <= g->e_cost[e])
            continue;
        uint32_t arc = arc_add(&b, t, h, g->e_cost[e], (uint32_t)e, NONE);
        ok = arc != NONE && link_set(&b, t, h, g->e_cost[e], arc);
    }
    route_heap pq = {0};
    for (size_t v = 0; ok && v < n; v++) {
        pri[v] = priority(&b, (uint32_t)v);
        ok = route_heap_push(&pq, pri[v], (uint32_t)v);
    }
    uint32_t next_rank = 0;
    while (ok && pq.n) {
        route_heap_item it = route_heap_pop(&pq);
        uint32_t v = it.node;
        if (b.done[v] || it.key != pri[v])
            continue;
        /* lazy update: re-evaluate; contract only if still the smallest */
        double p = priority(&b, v);
        if (pq.n && p > pq.a[0].key) {
            pri[v] = p;
            ok = route_heap_push(&pq, p, v);
            continue;
        }
        contract(&b, v, true, &ok);
        b.done[v] = 1;
        g->ch_rank[v] = next_rank++;
        /* v's remaining links all lead to higher nodes: they are its up / down arcs */
        ch_list in = b.in[v], out = b.out[v];
        b.up[v] = out;
        b.dn[v] = in;
        b.in[v] = b.out[v] = (ch_list){0};
        for (uint32_t i = 0; i < out.n; i++)
            list_remove(&b.in[out.a[i].w], v);
        for (uint32_t i = 0; i < in.n; i++)
            list_remove(&b.out[in.a[i].w], v);
        /* neighbours: contracted-neighbour count, level, new priority */
        for (int d = 0; d < 2 && ok; d++) {
            const ch_list *l = d ? &in : &out;
            for (uint32_t i = 0; i < l->n && ok; i++) {
                uint32_t w = l->a[i].w;
                if (b.done[w])
                    continue;
                b.deleted_nb[w]++;
                if (b.level[w] < b.level[v] + 1)
                    b.level[w] = b.level[v] + 1;
                double np = priority(&b, w);
                if (np != pri[w]) {
                    pri[w] = np;
                    ok = route_heap_push(&pq, np, w);
                }
            }
        }
    }
    free(pq.a);
    free(pri);
    if (ok)
        ok = to_csr(&b, b.up, &g->ch_up_off, &g->ch_up_node, &g->ch_up_cost, &g->ch_up_arc) &&
             to_csr(&b, b.dn, &g->ch_dn_off, &g->ch_dn_node, &g->ch_dn_cost, &g->ch_dn_arc);
    if (ok) {
        g->ch_n_arcs = b.n_arcs;
        g->ch_arc_tail = b.at;
        g->ch_arc_head = b.ah;
        g->ch_arc_a = b.aa;
        g->ch_arc_b = b.ab;
        b.at = b.ah = b.aa = b.ab = NULL;
        size_t orig = 0;
        for (size_t i = 0; i < b.n_arcs; i++)
            orig += g->ch_arc_b[i] == NONE;
        g->info.ch_shortcuts = b.n_arcs - orig;
    }
    ch_build_free(&b);
    if (!ok)
        route_ch_free(g);
    return ok;
}

void route_ch_free(ct_route_graph *g)
{
    free(g->ch_rank);
    free(g->ch_up_off);
    free(g->ch_up_node);
    free(g->ch_up_cost);
    free(g->ch_up_arc);
    free(g->ch_dn_off);
    free(g->ch_dn_node);
    free(g->ch_dn_cost);
    free(g->ch_dn_arc);
    free(g->ch_arc_tail);
    free(g->ch_arc_head);
    free(g->ch_arc_a);
    free(g->ch_arc_b);
    g->ch_rank = g->ch_up_off = g->ch_up_node = g->ch_up_arc = g->ch_dn_off = g->ch_dn_node = g->ch_dn_arc = NULL;
    g->ch_up_cost = g->ch_dn_cost = NULL;
    g->ch_arc_tail = g->ch_arc_head = g->ch_arc_a = g->ch_arc_b = NULL;
    g->ch_n_arcs = 0;
}
