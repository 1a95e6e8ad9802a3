/* The dynamic flood under mpirun with N ranks (2D blocks on a Cartesian
 * communicator, halo exchange, each rank reading only its block; with rain
 * rasters, point and line inflows, fixed-level, stage and free boundaries) gives the
 * same rasters, cell for cell and byte for byte, as one process: the
 * arithmetic of every cell and face is the same, so exact equality is the
 * expected answer. On the 70 x 45 grid, 2 and 3 ranks split the columns
 * (2 x 1, 3 x 1 blocks), 4 ranks make 2 x 2 blocks. Label nosan (Open MPI
 * leaks under ASan). Usage: test_flood_mpi N. Skips without mpirun. */
#include "ct_test.h"
#include "flood_test_util.h"

#include <cjson/cJSON.h>
#include <math.h>

static int ranks = 2;

static long raster_diff(const char *a, const char *b, int *n_wet)
{
    ct_raster *ra = NULL, *rb = NULL;
    ct_error err = {0};
    if (ct_raster_read(a, &ra, &err) != CT_OK || ct_raster_read(b, &rb, &err) != CT_OK) {
        fprintf(stderr, "%s\n", err.msg);
        ct_raster_destroy(ra);
        return -1;
    }
    long diff = 0;
    *n_wet = 0;
    for (int i = 0; i < ra->width * ra->height; i++) {
        float x = ra->data[i], y = rb->data[i];
        *n_wet += !isnan(x);
        if (isnan(x) != isnan(y) || (!isnan(x) && x != y))
            diff++;
    }
    ct_raster_destroy(ra);
    ct_raster_destroy(rb);
    return diff;
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

CT_TEST(test_mpi_same_as_serial)
{
    const char *tmp = flood_test_tmpdir("mpi");
    CT_REQUIRE(tmp);
    char dir[256], cmd[8192], p[600], q[600];
    snprintf(dir, sizeof dir, "%s", tmp);
    /* Valleys, a nodata hole, rain, two inflows, a free east edge, a gauge. */
    int w = 70, h = 45;
    ct_raster *dem = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            dem->data[r * w + c] = (float)(2.0 - 0.01 * c + 0.6 * sin(c * 0.21) * cos(r * 0.27));
    for (int r = 20; r < 24; r++)
        for (int c = 30; c < 33; c++)
            dem->data[r * w + c] = NAN;
    ct_error err = {0};
    snprintf(p, sizeof p, "%s/dem.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(dem, p, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    /* Manning's n varies by column (rougher in the east), read per block. */
    ct_raster *man = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            man->data[r * w + c] = c < 40 ? 0.03f : 0.06f;
    char mp[600];
    snprintf(mp, sizeof mp, "%s/manning.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(man, mp, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(man);
    ct_raster_destroy(dem);
    /* A building straddling the middle of the grid (on block edges for 2, 3 and 4 ranks). */
    char bp[600];
    snprintf(bp, sizeof bp, "%s/buildings.geojson", dir);
    FILE *bf = fopen(bp, "w");
    CT_REQUIRE(bf);
    fprintf(bf, "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
                "\"urn:ogc:def:crs:EPSG::32632\"}},\"features\":[{\"type\":\"Feature\",\"properties\":{},"
                "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[500105,5299870],[500240,5299870],"
                "[500240,5299855],[500105,5299855],[500105,5299870]]]}}]}\n");
    fclose(bf);
    snprintf(q, sizeof q, "%s/q.csv", dir);
    FILE *f = fopen(q, "w");
    fprintf(f, "time_s,q_m3s\n0,0\n60,4\n300,1\n");
    fclose(f);
    /* a stage rising and falling on the south edge (spans all column blocks) */
    char stage[600];
    snprintf(stage, sizeof stage, "%s/stage.csv", dir);
    f = fopen(stage, "w");
    fprintf(f, "time_s,level_m\n0,0.5\n200,1.8\n400,1.0\n");
    fclose(f);
    /* Rain rasters: a ramp on a coarser grid of its own (resampled) from 0 s,
     * then a field on the DEM's grid, heavier in the west (nodata in the east
     * corner) from 150 s. */
    char rl[600];
    ct_raster *ra = flood_test_dem(40, 28, 10, 499970, 5300020);
    for (int i = 0; i < 40 * 28; i++)
        ra->data[i] = (float)(30 + 2 * (i % 40));
    snprintf(rl, sizeof rl, "%s/ramp.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(ra, rl, CT_RASTER_FLOAT32, false, 0, &err) == CT_OK);
    ct_raster_destroy(ra);
    ra = flood_test_dem(w, h, 5, 500000, 5300000);
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            ra->data[r * w + c] = c > 60 && r < 10 ? NAN : (float)(90 - c);
    snprintf(rl, sizeof rl, "%s/field.tif", dir);
    CT_REQUIRE(ct_raster_write_gtiff(ra, rl, CT_RASTER_FLOAT32, true, -9999, &err) == CT_OK);
    ct_raster_destroy(ra);
    snprintf(rl, sizeof rl, "%s/rain.csv", dir);
    f = fopen(rl, "w");
    fprintf(f, "time_s,path\n0,ramp.tif\n150,field.tif\n");
    fclose(f);
    /* a line inflow crossing the block edges (x = 500175 for 2 ranks, 500115/500235 for 3) */
    const char *args = "--duration 400 --rain-rasters %s --inflow 500052.5,5299897.5:%s --inflow 500250,5299790:%s "
                       "--inflow-line '500100,5299812;500160,5299800;500245,5299795':%s "
                       "--boundary east=free --boundary north=level:1.2 --boundary south=level:%s "
                       "--gauge 500200,5299880 --gauge-every 50 "
                       "--snapshot-every 200 --manning-raster %s --buildings %s --json";
    char a[2048];
    snprintf(a, sizeof a, args, rl, q, q, q, stage, mp, bp);
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s analyze flood --dem %s %s --out-dir %s/serial > %s/serial.json",
             flood_test_cli(), p, a, dir, dir);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    snprintf(cmd, sizeof cmd,
             "OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np %d %s analyze flood --dem %s %s "
             "--out-dir %s/mpi > %s/mpi.json",
             ranks, flood_test_cli(), p, a, dir, dir);
    CT_REQUIRE(ct_test_sh(cmd) == 0);
    const char *grids[] = {"max_depth.tif", "final_depth.tif", "max_velocity.tif", "arrival_time.tif",
                           "depth_200.tif", "depth_400.tif"};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        char s1[700], s2[700];
        snprintf(s1, sizeof s1, "%s/serial/%s", dir, grids[i]);
        snprintf(s2, sizeof s2, "%s/mpi/%s", dir, grids[i]);
        int wet = 0;
        long diff = raster_diff(s1, s2, &wet);
        fprintf(stderr, "%d ranks, %s: %d wet cells, %ld differ\n", ranks, grids[i], wet, diff);
        CT_CHECK_EQ_INT(diff, 0);
        if (i == 0)
            CT_CHECK(wet > 500);
        /* written by rank 0 from the gathered blocks: the same bytes */
        snprintf(cmd, sizeof cmd, "cmp -s %s %s", s1, s2);
        CT_CHECK_EQ_INT(ct_test_sh(cmd), 0);
    }
    char j1[700], j2[700];
    snprintf(j1, sizeof j1, "%s/serial.json", dir);
    snprintf(j2, sizeof j2, "%s/mpi.json", dir);
    CT_CHECK_EQ_INT(json_num(j2, "ranks"), ranks);
    /* the decomposition: more blocks along the longer (x) side */
    int bx = ranks == 4 ? 2 : ranks, by = ranks == 4 ? 2 : 1;
    CT_CHECK_EQ_INT(json_num(j2, "blocks_x"), bx);
    CT_CHECK_EQ_INT(json_num(j2, "blocks_y"), by);
    CT_CHECK_EQ_INT(json_num(j1, "blocks_x"), 1);
    CT_CHECK_EQ_INT(json_num(j1, "steps"), json_num(j2, "steps"));
    CT_CHECK(json_num(j1, "max_depth_m") == json_num(j2, "max_depth_m"));
    CT_CHECK_NEAR(json_num(j1, "flooded_area_m2"), json_num(j2, "flooded_area_m2"), 0);
    CT_CHECK_NEAR(json_num(j1, "final_volume_m3"), json_num(j2, "final_volume_m3"), 1e-6);
    CT_CHECK(json_num(j2, "mass_balance_error") < 1e-3);
    /* gauges identical */
    snprintf(j1, sizeof j1, "cmp -s %s/serial/gauges.csv %s/mpi/gauges.csv", dir, dir);
    CT_CHECK_EQ_INT(ct_test_sh(j1), 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        ranks = atoi(argv[1]);
    if (!flood_test_have("mpirun")) {
        fprintf(stderr, "mpirun not installed: skipping\n");
        return 77;
    }
    ct_test_current = "test_mpi_same_as_serial";
    test_mpi_same_as_serial();
    fprintf(stderr, "%s test_mpi_same_as_serial (%d ranks)\n", ct_test_failures ? "FAIL" : "ok  ", ranks);
    return ct_test_failures > 100 ? 100 : ct_test_failures;
}
