/* Internal to `citytwin analyze route|isochrone`: the options both share
 * (road source, speeds, closures, coordinates), in cmd_analyze_route.c. */
#ifndef CT_ROUTE_CLI_H
#define CT_ROUTE_CLI_H

#include "cli.h"
#include "citytwin/ct_geo.h"
#include "citytwin/ct_route.h"

typedef struct route_cli_common {
    ct_route_graph_desc desc;
    const char *speeds_path, *avoid, *close_edges, *crs;
    double max_snap_m;
    ct_route_speeds speeds;
    ct_route_graph *g;
    ct_route_closures *closures;
    ct_crs_transform *coord_t; /* --crs -> roads CRS, NULL when not given */
    size_t closed_segments;
    double load_s;
    const char *report; /* --report OUT.html */
    bool progress;      /* --progress */
} route_cli_common;

/* Consumes argv[*i] (and its value) when it is a shared option: returns 1
 * when consumed, 0 when not one of ours, -1 on a usage error (printed). */
int route_cli_parse_common(const char *sub, route_cli_common *c, int argc, char **argv, int *i);
/* Loads speeds, graph, closures and the coordinate transform; returns an exit status. */
int route_cli_prepare(const char *sub, route_cli_common *c);
/* Snaps a point given in --crs (or roads' CRS). */
ct_status route_cli_snap(route_cli_common *c, const double xy[2], ct_route_snap *out, ct_error *err);
void route_cli_cleanup(route_cli_common *c);
/* "X,Y" or usage error. */
int route_cli_parse_xy(const char *sub, const char *opt, const char *s, double xy[2]);

#define ROUTE_CLI_COMMON_USAGE                                                                              \
    "  --layer NAME              layer of the road source (default: OSM 'lines', else the first line layer)\n" \
    "  --speeds FILE.csv         road class speeds 'class,kmh' overriding the built-in table\n"              \
    "  --cost-field F            the layer's own forward cost (negative = closed)\n"                         \
    "  --reverse-cost-field F    the layer's own backward cost (negative = one-way)\n"                       \
    "  --class-field F           road class field (default: highway/class/road_class/fclass/type)\n"          \
    "  --speed-field F           speed field in km/h (default: speed/speed_kmh/maxspeed/max_speed)\n"         \
    "  --oneway-field F          one-way field (default: oneway/one_way): yes/1/true, -1/reverse, no/0\n"    \
    "  --default-speed KMH       speed of lines without class or speed (default 30)\n"                       \
    "  --snap-tolerance M        join line ends closer than M metres (default 0.5; OSM 0.01)\n"              \
    "  --no-turn-restrictions    ignore OSM turn restriction relations\n"                                    \
    "  --avoid POLYGONS_SRC      close every road crossing these polygons (e.g. a flood extent)\n"           \
    "  --close-edges ID,ID       close the roads of these feature ids (OGR FID; OSM way id)\n"               \
    "  --crs CRS                 CRS of the given coordinates (default: the roads' CRS)\n"                   \
    "  --max-snap M              farthest a point may be from a road (default 1000 m)\n"             \
    "  --report OUT.html         self-contained HTML page: map over the roads, charts, the JSON\n"  \
    "                            (see docs/report.md)\n"                                              \
    "  --progress                progress bar on stderr even when it is not a terminal\n"

#endif
