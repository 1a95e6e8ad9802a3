/* --report pages of analyze viewshed and analyze los (cli/report_visibility.c). */
#ifndef CT_CLI_REPORT_VISIBILITY_H
#define CT_CLI_REPORT_VISIBILITY_H

#include "citytwin/ct_visibility.h"
#include "report.h"

ct_status report_viewshed_write(const char *path, int argc, char **argv, const char *dem_path, const ct_raster *dem,
                                const ct_viewshed_desc *d, const ct_viewshed *v, double seconds, const cJSON *json,
                                ct_error *err);
/* dem may be NULL (meshes only: a light background). */
ct_status report_los_write(const char *path, int argc, char **argv, const char *dem_path, const ct_raster *dem,
                           const ct_los_desc *d, const ct_los_result *res, const cJSON *json, ct_error *err);

#endif
