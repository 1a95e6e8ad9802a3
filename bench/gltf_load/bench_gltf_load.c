/* bench_gltf_load: glTF parse + decode throughput over every sample model in
 * shared/data/gltf and over a generated 1-million-triangle GLB.
 *
 * Columns: in-process ct_gltf_load_file with images decoded (best of several
 * runs: ms, MB/s of input bytes incl. external .bin/images, million triangles/s);
 * then process-level `citytwin info --json FILE` against `assimp info FILE`
 * (both start a process, read the file and print a summary; best of 3), and
 * their ratio. When Debian's libassimp.so.5 is present it is also loaded with
 * dlopen and its aiImportFile (no post-processing) timed in process against
 * ct_gltf_load_file with images skipped (assimp does not decode textures):
 * that pair compares the parsers themselves, without process start-up.
 * Usage: bench_gltf_load [DATA_DIR] [--no-assimp] */
#define _GNU_SOURCE
#include "citytwin/ct_gltf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Input bytes: the file plus the external files its buffers and images name. */
static size_t input_bytes(const char *path)
{
    size_t total = file_size(path);
    if (!strcmp(ct_path_ext(path), ".glb"))
        return total;
    uint8_t *d;
    size_t n;
    if (ct_file_read(path, 0, &d, &n, NULL))
        return total;
    cJSON *j = cJSON_Parse((char *)d);
    char *dir = ct_path_dirname(path);
    const char *keys[] = {"buffers", "images"};
    for (int k = 0; k < 2; k++) {
        const cJSON *arr = cJSON_GetObjectItem(j, keys[k]);
        for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
            const cJSON *u = cJSON_GetObjectItem(e, "uri");
            if (cJSON_IsString(u) && strncmp(u->valuestring, "data:", 5) != 0) {
                char *p = ct_path_join(dir, u->valuestring);
                total += file_size(p);
                free(p);
            }
        }
    }
    free(dir);
    cJSON_Delete(j);
    free(d);
    return total;
}

static void collect(const char *dir, char ***files, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = ct_path_join(dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            collect(p, files, n);
            free(p);
        } else if (!strcmp(ct_path_ext(p), ".gltf") || !strcmp(ct_path_ext(p), ".glb")) {
            *files = realloc(*files, sizeof(char *) * (size_t)(*n + 1));
            (*files)[(*n)++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A grid of n x n quads (2n^2 triangles) with positions, normals, texcoords and
 * 32-bit indices, written as a minimal GLB (independent of the engine's writer). */
static int write_grid_glb(const char *path, int n)
{
    uint32_t nv = (uint32_t)(n + 1) * (uint32_t)(n + 1), ni = (uint32_t)n * (uint32_t)n * 6;
    size_t pos_b = (size_t)nv * 12, nrm_b = pos_b, uv_b = (size_t)nv * 8, idx_b = (size_t)ni * 4;
    size_t bin_n = pos_b + nrm_b + uv_b + idx_b;
    uint8_t *bin = malloc(bin_n);
    float *pos = (float *)bin, *nrm = (float *)(bin + pos_b), *uv = (float *)(bin + pos_b + nrm_b);
    uint32_t *idx = (uint32_t *)(bin + pos_b + nrm_b + uv_b);
    for (int y = 0; y <= n; y++)
        for (int x = 0; x <= n; x++) {
            size_t v = (size_t)y * (n + 1) + x;
            pos[v * 3] = (float)x;
            pos[v * 3 + 1] = 0.001f * (float)((x * 7 + y * 13) % 100);
            pos[v * 3 + 2] = (float)y;
            nrm[v * 3] = 0;
            nrm[v * 3 + 1] = 1;
            nrm[v * 3 + 2] = 0;
            uv[v * 2] = (float)x / n;
            uv[v * 2 + 1] = (float)y / n;
        }
    size_t k = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            uint32_t a = (uint32_t)(y * (n + 1) + x), b = a + 1, c = a + (uint32_t)n + 1, d = c + 1;
            idx[k++] = a, idx[k++] = c, idx[k++] = b;
            idx[k++] = b, idx[k++] = c, idx[k++] = d;
        }
    char json[2048];
    int jl = snprintf(json, sizeof json,
                      "{\"asset\":{\"version\":\"2.0\",\"generator\":\"bench_gltf_load\"},"
                      "\"buffers\":[{\"byteLength\":%zu}],\"bufferViews\":["
                      "{\"buffer\":0,\"byteOffset\":0,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},"
                      "{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu},{\"buffer\":0,\"byteOffset\":%zu,\"byteLength\":%zu}],"
                      "\"accessors\":[{\"bufferView\":0,\"componentType\":5126,\"count\":%u,\"type\":\"VEC3\",\"min\":[0,0,0],\"max\":[%d,0.1,%d]},"
                      "{\"bufferView\":1,\"componentType\":5126,\"count\":%u,\"type\":\"VEC3\"},"
                      "{\"bufferView\":2,\"componentType\":5126,\"count\":%u,\"type\":\"VEC2\"},"
                      "{\"bufferView\":3,\"componentType\":5125,\"count\":%u,\"type\":\"SCALAR\"}],"
                      "\"materials\":[{\"pbrMetallicRoughness\":{\"baseColorFactor\":[0.6,0.7,0.8,1]}}],"
                      "\"meshes\":[{\"primitives\":[{\"attributes\":{\"POSITION\":0,\"NORMAL\":1,\"TEXCOORD_0\":2},\"indices\":3,\"material\":0}]}],"
                      "\"nodes\":[{\"mesh\":0}],\"scenes\":[{\"nodes\":[0]}],\"scene\":0}",
                      bin_n, pos_b, pos_b, nrm_b, pos_b + nrm_b, uv_b, pos_b + nrm_b + uv_b, idx_b, nv, n, n, nv, nv, ni);
    uint32_t jpad = (uint32_t)((jl + 3) & ~3);
    uint32_t total = 12 + 8 + jpad + 8 + (uint32_t)bin_n;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(bin);
        return -1;
    }
    uint32_t hdr[5] = {0x46546C67u, 2, total, jpad, 0x4E4F534Au};
    fwrite(hdr, 4, 5, f);
    fwrite(json, 1, (size_t)jl, f);
    for (int i = jl; i < (int)jpad; i++)
        fputc(' ', f);
    uint32_t bh[2] = {(uint32_t)bin_n, 0x004E4942u};
    fwrite(bh, 4, 2, f);
    fwrite(bin, 1, bin_n, f);
    free(bin);
    return fclose(f);
}

/* Best wall time of a shell command over `runs` runs; -1 when it fails. */
static double time_cmd(const char *cmd, int runs)
{
    double best = -1;
    for (int i = 0; i < runs; i++) {
        double t0 = ct_time_now();
        int rc = system(cmd);
        double t = ct_time_now() - t0;
        if (rc != 0)
            return -1;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

/* libassimp's C API, resolved at run time (only the runtime library is installed). */
typedef const void *(*ai_import_fn)(const char *path, unsigned flags);
typedef void (*ai_release_fn)(const void *scene);
static ai_import_fn ai_import;
static ai_release_fn ai_release;

static bool load_libassimp(void)
{
    void *h = dlopen("libassimp.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return false;
    ai_import = (ai_import_fn)dlsym(h, "aiImportFile");
    ai_release = (ai_release_fn)dlsym(h, "aiReleaseImport");
    return ai_import && ai_release;
}

/* Best of >= 5 runs (or 0.3 s) of fn; -1 on failure. */
static double time_best(bool (*fn)(const char *), const char *path)
{
    double best = -1, t_start = ct_time_now();
    for (int runs = 0; runs < 5 || (ct_time_now() - t_start < 0.3 && runs < 200); runs++) {
        double t0 = ct_time_now();
        if (!fn(path))
            return -1;
        double t = ct_time_now() - t0;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

static bool run_ct_skip_images(const char *path)
{
    ct_gltf_options o = {.skip_images = true};
    ct_gltf *g = NULL;
    ct_error err;
    if (ct_gltf_load_file(path, &o, &g, &err))
        return false;
    ct_gltf_destroy(g);
    return true;
}

static bool run_assimp(const char *path)
{
    const void *s = ai_import(path, 0);
    if (!s)
        return false;
    ai_release(s);
    return true;
}

static bool have_assimp(void)
{
    return system("command -v assimp >/dev/null 2>&1") == 0;
}

int main(int argc, char **argv)
{
    const char *data_dir = CT_DATA_DIR_DEFAULT;
    bool use_assimp = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-assimp"))
            use_assimp = false;
        else
            data_dir = argv[i];
    }
    use_assimp = use_assimp && have_assimp();
    ct_log_set_level(CT_LOG_ERROR);
    char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s/gltf", data_dir);
    char **files = NULL;
    int nf = 0;
    collect(gdir, &files, &nf);
    qsort(files, (size_t)nf, sizeof *files, cmp_str);
    char big[] = "/tmp/ct_bench_grid_XXXXXX.glb";
    int fd = mkstemps(big, 4);
    if (fd < 0 || write_grid_glb(big, 708) != 0) { /* 2 * 708^2 = 1,002,528 triangles */
        fprintf(stderr, "cannot write %s\n", big);
        return 3;
    }
    close(fd);
    files = realloc(files, sizeof(char *) * (size_t)(nf + 1));
    files[nf++] = strdup(big);
    char citytwin[4096];
    snprintf(citytwin, sizeof citytwin, "%s/cli/citytwin", CT_BINARY_DIR);

    printf("glTF load benchmark: %d files (%s + generated 1M-triangle grid)\n", nf, gdir);
    printf("in-process: ct_gltf_load_file, images decoded, best of >= 5 runs / 0.3 s\n");
    printf("process:    `citytwin info --json` vs `assimp info`%s, best of 3\n\n",
           use_assimp ? "" : " (assimp not on PATH or --no-assimp: skipped)");
    bool lib = use_assimp && load_libassimp();
    printf("in-process parser comparison (no images): %s\n\n",
           lib ? "ct_gltf_load_file(skip_images) vs libassimp aiImportFile(flags 0)" : "libassimp.so.5 not found: skipped");
    printf("%-44s %8s %8s %8s %7s %6s | %8s %8s %6s | %8s %8s %6s\n", "file", "KB", "tris", "load ms", "MB/s",
           "Mtri/s", "ct ms", "ai ms", "ratio", "ct info", "assimp", "ratio");
    double sum_ct = 0, sum_as = 0, sum_load = 0, sum_mb = 0, sum_tri = 0, sum_pc = 0, sum_pa = 0;
    int failed = 0;
    for (int i = 0; i < nf; i++) {
        const char *f = files[i];
        const char *shown = strncmp(f, gdir, strlen(gdir)) == 0 ? f + strlen(gdir) + 1 : "generated grid 708x708 (1M tris)";
        size_t bytes = input_bytes(f);
        ct_gltf *g = NULL;
        ct_error err = {0};
        double best = -1;
        int runs = 0;
        double t_start = ct_time_now();
        uint64_t tris = 0;
        while (runs < 5 || (ct_time_now() - t_start < 0.3 && runs < 200)) {
            double t0 = ct_time_now();
            ct_status st = ct_gltf_load_file(f, NULL, &g, &err);
            double t = ct_time_now() - t0;
            if (st) {
                best = -1;
                break;
            }
            tris = g->triangle_count;
            ct_gltf_destroy(g);
            if (best < 0 || t < best)
                best = t;
            runs++;
        }
        if (best < 0) {
            printf("%-44.44s %8.1f %8s %8s (rejected: %.60s)\n", shown, bytes / 1024.0, "-", "-", err.msg);
            failed++;
            continue;
        }
        char cmd[8400];
        snprintf(cmd, sizeof cmd, "'%s' info --json '%s' >/dev/null 2>&1", citytwin, f);
        double t_ct = time_cmd(cmd, 3);
        double t_as = -1;
        if (use_assimp) {
            snprintf(cmd, sizeof cmd, "assimp info '%s' >/dev/null 2>&1", f);
            t_as = time_cmd(cmd, 3);
        }
        printf("%-44.44s %8.1f %8llu %8.3f %7.1f %6.1f | ", shown, bytes / 1024.0, (unsigned long long)tris,
               best * 1e3, bytes / best / 1e6, tris / best / 1e6);
        double pc = lib ? time_best(run_ct_skip_images, f) : -1, pa = lib ? time_best(run_assimp, f) : -1;
        if (pc > 0 && pa > 0) {
            printf("%8.3f %8.3f %5.1fx | ", pc * 1e3, pa * 1e3, pa / pc);
            sum_pc += pc;
            sum_pa += pa;
        } else {
            printf("%8s %8s %6s | ", pc > 0 ? "" : "-", "-", "-");
        }
        printf("%8.1f ", t_ct * 1e3);
        if (t_as > 0 && t_ct > 0) {
            printf("%8.1f %5.1fx\n", t_as * 1e3, t_as / t_ct);
            sum_ct += t_ct;
            sum_as += t_as;
        } else {
            printf("%8s %6s\n", "-", "-");
        }
        sum_load += best;
        sum_mb += bytes / 1e6;
        sum_tri += (double)tris;
    }
    printf("\ntotal in-process: %.1f ms for %.1f MB and %.2f M triangles: %.1f MB/s, %.1f M triangles/s\n",
           sum_load * 1e3, sum_mb, sum_tri / 1e6, sum_mb / sum_load, sum_tri / 1e6 / sum_load);
    if (sum_pa > 0)
        printf("total in-process, no images: ct_gltf %.1f ms, libassimp %.1f ms: citytwin's parser is %.1fx faster "
               "(target >= 5x)\n",
               sum_pc * 1e3, sum_pa * 1e3, sum_pa / sum_pc);
    if (sum_as > 0)
        printf("total process: citytwin info %.0f ms, assimp info %.0f ms: %.1fx (dominated by process start-up: citytwin links ~170 shared libraries)\n",
               sum_ct * 1e3, sum_as * 1e3, sum_as / sum_ct);
    printf("%d file(s) rejected (glTF 1.0 GLBs are rejected by design)\n", failed);
    remove(big);
    for (int i = 0; i < nf; i++)
        free(files[i]);
    free(files);
    return 0;
}
