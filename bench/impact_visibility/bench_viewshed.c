/* bench_viewshed: citytwin's viewshed against gdal_viewshed on a generated
 * DEM (default 10,000 x 10,000 cells of 10 m, UTM 32N), in the same run,
 * with the same options (-oz 2, default curvature 0.85714, whole raster).
 * Prints both wall times (file in, file out), the ratio, the in-memory
 * compute time per thread count, and the Jaccard index of visible cells.
 *
 * Both run ROUNDS times (default 3), citytwin then gdal_viewshed in each
 * round, and the medians and their ratio are printed.
 *
 * usage: bench_viewshed [SIZE] [WORKDIR] [ROUNDS]   (SIZE cells per side, default 10000) */
#include "citytwin/ct_visibility.h"
#include "citytwin/ct_math.h"

#include <gdal.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_string.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Rolling terrain: a few separable octaves (sums of products of sines) plus a
 * gentle tilt, 0..~600 m; deterministic. */
static int make_dem(const char *path, int n)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    char **o = CSLSetNameValue(NULL, "TILED", "YES");
    o = CSLSetNameValue(o, "BIGTIFF", "IF_SAFER");
    GDALDatasetH ds = GDALCreate(drv, path, n, n, 1, GDT_Float32, o);
    CSLDestroy(o);
    if (!ds)
        return -1;
    double gt[6] = {400000, 10, 0, 5000000 + 10.0 * n, 0, -10};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 32632);
    GDALSetSpatialRef(ds, s);
    OSRDestroySpatialReference(s);
    enum { K = 5 };
    const double fx[K] = {0.0011, 0.0037, 0.0093, 0.021, 0.057}, fy[K] = {0.0013, 0.0029, 0.0101, 0.019, 0.049};
    const double amp[K] = {180, 90, 35, 12, 4};
    double *ax = malloc(sizeof(double) * K * n), *ay = malloc(sizeof(double) * K * n);
    float *row = malloc(sizeof(float) * n);
    for (int k = 0; k < K; k++)
        for (int i = 0; i < n; i++) {
            ax[k * n + i] = sin(fx[k] * i + k);
            ay[k * n + i] = cos(fy[k] * i + 2 * k);
        }
    int rc = 0;
    for (int r = 0; r < n && rc == 0; r++) {
        for (int c = 0; c < n; c++) {
            double z = 250 + 0.004 * c;
            for (int k = 0; k < K; k++)
                z += amp[k] * ax[k * n + c] * ay[k * n + r];
            row[c] = (float)z;
        }
        if (GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Write, 0, r, n, 1, row, n, 1, GDT_Float32, 0, 0) != CE_None)
            rc = -1;
    }
    free(ax);
    free(ay);
    free(row);
    GDALClose(ds);
    return rc;
}

static uint8_t *read_byte(const char *path, int *w, int *h)
{
    GDALDatasetH ds = GDALOpen(path, GA_ReadOnly);
    if (!ds)
        return NULL;
    *w = GDALGetRasterXSize(ds);
    *h = GDALGetRasterYSize(ds);
    uint8_t *b = malloc((size_t)*w * *h);
    if (b && GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, *w, *h, b, *w, *h, GDT_Byte, 0, 0) != CE_None) {
        free(b);
        b = NULL;
    }
    GDALClose(ds);
    return b;
}

static double children_cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_CHILDREN, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec * 1e-6;
}

/* Wall time of a command; *cpu gets its CPU time (user + system, all threads). */
static double run_timed(const char *cmd, double *cpu)
{
    double c0 = children_cpu();
    double t0 = ct_time_now();
    int rc = system(cmd);
    double t = ct_time_now() - t0;
    *cpu = children_cpu() - c0;
    if (rc != 0) {
        fprintf(stderr, "failed (%d): %s\n", rc, cmd);
        return -1;
    }
    return t;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *dir = argc > 2 ? argv[2] : "/tmp/ct_bench_viewshed";
    int rounds = argc > 3 ? atoi(argv[3]) : 3;
    if (n < 100 || n > 40000 || rounds < 1 || rounds > 16) {
        fprintf(stderr, "usage: bench_viewshed [SIZE 100..40000] [WORKDIR] [ROUNDS 1..16]\n");
        return 1;
    }
    GDALAllRegister();
    mkdir(dir, 0755);
    char dem[1024], gout[1024], cout[1024], cmd[4096];
    snprintf(dem, sizeof dem, "%s/dem_%d.tif", dir, n);
    snprintf(gout, sizeof gout, "%s/gdal_viewshed.tif", dir);
    snprintf(cout, sizeof cout, "%s/citytwin_viewshed.tif", dir);
    struct stat st;
    if (stat(dem, &st) != 0) {
        double t0 = ct_time_now();
        if (make_dem(dem, n) != 0) {
            fprintf(stderr, "cannot write %s\n", dem);
            return 3;
        }
        printf("generated %s (%dx%d Float32, 10 m cells) in %.1f s\n", dem, n, n, ct_time_now() - t0);
    }
    double ox = 400000 + 10.0 * (n * 0.5 + 0.37), oy = 5000000 + 10.0 * (n * 0.5 + 0.21);
    /* warm the page cache for both */
    snprintf(cmd, sizeof cmd, "cat '%s' > /dev/null", dem);
    if (system(cmd) != 0)
        return 3;

    /* Rounds: citytwin then gdal_viewshed in each (so both meet the same
     * load), each a fresh process reading the DEM file and writing its
     * GeoTIFF; medians of wall and CPU time. */
    enum { MAXR = 16 };
    double tw[MAXR], tc[MAXR], gw[MAXR], gc[MAXR];
    int ng = 0;
    bool have_gdal = system("command -v gdal_viewshed >/dev/null 2>&1") == 0;
    printf("DEM %dx%d, observer at the centre, 2 m eye, curvature 0.85714, whole raster; %d round%s\n", n, n, rounds,
           rounds > 1 ? "s" : "");
    for (int k = 0; k < rounds; k++) {
        double load[3] = {0, 0, 0};
        getloadavg(load, 3);
        snprintf(cmd, sizeof cmd,
                 "%s/cli/citytwin analyze viewshed --dem '%s' --observer %.3f,%.3f --height 2 -o '%s' >/dev/null",
                 CT_BINARY_DIR, dem, ox, oy, cout);
        tw[k] = run_timed(cmd, &tc[k]);
        if (tw[k] < 0)
            return 3;
        printf("  round %d, load %.1f: citytwin analyze viewshed %.2f s wall, %.2f s CPU", k + 1, load[0], tw[k], tc[k]);
        if (have_gdal) {
            snprintf(cmd, sizeof cmd, "gdal_viewshed -q -ox %.3f -oy %.3f -oz 2 '%s' '%s'", ox, oy, dem, gout);
            gw[ng] = run_timed(cmd, &gc[ng]);
            if (gw[ng] > 0) {
                printf("; gdal_viewshed %.2f s wall, %.2f s CPU; ratio %.2fx wall, %.2fx CPU", gw[ng], gc[ng],
                       gw[ng] / tw[k], gc[ng] / tc[k]);
                ng++;
            }
        }
        printf("\n");
        fflush(stdout);
    }
    double mtw = ct_percentile(tw, rounds, 0.5), mtc = ct_percentile(tc, rounds, 0.5);
    printf("median citytwin analyze viewshed (read DEM + compute + write GeoTIFF): %.2f s wall, %.2f s CPU\n", mtw, mtc);
    double t_gdal = -1;
    if (ng > 0) {
        double mgw = ct_percentile(gw, ng, 0.5), mgc = ct_percentile(gc, ng, 0.5);
        t_gdal = mgw;
        printf("median gdal_viewshed (same)                                        : %.2f s wall, %.2f s CPU\n", mgw,
               mgc);
        printf("RATIO gdal_viewshed / citytwin (medians): %.2fx wall time, %.2fx CPU time (target 2x wall)\n",
               mgw / mtw, mgc / mtc);
    }
    double la[3] = {0, 0, 0};
    getloadavg(la, 3);
    printf("load average after: %.1f %.1f %.1f (2 cores shared)\n", la[0], la[1], la[2]);
    fflush(stdout);

    /* In memory: the algorithm alone, per thread count. */
    ct_raster *r = NULL;
    ct_error err = {0};
    double t0 = ct_time_now();
    if (ct_raster_read(dem, &r, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    printf("read DEM into memory: %.2f s\n", ct_time_now() - t0);
    int maxt = 1;
#ifdef _OPENMP
    maxt = omp_get_max_threads();
#endif
    for (int t = 1; t <= 4 && t <= (maxt > 1 ? 4 : 1); t *= 2) {
        ct_viewshed_desc d = {.observer_x = ox, .observer_y = oy, .observer_height = 2,
                              .curvature = CT_VIEWSHED_DEFAULT_CURVATURE, .threads = t};
        ct_viewshed *v = NULL;
        t0 = ct_time_now();
        if (ct_viewshed_compute(r, &d, &v, &err) != CT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 3;
        }
        double dt = ct_time_now() - t0;
        printf("compute only, %d thread%s: %.3f s (%.0f Mcells/s), %llu visible cells\n", t, t > 1 ? "s" : "", dt,
               (double)n * n / dt / 1e6, (unsigned long long)v->visible_cells);
        ct_viewshed_destroy(v);
    }
    ct_raster_destroy(r);

    if (t_gdal > 0) {
        int w1, h1, w2, h2;
        uint8_t *a = read_byte(gout, &w1, &h1), *b = read_byte(cout, &w2, &h2);
        if (a && b && w1 == w2 && h1 == h2) {
            size_t inter = 0, uni = 0, diff = 0;
            for (size_t i = 0; i < (size_t)w1 * h1; i++) {
                inter += a[i] == 255 && b[i] == 255;
                uni += a[i] == 255 || b[i] == 255;
                diff += (a[i] == 255) != (b[i] == 255);
            }
            printf("agreement with gdal_viewshed: Jaccard %.6f (%zu visible in both, %zu cells differ of %zu)\n",
                   uni ? (double)inter / uni : 1.0, inter, diff, (size_t)w1 * h1);
        } else {
            printf("outputs differ in size\n");
        }
        free(a);
        free(b);
    }
    return 0;
}
