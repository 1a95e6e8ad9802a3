/* bench_impact: 10,000 impact queries (rings 100 m and 250 m) over a generated
 * city (~100k buildings, ~40k pipe segments in 5 utilities, 20k POIs), with
 * queries/s on one thread and on all cores. When PostgreSQL + PostGIS are
 * installed, the same data goes into a throw-away cluster and the same
 * incidents (the first 1,000) run as ST_DWithin queries through psql, one
 * statement per layer and incident, for the ratio; the total hit counts of
 * both are compared.
 *
 * usage: bench_impact [QUERIES] [WORKDIR] */
#include "citytwin/ct_impact.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define X0 300000.0
#define Y0 4800000.0
#define BLOCKS 320   /* 320 x 320 blocks of 40 m: 102,400 buildings on 12.8 km x 12.8 km */
#define BLOCK 40.0

static uint64_t g_rng = 88172645463325252ull;
static double rnd(void) /* xorshift64*, [0,1) */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static OGRLayerH new_layer(GDALDatasetH ds, const char *name, OGRwkbGeometryType t, OGRSpatialReferenceH s)
{
    OGRLayerH l = GDALDatasetCreateLayer(ds, name, s, t, NULL);
    OGRFieldDefnH f = OGR_Fld_Create("id", OFTInteger);
    OGR_L_CreateField(l, f, TRUE);
    OGR_Fld_Destroy(f);
    return l;
}

static void add_field(OGRLayerH l, const char *name, OGRFieldType t)
{
    OGRFieldDefnH f = OGR_Fld_Create(name, t);
    OGR_L_CreateField(l, f, TRUE);
    OGR_Fld_Destroy(f);
}

static int make_city(const char *path)
{
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GPKG"), path, 0, 0, 0, GDT_Unknown, NULL);
    if (!ds)
        return -1;
    OGRSpatialReferenceH s = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(s, 32632);
    static const char *uses[] = {"residential", "residential", "residential", "apartments", "office", "retail",
                                 "school", "hospital", "industrial", "warehouse"};
    static const char *utilities[] = {"gas", "water", "power", "telecom", "drainage"};
    static const char *poi_types[] = {"hydrant", "hydrant", "school", "hospital", "sensor", "camera"};
    GDALDatasetStartTransaction(ds, FALSE);
    OGRLayerH b = new_layer(ds, "buildings", wkbPolygon, s);
    add_field(b, "building", OFTString);
    add_field(b, "building:levels", OFTInteger);
    OGRFeatureDefnH bd = OGR_L_GetLayerDefn(b);
    int id = 0;
    for (int j = 0; j < BLOCKS; j++)
        for (int i = 0; i < BLOCKS; i++) {
            double side = 12 + 16 * rnd(), x = X0 + i * BLOCK + 4 + (BLOCK - 8 - side) * rnd(),
                   y = Y0 + j * BLOCK + 4 + (BLOCK - 8 - side) * rnd();
            char wkt[256];
            snprintf(wkt, sizeof wkt, "POLYGON((%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f))", x, y, x + side, y,
                     x + side, y + side, x, y + side, x, y);
            OGRFeatureH f = OGR_F_Create(bd);
            OGR_F_SetFieldInteger(f, 0, ++id);
            OGR_F_SetFieldString(f, 1, uses[(int)(rnd() * 10)]);
            OGR_F_SetFieldInteger(f, 2, 1 + (int)(rnd() * 20));
            OGRGeometryH g = NULL;
            char *p = wkt;
            OGR_G_CreateFromWkt(&p, NULL, &g);
            OGR_F_SetGeometryDirectly(f, g);
            if (OGR_L_CreateFeature(b, f) != OGRERR_NONE)
                return -1;
            OGR_F_Destroy(f);
        }
    OGRLayerH pl = new_layer(ds, "pipes", wkbLineString, s);
    add_field(pl, "utility", OFTString);
    add_field(pl, "diameter_mm", OFTInteger);
    OGRFeatureDefnH pd = OGR_L_GetLayerDefn(pl);
    id = 0;
    for (int dir = 0; dir < 2; dir++)
        for (int k = 0; k <= BLOCKS; k++)
            for (int s5 = 0; s5 < BLOCKS; s5 += 5) {
                double a = k * BLOCK + 1.5 * (k % 5), lo = s5 * BLOCK, hi = (s5 + 5) * BLOCK;
                char wkt[160];
                if (dir == 0)
                    snprintf(wkt, sizeof wkt, "LINESTRING(%.2f %.2f,%.2f %.2f)", X0 + a, Y0 + lo, X0 + a, Y0 + hi);
                else
                    snprintf(wkt, sizeof wkt, "LINESTRING(%.2f %.2f,%.2f %.2f)", X0 + lo, Y0 + a, X0 + hi, Y0 + a);
                OGRFeatureH f = OGR_F_Create(pd);
                OGR_F_SetFieldInteger(f, 0, ++id);
                OGR_F_SetFieldString(f, 1, utilities[k % 5]);
                OGR_F_SetFieldInteger(f, 2, 100 + 50 * (k % 7));
                OGRGeometryH g = NULL;
                char *p = wkt;
                OGR_G_CreateFromWkt(&p, NULL, &g);
                OGR_F_SetGeometryDirectly(f, g);
                if (OGR_L_CreateFeature(pl, f) != OGRERR_NONE)
                    return -1;
                OGR_F_Destroy(f);
            }
    OGRLayerH ol = new_layer(ds, "pois", wkbPoint, s);
    add_field(ol, "type", OFTString);
    OGRFeatureDefnH od = OGR_L_GetLayerDefn(ol);
    for (id = 1; id <= 20000; id++) {
        OGRFeatureH f = OGR_F_Create(od);
        OGR_F_SetFieldInteger(f, 0, id);
        OGR_F_SetFieldString(f, 1, poi_types[(int)(rnd() * 6)]);
        OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
        OGR_G_SetPoint_2D(g, 0, X0 + BLOCKS * BLOCK * rnd(), Y0 + BLOCKS * BLOCK * rnd());
        OGR_F_SetGeometryDirectly(f, g);
        if (OGR_L_CreateFeature(ol, f) != OGRERR_NONE)
            return -1;
        OGR_F_Destroy(f);
    }
    GDALDatasetCommitTransaction(ds);
    OSRDestroySpatialReference(s);
    GDALClose(ds);
    return 0;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static const char *PG_BIN = "/usr/lib/postgresql/15/bin";

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* PostGIS: the first nq incidents as ST_DWithin queries; returns queries/s or -1. */
/* The citytwin side of a round: nq queries on th threads; queries/s (wall). */
typedef struct ct_side {
    ct_impact_layer **layers;
    const double *qx, *qy;
    int nq;
    long npg;         /* incidents also sent to PostGIS */
    long hits_first;  /* citytwin hits for those */
} ct_side;

static double ct_pass(ct_side *cs, int th, bool print)
{
    double radii[] = {100, 250};
    long hits = 0, first = 0;
    int fails = 0, nq = cs->nq;
    double t0 = ct_time_now(), c0 = cpu_now();
#pragma omp parallel for schedule(dynamic, 16) num_threads(th) reduction(+ : hits, fails, first)
    for (int i = 0; i < nq; i++) {
        ct_impact_query q = {.x = cs->qx[i], .y = cs->qy[i], .radii = radii, .radius_count = 2};
        ct_impact_result *r = NULL;
        if (ct_impact_run(cs->layers, 3, &q, &r, NULL) != CT_OK) {
            fails++;
            continue;
        }
        for (int l = 0; l < 3; l++) {
            hits += (long)r->layers[l].hit_count;
            if (i < cs->npg)
                first += (long)r->layers[l].hit_count;
        }
        ct_impact_result_destroy(r);
    }
    double dt = ct_time_now() - t0, dc = cpu_now() - c0;
    cs->hits_first = first;
    if (print)
        printf("%d queries (rings 100, 250 m; 3 layers) on %d thread%s: %.2f s, %.0f queries/s (%.0f per CPU second), "
               "%.1f features per query%s\n",
               nq, th, th > 1 ? "s" : "", dt, nq / dt, nq / dc, (double)hits / nq, fails ? " (FAILURES)" : "");
    return nq / dt;
}

static double postgis_run(const char *gpkg, const double *qx, const double *qy, int nq, double rmax, long *total_hits,
                          ct_side *cs, int rounds)
{
    char pgctl[512];
    snprintf(pgctl, sizeof pgctl, "%s/pg_ctl", PG_BIN);
    if (access(pgctl, X_OK) != 0 || access("/usr/share/postgresql/15/extension/postgis.control", R_OK) != 0) {
        printf("PostGIS not installed: no ratio\n");
        return -1;
    }
    char dir[] = "/tmp/ct_bench_pg_XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    chmod(dir, 0777);
    const char *as = geteuid() == 0 ? "runuser -u postgres --" : "";
    int port = 54000 + (int)(getpid() % 1000);
    double qps = -1;
    if (sh("%s %s/initdb -A trust -U postgres -D %s/data >/dev/null 2>&1", as, PG_BIN, dir) != 0 ||
        sh("%s %s/pg_ctl -D %s/data -l %s/log -w -o \"-c listen_addresses='' -p %d -k %s\" start >/dev/null 2>&1", as,
           PG_BIN, dir, dir, port, dir) != 0) {
        printf("PostGIS: could not start a cluster in %s\n", dir);
        goto out;
    }
    char conn[256];
    snprintf(conn, sizeof conn, "-h %s -p %d -U postgres -d postgres", dir, port);
    if (sh("psql %s -q -c 'CREATE EXTENSION postgis' >/dev/null 2>&1", conn) != 0 ||
        sh("ogr2ogr -f PostgreSQL 'PG:host=%s port=%d user=postgres dbname=postgres' '%s' -lco GEOMETRY_NAME=geom "
           "-lco FID=fid >/dev/null 2>&1",
           dir, port, gpkg) != 0 ||
        sh("psql %s -q -c 'ANALYZE' >/dev/null 2>&1", conn) != 0) {
        printf("PostGIS: loading the city failed\n");
        goto stop;
    }
    char sqlf[256];
    snprintf(sqlf, sizeof sqlf, "%s/queries.sql", dir);
    FILE *f = fopen(sqlf, "w");
    if (!f)
        goto stop;
    static const char *layers[] = {"buildings", "pipes", "pois"};
    for (int i = 0; i < nq; i++)
        for (int l = 0; l < 3; l++)
            fprintf(f,
                    "SELECT id, ST_Distance(geom, 'SRID=32632;POINT(%.3f %.3f)'::geometry) FROM %s WHERE "
                    "ST_DWithin(geom, 'SRID=32632;POINT(%.3f %.3f)'::geometry, %g) ORDER BY id;\n",
                    qx[i], qy[i], layers[l], qx[i], qy[i], rmax);
    fclose(f);
    /* Rounds alternate the two sides so that both see the same machine load;
     * the spread of the ratios shows how stable it is. */
    double ratios[16];
    int nr = 0;
    for (int k = 0; k < rounds && k < 16; k++) {
        double q_ct = ct_pass(cs, 1, false);
        double t0 = ct_time_now();
        if (sh("psql %s -q -o /dev/null -f %s", conn, sqlf) != 0)
            break;
        double q_pg = nq / (ct_time_now() - t0);
        ratios[nr++] = q_ct / q_pg;
        printf("round %d: citytwin %.0f queries/s (1 thread, %d queries), PostGIS %.0f queries/s (%d incidents): "
               "ratio %.1fx\n", k + 1, q_ct, cs->nq, q_pg, nq, q_ct / q_pg);
        fflush(stdout);
        qps = q_pg;
    }
    if (nr > 0) {
        double lo = ratios[0], hi = ratios[0];
        for (int k = 1; k < nr; k++) {
            lo = ratios[k] < lo ? ratios[k] : lo;
            hi = ratios[k] > hi ? ratios[k] : hi;
        }
        printf("ratio citytwin (1 thread) / PostGIS over %d rounds: min %.1fx, max %.1fx\n", nr, lo, hi);
    }
    /* the same incidents joined in one statement: total hits, to compare counts */
    f = fopen(sqlf, "w");
    if (f) {
        fprintf(f, "CREATE TEMP TABLE q (g geometry);\nINSERT INTO q VALUES\n");
        for (int i = 0; i < nq; i++)
            fprintf(f, "('SRID=32632;POINT(%.3f %.3f)')%s\n", qx[i], qy[i], i + 1 < nq ? "," : ";");
        fprintf(f, "SELECT (SELECT count(*) FROM q JOIN buildings b ON ST_DWithin(b.geom, q.g, %g)) + "
                   "(SELECT count(*) FROM q JOIN pipes b ON ST_DWithin(b.geom, q.g, %g)) + "
                   "(SELECT count(*) FROM q JOIN pois b ON ST_DWithin(b.geom, q.g, %g));\n",
                rmax, rmax, rmax);
        fclose(f);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "psql %s -q -t -A -f %s", conn, sqlf);
        FILE *p = popen(cmd, "r");
        char line[128];
        while (p && fgets(line, sizeof line, p))
            if (line[0] >= '0' && line[0] <= '9')
                *total_hits = atol(line);
        if (p)
            pclose(p);
    }
stop:
    sh("%s %s/pg_ctl -D %s/data -m fast stop >/dev/null 2>&1", as, PG_BIN, dir);
out:
    sh("rm -rf %s", dir);
    return qps;
}

int main(int argc, char **argv)
{
    int nq = argc > 1 ? atoi(argv[1]) : 10000;
    const char *dir = argc > 2 ? argv[2] : "/tmp/ct_bench_impact";
    if (nq < 1 || nq > 10000000) {
        fprintf(stderr, "usage: bench_impact [QUERIES] [WORKDIR]\n");
        return 1;
    }
    GDALAllRegister();
    mkdir(dir, 0755);
    char gpkg[1024];
    snprintf(gpkg, sizeof gpkg, "%s/city.gpkg", dir);
    struct stat st;
    if (stat(gpkg, &st) != 0) {
        double t0 = ct_time_now();
        if (make_city(gpkg) != 0) {
            fprintf(stderr, "cannot write %s\n", gpkg);
            return 3;
        }
        printf("generated %s in %.1f s\n", gpkg, ct_time_now() - t0);
    }
    const char *names[] = {"buildings", "pipes", "pois"};
    ct_impact_layer *layers[3];
    ct_error err = {0};
    for (int i = 0; i < 3; i++) {
        char src[1200];
        snprintf(src, sizeof src, "%s:%s", gpkg, names[i]);
        ct_impact_layer_desc d = {.name = names[i], .source = src, .id_field = "id", .drop_attributes = true};
        double t0 = ct_time_now();
        if (ct_impact_layer_load(&d, &layers[i], &err) != CT_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 2;
        }
        printf("loaded %-9s %7zu features in %.2f s\n", names[i], ct_impact_layer_size(layers[i]), ct_time_now() - t0);
    }
    double *qx = malloc(sizeof(double) * nq), *qy = malloc(sizeof(double) * nq);
    for (int i = 0; i < nq; i++) {
        /* millimetres, as they are written into the PostGIS statements */
        qx[i] = round((X0 + BLOCKS * BLOCK * rnd()) * 1000) / 1000;
        qy[i] = round((Y0 + BLOCKS * BLOCK * rnd()) * 1000) / 1000;
    }
    double radii[] = {100, 250};
    int nthreads = 1;
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    long npg = nq < 1000 ? nq : 1000;
    ct_side cs = {.layers = layers, .qx = qx, .qy = qy, .nq = nq, .npg = npg};
    double qps1 = ct_pass(&cs, 1, true);
    long hits_first = cs.hits_first;
    if (nthreads > 1)
        ct_pass(&cs, nthreads, true);
    if (getenv("CT_BENCH_NO_POSTGIS"))
        npg = 0;
    long pg_hits = -1;
    int rounds = getenv("CT_BENCH_ROUNDS") ? atoi(getenv("CT_BENCH_ROUNDS")) : 3;
    double pg_qps = npg ? postgis_run(gpkg, qx, qy, (int)npg, radii[1], &pg_hits, &cs, rounds > 0 ? rounds : 1) : -1;
    if (pg_qps > 0) {
        printf("PostGIS ST_DWithin via psql (%ld incidents x 3 layers, one statement each): %.0f queries/s (last round)\n",
               npg, pg_qps);
        printf("ratio of the first citytwin pass to the last PostGIS round: %.1fx\n", qps1 / pg_qps);
        printf("hits within 250 m for those incidents: citytwin %ld, PostGIS %ld (%s)\n", hits_first, pg_hits,
               hits_first == pg_hits ? "identical" : "DIFFERENT");
    }
    for (int i = 0; i < 3; i++)
        ct_impact_layer_destroy(layers[i]);
    free(qx);
    free(qy);
    return 0;
}
