/* Single-band rasters (DEMs, depth and visibility grids) read and written
 * through GDAL. Cells are row-major from the top-left corner, as GDAL stores
 * them; geotransform as GDAL's: x = gt[0] + col*gt[1] + row*gt[2],
 * y = gt[3] + col*gt[4] + row*gt[5]. */
#ifndef CT_RASTER_H
#define CT_RASTER_H

#include "citytwin/ct_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_raster {
    int width, height;
    double geotransform[6];
    char *crs_wkt;       /* "" when the source has none */
    bool has_nodata;
    double nodata;       /* cells equal to nodata (or NaN) are holes */
    float *data;         /* width*height floats; holes are NAN after ct_raster_read */
} ct_raster;

/* Reads band 1 of any GDAL raster as float, nodata cells turned into NAN. */
ct_status ct_raster_read(const char *path, ct_raster **out, ct_error *err);
/* Reads only the size, georeferencing and nodata of band 1 (data stays NULL),
 * e.g. to plan which window each process reads. */
ct_status ct_raster_read_header(const char *path, ct_raster **out, ct_error *err);
/* Reads the window of band 1 with top-left cell (col0,row0) and size w x h,
 * which may reach past the raster's edges: those cells are NAN, like nodata.
 * The geotransform is the window's (shifted to its top-left corner). */
ct_status ct_raster_read_window(const char *path, int col0, int row0, int w, int h, ct_raster **out, ct_error *err);
/* A blank raster of the given size (data zeroed), copying georeferencing from like (may be NULL). */
ct_raster *ct_raster_create(int width, int height, const ct_raster *like);
void ct_raster_destroy(ct_raster *r);

typedef enum ct_raster_type { CT_RASTER_FLOAT32, CT_RASTER_BYTE } ct_raster_type;
/* Writes a tiled, DEFLATE-compressed GeoTIFF. NAN cells become nodata (Float32:
 * the given nodata value; Byte: nodata as given, e.g. 0 or 255). has_nodata=false writes no nodata tag. */
ct_status ct_raster_write_gtiff(const ct_raster *r, const char *path, ct_raster_type type,
                                bool has_nodata, double nodata, ct_error *err);
/* The start every GeoTIFF writer shares: creates an empty one-band GeoTIFF of
 * width x height cells of gdal_type (a GDALDataType) with the writer's own
 * GDAL creation options (a CSL string list, NULL for none; the caller keeps
 * and frees it), georeferenced by geotransform and crs_wkt (NULL or "" for
 * none). Returns the open GDALDatasetH (the caller sets nodata, writes the
 * band and GDALClose()s it), or NULL with err naming path and GDAL's reason. */
void *ct_raster_gtiff_create(const char *path, int width, int height, int gdal_type, const double geotransform[6],
                             const char *crs_wkt, char **options, ct_error *err);

/* World <-> cell (fractional col,row of the cell's top-left corner frame). */
void ct_raster_world_to_cell(const ct_raster *r, double x, double y, double *col, double *row);
void ct_raster_cell_center(const ct_raster *r, int col, int row, double *x, double *y);
/* Cell area in CRS units squared (|det| of the geotransform's 2x2). */
double ct_raster_cell_area(const ct_raster *r);

#ifdef __cplusplus
}
#endif
#endif
