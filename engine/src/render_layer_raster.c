/* Terrain and raster scene layers: a GDAL raster read (decimated to the
 * layer's triangle budget), placed in the scene's local frame through PROJ,
 * meshed on the CPU into an in-memory ct_gltf and drawn by the glTF layer.
 *
 * terrain: one vertex per cell centre (a DEM value is a sample at the cell
 * centre), two triangles per 2x2 block of centres on a fixed diagonal,
 * triangles touching a hole left out, vertex colours from the ramp.
 * raster: cells are areas: vertices at cell corners (optionally k x k quads
 * per cell to follow a finer terrain), one texel per cell (nearest filter), so
 * each cell shows exactly its ramp colour; heights from the terrain (sampled on
 * the same triangles the terrain layer draws), ground + value, or a constant. */
#include "citytwin/ct_geo.h"
#include "citytwin/ct_raster_layer.h"

#include <gdal.h>
#include <cpl_conv.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SIDE = 1 << 28, MAX_TEXTURE_SIDE = 8192 };
#define MAX_CELLS ((uint64_t)1 << 36) /* ~69 G cells: beyond that a header is not a real raster */

/* ---- reading a band, decimated ---- */

typedef struct grid {
    int src_w, src_h;   /* cells in the file */
    int w, h, stride;   /* cells read (every stride-th) */
    double gt[6];       /* geotransform of the cells read */
    char *wkt;          /* "" when the file has no CRS */
    float *v;           /* w*h, NAN = hole */
    double vmin, vmax;  /* of the valid cells */
    uint64_t valid;
} grid;

static void grid_free(grid *g)
{
    free(g->wkt);
    free(g->v);
    memset(g, 0, sizeof *g);
}

static pthread_once_t g_gdal_once = PTHREAD_ONCE_INIT;
static void gdal_init(void) { GDALAllRegister(); }
static void quiet_handler(CPLErr cls, CPLErrorNum num, const char *msg) { (void)cls, (void)num, (void)msg; }

static ct_status grid_read(const char *path, double max_cells, grid *g, ct_error *err)
{
    memset(g, 0, sizeof *g);
    pthread_once(&g_gdal_once, gdal_init);
    CPLPushErrorHandler(quiet_handler);
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    CPLPopErrorHandler();
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a raster GDAL can read (%s)", path, CPLGetLastErrorMsg());
    ct_status st = CT_OK;
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    GDALRasterBandH b = GDALGetRasterCount(ds) >= 1 ? GDALGetRasterBand(ds, 1) : NULL;
    if (!b || w <= 0 || h <= 0) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: raster has no band or zero size", path);
        goto done;
    }
    if (w > MAX_SIDE || h > MAX_SIDE || (uint64_t)w * (uint64_t)h > MAX_CELLS) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: raster of %d x %d cells is too large to draw (at most 2^28 a side, 2^36 cells)",
                          path, w, h);
        goto done;
    }
    double gt[6];
    if (GDALGetGeoTransform(ds, gt) != CE_None) {
        double id[6] = {0, 1, 0, 0, 0, -1};
        memcpy(gt, id, sizeof gt);
    }
    bool finite = true;
    for (int i = 0; i < 6; i++)
        finite = finite && isfinite(gt[i]);
    if (!finite || gt[1] * gt[5] - gt[2] * gt[4] == 0) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: degenerate geotransform (cell size zero or not finite)", path);
        goto done;
    }
    /* every stride-th cell: under the budget, and each side within a texture */
    double s = ceil(sqrt((double)w * h / (max_cells > 1 ? max_cells : 1)));
    s = fmax(s, fmax(ceil(w / (double)MAX_TEXTURE_SIDE), ceil(h / (double)MAX_TEXTURE_SIDE)));
    g->stride = s < 1 ? 1 : (int)s;
    g->src_w = w, g->src_h = h;
    g->w = (w + g->stride - 1) / g->stride;
    g->h = (h + g->stride - 1) / g->stride;
    double fx = (double)w / g->w, fy = (double)h / g->h;
    double ngt[6] = {gt[0], gt[1] * fx, gt[2] * fy, gt[3], gt[4] * fx, gt[5] * fy};
    memcpy(g->gt, ngt, sizeof ngt);
    const char *wkt = GDALGetProjectionRef(ds);
    g->wkt = ct_strdup(wkt ? wkt : "");
    g->v = ct_malloc_array((size_t)g->w * g->h, sizeof(float));
    if (!g->wkt || !g->v) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory for %d x %d cells", path, g->w, g->h);
        goto done;
    }
    /* nearest-neighbour decimation by GDAL (it uses overviews when the file has them);
     * GDAL's own messages are folded into ours, not printed */
    CPLPushErrorHandler(quiet_handler);
    CPLErr read = GDALRasterIO(b, GF_Read, 0, 0, w, h, g->v, g->w, g->h, GDT_Float32, 0, 0);
    CPLPopErrorHandler();
    if (read != CE_None) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: cannot read band 1: %s", path, CPLGetLastErrorMsg());
        goto done;
    }
    int has_nd = 0, has_scale = 0, has_offset = 0;
    float nd = (float)GDALGetRasterNoDataValue(b, &has_nd);
    double scale = GDALGetRasterScale(b, &has_scale), offset = GDALGetRasterOffset(b, &has_offset);
    if (!has_scale || !isfinite(scale) || scale == 0)
        scale = 1;
    if (!has_offset || !isfinite(offset))
        offset = 0;
    g->vmin = INFINITY, g->vmax = -INFINITY;
    for (size_t i = 0; i < (size_t)g->w * g->h; i++) {
        float v = g->v[i];
        if ((has_nd && (v == nd || (isnan(nd) && isnan(v)))) || !isfinite(v)) {
            g->v[i] = NAN;
            continue;
        }
        double d = v * scale + offset;
        g->v[i] = (float)d;
        g->vmin = fmin(g->vmin, d), g->vmax = fmax(g->vmax, d);
        g->valid++;
    }
done:
    GDALClose(ds);
    if (st != CT_OK)
        grid_free(g);
    return st;
}

/* Heights beyond +-100 km are not terrain but an untagged nodata (e.g. -3.4e38,
 * FLT_MAX): holes, not spikes. */
static void grid_heights_only(grid *g)
{
    g->vmin = INFINITY, g->vmax = -INFINITY;
    g->valid = 0;
    for (size_t i = 0; i < (size_t)g->w * g->h; i++) {
        if (!(fabsf(g->v[i]) <= 1e5f)) {
            g->v[i] = NAN;
            continue;
        }
        g->vmin = fmin(g->vmin, g->v[i]), g->vmax = fmax(g->vmax, g->v[i]);
        g->valid++;
    }
}

static void grid_xy(const grid *g, double col, double row, double *x, double *y)
{
    *x = g->gt[0] + col * g->gt[1] + row * g->gt[2];
    *y = g->gt[3] + col * g->gt[4] + row * g->gt[5];
}

static void grid_cell(const grid *g, double x, double y, double *col, double *row)
{
    const double *t = g->gt;
    double det = t[1] * t[5] - t[2] * t[4], dx = x - t[0], dy = y - t[3];
    *col = (t[5] * dx - t[2] * dy) / det;
    *row = (-t[4] * dx + t[1] * dy) / det;
}

/* ---- into the scene's local frame ---- */

typedef enum { PLACE_AS_IS, PLACE_SCENE_CRS, PLACE_GEO } place_mode;

typedef struct placer {
    place_mode mode;
    ct_crs_transform *fwd; /* grid CRS -> lon/lat (GEO) or the scene's CRS */
    ct_crs_transform *inv; /* the reverse (picks) */
    double ecef_to_enu[16], enu_to_ecef[16];
} placer;

static void placer_free(placer *p)
{
    ct_crs_transform_destroy(p->fwd);
    ct_crs_transform_destroy(p->inv);
    memset(p, 0, sizeof *p);
}

/* Scene with an origin: CRS -> lon/lat/h -> ECEF -> ENU (cell values are
 * ellipsoidal heights, as the demo model). Without one: the scene's CRS when
 * both name one, else the raster's coordinates as they are. */
static ct_status placer_init(placer *p, const ct_scene *s, const char *wkt, const char *path, ct_error *err)
{
    memset(p, 0, sizeof *p);
    const char *crs = wkt && *wkt ? wkt : s && s->crs && *s->crs ? s->crs : NULL;
    ct_status st = CT_OK;
    if (s && s->has_origin) {
        if (!crs)
            return ct_error_set(err, CT_ERR_INPUT, "%s: the raster has no CRS and the scene names none", path);
        p->mode = PLACE_GEO;
        st = ct_crs_transform_create(crs, "EPSG:4326", &p->fwd, err);
        if (!st)
            st = ct_crs_transform_create("EPSG:4326", crs, &p->inv, err);
        ct_scene_frame_to_ecef(s, p->enu_to_ecef);
        if (!st && !ct_dmat4_invert(p->ecef_to_enu, p->enu_to_ecef))
            st = ct_error_set(err, CT_ERR_INPUT, "%s: degenerate scene frame", path);
    } else if (s && s->crs && *s->crs && wkt && *wkt) {
        p->mode = PLACE_SCENE_CRS;
        st = ct_crs_transform_create(wkt, s->crs, &p->fwd, err);
        if (!st)
            st = ct_crs_transform_create(s->crs, wkt, &p->inv, err);
    }
    if (st) {
        placer_free(p);
        return ct_error_prefix(err, "%s: ", path);
    }
    return CT_OK;
}

/* n points in place: x, y in the grid's CRS, z height -> local frame. */
static ct_status placer_apply(placer *p, size_t n, double *x, double *y, double *z, ct_error *err)
{
    if (p->mode == PLACE_AS_IS || n == 0)
        return CT_OK;
    ct_status st = ct_crs_transform_points(p->fwd, n, x, y, NULL, err);
    if (st || p->mode != PLACE_GEO)
        return st;
    for (size_t i = 0; i < n; i++) {
        ct_dvec3 e = ct_dmat4_transform_point(p->ecef_to_enu, ct_geo_ecef_from_lonlat(x[i], y[i], z[i]));
        x[i] = e.x, y[i] = e.y, z[i] = e.z;
    }
    return CT_OK;
}

/* local frame -> grid CRS x, y */
static bool placer_inverse(placer *p, ct_dvec3 local, double *x, double *y)
{
    ct_error e = {0};
    *x = local.x, *y = local.y;
    if (p->mode == PLACE_AS_IS)
        return true;
    if (p->mode == PLACE_GEO) {
        ct_dvec3 ll = ct_geo_lonlat_from_ecef(ct_dmat4_transform_point(p->enu_to_ecef, local));
        *x = ll.x, *y = ll.y;
    }
    return ct_crs_transform_points(p->inv, 1, x, y, NULL, &e) == CT_OK;
}

/* ---- the ground under a raster: the terrain layer's DEM ---- */

typedef struct ground {
    bool present;
    grid g;                   /* read as the terrain layer reads it */
    ct_crs_transform *to_dem; /* raster CRS -> DEM CRS; NULL = same */
    double add;               /* the terrain layer's height_offset + offset z */
} ground;

static void ground_free(ground *gr)
{
    grid_free(&gr->g);
    ct_crs_transform_destroy(gr->to_dem);
    memset(gr, 0, sizeof *gr);
}

/* The terrain triangles of the centre quad (i, j): a=(i,j) b=(i+1,j) c=(i,j+1)
 * d=(i+1,j+1), split on the b-c diagonal. Shared by the terrain mesh and the
 * ground sampler so a drape lies on what is drawn. */
static double ground_at(const ground *gr, double x, double y)
{
    const grid *g = &gr->g;
    double col, row;
    grid_cell(g, x, y, &col, &row);
    double u = col - 0.5, v = row - 0.5; /* in cell-centre units */
    if (!(u >= -0.5 && v >= -0.5 && u <= g->w - 0.5 && v <= g->h - 0.5))
        return NAN;
    u = fmin(fmax(u, 0), g->w - 1);
    v = fmin(fmax(v, 0), g->h - 1);
    int i = (int)fmin(floor(u), g->w - 2), j = (int)fmin(floor(v), g->h - 2);
    double fu = u - i, fv = v - j;
    const float *a = &g->v[(size_t)j * g->w + i], *c = a + g->w;
    double za = a[0], zb = a[1], zc = c[0], zd = c[1];
    double z = fu + fv <= 1 ? za + fu * (zb - za) + fv * (zc - za) : zd + (1 - fu) * (zc - zd) + (1 - fv) * (zb - zd);
    return z + gr->add; /* NAN when a corner of the triangle is a hole */
}

/* ---- the ct_gltf holding one mesh ---- */

static const ct_gltf_texture_ref NO_TEXTURE = {.texture = -1, .scale = 1};

/* Takes the primitive's arrays and the image's pixels (NULL: no texture). The
 * node carries the mesh centre (doubles), positions are floats relative to it. */
static ct_gltf *gltf_one_mesh(const char *name, ct_gltf_primitive *prim, const ct_gltf_material *mat,
                              ct_gltf_image *image, const double center_zup[3])
{
    ct_gltf *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->meshes = calloc(1, sizeof *g->meshes);
    g->nodes = calloc(1, sizeof *g->nodes);
    g->materials = calloc(1, sizeof *g->materials);
    g->scenes = calloc(1, sizeof *g->scenes);
    g->draws = calloc(1, sizeof *g->draws);
    if (g->meshes) {
        g->mesh_count = 1;
        g->meshes[0].primitives = calloc(1, sizeof *prim);
        if (g->meshes[0].primitives) {
            g->meshes[0].primitives[0] = *prim;
            g->meshes[0].primitive_count = 1;
            memset(prim, 0, sizeof *prim);
        }
        g->meshes[0].name = ct_strdup(name);
    }
    if (g->nodes) {
        g->node_count = 1;
        ct_gltf_node *n = &g->nodes[0];
        n->name = ct_strdup(name);
        n->mesh = 0;
        n->parent = -1;
        ct_dmat4_identity(n->local);
        n->local[12] = center_zup[0], n->local[13] = center_zup[2], n->local[14] = -center_zup[1];
        memcpy(n->world, n->local, sizeof n->world);
    }
    if (g->materials) {
        g->material_count = 1;
        g->materials[0] = *mat;
        g->materials[0].name = ct_strdup(name);
    }
    if (g->scenes) {
        g->scene_count = 1;
        g->default_scene = 0;
        g->scenes[0].nodes = calloc(1, sizeof(int));
        g->scenes[0].node_count = g->scenes[0].nodes ? 1 : 0;
    }
    if (g->draws && g->nodes) {
        g->draw_count = 1;
        g->draws[0].node = 0;
        g->draws[0].mesh = 0;
        memcpy(g->draws[0].world, g->nodes[0].local, sizeof g->draws[0].world);
    }
    if (image) {
        g->images = calloc(1, sizeof *g->images);
        g->textures = calloc(1, sizeof *g->textures);
        g->samplers = calloc(1, sizeof *g->samplers);
        if (g->images) {
            g->image_count = 1;
            g->images[0] = *image;
            memset(image, 0, sizeof *image);
            g->images[0].mime_type = ct_strdup("image/png");
        }
        if (g->textures && g->samplers) {
            g->texture_count = 1;
            g->sampler_count = 1;
            g->textures[0] = (ct_gltf_texture){.sampler = 0, .image = 0};
            /* one texel per cell, sharp edges: nearest, clamped */
            g->samplers[0] = (ct_gltf_sampler){.mag_filter = 9728, .min_filter = 9728, .wrap_s = 33071,
                                               .wrap_t = 33071};
        }
    }
    bool ok = g->meshes && g->meshes[0].primitives && g->meshes[0].name && g->nodes && g->nodes[0].name &&
              g->materials && g->materials[0].name && g->scenes && g->scenes[0].nodes && g->draws &&
              (!image || (g->images && g->images[0].mime_type && g->textures && g->samplers));
    if (!ok) {
        ct_gltf_destroy(g);
        return NULL;
    }
    const ct_gltf_primitive *p = &g->meshes[0].primitives[0];
    double t[3] = {center_zup[0], center_zup[2], -center_zup[1]};
    for (int c = 0; c < 3; c++) {
        g->bounds_min[c] = p->bounds_min[c] + t[c];
        g->bounds_max[c] = p->bounds_max[c] + t[c];
    }
    g->triangle_count = p->index_count / 3;
    g->vertex_count = p->vertex_count;
    return g;
}

/* Fills positions (y-up floats relative to the centre), bounds and normals
 * (when wanted) from local z-up doubles; picks the centre. */
static bool primitive_fill(ct_gltf_primitive *p, const double *xyz, uint32_t nv, bool normals, double center[3])
{
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (uint32_t i = 0; i < nv; i++)
        for (int c = 0; c < 3; c++)
            lo[c] = fmin(lo[c], xyz[3 * i + c]), hi[c] = fmax(hi[c], xyz[3 * i + c]);
    for (int c = 0; c < 3; c++)
        center[c] = nv ? 0.5 * (lo[c] + hi[c]) : 0;
    p->mode = CT_GLTF_TRIANGLES;
    p->material = 0;
    p->vertex_count = nv;
    p->positions = ct_malloc_array((size_t)nv * 3, sizeof(float));
    if (normals)
        p->normals = ct_calloc_array((size_t)nv * 3, sizeof(float));
    if (!p->positions || (normals && !p->normals))
        return false;
    for (uint32_t i = 0; i < nv; i++) {
        const double *v = xyz + 3 * i;
        p->positions[3 * i] = (float)(v[0] - center[0]);
        p->positions[3 * i + 1] = (float)(v[2] - center[2]);
        p->positions[3 * i + 2] = (float)-(v[1] - center[1]);
    }
    for (int c = 0; c < 3; c++) {
        p->bounds_min[c] = INFINITY, p->bounds_max[c] = -INFINITY;
    }
    for (uint32_t i = 0; i < nv * 3; i++) {
        p->bounds_min[i % 3] = fminf(p->bounds_min[i % 3], p->positions[i]);
        p->bounds_max[i % 3] = fmaxf(p->bounds_max[i % 3], p->positions[i]);
    }
    if (!normals)
        return true;
    /* area-weighted face normals, in z-up doubles, stored y-up */
    double *acc = ct_calloc_array((size_t)nv * 3, sizeof(double));
    if (!acc)
        return false;
    for (uint32_t t = 0; t + 2 < p->index_count; t += 3) {
        const uint32_t *ix = p->indices + t;
        const double *a = xyz + 3 * ix[0], *b = xyz + 3 * ix[1], *c = xyz + 3 * ix[2];
        double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
        double n[3] = {e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]};
        for (int k = 0; k < 3; k++)
            for (int q = 0; q < 3; q++)
                acc[3 * ix[k] + q] += n[q];
    }
    for (uint32_t i = 0; i < nv; i++) {
        double *n = acc + 3 * i, l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(l > 0))
            n[0] = 0, n[1] = 0, n[2] = 1, l = 1;
        p->normals[3 * i] = (float)(n[0] / l);
        p->normals[3 * i + 1] = (float)(n[2] / l);
        p->normals[3 * i + 2] = (float)(-n[1] / l);
    }
    free(acc);
    return true;
}

static void primitive_free(ct_gltf_primitive *p)
{
    free(p->positions);
    free(p->normals);
    free(p->texcoords[0]);
    free(p->colors);
    free(p->indices);
    memset(p, 0, sizeof *p);
}

static ct_gltf_material material_make(bool unlit, bool blend, bool double_sided, bool textured)
{
    ct_gltf_material m;
    memset(&m, 0, sizeof m);
    m.base_color[0] = m.base_color[1] = m.base_color[2] = m.base_color[3] = 1;
    m.base_color_texture = NO_TEXTURE;
    if (textured)
        m.base_color_texture.texture = 0;
    m.metallic_roughness_texture = m.normal_texture = m.occlusion_texture = m.emissive_texture = NO_TEXTURE;
    m.metallic = 0;
    m.roughness = 1;
    m.alpha_mode = blend ? CT_GLTF_ALPHA_BLEND : CT_GLTF_ALPHA_OPAQUE;
    m.alpha_cutoff = 0.5f;
    m.double_sided = double_sided;
    m.unlit = unlit;
    return m;
}

static float srgb_to_linear(double c)
{
    return (float)(c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
}

/* ---- building ---- */

typedef struct built {
    ct_gltf *gltf;
    ct_raster_layer_info info;
    grid g;      /* the values drawn (picks) */
    placer p;
} built;

static void built_free(built *b)
{
    ct_gltf_destroy(b->gltf);
    grid_free(&b->g);
    placer_free(&b->p);
    memset(b, 0, sizeof *b);
}

/* The ends of a normalized ramp: the style's min/max, else the data range. */
static void ramp_range(const ct_raster_style *s, const grid *g, double *min, double *max)
{
    *min = s->has_min ? s->min : s->ramp.default_min_zero ? 0 : g->vmin;
    *max = s->has_max ? s->max : g->vmax;
}

static void cell_color(const ct_raster_style *s, double v, double min, double max, uint8_t out[4])
{
    if (s->has_color)
        memcpy(out, s->color, 4);
    else
        ct_color_ramp_apply(&s->ramp, v, min, max, out);
}

static ct_status build_terrain(const ct_scene *scene, const ct_scene_layer *layer, const ct_raster_style *s, built *b,
                               ct_error *err)
{
    const char *path = layer->source;
    ct_status st = grid_read(path, s->max_triangles / 2, &b->g, err);
    if (st)
        return st;
    grid *g = &b->g;
    grid_heights_only(g);
    if (g->w < 2 || g->h < 2)
        return ct_error_set(err, CT_ERR_INPUT, "%s: a terrain needs at least 2 x 2 cells, got %d x %d", path, g->w,
                            g->h);
    if ((st = placer_init(&b->p, scene, g->wkt, path, err)))
        return st;
    size_t ncell = (size_t)g->w * g->h;
    int64_t *map = ct_malloc_array(ncell, sizeof *map);
    size_t max_idx = (size_t)(g->w - 1) * (g->h - 1) * 6;
    uint32_t *idx = ct_malloc_array(max_idx ? max_idx : 1, sizeof *idx);
    ct_gltf_primitive prim = {0};
    double *xyz = NULL, *xs = NULL, *ys = NULL, *zs = NULL;
    if (!map || !idx) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    for (size_t i = 0; i < ncell; i++)
        map[i] = -1;
    /* counter-clockwise seen from above for a north-up grid (det < 0); mirrored grids swap */
    bool swap = g->gt[1] * g->gt[5] - g->gt[2] * g->gt[4] > 0;
    uint32_t ni = 0, nv = 0;
    for (int j = 0; j + 1 < g->h; j++)
        for (int i = 0; i + 1 < g->w; i++) {
            size_t a = (size_t)j * g->w + i, bb = a + 1, c = a + g->w, d = c + 1;
            size_t tris[2][3] = {{a, c, bb}, {bb, c, d}};
            for (int t = 0; t < 2; t++) {
                size_t *tr = tris[t];
                if (isnan(g->v[tr[0]]) || isnan(g->v[tr[1]]) || isnan(g->v[tr[2]]))
                    continue;
                if (swap) {
                    size_t tmp = tr[1];
                    tr[1] = tr[2], tr[2] = tmp;
                }
                for (int k = 0; k < 3; k++) {
                    if (map[tr[k]] < 0)
                        map[tr[k]] = nv++;
                    idx[ni++] = (uint32_t)map[tr[k]];
                }
            }
        }
    if (ni == 0) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: no two neighbouring cells with values (all nodata?)", path);
        goto done;
    }
    xs = ct_malloc_array(nv, sizeof *xs), ys = ct_malloc_array(nv, sizeof *ys), zs = ct_malloc_array(nv, sizeof *zs);
    xyz = ct_malloc_array((size_t)nv * 3, sizeof *xyz);
    prim.colors = ct_malloc_array((size_t)nv * 4, sizeof(float));
    if (!xs || !ys || !zs || !xyz || !prim.colors) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    double vmin, vmax;
    ramp_range(s, g, &vmin, &vmax);
    for (size_t i = 0; i < ncell; i++) {
        if (map[i] < 0)
            continue;
        int col = (int)(i % g->w), row = (int)(i / g->w);
        int64_t k = map[i];
        grid_xy(g, col + 0.5, row + 0.5, &xs[k], &ys[k]);
        zs[k] = g->v[i];
        uint8_t c[4];
        cell_color(s, g->v[i], vmin, vmax, c);
        for (int q = 0; q < 3; q++)
            prim.colors[4 * k + q] = srgb_to_linear(c[q] / 255.0);
        prim.colors[4 * k + 3] = 1;
    }
    if ((st = placer_apply(&b->p, nv, xs, ys, zs, err)))
        goto done;
    for (uint32_t k = 0; k < nv; k++)
        xyz[3 * k] = xs[k], xyz[3 * k + 1] = ys[k], xyz[3 * k + 2] = zs[k];
    prim.indices = idx, prim.index_count = ni;
    idx = NULL;
    double center[3];
    if (!primitive_fill(&prim, xyz, nv, true, center)) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    if (s->hillshade) {
        /* GDAL gdaldem's default sun: azimuth 315 (north-west), altitude 45 degrees; y-up normals */
        double l[3] = {-0.5, sqrt(0.5), -0.5};
        for (uint32_t k = 0; k < nv; k++) {
            const float *n = prim.normals + 3 * k;
            double f = fmax(0, n[0] * l[0] + n[1] * l[1] + n[2] * l[2]);
            f = 0.25 + 0.75 * f / sqrt(0.5); /* flat ground keeps its colour */
            for (int q = 0; q < 3; q++)
                prim.colors[4 * k + q] = (float)fmin(1, prim.colors[4 * k + q] * f);
        }
    }
    ct_gltf_material mat = material_make(!s->lit || s->hillshade, false, false, false);
    b->info.triangles = ni / 3;
    b->gltf = gltf_one_mesh(layer->name, &prim, &mat, NULL, center);
    if (!b->gltf)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
    for (size_t i = 0; i < ncell; i++)
        b->info.cells_drawn += map[i] >= 0;
    b->info.cells_skipped = ncell - b->info.cells_drawn;
done:
    primitive_free(&prim);
    free(map);
    free(idx);
    free(xyz);
    free(xs);
    free(ys);
    free(zs);
    return st;
}

static double style_cells(const cJSON *style)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(style, "max_triangles");
    return cJSON_IsNumber(m) && m->valuedouble >= 2 && m->valuedouble <= 1e9 ? m->valuedouble / 2 : 1e6;
}

static double cell_size_m(const grid *g)
{
    double s = sqrt(fabs(g->gt[1] * g->gt[5] - g->gt[2] * g->gt[4]));
    return g->wkt && *g->wkt && ct_crs_is_geographic(g->wkt) ? s * 111320.0 : s;
}

/* The terrain layer a raster lies on: style.drape_on, else the first terrain. */
static ct_status ground_open(const ct_scene *scene, const ct_raster_style *s, const grid *rg, const char *where,
                             ground *gr, ct_error *err)
{
    memset(gr, 0, sizeof *gr);
    const ct_scene_layer *t = NULL;
    if (s->drape_on) {
        t = scene ? ct_scene_find_layer(scene, s->drape_on) : NULL;
        if (!t || t->type != CT_LAYER_TERRAIN)
            return ct_error_set(err, CT_ERR_INPUT, "%s.drape_on: no terrain layer named '%s'", where, s->drape_on);
    }
    for (uint32_t i = 0; !t && scene && i < scene->layer_count; i++)
        if (scene->layers[i].type == CT_LAYER_TERRAIN)
            t = &scene->layers[i];
    if (!t)
        return CT_OK;
    ct_status st = grid_read(t->source, style_cells(t->style), &gr->g, err);
    if (!st)
        grid_heights_only(&gr->g); /* as the terrain layer draws it */
    if (!st && (gr->g.w < 2 || gr->g.h < 2))
        st = ct_error_set(err, CT_ERR_INPUT, "%s: a terrain needs at least 2 x 2 cells", t->source);
    if (st) {
        ground_free(gr);
        return ct_error_prefix(err, "terrain layer %s: ", t->name);
    }
    const char *dem_crs = *gr->g.wkt ? gr->g.wkt : scene->crs;
    if (*rg->wkt && dem_crs && *dem_crs && strcmp(rg->wkt, dem_crs) != 0 &&
        (st = ct_crs_transform_create(rg->wkt, dem_crs, &gr->to_dem, err))) {
        ground_free(gr);
        return st;
    }
    gr->add = t->height_offset + t->offset[2];
    gr->present = true;
    return CT_OK;
}

static ct_status build_raster(const ct_scene *scene, const ct_scene_layer *layer, const ct_raster_style *s,
                              const char *where, built *b, ct_error *err)
{
    const char *path = layer->source;
    ct_status st = grid_read(path, s->max_triangles / 2, &b->g, err);
    if (st)
        return st;
    grid *g = &b->g;
    if ((st = placer_init(&b->p, scene, g->wkt, path, err)))
        return st;
    ground gr = {0};
    if (s->height != CT_RASTER_HEIGHT_CONSTANT) {
        if ((st = ground_open(scene, s, g, where, &gr, err)))
            return st;
        if (!gr.present)
            ct_log(CT_LOG_WARN, "%s: no terrain layer to lie on; drawn at height 0", path);
    }
    /* quads per cell side: follow a terrain finer than the raster (within the budget) */
    int k = 1;
    if (gr.present && s->height == CT_RASTER_HEIGHT_GROUND) {
        double ratio = cell_size_m(g) / fmax(cell_size_m(&gr.g), 1e-9);
        k = (int)fmin(16, fmax(1, floor(ratio + 0.5)));
        while (k > 1 && (double)g->w * g->h * k * k > s->max_triangles / 2)
            k--;
    }
    size_t ncell = (size_t)g->w * g->h;
    int vw = g->w * k + 1, vh = g->h * k + 1;
    size_t nvert = (size_t)vw * vh;
    uint8_t *rgba = ct_calloc_array(ncell, 4);
    double *level = ct_malloc_array(ncell, sizeof *level);
    double *vz = ct_malloc_array(nvert, sizeof *vz);
    int64_t *map = ct_malloc_array(nvert, sizeof *map);
    double *cx = NULL, *cy = NULL, *xs = NULL, *ys = NULL, *zs = NULL, *xyz = NULL;
    uint32_t *idx = NULL;
    ct_gltf_primitive prim = {0};
    ct_gltf_image img = {0};
    if (!rgba || !level || !vz || !map) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    /* cells: colour, and whether drawn */
    double vmin, vmax;
    ramp_range(s, g, &vmin, &vmax);
    bool blended = false;
    for (size_t i = 0; i < ncell; i++) {
        level[i] = NAN;
        if (isnan(g->v[i]))
            continue;
        uint8_t *c = rgba + 4 * i;
        cell_color(s, g->v[i], vmin, vmax, c);
        c[3] = (uint8_t)lround(c[3] * s->opacity);
        if (c[3] == 0)
            continue;
        level[i] = 0; /* drawn; ground+value fills in the level below */
        blended = blended || c[3] < 255;
    }
    if (s->height == CT_RASTER_HEIGHT_GROUND_VALUE) {
        /* a cell's surface: ground at its centre + its value (a flood's water level) */
        cx = ct_malloc_array(ncell, sizeof *cx), cy = ct_malloc_array(ncell, sizeof *cy);
        if (!cx || !cy) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
            goto done;
        }
        for (size_t i = 0; i < ncell; i++)
            grid_xy(g, i % g->w + 0.5, (double)(i / g->w) + 0.5, &cx[i], &cy[i]);
        if (gr.to_dem && (st = ct_crs_transform_points(gr.to_dem, ncell, cx, cy, NULL, err)))
            goto done;
        for (size_t i = 0; i < ncell; i++)
            if (!isnan(level[i]))
                level[i] = (gr.present ? ground_at(&gr, cx[i], cy[i]) : 0) + g->v[i];
    }
    /* vertex heights */
    xs = ct_malloc_array(nvert, sizeof *xs), ys = ct_malloc_array(nvert, sizeof *ys);
    if (!xs || !ys) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    for (size_t v = 0; v < nvert; v++)
        grid_xy(g, (double)(v % vw) / k, (double)(v / vw) / k, &xs[v], &ys[v]);
    if (s->height == CT_RASTER_HEIGHT_GROUND && gr.present) {
        memcpy(vz, xs, nvert * sizeof *vz); /* vz holds the DEM-CRS x until the height replaces it */
        double *dy = ct_malloc_array(nvert, sizeof *dy);
        if (!dy) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
            goto done;
        }
        memcpy(dy, ys, nvert * sizeof *dy);
        if (gr.to_dem)
            st = ct_crs_transform_points(gr.to_dem, nvert, vz, dy, NULL, err);
        for (size_t v = 0; v < nvert && !st; v++)
            vz[v] = ground_at(&gr, vz[v], dy[v]) + s->drape_offset;
        free(dy);
        if (st)
            goto done;
    } else {
        for (size_t v = 0; v < nvert; v++) {
            int a = (int)(v % vw), bb = (int)(v / vw);
            if (s->height == CT_RASTER_HEIGHT_CONSTANT) {
                vz[v] = s->height_value;
            } else if (s->height == CT_RASTER_HEIGHT_GROUND) {
                vz[v] = s->drape_offset; /* no terrain */
            } else {
                /* mean level of the drawn cells this vertex belongs to */
                double sum = 0;
                int n = 0;
                for (int dj = -1; dj <= 0; dj++)
                    for (int di = -1; di <= 0; di++) {
                        int ca = a + di, cb = bb + dj; /* the quad to the upper left .. lower right */
                        if (ca < 0 || cb < 0 || ca >= g->w * k || cb >= g->h * k)
                            continue;
                        size_t cell = (size_t)(cb / k) * g->w + ca / k;
                        if (!isnan(level[cell]))
                            sum += level[cell], n++;
                    }
                vz[v] = n ? sum / n : NAN;
            }
        }
    }
    /* quads of drawn cells with all four heights */
    size_t max_idx = (size_t)g->w * k * g->h * k * 6;
    idx = ct_malloc_array(max_idx ? max_idx : 1, sizeof *idx);
    if (!idx) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    for (size_t v = 0; v < nvert; v++)
        map[v] = -1;
    bool swap = g->gt[1] * g->gt[5] - g->gt[2] * g->gt[4] > 0;
    uint32_t ni = 0, nv = 0;
    for (size_t cell = 0; cell < ncell; cell++) {
        if (isnan(level[cell]))
            continue;
        bool any = false;
        int ci = (int)(cell % g->w), cj = (int)(cell / g->w);
        for (int qj = cj * k; qj < (cj + 1) * k; qj++)
            for (int qi = ci * k; qi < (ci + 1) * k; qi++) {
                size_t a = (size_t)qj * vw + qi, bb = a + 1, c = a + vw, d = c + 1;
                if (isnan(vz[a]) || isnan(vz[bb]) || isnan(vz[c]) || isnan(vz[d]))
                    continue;
                size_t q[6] = {a, c, bb, bb, c, d};
                if (swap) {
                    q[1] = bb, q[2] = c, q[4] = d, q[5] = c;
                }
                for (int t = 0; t < 6; t++) {
                    if (map[q[t]] < 0)
                        map[q[t]] = nv++;
                    idx[ni++] = (uint32_t)map[q[t]];
                }
                any = true;
            }
        b->info.cells_drawn += any;
    }
    b->info.cells_skipped = ncell - b->info.cells_drawn;
    b->info.subdivisions = k;
    b->info.blended = blended;
    if (ni == 0) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: no cell to draw (all nodata, transparent or off the terrain)", path);
        goto done;
    }
    zs = ct_malloc_array(nv, sizeof *zs);
    xyz = ct_malloc_array((size_t)nv * 3, sizeof *xyz);
    prim.texcoords[0] = ct_malloc_array((size_t)nv * 2, sizeof(float));
    if (!zs || !xyz || !prim.texcoords[0]) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    /* compact the used vertices in place (map[v] <= v never holds in general: copy out) */
    double *px = ct_malloc_array(nv, sizeof *px), *py = ct_malloc_array(nv, sizeof *py);
    if (!px || !py) {
        free(px);
        free(py);
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    for (size_t v = 0; v < nvert; v++) {
        if (map[v] < 0)
            continue;
        int64_t m = map[v];
        px[m] = xs[v], py[m] = ys[v], zs[m] = vz[v];
        prim.texcoords[0][2 * m] = (float)((double)(v % vw) / (vw - 1));
        prim.texcoords[0][2 * m + 1] = (float)((double)(v / vw) / (vh - 1));
    }
    st = placer_apply(&b->p, nv, px, py, zs, err);
    for (uint32_t m = 0; m < nv && !st; m++)
        xyz[3 * m] = px[m], xyz[3 * m + 1] = py[m], xyz[3 * m + 2] = zs[m];
    free(px);
    free(py);
    if (st)
        goto done;
    prim.indices = idx, prim.index_count = ni;
    idx = NULL;
    double center[3];
    if (!primitive_fill(&prim, xyz, nv, s->lit, center)) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
        goto done;
    }
    img.width = g->w, img.height = g->h;
    img.pixels = rgba;
    rgba = NULL;
    ct_gltf_material mat = material_make(!s->lit, blended, true, true);
    b->info.triangles = ni / 3;
    b->gltf = gltf_one_mesh(layer->name, &prim, &mat, &img, center);
    if (!b->gltf)
        st = ct_error_set(err, CT_ERR_RUNTIME, "%s: out of memory", path);
done:
    primitive_free(&prim);
    free(img.pixels);
    free(img.mime_type);
    ground_free(&gr);
    free(rgba);
    free(level);
    free(vz);
    free(map);
    free(cx);
    free(cy);
    free(xs);
    free(ys);
    free(zs);
    free(xyz);
    free(idx);
    return st;
}

static ct_status build(const ct_scene *scene, const ct_scene_layer *layer, built *b, ct_error *err)
{
    memset(b, 0, sizeof *b);
    if (layer->type != CT_LAYER_TERRAIN && layer->type != CT_LAYER_RASTER)
        return ct_error_set(err, CT_ERR_USAGE, "%s: not a terrain or raster layer", layer->name);
    if (layer->source_is_url)
        return ct_error_set(err, CT_ERR_INPUT, "%s: %s layers read local files only", layer->source,
                            ct_layer_type_name(layer->type));
    char where[512];
    if (scene && layer >= scene->layers && layer < scene->layers + scene->layer_count)
        snprintf(where, sizeof where, "%s: layers[%d].style", *scene->path ? scene->path : "scene",
                 (int)(layer - scene->layers));
    else
        snprintf(where, sizeof where, "%s: style", layer->name ? layer->name : "layer");
    ct_raster_style s;
    ct_status st = ct_raster_style_parse(layer->style, layer->type, where, &s, err);
    if (!st)
        st = layer->type == CT_LAYER_TERRAIN ? build_terrain(scene, layer, &s, b, err)
                                             : build_raster(scene, layer, &s, where, b, err);
    b->info.width = b->g.src_w, b->info.height = b->g.src_h, b->info.stride = b->g.stride;
    if (b->info.subdivisions == 0)
        b->info.subdivisions = 1;
    b->info.value_min = b->g.valid ? b->g.vmin : NAN;
    b->info.value_max = b->g.valid ? b->g.vmax : NAN;
    if (st)
        built_free(b);
    else if (b->g.stride > 1)
        ct_log(CT_LOG_INFO, "%s: %d x %d cells drawn every %d cells (%llu triangles)", layer->source, b->g.src_w,
               b->g.src_h, b->g.stride, (unsigned long long)b->info.triangles);
    return st;
}

ct_status ct_raster_layer_build(const ct_scene *scene, const ct_scene_layer *layer, ct_gltf **out,
                                ct_raster_layer_info *info, ct_error *err)
{
    *out = NULL;
    built b;
    ct_status st = build(scene, layer, &b, err);
    if (st)
        return st;
    if (info)
        *info = b.info;
    *out = b.gltf;
    b.gltf = NULL;
    built_free(&b);
    return CT_OK;
}

/* ---- the render layer: the glTF layer drawing the mesh, plus the values ---- */

typedef struct raster_layer {
    ct_render_layer base;
    ct_render_layer *inner;
    grid g;
    placer p;
    double world_inv[16]; /* world -> the layer's local frame (z-up) */
    ct_raster_layer_info info;
} raster_layer;

static ct_status rl_update(ct_render_layer *l, ct_renderer *r, const ct_camera *cam, int w, int h, bool *complete,
                           ct_error *err)
{
    ct_render_layer *in = ((raster_layer *)l)->inner;
    return in->vt->update(in, r, cam, w, h, complete, err);
}

static void rl_draw(ct_render_layer *l, ct_renderer *r)
{
    ct_render_layer *in = ((raster_layer *)l)->inner;
    in->pick_id = l->pick_id; /* the owner numbers the outer layer */
    in->vt->draw(in, r);
}

static bool rl_bounds(ct_render_layer *l, ct_dvec3 *center, double *radius)
{
    ct_render_layer *in = ((raster_layer *)l)->inner;
    return in->vt->bounds(in, center, radius);
}

static void rl_stats(ct_render_layer *l, ct_render_layer_stats *out)
{
    ct_render_layer *in = ((raster_layer *)l)->inner;
    in->vt->stats(in, out);
}

static void rl_destroy(ct_render_layer *l)
{
    raster_layer *rl = (raster_layer *)l;
    ct_render_layer_destroy(rl->inner);
    grid_free(&rl->g);
    placer_free(&rl->p);
    free(l->name);
    free(rl);
}

static const ct_render_layer_vtable RASTER_VT = {rl_update, rl_draw, rl_bounds, rl_stats, rl_destroy};

ct_status ct_render_layer_raster_create(ct_renderer *r, const ct_scene *scene, const ct_scene_layer *layer,
                                        ct_render_layer **out, ct_error *err)
{
    *out = NULL;
    built b;
    ct_status st = build(scene, layer, &b, err);
    if (st)
        return st;
    raster_layer *rl = calloc(1, sizeof *rl);
    char *name = ct_strdup(layer->name ? layer->name : layer->source);
    if (!rl || !name) {
        free(rl);
        free(name);
        built_free(&b);
        return ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
    }
    double world[16];
    if (scene)
        ct_scene_layer_to_ecef(scene, layer, world);
    else
        ct_scene_layer_transform(layer, world);
    if (!ct_dmat4_invert(rl->world_inv, world))
        ct_dmat4_identity(rl->world_inv);
    st = ct_render_layer_gltf_create_from(r, b.gltf, name, world, &rl->inner, err);
    b.gltf = NULL; /* owned by the glTF layer now, even on failure */
    if (st) {
        free(rl);
        free(name);
        built_free(&b);
        return st;
    }
    rl->base.vt = &RASTER_VT;
    rl->base.name = name;
    rl->base.geographic = scene && scene->has_origin;
    rl->base.model_source = rl->inner->model_source;
    rl->g = b.g;
    rl->p = b.p;
    rl->info = b.info;
    memset(&b.g, 0, sizeof b.g);
    memset(&b.p, 0, sizeof b.p);
    built_free(&b);
    *out = &rl->base;
    return CT_OK;
}

bool ct_render_layer_raster_value(const ct_render_layer *l, ct_dvec3 world, double *value)
{
    if (!l || l->vt != &RASTER_VT)
        return false;
    raster_layer *rl = (raster_layer *)l;
    double x, y, col, row;
    if (!placer_inverse(&rl->p, ct_dmat4_transform_point(rl->world_inv, world), &x, &y))
        return false;
    grid_cell(&rl->g, x, y, &col, &row);
    if (!(col >= 0 && row >= 0 && col < rl->g.w && row < rl->g.h))
        return false;
    float v = rl->g.v[(size_t)row * rl->g.w + (size_t)col];
    if (isnan(v))
        return false;
    *value = v;
    return true;
}

const ct_raster_layer_info *ct_render_layer_raster_info(const ct_render_layer *l)
{
    return l && l->vt == &RASTER_VT ? &((const raster_layer *)l)->info : NULL;
}
