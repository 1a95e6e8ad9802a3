/* citytwin pick: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_pick) == 0)
        return 0;
    return cli_fail("pick", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_pick = {"pick", run, "what is under a pixel: tileset, tile, feature and properties", "usage: citytwin pick ...\n"};
