/* Progress bars of long runs: stderr only, and only when stderr is a terminal
 * or --progress was given (see ../shared/CLI.md); throttled to a few updates
 * per second, ended with a newline. */
#ifndef CT_CLI_PROGRESS_H
#define CT_CLI_PROGRESS_H

#include "citytwin/ct_core.h"

typedef struct cli_progress {
    const char *label;
    bool on, drawn;
    int last_permille;
    double last_t;
} cli_progress;

/* on when forced (--progress) or when stderr is a terminal. */
void cli_progress_begin(cli_progress *p, const char *label, bool forced);
/* A ct_progress_fn: user is the cli_progress. */
void cli_progress_update(void *user, double fraction);
/* Draws 100 % (when anything was drawn) and the newline. */
void cli_progress_end(cli_progress *p);

#endif
