/* Internal to the `citytwin` command: what render, pick and view share —
 * opening INPUT... (glTF/GLB, scene JSON, tileset) as render layers, the
 * camera options, and the per-frame "layers update + draw" loop. */
#ifndef CT_CLI_SCENE_H
#define CT_CLI_SCENE_H

#include "citytwin/ct_render.h"
#include "citytwin/ct_scene.h"
#include "cli.h"

/* Options that layers read (3D Tiles: sse, memory budget). */
typedef struct cli_layer_options {
    double sse;               /* maximum screen-space error in pixels; 0 = 16 */
    uint64_t bytes_budget;    /* 0 = layer default */
    /* render --wait: the render thread sleeps while tiles load, so tileset
     * layers get one worker per CPU (else CPUs - 1) */
    bool wait;
} cli_layer_options;

typedef struct cli_scene {
    ct_render_layer **layers;
    uint32_t layer_count;
    bool geographic;          /* world frame is ECEF (scene with an origin, CESIUM_RTC, tilesets) */
    ct_scene *scene;          /* when an input was a scene file (first one), else NULL */
} cli_scene;

/* Opens every input (NULL/0 inputs: the built-in demo scene). Returns 0 or an
 * exit status after printing the error line for `sub`. */
int cli_scene_open(const char *sub, char **inputs, int n, ct_renderer *r, const cli_layer_options *opts,
                   cli_scene *out);
void cli_scene_close(cli_scene *s);
/* What render and pick share: a headless context of width x height, a renderer
 * and the opened inputs. Returns 0 or an exit status after printing the error;
 * on failure nothing is left to close. */
int cli_headless_open(const char *sub, char **inputs, int n, int width, int height, const ct_renderer_desc *rd,
                      const cli_layer_options *opts, ct_render_context **ctx, ct_renderer **r, cli_scene *scene);
void cli_headless_close(ct_render_context *ctx, ct_renderer *r, cli_scene *scene);
/* Union bounding sphere of the visible layers; false when empty. */
bool cli_scene_bounds(const cli_scene *s, ct_dvec3 *center, double *radius);
/* Updates every layer for the camera; *complete when all are. */
ct_status cli_scene_update(cli_scene *s, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err);
void cli_scene_draw(cli_scene *s, ct_renderer *r);

/* What `citytwin render` does with an opened scene, in one place so that
 * bench/tiles measures exactly that. Without wait: `frames` frames, each
 * layers update + draw + ct_renderer_finish. With wait (render --wait): the
 * tileset layers load in ct_tileset FINAL mode and nothing is drawn
 * meanwhile; the loop updates the layers, sleeps on the workers' "request
 * done" signal (not a poll), and draws once every layer has said complete
 * CLI_RENDER_CONFIRM updates in a row (or at the timeout), then draws the
 * remaining frames as usual. */
#define CLI_RENDER_CONFIRM 3
typedef struct cli_render_desc {
    const ct_render_frame_desc *frame; /* camera, size, background */
    bool wait;
    /* wait, for comparison: load as the viewer does (INTERACTIVE mode, a
     * frame drawn after every update that is not complete) */
    bool draw_while_loading;
    double timeout_s;         /* wait: 0 = 120 */
    int frames;               /* frames drawn (with wait: at full detail); 0 = 1 */
    double t_start;           /* ct_time_now() the times count from; 0 = the call */
    double *frame_ms;         /* optional: milliseconds of each drawn frame */
    int frame_ms_cap;
} cli_render_desc;

typedef struct cli_render_result {
    double t_first_frame_s;   /* the first drawn frame finished */
    double t_full_detail_s;   /* the first frame drawn with every layer complete; < 0: never */
    int updates;              /* layer updates before that frame */
    int frames_loading;       /* draw_while_loading: frames drawn before full detail */
    int frames;               /* frames drawn */
    bool timed_out;           /* wait: full detail not reached within timeout_s */
    uint64_t bytes_peak;      /* layers' content bytes, sampled after every update */
    uint64_t bytes_budget;
    bool has_tiles;           /* a tile layer is open: tiles holds its counts */
    ct_render_layer_stats tiles; /* summed over tile layers after the last frame */
} cli_render_result;

ct_status cli_scene_render(cli_scene *s, ct_renderer *r, const cli_render_desc *d, cli_render_result *res,
                           ct_error *err);
/* Pick ids: the low CLI_PICK_LAYER_BITS bits name the layer (1..n, layers
 * past 2^bits - 1 are not pickable); a layer may use the bits above for its
 * own parts (tileset layers: which tile/model/instance was drawn). */
#define CLI_PICK_LAYER_BITS 10
/* The layer that owns a pick id, or NULL. */
ct_render_layer *cli_scene_layer_by_pick(const cli_scene *s, uint32_t pick_id);

/* Camera options shared by render, pick and view. */
typedef struct cli_view_args {
    bool has_camera;
    double camera[6];         /* LON,LAT,H,HEADING,PITCH,ROLL (or X,Y,Z,... in local scenes) */
    bool fit;
    double fov;               /* 0 = 60 */
    const char *bookmark;     /* a scene camera by name */
} cli_view_args;

/* Consumes argv[*i] (and its value) when it is --camera/--fit/--fov/--bookmark:
 * returns 1 when consumed, 0 when not a camera option, -1 (after printing) on a
 * bad value. */
int cli_view_arg(const char *sub, int argc, char **argv, int *i, cli_view_args *v);
/* The camera for the scene: --camera, else --bookmark, else --fit (the default).
 * Near/far come from the scene's bounds. Returns 0 or an exit status. */
int cli_view_camera(const char *sub, const cli_view_args *v, const cli_scene *s, int width, int height,
                    ct_camera *cam);

#endif
