/* Double-precision perspective camera: CesiumJS-style orientation, fitting,
 * view/projection matrices, frustum planes and screen-space error. */
#include "citytwin/ct_camera.h"
#include "citytwin/ct_geo.h"

#include <math.h>
#include <string.h>

#define DEG (M_PI / 180.0)

static double fov_y(const ct_camera *c) { return (c->fov_y_deg > 0 ? c->fov_y_deg : 60.0) * DEG; }
static double aspect(const ct_camera *c) { return c->aspect > 0 ? c->aspect : 1.0; }
static double near_of(const ct_camera *c) { return c->near_m > 0 ? c->near_m : 0.1; }
static double far_of(const ct_camera *c) { return c->far_m > 0 ? c->far_m : 1e7; }

void ct_camera_init(ct_camera *cam)
{
    memset(cam, 0, sizeof *cam);
    cam->direction = ct_dvec3_make(0, 1, 0);
    cam->up = ct_dvec3_make(0, 0, 1);
    cam->fov_y_deg = 60;
    cam->aspect = 1;
    cam->near_m = 0.1;
    cam->far_m = 1e7;
}

/* Direction and up of heading/pitch/roll in an east-north-up basis (CesiumJS
 * Camera.setView: columns of R_z(-heading+90) R_y(-pitch) R_x(roll)). */
static void hpr_local(double h, double p, double r, ct_dvec3 *dir, ct_dvec3 *up)
{
    *dir = ct_dvec3_make(sin(h) * cos(p), cos(h) * cos(p), sin(p));
    ct_dvec3 up0 = ct_dvec3_make(-sin(p) * sin(h), -sin(p) * cos(h), cos(p));
    ct_dvec3 right0 = ct_dvec3_make(cos(h), -sin(h), 0);
    *up = ct_dvec3_add(ct_dvec3_scale(up0, cos(r)), ct_dvec3_scale(right0, sin(r)));
}

/* frame: columns east, north, up (and origin, ignored here). */
static ct_dvec3 frame_dir(const double f[16], ct_dvec3 v)
{
    return ct_dvec3_make(f[0] * v.x + f[4] * v.y + f[8] * v.z, f[1] * v.x + f[5] * v.y + f[9] * v.z,
                         f[2] * v.x + f[6] * v.y + f[10] * v.z);
}

static ct_dvec3 frame_dir_inverse(const double f[16], ct_dvec3 v)
{
    return ct_dvec3_make(f[0] * v.x + f[1] * v.y + f[2] * v.z, f[4] * v.x + f[5] * v.y + f[6] * v.z,
                         f[8] * v.x + f[9] * v.y + f[10] * v.z);
}

static void set_oriented(ct_camera *cam, ct_dvec3 pos, const double frame[16], double h, double p, double r)
{
    ct_dvec3 d, u;
    hpr_local(h * DEG, p * DEG, r * DEG, &d, &u);
    cam->position = pos;
    cam->direction = ct_dvec3_normalize(frame_dir(frame, d));
    cam->up = ct_dvec3_normalize(frame_dir(frame, u));
}

void ct_camera_set_cesium(ct_camera *cam, double lon, double lat, double height, double h, double p, double r)
{
    ct_dvec3 pos = ct_geo_ecef_from_lonlat(lon, lat, height);
    double frame[16];
    ct_geo_enu_frame(pos, frame);
    set_oriented(cam, pos, frame, h, p, r);
}

void ct_camera_set_local(ct_camera *cam, double x, double y, double z, double h, double p, double r)
{
    double id[16];
    ct_dmat4_identity(id);
    set_oriented(cam, ct_dvec3_make(x, y, z), id, h, p, r);
}

ct_camera ct_camera_from_cesium(double lon, double lat, double height, double h, double p, double r)
{
    ct_camera c;
    ct_camera_init(&c);
    ct_camera_set_cesium(&c, lon, lat, height, h, p, r);
    return c;
}

ct_camera ct_camera_from_local(double x, double y, double z, double h, double p, double r)
{
    ct_camera c;
    ct_camera_init(&c);
    ct_camera_set_local(&c, x, y, z, h, p, r);
    return c;
}

void ct_camera_look_at(ct_camera *cam, ct_dvec3 eye, ct_dvec3 target, ct_dvec3 up)
{
    ct_dvec3 d = ct_dvec3_normalize(ct_dvec3_sub(target, eye));
    ct_dvec3 right = ct_dvec3_cross(d, up);
    if (ct_dvec3_length(right) < 1e-12) /* up parallel to the view: any perpendicular will do */
        right = ct_dvec3_cross(d, fabs(d.x) < 0.9 ? ct_dvec3_make(1, 0, 0) : ct_dvec3_make(0, 1, 0));
    right = ct_dvec3_normalize(right);
    cam->position = eye;
    cam->direction = d;
    cam->up = ct_dvec3_normalize(ct_dvec3_cross(right, d));
}

void ct_camera_get_hpr(const ct_camera *cam, bool geographic, double *heading, double *pitch, double *roll)
{
    double frame[16];
    if (geographic)
        ct_geo_enu_frame(cam->position, frame);
    else
        ct_dmat4_identity(frame);
    ct_dvec3 d = frame_dir_inverse(frame, cam->direction), u = frame_dir_inverse(frame, cam->up);
    double p = asin(fmax(-1.0, fmin(1.0, d.z))), h, r;
    if (fabs(cos(p)) < 1e-9) { /* straight up/down: heading from the up vector, no roll */
        h = p < 0 ? atan2(u.x, u.y) : atan2(-u.x, -u.y);
        r = 0;
    } else {
        h = atan2(d.x, d.y);
        ct_dvec3 up0 = ct_dvec3_make(-sin(p) * sin(h), -sin(p) * cos(h), cos(p));
        ct_dvec3 right0 = ct_dvec3_make(cos(h), -sin(h), 0);
        r = atan2(ct_dvec3_dot(u, right0), ct_dvec3_dot(u, up0));
    }
    if (h < 0)
        h += 2 * M_PI;
    if (h > 2 * M_PI - 1e-12) /* -0 rounding: report 0, not 360 */
        h = 0;
    *heading = h / DEG;
    *pitch = p / DEG;
    *roll = r / DEG;
}

void ct_camera_clip_to_sphere(ct_camera *cam, ct_dvec3 center, double radius)
{
    double dist = ct_dvec3_length(ct_dvec3_sub(center, cam->position));
    double far = dist + radius;
    if (far < 1)
        far = 1;
    double near = dist - radius;
    if (near < far * 1e-6)
        near = far * 1e-6;
    if (near < 1e-3)
        near = 1e-3;
    cam->near_m = near;
    cam->far_m = far * 1.01; /* a little slack so the far side is not clipped by rounding */
}

void ct_camera_fit_sphere(ct_camera *cam, ct_dvec3 center, double radius, bool geographic)
{
    if (!(radius > 0))
        radius = 1;
    double half_y = fov_y(cam) / 2, half_x = atan(tan(half_y) * aspect(cam));
    double half = half_x < half_y ? half_x : half_y;
    double dist = radius / sin(half);
    double frame[16];
    if (geographic)
        ct_geo_enu_frame(center, frame);
    else
        ct_dmat4_identity(frame);
    set_oriented(cam, center, frame, 0, -45, 0);
    cam->position = ct_dvec3_sub(center, ct_dvec3_scale(cam->direction, dist));
    ct_camera_clip_to_sphere(cam, center, radius);
}

ct_dvec3 ct_camera_right(const ct_camera *cam)
{
    return ct_dvec3_normalize(ct_dvec3_cross(cam->direction, cam->up));
}

void ct_camera_view_rotation(const ct_camera *cam, double m[16])
{
    ct_dvec3 r = ct_camera_right(cam), d = cam->direction;
    ct_dvec3 u = ct_dvec3_cross(r, d); /* re-orthogonalized */
    double v[16] = {r.x, u.x, -d.x, 0, r.y, u.y, -d.y, 0, r.z, u.z, -d.z, 0, 0, 0, 0, 1};
    memcpy(m, v, sizeof v);
}

void ct_camera_view(const ct_camera *cam, double m[16])
{
    ct_camera_view_rotation(cam, m);
    ct_dvec3 e = cam->position;
    m[12] = -(m[0] * e.x + m[4] * e.y + m[8] * e.z);
    m[13] = -(m[1] * e.x + m[5] * e.y + m[9] * e.z);
    m[14] = -(m[2] * e.x + m[6] * e.y + m[10] * e.z);
}

void ct_camera_projection(const ct_camera *cam, bool reversed_z, double m[16])
{
    double f = 1.0 / tan(fov_y(cam) / 2), a = aspect(cam), n = near_of(cam), fa = far_of(cam);
    memset(m, 0, 16 * sizeof(double));
    m[0] = f / a;
    m[5] = f;
    m[11] = -1;
    if (reversed_z) { /* z_ndc = (A z + B) / -z: 1 at z = -n, 0 at z = -far */
        m[10] = n / (fa - n);
        m[14] = fa * n / (fa - n);
    } else {
        m[10] = -(fa + n) / (fa - n);
        m[14] = -2 * fa * n / (fa - n);
    }
}

static void plane_set(double pl[4], ct_dvec3 n, ct_dvec3 point)
{
    n = ct_dvec3_normalize(n);
    pl[0] = n.x;
    pl[1] = n.y;
    pl[2] = n.z;
    pl[3] = -ct_dvec3_dot(n, point);
}

void ct_camera_frustum_planes(const ct_camera *cam, double planes[6][4])
{
    ct_dvec3 d = cam->direction, r = ct_camera_right(cam), u = ct_dvec3_cross(r, d), e = cam->position;
    double ty = tan(fov_y(cam) / 2), tx = ty * aspect(cam);
    /* A point p is inside the left plane when dot(p-e, r) >= -tx * dot(p-e, d). */
    plane_set(planes[CT_FRUSTUM_LEFT], ct_dvec3_add(r, ct_dvec3_scale(d, tx)), e);
    plane_set(planes[CT_FRUSTUM_RIGHT], ct_dvec3_sub(ct_dvec3_scale(d, tx), r), e);
    plane_set(planes[CT_FRUSTUM_BOTTOM], ct_dvec3_add(u, ct_dvec3_scale(d, ty)), e);
    plane_set(planes[CT_FRUSTUM_TOP], ct_dvec3_sub(ct_dvec3_scale(d, ty), u), e);
    plane_set(planes[CT_FRUSTUM_NEAR], d, ct_dvec3_add(e, ct_dvec3_scale(d, near_of(cam))));
    plane_set(planes[CT_FRUSTUM_FAR], ct_dvec3_scale(d, -1), ct_dvec3_add(e, ct_dvec3_scale(d, far_of(cam))));
}

int ct_camera_sphere_visibility(const double planes[6][4], ct_dvec3 c, double radius)
{
    int result = 1;
    for (int i = 0; i < 6; i++) {
        double s = planes[i][0] * c.x + planes[i][1] * c.y + planes[i][2] * c.z + planes[i][3];
        if (s < -radius)
            return -1;
        if (s < radius)
            result = 0;
    }
    return result;
}

double ct_camera_sse_denominator(const ct_camera *cam) { return 2.0 * tan(fov_y(cam) / 2); }

double ct_camera_screen_space_error(const ct_camera *cam, double geometric_error, double distance, int height)
{
    if (distance < 1e-9)
        distance = 1e-9;
    return geometric_error * height / (distance * ct_camera_sse_denominator(cam));
}

void ct_camera_pixel_ray(const ct_camera *cam, double px, double py, int width, int height, ct_dvec3 *origin,
                         ct_dvec3 *dir)
{
    double ty = tan(fov_y(cam) / 2), tx = ty * aspect(cam);
    double nx = 2.0 * px / width - 1.0, ny = 1.0 - 2.0 * py / height;
    ct_dvec3 r = ct_camera_right(cam), u = ct_dvec3_cross(r, cam->direction);
    *origin = cam->position;
    *dir = ct_dvec3_normalize(
        ct_dvec3_add(cam->direction, ct_dvec3_add(ct_dvec3_scale(r, nx * tx), ct_dvec3_scale(u, ny * ty))));
}
