/* Impact radius: what lies within rings around an incident (a point, line or
 * polygon), from any OGR layers. Distances are exact (GEOS, reentrant _r API,
 * prepared incident geometry, STRtree index), not buffer approximations, so a
 * ring holds the same features as PostGIS ST_DWithin(geom, incident, radius).
 * Rings are cumulative: ring i holds every feature within radius i, the
 * features of the inner rings included. */
#ifndef CT_IMPACT_H
#define CT_IMPACT_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_impact_layer ct_impact_layer;

typedef struct ct_impact_layer_desc {
    const char *name;          /* name in the report and the output file */
    const char *source;        /* any OGR datasource; "SRC:layername" picks a layer (default: the first) */
    const char *id_field;      /* feature ids; NULL = the OGR FID */
    const char *target_crs;    /* reproject into this CRS (EPSG:n, PROJ, WKT); NULL = keep */
    const char *utility_field; /* line layers: lengths are summed per value of this field;
                                  NULL = "utility", else "type" when present */
    const char *where;         /* OGR attribute filter (SQL WHERE), e.g. "building IS NOT NULL"; NULL = all */
    bool drop_attributes;      /* do not keep attributes for the output file (benchmarks) */
} ct_impact_layer_desc;

/* Loads a layer: every feature with a usable geometry, indexed. Features
 * without geometry (or that fail to reproject) are skipped, logged, counted.
 * Missing source, missing layer, unknown id field, untransformable CRS: CT_ERR_INPUT. */
ct_status ct_impact_layer_load(const ct_impact_layer_desc *desc, ct_impact_layer **out, ct_error *err);
void ct_impact_layer_destroy(ct_impact_layer *l);
size_t ct_impact_layer_size(const ct_impact_layer *l);
size_t ct_impact_layer_skipped(const ct_impact_layer *l);
const char *ct_impact_layer_name(const ct_impact_layer *l);
/* The CRS of a source's layer as WKT ("" when it has none; malloc'ed). */
ct_status ct_impact_source_crs(const char *source, char **wkt, ct_error *err);
/* For geographic CRSs: the UTM zone (EPSG:326zz / 327zz) containing lon, lat. */
void ct_impact_utm_for(double lon, double lat, char out[16]);

/* Occupants of a building: floor area x floors / m^2 per person for its use
 * (docs/impact.md lists the table, from IBC 2021 Table 1004.5). use may be
 * NULL ("yes" / unknown counts as residential). */
double ct_impact_m2_per_person(const char *use);

typedef struct ct_impact_query {
    double x, y;               /* a point incident, when wkt is NULL */
    const char *wkt;           /* a line or polygon incident (any WKT geometry), in the layers' CRS */
    const double *radii;       /* metres, ascending, > 0 */
    size_t radius_count;
    /* Optional: share of the candidate features measured (layer by layer). */
    ct_progress_fn progress;
    void *progress_user;
} ct_impact_query;

typedef struct ct_impact_hit {
    size_t feature;            /* index in the layer */
    double distance;           /* metres from the incident (0 inside or touching) */
    int ring;                  /* smallest ring that holds it */
} ct_impact_hit;

typedef struct ct_impact_ring_stats {
    size_t count;              /* features within the radius (inner rings included) */
    double occupants;          /* polygons: estimated occupants; 0 otherwise */
    double length_m;           /* lines: length of the lines inside the ring's disc */
    size_t utility_count;      /* per-utility lengths (same order as ct_impact_layer_utility) */
    double *utility_length_m;
} ct_impact_ring_stats;

typedef struct ct_impact_layer_result {
    const ct_impact_layer *layer;
    ct_impact_hit *hits;       /* within the largest radius, sorted by id */
    size_t hit_count;
    ct_impact_ring_stats *rings; /* radius_count entries */
    bool has_polygons, has_lines;
} ct_impact_layer_result;

typedef struct ct_impact_result {
    size_t ring_count;
    double *radii;
    size_t layer_count;
    ct_impact_layer_result *layers;
    char *incident_wkt;
} ct_impact_result;

/* Runs one query over n layers (all in the same CRS). Thread-safe for
 * concurrent queries on the same layers. Bad WKT / radii: CT_ERR_USAGE. */
ct_status ct_impact_run(ct_impact_layer *const *layers, size_t n, const ct_impact_query *q, ct_impact_result **out,
                        ct_error *err);
void ct_impact_result_destroy(ct_impact_result *r);

/* Feature id: numeric ids (FID, integer fields) or strings. */
bool ct_impact_layer_ids_numeric(const ct_impact_layer *l);
int64_t ct_impact_layer_id_number(const ct_impact_layer *l, size_t feature);
const char *ct_impact_layer_id_string(const ct_impact_layer *l, size_t feature);
/* The feature's geometry (in the layer's target CRS) as WKT, malloc'ed; NULL
 * when out of range or out of memory. For maps (the --report page). */
char *ct_impact_layer_feature_wkt(const ct_impact_layer *l, size_t feature);
/* A feature's attribute as a string ("name" for map labels); NULL when the
 * layer has no such field, the value is null or empty, or attributes were
 * dropped. Valid until the next call for the same feature. */
const char *ct_impact_layer_feature_string(const ct_impact_layer *l, size_t feature, const char *field);
/* Number of distinct utility values of a line layer, and each one. */
size_t ct_impact_layer_utility_count(const ct_impact_layer *l);
const char *ct_impact_layer_utility(const ct_impact_layer *l, size_t i);

/* Writes the selected features of each layer (attributes + ring_m, distance_m,
 * and occupants or length_in_ring_m) and a "rings" layer of ring discs to a
 * GeoPackage (one layer per input layer) or to GeoJSON (one collection, with a
 * "layer" property). crs: the layers' CRS (may be NULL). */
ct_status ct_impact_write(const ct_impact_result *r, const char *path, const char *crs, ct_error *err);

/* Parses "50,200,500" into ascending radii (> 0, at most max). Returns the
 * count, or -1 with err set on bad text (unsorted, duplicates, not numbers). */
int ct_impact_parse_rings(const char *text, double *radii, int max, ct_error *err);
/* Rings of a preset ("gas-leak", "explosion", "chemical"; see docs/impact.md
 * for the sources); count or -1 when unknown. */
int ct_impact_preset_rings(const char *preset, double *radii, int max);

#ifdef __cplusplus
}
#endif
#endif
