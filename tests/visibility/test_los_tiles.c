/* Line of sight against 3D Tiles: tilesets generated here (a wall of known
 * size placed on the globe by a tile transform, as b3dm, i3dm instances and
 * glb with EXT_mesh_gpu_instancing, a truncated b3dm) and a photogrammetry
 * sample from the shared data. Expected points come from PROJ called here
 * directly (EPSG:4979 -> EPSG:4978 and -> UTM 32N), not through citytwin. */
#include "ct_test.h"

#include "../tiles/content_build.h"
#include "../tiles/tiles_test_util.h"

#include "citytwin/ct_tileset.h"
#include "citytwin/ct_visibility.h"

#include <cjson/cJSON.h>
#include <proj.h>

#include <math.h>
#include <stdio.h>

/* The wall's frame: east-north-up at this point. */
#define LON0 7.0
#define LAT0 46.0
#define H0 500.0

/* ECEF <-> UTM 32N through PROJ (3D: heights stay ellipsoidal). */
static void enu_to_utm(double e, double n, double u, double out[3])
{
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *to_ecef = proj_create_crs_to_crs(ctx, "EPSG:4979", "EPSG:4978", NULL);
    PJ *to_utm = proj_create_crs_to_crs(ctx, "EPSG:4978", "EPSG:32632", NULL);
    /* EPSG:4979 is lat, lon order */
    PJ_COORD o = proj_trans(to_ecef, PJ_FWD, proj_coord(LAT0, LON0, H0, 0));
    double lon = LON0 * M_PI / 180, lat = LAT0 * M_PI / 180;
    double E[3] = {-sin(lon), cos(lon), 0};
    double N[3] = {-sin(lat) * cos(lon), -sin(lat) * sin(lon), cos(lat)};
    double U[3] = {cos(lat) * cos(lon), cos(lat) * sin(lon), sin(lat)};
    double p[3];
    for (int k = 0; k < 3; k++)
        p[k] = o.v[k] + e * E[k] + n * N[k] + u * U[k];
    /* ECEF -> lat, lon, h, then the 2D projection of lat, lon */
    PJ *to_geo = proj_create_crs_to_crs(ctx, "EPSG:4978", "EPSG:4979", NULL);
    PJ_COORD g = proj_trans(to_geo, PJ_FWD, proj_coord(p[0], p[1], p[2], 0));
    PJ *to_proj = proj_create_crs_to_crs(ctx, "EPSG:4326", "EPSG:32632", NULL);
    PJ_COORD xy = proj_trans(to_proj, PJ_FWD, proj_coord(g.v[0], g.v[1], 0, 0));
    out[0] = xy.v[0];
    out[1] = xy.v[1];
    out[2] = g.v[2];
    proj_destroy(to_proj);
    proj_destroy(to_geo);
    proj_destroy(to_utm);
    proj_destroy(to_ecef);
    proj_context_destroy(ctx);
}

/* The ENU frame as a tileset.json transform (column-major). */
static void enu_transform_json(char *buf, size_t n)
{
    PJ_CONTEXT *ctx = proj_context_create();
    PJ *to_ecef = proj_create_crs_to_crs(ctx, "EPSG:4979", "EPSG:4978", NULL);
    PJ_COORD o = proj_trans(to_ecef, PJ_FWD, proj_coord(LAT0, LON0, H0, 0));
    proj_destroy(to_ecef);
    proj_context_destroy(ctx);
    double lon = LON0 * M_PI / 180, lat = LAT0 * M_PI / 180;
    snprintf(buf, n, "[%.17g,%.17g,0,0, %.17g,%.17g,%.17g,0, %.17g,%.17g,%.17g,0, %.17g,%.17g,%.17g,1]", -sin(lon),
             cos(lon), -sin(lat) * cos(lon), -sin(lat) * sin(lon), cos(lat), cos(lat) * cos(lon),
             cos(lat) * sin(lon), sin(lat), o.v[0], o.v[1], o.v[2]);
}

/* A GLB of a wall in the tile's east = 0 plane, north -10..10, up 0..20,
 * written in glTF's y-up axes (tile (e, n, u) = glTF (e, u, -n)). With
 * n_inst > 0 the node carries EXT_mesh_gpu_instancing translations (glTF axes). */
static uint8_t *wall_glb(const float *inst, int n_inst, size_t *size)
{
    float pos[12] = {0, 0, 10, 0, 0, -10, 0, 20, -10, 0, 20, 10};
    uint16_t idx[6] = {0, 1, 2, 0, 2, 3};
    size_t nbin = sizeof pos + 12 + (size_t)n_inst * 12; /* indices padded to 12 bytes */
    uint8_t *bin = calloc(1, nbin + 4);
    memcpy(bin, pos, sizeof pos);
    memcpy(bin + sizeof pos, idx, sizeof idx);
    if (n_inst)
        memcpy(bin + sizeof pos + 12, inst, (size_t)n_inst * 12);
    char json[2048];
    int k = snprintf(json, sizeof json,
                     "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
                     "\"nodes\":[{\"mesh\":0%s}],"
                     "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0},\"indices\":1}]}],"
                     "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":4,\"type\":\"VEC3\","
                     "\"min\":[0,0,-10],\"max\":[0,20,10]},"
                     "{\"bufferView\":1,\"componentType\":5123,\"count\":6,\"type\":\"SCALAR\"}",
                     n_inst ? ",\"extensions\":{\"EXT_mesh_gpu_instancing\":{\"attributes\":{\"TRANSLATION\":2}}}"
                            : "");
    if (n_inst)
        k += snprintf(json + k, sizeof json - (size_t)k,
                      ",{\"bufferView\":2,\"componentType\":5126,\"count\":%d,\"type\":\"VEC3\"}", n_inst);
    k += snprintf(json + k, sizeof json - (size_t)k,
                  "],\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":48},"
                  "{\"buffer\":0,\"byteOffset\":48,\"byteLength\":12}");
    if (n_inst)
        k += snprintf(json + k, sizeof json - (size_t)k, ",{\"buffer\":0,\"byteOffset\":60,\"byteLength\":%d}",
                      n_inst * 12);
    k += snprintf(json + k, sizeof json - (size_t)k, "],\"buffers\":[{\"byteLength\":%zu}]%s}", nbin,
                  n_inst ? ",\"extensionsUsed\":[\"EXT_mesh_gpu_instancing\"]" : "");
    size_t jl = ((size_t)k + 3) & ~(size_t)3, bl = (nbin + 3) & ~(size_t)3;
    size_t total = 12 + 8 + jl + 8 + bl;
    tb_buf b = {0};
    tb_put(&b, "glTF", 4);
    tb_u32(&b, 2);
    tb_u32(&b, (uint32_t)total);
    tb_u32(&b, (uint32_t)jl);
    tb_u32(&b, 0x4E4F534A);
    tb_put(&b, json, (size_t)k);
    tb_put(&b, "    ", jl - (size_t)k);
    tb_u32(&b, (uint32_t)bl);
    tb_u32(&b, 0x004E4942);
    tb_put(&b, bin, bl);
    free(bin);
    *size = b.n;
    return b.d;
}

/* A tileset.json in dir with one root tile (ENU transform, ADD) whose
 * children are the given contents, each bounded by a box of +-60 m. */
static void write_tileset(const char *dir, int n, const char *const *uris)
{
    char tr[512], json[4096];
    enu_transform_json(tr, sizeof tr);
    int k = snprintf(json, sizeof json,
                     "{\"asset\":{\"version\":\"1.0\"},\"geometricError\":100,\"root\":{\"transform\":%s,"
                     "\"boundingVolume\":{\"box\":[0,0,10,80,0,0,0,80,0,0,0,30]},\"geometricError\":10,"
                     "\"refine\":\"REPLACE\",\"children\":[",
                     tr);
    for (int i = 0; i < n; i++)
        k += snprintf(json + k, sizeof json - (size_t)k,
                      "%s{\"boundingVolume\":{\"box\":[0,0,10,60,0,0,0,60,0,0,0,30]},\"geometricError\":0,"
                      "\"content\":{\"uri\":\"%s\"}}",
                      i ? "," : "", uris[i]);
    snprintf(json + k, sizeof json - (size_t)k, "]}}");
    tt_write(dir, "tileset.json", json);
}

static void write_file(const char *dir, const char *name, const void *data, size_t n)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    tt_write_bytes(p, data, n);
}

static uint8_t *wall_b3dm(size_t *n)
{
    size_t gn;
    uint8_t *glb = wall_glb(NULL, 0, &gn);
    uint8_t *b = tb_tile("b3dm", "{\"BATCH_LENGTH\":0}", NULL, 0, NULL, NULL, 0, glb, gn, 0, n);
    free(glb);
    return b;
}

/* LOS in UTM 32N from ENU (-50, north, up) to (50, north, up), against the tileset only. */
static void los_enu_offset(const char *tileset, double north, double up, double height_offset, ct_los_result *r,
                           ct_los_tileset_stats *st)
{
    ct_los_desc d = {.crs = "EPSG:32632"};
    enu_to_utm(-50, north, up, d.from);
    enu_to_utm(50, north, up, d.to);
    ct_los_tileset_desc td = {.uri = tileset, .crs = "EPSG:32632", .height_offset = height_offset};
    memcpy(td.from, d.from, sizeof td.from);
    memcpy(td.to, d.to, sizeof td.to);
    ct_los_meshes *m = NULL;
    ct_error err = {0};
    memset(st, 0, sizeof *st);
    CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_add_tileset(m, &td, st, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
    CT_REQUIRE(ct_los_compute(NULL, m, &d, r, &err) == CT_OK);
    ct_los_meshes_destroy(m);
}

static void los_enu(const char *tileset, double north, double up, ct_los_result *r, ct_los_tileset_stats *st)
{
    los_enu_offset(tileset, north, up, 0, r, st);
}

static void check_point(const double got[3], double e, double n, double u)
{
    double want[3];
    enu_to_utm(e, n, u, want);
    for (int k = 0; k < 3; k++)
        CT_CHECK_NEAR(got[k], want[k], 0.01);
}

CT_TEST(b3dm_wall_blocks_at_known_point)
{
    char *dir = tt_tempdir("lostiles");
    size_t n;
    uint8_t *b = wall_b3dm(&n);
    write_file(dir, "wall.b3dm", b, n);
    free(b);
    write_tileset(dir, 1, (const char *[]){"wall.b3dm"});
    char ts[1024];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    ct_los_result r;
    ct_los_tileset_stats st;
    los_enu(ts, 3, 5, &r, &st);
    CT_CHECK(!r.visible);
    CT_CHECK(r.blocked_by_tileset);
    CT_CHECK(r.obstruction_source && strstr(r.obstruction_source, "wall.b3dm"));
    check_point(r.obstruction, 0, 3, 5);
    CT_CHECK_EQ_INT((int)st.tiles_loaded, 1);
    CT_CHECK_EQ_INT((int)st.tiles_failed, 0);
    CT_CHECK_EQ_INT((int)st.triangles, 2);
    CT_CHECK(st.georeferenced);
    ct_los_result_free(&r);
    /* beside the wall (north 15 > 10) and above it (up 25 > 20) */
    los_enu(ts, 15, 5, &r, &st);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    los_enu(ts, 0, 25, &r, &st);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    /* --tiles-height-offset 10 lifts the wall's top from 20 to 30 m: now blocked, 10 m higher */
    los_enu_offset(ts, 0, 25, 10, &r, &st);
    CT_CHECK(!r.visible);
    check_point(r.obstruction, 0, 0, 25);
    ct_los_result_free(&r);
    los_enu_offset(ts, 0, 5, 10, &r, &st); /* up 5 is below the lifted wall's foot (10 m) */
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(i3dm_instances_block_where_they_are)
{
    char *dir = tt_tempdir("lostiles");
    size_t gn, n;
    uint8_t *glb = wall_glb(NULL, 0, &gn);
    /* instances at tile (0, 0, 0) and (0, 40, 0): the second 40 m north */
    float p[6] = {0, 0, 0, 0, 40, 0};
    uint8_t *b = tb_tile("i3dm", "{\"INSTANCES_LENGTH\":2,\"POSITION\":{\"byteOffset\":0}}", p, sizeof p, NULL, NULL,
                         0, glb, gn, 1, &n);
    free(glb);
    write_file(dir, "walls.i3dm", b, n);
    free(b);
    write_tileset(dir, 1, (const char *[]){"walls.i3dm"});
    char ts[1024];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    ct_los_result r;
    ct_los_tileset_stats st;
    los_enu(ts, 45, 5, &r, &st);
    CT_CHECK(!r.visible);
    check_point(r.obstruction, 0, 45, 5);
    CT_CHECK_EQ_INT((int)st.triangles, 4);
    ct_los_result_free(&r);
    los_enu(ts, 25, 5, &r, &st); /* between the two walls (-10..10 and 30..50) */
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(gpu_instancing_expanded)
{
    char *dir = tt_tempdir("lostiles");
    size_t n;
    /* glTF translations: (0,0,0) and (0,0,-40) = tile north +40 */
    float inst[6] = {0, 0, 0, 0, 0, -40};
    uint8_t *glb = wall_glb(inst, 2, &n);
    write_file(dir, "walls.glb", glb, n);
    free(glb);
    write_tileset(dir, 1, (const char *[]){"walls.glb"});
    char ts[1024];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    ct_los_result r;
    ct_los_tileset_stats st;
    los_enu(ts, 35, 5, &r, &st);
    CT_CHECK(!r.visible);
    check_point(r.obstruction, 0, 35, 5);
    ct_los_result_free(&r);
    los_enu(ts, 20, 5, &r, &st);
    CT_CHECK(r.visible);
    ct_los_result_free(&r);
    /* the same glb through --meshes' path (ct_los_meshes_add_gltf, y-up) */
    snprintf(ts, sizeof ts, "%s/walls.glb", dir);
    ct_gltf *g = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_gltf_load_file(ts, &(ct_gltf_options){.skip_images = true}, &g, &err) == CT_OK);
    ct_los_meshes *m = NULL;
    CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
    double off[3] = {1000, 2000, 0};
    CT_REQUIRE(ct_los_meshes_add_gltf(m, g, true, off, &err) == CT_OK);
    CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
    CT_CHECK_EQ_INT((int)ct_los_meshes_triangle_count(m), 4);
    ct_los_desc d = {.from = {950, 2040, 5}, .to = {1050, 2040, 5}};
    CT_REQUIRE(ct_los_compute(NULL, m, &d, &r, &err) == CT_OK);
    CT_CHECK(!r.visible);
    CT_CHECK_NEAR(r.obstruction[0], 1000, 1e-3);
    ct_los_result_free(&r);
    ct_los_meshes_destroy(m);
    ct_gltf_destroy(g);
    tt_rmtree(dir);
    free(dir);
}

CT_TEST(truncated_b3dm_skipped)
{
    char *dir = tt_tempdir("lostiles");
    size_t n;
    uint8_t *b = wall_b3dm(&n);
    write_file(dir, "wall.b3dm", b, n);
    write_file(dir, "broken.b3dm", b, n / 2);
    free(b);
    write_tileset(dir, 2, (const char *[]){"broken.b3dm", "wall.b3dm"});
    double from[3], to[3];
    enu_to_utm(-50, 0, 5, from);
    enu_to_utm(50, 0, 5, to);
    char args[2048], *out = NULL;
    snprintf(args, sizeof args,
             "analyze los --tileset %s/tileset.json --crs EPSG:32632 --from %.4f,%.4f,%.4f --to %.4f,%.4f,%.4f --json",
             dir, from[0], from[1], from[2], to[0], to[1], to[2]);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *o = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(o != NULL);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(o, "visible")));
    CT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "blocked_by")), "tileset"));
    CT_CHECK(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(o, "obstruction_source")), "wall.b3dm") != NULL);
    CT_CHECK_EQ_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "tiles_failed")), 1);
    CT_CHECK_EQ_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "tiles_loaded")), 1);
    CT_CHECK_EQ_INT((int)cJSON_GetNumberValue(cJSON_GetObjectItem(o, "tileset_triangles")), 2);
    cJSON_Delete(o);
    /* a missing tileset.json is an input error */
    snprintf(args, sizeof args,
             "analyze los --tileset %s/nothing.json --crs EPSG:32632 --from 0,0,0 --to 1,1,1 --json", dir);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, NULL, NULL), 2);
    tt_rmtree(dir);
    free(dir);
}

/* A flat DEM (height z) in UTM 32N of 200 x 200 m around the wall. */
static void write_flat_dem(const char *path, double z)
{
    double c[3];
    enu_to_utm(0, 0, 0, c);
    ct_raster *r = ct_raster_create(100, 100, NULL);
    double gt[6] = {floor(c[0]) - 100, 2, 0, floor(c[1]) + 100, 0, -2};
    memcpy(r->geotransform, gt, sizeof gt);
    free(r->crs_wkt);
    r->crs_wkt = strdup("PROJCS[\"WGS 84 / UTM zone 32N\",GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\","
                        "6378137,298.257223563]],PRIMEM[\"Greenwich\",0],UNIT[\"degree\",0.0174532925199433]],"
                        "PROJECTION[\"Transverse_Mercator\"],PARAMETER[\"latitude_of_origin\",0],"
                        "PARAMETER[\"central_meridian\",9],PARAMETER[\"scale_factor\",0.9996],"
                        "PARAMETER[\"false_easting\",500000],PARAMETER[\"false_northing\",0],UNIT[\"metre\",1],"
                        "AXIS[\"Easting\",EAST],AXIS[\"Northing\",NORTH]]");
    for (size_t i = 0; i < 100 * 100; i++)
        r->data[i] = (float)z;
    CT_CHECK(ct_raster_write_gtiff(r, path, CT_RASTER_FLOAT32, true, -9999, NULL) == CT_OK);
    ct_raster_destroy(r);
}

CT_TEST(dem_and_tileset_cli)
{
    char *dir = tt_tempdir("lostiles");
    size_t n;
    uint8_t *b = wall_b3dm(&n);
    write_file(dir, "wall.b3dm", b, n);
    free(b);
    write_tileset(dir, 1, (const char *[]){"wall.b3dm"});
    char dem[1024], args[3072], *out = NULL;
    snprintf(dem, sizeof dem, "%s/dem.tif", dir);
    double from[3], to[3], want[3];
    enu_to_utm(-50, 0, 5, from);
    enu_to_utm(50, 0, 5, to);
    enu_to_utm(0, 0, 5, want);
    /* ground 490 m under a line at about 505 m: the wall blocks */
    write_flat_dem(dem, H0 - 10);
    snprintf(args, sizeof args,
             "analyze los --dem %s --tileset %s/tileset.json --from %.4f,%.4f,%.4f --to %.4f,%.4f,%.4f --json", dem,
             dir, from[0], from[1], from[2], to[0], to[1], to[2]);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    cJSON *o = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(o != NULL);
    CT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "blocked_by")), "tileset"));
    cJSON *ob = cJSON_GetObjectItem(o, "obstruction");
    for (int k = 0; k < 3; k++)
        CT_CHECK_NEAR(cJSON_GetNumberValue(cJSON_GetArrayItem(ob, k)), want[k], 0.01);
    cJSON_Delete(o);
    /* ground 520 m: the terrain blocks first, right after the start */
    write_flat_dem(dem, H0 + 20);
    CT_CHECK_EQ_INT(ct_test_run_cli(args, &out, NULL), 0);
    o = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(o != NULL);
    CT_CHECK(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "blocked_by")), "terrain"));
    CT_CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "obstruction_distance_m")) < 10);
    cJSON_Delete(o);
    tt_rmtree(dir);
    free(dir);
}

/* The landform photogrammetry sample: a 293-tile REPLACE quadtree, local
 * frame (not ECEF), z-up glTF. Its root box: centre (216.2, 32.3, 90.7),
 * half-axes 161.6, 32.2, 120.9; the quadtree splits x and z, the surface
 * lies across y (the thin axis). */
CT_TEST(photogrammetry_sample)
{
    const char *ts = ct_test_data("3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform/tileset.json");
    if (access(ts, R_OK) != 0) {
        printf("skip: %s missing\n", ts);
        return;
    }
    ct_tileset_report rep = {0};
    ct_error err = {0};
    CT_REQUIRE(ct_tileset_inspect(&(ct_tileset_inspect_desc){.uri = ts, .skip_contents = true}, &rep, &err) == CT_OK);
    uint64_t tiles = rep.tiles;
    ct_tileset_report_free(&rep);
    CT_CHECK(tiles > 200);
    struct {
        double from[3], to[3], max_error;
        bool visible;
    } cases[] = {
        {{216.2, 120, 90.7}, {216.2, -50, 90.7}, 0, false},    /* across the surface, through the box centre */
        {{0, 70, 90.7}, {450, 70, 90.7}, 0, true},             /* beyond the box (y up to 64.5) */
        {{216.2, 120, 90.7}, {216.2, -50, 90.7}, 1000, false}, /* the root only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_los_tileset_desc td = {.uri = ts, .max_error = cases[i].max_error};
        memcpy(td.from, cases[i].from, sizeof td.from);
        memcpy(td.to, cases[i].to, sizeof td.to);
        ct_los_meshes *m = NULL;
        ct_los_tileset_stats st = {0};
        CT_REQUIRE(ct_los_meshes_create(&m, &err) == CT_OK);
        CT_REQUIRE(ct_los_meshes_add_tileset(m, &td, &st, &err) == CT_OK);
        CT_REQUIRE(ct_los_meshes_commit(m, &err) == CT_OK);
        ct_los_desc d = {0};
        memcpy(d.from, cases[i].from, sizeof d.from);
        memcpy(d.to, cases[i].to, sizeof d.to);
        ct_los_result r;
        CT_REQUIRE(ct_los_compute(NULL, m, &d, &r, &err) == CT_OK);
        CT_CHECK(r.visible == cases[i].visible);
        CT_CHECK(!st.georeferenced);
        CT_CHECK_EQ_INT((int)st.tiles_failed, 0);
        if (i == 0) {
            /* one tile column along the line: a handful of the 293 tiles */
            CT_CHECK(st.tiles_loaded >= 1);
            CT_CHECK(st.tiles_loaded * 20 < tiles);
            CT_CHECK(r.obstruction[1] > 32.3 - 32.2 && r.obstruction[1] < 32.3 + 32.2);
        }
        if (i == 2)
            CT_CHECK_EQ_INT((int)st.tiles_loaded, 1); /* root geometric error 30.3 <= 1000 */
        ct_los_result_free(&r);
        ct_los_meshes_destroy(m);
    }
}

CT_TEST_MAIN(CT_CASE(b3dm_wall_blocks_at_known_point), CT_CASE(i3dm_instances_block_where_they_are),
             CT_CASE(gpu_instancing_expanded), CT_CASE(truncated_b3dm_skipped), CT_CASE(dem_and_tileset_cli),
             CT_CASE(photogrammetry_sample))
