/* --report pages of the raster analyses (flood static/dynamic, pond, viewshed,
 * los) and --progress: the page parses (html.parser), has no external
 * reference, its map PNG decodes at the announced size and shows the result
 * colour where the constructed DEM says the result is (and background where it
 * is not), and its charts have as many bars/lines/points as the JSON report. */
#include "report_test_util.h"

#include "citytwin/ct_raster.h"

#define UTM32N                                                                                                    \
    "PROJCS[\"WGS 84 / UTM zone 32N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]]," \
    "PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],PROJECTION[\"Transverse_Mercator\"],"                \
    "PARAMETER[\"latitude_of_origin\",0],PARAMETER[\"central_meridian\",9],PARAMETER[\"scale_factor\",0.9996],"        \
    "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1]]"

/* 60 x 40 cells of 10 m from (500000, 5300400) top-left: flat ground at 10 m with
 * a 5 m deep basin on columns 5..19, rows 5..19 (x 500050..500200, y 5300200..5300350). */
#define X0 500000.0
#define Y0 5300400.0
#define CELL 10.0

static const char *basin_dem(void)
{
    if (!rt_have_python()) {
        fprintf(stderr, "python3 with html.parser not found: skipped\n");
        exit(77);
    }
    const char *path = ct_test_tmp_path("basin.tif");
    ct_raster *r = ct_raster_create(60, 40, NULL);
    free(r->crs_wkt);
    r->crs_wkt = strdup(UTM32N);
    double gt[6] = {X0, CELL, 0, Y0, 0, -CELL};
    memcpy(r->geotransform, gt, sizeof gt);
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 60; x++)
            r->data[y * 60 + x] = (x >= 5 && x < 20 && y >= 5 && y < 20) ? 5.0f : 10.0f;
    ct_error err = {0};
    ct_status st = ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, false, 0, &err);
    ct_raster_destroy(r);
    return st == CT_OK ? path : NULL;
}

/* World centre of a cell of the basin DEM. */
static double cx(int col) { return X0 + (col + 0.5) * CELL; }
static double cy(int row) { return Y0 - (row + 0.5) * CELL; }

CT_TEST(flood_static_report)
{
    const char *dem = basin_dem();
    CT_REQUIRE(dem);
    const char *html = ct_test_tmp_path("flood.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "flood --dem %s --seed %f,%f --level 7,8 -o %s --report %s --json", dem, cx(10),
             cy(10), ct_test_tmp_path("depth.tif"), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        CT_CHECK_EQ_INT(rt_count(&p, "imgs"), 1);
        /* basin cells (level 8 over ground 5): blue; flat ground (10 m): background. */
        for (int k = 0; k < 3; k++) {
            const uint8_t *wet = rt_pixel(&p, cx(7 + 5 * k), cy(8 + 4 * k));
            const uint8_t *dry = rt_pixel(&p, cx(30 + 5 * k), cy(12 + 5 * k));
            CT_CHECK(rt_is_blue(wet));
            CT_CHECK(rt_is_background(dry));
        }
        /* the pixel just outside the basin's east edge is dry */
        CT_CHECK(rt_is_background(rt_pixel(&p, X0 + 20 * CELL + 3, cy(12))));
        CT_CHECK(rt_is_blue(rt_pixel(&p, X0 + 20 * CELL - 3, cy(12))));
        /* two levels: area and volume line charts of 2 points each; the depth
         * histogram (20 bars) counts every flooded cell of the largest flood. */
        cJSON *levels = cJSON_GetObjectItem(j, "levels");
        CT_CHECK_EQ_INT(rt_count(&p, "lines"), cJSON_GetArraySize(levels));
        cJSON *pts = cJSON_GetObjectItem(p.counts, "line_points");
        CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, 0)->valueint, cJSON_GetArraySize(levels));
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 20);
        CT_CHECK_NEAR(rt_bar_sum(&p, 0, 20), cJSON_GetObjectItem(j, "cells")->valuedouble, 0.5);
        CT_CHECK_NEAR(cJSON_GetObjectItem(j, "cells")->valuedouble, 15 * 15, 0.5); /* hand count */
        CT_CHECK(strstr(p.html, "<details>") != NULL);
        CT_CHECK(strstr(p.html, "&quot;cells&quot;") != NULL); /* the JSON, escaped */
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

CT_TEST(pond_report)
{
    const char *dem = basin_dem();
    CT_REQUIRE(dem);
    const char *html = ct_test_tmp_path("pond.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "pond --dem %s --rain-depth 50 -o %s --report %s --json", dem,
             ct_test_tmp_path("pond.tif"), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        /* Rain on the basin stays there: its lowest part is wet, the plateau dry. */
        CT_CHECK(rt_is_blue(rt_pixel(&p, cx(12), cy(12))));
        CT_CHECK(rt_is_background(rt_pixel(&p, cx(40), cy(20))));
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 20);
        CT_CHECK_NEAR(rt_bar_sum(&p, 0, 20), cJSON_GetObjectItem(j, "cells")->valuedouble, 0.5);
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

CT_TEST(flood_dynamic_report)
{
    const char *dem = basin_dem();
    CT_REQUIRE(dem);
    const char *html = ct_test_tmp_path("dyn.html"), *dir = ct_test_tmp_path("dyn");
    char args[4096], out[65536];
    /* Water up to 8 m from the start: the basin holds 3 m, the plateau stays dry. */
    snprintf(args, sizeof args,
             "flood --dem %s --duration 30 --initial-level 8 --gauge %f,%f --gauge %f,%f --gauge-every 10 "
             "--out-dir %s --report %s --json",
             dem, cx(10), cy(10), cx(40), cy(20), dir, html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        CT_CHECK(rt_is_blue(rt_pixel(&p, cx(8), cy(15))));
        CT_CHECK(rt_is_background(rt_pixel(&p, cx(45), cy(30))));
        /* one hydrograph line per gauge, one point per gauges.csv row */
        char csv[512];
        snprintf(csv, sizeof csv, "%s/gauges.csv", dir);
        uint8_t *data;
        size_t size;
        ct_error err = {0};
        CT_REQUIRE(ct_file_read(csv, 1 << 20, &data, &size, &err) == CT_OK);
        int rows = -1; /* minus the header */
        for (size_t i = 0; i < size; i++)
            rows += data[i] == '\n';
        free(data);
        /* then the water budget (storage, in, out) and the balance error over
         * time: one point per mass_balance.csv row */
        snprintf(csv, sizeof csv, "%s/mass_balance.csv", dir);
        CT_REQUIRE(ct_file_read(csv, 1 << 20, &data, &size, &err) == CT_OK);
        int mb_rows = -1;
        for (size_t i = 0; i < size; i++)
            mb_rows += data[i] == '\n';
        free(data);
        CT_CHECK_EQ_INT(rt_count(&p, "lines"), 2 + 3 + 1);
        cJSON *pts = cJSON_GetObjectItem(p.counts, "line_points");
        CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, 0)->valueint, rows);
        CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, 1)->valueint, rows);
        CT_CHECK(rows >= 3);
        CT_CHECK_EQ_INT(mb_rows, 4); /* 0, 10, 20 (the gauge times) and 30 s */
        for (int k = 2; k < 6; k++)
            CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, k)->valueint, mb_rows);
        CT_CHECK(strstr(p.html, "Water budget over time") != NULL);
        CT_CHECK(strstr(p.html, "Mass balance error over time") != NULL);
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 20);
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

/* Flat ground at 0 with a 30 m wall on column 30: an eye at column 10 sees
 * everything west of the wall and nothing far east of it. */
static const char *wall_dem(void)
{
    const char *path = ct_test_tmp_path("wall.tif");
    ct_raster *r = ct_raster_create(60, 40, NULL);
    free(r->crs_wkt);
    r->crs_wkt = strdup(UTM32N);
    double gt[6] = {X0, CELL, 0, Y0, 0, -CELL};
    memcpy(r->geotransform, gt, sizeof gt);
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 60; x++)
            r->data[y * 60 + x] = x == 30 ? 30.0f : 0.0f;
    ct_error err = {0};
    ct_status st = ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, false, 0, &err);
    ct_raster_destroy(r);
    return st == CT_OK ? path : NULL;
}

CT_TEST(viewshed_report)
{
    const char *dem = wall_dem();
    CT_REQUIRE(dem);
    const char *html = ct_test_tmp_path("vs.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "viewshed --dem %s --observer %f,%f --height 2 -o %s --report %s --json", dem,
             cx(10), cy(20), ct_test_tmp_path("vs.tif"), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        CT_CHECK(rt_is_green(rt_pixel(&p, cx(20), cy(10))));
        CT_CHECK(rt_is_green(rt_pixel(&p, cx(3), cy(30))));
        CT_CHECK(!rt_is_green(rt_pixel(&p, cx(45), cy(20))));
        CT_CHECK(!rt_is_green(rt_pixel(&p, cx(50), cy(15))));
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 10); /* distance bands */
        /* The bars are the visible share of the output raster's cells in ten
         * distance bands out to the farthest cell, recounted here from vs.tif. */
        ct_raster *vs = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_raster_read(ct_test_tmp_path("vs.tif"), &vs, &err) == CT_OK);
        double maxd = 0, vis[10] = {0}, tot[10] = {0};
        for (int pass = 0; pass < 2; pass++)
            for (int r = 0; r < vs->height; r++)
                for (int c = 0; c < vs->width; c++) {
                    float v = vs->data[(size_t)r * vs->width + c];
                    if (isnan(v))
                        continue;
                    double x, y;
                    ct_raster_cell_center(vs, c, r, &x, &y);
                    double dist = hypot(x - cx(10), y - cy(20));
                    if (pass == 0) {
                        maxd = fmax(maxd, dist);
                    } else {
                        int b = (int)(dist / maxd * 10);
                        b = b > 9 ? 9 : b;
                        tot[b]++;
                        vis[b] += v == 255;
                    }
                }
        ct_raster_destroy(vs);
        cJSON *vals = cJSON_GetObjectItem(p.counts, "bar_values");
        for (int b = 0; b < 10; b++) {
            double want = tot[b] > 0 ? 100 * vis[b] / tot[b] : 0;
            CT_CHECK_NEAR(cJSON_GetArrayItem(vals, b)->valuedouble, want, 0.006 * want + 1e-9);
        }
        CT_CHECK(vis[0] > 0.9 * tot[0] && vis[9] == 0); /* near: seen; beyond the wall: hidden */
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

CT_TEST(los_report)
{
    const char *dem = wall_dem();
    CT_REQUIRE(dem);
    const char *html = ct_test_tmp_path("los.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "los --dem %s --from %f,%f,2 --to %f,%f,2 --profile --report %s --json", dem, cx(10),
             cy(20), cx(50), cy(20), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "visible")));
    rt_page p;
    if (rt_page_load(html, &p)) {
        /* terrain and sight line, one point per profile sample */
        CT_CHECK_EQ_INT(rt_count(&p, "lines"), 2);
        int samples = cJSON_GetArraySize(cJSON_GetObjectItem(j, "profile"));
        cJSON *pts = cJSON_GetObjectItem(p.counts, "line_points");
        CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, 0)->valueint, samples);
        CT_CHECK_EQ_INT(cJSON_GetArrayItem(pts, 1)->valueint, samples);
        /* green (clear) west of the wall, red (blocked) east of it */
        CT_CHECK(rt_is_green(rt_pixel(&p, cx(20), cy(20))));
        const uint8_t *east = rt_pixel(&p, cx(40), cy(20));
        CT_CHECK(east && east[0] > east[1] + 100 && east[0] > east[2] + 100);
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

/* --progress draws a bar on stderr; without it (stderr a file, not a TTY) nothing. */
CT_TEST(progress_bar)
{
    const char *dem = wall_dem();
    CT_REQUIRE(dem);
    const char *log1 = ct_test_tmp_path("p1.txt"), *log2 = ct_test_tmp_path("p2.txt");
    const char *log3 = ct_test_tmp_path("p3.txt"), *log4 = ct_test_tmp_path("p4.txt");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin analyze viewshed --dem %s --observer %f,%f --height 2 -o %s --json "
             "--progress >%s 2>%s", CT_BINARY_DIR, dem, cx(10), cy(20), ct_test_tmp_path("p.tif"), log3, log1);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin analyze viewshed --dem %s --observer %f,%f --height 2 -o %s --json "
             ">%s 2>%s", CT_BINARY_DIR, dem, cx(10), cy(20), ct_test_tmp_path("p.tif"), log4, log2);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    uint8_t *a, *b, *c;
    size_t na, nb, nc;
    ct_error err = {0};
    CT_REQUIRE(ct_file_read(log1, 1 << 20, &a, &na, &err) == CT_OK);
    CT_REQUIRE(ct_file_read(log2, 1 << 20, &b, &nb, &err) == CT_OK);
    CT_REQUIRE(ct_file_read(log3, 1 << 20, &c, &nc, &err) == CT_OK);
    CT_CHECK(strstr((char *)a, "viewshed [") != NULL);
    CT_CHECK(strstr((char *)a, "100 %\n") != NULL);
    CT_CHECK(strstr((char *)b, "[#") == NULL && strstr((char *)b, "viewshed [") == NULL);
    /* stdout with --progress is still exactly one JSON object */
    cJSON *j = cJSON_Parse((char *)c);
    CT_CHECK(j != NULL && cJSON_GetObjectItem(j, "visible_cells") != NULL);
    cJSON_Delete(j);
    free(a);
    free(b);
    free(c);
    /* the dynamic flood too */
    const char *dem2 = basin_dem();
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin analyze flood --dem %s --duration 20 --initial-level 8 --out-dir %s "
             "--progress >/dev/null 2>%s", CT_BINARY_DIR, dem2, ct_test_tmp_path("pdyn"), log1);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    CT_REQUIRE(ct_file_read(log1, 1 << 20, &a, &na, &err) == CT_OK);
    CT_CHECK(strstr((char *)a, "flood [") != NULL && strstr((char *)a, "100 %\n") != NULL);
    free(a);
}

/* The page escapes strings from the inputs (a file name with markup). */
CT_TEST(escaping)
{
    const char *dem = basin_dem();
    CT_REQUIRE(dem);
    const char *odd = ct_test_tmp_path("a<b>&'c.tif");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' \"%s\"", dem, odd);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    const char *html = ct_test_tmp_path("esc.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "pond --dem \"%s\" --rain-depth 10 -o %s --report %s", odd,
             ct_test_tmp_path("esc.tif"), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    rt_page p;
    if (rt_page_load(html, &p)) {
        CT_CHECK(strstr(p.html, "a<b>") == NULL);
        CT_CHECK(strstr(p.html, "a&lt;b&gt;&amp;&#39;c.tif") != NULL);
    }
    rt_page_free(&p);
}


/* ------------------------------------------------------------ vector analyses */

#define CRS_MEMBER "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::32632\"}}"

/* Two parallel east-west roads 300 m apart joined at their west end:
 * y = 5300000 (x 500000..501000, split at 500500) and y = 5300300. */
static const char *roads(void)
{
    const char *path = ct_test_tmp_path("roads.geojson");
    const char *text =
        "{\"type\":\"FeatureCollection\"," CRS_MEMBER ",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[500000,5300000],[500500,5300000]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[500500,5300000],[501000,5300000]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[500000,5300300],[501000,5300300]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"highway\":\"residential\"},\"geometry\":{\"type\":\"LineString\","
        "\"coordinates\":[[500000,5300000],[500000,5300300]]}}]}";
    ct_error err = {0};
    if (!rt_have_python())
        exit(77);
    return ct_file_write(path, text, strlen(text), &err) == CT_OK ? path : NULL;
}

static bool near_rgb(const uint8_t *c, int r, int g, int b)
{
    return c && abs(c[0] - r) < 12 && abs(c[1] - g) < 12 && abs(c[2] - b) < 12;
}

/* --progress on pond, isochrone and los: the bar reaches 100 % on stderr and
 * stdout keeps exactly one JSON object. */
static void check_bar(const char *args, const char *label, const char *json_key)
{
    const char *log = ct_test_tmp_path("bar.txt"), *js = ct_test_tmp_path("bar.json");
    char cmd[4096], want[64];
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin analyze %s --progress --json >%s 2>%s", CT_BINARY_DIR, args, js, log);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    uint8_t *a, *b;
    size_t na, nb;
    ct_error err = {0};
    CT_REQUIRE(ct_file_read(log, 1 << 20, &a, &na, &err) == CT_OK);
    CT_REQUIRE(ct_file_read(js, 1 << 20, &b, &nb, &err) == CT_OK);
    snprintf(want, sizeof want, "%s [", label);
    CT_CHECK(strstr((char *)a, want) != NULL);
    CT_CHECK(strstr((char *)a, "100 %\n") != NULL);
    cJSON *j = cJSON_Parse((char *)b);
    CT_CHECK(j != NULL && cJSON_GetObjectItem(j, json_key) != NULL);
    cJSON_Delete(j);
    free(a);
    free(b);
}

CT_TEST(progress_more)
{
    const char *dem = basin_dem(), *net = roads();
    CT_REQUIRE(dem && net);
    char args[4096];
    snprintf(args, sizeof args, "pond --dem %s --rain-depth 50 -o %s", dem, ct_test_tmp_path("bar_pond.tif"));
    check_bar(args, "pond", "cells");
    snprintf(args, sizeof args, "los --dem %s --from %f,%f,12 --to %f,%f,12", dem, cx(2), cy(2), cx(50), cy(30));
    check_bar(args, "los", "visible");
    snprintf(args, sizeof args, "isochrone --roads %s --from 500010,5300005 --minutes 0.5,1 -o %s", net,
             ct_test_tmp_path("bar_iso.gpkg"));
    check_bar(args, "isochrone", "isochrones");
}

CT_TEST(route_report)
{
    const char *net = roads();
    CT_REQUIRE(net);
    const char *html = ct_test_tmp_path("route.html");
    char args[4096], out[65536];
    /* two queries from the southern road to the east end of the northern one:
     * west to the junction, north, east (no other link) */
    snprintf(args, sizeof args,
             "route --roads %s --from 500010,5300005 --from 500200,5300005 --to 500990,5300295 --report %s --json",
             net, html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "routes"));
        CT_CHECK_EQ_INT(n, 2);
        /* a time chart and a length chart, one bar per route, values as in the JSON */
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 2 * n);
        cJSON *vals = cJSON_GetObjectItem(p.counts, "bar_values");
        for (int i = 0; i < n; i++) {
            cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "routes"), i);
            double cost = cJSON_GetObjectItem(r, "cost_s")->valuedouble;
            double len = cJSON_GetObjectItem(r, "length_m")->valuedouble;
            CT_CHECK_NEAR(cJSON_GetArrayItem(vals, i)->valuedouble, cost, 0.5);
            CT_CHECK_NEAR(cJSON_GetArrayItem(vals, n + i)->valuedouble, len, 0.5);
        }
        /* by hand: 10 + 300 + 990 and 200 + 300 + 990 metres */
        CT_CHECK_NEAR(cJSON_GetArrayItem(vals, n)->valuedouble, 1300, 0.5);
        CT_CHECK_NEAR(cJSON_GetArrayItem(vals, n + 1)->valuedouble, 1490, 0.5);
        /* the northern road carries the routes (chart palette blue or red, 4 px
         * wide); the east half of the southern road is a thin grey road only,
         * the ground between them background */
        const uint8_t *on = rt_pixel(&p, 500700, 5300300);
        CT_CHECK(near_rgb(on, 0x1f, 0x77, 0xb4) || near_rgb(on, 0xd6, 0x27, 0x28));
        CT_CHECK(near_rgb(rt_pixel(&p, 500700, 5300000), 150, 150, 150));
        CT_CHECK(near_rgb(rt_pixel(&p, 500700, 5300150), 244, 242, 236));
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

CT_TEST(isochrone_report)
{
    const char *net = roads();
    CT_REQUIRE(net);
    const char *html = ct_test_tmp_path("iso.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "isochrone --roads %s --from 500010,5300005 --minutes 0.5,1 -o %s --report %s --json",
             net, ct_test_tmp_path("iso.gpkg"), html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        cJSON *iso = cJSON_GetObjectItem(j, "isochrones");
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), cJSON_GetArraySize(iso));
        cJSON *vals = cJSON_GetObjectItem(p.counts, "bar_values");
        for (int k = 0; k < cJSON_GetArraySize(iso); k++)
            CT_CHECK_NEAR(cJSON_GetArrayItem(vals, k)->valuedouble,
                          cJSON_GetObjectItem(cJSON_GetArrayItem(iso, k), "area_m2")->valuedouble, 0.6);
        /* 10 m off the road near the start: inside both areas (tinted, not background);
         * 150 m from any road: background */
        const uint8_t *in = rt_pixel(&p, 500060, 5300010), *outside = rt_pixel(&p, 500300, 5300150);
        CT_CHECK(in && !near_rgb(in, 244, 242, 236));
        CT_CHECK(near_rgb(outside, 244, 242, 236));
    }
    rt_page_free(&p);
    cJSON_Delete(j);
}

CT_TEST(impact_report)
{
    if (!rt_have_python())
        exit(77);
    const char *pts = ct_test_tmp_path("pts.geojson");
    /* distances from the incident (500000,5300000): 50, 150, 190 and 900 m */
    const char *text =
        "{\"type\":\"FeatureCollection\"," CRS_MEMBER ",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500050,5300000]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500000,5300150]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[499810,5300000]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500900,5300000]}}]}";
    ct_error err = {0};
    CT_REQUIRE(ct_file_write(pts, text, strlen(text), &err) == CT_OK);
    const char *html = ct_test_tmp_path("impact.html");
    char args[4096], out[65536];
    snprintf(args, sizeof args, "impact --at 500000,5300000 --rings 100,200 --layer pois=%s --layer again=%s "
             "--report %s --json", pts, pts, html);
    CT_REQUIRE(rt_cli(args, out, sizeof out) == 0);
    cJSON *j = cJSON_Parse(out);
    CT_REQUIRE(j);
    rt_page p;
    if (rt_page_load(html, &p)) {
        /* one bar per ring per layer, in layer order, equal to the JSON counts (1 and 3 by hand) */
        cJSON *rings = cJSON_GetObjectItem(j, "rings");
        CT_CHECK_EQ_INT(rt_count(&p, "bars"), 2 * cJSON_GetArraySize(rings));
        cJSON *vals = cJSON_GetObjectItem(p.counts, "bar_values");
        const char *names[2] = {"pois", "again"};
        for (int l = 0; l < 2; l++)
            for (int k = 0; k < 2; k++) {
                cJSON *ly = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rings, k), "layers"), names[l]);
                CT_CHECK_NEAR(cJSON_GetArrayItem(vals, 2 * l + k)->valuedouble,
                              cJSON_GetObjectItem(ly, "count")->valuedouble, 1e-9);
            }
        CT_CHECK_NEAR(cJSON_GetArrayItem(vals, 0)->valuedouble, 1, 1e-9);
        CT_CHECK_NEAR(cJSON_GetArrayItem(vals, 1)->valuedouble, 3, 1e-9);
        /* the hit in the first ring is drawn in the first ring's colour (palette 1, red),
         * the ones in the second ring in palette 2 (green) */
        CT_CHECK(near_rgb(rt_pixel(&p, 500050, 5300000), 0xd6, 0x27, 0x28));
        CT_CHECK(near_rgb(rt_pixel(&p, 500000, 5300150), 0x2c, 0xa0, 0x2c));
        CT_CHECK(near_rgb(rt_pixel(&p, 499810, 5300000), 0x2c, 0xa0, 0x2c));
        CT_CHECK(near_rgb(rt_pixel(&p, 500100, 5300100), 244, 242, 236)); /* empty ground */
    }
    rt_page_free(&p);
    cJSON_Delete(j);
    /* --progress: a bar on stderr, stdout still one JSON object */
    const char *log = ct_test_tmp_path("impact_progress.txt"), *jout = ct_test_tmp_path("impact_out.json");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin analyze impact --at 500000,5300000 --rings 100,200 --layer pois=%s "
             "--json --progress >%s 2>%s", CT_BINARY_DIR, pts, jout, log);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    uint8_t *a, *b;
    size_t na, nb;
    CT_REQUIRE(ct_file_read(log, 1 << 20, &a, &na, &err) == CT_OK);
    CT_CHECK(strstr((char *)a, "impact [") != NULL && strstr((char *)a, "100 %\n") != NULL);
    free(a);
    CT_REQUIRE(ct_file_read(jout, 1 << 20, &b, &nb, &err) == CT_OK);
    cJSON *j2 = cJSON_Parse((char *)b);
    CT_CHECK(j2 != NULL && cJSON_GetObjectItem(j2, "rings") != NULL);
    cJSON_Delete(j2);
    free(b);
}

/* Pixels in the map's window [x0, x1) x [y0, y1) (pixel offsets from the
 * world point): dark (label text) and near-white (its halo; the background
 * is 244,242,236 and no feature is white). */
static void label_pixels(const rt_page *p, double x, double y, int x0, int x1, int y0, int y1, int *dark, int *white)
{
    *dark = *white = 0;
    int ax = (int)floor((x - p->gt[0]) / p->gt[1]), ay = (int)floor((y - p->gt[3]) / p->gt[5]);
    for (int py = ay + y0; py < ay + y1; py++)
        for (int px = ax + x0; px < ax + x1; px++) {
            if (px < 0 || py < 0 || px >= p->map.width || py >= p->map.height)
                continue;
            const uint8_t *c = p->map.pixels + ((size_t)py * p->map.width + px) * 4;
            *dark += c[0] < 90 && c[1] < 90 && c[2] < 90;
            *white += c[0] > 250 && c[1] > 250 && c[2] > 250;
        }
}

/* Labels in the map: a named hit (Chinese name) gets dark text with a white
 * halo right of its dot, an unnamed hit none; without the font the page is
 * still written, with no label pixels and one warning. */
CT_TEST(impact_report_labels)
{
    if (!rt_have_python())
        exit(77);
    FILE *font = fopen("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "rb");
    if (!font)
        exit(77);
    fclose(font);
    const char *pts = ct_test_tmp_path("named.geojson");
    const char *text =
        "{\"type\":\"FeatureCollection\"," CRS_MEMBER ",\"features\":["
        "{\"type\":\"Feature\",\"properties\":{\"name\":\"消防站\"},\"geometry\":{\"type\":\"Point\","
        "\"coordinates\":[500050,5300000]}},"
        "{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500000,5299850]}}]}";
    ct_error err = {0};
    CT_REQUIRE(ct_file_write(pts, text, strlen(text), &err) == CT_OK);
    int dark[2], white[2], dark_unnamed[2], white_unnamed[2];
    for (int run = 0; run < 2; run++) { /* 0: labels, 1: no font */
        const char *html = ct_test_tmp_path(run ? "nolabels.html" : "labels.html");
        const char *log = ct_test_tmp_path("labels_log.txt");
        char args[4096], out[65536];
        snprintf(args, sizeof args, "impact --at 500000,5300000 --rings 100,200 --layer pois=%s --report %s 2>%s", pts,
                 html, log);
        if (run)
            setenv("CT_FONT", "/nonexistent/font.ttf", 1);
        int rc = rt_cli(args, out, sizeof out);
        unsetenv("CT_FONT");
        CT_REQUIRE(rc == 0);
        uint8_t *lg;
        size_t nlg;
        CT_REQUIRE(ct_file_read(log, 1 << 20, &lg, &nlg, &err) == CT_OK);
        bool warned = strstr((char *)lg, "1 labels skipped") != NULL;
        free(lg);
        CT_CHECK(warned == (run == 1));
        rt_page p;
        CT_REQUIRE(rt_page_load(html, &p));
        /* the label: 6 px right of the dot, 3 ideographs of 14 px, centred on it */
        label_pixels(&p, 500050, 5300000, 6, 60, -10, 11, &dark[run], &white[run]);
        label_pixels(&p, 500000, 5299850, 6, 60, -10, 11, &dark_unnamed[run], &white_unnamed[run]);
        /* the dot itself keeps its ring colour */
        CT_CHECK(near_rgb(rt_pixel(&p, 500050, 5300000), 0xd6, 0x27, 0x28));
        rt_page_free(&p);
    }
    fprintf(stderr, "named: dark %d white %d (labels), dark %d white %d (no font); unnamed: dark %d / %d\n", dark[0],
            white[0], dark[1], white[1], dark_unnamed[0], dark_unnamed[1]);
    /* 消防站 at 14 px: over a hundred text pixels and more halo around them */
    CT_CHECK(dark[0] > 100);
    CT_CHECK(white[0] > dark[0]);
    CT_CHECK_EQ_INT(dark[1], 0);
    CT_CHECK_EQ_INT(white[1], 0);
    CT_CHECK_EQ_INT(dark_unnamed[0], 0);
    CT_CHECK_EQ_INT(white_unnamed[0], 0);
    CT_CHECK_EQ_INT(dark_unnamed[1], 0);
}

CT_TEST_MAIN(CT_CASE(flood_static_report), CT_CASE(pond_report), CT_CASE(flood_dynamic_report),
             CT_CASE(viewshed_report), CT_CASE(los_report), CT_CASE(progress_bar), CT_CASE(escaping),
             CT_CASE(progress_more), CT_CASE(route_report), CT_CASE(isochrone_report), CT_CASE(impact_report),
             CT_CASE(impact_report_labels))
