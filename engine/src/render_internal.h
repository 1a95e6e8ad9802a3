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

#endif
