/* Hand-built ct_gltf models for renderer tests (no glTF reader needed): quads
 * in the local z-up frame, seen by a camera on the -y side looking north. */
#ifndef RENDER_FIXTURE_H
#define RENDER_FIXTURE_H

#include "citytwin/ct_render.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FX_MAX 8

typedef struct fx_model {
    ct_gltf g;
    ct_gltf_node nodes[FX_MAX];
    ct_gltf_mesh meshes[FX_MAX];
    ct_gltf_primitive prims[FX_MAX];
    ct_gltf_material mats[FX_MAX];
    ct_gltf_draw draws[FX_MAX];
    ct_gltf_texture textures[FX_MAX];
    ct_gltf_image images[FX_MAX];
    ct_gltf_sampler samplers[FX_MAX];
    float pos[FX_MAX][12], nrm[FX_MAX][12], uv[FX_MAX][8];
    uint32_t idx[FX_MAX][6], fid[FX_MAX][4];
} fx_model;

static inline void fx_init(fx_model *m)
{
    memset(m, 0, sizeof *m);
    m->g.nodes = m->nodes;
    m->g.meshes = m->meshes;
    m->g.materials = m->mats;
    m->g.draws = m->draws;
    m->g.textures = m->textures;
    m->g.images = m->images;
    m->g.samplers = m->samplers;
    m->g.default_scene = -1;
    for (int i = 0; i < 3; i++) {
        m->g.bounds_min[i] = INFINITY;
        m->g.bounds_max[i] = -INFINITY;
    }
}

static inline ct_gltf_material fx_material(float r, float g, float b, float a, bool unlit)
{
    ct_gltf_material mt;
    memset(&mt, 0, sizeof mt);
    mt.base_color[0] = r, mt.base_color[1] = g, mt.base_color[2] = b, mt.base_color[3] = a;
    mt.base_color_texture.texture = mt.metallic_roughness_texture.texture = mt.normal_texture.texture = -1;
    mt.occlusion_texture.texture = mt.emissive_texture.texture = -1;
    mt.metallic = 0;
    mt.roughness = 1;
    mt.alpha_cutoff = 0.5f;
    mt.unlit = unlit;
    mt.alpha_mode = a < 1 ? CT_GLTF_ALPHA_BLEND : CT_GLTF_ALPHA_OPAQUE;
    return mt;
}

/* A square in the plane y = y0 centred on (cx, cz), half size s, facing -y
 * (counter-clockwise seen from the camera at -y). UV (0,0) at the top-left. */
static inline int fx_add_quad(fx_model *m, double cx, double y0, double cz, double s, ct_gltf_material mat,
                              int feature_base /* -1 = no feature ids */)
{
    int i = (int)m->g.mesh_count;
    float *p = m->pos[i], *n = m->nrm[i], *uv = m->uv[i];
    const float corners[4][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    for (int k = 0; k < 4; k++) {
        p[k * 3 + 0] = (float)(cx + corners[k][0] * s);
        p[k * 3 + 1] = (float)y0;
        p[k * 3 + 2] = (float)(cz + corners[k][1] * s);
        n[k * 3 + 0] = 0, n[k * 3 + 1] = -1, n[k * 3 + 2] = 0;
        uv[k * 2 + 0] = corners[k][0] > 0 ? 1.0f : 0.0f;
        uv[k * 2 + 1] = corners[k][1] > 0 ? 0.0f : 1.0f;
        m->fid[i][k] = (uint32_t)(feature_base >= 0 ? feature_base : 0);
    }
    const uint32_t idx[6] = {0, 1, 2, 0, 2, 3};
    memcpy(m->idx[i], idx, sizeof idx);
    ct_gltf_primitive *pr = &m->prims[i];
    memset(pr, 0, sizeof *pr);
    pr->mode = CT_GLTF_TRIANGLES;
    pr->material = i;
    pr->vertex_count = 4;
    pr->positions = p;
    pr->normals = n;
    pr->texcoords[0] = uv;
    pr->feature_ids = feature_base >= 0 ? m->fid[i] : NULL;
    pr->index_count = 6;
    pr->indices = m->idx[i];
    for (int c = 0; c < 3; c++) {
        pr->bounds_min[c] = INFINITY;
        pr->bounds_max[c] = -INFINITY;
        for (int k = 0; k < 4; k++) {
            pr->bounds_min[c] = fminf(pr->bounds_min[c], p[k * 3 + c]);
            pr->bounds_max[c] = fmaxf(pr->bounds_max[c], p[k * 3 + c]);
        }
        m->g.bounds_min[c] = fmin(m->g.bounds_min[c], pr->bounds_min[c]);
        m->g.bounds_max[c] = fmax(m->g.bounds_max[c], pr->bounds_max[c]);
    }
    m->mats[i] = mat;
    m->meshes[i].primitives = pr;
    m->meshes[i].primitive_count = 1;
    m->nodes[i].mesh = i;
    m->nodes[i].parent = -1;
    m->draws[i].node = i;
    m->draws[i].mesh = i;
    double id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    memcpy(m->nodes[i].world, id, sizeof id);
    memcpy(m->nodes[i].local, id, sizeof id);
    memcpy(m->draws[i].world, id, sizeof id);
    m->g.mesh_count = m->g.node_count = m->g.material_count = m->g.draw_count = (uint32_t)i + 1;
    m->g.triangle_count += 2;
    m->g.vertex_count += 4;
    return i;
}

/* Camera at (0, -dist, 0) looking +y, up +z. */
static inline ct_camera fx_camera(double dist)
{
    ct_camera c = ct_camera_from_local(0, -dist, 0, 0, 0, 0);
    c.fov_y_deg = 60;
    c.aspect = 1;
    c.near_m = 0.1;
    c.far_m = 1000;
    return c;
}

static inline const uint8_t *fx_px(const uint8_t *img, int w, int x, int y) { return img + ((size_t)y * w + x) * 4; }

/* sRGB encoding of a linear value, as 0..255 (the standard transfer function). */
static inline double fx_srgb255(double l)
{
    double s = l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055;
    return s * 255.0;
}

#endif
