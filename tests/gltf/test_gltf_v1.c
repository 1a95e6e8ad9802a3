/* glTF 1.0 -> 2.0 upgrade on load (engine/src/gltf_v1.c) and the
 * KHR_techniques_webgl fallback. Expected values: the 3d-tiles-tools golden
 * glTF of BatchedWithGltf1With2DNormals (base color after its own upgrade),
 * and hand computation for a binary glTF 1.0 built here byte by byte
 * (interleaved strided accessors, a node with two meshes, BATCHID,
 * KHR_materials_common, a technique with a texture). Errors must name the
 * glTF 1.0 JSON path. */
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_tile_content.h"
#include "ct_test.h"

#include <cjson/cJSON.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Binary glTF 1.0: 20-byte header, JSON (length not padded on purpose, so the
 * body is unaligned), body. */
static uint8_t *glb_v1(const char *json, const void *body, size_t body_len, size_t *size)
{
    size_t jl = strlen(json);
    *size = 20 + jl + body_len;
    uint8_t *d = malloc(*size);
    memcpy(d, "glTF", 4);
    put32(d + 4, 1);
    put32(d + 8, (uint32_t)*size);
    put32(d + 12, (uint32_t)jl);
    put32(d + 16, 0);
    memcpy(d + 20, json, jl);
    memcpy(d + 20 + jl, body, body_len);
    return d;
}

/* Body: 3 vertices interleaved (position xyz, normal xyz: stride 24) at 0,
 * 3 ushort indices at 72, 3 float batch ids at 80 (byte 92 ends). */
static void make_body(uint8_t body[92])
{
    float v[18] = {0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 0, 3, 0, 0, 0, 1};
    uint16_t idx[4] = {0, 1, 2, 0};
    float bid[3] = {5, 6, 7};
    memcpy(body, v, sizeof v);
    memcpy(body + 72, idx, sizeof idx);
    memcpy(body + 80, bid, sizeof bid);
}

static const char *JSON_OK =
    "{\"asset\":{\"version\":\"1.0\"},"
    "\"buffers\":{\"other\":{\"uri\":\"data:application/octet-stream;base64,AAAA\",\"byteLength\":3},"
    "\"binary_glTF\":{\"uri\":\"ignored.bin\",\"byteLength\":92}},"
    "\"bufferViews\":{\"v\":{\"buffer\":\"binary_glTF\",\"byteOffset\":0,\"byteLength\":72},"
    "\"i\":{\"buffer\":\"binary_glTF\",\"byteOffset\":72,\"byteLength\":8},"
    "\"b\":{\"buffer\":\"binary_glTF\",\"byteOffset\":80,\"byteLength\":12}},"
    "\"accessors\":{\"pos\":{\"bufferView\":\"v\",\"byteOffset\":0,\"byteStride\":24,\"componentType\":5126,"
    "\"count\":3,\"type\":\"VEC3\"},"
    "\"nrm\":{\"bufferView\":\"v\",\"byteOffset\":12,\"byteStride\":24,\"componentType\":5126,\"count\":3,"
    "\"type\":\"VEC3\"},"
    "\"ind\":{\"bufferView\":\"i\",\"byteOffset\":0,\"byteStride\":0,\"componentType\":5123,\"count\":3,"
    "\"type\":\"SCALAR\"},"
    "\"bid\":{\"bufferView\":\"b\",\"byteStride\":4,\"componentType\":5126,\"count\":3,\"type\":\"SCALAR\"}},"
    "\"meshes\":{\"red\":{\"primitives\":[{\"attributes\":{\"POSITION\":\"pos\",\"NORMAL\":\"nrm\","
    "\"BATCHID\":\"bid\"},\"indices\":\"ind\",\"material\":\"m_red\"}]},"
    "\"tex\":{\"primitives\":[{\"attributes\":{\"POSITION\":\"pos\"},\"indices\":\"ind\",\"material\":\"m_tex\"}]}},"
    "\"materials\":{\"m_tex\":{\"technique\":\"t_tex\",\"values\":{\"diffuse\":\"texture_0\"}},"
    "\"m_red\":{\"extensions\":{\"KHR_materials_common\":{\"technique\":\"CONSTANT\",\"transparent\":true,"
    "\"doubleSided\":true,\"values\":{\"emission\":[1,0.5,0,0.25]}}}}},"
    "\"techniques\":{\"t_tex\":{\"parameters\":{\"diffuse\":{\"type\":35678},\"normal\":{\"semantic\":\"NORMAL\","
    "\"type\":35665}},\"states\":{\"enable\":[2884,2929]}}},"
    "\"textures\":{\"texture_0\":{\"sampler\":\"s\",\"source\":\"img\"}},"
    "\"samplers\":{\"s\":{\"magFilter\":9728,\"wrapS\":33071}},"
    "\"images\":{\"img\":{\"uri\":\"missing.png\"}},"
    "\"nodes\":{\"child\":{\"translation\":[10,0,0],\"meshes\":[\"tex\"]},"
    "\"root\":{\"meshes\":[\"red\",\"tex\"],\"children\":[\"child\"],\"matrix\":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,100,1]}},"
    "\"scene\":\"s0\",\"scenes\":{\"s0\":{\"nodes\":[\"root\"]}},"
    "\"extensions\":{\"CESIUM_RTC\":{\"center\":[1,2,3]}},"
    "\"extensionsUsed\":[\"KHR_binary_glTF\",\"KHR_materials_common\",\"CESIUM_RTC\"],"
    "\"programs\":{},\"shaders\":{}}";

static ct_status load_v1(const char *json, ct_gltf **g, ct_error *err)
{
    uint8_t body[92];
    make_body(body);
    size_t n;
    uint8_t *d = glb_v1(json, body, sizeof body, &n);
    ct_gltf_options o = {.skip_images = true, .name = "hand.glb"};
    ct_status st = ct_gltf_load_memory(d, n, &o, g, err);
    free(d);
    return st;
}

static double srgb_to_linear(double c) { return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4); }

CT_TEST(binary_v1_upgraded)
{
    ct_gltf *g = NULL;
    ct_error err = {0};
    ct_status st = load_v1(JSON_OK, &g, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK && g);
    /* ids become indices in dictionary order; the second mesh of "root" gets a child node */
    CT_CHECK_EQ_INT(g->mesh_count, 2);
    CT_CHECK_EQ_INT(g->node_count, 3);
    CT_CHECK_EQ_INT(g->material_count, 2);
    CT_CHECK_EQ_INT(g->texture_count, 1);
    CT_CHECK_EQ_INT(g->sampler_count, 1);
    CT_CHECK_EQ_INT(g->draw_count, 3); /* root: red, root's extra node: tex, child: tex */
    CT_CHECK_EQ_INT(g->triangle_count, 3);
    CT_CHECK(g->has_rtc_center && g->rtc_center[0] == 1 && g->rtc_center[2] == 3);
    /* strided positions and normals (byteStride 24 moved onto bufferViews) */
    const ct_gltf_primitive *p = &g->meshes[0].primitives[0];
    CT_REQUIRE(p->vertex_count == 3 && p->normals && p->feature_ids);
    float want_pos[9] = {0, 0, 0, 2, 0, 0, 0, 3, 0};
    for (int i = 0; i < 9; i++)
        CT_CHECK_NEAR(p->positions[i], want_pos[i], 0);
    for (int i = 0; i < 3; i++)
        CT_CHECK_NEAR(p->normals[3 * i + 2], 1, 0);
    CT_CHECK(p->feature_ids[0] == 5 && p->feature_ids[1] == 6 && p->feature_ids[2] == 7); /* BATCHID -> _BATCHID */
    CT_CHECK_EQ_INT(p->index_count, 3);
    /* materials: KHR_materials_common CONSTANT -> unlit emission color (sRGB -> linear), blend, double-sided */
    CT_CHECK_EQ_INT(p->material, 1);
    const ct_gltf_material *red = &g->materials[1];
    CT_CHECK(red->unlit);
    CT_CHECK_NEAR(red->base_color[0], 1, 1e-6);
    CT_CHECK_NEAR(red->base_color[1], srgb_to_linear(0.5), 1e-6);
    CT_CHECK_NEAR(red->base_color[1], 0.21404114, 1e-6); /* the value 3d-tiles-tools writes for 0.5 */
    CT_CHECK_NEAR(red->base_color[3], 0.25, 1e-6);
    CT_CHECK(red->alpha_mode == CT_GLTF_ALPHA_BLEND && red->double_sided);
    /* technique material: diffuse texture, lit, culled (CULL_FACE enabled), metallic 0 */
    const ct_gltf_material *tex = &g->materials[0];
    CT_CHECK_EQ_INT(tex->base_color_texture.texture, 0);
    CT_CHECK(!tex->unlit && !tex->double_sided && tex->alpha_mode == CT_GLTF_ALPHA_OPAQUE);
    CT_CHECK_NEAR(tex->metallic, 0, 0);
    CT_CHECK_EQ_INT(g->samplers[0].mag_filter, 9728);
    CT_CHECK_EQ_INT(g->samplers[0].wrap_s, 33071);
    /* node transforms: the child at root * translate(10,0,0) */
    bool found = false;
    for (uint32_t i = 0; i < g->draw_count; i++)
        if (g->draws[i].world[12] == 10 && g->draws[i].world[14] == 100)
            found = true;
    CT_CHECK(found);
    /* ct_gltf.json is the upgraded document */
    CT_CHECK(strstr(g->json, "\"version\":\"2.0\"") != NULL);
    CT_CHECK(g->source_version && !strcmp(g->source_version, "1.0"));
    ct_gltf_destroy(g);
}

/* Replaces the first occurrence of from by to in JSON_OK. */
static char *variant(const char *from, const char *to)
{
    const char *at = strstr(JSON_OK, from);
    if (!at)
        return NULL;
    size_t n = strlen(JSON_OK) + strlen(to) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(at - JSON_OK), JSON_OK, to, at + strlen(from));
    return s;
}

CT_TEST(v1_errors_name_the_path)
{
    struct {
        const char *from, *to, *want;
    } cases[] = {
        {"\"POSITION\":\"pos\",\"NORMAL\"", "\"POSITION\":\"nope\",\"NORMAL\"",
         "meshes[\"red\"].primitives[0].attributes.POSITION: \"nope\" is not a known accessor id"},
        {"\"byteStride\":24,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\"},\"nrm\"",
         "\"byteStride\":14,\"componentType\":5126,\"count\":3,\"type\":\"VEC3\"},\"nrm\"",
         "accessors[\"pos\"].byteStride: 14 cannot be expressed"},
        {"\"children\":[\"child\"]", "\"children\":[\"ghost\"]", "nodes[\"root\"].children[0]: not a known node id"},
        {"\"bid\":{\"bufferView\":\"b\"", "\"bid\":{\"extensions\":{\"WEB3D_quantized_attributes\":{}},\"bufferView\":\"b\"",
         "accessors[\"bid\"].extensions.WEB3D_quantized_attributes: not supported"},
        {"\"diffuse\":\"texture_0\"", "\"diffuse\":\"texture_9\"", "\"texture_9\" is not a known texture id"},
        {"\"nodes\":{\"child\"", "\"nodes\":[{\"child\"", NULL}, /* invalid JSON */
        {"\"meshes\":{\"red\"", "\"meshes\":{\"dup\":{},\"red\"", "meshes[\"dup\"].primitives: missing"},
        {"\"byteLength\":92}", "\"byteLength\":93}", "GLB BIN chunk has 92"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *json = variant(cases[i].from, cases[i].to);
        CT_REQUIRE(json);
        ct_gltf *g = (ct_gltf *)1;
        ct_error err = {0};
        CT_CHECK_EQ_INT(load_v1(json, &g, &err), CT_ERR_INPUT);
        CT_CHECK(g == NULL);
        CT_CHECK(strstr(err.msg, "hand.glb") != NULL);
        if (cases[i].want && !strstr(err.msg, cases[i].want)) {
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err.msg, cases[i].want);
            CT_CHECK(0);
        }
        free(json);
    }
    /* truncated container and header fields */
    uint8_t body[92];
    make_body(body);
    size_t n;
    uint8_t *d = glb_v1(JSON_OK, body, sizeof body, &n);
    for (size_t cut = 0; cut < n; cut += 7) {
        ct_gltf *g = NULL;
        ct_error err = {0};
        CT_CHECK_EQ_INT(ct_gltf_load_memory(d, cut, NULL, &g, &err), CT_ERR_INPUT);
        CT_CHECK(g == NULL);
    }
    put32(d + 16, 1); /* contentFormat 1 is not JSON */
    ct_gltf *g = NULL;
    ct_error err = {0};
    CT_CHECK_EQ_INT(ct_gltf_load_memory(d, n, NULL, &g, &err), CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "byte 16: glTF 1.0 GLB contentFormat 1") != NULL);
    put32(d + 16, 0);
    put32(d + 12, 100000); /* contentLength past the end */
    CT_CHECK_EQ_INT(ct_gltf_load_memory(d, n, NULL, &g, &err), CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "byte 12: glTF 1.0 GLB contentLength 100000") != NULL);
    free(d);
}

CT_TEST(sample_with_oct_normals)
{
    /* 3d-tiles-tools' BatchedWithGltf1With2DNormals: glTF 1.0 with VEC2 BYTE
     * oct-encoded normals, all (-128,-128) = 128 unsigned: octDecodeInRange(128,
     * 128, 255) = normalize(1/255, 1/255, 1 - 2/255), i.e. +z for a triangle in z = 0. */
    const char *dir = "3dtiles/3d-tiles-tools/legacy-formats/BatchedLegacy/BatchedWithGltf1With2DNormals/";
    char path[4096];
    snprintf(path, sizeof path, "%s", ct_test_data("3dtiles/3d-tiles-tools/legacy-formats/BatchedLegacy/"
                                                   "BatchedWithGltf1With2DNormals/batchedWithGltf1With2DNormals.glb"));
    ct_gltf *g = NULL;
    ct_error err = {0};
    ct_status st = ct_gltf_load_file(path, NULL, &g, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK);
    CT_CHECK_EQ_INT(g->triangle_count, 1);
    const ct_gltf_primitive *p = &g->meshes[0].primitives[0];
    CT_REQUIRE(p->normals);
    double x = 1.0 / 255, z = 1 - 2.0 / 255, len = sqrt(2 * x * x + z * z);
    for (uint32_t i = 0; i < p->vertex_count; i++) {
        CT_CHECK_NEAR(p->normals[3 * i], x / len, 1e-6);
        CT_CHECK_NEAR(p->normals[3 * i + 1], x / len, 1e-6);
        CT_CHECK_NEAR(p->normals[3 * i + 2], z / len, 1e-6);
    }
    /* base color: the golden glTF that 3d-tiles-tools' own upgrade wrote */
    char gold[4096];
    snprintf(gold, sizeof gold, "%s", ct_test_data("3dtiles/3d-tiles-tools/legacy-formats-expected-gltf-json/"
                                                   "BatchedLegacy/BatchedWithGltf1With2DNormals/"
                                                   "batchedWithGltf1With2DNormals.gltf"));
    uint8_t *text = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_file_read(gold, 1 << 20, &text, &n, &err) == CT_OK);
    cJSON *doc = cJSON_ParseWithLength((const char *)text, n);
    const cJSON *bc = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "materials"), 0), "pbrMetallicRoughness"),
        "baseColorFactor");
    CT_REQUIRE(cJSON_GetArraySize(bc) == 4);
    CT_REQUIRE(g->material_count == 1);
    for (int k = 0; k < 4; k++)
        CT_CHECK_NEAR(g->materials[0].base_color[k], cJSON_GetArrayItem(bc, k)->valuedouble, 1e-6);
    CT_CHECK_NEAR(g->materials[0].metallic, 0, 0);
    cJSON_Delete(doc);
    free(text);
    ct_gltf_destroy(g);
    (void)dir;
}

CT_TEST(techniques_webgl_fallback)
{
    /* TilesetWithTreeBillboards: KHR_techniques_webgl required, u_diffuse = texture 0 */
    ct_tile_content *c = NULL;
    ct_error err = {0};
    ct_tile_content_options o = {.skip_images = false};
    ct_status st = ct_tile_content_load_file(
        ct_test_data("3dtiles/3d-tiles-samples/1.0/TilesetWithTreeBillboards/tree_billboard.i3dm"), &o, &c, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK);
    const ct_gltf *g = c->models[0].gltf;
    CT_REQUIRE(g && g->material_count == 1);
    const ct_gltf_material *m = &g->materials[0];
    CT_CHECK_EQ_INT(m->base_color_texture.texture, 0);
    CT_CHECK(m->unlit); /* the technique has no NORMAL attribute */
    CT_CHECK(m->alpha_mode == CT_GLTF_ALPHA_BLEND && m->double_sided);
    CT_CHECK(g->images[0].pixels != NULL);
    CT_CHECK_EQ_INT(c->instance_count, 25);
    ct_tile_content_destroy(c);

    /* a color uniform given only as the technique's default value */
    const char *json =
        "{\"asset\":{\"version\":\"2.0\"},\"extensionsUsed\":[\"KHR_techniques_webgl\"],"
        "\"extensionsRequired\":[\"KHR_techniques_webgl\"],"
        "\"extensions\":{\"KHR_techniques_webgl\":{\"techniques\":[{\"attributes\":{\"a_n\":{\"semantic\":\"NORMAL\"}},"
        "\"uniforms\":{\"u_diffuseColor\":{\"type\":35666,\"value\":[0.5,1,0,1]}}}]}},"
        "\"materials\":[{\"extensions\":{\"KHR_techniques_webgl\":{\"technique\":0,\"values\":{}}}}]}";
    ct_gltf *gg = NULL;
    st = ct_gltf_load_memory(json, strlen(json), NULL, &gg, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK);
    CT_CHECK_NEAR(gg->materials[0].base_color[0], srgb_to_linear(0.5), 1e-6);
    CT_CHECK_NEAR(gg->materials[0].base_color[1], 1, 1e-6);
    CT_CHECK(!gg->materials[0].unlit);
    CT_CHECK_EQ_INT(gg->extensions_required_count, 0);
    CT_CHECK(gg->source_version && !strcmp(gg->source_version, "2.0"));
    ct_gltf_destroy(gg);
}

CT_TEST_MAIN(CT_CASE(binary_v1_upgraded), CT_CASE(v1_errors_name_the_path), CT_CASE(sample_with_oct_normals),
             CT_CASE(techniques_webgl_fallback))
