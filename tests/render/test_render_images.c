/* Image tests: every sample glTF in shared/data rendered headless at 256x256
 * with the --fit camera, compared with a reference PNG (RMSE over RGB, 0..255).
 * References were inspected by eye; variants of a model (Draco, meshopt,
 * quantized, embedded...) are compared with the plain model's reference, so
 * different decoding paths must agree. test_comparison_detects_errors shows
 * that a shifted camera or altered colors fail the comparison.
 * CT_UPDATE_REFERENCES=1 rewrites the first file of each reference. */
#include "citytwin/ct_image.h"
#include "citytwin/ct_render.h"
#include "ct_test.h"
#include "ct_test_image.h"

#define S 256

static ct_render_context *ctx;
static ct_renderer *renderer;

static const char *ref_dir(void)
{
    static char buf[2048];
    const char *src = getenv("CT_SOURCE_DIR");
    snprintf(buf, sizeof buf, "%s/tests/render/reference", src ? src : CT_SOURCE_DIR);
    return buf;
}

/* Renders a glTF file like `citytwin render --fit --size 256x256`; shift moves
 * the camera sideways by that fraction of the bounding radius. */
static ct_status render_file(const char *path, double shift, uint8_t *img, ct_error *err)
{
    ct_render_layer *l = NULL;
    ct_status st = ct_render_layer_gltf_create(renderer, path, NULL, &l, err);
    if (st != CT_OK)
        return st;
    ct_camera cam;
    ct_camera_init(&cam);
    ct_dvec3 c = {0, 0, 0};
    double r = 1;
    if (!l->vt->bounds(l, &c, &r) || !(r > 0))
        r = 1;
    ct_camera_fit_sphere(&cam, c, r, l->geographic);
    cam.position = ct_dvec3_add(cam.position, ct_dvec3_scale(ct_camera_right(&cam), shift * r));
    ct_render_frame_desc f = {.camera = &cam, .width = S, .height = S};
    ct_renderer_begin_frame(renderer, &f);
    l->vt->draw(l, renderer);
    ct_renderer_end_frame(renderer);
    st = ct_renderer_read_pixels(renderer, img, err);
    ct_render_layer_destroy(l);
    return st;
}


static double compare_with(const char *ref_name, const uint8_t *img)
{
    return ct_test_image_compare(ref_dir(), ref_name, img, S);
}

/* Shards split the models over several ctest entries (CT_SHARD=i/n). */
static int shard_index, shard_count = 1;

CT_TEST(test_sample_models)
{
    char manifest[4096];
    snprintf(manifest, sizeof manifest, "%s/manifest.txt", ref_dir());
    FILE *f = fopen(manifest, "r");
    CT_REQUIRE(f != NULL);
    bool update = getenv("CT_UPDATE_REFERENCES") != NULL;
    char line[2048], written[64][128];
    int n_written = 0, n = 0;
    static uint8_t img[S * S * 4];
    while (fgets(line, sizeof line, f)) {
        char rel[1024], ref[128];
        double tol;
        if (line[0] == '#' || sscanf(line, "%1023s %127s %lf", rel, ref, &tol) != 3)
            continue;
        n++;
        if ((n - 1) % shard_count != shard_index)
            continue;
        ct_error err = {0};
        ct_status st = render_file(ct_test_data(rel), 0, img, &err);
        if (!strcmp(ref, "-")) {
            if (st != CT_ERR_INPUT)
                fprintf(stderr, "%s: expected a bad-input error, got status %d\n", rel, st);
            CT_CHECK_EQ_INT(st, CT_ERR_INPUT);
            continue;
        }
        if (st != CT_OK) {
            fprintf(stderr, "%s: %s\n", rel, err.msg);
            CT_CHECK(st == CT_OK);
            continue;
        }
        bool first = true;
        for (int i = 0; i < n_written; i++)
            first = first && strcmp(written[i], ref) != 0;
        if (update && first && n_written < 64) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", ref_dir(), ref);
            ct_image_write_png(path, S, S, img, &err);
            snprintf(written[n_written++], sizeof written[0], "%s", ref);
            fprintf(stderr, "wrote %s from %s\n", ref, rel);
            continue;
        }
        double e = compare_with(ref, img);
        fprintf(stderr, "%-70s %-28s rmse %.3f (tol %g)\n", rel, ref, e, tol);
        if (!(e <= tol)) {
            char out[4096];
            snprintf(out, sizeof out, "%s/render_actual_%d.png", CT_BINARY_DIR, n);
            ct_image_write_png(out, S, S, img, &err);
            fprintf(stderr, "  actual image: %s\n", out);
        }
        CT_CHECK(e <= tol);
    }
    fclose(f);
    CT_CHECK(n >= 30);
}

CT_TEST(test_comparison_detects_errors)
{
    static uint8_t img[S * S * 4];
    ct_error err = {0};
    const char *box = ct_test_data("gltf/khronos-sample-assets/Duck/glTF-Binary/Duck.glb");
    CT_REQUIRE(render_file(box, 0, img, &err) == CT_OK);
    double same = compare_with("Duck.png", img);
    /* the camera moved by 5% of the model's radius */
    CT_REQUIRE(render_file(box, 0.05, img, &err) == CT_OK);
    double shifted = compare_with("Duck.png", img);
    /* colors altered: red and blue swapped */
    CT_REQUIRE(render_file(box, 0, img, &err) == CT_OK);
    for (int i = 0; i < S * S; i++) {
        uint8_t t = img[i * 4];
        img[i * 4] = img[i * 4 + 2];
        img[i * 4 + 2] = t;
    }
    double swapped = compare_with("Duck.png", img);
    fprintf(stderr, "Duck: same %.3f, shifted camera %.3f, swapped colors %.3f\n", same, shifted, swapped);
    CT_CHECK(same <= 2);
    CT_CHECK(shifted > 5);  /* well above the tolerances in the manifest */
    CT_CHECK(swapped > 5);
}

int main(int argc, char **argv)
{
    ct_test_data_dir(); /* skip (or fail under CI) without the shared data */
    const char *shard = getenv("CT_SHARD");
    if (shard && (sscanf(shard, "%d/%d", &shard_index, &shard_count) != 2 || shard_count < 1 || shard_index < 0 ||
                  shard_index >= shard_count))
        shard_index = 0, shard_count = 1;
    ct_error err = {0};
    ct_render_context_desc cd = {.width = S, .height = S};
    ct_renderer_desc rd = {.msaa = 4};
    if (ct_render_context_create(&cd, &ctx, &err) != CT_OK || ct_renderer_create(ctx, &rd, &renderer, &err) != CT_OK) {
        fprintf(stderr, "no GL context: %s\n", err.msg);
        return getenv("CI") ? 1 : 77;
    }
    ct_test_case cases[] = {CT_CASE(test_sample_models), CT_CASE(test_comparison_detects_errors)};
    int ran = 0;
    for (int i = 0; i < 2; i++) {
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
