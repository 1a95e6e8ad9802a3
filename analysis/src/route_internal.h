/* Internal to the routing module (route_*.c): the graph layout. */
#ifndef CT_ROUTE_INTERNAL_H
#define CT_ROUTE_INTERNAL_H

#include "citytwin/ct_geo.h"
#include "citytwin/ct_route.h"

#include <math.h>

/* Graph nodes are junctions, plus one copy of a junction per incoming edge
 * where turn restrictions apply (so plain node-based searches honour them).
 * Segments are the undirected road pieces between junctions, with their
 * geometry; directed edges point to a segment and say which way they run. */
struct ct_route_graph {
    char *crs_wkt;
    bool geographic, osm, layer_costs;
    char metric_crs[256];       /* PROJ string of the local metric CRS ("" = source CRS is metric) */
    ct_crs_transform *to_metric; /* source -> metric; NULL when the source is metric */

    size_t n_junctions;
    double *jx, *jy; /* metric */

    size_t n_nodes;
    uint32_t *node_junction;
    uint32_t *jnode_off, *jnode; /* nodes of each junction (CSR; copies for turn restrictions) */

    size_t n_segs;
    uint32_t *seg_first;       /* vertex range [seg_first[s], seg_first[s+1]) */
    uint32_t *seg_a, *seg_b;   /* junctions at the first / last vertex */
    double *seg_len;           /* metres (geodesic for geographic sources) */
    int64_t *seg_fid;
    size_t n_verts;
    double *vx, *vy;           /* metric */
    double *vox, *voy;         /* source CRS */

    size_t n_edges;
    uint32_t *e_tail, *e_head, *e_seg;
    uint8_t *e_rev;            /* 1: runs from seg_b to seg_a */
    double *e_cost;
    uint32_t *out_off;         /* CSR by tail: out_off[n_nodes+1], edges sorted by tail */
    uint32_t *in_off, *in_edge; /* CSR by head */
    uint32_t *seg_edge_off, *seg_edge; /* directed edges of each segment */

    int n_landmarks;
    double *lm_from; /* [l * n_nodes + v] = d(L_l, v) */
    double *lm_to;   /* [l * n_nodes + v] = d(v, L_l) */

    /* contraction hierarchy (route_ch.c; NULL ch_rank: not built) */
    uint32_t *ch_rank;
    uint32_t *ch_up_off, *ch_up_node, *ch_up_arc; /* arcs v->w, rank w > rank v (CSR by v) */
    double *ch_up_cost;
    uint32_t *ch_dn_off, *ch_dn_node, *ch_dn_arc; /* arcs u->v, rank u > rank v (CSR by v) */
    double *ch_dn_cost;
    size_t ch_n_arcs;
    uint32_t *ch_arc_tail, *ch_arc_head;
    uint32_t *ch_arc_a, *ch_arc_b; /* shortcut: arcs tail->middle, middle->head; b = UINT32_MAX: a is an edge id */

    /* uniform grid over geometry pieces (vertex i to i+1 of one segment) */
    double gx0, gy0, gcell;
    int gnx, gny;
    uint32_t *gcell_off, *gitems;
    uint32_t *vert_seg;

    ct_route_graph_info info;
};

struct ct_route_closures {
    const ct_route_graph *g;
    uint8_t *seg_closed;
    size_t count;
    bool by_fid, by_polygon; /* for the "closed by" reason */
};

/* Min-heap of (key, node) with lazy deletion. */
typedef struct route_heap_item {
    double key;
    uint32_t node;
} route_heap_item;

typedef struct route_heap {
    route_heap_item *a;
    size_t n, cap;
} route_heap;

bool route_heap_push(route_heap *h, double key, uint32_t node);
route_heap_item route_heap_pop(route_heap *h);

/* Plain one-to-all Dijkstra on the whole graph (forward or backward), used for
 * landmarks: dist gets n_nodes values. */
void route_dijkstra_all(const ct_route_graph *g, const uint32_t *src, size_t n_src, bool backward, double *dist,
                        route_heap *heap);

/* Position of a fraction t (0..1 of metric length) along a segment: vertex
 * piece index (global) and the fraction inside that piece. */
void route_seg_locate(const ct_route_graph *g, uint32_t seg, double t, uint32_t *piece, double *f);

/* Builds / frees the contraction hierarchy of a loaded graph (route_ch.c). */
bool route_ch_build(ct_route_graph *g);
void route_ch_free(ct_route_graph *g);

const ct_route_graph *route_searcher_graph(const ct_route_searcher *s);

typedef struct route_pts {
    double *xy; /* x0,y0,x1,y1,... */
    size_t n, cap;
} route_pts;
/* Appends a point unless it repeats the last one. */
bool route_pts_add(route_pts *p, double x, double y);

/* Appends the part of a segment from position t0 to t1 (t0 > t1: backwards)
 * to a route_pts, metric or source CRS. */
bool route_seg_part(const ct_route_graph *g, uint32_t seg, double t0, double t1, bool metric, void *pts);

#endif
