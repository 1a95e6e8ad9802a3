/* Camera: orientation convention, matrices, fitting, frustum and SSE against
 * values computed by hand (see comments). */
#include "citytwin/ct_camera.h"
#include "citytwin/ct_geo.h"
#include "ct_test.h"

#define CHECK_VEC(v, X, Y, Z, tol)      \
    do {                                \
        CT_CHECK_NEAR((v).x, X, tol);   \
        CT_CHECK_NEAR((v).y, Y, tol);   \
        CT_CHECK_NEAR((v).z, Z, tol);   \
    } while (0)

CT_TEST(test_cesium_orientation)
{
    /* lon 0 lat 0: ENU = east (0,1,0), north (0,0,1), up (1,0,0); position on the equator at a = 6378137. */
    ct_camera c = ct_camera_from_cesium(0, 0, 0, 0, 0, 0);
    CHECK_VEC(c.position, 6378137.0, 0, 0, 1e-6);
    CHECK_VEC(c.direction, 0, 0, 1, 1e-12); /* looking north */
    CHECK_VEC(c.up, 1, 0, 0, 1e-12);
    /* heading 90 = looking east; at lon 90 east is (-1,0,0) */
    c = ct_camera_from_cesium(90, 0, 100, 90, 0, 0);
    CHECK_VEC(c.position, 0, 6378237.0, 0, 1e-6);
    CHECK_VEC(c.direction, -1, 0, 0, 1e-12);
    CHECK_VEC(c.up, 0, 1, 0, 1e-12);
    /* pitch -90 looks straight down, north at the top of the screen */
    c = ct_camera_from_cesium(0, 0, 0, 0, -90, 0);
    CHECK_VEC(c.direction, -1, 0, 0, 1e-12);
    CHECK_VEC(c.up, 0, 0, 1, 1e-12);
    /* roll 90 (Cesium: up turns to the right vector of the unrolled camera = east) */
    c = ct_camera_from_cesium(0, 0, 0, 0, 0, 90);
    CHECK_VEC(c.direction, 0, 0, 1, 1e-12);
    CHECK_VEC(c.up, 0, 1, 0, 1e-12);
}

CT_TEST(test_local_orientation_and_view)
{
    /* heading 180, pitch -30: dir = (sin180 cos30, cos180 cos30, sin -30) = (0, -0.866025, -0.5) */
    ct_camera c = ct_camera_from_local(10, 20, 30, 180, -30, 0);
    CHECK_VEC(c.direction, 0, -0.8660254037844386, -0.5, 1e-12);
    CHECK_VEC(c.up, 0, -0.5, 0.8660254037844386, 1e-12);
    /* camera at origin looking +y, up +z: the point (1, 10, 2) is right 1, up 2, 10 in front */
    c = ct_camera_from_local(0, 0, 0, 0, 0, 0);
    double v[16];
    ct_camera_view(&c, v);
    ct_dvec3 p = ct_dmat4_transform_point(v, ct_dvec3_make(1, 10, 2));
    CHECK_VEC(p, 1, 2, -10, 1e-12);
    /* the same with the eye moved: translation is part of the view */
    c = ct_camera_from_local(100, 200, 300, 0, 0, 0);
    ct_camera_view(&c, v);
    p = ct_dmat4_transform_point(v, ct_dvec3_make(101, 210, 302));
    CHECK_VEC(p, 1, 2, -10, 1e-9);
    ct_camera_view_rotation(&c, v);
    CT_CHECK_NEAR(v[12], 0, 0);
    CT_CHECK_NEAR(v[13], 0, 0);
}

CT_TEST(test_hpr_round_trip)
{
    double hs[] = {0, 30, 135, 270, 359}, ps[] = {-80, -45, 0, 20}, rs[] = {0, 10, -25};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++) {
                ct_camera c = ct_camera_from_cesium(114.1, 22.5, 500, hs[i], ps[j], rs[k]);
                double h, p, r;
                ct_camera_get_hpr(&c, true, &h, &p, &r);
                CT_CHECK_NEAR(h, hs[i], 1e-7);
                CT_CHECK_NEAR(p, ps[j], 1e-7);
                CT_CHECK_NEAR(r, rs[k], 1e-7);
                c = ct_camera_from_local(1, 2, 3, hs[i], ps[j], rs[k]);
                ct_camera_get_hpr(&c, false, &h, &p, &r);
                CT_CHECK_NEAR(h, hs[i], 1e-9);
                CT_CHECK_NEAR(p, ps[j], 1e-9);
                CT_CHECK_NEAR(r, rs[k], 1e-9);
            }
}

CT_TEST(test_projection)
{
    ct_camera c = ct_camera_from_local(0, 0, 0, 0, 0, 0);
    c.fov_y_deg = 90;
    c.aspect = 2;
    c.near_m = 1;
    c.far_m = 1000;
    double P[16];
    ct_camera_projection(&c, true, P);
    /* fov 90: f = 1; aspect 2: x scale 0.5. Reversed-Z: near -> 1, far -> 0. */
    CT_CHECK_NEAR(P[0], 0.5, 1e-15);
    CT_CHECK_NEAR(P[5], 1.0, 1e-15);
    double zs[] = {-1, -1000};
    double expect[] = {1, 0};
    for (int i = 0; i < 2; i++) {
        double z = zs[i], cz = P[10] * z + P[14], cw = P[11] * z;
        CT_CHECK_NEAR(cz / cw, expect[i], 1e-12);
    }
    ct_camera_projection(&c, false, P);
    double expect_gl[] = {-1, 1};
    for (int i = 0; i < 2; i++) {
        double z = zs[i], cz = P[10] * z + P[14], cw = P[11] * z;
        CT_CHECK_NEAR(cz / cw, expect_gl[i], 1e-12);
    }
}

CT_TEST(test_fit_sphere)
{
    ct_camera c;
    ct_camera_init(&c);
    /* fov 60, aspect 1: distance r / sin(30) = 2r, at pitch -45 from the south */
    ct_camera_fit_sphere(&c, ct_dvec3_make(0, 0, 0), 1, false);
    CHECK_VEC(c.position, 0, -sqrt(2.0), sqrt(2.0), 1e-12);
    CHECK_VEC(c.direction, 0, sqrt(0.5), -sqrt(0.5), 1e-12);
    CT_CHECK(c.near_m <= 1.0 + 1e-9 && c.far_m >= 3.0);
    /* aspect 0.5: the horizontal half angle atan(tan 30 / 2) limits: sin = 1/sqrt(13), distance sqrt(13) r */
    c.aspect = 0.5;
    ct_camera_fit_sphere(&c, ct_dvec3_make(5, 6, 7), 2, false);
    CT_CHECK_NEAR(ct_dvec3_length(ct_dvec3_sub(c.position, ct_dvec3_make(5, 6, 7))), 2 * sqrt(13.0), 1e-9);
    /* ... so the sphere touches the left and right planes */
    double pl[6][4];
    ct_camera_frustum_planes(&c, pl);
    for (int i = 0; i < 2; i++)
        CT_CHECK_NEAR(pl[i][0] * 5 + pl[i][1] * 6 + pl[i][2] * 7 + pl[i][3], 2.0, 1e-9);
    /* geographic: heading 0, pitch -45 in the ENU frame at the centre */
    ct_camera g;
    ct_camera_init(&g);
    ct_dvec3 ctr = ct_geo_ecef_from_lonlat(114.0, 22.5, 10);
    ct_camera_fit_sphere(&g, ctr, 500, true);
    CT_CHECK_NEAR(ct_dvec3_length(ct_dvec3_sub(g.position, ctr)), 1000, 1e-6);
    double enu[16];
    ct_geo_enu_frame(ctr, enu);
    ct_dvec3 north = {enu[4], enu[5], enu[6]}, up = {enu[8], enu[9], enu[10]};
    CT_CHECK_NEAR(ct_dvec3_dot(g.direction, north), sqrt(0.5), 1e-9);
    CT_CHECK_NEAR(ct_dvec3_dot(g.direction, up), -sqrt(0.5), 1e-9);
}

CT_TEST(test_frustum_and_sse)
{
    ct_camera c = ct_camera_from_local(0, 0, 0, 0, 0, 0);
    c.fov_y_deg = 90;
    c.aspect = 1;
    c.near_m = 1;
    c.far_m = 100;
    double pl[6][4];
    ct_camera_frustum_planes(&c, pl);
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(0, 10, 0), 1), 1);
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(12, 10, 0), 1), -1); /* beyond x = y */
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(10, 10, 0), 1), 0);
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(0, -5, 0), 1), -1); /* behind */
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(0, 150, 0), 10), -1); /* past far */
    CT_CHECK_EQ_INT(ct_camera_sphere_visibility(pl, ct_dvec3_make(0, 10, 12), 1), -1); /* above top: (12-10)/sqrt2 > 1 */
    /* left plane: normal (1,1,0)/sqrt2 through the origin */
    CT_CHECK_NEAR(pl[CT_FRUSTUM_LEFT][0], sqrt(0.5), 1e-12);
    CT_CHECK_NEAR(pl[CT_FRUSTUM_LEFT][1], sqrt(0.5), 1e-12);
    CT_CHECK_NEAR(pl[CT_FRUSTUM_NEAR][3], -1, 1e-12);
    CT_CHECK_NEAR(pl[CT_FRUSTUM_FAR][3], 100, 1e-12);
    /* SSE, fov 60: 2 tan 30 = 1.154700538; 10 m error at 100 m on 1000 px = 86.60254 px */
    c.fov_y_deg = 60;
    CT_CHECK_NEAR(ct_camera_sse_denominator(&c), 1.1547005383792515, 1e-12);
    CT_CHECK_NEAR(ct_camera_screen_space_error(&c, 10, 100, 1000), 86.60254037844386, 1e-9);
}

CT_TEST(test_pixel_ray)
{
    ct_camera c = ct_camera_from_local(1, 2, 3, 0, 0, 0);
    c.fov_y_deg = 90;
    c.aspect = 1;
    ct_dvec3 o, d;
    ct_camera_pixel_ray(&c, 50, 50, 100, 100, &o, &d);
    CHECK_VEC(o, 1, 2, 3, 0);
    CHECK_VEC(d, 0, 1, 0, 1e-12);
    /* top-left corner: forward - right + up, normalized */
    ct_camera_pixel_ray(&c, 0, 0, 100, 100, &o, &d);
    double s = 1 / sqrt(3.0);
    CHECK_VEC(d, -s, s, s, 1e-12);
}

CT_TEST_MAIN(CT_CASE(test_cesium_orientation), CT_CASE(test_local_orientation_and_view), CT_CASE(test_hpr_round_trip),
             CT_CASE(test_projection), CT_CASE(test_fit_sphere), CT_CASE(test_frustum_and_sse), CT_CASE(test_pixel_ray))
