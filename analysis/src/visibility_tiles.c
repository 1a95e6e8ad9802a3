/* Line of sight against 3D Tiles: the tileset's streaming selection is driven
 * with a "view" that is a thin box around the sight segment (its six planes
 * cull every tile whose bounding volume misses the segment) and refinement by
 * geometric error instead of screen-space error; the FINAL load mode loads
 * only the tiles that end up used (REPLACE children replace their parent only
 * when all of them load; a failed child brings its parent back). The chosen
 * contents are decoded on the tileset's workers and their triangles go to the
 * Embree scene: tile frame -> ECEF (double) -> lon/lat/h (PROJ) -> the
 * analysis CRS, ellipsoidal heights + height_offset. */
#include "citytwin/ct_geo.h"
#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"
#include "citytwin/ct_visibility.h"
#include "visibility_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct tiles_ctx {
    ct_tileset *ts;           /* set after create, before the first update dispatches work */
    char up_axis;
} tiles_ctx;

typedef struct fetch_ctx {
    const ct_tileset *ts;
    const char *base;
} fetch_ctx;

static ct_status fetch_resource(void *user, const char *uri, uint8_t **data, size_t *size, ct_error *err)
{
    fetch_ctx *f = user;
    return ct_tileset_fetch_resource(f->ts, f->base, uri, data, size, err);
}

/* Worker thread: bytes -> ct_tile_content (no images). */
static ct_status decode_content(void *user, const char *uri, ct_content_type type, const uint8_t *data, size_t size,
                                const double tile_transform[16], void **decoded, size_t *cpu_bytes, ct_error *err)
{
    (void)type;
    tiles_ctx *c = user;
    fetch_ctx f = {c->ts, uri};
    ct_tile_content_options o = {.uri = uri,
                                 .skip_images = true,
                                 .tile_transform = tile_transform,
                                 .fetch = fetch_resource,
                                 .fetch_user = &f,
                                 .gltf_up_axis = c->up_axis};
    ct_tile_content *tc = NULL;
    ct_status st = ct_tile_content_load_memory(data, size, &o, &tc, err);
    if (st != CT_OK)
        return st;
    *decoded = tc;
    /* a rough size for the byte budget: positions and indices dominate */
    *cpu_bytes = size + (size_t)tc->vertex_count * 12 + (size_t)tc->triangle_count * 12;
    return CT_OK;
}

static void free_content(void *user, void *decoded)
{
    (void)user;
    ct_tile_content_destroy(decoded);
}

/* Tile frame positions -> the analysis CRS. */
typedef struct map_ctx {
    bool georef;
    ct_crs_transform *tr;     /* EPSG:4326 -> crs; NULL: stay in lon/lat */
    double height_offset;
    double offset[3];
} map_ctx;

static ct_status map_positions(void *user, double *p, size_t n, ct_error *err)
{
    map_ctx *mc = user;
    if (!mc->georef) {
        for (size_t i = 0; i < n * 3; i++)
            p[i] += mc->offset[i % 3];
        return CT_OK;
    }
    double *x = ct_malloc_array(n + 1, sizeof(double)), *y = ct_malloc_array(n + 1, sizeof(double));
    ct_status st = CT_OK;
    if (!x || !y) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "out of memory for %zu vertices", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        ct_dvec3 ll = ct_geo_lonlat_from_ecef(ct_dvec3_make(p[3 * i], p[3 * i + 1], p[3 * i + 2]));
        x[i] = ll.x;
        y[i] = ll.y;
        p[3 * i + 2] = ll.z + mc->height_offset;
    }
    if (mc->tr && (st = ct_crs_transform_points(mc->tr, n, x, y, NULL, err)) != CT_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        p[3 * i] = x[i];
        p[3 * i + 1] = y[i];
    }
done:
    free(x);
    free(y);
    return st;
}

/* The tileset frame is ECEF when the root is a region or its box/sphere lies
 * near the earth's surface rather than near the centre. */
static bool tileset_is_georeferenced(const ct_tile *root)
{
    if (root->bv.type == CT_BV_REGION)
        return true;
    ct_obb box;
    ct_bounding_volume_to_obb(&root->bv, root->transform, &box);
    return ct_dvec3_length(box.center) > 5.0e6;
}

/* Planes of a box around the points (tileset frame), its long axis along the
 * first -> last point, margin added on every side. */
static void segment_planes(const ct_dvec3 *pts, int n, double margin, double planes[6][4])
{
    ct_dvec3 u = ct_dvec3_sub(pts[n - 1], pts[0]);
    if (!(ct_dvec3_length(u) > 0))
        u = (ct_dvec3){1, 0, 0};
    u = ct_dvec3_normalize(u);
    /* any perpendicular: cross with the axis least aligned with u */
    ct_dvec3 e = fabs(u.x) < 0.6 ? (ct_dvec3){1, 0, 0} : fabs(u.y) < 0.6 ? (ct_dvec3){0, 1, 0} : (ct_dvec3){0, 0, 1};
    ct_dvec3 v = ct_dvec3_normalize(ct_dvec3_cross(u, e));
    ct_dvec3 w = ct_dvec3_cross(u, v);
    ct_dvec3 axes[3] = {u, v, w};
    for (int a = 0; a < 3; a++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int i = 0; i < n; i++) {
            double d = ct_dvec3_dot(pts[i], axes[a]);
            lo = fmin(lo, d);
            hi = fmax(hi, d);
        }
        /* inside when a.x - (lo - margin) >= 0 and -a.x + (hi + margin) >= 0 */
        double *p = planes[2 * a], *q = planes[2 * a + 1];
        p[0] = axes[a].x, p[1] = axes[a].y, p[2] = axes[a].z, p[3] = -(lo - margin);
        q[0] = -axes[a].x, q[1] = -axes[a].y, q[2] = -axes[a].z, q[3] = hi + margin;
    }
}

#define SEG_POINTS 33

/* The segment in the tileset frame, sampled (a straight line in the CRS is
 * a curve in ECEF). */
static ct_status segment_in_frame(const ct_los_tileset_desc *d, bool georef, ct_crs_transform *inv, ct_dvec3 *pts,
                                  ct_error *err)
{
    double x[SEG_POINTS], y[SEG_POINTS], z[SEG_POINTS];
    for (int i = 0; i < SEG_POINTS; i++) {
        double t = (double)i / (SEG_POINTS - 1);
        x[i] = d->from[0] + (d->to[0] - d->from[0]) * t;
        y[i] = d->from[1] + (d->to[1] - d->from[1]) * t;
        z[i] = d->from[2] + (d->to[2] - d->from[2]) * t;
    }
    if (!georef) {
        for (int i = 0; i < SEG_POINTS; i++)
            pts[i] = ct_dvec3_make(x[i] - d->offset[0], y[i] - d->offset[1], z[i] - d->offset[2]);
        return CT_OK;
    }
    if (inv && ct_crs_transform_points(inv, SEG_POINTS, x, y, NULL, err) != CT_OK)
        return ct_error_prefix(err, "tileset %s: the sight segment in lon/lat", d->uri);
    for (int i = 0; i < SEG_POINTS; i++)
        pts[i] = ct_geo_ecef_from_lonlat(x[i], y[i], z[i] - d->height_offset);
    return CT_OK;
}

/* Adds one decoded content: every model, every i3dm instance. */
static ct_status add_content(ct_los_meshes *m, const ct_tile_content *c, const double transform[16], map_ctx *mc,
                             ct_los_tileset_stats *stats, ct_error *err)
{
    for (uint32_t k = 0; k < c->model_count; k++) {
        const ct_tile_model *md = &c->models[k];
        if (!md->gltf)
            continue; /* points do not block */
        uint32_t copies = md->instance_count && md->instance_matrices ? md->instance_count : 1;
        for (uint32_t n = 0; n < copies; n++) {
            double a[16], pre[16];
            if (md->instance_count && md->instance_matrices) {
                ct_dmat4_mul(a, &md->instance_matrices[16 * (size_t)n], md->model_matrix);
                ct_dmat4_mul(pre, transform, a);
            } else {
                ct_dmat4_mul(pre, transform, md->model_matrix);
            }
            ct_status st = ct_los_meshes_add_gltf_mapped(m, md->gltf, pre, map_positions, mc, err);
            if (st != CT_OK)
                return st;
        }
    }
    stats->triangles += c->triangle_count;
    return CT_OK;
}

ct_status ct_los_meshes_add_tileset(ct_los_meshes *m, const ct_los_tileset_desc *d, ct_los_tileset_stats *stats,
                                    ct_error *err)
{
    tiles_ctx tc = {0};
    ct_tileset_desc td = {.uri = d->uri,
                          .workers = d->workers,
                          .memory_budget = (size_t)4 << 30,
                          .retry_base_s = 1e6, /* a failed tile stays failed: its parent stands in */
                          .callbacks = {.user = &tc, .decode = decode_content, .free_decoded = free_content}};
    ct_tileset *ts = NULL;
    if (ct_tileset_create(&td, &ts, err) != CT_OK)
        return ct_error_prefix(err, "--tileset");
    tc.ts = ts;
    tc.up_axis = ct_tileset_gltf_up_axis(ts);
    const ct_tile *root = ct_tileset_root(ts);
    map_ctx mc = {.georef = root && tileset_is_georeferenced(root), .height_offset = d->height_offset};
    memcpy(mc.offset, d->offset, sizeof mc.offset);
    stats->georeferenced = mc.georef;
    ct_crs_transform *inv = NULL;
    ct_status st = CT_OK;
    const char *crs = d->crs && *d->crs ? d->crs : NULL;
    if (mc.georef && crs) {
        if ((st = ct_crs_transform_create("EPSG:4326", crs, &mc.tr, err)) != CT_OK ||
            (st = ct_crs_transform_create(crs, "EPSG:4326", &inv, err)) != CT_OK)
            goto done;
    }
    ct_dvec3 pts[SEG_POINTS];
    if ((st = segment_in_frame(d, mc.georef, inv, pts, err)) != CT_OK)
        goto done;

    ct_tileset_view view = {.viewport_height = 1, .fovy = 1};
    view.position = ct_dvec3_scale(ct_dvec3_add(pts[0], pts[SEG_POINTS - 1]), 0.5);
    segment_planes(pts, SEG_POINTS, d->margin > 0 ? d->margin : 1.0, view.planes);
    ct_tileset_set_load_mode(ts, CT_TILESET_LOAD_FINAL);
    ct_tileset_set_max_geometric_error(ts, d->max_error > 0 ? d->max_error : -1);

    double timeout = d->timeout_s > 0 ? d->timeout_s : 600, t0 = ct_time_now();
    ct_tileset_frame fr;
    size_t failed = 0;
    for (;;) {
        if ((st = ct_tileset_update(ts, &view, &fr, err)) != CT_OK)
            goto done;
        failed += (size_t)fr.n_failed;
        if (fr.stats.all_loaded)
            break;
        if (ct_time_now() - t0 > timeout) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "tileset %s: still loading after %.0f s (%d requests in flight)",
                              d->uri, timeout, fr.stats.requests_in_flight);
            goto done;
        }
        ct_tileset_wait(ts, 0.5);
    }
    stats->tiles_failed += failed;
    stats->tiles_loaded += (size_t)fr.stats.loads_total;
    for (int i = 0; i < fr.n_draws; i++) {
        const ct_tileset_draw *dr = &fr.draws[i];
        const ct_tile_content *c = dr->decoded;
        if (!c)
            continue;
        const char *src = dr->tile->contents[dr->content_index].uri;
        if ((st = ct_los_meshes_set_source(m, src, true, err)) != CT_OK)
            goto done;
        if ((st = add_content(m, c, dr->transform, &mc, stats, err)) != CT_OK) {
            ct_error_prefix(err, "%s", src);
            goto done;
        }
        stats->tiles_used++;
    }
    st = ct_los_meshes_set_source(m, NULL, false, err);
done:
    ct_crs_transform_destroy(mc.tr);
    ct_crs_transform_destroy(inv);
    ct_tileset_destroy(ts);
    return st;
}
