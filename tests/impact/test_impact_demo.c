/* Impact radius on the demo district (citytwin demo: CGCS2000 / GK EPSG:4547
 * buildings, roads and POIs as GeoJSON): the rings hold exactly the features
 * a brute-force OGR_G_Distance scan finds, occupants and road lengths add up. */
#include "ct_test.h"

#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <cpl_conv.h>

#include <stdint.h>
#include <unistd.h>

static char g_dir[] = "/tmp/ct_impact_demo_XXXXXX";

static void cleanup(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* ids (field "id") within r of (x, y), by OGR_G_Distance over every feature. */
static size_t brute(const char *path, double x, double y, double r, int64_t *out, size_t max, double *length)
{
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    OGRLayerH l = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
    OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(p, 0, x, y);
    OGRGeometryH disc = OGR_G_Buffer(p, r, 256);
    size_t n = 0;
    *length = 0;
    OGRFeatureH f;
    while (l && (f = OGR_L_GetNextFeature(l)) != NULL) {
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (g && OGR_G_Distance(p, g) <= r && n < max) {
            out[n++] = OGR_F_GetFieldAsInteger64(f, OGR_FD_GetFieldIndex(OGR_F_GetDefnRef(f), "id"));
            if (wkbFlatten(OGR_G_GetGeometryType(g)) == wkbLineString) {
                OGRGeometryH in = OGR_G_Intersection(disc, g);
                OGRwkbGeometryType t = in ? wkbFlatten(OGR_G_GetGeometryType(in)) : wkbUnknown;
                if (in && (t == wkbLineString || t == wkbMultiLineString))
                    *length += OGR_G_Length(in);
                if (in) {
                    OGR_G_DestroyGeometry(in);
                }
            }
        }
        OGR_F_Destroy(f);
    }
    OGR_G_DestroyGeometry(disc);
    OGR_G_DestroyGeometry(p);
    if (ds)
        GDALClose(ds);
    qsort(out, n, sizeof *out, cmp_i64);
    return n;
}

CT_TEST(demo_district_rings)
{
    CT_REQUIRE(mkdtemp(g_dir) != NULL);
    atexit(cleanup);
    char args[1024];
    snprintf(args, sizeof args, "demo --out-dir %s", g_dir);
    CT_REQUIRE(ct_test_run_cli(args, NULL, NULL) == 0);
    GDALAllRegister();
    const char *names[] = {"buildings", "roads", "pois"};
    ct_impact_layer *layers[3] = {0};
    char paths[3][512];
    ct_error err = {0};
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s.geojson", g_dir, names[i]);
        ct_impact_layer_desc d = {.name = names[i], .source = paths[i], .id_field = "id", .drop_attributes = true};
        CT_REQUIRE(ct_impact_layer_load(&d, &layers[i], &err) == CT_OK);
        CT_CHECK(ct_impact_layer_size(layers[i]) > 10);
    }
    double radii[] = {100, 300};
    const double at[][2] = {{405400, 2498300}, {405000, 2498100}};
    static int64_t a[20000], b[20000];
    for (int q = 0; q < 2; q++) {
        ct_impact_query query = {.x = at[q][0], .y = at[q][1], .radii = radii, .radius_count = 2};
        ct_impact_result *r = NULL;
        CT_REQUIRE(ct_impact_run(layers, 3, &query, &r, &err) == CT_OK);
        for (int li = 0; li < 3; li++)
            for (int k = 0; k < 2; k++) {
                const ct_impact_layer_result *lr = &r->layers[li];
                size_t n = 0;
                for (size_t h = 0; h < lr->hit_count; h++)
                    if (lr->hits[h].ring <= k)
                        a[n++] = ct_impact_layer_id_number(layers[li], lr->hits[h].feature);
                double len = 0;
                size_t nb = brute(paths[li], at[q][0], at[q][1], radii[k], b, 20000, &len);
                CT_CHECK(n == nb && memcmp(a, b, n * sizeof *a) == 0);
                CT_CHECK(n > 0);
                if (li == 0)
                    CT_CHECK(lr->rings[k].occupants > 0);
                if (li == 1) /* exact circle clip vs a 1024-gon buffer intersection */
                    CT_CHECK_NEAR(lr->rings[k].length_m, len, 1e-3 * len + 1e-6);
            }
        ct_impact_result_destroy(r);
    }
    for (int i = 0; i < 3; i++)
        ct_impact_layer_destroy(layers[i]);
}

CT_TEST_MAIN(CT_CASE(demo_district_rings))
