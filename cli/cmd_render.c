/* citytwin render: inputs (glTF/GLB, scene, tileset) to a PNG, headless. */
#include "cli_scene.h"

#include "citytwin/ct_image.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUB "render"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_render) == 0)
        return 0;
    double t_start = ct_time_now();
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    int n_inputs = 0, width = 1280, height = 720, msaa = 0, frames = 0;
    const char *out = NULL;
    bool stats = false, wait = false, has_bg = false;
    double timeout = 120, bg[3] = {0};
    cli_view_args view = {0};
    cli_layer_options lopts = {0};
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        int v = cli_view_arg(SUB, argc, argv, &i, &view);
        if (v < 0) {
            rc = CT_ERR_USAGE;
            break;
        }
        if (v > 0)
            continue;
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--stats"))
            stats = true;
        else if (!strcmp(a, "--wait"))
            wait = true;
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has_value)
            out = argv[++i];
        else if (!strcmp(a, "--size") && has_value) {
            if (!cli_parse_size(argv[++i], &width, &height))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--size wants WxH, got '%s'", argv[i]);
        } else if (!strcmp(a, "--background") && has_value) {
            if (cli_parse_numbers(argv[++i], bg, 3, 3) != 3 || bg[0] < 0 || bg[1] < 0 || bg[2] < 0 || bg[0] > 255 ||
                bg[1] > 255 || bg[2] > 255)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--background wants R,G,B in 0..255, got '%s'", argv[i]);
            has_bg = true;
        } else if (!strcmp(a, "--sse") && has_value) {
            if (cli_parse_numbers(argv[++i], &lopts.sse, 1, 1) != 1 || !(lopts.sse > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--sse wants a positive number of pixels, got '%s'", argv[i]);
        } else if (!strcmp(a, "--memory-budget") && has_value) {
            double mb = 0;
            if (cli_parse_numbers(argv[++i], &mb, 1, 1) != 1 || !(mb > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--memory-budget wants megabytes > 0, got '%s'", argv[i]);
            lopts.bytes_budget = (uint64_t)(mb * 1024 * 1024);
        } else if (!strcmp(a, "--timeout") && has_value) {
            if (cli_parse_numbers(argv[++i], &timeout, 1, 1) != 1 || !(timeout > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--timeout wants seconds > 0, got '%s'", argv[i]);
        } else if (!strcmp(a, "--msaa") && has_value) {
            double m;
            if (cli_parse_numbers(argv[++i], &m, 1, 1) != 1 || m < 1 || m > 32)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--msaa wants 1..32 samples, got '%s'", argv[i]);
            msaa = (int)m;
        } else if (!strcmp(a, "--frames") && has_value) {
            double f;
            if (cli_parse_numbers(argv[++i], &f, 1, 1) != 1 || f < 1 || f > 100000)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--frames wants a count >= 1, got '%s'", argv[i]);
            frames = (int)f;
        } else if (a[0] == '-' && a[1] != 0)
            rc = cli_fail(SUB, CT_ERR_USAGE, "unknown or incomplete option '%s' (see citytwin help render)", a);
        else
            inputs[n_inputs++] = argv[i];
    }
    if (rc == 0 && !out)
        rc = cli_fail(SUB, CT_ERR_USAGE, "missing -o OUT.png");
    if (rc != 0) {
        free(inputs);
        return rc;
    }
    if (frames == 0)
        frames = stats ? 5 : 1;
    lopts.wait = wait;

    ct_error err = {0};
    ct_render_context *ctx;
    ct_renderer *r;
    cli_scene scene;
    ct_renderer_desc rd = {.msaa = msaa};
    rc = cli_headless_open(SUB, inputs, n_inputs, width, height, &rd, &lopts, &ctx, &r, &scene);
    free(inputs);
    if (rc != 0)
        return rc;
    ct_camera cam;
    rc = cli_view_camera(SUB, &view, &scene, width, height, &cam);

    double *times = calloc((size_t)frames, sizeof *times);
    ct_render_frame_desc fd = {.camera = &cam, .width = width, .height = height, .has_background = has_bg};
    for (int c = 0; c < 3; c++)
        fd.background[c] = (float)(bg[c] / 255.0);
    cli_render_desc rdesc = {.frame = &fd, .wait = wait, .timeout_s = timeout, .frames = frames, .t_start = t_start,
                             .frame_ms = times, .frame_ms_cap = times ? frames : 0};
    cli_render_result res = {0};
    if (rc == 0 && !times)
        rc = cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    if (rc == 0 && cli_scene_render(&scene, r, &rdesc, &res, &err) != CT_OK)
        rc = cli_fail_err(SUB, &err);
    int n_times = res.frames < frames ? res.frames : frames;
    double t_first = res.t_first_frame_s, t_full = res.t_full_detail_s;
    uint64_t bytes_peak = res.bytes_peak, bytes_budget = res.bytes_budget;
    bool timed_out = res.timed_out, has_tiles = res.has_tiles;
    ct_render_layer_stats tiles = res.tiles;
    if (rc == 0) {
        uint8_t *px = ct_malloc_array((size_t)width * height, 4);
        if (!px)
            rc = cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
        else if (ct_renderer_read_pixels(r, px, &err) != CT_OK || ct_image_write_png(out, width, height, px, &err) != CT_OK)
            rc = cli_fail(SUB, CT_ERR_RUNTIME, "%s", err.msg);
        free(px);
    }
    if (rc == 0 && stats) {
        ct_render_frame_stats fs = ct_renderer_frame_stats(r);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "t_first_frame_s", t_first);
        if (t_full >= 0)
            cJSON_AddNumberToObject(o, "t_full_detail_s", t_full);
        else
            cJSON_AddNullToObject(o, "t_full_detail_s");
        if (has_tiles) {
            cJSON_AddNumberToObject(o, "tiles_selected", (double)tiles.tiles_selected);
            cJSON_AddNumberToObject(o, "tiles_loaded", (double)tiles.tiles_loaded);
            cJSON_AddNumberToObject(o, "tiles_failed", (double)tiles.tiles_failed);
            cJSON_AddNumberToObject(o, "tiles_in_flight", (double)tiles.tiles_in_flight);
        } else {
            cJSON_AddNullToObject(o, "tiles_selected");
            cJSON_AddNullToObject(o, "tiles_loaded");
            cJSON_AddNullToObject(o, "tiles_failed");
            cJSON_AddNullToObject(o, "tiles_in_flight");
        }
        cJSON_AddNumberToObject(o, "triangles", (double)fs.triangles);
        cJSON_AddNumberToObject(o, "points", (double)fs.points);
        double *copy = malloc((size_t)(n_times ? n_times : 1) * sizeof *copy);
        if (copy && n_times) {
            memcpy(copy, times, (size_t)n_times * sizeof *copy);
            cJSON_AddNumberToObject(o, "frame_ms_p50", ct_percentile(copy, n_times, 0.5));
            cJSON_AddNumberToObject(o, "frame_ms_p95", ct_percentile(copy, n_times, 0.95));
        } else {
            cJSON_AddNullToObject(o, "frame_ms_p50");
            cJSON_AddNullToObject(o, "frame_ms_p95");
        }
        free(copy);
        if (bytes_budget)
            cJSON_AddNumberToObject(o, "bytes_budget", (double)bytes_budget);
        else
            cJSON_AddNullToObject(o, "bytes_budget");
        cJSON_AddNumberToObject(o, "bytes_used_peak", (double)bytes_peak);
        cJSON_AddStringToObject(o, "renderer", ct_render_context_renderer(ctx));
        cJSON_AddNumberToObject(o, "frames", n_times);
        cJSON_AddNumberToObject(o, "updates", res.updates);
        cJSON_AddNumberToObject(o, "lines", (double)fs.lines);
        cli_print_json(o);
    }
    if (rc == 0 && timed_out)
        rc = cli_fail(SUB, CT_ERR_RUNTIME, "--wait: full detail not reached within %g s (image written as it was)",
                      timeout);
    free(times);
    cli_headless_close(ctx, r, &scene);
    return rc;
}

const ct_cli_command ct_cmd_render = {
    "render", run, "render inputs (glTF, tileset, scene) to a PNG, headless",
    "usage: citytwin render [INPUT...] -o OUT.png [options]\n"
    "\n"
    "Renders glTF/GLB files, scene files and tilesets headless (EGL: GPU when\n"
    "present, else Mesa llvmpipe) into a PNG. No INPUT: the built-in demo scene.\n"
    "\n"
    "  -o, --output OUT.png   image to write (required)\n"
    "  --size WxH             image size in pixels (default 1280x720)\n"
    "  --camera LON,LAT,H,HEADING,PITCH[,ROLL]\n"
    "                         CesiumJS convention: degrees, ellipsoidal height in m,\n"
    "                         heading clockwise from north, pitch negative down;\n"
    "                         scene X,Y,Z instead of LON,LAT,H for inputs without a\n"
    "                         geographic CRS (glTF: z-up, y-up models turned z-up)\n"
    "  --fit                  frame the whole input, pitch -45 from the south (default, except\n"
    "                         for a scene file with cameras: then its first bookmark)\n"
    "  --bookmark NAME        a camera bookmark of the scene file\n"
    "  --fov DEG              vertical field of view (default 60)\n"
    "  --background R,G,B     clear color, 0..255 (default 191,209,230)\n"
    "  --msaa N               samples per pixel (default 4; 1 = off)\n"
    "  --sse N                3D Tiles maximum screen-space error in pixels (default 16)\n"
    "  --memory-budget MB     3D Tiles content memory budget, CPU + GPU (default 512)\n"
    "  --wait                 load until nothing is left to load for the camera (no\n"
    "                         frames drawn meanwhile), then draw; or until --timeout\n"
    "  --timeout S            seconds for --wait (default 120); exit 3 when reached\n"
    "  --frames N             frames to render (default 1, 5 with --stats; at full\n"
    "                         detail with --wait)\n"
    "  --stats                print one JSON object with timings and counts on stdout\n"
    "\n"
    "Exit status: 0 ok, 1 usage, 2 bad input, 3 no GL context / write error / timeout.\n"};
