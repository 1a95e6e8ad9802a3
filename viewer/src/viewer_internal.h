/* Shared between the viewer sources; not a public header. */
#ifndef CT_VIEWER_INTERNAL_H
#define CT_VIEWER_INTERNAL_H

#include "citytwin/ct_viewer.h"

#include <SDL2/SDL.h>

/* ---- camera controller (controller.c) ---- */

typedef enum { CT_CTRL_ORBIT, CT_CTRL_FLY } ct_ctrl_mode;

typedef struct ct_controller {
    ct_camera cam, home;
    ct_dvec3 pivot, center;
    double radius;
    bool geographic;
    ct_ctrl_mode mode;
    bool keys[SDL_NUM_SCANCODES]; /* tracked from events (scripted events never reach SDL's keyboard state) */
    int drag_button;              /* 0 = none */
} ct_controller;

void ct_controller_init(ct_controller *c, const ct_camera *cam, ct_dvec3 center, double radius, bool geographic);
/* Local up direction at a point (ellipsoid normal or +z). */
ct_dvec3 ct_controller_up(const ct_controller *c, ct_dvec3 at);
void ct_controller_orbit(ct_controller *c, double dx_px, double dy_px, int height);
void ct_controller_look(ct_controller *c, double dx_px, double dy_px, int height);
void ct_controller_pan(ct_controller *c, double dx_px, double dy_px, int height);
void ct_controller_zoom(ct_controller *c, double clicks);
/* Moves by the held keys for dt seconds. */
void ct_controller_fly(ct_controller *c, double dt);
/* Keeps near/far around the scene and the pivot. */
void ct_controller_update_clip(ct_controller *c);

/* ---- scripts (script.c) ---- */

typedef struct ct_script ct_script;
ct_status ct_script_load(const char *path, ct_script **out, ct_error *err);
void ct_script_destroy(ct_script *s);
/* Called once per frame before events are polled: pushes this frame's events.
 * *screenshot is set to a path (owned by the script) when the coming frame
 * should be saved. Returns false when the script has finished. */
bool ct_script_step(ct_script *s, SDL_Window *win, const char **screenshot);

#endif
