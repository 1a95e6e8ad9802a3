/* The demo district: every file is written and opens in GDAL/OGR, the DEM has
 * the promised grid and CRS and a waterfront that floods first (checked by an
 * independent flood fill on the raster), buildings/roads/POIs have sensible
 * attributes and topology (checked with OGR/GEOS predicates and a union-find
 * over road endpoints), the GLB loads with the reader, the scene loads, the
 * output is byte-for-byte deterministic, and the cache is race-safe. */
#include "citytwin/ct_demo.h"
#include "citytwin/ct_gltf.h"
#include "citytwin/ct_scene.h"
#include "ct_test.h"

#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[1024];

/* The demo every case reads: written by the `generate` case (a ctest
 * fixture, so the other cases can run in parallel). */
static const char *demo_dir(void)
{
    if (!g_dir[0])
        snprintf(g_dir, sizeof g_dir, "%s/tests/scene/demo-a", CT_BINARY_DIR);
    return g_dir;
}

static const char *in_demo(const char *name)
{
    static char buf[1200];
    snprintf(buf, sizeof buf, "%s/%s", demo_dir(), name);
    return buf;
}

CT_TEST(generate)
{
    ct_error err = {0};
    ct_status st = ct_demo_generate(demo_dir(), NULL, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK);
    for (int i = 0; ct_demo_files[i]; i++) {
        CT_CHECK(ct_file_exists(in_demo(ct_demo_files[i])));
    }
}

CT_TEST(dem_grid_crs_and_waterfront)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpen(in_demo("dem.tif"), GA_ReadOnly);
    CT_REQUIRE(ds);
    int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    CT_CHECK_EQ_INT(w, 750); /* 1.5 km x 1 km at 2 m */
    CT_CHECK_EQ_INT(h, 500);
    double gt[6];
    CT_CHECK(GDALGetGeoTransform(ds, gt) == CE_None);
    CT_CHECK_NEAR(gt[1], 2, 0);
    CT_CHECK_NEAR(gt[5], -2, 0);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(GDALGetProjectionRef(ds));
    CT_REQUIRE(srs);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    CT_CHECK(code && !strcmp(code, "4547"));
    /* The anchor: the raster's centre is within a few km of 113.08E 22.58N. */
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(geo, 4490);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(srs, geo);
    double cx = gt[0] + gt[1] * w / 2, cy = gt[3] + gt[5] * h / 2;
    CT_REQUIRE(ct && OCTTransform(ct, 1, &cx, &cy, NULL));
    CT_CHECK_NEAR(cx, 113.08, 0.01);
    CT_CHECK_NEAR(cy, 22.58, 0.01);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(geo);
    OSRDestroySpatialReference(srs);

    float *z = malloc((size_t)w * h * sizeof *z);
    CT_REQUIRE(z);
    CT_REQUIRE(GDALRasterIO(GDALGetRasterBand(ds, 1), GF_Read, 0, 0, w, h, z, w, h, GDT_Float32, 0, 0) == CE_None);
    GDALClose(ds);
    /* A channel below the water level crosses the whole raster, west to east. */
    int seed = -1;
    float zmin = 1e9f, zmax = -1e9f;
    for (int i = 0; i < w * h; i++) {
        zmin = fminf(zmin, z[i]);
        zmax = fmaxf(zmax, z[i]);
        if (z[i] < -2.5f && seed < 0)
            seed = i;
    }
    CT_CHECK(zmin < -2.5f && zmin > -3.5f);
    CT_CHECK(zmax > 15 && zmax < 60);
    CT_REQUIRE(seed >= 0);
    for (int col = 0; col < w; col += w - 1) {
        float lo = 1e9f;
        for (int row = 0; row < h; row++)
            lo = fminf(lo, z[row * w + col]);
        CT_CHECK(lo < 0);
    }
    /* Flood fill from the channel at level 2.0 m (4-connected, independent of
     * citytwin's flood code): the low waterfront (x 400..900 m) must flood
     * far more dry land per column than the embanked stretches. */
    uint8_t *wet = calloc((size_t)w * h, 1);
    int *stack = malloc((size_t)w * h * sizeof *stack);
    CT_REQUIRE(wet && stack);
    int sp = 0;
    stack[sp++] = seed;
    wet[seed] = 1;
    while (sp) {
        int i = stack[--sp], r = i / w, c = i % w;
        int nb[4] = {r > 0 ? i - w : -1, r + 1 < h ? i + w : -1, c > 0 ? i - 1 : -1, c + 1 < w ? i + 1 : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !wet[nb[k]] && z[nb[k]] < 2.0f) {
                wet[nb[k]] = 1;
                stack[sp++] = nb[k];
            }
    }
    double front = 0, other = 0;
    int n_front = 0, n_other = 0;
    for (int col = 0; col < w; col++) {
        int dry_flooded = 0;
        for (int row = 0; row < h; row++)
            dry_flooded += wet[row * w + col] && z[row * w + col] >= 0.5f;
        double x = col * 2.0 + 1;
        if (x >= 400 && x <= 900)
            front += dry_flooded, n_front++;
        else if (x < 200 || x > 1150)
            other += dry_flooded, n_other++;
    }
    front /= n_front;
    other /= n_other;
    fprintf(stderr, "flooded dry cells per column at 2.0 m: waterfront %.1f, elsewhere %.1f\n", front, other);
    CT_CHECK(front > 30);        /* > 60 m of flooded land across the waterfront */
    CT_CHECK(front > 4 * other); /* and much more than on the embanked reaches */
    free(wet);
    free(stack);
    free(z);
}

static OGRGeometryH river_polygon(void)
{
    GDALDatasetH ds = GDALOpenEx(in_demo("river.geojson"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!ds)
        return NULL;
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureH f = OGR_L_GetNextFeature(l);
    OGRGeometryH g = f ? OGR_G_Clone(OGR_F_GetGeometryRef(f)) : NULL;
    if (f)
        OGR_F_Destroy(f);
    GDALClose(ds);
    return g;
}

typedef struct roads {
    OGRGeometryH geom[512];
    int bridge[512], oneway[512], from[512], to[512];
    double width[512];
    int n;
} roads;

static bool load_roads(roads *r)
{
    GDALDatasetH ds = GDALOpenEx(in_demo("roads.geojson"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    if (!ds)
        return false;
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH def = OGR_L_GetLayerDefn(l);
    int fb = OGR_FD_GetFieldIndex(def, "bridge"), fo = OGR_FD_GetFieldIndex(def, "oneway"),
        ff = OGR_FD_GetFieldIndex(def, "from_node"), ft = OGR_FD_GetFieldIndex(def, "to_node"),
        fw = OGR_FD_GetFieldIndex(def, "width");
    CT_CHECK(fb >= 0 && fo >= 0 && ff >= 0 && ft >= 0 && fw >= 0);
    CT_CHECK(OGR_FD_GetFieldIndex(def, "speed_kmh") >= 0 && OGR_FD_GetFieldIndex(def, "class") >= 0);
    r->n = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(l)) && r->n < 512) {
        r->geom[r->n] = OGR_G_Clone(OGR_F_GetGeometryRef(f));
        r->bridge[r->n] = OGR_F_GetFieldAsInteger(f, fb);
        r->oneway[r->n] = OGR_F_GetFieldAsInteger(f, fo);
        r->from[r->n] = OGR_F_GetFieldAsInteger(f, ff);
        r->to[r->n] = OGR_F_GetFieldAsInteger(f, ft);
        r->width[r->n] = OGR_F_GetFieldAsDouble(f, fw);
        r->n++;
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    return true;
}

static void free_roads(roads *r)
{
    for (int i = 0; i < r->n; i++)
        OGR_G_DestroyGeometry(r->geom[i]);
}

static bool env_apart(OGRGeometryH a, OGRGeometryH b, double margin)
{
    OGREnvelope ea, eb;
    OGR_G_GetEnvelope(a, &ea);
    OGR_G_GetEnvelope(b, &eb);
    return ea.MaxX + margin < eb.MinX || eb.MaxX + margin < ea.MinX || ea.MaxY + margin < eb.MinY ||
           eb.MaxY + margin < ea.MinY;
}

static int uf_find(int *p, int i)
{
    while (p[i] != i)
        i = p[i] = p[p[i]];
    return i;
}

/* Endpoint coordinates -> one connected graph; the node-id fields agree with the geometry. */
CT_TEST(road_network_connected)
{
    GDALAllRegister();
    static roads r;
    CT_REQUIRE(load_roads(&r));
    CT_CHECK(r.n >= 50);
    static double ex[1024], ey[1024];
    static int eid[1024], parent[1024];
    int ne = 0;
    for (int i = 0; i < r.n; i++) {
        int np = OGR_G_GetPointCount(r.geom[i]);
        CT_REQUIRE(np >= 2);
        double xs[2] = {OGR_G_GetX(r.geom[i], 0), OGR_G_GetX(r.geom[i], np - 1)};
        double ys[2] = {OGR_G_GetY(r.geom[i], 0), OGR_G_GetY(r.geom[i], np - 1)};
        int ids[2] = {r.from[i], r.to[i]};
        int idx[2];
        for (int k = 0; k < 2; k++) {
            int found = -1;
            for (int q = 0; q < ne; q++)
                if (ex[q] == xs[k] && ey[q] == ys[k])
                    found = q;
            if (found < 0) {
                found = ne++;
                ex[found] = xs[k], ey[found] = ys[k], eid[found] = ids[k];
                parent[found] = found;
            }
            CT_CHECK_EQ_INT(eid[found], ids[k]); /* one coordinate, one node id */
            idx[k] = found;
        }
        parent[uf_find(parent, idx[0])] = uf_find(parent, idx[1]);
    }
    int roots = 0;
    for (int q = 0; q < ne; q++)
        roots += uf_find(parent, q) == q;
    CT_CHECK_EQ_INT(roots, 1);
    /* Distinct coordinates have distinct ids. */
    for (int a = 0; a < ne; a++)
        for (int b = a + 1; b < ne; b++)
            CT_CHECK(eid[a] != eid[b]);
    /* Bridges cross the river; no other road touches the water. */
    OGRGeometryH river = river_polygon();
    CT_REQUIRE(river);
    int bridges = 0, oneway = 0;
    for (int i = 0; i < r.n; i++) {
        bridges += r.bridge[i];
        oneway += r.oneway[i];
        CT_CHECK(OGR_G_Intersects(r.geom[i], river) == (r.bridge[i] != 0));
    }
    CT_CHECK_EQ_INT(bridges, 2);
    CT_CHECK(oneway >= 1);
    OGR_G_DestroyGeometry(river);
    free_roads(&r);
}

CT_TEST(buildings_and_pois)
{
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(in_demo("buildings.geojson"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    OGRLayerH l = GDALDatasetGetLayer(ds, 0);
    OGRFeatureDefnH def = OGR_L_GetLayerDefn(l);
    int fh = OGR_FD_GetFieldIndex(def, "height"), ffl = OGR_FD_GetFieldIndex(def, "floors"),
        fu = OGR_FD_GetFieldIndex(def, "use"), fa = OGR_FD_GetFieldIndex(def, "arcade"),
        fn = OGR_FD_GetFieldIndex(def, "name"), fid = OGR_FD_GetFieldIndex(def, "id");
    CT_REQUIRE(fh >= 0 && ffl >= 0 && fu >= 0 && fa >= 0 && fn >= 0 && fid >= 0);
    static OGRGeometryH geoms[2048], road_area[512];
    int n = 0, hospital = 0, school = 0, fire = 0, arcade = 0, bad = 0;
    OGRFeatureH f;
    OGRGeometryH river = river_polygon();
    static roads r;
    CT_REQUIRE(river && load_roads(&r));
    for (int i = 0; i < r.n; i++)
        road_area[i] = OGR_G_Buffer(r.geom[i], r.width[i] / 2 - 0.01, 4);
    while ((f = OGR_L_GetNextFeature(l)) && n < 2048) {
        const char *use = OGR_F_GetFieldAsString(f, fu);
        hospital += !strcmp(use, "hospital");
        school += !strcmp(use, "school");
        fire += !strcmp(use, "fire_station");
        arcade += OGR_F_GetFieldAsInteger(f, fa);
        double height = OGR_F_GetFieldAsDouble(f, fh);
        int floors = OGR_F_GetFieldAsInteger(f, ffl);
        bad += !(height > 2 && height < 150 && floors >= 1 && height >= floors * 2.5 && *OGR_F_GetFieldAsString(f, fn));
        bad += OGR_F_GetFieldAsInteger(f, fid) != n + 1;
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        bad += OGR_G_Intersects(g, river) != 0;
        /* Buildings keep off the carriageways. */
        for (int i = 0; i < r.n; i++)
            bad += !env_apart(g, road_area[i], 0) && OGR_G_Intersects(g, road_area[i]) != 0;
        geoms[n++] = OGR_G_Clone(g);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    fprintf(stderr, "%d buildings, %d with arcades\n", n, arcade);
    CT_CHECK(n >= 200 && n <= 800); /* a few hundred */
    CT_CHECK(hospital >= 1 && school >= 1 && fire >= 1);
    CT_CHECK(arcade >= 20); /* qilou rows */
    CT_CHECK_EQ_INT(bad, 0);
    /* Footprints do not overlap (touching rows of qilou are fine). */
    int overlaps = 0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            if (!env_apart(geoms[a], geoms[b], 0) &&
                (OGR_G_Overlaps(geoms[a], geoms[b]) || OGR_G_Within(geoms[a], geoms[b]) ||
                 OGR_G_Within(geoms[b], geoms[a])))
                overlaps++;
    CT_CHECK_EQ_INT(overlaps, 0);

    /* POIs: hydrants on land outside buildings, sensors with MQTT topics, the facilities. */
    ds = GDALOpenEx(in_demo("pois.geojson"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    l = GDALDatasetGetLayer(ds, 0);
    def = OGR_L_GetLayerDefn(l);
    int fk = OGR_FD_GetFieldIndex(def, "kind"), ft = OGR_FD_GetFieldIndex(def, "topic");
    CT_REQUIRE(fk >= 0 && ft >= 0);
    int hydrants = 0, sensors = 0, stations = 0, hospitals = 0, in_building = 0, in_river = 0, no_topic = 0;
    while ((f = OGR_L_GetNextFeature(l))) {
        const char *kind = OGR_F_GetFieldAsString(f, fk);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        if (!strcmp(kind, "hydrant")) {
            hydrants++;
            in_river += OGR_G_Intersects(g, river) != 0;
            for (int i = 0; i < n; i++)
                in_building += !env_apart(g, geoms[i], 0) && OGR_G_Intersects(g, geoms[i]) != 0;
        } else if (!strcmp(kind, "sensor")) {
            sensors++;
            no_topic += strncmp(OGR_F_GetFieldAsString(f, ft), "citytwin/demo/sensors/", 22) != 0;
        }
        stations += !strcmp(kind, "fire_station");
        hospitals += !strcmp(kind, "hospital");
        CT_CHECK(OGR_G_Is3D(g));
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    CT_CHECK(hydrants >= 50);
    CT_CHECK(sensors >= 10);
    CT_CHECK(stations >= 2 && hospitals >= 1);
    CT_CHECK_EQ_INT(in_building, 0);
    CT_CHECK_EQ_INT(in_river, 0);
    CT_CHECK_EQ_INT(no_topic, 0);
    for (int i = 0; i < n; i++)
        OGR_G_DestroyGeometry(geoms[i]);
    for (int i = 0; i < r.n; i++)
        OGR_G_DestroyGeometry(road_area[i]);
    OGR_G_DestroyGeometry(river);
    free_roads(&r);
}

CT_TEST(model_and_scene)
{
    ct_scene *s = NULL;
    ct_error err = {0};
    CT_REQUIRE(ct_scene_load(in_demo("scene.json"), &s, &err) == CT_OK);
    CT_CHECK_EQ_INT(s->warning_count, 0);
    CT_CHECK(!strcmp(s->crs, "EPSG:4547"));
    CT_CHECK(s->has_origin);
    CT_CHECK_NEAR(s->origin[0], 113.08, 0.01);
    CT_CHECK_NEAR(s->origin[1], 22.58, 0.01);
    for (uint32_t i = 0; i < s->layer_count; i++)
        CT_CHECK(ct_file_exists(s->layers[i].source)); /* every layer's source was written */
    const ct_scene_layer *dl = ct_scene_find_layer(s, "district");
    CT_REQUIRE(dl && dl->type == CT_LAYER_GLTF && dl->visible);
    CT_CHECK(ct_scene_find_camera(s, "overview") != NULL);
    CT_CHECK(s->tour_count >= 1);
    CT_CHECK(s->feeds && cJSON_GetArraySize(s->feeds) >= 1);
    CT_CHECK(s->analyses && cJSON_GetArraySize(s->analyses) >= 4); /* flood, impact, two routes */

    ct_gltf *g = NULL;
    ct_gltf_options o = {.skip_images = true};
    ct_status st = ct_gltf_load_file(dl->source, &o, &g, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    CT_REQUIRE(st == CT_OK);
    CT_CHECK(g->mesh_count >= 4);
    CT_CHECK(g->triangle_count > 50000 && g->triangle_count < 2000000);
    /* Local ENU frame, y-up: the 1.5 km x 1 km district centred on the origin. */
    fprintf(stderr, "bounds %.1f %.1f %.1f .. %.1f %.1f %.1f\n", g->bounds_min[0], g->bounds_min[1],
            g->bounds_min[2], g->bounds_max[0], g->bounds_max[1], g->bounds_max[2]);
    CT_CHECK(g->bounds_min[0] < -740 && g->bounds_min[0] > -770);
    CT_CHECK(g->bounds_max[0] > 740 && g->bounds_max[0] < 770);
    CT_CHECK(g->bounds_min[2] < -490 && g->bounds_min[2] > -520);
    CT_CHECK(g->bounds_max[2] > 490 && g->bounds_max[2] < 520);
    CT_CHECK(g->bounds_min[1] > -10 && g->bounds_max[1] < 150);
    /* The buildings mesh carries one feature id per building. */
    int buildings_mesh = -1;
    for (uint32_t i = 0; i < g->mesh_count; i++)
        if (g->meshes[i].name && !strcmp(g->meshes[i].name, "buildings"))
            buildings_mesh = (int)i;
    CT_REQUIRE(buildings_mesh >= 0);
    const ct_gltf_primitive *p = &g->meshes[buildings_mesh].primitives[0];
    CT_REQUIRE(p->feature_ids);
    uint32_t max_id = 0;
    for (uint32_t i = 0; i < p->vertex_count; i++)
        max_id = p->feature_ids[i] > max_id ? p->feature_ids[i] : max_id;
    GDALAllRegister();
    GDALDatasetH ds = GDALOpenEx(in_demo("buildings.geojson"), GDAL_OF_VECTOR, NULL, NULL, NULL);
    CT_REQUIRE(ds);
    CT_CHECK_EQ_INT(max_id, OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, 0), TRUE));
    GDALClose(ds);
    ct_gltf_destroy(g);
    ct_scene_destroy(s);
}

static bool same_file(const char *a, const char *b)
{
    uint8_t *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    bool ok = !ct_file_read(a, 0, &da, &na, NULL) && !ct_file_read(b, 0, &db, &nb, NULL) && na == nb &&
              !memcmp(da, db, na);
    free(da);
    free(db);
    return ok;
}

CT_TEST(deterministic)
{
    char other[1200], a[1400], b[1400];
    snprintf(other, sizeof other, "%s/tests/scene/demo-b", CT_BINARY_DIR);
    ct_error err = {0};
    CT_REQUIRE(ct_demo_generate(other, NULL, &err) == CT_OK);
    for (int i = 0; ct_demo_files[i]; i++) {
        snprintf(a, sizeof a, "%s/%s", demo_dir(), ct_demo_files[i]);
        snprintf(b, sizeof b, "%s/%s", other, ct_demo_files[i]);
        if (!same_file(a, b)) {
            fprintf(stderr, "%s differs between two runs\n", ct_demo_files[i]);
            ct_test_failures++;
        }
    }
    /* Another seed gives another district. */
    ct_demo_desc d = {.seed = 7};
    snprintf(other, sizeof other, "%s/tests/scene/demo-seed7", CT_BINARY_DIR);
    CT_REQUIRE(ct_demo_generate(other, &d, &err) == CT_OK);
    snprintf(a, sizeof a, "%s/buildings.geojson", demo_dir());
    snprintf(b, sizeof b, "%s/buildings.geojson", other);
    CT_CHECK(!same_file(a, b));
    /* Bad descriptors are usage errors. */
    ct_demo_desc bad = {.cell_size = -1};
    CT_CHECK(ct_demo_generate(other, &bad, &err) == CT_ERR_USAGE);
    CT_CHECK(ct_demo_generate("", NULL, &err) == CT_ERR_USAGE);
}

/* Two processes asking for the cached demo at once both get a complete copy. */
CT_TEST(cache_is_race_safe)
{
    char dir[1200], path[4200], path2[4200];
    snprintf(dir, sizeof dir, "%s/tests/scene/cache-%ld/demo-v1", CT_BINARY_DIR, (long)getpid());
    setenv("CITYTWIN_DEMO_DIR", dir, 1);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        if (kids[k] == 0) {
            char p[4200];
            ct_error e = {0};
            _exit(ct_demo_scene_path(p, sizeof p, &e) == CT_OK && ct_file_exists(p) ? 0 : 1);
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CT_REQUIRE(kids[k] > 0 && waitpid(kids[k], &status, 0) == kids[k]);
        CT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ct_error err = {0};
    CT_REQUIRE(ct_demo_scene_path(path, sizeof path, &err) == CT_OK);
    snprintf(path2, sizeof path2, "%s/scene.json", dir);
    CT_CHECK(!strcmp(path, path2));
    for (int i = 0; ct_demo_files[i]; i++) {
        snprintf(path2, sizeof path2, "%s/%s", dir, ct_demo_files[i]);
        CT_CHECK(ct_file_exists(path2));
    }
    /* An incomplete cache (a file lost) is regenerated. */
    snprintf(path2, sizeof path2, "%s/district.glb", dir);
    unlink(path2);
    CT_REQUIRE(ct_demo_scene_path(path, sizeof path, &err) == CT_OK);
    CT_CHECK(ct_file_exists(path2));
    /* No temporary folders are left next to it. */
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "ls -d %s.tmp-* %s.stale-* 2>/dev/null | grep -q .", dir, dir);
    CT_CHECK(system(cmd) != 0);
    snprintf(cmd, sizeof cmd, "rm -rf %s/tests/scene/cache-%ld", CT_BINARY_DIR, (long)getpid());
    CT_CHECK(system(cmd) == 0);
    unsetenv("CITYTWIN_DEMO_DIR");
}

/* The command: --json prints one object naming the files; bad options exit 1. */
CT_TEST(cli_demo)
{
    char *out = NULL;
    CT_CHECK_EQ_INT(ct_test_run_cli("demo --out-dir " CT_BINARY_DIR "/tests/scene/demo-cli --json", &out, NULL), 0);
    cJSON *j = cJSON_Parse(out);
    free(out);
    CT_REQUIRE(j);
    const cJSON *files = cJSON_GetObjectItem(j, "files");
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "dir")));
    CT_CHECK(cJSON_IsString(cJSON_GetObjectItem(j, "scene")));
    CT_CHECK_EQ_INT(cJSON_GetArraySize(files), 12); /* 7 files + 5 analysis results (two routes) */
    const cJSON *f;
    cJSON_ArrayForEach(f, files) CT_CHECK(ct_file_exists(f->valuestring));
    cJSON_Delete(j);
    CT_CHECK_EQ_INT(ct_test_run_cli("demo --bogus", NULL, NULL), 1);
    CT_CHECK_EQ_INT(ct_test_run_cli("demo --seed 5", NULL, NULL), 1);
}

CT_TEST_MAIN(CT_CASE(generate), CT_CASE(dem_grid_crs_and_waterfront), CT_CASE(road_network_connected),
             CT_CASE(buildings_and_pois), CT_CASE(model_and_scene), CT_CASE(deterministic),
             CT_CASE(cache_is_race_safe), CT_CASE(cli_demo))
