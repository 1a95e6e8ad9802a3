/* bench_flood: (1) bathtub flood on a synthetic N x N DEM (default 10,000),
 * whole job = read GeoTIFF + flood + write GeoTIFF, against GRASS's
 * r.in.gdal + r.lake + r.out.gdal on the same DEM when grass is installed;
 * (2) the dynamic local-inertial flood on M x M cells (default 2,000):
 * cell updates per second with 1 and 2 OpenMP threads, and 1 vs 2 MPI ranks.
 *
 * usage: bench_flood [--static-size N] [--dynamic-size M] [--sim-seconds S]
 *                    [--no-grass] [--no-mpi] [--workdir DIR] [--rounds R (3)]
 *                    [--compress C (ours, default zstd)] [--grass-compress NAME (DEFLATE)]
 *                    [--no-extent]
 * The static job runs R rounds (0: only the phases, codecs and extent
 * polygons), citytwin then GRASS in each, and prints every round and the
 * medians (wall and CPU) with their ratio. The extent polygons are timed
 * three ways on the flooded grid: our polygonizer (ct_flood_polygons_build),
 * GDALPolygonize on the same wet mask into a memory layer, and the whole
 * --extent GeoPackage write. */
#include "citytwin/ct_flood.h"
#include "citytwin/ct_math.h"

#include <cjson/cJSON.h>
#include <cpl_conv.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* CPU seconds of this process (all threads) or of its waited-for children. */
static double cpu_s(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

static const char *UTM32 = "EPSG:32632";

static double file_mb(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NAN;
    fseek(f, 0, SEEK_END);
    double n = (double)ftell(f);
    fclose(f);
    return n / 1e6;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

/* Terrain: a broad valley with hills (sines at three scales). Uncompressed
 * tiled GeoTIFF so both tools spend their time on the flood, not inflating. */
static int write_dem(const char *path, int n, double cell)
{
    GDALAllRegister();
    char *opts[] = {"TILED=YES", "BIGTIFF=YES", NULL};
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, n, n, 1, GDT_Float32, opts);
    if (!ds)
        return -1;
    double gt[6] = {500000, cell, 0, 5300000 + n * cell, 0, -cell};
    GDALSetGeoTransform(ds, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRSetFromUserInput(srs, UTM32);
    char *wkt = NULL;
    OSRExportToWkt(srs, &wkt);
    GDALSetProjection(ds, wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    float *row = malloc(sizeof(float) * n);
    GDALRasterBandH b = GDALGetRasterBand(ds, 1);
    for (int r = 0; r < n; r++) {
        double v = (double)r / n;
        for (int c = 0; c < n; c++) {
            double u = (double)c / n;
            double valley = 40.0 * (u - 0.5) * (u - 0.5) + 10.0 * v;
            double hills = 6.0 * sin(u * 37.0) * cos(v * 29.0) + 2.0 * sin(u * 211.0 + v * 97.0) +
                           0.7 * cos(u * 997.0) * sin(v * 1301.0);
            row[c] = (float)(100.0 + valley + hills);
        }
        if (GDALRasterIO(b, GF_Write, 0, r, n, 1, row, n, 1, GDT_Float32, 0, 0) != CE_None) {
            free(row);
            GDALClose(ds);
            return -1;
        }
    }
    free(row);
    GDALClose(ds);
    return 0;
}

static double json_num(const char *path, const char *key)
{
    uint8_t *d;
    size_t n;
    ct_error err = {0};
    if (ct_file_read(path, 0, &d, &n, &err) != CT_OK)
        return NAN;
    cJSON *j = cJSON_Parse((char *)d);
    free(d);
    cJSON *v = j ? cJSON_GetObjectItem(j, key) : NULL;
    double r = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(j);
    return r;
}

/* GDALPolygonize (4-connected, as the extent writer used before) on the wet
 * mask of depth, into a memory layer: wall and CPU seconds, polygons. */
static void polygonize_gdal(const ct_raster *depth, double *wall, double *cpu, int *n)
{
    GDALAllRegister();
    size_t cells = (size_t)depth->width * depth->height;
    uint8_t *mask = malloc(cells);
    if (!mask)
        return;
    double t0 = ct_time_now(), c0 = cpu_s(RUSAGE_SELF);
    for (size_t i = 0; i < cells; i++)
        mask[i] = !isnan(depth->data[i]);
    GDALDatasetH mds = GDALCreate(GDALGetDriverByName("MEM"), "", depth->width, depth->height, 0, GDT_Byte, NULL);
    char ptr[64];
    snprintf(ptr, sizeof ptr, "DATAPOINTER=%p", (void *)mask);
    char *opts[] = {ptr, NULL};
    GDALAddBand(mds, GDT_Byte, opts);
    GDALSetGeoTransform(mds, (double *)depth->geotransform);
    GDALRasterBandH band = GDALGetRasterBand(mds, 1);
    GDALDatasetH vds = GDALCreate(GDALGetDriverByName("Memory"), "", 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH lyr = GDALDatasetCreateLayer(vds, "p", NULL, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("v", OFTInteger);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
    if (GDALPolygonize(band, band, lyr, 0, NULL, NULL, NULL) == CE_None)
        *n = (int)OGR_L_GetFeatureCount(lyr, TRUE);
    *wall = ct_time_now() - t0;
    *cpu = cpu_s(RUSAGE_SELF) - c0;
    GDALClose(vds);
    GDALClose(mds);
    free(mask);
}

int main(int argc, char **argv)
{
    int ns = 10000, nd = 2000;
    double sim_s = 0;
    bool grass = true, mpi = true, extent = true;
    int rounds = 3;
    ct_flood_compress compress = CT_FLOOD_COMPRESS_DEFAULT;
    const char *grass_compress = "DEFLATE";
    const char *work = "/tmp/ct_bench_flood";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--static-size") && i + 1 < argc)
            ns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dynamic-size") && i + 1 < argc)
            nd = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sim-seconds") && i + 1 < argc)
            sim_s = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-grass"))
            grass = false;
        else if (!strcmp(argv[i], "--no-mpi"))
            mpi = false;
        else if (!strcmp(argv[i], "--workdir") && i + 1 < argc)
            work = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-extent"))
            extent = false;
        else if (!strcmp(argv[i], "--compress") && i + 1 < argc && ct_flood_compress_parse(argv[i + 1], &compress))
            i++;
        else if (!strcmp(argv[i], "--grass-compress") && i + 1 < argc)
            grass_compress = argv[++i];
        else {
            fprintf(stderr, "usage: bench_flood [--static-size N] [--dynamic-size M] [--sim-seconds S] [--no-grass] "
                            "[--no-mpi] [--workdir DIR] [--rounds R] [--compress zstd|deflate|lzw|none] "
                            "[--grass-compress GDAL_NAME] [--no-extent]\n");
            return 1;
        }
    }
    if (rounds < 0 || rounds > 16) {
        fprintf(stderr, "--rounds must be 0..16\n");
        return 1;
    }
    char cmd[4096], dem[1024], out[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", work);
    sh(cmd);
    ct_error err = {0};

    /* ------------------------------------------------------------ static */
    if (ns > 0) {
        snprintf(dem, sizeof dem, "%s/dem_%d.tif", work, ns);
        if (!ct_file_exists(dem)) {
            fprintf(stderr, "generating %dx%d DEM %s...\n", ns, ns, dem);
            if (write_dem(dem, ns, 2.0) != 0) {
                fprintf(stderr, "cannot write %s\n", dem);
                return 3;
            }
        }
        /* seed in the valley floor, level 18 m above the lowest valley ground */
        double sx = 500000 + ns * 2.0 * 0.5 + 1.0, sy = 5300000 + ns * 2.0 * 0.75 + 1.0, level = 112.5;
        bool have_grass = grass && sh("command -v grass >/dev/null 2>&1") == 0;
        if (have_grass) {
            char script[1024];
            snprintf(script, sizeof script, "%s/rlake.sh", work);
            FILE *f = fopen(script, "w");
            fprintf(f,
                    "#!/bin/sh\nset -e\ns0=$(date +%%s.%%N)\nr.in.gdal -o input=%s output=dem --quiet --overwrite\n"
                    "g.region raster=dem\ns1=$(date +%%s.%%N)\n"
                    "r.lake elevation=dem water_level=%.3f lake=lake coordinates=%.3f,%.3f --quiet --overwrite\n"
                    "s2=$(date +%%s.%%N)\n"
                    "r.out.gdal -c --overwrite input=lake output=%s/grass_depth.tif format=GTiff type=Float32 "
                    "createopt=COMPRESS=%s,TILED=YES --quiet\ns3=$(date +%%s.%%N)\n"
                    "echo \"GRASS_TIMES $s0 $s1 $s2 $s3\"\n",
                    dem, level, sx, sy, work, grass_compress);
            fclose(f);
            snprintf(cmd, sizeof cmd, "chmod +x %s", script);
            sh(cmd);
        }
        printf("static flood %dx%d (%.0f M cells), level %.1f, %d round%s (citytwin then GRASS in each), medians "
               "last\n  citytwin output: --compress %s; GRASS: r.out.gdal createopt=COMPRESS=%s,TILED=YES\n",
               ns, ns, (double)ns * ns / 1e6, level, rounds, rounds > 1 ? "s" : "",
               ct_flood_compress_name(compress), grass_compress);
        enum { MAXR = 16 };
        double ow[MAXR], oc[MAXR], gw[MAXR], gc[MAXR];
        int ngr = 0;
        size_t cells = 0;
        /* Phases, once, in this process (fresh memory: the first job of the process). */
        {
            double load[3] = {0, 0, 0};
            getloadavg(load, 3);
            snprintf(out, sizeof out, "%s/ours_depth.tif", work);
            double t0 = ct_time_now(), c0 = cpu_s(RUSAGE_SELF);
            ct_raster *r = NULL;
            if (ct_raster_read(dem, &r, &err) != CT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 2;
            }
            double t1 = ct_time_now(), c1 = cpu_s(RUSAGE_SELF);
            double seed[2] = {sx, sy};
            /* r.lake's last-column quirk on, so the cells can be compared one to one */
            ct_flood_static_desc d = {.dem = r, .seeds_xy = seed, .n_seeds = 1, .level = level, .rlake_compat = true};
            ct_flood_static_result res;
            /* as the CLI does for one level: the DEM grid becomes the depth grid */
            if (ct_flood_static_run_in_place(&d, r, &res, &err) != CT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 2;
            }
            ct_raster *depth = r;
            r = NULL;
            double t2 = ct_time_now(), c2 = cpu_s(RUSAGE_SELF);
            ct_flood_write_desc wd = {.compress = compress};
            if (ct_flood_raster_write_with(depth, out, &wd, &err) != CT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 3;
            }
            double t3 = ct_time_now(), c3 = cpu_s(RUSAGE_SELF);
            cells = res.cells;
            printf("  phases (library calls, once), load %.1f: read %.2f + flood %.2f + write %.2f = %.2f s wall; CPU "
                   "%.2f + %.2f + %.2f = %.2f s; %zu cells flooded, output %.0f MB\n",
                   load[0], t1 - t0, t2 - t1, t3 - t2, t3 - t0, c1 - c0, c2 - c1, c3 - c2, c3 - c0, res.cells,
                   file_mb(out));
            fflush(stdout);
            /* the other codecs on the same depth grid (--compress) */
            static const ct_flood_compress OTHER[] = {CT_FLOOD_COMPRESS_ZSTD, CT_FLOOD_COMPRESS_DEFLATE,
                                                      CT_FLOOD_COMPRESS_NONE};
            for (int k = 0; k < 3; k++) {
                char cp[1100];
                snprintf(cp, sizeof cp, "%s/codec_%s.tif", work, ct_flood_compress_name(OTHER[k]));
                ct_flood_write_desc cd = {.compress = OTHER[k]};
                double w0 = ct_time_now(), wc0 = cpu_s(RUSAGE_SELF);
                if (ct_flood_raster_write_with(depth, cp, &cd, &err) != CT_OK) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 3;
                }
                printf("  write --compress %-7s: %.2f s wall, %.2f s CPU, %.0f MB\n", ct_flood_compress_name(OTHER[k]),
                       ct_time_now() - w0, cpu_s(RUSAGE_SELF) - wc0, file_mb(cp));
                remove(cp);
            }
            fflush(stdout);
            if (extent) { /* polygons, measured once: ours, GDAL's, the whole --extent write */
                double p0 = ct_time_now(), pc0 = cpu_s(RUSAGE_SELF);
                ct_flood_polygons polys;
                if (ct_flood_polygons_build(depth, &polys, &err) != CT_OK) {
                    printf("  polygons failed: %s\n", err.msg);
                } else {
                    double pw = ct_time_now() - p0, pc = cpu_s(RUSAGE_SELF) - pc0;
                    size_t corners = 0;
                    for (int i = 0; i < polys.n_rings; i++)
                        corners += polys.ring_count[i];
                    int gn = 0;
                    double gw2 = 0, gc2 = 0;
                    polygonize_gdal(depth, &gw2, &gc2, &gn);
                    printf("  extent polygonizer: ours %.2f s wall, %.2f s CPU (%d polygons, %d rings, %zu corners); "
                           "GDALPolygonize on the same mask %.2f s wall, %.2f s CPU (%d polygons); ratio %.1fx wall, "
                           "%.1fx CPU\n",
                           pw, pc, polys.n_polygons, polys.n_rings, corners, gw2, gc2, gn, gw2 / pw, gc2 / pc);
                    ct_flood_polygons_free(&polys);
                }
                fflush(stdout);
                char gpkg[1100];
                snprintf(gpkg, sizeof gpkg, "%s/ours_extent.gpkg", work);
                const ct_raster *dl[1] = {depth};
                double e0 = ct_time_now(), ec0 = cpu_s(RUSAGE_SELF);
                if (ct_flood_extent_write(gpkg, dl, &level, 1, &err) != CT_OK)
                    printf("  extent failed: %s\n", err.msg);
                else
                    printf("  extent polygons (--extent GeoPackage, not in the job timed below): %.2f s wall, %.2f s "
                           "CPU, %.1f MB\n",
                           ct_time_now() - e0, cpu_s(RUSAGE_SELF) - ec0, file_mb(gpkg));
                fflush(stdout);
            }
            ct_raster_destroy(depth);
            ct_raster_destroy(r);
        }
        for (int round = 0; round < rounds; round++) {
            double load[3] = {0, 0, 0};
            getloadavg(load, 3);
            /* the whole job as a planner runs it: one citytwin process */
            snprintf(cmd, sizeof cmd,
                     "%s/cli/citytwin analyze flood --dem %s --seed %.3f,%.3f --level %.3f --rlake-compat -o "
                     "%s/ours_depth.tif --compress %s --json > %s/ours.json",
                     CT_BINARY_DIR, dem, sx, sy, level, work, ct_flood_compress_name(compress), work);
            double t0 = ct_time_now(), c0 = cpu_s(RUSAGE_CHILDREN);
            if (sh(cmd) != 0) {
                fprintf(stderr, "failed: %s\n", cmd);
                return 3;
            }
            ow[round] = ct_time_now() - t0;
            oc[round] = cpu_s(RUSAGE_CHILDREN) - c0;
            snprintf(out, sizeof out, "%s/ours_depth.tif", work);
            printf("  round %d, load %.1f: citytwin analyze flood (read + flood + write) %.2f s wall, %.2f s CPU, "
                   "output %.0f MB\n",
                   round + 1, load[0], ow[round], oc[round], file_mb(out));
            fflush(stdout);
            if (!have_grass)
                continue;
            getloadavg(load, 3);
            snprintf(cmd, sizeof cmd, "grass --tmp-location %s --exec %s/rlake.sh 2>&1 | grep GRASS_TIMES > %s/grass_times.txt",
                     UTM32, work, work);
            double g0 = ct_time_now(), gc0 = cpu_s(RUSAGE_CHILDREN);
            int rc = sh(cmd);
            double g1 = ct_time_now(), gc1 = cpu_s(RUSAGE_CHILDREN);
            snprintf(out, sizeof out, "%s/grass_times.txt", work);
            FILE *tf = fopen(out, "r");
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            if (rc == 0 && tf && fscanf(tf, "GRASS_TIMES %lf %lf %lf %lf", &s0, &s1, &s2, &s3) == 4) {
                gw[ngr] = s3 - s0;
                gc[ngr] = gc1 - gc0; /* the whole grass session: a little more than the three modules */
                printf("  round %d, load %.1f: GRASS r.in.gdal %.2f + r.lake %.2f + r.out.gdal %.2f = %.2f s wall "
                       "(%.2f s with session start); %.2f s CPU; output %.0f MB\n",
                       round + 1, load[0], s1 - s0, s2 - s1, s3 - s2, gw[ngr], g1 - g0, gc[ngr],
                       file_mb(strcat(strcpy(out, work), "/grass_depth.tif")));
                printf("           ratio this round: %.1fx wall, %.1fx CPU\n", gw[ngr] / ow[round],
                       gc[ngr] / oc[round]);
                ngr++;
            } else {
                printf("  round %d: GRASS run failed (rc %d)\n", round + 1, rc);
            }
            if (tf)
                fclose(tf);
            fflush(stdout);
        }
        if (rounds == 0)
            goto static_done;
        double mow = ct_percentile(ow, rounds, 0.5), moc = ct_percentile(oc, rounds, 0.5);
        printf("  median citytwin: %.2f s wall, %.2f s CPU (the whole command)\n", mow, moc);
        if (ngr > 0) {
            double mgw = ct_percentile(gw, ngr, 0.5), mgc = ct_percentile(gc, ngr, 0.5);
            printf("  median GRASS:    %.2f s wall, %.2f s CPU (r.in.gdal + r.lake + r.out.gdal)\n", mgw, mgc);
            printf("  RATIO GRASS / citytwin (medians): %.1fx wall, %.1fx CPU (target 10x)\n", mgw / mow, mgc / moc);
            double load[3];
            getloadavg(load, 3);
            printf("  load average after: %.1f %.1f %.1f\n", load[0], load[1], load[2]);
            /* same cells? */
            ct_raster *a = NULL, *b = NULL;
            snprintf(out, sizeof out, "%s/ours_depth.tif", work);
            char gpath[1100];
            snprintf(gpath, sizeof gpath, "%s/grass_depth.tif", work);
            if (ct_raster_read(out, &a, &err) == CT_OK && ct_raster_read(gpath, &b, &err) == CT_OK) {
                size_t diff = 0;
                for (size_t i = 0; i < (size_t)ns * ns; i++)
                    if (isnan(a->data[i]) != isnan(b->data[i]) || (!isnan(a->data[i]) && a->data[i] != b->data[i]))
                        diff++;
                printf("  cells differing from r.lake: %zu (of %zu flooded)\n", diff, cells);
            } else {
                printf("  cannot compare with r.lake: %s\n", err.msg);
            }
            ct_raster_destroy(a);
            ct_raster_destroy(b);
        } else {
            printf("  GRASS: not run (grass not installed, --no-grass, or failed)\n");
        }
    static_done:
        fflush(stdout);
    }

    /* ----------------------------------------------------------- dynamic */
    if (nd > 0) {
        ct_raster *r = ct_raster_create(nd, nd, NULL);
        free(r->crs_wkt);
        r->crs_wkt = strdup(UTM32);
        double gt[6] = {500000, 5, 0, 5300000 + nd * 5.0, 0, -5};
        memcpy(r->geotransform, gt, sizeof gt);
        for (int y = 0; y < nd; y++)
            for (int x = 0; x < nd; x++) {
                double u = (double)x / nd, v = (double)y / nd;
                r->data[(size_t)y * nd + x] =
                    (float)(10.0 * (u - 0.5) * (u - 0.5) + 3.0 * v + 1.5 * sin(u * 31.0) * cos(v * 23.0) +
                            0.3 * sin(u * 400.0 + v * 170.0));
            }
        /* start wet (a lake + heavy rain) so every cell is computed from step 1 */
        double dur = sim_s > 0 ? sim_s : 120.0 * (2000.0 / nd);
        ct_flood_sim_desc d = {.dem = r, .duration_s = dur, .rain_mm_h = 100, .use_initial_level = true,
                               .initial_level = 2.0};
        d.boundary[CT_FLOOD_SOUTH].kind = CT_FLOOD_BOUNDARY_FREE;
        printf("dynamic flood %dx%d (%.1f M cells), %.0f s simulated:\n", nd, nd, nd * (double)nd / 1e6, dur);
        int threads[2] = {1, 2};
        for (int k = 0; k < 2; k++) {
            omp_set_num_threads(threads[k]);
            ct_flood_sim_result res;
            double c0 = cpu_s(RUSAGE_SELF);
            if (ct_flood_sim_run(&d, &res, &err) != CT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 2;
            }
            double cpu = cpu_s(RUSAGE_SELF) - c0;
            printf("  %d thread%s: %lld steps in %.2f s, %.1f M cell updates/s (%.1f M per CPU second), mass error "
                   "%.1e\n",
                   threads[k], threads[k] > 1 ? "s" : " ", res.steps, res.seconds, res.cell_updates_per_s / 1e6,
                   res.cell_updates_per_s * res.seconds / cpu / 1e6, res.mass_balance_error);
            fflush(stdout);
            ct_flood_sim_result_free(&res);
        }
        if (mpi && sh("command -v mpirun >/dev/null 2>&1") == 0) {
            snprintf(dem, sizeof dem, "%s/dyn_%d.tif", work, nd);
            if (ct_raster_write_gtiff(r, dem, CT_RASTER_FLOAT32, false, 0, &err) != CT_OK) {
                fprintf(stderr, "%s\n", err.msg);
                return 3;
            }
            for (int np = 1; np <= 2; np++) {
                snprintf(cmd, sizeof cmd,
                         "OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np %d %s/cli/citytwin analyze "
                         "flood --dem %s --duration %.1f --rain 100 --initial-level 2 --boundary south=free "
                         "--out-dir %s/mpi%d --json > %s/mpi%d.json",
                         np, CT_BINARY_DIR, dem, dur, work, np, work, np);
                if (sh(cmd) != 0) {
                    printf("  MPI %d rank(s): failed\n", np);
                    continue;
                }
                snprintf(out, sizeof out, "%s/mpi%d.json", work, np);
                printf("  MPI %d rank%s (1 thread each): %.0f steps in %.2f s, %.1f M cell updates/s\n", np,
                       np > 1 ? "s" : " ", json_num(out, "steps"), json_num(out, "seconds"),
                       json_num(out, "cell_updates_per_s") / 1e6);
                fflush(stdout);
            }
        }
        ct_raster_destroy(r);
    }
    return 0;
}
