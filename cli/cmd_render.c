/* citytwin render: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_render) == 0)
        return 0;
    return cli_fail("render", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_render = {"render", run, "render inputs (glTF, tileset, scene) to a PNG, headless", "usage: citytwin render ...\n"};
