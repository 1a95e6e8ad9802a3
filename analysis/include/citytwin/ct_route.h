/* Fire-rescue routing: a road graph from OSM (GDAL's OSM driver) or any OGR
 * line layer, fastest routes (exact: contraction hierarchy by default, ALT = A* with landmarks, plain Dijkstra
 * as the reference), k loopless alternatives (Yen), per-query closures
 * (edges by feature id, or every edge crossing avoid-polygons) and
 * isochrone polygons. No OpenGL; see docs/routing.md.
 *
 * Coordinates given to and returned by this module are in the road source's
 * CRS ("source CRS"). Internally geographic sources are projected to a local
 * transverse Mercator (metres) for snapping and buffers; edge lengths of
 * geographic sources are geodesic (WGS84 ellipsoid). Costs are seconds. */
#ifndef CT_ROUTE_H
#define CT_ROUTE_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- speed table: road class -> km/h (0 = not routable) ---- */
typedef struct ct_route_speed {
    char road_class[48];
    double kmh;
} ct_route_speed;

typedef struct ct_route_speeds {
    ct_route_speed *items;
    size_t count;
} ct_route_speeds;

/* The built-in table (OSM highway=* classes; see docs/routing.md). */
void ct_route_speeds_default(ct_route_speeds *out);
/* CSV "class,kmh" (header line optional, '#' comments, blank lines ok). Rows
 * override the built-in defaults when merged by ct_route_speeds_load. */
ct_status ct_route_speeds_parse(const char *text, size_t len, ct_route_speeds *out, ct_error *err);
/* Built-in defaults overridden by the rows of a CSV file (path may be NULL). */
ct_status ct_route_speeds_load(const char *path, ct_route_speeds *out, ct_error *err);
/* km/h for a class, or -1 when the class is not in the table. */
double ct_route_speeds_get(const ct_route_speeds *s, const char *road_class);
void ct_route_speeds_free(ct_route_speeds *s);

/* ---- small OSM tag helpers (public for tests and fuzzing) ---- */
/* Value of key in a GDAL OSM "other_tags" hstore string ("k"=>"v","k2"=>"v2").
 * Writes at most cap-1 bytes; returns false when absent or malformed. */
bool ct_route_hstore_get(const char *hstore, const char *key, char *value, size_t cap);
/* OSM oneway value: 1 forward only, -1 backward only, 0 both ways, 2 unknown. */
int ct_route_oneway_parse(const char *v);
/* OSM maxspeed ("50", "30 mph", "walk", "none") in km/h, or -1 when unusable. */
double ct_route_maxspeed_parse(const char *v);

/* CSV "from_x,from_y,to_x,to_y" (header required). xy gets 4 doubles a row. */
typedef struct ct_route_pairs {
    double *xy;
    size_t count;
} ct_route_pairs;
ct_status ct_route_pairs_parse(const char *text, size_t len, const char *name, ct_route_pairs *out, ct_error *err);
void ct_route_pairs_free(ct_route_pairs *p);

/* ---- the graph ---- */
typedef struct ct_route_graph ct_route_graph;

typedef struct ct_route_graph_desc {
    const char *path;               /* OSM (.pbf/.osm/.osm.gz) or any OGR source with lines */
    const char *layer;              /* NULL: "lines" for OSM, else the first line layer */
    const ct_route_speeds *speeds;  /* NULL: built-in table */
    /* Generic OGR layers; NULL means auto-detect by common names. */
    const char *cost_field;         /* forward cost (layer units); negative = closed */
    const char *reverse_cost_field; /* backward cost; negative = one-way */
    const char *speed_field;        /* km/h ("speed", "speed_kmh", "maxspeed") */
    const char *class_field;        /* road class ("highway", "class", "road_class", "fclass", "type") */
    const char *oneway_field;       /* ("oneway", "one_way"): yes/1/true, -1/reverse, no/0/false */
    double default_kmh;             /* generic layers without a usable speed; 0 = 30 */
    double snap_tolerance;          /* joins line ends closer than this (metres); 0 = 0.5 (OSM: 0.01) */
    bool ignore_turn_restrictions;
    int landmarks;                  /* ALT landmarks; 0 = 16, -1 = none (Dijkstra only) */
    bool skip_ch;                   /* no contraction hierarchy: CT_ROUTE_CH queries run ALT */
} ct_route_graph_desc;

typedef struct ct_route_graph_info {
    size_t nodes;            /* graph nodes incl. copies made for turn restrictions */
    size_t junctions;        /* distinct road junctions / ends */
    size_t edges;            /* directed edges */
    size_t segments;         /* undirected road pieces between junctions */
    size_t features_read;    /* line features used as roads */
    size_t features_skipped; /* not roads (class not routable), empty or bad geometry */
    size_t restrictions_read, restrictions_applied;
    int landmarks;
    bool geographic;
    bool osm;
    double load_s, prepare_s; /* prepare_s: landmarks + contraction hierarchy */
    double landmarks_s, ch_s;
    bool ch;                  /* contraction hierarchy built */
    size_t ch_shortcuts;
} ct_route_graph_info;

ct_status ct_route_graph_load(const ct_route_graph_desc *desc, ct_route_graph **out, ct_error *err);
void ct_route_graph_destroy(ct_route_graph *g);
void ct_route_graph_get_info(const ct_route_graph *g, ct_route_graph_info *info);
/* WKT of the source CRS ("" when unknown). */
const char *ct_route_graph_crs(const ct_route_graph *g);
/* Node position in source CRS; false when i is out of range. */
bool ct_route_graph_node_xy(const ct_route_graph *g, size_t node, double *x, double *y);
/* Directed edges: tail, head, cost (seconds or layer units), segment id. */
bool ct_route_graph_edge(const ct_route_graph *g, size_t edge, uint32_t *tail, uint32_t *head, double *cost,
                         uint32_t *segment);
/* Source feature id (OGR FID; OSM way id) of a segment. */
int64_t ct_route_graph_segment_fid(const ct_route_graph *g, size_t segment);

/* ---- closures (per query) ---- */
typedef struct ct_route_closures ct_route_closures;
ct_route_closures *ct_route_closures_create(const ct_route_graph *g);
void ct_route_closures_destroy(ct_route_closures *c);
/* Closes every segment of a source feature; returns how many segments closed. */
size_t ct_route_closures_add_fid(ct_route_closures *c, int64_t fid);
void ct_route_closures_add_segment(ct_route_closures *c, size_t segment);
/* Closes every segment intersecting a polygon of an OGR source (any CRS). */
ct_status ct_route_closures_add_polygons(ct_route_closures *c, const char *path, size_t *n_closed, ct_error *err);
size_t ct_route_closures_count(const ct_route_closures *c);

/* ---- snapping ---- */
typedef struct ct_route_snap {
    bool ok;
    uint32_t segment;
    double t;       /* position along the segment, 0..1 of its cost/length */
    double dist_m;  /* distance from the query point to the road */
    double x, y;    /* the point on the road, source CRS */
} ct_route_snap;

/* Nearest point on the nearest open segment (closures may be NULL). Fails
 * with CT_ERR_INPUT when no open segment lies within max_dist_m (0 = any). */
ct_status ct_route_snap_point(const ct_route_graph *g, double x, double y, const ct_route_closures *closures,
                              double max_dist_m, ct_route_snap *out, ct_error *err);

/* ---- queries ---- */
typedef enum ct_route_algo {
    CT_ROUTE_CH = 0,   /* contraction hierarchy (default; exact: a path through a
                          closed segment, or k > 1, falls back to ALT) */
    CT_ROUTE_ALT,      /* A* with landmarks (exact with any closures) */
    CT_ROUTE_DIJKSTRA, /* plain Dijkstra, the reference */
    CT_ROUTE_BIDIJKSTRA,
    CT_ROUTE_ALGO_COUNT
} ct_route_algo;

typedef struct ct_route_path {
    double cost_s, length_m;
    size_t n_edges;
    uint32_t *edges; /* directed edge ids, in order (may be empty: both ends on one segment) */
} ct_route_path;

typedef struct ct_route_result {
    bool reachable;
    char reason[160]; /* when not reachable */
    int n_paths;      /* 0..k, ordered by cost */
    ct_route_path *paths;
    size_t settled;   /* nodes settled by the searches (statistics) */
    bool ch_fallback; /* CH's best path crossed a closure: ALT searched again */
} ct_route_result;

typedef struct ct_route_query {
    ct_route_snap from, to;
    const ct_route_closures *closures; /* may be NULL */
    int k;                              /* 0 = 1 */
    ct_route_algo algo;
} ct_route_query;

/* Workspace for queries (one per thread). */
typedef struct ct_route_searcher ct_route_searcher;
ct_route_searcher *ct_route_searcher_create(const ct_route_graph *g);
void ct_route_searcher_destroy(ct_route_searcher *s);
ct_status ct_route_search(ct_route_searcher *s, const ct_route_query *q, ct_route_result *out, ct_error *err);
void ct_route_result_free(ct_route_result *r);

/* Node-to-node cost (no snapping), INFINITY when unreachable: what
 * pgr_dijkstra returns on the edge table from ct_route_graph_edge. */
double ct_route_node_cost(ct_route_searcher *s, uint32_t from, uint32_t to, const ct_route_closures *closures,
                          ct_route_algo algo);

/* Polyline of a path in source CRS, from the snapped start to the snapped end.
 * *xy is malloc'ed (2 doubles a point). */
ct_status ct_route_path_geometry(const ct_route_graph *g, const ct_route_query *q, const ct_route_path *p,
                                 double **xy, size_t *n_points, ct_error *err);

/* Seconds to reach every node from the starts (INFINITY unreachable). */
ct_status ct_route_reach_times(ct_route_searcher *s, const ct_route_snap *from, size_t n_from,
                               const ct_route_closures *closures, double *node_times, ct_error *err);

/* ---- isochrones ---- */
typedef struct ct_route_isochrone {
    double minutes;
    double area_m2;
    size_t segments_reached;
    unsigned char *wkb; /* (Multi)Polygon in source CRS; NULL when empty */
    size_t wkb_size;
} ct_route_isochrone;

/* Reachable edge fragments within each limit, buffered by buffer_m
 * (0 = 25 m) and unioned (GEOS). out gets n_minutes entries. */
ct_status ct_route_isochrones(ct_route_searcher *s, const ct_route_snap *from, size_t n_from,
                              const ct_route_closures *closures, const double *minutes, size_t n_minutes,
                              double buffer_m, ct_route_isochrone *out, ct_error *err);
/* The same with a descriptor; progress (optional) gets the fraction done from
 * the calling thread: the reach times, then per limit the edge fragments, their
 * buffers and the union, ending at 1. */
typedef struct ct_route_isochrone_desc {
    const ct_route_snap *from;
    size_t n_from;
    const ct_route_closures *closures; /* may be NULL */
    const double *minutes;
    size_t n_minutes;
    double buffer_m;                   /* 0 = 25 m */
    ct_progress_fn progress;
    void *progress_user;
} ct_route_isochrone_desc;
ct_status ct_route_isochrones_compute(ct_route_searcher *s, const ct_route_isochrone_desc *desc,
                                      ct_route_isochrone *out, ct_error *err);
void ct_route_isochrone_free(ct_route_isochrone *iso);

/* ---- output ---- */
/* Writes features to a GeoPackage (overwritten) in the graph's CRS. */
typedef struct ct_route_out_row {
    int query, rank, from_index, to_index;
    double from_x, from_y, to_x, to_y, cost_s, length_m, snap_from_m, snap_to_m;
    bool reachable;
    const double *xy; /* polyline, may be NULL for unreachable rows */
    size_t n_points;
} ct_route_out_row;
ct_status ct_route_write_routes(const ct_route_graph *g, const char *path, const ct_route_out_row *rows, size_t n,
                                ct_error *err);
ct_status ct_route_write_isochrones(const ct_route_graph *g, const char *path, const ct_route_isochrone *iso,
                                    size_t n, ct_error *err);

#ifdef __cplusplus
}
#endif
#endif
