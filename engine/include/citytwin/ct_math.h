/* Double-precision vectors and 4x4 matrices for positions and cameras.
 * Matrices are column-major like OpenGL and glTF: m[col*4 + row].
 * Float math for shaders/GPU uses cglm; anything that holds a world position
 * uses these doubles (see DESIGN.md, "Precision"). */
#ifndef CT_MATH_H
#define CT_MATH_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_dvec3 { double x, y, z; } ct_dvec3;

static inline ct_dvec3 ct_dvec3_make(double x, double y, double z) { return (ct_dvec3){x, y, z}; }
static inline ct_dvec3 ct_dvec3_add(ct_dvec3 a, ct_dvec3 b) { return (ct_dvec3){a.x + b.x, a.y + b.y, a.z + b.z}; }
static inline ct_dvec3 ct_dvec3_sub(ct_dvec3 a, ct_dvec3 b) { return (ct_dvec3){a.x - b.x, a.y - b.y, a.z - b.z}; }
static inline ct_dvec3 ct_dvec3_scale(ct_dvec3 a, double s) { return (ct_dvec3){a.x * s, a.y * s, a.z * s}; }
static inline double ct_dvec3_dot(ct_dvec3 a, ct_dvec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline ct_dvec3 ct_dvec3_cross(ct_dvec3 a, ct_dvec3 b)
{
    return (ct_dvec3){a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
double ct_dvec3_length(ct_dvec3 a);
ct_dvec3 ct_dvec3_normalize(ct_dvec3 a);

void ct_dmat4_identity(double m[16]);
void ct_dmat4_mul(double out[16], const double a[16], const double b[16]); /* out = a * b; out may alias */
bool ct_dmat4_invert(double out[16], const double m[16]);
ct_dvec3 ct_dmat4_transform_point(const double m[16], ct_dvec3 p);
ct_dvec3 ct_dmat4_transform_dir(const double m[16], ct_dvec3 d);
/* glTF TRS: translation[3], rotation quaternion[4] (x,y,z,w), scale[3]. */
void ct_dmat4_from_trs(double out[16], const double t[3], const double q[4], const double s[3]);
double ct_dmat4_determinant(const double m[16]);

/* The p-quantile (0..1, nearest rank) of v[0..n-1]; sorts v in place. 0 when n <= 0. */
double ct_percentile(double *v, int n, double p);

#ifdef __cplusplus
}
#endif
#endif
