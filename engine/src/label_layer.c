/* Vector layer labels (label_layer.h): screen-space text at each feature's
 * anchor, placed as QGIS and CesiumJS do — always facing the screen, hidden
 * when the anchor is behind something, greedy by priority without overlaps. */
#include "label_layer.h"
#include "render_internal.h"

#include "citytwin/ct_text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    CELL = 4,                /* collision grid cell, pixels */
    POINT_GAP = 6,           /* pixels between a point's anchor and its label */
};

typedef struct cand {
    uint32_t index;          /* into the labels */
    uint32_t layer;          /* order of its layer in the frame (ties of priority: earlier layer first) */
    ct_labels *owner;
    double sx, sy;           /* anchor on screen, pixels */
    double depth;            /* anchor's distance along the view direction */
    double distance;         /* anchor's distance from the eye */
    double priority;
    float x0, y0, x1, y1;    /* text box on screen (halo included) */
} cand;

struct ct_labels {
    char *name;
    const ct_vector_label *labels; /* owned by the ct_vector */
    size_t count;
    ct_vector_label_style style;
    double world[16];
    ct_font *font;
    ct_text_renderer *text;
    ct_text_line *lines;     /* shaped once, one per label */
    cand *cands;
    ct_vector_label_stats stats;
};

/* One renderer's labels of the frame being drawn: every label layer queued
 * in it shares one collision pass, so labels of two layers never overlap. */
struct ct_label_frame {
    uint64_t serial;         /* the frame these layers were queued in */
    ct_labels **layers;
    size_t count, cap;
    cand *all;               /* candidates of every layer, sorted for placement */
    size_t all_cap;
    uint8_t *grid;
    size_t grid_size;
};

void ct_label_frame_destroy(ct_label_frame *f)
{
    if (!f)
        return;
    free(f->layers);
    free(f->all);
    free(f->grid);
    free(f);
}

ct_status ct_labels_create(const ct_vector *v, const char *layer_name, ct_labels **out, ct_error *err)
{
    *out = NULL;
    size_t count = 0;
    const ct_vector_label *labels = ct_vector_labels(v, &count);
    if (!count)
        return CT_OK;
    ct_labels *l = calloc(1, sizeof *l);
    if (!l)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    l->name = ct_strdup(layer_name ? layer_name : "?");
    l->labels = labels;
    l->count = count;
    l->stats.labels = (uint32_t)count;
    ct_vector_get_label_style(v, &l->style);
    ct_vector_world(v, l->world);
    ct_error ferr = {0};
    if (ct_font_create(NULL, &l->font, &ferr) != CT_OK) {
        ct_log(CT_LOG_WARN, "layer %s: %zu labels skipped: %s", l->name, count, ferr.msg);
        *out = l; /* draws nothing; stats say font_ok = false */
        return CT_OK;
    }
    ct_status st = ct_text_renderer_create(l->font, &l->text, err);
    l->lines = st == CT_OK ? calloc(count, sizeof *l->lines) : NULL;
    l->cands = l->lines ? calloc(count, sizeof *l->cands) : NULL;
    if (st == CT_OK && !l->cands)
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    for (size_t i = 0; st == CT_OK && i < count; i++)
        if (ct_font_shape(l->font, labels[i].text, l->style.size_px, &l->lines[i], &ferr) != CT_OK)
            ct_log(CT_LOG_WARN, "layer %s: label of feature %u: %s; not drawn", l->name, labels[i].feature_id,
                   ferr.msg);
    if (st != CT_OK) {
        ct_labels_destroy(l);
        return st;
    }
    l->stats.font_ok = true;
    *out = l;
    return CT_OK;
}

void ct_labels_destroy(ct_labels *l)
{
    if (!l)
        return;
    for (size_t i = 0; l->lines && i < l->count; i++)
        ct_text_line_free(&l->lines[i]);
    free(l->lines);
    free(l->cands);
    ct_text_renderer_destroy(l->text);
    ct_font_destroy(l->font);
    free(l->name);
    free(l);
}

void ct_labels_stats(const ct_labels *l, ct_vector_label_stats *out) { *out = l->stats; }

/* Higher priority first, then the earlier layer, then nearer, then the
 * label's order in its layer (stable frames). */
static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    if (x->layer != y->layer)
        return x->layer < y->layer ? -1 : 1;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Whether the anchor is in front of what the frame drew around it: any of
 * the 3 x 3 pixels about it no nearer than the anchor (less a tolerance for
 * the surface the anchor lies on). */
static bool anchor_visible(const float *d, int stride, int cx, int cy, int w, int h, double depth)
{
    double tol = 0.5 + 0.005 * depth;
    for (int y = cy - 1; y <= cy + 1; y++)
        for (int x = cx - 1; x <= cx + 1; x++)
            if (x >= 0 && y >= 0 && x < w && y < h && d[(size_t)y * stride + x] >= depth - tol)
                return true;
    return false;
}

/* True when the box overlaps no placed label; cells = its cell range. */
static bool grid_free(const ct_label_frame *l, int gw, int gh, const cand *c, int cells[4])
{
    int x0 = (int)floorf(c->x0 / CELL), y0 = (int)floorf(c->y0 / CELL);
    int x1 = (int)floorf(c->x1 / CELL), y1 = (int)floorf(c->y1 / CELL);
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    x1 = x1 >= gw ? gw - 1 : x1, y1 = y1 >= gh ? gh - 1 : y1;
    cells[0] = x0, cells[1] = y0, cells[2] = x1, cells[3] = y1;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (l->grid[(size_t)y * gw + x])
                return false;
    return true;
}

static void grid_mark(ct_label_frame *l, int gw, const int cells[4])
{
    for (int y = cells[1]; y <= cells[3]; y++)
        memset(l->grid + (size_t)y * gw + cells[0], 1, (size_t)(cells[2] - cells[0] + 1));
}

/* Projects the layer's labels and keeps those that may be drawn in
 * l->cands; returns their count. Resets the layer's stats for this frame. */
static size_t labels_project(ct_labels *l, const ct_camera *cam, int w, int h, uint32_t layer)
{
    ct_vector_label_stats *st = &l->stats;
    st->drawn = st->culled = st->occluded = st->collided = 0;
    if (!l->text || w <= 0 || h <= 0)
        return 0;
    double view_rot[16], proj[16];
    ct_camera_view_rotation(cam, view_rot);
    ct_camera_projection(cam, false, proj);
    double near = cam->near_m > 0 ? cam->near_m : 0.1;
    float halo = l->style.halo_px > 0 ? ceilf(l->style.halo_px) : 0;
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        const ct_vector_label *lb = &l->labels[i];
        const ct_text_line *line = &l->lines[i];
        if (!line->glyph_count) {
            st->culled++;
            continue;
        }
        ct_dvec3 p = ct_dmat4_transform_point(l->world, ct_dvec3_make(lb->position[0], lb->position[1], lb->position[2]));
        ct_dvec3 rel = ct_dvec3_sub(p, cam->position);
        double dist = ct_dvec3_length(rel);
        ct_dvec3 v = ct_dmat4_transform_dir(view_rot, rel);
        if (dist < l->style.min_distance || dist > l->style.max_distance || -v.z <= near) {
            st->culled++;
            continue;
        }
        double cx = proj[0] * v.x + proj[4] * v.y + proj[8] * v.z + proj[12];
        double cy = proj[1] * v.x + proj[5] * v.y + proj[9] * v.z + proj[13];
        double cw = proj[3] * v.x + proj[7] * v.y + proj[11] * v.z + proj[15];
        double sx = (cx / cw * 0.5 + 0.5) * w, sy = (0.5 - cy / cw * 0.5) * h;
        if (!(sx >= 0 && sy >= 0 && sx < w && sy < h)) {
            st->culled++;
            continue;
        }
        float th = line->ascent + line->descent;
        cand *c = &l->cands[n++];
        *c = (cand){.index = (uint32_t)i, .layer = layer, .owner = l, .sx = sx, .sy = sy, .depth = -v.z,
                    .distance = dist, .priority = lb->priority};
        c->x0 = lb->kind == CT_VECTOR_LABEL_POINT ? (float)sx + POINT_GAP : (float)sx - line->width / 2;
        c->y0 = (float)sy - th / 2;
        c->x1 = c->x0 + line->width + halo;
        c->y1 = c->y0 + th + halo;
        c->x0 -= halo;
        c->y0 -= halo;
        if (c->x0 < 0 || c->y0 < 0 || c->x1 > w || c->y1 > h) { /* cut by the frame's edge: hidden, as in QGIS */
            n--;
            st->culled++;
            continue;
        }
    }
    return n;
}

/* Every label layer of the frame: candidates of all layers in one greedy
 * placement, highest priority first across layers, each label counted in
 * its own layer's stats. */
static void labels_overlay(ct_renderer *r, void *user)
{
    ct_label_frame *f = user;
    const ct_camera *cam = ct_renderer_frame_camera(r);
    int w, h;
    ct_renderer_frame_size(r, &w, &h);
    size_t n = 0, nl = f->count;
    f->count = 0; /* drawn now: the next frame queues its layers again */
    for (size_t k = 0; k < nl; k++) {
        ct_labels *l = f->layers[k];
        size_t m = labels_project(l, cam, w, h, (uint32_t)k);
        if (n + m > f->all_cap) {
            size_t cap = f->all_cap ? f->all_cap : 256;
            while (cap < n + m)
                cap *= 2;
            cand *a = realloc(f->all, cap * sizeof *a);
            if (!a) {
                ct_log(CT_LOG_WARN, "layer %s: labels not drawn: out of memory", l->name);
                continue;
            }
            f->all = a;
            f->all_cap = cap;
        }
        if (m)
            memcpy(f->all + n, l->cands, m * sizeof *f->all);
        n += m;
    }
    if (!n)
        return;
    /* Greedy placement, highest priority (then earlier layer, then nearest)
     * first. The depth buffer is read only for labels that would fit: around
     * their anchor, 3 x 3 pixels each (dense layers mostly collide, and
     * reading the whole frame's depth costs more than the few anchors that
     * get this far). */
    qsort(f->all, n, sizeof *f->all, cmp_cand);
    int gw = (w + CELL - 1) / CELL, gh = (h + CELL - 1) / CELL;
    if ((size_t)gw * gh > f->grid_size) {
        uint8_t *g = realloc(f->grid, (size_t)gw * gh);
        if (!g)
            return;
        f->grid = g;
        f->grid_size = (size_t)gw * gh;
    }
    memset(f->grid, 0, (size_t)gw * gh);
    ct_error err = {0};
    bool depth_ok = true;
    for (size_t k = 0; k < n; k++) {
        const cand *c = &f->all[k];
        ct_labels *l = c->owner;
        ct_vector_label_stats *st = &l->stats;
        int cells[4];
        if (!grid_free(f, gw, gh, c, cells)) {
            st->collided++;
            continue;
        }
        float d[9];
        int ax = (int)c->sx, ay = (int)c->sy;
        if (depth_ok && ct_renderer_read_depth_m(r, ax - 1, ay - 1, 3, 3, d, &err) != CT_OK) {
            ct_log(CT_LOG_WARN, "layer %s: labels drawn without occlusion: %s", l->name, err.msg);
            depth_ok = false; /* labels are drawn rather than lost */
        }
        if (depth_ok && !anchor_visible(d, 3, 1, 1, 3, 3, c->depth)) {
            st->occluded++;
            continue;
        }
        grid_mark(f, gw, cells);
        ct_text_style ts = {.halo_px = l->style.halo_px};
        memcpy(ts.color, l->style.color, sizeof ts.color);
        memcpy(ts.halo_color, l->style.halo_color, sizeof ts.halo_color);
        float halo = l->style.halo_px > 0 ? ceilf(l->style.halo_px) : 0;
        const ct_text_line *line = &l->lines[c->index];
        ct_text_renderer_add(l->text, line, c->x0 + halo, c->y0 + halo + line->ascent, &ts);
        st->drawn++;
    }
    /* Placed labels do not overlap, so drawing layer by layer is the same
     * image as drawing in placement order. */
    for (size_t k = 0; k < nl; k++)
        if (f->layers[k]->stats.drawn)
            ct_text_renderer_flush(f->layers[k]->text, w, h);
}

void ct_labels_queue(ct_labels *l, ct_renderer *r)
{
    if (!l || !l->text)
        return;
    ct_label_frame **fp = ct_renderer_label_frame(r);
    if (!*fp && !(*fp = calloc(1, sizeof **fp)))
        return;
    ct_label_frame *f = *fp;
    uint64_t serial = ct_renderer_frame_serial(r);
    if (f->serial != serial) { /* a frame begun but never ended leaves its layers behind */
        f->serial = serial;
        f->count = 0;
    }
    for (size_t k = 0; k < f->count; k++)
        if (f->layers[k] == l)
            return; /* drawn twice in one frame: labelled once */
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        ct_labels **a = realloc(f->layers, cap * sizeof *a);
        if (!a)
            return;
        f->layers = a;
        f->cap = cap;
    }
    f->layers[f->count++] = l;
    if (f->count == 1)
        ct_renderer_add_overlay(r, labels_overlay, f);
}
