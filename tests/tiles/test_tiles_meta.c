/* 3D Tiles content metadata and picking gaps (tilemeta):
 * - implicit tiling tile and content metadata from subtree property tables,
 *   indexed by the tile's rank among the available tiles (3D Tiles 1.1:
 *   "tightly packed by increasing tile index"), against ranks counted by hand;
 * - `citytwin pick` on an implicit tileset written here (subtree, GLBs) and on
 *   the validator's ImplicitTileMetadata sample. */
#include "ct_test.h"

#include "citytwin/ct_tile_content.h"
#include "citytwin/ct_tileset.h"
#include "content_build.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <sys/wait.h>

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

static int run(const char *args, char **out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s/cli/citytwin %s 2>/dev/null", CT_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    if (buf)
        buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static cJSON *pick(const char *input, const char *camera, const char *pixel, const char *extra)
{
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "pick '%s' --camera %s --pixel %s --size 320x240 --wait --json %s", input, camera,
             pixel, extra ? extra : "");
    int rc = run(args, &out);
    cJSON *j = rc == 0 && out ? cJSON_Parse(out) : NULL;
    if (!j)
        fprintf(stderr, "pick %s -> exit %d: %s\n", args, rc, out ? out : "");
    free(out);
    return j;
}

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
        cJSON *j = pick(ts, want[k].cam, "160,120", NULL);
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
    CT_REQUIRE(run(args, &out) == 0);
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

CT_TEST_MAIN(CT_CASE(subtree_tile_metadata), CT_CASE(pick_implicit_tile_metadata), CT_CASE(pick_implicit_sample))
