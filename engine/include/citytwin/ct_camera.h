/* A double-precision perspective camera (no GL).
 *
 * World frames: every scene frame is z-up. Geographic scenes use ECEF
 * (EPSG:4978); scenes without a geographic CRS use a local frame with x =
 * east, y = north, z = up (glTF models are converted from y-up to z-up the
 * way 3D Tiles does: (x, y, z)_gltf -> (x, -z, y)).
 *
 * Orientation follows CesiumJS: heading clockwise from north, pitch negative
 * looking down, roll about the view direction, all in the east-north-up frame
 * at the camera position (degrees in the API).
 *
 * The view matrix is split for rendering relative to the eye (RTE): the
 * renderer builds model-view = view_rotation * (world - eye) in double and only
 * then casts to float (DESIGN.md "Precision"). */
#ifndef CT_CAMERA_H
#define CT_CAMERA_H

#include "citytwin/ct_math.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_camera {
    ct_dvec3 position;  /* eye, world frame */
    ct_dvec3 direction; /* unit forward */
    ct_dvec3 up;        /* unit up, orthogonal to direction */
    double fov_y_deg;   /* vertical field of view; 0 = 60 */
    double aspect;      /* width / height; 0 = 1 */
    double near_m, far_m; /* clip distances; 0 = 0.1 and 1e7 */
} ct_camera;

/* Defaults: at the origin looking north (+y) with z up, fov 60, aspect 1. */
void ct_camera_init(ct_camera *cam);

/* CesiumJS view in ECEF: lon/lat degrees, ellipsoidal height metres, heading,
 * pitch, roll degrees. Keeps fov/aspect/near/far. */
void ct_camera_set_cesium(ct_camera *cam, double lon_deg, double lat_deg, double height_m, double heading_deg,
                          double pitch_deg, double roll_deg);
/* The same convention in a local z-up frame (x east, y north): scene X/Y/Z. */
void ct_camera_set_local(ct_camera *cam, double x, double y, double z, double heading_deg, double pitch_deg,
                         double roll_deg);
/* Convenience constructors returning a fresh camera (fov 60, aspect 1). */
ct_camera ct_camera_from_cesium(double lon_deg, double lat_deg, double height_m, double heading_deg,
                                double pitch_deg, double roll_deg);
ct_camera ct_camera_from_local(double x, double y, double z, double heading_deg, double pitch_deg, double roll_deg);
/* Eye, target, approximate up (world frame). */
void ct_camera_look_at(ct_camera *cam, ct_dvec3 eye, ct_dvec3 target, ct_dvec3 up);

/* Heading/pitch/roll (degrees) of the camera in the ENU frame at its position
 * (geographic = ECEF world) or in the local z-up frame. */
void ct_camera_get_hpr(const ct_camera *cam, bool geographic, double *heading_deg, double *pitch_deg,
                       double *roll_deg);

/* Frames the bounding sphere: heading 0 (looking north), pitch -45 degrees,
 * from the south, the whole sphere inside the narrower of the two fields of
 * view; sets near/far from the sphere. geographic: the world is ECEF and the
 * frame is east-north-up at the centre; else the world is local z-up. */
void ct_camera_fit_sphere(ct_camera *cam, ct_dvec3 center, double radius, bool geographic);
/* Chooses near/far so the sphere is inside [near, far]: far = distance to the
 * sphere's far side, near = max(distance to its near side, far * 1e-6, 1e-3)
 * (reversed-Z keeps depth precision with a tiny near plane). */
void ct_camera_clip_to_sphere(ct_camera *cam, ct_dvec3 center, double radius);

ct_dvec3 ct_camera_right(const ct_camera *cam);
/* World -> view (eye at origin, looking down -z, y up), translation included. */
void ct_camera_view(const ct_camera *cam, double out[16]);
/* Rotation part only (the eye stays at the origin): for RTE rendering. */
void ct_camera_view_rotation(const ct_camera *cam, double out[16]);
/* Projection. reversed_z: depth 1 at near, 0 at far, clip z in [0, 1] (for
 * glClipControl(GL_LOWER_LEFT, GL_ZERO_TO_ONE) and GL_GREATER); else the
 * classic OpenGL [-1, 1] depth range. */
void ct_camera_projection(const ct_camera *cam, bool reversed_z, double out[16]);

/* Frustum planes in world coordinates: a*x + b*y + c*z + d >= 0 inside, (a,b,c)
 * unit. Order: left, right, bottom, top, near, far. */
typedef enum { CT_FRUSTUM_LEFT, CT_FRUSTUM_RIGHT, CT_FRUSTUM_BOTTOM, CT_FRUSTUM_TOP, CT_FRUSTUM_NEAR, CT_FRUSTUM_FAR } ct_frustum_plane;
void ct_camera_frustum_planes(const ct_camera *cam, double planes[6][4]);
/* -1 outside, 0 intersecting, 1 inside. */
int ct_camera_sphere_visibility(const double planes[6][4], ct_dvec3 center, double radius);

/* 3D Tiles screen-space error: sse = geometric_error * viewport_height /
 * (distance * ct_camera_sse_denominator(cam)), with the denominator
 * 2 * tan(fov_y / 2) (as CesiumJS). */
double ct_camera_sse_denominator(const ct_camera *cam);
double ct_camera_screen_space_error(const ct_camera *cam, double geometric_error, double distance,
                                    int viewport_height);

/* The world ray through pixel (px, py) (origin top-left, pixel centres at +0.5)
 * of a width x height viewport: origin = eye, unit direction. */
void ct_camera_pixel_ray(const ct_camera *cam, double px, double py, int width, int height, ct_dvec3 *origin,
                         ct_dvec3 *dir);

#ifdef __cplusplus
}
#endif
#endif
