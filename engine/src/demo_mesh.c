/* district.glb for the demo (docs/demo.md): terrain with vertex colors, the
 * river surface, road ribbons and bridges, extruded buildings with flat or
 * gable roofs and qilou arcades, and street furniture at the points of
 * interest. Geometry is built in district coordinates (EPSG:4547 minus the
 * south-west corner, z = height), then every vertex is moved through PROJ
 * into the scene's local East-North-Up frame at the scene origin and
 * written y-up as glTF wants: (east, up, -north). */
#include "demo_internal.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mesh {
    double *p;      /* x y z per vertex, district coordinates */
    float *n;       /* normal per vertex, district axes */
    float *c;       /* rgba per vertex */
    uint32_t *f;    /* feature id per vertex */
    uint32_t *idx;
    uint32_t nv, ni, capv, capi;
    bool oom;
} mesh;

static bool mesh_reserve(mesh *m, uint32_t add_v, uint32_t add_i)
{
    if (m->oom)
        return false;
    if (m->nv + add_v > m->capv) {
        uint32_t cap = m->capv ? m->capv : 1024;
        while (cap < m->nv + add_v)
            cap *= 2;
        double *p = realloc(m->p, (size_t)cap * 3 * sizeof *p);
        if (p) m->p = p;
        float *n = realloc(m->n, (size_t)cap * 3 * sizeof *n);
        if (n) m->n = n;
        float *c = realloc(m->c, (size_t)cap * 4 * sizeof *c);
        if (c) m->c = c;
        uint32_t *f = realloc(m->f, (size_t)cap * sizeof *f);
        if (f) m->f = f;
        if (!p || !n || !c || !f)
            return !(m->oom = true);
        m->capv = cap;
    }
    if (m->ni + add_i > m->capi) {
        uint32_t cap = m->capi ? m->capi : 2048;
        while (cap < m->ni + add_i)
            cap *= 2;
        uint32_t *idx = realloc(m->idx, (size_t)cap * sizeof *idx);
        if (!idx)
            return !(m->oom = true);
        m->idx = idx;
        m->capi = cap;
    }
    return true;
}

static void mesh_free(mesh *m)
{
    free(m->p);
    free(m->n);
    free(m->c);
    free(m->f);
    free(m->idx);
}

/* Adds a vertex (space reserved by the caller); returns its index. */
static uint32_t vtx(mesh *m, const double p[3], const double n[3], const float c[4], uint32_t fid)
{
    uint32_t i = m->nv++;
    for (int k = 0; k < 3; k++) {
        m->p[3 * i + k] = p[k];
        m->n[3 * i + k] = (float)n[k];
    }
    memcpy(m->c + 4 * i, c, 4 * sizeof(float));
    m->f[i] = fid;
    return i;
}

static void face_normal(const double *a, const double *b, const double *c, double n[3])
{
    double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    n[0] = u[1] * v[2] - u[2] * v[1];
    n[1] = u[2] * v[0] - u[0] * v[2];
    n[2] = u[0] * v[1] - u[1] * v[0];
    double l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    if (l < 1e-12) {
        n[0] = n[1] = 0;
        n[2] = 1;
        return;
    }
    n[0] /= l, n[1] /= l, n[2] /= l;
}

/* A flat quad, corners counter-clockwise seen from the side it faces. */
static void quad(mesh *m, const double q[4][3], const float c[4], uint32_t fid)
{
    if (!mesh_reserve(m, 4, 6))
        return;
    double n[3];
    face_normal(q[0], q[1], q[2], n);
    uint32_t b = m->nv;
    for (int k = 0; k < 4; k++)
        vtx(m, q[k], n, c, fid);
    uint32_t t[6] = {b, b + 1, b + 2, b, b + 2, b + 3};
    memcpy(m->idx + m->ni, t, sizeof t);
    m->ni += 6;
}

static void tri(mesh *m, const double q[3][3], const float c[4], uint32_t fid)
{
    if (!mesh_reserve(m, 3, 3))
        return;
    double n[3];
    face_normal(q[0], q[1], q[2], n);
    uint32_t b = m->nv;
    for (int k = 0; k < 3; k++)
        vtx(m, q[k], n, c, fid);
    uint32_t t[3] = {b, b + 1, b + 2};
    memcpy(m->idx + m->ni, t, sizeof t);
    m->ni += 3;
}

/* Axis-aligned box: four walls, a top in top_c (NULL: none), a bottom if asked. */
static void box(mesh *m, double x0, double y0, double x1, double y1, double z0, double z1, const float c[4],
                const float *top_c, bool bottom, uint32_t fid)
{
    const double walls[4][4][3] = {
        {{x0, y0, z0}, {x1, y0, z0}, {x1, y0, z1}, {x0, y0, z1}}, /* south */
        {{x1, y0, z0}, {x1, y1, z0}, {x1, y1, z1}, {x1, y0, z1}}, /* east */
        {{x1, y1, z0}, {x0, y1, z0}, {x0, y1, z1}, {x1, y1, z1}}, /* north */
        {{x0, y1, z0}, {x0, y0, z0}, {x0, y0, z1}, {x0, y1, z1}}, /* west */
    };
    for (int w = 0; w < 4; w++)
        quad(m, walls[w], c, fid);
    if (top_c) {
        const double top[4][3] = {{x0, y0, z1}, {x1, y0, z1}, {x1, y1, z1}, {x0, y1, z1}};
        quad(m, top, top_c, fid);
    }
    if (bottom) {
        const double bot[4][3] = {{x0, y1, z0}, {x1, y1, z0}, {x1, y0, z0}, {x0, y0, z0}};
        quad(m, bot, c, fid);
    }
}

/* Gable roof over a rectangle, ridge along its longer side. */
static void gable(mesh *m, double x0, double y0, double x1, double y1, double z, double rh, const float roof[4],
                  const float wall[4], uint32_t fid)
{
    double zr = z + rh;
    if (x1 - x0 >= y1 - y0) {
        double ym = (y0 + y1) / 2;
        const double s[4][3] = {{x0, y0, z}, {x1, y0, z}, {x1, ym, zr}, {x0, ym, zr}};
        const double n[4][3] = {{x1, y1, z}, {x0, y1, z}, {x0, ym, zr}, {x1, ym, zr}};
        const double w[3][3] = {{x0, y1, z}, {x0, y0, z}, {x0, ym, zr}};
        const double e[3][3] = {{x1, y0, z}, {x1, y1, z}, {x1, ym, zr}};
        quad(m, s, roof, fid);
        quad(m, n, roof, fid);
        tri(m, w, wall, fid);
        tri(m, e, wall, fid);
    } else {
        double xm = (x0 + x1) / 2;
        const double w[4][3] = {{x0, y1, z}, {x0, y0, z}, {xm, y0, zr}, {xm, y1, zr}};
        const double e[4][3] = {{x1, y0, z}, {x1, y1, z}, {xm, y1, zr}, {xm, y0, zr}};
        const double s[3][3] = {{x0, y0, z}, {x1, y0, z}, {xm, y0, zr}};
        const double n[3][3] = {{x1, y1, z}, {x0, y1, z}, {xm, y1, zr}};
        quad(m, w, roof, fid);
        quad(m, e, roof, fid);
        tri(m, s, wall, fid);
        tri(m, n, wall, fid);
    }
}

/* ---- terrain and water ------------------------------------------------------ */

static void terrain_color(double h, double noise, float c[4])
{
    static const struct { double h; float c[3]; } ramp[] = {
        {-3.0, {0.36f, 0.33f, 0.27f}}, {0.3, {0.45f, 0.42f, 0.33f}}, {1.2, {0.56f, 0.55f, 0.40f}},
        {2.5, {0.47f, 0.58f, 0.33f}},  {10.0, {0.36f, 0.50f, 0.27f}}, {25.0, {0.30f, 0.43f, 0.25f}},
        {40.0, {0.40f, 0.42f, 0.32f}},
    };
    int n = (int)(sizeof ramp / sizeof ramp[0]);
    int i = 0;
    while (i < n - 2 && h > ramp[i + 1].h)
        i++;
    double t = (h - ramp[i].h) / (ramp[i + 1].h - ramp[i].h);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    for (int k = 0; k < 3; k++) {
        double v = ramp[i].c[k] + (ramp[i + 1].c[k] - ramp[i].c[k]) * t + noise;
        c[k] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
    c[3] = 1;
}

static void build_terrain(const demo_district *d, mesh *m)
{
    const double step = 5.0;
    int nx = (int)(DEMO_W / step) + 1, ny = (int)(DEMO_H / step) + 1;
    if (!mesh_reserve(m, (uint32_t)(nx * ny), (uint32_t)((nx - 1) * (ny - 1) * 6)))
        return;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            double x = i * step, y = j * step, e = 1.0;
            double h = demo_ground(d, x, y);
            double gx = (demo_ground(d, x + e, y) - demo_ground(d, x - e, y)) / (2 * e);
            double gy = (demo_ground(d, x, y + e) - demo_ground(d, x, y - e)) / (2 * e);
            double l = sqrt(gx * gx + gy * gy + 1);
            double p[3] = {x, y, h}, n[3] = {-gx / l, -gy / l, 1 / l};
            /* A little texture: colour noise from the terrain's own fine-scale roughness. */
            double tex = 0.04 * sin(x * 0.37 + y * 0.11) * cos(y * 0.29 - x * 0.07) +
                         0.25 * (h - demo_ground(d, x + 7.5, y + 7.5)) * 0.1;
            float c[4];
            terrain_color(h, tex, c);
            vtx(m, p, n, c, 0);
        }
    for (int j = 0; j + 1 < ny; j++)
        for (int i = 0; i + 1 < nx; i++) {
            uint32_t a = (uint32_t)(j * nx + i), b = a + 1, c = a + (uint32_t)nx, e = c + 1;
            uint32_t t[6] = {a, b, e, a, e, c}; /* counter-clockwise seen from above */
            memcpy(m->idx + m->ni, t, sizeof t);
            m->ni += 6;
        }
}

static void build_water(mesh *m)
{
    const float c[4] = {1, 1, 1, 1};
    double half = DEMO_RIVER_HALF + 15.0; /* out to where the banks top out: terrain hides the rest */
    for (double x = 0; x < DEMO_W; x += 10) {
        double x1 = x + 10;
        const double q[4][3] = {{x, demo_river_y(x) - half, DEMO_WATER_LEVEL},
                                {x1, demo_river_y(x1) - half, DEMO_WATER_LEVEL},
                                {x1, demo_river_y(x1) + half, DEMO_WATER_LEVEL},
                                {x, demo_river_y(x) + half, DEMO_WATER_LEVEL}};
        quad(m, q, c, 0);
    }
}

/* ---- roads and bridges ---------------------------------------------------- */

/* The polyline resampled every `step` metres or less (original vertices kept). */
static int densify(const demo_road *r, double step, double *out, int max)
{
    int n = 0;
    for (int k = 0; k + 1 < r->n && n < max - 1; k++) {
        double ax = r->xy[2 * k], ay = r->xy[2 * k + 1], bx = r->xy[2 * k + 2], by = r->xy[2 * k + 3];
        int parts = (int)ceil(hypot(bx - ax, by - ay) / step);
        if (parts < 1)
            parts = 1;
        for (int s = 0; s < parts && n < max - 1; s++) {
            out[2 * n] = ax + (bx - ax) * s / parts;
            out[2 * n + 1] = ay + (by - ay) * s / parts;
            n++;
        }
    }
    out[2 * n] = r->xy[2 * r->n - 2];
    out[2 * n + 1] = r->xy[2 * r->n - 1];
    return n + 1;
}

static void road_color(const demo_road *r, float c[4])
{
    float v[3] = {0.36f, 0.36f, 0.36f};
    if (r->bridge)
        v[0] = 0.58f, v[1] = 0.58f, v[2] = 0.56f;
    else if (!strcmp(r->name, "Qilou Street"))
        v[0] = 0.64f, v[1] = 0.54f, v[2] = 0.46f;
    else if (!strcmp(r->klass, "primary"))
        v[0] = 0.27f, v[1] = 0.27f, v[2] = 0.29f;
    else if (!strcmp(r->klass, "secondary"))
        v[0] = 0.31f, v[1] = 0.31f, v[2] = 0.33f;
    memcpy(c, v, sizeof v);
    c[3] = 1;
}

static double bridge_deck(const demo_district *d, const demo_road *r, double t)
{
    double z0 = demo_ground(d, r->xy[0], r->xy[1]) + 0.3;
    double z1 = demo_ground(d, r->xy[2 * r->n - 2], r->xy[2 * r->n - 1]) + 0.3;
    return z0 + (z1 - z0) * t + 3.5 * sin(M_PI * t);
}

static void build_road(const demo_district *d, const demo_road *r, mesh *m)
{
    double pts[2 * 1024];
    int n = densify(r, 5.0, pts, 1024);
    float c[4];
    road_color(r, c);
    double hw = r->width / 2;
    if (!strcmp(r->name, "Qilou Street"))
        hw += 3.0; /* the paving runs on under the arcades */
    double L[1024][3], R[1024][3];
    for (int i = 0; i < n; i++) {
        int a = i > 0 ? i - 1 : i, b = i + 1 < n ? i + 1 : i;
        double tx = pts[2 * b] - pts[2 * a], ty = pts[2 * b + 1] - pts[2 * a + 1], l = hypot(tx, ty);
        if (l < 1e-9)
            tx = 1, ty = 0, l = 1;
        double lx = -ty / l * hw, ly = tx / l * hw;
        double x = pts[2 * i], y = pts[2 * i + 1];
        L[i][0] = x + lx, L[i][1] = y + ly;
        R[i][0] = x - lx, R[i][1] = y - ly;
        if (r->bridge) {
            L[i][2] = R[i][2] = bridge_deck(d, r, (double)i / (n - 1));
        } else {
            L[i][2] = demo_ground(d, L[i][0], L[i][1]) + 0.3;
            R[i][2] = demo_ground(d, R[i][0], R[i][1]) + 0.3;
        }
    }
    uint32_t fid = (uint32_t)r->id;
    for (int i = 0; i + 1 < n; i++) {
        const double top[4][3] = {{R[i][0], R[i][1], R[i][2]}, {R[i + 1][0], R[i + 1][1], R[i + 1][2]},
                                  {L[i + 1][0], L[i + 1][1], L[i + 1][2]}, {L[i][0], L[i][1], L[i][2]}};
        quad(m, top, c, fid);
        if (!r->bridge)
            continue;
        const double th = 1.2; /* deck thickness */
        const double left[4][3] = {{L[i + 1][0], L[i + 1][1], L[i + 1][2] - th}, {L[i][0], L[i][1], L[i][2] - th},
                                   {L[i][0], L[i][1], L[i][2]}, {L[i + 1][0], L[i + 1][1], L[i + 1][2]}};
        const double right[4][3] = {{R[i][0], R[i][1], R[i][2] - th}, {R[i + 1][0], R[i + 1][1], R[i + 1][2] - th},
                                    {R[i + 1][0], R[i + 1][1], R[i + 1][2]}, {R[i][0], R[i][1], R[i][2]}};
        const double bot[4][3] = {{L[i][0], L[i][1], L[i][2] - th}, {L[i + 1][0], L[i + 1][1], L[i + 1][2] - th},
                                  {R[i + 1][0], R[i + 1][1], R[i + 1][2] - th}, {R[i][0], R[i][1], R[i][2] - th}};
        const float side[4] = {0.50f, 0.50f, 0.48f, 1};
        quad(m, left, side, fid);
        quad(m, right, side, fid);
        quad(m, bot, side, fid);
    }
    if (r->bridge) {
        /* Two piers in the channel (bridges run north-south, so boxes stay axis-aligned). */
        const float pier[4] = {0.55f, 0.55f, 0.53f, 1};
        for (int k = 1; k <= 2; k++) {
            double t = k / 3.0;
            double x = r->xy[0] + (r->xy[2 * r->n - 2] - r->xy[0]) * t;
            double y = r->xy[1] + (r->xy[2 * r->n - 1] - r->xy[1]) * t;
            box(m, x - hw + 1.5, y - 1.5, x + hw - 1.5, y + 1.5, demo_ground(d, x, y) - 1.0,
                bridge_deck(d, r, t) - 1.2, pier, NULL, false, fid);
        }
    }
}

/* ---- buildings ------------------------------------------------------------ */

static void build_building(const demo_building *b, mesh *m)
{
    float wall[4] = {b->color[0], b->color[1], b->color[2], 1};
    const float flat_roof[4] = {0.55f, 0.55f, 0.54f, 1};
    const float tiles[4] = {0.66f, 0.33f, 0.24f, 1};
    double z0 = b->ground - 1.0, top = b->ground + b->height;
    uint32_t fid = (uint32_t)b->id;
    if (b->arcade) {
        /* Qilou: upper floors reach the street; the ground floor steps back
         * 3 m behind a row of pillars, giving the covered walkway. */
        double arc = 3.0, g1 = b->ground + 4.5;
        double y0 = b->y0, y1 = b->y1;
        if (b->arcade > 0)
            y1 -= arc;
        else
            y0 += arc;
        box(m, b->x0, y0, b->x1, y1, z0, g1, wall, NULL, false, fid);
        box(m, b->x0, b->y0, b->x1, b->y1, g1, top, wall, flat_roof, true, fid);
        double py0 = b->arcade > 0 ? b->y1 - 0.5 : b->y0, py1 = py0 + 0.5;
        const float pillar[4] = {wall[0] * 0.9f, wall[1] * 0.9f, wall[2] * 0.9f, 1};
        box(m, b->x0, py0, b->x0 + 0.5, py1, b->ground - 0.2, g1, pillar, NULL, false, fid);
        box(m, b->x1 - 0.5, py0, b->x1, py1, b->ground - 0.2, g1, pillar, NULL, false, fid);
        double w = b->x1 - b->x0;
        if (w > 6) {
            double xm = (b->x0 + b->x1) / 2;
            box(m, xm - 0.25, py0, xm + 0.25, py1, b->ground - 0.2, g1, pillar, NULL, false, fid);
        }
        /* The ornate street-facing parapet. */
        double fy0 = b->arcade > 0 ? b->y1 - 0.4 : b->y0, fy1 = fy0 + 0.4;
        box(m, b->x0, fy0, b->x1, fy1, top, top + 1.4, wall, wall, false, fid);
        return;
    }
    if (b->roof == DEMO_ROOF_GABLE) {
        box(m, b->x0, b->y0, b->x1, b->y1, z0, top, wall, NULL, false, fid);
        double rh = fmin(b->x1 - b->x0, b->y1 - b->y0) * 0.25;
        rh = rh < 1.5 ? 1.5 : rh > 4 ? 4 : rh;
        gable(m, b->x0, b->y0, b->x1, b->y1, top, rh, tiles, wall, fid);
    } else {
        box(m, b->x0, b->y0, b->x1, b->y1, z0, top, wall, flat_roof, false, fid);
    }
}

/* ---- street furniture at points of interest ------------------------------- */

static void build_poi(const demo_poi *p, mesh *m)
{
    uint32_t fid = (uint32_t)p->id;
    double x = p->x, y = p->y, z = p->z;
    if (!strcmp(p->kind, "hydrant")) {
        const float red[4] = {0.80f, 0.10f, 0.08f, 1};
        box(m, x - 0.25, y - 0.25, x + 0.25, y + 0.25, z - 0.2, z + 0.9, red, red, false, fid);
    } else if (!strcmp(p->subtype, "lamp_pole")) {
        const float grey[4] = {0.35f, 0.37f, 0.40f, 1}, lamp[4] = {0.95f, 0.92f, 0.75f, 1};
        box(m, x - 0.12, y - 0.12, x + 0.12, y + 0.12, z - 0.2, z + 8, grey, grey, false, fid);
        box(m, x - 0.6, y - 0.2, x + 0.6, y + 0.2, z + 8, z + 8.3, grey, lamp, true, fid);
    } else if (!strcmp(p->subtype, "water_level")) {
        const float yellow[4] = {0.92f, 0.78f, 0.10f, 1};
        box(m, x - 0.3, y - 0.3, x + 0.3, y + 0.3, z - 0.5, DEMO_WATER_LEVEL + 3.5, yellow, yellow, false, fid);
    } else if (!strcmp(p->subtype, "air_quality")) {
        const float c[4] = {0.30f, 0.65f, 0.45f, 1};
        box(m, x - 0.5, y - 0.5, x + 0.5, y + 0.5, z - 0.2, z + 2.5, c, c, false, fid);
    } else if (!strcmp(p->subtype, "rain_gauge")) {
        const float c[4] = {0.92f, 0.92f, 0.92f, 1};
        box(m, x - 0.2, y - 0.2, x + 0.2, y + 0.2, z - 0.2, z + 1.2, c, c, false, fid);
    }
}

/* A coloured rectangle laid on the terrain in 5 m cells (sports grounds). */
static void drape(const demo_district *d, mesh *m, double x0, double y0, double x1, double y1, double dz,
                  const float c[4])
{
    int nx = (int)ceil((x1 - x0) / 5), ny = (int)ceil((y1 - y0) / 5);
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            double ax = x0 + (x1 - x0) * i / nx, bx = x0 + (x1 - x0) * (i + 1) / nx;
            double ay = y0 + (y1 - y0) * j / ny, by = y0 + (y1 - y0) * (j + 1) / ny;
            const double q[4][3] = {{ax, ay, demo_ground(d, ax, ay) + dz}, {bx, ay, demo_ground(d, bx, ay) + dz},
                                    {bx, by, demo_ground(d, bx, by) + dz}, {ax, by, demo_ground(d, ax, by) + dz}};
            quad(m, q, c, 0);
        }
}

/* ---- into the scene frame and out as GLB -------------------------------- */

typedef struct frame {
    ct_crs_transform *to_geo;
    double ecef_to_enu[16];
    double gx[3], gy[3]; /* district axes in ENU (grid convergence) */
    double X0, Y0;
} frame;

static ct_status to_enu(frame *f, size_t n, const double *xyz, double *out, ct_error *err)
{
    double *X = ct_malloc_array(n, sizeof *X), *Y = ct_malloc_array(n, sizeof *Y);
    if (!X || !Y) {
        free(X);
        free(Y);
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        X[i] = f->X0 + xyz[3 * i];
        Y[i] = f->Y0 + xyz[3 * i + 1];
    }
    ct_status st = ct_crs_transform_points(f->to_geo, n, X, Y, NULL, err);
    for (size_t i = 0; i < n && !st; i++) {
        ct_dvec3 e = ct_dmat4_transform_point(f->ecef_to_enu, ct_geo_ecef_from_lonlat(X[i], Y[i], xyz[3 * i + 2]));
        out[3 * i] = e.x, out[3 * i + 1] = e.y, out[3 * i + 2] = e.z;
    }
    free(X);
    free(Y);
    return st;
}

static ct_status frame_init(frame *f, const demo_district *d, ct_error *err)
{
    memset(f, 0, sizeof *f);
    f->X0 = d->X0;
    f->Y0 = d->Y0;
    ct_status st = ct_crs_transform_create("EPSG:4547", "EPSG:4490", &f->to_geo, err);
    if (st)
        return st;
    double enu[16];
    ct_geo_enu_frame(ct_geo_ecef_from_lonlat(d->origin[0], d->origin[1], d->origin[2]), enu);
    if (!ct_dmat4_invert(f->ecef_to_enu, enu))
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: degenerate local frame");
    double c = DEMO_W / 2, r = DEMO_H / 2;
    double pts[9] = {c, r, 0, c + 100, r, 0, c, r + 100, 0}, out[9];
    if ((st = to_enu(f, 3, pts, out, err)))
        return st;
    for (int a = 0; a < 2; a++) {
        double *g = a ? f->gy : f->gx;
        double v[3] = {out[3 * (a + 1)] - out[0], out[3 * (a + 1) + 1] - out[1], 0};
        double l = hypot(v[0], v[1]);
        g[0] = v[0] / l, g[1] = v[1] / l, g[2] = 0;
    }
    return CT_OK;
}

/* Moves a mesh into ENU and fills a glTF primitive with y-up float arrays. */
static ct_status to_primitive(frame *f, const mesh *m, bool colors, bool fids, int material, ct_gltf_primitive *p,
                              ct_error *err)
{
    memset(p, 0, sizeof *p);
    p->mode = CT_GLTF_TRIANGLES;
    p->material = material;
    if (m->oom)
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory building the model");
    uint32_t n = m->nv;
    double *enu = ct_malloc_array((size_t)n * 3, sizeof *enu);
    p->positions = ct_malloc_array((size_t)n * 3, sizeof(float));
    p->normals = ct_malloc_array((size_t)n * 3, sizeof(float));
    p->indices = ct_malloc_array(m->ni, sizeof(uint32_t));
    if (colors)
        p->colors = ct_malloc_array((size_t)n * 4, sizeof(float));
    if (fids)
        p->feature_ids = ct_malloc_array(n, sizeof(uint32_t));
    if (!enu || !p->positions || !p->normals || !p->indices || (colors && !p->colors) || (fids && !p->feature_ids)) {
        free(enu);
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
    }
    ct_status st = to_enu(f, n, m->p, enu, err);
    for (uint32_t i = 0; i < n && !st; i++) {
        const float *gn = m->n + 3 * i;
        double e = gn[0] * f->gx[0] + gn[1] * f->gy[0], no = gn[0] * f->gx[1] + gn[1] * f->gy[1], u = gn[2];
        double l = sqrt(e * e + no * no + u * u);
        p->positions[3 * i] = (float)enu[3 * i];
        p->positions[3 * i + 1] = (float)enu[3 * i + 2];
        p->positions[3 * i + 2] = (float)-enu[3 * i + 1];
        p->normals[3 * i] = (float)(e / l);
        p->normals[3 * i + 1] = (float)(u / l);
        p->normals[3 * i + 2] = (float)(-no / l);
    }
    free(enu);
    if (colors)
        memcpy(p->colors, m->c, (size_t)n * 4 * sizeof(float));
    if (fids)
        memcpy(p->feature_ids, m->f, (size_t)n * sizeof(uint32_t));
    memcpy(p->indices, m->idx, (size_t)m->ni * sizeof(uint32_t));
    p->vertex_count = n;
    p->index_count = m->ni;
    return st;
}

static ct_gltf_material material(const char *name, float r, float g, float b, float a, float rough)
{
    ct_gltf_material m;
    memset(&m, 0, sizeof m);
    m.name = (char *)name;
    m.base_color[0] = r, m.base_color[1] = g, m.base_color[2] = b, m.base_color[3] = a;
    m.metallic = 0;
    m.roughness = rough;
    m.alpha_mode = a < 1 ? CT_GLTF_ALPHA_BLEND : CT_GLTF_ALPHA_OPAQUE;
    m.alpha_cutoff = 0.5f;
    ct_gltf_texture_ref none = {.texture = -1, .texcoord = 0, .scale = 1};
    m.base_color_texture = m.metallic_roughness_texture = m.normal_texture = m.occlusion_texture =
        m.emissive_texture = none;
    return m;
}

enum { M_TERRAIN, M_WATER, M_ROADS, M_BUILDINGS, M_FURNITURE, M_COUNT };

ct_status demo_write_glb(const demo_district *d, const char *path, ct_error *err)
{
    mesh ms[M_COUNT];
    memset(ms, 0, sizeof ms);
    build_terrain(d, &ms[M_TERRAIN]);
    build_water(&ms[M_WATER]);
    for (int i = 0; i < d->road_count; i++)
        build_road(d, &d->roads[i], &ms[M_ROADS]);
    for (int i = 0; i < d->building_count; i++)
        build_building(&d->buildings[i], &ms[M_BUILDINGS]);
    for (int i = 0; i < d->poi_count; i++)
        build_poi(&d->pois[i], &ms[M_FURNITURE]);
    /* The primary school's sports ground: a running track around a pitch. */
    const float track[4] = {0.72f, 0.36f, 0.28f, 1}, pitch[4] = {0.38f, 0.62f, 0.30f, 1};
    drape(d, &ms[M_FURNITURE], 780, 72, 985, 140, 0.35, track);
    drape(d, &ms[M_FURNITURE], 792, 82, 973, 130, 0.45, pitch);

    static const char *names[M_COUNT] = {"terrain", "river", "roads", "buildings", "street_furniture"};
    ct_gltf_material mats[M_COUNT] = {
        material("terrain", 1, 1, 1, 1, 1.0f),     material("water", 0.22f, 0.42f, 0.55f, 0.8f, 0.15f),
        material("roads", 1, 1, 1, 1, 0.9f),       material("buildings", 1, 1, 1, 1, 0.8f),
        material("street_furniture", 1, 1, 1, 1, 0.6f),
    };
    mats[M_WATER].double_sided = true;
    ct_gltf_primitive prims[M_COUNT];
    ct_gltf_mesh meshes[M_COUNT];
    ct_gltf_node nodes[M_COUNT];
    int scene_nodes[M_COUNT];
    memset(prims, 0, sizeof prims);
    frame f;
    ct_status st = frame_init(&f, d, err);
    for (int i = 0; i < M_COUNT && !st; i++) {
        bool colors = i != M_WATER, fids = i == M_ROADS || i == M_BUILDINGS || i == M_FURNITURE;
        st = to_primitive(&f, &ms[i], colors, fids, i, &prims[i], err);
        meshes[i] = (ct_gltf_mesh){.name = (char *)names[i], .primitives = &prims[i], .primitive_count = 1};
        memset(&nodes[i], 0, sizeof nodes[i]);
        nodes[i].name = (char *)names[i];
        nodes[i].mesh = i;
        nodes[i].parent = -1;
        ct_dmat4_identity(nodes[i].local);
        ct_dmat4_identity(nodes[i].world);
        scene_nodes[i] = i;
    }
    if (!st) {
        ct_gltf_scene scene = {.name = "district", .nodes = scene_nodes, .node_count = M_COUNT};
        ct_gltf g;
        memset(&g, 0, sizeof g);
        g.nodes = nodes, g.node_count = M_COUNT;
        g.meshes = meshes, g.mesh_count = M_COUNT;
        g.materials = mats, g.material_count = M_COUNT;
        g.scenes = &scene, g.scene_count = 1, g.default_scene = 0;
        st = ct_gltf_write_glb(&g, path, err);
    }
    ct_crs_transform_destroy(f.to_geo);
    for (int i = 0; i < M_COUNT; i++) {
        mesh_free(&ms[i]);
        free(prims[i].positions);
        free(prims[i].normals);
        free(prims[i].colors);
        free(prims[i].feature_ids);
        free(prims[i].indices);
    }
    return st;
}
