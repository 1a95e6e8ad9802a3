/* Reference images for every tileset under shared/data/3dtiles: each is
 * streamed to full detail and rendered headless at 128x128 with the --fit
 * camera (the way `citytwin render TILESET --fit --wait` does, through the
 * same tileset layer, in one process with one renderer) and compared with a
 * committed PNG (RMSE over RGB, 0..255). The references were inspected by eye.
 *
 * tests/tiles/reference/manifest.txt lists INPUT REFERENCE TOLERANCE FAILED
 * [SSE]: FAILED is the number of tiles that must fail to load (the
 * validator's deliberately broken tileset: the broken tile is reported, the
 * rest drawn); SSE the maximum screen-space error (default 16).
 * Every tileset.json found under 3dtiles/ must be in the manifest, so a new
 * sample cannot be forgotten. A decoder that breaks shows as an image that
 * differs (an empty frame is checked explicitly as well).
 * CT_UPDATE_REFERENCES=1 rewrites the references. */
#include "cli_tileset_layer.h"
#include "citytwin/ct_image.h"
#include "citytwin/ct_render.h"
#include "citytwin/ct_tileset.h"
#include "ct_test.h"
#include "ct_test_image.h"

#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#define S 128

static ct_render_context *ctx;
static ct_renderer *renderer;
/* CT_LOAD_MODE=interactive: load as the viewer does (ancestors first, every
 * frame's upload budget) instead of as `render --wait` does */
static bool interactive;

static const char *ref_dir(void)
{
    static char buf[2048];
    const char *src = getenv("CT_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/tests/tiles/reference", src ? src : CT_SOURCE_DIR);
    return buf;
}

typedef struct render_result {
    uint64_t tiles_failed, tiles_loaded;
    bool complete;
} render_result;

/* Streams the tileset to full detail for the --fit view (at most timeout_s),
 * then draws one frame and reads it back. */
static ct_status render_tileset(const char *path, double sse, double timeout_s, uint8_t *img, render_result *res,
                                ct_error *err)
{
    cli_tileset_layer_desc d = {.uri = path, .sse = sse};
    ct_render_layer *l = NULL;
    ct_status st = cli_tileset_layer_create(renderer, &d, &l, err);
    if (st != CT_OK)
        return st;
    ct_camera cam;
    ct_camera_init(&cam);
    ct_dvec3 c = {0, 0, 0};
    double r = 1;
    if (!l->vt->bounds(l, &c, &r) || !(r > 0))
        r = 1;
    ct_camera_fit_sphere(&cam, c, r, l->geographic);
    ct_render_frame_desc f = {.camera = &cam, .width = S, .height = S};
    double t0 = ct_time_now();
    res->complete = false;
    /* as `render --wait` loads (cli_scene_render): FINAL mode, nothing drawn
     * until complete, sleeping on the workers between updates; the
     * references were made with every frame drawn (INTERACTIVE), so a match
     * also says that both modes end at the same picture */
    ct_tileset *ts = cli_tileset_layer_tileset(l);
    if (ts && !interactive)
        ct_tileset_set_load_mode(ts, CT_TILESET_LOAD_FINAL);
    for (int frame = 0; st == CT_OK; frame++) {
        bool complete = false;
        st = l->vt->update(l, renderer, &cam, S, S, &complete, err);
        if (st != CT_OK)
            break;
        if (complete && frame >= 1) {
            res->complete = true;
            break;
        }
        if (ct_time_now() - t0 > timeout_s)
            break;
        if (interactive)
            ct_sleep_ms(5); /* a frame's worth of time: workers load, update uploads */
        else if (!complete && ts && !ct_tileset_wait(ts, 0.05))
            ct_sleep_ms(1); /* nothing in flight (a retry due): do not spin */
    }
    if (st == CT_OK) {
        ct_renderer_begin_frame(renderer, &f);
        l->vt->draw(l, renderer);
        ct_renderer_end_frame(renderer);
        st = ct_renderer_read_pixels(renderer, img, err);
    }
    ct_render_layer_stats s = {0};
    l->vt->stats(l, &s);
    res->tiles_failed = s.tiles_failed;
    res->tiles_loaded = s.tiles_loaded;
    ct_render_layer_destroy(l);
    return st;
}


/* Fraction of pixels that differ from the corner (background) pixel. */
static double coverage(const uint8_t *img)
{
    int diff = 0;
    for (int i = 0; i < S * S; i++)
        diff += memcmp(img + 4 * i, img, 3) != 0;
    return (double)diff / (S * S);
}

static double compare_with(const char *ref_name, const uint8_t *img)
{
    return ct_test_image_compare(ref_dir(), ref_name, img, S);
}

/* ---- manifest ---- */

typedef struct entry {
    char rel[512], ref[160];
    double tol, sse;
    int failed;
    bool found;
} entry;

static entry entries[256];
static int n_entries;

static bool manifest_load(void)
{
    char path[4096], line[2048];
    snprintf(path, sizeof path, "%s/manifest.txt", ref_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    while (fgets(line, sizeof line, f) && n_entries < 256) {
        entry *e = &entries[n_entries];
        e->sse = 0;
        if (line[0] == '#' || sscanf(line, "%511s %159s %lf %d %lf", e->rel, e->ref, &e->tol, &e->failed, &e->sse) < 4)
            continue;
        n_entries++;
    }
    fclose(f);
    return true;
}

/* Marks manifest entries for every tileset*.json under dir; counts those missing. */
static int walk(const char *root, const char *rel, int depth)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", root, rel);
    DIR *d = opendir(dir);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return 0;
    }
    int missing = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name);
        size_t n = strlen(e->d_name);
        if (!strncmp(e->d_name, "tileset", 7) && n > 5 && !strcmp(e->d_name + n - 5, ".json")) {
            bool known = false;
            for (int i = 0; i < n_entries; i++)
                if (!strcmp(entries[i].rel, sub)) {
                    entries[i].found = known = true;
                }
            if (!known) {
                fprintf(stderr, "%s: not in the manifest\n", sub);
                missing++;
            }
        } else {
            char full[4096];
            struct stat sb;
            snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
            if (stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
                missing += walk(root, sub, depth + 1);
        }
    }
    closedir(d);
    return missing;
}

CT_TEST(every_tileset_is_listed)
{
    char root[4096];
    snprintf(root, sizeof root, "%s", ct_test_data(""));
    size_t n = strlen(root);
    if (n && root[n - 1] == '/')
        root[n - 1] = 0;
    CT_CHECK_EQ_INT(walk(root, "3dtiles", 0), 0);
    for (int i = 0; i < n_entries; i++)
        if (!entries[i].found) {
            fprintf(stderr, "%s: in the manifest but not in shared/data\n", entries[i].rel);
            CT_CHECK(entries[i].found);
        }
    CT_CHECK(n_entries >= 90);
}

/* Shards split the tilesets over several ctest entries (CT_SHARD=i/n). */
static int shard_index, shard_count = 1;

CT_TEST(tilesets_match_references)
{
    bool update = getenv("CT_UPDATE_REFERENCES") != NULL;
    static uint8_t img[S * S * 4];
    int compared = 0;
    for (int i = 0; i < n_entries; i++) {
        if (i % shard_count != shard_index)
            continue;
        const entry *e = &entries[i];
        ct_error err = {0};
        render_result res = {0};
        double t0 = ct_time_now();
        ct_status st = render_tileset(ct_test_data(e->rel), e->sse, 60, img, &res, &err);
        double secs = ct_time_now() - t0;
        if (st != CT_OK) {
            fprintf(stderr, "%s: %s\n", e->rel, err.msg);
            CT_CHECK(st == CT_OK);
            continue;
        }
        if (!res.complete) {
            fprintf(stderr, "%s: full detail not reached\n", e->rel);
            CT_CHECK(res.complete);
        }
        if ((int)res.tiles_failed != e->failed) {
            fprintf(stderr, "%s: %llu tiles failed, expected %d\n", e->rel, (unsigned long long)res.tiles_failed,
                    e->failed);
            CT_CHECK_EQ_INT(res.tiles_failed, e->failed);
        }
        double cov = coverage(img);
        if (update) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", ref_dir(), e->ref);
            ct_image_write_png(path, S, S, img, &err);
            fprintf(stderr, "wrote %s (coverage %.3f, %.1f s)\n", e->ref, cov, secs);
            continue;
        }
        double d = compare_with(e->ref, img);
        fprintf(stderr, "%-90s rmse %6.3f (tol %g) coverage %.3f %5.2f s\n", e->rel, d, e->tol, cov, secs);
        if (!(d <= e->tol)) {
            char out[4096];
            snprintf(out, sizeof out, "%s/tiles_actual_%s", CT_BINARY_DIR, e->ref);
            ct_image_write_png(out, S, S, img, &err);
            fprintf(stderr, "  actual image: %s\n", out);
        }
        CT_CHECK(d <= e->tol);
        /* never an empty frame, whatever the reference says (unless the only tile is broken) */
        CT_CHECK(cov > 0.0005 || e->failed > 0);
        compared++;
    }
    CT_CHECK(update || compared >= n_entries / shard_count);
}

CT_TEST(comparison_detects_errors)
{
    /* a frame without the model (background only) must not pass */
    static uint8_t img[S * S * 4];
    render_result res = {0};
    ct_error err = {0};
    CT_REQUIRE(render_tileset(ct_test_data("3dtiles/3d-tiles-tools/Tileset/tileset.json"), 0, 60, img, &res, &err) ==
               CT_OK);
    double same = compare_with("3d-tiles-tools_Tileset.png", img);
    static uint8_t blank[S * S * 4];
    for (int i = 0; i < S * S; i++)
        memcpy(blank + 4 * i, img, 4); /* the background only */
    double empty = compare_with("3d-tiles-tools_Tileset.png", blank);
    fprintf(stderr, "Tileset: same %.3f, background only %.3f\n", same, empty);
    CT_CHECK(same <= 2);
    CT_CHECK(empty > 4); /* above every tolerance in the manifest */
}

int main(int argc, char **argv)
{
    ct_test_data_dir(); /* skip (or fail under CI) without the shared data */
    interactive = getenv("CT_LOAD_MODE") && !strcmp(getenv("CT_LOAD_MODE"), "interactive");
    const char *shard = getenv("CT_SHARD");
    if (shard && (sscanf(shard, "%d/%d", &shard_index, &shard_count) != 2 || shard_count < 1 || shard_index < 0 ||
                  shard_index >= shard_count))
        shard_index = 0, shard_count = 1;
    if (!manifest_load()) {
        fprintf(stderr, "no manifest in %s\n", ref_dir());
        return 1;
    }
    ct_error err = {0};
    ct_render_context_desc cd = {.width = S, .height = S};
    ct_renderer_desc rd = {.msaa = 4};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK || ct_renderer_create(ctx, &rd, &renderer, &err) != CT_OK) {
        fprintf(stderr, "no GL context: %s\n", err.msg);
        return getenv("CI") ? 1 : 77;
    }
    ct_test_case cases[] = {CT_CASE(every_tileset_is_listed), CT_CASE(tilesets_match_references),
                            CT_CASE(comparison_detects_errors)};
    int ran = 0;
    for (int i = 0; i < 3; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        ct_test_current = cases[i].name;
        int before = ct_test_failures;
        cases[i].fn();
        fprintf(stderr, "%s %s\n", ct_test_failures == before ? "ok  " : "FAIL", cases[i].name);
        ran++;
    }
    ct_renderer_destroy(renderer);
    ct_render_context_destroy(ctx);
    return !ran ? 1 : ct_test_failures > 100 ? 100 : ct_test_failures;
}
