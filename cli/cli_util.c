/* The small helpers every subcommand shares (exit codes, argument parsing,
 * JSON output). Kept apart from main.c's dispatch table so that the benches,
 * which run the CLI's scene code without its main(), link the same ones. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
