/* Vector layer labels rendered headless: a constructed GeoJSON (EPSG:4547)
 * with CJK and Latin names on points, a line and an extruded building, seen
 * from the south. Checked by
 *   - a committed reference image (inspected by eye: reference/labels.png),
 *   - label statistics and pixels: yellow (label_color) appears only where a
 *     style asks for labels; a label behind the tower is hidden and shows
 *     once the tower is filtered out; of two overlapping labels the higher
 *     label_priority wins (swapping priorities swaps the winner);
 *   - label_max_distance culls, a missing font skips labels without failing.
 * CT_UPDATE_REFERENCES=1 rewrites the reference. */
#include "citytwin/ct_image.h"
#include "citytwin/ct_vector.h"
#include "ct_test.h"
#include "ct_test_image.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define X0 405000.0
#define Y0 2498000.0
#define S 384

static const char *GROUND =
    "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}},"
    "\"features\":[{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
    "[[[404800,2497800],[405200,2497800],[405200,2498200],[404800,2498200],[404800,2497800]]]}}]}";

/* x, y relative to (X0, Y0) */
typedef struct feat {
    const char *name, *kind;
    double prio;
    int type; /* 0 point, 1 line, 2 square (x, y = centre, half side 15) */
    double x, y, x2, y2;
} feat;

static const feat FEATURES[] = {
    {"消防站", "station", 5, 0, -40, 0, 0, 0},
    {"Hydrant 12", "hydrant", 1, 0, -30, -100, 0, 0},
    {"骑楼街 Qilou St", "street", 2, 1, -80, -50, 80, -50},
    {"Tower 塔", "building", 3, 2, 0, 45, 0, 0},
    {"Hidden", "hydrant", 9, 0, 0, 90, 0, 0},      /* behind the tower seen from the camera */
    {"A", "hydrant", 10, 0, 40, 10, 0, 0},          /* A and B overlap on screen */
    {"BBBBBBBB", "hydrant", 0, 0, 40.5, 10, 0, 0},
};
enum { N_FEAT = sizeof FEATURES / sizeof FEATURES[0], F_HIDDEN = 4, F_A = 5 };

static void write_features(const char *path, bool swap_ab)
{
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}},"
               "\"features\":[");
    for (int i = 0; i < N_FEAT; i++) {
        const feat *e = &FEATURES[i];
        double prio = e->prio;
        if (swap_ab && i >= F_A)
            prio = FEATURES[i == F_A ? F_A + 1 : F_A].prio;
        fprintf(f, "%s{\"type\":\"Feature\",\"id\":%d,\"properties\":{\"name\":\"%s\",\"kind\":\"%s\",\"prio\":%g},"
                   "\"geometry\":",
                i ? "," : "", i + 1, e->name, e->kind, prio);
        double x = X0 + e->x, y = Y0 + e->y;
        if (e->type == 0)
            fprintf(f, "{\"type\":\"Point\",\"coordinates\":[%.3f,%.3f]}}", x, y);
        else if (e->type == 1)
            fprintf(f, "{\"type\":\"LineString\",\"coordinates\":[[%.3f,%.3f],[%.3f,%.3f]]}}", x, y, X0 + e->x2,
                    Y0 + e->y2);
        else
            fprintf(f,
                    "{\"type\":\"Polygon\",\"coordinates\":[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f]]]}}",
                    x - 15, y - 15, x + 15, y - 15, x + 15, y + 15, x - 15, y + 15, x - 15, y - 15);
    }
    fprintf(f, "]}");
    fclose(f);
}

static const char *STYLE_LABELS =
    "{\"color_by\":\"kind\",\"colors\":{\"station\":\"#d62728\",\"hydrant\":\"#1f77b4\",\"street\":\"#404040\","
    "\"building\":\"#c8c0b0\"},\"extrude\":40,\"width\":6,\"size\":3,"
    "\"label\":\"name\",\"label_priority\":\"prio\",\"label_color\":\"#ffff00\",\"label_size\":16%s}";

typedef struct result {
    uint8_t px[S * S * 4];
    ct_vector_label_stats stats;
} result;

static ct_camera camera(void)
{
    ct_camera cam = ct_camera_from_local(X0, Y0 - 180, 50, 0, -12, 0);
    cam.near_m = 1;
    cam.far_m = 2000;
    return cam;
}

/* One renderer for every case (exit 77 without GL). */
static ct_renderer *renderer(void)
{
    static ct_render_context *ctx;
    static ct_renderer *r;
    ct_error err = {0};
    if (!ctx) {
        ct_render_context_desc cd = {.width = S, .height = S};
        if (ct_render_context_create(&cd, &ctx, &err) != CT_OK) {
            fprintf(stderr, "no GL: %s\n", err.msg);
            exit(77);
        }
        if (ct_renderer_create(ctx, &(ct_renderer_desc){0}, &r, &err) != CT_OK)
            fprintf(stderr, "renderer: %s\n", err.msg);
    }
    return r;
}

/* Renders ground + features with the style (extra = more style keys). */
static bool render(const char *features, const char *extra, bool with_labels, const char *where, result *out)
{
    ct_renderer *r = renderer();
    ct_error err = {0};
    if (!r)
        return false;
    const char *ground_path = ct_test_tmp_path("ground.geojson");
    FILE *g = fopen(ground_path, "w");
    fputs(GROUND, g);
    fclose(g);
    char style[2048];
    snprintf(style, sizeof style, STYLE_LABELS, extra ? extra : "");
    cJSON *st = cJSON_Parse(style);
    if (!with_labels)
        cJSON_DeleteItemFromObject(st, "label");
    if (where)
        cJSON_AddStringToObject(st, "where", where);
    cJSON *gst = cJSON_Parse("{\"color\":\"#2ca02c\",\"opacity\":1,\"outline\":false,\"lift\":0}");
    ct_render_layer *ground = NULL, *feat = NULL;
    ct_vector_desc gd = {.source = ground_path, .name = "ground", .style = gst, .frame_crs = "EPSG:4547"};
    ct_vector_desc fd = {.source = features, .name = "features", .style = st, .frame_crs = "EPSG:4547"};
    bool ok = ct_render_layer_vector_create(r, &gd, &ground, &err) == CT_OK &&
              ct_render_layer_vector_create(r, &fd, &feat, &err) == CT_OK;
    if (!ok)
        fprintf(stderr, "layer: %s\n", err.msg);
    if (ok) {
        ct_camera cam = camera();
        ct_render_frame_desc frame = {.camera = &cam, .width = S, .height = S};
        ct_renderer_begin_frame(r, &frame);
        /* features first: their labels must still be hidden by nothing but geometry */
        feat->vt->draw(feat, r);
        ground->vt->draw(ground, r);
        ct_renderer_end_frame(r);
        ok = ct_renderer_read_pixels(r, out->px, &err) == CT_OK;
        ct_render_layer_vector_label_stats(feat, &out->stats);
    }
    ct_render_layer_destroy(ground);
    ct_render_layer_destroy(feat);
    cJSON_Delete(st);
    cJSON_Delete(gst);
    return ok;
}

static bool yellow(const uint8_t *p) { return p[0] > 190 && p[1] > 190 && p[2] < 90; }

static int count_yellow(const result *res, int x0, int y0, int x1, int y1)
{
    int n = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < S; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < S; x++)
            n += yellow(&res->px[(y * S + x) * 4]);
    return n;
}

/* Where a point feature's label anchor (marker top, 6 m up) lands on screen. */
static void anchor_pixel(const feat *e, double z, int *px, int *py)
{
    ct_camera cam = camera();
    cam.aspect = 1;
    double view[16], proj[16];
    ct_camera_view(&cam, view);
    ct_camera_projection(&cam, false, proj);
    ct_dvec3 v = ct_dmat4_transform_point(view, ct_dvec3_make(X0 + e->x, Y0 + e->y, z));
    double cx = proj[0] * v.x + proj[8] * v.z, cy = proj[5] * v.y + proj[9] * v.z, cw = -v.z;
    *px = (int)((cx / cw * 0.5 + 0.5) * S);
    *py = (int)((0.5 - cy / cw * 0.5) * S);
}

static bool have_font(void)
{
    FILE *f = fopen("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

CT_TEST(test_labels_reference_image)
{
    if (!have_font())
        exit(77);
    const char *path = ct_test_tmp_path("features.geojson");
    write_features(path, false);
    static result with, without;
    CT_REQUIRE(render(path, NULL, true, NULL, &with));
    CT_REQUIRE(render(path, NULL, false, NULL, &without));
    fprintf(stderr, "labels %u drawn %u culled %u occluded %u collided %u\n", with.stats.labels, with.stats.drawn,
            with.stats.culled, with.stats.occluded, with.stats.collided);
    CT_CHECK(with.stats.font_ok);
    CT_CHECK_EQ_INT(with.stats.labels, N_FEAT);
    CT_CHECK_EQ_INT(with.stats.drawn, N_FEAT - 2);
    CT_CHECK_EQ_INT(with.stats.occluded, 1);
    CT_CHECK_EQ_INT(with.stats.collided, 1);
    CT_CHECK_EQ_INT(with.stats.culled, 0);
    /* labels only where the style asks: no yellow without "label" */
    CT_CHECK_EQ_INT(without.stats.labels, 0);
    CT_CHECK_EQ_INT(count_yellow(&without, 0, 0, S, S), 0);
    CT_CHECK(count_yellow(&with, 0, 0, S, S) > 500);
    /* the image with labels differs from the one without only near labels:
     * most pixels are equal */
    int same = 0;
    for (int i = 0; i < S * S; i++)
        same += !memcmp(&with.px[i * 4], &without.px[i * 4], 3);
    CT_CHECK(same > S * S * 8 / 10);

    const char *dir = CT_SOURCE_DIR "/tests/labels/reference";
    if (getenv("CT_UPDATE_REFERENCES")) {
        ct_error err = {0};
        CT_CHECK(ct_image_write_png(CT_SOURCE_DIR "/tests/labels/reference/labels.png", S, S, with.px, &err) == CT_OK);
    }
    double e = ct_test_image_compare(dir, "labels.png", with.px, S);
    fprintf(stderr, "labels.png rmse %.3f (tol 3)\n", e);
    CT_CHECK(e <= 3);
    if (!(e <= 3))
        ct_image_write_png(ct_test_tmp_path("labels-actual.png"), S, S, with.px, NULL);
}

CT_TEST(test_labels_occlusion)
{
    if (!have_font())
        exit(77);
    const char *path = ct_test_tmp_path("features.geojson");
    write_features(path, false);
    static result all, no_tower;
    CT_REQUIRE(render(path, NULL, true, NULL, &all));
    CT_REQUIRE(render(path, NULL, true, "kind <> 'building'", &no_tower));
    int ax, ay;
    anchor_pixel(&FEATURES[F_HIDDEN], 6, &ax, &ay);
    fprintf(stderr, "hidden label anchor at %d,%d\n", ax, ay);
    CT_CHECK(ax > 0 && ax < S && ay > 0 && ay < S);
    /* right of the anchor, where the point's label goes */
    CT_CHECK_EQ_INT(count_yellow(&all, ax + 4, ay - 12, ax + 70, ay + 12), 0);
    CT_CHECK(count_yellow(&no_tower, ax + 4, ay - 12, ax + 70, ay + 12) > 40);
    CT_CHECK_EQ_INT(no_tower.stats.occluded, 0);
    CT_CHECK_EQ_INT(all.stats.occluded, 1);
}

CT_TEST(test_labels_priority_collision)
{
    if (!have_font())
        exit(77);
    const char *path = ct_test_tmp_path("features.geojson");
    static result a_wins, b_wins;
    write_features(path, false);
    CT_REQUIRE(render(path, NULL, true, NULL, &a_wins));
    write_features(path, true);
    CT_REQUIRE(render(path, NULL, true, NULL, &b_wins));
    CT_CHECK_EQ_INT(a_wins.stats.collided, 1);
    CT_CHECK_EQ_INT(b_wins.stats.collided, 1);
    int ax, ay;
    anchor_pixel(&FEATURES[F_A], 6, &ax, &ay);
    /* "A" is one glyph; "BBBBBBBB" runs some 80 px to the right */
    int right_a = count_yellow(&a_wins, ax + 30, ay - 12, ax + 110, ay + 12);
    int right_b = count_yellow(&b_wins, ax + 30, ay - 12, ax + 110, ay + 12);
    fprintf(stderr, "yellow right of A's anchor: %d (A wins), %d (B wins)\n", right_a, right_b);
    CT_CHECK_EQ_INT(right_a, 0);
    CT_CHECK(right_b > 60);
}

CT_TEST(test_labels_distance_and_font)
{
    if (!have_font())
        exit(77);
    const char *path = ct_test_tmp_path("features.geojson");
    write_features(path, false);
    static result near, nofont;
    /* the camera is 92 m (the hydrant) to 290 m from the anchors: 60 m culls them all */
    CT_REQUIRE(render(path, ",\"label_max_distance\":60", true, NULL, &near));
    CT_CHECK_EQ_INT(near.stats.culled, N_FEAT);
    CT_CHECK_EQ_INT(near.stats.drawn, 0);
    CT_CHECK_EQ_INT(count_yellow(&near, 0, 0, S, S), 0);
    /* a missing font: the layer still draws, labels are skipped */
    setenv("CT_FONT", "/nonexistent/font.ttf", 1);
    CT_REQUIRE(render(path, NULL, true, NULL, &nofont));
    unsetenv("CT_FONT");
    CT_CHECK(!nofont.stats.font_ok);
    CT_CHECK_EQ_INT(nofont.stats.drawn, 0);
    CT_CHECK_EQ_INT(count_yellow(&nofont, 0, 0, S, S), 0);
    /* bad label style values are warned about and replaced */
    cJSON *st = cJSON_Parse("{\"label\":\"name\",\"label_size\":\"big\",\"label_color\":\"nope\",\"label_halo\":3,"
                            "\"label_max_distance\":-1}");
    ct_vector *v = NULL;
    ct_error err = {0};
    ct_vector_desc d = {.source = path, .style = st, .frame_crs = "EPSG:4547"};
    CT_REQUIRE(ct_vector_build(&d, &v, &err) == CT_OK);
    ct_vector_stats vs;
    ct_vector_get_stats(v, &vs);
    CT_CHECK_EQ_INT(vs.style_warnings, 4);
    ct_vector_label_style ls;
    ct_vector_get_label_style(v, &ls);
    CT_CHECK(ls.size_px == 16 && ls.color[0] == 1 && ls.color[2] == 1 && isinf(ls.max_distance));
    size_t n = 0;
    const ct_vector_label *labels = ct_vector_labels(v, &n);
    CT_CHECK_EQ_INT(n, N_FEAT);
    /* anchors: a point's at its marker top (2 x size 3 m default), the tower's on its 40 m roof */
    if (n == N_FEAT) {
        CT_CHECK(!strcmp(labels[0].text, "消防站"));
        CT_CHECK(labels[0].kind == CT_VECTOR_LABEL_POINT && fabs(labels[0].position[2] - 6) < 1e-6);
        CT_CHECK(labels[2].kind == CT_VECTOR_LABEL_LINE);
        CT_CHECK(labels[3].kind == CT_VECTOR_LABEL_POLYGON && fabs(labels[3].position[2] - 0.3) < 1e-6); /* fill lift */
    }
    ct_vector_destroy(v);
    cJSON_Delete(st);
    /* extruded: the tower's label sits on its roof */
    char style[2048];
    snprintf(style, sizeof style, STYLE_LABELS, "");
    st = cJSON_Parse(style);
    d.style = st;
    CT_REQUIRE(ct_vector_build(&d, &v, &err) == CT_OK);
    labels = ct_vector_labels(v, &n);
    CT_CHECK(n == N_FEAT && fabs(labels[3].position[2] - 40) < 1e-6);
    ct_vector_destroy(v);
    cJSON_Delete(st);
}

/* Two label layers whose labels overlap: "hospitals" (yellow labels, queued
 * first) and "stations" (cyan labels), each with one overlapping point near
 * (40, 10) and one point of its own elsewhere. Collision is frame-wide: the
 * higher label_priority wins across layers, equal priorities go to the layer
 * queued first; each layer's stats count its own labels. */
typedef struct two_result {
    uint8_t px[S * S * 4];
    ct_vector_label_stats hosp, stat;
} two_result;

static void write_points(const char *path, const char *name, double x, double y, const char *name2, double x2,
                         double y2)
{
    FILE *f = fopen(path, "w");
    fprintf(f,
            "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4547\"}},"
            "\"features\":[{\"type\":\"Feature\",\"properties\":{\"name\":\"%s\"},\"geometry\":{\"type\":\"Point\","
            "\"coordinates\":[%.3f,%.3f]}},{\"type\":\"Feature\",\"properties\":{\"name\":\"%s\"},\"geometry\":"
            "{\"type\":\"Point\",\"coordinates\":[%.3f,%.3f]}}]}",
            name, X0 + x, Y0 + y, name2, X0 + x2, Y0 + y2);
    fclose(f);
}

static bool render_two(double prio_hosp, double prio_stat, two_result *out)
{
    ct_renderer *r = renderer();
    if (!r)
        return false;
    const char *hp = ct_test_tmp_path("hospitals.geojson"), *sp = ct_test_tmp_path("stations.geojson");
    write_points(hp, "医院 Hospital", 40, 10, "Clinic", -60, 10);
    write_points(sp, "消防站 Station", 40.5, 10, "Depot", -60, -60);
    char hs[512], ss[512];
    snprintf(hs, sizeof hs,
             "{\"color\":\"#808080\",\"size\":3,\"label\":\"name\",\"label_color\":\"#ffff00\","
             "\"label_priority\":%g}",
             prio_hosp);
    snprintf(ss, sizeof ss,
             "{\"color\":\"#808080\",\"size\":3,\"label\":\"name\",\"label_color\":\"#00ffff\","
             "\"label_priority\":%g}",
             prio_stat);
    cJSON *hst = cJSON_Parse(hs), *sst = cJSON_Parse(ss);
    ct_error err = {0};
    ct_render_layer *hl = NULL, *sl = NULL;
    ct_vector_desc hd = {.source = hp, .name = "hospitals", .style = hst, .frame_crs = "EPSG:4547"};
    ct_vector_desc sd = {.source = sp, .name = "stations", .style = sst, .frame_crs = "EPSG:4547"};
    bool ok = ct_render_layer_vector_create(r, &hd, &hl, &err) == CT_OK &&
              ct_render_layer_vector_create(r, &sd, &sl, &err) == CT_OK;
    if (!ok)
        fprintf(stderr, "layer: %s\n", err.msg);
    if (ok) {
        ct_camera cam = camera();
        ct_render_frame_desc frame = {.camera = &cam, .width = S, .height = S};
        ct_renderer_begin_frame(r, &frame);
        hl->vt->draw(hl, r);
        sl->vt->draw(sl, r);
        ct_renderer_end_frame(r);
        ok = ct_renderer_read_pixels(r, out->px, &err) == CT_OK;
        ct_render_layer_vector_label_stats(hl, &out->hosp);
        ct_render_layer_vector_label_stats(sl, &out->stat);
    }
    ct_render_layer_destroy(hl);
    ct_render_layer_destroy(sl);
    cJSON_Delete(hst);
    cJSON_Delete(sst);
    return ok;
}

static bool cyan(const uint8_t *p) { return p[0] < 90 && p[1] > 190 && p[2] > 190; }

static void count_colours(const two_result *res, int x0, int y0, int x1, int y1, int *n_yellow, int *n_cyan)
{
    *n_yellow = *n_cyan = 0;
    for (int y = y0 < 0 ? 0 : y0; y < y1 && y < S; y++)
        for (int x = x0 < 0 ? 0 : x0; x < x1 && x < S; x++) {
            *n_yellow += yellow(&res->px[(y * S + x) * 4]);
            *n_cyan += cyan(&res->px[(y * S + x) * 4]);
        }
}

CT_TEST(test_labels_across_layers)
{
    if (!have_font())
        exit(77);
    static two_result stat_wins, hosp_wins, tie;
    CT_REQUIRE(render_two(1, 5, &stat_wins));
    CT_REQUIRE(render_two(5, 1, &hosp_wins));
    CT_REQUIRE(render_two(2, 2, &tie));
    int ax, ay;
    feat overlap = {.x = 40, .y = 10};
    anchor_pixel(&overlap, 6, &ax, &ay);
    const two_result *cases[3] = {&stat_wins, &hosp_wins, &tie};
    const char *names[3] = {"stations 5 > hospitals 1", "hospitals 5 > stations 1", "tie: hospitals queued first"};
    int ny[3], nc[3], ay_all[3], ac_all[3];
    for (int k = 0; k < 3; k++) {
        const two_result *c = cases[k];
        /* right of the overlapping anchors, where both point labels would go */
        count_colours(c, ax + 4, ay - 14, ax + 150, ay + 14, &ny[k], &nc[k]);
        count_colours(c, 0, 0, S, S, &ay_all[k], &ac_all[k]);
        fprintf(stderr, "%s: hospitals drawn %u collided %u, stations drawn %u collided %u; window yellow %d cyan %d\n",
                names[k], c->hosp.drawn, c->hosp.collided, c->stat.drawn, c->stat.collided, ny[k], nc[k]);
        /* the far labels (Clinic, Depot) are drawn in every case */
        CT_CHECK_EQ_INT(c->hosp.labels, 2);
        CT_CHECK_EQ_INT(c->stat.labels, 2);
        CT_CHECK_EQ_INT(c->hosp.drawn + c->hosp.collided, 2);
        CT_CHECK_EQ_INT(c->stat.drawn + c->stat.collided, 2);
        CT_CHECK_EQ_INT(c->hosp.culled + c->hosp.occluded + c->stat.culled + c->stat.occluded, 0);
        CT_CHECK(ay_all[k] > ny[k] + 20 && ac_all[k] > nc[k] + 20);
    }
    const char *keep = getenv("CT_KEEP_IMAGES"); /* a directory: the three frames, to look at */
    for (int k = 0; keep && k < 3; k++) {
        char name[1024];
        snprintf(name, sizeof name, "%s/across-layers-%d.png", keep, k);
        ct_image_write_png(name, S, S, cases[k]->px, NULL);
    }
    /* the higher priority wins across layers; the other label is hidden */
    CT_CHECK_EQ_INT(stat_wins.stat.drawn, 2);
    CT_CHECK_EQ_INT(stat_wins.hosp.collided, 1);
    CT_CHECK(nc[0] > 60);
    CT_CHECK_EQ_INT(ny[0], 0);
    CT_CHECK_EQ_INT(hosp_wins.hosp.drawn, 2);
    CT_CHECK_EQ_INT(hosp_wins.stat.collided, 1);
    CT_CHECK(ny[1] > 60);
    CT_CHECK_EQ_INT(nc[1], 0);
    /* equal priorities: the layer queued first (hospitals) */
    CT_CHECK_EQ_INT(tie.hosp.drawn, 2);
    CT_CHECK_EQ_INT(tie.stat.collided, 1);
    CT_CHECK(ny[2] > 60);
    CT_CHECK_EQ_INT(nc[2], 0);
}

CT_TEST_MAIN(CT_CASE(test_labels_reference_image), CT_CASE(test_labels_occlusion),
             CT_CASE(test_labels_priority_collision), CT_CASE(test_labels_distance_and_font),
             CT_CASE(test_labels_across_layers))
