/* citytwin analyze flood --report: a self-contained HTML page. */
#include "flood_cli.h"

ct_status flood_cli_write_html(const char *path, const flood_cli_args *a, const ct_raster *dem,
                               const ct_flood_sim_result *r, ct_error *err)
{
    (void)a;
    (void)dem;
    (void)r;
    return ct_error_set(err, CT_ERR_USAGE, "%s: --report is not implemented yet", path);
}
