/* Building footprints burned onto a DEM for viewsheds: each footprint raises
 * the cells whose centres it covers by the building's height. */
#include "citytwin/ct_visibility.h"

#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct burn_item {
    OGRGeometryH geom;
    double height;
} burn_item;

static int cmp_height(const void *a, const void *b)
{
    double x = ((const burn_item *)a)->height, y = ((const burn_item *)b)->height;
    return x < y ? -1 : x > y;
}

/* Height of a feature: the height field, else levels x 3 m, else NAN. */
static double feature_height(OGRFeatureH f, OGRFeatureDefnH defn, const char *height_field)
{
    int i = OGR_FD_GetFieldIndex(defn, height_field && *height_field ? height_field : "height");
    if (i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i)) {
        double h = atof(OGR_F_GetFieldAsString(f, i)); /* "12", "12.5", "12 m" */
        if (h > 0 && isfinite(h))
            return h;
    }
    static const char *const levels[] = {"building:levels", "building_levels", "levels", "floors"};
    for (size_t k = 0; k < sizeof levels / sizeof levels[0]; k++) {
        i = OGR_FD_GetFieldIndex(defn, levels[k]);
        if (i >= 0 && OGR_F_IsFieldSetAndNotNull(f, i)) {
            double n = atof(OGR_F_GetFieldAsString(f, i));
            if (n > 0 && isfinite(n))
                return 3.0 * n;
        }
    }
    return NAN;
}

/* Opens "FILE" or "FILE:layer". */
static OGRDataSourceH open_src(const char *src, OGRLayerH *layer, ct_error *err)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    const char *lname = NULL;
    char *file = NULL;
    if (!ds) {
        const char *colon = strrchr(src, ':');
        if (colon && colon != src) {
            file = ct_strdup(src);
            file[colon - src] = 0;
            lname = colon + 1;
            ds = GDALOpenEx(file, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
        }
    }
    free(file);
    if (!ds) {
        ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source OGR can read", src);
        return NULL;
    }
    *layer = lname ? GDALDatasetGetLayerByName(ds, lname) : GDALDatasetGetLayer(ds, 0);
    if (!*layer) {
        ct_error_set(err, CT_ERR_INPUT, "%s: no layer %s", src, lname ? lname : "at all");
        GDALClose(ds);
        return NULL;
    }
    return ds;
}

ct_status ct_visibility_burn_buildings(ct_raster *dem, const char *src, const char *height_field,
                                       double default_height, size_t *burned, ct_error *err)
{
    if (burned)
        *burned = 0;
    OGRLayerH layer = NULL;
    GDALDatasetH ds = open_src(src, &layer, err);
    if (!ds)
        return err ? err->status : CT_ERR_INPUT;
    ct_status st = CT_OK;
    OGRCoordinateTransformationH ct = NULL;
    OGRSpatialReferenceH lsrs = OGR_L_GetSpatialRef(layer), dsrs = NULL;
    if (lsrs && dem->crs_wkt && *dem->crs_wkt) {
        dsrs = OSRNewSpatialReference(NULL);
        OSRSetFromUserInput(dsrs, dem->crs_wkt);
        OSRSetAxisMappingStrategy(dsrs, OAMS_TRADITIONAL_GIS_ORDER);
        OGRSpatialReferenceH l2 = OSRClone(lsrs);
        OSRSetAxisMappingStrategy(l2, OAMS_TRADITIONAL_GIS_ORDER);
        if (!OSRIsSame(l2, dsrs)) {
            ct = OCTNewCoordinateTransformation(l2, dsrs);
            if (!ct)
                st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot transform the layer's CRS to the DEM's", src);
        }
        OSRDestroySpatialReference(l2);
    }
    size_t cap = 0, n = 0, skipped = 0;
    burn_item *items = NULL;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    OGR_L_ResetReading(layer);
    OGRFeatureH f;
    while (st == CT_OK && (f = OGR_L_GetNextFeature(layer)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        OGRwkbGeometryType t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
        double h = feature_height(f, defn, height_field);
        if (isnan(h))
            h = default_height;
        if (!g || (t != wkbPolygon && t != wkbMultiPolygon) || !(h > 0)) {
            skipped++;
            OGR_F_Destroy(f);
            continue;
        }
        g = OGR_G_Clone(g);
        OGR_F_Destroy(f);
        if (ct && OGR_G_Transform(g, ct) != OGRERR_NONE) {
            skipped++;
            OGR_G_DestroyGeometry(g);
            continue;
        }
        if (n == cap && !ct_array_grow(&items, &cap, n + 1, sizeof *items)) {
            OGR_G_DestroyGeometry(g);
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            break;
        }
        items[n].geom = g;
        items[n].height = h;
        n++;
    }
    if (skipped)
        ct_log(CT_LOG_INFO, "%s: %zu features skipped (not polygons, or no height)", src, skipped);
    if (st == CT_OK && n > 0) {
        /* Rasterized lowest first, so where footprints overlap the highest wins. */
        qsort(items, n, sizeof *items, cmp_height);
        float *bh = ct_calloc_array((size_t)dem->width * dem->height, sizeof(float));
        OGRGeometryH *geoms = ct_malloc_array(n, sizeof *geoms);
        double *vals = ct_malloc_array(n, sizeof *vals);
        GDALDriverH mem = GDALGetDriverByName("MEM");
        GDALDatasetH mds = NULL;
        if (bh && geoms && vals && mem) {
            /* CPLPrintPointer copies the text without a terminating NUL: without
             * one, stack garbage after it (hex-looking bytes) became part of
             * the DATAPOINTER address, and the MEM band wrote to a wild
             * pointer: the intermittent crash of --buildings. */
            char ptr[64] = {0}, opt[128];
            int len = CPLPrintPointer(ptr, bh, (int)sizeof ptr - 1);
            ptr[len >= 0 && len < (int)sizeof ptr ? len : 0] = 0;
            mds = GDALCreate(mem, "", dem->width, dem->height, 0, GDT_Float32, NULL);
            if (mds) {
                snprintf(opt, sizeof opt, "DATAPOINTER=%s", ptr);
                char *o[] = {opt, NULL};
                GDALAddBand(mds, GDT_Float32, o);
                GDALSetGeoTransform(mds, dem->geotransform);
            }
        }
        if (!mds) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory for burning %zu footprints", n);
        } else {
            for (size_t i = 0; i < n; i++) {
                geoms[i] = items[i].geom;
                vals[i] = items[i].height;
            }
            int band = 1;
            if (GDALRasterizeGeometries(mds, 1, &band, (int)n, geoms, NULL, NULL, vals, NULL, NULL, NULL) != CE_None)
                st = ct_error_set(err, CT_ERR_INPUT, "%s: rasterizing footprints failed: %s", src, CPLGetLastErrorMsg());
            GDALClose(mds);
            size_t cells = (size_t)dem->width * dem->height;
            for (size_t i = 0; st == CT_OK && i < cells; i++)
                dem->data[i] += bh[i];
            if (burned && st == CT_OK)
                *burned = n;
        }
        free(bh);
        free(geoms);
        free(vals);
    }
    for (size_t i = 0; i < n; i++)
        OGR_G_DestroyGeometry(items[i].geom);
    free(items);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    if (dsrs)
        OSRDestroySpatialReference(dsrs);
    GDALClose(ds);
    return st;
}
