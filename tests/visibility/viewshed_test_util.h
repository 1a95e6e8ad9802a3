/* DEM builders shared by the viewshed tests. */
#ifndef VIEWSHED_TEST_UTIL_H
#define VIEWSHED_TEST_UTIL_H

#include "citytwin/ct_raster.h"

#include <cpl_conv.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>

static char *utm32_wkt(void)
{
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 32632);
    char *w = NULL;
    OSRExportToWkt(s, &w);
    char *r = strdup(w);
    CPLFree(w);
    OSRDestroySpatialReference(s);
    return r;
}

/* A flat DEM in UTM 32N, cell size cs, origin (500000, 5000000 + h*cs). */
static ct_raster *flat_dem(int w, int h, double cs, float z)
{
    ct_raster *r = ct_raster_create(w, h, NULL);
    double gt[6] = {500000, cs, 0, 5000000 + h * cs, 0, -cs};
    memcpy(r->geotransform, gt, sizeof gt);
    free(r->crs_wkt);
    r->crs_wkt = utm32_wkt();
    for (size_t i = 0; i < (size_t)w * h; i++)
        r->data[i] = z;
    return r;
}

static void cell_xy(const ct_raster *r, int c, int row, double *x, double *y)
{
    ct_raster_cell_center(r, c, row, x, y);
}

#endif
