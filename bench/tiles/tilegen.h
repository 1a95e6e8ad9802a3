/* bench/tiles: a deterministic photogrammetry-like 3D Tiles 1.0 tileset.
 *
 * A square of procedural terrain with a street grid and buildings (a 2.5D
 * surface model, like a reality mesh seen from above), cut into a quadtree
 * HLOD: every tile is a b3dm holding one textured mesh (a (grid+1)^2 height
 * grid over the tile, JPEG texture, KHR_materials_unlit) with RTC_CENTER; the
 * geometric error halves per level, leaves have 0. Levels 8 give 21,845 tiles
 * of 2,048 triangles. Tiles of one level are written in parallel (OpenMP),
 * deepest level first so that each parent's box holds its children's. */
#ifndef TILEGEN_H
#define TILEGEN_H

#include "citytwin/ct_core.h"

typedef struct tilegen_desc {
    const char *dir;     /* output folder (created); tileset.json goes there */
    int levels;          /* quadtree levels, root included; 0 = 8 (21,845 tiles) */
    int grid;            /* mesh cells per tile side; 0 = 32 (2,048 triangles) */
    int texture;         /* texture pixels per side; 0 = 128 */
    int jpeg_quality;    /* 0 = 80 */
    double size_m;       /* side of the square in metres; 0 = 4096 */
    uint32_t seed;       /* 0 = 1 */
    double lon, lat;     /* centre, WGS84 degrees; both 0 = 113.08, 22.58 */
    double height;       /* ellipsoidal height of the frame's origin */
} tilegen_desc;

typedef struct tilegen_result {
    uint64_t tiles, bytes, triangles;
    double seconds;
    bool cached;         /* the folder already held the same tileset: nothing written */
} tilegen_result;

/* Writes DIR/tileset.json and DIR/tiles/L/X/Y.b3dm, then DIR/tilegen.json
 * (the parameters). When tilegen.json already says the same parameters, does
 * nothing (result->cached). */
ct_status tilegen_write(const tilegen_desc *d, tilegen_result *result, ct_error *err);
/* The surface height (metres above the frame origin) at east/north metres from
 * the centre: terrain or roof. For placing cameras above the ground. */
double tilegen_surface(const tilegen_desc *d, double east, double north);
/* The defaults filled in. */
tilegen_desc tilegen_defaults(const tilegen_desc *d);
/* A camera: WGS84 lon/lat/ellipsoidal height, heading and pitch in degrees. */
typedef struct tilegen_view {
    const char *name;
    double lon, lat, height, heading, pitch;
} tilegen_view;
/* A camera east/north/up metres from a local ENU origin (enu_to_ecef). */
tilegen_view tilegen_enu_view(const char *name, const double enu_to_ecef[16], double e, double n, double u,
                              double heading, double pitch);
/* The benchmark views over the generated square (R = half its side):
 * overview, straight down, oblique, low oblique, street level, towards the
 * horizon, a corner close-up. Fills v[0..7) and returns 7. */
int tilegen_views(const tilegen_desc *d, tilegen_view *v);
/* Number of tiles of a full quadtree of `levels` levels: (4^levels - 1) / 3. */
uint64_t tilegen_tile_count(int levels);

#endif
