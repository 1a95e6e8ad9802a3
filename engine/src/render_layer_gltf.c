/* A glTF/GLB file as a render layer: loaded once, uploaded once, drawn every
 * frame with y-up -> z-up (and CESIUM_RTC) applied. */
#include "render_internal.h"

#include <math.h>

#include <stdlib.h>
#include <string.h>

typedef struct gltf_layer {
    ct_render_layer base;
    ct_gltf *gltf;
    ct_render_model *model;
    double world[16];
} gltf_layer;

static ct_status gl_update(ct_render_layer *l, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err)
{
    *complete = true; /* everything was uploaded at creation */
    return CT_OK;
}

static void gl_draw(ct_render_layer *l, ct_renderer *r)
{
    gltf_layer *g = (gltf_layer *)l;
    ct_render_draw_desc d = {.pick_id = l->pick_id};
    memcpy(d.world, g->world, sizeof d.world);
    ct_renderer_draw_model(r, g->model, &d);
}

static bool gl_bounds(ct_render_layer *l, ct_dvec3 *center, double *radius)
{
    gltf_layer *g = (gltf_layer *)l;
    double bmin[3], bmax[3];
    ct_render_model_bounds(g->model, bmin, bmax);
    if (!(bmin[0] <= bmax[0] && bmin[1] <= bmax[1] && bmin[2] <= bmax[2]))
        return false;
    ct_dvec3 lo = {INFINITY, INFINITY, INFINITY}, hi = {-INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < 8; i++) {
        ct_dvec3 p = ct_dmat4_transform_point(
            g->world, ct_dvec3_make(i & 1 ? bmax[0] : bmin[0], i & 2 ? bmax[1] : bmin[1], i & 4 ? bmax[2] : bmin[2]));
        lo = ct_dvec3_make(fmin(lo.x, p.x), fmin(lo.y, p.y), fmin(lo.z, p.z));
        hi = ct_dvec3_make(fmax(hi.x, p.x), fmax(hi.y, p.y), fmax(hi.z, p.z));
    }
    *center = ct_dvec3_scale(ct_dvec3_add(lo, hi), 0.5);
    *radius = 0.5 * ct_dvec3_length(ct_dvec3_sub(hi, lo));
    return true;
}

static void gl_stats(ct_render_layer *l, ct_render_layer_stats *out)
{
    gltf_layer *g = (gltf_layer *)l;
    memset(out, 0, sizeof *out);
    out->bytes_used = ct_render_model_bytes(g->model);
}

static void gl_destroy(ct_render_layer *l)
{
    gltf_layer *g = (gltf_layer *)l;
    ct_render_model_destroy(g->model);
    ct_gltf_destroy(g->gltf);
    free(l->name);
    free(g);
}

static const ct_render_layer_vtable GLTF_VT = {gl_update, gl_draw, gl_bounds, gl_stats, gl_destroy};

ct_status ct_render_layer_gltf_create_from(ct_renderer *r, ct_gltf *gltf, const char *name, const double world[16],
                                           ct_render_layer **out, ct_error *err)
{
    *out = NULL;
    gltf_layer *g = calloc(1, sizeof *g);
    if (!g) {
        ct_gltf_destroy(gltf);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    g->base.vt = &GLTF_VT;
    g->base.name = ct_strdup(name ? name : "gltf");
    g->base.model_source = gltf;
    g->gltf = gltf;
    /* world * translate(RTC) * y-up->z-up, as 3D Tiles places glTF content */
    double y2z[16], t[16], extra[16];
    ct_render_y_up_to_z_up(y2z);
    ct_dmat4_identity(t);
    if (gltf->has_rtc_center) {
        t[12] = gltf->rtc_center[0];
        t[13] = gltf->rtc_center[1];
        t[14] = gltf->rtc_center[2];
        g->base.geographic = true;
    }
    if (world)
        memcpy(extra, world, sizeof extra);
    else
        ct_dmat4_identity(extra);
    ct_dmat4_mul(g->world, t, y2z);
    ct_dmat4_mul(g->world, extra, g->world);
    ct_status st = ct_render_model_create(r, gltf, NULL, &g->model, err);
    if (st != CT_OK) {
        ct_error_prefix(err, "%s: ", g->base.name);
        g->model = NULL;
        gl_destroy(&g->base);
        return st;
    }
    *out = &g->base;
    return CT_OK;
}

ct_status ct_render_layer_gltf_create(ct_renderer *r, const char *path, const double world[16],
                                      ct_render_layer **out, ct_error *err)
{
    *out = NULL;
    ct_gltf *g = NULL;
    ct_status st = ct_gltf_load_file(path, NULL, &g, err);
    if (st != CT_OK)
        return st;
    return ct_render_layer_gltf_create_from(r, g, path, world, out, err);
}

void ct_render_layer_destroy(ct_render_layer *l)
{
    if (l && l->vt && l->vt->destroy)
        l->vt->destroy(l);
}
