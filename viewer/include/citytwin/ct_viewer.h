/* The interactive viewer: an SDL2 window running the per-frame "layers
 * update + draw" loop with orbit / pan / zoom / fly camera controllers.
 *
 * Controls (docs/rendering.md): left drag orbits around the point under the
 * cursor, right or middle drag pans, wheel or touch-pad pinch zooms, W/A/S/D
 * move, Q/E down/up (Shift: faster), Tab switches orbit/fly (fly: drag looks
 * around), Home resets the camera, F11 or F toggles fullscreen, F5 reloads
 * shaders from $CT_SHADER_DIR, P saves a screenshot, Escape quits.
 *
 * Scripted mode (tests, demos): one event per line, injected as SDL events:
 *   wait N                      N frames
 *   key NAME [N]                hold a key (SDL key name: w, F11, Escape...) N frames (default 1)
 *   drag X1 Y1 X2 Y2 [BUTTON] [N]  mouse drag over N frames (default 10); BUTTON left|right|middle
 *   wheel N                     wheel clicks (positive = zoom in)
 *   pinch D                     touch-pad pinch distance (positive = zoom in)
 *   screenshot PATH             write the next frame as PNG
 *   quit
 * Blank lines and lines starting with # are ignored. While a script runs,
 * frames advance with a fixed 1/60 s step so results do not depend on speed. */
#ifndef CT_VIEWER_H
#define CT_VIEWER_H

#include "citytwin/ct_render.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_viewer ct_viewer;

typedef struct ct_viewer_desc {
    int width, height;        /* window size; 0 = 1280x720 */
    bool fullscreen;
    int display;              /* display index */
    int msaa;                 /* 0 = 4 */
    bool no_vsync;
    const char *title;        /* NULL = "citytwin" */
    const char *script_path;  /* scripted events, NULL = none */
    int max_frames;           /* quit after this many frames; 0 = until closed */
} ct_viewer_desc;

/* Opens the window and the renderer (CT_ERR_RUNTIME when no display / GL). */
ct_status ct_viewer_create(const ct_viewer_desc *desc, ct_viewer **out, ct_error *err);
void ct_viewer_destroy(ct_viewer *v);
/* For uploading layers before ct_viewer_run. */
ct_renderer *ct_viewer_renderer(ct_viewer *v);
ct_render_context *ct_viewer_context(ct_viewer *v);
/* Layers to update and draw each frame (not owned). geographic: the world is
 * ECEF (up = ellipsoid normal) rather than local z-up. */
void ct_viewer_set_layers(ct_viewer *v, ct_render_layer **layers, uint32_t count, bool geographic);
/* Initial camera and the scene's bounding sphere (orbit pivot, speeds, clip planes). */
void ct_viewer_set_camera(ct_viewer *v, const ct_camera *cam, ct_dvec3 center, double radius);
/* Runs until quit (window closed, Escape, script `quit`, max_frames). */
ct_status ct_viewer_run(ct_viewer *v, ct_error *err);
/* Frames drawn so far. */
uint64_t ct_viewer_frame_count(const ct_viewer *v);

#ifdef __cplusplus
}
#endif
#endif
