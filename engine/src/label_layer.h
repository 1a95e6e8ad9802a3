/* Labels of a vector layer (label_layer.c): shaped once, placed each frame
 * as a renderer overlay (after all geometry): projected to the screen,
 * culled by distance, hidden when their anchor is occluded (depth buffer),
 * placed greedily by priority without overlaps, drawn with a halo. Not a
 * public header. */
#ifndef CT_LABEL_LAYER_H
#define CT_LABEL_LAYER_H

#include "citytwin/ct_vector.h"

typedef struct ct_labels ct_labels;
/* A renderer's label layers of one frame (owned by the renderer): they are
 * placed together, so labels of different layers never overlap. */
typedef struct ct_label_frame ct_label_frame;
void ct_label_frame_destroy(ct_label_frame *f);

/* *out is NULL (and CT_OK) when the vector has no labels. A missing font is
 * not an error: it is logged once and the labels are skipped. Needs the GL
 * context current. */
ct_status ct_labels_create(const ct_vector *v, const char *layer_name, ct_labels **out, ct_error *err);
void ct_labels_destroy(ct_labels *l);
/* From the layer's draw: places and draws the labels at the end of this
 * frame, in one collision pass with every other label layer queued in it
 * (higher label_priority first across layers; ties: the layer queued first). */
void ct_labels_queue(ct_labels *l, ct_renderer *r);
void ct_labels_stats(const ct_labels *l, ct_vector_label_stats *out);

#endif
