/* Line of sight between two 3D points: against a DEM (the segment sampled at
 * a fixed step, bilinear ground heights) and against triangle meshes (one
 * Embree ray, first hit). */
#include "citytwin/ct_visibility.h"
#include "visibility_internal.h"
#include "citytwin/ct_math.h"

#include <embree3/rtcore.h>
#include <ogr_srs_api.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

double ct_raster_sample_bilinear(const ct_raster *r, double x, double y)
{
    double col, row;
    ct_raster_world_to_cell(r, x, y, &col, &row);
    if (!(col >= 0 && row >= 0 && col <= r->width && row <= r->height))
        return NAN;
    /* Cell centres sit at +0.5; the half cell along the border uses the edge cells. */
    double u = col - 0.5, v = row - 0.5;
    if (u < 0)
        u = 0;
    if (v < 0)
        v = 0;
    if (u > r->width - 1)
        u = r->width - 1;
    if (v > r->height - 1)
        v = r->height - 1;
    int i0 = (int)floor(u), j0 = (int)floor(v);
    int i1 = i0 + 1 < r->width ? i0 + 1 : i0, j1 = j0 + 1 < r->height ? j0 + 1 : j0;
    double fu = u - i0, fv = v - j0;
    const float *d = r->data;
    double a = d[(size_t)j0 * r->width + i0], b = d[(size_t)j0 * r->width + i1];
    double c = d[(size_t)j1 * r->width + i0], e = d[(size_t)j1 * r->width + i1];
    return (a * (1 - fu) + b * fu) * (1 - fv) + (c * (1 - fu) + e * fu) * fv; /* NAN if any is a hole */
}

/* Metres per CRS unit along x and y at latitude lat, and the semi-major axis. */
static void metric_scale(const char *wkt, double lat, double *sx, double *sy, double *a)
{
    *sx = *sy = 1;
    *a = 6378137.0;
    if (!wkt || !*wkt)
        return;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (OSRSetFromUserInput(srs, wkt) == OGRERR_NONE) {
        OGRErr e = OGRERR_NONE;
        double sm = OSRGetSemiMajor(srs, &e);
        if (e == OGRERR_NONE && sm > 0)
            *a = sm;
        if (OSRIsGeographic(srs)) {
            *sy = *a * M_PI / 180.0;
            *sx = *sy * cos(lat * M_PI / 180.0);
        }
    }
    OSRDestroySpatialReference(srs);
}

/* ---- meshes (Embree) ---- */

struct ct_los_meshes {
    RTCDevice device;
    RTCScene scene;
    bool has_origin, committed;
    double origin[3]; /* subtracted before going to float, so city coordinates keep centimetres */
    size_t triangles;
    /* Where each Embree geometry came from (index: geometry id), so that a
     * hit can name its file or tile. Sources are shared, owned here. */
    char **sources;
    size_t n_sources;
    int cur_source; /* index into sources, -1 = none */
    bool cur_tileset;
    struct geom_src { int source; bool tileset; } *geoms;
    size_t n_geoms, cap_geoms;
};

ct_status ct_los_meshes_create(ct_los_meshes **out, ct_error *err)
{
    *out = NULL;
    ct_los_meshes *m = calloc(1, sizeof *m);
    if (!m)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    m->device = rtcNewDevice("threads=1");
    if (!m->device) {
        free(m);
        return ct_error_set(err, CT_ERR_RUNTIME, "Embree: cannot create a device");
    }
    m->scene = rtcNewScene(m->device);
    m->cur_source = -1;
    *out = m;
    return CT_OK;
}

ct_status ct_los_meshes_add(ct_los_meshes *m, const double *positions, size_t vertex_count,
                            const uint32_t *indices, size_t index_count, ct_error *err)
{
    if (m->committed)
        return ct_error_set(err, CT_ERR_USAGE, "line of sight: meshes added after commit");
    size_t ntri = indices ? index_count / 3 : vertex_count / 3;
    if (ntri == 0 || vertex_count == 0)
        return CT_OK;
    if (vertex_count > UINT32_MAX || ntri > UINT32_MAX)
        return ct_error_set(err, CT_ERR_INPUT, "line of sight: mesh too large (%zu vertices)", vertex_count);
    for (size_t i = 0; indices && i < ntri * 3; i++)
        if (indices[i] >= vertex_count)
            return ct_error_set(err, CT_ERR_INPUT, "line of sight: index %u at %zu out of range (%zu vertices)",
                                indices[i], i, vertex_count);
    if (!m->has_origin) {
        memcpy(m->origin, positions, sizeof m->origin);
        m->has_origin = true;
    }
    if (m->n_geoms == m->cap_geoms) {
        size_t cap = m->cap_geoms ? 2 * m->cap_geoms : 64;
        struct geom_src *n = realloc(m->geoms, cap * sizeof *n);
        if (!n)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        m->geoms = n;
        m->cap_geoms = cap;
    }
    RTCGeometry g = rtcNewGeometry(m->device, RTC_GEOMETRY_TYPE_TRIANGLE);
    float *vb = rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_VERTEX, 0, RTC_FORMAT_FLOAT3, 3 * sizeof(float), vertex_count);
    unsigned *ib = rtcSetNewGeometryBuffer(g, RTC_BUFFER_TYPE_INDEX, 0, RTC_FORMAT_UINT3, 3 * sizeof(unsigned), ntri);
    if (!vb || !ib) {
        rtcReleaseGeometry(g);
        return ct_error_set(err, CT_ERR_RUNTIME, "Embree: out of memory for %zu vertices", vertex_count);
    }
    for (size_t i = 0; i < vertex_count * 3; i++)
        vb[i] = (float)(positions[i] - m->origin[i % 3]);
    for (size_t i = 0; i < ntri * 3; i++)
        ib[i] = indices ? indices[i] : (unsigned)i;
    rtcCommitGeometry(g);
    unsigned id = rtcAttachGeometry(m->scene, g);
    rtcReleaseGeometry(g);
    if (id >= m->cap_geoms) /* Embree numbers geometries 0, 1, 2... as attached */
        return ct_error_set(err, CT_ERR_RUNTIME, "Embree: unexpected geometry id %u", id);
    if (id >= m->n_geoms)
        m->n_geoms = id + 1;
    m->geoms[id] = (struct geom_src){m->cur_source, m->cur_tileset};
    m->triangles += ntri;
    return CT_OK;
}

ct_status ct_los_meshes_set_source(ct_los_meshes *m, const char *source, bool tileset, ct_error *err)
{
    m->cur_tileset = tileset;
    m->cur_source = -1;
    if (!source)
        return CT_OK;
    if (m->n_sources && !strcmp(m->sources[m->n_sources - 1], source)) {
        m->cur_source = (int)m->n_sources - 1;
        return CT_OK;
    }
    char **n = realloc(m->sources, (m->n_sources + 1) * sizeof *n);
    if (!n)
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    m->sources = n;
    if (!(n[m->n_sources] = ct_strdup(source)))
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    m->cur_source = (int)m->n_sources++;
    return CT_OK;
}

/* One triangle primitive under the 4x4 transform w, then map. */
static ct_status add_primitive(ct_los_meshes *m, const ct_gltf_primitive *p, const double *w, ct_los_map_fn map,
                               void *user, ct_error *err)
{
    size_t nidx = p->index_count ? p->index_count : p->vertex_count;
    size_t ntri = p->mode == CT_GLTF_TRIANGLES ? nidx / 3 : (nidx >= 3 ? nidx - 2 : 0);
    double *pos = ct_malloc_array((size_t)p->vertex_count * 3, sizeof(double));
    uint32_t *tri = ct_malloc_array(ntri * 3 + 1, sizeof(uint32_t));
    if (!pos || !tri) {
        free(pos);
        free(tri);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory for %u vertices", (unsigned)p->vertex_count);
    }
    for (uint32_t v = 0; v < p->vertex_count; v++) {
        const float *q = p->positions + (size_t)v * 3;
        pos[(size_t)v * 3 + 0] = w[0] * q[0] + w[4] * q[1] + w[8] * q[2] + w[12];
        pos[(size_t)v * 3 + 1] = w[1] * q[0] + w[5] * q[1] + w[9] * q[2] + w[13];
        pos[(size_t)v * 3 + 2] = w[2] * q[0] + w[6] * q[1] + w[10] * q[2] + w[14];
    }
    for (size_t t = 0; t < ntri; t++) {
        size_t a, b, c;
        if (p->mode == CT_GLTF_TRIANGLES)
            a = 3 * t, b = 3 * t + 1, c = 3 * t + 2;
        else if (p->mode == CT_GLTF_TRIANGLE_STRIP)
            a = t, b = t + 1, c = t + 2;
        else
            a = 0, b = t + 1, c = t + 2;
        tri[3 * t] = p->index_count ? p->indices[a] : (uint32_t)a;
        tri[3 * t + 1] = p->index_count ? p->indices[b] : (uint32_t)b;
        tri[3 * t + 2] = p->index_count ? p->indices[c] : (uint32_t)c;
    }
    ct_status st = map ? map(user, pos, p->vertex_count, err) : CT_OK;
    if (st == CT_OK)
        st = ct_los_meshes_add(m, pos, p->vertex_count, tri, ntri * 3, err);
    free(pos);
    free(tri);
    return st;
}

ct_status ct_los_meshes_add_gltf_mapped(ct_los_meshes *m, const ct_gltf *g, const double pre[16], ct_los_map_fn map,
                                        void *user, ct_error *err)
{
    for (uint32_t di = 0; di < g->draw_count; di++) {
        const ct_gltf_draw *dr = &g->draws[di];
        if (dr->mesh < 0 || (uint32_t)dr->mesh >= g->mesh_count)
            continue;
        const ct_gltf_mesh *mesh = &g->meshes[dr->mesh];
        const ct_gltf_node *nd = dr->node >= 0 && (uint32_t)dr->node < g->node_count ? &g->nodes[dr->node] : NULL;
        /* EXT_mesh_gpu_instancing: one copy per instance, world * instance */
        uint32_t copies = nd && nd->instance_count && nd->instance_matrices ? nd->instance_count : 1;
        for (uint32_t k = 0; k < copies; k++) {
            double w[16], pw[16];
            if (copies > 1 || (nd && nd->instance_count)) {
                double inst[16];
                for (int e = 0; e < 16; e++)
                    inst[e] = nd->instance_matrices[(size_t)k * 16 + e];
                ct_dmat4_mul(w, dr->world, inst);
            } else {
                memcpy(w, dr->world, sizeof w);
            }
            ct_dmat4_mul(pw, pre, w);
            for (uint32_t pi = 0; pi < mesh->primitive_count; pi++) {
                const ct_gltf_primitive *p = &mesh->primitives[pi];
                if (p->vertex_count == 0 || !p->positions ||
                    (p->mode != CT_GLTF_TRIANGLES && p->mode != CT_GLTF_TRIANGLE_STRIP &&
                     p->mode != CT_GLTF_TRIANGLE_FAN))
                    continue;
                ct_status st = add_primitive(m, p, pw, map, user, err);
                if (st != CT_OK)
                    return st;
            }
        }
    }
    return CT_OK;
}

ct_status ct_los_meshes_add_gltf(ct_los_meshes *m, const ct_gltf *g, bool y_up, const double offset[3], ct_error *err)
{
    /* (x, y, z) -> (x, -z, y) when y_up, then + offset */
    double pre[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    if (y_up) {
        pre[5] = 0, pre[6] = 1;
        pre[9] = -1, pre[10] = 0;
    }
    for (int k = 0; k < 3; k++)
        pre[12 + k] = offset ? offset[k] : 0;
    return ct_los_meshes_add_gltf_mapped(m, g, pre, NULL, NULL, err);
}

ct_status ct_los_meshes_commit(ct_los_meshes *m, ct_error *err)
{
    rtcCommitScene(m->scene);
    if (rtcGetDeviceError(m->device) != RTC_ERROR_NONE)
        return ct_error_set(err, CT_ERR_RUNTIME, "Embree: scene build failed");
    m->committed = true;
    return CT_OK;
}

size_t ct_los_meshes_triangle_count(const ct_los_meshes *m) { return m ? m->triangles : 0; }

void ct_los_meshes_destroy(ct_los_meshes *m)
{
    if (!m)
        return;
    rtcReleaseScene(m->scene);
    rtcReleaseDevice(m->device);
    for (size_t i = 0; i < m->n_sources; i++)
        free(m->sources[i]);
    free(m->sources);
    free(m->geoms);
    free(m);
}

/* First hit along from->to as a fraction of the segment, or -1; *geom: its geometry. */
static double mesh_first_hit(const ct_los_meshes *m, const double from[3], const double to[3], unsigned *geom)
{
    if (!m || !m->committed || m->triangles == 0)
        return -1;
    struct RTCRayHit rh;
    memset(&rh, 0, sizeof rh);
    rh.ray.org_x = (float)(from[0] - m->origin[0]);
    rh.ray.org_y = (float)(from[1] - m->origin[1]);
    rh.ray.org_z = (float)(from[2] - m->origin[2]);
    double d[3] = {to[0] - from[0], to[1] - from[1], to[2] - from[2]};
    double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (len <= 0)
        return -1;
    rh.ray.dir_x = (float)(d[0] / len);
    rh.ray.dir_y = (float)(d[1] / len);
    rh.ray.dir_z = (float)(d[2] / len);
    /* The end points themselves may touch a surface (an eye on a wall): ignore 1 mm at each end. */
    rh.ray.tnear = (float)fmin(1e-3, len * 1e-6);
    rh.ray.tfar = (float)(len - fmin(1e-3, len * 1e-6));
    rh.ray.mask = 0xFFFFFFFFu;
    rh.hit.geomID = RTC_INVALID_GEOMETRY_ID;
    rh.hit.instID[0] = RTC_INVALID_GEOMETRY_ID;
    struct RTCIntersectContext ctx;
    rtcInitIntersectContext(&ctx);
    rtcIntersect1(m->scene, &ctx, &rh);
    if (rh.hit.geomID == RTC_INVALID_GEOMETRY_ID)
        return -1;
    *geom = rh.hit.geomID;
    return rh.ray.tfar / len;
}

ct_status ct_los_compute(const ct_raster *dem, const ct_los_meshes *meshes, const ct_los_desc *desc,
                         ct_los_result *out, ct_error *err)
{
    memset(out, 0, sizeof *out);
    if (!dem && !meshes)
        return ct_error_set(err, CT_ERR_USAGE, "line of sight: needs a DEM or meshes");
    for (int i = 0; i < 3; i++)
        if (!isfinite(desc->from[i]) || !isfinite(desc->to[i]))
            return ct_error_set(err, CT_ERR_USAGE, "line of sight: end points must be finite");
    const double *f = desc->from, *t = desc->to;
    double sx = 1, sy = 1, a = 6378137.0;
    if (dem || desc->crs)
        metric_scale(dem ? dem->crs_wkt : desc->crs, f[1], &sx, &sy, &a);
    double hx = (t[0] - f[0]) * sx, hy = (t[1] - f[1]) * sy, dz = t[2] - f[2];
    double hlen = sqrt(hx * hx + hy * hy);
    out->length = sqrt(hlen * hlen + dz * dz);
    out->visible = true;
    out->obstruction_t = -1;
    out->min_clearance = INFINITY;

    double t_dem = -1;
    if (dem) {
        double cw = fabs(dem->geotransform[1]) * sx, ch = fabs(dem->geotransform[5]) * sy;
        double step = desc->step > 0 ? desc->step : 0.5 * fmin(cw, ch);
        if (!(step > 0))
            step = 1;
        double nd = ceil(hlen / step);
        if (nd > 1e7)
            return ct_error_set(err, CT_ERR_USAGE, "line of sight: %.0f samples is too many (step %.3g m)", nd, step);
        size_t n = (size_t)nd + 1;
        if (n < 2)
            n = 2;
        out->samples = ct_calloc_array(n, sizeof *out->samples);
        if (!out->samples)
            return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        out->sample_count = n;
        double diam = 2.0 * a;
        double drop_end = desc->curvature * hlen * hlen / diam;
        double prev_t = 0, prev_c = NAN;
        size_t progress_step = n / 50 + 1;
        for (size_t i = 0; i < n; i++) {
            if (desc->progress && i % progress_step == progress_step - 1)
                desc->progress(desc->progress_user, (meshes ? 0.9 : 1.0) * (double)i / (double)n);
            ct_los_sample *s = &out->samples[i];
            s->t = (double)i / (double)(n - 1);
            s->distance = s->t * hlen;
            s->x = f[0] + (t[0] - f[0]) * s->t;
            s->y = f[1] + (t[1] - f[1]) * s->t;
            /* Curvature: heights lowered by k d^2 / (2a) from the start, the end point included. */
            s->line_z = f[2] + (t[2] - drop_end - f[2]) * s->t;
            double g = ct_raster_sample_bilinear(dem, s->x, s->y);
            s->ground_z = isnan(g) ? NAN : g - desc->curvature * s->distance * s->distance / diam;
            s->clearance = s->line_z - s->ground_z;
            if (isnan(g)) {
                out->hole_samples++;
                prev_c = NAN;
                continue;
            }
            if (s->clearance < out->min_clearance)
                out->min_clearance = s->clearance;
            /* End points may sit on the ground: they never block. */
            if (t_dem < 0 && i > 0 && i + 1 < n && s->clearance < 0) {
                /* Where the clearance crosses zero between this sample and the previous one. */
                t_dem = s->t;
                if (prev_c >= 0)
                    t_dem = prev_t + (s->t - prev_t) * prev_c / (prev_c - s->clearance);
            }
            prev_t = s->t;
            prev_c = s->clearance;
        }
    }
    unsigned geom = 0;
    double t_mesh = mesh_first_hit(meshes, f, t, &geom);
    double tb = t_dem;
    if (t_mesh >= 0 && (tb < 0 || t_mesh < tb)) {
        tb = t_mesh;
        out->blocked_by_mesh = true;
        if (geom < meshes->n_geoms) {
            const struct geom_src *gs = &meshes->geoms[geom];
            out->blocked_by_tileset = gs->tileset;
            if (gs->source >= 0)
                out->obstruction_source = ct_strdup(meshes->sources[gs->source]);
        }
    }
    if (tb >= 0) {
        out->visible = false;
        out->obstruction_t = tb;
        for (int i = 0; i < 3; i++)
            out->obstruction[i] = f[i] + (t[i] - f[i]) * tb;
    }
    if (!isfinite(out->min_clearance))
        out->min_clearance = NAN;
    if (desc->progress)
        desc->progress(desc->progress_user, 1);
    return CT_OK;
}

void ct_los_result_free(ct_los_result *r)
{
    if (!r)
        return;
    free(r->samples);
    r->samples = NULL;
    free(r->obstruction_source);
    r->obstruction_source = NULL;
    r->sample_count = 0;
}
