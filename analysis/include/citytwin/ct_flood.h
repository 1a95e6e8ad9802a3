/* Flood analyses on a DEM grid (pure computation, no OpenGL):
 *
 *  - static inundation ("bathtub"): cells below a water level connected to
 *    seed points, agreeing cell for cell with GRASS r.lake;
 *  - ponding of a rainfall depth: a priority-flood depression hierarchy
 *    (fill, spill, merge);
 *  - dynamic 2D flood: the local inertial shallow-water scheme (Bates et al.
 *    2010, q-centred variant of de Almeida et al. 2012), OpenMP on rows and,
 *    when launched by mpirun, MPI 2D blocks (a Cartesian communicator) with
 *    one-cell halos; each rank can read only its block from the files.
 *
 * Rasters are ct_raster (row-major from the top-left, NAN = nodata). Points
 * are X,Y in the DEM's CRS. Depth outputs are metres, NAN where dry. */
#ifndef CT_FLOOD_H
#define CT_FLOOD_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- helpers */

/* Area of each row's cells in m² (n = dem->height): the geotransform's cell
 * area for projected DEMs, the ellipsoidal area for geographic ones (degrees),
 * as GRASS does. Returns a malloc'ed array, or NULL when out of memory. */
double *ct_flood_row_areas(const ct_raster *dem);

/* Cell (col,row) holding world point (x,y); false when outside the raster. */
bool ct_flood_cell_of(const ct_raster *dem, double x, double y, int *col, int *row);

/* The wet (not NAN) cells of a raster as polygons: one per 4-connected
 * region of wet cells (dry cells 8-connected), as GDALPolygonize's default,
 * but valid OGC polygons without repair: where two regions, or a region and
 * a hole, touch only at a corner, the rings touch at that point. Corners
 * are in grid units: x = column, y = row of the cell corner (0 .. width,
 * 0 .. height, rows downwards); only corners where the boundary turns are
 * kept. Built in one scan, following each boundary once. */
typedef struct ct_flood_polygons {
    int n_polygons;
    int *ring_first;    /* n_polygons + 1: polygon p owns rings ring_first[p] .. ring_first[p+1]-1, exterior first */
    int n_rings;
    size_t *ring_start; /* per ring: index of its first corner in xy */
    size_t *ring_count; /* per ring: corners (not closed: the last joins the first) */
    int32_t *xy;        /* corners: x (column), y (row) pairs */
    int64_t *cells;     /* per polygon: wet cells it covers */
} ct_flood_polygons;
ct_status ct_flood_polygons_build(const ct_raster *r, ct_flood_polygons *out, ct_error *err);
void ct_flood_polygons_free(ct_flood_polygons *p);
/* Ring `ring` in world coordinates through geotransform gt, closed (count + 1
 * points into x and y, which must hold that many), exterior counter-clockwise
 * and holes clockwise (OGC / RFC 7946). Returns the number of points. */
size_t ct_flood_polygons_ring_world(const ct_flood_polygons *p, const double gt[6], int ring, double *x, double *y);

/* Writes the cells where depth is not NAN as polygons (ct_flood_polygons,
 * valid without repair) in the raster's CRS. The
 * format follows the extension: .gpkg GeoPackage, .geojson/.json GeoJSON,
 * .shp Shapefile. Several depth rasters (one per level) go into one layer
 * with a "level" field; levels may be NULL. Fields: level, area_m2. */
ct_status ct_flood_extent_write(const char *path, const ct_raster *const *depths, const double *levels, int n,
                                ct_error *err);

/* Compression of flood result rasters, all with the TIFF floating-point
 * predictor except NONE. ZSTD level 1 is the default: on a 100 M-cell depth
 * grid it costs about half of DEFLATE level 1's CPU for a slightly
 * smaller file; every GDAL-based reader (QGIS, GRASS, rasterio; GDAL >= 2.3)
 * decodes it, some non-GDAL TIFF readers do not: use DEFLATE for them.
 * LZW is compressed by GDAL on one thread; NONE stores raw tiles. */
typedef enum ct_flood_compress {
    CT_FLOOD_COMPRESS_DEFAULT = 0, /* ZSTD */
    CT_FLOOD_COMPRESS_DEFLATE,
    CT_FLOOD_COMPRESS_ZSTD,
    CT_FLOOD_COMPRESS_LZW,
    CT_FLOOD_COMPRESS_NONE,
} ct_flood_compress;

/* "deflate", "zstd", "lzw", "none" (any case); false for anything else. */
bool ct_flood_compress_parse(const char *name, ct_flood_compress *out);
const char *ct_flood_compress_name(ct_flood_compress c);

typedef struct ct_flood_write_desc {
    ct_flood_compress compress; /* 0: ZSTD */
    int threads;                /* tiles compressed in parallel; 0: all cores (OpenMP) */
} ct_flood_write_desc;

/* Writes a flood result raster (depths, velocities, times) as a Float32
 * GeoTIFF made for speed on large grids: 256 x 256 tiles compressed on all
 * cores and appended in order (no copy of the whole grid), NAN cells as
 * nodata -9999, and tiles that are entirely dry not written at all (sparse:
 * readers built on GDAL see them as nodata). d may be NULL (defaults). */
ct_status ct_flood_raster_write_with(const ct_raster *r, const char *path, const ct_flood_write_desc *d,
                                     ct_error *err);
/* ct_flood_raster_write_with and the defaults. */
ct_status ct_flood_raster_write(const ct_raster *r, const char *path, ct_error *err);

/* ------------------------------------------------- static (bathtub) flood */

typedef struct ct_flood_static_desc {
    const ct_raster *dem;
    const double *seeds_xy; /* n_seeds pairs x,y in the DEM's CRS */
    int n_seeds;
    double level;           /* absolute water level (when !use_rise) */
    bool use_rise;          /* level = ground at each seed + rise */
    double rise;
    int connectivity;       /* 8 (0 = default) or 4 */
    /* Reproduce r.lake's edge quirk exactly: r.lake's 3x3 window reads the
     * last column as dry, so water never spreads *from* a last-column cell
     * (it can still be flooded from its western neighbours). */
    bool rlake_compat;
} ct_flood_static_desc;

typedef struct ct_flood_static_result {
    size_t cells;
    double area_m2, volume_m3, max_depth_m;
    int seeds_used;          /* seeds whose ground is below their level */
} ct_flood_static_result;

/* Fills depth (same size as dem; allocated with ct_raster_create(.., dem))
 * with level - ground on flooded cells and NAN elsewhere. A cell floods when
 * its ground is strictly below the level (compared in float32, as r.lake) and
 * it is connected to a seed through such cells; nodata cells are barriers.
 * Seeds outside the raster or on nodata: CT_ERR_INPUT. Seeds whose ground is
 * not below the level are skipped with a warning; CT_ERR_INPUT if all are. */
ct_status ct_flood_static_run(const ct_flood_static_desc *desc, ct_raster **depth, ct_flood_static_result *res,
                              ct_error *err);
/* As ct_flood_static_run, but dem itself becomes the depth raster instead of
 * a second grid being allocated: half the memory and markedly faster on a
 * large DEM. desc->dem is not used. On a usage or input error dem is left as
 * it was; after any other error its cells are undefined. */
ct_status ct_flood_static_run_in_place(const ct_flood_static_desc *desc, ct_raster *dem, ct_flood_static_result *res,
                                       ct_error *err);

/* ------------------------------------------------------ ponding of rain */

typedef struct ct_flood_pond_result {
    size_t cells;            /* wet cells */
    double area_m2, volume_m3, max_depth_m;
    double rain_volume_m3;   /* rain falling on valid cells */
    double outflow_m3;       /* spilled over the raster edge or into nodata */
    int depressions;         /* leaf depressions found */
    int depressions_full;    /* depressions (leaves and merged ones) filled to their spill level */
} ct_flood_pond_result;

/* Rain of rain_mm falls on every valid cell and runs downhill (steepest
 * descent) into the leaf depression of its catchment. Depressions are found
 * by a priority flood from all pits at once; where two floods meet, their
 * lowest saddle links them (a depression hierarchy, merged Kruskal-style).
 * A depression that receives more water than it holds at its spill level
 * fills to that level and passes the excess over its saddle to the
 * neighbouring depression; when both sides of a saddle are full they merge
 * and fill together; water reaching the raster edge or nodata leaves. Each
 * partly filled depression gets a flat water level whose stored volume equals
 * the water it received. depth: NAN where dry. Projected DEMs only. */
ct_status ct_flood_pond_run(const ct_raster *dem, double rain_mm, ct_raster **depth, ct_flood_pond_result *res,
                            ct_error *err);

/* The same with a descriptor: progress (optional) gets the fraction done from
 * the calling thread: labelling (the priority flood, most of the time), the
 * hierarchy, the volumes, the levels and the depth grid, ending at 1. */
typedef struct ct_flood_pond_desc {
    const ct_raster *dem;
    double rain_mm;
    ct_progress_fn progress;
    void *progress_user;
} ct_flood_pond_desc;
ct_status ct_flood_pond_compute(const ct_flood_pond_desc *desc, ct_raster **depth, ct_flood_pond_result *res,
                                ct_error *err);

/* ------------------------------------------------------ dynamic 2D flood */

typedef enum ct_flood_boundary_kind {
    CT_FLOOD_BOUNDARY_CLOSED = 0, /* wall: no flow across the raster edge */
    CT_FLOOD_BOUNDARY_FREE,       /* outflow only, water surface parallel to the bed */
    CT_FLOOD_BOUNDARY_LEVEL,      /* fixed water level outside the edge (in- or outflow) */
} ct_flood_boundary_kind;

/* A time series: n points (t seconds, value), linearly interpolated, held
 * at the first/last value outside. */
typedef struct ct_flood_series {
    int n;
    const double *t, *v;
} ct_flood_series;

typedef struct ct_flood_boundary {
    ct_flood_boundary_kind kind;
    double level;
    /* Appended: a time-varying level outside the edge (a river or tide stage,
     * metres over time) for CT_FLOOD_BOUNDARY_LEVEL, used instead of level
     * when level_series.n > 0; evaluated at the middle of each time step. */
    ct_flood_series level_series;
} ct_flood_boundary;

enum { CT_FLOOD_NORTH = 0, CT_FLOOD_SOUTH = 1, CT_FLOOD_WEST = 2, CT_FLOOD_EAST = 3 };

/* Limits of the series CSV reader. */
#define CT_FLOOD_SERIES_MAX_BYTES (64u << 20)
#define CT_FLOOD_SERIES_MAX_ROWS 10000000

/* Parses a two-column CSV time series "time_s,value" (comma, semicolon, tab
 * or space separated): an optional UTF-8 BOM, \n, \r\n or \r line ends, blank
 * lines and '#' comments skipped, header lines skipped before the first row.
 * Errors (CT_ERR_INPUT, "name:line: ...") on a missing or extra column, a
 * non-number, NaN/inf, times not strictly increasing, NUL bytes, or no rows.
 * out's t/v are malloc'ed: free with ct_flood_series_free. */
ct_status ct_flood_series_parse(const char *text, size_t len, const char *name, ct_flood_series *out, ct_error *err);
/* Reads a file (at most CT_FLOOD_SERIES_MAX_BYTES) and parses it; errors name the path. */
ct_status ct_flood_series_load(const char *path, ct_flood_series *out, ct_error *err);
void ct_flood_series_free(ct_flood_series *s);

typedef struct ct_flood_inflow {
    double x, y;             /* DEM CRS */
    ct_flood_series q_m3s;   /* hydrograph, m³/s */
} ct_flood_inflow;

/* Rain raster series (radar nowcasts and the like): frame i's rates (mm/h,
 * any GDAL raster) fall from time t_i until the next frame's time, the last
 * one until the end; no rain before the first. Piecewise constant in time,
 * as gridded rain is usually given (an accumulation over each interval). */
typedef struct ct_flood_rain_frame {
    double t;            /* seconds, strictly increasing */
    const char *path;
} ct_flood_rain_frame;

typedef struct ct_flood_rain_list {
    int n;
    ct_flood_rain_frame *frames; /* paths malloc'ed */
} ct_flood_rain_list;

#define CT_FLOOD_RAIN_LIST_MAX_ROWS 1000000

/* Parses a list CSV "time_s,path" (the time ends at the first ',', ';' or
 * tab; the path is the rest of the line, trimmed, optionally in double
 * quotes; relative paths are joined to base_dir when given). BOM, \n, \r\n,
 * \r, blank lines, '#' comments and header lines before the first row are
 * accepted. Errors (CT_ERR_INPUT, "name:line: ...") on a non-number time,
 * NaN/inf, times not strictly increasing, a missing path, NUL bytes, no rows. */
ct_status ct_flood_rain_list_parse(const char *text, size_t len, const char *name, const char *base_dir,
                                   ct_flood_rain_list *out, ct_error *err);
/* Reads a list file; relative paths are taken from the list's folder. */
ct_status ct_flood_rain_list_load(const char *path, ct_flood_rain_list *out, ct_error *err);
void ct_flood_rain_list_free(ct_flood_rain_list *l);

/* One frame on the DEM grid (a raster like dem): read as is when it has the
 * DEM's grid, else reprojected and resampled bilinearly (GDALWarp, exact
 * transform; nodata cells left out of the kernel). Nodata, cells without data
 * and negative rates become 0 (no rain). A raster without a CRS is taken to
 * be in the DEM's. */
ct_status ct_flood_rain_frame_read(const char *path, const ct_raster *dem, ct_raster **out, ct_error *err);

/* An inflow along a line (a river or culvert entering along a bank): the
 * hydrograph is spread over the cells the line crosses in proportion to the
 * length of line inside each cell (ct_flood_line_cells). Cells on nodata or
 * buildings are left out and their share goes to the other crossed cells;
 * the part of the line outside the DEM is left out (logged). */
typedef struct ct_flood_line_inflow {
    const double *xy;        /* n_points pairs x,y in the DEM's CRS; a NAN pair separates parts */
    int n_points;
    ct_flood_series q_m3s;   /* hydrograph, m³/s, for the whole line */
} ct_flood_line_inflow;

/* Reads a line: WKT (LINESTRING / MULTILINESTRING), "X1,Y1;X2,Y2;..."
 * (both in crs when given, else in the DEM's CRS), or any OGR vector source
 * (all line features of its first layer, reprojected from the layer's CRS to
 * dem_crs_wkt). *xy: malloc'ed *n_points pairs, each part ended by a NAN pair. */
ct_status ct_flood_line_read(const char *spec, const char *dem_crs_wkt, const char *crs, double **xy, int *n_points,
                             ct_error *err);

/* The cells a line (xy as in ct_flood_line_inflow) crosses, with the length
 * of line inside each (metres, in the DEM's CRS units), sorted by cell index
 * row * width + col. A piece lying exactly on a cell edge goes to the cell
 * below/right of it. *outside_m (may be NULL): length outside the grid.
 * CT_ERR_INPUT when no part of the line lies inside. Malloc'ed arrays. */
ct_status ct_flood_line_cells(const ct_raster *dem, const double *xy, int n_points, long **cells, double **lengths,
                              int *n_cells, double *outside_m, ct_error *err);

typedef struct ct_flood_sim_desc {
    const ct_raster *dem;           /* projected CRS, metres */
    double duration_s;
    double rain_mm_h;               /* constant rate (when rain_series.n == 0) */
    ct_flood_series rain_series;    /* mm/h over time */
    const ct_flood_inflow *inflows;
    int n_inflows;
    double manning;                 /* 0 = 0.03 */
    const ct_raster *manning_raster;/* optional, same grid as dem; NAN cells use manning */
    ct_flood_boundary boundary[4];  /* by CT_FLOOD_NORTH..EAST; zero = closed */
    const uint8_t *blocked;         /* optional w*h mask: 1 = building (wall) */
    const double *gauges_xy;
    int n_gauges;
    double gauge_every_s;           /* 0 = 60 s (and at every snapshot) */
    double snapshot_every_s;        /* 0 = none */
    double alpha;                   /* CFL factor, 0 = 0.7 */
    double theta;                   /* q-centred weighting, 0 = 0.9 (1 = Bates 2010) */
    double h_dry;                   /* depth threshold for flow, 0 = 0.001 m */
    double h_wet;                   /* depth counted as flooded, 0 = 0.01 m */
    double dt_max;                  /* 0 = 10 s */
    double initial_level;           /* NAN/0 with use_initial_level=false: start dry */
    bool use_initial_level;         /* start with water up to initial_level everywhere below it */
    /* Called on rank 0 for each snapshot (t = k * snapshot_every_s); depth is
     * w*h metres, NAN where dry. A non-OK return aborts the run. */
    ct_status (*on_snapshot)(void *user, double t, const float *depth, ct_error *err);
    void *user;
    bool use_mpi;                   /* split the grid into 2D blocks across MPI_COMM_WORLD (after ct_flood_mpi_init) */
    /* Optional: called on rank 0 after each time step with simulated/duration. */
    ct_progress_fn progress;
    void *progress_user;
    /* Read from files instead (appended): when dem is NULL, every rank reads
     * only its block plus a one-cell halo of dem_path (GDAL windowed reads),
     * and of manning_path (when manning_raster is NULL; same size as the DEM).
     * buildings_src (OGR polygons, when blocked is NULL) is rasterized once
     * on rank 0 on the whole grid, as ct_flood_buildings_mask, and each rank
     * gets its block. Result rasters take the DEM file's georeferencing. */
    const char *dem_path;
    const char *manning_path;
    const char *buildings_src;
    /* Mass balance over time (appended): a ct_flood_mass_row at t = 0, at the
     * end of the first step reaching each multiple of this interval, and at
     * the end. 0 = gauge_every_s (60 s by default); at most 1,000,000 rows
     * (a shorter interval is widened). */
    double mass_balance_every_s;
    /* Line inflows (appended), counted in ct_flood_sim_result.inflow_m3. */
    const ct_flood_line_inflow *line_inflows;
    int n_line_inflows;
    /* Rain raster series (appended; exclusive with rain_mm_h and rain_series):
     * rank 0 reads each frame when its time comes (ct_flood_rain_frame_read,
     * one frame in memory at a time) and sends each rank its block; the time
     * steps stop at each frame's time, so every interval gets exactly its rate. */
    const ct_flood_rain_frame *rain_rasters;
    int n_rain_rasters;
} ct_flood_sim_desc;

/* The water budget up to time t: cumulative volumes since t = 0, the water on
 * the grid at t, and the balance error as ct_flood_sim_result's. The last
 * row (t = simulated_s) holds exactly the result's totals. */
typedef struct ct_flood_mass_row {
    double t;                               /* simulated seconds */
    double rain_m3, inflow_m3;              /* added since t = 0 */
    double boundary_in_m3, boundary_out_m3; /* across the raster edge since t = 0 */
    double storage_m3;                      /* on the grid at t (initial water included) */
    double error;                           /* |storage - initial - in + out| / max(in, initial, storage) */
} ct_flood_mass_row;

typedef struct ct_flood_sim_result {
    /* w*h grids (rank 0 only under MPI): NAN where never wet (> h_wet). */
    ct_raster *max_depth, *max_velocity, *arrival_time, *final_depth;
    /* gauges: n_times rows of (t, depth_1..depth_n_gauges, wse_1..wse_n) */
    int n_gauge_times;
    double *gauge_t;                /* n_gauge_times */
    float *gauge_depth;             /* n_gauge_times * n_gauges */
    float *gauge_wse;
    long long steps;
    double simulated_s, seconds, cell_updates_per_s;
    double rain_m3, inflow_m3, boundary_in_m3, boundary_out_m3;
    double initial_volume_m3, final_volume_m3;
    double mass_balance_error;      /* |final - initial - in + out| / max(in, initial, final) */
    double max_depth_m, flooded_area_m2;
    int ranks;
    int blocks_x, blocks_y;         /* MPI block grid: columns x rows of blocks (1 x 1 alone) */
    size_t blocked_cells;           /* cells blocked by buildings (buildings_src or blocked) */
    /* Mass balance over time (rank 0 only under MPI), see ct_flood_mass_row. */
    int n_mass_rows;
    ct_flood_mass_row *mass;
} ct_flood_sim_result;

ct_status ct_flood_sim_run(const ct_flood_sim_desc *desc, ct_flood_sim_result *res, ct_error *err);
void ct_flood_sim_result_free(ct_flood_sim_result *res);

/* Rasterizes OGR polygons from src (any OGR source, all layers) onto the DEM
 * grid with GDALRasterizeLayers (cell centres inside), reprojecting from the
 * layer's CRS to the DEM's. *mask: malloc'ed w*h bytes, 1 inside. */
ct_status ct_flood_buildings_mask(const ct_raster *dem, const char *src, uint8_t **mask, size_t *n_cells,
                                  ct_error *err);

/* MPI: initializes MPI only when launched by mpirun (OMPI_COMM_WORLD_SIZE or
 * PMI_SIZE set), so a plain run never touches MPI. Returns true when MPI is
 * active with size >= 1 and sets rank/size; false (rank 0, size 1) otherwise. */
bool ct_flood_mpi_init(int *rank, int *size);
void ct_flood_mpi_finalize(void);

#ifdef __cplusplus
}
#endif
#endif
