/* Picking on tilesets: the 3D Metadata property-table decoder against
 * hand-encoded tables (every type, arrays, offsets, noData/default,
 * normalized/offset/scale) and corrupt ones; EXT_structural_metadata in a
 * GLB built here; and `citytwin pick` end to end: a b3dm building picked
 * from straight above (expected values read from the b3dm's own batch
 * table), the 1.1 MetadataGranularities sample (expected metadata read from
 * its tileset.json), a GLB tileset with a property table, and background. */
#include "ct_test.h"
#include "pick_cli.h"

#include "citytwin/ct_tile_content.h"
#include "content_build.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>

/* ---- the property-table decoder ---- */

static const char *SCHEMA =
    "{\"enums\":{\"kind\":{\"valueType\":\"UINT8\",\"values\":[{\"name\":\"house\",\"value\":0},"
    "{\"name\":\"shed\",\"value\":1},{\"name\":\"tower\",\"value\":7}]}},"
    "\"classes\":{\"bldg\":{\"properties\":{"
    "\"height\":{\"type\":\"SCALAR\",\"componentType\":\"UINT16\",\"normalized\":true,\"offset\":10,\"scale\":100},"
    "\"pos\":{\"type\":\"VEC3\",\"componentType\":\"FLOAT32\"},"
    "\"rot\":{\"type\":\"MAT2\",\"componentType\":\"INT8\"},"
    "\"name\":{\"type\":\"STRING\"},"
    "\"open\":{\"type\":\"BOOLEAN\"},"
    "\"kind\":{\"type\":\"ENUM\",\"enumType\":\"kind\"},"
    "\"levels\":{\"type\":\"SCALAR\",\"componentType\":\"INT8\",\"array\":true,\"count\":3},"
    "\"tags\":{\"type\":\"SCALAR\",\"componentType\":\"UINT8\",\"array\":true},"
    "\"owners\":{\"type\":\"STRING\",\"array\":true},"
    "\"year\":{\"type\":\"SCALAR\",\"componentType\":\"INT32\",\"noData\":-1,\"default\":1900},"
    "\"big\":{\"type\":\"SCALAR\",\"componentType\":\"INT64\"},"
    "\"note\":{\"type\":\"STRING\",\"default\":\"none\"},"
    "\"temp\":{\"type\":\"SCALAR\",\"componentType\":\"FLOAT64\",\"offset\":-273.15},"
    "\"flags\":{\"type\":\"BOOLEAN\",\"array\":true,\"count\":2},"
    "\"dir\":{\"type\":\"VEC2\",\"componentType\":\"INT8\",\"normalized\":true}"
    "}}}}";

/* Views 0..: one per column, little-endian as the spec says (x86 memory order). */
static const uint16_t v_height[] = {0, 65535, 32768};
static const float v_pos[] = {1, 2, 3, 4.5f, 5, 6, -1, 0, 1};
static const int8_t v_rot[] = {1, 0, 0, 1, 0, -1, 1, 0, 2, 2, 2, 2};
static const char v_name[] = "aBb\xe4\xb8\xad"; /* "a", "Bb", U+4E2D */
static const uint32_t v_name_off[] = {0, 1, 3, 6};
static const uint8_t v_open[] = {5};         /* rows 0 and 2 true */
static const uint8_t v_kind[] = {0, 7, 1};
static const int8_t v_levels[] = {1, 2, 3, -1, -2, -3, 0, 0, 127};
static const uint8_t v_tags[] = {5, 6, 7, 8};
static const uint16_t v_tags_off[] = {0, 1, 1, 4};
static const char v_owners[] = "xyzw";     /* "x", "yz", "w" */
static const uint16_t v_owners_soff[] = {0, 1, 3, 4};
static const uint8_t v_owners_aoff[] = {0, 2, 3, 3};
static const int32_t v_year[] = {2001, -1, 1999};
static const int64_t v_big[] = {-5, 1099511627776LL, 0};
static const double v_temp[] = {0, 273.15, 300};
static const uint8_t v_flags[] = {0x19}; /* bits 0..5: 1,0,0,1,1,0 -> [t,f],[f,t],[t,f] */
static const int8_t v_dir[] = {127, -128, 0, 64, -127, 1};

#define VIEW(a) {(const uint8_t *)(a), sizeof(a)}
static const ct_byte_view VIEWS[] = {
    VIEW(v_height), VIEW(v_pos),    VIEW(v_rot),  VIEW(v_name),    VIEW(v_name_off),     VIEW(v_open),
    VIEW(v_kind),   VIEW(v_levels), VIEW(v_tags), VIEW(v_tags_off), VIEW(v_owners),      VIEW(v_owners_soff),
    VIEW(v_owners_aoff), VIEW(v_year), VIEW(v_big), VIEW(v_temp), VIEW(v_flags), VIEW(v_dir),
};

static const char *TABLES =
    "[{\"class\":\"bldg\",\"count\":3,\"properties\":{"
    "\"height\":{\"values\":0},\"pos\":{\"values\":1},\"rot\":{\"values\":2},"
    "\"name\":{\"values\":3,\"stringOffsets\":4},\"open\":{\"values\":5},\"kind\":{\"values\":6},"
    "\"levels\":{\"values\":7},\"tags\":{\"values\":8,\"arrayOffsets\":9,\"arrayOffsetType\":\"UINT16\"},"
    "\"owners\":{\"values\":10,\"stringOffsets\":11,\"stringOffsetType\":\"UINT16\",\"arrayOffsets\":12,"
    "\"arrayOffsetType\":\"UINT8\"},"
    "\"year\":{\"values\":13},\"big\":{\"values\":14},\"temp\":{\"values\":15,\"scale\":2},"
    "\"flags\":{\"values\":16},\"dir\":{\"values\":17}}}]";

static ct_property_tables *make_tables(const char *schema, const char *tables, const ct_byte_view *views,
                                       uint32_t n, ct_status *st)
{
    cJSON *s = schema ? cJSON_Parse(schema) : NULL, *t = cJSON_Parse(tables);
    ct_property_tables *pt = NULL;
    ct_error err = {0};
    *st = ct_property_tables_create(s, t, views, n, "test", &pt, &err);
    cJSON_Delete(s);
    cJSON_Delete(t);
    return pt;
}

static double num(const cJSON *o, const char *k) { return cJSON_GetNumberValue(cJSON_GetObjectItem(o, k)); }
static double item(const cJSON *o, const char *k, int i)
{
    return cJSON_GetNumberValue(cJSON_GetArrayItem(cJSON_GetObjectItem(o, k), i));
}
static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "(not a string)";
}
static const char *str_item(const cJSON *o, const char *k, int i)
{
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(o, k), i);
    return cJSON_IsString(v) ? v->valuestring : "(not a string)";
}
static int size_of(const cJSON *o, const char *k) { return cJSON_GetArraySize(cJSON_GetObjectItem(o, k)); }

CT_TEST(property_table_values)
{
    ct_status st;
    ct_property_tables *t = make_tables(SCHEMA, TABLES, VIEWS, sizeof VIEWS / sizeof VIEWS[0], &st);
    CT_REQUIRE(st == CT_OK && t);
    CT_CHECK_EQ_INT(ct_property_tables_count(t), 1);
    CT_CHECK_EQ_INT(ct_property_tables_rows(t, 0), 3);
    CT_CHECK(!strcmp(ct_property_tables_class(t, 0), "bldg"));
    size_t all = 0; /* every view is referenced, so all are copied */
    for (size_t i = 0; i < sizeof VIEWS / sizeof VIEWS[0]; i++)
        all += VIEWS[i].size;
    CT_CHECK_EQ_INT((int)ct_property_tables_bytes(t), (int)all);
    cJSON *r[3];
    for (int i = 0; i < 3; i++) {
        r[i] = ct_property_tables_row(t, 0, (uint32_t)i);
        CT_REQUIRE(r[i]);
    }
    CT_CHECK(ct_property_tables_row(t, 0, 3) == NULL);
    CT_CHECK(ct_property_tables_row(t, 1, 0) == NULL);
    /* normalized UINT16 then offset + scale: 10 + 100 * v / 65535 */
    CT_CHECK_NEAR(num(r[0], "height"), 10, 1e-12);
    CT_CHECK_NEAR(num(r[1], "height"), 110, 1e-12);
    CT_CHECK_NEAR(num(r[2], "height"), 10 + 100 * 32768.0 / 65535.0, 1e-9);
    CT_CHECK_NEAR(item(r[1], "pos", 0), 4.5, 0);
    CT_CHECK_NEAR(item(r[1], "pos", 2), 6, 0);
    CT_CHECK_EQ_INT(size_of(r[1], "rot"), 4);
    CT_CHECK_NEAR(item(r[1], "rot", 1), -1, 0);
    CT_CHECK_NEAR(item(r[1], "rot", 2), 1, 0);
    CT_CHECK(!strcmp(str(r[0], "name"), "a"));
    CT_CHECK(!strcmp(str(r[1], "name"), "Bb"));
    CT_CHECK(!strcmp(str(r[2], "name"), "\xe4\xb8\xad"));
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r[0], "open")));
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(r[1], "open")));
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(r[2], "open")));
    CT_CHECK(!strcmp(str(r[0], "kind"), "house"));
    CT_CHECK(!strcmp(str(r[1], "kind"), "tower"));
    CT_CHECK(!strcmp(str(r[2], "kind"), "shed"));
    CT_CHECK_EQ_INT(size_of(r[1], "levels"), 3);
    CT_CHECK_NEAR(item(r[1], "levels", 2), -3, 0);
    CT_CHECK_NEAR(item(r[2], "levels", 2), 127, 0);
    CT_CHECK_EQ_INT(size_of(r[0], "tags"), 1);
    CT_CHECK_NEAR(item(r[0], "tags", 0), 5, 0);
    CT_CHECK_EQ_INT(size_of(r[1], "tags"), 0);
    CT_CHECK(cJSON_IsArray(cJSON_GetObjectItem(r[1], "tags")));
    CT_CHECK_EQ_INT(size_of(r[2], "tags"), 3);
    CT_CHECK_NEAR(item(r[2], "tags", 2), 8, 0);
    CT_CHECK_EQ_INT(size_of(r[0], "owners"), 2);
    CT_CHECK(!strcmp(str_item(r[0], "owners", 0), "x"));
    CT_CHECK(!strcmp(str_item(r[0], "owners", 1), "yz"));
    CT_CHECK_EQ_INT(size_of(r[1], "owners"), 1);
    CT_CHECK(!strcmp(str_item(r[1], "owners", 0), "w"));
    CT_CHECK_EQ_INT(size_of(r[2], "owners"), 0);
    /* noData -1 becomes the default */
    CT_CHECK_NEAR(num(r[0], "year"), 2001, 0);
    CT_CHECK_NEAR(num(r[1], "year"), 1900, 0);
    CT_CHECK_NEAR(num(r[2], "year"), 1999, 0);
    CT_CHECK_NEAR(num(r[0], "big"), -5, 0);
    CT_CHECK_NEAR(num(r[1], "big"), 1099511627776.0, 0);
    /* not in the table: the class default */
    CT_CHECK(!strcmp(str(r[2], "note"), "none"));
    /* class offset -273.15, table scale 2 overrides the class's (absent) scale */
    CT_CHECK_NEAR(num(r[0], "temp"), -273.15, 1e-9);
    CT_CHECK_NEAR(num(r[1], "temp"), 273.15, 1e-9);
    CT_CHECK_NEAR(num(r[2], "temp"), 326.85, 1e-9);
    /* fixed-length boolean arrays: bits 2*row, 2*row+1 */
    CT_CHECK(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(r[0], "flags"), 0)));
    CT_CHECK(cJSON_IsFalse(cJSON_GetArrayItem(cJSON_GetObjectItem(r[0], "flags"), 1)));
    CT_CHECK(cJSON_IsFalse(cJSON_GetArrayItem(cJSON_GetObjectItem(r[1], "flags"), 0)));
    CT_CHECK(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(r[1], "flags"), 1)));
    CT_CHECK(cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(r[2], "flags"), 0)));
    /* signed normalized: max(v / 127, -1) */
    CT_CHECK_NEAR(item(r[0], "dir", 0), 1, 1e-12);
    CT_CHECK_NEAR(item(r[0], "dir", 1), -1, 1e-12);
    CT_CHECK_NEAR(item(r[1], "dir", 1), 64 / 127.0, 1e-12);
    CT_CHECK_NEAR(item(r[2], "dir", 0), -1, 1e-12);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(r[i]);
    ct_property_tables_destroy(t);
}

CT_TEST(property_table_corrupt)
{
    ct_status st;
    /* not an array: refused */
    CT_CHECK(make_tables(SCHEMA, "{}", VIEWS, 3, &st) == NULL && st == CT_ERR_INPUT);
    /* count far beyond the data: the rows past the data lose those columns, nothing reads out of bounds */
    static const uint32_t bad_off[] = {0, 1, 4000000000u, 2};
    static const uint16_t dec_off[] = {0, 3, 1, 4};
    const ct_byte_view views[] = {VIEW(v_height), VIEW(v_name), VIEW(bad_off), VIEW(v_tags), VIEW(dec_off),
                                  VIEW(v_kind)};
    ct_property_tables *t = make_tables(
        SCHEMA,
        "[{\"class\":\"bldg\",\"count\":100000,\"properties\":{\"height\":{\"values\":0},"
        "\"name\":{\"values\":1,\"stringOffsets\":2},\"tags\":{\"values\":3,\"arrayOffsets\":4,"
        "\"arrayOffsetType\":\"UINT16\"},\"kind\":{\"values\":99},\"pos\":{\"values\":0,\"arrayOffsets\":1},"
        "\"levels\":{\"values\":5},\"nope\":{\"values\":0}}},"
        "{\"class\":\"bldg\",\"count\":1e12,\"properties\":{}},{\"class\":\"missing\",\"count\":2,\"properties\":{"
        "\"height\":{\"values\":0}}}, 7]",
        views, 6, &st);
    CT_REQUIRE(st == CT_OK && t);
    cJSON *r = ct_property_tables_row(t, 0, 0);
    CT_REQUIRE(r);
    CT_CHECK_NEAR(num(r, "height"), 10, 1e-12);
    CT_CHECK(!strcmp(str(r, "name"), "a"));
    CT_CHECK_EQ_INT(size_of(r, "tags"), 3);             /* offsets 0..3 */
    CT_CHECK(!cJSON_GetObjectItem(r, "kind"));          /* view 99 does not exist */
    CT_CHECK(!cJSON_GetObjectItem(r, "nope"));          /* not a class property */
    CT_CHECK_EQ_INT(size_of(r, "levels"), 3);          /* 3 bytes hold row 0's INT8[3] */
    CT_CHECK(!cJSON_GetObjectItem(r, "pos"));           /* 6 bytes cannot hold one FLOAT32 VEC3 */
    cJSON_Delete(r);
    r = ct_property_tables_row(t, 0, 1);
    CT_REQUIRE(r);
    CT_CHECK(!cJSON_GetObjectItem(r, "name"));          /* string offset past the end */
    CT_CHECK(!cJSON_GetObjectItem(r, "tags"));          /* decreasing array offsets */
    CT_CHECK(!cJSON_GetObjectItem(r, "levels"));        /* row 1's INT8[3] is past the 3 bytes */
    cJSON_Delete(r);
    r = ct_property_tables_row(t, 0, 2);
    CT_REQUIRE(r);
    CT_CHECK(!cJSON_GetObjectItem(r, "name"));          /* offsets 4e9 > 2: decreasing */
    CT_CHECK_EQ_INT(size_of(r, "tags"), 3);            /* offsets 1..4 */
    CT_CHECK_NEAR(item(r, "tags", 2), 8, 0);
    cJSON_Delete(r);
    r = ct_property_tables_row(t, 0, 99999);
    CT_REQUIRE(r);
    CT_CHECK(!cJSON_GetObjectItem(r, "height"));        /* past the values */
    CT_CHECK(!strcmp(str(r, "note"), "none"));          /* defaults still apply */
    cJSON_Delete(r);
    CT_CHECK_EQ_INT(ct_property_tables_rows(t, 1), 0);  /* absurd count */
    CT_CHECK(ct_property_tables_row(t, 1, 0) == NULL);
    r = ct_property_tables_row(t, 2, 1);                /* unknown class: nothing decodes */
    CT_REQUIRE(r);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);
    CT_CHECK(ct_property_tables_row(t, 3, 0) == NULL);  /* a table that is not an object */
    ct_property_tables_destroy(t);
    /* no schema at all */
    t = make_tables(NULL, TABLES, VIEWS, 2, &st);
    CT_REQUIRE(st == CT_OK && t);
    r = ct_property_tables_row(t, 0, 0);
    CT_CHECK(r && cJSON_GetArraySize(r) == 0);
    cJSON_Delete(r);
    ct_property_tables_destroy(t);
}

/* ---- a GLB with EXT_mesh_features + EXT_structural_metadata ---- */

static void pad4(tb_buf *b)
{
    static const uint8_t z[4] = {0};
    tb_put(b, z, (4 - b->n % 4) % 4);
}

/* A 2 m box (double-sided), every vertex feature `fid`; a property table of
 * three rows: name "alpha"/"beta"/"gamma", height 1.5/2.5/3.5. */
static uint8_t *make_glb(uint32_t fid, size_t *size)
{
    tb_buf bin = {0};
    float pos[24], ids[8];
    for (int i = 0; i < 8; i++) {
        pos[3 * i] = (i & 1) ? 1.f : -1.f;
        pos[3 * i + 1] = (i & 2) ? 1.f : -1.f;
        pos[3 * i + 2] = (i & 4) ? 1.f : -1.f;
        ids[i] = (float)fid;
    }
    static const uint16_t idx[36] = {0, 1, 3, 0, 3, 2, 4, 6, 7, 4, 7, 5, 0, 4, 5, 0, 5, 1,
                                     2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 5, 7, 1, 7, 3};
    static const char names[] = "alphabetagamma";
    static const uint32_t name_off[] = {0, 5, 9, 14};
    static const float heights[] = {1.5f, 2.5f, 3.5f};
    size_t off[6], len[6];
    const void *parts[6] = {pos, ids, idx, names, name_off, heights};
    size_t sizes[6] = {sizeof pos, sizeof ids, sizeof idx, sizeof names - 1, sizeof name_off, sizeof heights};
    for (int i = 0; i < 6; i++) {
        pad4(&bin);
        off[i] = bin.n;
        len[i] = sizes[i];
        tb_put(&bin, parts[i], sizes[i]);
    }
    pad4(&bin);
    char json[4096];
    snprintf(json, sizeof json,
             "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"EXT_mesh_features\",\"EXT_structural_metadata\"],"
             "\"scene\":0,\"scenes\":[{\"nodes\":[0]}],\"nodes\":[{\"mesh\":0}],"
             "\"materials\":[{\"doubleSided\":true}],"
             "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"_FEATURE_ID_0\":1},\"indices\":2,"
             "\"material\":0,\"extensions\":{\"EXT_mesh_features\":{\"featureIds\":[{\"featureCount\":3,"
             "\"attribute\":0,\"propertyTable\":0,\"nullFeatureId\":2}]}}}]}],"
             "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":8,\"type\":\"VEC3\","
             "\"min\":[-1,-1,-1],\"max\":[1,1,1]},{\"bufferView\":1,\"componentType\":5126,\"count\":8,"
             "\"type\":\"SCALAR\"},{\"bufferView\":2,\"componentType\":5123,\"count\":36,\"type\":\"SCALAR\"}],"
             "\"bufferViews\":[{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
             "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],"
             "\"buffers\":[{\"byteLength\":%zu}],"
             "\"extensions\":{\"EXT_structural_metadata\":{\"schema\":{\"id\":\"s\",\"classes\":{\"thing\":{"
             "\"properties\":{\"name\":{\"type\":\"STRING\"},\"height\":{\"type\":\"SCALAR\","
             "\"componentType\":\"FLOAT32\"}}}}},\"propertyTables\":[{\"class\":\"thing\",\"count\":3,"
             "\"properties\":{\"name\":{\"values\":3,\"stringOffsets\":4},\"height\":{\"values\":5}}}]}}}",
             off[0], len[0], off[1], len[1], off[2], len[2], off[3], len[3], off[4], len[4], off[5], len[5], bin.n);
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

CT_TEST(structural_metadata_glb)
{
    size_t n;
    uint8_t *glb = make_glb(1, &n);
    ct_tile_content *c = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_tile_content_load_memory(glb, n, &(ct_tile_content_options){.skip_images = true}, &c, &err) ==
               CT_OK);
    CT_REQUIRE(c->model_count == 1 && c->models[0].property_tables);
    int table = -7;
    cJSON *p = ct_tile_content_pick_properties(c, 0, 0, 0, 1, &table);
    CT_REQUIRE(p);
    CT_CHECK_EQ_INT(table, 0);
    CT_CHECK(!strcmp(str(p, "name"), "beta"));
    CT_CHECK_NEAR(num(p, "height"), 2.5, 0);
    cJSON_Delete(p);
    p = ct_tile_content_pick_properties(c, 0, 0, 0, 0, NULL);
    CT_CHECK(p && !strcmp(str(p, "name"), "alpha"));
    cJSON_Delete(p);
    /* 2 is the nullFeatureId; 3 is past the table; a mesh that does not exist */
    CT_CHECK(ct_tile_content_pick_properties(c, 0, 0, 0, 2, NULL) == NULL);
    CT_CHECK(ct_tile_content_pick_properties(c, 0, 0, 0, 3, NULL) == NULL);
    CT_CHECK(ct_tile_content_pick_properties(c, 0, 5, 0, 0, NULL) == NULL);
    ct_tile_content_destroy(c);
    /* truncated: a view past the BIN chunk; the model still loads, that column is dropped */
    glb[8] = (uint8_t)(n - 8), glb[9] = (uint8_t)((n - 8) >> 8);
    size_t bin_len_at = 12 + 8 + (size_t)(glb[12] | glb[13] << 8);
    uint32_t bl = (uint32_t)(n - bin_len_at - 8 - 8);
    tb_set_u32(glb + bin_len_at, bl);
    if (ct_tile_content_load_memory(glb, n - 8, &(ct_tile_content_options){.skip_images = true}, &c, &err) ==
        CT_OK) {
        p = ct_tile_content_pick_properties(c, 0, 0, 0, 1, NULL);
        CT_CHECK(!p || !cJSON_GetObjectItem(p, "height"));
        cJSON_Delete(p);
        ct_tile_content_destroy(c);
    }
    free(glb);
}

/* ---- citytwin pick ---- */

/* The batch table JSON of a b3dm, read here with plain header arithmetic. */
static cJSON *b3dm_batch_table(const char *path)
{
    uint8_t *d = NULL;
    size_t n = 0;
    ct_error err;
    if (ct_file_read(path, 1 << 24, &d, &n, &err) != CT_OK || n < 28)
        return NULL;
    uint32_t h[7];
    memcpy(h, d, sizeof h); /* magic, version, byteLength, ft json, ft bin, bt json, bt bin (little-endian host) */
    cJSON *bt = 28 + (size_t)h[3] + h[4] + h[5] <= n
                    ? cJSON_ParseWithLength((const char *)d + 28 + h[3] + h[4], h[5])
                    : NULL;
    free(d);
    return bt;
}

CT_TEST(pick_b3dm_building)
{
    const char *dir = ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Batched/BatchedWithBatchTable");
    char ts[1024], b3dm[1024];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    snprintf(b3dm, sizeof b3dm, "%s/batchedWithBatchTable.b3dm", dir);
    cJSON *bt = b3dm_batch_table(b3dm);
    CT_REQUIRE(bt);
    /* Straight down from 80 m over the building's own Longitude/Latitude
     * (radians in the batch table): its roof is under the centre pixel. */
    const int feats[] = {1, 6};
    for (int k = 0; k < 2; k++) {
        int f = feats[k];
        double lon = cJSON_GetArrayItem(cJSON_GetObjectItem(bt, "Longitude"), f)->valuedouble * 180 / M_PI;
        double lat = cJSON_GetArrayItem(cJSON_GetObjectItem(bt, "Latitude"), f)->valuedouble * 180 / M_PI;
        double height = cJSON_GetArrayItem(cJSON_GetObjectItem(bt, "Height"), f)->valuedouble;
        char cam[256];
        snprintf(cam, sizeof cam, "%.12f,%.12f,80,0,-90", lon, lat);
        cJSON *j = tiles_pick_cli(ts, cam, "160,120", NULL);
        CT_REQUIRE(j);
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
        CT_CHECK(!strcmp(str(j, "tileset"), ts));
        CT_CHECK_NEAR(num(j, "feature_id"), f, 0);
        const cJSON *tile = cJSON_GetObjectItem(j, "tile");
        CT_CHECK(strstr(str(tile, "content_uri"), "batchedWithBatchTable.b3dm") != NULL);
        CT_CHECK(!strcmp(str(tile, "path"), "tileset.json: root"));
        CT_CHECK_NEAR(num(tile, "depth"), 0, 0);
        CT_CHECK_NEAR(num(tile, "geometric_error"), 0, 0);
        CT_CHECK(!strcmp(str(tile, "content_format"), "b3dm"));
        /* every batch table column, row f */
        const cJSON *props = cJSON_GetObjectItem(j, "properties");
        CT_REQUIRE(cJSON_IsObject(props));
        const cJSON *col;
        int n = 0;
        cJSON_ArrayForEach(col, bt)
        {
            CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(props, col->string), cJSON_GetArrayItem(col, f), true));
            n++;
        }
        CT_CHECK_EQ_INT(cJSON_GetArraySize(props), n);
        /* the roof: the hit's height is the building's Height (flat roofs, ground at 0) */
        CT_CHECK_NEAR(item(j, "lonlat", 2), height, 0.05);
        cJSON_Delete(j);
    }
    cJSON_Delete(bt);
}

/* Looking up into the sky over the same tileset: nothing, and only "hit". */
CT_TEST(pick_background)
{
    char ts[1024];
    snprintf(ts, sizeof ts, "%s",
             ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Batched/BatchedWithBatchTable/tileset.json"));
    cJSON *j = tiles_pick_cli(ts, "-75.6122,40.0418,80,0,45", "160,120", NULL);
    CT_REQUIRE(j);
    CT_CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "hit")));
    CT_CHECK_EQ_INT(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
}

/* i3dm: each instance is its own draw call, so a pick names the instance; the
 * hit must lie on the instance whose POSITION (read here from the feature
 * table) is nearest, and the properties are that instance's batch-table row. */
CT_TEST(pick_i3dm_instance)
{
    const char *dir = ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/Instanced/InstancedWithBatchTable");
    char ts[1024], i3dm[1024];
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    snprintf(i3dm, sizeof i3dm, "%s/instancedWithBatchTable.i3dm", dir);
    uint8_t *d = NULL;
    size_t n = 0;
    ct_error err;
    CT_REQUIRE(ct_file_read(i3dm, 1 << 20, &d, &n, &err) == CT_OK && n >= 32);
    uint32_t h[8];
    memcpy(h, d, sizeof h); /* magic, version, byteLength, ft json, ft bin, bt json, bt bin, gltfFormat */
    cJSON *ft = cJSON_ParseWithLength((const char *)d + 32, h[3]);
    cJSON *bt = cJSON_ParseWithLength((const char *)d + 32 + h[3] + h[4], h[5]);
    CT_REQUIRE(ft && bt);
    int count = cJSON_GetObjectItem(ft, "INSTANCES_LENGTH")->valueint;
    int pos_off = cJSON_GetObjectItem(cJSON_GetObjectItem(ft, "POSITION"), "byteOffset")->valueint;
    CT_REQUIRE(count > 0 && 32 + h[3] + (size_t)pos_off + (size_t)count * 12 <= n);
    char args[4096], *out = NULL;
    snprintf(args, sizeof args, "pick '%s' --fit --pixel 160,120 --size 320x240 --wait --json", ts);
    CT_REQUIRE(ct_test_run_cli(args, &out, NULL) == 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    CT_REQUIRE(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
    int inst = (int)num(j, "instance");
    CT_CHECK(inst >= 0 && inst < count);
    CT_CHECK_NEAR(num(j, "feature_id"), inst, 0); /* no BATCH_ID: the instance index */
    CT_CHECK(!strcmp(str(cJSON_GetObjectItem(j, "tile"), "content_format"), "i3dm"));
    int nearest = -1;
    double best = 1e300;
    for (int i = 0; i < count; i++) {
        float p[3];
        memcpy(p, d + 32 + h[3] + pos_off + 12 * i, 12);
        double dd = 0;
        for (int k = 0; k < 3; k++)
            dd += pow(p[k] - item(j, "position", k), 2);
        if (dd < best)
            best = dd, nearest = i;
    }
    CT_CHECK_EQ_INT(inst, nearest);
    const cJSON *col;
    cJSON_ArrayForEach(col, bt)
    {
        CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "properties"), col->string),
                               cJSON_GetArrayItem(col, inst), true));
    }
    cJSON_Delete(j);
    cJSON_Delete(ft);
    cJSON_Delete(bt);
    free(d);
}

CT_TEST(pick_metadata_granularities)
{
    const char *ts = ct_test_data("3dtiles/3d-tiles-samples/1.1/MetadataGranularities/tileset.json");
    char *text = NULL;
    size_t n = 0;
    ct_error err;
    CT_REQUIRE(ct_file_read(ts, 1 << 20, (uint8_t **)&text, &n, &err) == CT_OK);
    cJSON *tj = cJSON_ParseWithLength(text, n);
    free(text);
    CT_REQUIRE(tj);
    const cJSON *children = cJSON_GetObjectItem(cJSON_GetObjectItem(tj, "root"), "children");
    for (int c = 0; c < 1; c++) {
        /* from 60 m straight above the centre of child c's box (tileset frame, z up): its house */
        const cJSON *child = cJSON_GetArrayItem(children, c);
        const cJSON *box = cJSON_GetObjectItem(cJSON_GetObjectItem(child, "boundingVolume"), "box");
        char cam[256];
        snprintf(cam, sizeof cam, "%.6f,%.6f,60,0,-90", cJSON_GetArrayItem(box, 0)->valuedouble,
                 cJSON_GetArrayItem(box, 1)->valuedouble);
        cJSON *j = tiles_pick_cli(ts, cam, "160,120", NULL);
        CT_REQUIRE(j);
        CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
        const cJSON *tile = cJSON_GetObjectItem(j, "tile");
        char path[64];
        snprintf(path, sizeof path, "tileset.json: root.children[%d]", c);
        CT_CHECK(!strcmp(str(tile, "path"), path));
        CT_CHECK_NEAR(num(tile, "depth"), 1, 0);
        const cJSON *md = cJSON_GetObjectItem(j, "metadata");
        CT_REQUIRE(cJSON_IsObject(md));
        CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(md, "tileset"), cJSON_GetObjectItem(tj, "metadata"), true));
        CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(md, "tile"), cJSON_GetObjectItem(child, "metadata"), true));
        /* the content that was hit, by its URI: its metadata and its group's */
        const char *uri = str(tile, "content_uri");
        const cJSON *ct, *want = NULL;
        cJSON_ArrayForEach(ct, cJSON_GetObjectItem(child, "contents"))
        {
            const char *u = str(ct, "uri");
            size_t ul = strlen(u), l = strlen(uri);
            if (l >= ul && !strcmp(uri + l - ul, u))
                want = ct;
        }
        CT_REQUIRE(want);
        CT_CHECK(strstr(uri, "house") != NULL); /* the house is in the middle of the tile */
        CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(md, "content"), cJSON_GetObjectItem(want, "metadata"), true));
        int g = cJSON_GetObjectItem(want, "group")->valueint;
        cJSON *group = cJSON_Duplicate(cJSON_GetArrayItem(cJSON_GetObjectItem(tj, "groups"), g), true);
        cJSON_AddNumberToObject(group, "index", g);
        CT_CHECK(cJSON_Compare(cJSON_GetObjectItem(md, "group"), group, true));
        cJSON_Delete(group);
        cJSON_Delete(j);
    }
    cJSON_Delete(tj);
}

CT_TEST(pick_structural_metadata_tileset)
{
    const char *dir = ct_test_tmp_path("pick_glb");
    ct_error err;
    CT_REQUIRE(ct_dir_create(dir, &err) == CT_OK);
    size_t n;
    uint8_t *glb = make_glb(2 - 1, &n); /* feature 1 everywhere */
    char path[1024], ts[1024];
    snprintf(path, sizeof path, "%s/box.glb", dir);
    CT_REQUIRE(ct_file_write(path, glb, n, &err) == CT_OK);
    free(glb);
    snprintf(ts, sizeof ts, "%s/tileset.json", dir);
    const char *json = "{\"asset\":{\"version\":\"1.1\"},\"geometricError\":10,\"root\":{\"boundingVolume\":"
                       "{\"box\":[0,0,0,1,0,0,0,1,0,0,0,1]},\"geometricError\":0,\"refine\":\"ADD\","
                       "\"content\":{\"uri\":\"box.glb\"}}}";
    CT_REQUIRE(ct_file_write(ts, json, strlen(json), &err) == CT_OK);
    /* 10 m above the box (z up), looking down: its top face */
    cJSON *j = tiles_pick_cli(ts, "0,0,10,0,-90", "160,120", NULL);
    CT_REQUIRE(j);
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "hit")));
    CT_CHECK_NEAR(num(j, "feature_id"), 1, 0);
    CT_CHECK_NEAR(num(j, "property_table"), 0, 0);
    CT_CHECK(!strcmp(str(j, "class"), "thing"));
    const cJSON *props = cJSON_GetObjectItem(j, "properties");
    CT_CHECK(!strcmp(str(props, "name"), "beta"));
    CT_CHECK_NEAR(num(props, "height"), 2.5, 0);
    CT_CHECK(!strcmp(str(cJSON_GetObjectItem(j, "tile"), "content_format"), "glb"));
    /* top face of a 2 m box centred at the origin: 9 m away */
    CT_CHECK_NEAR(num(j, "distance_m"), 9, 0.05);
    cJSON_Delete(j);
}

CT_TEST_MAIN(CT_CASE(property_table_values), CT_CASE(property_table_corrupt), CT_CASE(structural_metadata_glb),
             CT_CASE(pick_b3dm_building), CT_CASE(pick_background), CT_CASE(pick_i3dm_instance), CT_CASE(pick_metadata_granularities),
             CT_CASE(pick_structural_metadata_tileset))
