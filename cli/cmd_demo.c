/* citytwin demo: not implemented yet. */
#include "cli.h"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_demo) == 0)
        return 0;
    return cli_fail("demo", CT_ERR_RUNTIME, "not implemented yet");
}

const ct_cli_command ct_cmd_demo = {"demo", run, "generate the built-in demo district's data files", "usage: citytwin demo ...\n"};
