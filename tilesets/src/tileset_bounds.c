/* Bounding volumes in the tileset frame: every volume type becomes an
 * oriented box (plus an enclosing sphere) so culling and distances use one
 * code path. Regions go through PROJ (ct_geo) for their ECEF corners. */
#include "tileset_internal.h"

#include "citytwin/ct_geo.h"

#include <float.h>
#include <math.h>
#include <string.h>

double ct_tileset_sse(double geometric_error, double distance, double viewport_height, double fovy)
{
    if (distance <= 1e-9)
        return INFINITY;
    return geometric_error * viewport_height / (distance * 2.0 * tan(fovy * 0.5));
}

void tileset_region_to_obb(const double r[6], ct_obb *box)
{
    double w = r[0], s = r[1], e = r[2], n = r[3], h0 = r[4], h1 = r[5];
    if (e < w)
        e += 2 * M_PI; /* crosses the antimeridian */
    const double deg = 180.0 / M_PI;
    double clon = 0.5 * (w + e), clat = 0.5 * (s + n);
    ct_dvec3 origin = ct_geo_ecef_from_lonlat(clon * deg, clat * deg, 0.5 * (h0 + h1));
    double frame[16], inv[16];
    ct_geo_enu_frame(origin, frame);
    if (!ct_dmat4_invert(inv, frame)) {
        memset(box, 0, sizeof *box);
        return;
    }
    /* Sample the region's surface on a grid, bound the samples in the local
     * east-north-up frame, and pad by the sagitta between samples so the
     * curved faces stay inside. */
    enum { N = 5 };
    double lo[3] = {DBL_MAX, DBL_MAX, DBL_MAX}, hi[3] = {-DBL_MAX, -DBL_MAX, -DBL_MAX};
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < 2; k++) {
                double lon = w + (e - w) * i / (N - 1), lat = s + (n - s) * j / (N - 1);
                ct_dvec3 p = ct_geo_ecef_from_lonlat(lon * deg, lat * deg, k ? h1 : h0);
                ct_dvec3 l = ct_dmat4_transform_point(inv, p);
                double v[3] = {l.x, l.y, l.z};
                for (int a = 0; a < 3; a++) {
                    lo[a] = fmin(lo[a], v[a]);
                    hi[a] = fmax(hi[a], v[a]);
                }
            }
    double step = fmax(e - w, n - s) / (N - 1);
    double pad = (6378137.0 + fmax(fabs(h0), fabs(h1))) * (1.0 - cos(0.5 * step));
    ct_dvec3 ax[3] = {{frame[0], frame[1], frame[2]}, {frame[4], frame[5], frame[6]}, {frame[8], frame[9], frame[10]}};
    ct_dvec3 c = origin;
    for (int a = 0; a < 3; a++) {
        lo[a] -= pad;
        hi[a] += pad;
        c = ct_dvec3_add(c, ct_dvec3_scale(ax[a], 0.5 * (lo[a] + hi[a])));
        box->axes[a] = ct_dvec3_scale(ax[a], 0.5 * (hi[a] - lo[a]));
    }
    box->center = c;
}

void ct_bounding_volume_to_obb(const ct_bounding_volume *bv, const double m[16], ct_obb *box)
{
    memset(box, 0, sizeof *box);
    const double *v = bv->v;
    switch (bv->type) {
    case CT_BV_BOX:
        box->center = ct_dmat4_transform_point(m, (ct_dvec3){v[0], v[1], v[2]});
        for (int a = 0; a < 3; a++)
            box->axes[a] = ct_dmat4_transform_dir(m, (ct_dvec3){v[3 + 3 * a], v[4 + 3 * a], v[5 + 3 * a]});
        break;
    case CT_BV_SPHERE: {
        box->center = ct_dmat4_transform_point(m, (ct_dvec3){v[0], v[1], v[2]});
        /* radius scaled by the largest axis scale of the transform */
        double sc = 0;
        for (int a = 0; a < 3; a++)
            sc = fmax(sc, ct_dvec3_length(ct_dmat4_transform_dir(m, (ct_dvec3){a == 0, a == 1, a == 2})));
        double r = v[3] * sc;
        box->axes[0] = (ct_dvec3){r, 0, 0};
        box->axes[1] = (ct_dvec3){0, r, 0};
        box->axes[2] = (ct_dvec3){0, 0, r};
        break;
    }
    case CT_BV_REGION:
        tileset_region_to_obb(v, box);
        break;
    default:
        break;
    }
}

void tileset_obb_sphere(const ct_obb *b, ct_dvec3 *center, double *radius)
{
    *center = b->center;
    double r = 0;
    for (int sy = -1; sy <= 1; sy += 2)
        for (int sz = -1; sz <= 1; sz += 2) {
            ct_dvec3 d = ct_dvec3_add(b->axes[0], ct_dvec3_add(ct_dvec3_scale(b->axes[1], sy), ct_dvec3_scale(b->axes[2], sz)));
            r = fmax(r, ct_dvec3_length(d));
        }
    *radius = r;
}

int ct_obb_cull(const ct_obb *b, const double planes[6][4])
{
    int result = 1;
    for (int i = 0; i < 6; i++) {
        const double *p = planes[i];
        ct_dvec3 n = {p[0], p[1], p[2]};
        if (n.x == 0 && n.y == 0 && n.z == 0)
            continue;
        double r = fabs(ct_dvec3_dot(n, b->axes[0])) + fabs(ct_dvec3_dot(n, b->axes[1])) +
                   fabs(ct_dvec3_dot(n, b->axes[2]));
        double d = ct_dvec3_dot(n, b->center) + p[3];
        if (d < -r)
            return -1;
        if (d < r)
            result = 0;
    }
    return result;
}

/* Distance from p to the box: p in the box's axes, clamped per axis.
 * Degenerate (zero) axes count as flat. */
double ct_obb_distance(const ct_obb *b, ct_dvec3 p)
{
    ct_dvec3 d = ct_dvec3_sub(p, b->center);
    double sq = 0;
    for (int a = 0; a < 3; a++) {
        double len = ct_dvec3_length(b->axes[a]);
        double t = 0, excess;
        if (len > 0) {
            t = ct_dvec3_dot(d, b->axes[a]) / len;
            excess = fabs(t) - len;
        } else {
            excess = 0;
        }
        if (excess > 0)
            sq += excess * excess;
    }
    /* components along missing axes (flat/degenerate boxes) */
    int zero = 0;
    for (int a = 0; a < 3; a++)
        if (ct_dvec3_length(b->axes[a]) == 0)
            zero++;
    if (zero) {
        ct_dvec3 rest = d;
        for (int a = 0; a < 3; a++) {
            double len = ct_dvec3_length(b->axes[a]);
            if (len > 0) {
                ct_dvec3 u = ct_dvec3_scale(b->axes[a], 1.0 / len);
                rest = ct_dvec3_sub(rest, ct_dvec3_scale(u, ct_dvec3_dot(d, u)));
            }
        }
        double r2 = ct_dvec3_dot(rest, rest);
        sq += r2;
    }
    return sqrt(sq);
}

bool tileset_obb_contains_point(const ct_obb *b, ct_dvec3 p, double tol)
{
    ct_dvec3 d = ct_dvec3_sub(p, b->center);
    for (int a = 0; a < 3; a++) {
        double len2 = ct_dvec3_dot(b->axes[a], b->axes[a]);
        if (len2 == 0)
            continue;
        double t = ct_dvec3_dot(d, b->axes[a]) / len2; /* in half-axis units */
        if (fabs(t) > 1.0 + tol)
            return false;
    }
    return true;
}

void ct_tileset_view_from_matrix(ct_tileset_view *v, const double m[16], ct_dvec3 position, ct_dvec3 direction,
                                 double viewport_height, double fovy)
{
    memset(v, 0, sizeof *v);
    /* row i of a column-major matrix: m[i], m[4+i], m[8+i], m[12+i] */
#define ROW(i, k) m[(k) * 4 + (i)]
    for (int k = 0; k < 4; k++) {
        v->planes[0][k] = ROW(3, k) + ROW(0, k); /* left */
        v->planes[1][k] = ROW(3, k) - ROW(0, k); /* right */
        v->planes[2][k] = ROW(3, k) + ROW(1, k); /* bottom */
        v->planes[3][k] = ROW(3, k) - ROW(1, k); /* top */
        v->planes[4][k] = ROW(3, k) + ROW(2, k); /* near */
        v->planes[5][k] = ROW(3, k) - ROW(2, k); /* far */
    }
#undef ROW
    for (int i = 0; i < 6; i++) {
        double len = sqrt(v->planes[i][0] * v->planes[i][0] + v->planes[i][1] * v->planes[i][1] +
                          v->planes[i][2] * v->planes[i][2]);
        if (len > 0)
            for (int k = 0; k < 4; k++)
                v->planes[i][k] /= len;
    }
    v->position = position;
    v->direction = direction;
    v->viewport_height = viewport_height;
    v->fovy = fovy;
}
