/* citytwin tiles: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_tiles) == 0)
        return 0;
    return cli_fail("tiles", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_tiles = {"tiles", run, "3D Tiles tools: info, validate", "usage: citytwin tiles ...\n"};
