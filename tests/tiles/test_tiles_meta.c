/* 3D Tiles content metadata and picking gaps (tilemeta):
 * - implicit tiling tile and content metadata from subtree property tables,
 *   indexed by the tile's rank among the available tiles (3D Tiles 1.1:
 *   "tightly packed by increasing tile index"), against ranks counted by hand;
 * - `citytwin pick` on an implicit tileset written here (subtree, GLBs) and on
 *   the validator's ImplicitTileMetadata sample. */
#include "ct_test.h"
#include "pick_cli.h"

#include "citytwin/ct_image.h"
#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"
#include "content_build.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A binary subtree: JSON padded with spaces, one BIN buffer padded with zeros,
 * both to 8 bytes. `json` names buffer 0 with byteLength `bin_n`. */
static uint8_t *make_subtree(const char *json, const void *bin, size_t bin_n, size_t *size)
{
    size_t jl = strlen(json), jp = tb_pad(jl), bp = tb_pad(bin_n);
    tb_buf b = {0};
    tb_put(&b, "subt", 4);
    tb_u32(&b, 1);
    uint64_t l[2] = {jp, bp};
    for (int i = 0; i < 2; i++) {
        tb_u32(&b, (uint32_t)l[i]);
        tb_u32(&b, (uint32_t)(l[i] >> 32));
    }
    tb_put(&b, json, jl);
    tb_put(&b, "        ", jp - jl);
    tb_put(&b, bin, bin_n);
    static const uint8_t z[8] = {0};
    tb_put(&b, z, bp - bin_n);
    *size = b.n;
    return b.d;
}

/* ---- subtree metadata, a 3-level quadtree subtree ----
 * Available tiles (bit = level offset + Morton index; offsets 0, 1, 5):
 *   level 0: bit 0; level 1: Morton 0, 2, 3 -> bits 1, 3, 4;
 *   level 2: Morton 1, 2 (under 0), 9 (under 2), 12, 15 (under 3) -> bits 6, 7, 14, 17, 20.
 * Their ranks in bit order: 0 1 3 4 6 7 14 17 20 -> rows 0..8.
 * Content on bits 4, 7, 17 -> content rows 0, 1, 2. */
static const uint8_t SUB_BITS_TILE[3] = {0xdb /* 0 1 3 4 6 7 */, 0x40 /* 14 */, 0x12 /* 17 20 */};
static const uint8_t SUB_BITS_CONTENT[3] = {0x90 /* 4 7 */, 0x00, 0x02 /* 17 */};

static const char *SUB_SCHEMA =
    "{\"id\":\"s\",\"classes\":{\"tileinfo\":{\"properties\":{\"code\":{\"type\":\"SCALAR\",\"componentType\":"
    "\"UINT16\"},\"label\":{\"type\":\"STRING\"}}},\"contentinfo\":{\"properties\":{\"bytes\":{\"type\":"
    "\"SCALAR\",\"componentType\":\"UINT32\"},\"kind\":{\"type\":\"STRING\",\"default\":\"mesh\"}}}}}";

/* code of tile row k = 7k + 3; label "r<k>"; bytes of content row k = 100 (k + 5) */
static uint8_t *subtree_3levels(size_t *size, int tile_rows)
{
    tb_buf bin = {0};
    size_t off[6];
    off[0] = bin.n;
    tb_put(&bin, SUB_BITS_TILE, 3);
    tb_put(&bin, "\0\0\0\0\0", 5);
    off[1] = bin.n;
    tb_put(&bin, SUB_BITS_CONTENT, 3);
    tb_put(&bin, "\0\0\0\0\0", 5);
    off[2] = bin.n;
    for (int k = 0; k < 9; k++) {
        uint16_t v = (uint16_t)(7 * k + 3);
        tb_put(&bin, &v, 2);
    }
    tb_put(&bin, "\0\0\0\0\0\0", 6);
    off[3] = bin.n;
    char labels[64] = "";
    uint32_t soff[10] = {0};
    for (int k = 0; k < 9; k++) {
        snprintf(labels + strlen(labels), sizeof labels - strlen(labels), "r%d", k);
        soff[k + 1] = (uint32_t)strlen(labels);
    }
    tb_put(&bin, labels, strlen(labels));
    tb_put(&bin, "\0\0\0\0\0\0\0\0", tb_pad(bin.n) - bin.n);
    off[4] = bin.n;
    tb_put(&bin, soff, sizeof soff);
    tb_put(&bin, "\0\0\0\0\0\0\0\0", tb_pad(bin.n) - bin.n);
    off[5] = bin.n;
    for (int k = 0; k < 3; k++) {
        uint32_t v = (uint32_t)(100 * (k + 5));
        tb_put(&bin, &v, 4);
    }
    size_t len[6] = {3, 3, 18, strlen(labels), sizeof soff, 12};
    char json[2048];
    snprintf(json, sizeof json,
             "{\"buffers\":[{\"byteLength\":%zu}],\"bufferViews\":["
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],"
             "\"tileAvailability\":{\"bitstream\":0,\"availableCount\":9},"
             "\"contentAvailability\":[{\"bitstream\":1,\"availableCount\":3}],"
             "\"childSubtreeAvailability\":{\"constant\":0},"
             "\"propertyTables\":[{\"class\":\"tileinfo\",\"count\":%d,\"properties\":{\"code\":{\"values\":2},"
             "\"label\":{\"values\":3,\"stringOffsets\":4}}},"
             "{\"class\":\"contentinfo\",\"count\":3,\"properties\":{\"bytes\":{\"values\":5}}}],"
             "\"tileMetadata\":0,\"contentMetadata\":[1]}",
             bin.n, off[0], len[0], off[1], len[1], off[2], len[2], off[3], len[3], off[4], len[4], off[5], len[5],
             tile_rows);
    uint8_t *st = make_subtree(json, bin.d, bin.n, size);
    free(bin.d);
    return st;
}

static cJSON *subtree_md(const ct_subtree *st, int content, int level, uint64_t m)
{
    char *raw = ct_subtree_metadata_json(st, SUB_SCHEMA, content, level, m, "test");
    cJSON *j = raw ? cJSON_Parse(raw) : NULL;
    free(raw);
    return j;
}

CT_TEST(subtree_tile_metadata)
{
    size_t n;
    uint8_t *data = subtree_3levels(&n, 9);
    ct_implicit_desc imp = {0, 3};
    ct_subtree *st = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_subtree_parse(data, n, &imp, NULL, NULL, &st, &err) == CT_OK);
    /* (level, Morton, row) from the hand count above */
    static const int avail[9][3] = {{0, 0, 0}, {1, 0, 1}, {1, 2, 2}, {1, 3, 3}, {2, 1, 4},
                                    {2, 2, 5}, {2, 9, 6}, {2, 12, 7}, {2, 15, 8}};
    for (int i = 0; i < 9; i++) {
        cJSON *j = subtree_md(st, -1, avail[i][0], (uint64_t)avail[i][1]);
        CT_REQUIRE(j);
        int row = avail[i][2];
        char label[8];
        snprintf(label, sizeof label, "r%d", row);
        CT_CHECK(!strcmp(str(j, "class"), "tileinfo"));
        const cJSON *p = cJSON_GetObjectItem(j, "properties");
        CT_CHECK_NEAR(num(p, "code"), 7 * row + 3, 0);
        CT_CHECK(!strcmp(str(p, "label"), label));
        cJSON_Delete(j);
    }
    /* unavailable tiles: nothing */
    CT_CHECK(subtree_md(st, -1, 1, 1) == NULL);
    CT_CHECK(subtree_md(st, -1, 2, 0) == NULL);
    CT_CHECK(subtree_md(st, -1, 2, 13) == NULL);
    CT_CHECK(subtree_md(st, -1, 3, 0) == NULL);
    /* contents on bits 4 (level 1 Morton 3), 7 (level 2 Morton 2), 17 (level 2 Morton 12) */
    static const int cont[3][2] = {{1, 3}, {2, 2}, {2, 12}};
    for (int k = 0; k < 3; k++) {
        cJSON *j = subtree_md(st, 0, cont[k][0], (uint64_t)cont[k][1]);
        CT_REQUIRE(j);
        CT_CHECK(!strcmp(str(j, "class"), "contentinfo"));
        const cJSON *p = cJSON_GetObjectItem(j, "properties");
        CT_CHECK_NEAR(num(p, "bytes"), 100 * (k + 5), 0);
        CT_CHECK(!strcmp(str(p, "kind"), "mesh")); /* the class default */
        cJSON_Delete(j);
    }
    CT_CHECK(subtree_md(st, 0, 0, 0) == NULL); /* available tile, no content */
    CT_CHECK(subtree_md(st, 0, 2, 15) == NULL);
    CT_CHECK(subtree_md(st, 1, 1, 3) == NULL); /* no second content */
    ct_subtree_destroy(st);
    free(data);

    /* a table with fewer rows than available tiles (as in the validator's
     * ImplicitTileMetadata sample): rows past its count give nothing, the
     * rows inside still do */
    data = subtree_3levels(&n, 4);
    CT_REQUIRE(ct_subtree_parse(data, n, &imp, NULL, NULL, &st, &err) == CT_OK);
    cJSON *j = subtree_md(st, -1, 1, 3);
    CT_CHECK(j && num(cJSON_GetObjectItem(j, "properties"), "code") == 7 * 3 + 3);
    cJSON_Delete(j);
    CT_CHECK(subtree_md(st, -1, 2, 1) == NULL);
    ct_subtree_destroy(st);
    free(data);
}

/* ---- citytwin pick ---- */

/* A GLB box of half size h centred at tile-frame (cx, cy, 0) (z up): the node
 * translation is in glTF's y-up frame, (cx, 0, -cy). */
static uint8_t *make_box_glb(double cx, double cy, double h, size_t *size)
{
    float pos[24];
    for (int i = 0; i < 8; i++) {
        pos[3 * i] = (float)((i & 1) ? h : -h);
        pos[3 * i + 1] = (float)((i & 2) ? h : -h);
        pos[3 * i + 2] = (float)((i & 4) ? h : -h);
    }
    static const uint16_t idx[36] = {0, 1, 3, 0, 3, 2, 4, 6, 7, 4, 7, 5, 0, 4, 5, 0, 5, 1,
                                     2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 5, 7, 1, 7, 3};
    tb_buf bin = {0};
    tb_put(&bin, pos, sizeof pos);
    tb_put(&bin, idx, sizeof idx);
    char json[2048];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"2.0\"},\"scene\":0,\"scenes\":[{\"nodes\":[0]}],"
             "\"nodes\":[{\"mesh\":0,\"translation\":[%.17g,0,%.17g]}],\"materials\":[{\"doubleSided\":true}],"
             "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0},\"indices\":1,\"material\":0}]}],"
             "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":8,\"type\":\"VEC3\","
             "\"min\":[%g,%g,%g],\"max\":[%g,%g,%g]},{\"bufferView\":1,\"componentType\":5123,\"count\":36,"
             "\"type\":\"SCALAR\"}],\"bufferViews\":[{\"buffer\":0,\"byteOffset\":0,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],\"buffers\":[{\"byteLength\":%zu}]}",
             cx, -cy, -h, -h, -h, h, h, h, sizeof pos, sizeof pos, sizeof idx, bin.n);
    size_t jl = strlen(json), jp = (jl + 3) & ~(size_t)3, bl = (bin.n + 3) & ~(size_t)3;
    tb_buf g = {0};
    tb_put(&g, "glTF", 4);
    tb_u32(&g, 2);
    tb_u32(&g, (uint32_t)(12 + 8 + jp + 8 + bl));
    tb_u32(&g, (uint32_t)jp);
    tb_put(&g, "JSON", 4);
    tb_put(&g, json, jl);
    tb_put(&g, "    ", jp - jl);
    tb_u32(&g, (uint32_t)bl);
    tb_put(&g, "BIN\0", 4);
    tb_put(&g, bin.d, bin.n);
    tb_put(&g, "\0\0\0", bl - bin.n);
    free(bin.d);
    *size = g.n;
    return g.d;
}

/* An implicit quadtree (2 levels, one subtree) over a 200 m square: tiles
 * root, (1,0,0), (1,0,1), (1,1,1) available; content only at (1,0,0) and
 * (1,1,1), a box in the middle of each. Tile rows in bit order: root 0,
 * (0,0) 1, (0,1) 2, (1,1) 3; content rows (0,0) 0, (1,1) 1. */
static void write_implicit_tileset(const char *dir, char *ts, size_t ts_n)
{
    ct_error err;
    CT_REQUIRE(ct_dir_create(dir, &err) == CT_OK);
    char path[1024];
    snprintf(path, sizeof path, "%s/sub", dir);
    CT_REQUIRE(ct_dir_create(path, &err) == CT_OK);
    snprintf(path, sizeof path, "%s/c", dir);
    CT_REQUIRE(ct_dir_create(path, &err) == CT_OK);
    tb_buf bin = {0};
    const uint8_t tile_bits = 0x1b, content_bits = 0x12; /* bits 0,1,3,4 and 1,4 */
    const uint8_t codes[4] = {40, 41, 42, 43};
    const char labels[] = "rootswnwne";
    const uint32_t soff[5] = {0, 4, 6, 8, 10};
    const uint32_t bytes[2] = {1111, 2222};
    size_t off[6];
    const void *parts[6] = {&tile_bits, &content_bits, codes, labels, soff, bytes};
    size_t lens[6] = {1, 1, 4, 10, sizeof soff, sizeof bytes};
    for (int i = 0; i < 6; i++) {
        off[i] = bin.n;
        tb_put(&bin, parts[i], lens[i]);
        tb_put(&bin, "\0\0\0\0\0\0\0\0", tb_pad(bin.n) - bin.n);
    }
    char json[2048];
    snprintf(json, sizeof json,
             "{\"buffers\":[{\"byteLength\":%zu}],\"bufferViews\":["
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],"
             "\"tileAvailability\":{\"bitstream\":0},\"contentAvailability\":[{\"bitstream\":1}],"
             "\"childSubtreeAvailability\":{\"constant\":0},"
             "\"propertyTables\":[{\"class\":\"tileinfo\",\"count\":4,\"properties\":{\"code\":{\"values\":2},"
             "\"label\":{\"values\":3,\"stringOffsets\":4}}},"
             "{\"class\":\"contentinfo\",\"count\":2,\"properties\":{\"bytes\":{\"values\":5}}}],"
             "\"tileMetadata\":0,\"contentMetadata\":[1]}",
             bin.n, off[0], lens[0], off[1], lens[1], off[2], lens[2], off[3], lens[3], off[4], lens[4], off[5],
             lens[5]);
    size_t n;
    uint8_t *st = make_subtree(json, bin.d, bin.n, &n);
    free(bin.d);
    snprintf(path, sizeof path, "%s/sub/0.0.0.subtree", dir);
    CT_REQUIRE(ct_file_write(path, st, n, &err) == CT_OK);
    free(st);
    /* the UINT8 code column of the schema: codes[] above */
    static const int xy[2][2] = {{0, 0}, {1, 1}};
    for (int k = 0; k < 2; k++) {
        double cx = xy[k][0] ? 50 : -50, cy = xy[k][1] ? 50 : -50;
        uint8_t *glb = make_box_glb(cx, cy, 5, &n);
        snprintf(path, sizeof path, "%s/c/1.%d.%d.glb", dir, xy[k][0], xy[k][1]);
        CT_REQUIRE(ct_file_write(path, glb, n, &err) == CT_OK);
        free(glb);
    }
    snprintf(ts, ts_n, "%s/tileset.json", dir);
    const char *tj =
        "{\"asset\":{\"version\":\"1.1\"},\"geometricError\":1000,"
        "\"schema\":{\"id\":\"s\",\"classes\":{\"tileinfo\":{\"properties\":{\"code\":{\"type\":\"SCALAR\","
        "\"componentType\":\"UINT8\"},\"label\":{\"type\":\"STRING\"}}},\"contentinfo\":{\"properties\":{\"bytes\":"
        "{\"type\":\"SCALAR\",\"componentType\":\"UINT32\"},\"kind\":{\"type\":\"STRING\",\"default\":\"mesh\"}}}}},"
        "\"root\":{\"boundingVolume\":{\"box\":[0,0,0,100,0,0,0,100,0,0,0,10]},\"geometricError\":500,"
        "\"refine\":\"REPLACE\",\"content\":{\"uri\":\"c/{level}.{x}.{y}.glb\"},"
        "\"implicitTiling\":{\"subdivisionScheme\":\"QUADTREE\",\"subtreeLevels\":2,\"availableLevels\":2,"
        "\"subtrees\":{\"uri\":\"sub/{level}.{x}.{y}.subtree\"}}}}";
    CT_REQUIRE(ct_file_write(ts, tj, strlen(tj), &err) == CT_OK);
}

CT_TEST(pick_implicit_tile_metadata)
{
    char ts[1024];
    write_implicit_tileset(ct_test_tmp_path("pick_implicit"), ts, sizeof ts);
    /* from 60 m above each box's centre, looking down */
    static const struct {
        const char *cam;
        int x, y;
        const char *label;
        int code, bytes;
    } want[2] = {{"-50,-50,60,0,-90", 0, 0, "sw", 41, 1111}, {"50,50,60,0,-90", 1, 1, "ne", 43, 2222}};
    for (int k = 0; k < 2; k++) {
        cJSON *j = tiles_pick_cli(ts, want[k].cam, "160,120", NULL);
        CT_REQUIRE(j);
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
        const cJSON *tile = cJSON_GetObjectItem(j, "tile");
        CT_CHECK_NEAR(num(tile, "implicit_level"), 1, 0);
        const cJSON *xyz = cJSON_GetObjectItem(tile, "implicit_xyz");
        CT_CHECK_NEAR(cJSON_GetArrayItem(xyz, 0)->valuedouble, want[k].x, 0);
        CT_CHECK_NEAR(cJSON_GetArrayItem(xyz, 1)->valuedouble, want[k].y, 0);
        const cJSON *md = cJSON_GetObjectItem(j, "metadata");
        const cJSON *mt = cJSON_GetObjectItem(md, "tile"), *mc = cJSON_GetObjectItem(md, "content");
        CT_CHECK(!strcmp(str(mt, "class"), "tileinfo"));
        CT_CHECK(!strcmp(str(cJSON_GetObjectItem(mt, "properties"), "label"), want[k].label));
        CT_CHECK_NEAR(num(cJSON_GetObjectItem(mt, "properties"), "code"), want[k].code, 0);
        CT_CHECK(!strcmp(str(mc, "class"), "contentinfo"));
        CT_CHECK_NEAR(num(cJSON_GetObjectItem(mc, "properties"), "bytes"), want[k].bytes, 0);
        CT_CHECK(!strcmp(str(cJSON_GetObjectItem(mc, "properties"), "kind"), "mesh"));
        cJSON_Delete(j);
    }
}

/* The validator's ImplicitTileMetadata sample: its one-row tile table only
 * covers the root (the other four available tiles are past its count, and
 * CesiumJS reads nothing for them either). The expected root values are
 * decoded here from the subtree JSON, shared.bin and the schema's enum. */
CT_TEST(pick_implicit_sample)
{
    char dir[1024], ts[1100], path[1100];
    snprintf(dir, sizeof dir, "%s", ct_test_data("3dtiles/3d-tiles-validator/ImplicitTileMetadata"));
    snprintf(ts, sizeof ts, "%s/tileset_1.1.json", dir);
    snprintf(path, sizeof path, "%s/subtrees/1.1/0.0.0.json", dir);
    size_t n;
    uint8_t *sub = tb_read_file(path, &n);
    CT_REQUIRE(sub);
    cJSON *sj = cJSON_ParseWithLength((const char *)sub, n);
    free(sub);
    snprintf(path, sizeof path, "%s/subtrees/shared.bin", dir);
    uint8_t *bin = tb_read_file(path, &n);
    CT_REQUIRE(sj && bin);
    const cJSON *views = cJSON_GetObjectItem(sj, "bufferViews");
    const cJSON *props = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(sj, "propertyTables"), 0),
                                             "properties");
    int qv = cJSON_GetObjectItem(cJSON_GetObjectItem(props, "quadrant"), "values")->valueint;
    int cv = cJSON_GetObjectItem(cJSON_GetObjectItem(props, "color"), "values")->valueint;
    size_t qoff = (size_t)num(cJSON_GetArrayItem(views, qv), "byteOffset");
    size_t coff = (size_t)num(cJSON_GetArrayItem(views, cv), "byteOffset");
    CT_REQUIRE(qoff < n && coff + 3 <= n);
    int quadrant = bin[qoff]; /* row 0: the root */
    double color[3] = {bin[coff], bin[coff + 1], bin[coff + 2]};
    free(bin);
    cJSON_Delete(sj);
    uint8_t *tsd = tb_read_file(ts, &n);
    cJSON *tj = tsd ? cJSON_ParseWithLength((const char *)tsd, n) : NULL;
    free(tsd);
    CT_REQUIRE(tj);
    const char *qname = NULL;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(tj, "schema"),
                                                                                        "enums"),
                                                                   "quadrantType"),
                                              "values"))
    {
        if (num(e, "value") == quadrant)
            qname = str(e, "name");
    }
    CT_REQUIRE(qname);
    char want_name[32];
    snprintf(want_name, sizeof want_name, "%s", qname);
    cJSON_Delete(tj);
    /* the whole tileset framed: the root's building is under the centre */
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "pick '%s' --fit --pixel 160,120 --size 320x240 --wait --json", ts);
    CT_REQUIRE(ct_test_run_cli(args, &out, NULL) == 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    const cJSON *tile = cJSON_GetObjectItem(j, "tile");
    CT_CHECK_NEAR(num(tile, "implicit_level"), 0, 0);
    const cJSON *mt = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "metadata"), "tile");
    CT_CHECK(!strcmp(str(mt, "class"), "tile"));
    const cJSON *p = cJSON_GetObjectItem(mt, "properties");
    CT_CHECK(!strcmp(str(p, "quadrant"), want_name));
    const cJSON *c = cJSON_GetObjectItem(p, "color");
    CT_CHECK_EQ_INT(cJSON_GetArraySize(c), 3);
    for (int k = 0; k < 3; k++)
        CT_CHECK_NEAR(cJSON_GetArrayItem(c, k) ? cJSON_GetArrayItem(c, k)->valuedouble : -1, color[k], 0);
    cJSON_Delete(j);
}

/* ---- EXT_mesh_features / EXT_structural_metadata textures and attributes ----
 * A 20 m square in the tile's z = 0 plane (glTF: y = 0, z = -tile y), split
 * along the V1-V3 diagonal, uv = ((x + 10) / 20, (10 - y) / 20), with a 4x4
 * RGBA texture whose texel (col, row) holds R = 40 row + 10 col + 5,
 * G = 3 (4 row + col), B = row + 1, A = (4 row + col) % 3:
 *   feature id texture: channel A -> property table "bldg" (name a / bb / ccc);
 *   property texture "surface": heat = UINT8 normalized R, offset 10, scale 2;
 *     code = UINT16 from channels G (low byte), B (high byte);
 *   property attribute "vtx": height = _HEIGHT (100, 200, 300, 400 at V0..V3)
 *     + offset 5 (the attribute's own offset). */
static void texel_rgba(int col, int row, uint8_t px[4])
{
    px[0] = (uint8_t)(40 * row + 10 * col + 5);
    px[1] = (uint8_t)(3 * (4 * row + col));
    px[2] = (uint8_t)(row + 1);
    px[3] = (uint8_t)((4 * row + col) % 3);
}

static uint8_t *make_meta_glb(size_t *size)
{
    uint8_t rgba[4 * 4 * 4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            texel_rgba(c, r, rgba + 4 * (4 * r + c));
    uint8_t *png = NULL;
    size_t png_n = 0;
    ct_error err;
    if (ct_image_encode_png(4, 4, rgba, &png, &png_n, &err) != CT_OK)
        return NULL;
    static const float pos[12] = {-10, 0, 10, 10, 0, 10, 10, 0, -10, -10, 0, -10};
    static const float uv[8] = {0, 1, 1, 1, 1, 0, 0, 0};
    static const float height[4] = {100, 200, 300, 400};
    static const uint16_t idx[6] = {0, 1, 3, 1, 2, 3};
    static const char names[] = "abbccc";
    static const uint32_t name_off[4] = {0, 1, 3, 6};
    const void *parts[7] = {pos, uv, height, idx, names, name_off, png};
    size_t lens[7] = {sizeof pos, sizeof uv, sizeof height, sizeof idx, 6, sizeof name_off, png_n}, off[7];
    tb_buf bin = {0};
    for (int i = 0; i < 7; i++) {
        tb_put(&bin, "\0\0\0", (4 - bin.n % 4) % 4);
        off[i] = bin.n;
        tb_put(&bin, parts[i], lens[i]);
    }
    tb_put(&bin, "\0\0\0", (4 - bin.n % 4) % 4);
    free(png);
    char json[6000];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"EXT_mesh_features\",\"EXT_structural_metadata\"],"
             "\"scene\":0,\"scenes\":[{\"nodes\":[0]}],\"nodes\":[{\"mesh\":0}],"
             "\"materials\":[{\"doubleSided\":true}],"
             "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"TEXCOORD_0\":1,\"_HEIGHT\":2},"
             "\"indices\":3,\"material\":0,\"extensions\":{\"EXT_mesh_features\":{\"featureIds\":[{\"featureCount\":3,"
             "\"texture\":{\"index\":0,\"texCoord\":0,\"channels\":[3]},\"propertyTable\":0,\"label\":\"bldg\"}]},"
             "\"EXT_structural_metadata\":{\"propertyTextures\":[0],\"propertyAttributes\":[0]}}}]}],"
             "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":4,\"type\":\"VEC3\","
             "\"min\":[-10,0,-10],\"max\":[10,0,10]},{\"bufferView\":1,\"componentType\":5126,\"count\":4,"
             "\"type\":\"VEC2\"},{\"bufferView\":2,\"componentType\":5126,\"count\":4,\"type\":\"SCALAR\"},"
             "{\"bufferView\":3,\"componentType\":5123,\"count\":6,\"type\":\"SCALAR\"}],"
             "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],"
             "\"buffers\":[{\"byteLength\":%zu}],"
             "\"images\":[{\"bufferView\":6,\"mimeType\":\"image/png\"}],"
             "\"samplers\":[{\"magFilter\":9728,\"minFilter\":9728}],\"textures\":[{\"source\":0,\"sampler\":0}],"
             "\"extensions\":{\"EXT_structural_metadata\":{\"schema\":{\"id\":\"m\",\"classes\":{"
             "\"bldg\":{\"properties\":{\"name\":{\"type\":\"STRING\"}}},"
             "\"surface\":{\"properties\":{\"heat\":{\"type\":\"SCALAR\",\"componentType\":\"UINT8\","
             "\"normalized\":true,\"offset\":10,\"scale\":2},\"code\":{\"type\":\"SCALAR\",\"componentType\":\"UINT16\"}}},"
             "\"vtx\":{\"properties\":{\"height\":{\"type\":\"SCALAR\",\"componentType\":\"FLOAT32\"}}}}},"
             "\"propertyTables\":[{\"class\":\"bldg\",\"count\":3,\"properties\":{\"name\":{\"values\":4,"
             "\"stringOffsets\":5}}}],"
             "\"propertyTextures\":[{\"class\":\"surface\",\"properties\":{\"heat\":{\"index\":0,\"texCoord\":0,"
             "\"channels\":[0]},\"code\":{\"index\":0,\"texCoord\":0,\"channels\":[1,2]}}}],"
             "\"propertyAttributes\":[{\"class\":\"vtx\",\"properties\":{\"height\":{\"attribute\":\"_HEIGHT\","
             "\"offset\":5}}}]}}}",
             off[0], lens[0], off[1], lens[1], off[2], lens[2], off[3], lens[3], off[4], lens[4], off[5], lens[5],
             off[6], lens[6], bin.n);
    size_t jl = strlen(json), jp = (jl + 3) & ~(size_t)3;
    tb_buf g = {0};
    tb_put(&g, "glTF", 4);
    tb_u32(&g, 2);
    tb_u32(&g, (uint32_t)(12 + 8 + jp + 8 + bin.n));
    tb_u32(&g, (uint32_t)jp);
    tb_put(&g, "JSON", 4);
    tb_put(&g, json, jl);
    tb_put(&g, "    ", jp - jl);
    tb_u32(&g, (uint32_t)bin.n);
    tb_put(&g, "BIN\0", 4);
    tb_put(&g, bin.d, bin.n);
    free(bin.d);
    *size = g.n;
    return g.d;
}

/* What a point (x, y) of the square must report, from the formulas above:
 * texel col/row, the vertex nearest in its triangle, and the values. */
typedef struct meta_want {
    int col, row, feature;
    const char *name;
    double heat, code, height;
    bool tie; /* two vertices equally heavy: height not checked */
} meta_want;

static meta_want meta_expect(double x, double y)
{
    meta_want w;
    w.col = (int)floor((x + 10) / 20 * 4), w.row = (int)floor((10 - y) / 20 * 4);
    uint8_t px[4];
    texel_rgba(w.col, w.row, px);
    w.feature = px[3];
    static const char *names[3] = {"a", "bb", "ccc"};
    w.name = names[w.feature];
    w.heat = 10 + 2 * px[0] / 255.0;
    w.code = px[1] + 256.0 * px[2];
    /* triangles (V0 V1 V3) for x + y < 0, else (V1 V2 V3); the vertex with
     * the largest barycentric weight (closed form for these right triangles) */
    static const double h[4] = {100, 200, 300, 400};
    double wt[4] = {0};
    if (x + y < 0) {
        wt[1] = (x + 10) / 20, wt[3] = (y + 10) / 20;
        wt[0] = 1 - wt[1] - wt[3];
    } else {
        wt[3] = (10 - x) / 20, wt[1] = (10 - y) / 20;
        wt[2] = 1 - wt[1] - wt[3];
    }
    int best = 0;
    for (int i = 1; i < 4; i++)
        if (wt[i] > wt[best])
            best = i;
    w.tie = false;
    for (int i = 0; i < 4; i++)
        if (i != best && fabs(wt[i] - wt[best]) < 1e-6)
            w.tie = true;
    w.height = h[best] + 5;
    return w;
}

static void check_point(const cJSON *pp, const meta_want *w)
{
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(pp, "feature_ids"), 0);
    CT_CHECK(!strcmp(str(f0, "source"), "texture"));
    CT_CHECK_NEAR(num(f0, "feature_id"), w->feature, 0);
    CT_CHECK(!strcmp(str(f0, "label"), "bldg"));
    CT_CHECK(!strcmp(str(f0, "class"), "bldg"));
    CT_CHECK(!strcmp(str(cJSON_GetObjectItem(f0, "properties"), "name"), w->name));
    const cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(pp, "property_textures"), 0);
    CT_CHECK(!strcmp(str(t0, "class"), "surface"));
    const cJSON *texel = cJSON_GetObjectItem(t0, "texel");
    CT_CHECK(cJSON_GetArraySize(texel) == 2 && cJSON_GetArrayItem(texel, 0)->valueint == w->col &&
             cJSON_GetArrayItem(texel, 1)->valueint == w->row);
    const cJSON *tp = cJSON_GetObjectItem(t0, "properties");
    CT_CHECK_NEAR(num(tp, "heat"), w->heat, 1e-9);
    CT_CHECK_NEAR(num(tp, "code"), w->code, 0);
    const cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItem(pp, "property_attributes"), 0);
    CT_CHECK(!strcmp(str(a0, "class"), "vtx"));
    if (!w->tie)
        CT_CHECK_NEAR(num(cJSON_GetObjectItem(a0, "properties"), "height"), w->height, 0);
}

CT_TEST(property_texture_point)
{
    size_t n;
    uint8_t *glb = make_meta_glb(&n);
    CT_REQUIRE(glb);
    ct_tile_content *c = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_tile_content_load_memory(glb, n, NULL, &c, &err) == CT_OK);
    CT_REQUIRE(c->model_count == 1);
    /* CT_WRITE_SEED=FILE writes this GLB out (the fuzz seed
     * tests/tiles/corpus/content/meta_textures.glb was made so) */
    if (getenv("CT_WRITE_SEED"))
        ct_file_write(getenv("CT_WRITE_SEED"), glb, n, &err);
    /* every texel centre, and points near texel corners inside the square */
    int checked = 0;
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 4; k++)
            for (int q = 0; q < 2; q++) {
                double x = -10 + 5 * k + (q ? 0.3 : 2.5), y = 10 - 5 * r - (q ? 4.6 : 2.5);
                if (fabs(x + y) < 0.01)
                    continue; /* on the shared edge */
                double local[3] = {x, 0, -y};
                cJSON *pp = ct_tile_content_pick_point(c, 0, 0, 0, local);
                CT_REQUIRE(pp);
                meta_want w = meta_expect(x, y);
                check_point(pp, &w);
                cJSON_Delete(pp);
                checked++;
            }
    CT_CHECK(checked >= 20);
    /* off the primitive: the nearest point of the square (clamped texel) */
    double far[3] = {-30, 0, -30}; /* tile (-30, 30): nearest is corner V3, texel (0, 0) */
    cJSON *pp = ct_tile_content_pick_point(c, 0, 0, 0, far);
    CT_REQUIRE(pp);
    meta_want w = meta_expect(-9.99, 9.99);
    check_point(pp, &w);
    cJSON_Delete(pp);
    /* no such mesh / primitive */
    CT_CHECK(ct_tile_content_pick_point(c, 0, 1, 0, far) == NULL);
    CT_CHECK(ct_tile_content_pick_point(c, 0, 0, 3, far) == NULL);
    ct_tile_content_destroy(c);
    /* without decoded images: no texture results, attributes still there */
    CT_REQUIRE(ct_tile_content_load_memory(glb, n, &(ct_tile_content_options){.skip_images = true}, &c, &err) ==
               CT_OK);
    double local[3] = {-7.5, 0, 7.5};
    pp = ct_tile_content_pick_point(c, 0, 0, 0, local);
    CT_REQUIRE(pp);
    const cJSON *f0 = cJSON_GetArrayItem(cJSON_GetObjectItem(pp, "feature_ids"), 0);
    CT_CHECK(cJSON_IsNull(cJSON_GetObjectItem(f0, "feature_id")));
    CT_CHECK_NEAR(num(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(pp, "property_attributes"), 0),
                                          "properties"),
                      "height"),
                  105, 0);
    cJSON_Delete(pp);
    ct_tile_content_destroy(c);
    free(glb);
}

/* The same GLB as the body of a b3dm, an i3dm (embedded glTF, 2 instances)
 * and, both of them, inside a cmpt: the point queries give the same answers. */
CT_TEST(property_texture_legacy_bodies)
{
    size_t n;
    uint8_t *glb = make_meta_glb(&n);
    CT_REQUIRE(glb);
    size_t nb, ni, nc;
    uint8_t *b3dm = tb_tile("b3dm", "{\"BATCH_LENGTH\":0}", NULL, 0, NULL, NULL, 0, glb, n, 0, &nb);
    float ipos[6] = {0, 0, 0, 100, 0, 0};
    uint8_t *i3dm = tb_tile("i3dm", "{\"INSTANCES_LENGTH\":2,\"POSITION\":{\"byteOffset\":0}}", ipos, sizeof ipos,
                            NULL, NULL, 0, glb, n, 1, &ni);
    uint8_t *inner[2] = {b3dm, i3dm};
    size_t sizes[2] = {nb, ni};
    uint8_t *cmpt = tb_cmpt(2, inner, sizes, &nc);
    const uint8_t *bufs[3] = {b3dm, i3dm, cmpt};
    size_t lens[3] = {nb, ni, nc};
    for (int k = 0; k < 3; k++) {
        ct_tile_content *c = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_tile_content_load_memory(bufs[k], lens[k], NULL, &c, &err) == CT_OK);
        CT_CHECK_EQ_INT((int)c->model_count, k == 2 ? 2 : 1);
        for (uint32_t m = 0; m < c->model_count; m++) {
            double local[3] = {7.5, 0, -2.5}; /* tile (7.5, 2.5) */
            cJSON *pp = ct_tile_content_pick_point(c, m, 0, 0, local);
            CT_REQUIRE(pp);
            meta_want w = meta_expect(7.5, 2.5);
            check_point(pp, &w);
            cJSON_Delete(pp);
        }
        ct_tile_content_destroy(c);
    }
    free(glb);
    free(b3dm);
    free(i3dm);
    free(cmpt);
}

/* The same square as a tileset, picked from above at two texel centres. */
CT_TEST(pick_property_texture)
{
    const char *dir = ct_test_tmp_path("pick_ptex");
    ct_error err;
    CT_REQUIRE(ct_dir_create(dir, &err) == CT_OK);
    size_t n;
    uint8_t *glb = make_meta_glb(&n);
    CT_REQUIRE(glb);
    char path[1024], ts[1024];
    snprintf(path, sizeof path, "%s/square.glb", dir);
    CT_REQUIRE(ct_file_write(path, glb, n, &err) == CT_OK);
    free(glb);
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    const char *json = "{\"asset\":{\"version\":\"1.1\"},\"geometricError\":10,\"root\":{\"boundingVolume\":"
                       "{\"box\":[0,0,0,10,0,0,0,10,0,0,0,1]},\"geometricError\":0,\"refine\":\"ADD\","
                       "\"content\":{\"uri\":\"square.glb\"}}}";
    CT_REQUIRE(ct_file_write(ts, json, strlen(json), &err) == CT_OK);
    static const double pts[2][2] = {{-7.5, -7.5}, {7.5, 2.5}};
    for (int k = 0; k < 2; k++) {
        char cam[128];
        snprintf(cam, sizeof cam, "%g,%g,40,0,-90", pts[k][0], pts[k][1]);
        cJSON *j = tiles_pick_cli(ts, cam, "160,120", NULL);
        CT_REQUIRE(j);
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
        meta_want w = meta_expect(pts[k][0], pts[k][1]);
        check_point(j, &w);
        /* featureIds[0] is a texture: it is the pick's feature and properties */
        CT_CHECK_NEAR(num(j, "feature_id"), w.feature, 0);
        CT_CHECK(!strcmp(str(cJSON_GetObjectItem(j, "properties"), "name"), w.name));
        CT_CHECK(!strcmp(str(j, "class"), "bldg"));
        cJSON_Delete(j);
    }
}

/* ---- KHR_techniques_webgl billboards (TilesetWithTreeBillboards) ---- */

/* The billboard technique is recognised in tree_billboard.i3dm, not in the
 * 3D trees of tree.i3dm. */
CT_TEST(billboard_technique_detected)
{
    const char *files[2] = {"3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards/tree_billboard.i3dm",
                            "3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards/tree.i3dm"};
    for (int k = 0; k < 2; k++) {
        ct_tile_content *c = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_tile_content_load_file(ct_test_data(files[k]), &(ct_tile_content_options){.skip_images = true},
                                             &c, &err) == CT_OK);
        const ct_gltf *g = c->models[0].gltf;
        CT_REQUIRE(g && g->material_count >= 1);
        bool any = false;
        for (uint32_t i = 0; i < g->material_count; i++)
            any = any || g->materials[i].billboard;
        CT_CHECK(any == (k == 0));
        ct_tile_content_destroy(c);
    }
}

/* Straight down from 200 m above instance 0 (its lon/lat/height computed
 * here from the i3dm's POSITION): a billboard is a screen-aligned 16 x 25 m
 * quad (the glTF's own POSITION min/max) centred on the instance, so at
 * 320x240 and 60 degrees it covers 240 / (2 * 200 * tan 30) = 1.039 px/m:
 * x in 160 -+ 8.31, y in 120 -+ 12.99 (pixel centres at +0.5). Drawn as a
 * vertical quad in the world it would be edge-on here and never hit. */
CT_TEST(billboard_faces_camera)
{
    char ts[1024], i3dm[1024];
    snprintf(ts, sizeof ts, "%s",
             ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards/tileset.json"));
    snprintf(i3dm, sizeof i3dm, "%s",
             ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards/tree_billboard.i3dm"));
    size_t n;
    uint8_t *d = tb_read_file(i3dm, &n);
    CT_REQUIRE(d && n > 44);
    uint32_t h[8];
    memcpy(h, d, sizeof h);
    cJSON *ft = cJSON_ParseWithLength((const char *)d + 32, h[3]);
    CT_REQUIRE(ft && num(cJSON_GetObjectItem(ft, "POSITION"), "byteOffset") == 0 &&
               !cJSON_GetObjectItem(ft, "RTC_CENTER"));
    cJSON_Delete(ft);
    float p[3];
    memcpy(p, d + 32 + h[3], sizeof p);
    free(d);
    /* ECEF -> geodetic (WGS84, Bowring iteration) */
    double a = 6378137.0, f = 1 / 298.257223563, e2 = f * (2 - f);
    double x = p[0], y = p[1], z = p[2], r = hypot(x, y), lon = atan2(y, x), lat = atan2(z, r * (1 - e2)), ht = 0;
    for (int i = 0; i < 10; i++) {
        double N = a / sqrt(1 - e2 * sin(lat) * sin(lat));
        ht = r / cos(lat) - N;
        lat = atan2(z, r * (1 - e2 * N / (N + ht)));
    }
    char cam[160];
    snprintf(cam, sizeof cam, "%.10f,%.10f,%.4f,0,-90", lon * 180 / M_PI, lat * 180 / M_PI, ht + 200);
    /* inside near the corner, above the top edge, left of the left edge */
    static const struct {
        const char *px;
        bool hit;
    } probes[3] = {{"153,109", true}, {"160,105", false}, {"149,120", false}};
    for (int k = 0; k < 3; k++) {
        cJSON *j = tiles_pick_cli(ts, cam, probes[k].px, "--sse 100000");
        CT_REQUIRE(j);
        if (cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")) != probes[k].hit)
            fprintf(stderr, "pixel %s: hit %d, expected %d\n", probes[k].px, !probes[k].hit, probes[k].hit);
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")) == probes[k].hit);
        if (probes[k].hit)
            CT_CHECK_NEAR(num(j, "instance"), 0, 0);
        cJSON_Delete(j);
    }
}

CT_TEST_MAIN(CT_CASE(subtree_tile_metadata), CT_CASE(pick_implicit_tile_metadata), CT_CASE(pick_implicit_sample), CT_CASE(property_texture_point), CT_CASE(property_texture_legacy_bodies), CT_CASE(pick_property_texture), CT_CASE(billboard_technique_detected), CT_CASE(billboard_faces_camera))
