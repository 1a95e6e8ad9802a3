/* Uploads a ct_gltf to GL: vertex/index buffers per primitive, one texture
 * per image (mipmapped), one sampler object per glTF sampler, instance
 * matrices per instanced node; generates tangents for normal-mapped
 * triangles that lack them. */
#include "render_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { LOC_POS, LOC_NORMAL, LOC_TANGENT, LOC_UV0, LOC_UV1, LOC_COLOR, LOC_FEATURE, LOC_INSTANCE };

static bool valid_min_filter(int f) { return f == GL_NEAREST || f == GL_LINEAR || (f >= 9984 && f <= 9987); }
static bool valid_wrap(int w) { return w == GL_REPEAT || w == GL_CLAMP_TO_EDGE || w == GL_MIRRORED_REPEAT; }

static GLuint make_sampler(const ct_gltf_sampler *s, bool mipmaps)
{
    GLuint id;
    glGenSamplers(1, &id);
    int minf = s && valid_min_filter(s->min_filter) ? s->min_filter : GL_LINEAR_MIPMAP_LINEAR;
    int magf = s && (s->mag_filter == GL_NEAREST || s->mag_filter == GL_LINEAR) ? s->mag_filter : GL_LINEAR;
    if (!mipmaps) /* keep the base filter of a mipmap filter */
        minf = (minf == GL_NEAREST || minf == GL_NEAREST_MIPMAP_NEAREST || minf == GL_NEAREST_MIPMAP_LINEAR) ? GL_NEAREST
                                                                                                            : GL_LINEAR;
    glSamplerParameteri(id, GL_TEXTURE_MIN_FILTER, minf);
    glSamplerParameteri(id, GL_TEXTURE_MAG_FILTER, magf);
    glSamplerParameteri(id, GL_TEXTURE_WRAP_S, s && valid_wrap(s->wrap_s) ? s->wrap_s : GL_REPEAT);
    glSamplerParameteri(id, GL_TEXTURE_WRAP_T, s && valid_wrap(s->wrap_t) ? s->wrap_t : GL_REPEAT);
    return id;
}

/* Per-vertex tangents from UV derivatives (Lengyel), w = handedness. Only for
 * triangle lists; returns NULL when it cannot (no normals/uvs, other modes). */
static float *generate_tangents(const ct_gltf_primitive *p, int uv_set)
{
    const float *pos = p->positions, *nrm = p->normals, *uv = p->texcoords[uv_set];
    if (!nrm || !uv || p->mode != CT_GLTF_TRIANGLES)
        return NULL;
    uint32_t nv = p->vertex_count, ntri = (p->index_count ? p->index_count : nv) / 3;
    double *acc = calloc((size_t)nv * 6, sizeof(double)); /* tan (3) + bitan (3) */
    float *out = ct_malloc_array((size_t)nv * 4, sizeof(float));
    if (!acc || !out) {
        free(acc);
        free(out);
        return NULL;
    }
    for (uint32_t t = 0; t < ntri; t++) {
        uint32_t i[3];
        for (int k = 0; k < 3; k++)
            i[k] = p->index_count ? p->indices[t * 3 + k] : t * 3 + k;
        double e1[3], e2[3];
        for (int c = 0; c < 3; c++) {
            e1[c] = pos[i[1] * 3 + c] - pos[i[0] * 3 + c];
            e2[c] = pos[i[2] * 3 + c] - pos[i[0] * 3 + c];
        }
        double du1 = uv[i[1] * 2] - uv[i[0] * 2], dv1 = uv[i[1] * 2 + 1] - uv[i[0] * 2 + 1];
        double du2 = uv[i[2] * 2] - uv[i[0] * 2], dv2 = uv[i[2] * 2 + 1] - uv[i[0] * 2 + 1];
        double det = du1 * dv2 - du2 * dv1;
        if (fabs(det) < 1e-20)
            continue;
        double r = 1.0 / det;
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++) {
                acc[i[k] * 6 + c] += (e1[c] * dv2 - e2[c] * dv1) * r;
                acc[i[k] * 6 + 3 + c] += (e2[c] * du1 - e1[c] * du2) * r;
            }
    }
    for (uint32_t v = 0; v < nv; v++) {
        double n[3] = {nrm[v * 3], nrm[v * 3 + 1], nrm[v * 3 + 2]}, *t = acc + v * 6, *b = t + 3;
        double nd = n[0] * t[0] + n[1] * t[1] + n[2] * t[2];
        double o[3] = {t[0] - n[0] * nd, t[1] - n[1] * nd, t[2] - n[2] * nd};
        double l = sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
        if (l < 1e-12) { /* degenerate: any vector perpendicular to n */
            double a[3] = {fabs(n[0]) < 0.9 ? 1 : 0, fabs(n[0]) < 0.9 ? 0 : 1, 0};
            nd = n[0] * a[0] + n[1] * a[1];
            o[0] = a[0] - n[0] * nd, o[1] = a[1] - n[1] * nd, o[2] = -n[2] * nd;
            l = sqrt(o[0] * o[0] + o[1] * o[1] + o[2] * o[2]);
        }
        double c[3] = {n[1] * o[2] - n[2] * o[1], n[2] * o[0] - n[0] * o[2], n[0] * o[1] - n[1] * o[0]};
        for (int k = 0; k < 3; k++)
            out[v * 4 + k] = (float)(o[k] / l);
        out[v * 4 + 3] = (c[0] * b[0] + c[1] * b[1] + c[2] * b[2]) < 0 ? -1.0f : 1.0f;
    }
    free(acc);
    return out;
}

static GLenum gl_mode(ct_gltf_mode m)
{
    switch (m) {
    case CT_GLTF_POINTS: return GL_POINTS;
    case CT_GLTF_LINES: return GL_LINES;
    case CT_GLTF_LINE_LOOP: return GL_LINE_LOOP;
    case CT_GLTF_LINE_STRIP: return GL_LINE_STRIP;
    case CT_GLTF_TRIANGLE_STRIP: return GL_TRIANGLE_STRIP;
    case CT_GLTF_TRIANGLE_FAN: return GL_TRIANGLE_FAN;
    default: return GL_TRIANGLES;
    }
}

static bool upload_primitive(ct_render_model *m, const ct_gltf *g, const ct_gltf_primitive *p, rprim *out)
{
    memset(out, 0, sizeof *out);
    if (p->vertex_count == 0 || !p->positions)
        return false;
    uint32_t nv = p->vertex_count;
    const ct_gltf_material *mat =
        p->material >= 0 && (uint32_t)p->material < g->material_count ? &g->materials[p->material] : NULL;
    float *tangents = p->tangents;
    float *generated = NULL;
    if (!tangents && mat && mat->normal_texture.texture >= 0)
        tangents = generated = generate_tangents(p, mat->normal_texture.texcoord == 1 ? 1 : 0);
    struct {
        const void *data;
        int loc, comps;
        size_t elem;
    } attrs[] = {
        {p->positions, LOC_POS, 3, 4},     {p->normals, LOC_NORMAL, 3, 4},    {tangents, LOC_TANGENT, 4, 4},
        {p->texcoords[0], LOC_UV0, 2, 4},  {p->texcoords[1], LOC_UV1, 2, 4}, {p->colors, LOC_COLOR, 4, 4},
        {p->feature_ids, LOC_FEATURE, 1, 4},
    };
    size_t total = 0;
    for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++)
        if (attrs[a].data)
            total += (size_t)nv * attrs[a].comps * attrs[a].elem;
    glGenVertexArrays(1, &out->vao);
    glBindVertexArray(out->vao);
    glGenBuffers(1, &out->vbo);
    glBindBuffer(GL_ARRAY_BUFFER, out->vbo);
    glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)total, NULL, GL_STATIC_DRAW);
    size_t off = 0;
    for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++) {
        if (!attrs[a].data)
            continue;
        size_t bytes = (size_t)nv * attrs[a].comps * attrs[a].elem;
        glBufferSubData(GL_ARRAY_BUFFER, (GLintptr)off, (GLsizeiptr)bytes, attrs[a].data);
        glEnableVertexAttribArray(attrs[a].loc);
        if (attrs[a].loc == LOC_FEATURE)
            glVertexAttribIPointer(attrs[a].loc, 1, GL_UNSIGNED_INT, 0, (const void *)off);
        else
            glVertexAttribPointer(attrs[a].loc, attrs[a].comps, GL_FLOAT, GL_FALSE, 0, (const void *)off);
        off += bytes;
    }
    m->bytes += total;
    free(generated);
    out->has_normals = p->normals != NULL;
    out->has_tangents = tangents != NULL;
    out->has_colors = p->colors != NULL;
    out->has_features = p->feature_ids != NULL;
    out->mode = gl_mode(p->mode);
    out->material = mat ? p->material : -1;
    if (p->index_count) {
        glGenBuffers(1, &out->ibo);
        glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, out->ibo);
        if (nv <= 65536) { /* 16-bit indices halve index bandwidth */
            uint16_t *s = ct_malloc_array(p->index_count, sizeof(uint16_t));
            if (!s)
                return false;
            for (uint32_t i = 0; i < p->index_count; i++)
                s[i] = (uint16_t)p->indices[i];
            glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)p->index_count * 2, s, GL_STATIC_DRAW);
            free(s);
            out->index_type = GL_UNSIGNED_SHORT;
            m->bytes += (uint64_t)p->index_count * 2;
        } else {
            glBufferData(GL_ELEMENT_ARRAY_BUFFER, (GLsizeiptr)p->index_count * 4, p->indices, GL_STATIC_DRAW);
            out->index_type = GL_UNSIGNED_INT;
            m->bytes += (uint64_t)p->index_count * 4;
        }
        out->count = (GLsizei)p->index_count;
    } else {
        out->count = (GLsizei)nv;
    }
    glBindVertexArray(0);
    for (int c = 0; c < 3; c++)
        out->center[c] = 0.5f * (p->bounds_min[c] + p->bounds_max[c]);
    return true;
}

static void bind_instances(const rdraw *d, const rmesh *mesh)
{
    for (uint32_t i = 0; i < mesh->prim_count; i++) {
        glBindVertexArray(mesh->prims[i].vao);
        glBindBuffer(GL_ARRAY_BUFFER, d->instance_vbo);
        for (int c = 0; c < 4; c++) {
            glEnableVertexAttribArray(LOC_INSTANCE + c);
            glVertexAttribPointer(LOC_INSTANCE + c, 4, GL_FLOAT, GL_FALSE, 64, (const void *)(size_t)(c * 16));
            glVertexAttribDivisor(LOC_INSTANCE + c, 1);
        }
    }
    glBindVertexArray(0);
}

ct_status ct_render_model_create(ct_renderer *r, const ct_gltf *g, const ct_render_model_desc *desc,
                                 ct_render_model **out, ct_error *err)
{
    ct_render_model_desc d = desc ? *desc : (ct_render_model_desc){0};
    *out = NULL;
    ct_render_model *m = calloc(1, sizeof *m);
    if (!m)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    m->renderer = r;
    memcpy(m->bmin, g->bounds_min, sizeof m->bmin);
    memcpy(m->bmax, g->bounds_max, sizeof m->bmax);
    bool mipmaps = !d.no_mipmaps;

    /* Images: RGBA8, straight alpha, rows as stored (glTF UV origin is top-left,
     * GL's bottom-left: uploading rows top-first makes v=0 the first row). */
    m->image_count = g->image_count;
    m->images = ct_calloc_array(g->image_count ? g->image_count : 1, sizeof(GLuint));
    m->sampler_count = g->sampler_count;
    m->samplers = ct_calloc_array(g->sampler_count + 1, sizeof(GLuint));
    m->texture_count = g->texture_count;
    m->textures = ct_calloc_array(g->texture_count ? g->texture_count : 1, sizeof(rtexture));
    m->material_count = g->material_count;
    m->materials = ct_calloc_array(g->material_count ? g->material_count : 1, sizeof(ct_gltf_material));
    m->mesh_count = g->mesh_count;
    m->meshes = ct_calloc_array(g->mesh_count ? g->mesh_count : 1, sizeof(rmesh));
    m->draw_count = g->draw_count;
    m->draws = ct_calloc_array(g->draw_count ? g->draw_count : 1, sizeof(rdraw));
    if (!m->images || !m->samplers || !m->textures || !m->materials || !m->meshes || !m->draws) {
        ct_render_model_destroy(m);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    for (uint32_t i = 0; i < g->image_count; i++) {
        const ct_gltf_image *im = &g->images[i];
        if (!im->pixels || im->width <= 0 || im->height <= 0)
            continue;
        glGenTextures(1, &m->images[i]);
        glBindTexture(GL_TEXTURE_2D, m->images[i]);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, im->width, im->height, 0, GL_RGBA, GL_UNSIGNED_BYTE, im->pixels);
        uint64_t bytes = (uint64_t)im->width * im->height * 4;
        if (mipmaps) {
            glGenerateMipmap(GL_TEXTURE_2D);
            bytes = bytes * 4 / 3;
        }
        m->bytes += bytes;
    }
    glBindTexture(GL_TEXTURE_2D, 0);
    for (uint32_t i = 0; i < g->sampler_count; i++)
        m->samplers[i] = make_sampler(&g->samplers[i], mipmaps);
    m->samplers[g->sampler_count] = make_sampler(NULL, mipmaps);
    for (uint32_t i = 0; i < g->texture_count; i++) {
        const ct_gltf_texture *t = &g->textures[i];
        if (t->image >= 0 && (uint32_t)t->image < g->image_count)
            m->textures[i].tex = m->images[t->image];
        m->textures[i].sampler = t->sampler >= 0 && (uint32_t)t->sampler < g->sampler_count
                                     ? m->samplers[t->sampler]
                                     : m->samplers[g->sampler_count];
    }
    for (uint32_t i = 0; i < g->material_count; i++) {
        m->materials[i] = g->materials[i];
        m->materials[i].name = NULL;
    }
    for (uint32_t i = 0; i < g->mesh_count; i++) {
        const ct_gltf_mesh *gm = &g->meshes[i];
        rmesh *rm = &m->meshes[i];
        rm->prims = ct_calloc_array(gm->primitive_count ? gm->primitive_count : 1, sizeof(rprim));
        if (!rm->prims)
            continue;
        for (uint32_t k = 0; k < gm->primitive_count; k++) {
            if (upload_primitive(m, g, &gm->primitives[k], &rm->prims[rm->prim_count])) {
                rm->prims[rm->prim_count].gltf_index = (int)k;
                rm->prim_count++;
            } else {
                ct_log(CT_LOG_INFO, "render: mesh %u primitive %u has no vertices: skipped", i, k);
            }
        }
    }
    for (uint32_t i = 0; i < g->draw_count; i++) {
        const ct_gltf_draw *gd = &g->draws[i];
        rdraw *rd = &m->draws[i];
        rd->node = gd->node;
        rd->mesh = gd->mesh;
        memcpy(rd->world, gd->world, sizeof rd->world);
        if (gd->node >= 0 && (uint32_t)gd->node < g->node_count && g->nodes[gd->node].instance_count > 0 &&
            g->nodes[gd->node].instance_matrices && gd->mesh >= 0 && (uint32_t)gd->mesh < g->mesh_count) {
            const ct_gltf_node *n = &g->nodes[gd->node];
            rd->instance_count = n->instance_count;
            glGenBuffers(1, &rd->instance_vbo);
            glBindBuffer(GL_ARRAY_BUFFER, rd->instance_vbo);
            glBufferData(GL_ARRAY_BUFFER, (GLsizeiptr)n->instance_count * 64, n->instance_matrices, GL_STATIC_DRAW);
            m->bytes += (uint64_t)n->instance_count * 64;
            /* VAOs are per primitive: a mesh shared by an instanced and a plain
             * node would need two; instanced meshes are not shared in practice. */
            bind_instances(rd, &m->meshes[gd->mesh]);
        }
    }
    glBindBuffer(GL_ARRAY_BUFFER, 0);
    *out = m;
    return CT_OK;
}

void ct_render_model_destroy(ct_render_model *m)
{
    if (!m)
        return;
    if (m->meshes)
        for (uint32_t i = 0; i < m->mesh_count; i++) {
            for (uint32_t k = 0; k < m->meshes[i].prim_count; k++) {
                rprim *p = &m->meshes[i].prims[k];
                glDeleteVertexArrays(1, &p->vao);
                glDeleteBuffers(1, &p->vbo);
                if (p->ibo)
                    glDeleteBuffers(1, &p->ibo);
            }
            free(m->meshes[i].prims);
        }
    if (m->draws)
        for (uint32_t i = 0; i < m->draw_count; i++)
            if (m->draws[i].instance_vbo)
                glDeleteBuffers(1, &m->draws[i].instance_vbo);
    if (m->images)
        for (uint32_t i = 0; i < m->image_count; i++)
            if (m->images[i])
                glDeleteTextures(1, &m->images[i]);
    if (m->samplers)
        glDeleteSamplers((GLsizei)m->sampler_count + 1, m->samplers);
    free(m->images);
    free(m->samplers);
    free(m->textures);
    free(m->materials);
    free(m->meshes);
    free(m->draws);
    free(m);
}

uint64_t ct_render_model_bytes(const ct_render_model *m) { return m->bytes; }

void ct_render_model_bounds(const ct_render_model *m, double bmin[3], double bmax[3])
{
    memcpy(bmin, m->bmin, sizeof m->bmin);
    memcpy(bmax, m->bmax, sizeof m->bmax);
}
