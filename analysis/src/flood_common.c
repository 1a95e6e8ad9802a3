/* Flood helpers shared by the static, pond and dynamic analyses: cell areas,
 * point lookup, extent polygons (GDALPolygonize) and building masks
 * (GDALRasterizeLayers). */
#include "citytwin/ct_flood.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }
static void quiet_handler(CPLErr c, CPLErrorNum n, const char *m) { (void)c; (void)n; (void)m; }

/* q(phi) of the authalic latitude: the area of the ellipsoid between the
 * equator and phi over a longitude span dlam is a^2 * dlam / 2 * q(phi). */
static double authalic_q(double phi, double e)
{
    double s = sin(phi);
    if (e < 1e-12)
        return 2.0 * s;
    double es = e * s;
    return (1 - e * e) * (s / (1 - es * es) - 1.0 / (2 * e) * log((1 - es) / (1 + es)));
}

double *ct_flood_row_areas(const ct_raster *dem)
{
    double *a = ct_malloc_array((size_t)dem->height, sizeof(double));
    if (!a)
        return NULL;
    double flat = ct_raster_cell_area(dem);
    bool geographic = false;
    double semi_major = 6378137.0, inv_f = 298.257223563;
    if (dem->crs_wkt && *dem->crs_wkt) {
        OGRSpatialReferenceH srs = OSRNewSpatialReference(dem->crs_wkt);
        if (srs && OSRIsGeographic(srs)) {
            geographic = true;
            OGRErr e1 = OGRERR_NONE, e2 = OGRERR_NONE;
            double sm = OSRGetSemiMajor(srs, &e1), f = OSRGetInvFlattening(srs, &e2);
            if (e1 == OGRERR_NONE && sm > 0)
                semi_major = sm;
            if (e2 == OGRERR_NONE)
                inv_f = f;
        }
        if (srs)
            OSRDestroySpatialReference(srs);
    }
    if (!geographic || dem->geotransform[2] != 0 || dem->geotransform[4] != 0) {
        for (int r = 0; r < dem->height; r++)
            a[r] = flat;
        return a;
    }
    double f = inv_f > 0 ? 1.0 / inv_f : 0.0;
    double e = sqrt(f * (2 - f));
    const double *g = dem->geotransform;
    double dlam = fabs(g[1]) * M_PI / 180.0;
    for (int r = 0; r < dem->height; r++) {
        double lat1 = (g[3] + r * g[5]) * M_PI / 180.0, lat2 = (g[3] + (r + 1) * g[5]) * M_PI / 180.0;
        a[r] = fabs(semi_major * semi_major * dlam / 2.0 * (authalic_q(lat1, e) - authalic_q(lat2, e)));
    }
    return a;
}

bool ct_flood_cell_of(const ct_raster *dem, double x, double y, int *col, int *row)
{
    double c, r;
    ct_raster_world_to_cell(dem, x, y, &c, &r);
    if (!(c >= 0 && r >= 0 && c < dem->width && r < dem->height))
        return false;
    *col = (int)floor(c);
    *row = (int)floor(r);
    return true;
}

static const char *driver_for(const char *path)
{
    const char *ext = ct_path_ext(path);
    if (!strcasecmp(ext, ".gpkg"))
        return "GPKG";
    if (!strcasecmp(ext, ".geojson") || !strcasecmp(ext, ".json"))
        return "GeoJSON";
    if (!strcasecmp(ext, ".shp"))
        return "ESRI Shapefile";
    return NULL;
}

/* Adds the polygon parts of g (Polygon, MultiPolygon, GeometryCollection) to
 * the layer with the given level; returns features written or -1. */
static int write_polygons(OGRLayerH lyr, OGRGeometryH g, double level, double cell_area_hint)
{
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbMultiPolygon || t == wkbGeometryCollection) {
        int n = 0;
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++) {
            int k = write_polygons(lyr, OGR_G_GetGeometryRef(g, i), level, cell_area_hint);
            if (k < 0)
                return -1;
            n += k;
        }
        return n;
    }
    if (t != wkbPolygon || OGR_G_IsEmpty(g))
        return 0;
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
    OGR_F_SetFieldDouble(f, 0, level);
    OGR_F_SetFieldDouble(f, 1, OGR_G_Area(g) * cell_area_hint);
    OGR_F_SetGeometry(f, g);
    OGRErr e = OGR_L_CreateFeature(lyr, f);
    OGR_F_Destroy(f);
    return e == OGRERR_NONE ? 1 : -1;
}

ct_status ct_flood_extent_write(const char *path, const ct_raster *const *depths, const double *levels, int n,
                                ct_error *err)
{
    pthread_once(&g_once, gdal_init);
    const char *drv_name = driver_for(path);
    if (!drv_name)
        return ct_error_set(err, CT_ERR_USAGE, "%s: extent format unknown (use .gpkg, .geojson or .shp)", path);
    if (n < 1)
        return ct_error_set(err, CT_ERR_USAGE, "%s: no depth raster to polygonize", path);
    GDALDriverH drv = GDALGetDriverByName(drv_name);
    GDALDriverH mem_drv = GDALGetDriverByName("MEM");
    if (!drv || !mem_drv)
        return ct_error_set(err, CT_ERR_RUNTIME, "GDAL driver %s or MEM missing", drv_name);
    if (ct_file_exists(path)) {
        CPLPushErrorHandler(quiet_handler);
        if (GDALDeleteDataset(drv, path) != CE_None)
            unlink(path);
        CPLPopErrorHandler();
    }
    GDALDatasetH out = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    if (!out)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create (%s)", path, CPLGetLastErrorMsg());
    const ct_raster *d0 = depths[0];
    OGRSpatialReferenceH srs = NULL;
    if (d0->crs_wkt && *d0->crs_wkt) {
        srs = OSRNewSpatialReference(d0->crs_wkt);
        if (srs)
            OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    ct_status st = CT_OK;
    OGRLayerH lyr = GDALDatasetCreateLayer(out, "flood_extent", srs, wkbPolygon, NULL);
    if (!lyr) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create layer (%s)", path, CPLGetLastErrorMsg());
        goto done;
    }
    OGRFieldDefnH fd = OGR_Fld_Create("level", OFTReal);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
    fd = OGR_Fld_Create("area_m2", OFTReal);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
    /* Geographic DEM: areas in degrees² scaled to m² at the raster's mean latitude. */
    double area_scale = 1.0;
    double *rows = ct_flood_row_areas(d0);
    if (rows) {
        double s = 0;
        for (int r = 0; r < d0->height; r++)
            s += rows[r];
        double flat = ct_raster_cell_area(d0);
        if (flat > 0)
            area_scale = s / d0->height / flat;
        free(rows);
    }
    bool in_tx = GDALDatasetStartTransaction(out, FALSE) == OGRERR_NONE;
    for (int k = 0; k < n && st == CT_OK; k++) {
        const ct_raster *d = depths[k];
        size_t cells = (size_t)d->width * d->height;
        uint8_t *mask = malloc(cells ? cells : 1);
        if (!mask) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
            break;
        }
        for (size_t i = 0; i < cells; i++)
            mask[i] = !isnan(d->data[i]);
        GDALDatasetH mds = GDALCreate(mem_drv, "", d->width, d->height, 0, GDT_Byte, NULL);
        char ptr[64];
        snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", (void *)mask);
        char *opts[] = {ptr, NULL};
        GDALAddBand(mds, GDT_Byte, opts);
        GDALSetGeoTransform(mds, (double *)d->geotransform);
        GDALRasterBandH band = GDALGetRasterBand(mds, 1);
        GDALDriverH mdrv = GDALGetDriverByName("Memory");
        GDALDatasetH vds = GDALCreate(mdrv, "", 0, 0, 0, GDT_Unknown, NULL);
        OGRLayerH tmp = GDALDatasetCreateLayer(vds, "p", NULL, wkbPolygon, NULL);
        OGRFieldDefnH vf = OGR_Fld_Create("v", OFTInteger);
        OGR_L_CreateField(tmp, vf, TRUE);
        OGR_Fld_Destroy(vf);
        /* The band is its own mask: dry (0) cells produce no polygon. */
        if (GDALPolygonize(band, band, tmp, 0, NULL, NULL, NULL) != CE_None) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: polygonize failed: %s", path, CPLGetLastErrorMsg());
        } else {
            OGR_L_ResetReading(tmp);
            OGRFeatureH f;
            double level = levels ? levels[k] : 0.0;
            while (st == CT_OK && (f = OGR_L_GetNextFeature(tmp)) != NULL) {
                OGRGeometryH g = OGR_F_GetGeometryRef(f);
                OGRGeometryH fixed = NULL;
                if (g && !OGR_G_IsValid(g)) {
                    fixed = OGR_G_MakeValid(g);
                    g = fixed;
                }
                if (g && write_polygons(lyr, g, level, area_scale) < 0)
                    st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write feature: %s", path, CPLGetLastErrorMsg());
                if (fixed)
                    OGR_G_DestroyGeometry(fixed);
                OGR_F_Destroy(f);
            }
        }
        GDALClose(vds);
        GDALClose(mds);
        free(mask);
    }
    if (in_tx && GDALDatasetCommitTransaction(out) != OGRERR_NONE && st == CT_OK)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: commit failed: %s", path, CPLGetLastErrorMsg());
done:
    if (srs)
        OSRRelease(srs);
    GDALClose(out);
    return st;
}

ct_status ct_flood_buildings_mask(const ct_raster *dem, const char *src, uint8_t **mask_out, size_t *n_cells,
                                  ct_error *err)
{
    pthread_once(&g_once, gdal_init);
    *mask_out = NULL;
    if (n_cells)
        *n_cells = 0;
    CPLPushErrorHandler(quiet_handler);
    GDALDatasetH in = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    CPLPopErrorHandler();
    if (!in)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source OGR can read", src);
    size_t cells = (size_t)dem->width * dem->height;
    uint8_t *mask = calloc(cells ? cells : 1, 1);
    OGRSpatialReferenceH dem_srs = NULL;
    if (dem->crs_wkt && *dem->crs_wkt) {
        dem_srs = OSRNewSpatialReference(dem->crs_wkt);
        if (dem_srs)
            OSRSetAxisMappingStrategy(dem_srs, OAMS_TRADITIONAL_GIS_ORDER);
    }
    GDALDatasetH vds = GDALCreate(GDALGetDriverByName("Memory"), "", 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH tmp = GDALDatasetCreateLayer(vds, "b", dem_srs, wkbUnknown, NULL);
    ct_status st = mask && tmp ? CT_OK : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    long skipped = 0, used = 0;
    for (int li = 0; st == CT_OK && li < GDALDatasetGetLayerCount(in); li++) {
        OGRLayerH lyr = GDALDatasetGetLayer(in, li);
        OGRSpatialReferenceH ls = OGR_L_GetSpatialRef(lyr);
        OGRCoordinateTransformationH ct = NULL;
        if (ls && dem_srs && !OSRIsSame(ls, dem_srs)) {
            OGRSpatialReferenceH lsc = OSRClone(ls);
            OSRSetAxisMappingStrategy(lsc, OAMS_TRADITIONAL_GIS_ORDER);
            CPLPushErrorHandler(quiet_handler);
            ct = OCTNewCoordinateTransformation(lsc, dem_srs);
            CPLPopErrorHandler();
            OSRRelease(lsc);
            if (!ct) {
                st = ct_error_set(err, CT_ERR_INPUT, "%s: layer %s: no transformation from its CRS to the DEM's",
                                  src, OGR_L_GetName(lyr));
                break;
            }
        } else if (!ls && dem_srs) {
            ct_log(CT_LOG_WARN, "%s: layer %s has no CRS; assuming the DEM's", src, OGR_L_GetName(lyr));
        }
        OGR_L_ResetReading(lyr);
        OGRFeatureH f;
        while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
            OGRGeometryH g = OGR_F_GetGeometryRef(f);
            OGRwkbGeometryType t = g ? wkbFlatten(OGR_G_GetGeometryType(g)) : wkbUnknown;
            if (!g || (t != wkbPolygon && t != wkbMultiPolygon && t != wkbCurvePolygon && t != wkbMultiSurface)) {
                skipped++;
                OGR_F_Destroy(f);
                continue;
            }
            OGRGeometryH c = OGR_G_Clone(g);
            if (ct && OGR_G_Transform(c, ct) != OGRERR_NONE) {
                skipped++;
                OGR_G_DestroyGeometry(c);
                OGR_F_Destroy(f);
                continue;
            }
            OGRFeatureH nf = OGR_F_Create(OGR_L_GetLayerDefn(tmp));
            OGR_F_SetGeometryDirectly(nf, c);
            if (OGR_L_CreateFeature(tmp, nf) != OGRERR_NONE)
                skipped++;
            OGR_F_Destroy(nf);
            OGR_F_Destroy(f);
            used++;
        }
        if (ct)
            OCTDestroyCoordinateTransformation(ct);
    }
    if (skipped)
        ct_log(CT_LOG_WARN, "%s: %ld features skipped (not polygons or not transformable)", src, skipped);
    if (st == CT_OK && used > 0) {
        GDALDatasetH mds = GDALCreate(GDALGetDriverByName("MEM"), "", dem->width, dem->height, 0, GDT_Byte, NULL);
        char ptr[64];
        snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", (void *)mask);
        char *opts[] = {ptr, NULL};
        GDALAddBand(mds, GDT_Byte, opts);
        GDALSetGeoTransform(mds, (double *)dem->geotransform);
        if (dem->crs_wkt && *dem->crs_wkt)
            GDALSetProjection(mds, dem->crs_wkt);
        int band = 1;
        double burn = 1;
        OGRLayerH layers[1] = {tmp};
        if (GDALRasterizeLayers(mds, 1, &band, 1, layers, NULL, NULL, &burn, NULL, NULL, NULL) != CE_None)
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: rasterize failed: %s", src, CPLGetLastErrorMsg());
        GDALClose(mds);
    }
    if (vds)
        GDALClose(vds);
    if (dem_srs)
        OSRRelease(dem_srs);
    GDALClose(in);
    if (st != CT_OK) {
        free(mask);
        return st;
    }
    size_t n = 0;
    for (size_t i = 0; i < cells; i++)
        n += mask[i] != 0;
    if (n_cells)
        *n_cells = n;
    *mask_out = mask;
    return CT_OK;
}
