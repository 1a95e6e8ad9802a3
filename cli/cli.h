/* Internal to the `citytwin` command: subcommand entry points and the small
 * helpers they share (argument parsing, JSON output, exit codes). */
#ifndef CT_CLI_H
#define CT_CLI_H

#include "citytwin/ct_core.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* Each subcommand: argv[0] is the subcommand name. Returns the exit status
 * (0 ok, 1 usage, 2 bad input, 3 runtime; see ../shared/CLI.md). */
typedef int (*ct_cli_fn)(int argc, char **argv);

typedef struct ct_cli_command {
    const char *name;
    ct_cli_fn run;
    const char *summary;
    const char *usage; /* full --help text */
} ct_cli_command;

/* One line on stderr ("citytwin SUB: message") and the status as exit code. */
int cli_fail(const char *sub, ct_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cli_fail_err(const char *sub, const ct_error *err);
/* Prints usage to stdout and returns 0 if argv has -h/--help; else -1. */
int cli_help_requested(int argc, char **argv, const ct_cli_command *cmd);

/* "X,Y" or "X,Y,Z" (n_min..n_max numbers, comma-separated). Returns count parsed or -1. */
int cli_parse_numbers(const char *s, double *out, int n_min, int n_max);
/* "WxH" */
bool cli_parse_size(const char *s, int *w, int *h);
/* Prints the object as one line of JSON on stdout and deletes it. */
void cli_print_json(cJSON *obj);

/* `tiles info` for a tileset.json (cmd_tiles.c), shared with `citytwin info`. */
int cli_tiles_info(const char *path, bool json);

/* The demo's results step (cli/demo_results.c): runs the scene's flood,
 * impact and route presets in a demo folder and writes ct_demo_result_files. */
ct_status cli_demo_results(const char *dir, ct_error *err);

/* Subcommands, one file each (cli/cmd_*.c). */
extern const ct_cli_command ct_cmd_render, ct_cmd_view, ct_cmd_info, ct_cmd_pick, ct_cmd_tiles,
    ct_cmd_analyze, ct_cmd_demo;
/* analyze sub-subcommands (cli/cmd_analyze_*.c) */
extern const ct_cli_command ct_cmd_analyze_flood, ct_cmd_analyze_pond, ct_cmd_analyze_impact,
    ct_cmd_analyze_route, ct_cmd_analyze_isochrone, ct_cmd_analyze_viewshed, ct_cmd_analyze_los;

#endif
