/* citytwin view: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_view) == 0)
        return 0;
    return cli_fail("view", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_view = {"view", run, "open the interactive viewer", "usage: citytwin view ...\n"};
