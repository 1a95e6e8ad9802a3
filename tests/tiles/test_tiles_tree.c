/* The tile tree: sample tilesets walked completely (counts checked against
 * independent counts: file listings, README figures), transforms chained,
 * refine inherited, multiple contents, metadata kept, external tilesets with
 * cycles, depth limits, JSON paths in errors, the folder sandbox. */
#include "ct_test.h"
#include "tiles_test_util.h"

#include "citytwin/ct_tileset.h"

#include <math.h>

static ct_status inspect(const char *path, ct_tileset_report *rep, bool allow_outside)
{
    ct_tileset_inspect_desc d = {.uri = path, .allow_outside_folder = allow_outside};
    ct_error err = {0};
    ct_status st = ct_tileset_inspect(&d, rep, &err);
    if (st)
        fprintf(stderr, "inspect %s: %s\n", path, err.msg);
    return st;
}

static bool has_problem(const ct_tileset_report *r, const char *needle)
{
    for (int i = 0; i < r->n_problems; i++)
        if (strstr(r->problems[i].message, needle))
            return true;
    return false;
}

static void dump_problems(const ct_tileset_report *r)
{
    for (int i = 0; i < r->n_problems; i++)
        fprintf(stderr, "  problem: %s\n", r->problems[i].message);
}

/* Tiles of a sparse implicit tree = the content tiles and all their ancestors.
 * Computed from the content file names alone (content_L__X_Y[_Z].glb). */
static int implicit_tiles_from_names(const char *dir, bool octree, int *n_contents)
{
    enum { MAXT = 4096 };
    static unsigned keys[MAXT][4];
    int n = 0;
    *n_contents = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        unsigned l, x, y, z = 0;
        int got = octree ? sscanf(e->d_name, "content_%u__%u_%u_%u.glb", &l, &x, &y, &z)
                         : sscanf(e->d_name, "content_%u__%u_%u.glb", &l, &x, &y);
        if (got != (octree ? 4 : 3))
            continue;
        (*n_contents)++;
        for (unsigned k = 0; k <= l; k++) {
            unsigned key[4] = {l - k, x >> k, y >> k, z >> k};
            bool seen = false;
            for (int i = 0; i < n && !seen; i++)
                seen = !memcmp(keys[i], key, sizeof key);
            if (!seen && n < MAXT)
                memcpy(keys[n++], key, sizeof key);
        }
    }
    if (d)
        closedir(d);
    return n;
}

CT_TEST(photogrammetry_sample_counts)
{
    ct_tileset_report r;
    CT_REQUIRE(inspect(ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json"), &r,
                       false) == CT_OK);
    /* SOURCES.md: a 293-tile quadtree HLOD of b3dm */
    CT_CHECK_EQ_INT(r.tiles, 293);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_B3DM], 293);
    CT_CHECK_EQ_INT(r.max_depth, 4);
    CT_CHECK_EQ_INT(r.n_errors, 0);
    CT_CHECK(!r.has_bounds_lonlat); /* local coordinates */
    ct_tileset_report_free(&r);
    /* the same tree through an external tileset whose URIs carry ?query#fragment */
    CT_REQUIRE(inspect(ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/"
                                    "tileset-external-with-url-params.json"),
                       &r, false) == CT_OK);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_B3DM], 293);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_JSON], 1);
    CT_CHECK_EQ_INT(r.n_errors, 0);
    dump_problems(&r);
    ct_tileset_report_free(&r);
}

CT_TEST(implicit_quadtree_and_octree)
{
    ct_tileset_report r;
    int nc = 0;
    int want = implicit_tiles_from_names(ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitQuadtree/content"),
                                         false, &nc);
    CT_CHECK_EQ_INT(nc, 32); /* README: 32 tiles with content at level 5 */
    CT_REQUIRE(inspect(ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitQuadtree/tileset.json"), &r, false) ==
               CT_OK);
    CT_CHECK_EQ_INT(r.tiles, want);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_GLB], 32);
    CT_CHECK_EQ_INT(r.max_depth, 5);
    CT_CHECK_EQ_INT(r.n_problems, 0);
    dump_problems(&r);
    ct_tileset_report_free(&r);

    want = implicit_tiles_from_names(ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitOctree/content"), true,
                                     &nc);
    CT_REQUIRE(inspect(ct_test_data("3dtiles/3d-tiles-samples/1.1/SparseImplicitOctree/tileset.json"), &r, false) ==
               CT_OK);
    CT_CHECK_EQ_INT(r.tiles, want);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_GLB], nc);
    CT_CHECK_EQ_INT(r.n_problems, 0);
    dump_problems(&r);
    ct_tileset_report_free(&r);

    /* subtreeInfo.md: root subtree has all 5 tiles (2 levels) and 4 child subtrees;
     * every tile has content (21 files) */
    CT_REQUIRE(inspect(ct_test_data("3dtiles/3d-tiles-tools/ImplicitQuadtreeSmall/tileset.json"), &r, false) == CT_OK);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_GLB], 21);
    CT_CHECK_EQ_INT(r.tiles, 21);
    CT_CHECK_EQ_INT(r.n_problems, 0);
    ct_tileset_report_free(&r);
}

CT_TEST(missing_content_is_a_problem)
{
    ct_tileset_report r;
    CT_REQUIRE(inspect(ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithDiscreteLOD/tileset.json"), &r, false) ==
               CT_OK);
    CT_CHECK_EQ_INT(r.tiles, 3);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_B3DM], 2);
    CT_CHECK_EQ_INT(r.n_errors, 1);
    CT_CHECK(has_problem(&r, "dragon_high.b3dm"));
    CT_CHECK(has_problem(&r, "root.children[0].children[0]"));
    CT_CHECK(r.has_bounds_lonlat && r.bounds_lonlat[0] < -75.6 && r.bounds_lonlat[2] > -75.61);
    ct_tileset_report_free(&r);
}

CT_TEST(external_tilesets_nested)
{
    ct_tileset_report r;
    /* tileset.json (3 tiles) -> tileset2.json (3 tiles) -> tileset3/tileset3.json (1 tile) */
    CT_REQUIRE(inspect(ct_test_data("3dtiles/3d-tiles-tools/TilesetOfTilesets/tileset.json"), &r, false) == CT_OK);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_JSON], 2);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_B3DM], 5);
    CT_CHECK_EQ_INT(r.n_errors, 0);
    ct_tileset_report_free(&r);
}

static const char *BOX = "{\"box\":[0,0,0, 10,0,0, 0,10,0, 0,0,10]}";

CT_TEST(transforms_refine_contents_metadata)
{
    char *dir = tt_tempdir("tree");
    CT_REQUIRE(dir);
    char json[4096];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"1.1\"},\"geometricError\":100,"
             "\"schema\":{\"id\":\"s\"},\"groups\":[{\"class\":\"g\"}],\"metadata\":{\"class\":\"m\"},"
             "\"root\":{\"boundingVolume\":%s,\"geometricError\":50,\"refine\":\"ADD\","
             "\"transform\":[1,0,0,0, 0,1,0,0, 0,0,1,0, 100,200,300,1],"
             "\"children\":[{\"boundingVolume\":%s,\"geometricError\":10,"
             "\"transform\":[2,0,0,0, 0,2,0,0, 0,0,2,0, 1,0,0,1],"
             "\"metadata\":{\"class\":\"t\"},"
             "\"contents\":[{\"uri\":\"a.glb\",\"group\":0},{\"uri\":\"sub/b.glb?x=1\"}]}]}}",
             BOX, BOX);
    tt_write(dir, "tileset.json", json);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset *ts = NULL;
    ct_error err = {0};
    ct_tileset_desc d = {.uri = path, .workers = 1};
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    const ct_tile *root = ct_tileset_root(ts);
    CT_CHECK(!strcmp(ct_tileset_version(ts), "1.1"));
    CT_CHECK_NEAR(ct_tileset_geometric_error(ts), 100, 0);
    CT_CHECK(ct_tileset_schema_json(ts) && strstr(ct_tileset_schema_json(ts), "\"s\""));
    CT_CHECK(ct_tileset_groups_json(ts) && strstr(ct_tileset_groups_json(ts), "\"g\""));
    CT_CHECK(ct_tileset_metadata_json(ts) && strstr(ct_tileset_metadata_json(ts), "\"m\""));
    CT_REQUIRE(root->n_children == 1);
    const ct_tile *c = &root->children[0];
    CT_CHECK(c->parent == root);
    CT_CHECK_EQ_INT(c->refine, CT_REFINE_ADD); /* inherited */
    /* world = root * child: scale 2, then translation (100+1, 200, 300) */
    CT_CHECK_NEAR(c->transform[0], 2, 0);
    CT_CHECK_NEAR(c->transform[12], 101, 1e-12);
    CT_CHECK_NEAR(c->transform[13], 200, 1e-12);
    CT_CHECK_NEAR(c->transform[14], 300, 1e-12);
    CT_CHECK_NEAR(c->ge_scale, 2, 1e-12);
    CT_CHECK(c->metadata_json && strstr(c->metadata_json, "\"t\""));
    CT_REQUIRE(c->n_contents == 2);
    CT_CHECK_EQ_INT(c->contents[0].group, 0);
    CT_CHECK_EQ_INT(c->contents[1].group, -1);
    CT_CHECK(strstr(c->contents[0].uri, "/a.glb") != NULL);
    CT_CHECK(strstr(c->contents[1].uri, "/sub/b.glb?x=1") != NULL);
    CT_CHECK(!strncmp(c->contents[1].uri, "file:///", 8));
    ct_tileset_destroy(ts);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(errors_name_the_json_path)
{
    char *dir = tt_tempdir("bad");
    CT_REQUIRE(dir);
    char json[4096];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":100,\"root\":{\"boundingVolume\":%s,"
             "\"geometricError\":50,\"refine\":\"REPLACE\",\"children\":["
             "{\"boundingVolume\":%s,\"geometricError\":10},"
             "{\"boundingVolume\":{\"box\":[1,2,3]},\"geometricError\":10},"
             "{\"boundingVolume\":%s,\"geometricError\":80,\"refine\":\"SOMETIMES\"},"
             "{\"boundingVolume\":{\"sphere\":[0,0,0,1000]},\"geometricError\":1}]}}",
             BOX, BOX, BOX);
    tt_write(dir, "tileset.json", json);
    char path[1024];
    snprintf(path, sizeof path, "%s/tileset.json", dir);
    ct_tileset_report r;
    CT_REQUIRE(inspect(path, &r, false) == CT_OK);
    dump_problems(&r);
    CT_CHECK(has_problem(&r, "tileset.json: root.children[1].boundingVolume.box: expected 12 numbers"));
    CT_CHECK(has_problem(&r, "root.children[2].refine"));
    CT_CHECK(has_problem(&r, "root.children[2].geometricError: 80 is larger than the parent's 50"));
    CT_CHECK(has_problem(&r, "root.children[3].boundingVolume: not inside")); /* warning */
    CT_CHECK_EQ_INT(r.tiles, 4); /* the broken child is dropped */
    CT_CHECK(r.n_errors >= 3);
    CT_CHECK_EQ_INT(r.n_warnings, 1);
    ct_tileset_report_free(&r);
    /* not JSON at all: the byte offset is named */
    tt_write(dir, "tileset.json", "{\"asset\": {\"version\": \"1.0\"}, \"root\": [1,2,,]}");
    ct_tileset_inspect_desc d = {.uri = path};
    ct_error err = {0};
    CT_CHECK(ct_tileset_inspect(&d, &r, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "invalid JSON near byte") != NULL);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(external_cycles_and_depth_limit)
{
    char *dir = tt_tempdir("cycle");
    CT_REQUIRE(dir);
    char json[4096];
    const char *fmt = "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":10,\"root\":{\"boundingVolume\":%s,"
                      "\"geometricError\":10,\"refine\":\"ADD\",\"content\":{\"uri\":\"%s\"}}}";
    snprintf(json, sizeof json, fmt, BOX, "b.json");
    tt_write(dir, "a.json", json);
    snprintf(json, sizeof json, fmt, BOX, "a.json");
    tt_write(dir, "b.json", json);
    snprintf(json, sizeof json, fmt, BOX, "self.json");
    tt_write(dir, "self.json", json);
    char path[1024];
    ct_tileset_report r;
    snprintf(path, sizeof path, "%s/a.json", dir);
    CT_REQUIRE(inspect(path, &r, false) == CT_OK);
    CT_CHECK(has_problem(&r, "cycle"));
    CT_CHECK_EQ_INT(r.tiles, 2);
    ct_tileset_report_free(&r);
    snprintf(path, sizeof path, "%s/self.json", dir);
    CT_REQUIRE(inspect(path, &r, false) == CT_OK);
    CT_CHECK(has_problem(&r, "cycle"));
    ct_tileset_report_free(&r);

    /* 200 nested children: stopped at the depth limit with a message */
    size_t cap = 200 * 200 + 1000, n = 0;
    char *deep = malloc(cap);
    n += (size_t)snprintf(deep + n, cap - n, "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":10,\"root\":");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(deep + n, cap - n, "{\"boundingVolume\":%s,\"geometricError\":1,\"children\":[", BOX);
    n += (size_t)snprintf(deep + n, cap - n, "{\"boundingVolume\":%s,\"geometricError\":0}", BOX);
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(deep + n, cap - n, "]}");
    snprintf(deep + n, cap - n, "}");
    tt_write(dir, "deep.json", deep);
    free(deep);
    snprintf(path, sizeof path, "%s/deep.json", dir);
    CT_REQUIRE(inspect(path, &r, false) == CT_OK);
    CT_CHECK(has_problem(&r, "deeper than the limit of 64"));
    CT_CHECK_EQ_INT(r.max_depth, 64);
    ct_tileset_report_free(&r);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(sandbox_refuses_escaping_uris)
{
    char *dir = tt_tempdir("sandbox");
    CT_REQUIRE(dir);
    char json[4096];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":10,\"root\":{\"boundingVolume\":%s,"
             "\"geometricError\":10,\"refine\":\"ADD\",\"children\":["
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"../outside.glb\"}},"
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"in/../../outside.glb\"}},"
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"link.glb\"}},"
             "{\"boundingVolume\":%s,\"geometricError\":0,\"content\":{\"uri\":\"file:///etc/passwd\"}}]}}",
             BOX, BOX, BOX, BOX, BOX);
    char inner[1024], path[1100], outside[1100], link[1100];
    snprintf(inner, sizeof inner, "%s/ts", dir);
    mkdir(inner, 0755);
    tt_write(inner, "tileset.json", json);
    snprintf(path, sizeof path, "%s/tileset.json", inner);
    uint8_t *glb;
    size_t n = tt_make_glb(&glb, 16);
    snprintf(outside, sizeof outside, "%s/outside.glb", dir);
    tt_write_bytes(outside, glb, n);
    free(glb);
    snprintf(link, sizeof link, "%s/link.glb", inner);
    CT_REQUIRE(symlink(outside, link) == 0);
    ct_tileset_report r;
    CT_REQUIRE(inspect(path, &r, false) == CT_OK);
    dump_problems(&r);
    CT_CHECK_EQ_INT(r.n_errors, 4);
    CT_CHECK(has_problem(&r, "outside the tileset's folder"));
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_GLB], 0);
    ct_tileset_report_free(&r);
    /* allowed by the option: the three glb links load (passwd is not a tile) */
    CT_REQUIRE(inspect(path, &r, true) == CT_OK);
    CT_CHECK_EQ_INT(r.contents[CT_CONTENT_TYPE_GLB], 3);
    ct_tileset_report_free(&r);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(all_samples_load)
{
    /* every tileset*.json under shared/data/3dtiles walks without a fatal error */
    const char *roots[] = {"3dtiles/3d-tiles-samples", "3dtiles/3d-tiles-tools", "3dtiles/3d-tiles-validator",
                           "3dtiles/photogrammetry-mesh"};
    int n = 0;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "find '%s' -name 'tileset*.json' | sort", ct_test_data(roots[i]));
        FILE *p = popen(cmd, "r");
        char line[4096];
        while (p && fgets(line, sizeof line, p)) {
            line[strcspn(line, "\n")] = 0;
            ct_tileset_report r;
            CT_CHECK(inspect(line, &r, false) == CT_OK);
            CT_CHECK(r.tiles >= 1);
            ct_tileset_report_free(&r);
            n++;
        }
        if (p)
            pclose(p);
    }
    CT_CHECK(n >= 70);
}

/* asset.gltfUpAxis comes from the root tileset (as in CesiumJS); the
 * landform sample says "Z"; a missing one means Y. */
CT_TEST(gltf_up_axis_from_root)
{
    ct_tileset *ts = NULL;
    ct_error err = {0};
    ct_tileset_desc d = {
        .uri = ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json"), .workers = 1};
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    CT_CHECK_EQ_INT(ct_tileset_gltf_up_axis(ts), 'Z');
    ct_tileset_destroy(ts);
    d.uri = ct_test_data("3dtiles/3d-tiles-tools/TilesetOfTilesets/tileset.json");
    CT_REQUIRE(ct_tileset_create(&d, &ts, &err) == CT_OK);
    CT_CHECK_EQ_INT(ct_tileset_gltf_up_axis(ts), 'Y');
    ct_tileset_destroy(ts);
}

CT_TEST_MAIN(CT_CASE(photogrammetry_sample_counts), CT_CASE(implicit_quadtree_and_octree),
             CT_CASE(missing_content_is_a_problem), CT_CASE(external_tilesets_nested),
             CT_CASE(transforms_refine_contents_metadata), CT_CASE(errors_name_the_json_path),
             CT_CASE(external_cycles_and_depth_limit), CT_CASE(sandbox_refuses_escaping_uris), CT_CASE(all_samples_load), CT_CASE(gltf_up_axis_from_root))
