/* bench_tiles: a camera flight over a large generated photogrammetry-like
 * tileset (tilegen.c: 21,845 b3dm tiles by default) and over the shared
 * photogrammetry sample, headless, through the code of
 * `citytwin render --wait` itself (cli_headless_open, then cli_scene_render
 * with wait, the function cmd_render.c calls). Per viewpoint it
 * prints time to full detail, layer updates until then, steady frame time p50/p95,
 * tiles decoded per second, peak content bytes against the budget and the
 * process RSS; then, when Debian's chromium and the npm packages of
 * bench/tiles/cesium are installed (scripts/setup-bench-peers.sh), the same
 * views in CesiumJS and the ratios. Timings never go into ctest. */
#define _GNU_SOURCE
#include "cli_scene.h"
#include "cli_tileset_layer.h"
#include "tilegen.h"

#include "citytwin/ct_tileset.h"

#include "citytwin/ct_geo.h"
#include "citytwin/ct_image.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- options ---- */

typedef struct options {
    const char *out_dir;
    const char *work_dir;   /* scratch files (CesiumJS job/result, sample scene, images); default out_dir */
    tilegen_desc gen;
    int width, height;
    double budget_mb, sse, timeout_s;
    int steady_frames;
    bool generated, sample, cesium, generate_only;
    bool images;            /* write each view's last frame as a PNG into work_dir */
    bool workers_default;   /* tile workers as for interactive use (CPUs - 1), not render --wait's */
    bool interactive;       /* load as the viewer does: frames drawn while loading, INTERACTIVE mode */
} options;

typedef tilegen_view viewpoint;

typedef struct view_result {
    double t_full_s;        /* < 0: timed out */
    int updates;            /* layer updates until full detail */
    double ms_p50, ms_p95;  /* at full detail */
    uint64_t loads, triangles;
    int drawn;
    double decoded_per_s;
    size_t bytes_peak, bytes_budget;
    double rss_mb;
} view_result;

static double rss_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

/* The tileset of the opened scene's first tileset layer. */
static ct_tileset *find_tileset(const cli_scene *s)
{
    for (uint32_t i = 0; i < s->layer_count; i++) {
        ct_tileset *ts = cli_tileset_layer_tileset(s->layers[i]);
        if (ts)
            return ts;
    }
    return NULL;
}

static void write_image(ct_renderer *r, const options *o, const char *label, const char *view)
{
    uint8_t *px = ct_malloc_array((size_t)o->width * o->height, 4);
    char path[4096];
    snprintf(path, sizeof path, "%s/citytwin-%s-%s.png", o->work_dir, label, view);
    ct_error err = {0};
    if (!px || ct_renderer_read_pixels(r, px, &err) != CT_OK || ct_image_write_png(path, o->width, o->height, px, &err))
        fprintf(stderr, "bench_tiles: %s: %s\n", path, err.msg);
    free(px);
}

/* One view exactly as `citytwin render --wait --frames N` runs it
 * (cli_scene_render): load to full detail (the first frame drawn with every
 * layer complete CLI_RENDER_CONFIRM updates in a row), then steady_frames
 * more frames at full detail, the frame time a user sees. */
static bool fly_view(cli_scene *scene, ct_renderer *r, const viewpoint *vp, const options *o, view_result *res)
{
    memset(res, 0, sizeof *res);
    cli_view_args va = {.has_camera = true, .camera = {vp->lon, vp->lat, vp->height, vp->heading, vp->pitch, 0}};
    ct_camera cam;
    if (cli_view_camera("bench", &va, scene, o->width, o->height, &cam) != 0)
        return false;
    ct_tileset *ts = find_tileset(scene);
    ct_tileset_stats s0, s1;
    ct_tileset_get_stats(ts, &s0);
    int n = 1 + o->steady_frames;
    double *ms = malloc((size_t)n * sizeof *ms);
    if (!ms)
        return false;
    ct_error err = {0};
    ct_render_frame_desc fd = {.camera = &cam, .width = o->width, .height = o->height};
    cli_render_desc d = {.frame = &fd, .wait = true, .draw_while_loading = o->interactive, .timeout_s = o->timeout_s,
                         .frames = n, .frame_ms = ms, .frame_ms_cap = n};
    cli_render_result rr;
    ct_status st = cli_scene_render(scene, r, &d, &rr, &err);
    if (st != CT_OK)
        fprintf(stderr, "bench_tiles: %s: %s\n", vp->name, err.msg);
    res->t_full_s = rr.t_full_detail_s;
    res->updates = o->interactive ? rr.frames_loading : rr.updates;
    ct_tileset_get_stats(ts, &s1);
    res->loads = s1.loads_total - s0.loads_total;
    res->decoded_per_s = res->t_full_s > 0 ? res->loads / res->t_full_s : 0;
    /* the steady frames: all but the first, which is counted in t_full_s */
    int steady = rr.frames - 1;
    res->ms_p95 = steady > 0 ? ct_percentile(ms + 1, steady, 0.95) : 0;
    res->ms_p50 = steady > 0 ? ct_percentile(ms + 1, steady, 0.5) : 0;
    free(ms);
    res->bytes_peak = rr.bytes_peak;
    res->bytes_budget = rr.bytes_budget;
    res->triangles = ct_renderer_frame_stats(r).triangles;
    res->drawn = (int)rr.tiles.tiles_selected;
    res->rss_mb = rss_mb();
    return st == CT_OK;
}

/* ---- the views ---- */

/* The tilegen views, then the overview again (content back from the cache
 * or reloaded after evictions). */
static int generated_views(const tilegen_desc *gd, viewpoint *v)
{
    int n = tilegen_views(gd, v);
    v[n++] = v[0];
    v[n - 1].name = "overview-again";
    return n;
}

/* The shared sample (3DTilesRendererJS landform) is in local coordinates and
 * y-up (its boxes, and its z-up-declared glTF, put the ground's normal on +y);
 * the bench places it with a scene file at SAMPLE_LON/LAT, turned by pitch 90
 * (y -> z) to lie flat, and frames its turned root box. CesiumJS gets the same
 * placement as the tileset's modelMatrix: ENU frame x Axis.Y_UP_TO_Z_UP. */
#define SAMPLE_LON 113.08
#define SAMPLE_LAT 22.58

static int sample_views(const ct_dvec3 c, double R, viewpoint *v)
{
    double enu[16];
    ct_geo_enu_frame(ct_geo_ecef_from_lonlat(SAMPLE_LON, SAMPLE_LAT, 0), enu);
    int n = 0;
    v[n++] = tilegen_enu_view("overview", enu, c.x, c.y - 1.6 * R, c.z + 1.6 * R, 0, -45);
    v[n++] = tilegen_enu_view("top-down", enu, c.x, c.y, c.z + 1.8 * R, 0, -90);
    v[n++] = tilegen_enu_view("oblique", enu, c.x - 0.6 * R, c.y - 0.9 * R, c.z + 0.6 * R, 35, -30);
    v[n++] = tilegen_enu_view("low-oblique", enu, c.x + 0.2 * R, c.y - 0.6 * R, c.z + 0.25 * R, 340, -20);
    v[n++] = tilegen_enu_view("close", enu, c.x - 0.3 * R, c.y - 0.3 * R, c.z + 0.12 * R, 45, -35);
    v[n++] = v[0];
    v[n - 1].name = "overview-again";
    return n;
}

/* ---- printing ---- */

static double load_avg(void)
{
    double l[3] = {0};
    return getloadavg(l, 3) > 0 ? l[0] : -1;
}

static void print_header(const char *title, const options *o, double budget_mb)
{
    printf("\n%s  (%dx%d, max SSE %g, budget %.0f MB, load %.2f)%s\n", title, o->width, o->height, o->sse, budget_mb,
           load_avg(), o->interactive ? "\n  --interactive: loaded as `view` loads, frames drawn meanwhile ('updates' = those frames)" : "");
    printf("%-15s %8s %7s %8s %8s %6s %9s %6s %9s %11s %8s\n", "view", "full_s", "updates", "ms_p50", "ms_p95",
           "drawn", "tris", "loads", "decoded/s", "peak_MB/bud", "rss_MB");
}

static void print_row(const viewpoint *v, const view_result *r)
{
    char full[32];
    if (r->t_full_s >= 0)
        snprintf(full, sizeof full, "%.2f", r->t_full_s);
    else
        snprintf(full, sizeof full, "timeout");
    printf("%-15s %8s %7d %8.1f %8.1f %6d %9llu %6llu %9.1f %5.1f/%-5.0f %8.0f\n", v->name, full, r->updates,
           r->ms_p50, r->ms_p95, r->drawn, (unsigned long long)r->triangles,
           (unsigned long long)r->loads, r->decoded_per_s, r->bytes_peak / 1048576.0, r->bytes_budget / 1048576.0,
           r->rss_mb);
    fflush(stdout);
}

/* ---- CesiumJS peer ---- */

static bool have_cesium_peer(char *why, size_t n)
{
    if (access("/usr/lib/chromium/chromium", X_OK) != 0) {
        snprintf(why, n, "Debian's chromium is not installed (scripts/setup-bench-peers.sh)");
        return false;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/bench/tiles/cesium/node_modules/cesium/package.json", CT_SOURCE_DIR);
    if (access(p, R_OK) != 0) {
        snprintf(why, n, "bench/tiles/cesium/node_modules is missing (scripts/setup-bench-peers.sh)");
        return false;
    }
    snprintf(p, sizeof p, "%s/bench/tiles/cesium/node_modules/playwright-core/package.json", CT_SOURCE_DIR);
    if (access(p, R_OK) != 0 || system("node --version > /dev/null 2>&1") != 0) {
        snprintf(why, n, "node or playwright-core is missing (scripts/setup-bench-peers.sh)");
        return false;
    }
    return true;
}

/* Writes the job for cesium/bench_cesium.mjs, runs it and returns its JSON. */
static cJSON *run_cesium(const char *out_dir, const char *label, const char *tileset_dir, const char *tileset_file,
                         const double *model_matrix, bool y_up_fix, const viewpoint *v, int nv, const options *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "tileset_dir", tileset_dir);
    cJSON_AddStringToObject(j, "tileset_file", tileset_file);
    if (model_matrix)
        cJSON_AddItemToObject(j, "model_matrix", cJSON_CreateDoubleArray(model_matrix, 16));
    cJSON_AddBoolToObject(j, "content_y_up_to_z_up", y_up_fix);
    cJSON_AddNumberToObject(j, "width", o->width);
    cJSON_AddNumberToObject(j, "height", o->height);
    cJSON_AddNumberToObject(j, "fov_y_deg", 60);
    cJSON_AddNumberToObject(j, "max_sse", o->sse);
    cJSON_AddNumberToObject(j, "budget_bytes", o->budget_mb * 1048576.0);
    cJSON_AddNumberToObject(j, "timeout_s", o->timeout_s);
    cJSON_AddNumberToObject(j, "steady_frames", o->steady_frames);
    if (o->images) {
        char prefix[4200];
        snprintf(prefix, sizeof prefix, "%s/cesium-%s-", out_dir, label);
        cJSON_AddStringToObject(j, "image_prefix", prefix);
    }
    cJSON *views = cJSON_AddArrayToObject(j, "views");
    for (int i = 0; i < nv; i++) {
        cJSON *w = cJSON_CreateObject();
        cJSON_AddStringToObject(w, "name", v[i].name);
        cJSON_AddNumberToObject(w, "lon", v[i].lon);
        cJSON_AddNumberToObject(w, "lat", v[i].lat);
        cJSON_AddNumberToObject(w, "height", v[i].height);
        cJSON_AddNumberToObject(w, "heading", v[i].heading);
        cJSON_AddNumberToObject(w, "pitch", v[i].pitch);
        cJSON_AddItemToArray(views, w);
    }
    char job[4096], res[4096], cmd[12288];
    snprintf(job, sizeof job, "%s/cesium-%s-job.json", out_dir, label);
    snprintf(res, sizeof res, "%s/cesium-%s-result.json", out_dir, label);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    ct_error err = {0};
    if (!s || ct_file_write(job, s, strlen(s), &err) != CT_OK) {
        free(s);
        fprintf(stderr, "bench_tiles: cesium: %s\n", err.msg);
        return NULL;
    }
    free(s);
    remove(res);
    snprintf(cmd, sizeof cmd, "node '%s/bench/tiles/cesium/bench_cesium.mjs' '%s' '%s'", CT_SOURCE_DIR, job, res);
    int rc = system(cmd);
    uint8_t *data = NULL;
    size_t size = 0;
    if (rc != 0 || ct_file_read(res, 0, &data, &size, &err) != CT_OK) {
        fprintf(stderr, "bench_tiles: cesium run failed (exit %d)\n", rc);
        free(data);
        return NULL;
    }
    cJSON *out = cJSON_ParseWithLength((const char *)data, size);
    free(data);
    return out;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void print_comparison(const cJSON *cz, const viewpoint *v, const view_result *r, int nv)
{
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(cz, "views");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(cz, "cesium_version");
    const cJSON *chr = cJSON_GetObjectItemCaseSensitive(cz, "chromium_version");
    const cJSON *ren = cJSON_GetObjectItemCaseSensitive(cz, "renderer");
    printf("CesiumJS %s in chromium %s, WebGL renderer %s (load %.2f):\n", cJSON_IsString(ver) ? ver->valuestring : "?",
           cJSON_IsString(chr) ? chr->valuestring : "?", cJSON_IsString(ren) ? ren->valuestring : "?", load_avg());
    printf("%-15s %9s %9s %7s %9s %9s %7s %8s %11s %s\n", "view", "cz_full_s", "ct_full_s", "ratio", "cz_ms_p50",
           "ct_ms_p50", "ratio", "cz_tiles", "cz_MB/bud", "targets (full >= 3x, frame >= 3x)");
    double sum_ct = 0, sum_cz = 0;
    for (int i = 0; i < nv; i++) {
        const cJSON *c = cJSON_GetArrayItem(cv, i);
        double cz_full = num(c, "t_full_s"), cz_p50 = num(c, "frame_ms_p50");
        double full_ratio = r[i].t_full_s > 0 && cz_full > 0 ? cz_full / r[i].t_full_s : 0;
        double frame_ratio = r[i].ms_p50 > 0 && cz_p50 > 0 ? cz_p50 / r[i].ms_p50 : 0;
        if (r[i].t_full_s > 0 && cz_full > 0) {
            sum_ct += r[i].t_full_s;
            sum_cz += cz_full;
        }
        /* CesiumJS said full detail, then asked for more tiles in the steady frames */
        bool unstable = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c, "still_loaded_after"));
        printf("%-15s %9.2f %9.2f %6.1fx %9.1f %9.1f %6.1fx %8.0f %5.0f/%-5.0f %s%s%s\n", v[i].name, cz_full,
               r[i].t_full_s, full_ratio, cz_p50, r[i].ms_p50, frame_ratio, num(c, "tiles_loaded"),
               num(c, "memory_bytes") / 1048576.0, num(c, "cache_bytes") / 1048576.0,
               full_ratio >= 3 ? "full:ok " : "full:MISS ", frame_ratio >= 3 ? "frame:ok" : "frame:MISS",
               unstable ? " (cesium reloaded after full detail)" : "");
    }
    if (sum_ct > 0)
        printf("%-15s %9.2f %9.2f %6.1fx   (sum of times to full detail)\n", "total", sum_cz, sum_ct, sum_cz / sum_ct);
    fflush(stdout);
}

/* ---- one flight ---- */

static int fly(const char *label, const char *tag, const char *input, const viewpoint *v, int nv, const options *o, view_result *res)
{
    char *inputs[1] = {(char *)input};
    ct_render_context *ctx;
    ct_renderer *r;
    cli_scene scene;
    ct_renderer_desc rd = {0};
    /* opened as `render --wait` opens it (wait: one tile worker per CPU) */
    cli_layer_options lo = {.sse = o->sse, .bytes_budget = (uint64_t)(o->budget_mb * 1048576.0),
                            .wait = !o->workers_default};
    int rc = cli_headless_open("bench", inputs, 1, o->width, o->height, &rd, &lo, &ctx, &r, &scene);
    if (rc != 0)
        return rc;
    if (!find_tileset(&scene)) {
        cli_headless_close(ctx, r, &scene);
        return cli_fail("bench", CT_ERR_INPUT, "%s: no tileset layer", input);
    }
    print_header(label, o, o->budget_mb);
    bool over = false;
    for (int i = 0; i < nv; i++) {
        if (!fly_view(&scene, r, &v[i], o, &res[i])) {
            rc = CT_ERR_RUNTIME;
            break;
        }
        print_row(&v[i], &res[i]);
        if (o->images)
            write_image(r, o, tag, v[i].name);
        over |= res[i].bytes_peak > res[i].bytes_budget * 1.1;
    }
    ct_tileset_stats s;
    ct_tileset_get_stats(find_tileset(&scene), &s);
    printf("flight: %llu loads, %llu evictions, %llu failures, peak content %.1f MB of %.0f MB budget (%s), "
           "peak RSS %.0f MB, renderer %s\n",
           (unsigned long long)s.loads_total, (unsigned long long)s.evictions_total,
           (unsigned long long)s.failures_total, s.bytes_peak / 1048576.0, s.bytes_budget / 1048576.0,
           over || s.bytes_peak > s.bytes_budget * 1.1 ? "ABOVE budget + 10 %" : "within budget + 10 %",
           peak_rss_mb(), ct_render_context_renderer(ctx));
    fflush(stdout);
    cli_headless_close(ctx, r, &scene);
    return rc;
}

/* ---- main ---- */

static void usage(void)
{
    printf("usage: bench_tiles [options]\n"
           "  --out-dir DIR        where the generated tileset and scratch files go\n"
           "                       (default: the build folder's bench/tiles/data)\n"
           "  --work-dir DIR       scratch files (CesiumJS job/result, sample scene, --images)\n"
           "                       elsewhere, e.g. when --out-dir is a shared read-only tileset\n"
           "  --levels N           quadtree levels of the generated tileset (default 8: 21,845 tiles)\n"
           "  --grid N             mesh cells per tile side (default 32: 2,048 triangles)\n"
           "  --texture N          JPEG texture pixels per side (default 128)\n"
           "  --seed N             generator seed (default 1)\n"
           "  --size WxH           viewport (default 1280x720)\n"
           "  --budget MB          content memory budget (default 512, CesiumJS's cacheBytes default)\n"
           "  --sse N              maximum screen-space error (default 16)\n"
           "  --timeout S          per view (default 120)\n"
           "  --steady-frames N    frames timed at full detail per view (default 20)\n"
           "  --no-generated, --no-sample, --no-cesium   skip a part\n"
           "  --workers-interactive  tile workers as view uses them (CPUs - 1) instead of render --wait's (CPUs)\n"
           "  --interactive        load as `view` does (a frame drawn after every update, ancestors first,\n"
           "                       frame-proportional upload budget, CPUs - 1 workers): the 'updates'\n"
           "                       column then counts frames drawn while loading\n"
           "  --images             write each view's last frame (both engines) as PNG into --work-dir\n"
           "  --generate-only      write the tileset and stop\n");
}

static bool parse_size(const char *s, int *w, int *h) { return sscanf(s, "%dx%d", w, h) == 2 && *w > 0 && *h > 0; }

int main(int argc, char **argv)
{
    options o = {.out_dir = CT_BENCH_TILES_DIR, .width = 1280, .height = 720, .budget_mb = 512, .sse = 16,
                 .timeout_s = 120, .steady_frames = 20, .generated = true, .sample = true, .cesium = true};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool v = i + 1 < argc;
        if (!strcmp(a, "--out-dir") && v)
            o.out_dir = argv[++i];
        else if (!strcmp(a, "--work-dir") && v)
            o.work_dir = argv[++i];
        else if (!strcmp(a, "--levels") && v)
            o.gen.levels = atoi(argv[++i]);
        else if (!strcmp(a, "--grid") && v)
            o.gen.grid = atoi(argv[++i]);
        else if (!strcmp(a, "--texture") && v)
            o.gen.texture = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && v)
            o.gen.seed = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(a, "--size") && v) {
            if (!parse_size(argv[++i], &o.width, &o.height))
                return cli_fail("bench", CT_ERR_USAGE, "--size wants WxH");
        } else if (!strcmp(a, "--budget") && v)
            o.budget_mb = atof(argv[++i]);
        else if (!strcmp(a, "--sse") && v)
            o.sse = atof(argv[++i]);
        else if (!strcmp(a, "--timeout") && v)
            o.timeout_s = atof(argv[++i]);
        else if (!strcmp(a, "--steady-frames") && v)
            o.steady_frames = atoi(argv[++i]);
        else if (!strcmp(a, "--no-generated"))
            o.generated = false;
        else if (!strcmp(a, "--no-sample"))
            o.sample = false;
        else if (!strcmp(a, "--no-cesium"))
            o.cesium = false;
        else if (!strcmp(a, "--workers-interactive"))
            o.workers_default = true;
        else if (!strcmp(a, "--interactive")) {
            o.interactive = true;
            o.workers_default = true;
        }
        else if (!strcmp(a, "--images"))
            o.images = true;
        else if (!strcmp(a, "--generate-only"))
            o.generate_only = true;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else {
            usage();
            return CT_ERR_USAGE;
        }
    }
    if (!(o.budget_mb > 0) || !(o.sse > 0) || !(o.timeout_s > 0) || o.steady_frames < 1)
        return cli_fail("bench", CT_ERR_USAGE, "--budget, --sse, --timeout and --steady-frames want positive values");
    ct_error err = {0};
    if (!o.work_dir)
        o.work_dir = o.out_dir;
    if (ct_dir_create(o.out_dir, &err) != CT_OK || ct_dir_create(o.work_dir, &err) != CT_OK)
        return cli_fail_err("bench", &err);
    char why[256] = "";
    bool cesium = o.cesium && have_cesium_peer(why, sizeof why);
    if (o.cesium && !cesium)
        printf("CesiumJS comparison skipped: %s\n", why);
    else if (!o.cesium)
        printf("CesiumJS comparison skipped: --no-cesium\n");
    int rc = 0;
    enum { MAX_VIEWS = 16 };
    viewpoint v[MAX_VIEWS];
    view_result res[MAX_VIEWS];

    if (o.generated) {
        char gen_dir[4096];
        tilegen_desc gd = tilegen_defaults(&o.gen);
        snprintf(gen_dir, sizeof gen_dir, "%s/generated-L%d-g%d-t%d-s%u", o.out_dir, gd.levels, gd.grid, gd.texture,
                 gd.seed);
        gd.dir = gen_dir;
        tilegen_result gr;
        if (tilegen_write(&gd, &gr, &err) != CT_OK)
            return cli_fail_err("bench", &err);
        printf("generated tileset: %s/tileset.json: %llu tiles, %d levels, %llu triangles (load %.2f)\n", gen_dir,
               (unsigned long long)gr.tiles, gd.levels, (unsigned long long)gr.triangles, load_avg());
        if (gr.cached)
            printf("  (cached: same parameters already generated)\n");
        else
            printf("  written in %.1f s, %.1f MB\n", gr.seconds, gr.bytes / 1048576.0);
        if (o.generate_only)
            return 0;
        char ts[4200];
        snprintf(ts, sizeof ts, "%s/tileset.json", gen_dir);
        int nv = generated_views(&gd, v);
        rc = fly("generated photogrammetry-like tileset", "generated", ts, v, nv, &o, res);
        if (rc == 0 && cesium) {
            cJSON *cz = run_cesium(o.work_dir, "generated", gen_dir, "tileset.json", NULL, false, v, nv, &o);
            if (cz)
                print_comparison(cz, v, res, nv);
            cJSON_Delete(cz);
        }
    }
    if (o.sample && rc == 0) {
        char dir[4096], scene_path[4200];
        snprintf(dir, sizeof dir, "%s/3dtiles/photogrammetry-mesh/3DTilesRendererJS-landform",
                 getenv("CT_DATA_DIR") ? getenv("CT_DATA_DIR") : CT_DATA_DIR_DEFAULT);
        char *tsp = ct_path_join(dir, "tileset.json");
        /* the root box in the tileset's own (local) frame gives the views */
        ct_tileset *probe = NULL;
        ct_tileset_desc pd = {.uri = tsp};
        if (ct_tileset_create(&pd, &probe, &err) != CT_OK) {
            free(tsp);
            printf("photogrammetry sample skipped: %s\n", err.msg);
            return rc;
        }
        const ct_tile *root = ct_tileset_root(probe);
        ct_obb b;
        ct_bounding_volume_to_obb(&root->bv, root->transform, &b);
        double R = 0;
        for (int a = 0; a < 3; a++)
            R = fmax(R, ct_dvec3_length(b.axes[a]));
        ct_dvec3 c = {b.center.x, -b.center.z, b.center.y}; /* turned y -> z as the layer is */
        ct_tileset_destroy(probe);
        snprintf(scene_path, sizeof scene_path, "%s/sample-scene.json", o.work_dir);
        char scene[8192];
        snprintf(scene, sizeof scene,
                 "{\"version\": 1, \"name\": \"bench_tiles: photogrammetry sample\", \"origin\": [%.6f, %.6f, 0],\n"
                 " \"layers\": [{\"name\": \"landform\", \"type\": \"tileset\", \"source\": \"%s\",\n"
                 "   \"rotation\": [0, 90, 0]}]}\n",
                 SAMPLE_LON, SAMPLE_LAT, tsp);
        free(tsp);
        if (ct_file_write(scene_path, scene, strlen(scene), &err) != CT_OK)
            return cli_fail_err("bench", &err);
        int nv = sample_views(c, R, v);
        rc = fly("photogrammetry sample (3DTilesRendererJS landform, placed by a scene file)", "sample", scene_path, v, nv, &o,
                 res);
        if (rc == 0 && cesium) {
            double enu[16];
            ct_geo_enu_frame(ct_geo_ecef_from_lonlat(SAMPLE_LON, SAMPLE_LAT, 0), enu);
            cJSON *cz = run_cesium(o.work_dir, "sample", dir, "tileset.json", enu, true, v, nv, &o);
            if (cz)
                print_comparison(cz, v, res, nv);
            cJSON_Delete(cz);
        }
    }
    return rc;
}
