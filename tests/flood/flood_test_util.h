/* Shared helpers of the flood tests: synthetic DEMs, temp dirs, running the CLI. */
#ifndef FLOOD_TEST_UTIL_H
#define FLOOD_TEST_UTIL_H

#include "citytwin/ct_flood.h"
#include "ct_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A projected (UTM 32N) DEM of w x h cells of size cell, origin (x0, y0) top-left. */
static inline ct_raster *flood_test_dem(int w, int h, double cell, double x0, double y0)
{
    ct_raster *r = ct_raster_create(w, h, NULL);
    free(r->crs_wkt);
    r->crs_wkt = strdup("PROJCS[\"WGS 84 / UTM zone 32N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],"
                        "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"
                        "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",9],PARAMETER[\"scale_factor\",0.9996],"
                        "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1],"
                        "AUTHORITY[\"EPSG\",\"32632\"]]");
    r->geotransform[0] = x0;
    r->geotransform[1] = cell;
    r->geotransform[2] = 0;
    r->geotransform[3] = y0;
    r->geotransform[4] = 0;
    r->geotransform[5] = -cell;
    return r;
}

/* A fresh temp directory (static buffer). */
static inline const char *flood_test_tmpdir(const char *tag)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "/tmp/ct_flood_%s_%d", tag, (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s && mkdir -p %s", buf, buf);
    if (system(cmd) != 0)
        return NULL;
    return buf;
}

static inline const char *flood_test_cli(void)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/cli/citytwin", CT_BINARY_DIR);
    return buf;
}

static inline int flood_test_have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return ct_test_sh(cmd) == 0;
}

#endif
