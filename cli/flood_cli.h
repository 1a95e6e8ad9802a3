/* Internal to `citytwin analyze flood`: option parsing and the dynamic run. */
#ifndef CT_FLOOD_CLI_H
#define CT_FLOOD_CLI_H

#include "citytwin/ct_flood.h"

#include <cjson/cJSON.h>

#define FLOOD_CLI_MAX 256

typedef struct flood_cli_args {
    const char *dem, *out, *extent, *crs;
    double seeds[2 * FLOOD_CLI_MAX];
    int n_seeds;
    double levels[FLOOD_CLI_MAX];
    int n_levels;
    bool use_rise, rlake_compat, json, progress;
    int argc;   /* the command line, for --report */
    char **argv;
    int connectivity;
    ct_flood_compress compress; /* --compress: output rasters */
    /* dynamic */
    bool dynamic;
    double duration, rain, manning, gauge_every, snapshot_every, alpha, theta, initial_level, mass_every;
    bool has_rain, has_initial_level;
    const char *rain_series, *manning_raster, *buildings, *out_dir, *report;
    double inflow_xy[2 * FLOOD_CLI_MAX];
    const char *inflow_csv[FLOOD_CLI_MAX];
    int n_inflows;
    double gauges[2 * FLOOD_CLI_MAX];
    int n_gauges;
    ct_flood_boundary boundary[4];      /* level_series loaded by the run from boundary_csv */
    const char *boundary_csv[4];        /* --boundary [SIDE=]level:STAGE.csv, by side */
    char *line_spec[FLOOD_CLI_MAX];     /* --inflow-line SPEC:CSV (SPEC malloc'ed) */
    const char *line_csv[FLOOD_CLI_MAX];
    int n_lines;
    const char *rain_rasters;           /* --rain-rasters LIST.csv */
    int n_rain_frames;                  /* set by the run, for the report */
    const ct_flood_line_inflow *lines;  /* the n_lines lines read by the run (DEM CRS), for the report map */
} flood_cli_args;

/* Returns 0 or an exit status (usage error already printed). */
int flood_cli_parse(const char *sub, int argc, char **argv, flood_cli_args *a);
void flood_cli_args_free(flood_cli_args *a);
/* Transforms n points from crs (may be NULL: no-op) into the DEM's CRS. */
ct_status flood_cli_transform_points(const char *crs, const ct_raster *dem, double *xy, int n, ct_error *err);
/* "dir/out.tif" + value -> "dir/out_<value>.tif" (value NAN: unchanged). */
void flood_cli_series_path(const char *out, double value, char *buf, size_t size);
/* Reads a two-column CSV (ct_flood_series_load) into malloc'ed t/v arrays. */
ct_status flood_cli_read_series(const char *path, ct_flood_series *s, ct_error *err);
int flood_cli_run_dynamic(const char *sub, flood_cli_args *a);
/* --report: self-contained HTML pages (cli/flood_report.c, cli/report.h). */
ct_status flood_cli_write_html(const char *path, const flood_cli_args *a, const ct_raster *dem,
                               const ct_flood_sim_result *r, const cJSON *json, ct_error *err);
ct_status flood_cli_write_static_html(const char *path, const flood_cli_args *a, const ct_raster *dem,
                                      ct_raster *const *depths, const ct_flood_static_result *res, int n,
                                      double seconds, const cJSON *json, ct_error *err);
ct_status flood_cli_write_pond_html(const char *path, int argc, char **argv, const char *dem_path,
                                    const ct_raster *dem, double rain_mm, const ct_raster *depth,
                                    const ct_flood_pond_result *res, double seconds, const cJSON *json,
                                    ct_error *err);

#endif
