/* Impact results to a GeoPackage (a layer per input layer + "rings") or to
 * GeoJSON (one collection with a "layer" property). */
#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <geos_c.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

OGRFeatureH ct_impact__feature(const ct_impact_layer *l, size_t i);
const GEOSGeometry *ct_impact__geometry(const ct_impact_layer *l, size_t i);
double ct_impact__occupants(const ct_impact_layer *l, size_t i);

static OGRGeometryH to_ogr(GEOSContextHandle_t h, GEOSWKBWriter *w, const GEOSGeometry *g)
{
    size_t sz = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(h, w, g, &sz);
    if (!wkb)
        return NULL;
    OGRGeometryH o = NULL;
    if (OGR_G_CreateFromWkb(wkb, NULL, &o, (int)sz) != OGRERR_NONE)
        o = NULL;
    GEOSFree_r(h, wkb);
    return o;
}

static void ensure_field(OGRLayerH l, const char *name, OGRFieldType t)
{
    if (OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), name) >= 0)
        return;
    OGRFieldDefnH fd = OGR_Fld_Create(name, t);
    OGR_L_CreateField(l, fd, TRUE);
    OGR_Fld_Destroy(fd);
}

static void copy_fields(OGRLayerH dst, OGRFeatureDefnH src)
{
    for (int i = 0; src && i < OGR_FD_GetFieldCount(src); i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(src, i);
        if (OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(dst), OGR_Fld_GetNameRef(fd)) < 0)
            OGR_L_CreateField(dst, fd, TRUE);
    }
}

static void set_id(OGRFeatureH f, int idx, const ct_impact_layer *l, size_t fi)
{
    if (ct_impact_layer_ids_numeric(l))
        OGR_F_SetFieldInteger64(f, idx, ct_impact_layer_id_number(l, fi));
    else
        OGR_F_SetFieldString(f, idx, ct_impact_layer_id_string(l, fi));
}

ct_status ct_impact_write(const ct_impact_result *r, const char *path, const char *crs, ct_error *err)
{
    GDALAllRegister();
    const char *ext = strrchr(path, '.');
    bool single = ext && (!strcasecmp(ext, ".geojson") || !strcasecmp(ext, ".json"));
    const char *drvname = single ? "GeoJSON" : "GPKG";
    if (ext && !single && strcasecmp(ext, ".gpkg") != 0)
        return ct_error_set(err, CT_ERR_USAGE, "%s: output must be .gpkg or .geojson", path);
    GDALDriverH drv = GDALGetDriverByName(drvname);
    VSIUnlink(path);
    GDALDatasetH ds = drv ? GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!ds)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create: %s", path, CPLGetLastErrorMsg());
    OGRSpatialReferenceH srs = NULL;
    if (crs && *crs) {
        srs = OSRNewSpatialReference(NULL);
        if (OSRSetFromUserInput(srs, crs) != OGRERR_NONE) {
            OSRDestroySpatialReference(srs);
            srs = NULL;
        } else {
            OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        }
    }
    ct_status st = CT_OK;
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    OGRLayerH one = NULL;
    if (single) {
        one = GDALDatasetCreateLayer(ds, "impact", srs, wkbUnknown, NULL);
        if (one) {
            ensure_field(one, "layer", OFTString);
            ensure_field(one, "id", OFTString);
            ensure_field(one, "ring_m", OFTReal);
            ensure_field(one, "distance_m", OFTReal);
            ensure_field(one, "radius_m", OFTReal);
            ensure_field(one, "occupants", OFTReal);
            for (size_t li = 0; li < r->layer_count; li++) {
                const ct_impact_layer *l = r->layers[li].layer;
                OGRFeatureH f0 = ct_impact_layer_size(l) ? ct_impact__feature(l, 0) : NULL;
                copy_fields(one, f0 ? OGR_F_GetDefnRef(f0) : NULL);
            }
        }
    }
    GDALDatasetStartTransaction(ds, FALSE);
    for (size_t li = 0; li < r->layer_count && st == CT_OK; li++) {
        const ct_impact_layer_result *lr = &r->layers[li];
        const ct_impact_layer *l = lr->layer;
        OGRLayerH ol = one;
        if (!single) {
            ol = GDALDatasetCreateLayer(ds, ct_impact_layer_name(l), srs, wkbUnknown, NULL);
            if (ol) {
                OGRFeatureH f0 = ct_impact_layer_size(l) ? ct_impact__feature(l, 0) : NULL;
                copy_fields(ol, f0 ? OGR_F_GetDefnRef(f0) : NULL);
                ensure_field(ol, "impact_id", ct_impact_layer_ids_numeric(l) ? OFTInteger64 : OFTString);
                ensure_field(ol, "ring_m", OFTReal);
                ensure_field(ol, "distance_m", OFTReal);
                if (lr->has_polygons)
                    ensure_field(ol, "occupants", OFTReal);
            }
        }
        if (!ol) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create layer %s", path, ct_impact_layer_name(l));
            break;
        }
        OGRFeatureDefnH od = OGR_L_GetLayerDefn(ol);
        int i_id = OGR_FD_GetFieldIndex(od, single ? "id" : "impact_id"), i_ring = OGR_FD_GetFieldIndex(od, "ring_m"),
            i_dist = OGR_FD_GetFieldIndex(od, "distance_m"), i_occ = OGR_FD_GetFieldIndex(od, "occupants"),
            i_layer = OGR_FD_GetFieldIndex(od, "layer");
        for (size_t k = 0; k < lr->hit_count && st == CT_OK; k++) {
            const ct_impact_hit *hit = &lr->hits[k];
            OGRFeatureH f = OGR_F_Create(od);
            OGRFeatureH src = ct_impact__feature(l, hit->feature);
            if (src)
                OGR_F_SetFrom(f, src, TRUE);
            if (single) {
                char buf[32];
                OGR_F_SetFieldString(f, i_layer, ct_impact_layer_name(l));
                if (ct_impact_layer_ids_numeric(l)) {
                    snprintf(buf, sizeof buf, "%lld", (long long)ct_impact_layer_id_number(l, hit->feature));
                    OGR_F_SetFieldString(f, i_id, buf);
                } else {
                    OGR_F_SetFieldString(f, i_id, ct_impact_layer_id_string(l, hit->feature));
                }
            } else {
                set_id(f, i_id, l, hit->feature);
            }
            OGR_F_SetFieldDouble(f, i_ring, r->radii[hit->ring]);
            OGR_F_SetFieldDouble(f, i_dist, hit->distance);
            if (i_occ >= 0 && ct_impact__occupants(l, hit->feature) > 0)
                OGR_F_SetFieldDouble(f, i_occ, ct_impact__occupants(l, hit->feature));
            OGRGeometryH g = to_ogr(h, w, ct_impact__geometry(l, hit->feature));
            if (g)
                OGR_F_SetGeometryDirectly(f, g);
            if (OGR_L_CreateFeature(ol, f) != OGRERR_NONE)
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write a feature of %s: %s", path,
                                  ct_impact_layer_name(l), CPLGetLastErrorMsg());
            OGR_F_Destroy(f);
        }
    }
    /* The ring discs (cumulative, as the rings in the report). */
    OGRLayerH rl = single ? one : GDALDatasetCreateLayer(ds, "rings", srs, wkbPolygon, NULL);
    if (st == CT_OK && rl) {
        if (!single)
            ensure_field(rl, "radius_m", OFTReal);
        GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
        GEOSGeometry *inc = GEOSWKTReader_read_r(h, rd, r->incident_wkt);
        GEOSWKTReader_destroy_r(h, rd);
        OGRFeatureDefnH od = OGR_L_GetLayerDefn(rl);
        for (size_t k = 0; inc && k < r->ring_count; k++) {
            GEOSGeometry *disc = GEOSBuffer_r(h, inc, r->radii[k], 64);
            OGRFeatureH f = OGR_F_Create(od);
            OGR_F_SetFieldDouble(f, OGR_FD_GetFieldIndex(od, "radius_m"), r->radii[k]);
            if (single)
                OGR_F_SetFieldString(f, OGR_FD_GetFieldIndex(od, "layer"), "rings");
            if (disc) {
                OGRGeometryH g = to_ogr(h, w, disc);
                if (g)
                    OGR_F_SetGeometryDirectly(f, g);
                GEOSGeom_destroy_r(h, disc);
            }
            if (OGR_L_CreateFeature(rl, f) != OGRERR_NONE)
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write ring %g", path, r->radii[k]);
            OGR_F_Destroy(f);
        }
        if (inc)
            GEOSGeom_destroy_r(h, inc);
    }
    GDALDatasetCommitTransaction(ds);
    GEOSWKBWriter_destroy_r(h, w);
    GEOS_finish_r(h);
    if (srs)
        OSRDestroySpatialReference(srs);
    GDALClose(ds);
    return st;
}
