/* citytwin analyze KIND ...: dispatches to cmd_analyze_<kind>.c */
#include "cli.h"

#include <string.h>

static const ct_cli_command *const KINDS[] = {
    &ct_cmd_analyze_flood, &ct_cmd_analyze_pond, &ct_cmd_analyze_impact, &ct_cmd_analyze_route,
    &ct_cmd_analyze_isochrone, &ct_cmd_analyze_viewshed, &ct_cmd_analyze_los,
};
#define N_KINDS (sizeof KINDS / sizeof KINDS[0])

static int run(int argc, char **argv);

const ct_cli_command ct_cmd_analyze = {
    "analyze", run, "spatial analyses: flood, pond, impact, route, isochrone, viewshed, los",
    "usage: citytwin analyze KIND [OPTIONS]\n\n"
    "  flood      static (bathtub) or dynamic 2D flood on a DEM\n"
    "  pond       depression filling of a rainfall depth\n"
    "  impact     what lies within rings around an incident\n"
    "  route      fastest routes on a road graph\n"
    "  isochrone  areas reachable within given minutes\n"
    "  viewshed   visible cells from an observer on a DEM\n"
    "  los        line of sight between two 3D points\n\n"
    "citytwin analyze KIND --help for each kind's options.\n",
};

static int run(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(ct_cmd_analyze.usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(KINDS[i]->name, argv[1]))
            return KINDS[i]->run(argc - 1, argv + 1);
    return cli_fail("analyze", CT_ERR_USAGE, "unknown analysis '%s' (flood, pond, impact, route, isochrone, viewshed, los)", argv[1]);
}
