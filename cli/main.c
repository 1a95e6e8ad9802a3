/* citytwin: the command line. Dispatches to one subcommand per file. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#ifndef CT_VERSION
#define CT_VERSION "dev"
#endif

static const ct_cli_command *const COMMANDS[] = {
    &ct_cmd_render, &ct_cmd_view, &ct_cmd_info, &ct_cmd_pick, &ct_cmd_tiles, &ct_cmd_analyze, &ct_cmd_demo,
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

static void print_usage(FILE *f)
{
    fprintf(f, "usage: citytwin SUBCOMMAND [ARGS]   (citytwin help SUBCOMMAND for details)\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", COMMANDS[i]->name, COMMANDS[i]->summary);
    fprintf(f, "\n  --version  print the version\n");
}

static const ct_cli_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(COMMANDS[i]->name, name))
            return COMMANDS[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 1;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--version") || !strcmp(sub, "version")) {
        printf("citytwin %s\n", CT_VERSION);
        return 0;
    }
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(sub, "help")) {
        if (argc < 3) {
            print_usage(stdout);
            return 0;
        }
        const ct_cli_command *c = find(argv[2]);
        if (!c)
            return cli_fail("help", CT_ERR_USAGE, "unknown subcommand '%s'", argv[2]);
        if (c == &ct_cmd_analyze && argc > 3) {
            char *args[] = {argv[2], argv[3], "--help", NULL};
            return c->run(3, args);
        }
        fputs(c->usage, stdout);
        return 0;
    }
    const ct_cli_command *c = find(sub);
    if (!c) {
        fprintf(stderr, "citytwin: unknown subcommand '%s'\n", sub);
        print_usage(stderr);
        return 1;
    }
    return c->run(argc - 1, argv + 1);
}
