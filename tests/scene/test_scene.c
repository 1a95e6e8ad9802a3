/* Scene file loading: fields, defaults, path resolution, error messages with
 * JSON paths, and the layer placement matrices (checked by hand). */
#include "citytwin/ct_scene.h"
#include "ct_test.h"

#include <unistd.h>

static const char *FULL =
    "{\"version\":1,\"name\":\"Demo\",\"crs\":\"EPSG:4547\",\"origin\":[113.08,22.58,5],"
    "\"layers\":["
    " {\"name\":\"district\",\"type\":\"gltf\",\"source\":\"models/./district.glb\","
    "  \"style\":{\"color\":\"#ff0000\"},\"offset\":[1,2,3],\"rotation\":[90],\"height_offset\":-2.5},"
    " {\"name\":\"mesh\",\"type\":\"tileset\",\"source\":\"https://example.org/t/tileset.json\",\"visible\":false},"
    " {\"type\":\"vector\",\"source\":\"../data/roads.gpkg\",\"future_key\":7},"
    " {\"name\":\"abs\",\"type\":\"hologram\",\"source\":\"/srv/x.bin\"}],"
    "\"cameras\":[{\"name\":\"overview\",\"camera\":[113.08,22.57,800,0,-45]},"
    "            {\"name\":\"river\",\"camera\":[113.081,22.58,120,90,-20,1]}],"
    "\"tours\":[{\"name\":\"t\",\"stops\":[{\"camera\":[113,22,100,0,-30],\"duration\":3},"
    "                             {\"camera\":[113,22,100,0,-30,0]}]}],"
    "\"feeds\":[{\"type\":\"mqtt\"}],\"analyses\":[],\"extra\":{}}";

CT_TEST(full_scene)
{
    ct_scene *s = NULL;
    ct_error err = {0};
    ct_status st = ct_scene_load_memory(FULL, strlen(FULL), "/base/dir/scene.json", &s, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK && s);
    CT_CHECK_EQ_INT(s->version, 1);
    CT_CHECK(!strcmp(s->name, "Demo"));
    CT_CHECK(!strcmp(s->crs, "EPSG:4547"));
    CT_CHECK(s->has_origin);
    CT_CHECK_NEAR(s->origin[0], 113.08, 0);
    CT_CHECK_NEAR(s->origin[2], 5, 0);
    CT_CHECK(!strcmp(s->dir, "/base/dir"));
    CT_REQUIRE(s->layer_count == 4);
    const ct_scene_layer *l = &s->layers[0];
    CT_CHECK(l->type == CT_LAYER_GLTF);
    CT_CHECK(!strcmp(l->source, "/base/dir/models/district.glb"));
    CT_CHECK(!l->source_is_url);
    CT_CHECK(l->visible);
    CT_CHECK(l->style && cJSON_IsObject(l->style));
    const cJSON *color = cJSON_GetObjectItem(l->style, "color");
    CT_CHECK(color && !strcmp(color->valuestring, "#ff0000"));
    CT_CHECK_NEAR(l->offset[1], 2, 0);
    CT_CHECK_NEAR(l->rotation[0], 90, 0);
    CT_CHECK_NEAR(l->rotation[1], 0, 0);
    CT_CHECK_NEAR(l->height_offset, -2.5, 0);
    CT_CHECK(s->layers[1].type == CT_LAYER_TILESET);
    CT_CHECK(s->layers[1].source_is_url);
    CT_CHECK(!strcmp(s->layers[1].source, "https://example.org/t/tileset.json"));
    CT_CHECK(!s->layers[1].visible);
    CT_CHECK(!strcmp(s->layers[2].name, "layers[2]"));
    CT_CHECK(!strcmp(s->layers[2].source, "/base/data/roads.gpkg"));
    CT_CHECK(cJSON_GetObjectItem(s->layers[2].json, "future_key") != NULL); /* unknown key kept */
    CT_CHECK(s->layers[3].type == CT_LAYER_OTHER);
    CT_CHECK(!strcmp(s->layers[3].type_name, "hologram"));
    CT_CHECK(!strcmp(s->layers[3].source, "/srv/x.bin"));
    /* Warnings: layers[2].future_key, layers[3].type, extra. */
    CT_CHECK_EQ_INT(s->warning_count, 3);
    CT_REQUIRE(s->camera_count == 2);
    const ct_scene_camera *c = ct_scene_find_camera(s, "river");
    CT_REQUIRE(c);
    CT_CHECK_NEAR(c->view.heading, 90, 0);
    CT_CHECK_NEAR(c->view.roll, 1, 0);
    CT_CHECK_NEAR(ct_scene_find_camera(s, "overview")->view.pitch, -45, 0);
    CT_CHECK(ct_scene_find_camera(s, "nope") == NULL);
    CT_CHECK(ct_scene_find_layer(s, "mesh") == &s->layers[1]);
    CT_REQUIRE(s->tour_count == 1 && s->tours[0].stop_count == 2);
    CT_CHECK_NEAR(s->tours[0].stops[0].duration, 3, 0);
    CT_CHECK_NEAR(s->tours[0].stops[1].duration, 5, 0); /* default */
    CT_CHECK(cJSON_GetArraySize(s->feeds) == 1);
    CT_CHECK(s->analyses && cJSON_GetArraySize(s->analyses) == 0);
    ct_scene_destroy(s);
}

CT_TEST(minimal_scene)
{
    const char *j = "{\"version\":1}";
    ct_scene *s = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_scene_load_memory(j, strlen(j), NULL, &s, &err) == CT_OK);
    CT_CHECK_EQ_INT(s->layer_count, 0);
    CT_CHECK(!s->has_origin);
    CT_CHECK(!strcmp(s->name, "") && !strcmp(s->crs, ""));
    CT_CHECK(s->feeds == NULL);
    CT_CHECK_EQ_INT(s->warning_count, 0);
    double m[16];
    ct_scene_frame_to_ecef(s, m);
    CT_CHECK_NEAR(m[0], 1, 0);
    CT_CHECK_NEAR(m[12], 0, 0);
    ct_scene_destroy(s);
}

/* Each bad document must fail with exactly this message. */
CT_TEST(error_paths)
{
    static const struct { const char *json, *msg; } cases[] = {
        {"{\"version\":1,\"layers\":[{\"type\":\"gltf\",\"source\":\"a\"},{\"type\":\"gltf\",\"source\":\"b\"},"
         "{\"type\":\"gltf\"}]}",
         "scene.json: layers[2].source: missing"},
        {"{\"version\":1,\"layers\":[{\"source\":\"a\"}]}", "scene.json: layers[0].type: missing"},
        {"{\"version\":1,\"layers\":[{\"type\":3,\"source\":\"a\"}]}",
         "scene.json: layers[0].type: expected a string, got a number"},
        {"{\"version\":1,\"layers\":{}}", "scene.json: layers: expected an array, got an object"},
        {"{\"version\":1,\"layers\":[{\"type\":\"gltf\",\"source\":\"a\",\"visible\":1}]}",
         "scene.json: layers[0].visible: expected a boolean, got a number"},
        {"{\"version\":1,\"layers\":[{\"type\":\"gltf\",\"source\":\"a\",\"offset\":[1,\"x\",3]}]}",
         "scene.json: layers[0].offset[1]: expected a number, got a string"},
        {"{\"version\":1,\"layers\":[{\"type\":\"gltf\",\"source\":\"a\",\"offset\":[1,2,3,4]}]}",
         "scene.json: layers[0].offset: expected 2 to 3 numbers, got 4"},
        {"{\"version\":1,\"layers\":[{\"type\":\"gltf\",\"source\":\"a\",\"style\":[]}]}",
         "scene.json: layers[0].style: expected an object, got an array"},
        {"{\"version\":1,\"cameras\":[{\"name\":\"a\",\"camera\":[1,95,3,4,5]}]}",
         "scene.json: cameras[0].camera[1]: latitude 95 out of range"},
        {"{\"version\":1,\"cameras\":[{\"name\":\"a\",\"camera\":[1,2,3]}]}",
         "scene.json: cameras[0].camera: expected 5 to 6 numbers, got 3"},
        {"{\"version\":1,\"cameras\":[{\"camera\":[1,2,3,4,5]}]}", "scene.json: cameras[0].name: missing"},
        {"{\"version\":1,\"tours\":[{\"name\":\"t\",\"stops\":[{\"camera\":[1,2,3,4,5]},{\"duration\":2}]}]}",
         "scene.json: tours[0].stops[1].camera: missing"},
        {"{\"version\":1,\"tours\":[{\"name\":\"t\",\"stops\":[{\"camera\":[1,2,3,4,5],\"duration\":-1}]}]}",
         "scene.json: tours[0].stops[0].duration: negative duration -1"},
        {"{\"version\":1,\"tours\":[{\"name\":\"t\",\"stops\":[]}]}",
         "scene.json: tours[0].stops: a tour needs at least one stop"},
        {"{\"version\":2}", "scene.json: version: unsupported version 2 (this citytwin reads version 1)"},
        {"{\"version\":1,\"origin\":[200,10]}", "scene.json: origin[0]: longitude 200 out of range"},
        {"{\"version\":1,\"feeds\":{}}", "scene.json: feeds: expected an array, got an object"},
        {"[1,2]", "scene.json: $: expected a JSON object, got an array"},
        {"{\"version\":1,\n\"name\": }", "scene.json: byte 22: invalid JSON"},
        {"", "scene.json: byte 0: invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_scene *s = (ct_scene *)1;
        ct_error err = {0};
        ct_status st = ct_scene_load_memory(cases[i].json, strlen(cases[i].json), "scene.json", &s, &err);
        CT_CHECK(st == CT_ERR_INPUT);
        CT_CHECK(s == NULL);
        if (strcmp(err.msg, cases[i].msg)) {
            fprintf(stderr, "case %zu: got '%s'\n   expected '%s'\n", i, err.msg, cases[i].msg);
            ct_test_failures++;
        }
    }
}

CT_TEST(byte_order_mark)
{
    const char ok[] = "\xEF\xBB\xBF{\"version\":1,\"name\":\"bom\"}";
    ct_scene *s = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_scene_load_memory(ok, strlen(ok), "b.json", &s, &err) == CT_OK);
    CT_CHECK(!strcmp(s->name, "bom"));
    ct_scene_destroy(s);
    const char bad[] = "\xEF\xBB\xBF{\"version\":}";
    CT_CHECK(ct_scene_load_memory(bad, strlen(bad), "b.json", &s, &err) == CT_ERR_INPUT);
    CT_CHECK(!strcmp(err.msg, "b.json: byte 14: invalid JSON")); /* offsets count the mark */
}

CT_TEST(load_file_resolves_against_its_folder)
{
    char dir[] = "/tmp/ct_scene_XXXXXX";
    CT_REQUIRE(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/s.json", dir);
    const char *j = "{\"version\":1,\"layers\":[{\"type\":\"terrain\",\"source\":\"dem.tif\"}]}";
    CT_REQUIRE(ct_file_write(path, j, strlen(j), NULL) == CT_OK);
    ct_scene *s = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_scene_load(path, &s, &err) == CT_OK);
    char want[600];
    snprintf(want, sizeof want, "%s/dem.tif", dir);
    CT_CHECK(!strcmp(s->layers[0].source, want));
    CT_CHECK(s->layers[0].type == CT_LAYER_TERRAIN);
    CT_CHECK(!strcmp(ct_layer_type_name(s->layers[0].type), "terrain"));
    ct_scene_destroy(s);
    unlink(path);
    rmdir(dir);
    /* A missing file: CT_ERR_INPUT naming it. */
    CT_CHECK(ct_scene_load(path, &s, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "s.json") != NULL);
}

/* Matrices checked against hand-computed values. */
CT_TEST(layer_placement)
{
    ct_scene_layer l = {0};
    l.rotation[0] = 90; /* heading 90: clockwise from north, so east turns to south */
    l.offset[0] = 10;
    l.offset[1] = 20;
    l.offset[2] = 1;
    l.height_offset = 2;
    double m[16];
    ct_scene_layer_transform(&l, m);
    /* Column 0 = image of +x (east): (0,-1,0). Column 1 = image of +y (north): (1,0,0). */
    CT_CHECK_NEAR(m[0], 0, 1e-12);
    CT_CHECK_NEAR(m[1], -1, 1e-12);
    CT_CHECK_NEAR(m[4], 1, 1e-12);
    CT_CHECK_NEAR(m[5], 0, 1e-12);
    CT_CHECK_NEAR(m[10], 1, 1e-12);
    CT_CHECK_NEAR(m[12], 10, 0);
    CT_CHECK_NEAR(m[13], 20, 0);
    CT_CHECK_NEAR(m[14], 3, 0);
    /* Pitch 90 about east: north (+y) tilts up to +z. */
    ct_scene_layer p = {0};
    p.rotation[1] = 90;
    ct_scene_layer_transform(&p, m);
    CT_CHECK_NEAR(m[6], 1, 1e-12);

    /* Scene frame at lon 0, lat 0, h 0: origin on the equator at x = a, up = +x, east = +y, north = +z. */
    const char *j = "{\"version\":1,\"origin\":[0,0,0]}";
    ct_scene *s = NULL;
    CT_REQUIRE(ct_scene_load_memory(j, strlen(j), NULL, &s, NULL) == CT_OK);
    ct_scene_layer id = {0};
    ct_scene_layer_to_ecef(s, &id, m);
    CT_CHECK_NEAR(m[12], 6378137.0, 1e-3);
    CT_CHECK_NEAR(m[13], 0, 1e-3);
    CT_CHECK_NEAR(m[1], 1, 1e-9);  /* east -> +y */
    CT_CHECK_NEAR(m[6], 1, 1e-9);  /* north -> +z */
    CT_CHECK_NEAR(m[8], 1, 1e-9);  /* up -> +x */
    ct_scene_destroy(s);
}

CT_TEST_MAIN(CT_CASE(full_scene), CT_CASE(minimal_scene), CT_CASE(error_paths), CT_CASE(byte_order_mark),
             CT_CASE(load_file_resolves_against_its_folder), CT_CASE(layer_placement))
