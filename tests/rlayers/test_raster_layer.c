/* Terrain and raster scene layers: constructed GeoTIFFs (written with GDAL
 * here) rendered headless by a camera straight above the scene origin, so a
 * ground point's pixel follows by hand from its ENU position:
 *   px = W/2 + e / ((Hc - u) tan 30deg) * W/2,  py = H/2 - n / (...) * H/2
 * (fov 60, square image). ENU positions of UTM / lon-lat points come from PROJ
 * (the peer for datums and projections). Ramp colours are computed by hand. */
#include "citytwin/ct_geo.h"
#include "citytwin/ct_image.h"
#include "citytwin/ct_raster_layer.h"
#include "citytwin/ct_render.h"
#include "citytwin/ct_scene.h"
#include "ct_test.h"

#include <gdal.h>
#include <cpl_conv.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 200
#define H 200
#define LON0 113.08
#define LAT0 22.58
#define CAM_H 500.0

static ct_render_context *ctx;

static bool need_gl(void)
{
    if (ctx)
        return true;
    ct_error err = {0};
    ct_render_context_desc cd = {.width = W, .height = H};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK) {
        fprintf(stderr, "no GL context: %s\n", err.msg);
        exit(getenv("CI") ? 1 : 77);
    }
    return true;
}

/* A single-band GeoTIFF; nodata written where data is NAN (as -9999). */
static void write_tif(const char *path, int w, int h, const double gt[6], int epsg, const float *data)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, w, h, 1, GDT_Float32, NULL);
    CT_REQUIRE(ds != NULL);
    GDALSetGeoTransform(ds, (double *)gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, epsg);
    char *wkt = NULL;
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    GDALSetRasterNoDataValue(b, -9999);
    float *buf = malloc((size_t)w * h * sizeof *buf);
    for (int i = 0; i < w * h; i++)
        buf[i] = isnan(data[i]) ? -9999.0f : data[i];
    CT_CHECK(GDALRasterIO(b, GF_Write, 0, 0, w, h, buf, w, h, GDT_Float32, 0, 0) == CE_None);
    free(buf);
    GDALClose(ds);
}

/* UTM 49N (EPSG:32649) coordinates of a lon/lat and back. */
static void utm_of(double lon, double lat, double *e, double *n)
{
    ct_crs_transform *t = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_crs_transform_create("EPSG:4326", "EPSG:32649", &t, &err) == CT_OK);
    *e = lon, *n = lat;
    CT_REQUIRE(ct_crs_transform_points(t, 1, e, n, NULL, &err) == CT_OK);
    ct_crs_transform_destroy(t);
}

static void lonlat_of(double e, double n, double *lon, double *lat)
{
    ct_crs_transform *t = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_crs_transform_create("EPSG:32649", "EPSG:4326", &t, &err) == CT_OK);
    *lon = e, *lat = n;
    CT_REQUIRE(ct_crs_transform_points(t, 1, lon, lat, NULL, &err) == CT_OK);
    ct_crs_transform_destroy(t);
}

/* ENU at the origin (LON0, LAT0, 0) of a lon/lat/h point. */
static ct_dvec3 enu_of(double lon, double lat, double h)
{
    double f[16], inv[16];
    ct_geo_enu_frame(ct_geo_ecef_from_lonlat(LON0, LAT0, 0), f);
    ct_dmat4_invert(inv, f);
    return ct_dmat4_transform_point(inv, ct_geo_ecef_from_lonlat(lon, lat, h));
}

/* Continuous pixel coordinates (top-left origin) of an ENU point. */
static void to_pixel(ct_dvec3 p, double *px, double *py)
{
    double half = (CAM_H - p.z) * tan(30 * M_PI / 180);
    *px = W / 2.0 + p.x / half * (W / 2.0);
    *py = H / 2.0 - p.y / half * (H / 2.0);
}

static ct_scene *load_scene(const char *name, const char *json)
{
    ct_scene *s = NULL;
    ct_error err = {0};
    const char *path = ct_test_tmp_path(name);
    ct_file_write(path, json, strlen(json), &err);
    if (ct_scene_load(path, &s, &err) != CT_OK)
        fprintf(stderr, "scene: %s\n", err.msg);
    return s;
}

typedef struct view {
    ct_renderer *r;
    ct_render_layer *layers[4];
    int n;
    uint8_t img[W * H * 4];
} view;

/* Opens every layer of the scene, renders the top-down view on a green background. */
static void render_scene(view *v, const ct_scene *s)
{
    need_gl();
    memset(v, 0, sizeof *v);
    ct_error err = {0};
    ct_renderer_desc rd = {.msaa = 1, .picking = true};
    CT_REQUIRE(ct_renderer_create(ctx, &rd, &v->r, &err) == CT_OK);
    for (uint32_t i = 0; i < s->layer_count && v->n < 4; i++) {
        ct_render_layer *l = NULL;
        if (ct_render_layer_raster_create(v->r, s, &s->layers[i], &l, &err) != CT_OK) {
            fprintf(stderr, "layer %s: %s\n", s->layers[i].name, err.msg);
            CT_CHECK(false);
            continue;
        }
        l->pick_id = (uint32_t)v->n + 1;
        v->layers[v->n++] = l;
    }
    ct_camera cam;
    ct_camera_init(&cam);
    cam.fov_y_deg = 60;
    cam.aspect = 1;
    ct_camera_set_cesium(&cam, LON0, LAT0, CAM_H, 0, -90, 0);
    cam.near_m = 1, cam.far_m = 2000;
    ct_render_frame_desc f = {.camera = &cam, .width = W, .height = H, .has_background = true,
                              .background = {0, 1, 0}};
    ct_renderer_begin_frame(v->r, &f);
    for (int i = 0; i < v->n; i++)
        v->layers[i]->vt->draw(v->layers[i], v->r);
    ct_renderer_end_frame(v->r);
    CT_CHECK(ct_renderer_read_pixels(v->r, v->img, &err) == CT_OK);
}

static void view_close(view *v)
{
    for (int i = 0; i < v->n; i++)
        ct_render_layer_destroy(v->layers[i]);
    ct_renderer_destroy(v->r);
}

static const uint8_t *pixel(const view *v, int x, int y) { return v->img + ((size_t)y * W + x) * 4; }
static bool is_background(const uint8_t *p) { return p[0] == 0 && p[1] == 255 && p[2] == 0; }

/* ---- terrain: ramp colour, the hole of nodata cells, the footprint, pick value ---- */

CT_TEST(test_terrain_colors_hole_footprint)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    /* 20 x 20 cells of 10 m centred on the origin, 10 m high, a 4 x 4 hole at cols 12-15, rows 4-7 */
    float dem[400];
    for (int r = 0; r < 20; r++)
        for (int c = 0; c < 20; c++)
            dem[r * 20 + c] = c >= 12 && c <= 15 && r >= 4 && r <= 7 ? NAN : 10.0f;
    dem[19 * 20 + 0] = -3.4e38f; /* an untagged nodata in the south-west corner: a hole, not a spike */
    double gt[6] = {e0 - 100, 10, 0, n0 + 100, 0, -10};
    write_tif(ct_test_tmp_path("dem1.tif"), 20, 20, gt, 32649, dem);
    ct_scene *s = load_scene("s1.json",
                             "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
                             "{\"name\":\"dem\",\"type\":\"terrain\",\"source\":\"dem1.tif\","
                             "\"style\":{\"ramp\":[[0,\"#ff0000\"],[20,\"#0000ff\"]],\"lit\":false}}]}");
    CT_REQUIRE(s != NULL);
    view v;
    render_scene(&v, s);
    CT_REQUIRE(v.n == 1);
    /* value 10 is half-way: (255, 0, 0) .. (0, 0, 255) -> (127.5, 0, 127.5), rounded 128 */
    const uint8_t *c = pixel(&v, 100, 100);
    CT_CHECK_NEAR(c[0], 128, 2);
    CT_CHECK_NEAR(c[1], 0, 1);
    CT_CHECK_NEAR(c[2], 128, 2);
    /* the hole spans the centres of cols 11..16 / rows 3..8: x, y in [15, 65] m from the centre */
    double lon, lat, px, py;
    lonlat_of(e0 + 40, n0 + 40, &lon, &lat);
    to_pixel(enu_of(lon, lat, 10), &px, &py);
    CT_CHECK(is_background(pixel(&v, (int)px, (int)py)));
    CT_CHECK(is_background(pixel(&v, (int)px + 5, (int)py - 5)));
    lonlat_of(e0 + 5, n0 + 40, &lon, &lat); /* 10 m west of the hole: terrain */
    to_pixel(enu_of(lon, lat, 10), &px, &py);
    CT_CHECK(!is_background(pixel(&v, (int)px, (int)py)));
    /* footprint: the centres of the outer cells, 95 m either side (hand: 33.6 px at 490 m) */
    double lx, ly, rx, ry;
    lonlat_of(e0 - 95, n0, &lon, &lat);
    to_pixel(enu_of(lon, lat, 10), &lx, &ly);
    lonlat_of(e0 + 95, n0, &lon, &lat);
    to_pixel(enu_of(lon, lat, 10), &rx, &ry);
    CT_CHECK_NEAR(rx - lx, 190 / (490 * tan(30 * M_PI / 180)) * 100, 0.5);
    int row = (int)((ly + ry) / 2), left = -1, right = -1;
    for (int x = 0; x < W; x++)
        if (!is_background(pixel(&v, x, row))) {
            if (left < 0)
                left = x;
            right = x;
        }
    CT_CHECK_NEAR(left, ceil(lx - 0.5), 1);
    CT_CHECK_NEAR(right, floor(rx - 0.5), 1);
    /* a pick at the centre: the terrain, and its value */
    ct_render_pick p;
    ct_error err = {0};
    CT_REQUIRE(ct_renderer_pick(v.r, 100, 100, &p, &err) == CT_OK);
    CT_CHECK(p.hit && p.pick_id == 1);
    double value = 0;
    CT_CHECK(ct_render_layer_raster_value(v.layers[0], p.position, &value));
    CT_CHECK_NEAR(value, 10, 1e-6);
    CT_CHECK_NEAR(ct_geo_lonlat_from_ecef(p.position).z, 10, 0.05);
    ct_dvec3 bc;
    double br;
    CT_CHECK(v.layers[0]->vt->bounds(v.layers[0], &bc, &br) && br < 200);
    view_close(&v);
    ct_scene_destroy(s);
}

/* ---- the same marked cell from a UTM raster and a lon/lat raster ---- */

static void red_centroid(const view *v, double *cx, double *cy, int *count)
{
    double sx = 0, sy = 0;
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = pixel(v, x, y);
            if (p[0] > 200 && p[1] < 60 && p[2] < 60)
                sx += x + 0.5, sy += y + 0.5, n++;
        }
    *cx = n ? sx / n : -1;
    *cy = n ? sy / n : -1;
    *count = n;
}

CT_TEST(test_crs_utm_and_lonlat_agree)
{
    double e0, n0, plon, plat, pe, pn;
    utm_of(LON0, LAT0, &e0, &n0);
    pe = e0 + 60, pn = n0 + 40;
    lonlat_of(pe, pn, &plon, &plat);
    float cells[21 * 21];
    for (int i = 0; i < 21 * 21; i++)
        cells[i] = i == 10 * 21 + 10 ? 1.0f : 0.0f;
    double gt_utm[6] = {pe - 105, 10, 0, pn + 105, 0, -10};
    write_tif(ct_test_tmp_path("mark_utm.tif"), 21, 21, gt_utm, 32649, cells);
    double gt_geo[6] = {plon - 0.00105, 0.0001, 0, plat + 0.00105, 0, -0.0001};
    write_tif(ct_test_tmp_path("mark_geo.tif"), 21, 21, gt_geo, 4326, cells);
    double ex, ey;
    to_pixel(enu_of(plon, plat, 0), &ex, &ey);
    const char *fmt = "{\"version\":1,\"crs\":\"EPSG:4547\",\"origin\":[113.08,22.58,0],\"layers\":["
                      "{\"name\":\"mark\",\"type\":\"raster\",\"source\":\"%s\",\"style\":{\"ramp\":"
                      "[[0,\"#0000ff\"],[1,\"#ff0000\"]],\"interpolate\":false,\"height\":0}}]}";
    double got[2][2];
    for (int k = 0; k < 2; k++) {
        char json[1024];
        snprintf(json, sizeof json, fmt, k ? "mark_geo.tif" : "mark_utm.tif");
        ct_scene *s = load_scene(k ? "s2b.json" : "s2a.json", json);
        CT_REQUIRE(s != NULL);
        view v;
        render_scene(&v, s);
        int n;
        red_centroid(&v, &got[k][0], &got[k][1], &n);
        /* a 10 m cell at 500 m: 10 / (500 tan 30) * 100 = 3.5 px a side */
        CT_CHECK(n >= 6 && n <= 25);
        CT_CHECK_NEAR(got[k][0], ex, 0.75);
        CT_CHECK_NEAR(got[k][1], ey, 0.75);
        /* picks: the marked cell's value, and 5 cells west of it 0 */
        ct_render_pick p;
        ct_error err = {0};
        double value = -1;
        CT_REQUIRE(ct_renderer_pick(v.r, (int)ex, (int)ey, &p, &err) == CT_OK);
        CT_CHECK(p.hit && ct_render_layer_raster_value(v.layers[0], p.position, &value) && value == 1);
        CT_REQUIRE(ct_renderer_pick(v.r, (int)(ex - 50 / (500 * tan(M_PI / 6)) * 100), (int)ey, &p, &err) == CT_OK);
        CT_CHECK(p.hit && ct_render_layer_raster_value(v.layers[0], p.position, &value) && value == 0);
        view_close(&v);
        ct_scene_destroy(s);
    }
    CT_CHECK_NEAR(got[0][0], got[1][0], 0.75);
    CT_CHECK_NEAR(got[0][1], got[1][1], 0.75);
}

/* ---- a flood depth grid drawn as its water surface: ground + depth ---- */

CT_TEST(test_flood_surface_at_ground_plus_depth)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    /* ground rises 0.5 m per 10 m cell eastwards (-4.75 .. 4.75 m); water level 1 m */
    const double level = 1.0;
    float dem[400], depth[400];
    for (int r = 0; r < 20; r++)
        for (int c = 0; c < 20; c++) {
            float g = (float)((c - 9.5) * 0.5);
            dem[r * 20 + c] = g;
            depth[r * 20 + c] = g < level ? (float)(level - g) : NAN;
        }
    double gt[6] = {e0 - 100, 10, 0, n0 + 100, 0, -10};
    write_tif(ct_test_tmp_path("dem3.tif"), 20, 20, gt, 32649, dem);
    write_tif(ct_test_tmp_path("depth3.tif"), 20, 20, gt, 32649, depth);
    ct_scene *s = load_scene("s3.json",
                             "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
                             "{\"name\":\"ground\",\"type\":\"terrain\",\"source\":\"dem3.tif\"},"
                             "{\"name\":\"flood\",\"type\":\"raster\",\"source\":\"depth3.tif\","
                             "\"style\":{\"ramp\":\"depth\",\"height\":\"ground+value\"}}]}");
    CT_REQUIRE(s != NULL);
    /* CPU: every vertex of the water surface at ellipsoidal height 1 m */
    ct_gltf *g = NULL;
    ct_raster_layer_info info;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_layer_build(s, &s->layers[1], &g, &info, &err) == CT_OK);
    CT_CHECK_EQ_INT((int)info.cells_drawn, 20 * 12); /* cols 0..11 are below 1 m (col 11: 0.75 m) */
    CT_CHECK_EQ_INT((int)info.triangles, 2 * 20 * 12);
    double frame[16];
    ct_scene_frame_to_ecef(s, frame);
    const ct_gltf_primitive *pr = &g->meshes[0].primitives[0];
    const double *t = g->nodes[0].local;
    double worst = 0;
    for (uint32_t i = 0; i < pr->vertex_count; i++) {
        const float *q = pr->positions + 3 * i; /* y-up: (e, u, -n) */
        ct_dvec3 enu = {q[0] + t[12], -(q[2] + t[14]), q[1] + t[13]};
        double h = ct_geo_lonlat_from_ecef(ct_dmat4_transform_point(frame, enu)).z;
        worst = fmax(worst, fabs(h - level));
    }
    CT_CHECK(worst < 0.005);
    ct_gltf_destroy(g);
    /* drawn: a pick on the west (wet) side hits the water at 1 m with the cell's depth;
     * on the east (dry) side the terrain at its own height */
    view v;
    render_scene(&v, s);
    CT_REQUIRE(v.n == 2);
    double lon, lat, px, py;
    lonlat_of(e0 - 55, n0 + 5, &lon, &lat); /* centre of col 4, row 9: ground -2.75, depth 3.75 */
    to_pixel(enu_of(lon, lat, level), &px, &py);
    ct_render_pick p;
    CT_REQUIRE(ct_renderer_pick(v.r, (int)px, (int)py, &p, &err) == CT_OK);
    double value = 0;
    CT_CHECK(p.hit && p.pick_id == 2);
    CT_CHECK_NEAR(ct_geo_lonlat_from_ecef(p.position).z, level, 0.05);
    CT_CHECK(ct_render_layer_raster_value(v.layers[1], p.position, &value));
    CT_CHECK_NEAR(value, 3.75, 1e-5);
    lonlat_of(e0 + 55, n0 + 5, &lon, &lat); /* col 15: ground 2.75 */
    to_pixel(enu_of(lon, lat, 2.75), &px, &py);
    CT_REQUIRE(ct_renderer_pick(v.r, (int)px, (int)py, &p, &err) == CT_OK);
    CT_CHECK(p.hit && p.pick_id == 1);
    CT_CHECK_NEAR(ct_geo_lonlat_from_ecef(p.position).z, 2.75, 0.15);
    /* the water colour: depth 3.75 of at most 5.75 on the "depth" ramp (min 0): t = 0.652,
     * between #3182bd (0.5) and #08306b (1): 0.304 of the way */
    double f = (3.75 / 5.75 - 0.5) / 0.5;
    const uint8_t *c = pixel(&v, (int)px - 0, (int)py); /* dry: not water */
    CT_CHECK(!(c[2] > c[0] + 60));
    lonlat_of(e0 - 55, n0 + 5, &lon, &lat);
    to_pixel(enu_of(lon, lat, level), &px, &py);
    c = pixel(&v, (int)px, (int)py);
    CT_CHECK_NEAR(c[0], 0x31 + f * (0x08 - 0x31), 2);
    CT_CHECK_NEAR(c[1], 0x82 + f * (0x30 - 0x82), 2);
    CT_CHECK_NEAR(c[2], 0xbd + f * (0x6b - 0xbd), 2);
    view_close(&v);
    ct_scene_destroy(s);
}

/* ---- bad input: each broken layer fails alone, naming itself ---- */

CT_TEST(test_bad_layers_skipped_scene_draws)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    float cells[100];
    for (int i = 0; i < 100; i++)
        cells[i] = 1;
    double gt[6] = {e0 - 50, 10, 0, n0 + 50, 0, -10};
    write_tif(ct_test_tmp_path("good.tif"), 10, 10, gt, 32649, cells);
    ct_error err = {0};
    const char *txt = "not a raster\n";
    CT_REQUIRE(ct_file_write(ct_test_tmp_path("text.tif"), txt, strlen(txt), &err) == CT_OK);
    const char *vrt = "<VRTDataset rasterXSize=\"2000000000\" rasterYSize=\"2000000000\">"
                      "<VRTRasterBand dataType=\"Byte\" band=\"1\"/></VRTDataset>\n";
    CT_REQUIRE(ct_file_write(ct_test_tmp_path("huge.vrt"), vrt, strlen(vrt), &err) == CT_OK);
    /* a GeoTIFF cut short: its cells (or its directory) are gone */
    uint8_t *tif = NULL;
    size_t tif_size = 0;
    CT_REQUIRE(ct_file_read(ct_test_tmp_path("good.tif"), 0, &tif, &tif_size, &err) == CT_OK);
    CT_REQUIRE(ct_file_write(ct_test_tmp_path("cut.tif"), tif, tif_size / 2, &err) == CT_OK);
    free(tif);
    const char *json =
        "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
        "{\"name\":\"missing\",\"type\":\"terrain\",\"source\":\"nope.tif\"},"
        "{\"name\":\"text\",\"type\":\"raster\",\"source\":\"text.tif\"},"
        "{\"name\":\"huge\",\"type\":\"raster\",\"source\":\"huge.vrt\"},"
        "{\"name\":\"badramp\",\"type\":\"raster\",\"source\":\"good.tif\",\"style\":{\"ramp\":\"rainbow\"}},"
        "{\"name\":\"cut\",\"type\":\"terrain\",\"source\":\"cut.tif\"},"
        "{\"name\":\"good\",\"type\":\"raster\",\"source\":\"good.tif\","
        "\"style\":{\"color\":\"#ff0000\",\"height\":0}}]}";
    ct_scene *s = load_scene("s4.json", json);
    CT_REQUIRE(s != NULL);
    /* the API: clear errors naming the file or the style key */
    need_gl();
    ct_renderer *r = NULL;
    CT_REQUIRE(ct_renderer_create(ctx, &(ct_renderer_desc){.msaa = 1}, &r, &err) == CT_OK);
    const char *expect[5] = {"nope.tif", "text.tif: not a raster", "too large",
                             "layers[3].style.ramp: unknown ramp 'rainbow'", "cut.tif: "};
    for (int i = 0; i < 5; i++) {
        ct_render_layer *l = NULL;
        memset(&err, 0, sizeof err);
        CT_CHECK(ct_render_layer_raster_create(r, s, &s->layers[i], &l, &err) == CT_ERR_INPUT);
        CT_CHECK(l == NULL);
        CT_CHECK(strstr(err.msg, expect[i]) != NULL);
        fprintf(stderr, "  %s: %s\n", s->layers[i].name, err.msg);
    }
    ct_renderer_destroy(r);
    ct_scene_destroy(s);
    /* the CLI: logged per layer, the good one drawn, exit 0; pick reports the value */
    char args[4096], *out = NULL, *errs = NULL;
    snprintf(args, sizeof args, "render %s -o %s --size 200x200 --camera %.9f,%.9f,500,0,-90 --background 0,255,0",
             ct_test_tmp_path("s4.json"), ct_test_tmp_path("s4.png"), LON0, LAT0);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, &errs), 0);
    const char *names[5] = {"layer missing:", "layer text:", "layer huge:", "layer badramp:", "layer cut:"};
    for (int i = 0; i < 5; i++)
        CT_CHECK(strstr(errs, names[i]) != NULL);
    if (ct_test_failures)
        fprintf(stderr, "%s", errs);
    free(out);
    free(errs);
    ct_image img = {0};
    CT_REQUIRE(ct_image_load_file(ct_test_tmp_path("s4.png"), &img, &err) == CT_OK);
    const uint8_t *c = img.pixels + ((size_t)100 * img.width + 100) * 4;
    CT_CHECK(c[0] == 255 && c[1] == 0 && c[2] == 0);
    ct_image_free(&img);
    snprintf(args, sizeof args, "pick %s --pixel 100,100 --size 200x200 --camera %.9f,%.9f,500,0,-90 --json",
             ct_test_tmp_path("s4.json"), LON0, LAT0);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, &errs), 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j != NULL);
    CT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "layer")), "good"));
    CT_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "value")) == 1);
    cJSON_Delete(j);
    free(out);
    free(errs);
}

/* ---- placement: offset and height_offset move the layer like any other ---- */

CT_TEST(test_offset_and_height_offset)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    float dem[100];
    for (int i = 0; i < 100; i++)
        dem[i] = (float)(i % 10);
    double gt[6] = {e0 - 50, 10, 0, n0 + 50, 0, -10};
    write_tif(ct_test_tmp_path("dem6.tif"), 10, 10, gt, 32649, dem);
    ct_scene *s = load_scene("s6.json",
                             "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
                             "{\"name\":\"a\",\"type\":\"terrain\",\"source\":\"dem6.tif\"},"
                             "{\"name\":\"b\",\"type\":\"terrain\",\"source\":\"dem6.tif\","
                             "\"offset\":[30,-20],\"height_offset\":5}]}");
    CT_REQUIRE(s != NULL);
    view v;
    render_scene(&v, s);
    CT_REQUIRE(v.n == 2);
    ct_dvec3 ca, cb;
    double ra, rb;
    CT_REQUIRE(v.layers[0]->vt->bounds(v.layers[0], &ca, &ra) && v.layers[1]->vt->bounds(v.layers[1], &cb, &rb));
    double frame[16];
    ct_scene_frame_to_ecef(s, frame);
    ct_dvec3 want = ct_dmat4_transform_dir(frame, ct_dvec3_make(30, -20, 5));
    CT_CHECK_NEAR(cb.x - ca.x, want.x, 1e-6);
    CT_CHECK_NEAR(cb.y - ca.y, want.y, 1e-6);
    CT_CHECK_NEAR(cb.z - ca.z, want.z, 1e-6);
    CT_CHECK_NEAR(ra, rb, 1e-6);
    /* the sphere holds the 90 m x 90 m x 9 m surface (at least half its diagonal; the glTF
     * layer bounds the ECEF box of the box's corners, so somewhat more) */
    CT_CHECK(ra >= 0.5 * sqrt(90 * 90 * 2 + 81) - 0.01 && ra < 100);
    view_close(&v);
    ct_scene_destroy(s);
}

/* ---- CPU: ramps, style errors, decimation ---- */

CT_TEST(test_ramps_and_styles)
{
    ct_color_ramp r;
    uint8_t c[4];
    uint8_t x[4];
    CT_CHECK(ct_color_parse("#102030", x) && x[0] == 0x10 && x[1] == 0x20 && x[2] == 0x30 && x[3] == 255);
    CT_CHECK(ct_color_parse("#10203040", x) && x[3] == 0x40);
    CT_CHECK(!ct_color_parse("#1020", x) && !ct_color_parse("102030", x) && !ct_color_parse("#10203g", x));
    CT_CHECK(ct_color_parse("#f0a", x) && x[0] == 0xff && x[1] == 0x00 && x[2] == 0xaa && x[3] == 255); /* CSS shorthand */
    CT_REQUIRE(ct_color_ramp_named("viridis", &r));
    ct_color_ramp_apply(&r, 5, 0, 10, c); /* the middle stop: #21918c */
    CT_CHECK(c[0] == 0x21 && c[1] == 0x91 && c[2] == 0x8c && c[3] == 255);
    ct_color_ramp_apply(&r, 1.25, 0, 10, c); /* half-way #440154 -> #3b528b: (63.5, 41.5, 111.5) */
    CT_CHECK(c[0] == 64 && c[1] == 42 && c[2] == 112);
    ct_color_ramp_apply(&r, -3, 0, 10, c);
    CT_CHECK(c[0] == 0x44 && c[2] == 0x54);
    ct_color_ramp_apply(&r, 99, 0, 10, c);
    CT_CHECK(c[0] == 0xfd && c[1] == 0xe7);
    CT_REQUIRE(ct_color_ramp_named("visibility", &r));
    ct_color_ramp_apply(&r, 0, 0, 0, c);
    CT_CHECK(c[3] == 0);
    ct_color_ramp_apply(&r, 255, 0, 0, c);
    CT_CHECK(c[0] == 0x2c && c[1] == 0xa0 && c[2] == 0x2c && c[3] == 0xb3);
    CT_CHECK(!ct_color_ramp_named("rainbow", &r));

    struct {
        const char *json, *msg;
    } bad[] = {
        {"{\"ramp\":\"rainbow\"}", "s.ramp: unknown ramp 'rainbow'"},
        {"{\"ramp\":[[0,\"#ff0000\"],[0,\"#00ff00\"]]}", "s.ramp[1][0]: values must increase"},
        {"{\"ramp\":[[0,\"red\"]]}", "s.ramp[0][1]: 'red' is not #rrggbb"},
        {"{\"ramp\":[]}", "s.ramp: expected 1 to 64 stops"},
        {"{\"opacity\":2}", "s.opacity: expected a number in [0, 1]"},
        {"{\"height\":\"sky\"}", "s.height: expected"},
        {"{\"color\":\"#12\"}", "s.color: expected"},
        {"{\"min\":5,\"max\":1}", "max (1) must be greater than min (5)"},
        {"[1]", "s: expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_Parse(bad[i].json);
        ct_raster_style st;
        ct_error err = {0};
        CT_CHECK(ct_raster_style_parse(j, CT_LAYER_RASTER, "s", &st, &err) == CT_ERR_INPUT);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "  got '%s' for %s\n", err.msg, bad[i].json);
        CT_CHECK(strstr(err.msg, bad[i].msg) != NULL);
        cJSON_Delete(j);
    }
    cJSON *j = cJSON_Parse("{\"ramp\":[[0,\"#000000\"],[10,\"#ffffff80\"]],\"interpolate\":false,"
                           "\"height\":\"ground+value\",\"opacity\":0.5,\"drape_on\":\"t\",\"max_triangles\":1000}");
    ct_raster_style st;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_style_parse(j, CT_LAYER_RASTER, "s", &st, &err) == CT_OK);
    CT_CHECK(st.ramp.discrete && st.ramp.count == 2 && st.height == CT_RASTER_HEIGHT_GROUND_VALUE);
    CT_CHECK(st.opacity == 0.5 && !strcmp(st.drape_on, "t") && st.max_triangles == 1000 && !st.lit);
    ct_color_ramp_apply(&st.ramp, 9.99, 0, 0, c);
    CT_CHECK(c[0] == 0 && c[3] == 255);
    cJSON_Delete(j);
}

CT_TEST(test_decimation_budget)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    int w = 1500, h = 1000;
    float *dem = malloc((size_t)w * h * sizeof *dem);
    for (int i = 0; i < w * h; i++)
        dem[i] = (float)(i % w) * 0.01f;
    double gt[6] = {e0 - 750, 1, 0, n0 + 500, 0, -1};
    write_tif(ct_test_tmp_path("big.tif"), w, h, gt, 32649, dem);
    free(dem);
    ct_scene *s = load_scene("s5.json", "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],"
                                        "\"layers\":[{\"name\":\"big\",\"type\":\"terrain\",\"source\":\"big.tif\","
                                        "\"style\":{\"max_triangles\":30000}}]}");
    CT_REQUIRE(s != NULL);
    ct_gltf *g = NULL;
    ct_raster_layer_info info;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_layer_build(s, &s->layers[0], &g, &info, &err) == CT_OK);
    /* 1.5 M cells into 15,000: every 10th cell, 150 x 100 centres, 149 x 99 quads */
    CT_CHECK_EQ_INT(info.stride, 10);
    CT_CHECK_EQ_INT((int)info.triangles, 149 * 99 * 2);
    CT_CHECK(info.triangles <= 30000);
    /* the decimated surface still spans the raster: the centres of the outer 10 m cells,
     * 5 m in from the edges; east-west extent of those four corners in ENU (the UTM grid
     * is turned ~0.8 deg from north here, so the box is wider than 1490 m) */
    double lo = INFINITY, hi = -INFINITY;
    for (int k = 0; k < 4; k++) {
        double lon, lat;
        lonlat_of(e0 - 750 + (k & 1 ? 1495 : 5), n0 + 500 - (k & 2 ? 995 : 5), &lon, &lat);
        ct_dvec3 p = enu_of(lon, lat, 0);
        lo = fmin(lo, p.x), hi = fmax(hi, p.x);
    }
    CT_CHECK_NEAR(g->bounds_max[0] - g->bounds_min[0], hi - lo, 0.05);
    /* GDAL's nearest decimation takes the source cell under each new cell's centre: 10 i + 5 */
    CT_CHECK_NEAR(info.value_max, 14.95, 1e-4);
    ct_gltf_destroy(g);
    ct_scene_destroy(s);
}

/* Hillshade: sun from azimuth 315, altitude 45 (l = (-1/2, 1/2, 1/sqrt2) in ENU); the
 * colour is scaled by 0.25 + 0.75 (n.l) / sin 45, so flat ground keeps its colour. A plane
 * rising 1 m per metre to the west faces east (away from the sun): darker. */
CT_TEST(test_hillshade_factor)
{
    double e0, n0;
    utm_of(LON0, LAT0, &e0, &n0);
    float flat[64], west[64];
    for (int i = 0; i < 64; i++) {
        flat[i] = 5;
        west[i] = (float)(10 * (7 - i % 8)); /* 10 m cells, 10 m higher per cell westwards */
    }
    double gt[6] = {e0 - 40, 10, 0, n0 + 40, 0, -10};
    write_tif(ct_test_tmp_path("flat.tif"), 8, 8, gt, 32649, flat);
    write_tif(ct_test_tmp_path("west.tif"), 8, 8, gt, 32649, west);
    ct_scene *s = load_scene("s7.json",
                             "{\"version\":1,\"crs\":\"EPSG:32649\",\"origin\":[113.08,22.58,0],\"layers\":["
                             "{\"name\":\"flat\",\"type\":\"terrain\",\"source\":\"flat.tif\","
                             "\"style\":{\"color\":\"#808080\",\"hillshade\":true}},"
                             "{\"name\":\"west\",\"type\":\"terrain\",\"source\":\"west.tif\","
                             "\"style\":{\"color\":\"#808080\",\"hillshade\":true}}]}");
    CT_REQUIRE(s != NULL);
    double lin = pow((128 / 255.0 + 0.055) / 1.055, 2.4); /* #80 in linear light */
    /* east-facing 45 deg slope: n = (1/sqrt2, 0, 1/sqrt2), n.l = -1/(2 sqrt2) + 1/2 = 0.1464 */
    double f_east = 0.25 + 0.75 * (0.5 - 0.5 / sqrt(2)) / sqrt(0.5);
    double want[2] = {lin, lin * f_east};
    for (int k = 0; k < 2; k++) {
        ct_gltf *g = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_raster_layer_build(s, &s->layers[k], &g, NULL, &err) == CT_OK);
        const ct_gltf_primitive *p = &g->meshes[0].primitives[0];
        CT_REQUIRE(p->colors != NULL && g->materials[0].unlit);
        /* an interior vertex (all its triangles on the plane): the 4th of the 2nd row of 8 */
        int inner = -1;
        for (uint32_t i = 0; i < p->vertex_count && inner < 0; i++)
            if (fabs(p->normals[3 * i + 1] - (k ? sqrt(0.5) : 1)) < 0.01)
                inner = (int)i;
        CT_REQUIRE(inner >= 0);
        CT_CHECK_NEAR(p->colors[4 * inner], want[k], 0.01);
        ct_gltf_destroy(g);
    }
    ct_scene_destroy(s);
}

int main(int argc, char **argv)
{
    ct_test_case cases[] = {
        CT_CASE(test_ramps_and_styles), CT_CASE(test_decimation_budget),
        CT_CASE(test_terrain_colors_hole_footprint), CT_CASE(test_crs_utm_and_lonlat_agree),
        CT_CASE(test_flood_surface_at_ground_plus_depth), CT_CASE(test_bad_layers_skipped_scene_draws),
        CT_CASE(test_offset_and_height_offset), CT_CASE(test_hillshade_factor),
    };
    int n = (int)(sizeof cases / sizeof cases[0]), ran = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        ct_test_current = cases[i].name;
        int before = ct_test_failures;
        cases[i].fn();
        fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    if (ctx)
        ct_render_context_destroy(ctx);
    if (!ran) {
        fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(none)");
        return 1;
    }
    return ct_test_failures > 100 ? 100 : ct_test_failures;
}
