#include "citytwin/ct_core.h"
#include "citytwin/ct_geo.h"
#include "citytwin/ct_math.h"
#include "ct_test.h"

CT_TEST(test_error_and_paths)
{
    ct_error err = {0};
    CT_CHECK(ct_error_set(&err, CT_ERR_INPUT, "bad %d", 7) == CT_ERR_INPUT);
    CT_CHECK(!strcmp(err.msg, "bad 7"));
    ct_error_prefix(&err, "x.glb: ");
    CT_CHECK(!strcmp(err.msg, "x.glb: bad 7"));
    char *d = ct_path_dirname("a/b/c.gltf");
    CT_CHECK(!strcmp(d, "a/b"));
    free(d);
    d = ct_path_dirname("c.gltf");
    CT_CHECK(!strcmp(d, "."));
    free(d);
    char *j = ct_path_join("a/b", "c/d.bin");
    CT_CHECK(!strcmp(j, "a/b/c/d.bin"));
    free(j);
    CT_CHECK(!strcmp(ct_path_ext("x/y.z/file.glb"), ".glb"));
    CT_CHECK(!strcmp(ct_path_ext("x/y.z/file"), ""));
    uint8_t *data;
    size_t size;
    CT_CHECK(ct_file_read("/nonexistent/file", 0, &data, &size, &err) == CT_ERR_INPUT);
    CT_CHECK(strstr(err.msg, "/nonexistent/file") != NULL);
    CT_CHECK(ct_malloc_array(SIZE_MAX / 2, 4) == NULL);
}

/* ct_array_grow: doubling from 16, contents kept, nothing touched on failure. */
CT_TEST(test_array_grow)
{
    int *a = NULL;
    size_t cap = 0;
    /* zero: nothing needed, nothing allocated */
    CT_CHECK(ct_array_grow(&a, &cap, 0, sizeof *a));
    CT_CHECK(a == NULL && cap == 0);
    /* an item of size 0 is refused */
    CT_CHECK(!ct_array_grow(&a, &cap, 1, 0));
    CT_CHECK(a == NULL && cap == 0);
    /* growth one by one: 16, 32, 64, ... (7 reallocations for 1000 items), values kept */
    int grows = 0;
    for (int i = 0; i < 1000; i++) {
        size_t before = cap;
        CT_REQUIRE(ct_array_grow(&a, &cap, (size_t)i + 1, sizeof *a));
        grows += cap != before;
        a[i] = 3 * i;
    }
    CT_CHECK_EQ_INT(cap, 1024);
    CT_CHECK_EQ_INT(grows, 7);
    int bad = 0;
    for (int i = 0; i < 1000; i++)
        bad += a[i] != 3 * i;
    CT_CHECK_EQ_INT(bad, 0);
    /* enough room: the same block */
    int *same = a;
    CT_CHECK(ct_array_grow(&a, &cap, 1024, sizeof *a) && a == same && cap == 1024);
    /* a jump past the double: doubled until it fits */
    CT_CHECK(ct_array_grow(&a, &cap, 5000, sizeof *a) && cap == 8192);
    CT_CHECK(a[999] == 2997);
    /* overflow: count * size past SIZE_MAX fails and leaves the array alone */
    int *kept = a;
    CT_CHECK(!ct_array_grow(&a, &cap, SIZE_MAX / sizeof *a + 1, sizeof *a));
    CT_CHECK(!ct_array_grow(&a, &cap, SIZE_MAX, 2));
    CT_CHECK(a == kept && cap == 8192 && a[999] == 2997);
    free(a);
    /* from empty with a large first need: exactly the doubled 16 */
    double *d = NULL;
    size_t dcap = 0;
    CT_CHECK(ct_array_grow(&d, &dcap, 17, sizeof *d) && dcap == 32);
    free(d);
}

CT_TEST(test_matrix)
{
    double t[3] = {1, 2, 3}, q[4] = {0, 0.7071067811865476, 0, 0.7071067811865476}, s[3] = {2, 2, 2};
    double m[16], inv[16], id[16];
    ct_dmat4_from_trs(m, t, q, s);
    ct_dvec3 p = ct_dmat4_transform_point(m, ct_dvec3_make(1, 0, 0));
    /* 90 degrees about +y maps +x to -z; scaled by 2 then translated. */
    CT_CHECK_NEAR(p.x, 1, 1e-12);
    CT_CHECK_NEAR(p.y, 2, 1e-12);
    CT_CHECK_NEAR(p.z, 1, 1e-12);
    CT_REQUIRE(ct_dmat4_invert(inv, m));
    ct_dmat4_mul(id, m, inv);
    for (int i = 0; i < 16; i++)
        CT_CHECK_NEAR(id[i], (i % 5) == 0 ? 1 : 0, 1e-12);
    CT_CHECK_NEAR(ct_dmat4_determinant(m), 8, 1e-12);
}

CT_TEST(test_geodesy)
{
    /* Equator / prime meridian: x = a. */
    ct_dvec3 e = ct_geo_ecef_from_lonlat(0, 0, 0);
    CT_CHECK_NEAR(e.x, 6378137.0, 1e-6);
    CT_CHECK_NEAR(e.y, 0, 1e-6);
    /* North pole: z = b. */
    e = ct_geo_ecef_from_lonlat(0, 90, 0);
    CT_CHECK_NEAR(e.z, 6356752.314245, 1e-3);
    /* Round trip a point in the city. */
    e = ct_geo_ecef_from_lonlat(113.2644, 23.1291, 35.5);
    ct_dvec3 ll = ct_geo_lonlat_from_ecef(e);
    CT_CHECK_NEAR(ll.x, 113.2644, 1e-10);
    CT_CHECK_NEAR(ll.y, 23.1291, 1e-10);
    CT_CHECK_NEAR(ll.z, 35.5, 1e-6);
    double f[16];
    ct_geo_enu_frame(e, f);
    ct_dvec3 up = {f[8], f[9], f[10]};
    ct_dvec3 up_pt = ct_geo_ecef_from_lonlat(113.2644, 23.1291, 1035.5);
    ct_dvec3 d = ct_dvec3_normalize(ct_dvec3_sub(up_pt, e));
    CT_CHECK_NEAR(ct_dvec3_dot(up, d), 1, 1e-12);
    /* CGCS2000 -> 3-degree Gauss-Krueger zone 38 (CM 114E). */
    ct_crs_transform *t;
    ct_error err;
    CT_REQUIRE(ct_crs_transform_create("EPSG:4490", "EPSG:4547", &t, &err) == CT_OK);
    double x = 114.0, y = 23.0;
    CT_CHECK(ct_crs_transform_points(t, 1, &x, &y, NULL, &err) == CT_OK);
    CT_CHECK_NEAR(x, 500000.0, 1e-3); /* on the central meridian */
    CT_CHECK(y > 2540000 && y < 2550000);
    ct_crs_transform_destroy(t);
    CT_CHECK(ct_crs_is_geographic("EPSG:4326"));
    CT_CHECK(!ct_crs_is_geographic("EPSG:4547"));
}

CT_TEST_MAIN(CT_CASE(test_error_and_paths), CT_CASE(test_array_grow), CT_CASE(test_matrix), CT_CASE(test_geodesy))
