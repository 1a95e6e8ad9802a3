/* Impact radius: constructed layers with known answers, agreement with
 * SpatiaLite's ST_Distance (through GDAL's SQLite dialect) and with a brute
 * force OGR distance on OSM Monaco, reprojection, output files, bad input. */
#include "ct_test.h"

#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <geos_c.h>

#include <stdint.h>
#include <unistd.h>

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

#define UTM_CRS "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::32632\"}},"

/* Around the incident (500000, 5000000): points at known distances, a polygon
 * holding the incident, a line 30 m north of it. */
static const char *constructed_layers(void)
{
    static char path[512];
    snprintf(path, sizeof path, "%s", ct_test_tmp_path("known.geojson"));
    write_file(path,
               "{\"type\":\"FeatureCollection\"," UTM_CRS "\"features\":["
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"p10\",\"use\":\"office\",\"building:levels\":3},"
               "\"geometry\":{\"type\":\"Point\",\"coordinates\":[500010,5000000]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"p49\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500000,5000049.99]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"p50\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500030,5000040]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"p51\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[499949,5000000]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"p150\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[500090,4999880]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"far\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[501000,5000000]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"box\",\"use\":\"office\",\"building:levels\":3},"
               "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[499990,4999990],[500010,4999990],[500010,5000010],[499990,5000010],[499990,4999990]]]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"pipe\",\"utility\":\"gas\"},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[499000,5000030],[501000,5000030]]}},"
               "{\"type\":\"Feature\",\"properties\":{\"name\":\"nogeom\"},\"geometry\":null}"
               "]}\n");
    return path;
}

static bool has_id(const ct_impact_layer_result *lr, int ring, const char *id)
{
    for (size_t k = 0; k < lr->hit_count; k++)
        if (lr->hits[k].ring <= ring && !strcmp(ct_impact_layer_id_string(lr->layer, lr->hits[k].feature), id))
            return true;
    return false;
}

CT_TEST(constructed_known_answers)
{
    ct_impact_layer *l = NULL;
    ct_error err = {0};
    ct_impact_layer_desc d = {.name = "things", .source = constructed_layers(), .id_field = "name"};
    CT_REQUIRE(ct_impact_layer_load(&d, &l, &err) == CT_OK);
    CT_CHECK_EQ_INT(ct_impact_layer_size(l), 8);
    CT_CHECK_EQ_INT(ct_impact_layer_skipped(l), 1);
    double radii[] = {50, 150};
    ct_impact_query q = {.x = 500000, .y = 5000000, .radii = radii, .radius_count = 2};
    ct_impact_result *r = NULL;
    CT_REQUIRE(ct_impact_run(&l, 1, &q, &r, &err) == CT_OK);
    const ct_impact_layer_result *lr = &r->layers[0];
    /* within 50 m: p10, p49 (49.99), p50 (exactly 50: ST_DWithin includes it), box (0), pipe (30) */
    CT_CHECK_EQ_INT(lr->rings[0].count, 5);
    CT_CHECK(has_id(lr, 0, "p10") && has_id(lr, 0, "p49") && has_id(lr, 0, "p50") && has_id(lr, 0, "box") &&
             has_id(lr, 0, "pipe"));
    CT_CHECK(!has_id(lr, 0, "p51"));
    /* within 150 m: + p51 and p150 (exactly 150) */
    CT_CHECK_EQ_INT(lr->rings[1].count, 7);
    CT_CHECK(has_id(lr, 1, "p51") && has_id(lr, 1, "p150") && !has_id(lr, 1, "far"));
    /* sorted ids (strings) */
    for (size_t k = 1; k < lr->hit_count; k++)
        CT_CHECK(strcmp(ct_impact_layer_id_string(l, lr->hits[k - 1].feature),
                        ct_impact_layer_id_string(l, lr->hits[k].feature)) < 0);
    /* pipe length inside each disc: 2 sqrt(r^2 - 30^2) */
    CT_CHECK_NEAR(lr->rings[0].length_m, 80.0, 1e-9);
    CT_CHECK_NEAR(lr->rings[1].length_m, 2 * sqrt(150.0 * 150 - 900), 1e-9);
    CT_REQUIRE(lr->rings[1].utility_count == 1);
    CT_CHECK(!strcmp(ct_impact_layer_utility(l, 0), "gas"));
    CT_CHECK_NEAR(lr->rings[1].utility_length_m[0], 2 * sqrt(150.0 * 150 - 900), 1e-9);
    /* occupants of the box: 400 m2 x 3 floors / 13.9 m2 per person (office) */
    CT_CHECK_NEAR(lr->rings[0].occupants, 400.0 * 3 / 13.9, 1e-6);
    ct_impact_result_destroy(r);

    /* A polygon incident: distances from its boundary; line lengths through a
     * buffered disc, checked against the analytic length within ~0.1 %. */
    q.wkt = "POLYGON((500100 4999900,500200 4999900,500200 5000100,500100 5000100,500100 4999900))";
    double r1[] = {80};
    q.radii = r1;
    q.radius_count = 1;
    CT_REQUIRE(ct_impact_run(&l, 1, &q, &r, &err) == CT_OK);
    lr = &r->layers[0];
    CT_CHECK(has_id(lr, 0, "p50") && has_id(lr, 0, "p150") && has_id(lr, 0, "pipe") && !has_id(lr, 0, "p10"));
    /* the line y=30 crosses the polygon (x 100..200) and 80 m either side: 260 m */
    CT_CHECK_NEAR(lr->rings[0].length_m, 260.0, 0.5);
    ct_impact_result_destroy(r);

    /* bad incidents and radii */
    q.wkt = "POLYGON((1 2, 3";
    CT_CHECK(ct_impact_run(&l, 1, &q, &r, &err) == CT_ERR_USAGE);
    CT_CHECK(strstr(err.msg, "WKT") != NULL);
    q.wkt = NULL;
    double bad[] = {100, 50};
    q.radii = bad;
    q.radius_count = 2;
    CT_CHECK(ct_impact_run(&l, 1, &q, &r, &err) == CT_ERR_USAGE);
    ct_impact_layer_destroy(l);
}

CT_TEST(load_errors)
{
    ct_impact_layer *l = NULL;
    ct_error err = {0};
    ct_impact_layer_desc d = {.name = "x", .source = "/nonexistent/file.gpkg"};
    CT_CHECK(ct_impact_layer_load(&d, &l, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "/nonexistent/file.gpkg") != NULL);
    char src[600];
    snprintf(src, sizeof src, "%s:nolayer", constructed_layers());
    d.source = src;
    CT_CHECK(ct_impact_layer_load(&d, &l, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "nolayer") != NULL);
    d.source = constructed_layers();
    d.id_field = "nosuchfield";
    CT_CHECK(ct_impact_layer_load(&d, &l, &err) == CT_ERR_INPUT);
    d.id_field = NULL;
    d.target_crs = "EPSG:999999";
    CT_CHECK(ct_impact_layer_load(&d, &l, &err) == CT_ERR_INPUT);
    CT_CHECK(l == NULL);
    /* an empty layer: loads, finds nothing */
    const char *empty = ct_test_tmp_path("empty.geojson");
    write_file(empty, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    d.source = empty;
    d.target_crs = NULL;
    CT_REQUIRE(ct_impact_layer_load(&d, &l, &err) == CT_OK);
    double radii[] = {100};
    ct_impact_query q = {.radii = radii, .radius_count = 1};
    ct_impact_result *r = NULL;
    CT_REQUIRE(ct_impact_run(&l, 1, &q, &r, &err) == CT_OK);
    CT_CHECK_EQ_INT(r->layers[0].rings[0].count, 0);
    ct_impact_result_destroy(r);
    ct_impact_layer_destroy(l);
}

/* The same layer in WGS84 and in UTM: reprojected through PROJ, the same features. */
CT_TEST(reprojected_layer_matches)
{
    char wgs[600];
    snprintf(wgs, sizeof wgs, "%s", ct_test_tmp_path("known_wgs84.geojson"));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ogr2ogr -q -t_srs EPSG:4326 '%s' '%s'", wgs, constructed_layers());
    CT_REQUIRE(system(cmd) == 0);
    ct_impact_layer *a = NULL, *b = NULL;
    ct_error err = {0};
    ct_impact_layer_desc da = {.name = "utm", .source = constructed_layers(), .id_field = "name"};
    ct_impact_layer_desc db = {.name = "wgs", .source = wgs, .id_field = "name", .target_crs = "EPSG:32632"};
    CT_REQUIRE(ct_impact_layer_load(&da, &a, &err) == CT_OK);
    CT_REQUIRE(ct_impact_layer_load(&db, &b, &err) == CT_OK);
    double radii[] = {49.9, 50.1, 149.9, 150.1, 1000.1};
    ct_impact_query q = {.x = 500000, .y = 5000000, .radii = radii, .radius_count = 5};
    ct_impact_layer *both[] = {a, b};
    ct_impact_result *r = NULL;
    CT_REQUIRE(ct_impact_run(both, 2, &q, &r, &err) == CT_OK);
    for (int k = 0; k < 5; k++)
        CT_CHECK_EQ_INT(r->layers[0].rings[k].count, r->layers[1].rings[k].count);
    CT_CHECK_EQ_INT(r->layers[0].rings[4].count, 8);
    ct_impact_result_destroy(r);
    ct_impact_layer_destroy(a);
    ct_impact_layer_destroy(b);
}

/* ---- output file and the command line ---- */

CT_TEST(cli_json_output_and_errors)
{
    char *out = NULL;
    char args[4096];
    const char *known = constructed_layers();
    const char *gpkg = ct_test_tmp_path("out.gpkg");
    snprintf(args, sizeof args,
             "analyze impact --at 500000,5000000 --rings 50,150 --layer things=%s --id-field name -o %s --json", known,
             gpkg);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "\"rings\":[{\"radius_m\":50,\"layers\":{\"things\":{\"count\":5,"
                         "\"ids\":[\"box\",\"p10\",\"p49\",\"p50\",\"pipe\"]") != NULL);
    CT_CHECK(strstr(out, "\"radius_m\":150") != NULL);
    free(out);
    /* the GeoPackage: one layer per input layer + rings */
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds != NULL);
    OGRLayerH l = GDALDatasetGetLayerByName(ds, "things");
    OGRLayerH rl = GDALDatasetGetLayerByName(ds, "rings");
    CT_CHECK(l && OGR_L_GetFeatureCount(l, TRUE) == 7);
    CT_CHECK(rl && OGR_L_GetFeatureCount(rl, TRUE) == 2);
    if (l)
        CT_CHECK(OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "distance_m") >= 0 &&
                 OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(l), "use") >= 0);
    GDALClose(ds);
    /* GeoJSON output, preset rings */
    snprintf(args, sizeof args, "analyze impact --at 500000,5000000 --preset gas-leak --layer things=%s -o %s", known,
             ct_test_tmp_path("out.geojson"));
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 0);
    /* a WGS84 incident via --crs, measured in UTM */
    snprintf(args, sizeof args, "analyze impact --at 9,45.1 --crs EPSG:4326 --radius 10 --layer things=%s --json",
             known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    CT_CHECK(strstr(out, "EPSG:32632") != NULL);
    free(out);
    /* errors */
    snprintf(args, sizeof args, "analyze impact --at 1,2 --radius 10 --layer t=/nonexistent.gpkg");
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    snprintf(args, sizeof args, "analyze impact --at 1,2 --layer t=%s", known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze impact --at-wkt 'LINESTRING(1 2' --radius 5 --layer t=%s", known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze impact --at 1,2 --rings 50,20 --layer t=%s", known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze impact --at 1,2 --radius 5 --layer t=%s --crs EPSG:0", known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
    snprintf(args, sizeof args, "analyze impact --at 1,2 --radius 5 --layer t=%s --preset nuclear", known);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 1);
}

CT_TEST(rings_parser)
{
    double r[8];
    ct_error err = {0};
    CT_CHECK_EQ_INT(ct_impact_parse_rings("50,200,500", r, 8, &err), 3);
    CT_CHECK(r[0] == 50 && r[1] == 200 && r[2] == 500);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("1.5", r, 8, &err), 1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("", r, 8, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("50,,60", r, 8, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("50,40", r, 8, &err), -1);
    CT_CHECK(strstr(err.msg, "increase") != NULL);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("-5", r, 8, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("5,nan", r, 8, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("1,2,3", r, 2, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_parse_rings("5;6", r, 8, &err), -1);
    CT_CHECK_EQ_INT(ct_impact_preset_rings("nope", r, 8), -1);
    CT_CHECK_NEAR(ct_impact_m2_per_person("office"), 13.9, 1e-9);
    CT_CHECK_NEAR(ct_impact_m2_per_person(NULL), 18.6, 1e-9);
}

/* The presets against the Emergency Response Guidebook 2020 (orange guides,
 * EVACUATION section: immediate isolation, large spill, fire), written out
 * here from the guidebook, and against the table in docs/impact.md, so that
 * code, documentation and source cannot drift apart. */
CT_TEST(presets_match_erg_and_docs)
{
    static const struct {
        const char *name;
        int guide;
        double r[3];
    } erg[] = {
        {"gas-leak", 115, {100, 800, 1600}},  /* Guide 115 flammable gases: 100 m; large: 800 m downwind; fire: 1600 m */
        {"explosion", 112, {500, 800, 1600}}, /* Guide 112 explosives 1.1-1.3, 1.5: 500 m; large: 800 m; fire: 1600 m */
        {"chemical", 111, {100, 500, 800}},   /* Guide 111 mixed load/unidentified: 100 m; large: 500 m; fire: 800 m */
    };
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/impact.md", CT_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    CT_REQUIRE(f != NULL);
    char line[1024];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        /* | `gas-leak` | 100, 800, 1600 | ERG 2020 Guide 115 ... */
        char name[64];
        double a, b, c;
        int guide = 0;
        if (sscanf(line, "| `%63[^`]` | %lf, %lf, %lf | ERG 2020 Guide %d", name, &a, &b, &c, &guide) != 5)
            continue;
        for (size_t i = 0; i < sizeof erg / sizeof erg[0]; i++) {
            if (strcmp(erg[i].name, name) != 0)
                continue;
            rows++;
            CT_CHECK_EQ_INT(guide, erg[i].guide);
            CT_CHECK(a == erg[i].r[0] && b == erg[i].r[1] && c == erg[i].r[2]);
            double r[8];
            CT_CHECK_EQ_INT(ct_impact_preset_rings(name, r, 8), 3);
            CT_CHECK(r[0] == a && r[1] == b && r[2] == c);
        }
    }
    fclose(f);
    CT_CHECK_EQ_INT(rows, 3);
}

CT_TEST_MAIN(CT_CASE(constructed_known_answers), CT_CASE(load_errors), CT_CASE(reprojected_layer_matches),
             CT_CASE(cli_json_output_and_errors),
             CT_CASE(rings_parser), CT_CASE(presets_match_erg_and_docs))
