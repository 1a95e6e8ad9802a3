/* Scripted input: a text file of events (see ct_viewer.h), injected one step
 * per frame with SDL_PushEvent so they take the same path as real input. */
#include "viewer_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_WAIT, S_KEY, S_DRAG, S_WHEEL, S_PINCH, S_SCREENSHOT, S_QUIT } step_kind;

typedef struct step {
    step_kind kind;
    int frames;
    double a[4];
    int button;
    SDL_Keycode key;
    char *path;
} step;

struct ct_script {
    step *steps;
    int count;
    int at;      /* current step */
    int frame;   /* frames spent in it */
};

void ct_script_destroy(ct_script *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->count; i++)
        free(s->steps[i].path);
    free(s->steps);
    free(s);
}

static int parse_button(const char *w)
{
    if (!w || !strcmp(w, "left"))
        return SDL_BUTTON_LEFT;
    if (!strcmp(w, "right"))
        return SDL_BUTTON_RIGHT;
    if (!strcmp(w, "middle"))
        return SDL_BUTTON_MIDDLE;
    return -1;
}

ct_status ct_script_load(const char *path, ct_script **out, ct_error *err)
{
    *out = NULL;
    uint8_t *data;
    size_t size;
    ct_status st = ct_file_read(path, 1 << 20, &data, &size, err);
    if (st != CT_OK)
        return st;
    ct_script *s = calloc(1, sizeof *s);
    if (!s) {
        free(data);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    char *save = NULL;
    int line_no = 0;
    for (char *line = strtok_r((char *)data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        while (isspace((unsigned char)*line))
            line++;
        if (!*line || *line == '#')
            continue;
        char cmd[32] = "", w[5][512] = {{0}};
        int n = sscanf(line, "%31s %511s %511s %511s %511s %511s", cmd, w[0], w[1], w[2], w[3], w[4]) - 1;
        step st1 = {.frames = 1};
        bool ok = true;
        if (!strcmp(cmd, "wait")) {
            st1.kind = S_WAIT;
            st1.frames = n >= 1 ? atoi(w[0]) : 1;
            ok = st1.frames >= 0;
        } else if (!strcmp(cmd, "key")) {
            st1.kind = S_KEY;
            st1.key = n >= 1 ? SDL_GetKeyFromName(w[0]) : SDLK_UNKNOWN;
            st1.frames = n >= 2 ? atoi(w[1]) : 1;
            ok = st1.key != SDLK_UNKNOWN && st1.frames >= 1;
        } else if (!strcmp(cmd, "drag")) {
            st1.kind = S_DRAG;
            ok = n >= 4;
            for (int i = 0; i < 4 && ok; i++)
                st1.a[i] = atof(w[i]);
            st1.button = parse_button(n >= 5 ? w[4] : NULL);
            st1.frames = 10;
            if (n >= 6)
                st1.frames = atoi(w[5]);
            ok = ok && st1.button > 0 && st1.frames >= 1;
        } else if (!strcmp(cmd, "wheel") || !strcmp(cmd, "pinch")) {
            st1.kind = !strcmp(cmd, "wheel") ? S_WHEEL : S_PINCH;
            ok = n >= 1;
            st1.a[0] = atof(w[0]);
        } else if (!strcmp(cmd, "screenshot")) {
            st1.kind = S_SCREENSHOT;
            ok = n >= 1;
            st1.path = ok ? ct_strdup(w[0]) : NULL;
        } else if (!strcmp(cmd, "quit")) {
            st1.kind = S_QUIT;
        } else {
            ok = false;
        }
        step *grown = ok ? realloc(s->steps, (size_t)(s->count + 1) * sizeof *grown) : NULL;
        if (!grown) {
            ct_error_set(err, CT_ERR_INPUT, "%s:%d: cannot parse '%s'", path, line_no, line); /* before line is freed */
            free(st1.path);
            ct_script_destroy(s);
            free(data);
            return CT_ERR_INPUT;
        }
        s->steps = grown;
        s->steps[s->count++] = st1;
    }
    free(data);
    *out = s;
    return CT_OK;
}

static void push_key(SDL_Window *win, SDL_Keycode key, bool down)
{
    SDL_Event e = {0};
    e.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    e.key.windowID = SDL_GetWindowID(win);
    e.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    e.key.keysym.sym = key;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(key);
    SDL_PushEvent(&e);
}

static void push_mouse_button(SDL_Window *win, int button, int x, int y, bool down)
{
    SDL_Event e = {0};
    e.type = down ? SDL_MOUSEBUTTONDOWN : SDL_MOUSEBUTTONUP;
    e.button.windowID = SDL_GetWindowID(win);
    e.button.button = (Uint8)button;
    e.button.state = down ? SDL_PRESSED : SDL_RELEASED;
    e.button.clicks = 1;
    e.button.x = x;
    e.button.y = y;
    SDL_PushEvent(&e);
}

static void push_motion(SDL_Window *win, int button, int x, int y, int dx, int dy)
{
    SDL_Event e = {0};
    e.type = SDL_MOUSEMOTION;
    e.motion.windowID = SDL_GetWindowID(win);
    e.motion.state = SDL_BUTTON(button);
    e.motion.x = x;
    e.motion.y = y;
    e.motion.xrel = dx;
    e.motion.yrel = dy;
    SDL_PushEvent(&e);
}

bool ct_script_step(ct_script *s, SDL_Window *win, const char **screenshot)
{
    *screenshot = NULL;
    while (s->at < s->count) {
        step *st = &s->steps[s->at];
        int f = s->frame++;
        switch (st->kind) {
        case S_WAIT:
            if (f < st->frames)
                return true;
            break;
        case S_KEY:
            if (f == 0)
                push_key(win, st->key, true);
            if (f < st->frames)
                return true;
            push_key(win, st->key, false);
            break;
        case S_DRAG: {
            int x0 = (int)st->a[0], y0 = (int)st->a[1], x1 = (int)st->a[2], y1 = (int)st->a[3];
            if (f == 0) {
                push_mouse_button(win, st->button, x0, y0, true);
                return true;
            }
            if (f <= st->frames) { /* equal steps from (x0,y0) to (x1,y1) */
                int px = x0 + (x1 - x0) * (f - 1) / st->frames, py = y0 + (y1 - y0) * (f - 1) / st->frames;
                int nx = x0 + (x1 - x0) * f / st->frames, ny = y0 + (y1 - y0) * f / st->frames;
                push_motion(win, st->button, nx, ny, nx - px, ny - py);
                return true;
            }
            push_mouse_button(win, st->button, x1, y1, false);
            break;
        }
        case S_WHEEL: {
            SDL_Event e = {0};
            e.type = SDL_MOUSEWHEEL;
            e.wheel.windowID = SDL_GetWindowID(win);
            e.wheel.y = (Sint32)st->a[0];
            e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
            SDL_PushEvent(&e);
            s->at++, s->frame = 0;
            return true;
        }
        case S_PINCH: {
            SDL_Event e = {0};
            e.type = SDL_MULTIGESTURE;
            e.mgesture.dDist = (float)st->a[0];
            e.mgesture.numFingers = 2;
            SDL_PushEvent(&e);
            s->at++, s->frame = 0;
            return true;
        }
        case S_SCREENSHOT:
            *screenshot = st->path;
            s->at++, s->frame = 0;
            return true;
        case S_QUIT: {
            SDL_Event e = {0};
            e.type = SDL_QUIT;
            SDL_PushEvent(&e);
            s->at++, s->frame = 0;
            return true;
        }
        }
        s->at++;
        s->frame = 0;
    }
    return false;
}
