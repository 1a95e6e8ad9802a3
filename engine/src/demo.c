/* The demo district (docs/demo.md): a synthetic riverside quarter of a
 * river-delta port city near 113.08°E 22.58°N, laid out by rules and a
 * seeded random generator so every run gives the same bytes. This file lays
 * the district out (terrain model, street network, buildings, points of
 * interest) and writes the GIS files and scene.json; demo_mesh.c builds
 * district.glb from the same layout. */
#include "demo_internal.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_raster.h"
#include "citytwin/ct_scene.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Bump when the generated content changes, so cached copies are regenerated. */
#define DEMO_GENERATOR_VERSION 7
#define DEMO_DEFAULT_SEED 20260529u
#define DEMO_CRS "EPSG:4547"
#define DEMO_GEOG_CRS "EPSG:4490"
#define DEMO_ANCHOR_LON 113.08
#define DEMO_ANCHOR_LAT 22.58

const char *const ct_demo_files[] = {"scene.json",     "dem.tif",      "buildings.geojson", "roads.geojson",
                                     "pois.geojson",   "river.geojson", "district.glb",     NULL};
const char *const ct_demo_result_files[] = {"flood_depth.tif", "flood_extent.geojson", "impact.geojson",
                                            "route.geojson", "hospital_route.geojson", NULL};

/* ---- deterministic randomness ------------------------------------------ */

typedef struct rng { uint64_t s; } rng;

static uint64_t rng_next(rng *r)
{
    /* splitmix64: tiny, fast, and the same sequence on every platform. */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r, double lo, double hi) { return lo + (hi - lo) * (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static int rng_int(rng *r, int lo, int hi) { return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1)); }

/* ---- terrain model ------------------------------------------------------ */

static double smoothstep(double e0, double e1, double x)
{
    double t = (x - e0) / (e1 - e0);
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return t * t * (3 - 2 * t);
}

double demo_river_y(double x) { return 430.0 + 50.0 * sin(x / DEMO_W * 2.0 * M_PI * 0.8 + 0.3); }

static double lattice(const float *v, int nx, int ny, double spacing, double x, double y)
{
    double fx = x / spacing, fy = y / spacing;
    int ix = (int)floor(fx), iy = (int)floor(fy);
    if (ix < 0) ix = 0;
    if (iy < 0) iy = 0;
    if (ix > nx - 2) ix = nx - 2;
    if (iy > ny - 2) iy = ny - 2;
    double tx = smoothstep(0, 1, fx - ix), ty = smoothstep(0, 1, fy - iy);
    double a = v[iy * nx + ix], b = v[iy * nx + ix + 1], c = v[(iy + 1) * nx + ix], e = v[(iy + 1) * nx + ix + 1];
    return (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + e * tx) * ty;
}

/* A river channel (bed -3 m) with banks, a low waterfront on the north bank
 * between x 300 and 1000 (bank top 1.3 m: floods first), an embanked north
 * bank elsewhere (2.8 m), a higher south bank (3.2 m), land rising away from
 * the river, three hills, and gentle seeded noise. */
double demo_ground(const demo_district *d, double x, double y)
{
    double dy = y - demo_river_y(x), ad = fabs(dy);
    double bank_end = DEMO_RIVER_HALF + 15.0;
    double top, slope, wf = 0;
    if (dy > 0) {
        wf = smoothstep(250, 380, x) * (1 - smoothstep(920, 1050, x)); /* waterfront weight */
        top = 2.8 - 1.5 * wf;
        slope = 0.014 - 0.008 * wf;
    } else {
        top = 3.2;
        slope = 0.02;
    }
    double h;
    if (ad <= DEMO_RIVER_HALF) {
        double t = ad / DEMO_RIVER_HALF;
        h = -3.0 + 2.0 * t * t;
    } else if (ad <= bank_end) {
        h = -1.0 + (top + 1.0) * smoothstep(DEMO_RIVER_HALF, bank_end, ad);
    } else {
        h = top + slope * (ad - bank_end);
    }
    double land = smoothstep(bank_end, bank_end + 60, ad);
    double hills = 12.0 * exp(-((x - 180) * (x - 180) + (y - 930) * (y - 930)) / (2 * 170.0 * 170.0)) +
                   22.0 * exp(-((x - 1280) * (x - 1280) + (y - 60) * (y - 60)) / (2 * 200.0 * 200.0)) +
                   6.0 * exp(-((x - 1350) * (x - 1350) + (y - 950) * (y - 950)) / (2 * 150.0 * 150.0));
    double amp = 1.0 - 0.6 * wf;
    double noise = 0.35 * lattice(&d->noise_a[0][0], DEMO_NA_X, DEMO_NA_Y, DEMO_NOISE_A, x, y) +
                   0.12 * lattice(&d->noise_b[0][0], DEMO_NB_X, DEMO_NB_Y, DEMO_NOISE_B, x, y);
    return h + land * hills + smoothstep(DEMO_RIVER_HALF, bank_end, ad) * amp * noise;
}

/* ---- growable arrays ----------------------------------------------------- */

static void *grow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (q) {
        memset((char *)q + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
        *cap = nc;
    }
    return q;
}

/* ---- streets --------------------------------------------------------------- */

/* A street before it is split into edges at intersections. */
typedef struct street {
    demo_road meta;
    double xy[256];
    int n;
} street;

typedef struct street_list {
    street *s;
    int n, cap;
} street_list;

static street *street_new(street_list *l, const char *name, const char *zh, const char *klass, int speed,
                          int oneway, int bridge, int lanes, double width)
{
    street *p = grow(l->s, &l->cap, l->n + 1, sizeof *l->s);
    if (!p)
        return NULL;
    l->s = p;
    street *s = &l->s[l->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->meta.name, sizeof s->meta.name, "%s", name);
    snprintf(s->meta.name_zh, sizeof s->meta.name_zh, "%s", zh);
    s->meta.klass = klass;
    s->meta.speed_kmh = speed;
    s->meta.oneway = oneway;
    s->meta.bridge = bridge;
    s->meta.lanes = lanes;
    s->meta.width = width;
    return s;
}

static void street_pt(street *s, double x, double y)
{
    if (!s || s->n >= 128)
        return;
    s->xy[2 * s->n] = x;
    s->xy[2 * s->n + 1] = y;
    s->n++;
}

static const double NX[] = {100, 250, 400, 550, 700, 850, 1000, 1150, 1300, 1450}; /* north-bank streets */
static const double NY[] = {640, 780, 920};
static const double SX[] = {100, 400, 700, 1000, 1300}; /* south-bank streets */
static const double SY[] = {60, 200};
#define N_NX 10
#define N_SX 5
#define QILOU_X0 400.0
#define QILOU_X1 850.0
#define QILOU_Y 640.0
#define QILOU_HALF 3.5 /* half carriageway: the arcades line its edges */

static double road_north(double x) { return demo_river_y(x) + DEMO_ROAD_RIVER; }
static double road_south(double x) { return demo_river_y(x) - DEMO_ROAD_RIVER; }

static void layout_streets(street_list *L)
{
    static const char *vn[] = {"Xiguan Road", "Shuangqiao Lane", "Xinhua Road", "Lianhua Lane", "Huaqiao Road",
                               "Yinzhou Lane", "Dongmen Road", "Baihe Lane", "Xinjiang Lane", "Dongguan Road"};
    static const char *vz[] = {"西关路", "双桥巷", "新华路", "莲花巷", "华侨路", "银洲巷", "东门路", "白鹤巷", "新江巷", "东关路"};
    static const char *sn[] = {"Nanpu Road", "Haikou Road", "Gangwan Lane", "Chuanchang Road", "Nanshan Lane"};
    static const char *sz[] = {"南浦路", "海口路", "港湾巷", "船厂路", "南山巷"};
    street *s;
    /* Riverside roads along both banks. */
    s = street_new(L, "Jiangbin North Road", "江滨北路", "primary", 50, 0, 0, 4, 14);
    for (double x = 0; x <= DEMO_W; x += 25)
        street_pt(s, x, road_north(x));
    s = street_new(L, "Jiangbin South Road", "江滨南路", "primary", 50, 0, 0, 4, 14);
    for (double x = 0; x <= DEMO_W; x += 25)
        street_pt(s, x, road_south(x));
    /* North bank: a grid between the riverside road and the hills. */
    for (int i = 0; i < N_NX; i++) {
        bool arterial = NX[i] == 400 || NX[i] == 1000;
        s = street_new(L, vn[i], vz[i], arterial ? "secondary" : "residential", arterial ? 40 : 30, 0, 0,
                       arterial ? 2 : 2, arterial ? 10 : 7);
        street_pt(s, NX[i], road_north(NX[i]));
        for (int j = 0; j < 3; j++)
            street_pt(s, NX[i], NY[j]);
    }
    s = street_new(L, "Zhongshan Road West", "中山路西段", "secondary", 40, 0, 0, 2, 10);
    for (int i = 0; i < N_NX && NX[i] <= QILOU_X0; i++)
        street_pt(s, NX[i], QILOU_Y);
    /* The qilou street: narrow, paved, one-way eastbound. */
    s = street_new(L, "Qilou Street", "骑楼街", "residential", 20, 1, 0, 1, 2 * QILOU_HALF);
    for (int i = 0; i < N_NX; i++)
        if (NX[i] >= QILOU_X0 && NX[i] <= QILOU_X1)
            street_pt(s, NX[i], QILOU_Y);
    s = street_new(L, "Zhongshan Road East", "中山路东段", "secondary", 40, 0, 0, 2, 10);
    for (int i = 0; i < N_NX; i++)
        if (NX[i] >= QILOU_X1)
            street_pt(s, NX[i], QILOU_Y);
    s = street_new(L, "Renmin Road", "人民路", "secondary", 40, 0, 0, 2, 10);
    for (int i = 0; i < N_NX; i++)
        street_pt(s, NX[i], NY[1]);
    s = street_new(L, "Shanbian Road", "山边路", "residential", 30, 0, 0, 2, 7);
    for (int i = 0; i < N_NX; i++)
        street_pt(s, NX[i], NY[2]);
    /* South bank. */
    for (int i = 0; i < N_SX; i++) {
        bool arterial = SX[i] == 400 || SX[i] == 1000;
        s = street_new(L, sn[i], sz[i], arterial ? "secondary" : "residential", arterial ? 40 : 30, 0, 0, 2,
                       arterial ? 10 : 7);
        street_pt(s, SX[i], SY[0]);
        street_pt(s, SX[i], SY[1]);
        street_pt(s, SX[i], road_south(SX[i]));
    }
    s = street_new(L, "Nanhuan Road", "南环路", "secondary", 40, 0, 0, 2, 10);
    for (int i = 0; i < N_SX; i++)
        street_pt(s, SX[i], SY[0]);
    s = street_new(L, "Gangqian Road", "港前路", "residential", 30, 0, 0, 2, 7);
    for (int i = 0; i < N_SX; i++)
        street_pt(s, SX[i], SY[1]);
    /* Two bridges join the banks. */
    s = street_new(L, "Xijiang Bridge", "西江大桥", "primary", 50, 0, 1, 4, 12);
    street_pt(s, 400, road_south(400));
    street_pt(s, 400, road_north(400));
    s = street_new(L, "Huaqiao Bridge", "华侨桥", "primary", 50, 0, 1, 4, 12);
    street_pt(s, 1000, road_south(1000));
    street_pt(s, 1000, road_north(1000));
}

typedef struct node_list {
    double *xy;
    int *uses;
    int n, cap;
} node_list;

static int node_find(const node_list *nl, double x, double y)
{
    for (int i = 0; i < nl->n; i++)
        if (nl->xy[2 * i] == x && nl->xy[2 * i + 1] == y)
            return i;
    return -1;
}

/* Splits streets into edges between intersections (a vertex shared by two
 * streets, or a street's end): the topology routing needs. */
static ct_status split_streets(demo_district *d, const street_list *L, ct_error *err)
{
    node_list nl = {0};
    int cap_uses = 0;
    for (int s = 0; s < L->n; s++)
        for (int k = 0; k < L->s[s].n; k++) {
            double x = L->s[s].xy[2 * k], y = L->s[s].xy[2 * k + 1];
            int i = node_find(&nl, x, y);
            if (i < 0) {
                int c = nl.cap;
                double *nx = grow(nl.xy, &c, nl.n + 1, 2 * sizeof(double));
                if (!nx)
                    goto oom;
                nl.xy = nx;
                int *nu = grow(nl.uses, &cap_uses, nl.n + 1, sizeof(int));
                if (!nu)
                    goto oom;
                nl.uses = nu;
                nl.cap = c;
                i = nl.n++;
                nl.xy[2 * i] = x;
                nl.xy[2 * i + 1] = y;
                nl.uses[i] = 0;
            }
            nl.uses[i] += (k == 0 || k == L->s[s].n - 1) ? 2 : 1;
        }
    /* Node ids: vertices used twice or more, numbered in order of first appearance. */
    int *ids = ct_malloc_array((size_t)nl.n, sizeof(int));
    if (!ids)
        goto oom;
    int next = 0;
    for (int i = 0; i < nl.n; i++)
        ids[i] = nl.uses[i] >= 2 ? next++ : -1;
    d->node_count = next;
    for (int s = 0; s < L->n; s++) {
        const street *st = &L->s[s];
        int start = 0;
        for (int k = 1; k < st->n; k++) {
            int id = ids[node_find(&nl, st->xy[2 * k], st->xy[2 * k + 1])];
            if (id < 0)
                continue;
            demo_road *p = grow(d->roads, &d->road_cap, d->road_count + 1, sizeof *d->roads);
            if (!p) {
                free(ids);
                goto oom;
            }
            d->roads = p;
            demo_road *r = &d->roads[d->road_count];
            *r = st->meta;
            r->id = d->road_count + 1;
            d->road_count++;
            r->n = k - start + 1;
            r->xy = ct_malloc_array((size_t)r->n * 2, sizeof(double));
            if (!r->xy) {
                free(ids);
                goto oom;
            }
            memcpy(r->xy, st->xy + 2 * start, (size_t)r->n * 2 * sizeof(double));
            r->from_node = ids[node_find(&nl, st->xy[2 * start], st->xy[2 * start + 1])];
            r->to_node = id;
            r->length = 0;
            for (int q = 1; q < r->n; q++)
                r->length += hypot(r->xy[2 * q] - r->xy[2 * q - 2], r->xy[2 * q + 1] - r->xy[2 * q - 1]);
            start = k;
        }
    }
    free(ids);
    free(nl.xy);
    free(nl.uses);
    return CT_OK;
oom:
    free(nl.xy);
    free(nl.uses);
    return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
}

/* ---- buildings -------------------------------------------------------------- */

static const char *ESTATES[] = {"Jiangbin Garden", "Lotus Court", "Harbour View", "Riverside Villas", "Banyan Court",
                                "Pearl Terrace", "Xijiang Plaza", "Kaiping Court", "Overseas Chinese Village",
                                "Sunrise Garden", "Fishermen's Row", "Huaqiao Mansions"};
static const char *ESTATES_ZH[] = {"江滨花园", "荷花苑", "港景湾", "河畔雅居", "榕树苑", "明珠台",
                                   "西江广场", "开平苑", "华侨新村", "旭日花园", "渔人里", "华侨大厦"};
#define N_ESTATES 12

typedef struct layout_ctx {
    demo_district *d;
    rng r;
    bool oom;
} layout_ctx;

static demo_building *building_add(layout_ctx *c, double x0, double y0, double x1, double y1, int floors,
                                   const char *use, demo_roof roof)
{
    demo_district *d = c->d;
    demo_building *p = grow(d->buildings, &d->building_cap, d->building_count + 1, sizeof *d->buildings);
    if (!p) {
        c->oom = true;
        return NULL;
    }
    d->buildings = p;
    demo_building *b = &d->buildings[d->building_count];
    memset(b, 0, sizeof *b);
    b->id = d->building_count + 1;
    d->building_count++;
    b->x0 = x0, b->y0 = y0, b->x1 = x1, b->y1 = y1;
    b->floors = floors;
    b->use = use;
    b->roof = roof;
    double fh = !strcmp(use, "residential") ? 3.0 : 3.6;
    b->height = round(floors * fh * 10) / 10;
    double g = demo_ground(d, (x0 + x1) / 2, (y0 + y1) / 2);
    double cx[4] = {x0, x1, x1, x0}, cy[4] = {y0, y0, y1, y1};
    for (int i = 0; i < 4; i++) {
        double gi = demo_ground(d, cx[i], cy[i]);
        if (gi < g)
            g = gi;
    }
    b->ground = round(g * 100) / 100;
    return b;
}

static void set_color(demo_building *b, rng *r, float cr, float cg, float cb)
{
    float j = (float)rng_uniform(r, -0.04, 0.04);
    b->color[0] = cr + j;
    b->color[1] = cg + j;
    b->color[2] = cb + j;
}

typedef enum { LOTS_RESIDENTIAL, LOTS_RIVERFRONT, LOTS_WAREHOUSE } lots_kind;

/* Fills a rectangle with a grid of lots, one building each, keeping clear of
 * the riverside road on `river_side` (+1: the rectangle is north of the river). */
static void fill_lots(layout_ctx *c, double x0, double y0, double x1, double y1, double lot_w, double lot_h,
                      lots_kind kind, int estate, int river_side)
{
    int nx = (int)floor((x1 - x0) / lot_w), ny = (int)floor((y1 - y0) / lot_h);
    if (nx < 1 || ny < 1)
        return;
    double cw = (x1 - x0) / nx, ch = (y1 - y0) / ny;
    int number = 1;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            rng *r = &c->r;
            double bx0 = x0 + i * cw + rng_uniform(r, 2.5, 6), bx1 = x0 + (i + 1) * cw - rng_uniform(r, 2.5, 6);
            double by0 = y0 + j * ch + rng_uniform(r, 2.5, 6), by1 = y0 + (j + 1) * ch - rng_uniform(r, 2.5, 6);
            double clear = 7 + 3;
            if (river_side > 0) {
                double lim = fmax(fmax(road_north(bx0), road_north(bx1)), road_north((bx0 + bx1) / 2)) + clear;
                by0 = fmax(by0, lim);
            } else if (river_side < 0) {
                double lim = fmin(fmin(road_south(bx0), road_south(bx1)), road_south((bx0 + bx1) / 2)) - clear;
                by1 = fmin(by1, lim);
            }
            if (bx1 - bx0 < 8 || by1 - by0 < 8)
                continue;
            int floors;
            const char *use = "residential";
            demo_roof roof = DEMO_ROOF_FLAT;
            double p = rng_uniform(r, 0, 1);
            if (kind == LOTS_WAREHOUSE) {
                use = "warehouse";
                floors = rng_int(r, 1, 2);
                roof = DEMO_ROOF_GABLE;
            } else if (kind == LOTS_RIVERFRONT && j == 0 && p < 0.5) {
                use = "commercial";
                floors = rng_int(r, 3, 8);
            } else if (p < 0.12) {
                floors = rng_int(r, 24, 32);
            } else if (p < 0.40) {
                floors = rng_int(r, 10, 18);
            } else if (p < 0.55) {
                floors = rng_int(r, 2, 4);
                roof = DEMO_ROOF_GABLE;
            } else {
                floors = rng_int(r, 5, 9);
            }
            /* Towers get a compact footprint. */
            if (floors >= 24) {
                double cx = (bx0 + bx1) / 2, cy = (by0 + by1) / 2, hw = fmin(14, (bx1 - bx0) / 2),
                       hh = fmin(14, (by1 - by0) / 2);
                bx0 = cx - hw, bx1 = cx + hw, by0 = cy - hh, by1 = cy + hh;
            }
            demo_building *b = building_add(c, bx0, by0, bx1, by1, floors, use, roof);
            if (!b)
                return;
            if (!strcmp(use, "warehouse")) {
                snprintf(b->name, sizeof b->name, "Port Warehouse %d", number);
                snprintf(b->name_zh, sizeof b->name_zh, "港口仓库%d号", number);
                set_color(b, r, 0.62f, 0.66f, 0.70f);
            } else {
                snprintf(b->name, sizeof b->name, "%s Block %d", ESTATES[estate % N_ESTATES], number);
                snprintf(b->name_zh, sizeof b->name_zh, "%s%d栋", ESTATES_ZH[estate % N_ESTATES], number);
                static const float pal[4][3] = {{0.86f, 0.83f, 0.76f}, {0.80f, 0.78f, 0.74f}, {0.88f, 0.80f, 0.70f},
                                                {0.76f, 0.80f, 0.82f}};
                if (!strcmp(use, "commercial"))
                    set_color(b, r, 0.66f, 0.74f, 0.82f);
                else {
                    int k = rng_int(r, 0, 3);
                    set_color(b, r, pal[k][0], pal[k][1], pal[k][2]);
                }
            }
            number++;
        }
}

/* Contiguous narrow qilou shophouses along one side of the qilou street;
 * side +1: the row is north of the street (arcade on its south face). */
static void qilou_row(layout_ctx *c, double x0, double x1, int side, int *number)
{
    static const float pal[5][3] = {{0.93f, 0.85f, 0.66f}, {0.90f, 0.74f, 0.58f}, {0.88f, 0.72f, 0.72f},
                                    {0.78f, 0.86f, 0.76f}, {0.95f, 0.92f, 0.84f}};
    double depth = 16;
    double ya = side > 0 ? QILOU_Y + QILOU_HALF : QILOU_Y - QILOU_HALF - depth;
    double x = x0;
    while (x1 - x >= 5) {
        double w = rng_uniform(&c->r, 6, 9);
        if (x1 - (x + w) < 5)
            w = x1 - x;
        demo_building *b = building_add(c, x, ya, x + w, ya + depth, rng_int(&c->r, 3, 5), "mixed", DEMO_ROOF_FLAT);
        if (!b)
            return;
        /* Ground floor 4.5 m (the arcade), upper floors 3.2 m. */
        b->height = round((4.5 + (b->floors - 1) * 3.2) * 10) / 10;
        b->arcade = side > 0 ? -1 : 1; /* the arcade faces the street */
        snprintf(b->name, sizeof b->name, "Qilou Street No. %d", *number);
        snprintf(b->name_zh, sizeof b->name_zh, "骑楼街%d号", *number);
        int k = rng_int(&c->r, 0, 4);
        set_color(b, &c->r, pal[k][0], pal[k][1], pal[k][2]);
        (*number)++;
        x += w;
    }
}

static void named(demo_building *b, const char *name, const char *zh, float r, float g, float bl)
{
    if (!b)
        return;
    snprintf(b->name, sizeof b->name, "%s", name);
    snprintf(b->name_zh, sizeof b->name_zh, "%s", zh);
    b->color[0] = r, b->color[1] = g, b->color[2] = bl;
}

static void layout_buildings(layout_ctx *c)
{
    const double cl = 9; /* clearance from street centre lines */
    int estate = 0, qilou_no = 1;
    /* North bank blocks: columns between NX streets, rows A (river..640), B (640..780), C (780..920). */
    for (int i = 0; i + 1 < N_NX; i++) {
        double x0 = NX[i] + cl, x1 = NX[i + 1] - cl;
        bool qilou = NX[i] >= QILOU_X0 && NX[i + 1] <= QILOU_X1;
        double a_lo = 455 + 10; /* refined per lot against the riverside road */
        double a_hi = QILOU_Y - cl, b_lo = QILOU_Y + cl;
        if (qilou) {
            qilou_row(c, x0, x1, -1, &qilou_no);
            qilou_row(c, x0, x1, +1, &qilou_no);
            a_hi = QILOU_Y - QILOU_HALF - 16 - 4;
            b_lo = QILOU_Y + QILOU_HALF + 16 + 4;
        }
        fill_lots(c, x0, a_lo, x1, a_hi, 42, 40, LOTS_RIVERFRONT, estate++, +1);
        fill_lots(c, x0, b_lo, x1, NY[1] - cl, 42, 45, LOTS_RESIDENTIAL, estate++, 0);
        if (NX[i] == 250) {
            named(building_add(c, 270, 792, 320, 818, 3, "fire_station", DEMO_ROOF_FLAT), "Jiangbin Fire Station",
                  "江滨消防站", 0.80f, 0.22f, 0.18f);
            named(building_add(c, 330, 795, 336, 801, 8, "fire_station", DEMO_ROOF_FLAT),
                  "Jiangbin Fire Station Drill Tower", "江滨消防站训练塔", 0.80f, 0.22f, 0.18f);
            fill_lots(c, 262, 835, 391, NY[2] - cl, 42, 40, LOTS_RESIDENTIAL, estate++, 0);
        } else if (NX[i] == 1150) {
            named(building_add(c, 1165, 850, 1285, 905, 10, "hospital", DEMO_ROOF_FLAT), "Jiangbin People's Hospital",
                  "江滨人民医院", 0.95f, 0.95f, 0.94f);
            named(building_add(c, 1165, 795, 1225, 840, 3, "hospital", DEMO_ROOF_FLAT),
                  "Jiangbin People's Hospital Outpatient Wing", "江滨人民医院门诊楼", 0.93f, 0.94f, 0.95f);
        } else {
            fill_lots(c, x0, NY[1] + cl, x1, NY[2] - cl, 42, 45, LOTS_RESIDENTIAL, estate++, 0);
        }
    }
    /* South bank blocks: columns between SX streets, rows (60..200) and (200..river). */
    for (int i = 0; i + 1 < N_SX; i++) {
        double x0 = SX[i] + cl, x1 = SX[i + 1] - cl;
        if (SX[i] == 700) {
            named(building_add(c, 715, 150, 805, 172, 5, "school", DEMO_ROOF_FLAT), "Jiangbin Primary School",
                  "江滨小学", 0.92f, 0.72f, 0.52f);
            named(building_add(c, 715, 78, 755, 138, 4, "school", DEMO_ROOF_FLAT), "Jiangbin Primary School Hall",
                  "江滨小学礼堂", 0.90f, 0.70f, 0.50f);
        } else if (SX[i] == 1000) {
            named(building_add(c, 1015, 72, 1060, 98, 2, "fire_station", DEMO_ROOF_FLAT), "South Bank Fire Station",
                  "南岸消防站", 0.80f, 0.22f, 0.18f);
            fill_lots(c, 1080, SY[0] + cl, x1, SY[1] - cl, 42, 45, LOTS_RESIDENTIAL, estate++, 0);
        } else {
            fill_lots(c, x0, SY[0] + cl, x1, SY[1] - cl, 40, 42, LOTS_RESIDENTIAL, estate++, 0);
        }
        fill_lots(c, x0, SY[1] + cl, x1, 405 - 10, SX[i] == 1000 ? 60 : 40, SX[i] == 1000 ? 38 : 40,
                  SX[i] == 1000 ? LOTS_WAREHOUSE : LOTS_RESIDENTIAL, estate++, -1);
    }
}

/* ---- points of interest ---------------------------------------------------- */

static demo_poi *poi_add(layout_ctx *c, const char *kind, const char *subtype, double x, double y)
{
    demo_district *d = c->d;
    demo_poi *p = grow(d->pois, &d->poi_cap, d->poi_count + 1, sizeof *d->pois);
    if (!p) {
        c->oom = true;
        return NULL;
    }
    d->pois = p;
    demo_poi *o = &d->pois[d->poi_count];
    memset(o, 0, sizeof *o);
    o->id = d->poi_count + 1;
    d->poi_count++;
    o->kind = kind;
    o->subtype = subtype;
    o->x = x;
    o->y = y;
    o->z = round(demo_ground(d, x, y) * 100) / 100;
    return o;
}

static bool inside_building(const demo_district *d, double x, double y, double margin)
{
    for (int i = 0; i < d->building_count; i++) {
        const demo_building *b = &d->buildings[i];
        if (x > b->x0 - margin && x < b->x1 + margin && y > b->y0 - margin && y < b->y1 + margin)
            return true;
    }
    return false;
}

static void sensor(layout_ctx *c, const char *subtype, const char *code, int n, double x, double y, const char *name,
                   const char *zh)
{
    demo_poi *p = poi_add(c, "sensor", subtype, x, y);
    if (!p)
        return;
    snprintf(p->name, sizeof p->name, "%s %d", name, n);
    snprintf(p->name_zh, sizeof p->name_zh, "%s%d", zh, n);
    snprintf(p->topic, sizeof p->topic, "citytwin/demo/sensors/%s-%d", code, n);
}

static void layout_pois(layout_ctx *c)
{
    demo_district *d = c->d;
    demo_poi *p;
    /* Hydrants every 90 m along streets, on the right-hand kerb, never in the water or a building. */
    int hn = 1;
    for (int i = 0; i < d->road_count; i++) {
        const demo_road *r = &d->roads[i];
        if (r->bridge)
            continue;
        double next = 30, walked = 0;
        for (int k = 1; k < r->n; k++) {
            double ax = r->xy[2 * k - 2], ay = r->xy[2 * k - 1], bx = r->xy[2 * k], by = r->xy[2 * k + 1];
            double len = hypot(bx - ax, by - ay);
            while (next <= walked + len && len > 0) {
                double t = (next - walked) / len;
                double ux = (bx - ax) / len, uy = (by - ay) / len;
                /* On the kerb; on the qilou street, whose pavements are under the arcades, at its edge. */
                double off = !strcmp(r->name, "Qilou Street") ? r->width / 2 - 0.5 : r->width / 2 + 1.5;
                double x = ax + t * (bx - ax) + uy * off, y = ay + t * (by - ay) - ux * off;
                if (x > 2 && x < DEMO_W - 2 && y > 2 && y < DEMO_H - 2 && demo_ground(d, x, y) > 1.0 &&
                    !inside_building(d, x, y, 0.5) && (p = poi_add(c, "hydrant", "", x, y))) {
                    snprintf(p->name, sizeof p->name, "Hydrant H-%03d", hn);
                    snprintf(p->name_zh, sizeof p->name_zh, "消火栓H-%03d", hn);
                    hn++;
                }
                next += 90;
            }
            walked += len;
        }
    }
    /* Facilities at their entrances. */
    struct { const char *kind, *name, *zh; double x, y; } fac[] = {
        {"fire_station", "Jiangbin Fire Station", "江滨消防站", 295, 789},
        {"fire_station", "South Bank Fire Station", "南岸消防站", 1037, 69},
        {"hospital", "Jiangbin People's Hospital", "江滨人民医院", 1195, 789},
        {"school", "Jiangbin Primary School", "江滨小学", 760, 69},
    };
    for (size_t i = 0; i < sizeof fac / sizeof fac[0]; i++)
        if ((p = poi_add(c, fac[i].kind, "", fac[i].x, fac[i].y))) {
            snprintf(p->name, sizeof p->name, "%s", fac[i].name);
            snprintf(p->name_zh, sizeof p->name_zh, "%s", fac[i].zh);
        }
    /* Sensors: river gauges in the channel, rain gauges in open ground,
     * air quality at street corners, smart lamp poles along the qilou street
     * and the waterfront promenade. */
    const double gx[] = {250, 750, 1250};
    for (int i = 0; i < 3; i++)
        sensor(c, "water_level", "wl", i + 1, gx[i], demo_river_y(gx[i]), "River level gauge", "河道水位计");
    sensor(c, "rain_gauge", "rain", 1, 880, 120, "Rain gauge", "雨量计");
    sensor(c, "rain_gauge", "rain", 2, 150, 965, "Rain gauge", "雨量计");
    sensor(c, "air_quality", "aq", 1, 406, 786, "Air quality station", "空气质量监测站");
    sensor(c, "air_quality", "aq", 2, 1006, 646, "Air quality station", "空气质量监测站");
    sensor(c, "air_quality", "aq", 3, 706, 206, "Air quality station", "空气质量监测站");
    int ln = 1;
    for (double x = QILOU_X0 + 15; x < QILOU_X1 - 5; x += 30)
        sensor(c, "lamp_pole", "lamp", ln++, x, QILOU_Y - QILOU_HALF + 0.8, "Smart lamp pole", "智慧灯杆");
    for (double x = 350; x <= 950; x += 60)
        sensor(c, "lamp_pole", "lamp", ln++, x, road_north(x) - 9, "Smart lamp pole", "智慧灯杆");
}

/* ---- GIS files ----------------------------------------------------------- */

typedef struct vec_file {
    GDALDatasetH ds;
    OGRLayerH layer;
} vec_file;

static ct_status vec_create(const char *path, const char *name, OGRwkbGeometryType type, OGRSpatialReferenceH srs,
                            vec_file *v, ct_error *err)
{
    unlink(path); /* the GeoJSON driver will not overwrite */
    GDALDriverH drv = GDALGetDriverByName("GeoJSON");
    v->ds = drv ? GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL) : NULL;
    if (!v->ds)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create: %s", path, CPLGetLastErrorMsg());
    char **opts = CSLSetNameValue(NULL, "COORDINATE_PRECISION", "3");
    v->layer = GDALDatasetCreateLayer(v->ds, name, srs, type, opts);
    CSLDestroy(opts);
    if (!v->layer) {
        GDALClose(v->ds);
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot create layer: %s", path, CPLGetLastErrorMsg());
    }
    return CT_OK;
}

static void vec_field(vec_file *v, const char *name, OGRFieldType t)
{
    OGRFieldDefnH f = OGR_Fld_Create(name, t);
    OGR_L_CreateField(v->layer, f, TRUE);
    OGR_Fld_Destroy(f);
}

static ct_status vec_close(vec_file *v, const char *path, ct_status st, ct_error *err)
{
    if (v->ds)
        GDALClose(v->ds);
    v->ds = NULL;
    if (st == CT_OK && CPLGetLastErrorType() >= CE_Failure)
        return ct_error_set(err, CT_ERR_RUNTIME, "%s: write failed: %s", path, CPLGetLastErrorMsg());
    return st;
}

static ct_status vec_put(vec_file *v, OGRFeatureH f, const char *path, ct_error *err)
{
    OGRErr e = OGR_L_CreateFeature(v->layer, f);
    OGR_F_Destroy(f);
    return e == OGRERR_NONE ? CT_OK : ct_error_set(err, CT_ERR_RUNTIME, "%s: cannot write a feature", path);
}

static ct_status write_buildings(const demo_district *d, const char *path, OGRSpatialReferenceH srs, ct_error *err)
{
    vec_file v = {0};
    ct_status st = vec_create(path, "buildings", wkbPolygon, srs, &v, err);
    if (st)
        return st;
    vec_field(&v, "id", OFTInteger);
    vec_field(&v, "name", OFTString);
    vec_field(&v, "name_zh", OFTString);
    vec_field(&v, "use", OFTString);
    vec_field(&v, "floors", OFTInteger);
    vec_field(&v, "height", OFTReal);
    vec_field(&v, "ground", OFTReal);
    vec_field(&v, "arcade", OFTInteger);
    vec_field(&v, "roof", OFTString);
    for (int i = 0; i < d->building_count && !st; i++) {
        const demo_building *b = &d->buildings[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v.layer));
        OGR_F_SetFieldInteger(f, 0, b->id);
        OGR_F_SetFieldString(f, 1, b->name);
        OGR_F_SetFieldString(f, 2, b->name_zh);
        OGR_F_SetFieldString(f, 3, b->use);
        OGR_F_SetFieldInteger(f, 4, b->floors);
        OGR_F_SetFieldDouble(f, 5, b->height);
        OGR_F_SetFieldDouble(f, 6, b->ground);
        OGR_F_SetFieldInteger(f, 7, b->arcade != 0);
        OGR_F_SetFieldString(f, 8, b->roof == DEMO_ROOF_GABLE ? "gable" : "flat");
        OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing), poly = OGR_G_CreateGeometry(wkbPolygon);
        /* Counter-clockwise outer ring (GeoJSON's right-hand rule). */
        double xs[5] = {b->x0, b->x1, b->x1, b->x0, b->x0}, ys[5] = {b->y0, b->y0, b->y1, b->y1, b->y0};
        for (int k = 0; k < 5; k++)
            OGR_G_AddPoint_2D(ring, d->X0 + xs[k], d->Y0 + ys[k]);
        OGR_G_AddGeometryDirectly(poly, ring);
        OGR_F_SetGeometryDirectly(f, poly);
        st = vec_put(&v, f, path, err);
    }
    return vec_close(&v, path, st, err);
}

static ct_status write_roads(const demo_district *d, const char *path, OGRSpatialReferenceH srs, ct_error *err)
{
    vec_file v = {0};
    ct_status st = vec_create(path, "roads", wkbLineString, srs, &v, err);
    if (st)
        return st;
    const char *names[] = {"id", "name", "name_zh", "class", "speed_kmh", "oneway", "bridge", "lanes", "width",
                           "from_node", "to_node", "length"};
    OGRFieldType types[] = {OFTInteger, OFTString,  OFTString,  OFTString,  OFTInteger, OFTInteger,
                            OFTInteger, OFTInteger, OFTReal,    OFTInteger, OFTInteger, OFTReal};
    for (int i = 0; i < 12; i++)
        vec_field(&v, names[i], types[i]);
    for (int i = 0; i < d->road_count && !st; i++) {
        const demo_road *r = &d->roads[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v.layer));
        OGR_F_SetFieldInteger(f, 0, r->id);
        OGR_F_SetFieldString(f, 1, r->name);
        OGR_F_SetFieldString(f, 2, r->name_zh);
        OGR_F_SetFieldString(f, 3, r->klass);
        OGR_F_SetFieldInteger(f, 4, r->speed_kmh);
        OGR_F_SetFieldInteger(f, 5, r->oneway);
        OGR_F_SetFieldInteger(f, 6, r->bridge);
        OGR_F_SetFieldInteger(f, 7, r->lanes);
        OGR_F_SetFieldDouble(f, 8, r->width);
        OGR_F_SetFieldInteger(f, 9, r->from_node);
        OGR_F_SetFieldInteger(f, 10, r->to_node);
        OGR_F_SetFieldDouble(f, 11, round(r->length * 100) / 100);
        OGRGeometryH g = OGR_G_CreateGeometry(wkbLineString);
        for (int k = 0; k < r->n; k++)
            OGR_G_AddPoint_2D(g, d->X0 + r->xy[2 * k], d->Y0 + r->xy[2 * k + 1]);
        OGR_F_SetGeometryDirectly(f, g);
        st = vec_put(&v, f, path, err);
    }
    return vec_close(&v, path, st, err);
}

static ct_status write_pois(const demo_district *d, const char *path, OGRSpatialReferenceH srs, ct_error *err)
{
    vec_file v = {0};
    ct_status st = vec_create(path, "pois", wkbPoint25D, srs, &v, err);
    if (st)
        return st;
    const char *names[] = {"id", "kind", "subtype", "name", "name_zh", "topic", "elevation"};
    OGRFieldType types[] = {OFTInteger, OFTString, OFTString, OFTString, OFTString, OFTString, OFTReal};
    for (int i = 0; i < 7; i++)
        vec_field(&v, names[i], types[i]);
    for (int i = 0; i < d->poi_count && !st; i++) {
        const demo_poi *p = &d->pois[i];
        OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v.layer));
        OGR_F_SetFieldInteger(f, 0, p->id);
        OGR_F_SetFieldString(f, 1, p->kind);
        OGR_F_SetFieldString(f, 2, p->subtype);
        OGR_F_SetFieldString(f, 3, p->name);
        OGR_F_SetFieldString(f, 4, p->name_zh);
        if (*p->topic)
            OGR_F_SetFieldString(f, 5, p->topic);
        OGR_F_SetFieldDouble(f, 6, p->z);
        OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint25D);
        OGR_G_SetPoint(g, 0, d->X0 + p->x, d->Y0 + p->y, p->z);
        OGR_F_SetGeometryDirectly(f, g);
        st = vec_put(&v, f, path, err);
    }
    return vec_close(&v, path, st, err);
}

/* The water area at normal level: the channel between where its banks reach the water level. */
static ct_status write_river(const demo_district *d, const char *path, OGRSpatialReferenceH srs, ct_error *err)
{
    vec_file v = {0};
    ct_status st = vec_create(path, "river", wkbPolygon, srs, &v, err);
    if (st)
        return st;
    vec_field(&v, "name", OFTString);
    vec_field(&v, "name_zh", OFTString);
    vec_field(&v, "level", OFTReal);
    OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(v.layer));
    OGR_F_SetFieldString(f, 0, "Xijiang River (demo reach)");
    OGR_F_SetFieldString(f, 1, "西江（示范河段）");
    OGR_F_SetFieldDouble(f, 2, DEMO_WATER_LEVEL);
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing), poly = OGR_G_CreateGeometry(wkbPolygon);
    /* South edge west to east, north edge back: counter-clockwise. */
    for (int side = -1; side <= 1; side += 2)
        for (int k = 0; k <= 60; k++) {
            double x = side < 0 ? k * 25.0 : DEMO_W - k * 25.0;
            /* Walk outwards from the centre line to where the bank meets the water level. */
            double off = DEMO_RIVER_HALF;
            while (off < DEMO_RIVER_HALF + 15 && demo_ground(d, x, demo_river_y(x) + side * off) < DEMO_WATER_LEVEL)
                off += 0.25;
            OGR_G_AddPoint_2D(ring, d->X0 + x, d->Y0 + demo_river_y(x) + side * off);
        }
    OGR_G_CloseRings(ring);
    OGR_G_AddGeometryDirectly(poly, ring);
    OGR_F_SetGeometryDirectly(f, poly);
    st = vec_put(&v, f, path, err);
    return vec_close(&v, path, st, err);
}

static ct_status write_dem(const demo_district *d, const char *path, const char *wkt, ct_error *err)
{
    int w = (int)ceil(DEMO_W / d->cell - 1e-9), h = (int)ceil(DEMO_H / d->cell - 1e-9);
    ct_raster *r = ct_raster_create(w, h, NULL);
    if (!r)
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory for a %dx%d DEM", w, h);
    double gt[6] = {d->X0, d->cell, 0, d->Y0 + h * d->cell, 0, -d->cell};
    memcpy(r->geotransform, gt, sizeof gt);
    free(r->crs_wkt);
    r->crs_wkt = ct_strdup(wkt);
    for (int row = 0; row < h; row++)
        for (int col = 0; col < w; col++) {
            double x = (col + 0.5) * d->cell, y = (h - row - 0.5) * d->cell;
            r->data[(size_t)row * w + col] = (float)demo_ground(d, x, y);
        }
    ct_status st = r->crs_wkt ? ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, false, 0, err)
                              : ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
    ct_raster_destroy(r);
    return st;
}

/* ---- scene.json -------------------------------------------------------- */

static ct_status local_to_lonlat(const demo_district *d, ct_crs_transform *t, double x, double y, double *lon,
                                 double *lat, ct_error *err)
{
    double X = d->X0 + x, Y = d->Y0 + y;
    ct_status st = ct_crs_transform_points(t, 1, &X, &Y, NULL, err);
    *lon = X;
    *lat = Y;
    return st;
}

static cJSON *num_array(const double *v, int n, double scale)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(round(v[i] * scale) / scale));
    return a;
}

static cJSON *camera_json(const demo_district *d, ct_crs_transform *t, double x, double y, double h, double heading,
                          double pitch, ct_error *err)
{
    double v[6] = {0, 0, h, heading, pitch, 0};
    if (local_to_lonlat(d, t, x, y, &v[0], &v[1], err))
        return NULL;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < 6; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(i < 2 ? round(v[i] * 1e7) / 1e7 : v[i]));
    return a;
}

static cJSON *layer_json(const char *name, const char *type, const char *source, bool visible)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "name", name);
    cJSON_AddStringToObject(l, "type", type);
    cJSON_AddStringToObject(l, "source", source);
    cJSON_AddBoolToObject(l, "visible", visible);
    return l;
}

static const demo_poi *find_poi(const demo_district *d, const char *kind, int nth)
{
    for (int i = 0; i < d->poi_count; i++)
        if (!strcmp(d->pois[i].kind, kind) && nth-- == 0)
            return &d->pois[i];
    return NULL;
}

/* Layers showing the analysis presets' results (written by the results step,
 * ct_demo_desc.results): flood depth as a water surface and its extent's
 * outline, impact rings, rescue route, hospital route. Styles: docs/scene.md;
 * each says what it shows in its description (the legend). */
static void add_result_layers(cJSON *layers)
{
    cJSON *l = layer_json("flood_depth", "raster", "flood_depth.tif", true);
    cJSON *st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "ramp", "depth");
    cJSON_AddStringToObject(st, "height", "ground+value"); /* the water surface at the flood level */
    cJSON_AddNumberToObject(st, "opacity", 0.8);
    cJSON_AddStringToObject(l, "description", "river flood to 2.0 m: water depth (light to dark blue)");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("flood", "vector", "flood_extent.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddBoolToObject(st, "fill", false); /* the depth grid fills it; the extent outlines it */
    cJSON_AddStringToObject(st, "outline_color", "#08306b");
    cJSON_AddStringToObject(st, "height", "level");
    cJSON_AddNumberToObject(st, "lift", 0.1);
    cJSON_AddNumberToObject(st, "outline_width", 2);
    cJSON_AddStringToObject(l, "description", "river flood to 2.0 m: extent outline (dark blue)");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("impact_rings", "vector", "impact.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "where", "layer = 'rings'");
    cJSON_AddStringToObject(st, "color_by", "radius_m");
    cJSON *colors = cJSON_AddObjectToObject(st, "colors");
    cJSON_AddStringToObject(colors, "50", "#e31a1c");
    cJSON_AddStringToObject(colors, "150", "#fd8d3c");
    cJSON_AddStringToObject(colors, "300", "#fecc5c");
    cJSON_AddNumberToObject(st, "opacity", 0.35);
    cJSON_AddNumberToObject(st, "outline_width", 6);
    cJSON_AddNumberToObject(st, "lift", 1);
    cJSON_AddNumberToObject(st, "min_height", 2.1); /* on the flood water (2.0 m), not the river bed */
    cJSON_AddStringToObject(l, "description", "gas leak on Qilou Street: 50 m (red), 150 m (orange), 300 m (yellow)");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("rescue_route", "vector", "route.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "color", "#00e5ff");
    cJSON_AddNumberToObject(st, "width", 10);
    cJSON_AddNumberToObject(st, "lift", 2);
    cJSON_AddStringToObject(l, "description", "fire engine: Jiangbin Fire Station to the incident (cyan)");
    cJSON_AddItemToArray(layers, l);
    /* magenta: apart from the cyan rescue route, the ring colours, water and
     * the POI colours (the hospital marker is green) */
    l = layer_json("hospital_route", "vector", "hospital_route.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "color", "#ff00c8");
    cJSON_AddNumberToObject(st, "width", 10);
    cJSON_AddNumberToObject(st, "lift", 2);
    cJSON_AddStringToObject(l, "description",
                            "ambulance: the incident to Jiangbin People's Hospital, flooded roads closed (magenta)");
    cJSON_AddItemToArray(layers, l);
}

static ct_status write_scene(const demo_district *d, const char *path, ct_crs_transform *t, bool results,
                             ct_error *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "name", "citytwin demo: Jiangbin riverside district");
    cJSON_AddStringToObject(root, "description",
                            "Synthetic riverside district of a river-delta port city, generated by citytwin demo");
    cJSON_AddStringToObject(root, "crs", DEMO_CRS);
    cJSON_AddItemToObject(root, "origin", num_array(d->origin, 3, 1e9));
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    cJSON *l = layer_json("district", "gltf", "district.glb", true);
    cJSON_AddItemToArray(layers, l);
    l = layer_json("terrain", "terrain", "dem.tif", false);
    cJSON_AddItemToArray(layers, l);
    l = layer_json("buildings", "vector", "buildings.geojson", false);
    cJSON *st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "extrude", "height");
    cJSON_AddStringToObject(st, "base", "ground");
    cJSON_AddStringToObject(st, "color_by", "use");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("roads", "vector", "roads.geojson", false);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "color", "#404040");
    cJSON_AddStringToObject(st, "width", "width");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("river", "vector", "river.geojson", false);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "color", "#3a6f9a");
    cJSON_AddItemToArray(layers, l);
    /* Hydrants are drawn but not labelled: ~200 hydrant names crowded out
     * the stations, hospital, school and gauges a commander looks for. */
    l = layer_json("hydrants", "vector", "pois.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "where", "kind = 'hydrant'");
    cJSON_AddStringToObject(st, "color", "#d62728");
    cJSON_AddItemToArray(layers, l);
    l = layer_json("pois", "vector", "pois.geojson", true);
    st = cJSON_AddObjectToObject(l, "style");
    cJSON_AddStringToObject(st, "where", "kind <> 'hydrant'");
    cJSON_AddStringToObject(st, "color_by", "kind");
    cJSON *colors = cJSON_AddObjectToObject(st, "colors");
    cJSON_AddStringToObject(colors, "hydrant", "#d62728");
    cJSON_AddStringToObject(colors, "sensor", "#1f77b4");
    cJSON_AddStringToObject(colors, "fire_station", "#ff7f0e");
    cJSON_AddStringToObject(colors, "hospital", "#2ca02c");
    cJSON_AddStringToObject(colors, "school", "#9467bd");
    cJSON_AddStringToObject(st, "label", "name");
    cJSON_AddItemToArray(layers, l);
    if (results)
        add_result_layers(layers);

    /* Cameras: local positions turned into lon/lat; heights are above the ellipsoid
     * (the demo treats its DEM heights as ellipsoidal). */
    struct { const char *name; double x, y, h, heading, pitch; } cams[] = {
        {"overview", 750, -150, 700, 0, -50},   {"river", -60, 430, 45, 90, -12},
        {"qilou", 392, 640, 12, 90, -8},        {"hospital", 1100, 700, 120, 45, -30},
        {"fire_station", 230, 740, 80, 45, -30}, {"waterfront", 620, 330, 60, 0, -20},
        /* the analysis presets' area: flooded waterfront, gas-leak rings, fire engine route */
        {"incident", 600, 250, 500, 0, -60},
    };
    enum { N_CAMS = sizeof cams / sizeof cams[0] };
    cJSON *cameras = cJSON_AddArrayToObject(root, "cameras");
    cJSON *cam_json[N_CAMS];
    for (int i = 0; i < N_CAMS; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", cams[i].name);
        cam_json[i] = camera_json(d, t, cams[i].x, cams[i].y, cams[i].h, cams[i].heading, cams[i].pitch, err);
        if (!cam_json[i]) {
            cJSON_Delete(c);
            cJSON_Delete(root);
            return ct_error_prefix(err, "demo: ");
        }
        cJSON_AddItemToObject(c, "camera", cam_json[i]);
        cJSON_AddItemToArray(cameras, c);
    }
    cJSON *tours = cJSON_AddArrayToObject(root, "tours");
    cJSON *tour = cJSON_CreateObject();
    cJSON_AddStringToObject(tour, "name", "district tour");
    cJSON *stops = cJSON_AddArrayToObject(tour, "stops");
    const int order[] = {0, 5, 1, 2, 4, 3, 0};
    for (int i = 0; i < 7; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToObject(s, "camera", cJSON_Duplicate(cam_json[order[i]], true));
        cJSON_AddNumberToObject(s, "duration", i == 0 ? 0 : 6);
        cJSON_AddItemToArray(stops, s);
    }
    cJSON_AddItemToArray(tours, tour);

    cJSON *feeds = cJSON_AddArrayToObject(root, "feeds");
    cJSON *feed = cJSON_CreateObject();
    cJSON_AddStringToObject(feed, "name", "district sensors");
    cJSON_AddStringToObject(feed, "type", "mqtt");
    cJSON_AddStringToObject(feed, "url", "mqtt://127.0.0.1:1883");
    cJSON_AddStringToObject(feed, "topic", "citytwin/demo/sensors/#");
    cJSON_AddStringToObject(feed, "layer", "pois");
    cJSON_AddStringToObject(feed, "match_field", "topic");
    cJSON_AddItemToArray(feeds, feed);

    /* Analysis presets, in EPSG:4547 coordinates (see docs/demo.md). */
    cJSON *an = cJSON_AddArrayToObject(root, "analyses");
    const demo_poi *gauge = NULL;
    for (int i = 0; i < d->poi_count && !gauge; i++)
        if (!strcmp(d->pois[i].subtype, "water_level") && d->pois[i].x > 700)
            gauge = &d->pois[i];
    const demo_poi *station = find_poi(d, "fire_station", 0), *hospital = find_poi(d, "hospital", 0);
    double incident[2] = {d->X0 + 620, d->Y0 + QILOU_Y};
    if (gauge && station && hospital) {
        double seed[2] = {d->X0 + gauge->x, d->Y0 + gauge->y};
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "name", "river flood to 2.0 m");
        cJSON_AddStringToObject(a, "type", "flood");
        cJSON_AddStringToObject(a, "dem", "dem.tif");
        cJSON_AddItemToObject(a, "seed", num_array(seed, 2, 1e3));
        cJSON_AddNumberToObject(a, "level", 2.0);
        cJSON_AddItemToArray(an, a);
        a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "name", "gas leak on Qilou Street");
        cJSON_AddStringToObject(a, "type", "impact");
        cJSON_AddItemToObject(a, "at", num_array(incident, 2, 1e3));
        double rings[3] = {50, 150, 300};
        cJSON_AddItemToObject(a, "rings", num_array(rings, 3, 1));
        cJSON *ls = cJSON_AddObjectToObject(a, "layers");
        cJSON_AddStringToObject(ls, "buildings", "buildings.geojson");
        cJSON_AddStringToObject(ls, "pois", "pois.geojson");
        cJSON_AddStringToObject(a, "id_field", "id");
        cJSON_AddItemToArray(an, a);
        a = cJSON_CreateObject();
        double from[2] = {d->X0 + station->x, d->Y0 + station->y};
        cJSON_AddStringToObject(a, "name", "fire engine to Qilou Street");
        cJSON_AddStringToObject(a, "type", "route");
        cJSON_AddStringToObject(a, "roads", "roads.geojson");
        cJSON_AddItemToObject(a, "from", num_array(from, 2, 1e3));
        cJSON_AddItemToObject(a, "to", num_array(incident, 2, 1e3));
        cJSON_AddStringToObject(a, "output", "route.geojson");
        cJSON_AddItemToArray(an, a);
        /* the issue's "from the incident to hospitals", around the flood */
        a = cJSON_CreateObject();
        double to_hospital[2] = {d->X0 + hospital->x, d->Y0 + hospital->y};
        cJSON_AddStringToObject(a, "name", "ambulance from Qilou Street to Jiangbin People's Hospital");
        cJSON_AddStringToObject(a, "type", "route");
        cJSON_AddStringToObject(a, "roads", "roads.geojson");
        cJSON_AddItemToObject(a, "from", num_array(incident, 2, 1e3));
        cJSON_AddItemToObject(a, "to", num_array(to_hospital, 2, 1e3));
        cJSON_AddStringToObject(a, "avoid", "flood_extent.geojson");
        cJSON_AddStringToObject(a, "output", "hospital_route.geojson");
        cJSON_AddItemToArray(an, a);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
    size_t n = strlen(text);
    text[n] = '\n'; /* replace the terminator: the file ends with a newline */
    ct_status s = ct_file_write(path, text, n + 1, err);
    free(text);
    return s;
}

/* ---- generation ------------------------------------------------------------ */

static void district_free(demo_district *d)
{
    for (int i = 0; i < d->road_count; i++)
        free(d->roads[i].xy);
    free(d->roads);
    free(d->buildings);
    free(d->pois);
    free(d);
}

/* Anchors the district on a round EPSG:4547 coordinate near the requested
 * longitude/latitude; the scene origin is its centre. */
static ct_status anchor(demo_district *d, ct_error *err)
{
    ct_crs_transform *fwd = NULL, *inv = NULL;
    ct_status st = ct_crs_transform_create(DEMO_GEOG_CRS, DEMO_CRS, &fwd, err);
    if (!st)
        st = ct_crs_transform_create(DEMO_CRS, DEMO_GEOG_CRS, &inv, err);
    double x = DEMO_ANCHOR_LON, y = DEMO_ANCHOR_LAT;
    if (!st)
        st = ct_crs_transform_points(fwd, 1, &x, &y, NULL, err);
    if (!st) {
        double cx = round(x / 10) * 10, cy = round(y / 10) * 10;
        d->X0 = cx - DEMO_W / 2;
        d->Y0 = cy - DEMO_H / 2;
        st = ct_crs_transform_points(inv, 1, &cx, &cy, NULL, err);
        d->origin[0] = cx;
        d->origin[1] = cy;
        d->origin[2] = 0;
    }
    ct_crs_transform_destroy(fwd);
    ct_crs_transform_destroy(inv);
    return st ? ct_error_prefix(err, "demo: ") : CT_OK;
}

static ct_status layout(demo_district *d, ct_error *err)
{
    rng r = {d->seed};
    for (int y = 0; y < DEMO_NA_Y; y++)
        for (int x = 0; x < DEMO_NA_X; x++)
            d->noise_a[y][x] = (float)rng_uniform(&r, -1, 1);
    for (int y = 0; y < DEMO_NB_Y; y++)
        for (int x = 0; x < DEMO_NB_X; x++)
            d->noise_b[y][x] = (float)rng_uniform(&r, -1, 1);
    street_list L = {0};
    layout_streets(&L);
    ct_status st = split_streets(d, &L, err);
    free(L.s);
    if (st)
        return st;
    layout_ctx c = {d, {d->seed ^ 0xB111D1465ull}, false};
    layout_buildings(&c);
    layout_pois(&c);
    return c.oom ? ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory") : CT_OK;
}

static ct_status write_all(const demo_district *d, const char *dir, bool results, ct_error *err)
{
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    char *wkt = NULL;
    ct_crs_transform *to_geo = NULL;
    ct_status st = CT_OK;
    if (OSRImportFromEPSG(srs, 4547) != OGRERR_NONE || OSRExportToWkt(srs, &wkt) != OGRERR_NONE)
        st = ct_error_set(err, CT_ERR_RUNTIME, "demo: EPSG:4547 unknown to GDAL/PROJ");
    if (!st)
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    if (!st)
        st = ct_crs_transform_create(DEMO_CRS, DEMO_GEOG_CRS, &to_geo, err);
    char *p = NULL;
#define OUT(name) (free(p), p = ct_path_join(dir, name), p)
    if (!st)
        st = write_dem(d, OUT("dem.tif"), wkt, err);
    if (!st)
        st = write_buildings(d, OUT("buildings.geojson"), srs, err);
    if (!st)
        st = write_roads(d, OUT("roads.geojson"), srs, err);
    if (!st)
        st = write_pois(d, OUT("pois.geojson"), srs, err);
    if (!st)
        st = write_river(d, OUT("river.geojson"), srs, err);
    if (!st)
        st = demo_write_glb(d, OUT("district.glb"), err);
    if (!st)
        st = write_scene(d, OUT("scene.json"), to_geo, results, err);
#undef OUT
    free(p);
    ct_crs_transform_destroy(to_geo);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    return st;
}

ct_status ct_demo_generate(const char *out_dir, const ct_demo_desc *desc, ct_error *err)
{
    if (!out_dir || !*out_dir)
        return ct_error_set(err, CT_ERR_USAGE, "demo: no output folder given");
    ct_demo_desc dd = desc ? *desc : (ct_demo_desc){0};
    if (dd.cell_size < 0 || dd.cell_size > 100 || isnan(dd.cell_size))
        return ct_error_set(err, CT_ERR_USAGE, "demo: cell size %g out of range (0 < size <= 100)", dd.cell_size);
    ct_status st = ct_dir_create(out_dir, err);
    if (st)
        return st;
    GDALAllRegister();
    demo_district *d = calloc(1, sizeof *d);
    if (!d)
        return ct_error_set(err, CT_ERR_RUNTIME, "demo: out of memory");
    d->seed = dd.seed ? dd.seed : DEMO_DEFAULT_SEED;
    d->cell = dd.cell_size > 0 ? dd.cell_size : 2.0;
    st = anchor(d, err);
    if (!st)
        st = layout(d, err);
    if (!st)
        st = write_all(d, out_dir, dd.results != NULL, err);
    district_free(d);
    if (!st && dd.results) {
        st = dd.results(out_dir, err);
        if (st)
            ct_error_prefix(err, "demo results: ");
    }
    return st;
}

/* ---- the cached default demo ------------------------------------------- */

static void marker_text(char *buf, size_t n, bool results)
{
    snprintf(buf, n, "citytwin demo generator %d seed %u%s\n", DEMO_GENERATOR_VERSION, DEMO_DEFAULT_SEED,
             results ? " results" : "");
}

static bool files_exist(const char *dir, const char *const *files)
{
    char path[4200];
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (!ct_file_exists(path))
            return false;
    }
    return true;
}

/* Complete for a caller that wants the analysis results only when they are
 * there; a copy with results also serves callers that do not need them. */
static bool demo_complete(const char *dir, bool results)
{
    char path[4200], want[128], with[128];
    if (!files_exist(dir, ct_demo_files))
        return false;
    snprintf(path, sizeof path, "%s/.complete", dir);
    uint8_t *data = NULL;
    size_t size = 0;
    if (ct_file_read(path, 4096, &data, &size, NULL))
        return false;
    marker_text(want, sizeof want, results);
    marker_text(with, sizeof with, true);
    bool ok = size == strlen(want) && !memcmp(data, want, size);
    bool has_results = size == strlen(with) && !memcmp(data, with, size);
    free(data);
    if (!ok && !results && has_results)
        ok = true;
    return ok && (!has_results || files_exist(dir, ct_demo_result_files));
}

/* Removes a folder of plain files (what a generation writes). */
static void remove_flat_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    if (dh) {
        struct dirent *e;
        char path[4200];
        while ((e = readdir(dh)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(dh);
    }
    rmdir(dir);
}

static ct_status generate_cached(const char *dir, const ct_demo_desc *desc, ct_error *err)
{
    bool results = desc && desc->results;
    char tmp[4200], marker[4300], text[128];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%ld", dir, (long)getpid(), (long)ts.tv_nsec);
    ct_demo_desc only_results = {.results = results ? desc->results : NULL};
    ct_status st = ct_demo_generate(tmp, &only_results, err);
    if (!st) {
        snprintf(marker, sizeof marker, "%s/.complete", tmp);
        marker_text(text, sizeof text, results);
        st = ct_file_write(marker, text, strlen(text), err);
    }
    if (st) {
        remove_flat_dir(tmp);
        return st;
    }
    if (rename(tmp, dir) != 0) {
        /* Another process won the race (then its copy is complete), or a stale
         * incomplete copy is in the way: move it aside and try once more. */
        if (demo_complete(dir, results)) {
            remove_flat_dir(tmp);
            return CT_OK;
        }
        char stale[4300];
        snprintf(stale, sizeof stale, "%s.stale-%ld-%ld", dir, (long)getpid(), (long)ts.tv_nsec);
        if (rename(dir, stale) == 0)
            remove_flat_dir(stale);
        if (rename(tmp, dir) != 0 && !demo_complete(dir, results)) {
            int e = errno;
            remove_flat_dir(tmp);
            return ct_error_set(err, CT_ERR_RUNTIME, "demo: cannot move the demo into %s: %s", dir, strerror(e));
        }
        remove_flat_dir(tmp); /* no-op when the rename succeeded */
    }
    return CT_OK;
}

static ct_status scene_in(const char *dir, char *out, size_t n, const ct_demo_desc *desc, ct_error *err)
{
    if (!demo_complete(dir, desc && desc->results)) {
        char *parent = ct_path_dirname(dir);
        ct_status st = parent ? ct_dir_create(parent, err) : ct_error_set(err, CT_ERR_RUNTIME, "out of memory");
        free(parent);
        if (!st)
            st = generate_cached(dir, desc, err);
        if (st)
            return st;
    }
    if ((size_t)snprintf(out, n, "%s/scene.json", dir) >= n)
        return ct_error_set(err, CT_ERR_USAGE, "demo: path buffer too small for %s/scene.json", dir);
    return CT_OK;
}

ct_status ct_demo_scene_path(char *out, size_t n, ct_error *err) { return ct_demo_scene_path_ex(out, n, NULL, err); }

ct_status ct_demo_scene_path_ex(char *out, size_t n, const ct_demo_desc *desc, ct_error *err)
{
    if (desc && (desc->seed || desc->cell_size))
        return ct_error_set(err, CT_ERR_USAGE, "demo: the cache holds the default demo (no seed or cell size)");
    char dir[4096];
    const char *env = getenv("CITYTWIN_DEMO_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (n)
        out[0] = 0;
    if (env && *env)
        return scene_in(env, out, n, desc, err); /* explicit: no fallback */
    ct_status st = CT_ERR_RUNTIME;
    if (xdg && *xdg == '/') {
        snprintf(dir, sizeof dir, "%s/citytwin/demo-v1", xdg);
        st = scene_in(dir, out, n, desc, err);
    } else if (home && *home == '/') {
        snprintf(dir, sizeof dir, "%s/.cache/citytwin/demo-v1", home);
        st = scene_in(dir, out, n, desc, err);
    }
    if (st == CT_OK)
        return CT_OK;
    /* No usable cache folder (unset, read-only home...): a per-user folder in /tmp. */
    snprintf(dir, sizeof dir, "/tmp/citytwin-demo-v1-%ld", (long)getuid());
    return scene_in(dir, out, n, desc, err);
}
