/* The static flood against GRASS r.lake, cell for cell, on the Luxembourg DEM
 * (geographic, with nodata) and on a constructed projected DEM. Skips (77)
 * when grass is not installed. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <math.h>

typedef struct lake_case {
    double x, y, level;
} lake_case;

/* Runs r.lake for each case in one GRASS session; outputs dir/lake_<i>.tif
 * and the log (areas) in dir/grass.log. Returns the exit status. */
static int run_rlake(const char *dir, const char *dem, const char *epsg, const lake_case *cs, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rlake.sh", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "#!/bin/sh\nset -e\nr.in.gdal -o input=%s output=dem --quiet\ng.region raster=dem\n", dem);
    for (int i = 0; i < n; i++) {
        fprintf(f, "echo CASE %d >&2\n", i);
        fprintf(f, "r.lake elevation=dem water_level=%.3f lake=lake%d coordinates=%.10f,%.10f\n", cs[i].level, i,
                cs[i].x, cs[i].y);
        fprintf(f, "r.out.gdal -c --overwrite input=lake%d output=%s/lake_%d.tif format=GTiff type=Float32 --quiet\n",
                i, dir, i);
    }
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "chmod +x %s && grass --tmp-location %s --exec %s > %s/grass.log 2>&1", path, epsg, path,
             dir);
    return ct_test_sh(cmd);
}

/* GRASS's "Lake area A square meters" for case i from the log, or NAN. */
static double grass_area(const char *dir, int i)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/grass.log", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NAN;
    int cur = -1;
    double a = NAN;
    while (fgets(line, sizeof line, f)) {
        int k;
        if (sscanf(line, "CASE %d", &k) == 1)
            cur = k;
        double v;
        if (cur == i && sscanf(line, "Lake area %lf", &v) == 1)
            a = v;
    }
    fclose(f);
    return a;
}

/* Compares our flood (compat or not) with GRASS's raster: returns the number
 * of differing cells; fills *ours_n / *grass_n with flooded cell counts. */
static long compare(const ct_raster *dem, const lake_case *c, bool compat, const char *grass_tif, long *ours_n,
                    long *grass_n, double *area)
{
    ct_raster *g = NULL, *depth = NULL;
    ct_error err = {0};
    if (ct_raster_read(grass_tif, &g, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    ct_flood_static_desc d = {.dem = dem, .seeds_xy = &c->x, .n_seeds = 1, .level = c->level, .rlake_compat = compat};
    ct_flood_static_result res;
    if (ct_flood_static_run(&d, &depth, &res, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        ct_raster_destroy(g);
        return -1;
    }
    long diff = 0;
    *ours_n = *grass_n = 0;
    for (size_t i = 0; i < (size_t)dem->width * dem->height; i++) {
        float a = depth->data[i], b = g->data[i];
        *ours_n += !isnan(a);
        *grass_n += !isnan(b);
        if (isnan(a) != isnan(b) || (!isnan(a) && a != b))
            diff++;
    }
    *area = res.area_m2;
    ct_raster_destroy(g);
    ct_raster_destroy(depth);
    return diff;
}

CT_TEST(test_rlake_luxembourg)
{
    const char *dem_path = ct_test_data("terrain/luxembourg/elev.tif");
    ct_raster *dem = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_raster_read(dem_path, &dem, &err) == CT_OK);
    /* Seeds: the lowest valid cell, and cells at a quarter/half/three quarters. */
    size_t lo = 0;
    for (size_t i = 0; i < (size_t)dem->width * dem->height; i++)
        if (!isnan(dem->data[i]) && (isnan(dem->data[lo]) || dem->data[i] < dem->data[lo]))
            lo = i;
    lake_case cs[8];
    int n = 0;
    double x, y;
    ct_raster_cell_center(dem, (int)(lo % dem->width), (int)(lo / dem->width), &x, &y);
    double rises[3] = {40.5, 120.5, 200.5};
    for (int k = 0; k < 3; k++)
        cs[n++] = (lake_case){x, y, floor(dem->data[lo]) + rises[k]};
    int pick[3][2] = {{dem->width / 2, dem->height / 2}, {dem->width / 4, dem->height / 3}, {dem->width * 3 / 4, dem->height * 2 / 3}};
    for (int k = 0; k < 3; k++) {
        float z = dem->data[(size_t)pick[k][1] * dem->width + pick[k][0]];
        if (isnan(z))
            continue;
        ct_raster_cell_center(dem, pick[k][0], pick[k][1], &x, &y);
        cs[n++] = (lake_case){x, y, floor(z) + 30.5};
    }
    const char *dir = flood_test_tmpdir("rlake_lux");
    CT_REQUIRE(dir != NULL);
    char d2[256];
    snprintf(d2, sizeof d2, "%s", dir);
    CT_REQUIRE(run_rlake(d2, dem_path, "EPSG:4326", cs, n) == 0);
    long total_flooded = 0;
    for (int i = 0; i < n; i++) {
        char tif[512];
        snprintf(tif, sizeof tif, "%s/lake_%d.tif", d2, i);
        long on, gn;
        double area;
        long diff = compare(dem, &cs[i], true, tif, &on, &gn, &area);
        fprintf(stderr, "case %d level %.1f: ours %ld cells, r.lake %ld cells, %ld differ\n", i, cs[i].level, on, gn,
                diff);
        CT_CHECK_EQ_INT(diff, 0);
        total_flooded += gn;
        /* Areas: r.lake (GRASS 8.2) computes the area of the first row's
         * cells and uses it for every row of a lat/lon region (its
         * cellsize == -1 test only holds for row 0), so GRASS's area is
         * cells x area(row 0); that checks our ellipsoidal cell area. Our
         * own area sums each row's cells. */
        double ga = grass_area(d2, i);
        CT_CHECK(!isnan(ga));
        double *rows = ct_flood_row_areas(dem);
        CT_CHECK_NEAR((double)gn * rows[0], ga, 1e-5 * ga);
        double sum = 0;
        char tif2[512];
        snprintf(tif2, sizeof tif2, "%s/lake_%d.tif", d2, i);
        ct_raster *g = NULL;
        CT_REQUIRE(ct_raster_read(tif2, &g, &err) == CT_OK);
        for (int r = 0; r < dem->height; r++)
            for (int c = 0; c < dem->width; c++)
                if (!isnan(g->data[(size_t)r * dem->width + c]))
                    sum += rows[r];
        CT_CHECK_NEAR(area, sum, 1e-9 * sum);
        ct_raster_destroy(g);
        free(rows);
    }
    CT_CHECK(total_flooded > 100); /* the cases really flood something */
    ct_raster_destroy(dem);
}

CT_TEST(test_rlake_constructed)
{
    /* Hills and valleys with a nodata hole and a valley along the east edge. */
    int w = 64, h = 48;
    ct_raster *dem = flood_test_dem(w, h, 10.0, 500000.0, 5300000.0);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            double v = 100 + 8 * sin(c * 0.23) * cos(r * 0.31) + 0.05 * (r - 20) * (r - 20) * 0.1 + 0.3 * c;
            if (c == w - 1)
                v = 95 + 0.1 * r; /* an edge valley: r.lake's last-column quirk shows here */
            if (r >= 10 && r < 14 && c >= 20 && c < 26)
                v = NAN;
            dem->data[(size_t)r * w + c] = (float)v;
        }
    const char *dir = flood_test_tmpdir("rlake_con");
    CT_REQUIRE(dir != NULL);
    char d2[256], tif[512];
    snprintf(d2, sizeof d2, "%s", dir);
    snprintf(tif, sizeof tif, "%s/dem.tif", d2);
    ct_error err = {0};
    CT_REQUIRE(ct_raster_write_gtiff(dem, tif, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    lake_case cs[6];
    int n = 0;
    int seeds[3][2] = {{5, 5}, {30, 30}, {w - 3, h - 2}};
    double rises[2] = {3.25, 9.75};
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 2; j++) {
            double x, y;
            ct_raster_cell_center(dem, seeds[k][0], seeds[k][1], &x, &y);
            float z = dem->data[(size_t)seeds[k][1] * w + seeds[k][0]];
            cs[n++] = (lake_case){x, y, floor(z) + rises[j]};
        }
    CT_REQUIRE(run_rlake(d2, tif, "EPSG:32632", cs, n) == 0);
    int quirk_cases = 0;
    for (int i = 0; i < n; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/lake_%d.tif", d2, i);
        long on, gn, on2, gn2;
        double area, area2;
        long diff = compare(dem, &cs[i], true, out, &on, &gn, &area);
        fprintf(stderr, "case %d (compat): ours %ld, r.lake %ld, %ld differ\n", i, on, gn, diff);
        CT_CHECK_EQ_INT(diff, 0);
        double ga = grass_area(d2, i);
        CT_CHECK_NEAR(area, ga, 1e-6 * ga + 1e-6);
        /* Without compat: a superset; equal unless the flood reaches the last column. */
        long diff2 = compare(dem, &cs[i], false, out, &on2, &gn2, &area2);
        CT_CHECK(on2 >= on);
        if (diff2)
            quirk_cases++;
    }
    CT_CHECK(quirk_cases > 0); /* the edge valley does exercise the quirk */
    ct_raster_destroy(dem);
}

int main(int argc, char **argv)
{
    if (!flood_test_have("grass")) {
        fprintf(stderr, "grass not installed: skipping\n");
        return 77;
    }
    ct_test_case cases[] = {CT_CASE(test_rlake_luxembourg), CT_CASE(test_rlake_constructed)};
    int ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name))
            continue;
        ct_test_current = cases[i].name;
        int before = ct_test_failures;
        cases[i].fn();
        fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    return ran ? (ct_test_failures > 100 ? 100 : ct_test_failures) : 1;
}
