/* GLB writer: byte layout checked field by field against the hand-built
 * input (chunk headers, alignment, accessors read back from the BIN chunk,
 * min/max, index width, feature ids, materials, PNG re-encoding).
 * Writes its GLBs to CT_BINARY_DIR/tests/scene/glb/ for the validator test. */
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_image.h"
#include "ct_test.h"

#include <cjson/cJSON.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

typedef struct glb {
    cJSON *json;
    const uint8_t *bin;
    size_t bin_size;
} glb;

/* Splits a GLB and checks its container rules; returns false on any violation. */
static bool glb_split(const uint8_t *d, size_t n, glb *out)
{
    memset(out, 0, sizeof *out);
    CT_CHECK(n >= 20 && n % 4 == 0);
    if (n < 20)
        return false;
    CT_CHECK(!memcmp(d, "glTF", 4));
    CT_CHECK_EQ_INT(rd32(d + 4), 2);
    CT_CHECK_EQ_INT(rd32(d + 8), n);
    uint32_t jl = rd32(d + 12);
    CT_CHECK(jl % 4 == 0);
    CT_CHECK(!memcmp(d + 16, "JSON", 4));
    if (20 + (size_t)jl > n)
        return false;
    out->json = cJSON_ParseWithLength((const char *)d + 20, jl);
    CT_CHECK(out->json != NULL);
    size_t off = 20 + jl;
    if (off < n) {
        uint32_t bl = rd32(d + off);
        CT_CHECK(bl % 4 == 0);
        CT_CHECK(!memcmp(d + off + 4, "BIN\0", 4));
        CT_CHECK_EQ_INT(off + 8 + bl, n);
        out->bin = d + off + 8;
        out->bin_size = bl;
    }
    return out->json != NULL;
}

static int geti(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(j) ? j->valueint : -1;
}

/* Pointer to an accessor's data after checking its view lies in the buffer and is aligned. */
static const uint8_t *accessor_data(const glb *g, int acc, int *count, int *ctype, const char **type)
{
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(g->json, "accessors"), acc);
    if (!a)
        return NULL;
    const cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(g->json, "bufferViews"), geti(a, "bufferView"));
    if (!v)
        return NULL;
    int off = geti(v, "byteOffset"), len = geti(v, "byteLength");
    CT_CHECK(off % 4 == 0);
    CT_CHECK(off >= 0 && len >= 0 && (size_t)off + (size_t)len <= g->bin_size);
    *count = geti(a, "count");
    *ctype = geti(a, "componentType");
    *type = cJSON_GetObjectItem(a, "type")->valuestring;
    return g->bin + off;
}

/* A quad (two triangles) with every attribute, a line strip, a textured and an unlit material. */
static float POS[] = {0, 0, 0, 10, 0, 0, 10, 5, 0, 0, 5, -2.5f};
static float NRM[] = {0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1};
static float UV[] = {0, 0, 1, 0, 1, 1, 0, 1};
static float COL[] = {1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0.5f};
static uint32_t FID[] = {7, 7, 9, 300};
static uint32_t IDX[] = {0, 1, 2, 0, 2, 3};
static float LINE[] = {0, 0, 0, 1, 1, 1, 2, 0, 3};
static uint8_t PIX[2 * 2 * 4] = {255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 128};

static void build_model(ct_gltf *g, ct_gltf_primitive prims[2], ct_gltf_mesh *mesh, ct_gltf_material mats[2],
                        ct_gltf_node nodes[2], int *child, ct_gltf_scene *scene, int *scene_nodes,
                        ct_gltf_texture *tex, ct_gltf_image *img, ct_gltf_sampler *smp)
{
    memset(g, 0, sizeof *g);
    memset(prims, 0, 2 * sizeof *prims);
    prims[0] = (ct_gltf_primitive){.mode = CT_GLTF_TRIANGLES, .material = 0, .vertex_count = 4, .positions = POS,
                                   .normals = NRM, .colors = COL, .feature_ids = FID, .index_count = 6, .indices = IDX};
    prims[0].texcoords[0] = UV;
    prims[1] = (ct_gltf_primitive){.mode = CT_GLTF_LINE_STRIP, .material = 1, .vertex_count = 3, .positions = LINE};
    *mesh = (ct_gltf_mesh){.name = "quad", .primitives = prims, .primitive_count = 2};
    memset(mats, 0, 2 * sizeof *mats);
    mats[0] = (ct_gltf_material){.name = "tex", .base_color = {0.8f, 0.7f, 0.6f, 1}, .metallic = 0, .roughness = 0.9f,
                                 .alpha_mode = CT_GLTF_ALPHA_MASK, .alpha_cutoff = 0.25f, .double_sided = true};
    mats[0].base_color_texture = (ct_gltf_texture_ref){.texture = 0, .texcoord = 0, .scale = 1};
    mats[0].normal_texture = mats[0].metallic_roughness_texture = mats[0].occlusion_texture =
        mats[0].emissive_texture = (ct_gltf_texture_ref){.texture = -1, .scale = 1};
    mats[1] = mats[0];
    mats[1].name = "flat";
    mats[1].base_color_texture.texture = -1;
    mats[1].unlit = true;
    mats[1].alpha_mode = CT_GLTF_ALPHA_BLEND;
    mats[1].double_sided = false;
    *img = (ct_gltf_image){.name = "checker", .mime_type = "image/png", .width = 2, .height = 2, .pixels = PIX};
    *tex = (ct_gltf_texture){.sampler = 0, .image = 0};
    *smp = (ct_gltf_sampler){.mag_filter = 9728, .min_filter = 9728, .wrap_s = 33071, .wrap_t = 10497};
    memset(nodes, 0, 2 * sizeof *nodes);
    *child = 1;
    nodes[0] = (ct_gltf_node){.name = "root", .mesh = -1, .parent = -1, .children = child, .child_count = 1};
    double m[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 100.5, 2, -3, 1};
    memcpy(nodes[0].local, m, sizeof m);
    nodes[1] = (ct_gltf_node){.name = "quad", .mesh = 0, .parent = 0};
    double id[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
    memcpy(nodes[1].local, id, sizeof id);
    *scene_nodes = 0;
    *scene = (ct_gltf_scene){.name = "main", .nodes = scene_nodes, .node_count = 1};
    g->nodes = nodes;
    g->node_count = 2;
    g->meshes = mesh;
    g->mesh_count = 1;
    g->materials = mats;
    g->material_count = 2;
    g->textures = tex;
    g->texture_count = 1;
    g->images = img;
    g->image_count = 1;
    g->samplers = smp;
    g->sampler_count = 1;
    g->scenes = scene;
    g->scene_count = 1;
    g->default_scene = 0;
    g->has_rtc_center = true;
    g->rtc_center[0] = -2400000.25;
    g->rtc_center[1] = 5380000.5;
    g->rtc_center[2] = 2430000.75;
}

static bool has_string(const cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e) && !strcmp(e->valuestring, s)) return true;
    return false;
}

static void save(const char *name, const uint8_t *d, size_t n)
{
    char dir[1024], path[1200];
    snprintf(dir, sizeof dir, "%s/tests/scene/glb", CT_BINARY_DIR);
    ct_dir_create(dir, NULL);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CT_CHECK(ct_file_write(path, d, n, NULL) == CT_OK);
}

CT_TEST(layout)
{
    ct_gltf g;
    ct_gltf_primitive prims[2];
    ct_gltf_mesh mesh;
    ct_gltf_material mats[2];
    ct_gltf_node nodes[2];
    ct_gltf_scene scene;
    ct_gltf_texture tex;
    ct_gltf_image img;
    ct_gltf_sampler smp;
    int child, scene_nodes;
    build_model(&g, prims, &mesh, mats, nodes, &child, &scene, &scene_nodes, &tex, &img, &smp);
    uint8_t *d = NULL;
    size_t n = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_OK);
    save("layout.glb", d, n);
    glb b;
    CT_REQUIRE(glb_split(d, n, &b));
    const cJSON *j = b.json;
    CT_CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "asset"), "version")->valuestring, "2.0"));
    const cJSON *buf0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "buffers"), 0);
    CT_CHECK_EQ_INT(geti(buf0, "byteLength"), b.bin_size);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "buffers")), 1);
    /* Every bufferView 4-byte aligned and inside the buffer. */
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(j, "bufferViews"))
    {
        CT_CHECK(geti(v, "byteOffset") % 4 == 0);
        CT_CHECK((size_t)geti(v, "byteOffset") + (size_t)geti(v, "byteLength") <= b.bin_size);
    }
    const cJSON *used = cJSON_GetObjectItem(j, "extensionsUsed");
    CT_CHECK(has_string(used, "CESIUM_RTC"));
    CT_CHECK(has_string(used, "EXT_mesh_features"));
    CT_CHECK(has_string(used, "KHR_materials_unlit"));
    const cJSON *center = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "extensions"), "CESIUM_RTC"), "center");
    CT_CHECK_NEAR(cJSON_GetArrayItem(center, 0)->valuedouble, -2400000.25, 0);
    CT_CHECK_NEAR(cJSON_GetArrayItem(center, 2)->valuedouble, 2430000.75, 0);

    /* Primitive 0: every attribute read back equal to the input. */
    const cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "meshes"), 0), "primitives"), 0);
    const cJSON *attrs = cJSON_GetObjectItem(p0, "attributes");
    struct { const char *name; const float *want; int comps; const char *type; } checks[] = {
        {"POSITION", POS, 3, "VEC3"}, {"NORMAL", NRM, 3, "VEC3"}, {"TEXCOORD_0", UV, 2, "VEC2"}, {"COLOR_0", COL, 4, "VEC4"}};
    for (size_t c = 0; c < 4; c++) {
        int count, ctype;
        const char *type;
        const uint8_t *p = accessor_data(&b, geti(attrs, checks[c].name), &count, &ctype, &type);
        CT_REQUIRE(p);
        CT_CHECK_EQ_INT(count, 4);
        CT_CHECK_EQ_INT(ctype, 5126);
        CT_CHECK(!strcmp(type, checks[c].type));
        CT_CHECK(!memcmp(p, checks[c].want, 4 * (size_t)checks[c].comps * sizeof(float)));
    }
    /* POSITION min/max by hand: x 0..10, y 0..5, z -2.5..0. */
    const cJSON *pa = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "accessors"), geti(attrs, "POSITION"));
    const cJSON *mn = cJSON_GetObjectItem(pa, "min"), *mx = cJSON_GetObjectItem(pa, "max");
    CT_CHECK_NEAR(cJSON_GetArrayItem(mn, 2)->valuedouble, -2.5, 0);
    CT_CHECK_NEAR(cJSON_GetArrayItem(mx, 0)->valuedouble, 10, 0);
    CT_CHECK_NEAR(cJSON_GetArrayItem(mx, 1)->valuedouble, 5, 0);
    CT_CHECK_NEAR(cJSON_GetArrayItem(mx, 2)->valuedouble, 0, 0);
    /* Feature ids: float scalars 7,7,9,300 and three distinct features. */
    int count, ctype;
    const char *type;
    const uint8_t *fp = accessor_data(&b, geti(attrs, "_FEATURE_ID_0"), &count, &ctype, &type);
    CT_REQUIRE(fp);
    CT_CHECK_EQ_INT(ctype, 5126);
    CT_CHECK(!strcmp(type, "SCALAR"));
    float f[4];
    memcpy(f, fp, sizeof f);
    CT_CHECK(f[0] == 7 && f[1] == 7 && f[2] == 9 && f[3] == 300);
    const cJSON *fids = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p0, "extensions"), "EXT_mesh_features"), "featureIds");
    CT_CHECK_EQ_INT(geti(cJSON_GetArrayItem(fids, 0), "featureCount"), 3);
    CT_CHECK_EQ_INT(geti(cJSON_GetArrayItem(fids, 0), "attribute"), 0);
    /* Indices: 4 vertices -> 16-bit. */
    const uint8_t *ip = accessor_data(&b, geti(p0, "indices"), &count, &ctype, &type);
    CT_REQUIRE(ip);
    CT_CHECK_EQ_INT(ctype, 5123);
    CT_CHECK_EQ_INT(count, 6);
    for (int i = 0; i < 6; i++)
        CT_CHECK_EQ_INT(ip[2 * i] | ip[2 * i + 1] << 8, IDX[i]);
    CT_CHECK(cJSON_GetObjectItem(p0, "mode") == NULL); /* triangles is the default */
    const cJSON *p1 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "meshes"), 0), "primitives"), 1);
    CT_CHECK_EQ_INT(geti(p1, "mode"), 3);
    CT_CHECK(cJSON_GetObjectItem(p1, "indices") == NULL);

    /* Materials. */
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "materials"), 0);
    const cJSON *pbr = cJSON_GetObjectItem(m0, "pbrMetallicRoughness");
    CT_CHECK_NEAR(cJSON_GetArrayItem(cJSON_GetObjectItem(pbr, "baseColorFactor"), 0)->valuedouble, 0.8, 0);
    CT_CHECK_NEAR(cJSON_GetObjectItem(pbr, "roughnessFactor")->valuedouble, 0.9, 0);
    CT_CHECK_EQ_INT(geti(cJSON_GetObjectItem(pbr, "baseColorTexture"), "index"), 0);
    CT_CHECK(!strcmp(cJSON_GetObjectItem(m0, "alphaMode")->valuestring, "MASK"));
    CT_CHECK_NEAR(cJSON_GetObjectItem(m0, "alphaCutoff")->valuedouble, 0.25, 0);
    CT_CHECK(cJSON_IsTrue(cJSON_GetObjectItem(m0, "doubleSided")));
    const cJSON *m1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "materials"), 1);
    CT_CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(m1, "extensions"), "KHR_materials_unlit") != NULL);
    CT_CHECK(!strcmp(cJSON_GetObjectItem(m1, "alphaMode")->valuestring, "BLEND"));
    CT_CHECK(cJSON_GetObjectItem(m1, "doubleSided") == NULL);
    /* Sampler: clamp-to-edge on S written, repeat (the default) left out. */
    const cJSON *s0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "samplers"), 0);
    CT_CHECK_EQ_INT(geti(s0, "wrapS"), 33071);
    CT_CHECK(cJSON_GetObjectItem(s0, "wrapT") == NULL);
    /* The image is a PNG that decodes to the same pixels. */
    const cJSON *im = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "images"), 0);
    CT_CHECK(!strcmp(cJSON_GetObjectItem(im, "mimeType")->valuestring, "image/png"));
    const cJSON *iv = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "bufferViews"), geti(im, "bufferView"));
    ct_image dec = {0};
    CT_REQUIRE(ct_image_decode(b.bin + geti(iv, "byteOffset"), (size_t)geti(iv, "byteLength"), &dec, NULL) == CT_OK);
    CT_CHECK(dec.width == 2 && dec.height == 2 && !memcmp(dec.pixels, PIX, sizeof PIX));
    ct_image_free(&dec);
    /* Nodes: the root's matrix, its child, and the scene. */
    const cJSON *n0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "nodes"), 0);
    CT_CHECK_NEAR(cJSON_GetArrayItem(cJSON_GetObjectItem(n0, "matrix"), 12)->valuedouble, 100.5, 0);
    CT_CHECK_EQ_INT(cJSON_GetArrayItem(cJSON_GetObjectItem(n0, "children"), 0)->valueint, 1);
    const cJSON *n1 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "nodes"), 1);
    CT_CHECK(cJSON_GetObjectItem(n1, "matrix") == NULL); /* identity left out */
    CT_CHECK_EQ_INT(geti(n1, "mesh"), 0);
    CT_CHECK_EQ_INT(geti(j, "scene"), 0);
    const cJSON *sc = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "scenes"), 0);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(sc, "nodes")), 1);
    CT_CHECK_EQ_INT(cJSON_GetArrayItem(cJSON_GetObjectItem(sc, "nodes"), 0)->valueint, 0);

    /* Deterministic: a second write gives the same bytes. */
    uint8_t *d2 = NULL;
    size_t n2 = 0;
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d2, &n2, &err) == CT_OK);
    CT_CHECK(n2 == n && !memcmp(d, d2, n));
    free(d2);
    cJSON_Delete(b.json);
    free(d);
}

CT_TEST(large_mesh_uses_32bit_indices)
{
    uint32_t nv = 70000;
    float *pos = calloc((size_t)nv * 3, sizeof(float));
    uint32_t *idx = malloc(3 * sizeof(uint32_t));
    CT_REQUIRE(pos && idx);
    for (uint32_t i = 0; i < nv; i++)
        pos[3 * i] = (float)i;
    pos[3 * 69999 + 1] = 1;
    idx[0] = 0;
    idx[1] = 69999;
    idx[2] = 1;
    ct_gltf_primitive p = {.mode = CT_GLTF_TRIANGLES, .material = -1, .vertex_count = nv, .positions = pos,
                           .index_count = 3, .indices = idx};
    ct_gltf_mesh m = {.primitives = &p, .primitive_count = 1};
    ct_gltf g = {.meshes = &m, .mesh_count = 1, .default_scene = -1};
    uint8_t *d = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d, &n, NULL) == CT_OK);
    save("large.glb", d, n);
    glb b;
    CT_REQUIRE(glb_split(d, n, &b));
    const cJSON *prim = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b.json, "meshes"), 0), "primitives"), 0);
    int count, ctype;
    const char *type;
    const uint8_t *ip = accessor_data(&b, geti(prim, "indices"), &count, &ctype, &type);
    CT_REQUIRE(ip);
    CT_CHECK_EQ_INT(ctype, 5125);
    CT_CHECK_EQ_INT(rd32(ip + 4), 69999);
    /* No nodes in the input: one node per mesh, in the scene. */
    CT_CHECK_EQ_INT(geti(cJSON_GetArrayItem(cJSON_GetObjectItem(b.json, "nodes"), 0), "mesh"), 0);
    CT_CHECK(cJSON_GetObjectItem(b.json, "extensionsUsed") == NULL);
    cJSON_Delete(b.json);
    free(d);
    free(pos);
    free(idx);
}

/* KHR_texture_transform and EXT_mesh_gpu_instancing: what the reader decoded
 * (a UV matrix, instance matrices) is written back so the reader rebuilds it. */
CT_TEST(texture_transform_and_instancing)
{
    ct_gltf g;
    ct_gltf_primitive prims[2];
    ct_gltf_mesh mesh;
    ct_gltf_material mats[2];
    ct_gltf_node nodes[2];
    ct_gltf_scene scene;
    ct_gltf_texture tex;
    ct_gltf_image img;
    ct_gltf_sampler smp;
    int child, scene_nodes;
    build_model(&g, prims, &mesh, mats, nodes, &child, &scene, &scene_nodes, &tex, &img, &smp);
    /* UV transform: offset (0.1, 0.2), rotation 0.3 rad, scale (2, 0.5), composed as the reader does. */
    double rot = 0.3, sx = 2, sy = 0.5;
    float uv[9] = {(float)(sx * cos(rot)), (float)(-sx * sin(rot)), 0, (float)(sy * sin(rot)), (float)(sy * cos(rot)),
                   0, 0.1f, 0.2f, 1};
    mats[0].base_color_texture.has_transform = true;
    memcpy(mats[0].base_color_texture.uv_matrix, uv, sizeof uv);
    /* Three instances: identity; translate (1,2,3) + 90 deg about y + scale 2; a mirror in x. */
    float inst[48] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1,
                      0, 0, -2, 0, 0, 2, 0, 0, 2, 0, 0, 0, 1, 2, 3, 1,
                      -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 0, 0, 1};
    nodes[1].instance_count = 3;
    nodes[1].instance_matrices = inst;
    uint8_t *d = NULL;
    size_t n = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_OK);
    save("instanced.glb", d, n);
    glb b;
    CT_REQUIRE(glb_split(d, n, &b));
    const cJSON *used = cJSON_GetObjectItem(b.json, "extensionsUsed");
    CT_CHECK(has_string(used, "KHR_texture_transform"));
    CT_CHECK(has_string(used, "EXT_mesh_gpu_instancing"));
    const cJSON *tt = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b.json, "materials"), 0), "pbrMetallicRoughness"),
        "baseColorTexture"), "extensions"), "KHR_texture_transform"), "rotation");
    CT_REQUIRE(tt);
    CT_CHECK_NEAR(tt->valuedouble, 0.3, 1e-6);
    cJSON_Delete(b.json);
    ct_gltf *r = NULL;
    CT_REQUIRE(ct_gltf_load_memory(d, n, NULL, &r, &err) == CT_OK);
    const ct_gltf_texture_ref *tr = &r->materials[0].base_color_texture;
    CT_CHECK(tr->has_transform);
    for (int k = 0; k < 9; k++)
        CT_CHECK_NEAR(tr->uv_matrix[k], uv[k], 1e-6);
    CT_CHECK(!r->materials[1].base_color_texture.has_transform);
    CT_REQUIRE(r->node_count == 2 && r->nodes[1].instance_count == 3 && r->nodes[1].instance_matrices);
    for (int k = 0; k < 48; k++)
        CT_CHECK_NEAR(r->nodes[1].instance_matrices[k], inst[k], 1e-6);
    /* Drawn three times: 2 triangles each. */
    CT_CHECK_EQ_INT(r->triangle_count, 6);
    ct_gltf_destroy(r);
    free(d);
}

/* An empty model is still a valid GLB (no empty arrays, no BIN chunk). */
CT_TEST(empty_model)
{
    ct_gltf g = {.default_scene = -1};
    uint8_t *d = NULL;
    size_t n = 0;
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d, &n, NULL) == CT_OK);
    save("empty.glb", d, n);
    glb b;
    CT_REQUIRE(glb_split(d, n, &b));
    CT_CHECK(b.bin == NULL);
    CT_CHECK(cJSON_GetObjectItem(b.json, "nodes") == NULL);
    CT_CHECK(cJSON_GetObjectItem(b.json, "buffers") == NULL);
    CT_CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(b.json, "scenes")), 1);
    cJSON_Delete(b.json);
    free(d);
}

CT_TEST(bad_input_is_refused)
{
    float pos[9] = {0};
    uint32_t idx[3] = {0, 1, 3};
    ct_gltf_primitive p = {.mode = CT_GLTF_TRIANGLES, .material = -1, .vertex_count = 3, .positions = pos,
                           .index_count = 3, .indices = idx};
    ct_gltf_mesh m = {.primitives = &p, .primitive_count = 1};
    ct_gltf g = {.meshes = &m, .mesh_count = 1, .default_scene = -1};
    uint8_t *d = (uint8_t *)1;
    size_t n = 1;
    ct_error err = {0};
    CT_CHECK(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_ERR_INPUT);
    CT_CHECK(d == NULL && n == 0);
    CT_CHECK(!strcmp(err.msg, "glb: meshes[0].primitives[0]: index 2 = 3 not below vertex count 3"));
    idx[2] = 2;
    p.material = 4;
    CT_CHECK(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "material 4 out of range") != NULL);
    p.material = -1;
    p.vertex_count = 0;
    CT_CHECK(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "no vertices") != NULL);
    p.vertex_count = 3;
    pos[4] = NAN;
    CT_CHECK(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_ERR_INPUT);
    CT_CHECK(!strcmp(err.msg, "glb: meshes[0].primitives[0]: vertex 1: position is not a finite number"));
    pos[4] = 0;
    /* Writing to an unwritable place is a runtime error naming the path. */
    p.vertex_count = 3;
    CT_CHECK(ct_gltf_write_glb(&g, "/nonexistent-dir/x.glb", &err) == CT_ERR_RUNTIME);
    CT_CHECK(strstr(err.msg, "/nonexistent-dir/x.glb") != NULL);
}

/* Written, then read back with citytwin's reader: the same model comes out. */
CT_TEST(round_trip_through_reader)
{
    ct_gltf g;
    ct_gltf_primitive prims[2];
    ct_gltf_mesh mesh;
    ct_gltf_material mats[2];
    ct_gltf_node nodes[2];
    ct_gltf_scene scene;
    ct_gltf_texture tex;
    ct_gltf_image img;
    ct_gltf_sampler smp;
    int child, scene_nodes;
    build_model(&g, prims, &mesh, mats, nodes, &child, &scene, &scene_nodes, &tex, &img, &smp);
    uint8_t *d = NULL;
    size_t n = 0;
    ct_error err = {0};
    CT_REQUIRE(ct_gltf_write_glb_memory(&g, &d, &n, &err) == CT_OK);
    ct_gltf *r = NULL;
    ct_status st = ct_gltf_load_memory(d, n, NULL, &r, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK && r);
    CT_CHECK_EQ_INT(r->mesh_count, 1);
    CT_REQUIRE(r->meshes[0].primitive_count == 2);
    const ct_gltf_primitive *p = &r->meshes[0].primitives[0];
    CT_CHECK_EQ_INT(p->vertex_count, 4);
    CT_CHECK(p->positions && !memcmp(p->positions, POS, sizeof POS));
    CT_CHECK(p->normals && !memcmp(p->normals, NRM, sizeof NRM));
    CT_CHECK(p->texcoords[0] && !memcmp(p->texcoords[0], UV, sizeof UV));
    CT_CHECK(p->colors && !memcmp(p->colors, COL, sizeof COL));
    CT_CHECK(p->feature_ids && !memcmp(p->feature_ids, FID, sizeof FID));
    CT_CHECK(p->index_count == 6 && p->indices && !memcmp(p->indices, IDX, sizeof IDX));
    CT_CHECK_EQ_INT(p->material, 0);
    const ct_gltf_primitive *q = &r->meshes[0].primitives[1];
    CT_CHECK(q->mode == CT_GLTF_LINE_STRIP);
    CT_CHECK(q->vertex_count == 3 && !memcmp(q->positions, LINE, sizeof LINE));
    CT_REQUIRE(r->material_count == 2);
    CT_CHECK_NEAR(r->materials[0].base_color[0], 0.8f, 0);
    CT_CHECK_NEAR(r->materials[0].roughness, 0.9f, 0);
    CT_CHECK(r->materials[0].alpha_mode == CT_GLTF_ALPHA_MASK);
    CT_CHECK_NEAR(r->materials[0].alpha_cutoff, 0.25f, 0);
    CT_CHECK(r->materials[0].double_sided);
    CT_CHECK(r->materials[1].unlit && r->materials[1].alpha_mode == CT_GLTF_ALPHA_BLEND);
    CT_REQUIRE(r->materials[0].base_color_texture.texture >= 0);
    const ct_gltf_texture *t = &r->textures[r->materials[0].base_color_texture.texture];
    CT_REQUIRE(t->image >= 0);
    const ct_gltf_image *im = &r->images[t->image];
    CT_CHECK(im->width == 2 && im->height == 2 && im->pixels && !memcmp(im->pixels, PIX, sizeof PIX));
    CT_REQUIRE(t->sampler >= 0);
    CT_CHECK_EQ_INT(r->samplers[t->sampler].wrap_s, 33071);
    CT_REQUIRE(r->node_count == 2);
    CT_CHECK_NEAR(r->nodes[0].local[12], 100.5, 0);
    CT_CHECK_EQ_INT(r->nodes[1].parent, 0);
    CT_CHECK(r->has_rtc_center);
    CT_CHECK_NEAR(r->rtc_center[1], 5380000.5, 0);
    /* One draw: the quad node, placed by its parent's matrix. */
    CT_REQUIRE(r->draw_count == 1);
    CT_CHECK_NEAR(r->draws[0].world[12], 100.5, 0);
    ct_gltf_destroy(r);
    free(d);
}

CT_TEST_MAIN(CT_CASE(layout), CT_CASE(round_trip_through_reader), CT_CASE(large_mesh_uses_32bit_indices), CT_CASE(texture_transform_and_instancing), CT_CASE(empty_model),
             CT_CASE(bad_input_is_refused))
