/* Impact radius on OSM Monaco (reprojected to UTM 32N) against two
 * independent computations: SpatiaLite's ST_Distance through GDAL's SQLite
 * dialect (the ST_DWithin semantics of PostGIS) and OGR_G_Distance over
 * every feature without an index. */
#include "ct_test.h"

#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <geos_c.h>

#include <stdint.h>
#include <unistd.h>

/* ---- OSM Monaco against SpatiaLite and a brute-force scan ---- */

static const char *monaco_gpkg(void)
{
    static char path[512];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s", ct_test_tmp_path("monaco.gpkg"));
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ogr2ogr -q -t_srs EPSG:32632 '%s' '%s' points lines multipolygons 2>/dev/null", path,
             ct_test_data("osm/monaco/monaco.osm.pbf"));
    if (system(cmd) != 0)
        path[0] = 0;
    return path;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* FIDs and distances of the features SpatiaLite's ST_Distance puts within r
 * of the incident (one ogrinfo run per layer and incident). */
static size_t spatialite_hits(const char *gpkg, const char *layer, const char *geom_sql, double r, int64_t *fid,
                              double *dist, size_t max)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -dialect SQLite -sql \"SELECT fid AS f, ST_Distance(geom, %s) AS d FROM %s "
             "WHERE ST_Distance(geom, %s) <= %.17g\" 2>/dev/null",
             gpkg, geom_sql, layer, geom_sql, r);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, p)) {
        /* the selected fid becomes the result's FID: "OGRFeature(SELECT):40", then "  d (Real) = 12.3" */
        const char *s = strstr(line, "OGRFeature(SELECT):");
        const char *d = strstr(line, "d (Real) = ");
        if (s && n < max)
            fid[n++] = atoll(s + strlen("OGRFeature(SELECT):"));
        else if (d && n > 0)
            dist[n - 1] = atof(d + strlen("d (Real) = "));
    }
    pclose(p);
    return n;
}

/* FIDs within r by OGR_G_Distance over every feature, no index. */
static size_t brute_fids(const char *gpkg, const char *layer, const char *incident_wkt, double r, int64_t *out, size_t max)
{
    GDALDatasetH ds = GDALOpenEx(gpkg, GDAL_OF_VECTOR, NULL, NULL, NULL);
    OGRLayerH l = ds ? GDALDatasetGetLayerByName(ds, layer) : NULL;
    OGRGeometryH inc = NULL;
    char *w = (char *)incident_wkt;
    OGR_G_CreateFromWkt(&w, NULL, &inc);
    size_t n = 0;
    OGRFeatureH f;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    while (l && inc && (f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g && !OGR_G_IsEmpty(g)) {
            double d = OGR_G_Distance(inc, g);
            if (d >= 0 && d <= r && n < max)
                out[n++] = OGR_F_GetFID(f);
        }
        OGR_F_Destroy(f);
    }
    CPLPopErrorHandler();
    if (inc)
        OGR_G_DestroyGeometry(inc);
    if (ds)
        GDALClose(ds);
    qsort(out, n, sizeof *out, cmp_i64);
    return n;
}

CT_TEST(monaco_matches_spatialite_and_brute_force)
{
    GDALAllRegister();
    const char *gpkg = monaco_gpkg();
    if (!gpkg[0]) {
        fprintf(stderr, "ogr2ogr could not convert the Monaco extract: skipping\n");
        return;
    }
    const char *names[] = {"points", "lines", "multipolygons"};
    ct_impact_layer *layers[3] = {0};
    ct_error err = {0};
    for (int i = 0; i < 3; i++) {
        char src[700];
        snprintf(src, sizeof src, "%s:%s", gpkg, names[i]);
        ct_impact_layer_desc d = {.name = names[i], .source = src, .drop_attributes = true};
        CT_REQUIRE(ct_impact_layer_load(&d, &layers[i], &err) == CT_OK);
    }
    /* Point incidents in Monte-Carlo and La Condamine, and a line incident across the port. */
    const struct {
        const char *wkt, *sql;
    } incidents[] = {
        {"POINT (373139.337 4844024.125)", "MakePoint(373139.337, 4844024.125)"},
        {"POINT (372310 4843560)", "MakePoint(372310, 4843560)"},
        {"LINESTRING (372400 4843600, 372900 4843900)",
         "GeomFromText('LINESTRING(372400 4843600, 372900 4843900)')"},
    };
    double radii[] = {50, 500};
    static int64_t a[60000], b[60000], c[60000], sl_fid[60000];
    static double sl_d[60000];
    size_t total = 0;
    for (size_t ii = 0; ii < sizeof incidents / sizeof incidents[0]; ii++) {
        ct_impact_query q = {.wkt = incidents[ii].wkt, .radii = radii, .radius_count = 2};
        ct_impact_result *r = NULL;
        CT_REQUIRE(ct_impact_run(layers, 3, &q, &r, &err) == CT_OK);
        for (int li = 0; li < 3; li++) {
            size_t nsl = spatialite_hits(gpkg, names[li], incidents[ii].sql, radii[1], sl_fid, sl_d, 60000);
            for (int k = 0; k < 2; k++) {
                const ct_impact_layer_result *lr = &r->layers[li];
                size_t n = 0;
                for (size_t h = 0; h < lr->hit_count; h++)
                    if (lr->hits[h].ring <= k)
                        a[n++] = ct_impact_layer_id_number(layers[li], lr->hits[h].feature);
                CT_CHECK_EQ_INT(n, lr->rings[k].count);
                size_t nb = 0;
                for (size_t j = 0; j < nsl; j++)
                    if (sl_d[j] <= radii[k])
                        b[nb++] = sl_fid[j];
                qsort(b, nb, sizeof *b, cmp_i64);
                bool same = n == nb && memcmp(a, b, n * sizeof *a) == 0;
                if (!same)
                    fprintf(stderr, "%s %s r=%g: citytwin %zu, SpatiaLite %zu\n", incidents[ii].wkt, names[li],
                            radii[k], n, nb);
                CT_CHECK(same);
                if (k == 1 && ii == 0) { /* brute force (slow): the largest ring of the first incident */
                    size_t nc = brute_fids(gpkg, names[li], incidents[ii].wkt, radii[k], c, 60000);
                    CT_CHECK(nc == n && memcmp(a, c, n * sizeof *a) == 0);
                }
                total += n;
            }
        }
        ct_impact_result_destroy(r);
    }
    fprintf(stderr, "Monaco: %zu (incident, layer, ring) selections, %zu features in all, identical to SpatiaLite\n",
            sizeof incidents / sizeof incidents[0] * 6, total);
    CT_CHECK(total > 1000);
    for (int i = 0; i < 3; i++)
        ct_impact_layer_destroy(layers[i]);
}

CT_TEST_MAIN(CT_CASE(monaco_matches_spatialite_and_brute_force))
