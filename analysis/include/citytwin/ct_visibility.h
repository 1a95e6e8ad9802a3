/* Visibility on terrain: viewshed (which cells of a DEM an observer sees) and
 * line of sight between two 3D points against a DEM and against triangle
 * meshes (Embree ray queries). Pure computation, no OpenGL.
 *
 * The viewshed follows the scan of gdal_viewshed (GDAL 3.6, "edge" mode: a
 * variant of Wang et al. 2000, "Generating viewsheds without using
 * sightlines"), cell for cell, so the two can be compared; see
 * docs/visibility.md for the model and the measured agreement. */
#ifndef CT_VISIBILITY_H
#define CT_VISIBILITY_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_raster.h"
#include "citytwin/ct_gltf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default curvature/refraction coefficient, as gdal_viewshed's -cc: heights are
 * lowered by k * d^2 / (2 a) with a the ellipsoid's semi-major axis. 6/7 is
 * 1 - 0.13 (a standard refraction coefficient) rounded as GDAL does. */
#define CT_VIEWSHED_DEFAULT_CURVATURE 0.85714

typedef struct ct_viewshed_desc {
    double observer_x, observer_y; /* in the DEM's CRS */
    double observer_height;        /* above the surface at the observer's cell */
    /* When set, the observer stands at observer_ground + observer_height instead
     * (a DEM ground under a DSM surface, see --surface). */
    bool has_observer_ground;
    double observer_ground;
    double target_height;          /* above the surface of each target cell */
    double max_distance;           /* metres; 0 = the whole raster */
    double curvature;              /* 0 = flat earth; CT_VIEWSHED_DEFAULT_CURVATURE for gdal's default */
    /* Value of cells beyond max_distance and of DEM holes (nodata tag of the
     * output). 0 means the default, 1. Visible cells are 255, hidden ones 0. */
    uint8_t out_of_range_value;
    int threads;                   /* 0 = OpenMP default */
    /* Optional: fraction of rows scanned, called from the calling thread. */
    ct_progress_fn progress;
    void *progress_user;
} ct_viewshed_desc;

typedef struct ct_viewshed {
    int width, height;             /* output window (clipped to max_distance, as gdal_viewshed) */
    int x_off, y_off;              /* window origin in the DEM's cells */
    double geotransform[6];
    char *crs_wkt;
    uint8_t *cells;                /* width*height: 255 visible, 0 hidden, out_of_range_value */
    uint8_t out_of_range_value;
    uint64_t visible_cells;        /* cells equal to 255 */
    uint64_t total_cells;          /* cells within range and not DEM holes */
    int observer_col, observer_row;/* in the DEM */
    double observer_z;             /* absolute height of the eye */
} ct_viewshed;

/* Reads band 1 of a DEM as ct_raster_read does (nodata cells NAN), faster:
 * blocks straight from the driver, by up to 4 threads (threads 0 = default). */
ct_status ct_visibility_dem_read(const char *path, int threads, ct_raster **out, ct_error *err);

/* Computes the viewshed of dem. Observer outside the DEM or on a hole:
 * CT_ERR_INPUT. A geographic DEM (degrees) is handled by converting cell sizes
 * to metres at the observer's latitude (for max_distance and curvature). */
ct_status ct_viewshed_compute(const ct_raster *dem, const ct_viewshed_desc *desc, ct_viewshed **out, ct_error *err);
/* The same cells as ct_viewshed_compute on the file's band 1 (nodata as
 * holes), reading the DEM block row by block row while scanning instead of
 * holding it whole: less memory and, on large DEMs, much less CPU (no
 * 400 MB grid to fault in for a 10,000^2 DEM). Unreadable file or block:
 * CT_ERR_INPUT naming the file. */
ct_status ct_viewshed_compute_file(const char *path, const ct_viewshed_desc *desc, ct_viewshed **out, ct_error *err);
/* Byte GeoTIFF, nodata = out_of_range_value. */
ct_status ct_viewshed_write_gtiff(const ct_viewshed *v, const char *path, ct_error *err);
void ct_viewshed_destroy(ct_viewshed *v);

/* Raises dem by building heights: each footprint polygon of the OGR source
 * (SRC or SRC:layer) adds its height_field value (metres) to the cells whose
 * centres it covers (overlaps: the highest wins). Footprints in another CRS
 * are reprojected to the DEM's. Features without a usable height get
 * default_height (0 = skipped); *burned counts footprints burned. */
ct_status ct_visibility_burn_buildings(ct_raster *dem, const char *src, const char *height_field,
                                       double default_height, size_t *burned, ct_error *err);

/* Bilinear height at (x, y) from cell centres; NAN outside or next to holes. */
double ct_raster_sample_bilinear(const ct_raster *r, double x, double y);

/* ---- Line of sight ---- */

typedef struct ct_los_sample {
    double t;          /* 0..1 along the segment */
    double distance;   /* metres from the start (horizontal) */
    double x, y;
    double line_z;     /* height of the sight line here */
    double ground_z;   /* bilinear DEM height (curvature-corrected), NAN on holes */
    double clearance;  /* line_z - ground_z */
} ct_los_sample;

typedef struct ct_los_desc {
    double from[3], to[3]; /* absolute heights, in the DEM's CRS */
    double step;           /* sampling step in metres; 0 = half the smallest cell side */
    double curvature;      /* as ct_viewshed_desc (0 = none) */
    /* CRS of the points when there is no DEM (NULL: metric), so that lengths
     * are metres in a geographic CRS too. */
    const char *crs;
    /* Optional: fraction done from the calling thread (the DEM samples, then
     * the mesh ray), ending at 1. */
    ct_progress_fn progress;
    void *progress_user;
} ct_los_desc;

typedef struct ct_los_result {
    bool visible;          /* nothing blocks the segment */
    bool blocked_by_mesh;  /* the first obstruction is a mesh triangle (not the DEM) */
    bool blocked_by_tileset; /* ... and that mesh came from a tileset */
    char *obstruction_source; /* the mesh's source (file or tile content URI), or NULL */
    double obstruction[3]; /* first obstruction point (valid when !visible) */
    double obstruction_t;  /* 0..1 along the segment */
    double min_clearance;  /* smallest line_z - ground_z over the DEM samples */
    double length;         /* 3D length of the segment, metres */
    ct_los_sample *samples;
    size_t sample_count;
    size_t hole_samples;   /* samples on DEM holes (not counted as blocking) */
} ct_los_result;

/* Triangle meshes for line of sight, in the same CRS as the DEM (Embree scene). */
typedef struct ct_los_meshes ct_los_meshes;
ct_status ct_los_meshes_create(ct_los_meshes **out, ct_error *err);
/* Adds triangles: positions xyz triples, indices triples (indices NULL: every 3 vertices). */
ct_status ct_los_meshes_add(ct_los_meshes *m, const double *positions, size_t vertex_count,
                            const uint32_t *indices, size_t index_count, ct_error *err);
/* Adds the triangles of a glTF's default scene (node transforms applied).
 * y_up: convert glTF's Y-up axes to Z-up ((x, y, z) -> (x, -z, y), as 3D
 * Tiles does); then offset (may be NULL) is added: the CRS position of the
 * glTF origin. Point and line primitives are skipped. */
ct_status ct_los_meshes_add_gltf(ct_los_meshes *m, const ct_gltf *g, bool y_up, const double offset[3], ct_error *err);
/* Names the source of the meshes added next (a file, a tile's content URI):
 * a hit reports it as obstruction_source. tileset: they come from a tileset. */
ct_status ct_los_meshes_set_source(ct_los_meshes *m, const char *source, bool tileset, ct_error *err);
/* Builds the acceleration structure; call after the last add, before queries. */
ct_status ct_los_meshes_commit(ct_los_meshes *m, ct_error *err);
size_t ct_los_meshes_triangle_count(const ct_los_meshes *m);
void ct_los_meshes_destroy(ct_los_meshes *m);

/* The triangles of a 3D Tiles tileset along a sight segment. */
typedef struct ct_los_tileset_desc {
    const char *uri;        /* tileset.json: path, file:// or http(s):// URL */
    double from[3], to[3];  /* the segment, in crs (heights as in the DEM) */
    /* CRS of the segment and of the meshes (the DEM's); NULL: EPSG:4326
     * (lon, lat degrees). Used for georeferenced tilesets only. */
    const char *crs;
    /* Descend until a tile's geometric error is <= max_error (metres);
     * 0: down to the finest level. */
    double max_error;
    /* Added to the tileset's ellipsoidal heights before comparing them with
     * the segment's (a geoid undulation: DEM heights above the geoid). */
    double height_offset;
    /* Tilesets whose frame is not ECEF (no region, root box centre within
     * 5000 km of the earth's centre): frame coordinates are taken as crs
     * coordinates after adding offset. */
    double offset[3];
    double margin;          /* metres around the segment for tile culling; 0: 1 m */
    int workers;            /* 0: the tileset's default */
    double timeout_s;       /* give up loading after; 0: 600 s */
} ct_los_tileset_desc;

typedef struct ct_los_tileset_stats {
    size_t tiles_loaded;    /* contents loaded and decoded */
    size_t tiles_failed;    /* contents that failed (logged, skipped) */
    size_t tiles_used;      /* contents whose triangles were added */
    size_t triangles;       /* triangles added (instances expanded) */
    bool georeferenced;     /* the tileset frame was taken as ECEF */
} ct_los_tileset_stats;

/* Selects the tiles whose bounding volume meets the segment (REPLACE: the
 * children replace a tile only when all of them load; ADD: both), loads
 * them and adds their triangles (i3dm instances, EXT_mesh_gpu_instancing
 * expanded; points skipped), transformed tile frame -> ECEF -> crs. Bad
 * tiles are logged and counted; an unreadable tileset.json is CT_ERR_INPUT.
 * Stats accumulate into *stats. */
ct_status ct_los_meshes_add_tileset(ct_los_meshes *m, const ct_los_tileset_desc *desc, ct_los_tileset_stats *stats,
                                    ct_error *err);

/* dem and meshes may each be NULL (not both). */
ct_status ct_los_compute(const ct_raster *dem, const ct_los_meshes *meshes, const ct_los_desc *desc,
                         ct_los_result *out, ct_error *err);
void ct_los_result_free(ct_los_result *r);

#ifdef __cplusplus
}
#endif
#endif
