/* --report pages of analyze route, isochrone and impact (cli/report_vector.c). */
#ifndef CT_CLI_REPORT_VECTOR_H
#define CT_CLI_REPORT_VECTOR_H

#include "citytwin/ct_impact.h"
#include "report.h"
#include "route_cli.h"

ct_status report_route_write(const char *path, int argc, char **argv, const route_cli_common *c,
                             const ct_route_out_row *rows, size_t n, const cJSON *json, ct_error *err);
ct_status report_isochrone_write(const char *path, int argc, char **argv, const route_cli_common *c,
                                 const double (*from)[2], int n_from, const ct_route_isochrone *iso, int n,
                                 const cJSON *json, ct_error *err);
ct_status report_impact_write(const char *path, int argc, char **argv, ct_impact_layer *const *layers,
                              const char *const *names, const char *const *sources, size_t n_layers,
                              const ct_impact_result *res, const char *crs_label, const cJSON *json, ct_error *err);

#endif
