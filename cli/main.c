/* citytwin: the command line. Dispatches to one subcommand per file. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifndef CT_VERSION
#define CT_VERSION "dev"
#endif

static const ct_cli_command *const COMMANDS[] = {
    &ct_cmd_render, &ct_cmd_view, &ct_cmd_info, &ct_cmd_pick, &ct_cmd_tiles, &ct_cmd_analyze, &ct_cmd_demo,
};
#define N_COMMANDS (sizeof COMMANDS / sizeof COMMANDS[0])

int cli_fail(const char *sub, ct_status st, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "citytwin %s: %s\n", sub, msg);
    return st == CT_OK ? CT_ERR_RUNTIME : (int)st;
}

int cli_fail_err(const char *sub, const ct_error *err)
{
    return cli_fail(sub, err->status, "%s", err->msg);
}

int cli_help_requested(int argc, char **argv, const ct_cli_command *cmd)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(cmd->usage, stdout);
            return 0;
        }
    return -1;
}

int cli_parse_numbers(const char *s, double *out, int n_min, int n_max)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        if (n == n_max)
            return -1;
        char *end;
        double v = strtod(p, &end);
        if (end == p)
            return -1;
        out[n++] = v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n >= n_min ? n : -1;
}

bool cli_parse_size(const char *s, int *w, int *h)
{
    char x;
    return sscanf(s, "%d%c%d", w, &x, h) == 3 && (x == 'x' || x == 'X') && *w > 0 && *h > 0 && *w <= 16384 &&
           *h <= 16384;
}

void cli_print_json(cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    cJSON_Delete(obj);
}

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
