/* citytwin analyze isochrone: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_isochrone) == 0)
        return 0;
    return cli_fail("analyze isochrone", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_analyze_isochrone = {"isochrone", run, "isochrone analysis", "usage: citytwin analyze isochrone ...\n"};
