/* Decoded values checked against hand computations and against the numbers
 * stored in the sample files (read here from their JSON, or decoded with
 * Python's struct module when the test was written and noted inline). */
#include "ct_test.h"

#include "content_build.h"

#include "citytwin/ct_tile_content.h"

#include <math.h>
#include <pthread.h>

#define LEGACY "3dtiles/3d-tiles-tools/legacy-formats/"

static ct_tile_content *load(const char *rel)
{
    ct_tile_content_options o = {.skip_images = true};
    ct_tile_content *c = NULL;
    ct_error err = {0};
    if (ct_tile_content_load_file(ct_test_data(rel), &o, &c, &err)) {
        fprintf(stderr, "%s: %s\n", rel, err.msg);
        return NULL;
    }
    return c;
}

static ct_tile_content *load_mem(const uint8_t *d, size_t n, ct_error *err)
{
    ct_tile_content_options o = {.skip_images = true, .uri = "mem.tile"};
    ct_tile_content *c = NULL;
    if (ct_tile_content_load_memory(d, n, &o, &c, err))
        return NULL;
    return c;
}

static const uint8_t *box_glb(size_t *n)
{
    static uint8_t *d;
    static size_t size;
    if (!d)
        d = tb_read_file(ct_test_data("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb"), &size);
    *n = size;
    return d;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

CT_TEST(batch_table_json_values)
{
    ct_tile_content *c = load(LEGACY "Batched/BatchedWithBatchTable/batchedWithBatchTable.b3dm");
    CT_REQUIRE(c && c->model_count == 1);
    CT_CHECK_EQ_INT(c->models[0].feature_count, 10);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 3);
    CT_REQUIRE(f);
    /* Values as written in the file's batch table JSON. */
    CT_CHECK_NEAR(jnum(f, "id"), 3, 0);
    CT_CHECK_NEAR(jnum(f, "Longitude"), -1.3196656317210846, 1e-15);
    CT_CHECK_NEAR(jnum(f, "Height"), 6.742499912157655, 1e-15);
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(f, "info");
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(info, "name")) &&
             !strcmp(cJSON_GetObjectItemCaseSensitive(info, "name")->valuestring, "building3"));
    const cJSON *rooms = cJSON_GetObjectItemCaseSensitive(f, "rooms");
    CT_CHECK(cJSON_GetArraySize(rooms) == 3 && !strcmp(cJSON_GetArrayItem(rooms, 1)->valuestring, "room3_b"));
    cJSON_Delete(f);
    CT_CHECK(ct_tile_content_feature_properties(c, 0, 10) == NULL);
    CT_CHECK(ct_tile_content_feature_properties(c, 1, 0) == NULL);
    ct_tile_content_destroy(c);
}

CT_TEST(batch_table_binary_values)
{
    ct_tile_content *c = load(LEGACY "Batched/BatchedWithBatchTableBinary/batchedWithBatchTableBinary.b3dm");
    CT_REQUIRE(c);
    for (uint32_t i = 0; i < 10; i++) {
        cJSON *f = ct_tile_content_feature_properties(c, 0, i);
        CT_REQUIRE(f);
        /* The binary DOUBLE VEC3 "cartographic" repeats the JSON Longitude/Latitude/Height. */
        const cJSON *carto = cJSON_GetObjectItemCaseSensitive(f, "cartographic");
        CT_CHECK(cJSON_GetArraySize(carto) == 3);
        CT_CHECK_NEAR(cJSON_GetArrayItem(carto, 0)->valuedouble, jnum(f, "Longitude"), 0);
        CT_CHECK_NEAR(cJSON_GetArrayItem(carto, 1)->valuedouble, jnum(f, "Latitude"), 0);
        CT_CHECK_NEAR(cJSON_GetArrayItem(carto, 2)->valuedouble, jnum(f, "Height"), 0);
        CT_CHECK_NEAR(jnum(f, "code"), 255, 0); /* UNSIGNED_BYTE at byteOffset 240: all 0xff (struct.unpack) */
        cJSON_Delete(f);
    }
    ct_tile_content_destroy(c);
}

CT_TEST(pnts_batched_features)
{
    ct_tile_content *c = load(LEGACY "PointCloud/PointCloudBatched/pointCloudBatched.pnts");
    CT_REQUIRE(c && c->model_count == 1);
    const ct_tile_model *m = &c->models[0];
    CT_CHECK_EQ_INT(m->feature_count, 8);
    /* BATCH_ID (UNSIGNED_BYTE at 24000) starts 5,5,6,6,7,0 (decoded with Python struct). */
    CT_CHECK_EQ_INT(ct_tile_model_point_feature_id(m, 0), 5);
    CT_CHECK_EQ_INT(ct_tile_model_point_feature_id(m, 4), 7);
    CT_CHECK_EQ_INT(ct_tile_model_point_feature_id(m, 5), 0);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 5);
    CT_REQUIRE(f);
    CT_CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(f, "name")->valuestring, "section5"));
    CT_CHECK_NEAR(jnum(f, "id"), 5, 0);
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(f, "dimensions");
    CT_CHECK_NEAR(cJSON_GetArrayItem(dim, 0)->valuedouble, 0.07815811783075333, 1e-9);
    CT_CHECK_NEAR(cJSON_GetArrayItem(dim, 1)->valuedouble, 0.20017068088054657, 1e-9);
    CT_CHECK_NEAR(cJSON_GetArrayItem(dim, 2)->valuedouble, 0.08992884308099747, 1e-9);
    cJSON_Delete(f);
    ct_tile_content_destroy(c);
}

CT_TEST(rtc_center_and_y_up)
{
    ct_tile_content *c = load(LEGACY "Batched/BatchedWithRtcCenter/batchedWithRtcCenter.b3dm");
    CT_REQUIRE(c);
    const ct_tile_model *m = &c->models[0];
    CT_CHECK(m->has_rtc_center);
    CT_CHECK_NEAR(m->rtc_center[0], 0.1, 0);
    CT_CHECK_NEAR(m->rtc_center[1], 0.2, 0);
    CT_CHECK_NEAR(m->rtc_center[2], 0.3, 0);
    /* glTF (x, y, z) -> tile (x, -z, y) + RTC. */
    ct_dvec3 p = ct_dmat4_transform_point(m->model_matrix, ct_dvec3_make(1, 2, 3));
    CT_CHECK_NEAR(p.x, 1.1, 1e-12);
    CT_CHECK_NEAR(p.y, 0.2 - 3, 1e-12);
    CT_CHECK_NEAR(p.z, 0.3 + 2, 1e-12);
    ct_tile_content_destroy(c);

    c = load(LEGACY "PointCloud/PointCloudRGB/pointCloudRGB.pnts");
    CT_REQUIRE(c);
    m = &c->models[0];
    CT_CHECK(m->has_rtc_center);
    CT_CHECK_NEAR(m->origin[0], 1215012.8828876738, 0); /* RTC_CENTER in the file's feature table */
    CT_CHECK_NEAR(m->model_matrix[13], -4736313.051199594, 0);
    CT_CHECK_NEAR(m->model_matrix[5], 1, 0); /* pnts is z-up already: no rotation */
    ct_tile_content_destroy(c);
}

/* asset.gltfUpAxis: 'Z' leaves glTF coordinates alone, 'X' turns +x to +z
 * (CesiumJS Axis.X_UP_TO_Z_UP), default 'Y' as above. */
CT_TEST(gltf_up_axis_option)
{
    const char *rel = LEGACY "Batched/BatchedWithRtcCenter/batchedWithRtcCenter.b3dm";
    const char axes[] = {'Z', 'X', 'Y', 0};
    /* glTF (1, 2, 3) + RTC (0.1, 0.2, 0.3), by hand for each axis */
    const double want[4][3] = {{1.1, 2.2, 3.3}, {0.1 - 3, 2.2, 0.3 + 1}, {1.1, 0.2 - 3, 0.3 + 2}, {1.1, 0.2 - 3, 0.3 + 2}};
    for (int i = 0; i < 4; i++) {
        ct_tile_content_options o = {.skip_images = true, .gltf_up_axis = axes[i]};
        ct_tile_content *c = NULL;
        ct_error err = {0};
        CT_REQUIRE(ct_tile_content_load_file(ct_test_data(rel), &o, &c, &err) == CT_OK);
        ct_dvec3 p = ct_dmat4_transform_point(c->models[0].model_matrix, ct_dvec3_make(1, 2, 3));
        CT_CHECK_NEAR(p.x, want[i][0], 1e-12);
        CT_CHECK_NEAR(p.y, want[i][1], 1e-12);
        CT_CHECK_NEAR(p.z, want[i][2], 1e-12);
        ct_tile_content_destroy(c);
    }
}

/* Rodrigues: rotation by angle about unit axis k. */
static void rodrigues(const double k[3], double a, double R[9])
{
    double c = cos(a), s = sin(a), t = 1 - c;
    double x = k[0], y = k[1], z = k[2];
    double r[9] = {t * x * x + c, t * x * y + s * z, t * x * z - s * y,   /* column 0 */
                   t * x * y - s * z, t * y * y + c, t * y * z + s * x,   /* column 1 */
                   t * x * z + s * y, t * y * z - s * x, t * z * z + c};  /* column 2 */
    memcpy(R, r, sizeof r);
}

CT_TEST(i3dm_rotated_instances_match_rodrigues)
{
    /* README: instances at the corners of (0,0,0)-(2,2,2), each rotated by 22.5
     * degrees about the axis through its position. */
    ct_tile_content *c = load(LEGACY "InstancedAxes/InstancedAxesRotated/instancedAxesRotated.i3dm");
    CT_REQUIRE(c && c->model_count == 1 && c->models[0].instance_count == 8);
    const ct_tile_model *m = &c->models[0];
    for (uint32_t i = 0; i < 8; i++) {
        const double *M = m->instance_matrices + 16 * i;
        double p[3] = {M[12], M[13], M[14]};
        CT_CHECK(p[0] == 0 || p[0] == 2);
        CT_CHECK(p[1] == 0 || p[1] == 2);
        CT_CHECK(p[2] == 0 || p[2] == 2);
        double len = sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        double R[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
        if (len > 0) {
            double k[3] = {p[0] / len, p[1] / len, p[2] / len};
            rodrigues(k, 22.5 * M_PI / 180, R);
        }
        for (int col = 0; col < 3; col++)
            for (int row = 0; row < 3; row++)
                CT_CHECK_NEAR(M[col * 4 + row], R[col * 3 + row], 1e-6);
    }
    ct_tile_content_destroy(c);
}

CT_TEST(i3dm_scaled_instances)
{
    /* README: the instance at (x,y,z) is scaled by 1.5 along each non-zero component. */
    ct_tile_content *c = load(LEGACY "InstancedAxes/InstancedAxesScaled/instancedAxesScaled.i3dm");
    CT_REQUIRE(c && c->models[0].instance_count == 8);
    for (uint32_t i = 0; i < 8; i++) {
        const double *M = c->models[0].instance_matrices + 16 * i;
        for (int a = 0; a < 3; a++)
            CT_CHECK_NEAR(M[a * 4 + a], M[12 + a] != 0 ? 1.5 : 1.0, 1e-6);
    }
    ct_tile_content_destroy(c);
}

static ct_dvec3 col(const double *M, int c) { return ct_dvec3_make(M[4 * c], M[4 * c + 1], M[4 * c + 2]); }

CT_TEST(i3dm_synthetic_hand_values)
{
    size_t glb_n;
    const uint8_t *glb = box_glb(&glb_n);
    CT_REQUIRE(glb);
    /* One instance: POSITION (1,2,3), up (0,0,1), right (1,0,0), SCALE 2, RTC (100,200,300), BATCH_ID 7. */
    float bin[3 + 3 + 3 + 1];
    float vals[] = {1, 2, 3, 0, 0, 1, 1, 0, 0, 2};
    memcpy(bin, vals, sizeof vals);
    uint8_t binb[48] = {0};
    memcpy(binb, bin, sizeof bin);
    binb[40] = 7;
    const char *ft = "{\"INSTANCES_LENGTH\":1,\"RTC_CENTER\":[100,200,300],\"POSITION\":{\"byteOffset\":0},"
                     "\"NORMAL_UP\":{\"byteOffset\":12},\"NORMAL_RIGHT\":{\"byteOffset\":24},\"SCALE\":{\"byteOffset\":36},"
                     "\"BATCH_ID\":{\"byteOffset\":40,\"componentType\":\"UNSIGNED_BYTE\"}}";
    const char *bt = "{\"h\":[0,1,2,3,4,5,6,70]}";
    size_t n;
    uint8_t *d = tb_tile("i3dm", ft, binb, 41, bt, NULL, 0, glb, glb_n, 1, &n);
    ct_error err = {0};
    ct_tile_content *c = load_mem(d, n, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(c);
    const ct_tile_model *m = &c->models[0];
    CT_CHECK_EQ_INT(m->instance_count, 1);
    const double *M = m->instance_matrices;
    /* columns: right*2, up*2, (right x up)*2 = (0,-1,0)*2; translation = POSITION + RTC */
    double expect[16] = {2, 0, 0, 0, 0, 0, 2, 0, 0, -2, 0, 0, 101, 202, 303, 1};
    for (int k = 0; k < 16; k++)
        CT_CHECK_NEAR(M[k], expect[k], 1e-12);
    CT_CHECK_EQ_INT(ct_tile_model_instance_feature_id(m, 0), 7);
    CT_CHECK_EQ_INT(m->feature_count, 8);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 7);
    CT_CHECK(f && jnum(f, "h") == 70);
    cJSON_Delete(f);
    CT_CHECK_EQ_INT(c->triangle_count, 12); /* Box: 12 triangles, one instance */
    float fm[16];
    double origin[3] = {100, 200, 300};
    ct_tile_model_instance_matrices_float(m, origin, fm);
    CT_CHECK_NEAR(fm[12], 1, 0);
    CT_CHECK_NEAR(fm[14], 3, 0);
    ct_tile_content_destroy(c);
    free(d);

    /* Quantized position + oct32p orientation of the same frame. */
    uint16_t q[3 + 2 + 2] = {65535, 0, 32768, 32767, 32767, 65535, 32767};
    ft = "{\"INSTANCES_LENGTH\":1,\"QUANTIZED_VOLUME_OFFSET\":[10,20,30],\"QUANTIZED_VOLUME_SCALE\":[100,100,100],"
         "\"POSITION_QUANTIZED\":{\"byteOffset\":0},\"NORMAL_UP_OCT32P\":{\"byteOffset\":6},"
         "\"NORMAL_RIGHT_OCT32P\":{\"byteOffset\":10}}";
    d = tb_tile("i3dm", ft, q, sizeof q, NULL, NULL, 0, glb, glb_n, 1, &n);
    c = load_mem(d, n, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(c);
    M = c->models[0].instance_matrices;
    CT_CHECK_NEAR(M[12], 10 + 100.0, 1e-9);
    CT_CHECK_NEAR(M[13], 20, 1e-9);
    CT_CHECK_NEAR(M[14], 30 + 32768.0 / 65535.0 * 100.0, 1e-9);
    /* oct (32767, 32767) in 0..65535 is (-1/65535, -1/65535) -> ~ +z; (65535, 32767) -> ~ +x */
    ct_dvec3 up = col(M, 1), right = col(M, 0), fwd = col(M, 2);
    CT_CHECK_NEAR(up.z, 1, 1e-8);
    CT_CHECK_NEAR(up.x, -1.0 / 65535, 1e-8);
    CT_CHECK_NEAR(right.x, 1, 1e-8);
    CT_CHECK_NEAR(fwd.y, -1, 1e-4);
    ct_tile_content_destroy(c);
    free(d);

    /* EAST_NORTH_UP at lon 114, lat 22.5 (RTC carries the position): hand formulas. */
    double lon = 114 * M_PI / 180, lat = 22.5 * M_PI / 180;
    double a = 6378137.0, e2 = 6.69437999014e-3, N = a / sqrt(1 - e2 * sin(lat) * sin(lat));
    double ecef[3] = {N * cos(lat) * cos(lon), N * cos(lat) * sin(lon), N * (1 - e2) * sin(lat)};
    char ftb[512];
    snprintf(ftb, sizeof ftb,
             "{\"INSTANCES_LENGTH\":1,\"EAST_NORTH_UP\":true,\"RTC_CENTER\":[%.9f,%.9f,%.9f],\"POSITION\":{\"byteOffset\":0}}",
             ecef[0], ecef[1], ecef[2]);
    float zero[3] = {0, 0, 0};
    d = tb_tile("i3dm", ftb, zero, sizeof zero, NULL, NULL, 0, glb, glb_n, 1, &n);
    c = load_mem(d, n, &err);
    CT_REQUIRE(c);
    M = c->models[0].instance_matrices;
    ct_dvec3 e = col(M, 0), no = col(M, 1), u = col(M, 2);
    CT_CHECK_NEAR(e.x, -sin(lon), 1e-9);
    CT_CHECK_NEAR(e.y, cos(lon), 1e-9);
    CT_CHECK_NEAR(e.z, 0, 1e-9);
    CT_CHECK_NEAR(no.x, -sin(lat) * cos(lon), 1e-9);
    CT_CHECK_NEAR(no.y, -sin(lat) * sin(lon), 1e-9);
    CT_CHECK_NEAR(no.z, cos(lat), 1e-9);
    CT_CHECK_NEAR(u.x, cos(lat) * cos(lon), 1e-9);
    CT_CHECK_NEAR(u.y, cos(lat) * sin(lon), 1e-9);
    CT_CHECK_NEAR(u.z, sin(lat), 1e-9);
    CT_CHECK_NEAR(M[12], ecef[0], 1e-6);
    ct_tile_content_destroy(c);
    free(d);

    /* EAST_NORTH_UP at the earth's center (local coordinates): no frame there, identity kept. */
    d = tb_tile("i3dm", "{\"INSTANCES_LENGTH\":1,\"EAST_NORTH_UP\":true,\"POSITION\":{\"byteOffset\":0}}", zero,
                sizeof zero, NULL, NULL, 0, glb, glb_n, 1, &n);
    c = load_mem(d, n, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(c);
    M = c->models[0].instance_matrices;
    CT_CHECK(M[0] == 1 && M[5] == 1 && M[10] == 1 && M[12] == 0);
    ct_tile_content_destroy(c);
    free(d);
}

CT_TEST(pnts_synthetic_hand_values)
{
    /* 4 points: quantized positions, RGB565 colors, oct16p normals, batch ids. */
    uint8_t bin[4 * 6 + 4 * 2 + 4 * 2 + 4] = {0};
    uint16_t pq[12] = {0, 0, 0, 65535, 0, 32768, 0, 65535, 0, 65535, 65535, 65535};
    uint16_t c565[4] = {0xF800, 0x07E0, 0x001F, 0x8410};
    uint8_t oct[8] = {128, 128, 255, 255, 191, 64, 0, 0};
    uint8_t bid[4] = {0, 1, 1, 0};
    memcpy(bin, pq, 24);
    memcpy(bin + 24, c565, 8);
    memcpy(bin + 32, oct, 8);
    memcpy(bin + 40, bid, 4);
    const char *ft = "{\"POINTS_LENGTH\":4,\"BATCH_LENGTH\":2,\"RTC_CENTER\":[1000,0,0],"
                     "\"QUANTIZED_VOLUME_OFFSET\":[10,20,30],\"QUANTIZED_VOLUME_SCALE\":[100,100,100],"
                     "\"POSITION_QUANTIZED\":{\"byteOffset\":0},\"RGB565\":{\"byteOffset\":24},"
                     "\"NORMAL_OCT16P\":{\"byteOffset\":32},\"BATCH_ID\":{\"byteOffset\":40,\"componentType\":\"UNSIGNED_BYTE\"}}";
    const char *bt = "{\"kind\":[\"pole\",\"hydrant\"]}";
    size_t n;
    uint8_t *d = tb_tile("pnts", ft, bin, sizeof bin, bt, NULL, 0, NULL, 0, 0, &n);
    ct_error err = {0};
    ct_tile_content *c = load_mem(d, n, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(c);
    const ct_tile_model *m = &c->models[0];
    const ct_tile_points *P = &m->points;
    CT_CHECK_EQ_INT(P->count, 4);
    /* origin = RTC + quantized offset; positions = q / 65535 * scale */
    CT_CHECK_NEAR(m->origin[0], 1010, 0);
    CT_CHECK_NEAR(m->origin[2], 30, 0);
    CT_CHECK_NEAR(P->positions[3], 100, 1e-5);
    CT_CHECK_NEAR(P->positions[5], 32768.0 / 65535 * 100, 1e-5);
    CT_CHECK_NEAR(P->positions[10], 100, 1e-5);
    /* RGB565: 5/6/5 bits scaled to 0..255 (0x8410 = 16/31, 32/63, 16/31) */
    uint8_t expect_rgb[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {132, 130, 132}};
    CT_REQUIRE(P->colors);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++)
            CT_CHECK_EQ_INT(P->colors[4 * i + k], expect_rgb[i][k]);
    CT_CHECK(!P->translucent);
    /* oct16p (range 255): (128,128) ~ +z; (255,255) and (0,0) fold to -z; (191,64) */
    CT_REQUIRE(P->normals);
    double x = 128.0 / 255 * 2 - 1;
    double l = sqrt(2 * x * x + (1 - 2 * fabs(x)) * (1 - 2 * fabs(x)));
    CT_CHECK_NEAR(P->normals[0], x / l, 1e-6);
    CT_CHECK_NEAR(P->normals[2], (1 - 2 * fabs(x)) / l, 1e-6);
    CT_CHECK_NEAR(P->normals[5], -1, 1e-6);
    CT_CHECK_NEAR(P->normals[11], -1, 1e-6);
    double ox = 191.0 / 255 * 2 - 1, oy = 64.0 / 255 * 2 - 1, oz = 1 - fabs(ox) - fabs(oy);
    l = sqrt(ox * ox + oy * oy + oz * oz);
    CT_CHECK_NEAR(P->normals[6], ox / l, 1e-6);
    CT_CHECK_NEAR(P->normals[7], oy / l, 1e-6);
    CT_CHECK_NEAR(P->normals[8], oz / l, 1e-6);
    CT_CHECK_EQ_INT(m->feature_count, 2);
    CT_CHECK_EQ_INT(ct_tile_model_point_feature_id(m, 2), 1);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 1);
    CT_CHECK(f && !strcmp(cJSON_GetObjectItemCaseSensitive(f, "kind")->valuestring, "hydrant"));
    cJSON_Delete(f);
    ct_tile_content_destroy(c);
    free(d);

    /* CONSTANT_RGBA with alpha < 255 is translucent. */
    float pos[3] = {1, 2, 3};
    d = tb_tile("pnts", "{\"POINTS_LENGTH\":1,\"CONSTANT_RGBA\":[255,255,0,51],\"POSITION\":{\"byteOffset\":0}}", pos,
                sizeof pos, NULL, NULL, 0, NULL, 0, 0, &n);
    c = load_mem(d, n, &err);
    CT_REQUIRE(c);
    CT_CHECK(c->models[0].points.has_constant_color && c->models[0].points.constant_color[3] == 51);
    CT_CHECK(c->models[0].points.translucent && !c->models[0].points.colors);
    CT_CHECK_NEAR(c->bounds_min[2], 3, 1e-6);
    ct_tile_content_destroy(c);
    free(d);
}

CT_TEST(batch_table_hierarchy)
{
    /* Two walls (features 0, 1) whose parent is one building (instance 2). */
    const char *bt =
        "{\"extensions\":{\"3DTILES_batch_table_hierarchy\":{\"classes\":["
        "{\"name\":\"Wall\",\"length\":2,\"instances\":{\"color\":[\"white\",\"red\"]}},"
        "{\"name\":\"Building\",\"length\":1,\"instances\":{\"name\":[\"unit29\"],\"color\":[\"grey\"]}}],"
        "\"instancesLength\":3,\"classIds\":[0,0,1],\"parentCounts\":[1,1,0],\"parentIds\":[2,2]}}}";
    size_t glb_n, n;
    const uint8_t *glb = box_glb(&glb_n);
    uint8_t *d = tb_tile("b3dm", "{\"BATCH_LENGTH\":2}", NULL, 0, bt, NULL, 0, glb, glb_n, 0, &n);
    ct_error err = {0};
    ct_tile_content *c = load_mem(d, n, &err);
    if (!c)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(c);
    CT_CHECK_EQ_INT(c->warning_count, 0);
    cJSON *f = ct_tile_content_feature_properties(c, 0, 1);
    CT_REQUIRE(f);
    /* nearest first: the wall's own color wins over the building's */
    CT_CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(f, "color")->valuestring, "red"));
    CT_CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(f, "name")->valuestring, "unit29"));
    CT_CHECK(!strcmp(cJSON_GetObjectItemCaseSensitive(f, "class")->valuestring, "Wall"));
    cJSON_Delete(f);
    CT_CHECK(ct_tile_batch_table_json(c->models[0].batch_table) != NULL);
    ct_tile_content_destroy(c);
    free(d);
}

/* The same data in different encodings must decode to the same values. */
CT_TEST(encodings_agree)
{
    ct_tile_content *rgb = load(LEGACY "PointCloud/PointCloudRGB/pointCloudRGB.pnts");
    ct_tile_content *c565 = load(LEGACY "PointCloud/PointCloudRGB565/pointCloudRGB565.pnts");
    ct_tile_content *q = load(LEGACY "PointCloud/PointCloudQuantized/pointCloudQuantized.pnts");
    ct_tile_content *nrm = load(LEGACY "PointCloud/PointCloudNormals/pointCloudNormals.pnts");
    ct_tile_content *oct = load(LEGACY "PointCloud/PointCloudNormalsOctEncoded/pointCloudNormalsOctEncoded.pnts");
    ct_tile_content *dr = load(LEGACY "PointCloud/PointCloudDraco/pointCloudDraco.pnts");
    CT_REQUIRE(rgb && c565 && q && nrm && oct && dr);
    const ct_tile_points *a = &rgb->models[0].points, *b = &c565->models[0].points;
    int worst_c = 0;
    double worst_p = 0, worst_n = 0, worst_dp = 0;
    int worst_dc = 0;
    double worst_dn = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        for (int k = 0; k < 3; k++) {
            worst_c = fmax(worst_c, abs(a->colors[4 * i + k] - b->colors[4 * i + k]));
            double wa = rgb->models[0].origin[k] + a->positions[3 * i + k];
            double wq = q->models[0].origin[k] + q->models[0].points.positions[3 * i + k];
            worst_p = fmax(worst_p, fabs(wa - wq));
            worst_n = fmax(worst_n, fabs(nrm->models[0].points.normals[3 * i + k] - oct->models[0].points.normals[3 * i + k]));
        }
        /* The Draco sample compresses the PointCloudNormals cloud; Draco may
         * reorder points, so match each Draco point to its nearest plain one. */
        const ct_tile_points *pn = &nrm->models[0].points;
        const float *dp = dr->models[0].points.positions + 3 * i;
        double best = INFINITY;
        uint32_t bj = 0;
        for (uint32_t j = 0; j < 1000; j++) {
            double dx = dp[0] - pn->positions[3 * j], dy = dp[1] - pn->positions[3 * j + 1],
                   dz = dp[2] - pn->positions[3 * j + 2];
            double d2 = dx * dx + dy * dy + dz * dz;
            if (d2 < best)
                best = d2, bj = j;
        }
        worst_dp = fmax(worst_dp, sqrt(best));
        for (int k = 0; k < 3; k++)
        {
            worst_dc = fmax(worst_dc, abs(dr->models[0].points.colors[4 * i + k] - pn->colors[4 * bj + k]));
            worst_dn = fmax(worst_dn, fabs(dr->models[0].points.normals[3 * i + k] - pn->normals[3 * bj + k]));
        }
    }
    fprintf(stderr, "  max diff: RGB565 %d, quantized pos %.2g m, oct16p normal %.3g, Draco pos %.2g m, Draco color %d, "
            "Draco normal %.2g\n", worst_c, worst_p, worst_n, worst_dp, worst_dc, worst_dn);
    CT_CHECK(worst_c <= 8);        /* 5 bits: steps of 255/31 = 8.2 */
    CT_CHECK(worst_p <= 1e-3);     /* 16 bits over 10 m: 0.15 mm (+ float32) */
    CT_CHECK(worst_n <= 0.02);     /* 8-bit oct: ~1 degree */
    CT_CHECK(worst_dp <= 0.01);    /* Draco quantized positions */
    CT_CHECK(worst_dc <= 2);
    CT_CHECK(worst_dn <= 0.02);
    ct_tile_content_destroy(rgb);
    ct_tile_content_destroy(c565);
    ct_tile_content_destroy(q);
    ct_tile_content_destroy(nrm);
    ct_tile_content_destroy(oct);
    ct_tile_content_destroy(dr);

    ct_tile_content *plain = load(LEGACY "Instanced/InstancedOrientation/instancedOrientation.i3dm");
    ct_tile_content *o32 = load(LEGACY "Instanced/InstancedOct32POrientation/instancedOct32POrientation.i3dm");
    ct_tile_content *qi = load(LEGACY "Instanced/InstancedQuantized/instancedQuantized.i3dm");
    ct_tile_content *rtc = load(LEGACY "Instanced/InstancedRTC/instancedRTC.i3dm");
    ct_tile_content *enu = load(LEGACY "Instanced/InstancedWithBatchTable/instancedWithBatchTable.i3dm");
    CT_REQUIRE(plain && o32 && qi && rtc && enu);
    double wr = 0, wt = 0, wq = 0, wer = 0;
    for (uint32_t i = 0; i < 25; i++) {
        const double *A = plain->models[0].instance_matrices + 16 * i, *B = o32->models[0].instance_matrices + 16 * i;
        const double *E = enu->models[0].instance_matrices + 16 * i, *R = rtc->models[0].instance_matrices + 16 * i;
        const double *Q = qi->models[0].instance_matrices + 16 * i;
        for (int k = 0; k < 12; k++)
            wr = fmax(wr, fabs(A[k] - B[k]));
        for (int k = 0; k < 12; k++)
            wer = fmax(wer, fabs(E[k] - R[k]));
        for (int k = 12; k < 15; k++)
            wt = fmax(wt, fabs(E[k] - R[k]));
        for (int k = 12; k < 15; k++)
            wq = fmax(wq, fabs(E[k] - Q[k]));
    }
    fprintf(stderr, "  max diff: oct32p rotation %.2g, RTC vs absolute position %.2g m (ENU frame %.2g), quantized "
            "position %.2g m\n", wr, wt, wer, wq);
    CT_CHECK(wr <= 1e-3);
    /* The absolute sample stores ECEF positions (~4.7e6 m) as float32: ulp 0.5 m, so up to 0.25 m off. */
    CT_CHECK(wt <= 0.26);
    CT_CHECK(wer <= 1e-6);
    CT_CHECK(wq <= 0.26);
    ct_tile_content_destroy(plain);
    ct_tile_content_destroy(o32);
    ct_tile_content_destroy(qi);
    ct_tile_content_destroy(rtc);
    ct_tile_content_destroy(enu);
}

CT_TEST(cmpt_external_gltf_and_offsets)
{
    ct_tile_content *c = load(LEGACY "Composite/CompositeOfInstanced/compositeOfInstanced.cmpt");
    CT_REQUIRE(c && c->model_count == 2);
    CT_CHECK(c->format == CT_TILE_FORMAT_CMPT);
    CT_CHECK(c->models[0].format == CT_TILE_FORMAT_I3DM && c->models[0].gltf);
    CT_CHECK_EQ_INT(c->models[0].byte_offset, 16);
    CT_CHECK_EQ_INT(c->models[1].byte_offset, 16 + 504); /* first inner byteLength is 504 */
    ct_tile_content_destroy(c);
    /* From memory with no base directory the external glTF cannot resolve. */
    size_t n;
    uint8_t *d = tb_read_file(ct_test_data(LEGACY "Instanced/InstancedGltfExternal/instancedGltfExternal.i3dm"), &n);
    ct_error err = {0};
    CT_CHECK(load_mem(d, n, &err) == NULL);
    CT_CHECK(strstr(err.msg, "box.glb") != NULL);
    free(d);
}

CT_TEST(sniff_kinds)
{
    CT_CHECK(ct_tile_format_sniff("{\"asset\":{\"version\":\"1.0\"},\"root\":{}}", 37) == CT_TILE_FORMAT_TILESET);
    CT_CHECK(ct_tile_format_sniff("{\"asset\":{\"version\":\"2.0\"}}", 27) == CT_TILE_FORMAT_GLTF);
    CT_CHECK(ct_tile_format_sniff("subt\1\0\0\0", 8) == CT_TILE_FORMAT_SUBTREE);
    CT_CHECK(ct_tile_format_sniff("xyz", 3) == CT_TILE_FORMAT_UNKNOWN);
    ct_tile_content *c = load("3dtiles/3d-tiles-tools/TilesetOfTilesets/tileset.json");
    CT_REQUIRE(c);
    CT_CHECK(c->format == CT_TILE_FORMAT_TILESET && c->model_count == 0);
    ct_tile_content_destroy(c);
    c = load("gltf/khronos-sample-assets/Box/glTF-Binary/Box.glb");
    CT_REQUIRE(c);
    CT_CHECK(c->format == CT_TILE_FORMAT_GLB && c->triangle_count == 12);
    ct_tile_content_destroy(c);
}

/* Decoding has no global state: four threads decode the same files at once
 * and must all get the single-threaded counts. */
static const char *thread_files[] = {
    LEGACY "Composite/Composite/composite.cmpt", LEGACY "PointCloud/PointCloudDracoBatched/pointCloudDracoBatched.pnts",
    LEGACY "Instanced/InstancedQuantizedOct32POrientation/instancedQuantizedOct32POrientation.i3dm",
    LEGACY "Batched/BatchedWithBatchTableBinary/batchedWithBatchTableBinary.b3dm"};
static char thread_paths[4][4096];
static uint64_t thread_expect[4];

static void *thread_main(void *arg)
{
    long bad = 0;
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < 4; i++) {
            ct_tile_content_options o = {.skip_images = true};
            ct_tile_content *c = NULL;
            ct_error err;
            if (ct_tile_content_load_file(thread_paths[i], &o, &c, &err)) {
                bad++;
                continue;
            }
            cJSON *f = ct_tile_content_feature_properties(c, 0, 1);
            bad += (c->triangle_count + c->point_count + c->instance_count * 1000 + c->feature_count) != thread_expect[i];
            cJSON_Delete(f);
            ct_tile_content_destroy(c);
        }
    return (void *)bad;
}

CT_TEST(threads_decode_concurrently)
{
    for (int i = 0; i < 4; i++) {
        snprintf(thread_paths[i], sizeof thread_paths[i], "%s", ct_test_data(thread_files[i]));
        ct_tile_content *c = load(thread_files[i]);
        CT_REQUIRE(c);
        thread_expect[i] = c->triangle_count + c->point_count + c->instance_count * 1000 + c->feature_count;
        ct_tile_content_destroy(c);
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CT_REQUIRE(pthread_create(&t[i], NULL, thread_main, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CT_CHECK_EQ_INT((long)r, 0);
    }
}

CT_TEST_MAIN(CT_CASE(threads_decode_concurrently), CT_CASE(batch_table_json_values), CT_CASE(batch_table_binary_values), CT_CASE(pnts_batched_features),
             CT_CASE(rtc_center_and_y_up), CT_CASE(gltf_up_axis_option), CT_CASE(i3dm_rotated_instances_match_rodrigues),
             CT_CASE(i3dm_scaled_instances), CT_CASE(i3dm_synthetic_hand_values), CT_CASE(pnts_synthetic_hand_values),
             CT_CASE(batch_table_hierarchy), CT_CASE(encodings_agree), CT_CASE(cmpt_external_gltf_and_offsets),
             CT_CASE(sniff_kinds))
