/* OpenGL rendering: contexts (headless EGL or an SDL2 window), one renderer
 * for both, models uploaded from ct_gltf, picking and read-back.
 *
 * Descriptor structs: zero means default (sokol style). GL calls happen only on
 * the thread that created the context.
 *
 * Precision (DESIGN.md): every draw takes a double model->world matrix; the
 * renderer forms model-view = view_rotation * (world - eye) in double each
 * frame and only then casts to float, so a model 50 km (or 6400 km, ECEF)
 * from the origin shows no jitter at 1 cm. Depth is reversed-Z
 * (glClipControl, 32-bit float depth) where available, else logarithmic.
 *
 * A frame: ct_renderer_begin_frame, any number of ct_renderer_draw_model
 * (opaque primitives drawn at once, blended ones queued), ct_renderer_end_frame
 * (blended primitives back to front, MSAA resolve), then read pixels / pick /
 * present. */
#ifndef CT_RENDER_H
#define CT_RENDER_H

#include "citytwin/ct_camera.h"
#include "citytwin/ct_core.h"
#include "citytwin/ct_gltf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- contexts ---- */

typedef struct ct_render_context ct_render_context;

typedef struct ct_render_context_desc {
    bool window;          /* false: headless EGL (no display needed); true: SDL2 window */
    int width, height;    /* headless framebuffer / window size in points; 0 = 256x256 headless, 1280x720 window */
    const char *title;    /* window title; NULL = "citytwin" */
    bool fullscreen;      /* start fullscreen (desktop resolution) */
    int display;          /* window's display index (0 = primary) */
    bool no_vsync;        /* window: swap without waiting for vblank */
    bool hidden;          /* window: create hidden (tests) */
} ct_render_context_desc;

/* Headless: EGL device platform when it offers a hardware device (NVIDIA...),
 * else Mesa's surfaceless platform; GL 3.3+ core. Fails with CT_ERR_RUNTIME
 * (the CLI's exit 3) when no context can be made. */
ct_status ct_render_context_create(const ct_render_context_desc *desc, ct_render_context **out, ct_error *err);
void ct_render_context_destroy(ct_render_context *ctx);
/* Drawable size in pixels (HiDPI aware for windows). */
void ct_render_context_size(const ct_render_context *ctx, int *width, int *height);
/* "GL_RENDERER (GL_VERSION)" */
const char *ct_render_context_renderer(const ct_render_context *ctx);
/* The SDL_Window* of a windowed context, NULL headless. */
void *ct_render_context_window(const ct_render_context *ctx);
void ct_render_context_swap(ct_render_context *ctx);
void ct_render_context_set_fullscreen(ct_render_context *ctx, bool fullscreen);
bool ct_render_context_fullscreen(const ct_render_context *ctx);

/* ---- renderer ---- */

typedef struct ct_renderer ct_renderer;

typedef struct ct_renderer_desc {
    int msaa;               /* samples: 0 = 4, 1 = off */
    bool picking;           /* also render ids into an integer buffer (ct_renderer_pick) */
    bool force_log_depth;   /* use logarithmic depth even when glClipControl exists (tests) */
    /* Per-frame loops (the viewer): depth reads during a frame
     * (ct_renderer_read_depth_m, i.e. label occlusion) use the depth of the
     * newest earlier frame whose asynchronous read-back has finished (usually
     * the previous one) and never wait for the GPU; until one has finished
     * (first frame, after a resize) they read synchronously. false (one-shot
     * renders, `render -o`): the current frame's depth, read synchronously. */
    bool interactive;
} ct_renderer_desc;

ct_status ct_renderer_create(ct_render_context *ctx, const ct_renderer_desc *desc, ct_renderer **out, ct_error *err);
void ct_renderer_destroy(ct_renderer *r);
/* Re-reads shaders/<name>.glsl from $CT_SHADER_DIR when set (development);
 * keeps the old programs when the new ones do not compile. */
ct_status ct_renderer_reload_shaders(ct_renderer *r, ct_error *err);
bool ct_renderer_reversed_z(const ct_renderer *r);

typedef struct ct_render_frame_desc {
    const ct_camera *camera;  /* required; its aspect is used as given */
    int width, height;        /* 0 = the context's drawable size */
    bool has_background;
    float background[3];      /* sRGB 0..1; default a light grey-blue sky (0.75, 0.82, 0.90) */
    bool has_sun;
    double sun_direction[3];  /* world frame, towards the light; default from the camera (upper left, behind) */
    float sun_intensity;      /* 0 = 0.8 */
    float ambient;            /* 0 = 0.35 */
} ct_render_frame_desc;

void ct_renderer_begin_frame(ct_renderer *r, const ct_render_frame_desc *desc);
void ct_renderer_end_frame(ct_renderer *r);

typedef struct ct_render_frame_stats {
    uint64_t draw_calls, triangles, points, lines; /* instancing multiplies */
    /* GPU -> CPU reads during the frame that waited for the GPU to finish
     * what was queued before them (each depth read of label occlusion on a
     * one-shot renderer; 0 on an interactive one once a read-back has
     * finished). One-off reads after the frame (pixels, pick) are not counted. */
    uint64_t sync_readbacks;
    /* Frames between the depth that occlusion used and this frame: 0 = this
     * frame's (synchronous), 1 = the previous frame's, ...; 0 when unused. */
    uint64_t depth_age;
    bool depth_async;        /* occlusion read an asynchronous read-back (no GPU wait) */
    bool depth_queued;       /* an asynchronous depth read-back was queued this frame */
} ct_render_frame_stats;
/* Waits until the GPU has finished the frame (for timing). */
void ct_renderer_finish(ct_renderer *r);
/* Size of the last frame in pixels. */
void ct_renderer_frame_size(const ct_renderer *r, int *width, int *height);

/* Counters of the last (or current) frame. */
ct_render_frame_stats ct_renderer_frame_stats(const ct_renderer *r);

/* RGBA8, rows top to bottom, width*height*4 bytes of the last ended frame. */
ct_status ct_renderer_read_pixels(ct_renderer *r, uint8_t *rgba, ct_error *err);
/* Shows the last ended frame in the window (blit + swap). */
void ct_renderer_present(ct_renderer *r);

/* ---- overlays: screen-space drawing over the frame's geometry ---- */

/* Called from ct_renderer_end_frame after all opaque and blended geometry,
 * before the multisample resolve, with the frame's framebuffer bound (color
 * attachment only; the depth buffer still holds the frame's geometry) and the
 * viewport set to the frame. Used by vector layer labels. */
typedef void (*ct_render_overlay_fn)(ct_renderer *r, void *user);
/* During a frame (e.g. from a layer's draw): queue fn for this frame's end;
 * overlays run in the order added. */
void ct_renderer_add_overlay(ct_renderer *r, ct_render_overlay_fn fn, void *user);
/* The camera of the current (or last) frame. */
const ct_camera *ct_renderer_frame_camera(const ct_renderer *r);
/* From an overlay: for each pixel of the rectangle (top-left origin, rows top
 * to bottom, clipped to the frame) the distance in metres along the view
 * direction of the nearest geometry drawn this frame, INFINITY where nothing
 * was drawn. out holds w * h floats; pixels outside the frame are INFINITY.
 * Interactive renderers (ct_renderer_desc.interactive): of the newest earlier
 * frame of the same size whose read-back has finished (one frame of latency,
 * no GPU wait); this frame's, read synchronously, when there is none. */
ct_status ct_renderer_read_depth_m(ct_renderer *r, int x, int y, int w, int h, float *out, ct_error *err);

/* ---- models ---- */

typedef struct ct_render_model ct_render_model;

typedef struct ct_render_model_desc {
    bool no_mipmaps;        /* keep only level 0 (samplers then fall back to non-mipmap filters) */
} ct_render_model_desc;

/* Uploads meshes (all primitive modes), textures (mipmaps, samplers) and
 * materials; generates tangents for normal-mapped primitives without them.
 * The ct_gltf may be destroyed afterwards. Empty or invalid primitives are
 * skipped with a log line. */
ct_status ct_render_model_create(ct_renderer *r, const ct_gltf *g, const ct_render_model_desc *desc,
                                 ct_render_model **out, ct_error *err);
void ct_render_model_destroy(ct_render_model *m);
/* Bytes uploaded to the GPU (vertex, index and texture data). */
uint64_t ct_render_model_bytes(const ct_render_model *m);
/* Bounding box of the default scene in model coordinates (glTF axes). */
void ct_render_model_bounds(const ct_render_model *m, double bmin[3], double bmax[3]);

typedef struct ct_render_draw_desc {
    /* Model -> world (double, column-major). For a 3D Tiles content: tile
     * transform * y-up->z-up * translate(RTC centre). All zero = identity. */
    double world[16];
    uint32_t pick_id;       /* written to the id buffer (0 = none; e.g. layer or tile id) */
    bool instance_features; /* feature id = instance index (i3dm) instead of the feature-id attribute */
    float point_size;       /* pixels for POINTS; 0 = 1 */
    bool force_unlit;
} ct_render_draw_desc;

/* Draws the model's default scene (each node's world matrix, then desc->world). */
void ct_renderer_draw_model(ct_renderer *r, const ct_render_model *m, const ct_render_draw_desc *desc);

/* glTF (y-up) -> z-up, as 3D Tiles: (x, y, z) -> (x, -z, y). */
void ct_render_y_up_to_z_up(double out[16]);

/* The float model-view the renderer uses: view_rotation * (world - eye), built
 * in double and cast. Exposed to test precision. */
void ct_render_model_view_f32(const ct_camera *cam, const double world[16], float out[16]);

/* ---- picking ---- */

typedef struct ct_render_pick {
    bool hit;
    uint32_t pick_id;       /* ct_render_draw_desc.pick_id */
    int64_t feature_id;     /* -1 when the primitive has no feature ids */
    int node, mesh, primitive; /* in the model's ct_gltf; -1 when not a glTF node */
    uint32_t instance;      /* instance index (0 when not instanced) */
    ct_dvec3 position;      /* world position of the hit (from depth) */
    double depth_m;         /* distance along the view direction */
} ct_render_pick;

/* What was drawn at pixel (x, y) (top-left origin) in the last ended frame.
 * Needs ct_renderer_desc.picking. */
ct_status ct_renderer_pick(ct_renderer *r, int x, int y, ct_render_pick *out, ct_error *err);

/* ---- layers: what a scene draws each frame ---- */

/* A layer wraps a model source (glTF, tileset, ...) for the per-frame loop:
 * update (select/load for the camera), then draw. The 3D Tiles layer plugs in
 * here; glTF is ct_render_layer_gltf_create. */
typedef struct ct_render_layer_stats {
    uint64_t tiles_selected, tiles_loaded, tiles_failed; /* tile layers; others leave 0 */
    uint64_t bytes_used, bytes_budget;
    uint64_t tiles_in_flight;  /* tile requests being fetched or decoded */
    bool has_tiles;          /* the tiles_* fields apply */
} ct_render_layer_stats;

typedef struct ct_render_layer ct_render_layer;
typedef struct ct_render_layer_vtable {
    /* Selection and loading for this view; sets *complete when nothing is left
     * to load for the camera. Runs on the render thread; must not block on I/O. */
    ct_status (*update)(ct_render_layer *l, ct_renderer *r, const ct_camera *cam, int width, int height,
                        bool *complete, ct_error *err);
    void (*draw)(ct_render_layer *l, ct_renderer *r);
    /* World-frame bounding sphere (for --fit); false when empty. */
    bool (*bounds)(ct_render_layer *l, ct_dvec3 *center, double *radius);
    void (*stats)(ct_render_layer *l, ct_render_layer_stats *out);
    void (*destroy)(ct_render_layer *l);
    /* Optional: what pick reports about a feature id of this layer, as a
     * malloc'ed JSON object text (vector layers: {"fid": N, "properties":
     * {...}} from OGR); NULL when unknown. */
    char *(*feature_json)(ct_render_layer *l, int64_t feature_id);
} ct_render_layer_vtable;

struct ct_render_layer {
    const ct_render_layer_vtable *vt;
    char *name;
    uint32_t pick_id;       /* set by the owner: identifies the layer in picks */
    bool geographic;        /* world frame is ECEF (else local z-up) */
    bool hidden;
    void *model_source;     /* layer-specific: for gltf layers the loaded ct_gltf (for pick details) */
};

/* glTF/GLB file: loaded, uploaded, placed with y-up->z-up (and CESIUM_RTC);
 * world = extra transform applied after (NULL = identity). */
ct_status ct_render_layer_gltf_create(ct_renderer *r, const char *path, const double world[16],
                                      ct_render_layer **out, ct_error *err);
/* The same from an already loaded ct_gltf; the layer takes ownership of g. */
ct_status ct_render_layer_gltf_create_from(ct_renderer *r, ct_gltf *g, const char *name, const double world[16],
                                           ct_render_layer **out, ct_error *err);
void ct_render_layer_destroy(ct_render_layer *l);

#ifdef __cplusplus
}
#endif
#endif
