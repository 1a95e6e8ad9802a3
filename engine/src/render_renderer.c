/* The renderer: programs, the (multisampled) framebuffer with color, depth and
 * id attachments, per-frame state, draws (RTE model-view in double), blended
 * primitives sorted back to front, resolve, read-back, picking. */
#include "ct_shaders_embedded.h"
#include "label_layer.h"
#include "render_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOC_COLOR = 5, LOC_FEATURE = 6, LOC_INSTANCE = 7 };

typedef struct uniforms {
    GLint model_view, normal_matrix, projection, point_size, billboard;
    GLint base_color, emissive, metallic, roughness, alpha_mode, alpha_cutoff, double_sided, tex, tex_on, tex_uv,
        tex_matrix, normal_scale, occlusion_strength;
    GLint sun_view, sun, ambient, log_coef;
    GLint pick_id, draw_id, primitive, instance_features;
} uniforms;

/* Program variants: each carries only what its primitives use. */
enum {
    V_LIT = 1, V_NORMALS = 2, V_NORMALMAP = 4, V_TEX = 8, V_COLOR = 16, V_PICK = 32, V_LOG_DEPTH = 64, V_MASK = 128,
    V_DIRECT = 256, V_COUNT = 512
};

typedef struct program {
    GLuint id;
    bool failed;
    uniforms u;
    uint64_t frame; /* frame whose per-frame uniforms are set */
} program;

typedef struct queued {
    const ct_render_model *model;
    const rdraw *draw;
    const rprim *prim;
    float mv[16], nm[9];
    bool flip;
    uint32_t draw_id;
    ct_render_draw_desc desc;
    double depth; /* view-space z of the primitive's centre (more negative = farther) */
    uint32_t seq; /* submission order: ties keep it, so frames are deterministic */
} queued;

typedef struct drawn {
    const ct_render_model *model;
    uint32_t draw_index;
} drawn;

typedef struct overlay {
    ct_render_overlay_fn fn;
    void *user;
} overlay;

struct ct_renderer {
    ct_render_context *ctx;
    ct_renderer_desc desc;
    program programs[V_COUNT];
    program *current;
    uint64_t frame_serial;
    bool reversed_z, log_depth;
    int samples, width, height;
    GLuint fbo_ms, rb_color_ms, rb_depth_ms, rb_id_ms;
    GLuint fbo, rb_color, rb_depth, rb_id;
    /* frame */
    ct_camera cam;
    double view_rot[16], proj[16];
    float sun_view[3], sun, ambient;
    ct_render_frame_stats stats;
    queued *queue;        /* blended primitives, drawn last, back to front */
    size_t queue_count, queue_cap;
    queued *opaque;       /* opaque and masked primitives, drawn first, front to back */
    size_t opaque_count, opaque_cap;
    drawn *drawn_list;
    size_t drawn_count, drawn_cap;
    bool in_frame;
    overlay *overlays;       /* this frame's, run in end_frame */
    size_t overlay_count, overlay_cap;
    /* interactive: asynchronous depth read-back for overlays */
    ct_depth_ring *depth_ring;
    bool depth_looked_up;    /* this frame's overlays asked the ring */
    bool depth_have;
    ct_depth_view depth_view;
    bool depth_wanted;       /* this frame's overlays read depth: queue a read-back for the next frames */
    ct_label_frame *labels;  /* label layers of the frame: one collision pass */
};

enum { DEPTH_MAX_AGE = 3 }; /* older read-backs (frames without overlays in between) are not used */

/* ---- shaders ---- */

static char *shader_source(const char *name, const char *embedded)
{
    const char *dir = getenv("CT_SHADER_DIR");
    if (dir && *dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.glsl", dir, name);
        uint8_t *data;
        size_t size;
        ct_error err;
        if (ct_file_read(path, 1 << 20, &data, &size, &err) == CT_OK)
            return (char *)data;
        ct_log(CT_LOG_WARN, "CT_SHADER_DIR: %s; using the built-in shader", err.msg);
    }
    return ct_strdup(embedded);
}

/* Inserts defines after the #version line. */
static GLuint compile(const char *name, GLenum type, const char *src, const char *defines, ct_error *err)
{
    const char *body = src;
    char version[64] = "#version 330 core\n";
    if (!strncmp(src, "#version", 8)) {
        const char *nl = strchr(src, '\n');
        size_t n = nl ? (size_t)(nl - src + 1) : strlen(src);
        if (n < sizeof version) {
            memcpy(version, src, n);
            version[n] = 0;
        }
        body = src + n;
    }
    const char *parts[3] = {version, defines, body};
    GLuint s = glCreateShader(type);
    glShaderSource(s, 3, parts, NULL);
    glCompileShader(s);
    GLint ok = 0;
    glGetShaderiv(s, GL_COMPILE_STATUS, &ok);
    if (!ok) {
        char log[2048] = "";
        glGetShaderInfoLog(s, sizeof log, NULL, log);
        glDeleteShader(s);
        ct_error_set(err, CT_ERR_RUNTIME, "%s %s shader does not compile: %s", name,
                     type == GL_VERTEX_SHADER ? "vertex" : "fragment", log);
        return 0;
    }
    return s;
}

GLuint ct_gl_program_build(const char *name, const char *vs_src, const char *fs_src, const char *defines, ct_error *err)
{
    if (!defines)
        defines = "";
    GLuint vs = vs_src ? compile(name, GL_VERTEX_SHADER, vs_src, defines, err) : 0;
    GLuint fs = vs && fs_src ? compile(name, GL_FRAGMENT_SHADER, fs_src, defines, err) : 0;
    if (!vs || !fs) {
        if (vs)
            glDeleteShader(vs);
        return 0;
    }
    GLuint p = glCreateProgram();
    glAttachShader(p, vs);
    glAttachShader(p, fs);
    glLinkProgram(p);
    glDeleteShader(vs);
    glDeleteShader(fs);
    GLint ok = 0;
    glGetProgramiv(p, GL_LINK_STATUS, &ok);
    if (!ok) {
        char log[2048] = "";
        glGetProgramInfoLog(p, sizeof log, NULL, log);
        glDeleteProgram(p);
        ct_error_set(err, CT_ERR_RUNTIME, "%s program does not link: %s", name, log);
        return 0;
    }
    return p;
}

static GLuint build_program(unsigned flags, ct_error *err)
{
    char *vs_src = shader_source("mesh_vs", CT_SHADER_MESH_VS);
    char *fs_src = shader_source("mesh_fs", CT_SHADER_MESH_FS);
    static const char *const names[] = {"CT_LIT",  "CT_NORMALS",   "CT_NORMALMAP", "CT_TEX",   "CT_COLOR",
                                        "CT_PICK", "CT_LOG_DEPTH", "CT_MASK",      "CT_DIRECT"};
    char defines[512] = "";
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (flags & (1u << i)) {
            strcat(defines, "#define ");
            strcat(defines, names[i]);
            strcat(defines, " 1\n");
        }
    GLuint p = ct_gl_program_build("mesh", vs_src, fs_src, defines, err);
    free(vs_src);
    free(fs_src);
    return p;
}

static void lookup_uniforms(GLuint p, uniforms *u)
{
#define U(field, name) u->field = glGetUniformLocation(p, name)
    U(model_view, "u_model_view");
    U(normal_matrix, "u_normal_matrix");
    U(projection, "u_projection");
    U(point_size, "u_point_size");
    U(billboard, "u_billboard");
    U(base_color, "u_base_color");
    U(emissive, "u_emissive");
    U(metallic, "u_metallic");
    U(roughness, "u_roughness");
    U(alpha_mode, "u_alpha_mode");
    U(alpha_cutoff, "u_alpha_cutoff");
    U(double_sided, "u_double_sided");
    U(tex, "u_tex");
    U(tex_on, "u_tex_on");
    U(tex_uv, "u_tex_uv");
    U(tex_matrix, "u_tex_matrix");
    U(normal_scale, "u_normal_scale");
    U(occlusion_strength, "u_occlusion_strength");
    U(sun_view, "u_sun_view");
    U(sun, "u_sun");
    U(ambient, "u_ambient");
    U(log_coef, "u_log_coef");
    U(pick_id, "u_pick_id");
    U(draw_id, "u_draw_id");
    U(primitive, "u_primitive");
    U(instance_features, "u_instance_features");
#undef U
    glUseProgram(p);
    GLint units[CT_TEX_COUNT] = {0, 1, 2, 3, 4};
    glUniform1iv(u->tex, CT_TEX_COUNT, units);
}

static void delete_programs(ct_renderer *r)
{
    for (int i = 0; i < V_COUNT; i++)
        if (r->programs[i].id)
            glDeleteProgram(r->programs[i].id);
    memset(r->programs, 0, sizeof r->programs);
    r->current = NULL;
}

/* The variant for these flags, compiled on first use; NULL if it does not build. */
static program *get_program(ct_renderer *r, unsigned flags)
{
    program *p = &r->programs[flags];
    if (!p->id && !p->failed) {
        ct_error err = {0};
        p->id = build_program(flags, &err);
        if (!p->id) {
            p->failed = true;
            ct_log(CT_LOG_ERROR, "render: shader variant 0x%x: %s", flags, err.msg);
            return NULL;
        }
        lookup_uniforms(p->id, &p->u);
        r->current = p; /* lookup_uniforms left it bound */
    }
    return p->id ? p : NULL;
}

ct_status ct_renderer_reload_shaders(ct_renderer *r, ct_error *err)
{
    /* Check that the sources still build before dropping the old programs. */
    unsigned probe = V_LIT | V_NORMALS | V_NORMALMAP | V_TEX | V_COLOR | V_MASK | (r->desc.picking ? V_PICK : 0) |
                     (r->log_depth ? V_LOG_DEPTH : 0);
    GLuint test = build_program(probe, err);
    if (!test)
        return CT_ERR_RUNTIME;
    glDeleteProgram(test);
    GLuint test2 = build_program(r->log_depth ? V_LOG_DEPTH : 0, err);
    if (!test2)
        return CT_ERR_RUNTIME;
    glDeleteProgram(test2);
    delete_programs(r);
    return CT_OK;
}

/* ---- framebuffers ---- */

static void delete_targets(ct_renderer *r)
{
    GLuint fbos[] = {r->fbo_ms, r->fbo};
    glDeleteFramebuffers(2, fbos);
    GLuint rbs[] = {r->rb_color_ms, r->rb_depth_ms, r->rb_id_ms, r->rb_color, r->rb_depth, r->rb_id};
    glDeleteRenderbuffers(6, rbs);
    r->fbo_ms = r->fbo = r->rb_color_ms = r->rb_depth_ms = r->rb_id_ms = r->rb_color = r->rb_depth = r->rb_id = 0;
    r->width = r->height = 0;
    ct_depth_ring_reset(r->depth_ring); /* a resize: read-backs of the old size are of no use */
}

static GLuint make_rb(GLenum format, int samples, int w, int h)
{
    GLuint rb;
    glGenRenderbuffers(1, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb);
    if (samples > 1)
        glRenderbufferStorageMultisample(GL_RENDERBUFFER, samples, format, w, h);
    else
        glRenderbufferStorage(GL_RENDERBUFFER, format, w, h);
    return rb;
}

static bool make_fbo(GLuint *fbo, GLuint color, GLuint depth, GLuint id)
{
    glGenFramebuffers(1, fbo);
    glBindFramebuffer(GL_FRAMEBUFFER, *fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, color);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, depth);
    GLenum bufs[2] = {GL_COLOR_ATTACHMENT0, GL_COLOR_ATTACHMENT1};
    if (id)
        glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT1, GL_RENDERBUFFER, id);
    glDrawBuffers(id ? 2 : 1, bufs);
    return glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
}

static bool ensure_targets(ct_renderer *r, int w, int h)
{
    if (r->width == w && r->height == h && r->fbo)
        return true;
    delete_targets(r);
    bool pick = r->desc.picking;
    r->rb_color = make_rb(GL_RGBA8, 1, w, h);
    r->rb_depth = make_rb(GL_DEPTH_COMPONENT32F, 1, w, h);
    r->rb_id = pick ? make_rb(GL_RGBA32UI, 1, w, h) : 0;
    bool ok = make_fbo(&r->fbo, r->rb_color, r->rb_depth, r->rb_id);
    if (ok && r->samples > 1) {
        r->rb_color_ms = make_rb(GL_RGBA8, r->samples, w, h);
        r->rb_depth_ms = make_rb(GL_DEPTH_COMPONENT32F, r->samples, w, h);
        r->rb_id_ms = pick ? make_rb(GL_RGBA32UI, r->samples, w, h) : 0;
        ok = make_fbo(&r->fbo_ms, r->rb_color_ms, r->rb_depth_ms, r->rb_id_ms);
    }
    glBindRenderbuffer(GL_RENDERBUFFER, 0);
    if (!ok) {
        ct_log(CT_LOG_ERROR, "render: cannot make a %dx%d framebuffer (%d samples)", w, h, r->samples);
        delete_targets(r);
        return false;
    }
    r->width = w;
    r->height = h;
    return true;
}

/* ---- create / destroy ---- */

ct_status ct_renderer_create(ct_render_context *ctx, const ct_renderer_desc *desc, ct_renderer **out, ct_error *err)
{
    *out = NULL;
    ct_renderer *r = calloc(1, sizeof *r);
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    r->ctx = ctx;
    r->desc = desc ? *desc : (ct_renderer_desc){0};
    bool clip_control = epoxy_gl_version() >= 45 || epoxy_has_gl_extension("GL_ARB_clip_control");
    r->reversed_z = clip_control && !r->desc.force_log_depth;
    r->log_depth = !r->reversed_z;
    GLint max_samples = 1, max_int_samples = 1;
    glGetIntegerv(GL_MAX_SAMPLES, &max_samples);
    glGetIntegerv(GL_MAX_INTEGER_SAMPLES, &max_int_samples);
    r->samples = r->desc.msaa > 0 ? r->desc.msaa : 4;
    if (r->samples > max_samples)
        r->samples = max_samples;
    if (r->desc.picking && r->samples > max_int_samples) /* all attachments share one sample count */
        r->samples = max_int_samples;
    if (r->samples < 1)
        r->samples = 1;
    if (ct_renderer_reload_shaders(r, err) != CT_OK) { /* the richest and the plainest variants must build */
        ct_renderer_destroy(r);
        return CT_ERR_RUNTIME;
    }
    int w, h;
    ct_render_context_size(ctx, &w, &h);
    if (!ensure_targets(r, w > 0 ? w : 1, h > 0 ? h : 1)) {
        ct_renderer_destroy(r);
        return ct_error_set(err, CT_ERR_RUNTIME, "cannot create the framebuffer");
    }
    *out = r;
    return CT_OK;
}

void ct_renderer_destroy(ct_renderer *r)
{
    if (!r)
        return;
    delete_targets(r);
    delete_programs(r);
    ct_depth_ring_destroy(r->depth_ring);
    free(r->queue);
    free(r->opaque);
    free(r->drawn_list);
    free(r->overlays);
    ct_label_frame_destroy(r->labels);
    free(r);
}

bool ct_renderer_reversed_z(const ct_renderer *r) { return r->reversed_z; }
void ct_renderer_finish(ct_renderer *r) { glFinish(); }

void ct_renderer_frame_size(const ct_renderer *r, int *width, int *height)
{
    *width = r->width;
    *height = r->height;
}
ct_render_frame_stats ct_renderer_frame_stats(const ct_renderer *r) { return r->stats; }

/* ---- math ---- */

void ct_render_y_up_to_z_up(double m[16])
{
    const double y2z[16] = {1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1};
    memcpy(m, y2z, sizeof y2z);
}

/* view_rotation * translate(-eye) * world, all in double: the large eye and
 * world translations cancel before anything is rounded to float. */
static void model_view_d(const double view_rot[16], ct_dvec3 eye, const double world[16], double out[16])
{
    double rel[16];
    memcpy(rel, world, sizeof rel);
    for (int c = 0; c < 4; c++) {
        rel[c * 4 + 0] -= eye.x * world[c * 4 + 3];
        rel[c * 4 + 1] -= eye.y * world[c * 4 + 3];
        rel[c * 4 + 2] -= eye.z * world[c * 4 + 3];
    }
    ct_dmat4_mul(out, view_rot, rel);
}

void ct_render_model_view_f32(const ct_camera *cam, const double world[16], float out[16])
{
    double vr[16], mv[16];
    ct_camera_view_rotation(cam, vr);
    model_view_d(vr, cam->position, world, mv);
    for (int i = 0; i < 16; i++)
        out[i] = (float)mv[i];
}

/* Inverse transpose of the upper 3x3 (column-major out). */
static void normal_matrix(const double m[16], float out[9])
{
    double a = m[0], b = m[4], c = m[8], d = m[1], e = m[5], f = m[9], g = m[2], h = m[6], i = m[10];
    double det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
    if (fabs(det) < 1e-300)
        det = 1e-300;
    double inv = 1.0 / det;
    /* (M^-1)^T = cofactor matrix / det */
    double co[9] = {(e * i - f * h), -(d * i - f * g), (d * h - e * g), -(b * i - c * h), (a * i - c * g),
                    -(a * h - b * g), (b * f - c * e), -(a * f - c * d), (a * e - b * d)};
    /* co is row-major cofactors C[row][col]; (M^-1)^T = C / det; column-major: out[col*3+row] = C[row][col] */
    for (int row = 0; row < 3; row++)
        for (int col = 0; col < 3; col++)
            out[col * 3 + row] = (float)(co[row * 3 + col] * inv);
}

static double det3(const double m[16])
{
    return m[0] * (m[5] * m[10] - m[9] * m[6]) - m[4] * (m[1] * m[10] - m[9] * m[2]) +
           m[8] * (m[1] * m[6] - m[5] * m[2]);
}

/* ---- frame ---- */

void ct_renderer_begin_frame(ct_renderer *r, const ct_render_frame_desc *desc)
{
    int w = desc->width, h = desc->height;
    if (w <= 0 || h <= 0)
        ct_render_context_size(r->ctx, &w, &h);
    if (w <= 0 || h <= 0)
        w = h = 1;
    ensure_targets(r, w, h);
    r->cam = *desc->camera;
    r->queue_count = r->opaque_count = r->drawn_count = r->overlay_count = 0;
    r->current = NULL; /* overlays and HUDs bind their own programs between frames */
    memset(&r->stats, 0, sizeof r->stats);
    r->in_frame = true;
    ct_camera_view_rotation(&r->cam, r->view_rot);
    ct_camera_projection(&r->cam, r->reversed_z, r->proj);

    glBindFramebuffer(GL_FRAMEBUFFER, r->samples > 1 ? r->fbo_ms : r->fbo);
    glViewport(0, 0, w, h);
    glDisable(GL_SCISSOR_TEST);
    glDisable(GL_BLEND);
    glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    glDepthMask(GL_TRUE);
    float bg[4] = {0.75f, 0.82f, 0.90f, 1.0f};
    if (desc->has_background)
        memcpy(bg, desc->background, 3 * sizeof(float));
    glClearBufferfv(GL_COLOR, 0, bg);
    float depth_clear = r->reversed_z ? 0.0f : 1.0f;
    glClearBufferfv(GL_DEPTH, 0, &depth_clear);
    if (r->desc.picking) {
        GLuint zero[4] = {0, 0, 0, 0};
        glClearBufferuiv(GL_COLOR, 1, zero);
    }
    glEnable(GL_DEPTH_TEST);
    if (r->reversed_z) {
        glClipControl(GL_LOWER_LEFT, GL_ZERO_TO_ONE);
        glDepthFunc(GL_GREATER);
    } else {
        glDepthFunc(GL_LESS);
    }
    if (r->samples > 1)
        glEnable(GL_MULTISAMPLE);
    glEnable(GL_PROGRAM_POINT_SIZE);

    r->frame_serial++;
    /* sun: towards the light, in view space */
    double sv[3] = {-0.4, 0.6, 0.7};
    if (desc->has_sun) {
        ct_dvec3 s = ct_dmat4_transform_dir(r->view_rot, ct_dvec3_make(desc->sun_direction[0], desc->sun_direction[1],
                                                                       desc->sun_direction[2]));
        sv[0] = s.x, sv[1] = s.y, sv[2] = s.z;
    }
    double l = sqrt(sv[0] * sv[0] + sv[1] * sv[1] + sv[2] * sv[2]);
    for (int i = 0; i < 3; i++)
        r->sun_view[i] = (float)(l > 0 ? sv[i] / l : 0);
    r->sun = desc->sun_intensity > 0 ? desc->sun_intensity : 0.8f;
    r->ambient = desc->ambient > 0 ? desc->ambient : 0.35f;
}

/* Binds the variant and, once per frame, its per-frame uniforms. */
static program *use_program(ct_renderer *r, unsigned flags)
{
    program *p = get_program(r, flags);
    if (!p)
        return NULL;
    if (r->current != p) {
        glUseProgram(p->id);
        r->current = p;
    }
    if (p->frame != r->frame_serial) {
        float pf[16];
        for (int i = 0; i < 16; i++)
            pf[i] = (float)r->proj[i];
        glUniformMatrix4fv(p->u.projection, 1, GL_FALSE, pf);
        double far = r->cam.far_m > 0 ? r->cam.far_m : 1e7;
        glUniform1f(p->u.log_coef, (float)(1.0 / log2(far + 1.0)));
        glUniform3fv(p->u.sun_view, 1, r->sun_view);
        glUniform1f(p->u.sun, r->sun);
        glUniform1f(p->u.ambient, r->ambient);
        p->frame = r->frame_serial;
    }
    return p;
}

static const ct_gltf_material DEFAULT_MATERIAL = {
    .base_color = {1, 1, 1, 1},
    .base_color_texture = {.texture = -1},
    .metallic = 0, /* glTF says 1, which looks black without environment light; Cesium-like default */
    .roughness = 1,
    .metallic_roughness_texture = {.texture = -1},
    .normal_texture = {.texture = -1},
    .occlusion_texture = {.texture = -1},
    .emissive_texture = {.texture = -1},
    .alpha_mode = CT_GLTF_ALPHA_OPAQUE,
    .alpha_cutoff = 0.5f,
};

static const ct_gltf_material *material_of(const ct_render_model *m, const rprim *p)
{
    return p->material >= 0 && (uint32_t)p->material < m->material_count ? &m->materials[p->material]
                                                                           : &DEFAULT_MATERIAL;
}

static void set_texture(ct_renderer *r, const ct_render_model *m, int unit, const ct_gltf_texture_ref *ref,
                        GLint *on, GLint *uv, float mats[][9])
{
    static const float identity[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    on[unit] = 0;
    uv[unit] = 0;
    memcpy(mats[unit], identity, sizeof identity);
    if (ref->texture < 0 || (uint32_t)ref->texture >= m->texture_count || !m->textures[ref->texture].tex)
        return;
    const rtexture *t = &m->textures[ref->texture];
    glActiveTexture(GL_TEXTURE0 + unit);
    glBindTexture(GL_TEXTURE_2D, t->tex);
    glBindSampler(unit, t->sampler);
    on[unit] = 1;
    uv[unit] = ref->texcoord == 1 ? 1 : 0;
    if (ref->has_transform)
        memcpy(mats[unit], ref->uv_matrix, sizeof identity);
    (void)r;
}

static uint64_t primitive_count(GLenum mode, GLsizei n)
{
    switch (mode) {
    case GL_TRIANGLES: return (uint64_t)n / 3;
    case GL_TRIANGLE_STRIP:
    case GL_TRIANGLE_FAN: return n >= 3 ? (uint64_t)n - 2 : 0;
    case GL_LINES: return (uint64_t)n / 2;
    case GL_LINE_STRIP: return n >= 2 ? (uint64_t)n - 1 : 0;
    case GL_LINE_LOOP: return n >= 2 ? (uint64_t)n : 0;
    default: return (uint64_t)n;
    }
}

static void draw_prim(ct_renderer *r, const ct_render_model *m, const rdraw *d, const rprim *p, const float mv[16],
                      const float nm[9], bool flip, uint32_t draw_id, const ct_render_draw_desc *dd)
{
    const ct_gltf_material *mat = material_of(m, p);
    bool is_triangles = p->mode == GL_TRIANGLES || p->mode == GL_TRIANGLE_STRIP || p->mode == GL_TRIANGLE_FAN;
    GLint on[CT_TEX_COUNT], uv[CT_TEX_COUNT];
    float mats[CT_TEX_COUNT][9];
    set_texture(r, m, CT_TEX_BASE, &mat->base_color_texture, on, uv, mats);
    set_texture(r, m, CT_TEX_MR, &mat->metallic_roughness_texture, on, uv, mats);
    set_texture(r, m, CT_TEX_NORMAL, &mat->normal_texture, on, uv, mats);
    set_texture(r, m, CT_TEX_OCCLUSION, &mat->occlusion_texture, on, uv, mats);
    set_texture(r, m, CT_TEX_EMISSIVE, &mat->emissive_texture, on, uv, mats);
    /* glTF: points and lines without normals are not lit */
    bool lit = !(mat->unlit || dd->force_unlit || (!is_triangles && !p->has_normals));
    bool tex = on[0] || on[1] || on[2] || on[3] || on[4];
    /* Unlit, opaque, white factor, base texture on uv0 untransformed, no
     * vertex colors or emissive: the texel is the output color (sRGB in and
     * out), so the shader samples and writes nothing else (photogrammetry). */
    bool direct = !lit && on[CT_TEX_BASE] && uv[CT_TEX_BASE] == 0 && !mat->base_color_texture.has_transform &&
                  !p->has_colors && mat->alpha_mode == CT_GLTF_ALPHA_OPAQUE && mat->base_color[0] == 1 &&
                  mat->base_color[1] == 1 && mat->base_color[2] == 1 && mat->emissive[0] == 0 &&
                  mat->emissive[1] == 0 && mat->emissive[2] == 0;
    unsigned flags = (lit ? V_LIT : 0) | (lit && p->has_normals ? V_NORMALS : 0) |
                     (lit && tex && on[CT_TEX_NORMAL] && p->has_tangents && p->has_normals ? V_NORMALMAP : 0) |
                     (tex ? V_TEX : 0) | (p->has_colors ? V_COLOR : 0) | (r->desc.picking ? V_PICK : 0) |
                     (r->log_depth ? V_LOG_DEPTH : 0) | (mat->alpha_mode == CT_GLTF_ALPHA_MASK ? V_MASK : 0) |
                     (direct ? V_DIRECT : 0);
    program *prog = use_program(r, flags);
    if (!prog)
        return;
    uniforms *u = &prog->u;
    glUniformMatrix4fv(u->model_view, 1, GL_FALSE, mv);
    glUniformMatrix3fv(u->normal_matrix, 1, GL_FALSE, nm);
    glUniform1f(u->point_size, dd->point_size > 0 ? dd->point_size : 1.0f);
    glUniform1i(u->billboard, mat->billboard);
    glUniform4fv(u->base_color, 1, mat->base_color);
    glUniform3fv(u->emissive, 1, mat->emissive);
    glUniform1f(u->metallic, mat->metallic);
    glUniform1f(u->roughness, mat->roughness);
    glUniform1i(u->alpha_mode, (int)mat->alpha_mode);
    glUniform1f(u->alpha_cutoff, mat->alpha_cutoff);
    glUniform1i(u->double_sided, mat->double_sided);
    if (tex) {
        glUniform1iv(u->tex_on, CT_TEX_COUNT, on);
        glUniform1iv(u->tex_uv, CT_TEX_COUNT, uv);
        glUniformMatrix3fv(u->tex_matrix, CT_TEX_COUNT, GL_FALSE, &mats[0][0]);
        glUniform1f(u->normal_scale, mat->normal_texture.scale != 0 ? mat->normal_texture.scale : 1.0f);
        glUniform1f(u->occlusion_strength, mat->occlusion_texture.scale != 0 ? mat->occlusion_texture.scale : 1.0f);
    }
    if (r->desc.picking) {
        glUniform1ui(u->pick_id, dd->pick_id);
        glUniform1ui(u->draw_id, draw_id);
        glUniform1ui(u->primitive, (GLuint)p->gltf_index);
        glUniform1i(u->instance_features, dd->instance_features);
    }

    if (is_triangles && !mat->double_sided) {
        glEnable(GL_CULL_FACE);
        glCullFace(GL_BACK);
    } else {
        glDisable(GL_CULL_FACE);
    }
    glFrontFace(flip ? GL_CW : GL_CCW);

    glBindVertexArray(p->vao);
    /* Missing attributes read the current generic value, which is context
     * state shared by all VAOs: set it for each draw. */
    if (!p->has_colors)
        glVertexAttrib4f(LOC_COLOR, 1, 1, 1, 1);
    if (!p->has_features)
        glVertexAttribI4ui(LOC_FEATURE, 0xFFFFFFFFu, 0, 0, 0);
    GLsizei instances = d->instance_count ? (GLsizei)d->instance_count : 1;
    if (!d->instance_count)
        for (int c = 0; c < 4; c++)
            glVertexAttrib4f(LOC_INSTANCE + c, c == 0, c == 1, c == 2, c == 3);
    if (p->index_type)
        glDrawElementsInstanced(p->mode, p->count, p->index_type, NULL, instances);
    else
        glDrawArraysInstanced(p->mode, 0, p->count, instances);
    r->stats.draw_calls++;
    uint64_t n = primitive_count(p->mode, p->count) * (uint64_t)instances;
    if (is_triangles)
        r->stats.triangles += n;
    else if (p->mode == GL_POINTS)
        r->stats.points += n;
    else
        r->stats.lines += n;
}

static bool push(void **arr, size_t *count, size_t *cap, size_t elem)
{
    if (*count < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    void *n = realloc(*arr, nc * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

void ct_renderer_draw_model(ct_renderer *r, const ct_render_model *m, const ct_render_draw_desc *desc)
{
    if (!r->in_frame || !m)
        return;
    ct_render_draw_desc dd = desc ? *desc : (ct_render_draw_desc){0};
    bool zero = true;
    for (int i = 0; i < 16; i++)
        zero = zero && dd.world[i] == 0;
    if (zero)
        ct_dmat4_identity(dd.world);
    for (uint32_t di = 0; di < m->draw_count; di++) {
        const rdraw *d = &m->draws[di];
        if (d->mesh < 0 || (uint32_t)d->mesh >= m->mesh_count)
            continue;
        const rmesh *mesh = &m->meshes[d->mesh];
        if (!mesh->prim_count)
            continue;
        if (!push((void **)&r->drawn_list, &r->drawn_count, &r->drawn_cap, sizeof(drawn)))
            return;
        r->drawn_list[r->drawn_count] = (drawn){m, di};
        uint32_t draw_id = (uint32_t)++r->drawn_count;
        double world[16], mv[16];
        ct_dmat4_mul(world, dd.world, d->world);
        model_view_d(r->view_rot, r->cam.position, world, mv);
        float mvf[16], nm[9];
        for (int i = 0; i < 16; i++)
            mvf[i] = (float)mv[i];
        normal_matrix(mv, nm);
        bool flip = det3(world) < 0;
        /* Everything is queued and drawn at end_frame: opaque front to back
         * (llvmpipe tests depth before shading, so hidden fragments cost
         * little), then blended back to front. */
        for (uint32_t k = 0; k < mesh->prim_count; k++) {
            const rprim *p = &mesh->prims[k];
            bool blend = material_of(m, p)->alpha_mode == CT_GLTF_ALPHA_BLEND;
            queued **arr = blend ? &r->queue : &r->opaque;
            size_t *count = blend ? &r->queue_count : &r->opaque_count;
            if (!push((void **)arr, count, blend ? &r->queue_cap : &r->opaque_cap, sizeof(queued)))
                continue;
            queued *q = &(*arr)[*count];
            q->seq = (uint32_t)(*count)++;
            q->model = m;
            q->draw = d;
            q->prim = p;
            memcpy(q->mv, mvf, sizeof mvf);
            memcpy(q->nm, nm, sizeof nm);
            q->flip = flip;
            q->draw_id = draw_id;
            q->desc = dd;
            q->depth = mv[2] * p->center[0] + mv[6] * p->center[1] + mv[10] * p->center[2] + mv[14];
        }
    }
}

void ct_renderer_add_overlay(ct_renderer *r, ct_render_overlay_fn fn, void *user)
{
    if (!r->in_frame || !fn || !push((void **)&r->overlays, &r->overlay_count, &r->overlay_cap, sizeof(overlay)))
        return;
    r->overlays[r->overlay_count++] = (overlay){fn, user};
}

const ct_camera *ct_renderer_frame_camera(const ct_renderer *r) { return &r->cam; }
ct_label_frame **ct_renderer_label_frame(ct_renderer *r) { return &r->labels; }
uint64_t ct_renderer_frame_serial(const ct_renderer *r) { return r->frame_serial; }

/* Overlays write color only: the id attachment keeps what geometry wrote. */
static void run_overlays(ct_renderer *r)
{
    if (!r->overlay_count)
        return;
    GLenum only0[2] = {GL_COLOR_ATTACHMENT0, GL_NONE}, both[2] = {GL_COLOR_ATTACHMENT0, GL_COLOR_ATTACHMENT1};
    glDrawBuffers(1, only0);
    for (size_t i = 0; i < r->overlay_count; i++)
        r->overlays[i].fn(r, r->overlays[i].user);
    glBindFramebuffer(GL_FRAMEBUFFER, r->samples > 1 ? r->fbo_ms : r->fbo);
    glDrawBuffers(r->desc.picking ? 2 : 1, both);
    glViewport(0, 0, r->width, r->height);
    glBindVertexArray(0);
    r->current = NULL;
    r->overlay_count = 0;
}

static ct_depth_params depth_params(const ct_renderer *r)
{
    return (ct_depth_params){.A = r->proj[10], .B = r->proj[14], .far = r->cam.far_m > 0 ? r->cam.far_m : 1e7,
                             .log_depth = r->log_depth};
}

/* Window depth -> distance along the view direction (INFINITY: cleared). */
static double depth_to_m(const ct_depth_params *p, double z)
{
    if (p->log_depth)
        return z >= 1.0 ? INFINITY : exp2(z * log2(p->far + 1.0)) - 1.0;
    return z <= 0.0 ? INFINITY : p->B / (z + p->A);
}

/* Interactive renderers: the newest finished read-back, looked up once per
 * frame (polling fences costs a little; mapping the buffer maybe more). */
static bool async_depth(ct_renderer *r, ct_depth_view *out)
{
    if (!r->desc.interactive || !r->in_frame)
        return false;
    r->depth_wanted = true;
    if (!r->depth_ring)
        return false;
    if (!r->depth_looked_up) {
        uint64_t min_frame = r->frame_serial > DEPTH_MAX_AGE ? r->frame_serial - DEPTH_MAX_AGE : 0;
        r->depth_have =
            ct_depth_ring_latest(r->depth_ring, r->width, r->height, min_frame, r->frame_serial, &r->depth_view);
        r->depth_looked_up = true;
    }
    *out = r->depth_view;
    return r->depth_have;
}

ct_status ct_renderer_read_depth_m(ct_renderer *r, int x, int y, int w, int h, float *out, ct_error *err)
{
    if (w <= 0 || h <= 0)
        return CT_OK;
    for (size_t i = 0; i < (size_t)w * h; i++)
        out[i] = INFINITY;
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > r->width ? r->width : x + w, y1 = y + h > r->height ? r->height : y + h;
    if (x0 >= x1 || y0 >= y1 || !r->fbo)
        return CT_OK;
    int cw = x1 - x0, ch = y1 - y0;
    ct_depth_view v;
    if (async_depth(r, &v)) { /* no GL call: the buffer is mapped */
        for (int row = 0; row < ch; row++) {
            const float *src = v.depth + (size_t)(r->height - 1 - (y0 + row)) * v.width + x0; /* GL rows go bottom-up */
            for (int col = 0; col < cw; col++)
                out[(size_t)(y0 - y + row) * w + (x0 - x + col)] = (float)depth_to_m(&v.params, src[col]);
        }
        r->stats.depth_async = true;
        r->stats.depth_age = r->frame_serial - v.frame;
        return CT_OK;
    }
    float *d = ct_malloc_array((size_t)cw * ch, sizeof(float));
    if (!d)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    if (r->samples > 1) { /* resolve the rectangle's depth into the single-sample buffer */
        int gy0 = r->height - y1;
        glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo_ms);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, r->fbo);
        glBlitFramebuffer(x0, gy0, x1, gy0 + ch, x0, gy0, x1, gy0 + ch, GL_DEPTH_BUFFER_BIT, GL_NEAREST);
    }
    glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    glReadPixels(x0, r->height - y1, cw, ch, GL_DEPTH_COMPONENT, GL_FLOAT, d); /* waits for the GPU */
    r->stats.sync_readbacks++;
    r->stats.depth_age = 0;
    glBindFramebuffer(GL_FRAMEBUFFER, r->in_frame && r->samples > 1 ? r->fbo_ms : r->fbo);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR) {
        free(d);
        return ct_error_set(err, CT_ERR_RUNTIME, "render: reading depth failed (0x%x)", e);
    }
    ct_depth_params p = depth_params(r);
    for (int row = 0; row < ch; row++)     /* GL rows go bottom-up */
        for (int col = 0; col < cw; col++)
            out[(size_t)(y0 - y + row) * w + (x0 - x + col)] = (float)depth_to_m(&p, d[(size_t)(ch - 1 - row) * cw + col]);
    free(d);
    return CT_OK;
}

/* Interactive renderers, frames whose overlays read depth: queue the read
 * of this frame's depth for the next frames, after the overlays (they draw
 * no depth) and the resolve (with picking, it has resolved depth already).
 * Frames whose overlays read none (e.g. every label culled) queue nothing:
 * 8 MB a frame at 1080p saved; the next frame that reads depth then reads
 * synchronously. */
static void queue_depth_readback(ct_renderer *r)
{
    bool wanted = r->depth_wanted;
    r->depth_wanted = false;
    if (!r->desc.interactive || !wanted)
        return;
    if (!r->depth_ring && !(r->depth_ring = ct_depth_ring_create()))
        return;
    int w = r->width, h = r->height;
    if (r->samples > 1 && !r->desc.picking) { /* resolve depth (queued GPU work, no wait) */
        glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo_ms);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, r->fbo);
        glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_DEPTH_BUFFER_BIT, GL_NEAREST);
    }
    ct_depth_params p = depth_params(r);
    r->stats.depth_queued = ct_depth_ring_issue(r->depth_ring, r->fbo, w, h, &p, r->frame_serial, r->frame_serial);
}

static int cmp_far_first(const void *a, const void *b)
{
    const queued *qa = a, *qb = b;
    if (qa->depth != qb->depth)
        return qa->depth < qb->depth ? -1 : 1;
    return qa->seq < qb->seq ? -1 : qa->seq > qb->seq;
}

static int cmp_near_first(const void *a, const void *b)
{
    const queued *qa = a, *qb = b;
    if (qa->depth != qb->depth)
        return qa->depth > qb->depth ? -1 : 1;
    return qa->seq < qb->seq ? -1 : qa->seq > qb->seq;
}

void ct_renderer_end_frame(ct_renderer *r)
{
    if (!r->in_frame)
        return;
    if (r->opaque_count)
        qsort(r->opaque, r->opaque_count, sizeof(queued), cmp_near_first);
    for (size_t i = 0; i < r->opaque_count; i++) {
        queued *q = &r->opaque[i];
        draw_prim(r, q->model, q->draw, q->prim, q->mv, q->nm, q->flip, q->draw_id, &q->desc);
    }
    if (r->queue_count) {
        qsort(r->queue, r->queue_count, sizeof(queued), cmp_far_first);
        glEnable(GL_BLEND);
        glBlendFuncSeparate(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA, GL_ONE, GL_ONE_MINUS_SRC_ALPHA);
        glDepthMask(GL_FALSE);
        for (size_t i = 0; i < r->queue_count; i++) {
            queued *q = &r->queue[i];
            draw_prim(r, q->model, q->draw, q->prim, q->mv, q->nm, q->flip, q->draw_id, &q->desc);
        }
        glDepthMask(GL_TRUE);
        glDisable(GL_BLEND);
    }
    glBindVertexArray(0);
    run_overlays(r);
    if (r->depth_looked_up) {
        ct_depth_ring_release(r->depth_ring);
        r->depth_looked_up = r->depth_have = false;
    }
    if (r->samples > 1) {
        int w = r->width, h = r->height;
        glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo_ms);
        glBindFramebuffer(GL_DRAW_FRAMEBUFFER, r->fbo);
        GLenum only0[2] = {GL_COLOR_ATTACHMENT0, GL_NONE};
        glReadBuffer(GL_COLOR_ATTACHMENT0);
        glDrawBuffers(1, only0);
        glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
        if (r->desc.picking) {
            GLenum only1[2] = {GL_NONE, GL_COLOR_ATTACHMENT1};
            glReadBuffer(GL_COLOR_ATTACHMENT1);
            glDrawBuffers(2, only1);
            glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_COLOR_BUFFER_BIT, GL_NEAREST);
            glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL_DEPTH_BUFFER_BIT, GL_NEAREST);
            GLenum both[2] = {GL_COLOR_ATTACHMENT0, GL_COLOR_ATTACHMENT1};
            glDrawBuffers(2, both);
        }
        glReadBuffer(GL_COLOR_ATTACHMENT0);
    }
    queue_depth_readback(r);
    glBindFramebuffer(GL_FRAMEBUFFER, r->fbo);
    r->in_frame = false;
}

ct_status ct_renderer_read_pixels(ct_renderer *r, uint8_t *rgba, ct_error *err)
{
    if (!r->fbo)
        return ct_error_set(err, CT_ERR_RUNTIME, "render: no framebuffer");
    int w = r->width, h = r->height;
    glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo);
    glReadBuffer(GL_COLOR_ATTACHMENT0);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR)
        return ct_error_set(err, CT_ERR_RUNTIME, "render: glReadPixels failed (0x%x)", e);
    /* GL rows go bottom-up; images top-down. */
    size_t row = (size_t)w * 4;
    uint8_t *tmp = malloc(row);
    if (!tmp)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (int y = 0; y < h / 2; y++) {
        uint8_t *a = rgba + (size_t)y * row, *b = rgba + (size_t)(h - 1 - y) * row;
        memcpy(tmp, a, row);
        memcpy(a, b, row);
        memcpy(b, tmp, row);
    }
    free(tmp);
    return CT_OK;
}

void ct_renderer_present(ct_renderer *r)
{
    int w, h;
    ct_render_context_size(r->ctx, &w, &h);
    glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo);
    glReadBuffer(GL_COLOR_ATTACHMENT0);
    glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
    glBlitFramebuffer(0, 0, r->width, r->height, 0, 0, w, h, GL_COLOR_BUFFER_BIT,
                      (w == r->width && h == r->height) ? GL_NEAREST : GL_LINEAR);
    glBindFramebuffer(GL_FRAMEBUFFER, r->fbo);
    ct_render_context_swap(r->ctx);
}

ct_status ct_renderer_pick(ct_renderer *r, int x, int y, ct_render_pick *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    out->feature_id = -1;
    out->node = out->mesh = out->primitive = -1;
    if (!r->desc.picking)
        return ct_error_set(err, CT_ERR_USAGE, "render: picking was not enabled (ct_renderer_desc.picking)");
    if (x < 0 || y < 0 || x >= r->width || y >= r->height)
        return ct_error_set(err, CT_ERR_USAGE, "pixel %d,%d outside the %dx%d image", x, y, r->width, r->height);
    int gy = r->height - 1 - y;
    GLuint id[4] = {0, 0, 0, 0};
    float depth = 0;
    glBindFramebuffer(GL_READ_FRAMEBUFFER, r->fbo);
    glReadBuffer(GL_COLOR_ATTACHMENT1);
    glReadPixels(x, gy, 1, 1, GL_RGBA_INTEGER, GL_UNSIGNED_INT, id);
    glReadBuffer(GL_COLOR_ATTACHMENT0);
    glReadPixels(x, gy, 1, 1, GL_DEPTH_COMPONENT, GL_FLOAT, &depth);
    GLenum e = glGetError();
    if (e != GL_NO_ERROR)
        return ct_error_set(err, CT_ERR_RUNTIME, "render: reading the id buffer failed (0x%x)", e);
    if (id[2] == 0 || id[2] > r->drawn_count)
        return CT_OK;
    out->hit = true;
    out->pick_id = id[0];
    out->feature_id = id[1] ? (int64_t)id[1] - 1 : -1;
    const drawn *dw = &r->drawn_list[id[2] - 1];
    const rdraw *d = &dw->model->draws[dw->draw_index];
    out->node = d->node;
    out->mesh = d->mesh;
    out->primitive = (int)(id[3] & 0xFFFF);
    out->instance = id[3] >> 16;
    /* Unproject the depth in double. */
    double A = r->proj[10], B = r->proj[14], zv;
    if (r->log_depth) {
        double far = r->cam.far_m > 0 ? r->cam.far_m : 1e7;
        zv = -(exp2(depth * log2(far + 1.0)) - 1.0);
    } else {
        double nd = depth; /* reversed-Z: window depth = NDC z in [0, 1] */
        zv = -B / (nd + A);
    }
    double nx = 2.0 * (x + 0.5) / r->width - 1.0, ny = 1.0 - 2.0 * (y + 0.5) / r->height;
    double xv = nx * -zv / r->proj[0], yv = ny * -zv / r->proj[5];
    ct_dvec3 right = ct_camera_right(&r->cam), up = ct_dvec3_cross(right, r->cam.direction);
    out->position = ct_dvec3_add(r->cam.position, ct_dvec3_add(ct_dvec3_scale(right, xv),
                                                               ct_dvec3_add(ct_dvec3_scale(up, yv),
                                                                            ct_dvec3_scale(r->cam.direction, -zv))));
    out->depth_m = -zv;
    return CT_OK;
}
