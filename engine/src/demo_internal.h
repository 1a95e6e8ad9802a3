/* Internal to the demo generator (demo.c lays the district out and writes
 * the GIS files; demo_mesh.c builds district.glb from the same layout).
 * District coordinates: metres east (x) and north (y) of the district's
 * south-west corner; the EPSG:4547 coordinates are (X0 + x, Y0 + y). */
#ifndef CT_DEMO_INTERNAL_H
#define CT_DEMO_INTERNAL_H

#include "citytwin/ct_demo.h"

#define DEMO_W 1500.0          /* district width, metres */
#define DEMO_H 1000.0          /* district height, metres */
#define DEMO_WATER_LEVEL 0.5   /* normal river level, metres */
#define DEMO_RIVER_HALF 45.0   /* half-width of the channel bed */
#define DEMO_ROAD_RIVER 75.0   /* riverside roads run this far from the river's centre line */
#define DEMO_NOISE_A 60.0      /* terrain noise lattice spacings */
#define DEMO_NOISE_B 15.0
#define DEMO_NA_X 27
#define DEMO_NA_Y 19
#define DEMO_NB_X 102
#define DEMO_NB_Y 69

typedef struct demo_road {
    int id;
    char name[64], name_zh[64];
    const char *klass;       /* primary, secondary, residential */
    int speed_kmh;
    int oneway;              /* 1: only in digitised direction */
    int bridge;
    int lanes;
    double width;            /* carriageway width, metres */
    double *xy;              /* n points, x y interleaved */
    int n;
    int from_node, to_node;
    double length;
} demo_road;

typedef enum { DEMO_ROOF_FLAT, DEMO_ROOF_GABLE } demo_roof;

typedef struct demo_building {
    int id;
    double x0, y0, x1, y1;   /* axis-aligned footprint */
    int floors;
    double height;           /* metres above ground */
    double ground;           /* lowest ground elevation under the footprint */
    const char *use;
    char name[96], name_zh[96];
    int arcade;              /* qilou: +1 arcade on the north side, -1 on the south side, 0 none */
    demo_roof roof;
    float color[3];
} demo_building;

typedef struct demo_poi {
    int id;
    const char *kind;        /* hydrant, sensor, fire_station, hospital, school */
    const char *subtype;     /* sensors: water_level, rain_gauge, air_quality, lamp_pole; else "" */
    char name[96], name_zh[96];
    char topic[96];          /* MQTT topic of sensors, else "" */
    double x, y, z;          /* z = ground elevation */
} demo_poi;

typedef struct demo_district {
    uint32_t seed;
    double cell;             /* DEM cell size */
    double X0, Y0;           /* EPSG:4547 of the south-west corner */
    double origin[3];        /* lon, lat, h of the district centre: the scene origin */
    float noise_a[DEMO_NA_Y][DEMO_NA_X], noise_b[DEMO_NB_Y][DEMO_NB_X];
    demo_road *roads;         int road_count, road_cap;
    demo_building *buildings; int building_count, building_cap;
    demo_poi *pois;           int poi_count, poi_cap;
    int node_count;
} demo_district;

/* Ground elevation (metres) at district coordinates: the DEM's model. */
double demo_ground(const demo_district *d, double x, double y);
/* The river's centre line. */
double demo_river_y(double x);

/* Writes district.glb: terrain, river surface, roads, buildings and street furniture,
 * in the scene's local ENU frame (glTF y-up) anchored at d->origin. */
ct_status demo_write_glb(const demo_district *d, const char *path, ct_error *err);

#endif
