/* citytwin analyze impact: what lies within rings around an incident. */
#include "cli.h"
#include "progress.h"
#include "report_vector.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <geos_c.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB "analyze impact"
#define MAX_RINGS 64

static const char USAGE[] =
    "usage: citytwin analyze impact (--at X,Y | --at-wkt WKT | --at-src FILE)\n"
    "                 (--radius R | --rings R1,R2,... | --preset gas-leak|explosion|chemical)\n"
    "                 --layer NAME=SRC [--layer ...] [--id-field FIELD | --id-field NAME=FIELD ...]\n"
    "                 [--where NAME=SQL ...] [--crs CRS] [--utility-field F] [-o OUT.gpkg|OUT.geojson] [--json]\n"
    "                 [--report OUT.html] [--progress]\n\n"
    "Lists and counts the features of each layer within each ring around an incident,\n"
    "by exact distance (the features PostGIS ST_DWithin returns). Rings are cumulative:\n"
    "a ring holds the features of the rings inside it.\n\n"
    "  --at X,Y             a point incident (in --crs, else the first layer's CRS)\n"
    "  --at-wkt WKT         a line or polygon incident (WKT, same CRS)\n"
    "  --at-src FILE        the first feature of an OGR source (its own CRS)\n"
    "  --radius R           one ring (metres)\n"
    "  --rings R1,R2,...    increasing radii (metres)\n"
    "  --preset NAME        ERG 2020 rings: gas-leak 100,800,1600; explosion 500,800,1600;\n"
    "                       chemical 100,500,800 (see docs/impact.md)\n"
    "  --layer NAME=SRC     any OGR source; SRC:layername picks a layer (repeatable)\n"
    "  --id-field FIELD     ids from this field (default: the OGR FID); NAME=FIELD for one layer\n"
    "  --where NAME=SQL     OGR attribute filter for one layer, e.g. buildings=\"building IS NOT NULL\"\n"
    "  --crs CRS            CRS of the incident coordinates; layers are reprojected to it.\n"
    "                       A geographic CRS (degrees) is replaced by its UTM zone.\n"
    "  --utility-field F    line layers: lengths per value of F (default 'utility', else 'type')\n"
    "  -o OUT               selected features + ring_m + distance_m per layer, and a 'rings' layer\n"
    "  --json               print {rings: [{radius_m, layers: {NAME: {count, ids, ...}}}], ...}\n"
    "  --report OUT.html    self-contained HTML page: rings and hit features (coloured by ring)\n"
    "                       over the layers, counts per ring and layer, the JSON (docs/report.md)\n"
    "  --progress           progress bar on stderr even when it is not a terminal\n";

static int run(int argc, char **argv);
const ct_cli_command ct_cmd_analyze_impact = {"impact", run, "what lies within rings around an incident", USAGE};

typedef struct layer_arg {
    char *name;
    const char *src;
    const char *id_field;
    const char *where;
} layer_arg;

static int transform_cb(double *x, double *y, void *ud)
{
    return ct_crs_transform_points((ct_crs_transform *)ud, 1, x, y, NULL, NULL) == CT_OK;
}

/* Reprojects a WKT geometry (NULL on failure). */
static char *wkt_transform(const char *wkt, const char *src, const char *dst, ct_error *err)
{
    ct_crs_transform *t = NULL;
    if (ct_crs_transform_create(src, dst, &t, err) != CT_OK)
        return NULL;
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
    GEOSGeometry *o = g ? GEOSGeom_transformXY_r(h, g, transform_cb, t) : NULL;
    char *res = NULL;
    if (o) {
        GEOSWKTWriter *w = GEOSWKTWriter_create_r(h);
        char *s = GEOSWKTWriter_write_r(h, w, o);
        res = ct_strdup(s);
        GEOSFree_r(h, s);
        GEOSWKTWriter_destroy_r(h, w);
        GEOSGeom_destroy_r(h, o);
    } else {
        ct_error_set(err, CT_ERR_USAGE, "incident '%.60s': invalid WKT or not transformable", wkt);
    }
    if (g)
        GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, rd);
    GEOS_finish_r(h);
    ct_crs_transform_destroy(t);
    return res;
}

/* Centre of a WKT geometry's envelope (for picking a UTM zone). */
static bool wkt_center(const char *wkt, double *x, double *y)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
    bool ok = false;
    if (g && !GEOSisEmpty_r(h, g)) {
        double a, b, c, d;
        GEOSGeom_getXMin_r(h, g, &a);
        GEOSGeom_getXMax_r(h, g, &b);
        GEOSGeom_getYMin_r(h, g, &c);
        GEOSGeom_getYMax_r(h, g, &d);
        *x = (a + b) / 2;
        *y = (c + d) / 2;
        ok = true;
    }
    if (g)
        GEOSGeom_destroy_r(h, g);
    GEOSWKTReader_destroy_r(h, rd);
    GEOS_finish_r(h);
    return ok;
}

/* The first feature's geometry of an OGR source as WKT, and its CRS. */
static ct_status read_incident_src(const char *src, char **wkt, char **crs, ct_error *err)
{
    *wkt = *crs = NULL;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(src, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (!ds)
        return ct_error_set(err, CT_ERR_INPUT, "%s: not a vector source OGR can open", src);
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f = NULL;
    ct_status st = CT_OK;
    if (l) {
        OGR_L_ResetReading(l);
        while ((f = OGR_L_GetNextFeature(l)) != NULL && !OGR_F_GetGeometryRef(f))
            OGR_F_Destroy(f);
    }
    if (!f) {
        st = ct_error_set(err, CT_ERR_INPUT, "%s: no feature with a geometry", src);
    } else {
        char *w = NULL;
        OGR_G_ExportToWkt(OGR_F_GetGeometryRef(f), &w);
        *wkt = ct_strdup(w ? w : "");
        CPLFree(w);
        OGRSpatialReferenceH s = OGR_L_GetSpatialRef(l);
        char *cw = NULL;
        if (s && OSRExportToWkt(s, &cw) == OGRERR_NONE)
            *crs = ct_strdup(cw);
        CPLFree(cw);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return st;
}

static bool crs_geographic(const char *crs)
{
    if (!crs || !*crs)
        return false;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    bool g = OSRSetFromUserInput(s, crs) == OGRERR_NONE && OSRIsGeographic(s);
    OSRDestroySpatialReference(s);
    return g;
}

/* "EPSG:n" when the CRS has (or is identified with) an authority code, else the text as given. */
static char *crs_label(const char *crs)
{
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    char *out = NULL;
    if (OSRSetFromUserInput(s, crs) == OGRERR_NONE) {
        const char *name = OSRGetAuthorityName(s, NULL), *code = OSRGetAuthorityCode(s, NULL);
        if ((!name || !code) && OSRAutoIdentifyEPSG(s) == OGRERR_NONE) {
            name = OSRGetAuthorityName(s, NULL);
            code = OSRGetAuthorityCode(s, NULL);
        }
        if (name && code) {
            out = malloc(strlen(name) + strlen(code) + 2);
            if (out)
                sprintf(out, "%s:%s", name, code);
        }
    }
    OSRDestroySpatialReference(s);
    return out ? out : ct_strdup(crs);
}

static cJSON *ids_json(const ct_impact_layer_result *lr, int ring)
{
    cJSON *a = cJSON_CreateArray();
    const ct_impact_layer *l = lr->layer;
    for (size_t k = 0; k < lr->hit_count; k++) {
        if (lr->hits[k].ring > ring)
            continue;
        size_t fi = lr->hits[k].feature;
        if (ct_impact_layer_ids_numeric(l))
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)ct_impact_layer_id_number(l, fi)));
        else
            cJSON_AddItemToArray(a, cJSON_CreateString(ct_impact_layer_id_string(l, fi)));
    }
    return a;
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_analyze_impact) == 0)
        return 0;
    layer_arg *la = calloc((size_t)argc, sizeof *la);
    size_t nla = 0;
    const char *id_field = NULL, *crs_arg = NULL, *at_wkt = NULL, *at_src = NULL, *out_path = NULL,
               *utility_field = NULL, *report_path = NULL;
    double at[2] = {NAN, NAN}, radii[MAX_RINGS];
    int nr = 0;
    bool json = false, has_at = false, progress = false;
    int rc = 0;
    ct_error err = {0};
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(a, "--progress")) {
            progress = true;
            continue;
        }
        if (!v) {
            rc = cli_fail(SUB, CT_ERR_USAGE, "%s needs a value", a);
            break;
        }
        i++;
        if (!strcmp(a, "--at")) {
            if (cli_parse_numbers(v, at, 2, 2) != 2 || !isfinite(at[0]) || !isfinite(at[1]))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--at wants X,Y, got '%s'", v);
            has_at = true;
        } else if (!strcmp(a, "--at-wkt")) {
            at_wkt = v;
        } else if (!strcmp(a, "--at-src")) {
            at_src = v;
        } else if (!strcmp(a, "--radius")) {
            char *end;
            radii[0] = strtod(v, &end);
            nr = 1;
            if (end == v || *end || !(radii[0] > 0) || !isfinite(radii[0]))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--radius wants a distance > 0, got '%s'", v);
        } else if (!strcmp(a, "--rings")) {
            nr = ct_impact_parse_rings(v, radii, MAX_RINGS, &err);
            if (nr < 0)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--rings: %s", err.msg);
        } else if (!strcmp(a, "--preset")) {
            nr = ct_impact_preset_rings(v, radii, MAX_RINGS);
            if (nr < 0)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--preset '%s': use gas-leak, explosion or chemical", v);
        } else if (!strcmp(a, "--layer")) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1]) {
                rc = cli_fail(SUB, CT_ERR_USAGE, "--layer wants NAME=SRC, got '%s'", v);
                break;
            }
            la[nla].name = ct_strdup(v);
            la[nla].name[eq - v] = 0;
            la[nla].src = eq + 1;
            for (size_t k = 0; k < nla; k++)
                if (!strcmp(la[k].name, la[nla].name))
                    rc = cli_fail(SUB, CT_ERR_USAGE, "--layer: name '%s' used twice", la[nla].name);
            nla++;
        } else if (!strcmp(a, "--id-field")) {
            const char *eq = strchr(v, '=');
            if (!eq) {
                id_field = v;
                continue;
            }
            bool found = false;
            for (size_t k = 0; k < nla; k++)
                if (strlen(la[k].name) == (size_t)(eq - v) && !strncmp(la[k].name, v, (size_t)(eq - v))) {
                    la[k].id_field = eq + 1;
                    found = true;
                }
            if (!found)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--id-field %s: no --layer of that name before it", v);
        } else if (!strcmp(a, "--where")) {
            const char *eq = strchr(v, '=');
            bool found = false;
            for (size_t k = 0; eq && k < nla; k++)
                if (strlen(la[k].name) == (size_t)(eq - v) && !strncmp(la[k].name, v, (size_t)(eq - v))) {
                    la[k].where = eq + 1;
                    found = true;
                }
            if (!found)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--where wants NAME=SQL after --layer NAME=..., got '%s'", v);
        } else if (!strcmp(a, "--crs")) {
            crs_arg = v;
        } else if (!strcmp(a, "--utility-field")) {
            utility_field = v;
        } else if (!strcmp(a, "--report")) {
            report_path = v;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            out_path = v;
        } else {
            rc = cli_fail(SUB, CT_ERR_USAGE, "unknown option '%s' (see --help)", a);
        }
    }
    if (rc == 0 && (has_at + (at_wkt != NULL) + (at_src != NULL)) != 1)
        rc = cli_fail(SUB, CT_ERR_USAGE, "give exactly one of --at X,Y, --at-wkt WKT, --at-src FILE");
    if (rc == 0 && nr <= 0)
        rc = cli_fail(SUB, CT_ERR_USAGE, "give --radius R, --rings R1,R2,... or --preset NAME");
    if (rc == 0 && nla == 0)
        rc = cli_fail(SUB, CT_ERR_USAGE, "give at least one --layer NAME=SRC");

    double t0 = ct_time_now();
    char *target = NULL, *inc_wkt = NULL, *first_crs = NULL, *src_crs = NULL;
    ct_impact_layer **layers = NULL;
    ct_impact_result *res = NULL;
    if (rc)
        goto done;
    /* The incident's CRS: --crs, else the first layer's. */
    if (crs_arg) {
        ct_crs_transform *probe = NULL;
        if (ct_crs_transform_create(crs_arg, "EPSG:4326", &probe, &err) != CT_OK) {
            rc = cli_fail(SUB, CT_ERR_USAGE, "--crs %s: %s", crs_arg, err.msg);
            goto done;
        }
        ct_crs_transform_destroy(probe);
        target = ct_strdup(crs_arg);
    } else {
        if (ct_impact_source_crs(la[0].src, &first_crs, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        target = ct_strdup(first_crs);
    }
    if (at_src) {
        if (read_incident_src(at_src, &inc_wkt, &src_crs, &err) != CT_OK) {
            rc = cli_fail_err(SUB, &err);
            goto done;
        }
        if (src_crs && *target) {
            char *t = wkt_transform(inc_wkt, src_crs, target, &err);
            if (!t) {
                rc = cli_fail(SUB, CT_ERR_INPUT, "%s: %s", at_src, err.msg);
                goto done;
            }
            free(inc_wkt);
            inc_wkt = t;
        }
    } else if (at_wkt) {
        inc_wkt = ct_strdup(at_wkt);
    }
    if (inc_wkt) {
        double cx, cy;
        if (!wkt_center(inc_wkt, &cx, &cy)) {
            rc = cli_fail(SUB, CT_ERR_USAGE, "incident: invalid or empty WKT '%.60s'", inc_wkt);
            goto done;
        }
    }
    /* Distances need metres: a geographic CRS is replaced by its UTM zone. */
    if (crs_geographic(target)) {
        double lon = at[0], lat = at[1];
        if (inc_wkt)
            wkt_center(inc_wkt, &lon, &lat);
        char utm[16];
        ct_impact_utm_for(lon, lat, utm);
        ct_log(CT_LOG_INFO, "geographic CRS: measuring in %s", utm);
        if (inc_wkt) {
            char *t = wkt_transform(inc_wkt, target, utm, &err);
            if (!t) {
                rc = cli_fail_err(SUB, &err);
                goto done;
            }
            free(inc_wkt);
            inc_wkt = t;
        } else {
            ct_crs_transform *t = NULL;
            if (ct_crs_transform_create(target, utm, &t, &err) != CT_OK ||
                ct_crs_transform_points(t, 1, &at[0], &at[1], NULL, &err) != CT_OK) {
                ct_crs_transform_destroy(t);
                rc = cli_fail(SUB, CT_ERR_USAGE, "--at %s", err.msg);
                goto done;
            }
            ct_crs_transform_destroy(t);
        }
        free(target);
        target = ct_strdup(utm);
    }
    layers = calloc(nla, sizeof *layers);
    for (size_t k = 0; k < nla; k++) {
        ct_impact_layer_desc d = {.name = la[k].name,
                                  .source = la[k].src,
                                  .id_field = la[k].id_field ? la[k].id_field : id_field,
                                  .target_crs = *target ? target : NULL,
                                  .utility_field = utility_field,
                                  .where = la[k].where,
                                  .drop_attributes = out_path == NULL && report_path == NULL}; /* the report labels by name */
        if (ct_impact_layer_load(&d, &layers[k], &err) != CT_OK) {
            rc = cli_fail(SUB, err.status, "--layer %s: %s", la[k].name, err.msg);
            goto done;
        }
    }
    cli_progress bar;
    cli_progress_begin(&bar, "impact", progress);
    ct_impact_query q = {.x = at[0], .y = at[1], .wkt = inc_wkt, .radii = radii, .radius_count = (size_t)nr,
                         .progress = cli_progress_update, .progress_user = &bar};
    ct_status run_st = ct_impact_run(layers, nla, &q, &res, &err);
    cli_progress_end(&bar);
    if (run_st != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto done;
    }
    if (out_path && ct_impact_write(res, out_path, *target ? target : NULL, &err) != CT_OK) {
        rc = cli_fail_err(SUB, &err);
        goto done;
    }
    double secs = ct_time_now() - t0;
    if (json || report_path) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "incident", res->incident_wkt);
        char *label = crs_label(target);
        cJSON_AddStringToObject(o, "crs", label);
        free(label);
        cJSON *rings = cJSON_AddArrayToObject(o, "rings");
        for (int k = 0; k < nr; k++) {
            cJSON *ring = cJSON_CreateObject();
            cJSON_AddNumberToObject(ring, "radius_m", radii[k]);
            cJSON *ls = cJSON_AddObjectToObject(ring, "layers");
            for (size_t li = 0; li < nla; li++) {
                const ct_impact_layer_result *lr = &res->layers[li];
                const ct_impact_ring_stats *rs = &lr->rings[k];
                cJSON *lo = cJSON_AddObjectToObject(ls, la[li].name);
                cJSON_AddNumberToObject(lo, "count", (double)rs->count);
                cJSON_AddItemToObject(lo, "ids", ids_json(lr, k));
                if (lr->has_polygons)
                    cJSON_AddNumberToObject(lo, "occupants", round(rs->occupants));
                if (lr->has_lines) {
                    cJSON_AddNumberToObject(lo, "length_m", round(rs->length_m * 100) / 100);
                    if (rs->utility_count) {
                        cJSON *u = cJSON_AddObjectToObject(lo, "length_by_utility_m");
                        for (size_t j = 0; j < rs->utility_count; j++)
                            cJSON_AddNumberToObject(u, ct_impact_layer_utility(lr->layer, j),
                                                    round(rs->utility_length_m[j] * 100) / 100);
                    }
                }
            }
            cJSON_AddItemToArray(rings, ring);
        }
        cJSON *lsum = cJSON_AddObjectToObject(o, "layers");
        for (size_t li = 0; li < nla; li++) {
            cJSON *lo = cJSON_AddObjectToObject(lsum, la[li].name);
            cJSON_AddNumberToObject(lo, "features", (double)ct_impact_layer_size(layers[li]));
            cJSON_AddNumberToObject(lo, "skipped", (double)ct_impact_layer_skipped(layers[li]));
        }
        if (out_path)
            cJSON_AddStringToObject(o, "output", out_path);
        cJSON_AddNumberToObject(o, "seconds", secs);
        if (report_path) {
            const char **names = calloc(nla, sizeof *names), **srcs = calloc(nla, sizeof *srcs);
            for (size_t k = 0; names && srcs && k < nla; k++)
                names[k] = la[k].name, srcs[k] = la[k].src;
            char *label = crs_label(target);
            ct_status st = names && srcs ? report_impact_write(report_path, argc, argv, layers, names, srcs, nla, res,
                                                               label, o, &err)
                                         : ct_error_set(&err, CT_ERR_RUNTIME, "out of memory");
            free(label);
            free(names);
            free(srcs);
            if (st != CT_OK) {
                cJSON_Delete(o);
                rc = cli_fail_err(SUB, &err);
                goto done;
            }
        }
        if (json)
            cli_print_json(o);
        else
            cJSON_Delete(o);
    }
    if (!json) {
        printf("incident %s\n", res->incident_wkt);
        for (int k = 0; k < nr; k++) {
            printf("within %g m:\n", radii[k]);
            for (size_t li = 0; li < nla; li++) {
                const ct_impact_layer_result *lr = &res->layers[li];
                const ct_impact_ring_stats *rs = &lr->rings[k];
                printf("  %-16s %8zu", la[li].name, rs->count);
                if (lr->has_polygons)
                    printf("   ~%.0f occupants", rs->occupants);
                if (lr->has_lines)
                    printf("   %.1f m of lines", rs->length_m);
                printf("\n");
            }
        }
        if (out_path)
            printf("features written to %s\n", out_path);
    }
done:
    ct_impact_result_destroy(res);
    for (size_t k = 0; layers && k < nla; k++)
        ct_impact_layer_destroy(layers[k]);
    free(layers);
    for (size_t k = 0; k < nla; k++)
        free(la[k].name);
    free(la);
    free(target);
    free(inc_wkt);
    free(first_crs);
    free(src_crs);
    return rc;
}
