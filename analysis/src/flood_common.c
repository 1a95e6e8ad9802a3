/* Flood helpers shared by the static, pond and dynamic analyses: cell areas,
 * point lookup, writing extent polygons (built by flood_polygons.c) and building masks
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
    if (!drv)
        return ct_error_set(err, CT_ERR_RUNTIME, "GDAL driver %s missing", drv_name);
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
    /* Geographic DEM: areas in degrees² scaled to m² by the raster's mean cell area. */
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
    double *px = NULL, *py = NULL;
    size_t cap = 0;
    for (int k = 0; k < n && st == CT_OK; k++) {
        const ct_raster *d = depths[k];
        ct_flood_polygons polys;
        st = ct_flood_polygons_build(d, &polys, err);
        if (st != CT_OK) {
            ct_error_prefix(err, "%s: ", path);
            break;
        }
        const double *g = d->geotransform;
        double cell_area = fabs(g[1] * g[5] - g[2] * g[4]) * area_scale;
        double level = levels ? levels[k] : 0.0;
        for (int p = 0; p < polys.n_polygons && st == CT_OK; p++) {
            OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
            for (int ring = polys.ring_first[p]; ring < polys.ring_first[p + 1]; ring++) {
                size_t need = polys.ring_count[ring] + 1;
                if (need > cap) {
                    double *nx = realloc(px, need * sizeof *px), *ny = nx ? realloc(py, need * sizeof *py) : NULL;
                    if (nx)
                        px = nx;
                    if (!nx || !ny) {
                        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
                        break;
                    }
                    py = ny;
                    cap = need;
                }
                size_t np = ct_flood_polygons_ring_world(&polys, g, ring, px, py);
                OGRGeometryH lr = OGR_G_CreateGeometry(wkbLinearRing);
                OGR_G_SetPoints(lr, (int)np, px, sizeof(double), py, sizeof(double), NULL, 0);
                OGR_G_AddGeometryDirectly(poly, lr);
            }
            OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
            OGR_F_SetFieldDouble(f, 0, level);
            OGR_F_SetFieldDouble(f, 1, (double)polys.cells[p] * cell_area);
            OGR_F_SetGeometryDirectly(f, poly);
            if (st == CT_OK && OGR_L_CreateFeature(lyr, f) != OGRERR_NONE)
                st = ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write feature: %s", path, CPLGetLastErrorMsg());
            OGR_F_Destroy(f);
        }
        ct_flood_polygons_free(&polys);
    }
    free(px);
    free(py);
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
