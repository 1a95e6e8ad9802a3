/* Labels of a vector layer (label_layer.c): shaped once, placed each frame
 * as a renderer overlay (after all geometry): projected to the screen,
 * culled by distance, hidden when their anchor is occluded (depth buffer),
 * placed greedily by priority without overlaps, drawn with a halo. Not a
 * public header. */
#ifndef CT_LABEL_LAYER_H
#define CT_LABEL_LAYER_H

#include "citytwin/ct_vector.h"

typedef struct ct_labels ct_labels;

/* *out is NULL (and CT_OK) when the vector has no labels. A missing font is
 * not an error: it is logged once and the labels are skipped. Needs the GL
 * context current. */
ct_status ct_labels_create(const ct_vector *v, const char *layer_name, ct_labels **out, ct_error *err);
void ct_labels_destroy(ct_labels *l);
/* From the layer's draw: places and draws the labels at the end of this frame. */
void ct_labels_queue(ct_labels *l, ct_renderer *r);
void ct_labels_stats(const ct_labels *l, ct_vector_label_stats *out);

#endif
