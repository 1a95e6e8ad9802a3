/* A vector layer for the renderer: the model built by ct_vector_build drawn
 * by a glTF layer (picking, blending and bounds come with it), plus the
 * features' FIDs and attributes for pick reports. */
#include "citytwin/ct_vector.h"
#include "label_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct vector_layer {
    ct_render_layer base;
    ct_render_layer *inner; /* the glTF layer drawing the model */
    ct_vector *vec;         /* features (the model moved into inner) */
    ct_labels *labels;      /* NULL without style "label" */
} vector_layer;

static ct_status vl_update(ct_render_layer *l, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err)
{
    vector_layer *v = (vector_layer *)l;
    return v->inner->vt->update(v->inner, r, cam, w, h, complete, err);
}

static void vl_draw(ct_render_layer *l, ct_renderer *r)
{
    vector_layer *v = (vector_layer *)l;
    v->inner->pick_id = l->pick_id; /* the owner numbers the outer layer */
    v->inner->vt->draw(v->inner, r);
    ct_labels_queue(v->labels, r); /* drawn after every layer's geometry, depth-tested against it */
}

static bool vl_bounds(ct_render_layer *l, ct_dvec3 *center, double *radius)
{
    vector_layer *v = (vector_layer *)l;
    return v->inner->vt->bounds(v->inner, center, radius);
}

static void vl_stats(ct_render_layer *l, ct_render_layer_stats *out)
{
    vector_layer *v = (vector_layer *)l;
    v->inner->vt->stats(v->inner, out);
}

static void vl_destroy(ct_render_layer *l)
{
    vector_layer *v = (vector_layer *)l;
    ct_render_layer_destroy(v->inner);
    ct_labels_destroy(v->labels);
    ct_vector_destroy(v->vec);
    free(l->name);
    free(v);
}

static char *vl_feature_json(ct_render_layer *l, int64_t feature_id)
{
    vector_layer *v = (vector_layer *)l;
    int64_t fid;
    const char *props;
    if (!ct_vector_feature(v->vec, feature_id, &fid, &props))
        return NULL;
    size_t n = strlen(props) + 64;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "{\"fid\":%lld,\"properties\":%s}", (long long)fid, props);
    return s;
}

static const ct_render_layer_vtable VECTOR_VT = {vl_update, vl_draw, vl_bounds, vl_stats, vl_destroy,
                                                 vl_feature_json};

ct_status ct_render_layer_vector_create(ct_renderer *r, const ct_vector_desc *desc, ct_render_layer **out,
                                        ct_error *err)
{
    *out = NULL;
    ct_vector *vec = NULL;
    ct_status st = ct_vector_build(desc, &vec, err);
    if (st != CT_OK)
        return st;
    vector_layer *v = calloc(1, sizeof *v);
    if (!v) {
        ct_vector_destroy(vec);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    const char *name = desc->name && *desc->name ? desc->name : desc->source;
    double world[16];
    ct_vector_world(vec, world);
    st = ct_render_layer_gltf_create_from(r, ct_vector_take_gltf(vec), name, world, &v->inner, err);
    if (st != CT_OK) {
        ct_vector_destroy(vec);
        free(v);
        return st;
    }
    v->vec = vec;
    st = ct_labels_create(vec, name, &v->labels, err);
    if (st != CT_OK) {
        ct_render_layer_destroy(v->inner);
        ct_vector_destroy(vec);
        free(v);
        return st;
    }
    v->base.vt = &VECTOR_VT;
    v->base.name = ct_strdup(name);
    v->base.geographic = desc->has_frame;
    v->base.model_source = v->inner->model_source;
    *out = &v->base;
    return CT_OK;
}

bool ct_render_layer_vector_label_stats(const ct_render_layer *l, ct_vector_label_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!l || l->vt != &VECTOR_VT)
        return false;
    const vector_layer *v = (const vector_layer *)l;
    if (v->labels)
        ct_labels_stats(v->labels, out);
    return true;
}
