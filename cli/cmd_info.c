/* citytwin info: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_info) == 0)
        return 0;
    return cli_fail("info", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_info = {"info", run, "describe a glTF/GLB, tile content file or tileset", "usage: citytwin info ...\n"};
