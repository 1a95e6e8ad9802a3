/* Photogrammetry-like tileset generator (see tilegen.h).
 *
 * The GLB is written here rather than with ct_gltf_write_glb: that writer
 * re-encodes every image as PNG, and photogrammetry tiles carry JPEG
 * textures, whose decoding cost is part of what the benchmark measures. */
#include "tilegen.h"

#include "citytwin/ct_geo.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stb/stb_image_write.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TILEGEN_VERSION 1
#define BLOCK_M 128.0   /* street grid pitch */
#define ROAD_M 14.0     /* street width */
#define LOTS 4          /* lots per block side */
#define INSET_M 3.0     /* building setback inside its lot */

tilegen_desc tilegen_defaults(const tilegen_desc *in)
{
    tilegen_desc d = *in;
    if (d.levels <= 0)
        d.levels = 8;
    if (d.grid <= 0)
        d.grid = 32;
    if (d.texture <= 0)
        d.texture = 128;
    if (d.jpeg_quality <= 0)
        d.jpeg_quality = 80;
    if (!(d.size_m > 0))
        d.size_m = 4096;
    if (d.seed == 0)
        d.seed = 1;
    if (d.lon == 0 && d.lat == 0) {
        d.lon = 113.08;
        d.lat = 22.58;
    }
    return d;
}

uint64_t tilegen_tile_count(int levels)
{
    uint64_t n = 0, k = 1;
    for (int l = 0; l < levels; l++, k *= 4)
        n += k;
    return n;
}

/* ---- the procedural surface (coordinates: metres from the SW corner) ---- */

static uint32_t hash3(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t h = a * 0x9E3779B1u ^ (b + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 0x165667B1u) * 0xC2B2AE3Du;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return h;
}

static double rnd(uint32_t seed, int32_t x, int32_t y) { return hash3(seed, (uint32_t)x, (uint32_t)y) / 4294967296.0; }

/* Bilinear value noise with smoothstep, in [0,1). */
static double vnoise(uint32_t seed, double x, double y, double cell)
{
    double fx = x / cell, fy = y / cell;
    double x0 = floor(fx), y0 = floor(fy);
    double tx = fx - x0, ty = fy - y0;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    int32_t ix = (int32_t)x0, iy = (int32_t)y0;
    double a = rnd(seed, ix, iy), b = rnd(seed, ix + 1, iy), c = rnd(seed, ix, iy + 1), e = rnd(seed, ix + 1, iy + 1);
    return (a + (b - a) * tx) + ((c + (e - c) * tx) - (a + (b - a) * tx)) * ty;
}

static double terrain(uint32_t seed, double x, double y)
{
    return 30 * vnoise(seed, x, y, 1024) + 8 * vnoise(seed + 1, x, y, 256) + 1.5 * vnoise(seed + 2, x, y, 48);
}

/* What is at a point: a street, open ground of a park or lot, or a roof. */
typedef enum { SURF_ROAD, SURF_PARK, SURF_GROUND, SURF_ROOF } surf_kind;

typedef struct surf {
    surf_kind kind;
    uint32_t lot_hash;   /* roofs and lots: identifies the building */
    double edge_m;       /* roofs: distance to the roof edge; roads: to the kerb */
} surf;

static surf classify(uint32_t seed, double x, double y, double *roof_height)
{
    surf s = {SURF_GROUND, 0, 0};
    double bx = floor(x / BLOCK_M), by = floor(y / BLOCK_M);
    double lx = x - bx * BLOCK_M, ly = y - by * BLOCK_M;
    if (lx < ROAD_M || ly < ROAD_M) {
        s.kind = SURF_ROAD;
        s.edge_m = fmin(lx < ROAD_M ? fmin(lx, ROAD_M - lx) : 99, ly < ROAD_M ? fmin(ly, ROAD_M - ly) : 99);
        return s;
    }
    uint32_t block = hash3(seed + 7, (uint32_t)(int32_t)bx, (uint32_t)(int32_t)by);
    if (block % 100 < 15) {
        s.kind = SURF_PARK;
        return s;
    }
    double lot_m = (BLOCK_M - ROAD_M) / LOTS;
    int ix = (int)((lx - ROAD_M) / lot_m), iy = (int)((ly - ROAD_M) / lot_m);
    if (ix >= LOTS)
        ix = LOTS - 1;
    if (iy >= LOTS)
        iy = LOTS - 1;
    uint32_t lot = hash3(block, (uint32_t)ix, (uint32_t)iy);
    s.lot_hash = lot;
    if (lot % 100 >= 75)
        return s; /* empty lot */
    double px = lx - ROAD_M - ix * lot_m, py = ly - ROAD_M - iy * lot_m;
    double e = fmin(fmin(px - INSET_M, lot_m - INSET_M - px), fmin(py - INSET_M, lot_m - INSET_M - py));
    if (e < 0)
        return s;
    s.kind = SURF_ROOF;
    s.edge_m = e;
    if (roof_height) {
        double r = (lot >> 8) / 16777216.0;
        double cx = bx * BLOCK_M + ROAD_M + (ix + 0.5) * lot_m, cy = by * BLOCK_M + ROAD_M + (iy + 0.5) * lot_m;
        *roof_height = terrain(seed, cx, cy) + 6 + 54 * r * r * r;
    }
    return s;
}

static double surface(uint32_t seed, double x, double y)
{
    double roof = 0, t = terrain(seed, x, y);
    surf s = classify(seed, x, y, &roof);
    return s.kind == SURF_ROOF && roof > t ? roof : t;
}

double tilegen_surface(const tilegen_desc *in, double east, double north)
{
    tilegen_desc d = tilegen_defaults(in);
    return surface(d.seed, east + d.size_m / 2, north + d.size_m / 2);
}

static void color_at(uint32_t seed, double x, double y, uint8_t rgb[3])
{
    surf s = classify(seed, x, y, NULL);
    int32_t qx = (int32_t)floor(x * 4), qy = (int32_t)floor(y * 4); /* 25 cm grain */
    double n = rnd(seed + 3, qx, qy) - 0.5;
    double c[3];
    switch (s.kind) {
    case SURF_ROAD: {
        double g = s.edge_m < 2 ? 150 : 78;
        c[0] = c[1] = c[2] = g + 14 * n;
        c[2] += 4;
        break;
    }
    case SURF_PARK: {
        double t = vnoise(seed + 4, x, y, 6); /* tree crowns */
        c[0] = 50 + 30 * t;
        c[1] = 95 + 45 * t;
        c[2] = 40 + 15 * t;
        for (int k = 0; k < 3; k++)
            c[k] += 20 * n;
        break;
    }
    case SURF_GROUND:
        c[0] = 120 + 20 * n;
        c[1] = 125 + 20 * n;
        c[2] = 105 + 20 * n;
        break;
    default: {
        static const double pal[5][3] = {{150, 82, 62}, {128, 128, 134}, {172, 166, 154}, {92, 102, 122},
                                         {190, 184, 170}};
        const double *p = pal[(s.lot_hash >> 3) % 5];
        double shade = s.edge_m < 0.8 ? 0.7 : 1.0; /* parapet */
        for (int k = 0; k < 3; k++)
            c[k] = p[k] * shade + 12 * n;
        break;
    }
    }
    for (int k = 0; k < 3; k++)
        rgb[k] = (uint8_t)(c[k] < 0 ? 0 : c[k] > 255 ? 255 : c[k]);
}

/* ---- one tile: mesh, texture, GLB, b3dm ---- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} buf;

static void buf_put(buf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void buf_pad(buf *b, size_t align, uint8_t byte)
{
    while (!b->oom && b->n % align)
        buf_put(b, &byte, 1);
}

static void buf_u32(buf *b, uint32_t v) { buf_put(b, &v, 4); } /* little-endian hosts only (x86, arm) */

static void jpeg_sink(void *ctx, void *data, int size) { buf_put(ctx, data, (size_t)size); }

typedef struct tile_job {
    const tilegen_desc *d;
    int level, x, y;
    double zmin, zmax;   /* out: of the mesh */
    uint64_t bytes;
} tile_job;

static cJSON *view(int buffer_offset, size_t length, int target)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "buffer", 0);
    cJSON_AddNumberToObject(v, "byteOffset", buffer_offset);
    cJSON_AddNumberToObject(v, "byteLength", (double)length);
    if (target)
        cJSON_AddNumberToObject(v, "target", target);
    return v;
}

static cJSON *accessor(int view_index, int component, int count, const char *type)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "bufferView", view_index);
    cJSON_AddNumberToObject(a, "componentType", component);
    cJSON_AddNumberToObject(a, "count", count);
    cJSON_AddStringToObject(a, "type", type);
    return a;
}

/* The GLB: positions (y-up, relative to the tile centre), texcoords, 16-bit
 * indices, the JPEG. */
static bool glb_build(const float *pos, const float *uv, int nv, const uint16_t *idx, int ni, const buf *jpeg,
                      buf *out)
{
    buf bin = {0};
    size_t o_pos = 0, o_uv, o_idx, o_img;
    buf_put(&bin, pos, (size_t)nv * 12);
    o_uv = bin.n;
    buf_put(&bin, uv, (size_t)nv * 8);
    o_idx = bin.n;
    buf_put(&bin, idx, (size_t)ni * 2);
    buf_pad(&bin, 4, 0);
    o_img = bin.n;
    buf_put(&bin, jpeg->p, jpeg->n);
    buf_pad(&bin, 4, 0);
    float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < nv; i++)
        for (int k = 0; k < 3; k++) {
            mn[k] = fminf(mn[k], pos[3 * i + k]);
            mx[k] = fmaxf(mx[k], pos[3 * i + k]);
        }
    cJSON *j = cJSON_CreateObject();
    cJSON *asset = cJSON_AddObjectToObject(j, "asset");
    cJSON_AddStringToObject(asset, "version", "2.0");
    cJSON_AddStringToObject(asset, "generator", "citytwin bench/tiles tilegen");
    const char *ext = "KHR_materials_unlit";
    cJSON_AddItemToObject(j, "extensionsUsed", cJSON_CreateStringArray(&ext, 1));
    cJSON_AddNumberToObject(j, "scene", 0);
    cJSON *scene = cJSON_CreateObject();
    int zero = 0;
    cJSON_AddItemToObject(scene, "nodes", cJSON_CreateIntArray(&zero, 1));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "scenes"), scene);
    cJSON *node = cJSON_CreateObject();
    cJSON_AddNumberToObject(node, "mesh", 0);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "nodes"), node);
    cJSON *prim = cJSON_CreateObject();
    cJSON *attr = cJSON_AddObjectToObject(prim, "attributes");
    cJSON_AddNumberToObject(attr, "POSITION", 0);
    cJSON_AddNumberToObject(attr, "TEXCOORD_0", 1);
    cJSON_AddNumberToObject(prim, "indices", 2);
    cJSON_AddNumberToObject(prim, "material", 0);
    cJSON *mesh = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(mesh, "primitives"), prim);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "meshes"), mesh);
    cJSON *mat = cJSON_CreateObject();
    cJSON *pbr = cJSON_AddObjectToObject(mat, "pbrMetallicRoughness");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(pbr, "baseColorTexture"), "index", 0);
    cJSON_AddNumberToObject(pbr, "metallicFactor", 0);
    cJSON_AddObjectToObject(cJSON_AddObjectToObject(mat, "extensions"), "KHR_materials_unlit");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "materials"), mat);
    cJSON *tex = cJSON_CreateObject();
    cJSON_AddNumberToObject(tex, "sampler", 0);
    cJSON_AddNumberToObject(tex, "source", 0);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "textures"), tex);
    cJSON *smp = cJSON_CreateObject();
    cJSON_AddNumberToObject(smp, "magFilter", 9729);  /* LINEAR */
    cJSON_AddNumberToObject(smp, "minFilter", 9987);  /* LINEAR_MIPMAP_LINEAR */
    cJSON_AddNumberToObject(smp, "wrapS", 33071);     /* CLAMP_TO_EDGE */
    cJSON_AddNumberToObject(smp, "wrapT", 33071);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "samplers"), smp);
    cJSON *img = cJSON_CreateObject();
    cJSON_AddNumberToObject(img, "bufferView", 3);
    cJSON_AddStringToObject(img, "mimeType", "image/jpeg");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "images"), img);
    cJSON *acc = cJSON_AddArrayToObject(j, "accessors");
    cJSON *a = accessor(0, 5126, nv, "VEC3");
    float mnmx[2][3];
    memcpy(mnmx[0], mn, sizeof mn);
    memcpy(mnmx[1], mx, sizeof mx);
    cJSON_AddItemToObject(a, "min", cJSON_CreateFloatArray(mnmx[0], 3));
    cJSON_AddItemToObject(a, "max", cJSON_CreateFloatArray(mnmx[1], 3));
    cJSON_AddItemToArray(acc, a);
    cJSON_AddItemToArray(acc, accessor(1, 5126, nv, "VEC2"));
    cJSON_AddItemToArray(acc, accessor(2, 5123, ni, "SCALAR"));
    cJSON *views = cJSON_AddArrayToObject(j, "bufferViews");
    cJSON_AddItemToArray(views, view((int)o_pos, (size_t)nv * 12, 34962));
    cJSON_AddItemToArray(views, view((int)o_uv, (size_t)nv * 8, 34962));
    cJSON_AddItemToArray(views, view((int)o_idx, (size_t)ni * 2, 34963));
    cJSON_AddItemToArray(views, view((int)o_img, jpeg->n, 0));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "byteLength", (double)bin.n);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "buffers"), b);
    char *js = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!js || bin.oom) {
        free(js);
        free(bin.p);
        return false;
    }
    buf jb = {0};
    buf_put(&jb, js, strlen(js));
    buf_pad(&jb, 4, ' ');
    free(js);
    buf_put(out, "glTF", 4);
    buf_u32(out, 2);
    buf_u32(out, (uint32_t)(12 + 8 + jb.n + 8 + bin.n));
    buf_u32(out, (uint32_t)jb.n);
    buf_put(out, "JSON", 4);
    buf_put(out, jb.p, jb.n);
    buf_u32(out, (uint32_t)bin.n);
    buf_put(out, "BIN\0", 4);
    buf_put(out, bin.p, bin.n);
    bool ok = !jb.oom && !out->oom;
    free(jb.p);
    free(bin.p);
    return ok;
}

static void tile_extent(const tilegen_desc *d, int level, int x, int y, double *x0, double *y0, double *w)
{
    *w = d->size_m / (double)(1 << level);
    *x0 = x * *w;
    *y0 = y * *w;
}

static ct_status tile_write(tile_job *t, ct_error *err)
{
    const tilegen_desc *d = t->d;
    double x0, y0, w;
    tile_extent(d, t->level, t->x, t->y, &x0, &y0, &w);
    double cx = x0 + w / 2, cy = y0 + w / 2;
    int g = d->grid, nv = (g + 1) * (g + 1), ni = g * g * 6, tp = d->texture;
    float *pos = malloc((size_t)nv * 12), *uv = malloc((size_t)nv * 8);
    uint16_t *idx = malloc((size_t)ni * 2);
    uint8_t *rgb = malloc((size_t)tp * tp * 3);
    buf jpeg = {0}, glb = {0}, b3dm = {0};
    ct_status st = CT_OK;
    if (!pos || !uv || !idx || !rgb) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "tilegen: out of memory");
        goto done;
    }
    t->zmin = INFINITY;
    t->zmax = -INFINITY;
    for (int j = 0; j <= g; j++)
        for (int i = 0; i <= g; i++) {
            double e = x0 + w * i / g, n = y0 + w * j / g, h = surface(d->seed, e, n);
            float *p = &pos[3 * (j * (g + 1) + i)];
            p[0] = (float)(e - cx); /* glTF y-up: x east, y up, z south */
            p[1] = (float)h;
            p[2] = (float)-(n - cy);
            uv[2 * (j * (g + 1) + i)] = (float)i / g;
            uv[2 * (j * (g + 1) + i) + 1] = 1.0f - (float)j / g; /* image row 0 is the north edge */
            t->zmin = fmin(t->zmin, h);
            t->zmax = fmax(t->zmax, h);
        }
    int k = 0;
    for (int j = 0; j < g; j++)
        for (int i = 0; i < g; i++) {
            uint16_t a = (uint16_t)(j * (g + 1) + i), b = (uint16_t)(a + 1), c = (uint16_t)(a + g + 1),
                     e = (uint16_t)(c + 1);
            /* counter-clockwise seen from above */
            idx[k++] = a, idx[k++] = b, idx[k++] = e;
            idx[k++] = a, idx[k++] = e, idx[k++] = c;
        }
    for (int r = 0; r < tp; r++)
        for (int c = 0; c < tp; c++)
            color_at(d->seed, x0 + w * (c + 0.5) / tp, y0 + w * (1.0 - (r + 0.5) / tp), &rgb[3 * (r * tp + c)]);
    if (!stbi_write_jpg_to_func(jpeg_sink, &jpeg, tp, tp, 3, rgb, d->jpeg_quality) || jpeg.oom ||
        !glb_build(pos, uv, nv, idx, ni, &jpeg, &glb)) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "tilegen: tile %d/%d/%d: encoding failed (out of memory)", t->level,
                          t->x, t->y);
        goto done;
    }
    char ft[160];
    int ftn = snprintf(ft, sizeof ft, "{\"BATCH_LENGTH\":0,\"RTC_CENTER\":[%.3f,%.3f,0]}", cx - d->size_m / 2,
                       cy - d->size_m / 2);
    while ((28 + ftn) % 8)
        ft[ftn++] = ' ';
    buf_put(&b3dm, "b3dm", 4);
    buf_u32(&b3dm, 1);
    uint32_t total = (uint32_t)(28 + ftn + ((glb.n + 7) & ~(size_t)7));
    buf_u32(&b3dm, total);
    buf_u32(&b3dm, (uint32_t)ftn);
    buf_u32(&b3dm, 0);
    buf_u32(&b3dm, 0);
    buf_u32(&b3dm, 0);
    buf_put(&b3dm, ft, (size_t)ftn);
    buf_put(&b3dm, glb.p, glb.n);
    buf_pad(&b3dm, 8, 0);
    if (b3dm.oom) {
        st = ct_error_set(err, CT_ERR_RUNTIME, "tilegen: out of memory");
        goto done;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/tiles/%d/%d/%d.b3dm", d->dir, t->level, t->x, t->y);
    st = ct_file_write(path, b3dm.p, b3dm.n, err);
    t->bytes = b3dm.n;
done:
    free(pos);
    free(uv);
    free(idx);
    free(rgb);
    free(jpeg.p);
    free(glb.p);
    free(b3dm.p);
    return st;
}

/* ---- tileset.json ---- */

typedef struct tree {
    const tilegen_desc *d;
    float *zmin[32], *zmax[32]; /* per level, x + y * n */
} tree;

static cJSON *tile_json(const tree *tr, int level, int x, int y)
{
    const tilegen_desc *d = tr->d;
    double x0, y0, w;
    tile_extent(d, level, x, y, &x0, &y0, &w);
    int n = 1 << level;
    double zmin = tr->zmin[level][x + y * n], zmax = tr->zmax[level][x + y * n];
    double half = d->size_m / 2, hz = (zmax - zmin) / 2 + 0.01;
    double box[12] = {x0 + w / 2 - half, y0 + w / 2 - half, (zmin + zmax) / 2, w / 2, 0, 0, 0, w / 2, 0, 0, 0, hz};
    cJSON *t = cJSON_CreateObject();
    cJSON_AddItemToObject(cJSON_AddObjectToObject(t, "boundingVolume"), "box", cJSON_CreateDoubleArray(box, 12));
    bool leaf = level == d->levels - 1;
    /* twice the mesh spacing: what a coarse grid misses of the surface */
    cJSON_AddNumberToObject(t, "geometricError", leaf ? 0 : 2 * w / d->grid);
    cJSON_AddStringToObject(t, "refine", "REPLACE");
    char uri[96];
    snprintf(uri, sizeof uri, "tiles/%d/%d/%d.b3dm", level, x, y);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "content"), "uri", uri);
    if (!leaf) {
        cJSON *ch = cJSON_AddArrayToObject(t, "children");
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < 2; i++)
                cJSON_AddItemToArray(ch, tile_json(tr, level + 1, 2 * x + i, 2 * y + j));
    }
    return t;
}

static char *params_json(const tilegen_desc *d)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "generator_version", TILEGEN_VERSION);
    cJSON_AddNumberToObject(j, "levels", d->levels);
    cJSON_AddNumberToObject(j, "grid", d->grid);
    cJSON_AddNumberToObject(j, "texture", d->texture);
    cJSON_AddNumberToObject(j, "jpeg_quality", d->jpeg_quality);
    cJSON_AddNumberToObject(j, "size_m", d->size_m);
    cJSON_AddNumberToObject(j, "seed", d->seed);
    cJSON_AddNumberToObject(j, "lon", d->lon);
    cJSON_AddNumberToObject(j, "lat", d->lat);
    cJSON_AddNumberToObject(j, "height", d->height);
    cJSON_AddNumberToObject(j, "tiles", (double)tilegen_tile_count(d->levels));
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

ct_status tilegen_write(const tilegen_desc *in, tilegen_result *res, ct_error *err)
{
    memset(res, 0, sizeof *res);
    tilegen_desc d = tilegen_defaults(in);
    if (!d.dir)
        return ct_error_set(err, CT_ERR_USAGE, "tilegen: no output folder");
    if (d.levels > 12 || d.grid > 180 || d.texture > 4096)
        return ct_error_set(err, CT_ERR_USAGE, "tilegen: levels <= 12, grid <= 180 (16-bit indices), texture <= 4096");
    double t0 = ct_time_now();
    char path[4096];
    snprintf(path, sizeof path, "%s/tilegen.json", d.dir);
    char *want = params_json(&d);
    if (!want)
        return ct_error_set(err, CT_ERR_RUNTIME, "tilegen: out of memory");
    uint8_t *have = NULL;
    size_t have_n = 0;
    ct_error ignore = {0};
    if (ct_file_read(path, 0, &have, &have_n, &ignore) == CT_OK && have_n == strlen(want) &&
        !memcmp(have, want, have_n)) {
        free(have);
        free(want);
        res->cached = true;
        res->tiles = tilegen_tile_count(d.levels);
        res->triangles = res->tiles * 2 * (uint64_t)d.grid * d.grid;
        return CT_OK;
    }
    free(have);
    remove(path); /* an interrupted run must not look complete */
    tree tr = {.d = &d};
    ct_status st = CT_OK;
    for (int level = d.levels - 1; level >= 0 && st == CT_OK; level--) {
        int n = 1 << level;
        tr.zmin[level] = malloc((size_t)n * n * sizeof(float));
        tr.zmax[level] = malloc((size_t)n * n * sizeof(float));
        if (!tr.zmin[level] || !tr.zmax[level]) {
            st = ct_error_set(err, CT_ERR_RUNTIME, "tilegen: out of memory");
            break;
        }
        for (int x = 0; x < n && st == CT_OK; x++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/tiles/%d/%d", d.dir, level, x);
            st = ct_dir_create(dir, err);
        }
        uint64_t bytes = 0;
        ct_status lst = st;
        ct_error lerr = {0};
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : bytes)
        for (int i = 0; i < n * n; i++) {
            if (lst != CT_OK)
                continue;
            tile_job t = {.d = &d, .level = level, .x = i % n, .y = i / n};
            ct_error e = {0};
            ct_status s = tile_write(&t, &e);
            if (s != CT_OK) {
#pragma omp critical
                {
                    if (lst == CT_OK) {
                        lst = s;
                        lerr = e;
                    }
                }
                continue;
            }
            bytes += t.bytes;
            /* a parent's box holds its own mesh and its children's boxes */
            float zmin = (float)t.zmin, zmax = (float)t.zmax;
            if (level + 1 < d.levels)
                for (int c = 0; c < 4; c++) {
                    int cx = 2 * t.x + (c & 1), cy = 2 * t.y + (c >> 1);
                    zmin = fminf(zmin, tr.zmin[level + 1][cx + cy * 2 * n]);
                    zmax = fmaxf(zmax, tr.zmax[level + 1][cx + cy * 2 * n]);
                }
            tr.zmin[level][i] = zmin;
            tr.zmax[level][i] = zmax;
        }
        if (lst != CT_OK && st == CT_OK) {
            st = lst;
            if (err)
                *err = lerr;
        }
        res->bytes += bytes;
    }
    if (st == CT_OK) {
        cJSON *ts = cJSON_CreateObject();
        cJSON *asset = cJSON_AddObjectToObject(ts, "asset");
        cJSON_AddStringToObject(asset, "version", "1.0");
        cJSON_AddStringToObject(asset, "generator", "citytwin bench/tiles tilegen");
        cJSON_AddNumberToObject(ts, "geometricError", 4 * d.size_m / d.grid);
        cJSON *root = tile_json(&tr, 0, 0, 0);
        double enu[16];
        ct_geo_enu_frame(ct_geo_ecef_from_lonlat(d.lon, d.lat, d.height), enu);
        cJSON_AddItemToObject(root, "transform", cJSON_CreateDoubleArray(enu, 16));
        cJSON_AddItemToObject(ts, "root", root);
        char *s = cJSON_PrintUnformatted(ts);
        cJSON_Delete(ts);
        char tp[4096];
        snprintf(tp, sizeof tp, "%s/tileset.json", d.dir);
        st = s ? ct_file_write(tp, s, strlen(s), err) : ct_error_set(err, CT_ERR_RUNTIME, "tilegen: out of memory");
        free(s);
    }
    if (st == CT_OK)
        st = ct_file_write(path, want, strlen(want), err);
    for (int l = 0; l < 32; l++) {
        free(tr.zmin[l]);
        free(tr.zmax[l]);
    }
    free(want);
    res->tiles = tilegen_tile_count(d.levels);
    res->triangles = res->tiles * 2 * (uint64_t)d.grid * d.grid;
    res->seconds = ct_time_now() - t0;
    return st;
}

tilegen_view tilegen_enu_view(const char *name, const double enu_to_ecef[16], double e, double n, double u,
                              double heading, double pitch)
{
    ct_dvec3 p = ct_dmat4_transform_point(enu_to_ecef, ct_dvec3_make(e, n, u));
    ct_dvec3 llh = ct_geo_lonlat_from_ecef(p);
    return (tilegen_view){name, llh.x, llh.y, llh.z, heading, pitch};
}

int tilegen_views(const tilegen_desc *gd, tilegen_view *v)
{
    tilegen_desc d = tilegen_defaults(gd);
    double enu[16], R = d.size_m / 2;
    ct_geo_enu_frame(ct_geo_ecef_from_lonlat(d.lon, d.lat, d.height), enu);
    int n = 0;
    v[n++] = tilegen_enu_view("overview", enu, 0, -1.3 * R, 1.4 * R, 0, -45);
    v[n++] = tilegen_enu_view("top-down", enu, 0, 0, 1.1 * R, 0, -90);
    v[n++] = tilegen_enu_view("oblique", enu, -0.55 * R, -0.7 * R, 0.35 * R, 35, -30);
    v[n++] = tilegen_enu_view("low-oblique", enu, 0.2 * R, -0.35 * R, tilegen_surface(&d, 0.2 * R, -0.35 * R) + 120,
                              340, -20);
    /* on the north-south street just east of the centre (streets every 128 m, 14 m wide) */
    v[n++] = tilegen_enu_view("street", enu, 7, 40, tilegen_surface(&d, 7, 40) + 2, 0, -5);
    v[n++] = tilegen_enu_view("horizon", enu, -0.3 * R, 0.3 * R, tilegen_surface(&d, -0.3 * R, 0.3 * R) + 300, 90,
                              -8);
    v[n++] = tilegen_enu_view("corner", enu, -0.85 * R, -0.85 * R, tilegen_surface(&d, -0.85 * R, -0.85 * R) + 60, 45,
                              -35);
    return n;
}
