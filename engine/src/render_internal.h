/* Shared between render_*.c; not a public header. */
#ifndef CT_RENDER_INTERNAL_H
#define CT_RENDER_INTERNAL_H

#include "citytwin/ct_render.h"

#include <epoxy/gl.h>

bool ct_render_context_is_window_internal(const ct_render_context *c);

/* Compiles and links a vertex + fragment program; defines (may be NULL) go
 * after the #version line. Errors name the program ("mesh", "text"). */
GLuint ct_gl_program_build(const char *name, const char *vs_src, const char *fs_src, const char *defines, ct_error *err);

enum { CT_TEX_BASE, CT_TEX_MR, CT_TEX_NORMAL, CT_TEX_OCCLUSION, CT_TEX_EMISSIVE, CT_TEX_COUNT };

typedef struct rprim {
    GLuint vao, vbo, ibo;
    GLenum mode;
    GLenum index_type;       /* 0 = non-indexed */
    GLsizei count;           /* indices or vertices */
    int material;            /* -1 = default */
    int gltf_index;          /* index in the glTF mesh's primitives */
    bool has_normals, has_tangents, has_colors, has_features;
    float center[3];         /* bounds centre (model space), for blend sorting */
} rprim;

typedef struct rmesh {
    rprim *prims;
    uint32_t prim_count;
} rmesh;

typedef struct rdraw {
    int node, mesh;
    double world[16];
    uint32_t instance_count; /* 0 = not instanced */
    GLuint instance_vbo;
} rdraw;

typedef struct rtexture {
    GLuint tex;              /* 0 = missing image */
    GLuint sampler;
} rtexture;

struct ct_render_model {
    ct_renderer *renderer;
    GLuint *images;
    uint32_t image_count;
    GLuint *samplers;        /* sampler_count + 1: the last is the default */
    uint32_t sampler_count;
    rtexture *textures;
    uint32_t texture_count;
    ct_gltf_material *materials; /* copies; name pointers cleared */
    uint32_t material_count;
    rmesh *meshes;
    uint32_t mesh_count;
    rdraw *draws;
    uint32_t draw_count;
    double bmin[3], bmax[3];
    uint64_t bytes;
};

/* ---- asynchronous depth read-back (render_readback.c) ----
 * Interactive renderers (ct_renderer_desc.interactive) queue one read of the
 * whole resolved depth buffer per frame into a pixel buffer object and a
 * fence; later frames read the newest finished one. Nothing here waits for
 * the GPU. Errors (e.g. a lost context) reset the ring: buffers are recreated
 * on the next issue and consumers fall back to synchronous reads meanwhile. */
typedef struct ct_depth_params {
    double A, B, far;        /* projection terms to turn window depth into metres */
    bool log_depth;
} ct_depth_params;

typedef struct ct_depth_view {
    const float *depth;      /* width * height window depths, GL rows (bottom row first) */
    int width, height;
    ct_depth_params params;  /* of the frame it was read from */
    uint64_t frame;          /* that frame's serial */
} ct_depth_view;

typedef struct ct_depth_ring ct_depth_ring;
ct_depth_ring *ct_depth_ring_create(void);
/* Deletes the buffers and fences (context current). */
void ct_depth_ring_destroy(ct_depth_ring *q);
void ct_depth_ring_reset(ct_depth_ring *q);
/* Queues the read of read_fbo's depth (single-sample, width x height) for
 * frame, keeping the newest finished read from keep_max_frame or before for
 * this frame's consumers; false when skipped (no free slot: the GPU is
 * behind) or failed. */
bool ct_depth_ring_issue(ct_depth_ring *q, GLuint read_fbo, int width, int height, const ct_depth_params *params,
                         uint64_t frame, uint64_t keep_max_frame);
/* The newest finished read of this size from frames min_frame..max_frame,
 * mapped until ct_depth_ring_release; false when none is ready (first
 * frames, after a resize or a reset, frames that queued no read). */
bool ct_depth_ring_latest(ct_depth_ring *q, int width, int height, uint64_t min_frame, uint64_t max_frame,
                          ct_depth_view *out);
void ct_depth_ring_release(ct_depth_ring *q);
/* The renderer's shared label placement (label_layer.c), created on first
 * use and destroyed with the renderer; and the serial of the frame begun last. */
typedef struct ct_label_frame ct_label_frame;
ct_label_frame **ct_renderer_label_frame(ct_renderer *r);
uint64_t ct_renderer_frame_serial(const ct_renderer *r);

#endif
