/* Per-frame tile selection (no GL, no I/O): frustum culling, screen-space
 * error as CesiumJS defines it, REPLACE refinement without holes (a parent
 * stays drawn until every visible child can replace it), ADD refinement,
 * viewerRequestVolume, and request candidates prioritised by SSE and
 * distance from the screen centre. */
#include "tileset_select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void add_candidate(ct_tileset *ts, ct_tile *t, ct_tileset_content *c, float priority)
{
    if (ts->n_cand == ts->cap_cand) {
        int cap = ts->cap_cand ? ts->cap_cand * 2 : 256;
        candidate *n = realloc(ts->cand, (size_t)cap * sizeof *n);
        if (!n)
            return;
        ts->cand = n;
        ts->cap_cand = cap;
    }
    ts->cand[ts->n_cand++] = (candidate){t, c, priority};
}

/* Marks a content as needed by this view and asks for it if it is not loaded. */
static void want(ct_tileset *ts, const tileset_view *v, ct_tile *t, ct_tileset_content *c, float priority)
{
    c->last_used_frame = ts->frame;
    switch (c->state) {
    case CT_CONTENT_READY:
        return;
    case CT_CONTENT_DECODED:
        ts->wanted_not_ready++;
        return;
    case CT_CONTENT_QUEUED:
    case CT_CONTENT_LOADING:
        ts->wanted_not_ready++;
        if (c->job) {
            c->job->wanted_frame = ts->frame;
            c->job->priority = priority;
        }
        return;
    case CT_CONTENT_FAILED:
        if (c->job) { /* a retry is on its way */
            c->job->wanted_frame = ts->frame;
            ts->wanted_not_ready++;
            return;
        }
        if (v->now < c->retry_at) {
            ts->failed_waiting++;
            return;
        }
        ts->wanted_not_ready++;
        add_candidate(ts, t, c, priority);
        return;
    case CT_CONTENT_UNLOADED:
        if (c->job) {
            c->job->wanted_frame = ts->frame;
            ts->wanted_not_ready++;
            return;
        }
        ts->wanted_not_ready++;
        add_candidate(ts, t, c, priority);
        return;
    }
}

static bool content_drawable(const ct_tileset_content *c) { return c->type != CT_CONTENT_TYPE_JSON; }

/* Has drawable content, and is all of it ready? */
static void tile_readiness(const ct_tile *t, bool *has, bool *ready)
{
    *has = false;
    *ready = true;
    for (int i = 0; i < t->n_contents; i++) {
        if (!content_drawable(&t->contents[i]))
            continue;
        *has = true;
        if (t->contents[i].state != CT_CONTENT_READY)
            *ready = false;
    }
}

static void emit(ct_tileset *ts, ct_tile *t)
{
    bool any = false;
    for (int i = 0; i < t->n_contents; i++) {
        ct_tileset_content *c = &t->contents[i];
        if (!content_drawable(c) || c->state != CT_CONTENT_READY)
            continue;
        if (ts->n_draws == ts->cap_draws) {
            int cap = ts->cap_draws ? ts->cap_draws * 2 : 256;
            ct_tileset_draw *d = realloc(ts->draws, (size_t)cap * sizeof *d);
            if (!d)
                return;
            ts->draws = d;
            ts->cap_draws = cap;
        }
        ct_tileset_draw *d = &ts->draws[ts->n_draws++];
        d->tile = t;
        d->tile_id = t->id;
        d->content_index = i;
        d->decoded = c->decoded;
        d->gpu = c->gpu;
        if (ts->has_placement)
            ct_dmat4_mul(d->transform, ts->placement, t->transform);
        else
            memcpy(d->transform, t->transform, sizeof d->transform);
        any = true;
    }
    if (any)
        ts->stats.tiles_selected++;
}

static void request_contents(ct_tileset *ts, const tileset_view *v, ct_tile *t, float priority)
{
    for (int i = 0; i < t->n_contents; i++)
        if (content_drawable(&t->contents[i]))
            want(ts, v, t, &t->contents[i], priority);
}

static float priority_of(const tileset_view *v, const ct_tile *t, double sse)
{
    /* larger SSE first; tiles near the screen centre before those at the edge */
    double s = isfinite(sse) ? sse : 1e7;
    double w = 1.0;
    if (v->direction.x != 0 || v->direction.y != 0 || v->direction.z != 0) {
        ct_dvec3 d = ct_dvec3_sub(t->sphere_center, v->position);
        double len = ct_dvec3_length(d);
        if (len > t->sphere_radius && len > 0) {
            double cosang = ct_dvec3_dot(d, v->direction) / len;
            w = 1.0 / (1.0 + 2.0 * (1.0 - cosang));
        }
    }
    return (float)(s * w);
}

static bool inside_request_volume(ct_tile *t, const tileset_view *v)
{
    if (!t->has_request_volume)
        return true;
    if (t->request_volume.type == CT_BV_SPHERE || t->request_volume.type == CT_BV_BOX ||
        t->request_volume.type == CT_BV_REGION)
        return ct_obb_distance(&t->request_box, v->position) <= 0.0;
    return true;
}

/* Visits a tile; returns true when its screen area is covered by what was
 * emitted (or nothing of it is visible), false when drawing stopped short. */
static bool visit(ct_tileset *ts, const tileset_view *v, ct_tile *t)
{
    tileset_tile_bounds(t);
    if (ct_obb_cull(&t->box, v->planes) < 0 || !inside_request_volume(t, v)) {
        ts->stats.tiles_culled++;
        return true;
    }
    t->visited_frame = ts->frame;
    ts->stats.tiles_visited++;
    double dist = ct_obb_distance(&t->box, v->position);
    double sse = dist > 1e-9 ? t->geometric_error * t->ge_scale * v->sse_factor / dist : INFINITY;
    t->sse = sse;
    float pri = priority_of(v, t, sse);
    t->priority = pri;

    /* what expands this tile: an external tileset (its JSON content) or a subtree */
    if (t->kind == CT_TILE_EXTERNAL) {
        for (int i = 0; i < t->n_contents; i++)
            if (!content_drawable(&t->contents[i]))
                want(ts, v, t, &t->contents[i], pri * 2 + 1);
    } else if (t->kind == CT_TILE_IMPLICIT) {
        if (!t->subtree) {
            if (!t->expansion.uri)
                t->expansion.uri = tileset_implicit_subtree_uri(t);
            if (t->expansion.uri)
                want(ts, v, t, &t->expansion, pri * 2 + 1);
        } else {
            if (t->own_subtree)
                t->expansion.last_used_frame = ts->frame;
            tileset_implicit_expand(&ts->ctx, t);
        }
    }
    bool expandable_pending = (t->kind == CT_TILE_EXTERNAL && !t->expanded) ||
                              (t->kind == CT_TILE_IMPLICIT && !t->subtree);
    bool has_children = t->n_children > 0 || expandable_pending;
    bool has, ready;
    tile_readiness(t, &has, &ready);
    /* an external tileset's tile is only a link: always go through it */
    bool too_coarse = v->by_error ? v->max_error < 0 || t->geometric_error * t->ge_scale > v->max_error
                                  : sse > v->max_sse;
    bool refine = has_children && (too_coarse || (t->kind == CT_TILE_EXTERNAL && !has));

    if (!refine) {
        request_contents(ts, v, t, pri);
        if (!has) /* nothing to draw here; an implicit subtree root may still learn its content */
            return !(t->kind == CT_TILE_IMPLICIT && !t->subtree);
        if (ready)
            emit(ts, t);
        return ready;
    }

    if (t->refine == CT_REFINE_ADD) {
        request_contents(ts, v, t, pri);
        if (has && ready)
            emit(ts, t);
        bool all = !expandable_pending;
        for (int i = 0; i < t->n_children; i++)
            all &= visit(ts, v, &t->children[i]);
        return has ? ready : all;
    }

    /* REPLACE */
    int mark = ts->n_draws;
    int selected_mark = ts->stats.tiles_selected;
    int failed_mark = ts->failed_waiting;
    bool all = !expandable_pending && t->n_children > 0;
    for (int i = 0; i < t->n_children; i++)
        all &= visit(ts, v, &t->children[i]);
    if (all)
        return true;
    /* Children cannot replace this tile yet: keep it (loading it first unless
     * skipping levels) so the view never shows a hole. Skipping levels, it is
     * still loaded where a descendant failed: it stands in for that one. */
    if (!v->skip_levels || ready || ts->failed_waiting > failed_mark)
        request_contents(ts, v, t, pri);
    if (has && ready) {
        ts->n_draws = mark;
        ts->stats.tiles_selected = selected_mark;
        emit(ts, t);
        return true;
    }
    return false;
}

void tileset_select(ct_tileset *ts, const tileset_view *v)
{
    visit(ts, v, ts->root);
}
