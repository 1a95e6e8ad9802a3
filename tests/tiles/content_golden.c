/* The legacy-format samples (3d-tiles-tools specs/data/migration/input) must
 * decode to the same triangle / point / instance / feature counts as the
 * upgraded glTF files shipped next to them (golden_gltf). The golden counts
 * are computed here, independently, from the golden glTF JSON's accessors
 * and nodes; only our decoder's output is compared against them. */
#include "ct_test.h"

#include "citytwin/ct_tile_content.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

typedef struct golden {
    uint64_t triangles, points, instances, features;
    cJSON *property_names; /* array of class property names, or NULL */
} golden;

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k) { const cJSON *v = item(o, k); return cJSON_IsNumber(v) ? v->valuedouble : 0; }

static uint64_t accessor_count(const cJSON *doc, int i)
{
    return (uint64_t)num(cJSON_GetArrayItem(item(doc, "accessors"), i), "count");
}

/* Sums what a node (and its children) draws; instancing accessors are counted once. */
static void golden_node(const cJSON *doc, int n, golden *g, char *seen_instancing, int depth)
{
    if (depth > 64)
        return;
    const cJSON *node = cJSON_GetArrayItem(item(doc, "nodes"), n);
    const cJSON *mesh_i = item(node, "mesh");
    if (cJSON_IsNumber(mesh_i)) {
        uint64_t k = 1;
        const cJSON *inst = item(item(node, "extensions"), "EXT_mesh_gpu_instancing");
        if (inst) {
            const cJSON *t = item(item(inst, "attributes"), "TRANSLATION");
            int a = t ? t->valueint : cJSON_GetArrayItem(item(inst, "attributes"), 0)->valueint;
            k = accessor_count(doc, a);
            if (a >= 0 && a < 4096 && !seen_instancing[a]) {
                seen_instancing[a] = 1;
                g->instances += k;
            }
        }
        const cJSON *mesh = cJSON_GetArrayItem(item(doc, "meshes"), mesh_i->valueint);
        const cJSON *p;
        cJSON_ArrayForEach(p, item(mesh, "primitives"))
        {
            int mode = item(p, "mode") ? (int)num(p, "mode") : 4;
            uint64_t nv = accessor_count(doc, item(item(p, "attributes"), "POSITION")->valueint);
            uint64_t ni = item(p, "indices") ? accessor_count(doc, item(p, "indices")->valueint) : nv;
            if (mode == 4)
                g->triangles += ni / 3 * k;
            if (mode == 0)
                g->points += nv * k;
            if (item(item(item(p, "extensions"), "EXT_structural_metadata"), "propertyAttributes"))
                g->features += nv;
        }
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, item(node, "children"))
        golden_node(doc, c->valueint, g, seen_instancing, depth + 1);
}

static bool golden_load(const char *path, golden *g)
{
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    cJSON *doc = cJSON_Parse(buf);
    if (!doc)
        return false;
    char seen[4096] = {0};
    const cJSON *scene = cJSON_GetArrayItem(item(doc, "scenes"), item(doc, "scene") ? (int)num(doc, "scene") : 0);
    const cJSON *r;
    cJSON_ArrayForEach(r, item(scene, "nodes"))
        golden_node(doc, r->valueint, g, seen, 0);
    const cJSON *meta = item(item(doc, "extensions"), "EXT_structural_metadata");
    const cJSON *t;
    cJSON_ArrayForEach(t, item(meta, "propertyTables"))
        g->features += (uint64_t)num(t, "count");
    const cJSON *cls;
    cJSON_ArrayForEach(cls, item(item(meta, "schema"), "classes"))
    {
        if (!g->property_names)
            g->property_names = cJSON_CreateArray();
        const cJSON *pr;
        cJSON_ArrayForEach(pr, item(cls, "properties"))
        {
            /* Keys are sanitized identifiers; "name" keeps the original (e.g. "temperature ℃"). */
            cJSON_AddItemToArray(g->property_names, cJSON_CreateString(pr->string));
            if (cJSON_IsString(item(pr, "name")))
                cJSON_AddItemToArray(g->property_names, cJSON_CreateString(item(pr, "name")->valuestring));
        }
    }
    cJSON_Delete(doc);
    return true;
}

static bool has_name(const cJSON *arr, const char *s)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        if (strcmp(e->valuestring, s) == 0)
            return true;
    return false;
}

static int checked;

static void check_sample(const char *dir, const char *rel, const char *file)
{
    char path[8192], gold[8192], stem[256];
    snprintf(path, sizeof path, "%s/%s/%s", dir, rel, file);
    snprintf(stem, sizeof stem, "%s", file);
    *strrchr(stem, '.') = 0;
    snprintf(gold, sizeof gold, "%s/legacy-formats-expected-gltf-json/%s/%s.gltf",
             ct_test_data("3dtiles/3d-tiles-tools"), rel, stem);
    golden g;
    if (!golden_load(gold, &g)) {
        fprintf(stderr, "no golden file for %s\n", path);
        CT_CHECK(0);
        return;
    }
    ct_tile_content_options o = {.skip_images = true};
    ct_tile_content *c = NULL;
    ct_error err = {0};
    ct_status st = ct_tile_content_load_file(path, &o, &c, &err);
    if (st) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        CT_CHECK(st == CT_OK);
        cJSON_Delete(g.property_names);
        return;
    }
    uint64_t features = 0;
    for (uint32_t i = 0; i < c->model_count; i++)
        if (ct_tile_batch_table_property_count(c->models[i].batch_table) > 0) {
            features += c->models[i].feature_count;
            /* Every batch table property became a property of the golden class. */
            for (uint32_t k = 0; k < ct_tile_batch_table_property_count(c->models[i].batch_table); k++) {
                const char *name = ct_tile_batch_table_property_name(c->models[i].batch_table, k);
                if (!g.property_names || !has_name(g.property_names, name)) {
                    fprintf(stderr, "%s: property %s not in golden schema\n", rel, name);
                    CT_CHECK(0);
                }
            }
        }
    fprintf(stderr, "  %-45s tri %llu/%llu pts %llu/%llu inst %llu/%llu feat %llu/%llu\n", rel,
            (unsigned long long)c->triangle_count, (unsigned long long)g.triangles, (unsigned long long)c->point_count,
            (unsigned long long)g.points, (unsigned long long)c->instance_count, (unsigned long long)g.instances,
            (unsigned long long)features, (unsigned long long)g.features);
    CT_CHECK_EQ_INT(c->triangle_count, g.triangles);
    CT_CHECK_EQ_INT(c->point_count, g.points);
    CT_CHECK_EQ_INT(c->instance_count, g.instances);
    CT_CHECK_EQ_INT(features, g.features);
    checked++;
    cJSON_Delete(g.property_names);
    ct_tile_content_destroy(c);
}

static bool is_content(const char *name)
{
    const char *e = strrchr(name, '.');
    return e && (!strcmp(e, ".b3dm") || !strcmp(e, ".i3dm") || !strcmp(e, ".pnts") || !strcmp(e, ".cmpt"));
}

CT_TEST(legacy_samples_match_golden_counts)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", ct_test_data("3dtiles/3d-tiles-tools/legacy-formats"));
    DIR *d1 = opendir(dir);
    CT_REQUIRE(d1);
    struct dirent *e1;
    while ((e1 = readdir(d1))) {
        if (e1->d_name[0] == '.')
            continue;
        char sub[8192];
        snprintf(sub, sizeof sub, "%s/%s", dir, e1->d_name);
        DIR *d2 = opendir(sub);
        if (!d2)
            continue;
        struct dirent *e2;
        while ((e2 = readdir(d2))) {
            if (e2->d_name[0] == '.')
                continue;
            char rel[1024], sub2[8192];
            snprintf(rel, sizeof rel, "%s/%s", e1->d_name, e2->d_name);
            snprintf(sub2, sizeof sub2, "%s/%s", dir, rel);
            DIR *d3 = opendir(sub2);
            if (!d3)
                continue;
            struct dirent *e3;
            while ((e3 = readdir(d3)))
                if (is_content(e3->d_name))
                    check_sample(dir, rel, e3->d_name);
            closedir(d3);
        }
        closedir(d2);
    }
    closedir(d1);
    fprintf(stderr, "checked %d samples\n", checked);
    /* all 63, BatchedWithGltf1With2DNormals (a glTF 1.0 body) included */
    CT_CHECK(checked >= 63);
}

CT_TEST_MAIN(CT_CASE(legacy_samples_match_golden_counts))
