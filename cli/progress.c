/* Progress bar on stderr: "label [#####.....]  42 %" redrawn with \r. */
#include "progress.h"

#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define BAR 30

void cli_progress_begin(cli_progress *p, const char *label, bool forced)
{
    p->label = label;
    p->on = forced || isatty(STDERR_FILENO);
    p->drawn = false;
    p->last_permille = -1;
    p->last_t = -1;
}

static void draw(cli_progress *p, int permille)
{
    char bar[BAR + 1];
    int full = permille * BAR / 1000;
    for (int i = 0; i < BAR; i++)
        bar[i] = i < full ? '#' : '.';
    bar[BAR] = 0;
    fprintf(stderr, "\r%s [%s] %3d %%", p->label, bar, permille / 10);
    fflush(stderr);
    p->drawn = true;
    p->last_permille = permille;
}

void cli_progress_update(void *user, double fraction)
{
    cli_progress *p = user;
    if (!p || !p->on)
        return;
    if (!(fraction >= 0))
        fraction = 0;
    int permille = (int)fmin(1000, floor(fraction * 1000));
    if (permille <= p->last_permille)
        return;
    /* At most ~5 redraws per second (the first one at once). */
    double now = ct_time_now();
    if (p->drawn && now - p->last_t < 0.2)
        return;
    p->last_t = now;
    draw(p, permille);
}

void cli_progress_end(cli_progress *p)
{
    if (!p->on)
        return;
    if (p->drawn || p->last_permille < 0)
        draw(p, 1000);
    fputc('\n', stderr);
    fflush(stderr);
    p->on = false;
}
