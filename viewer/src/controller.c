/* Camera controllers: orbit around a pivot, pan in the view plane, zoom to
 * the pivot, fly with WASD+QE, look around. All in double precision so they
 * behave the same 6400 km from the origin (ECEF) as near it. */
#include "citytwin/ct_geo.h"
#include "viewer_internal.h"

#include <math.h>
#include <string.h>

void ct_controller_init(ct_controller *c, const ct_camera *cam, ct_dvec3 center, double radius, bool geographic)
{
    memset(c, 0, sizeof *c);
    c->cam = c->home = *cam;
    c->center = c->pivot = center;
    c->radius = radius > 0 ? radius : 1;
    c->geographic = geographic;
    c->mode = CT_CTRL_ORBIT;
}

ct_dvec3 ct_controller_up(const ct_controller *c, ct_dvec3 at)
{
    if (!c->geographic)
        return ct_dvec3_make(0, 0, 1);
    double enu[16];
    ct_geo_enu_frame(at, enu);
    return ct_dvec3_make(enu[8], enu[9], enu[10]);
}

/* Rodrigues rotation of v about the unit axis k. */
static ct_dvec3 rotate(ct_dvec3 v, ct_dvec3 k, double angle)
{
    double c = cos(angle), s = sin(angle);
    return ct_dvec3_add(ct_dvec3_add(ct_dvec3_scale(v, c), ct_dvec3_scale(ct_dvec3_cross(k, v), s)),
                        ct_dvec3_scale(k, ct_dvec3_dot(k, v) * (1 - c)));
}

/* Rotates the camera about an axis through a point; refuses rotations that
 * would tip the camera over (its up vector below the horizon). */
static void rotate_about(ct_controller *c, ct_dvec3 point, ct_dvec3 axis, double angle, ct_dvec3 up_ref)
{
    ct_camera n = c->cam;
    n.position = ct_dvec3_add(point, rotate(ct_dvec3_sub(c->cam.position, point), axis, angle));
    n.direction = ct_dvec3_normalize(rotate(c->cam.direction, axis, angle));
    n.up = ct_dvec3_normalize(rotate(c->cam.up, axis, angle));
    if (ct_dvec3_dot(n.up, up_ref) < 0.02)
        return;
    c->cam = n;
}

void ct_controller_orbit(ct_controller *c, double dx, double dy, int height)
{
    double k = M_PI / (height > 0 ? height : 720); /* a drag across the window turns 180 degrees */
    ct_dvec3 up = ct_controller_up(c, c->pivot);
    rotate_about(c, c->pivot, up, -dx * k, up);
    rotate_about(c, c->pivot, ct_camera_right(&c->cam), -dy * k, up);
}

void ct_controller_look(ct_controller *c, double dx, double dy, int height)
{
    double k = (c->cam.fov_y_deg > 0 ? c->cam.fov_y_deg : 60) * M_PI / 180 / (height > 0 ? height : 720);
    ct_dvec3 up = ct_controller_up(c, c->cam.position);
    ct_dvec3 eye = c->cam.position;
    rotate_about(c, eye, up, -dx * k, up);
    rotate_about(c, eye, ct_camera_right(&c->cam), -dy * k, up);
    /* keep the pivot in front at the same distance */
    double d = ct_dvec3_length(ct_dvec3_sub(c->pivot, eye));
    c->pivot = ct_dvec3_add(eye, ct_dvec3_scale(c->cam.direction, d));
}

void ct_controller_pan(ct_controller *c, double dx, double dy, int height)
{
    double dist = ct_dvec3_length(ct_dvec3_sub(c->pivot, c->cam.position));
    double fov = (c->cam.fov_y_deg > 0 ? c->cam.fov_y_deg : 60) * M_PI / 180;
    double m_per_px = dist * 2 * tan(fov / 2) / (height > 0 ? height : 720);
    ct_dvec3 right = ct_camera_right(&c->cam), up = ct_dvec3_cross(right, c->cam.direction);
    ct_dvec3 move = ct_dvec3_add(ct_dvec3_scale(right, -dx * m_per_px), ct_dvec3_scale(up, dy * m_per_px));
    c->cam.position = ct_dvec3_add(c->cam.position, move);
    c->pivot = ct_dvec3_add(c->pivot, move);
}

void ct_controller_zoom(ct_controller *c, double clicks)
{
    ct_dvec3 off = ct_dvec3_sub(c->cam.position, c->pivot);
    double f = pow(0.85, clicks);
    double d = ct_dvec3_length(off) * f;
    if (d < 0.05) /* never reach the pivot */
        f = 0.05 / fmax(ct_dvec3_length(off), 1e-9);
    c->cam.position = ct_dvec3_add(c->pivot, ct_dvec3_scale(off, f));
}

void ct_controller_fly(ct_controller *c, double dt)
{
    const bool *k = c->keys;
    double f = (k[SDL_SCANCODE_W] ? 1 : 0) - (k[SDL_SCANCODE_S] ? 1 : 0);
    double s = (k[SDL_SCANCODE_D] ? 1 : 0) - (k[SDL_SCANCODE_A] ? 1 : 0);
    double u = (k[SDL_SCANCODE_E] ? 1 : 0) - (k[SDL_SCANCODE_Q] ? 1 : 0);
    if (f == 0 && s == 0 && u == 0)
        return;
    /* speed follows the distance to what is looked at: slow near, fast far */
    double dist = ct_dvec3_length(ct_dvec3_sub(c->pivot, c->cam.position));
    double speed = fmax(dist, c->radius * 0.02) * 0.5;
    if (k[SDL_SCANCODE_LSHIFT] || k[SDL_SCANCODE_RSHIFT])
        speed *= 4;
    ct_dvec3 up = ct_controller_up(c, c->cam.position);
    ct_dvec3 move = ct_dvec3_add(ct_dvec3_add(ct_dvec3_scale(c->cam.direction, f), ct_dvec3_scale(ct_camera_right(&c->cam), s)),
                                 ct_dvec3_scale(up, u));
    move = ct_dvec3_scale(move, speed * dt);
    c->cam.position = ct_dvec3_add(c->cam.position, move);
    c->pivot = ct_dvec3_add(c->pivot, move);
}

void ct_controller_update_clip(ct_controller *c)
{
    double dist = ct_dvec3_length(ct_dvec3_sub(c->center, c->cam.position));
    double far = (dist + c->radius) * 1.5;
    double near = fmax(fmax(dist - c->radius, 0) * 0.5, far * 1e-6);
    c->cam.near_m = fmax(near, 1e-3);
    c->cam.far_m = fmax(far, 1.0);
}
