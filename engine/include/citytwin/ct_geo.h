/* Geodesy and coordinate reference systems, all through PROJ.
 * Geographic coordinates are WGS84 degrees (lon, lat) and ellipsoidal height
 * in metres; ECEF is EPSG:4978. Thread-safe (one PROJ context per thread). */
#ifndef CT_GEO_H
#define CT_GEO_H

#include "citytwin/ct_core.h"
#include "citytwin/ct_math.h"

#ifdef __cplusplus
extern "C" {
#endif

ct_dvec3 ct_geo_ecef_from_lonlat(double lon_deg, double lat_deg, double height_m);
/* Returns (lon_deg, lat_deg, height_m). */
ct_dvec3 ct_geo_lonlat_from_ecef(ct_dvec3 ecef);
/* East-North-Up frame at an ECEF point: columns east, north, up, origin. */
void ct_geo_enu_frame(ct_dvec3 ecef_origin, double out[16]);

/* A transform between two CRSs (EPSG:n, PROJ string or WKT), axis order
 * normalized to x=easting/longitude, y=northing/latitude. */
typedef struct ct_crs_transform ct_crs_transform;
ct_status ct_crs_transform_create(const char *src_crs, const char *dst_crs, ct_crs_transform **out, ct_error *err);
/* Transforms n points in place (z may be NULL). Returns CT_ERR_INPUT if any point fails. */
ct_status ct_crs_transform_points(ct_crs_transform *t, size_t n, double *x, double *y, double *z, ct_error *err);
void ct_crs_transform_destroy(ct_crs_transform *t);
/* True when the CRS is geographic (degrees). */
bool ct_crs_is_geographic(const char *crs);

#ifdef __cplusplus
}
#endif
#endif
