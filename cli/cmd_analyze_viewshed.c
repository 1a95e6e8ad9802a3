/* citytwin analyze viewshed: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_viewshed) == 0)
        return 0;
    return cli_fail("analyze viewshed", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_analyze_viewshed = {"viewshed", run, "viewshed analysis", "usage: citytwin analyze viewshed ...\n"};
