/* citytwin view: the interactive viewer (SDL2 window). */
#include "cli_scene.h"

#include "citytwin/ct_viewer.h"

#include <stdlib.h>
#include <string.h>

#define SUB "view"

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_view) == 0)
        return 0;
    char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return cli_fail(SUB, CT_ERR_RUNTIME, "out of memory");
    int n_inputs = 0, rc = 0;
    ct_viewer_desc vd = {0};
    cli_view_args view = {0};
    cli_layer_options lopts = {0};
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
        double num;
        if (!strcmp(a, "--fullscreen"))
            vd.fullscreen = true;
        else if (!strcmp(a, "--no-vsync"))
            vd.no_vsync = true;
        else if (!strcmp(a, "--display") && has_value) {
            if (cli_parse_numbers(argv[++i], &num, 1, 1) != 1 || num < 0)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--display wants an index >= 0, got '%s'", argv[i]);
            vd.display = (int)num;
        } else if (!strcmp(a, "--size") && has_value) {
            if (!cli_parse_size(argv[++i], &vd.width, &vd.height))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--size wants WxH, got '%s'", argv[i]);
        } else if (!strcmp(a, "--msaa") && has_value) {
            if (cli_parse_numbers(argv[++i], &num, 1, 1) != 1 || num < 1 || num > 32)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--msaa wants 1..32 samples, got '%s'", argv[i]);
            vd.msaa = (int)num;
        } else if (!strcmp(a, "--frames") && has_value) {
            if (cli_parse_numbers(argv[++i], &num, 1, 1) != 1 || num < 1)
                rc = cli_fail(SUB, CT_ERR_USAGE, "--frames wants a count >= 1, got '%s'", argv[i]);
            vd.max_frames = (int)num;
        } else if (!strcmp(a, "--script") && has_value) {
            vd.script_path = argv[++i];
        } else if (!strcmp(a, "--sse") && has_value) {
            if (cli_parse_numbers(argv[++i], &lopts.sse, 1, 1) != 1 || !(lopts.sse > 0))
                rc = cli_fail(SUB, CT_ERR_USAGE, "--sse wants a positive number of pixels, got '%s'", argv[i]);
        } else if (a[0] == '-' && a[1] != 0)
            rc = cli_fail(SUB, CT_ERR_USAGE, "unknown or incomplete option '%s' (see citytwin help view)", a);
        else
            inputs[n_inputs++] = argv[i];
    }
    if (rc != 0) {
        free(inputs);
        return rc;
    }
    ct_error err = {0};
    ct_viewer *v = NULL;
    if (ct_viewer_create(&vd, &v, &err) != CT_OK) {
        free(inputs);
        return cli_fail_err(SUB, &err);
    }
    cli_scene scene;
    rc = cli_scene_open(SUB, inputs, n_inputs, ct_viewer_renderer(v), &lopts, &scene);
    free(inputs);
    if (rc != 0) {
        ct_viewer_destroy(v);
        return rc;
    }
    int w, h;
    ct_render_context_size(ct_viewer_context(v), &w, &h);
    ct_camera cam;
    rc = cli_view_camera(SUB, &view, &scene, w > 0 ? w : 1, h > 0 ? h : 1, &cam);
    if (rc == 0) {
        ct_dvec3 center = {0, 0, 0};
        double radius = 1;
        cli_scene_bounds(&scene, &center, &radius);
        ct_viewer_set_layers(v, scene.layers, scene.layer_count, scene.geographic);
        ct_viewer_set_camera(v, &cam, center, radius);
        if (ct_viewer_run(v, &err) != CT_OK)
            rc = cli_fail_err(SUB, &err);
    }
    cli_scene_close(&scene);
    ct_viewer_destroy(v);
    return rc;
}

const ct_cli_command ct_cmd_view = {
    "view", run, "open the interactive viewer",
    "usage: citytwin view [INPUT...] [--camera ...|--fit] [--fullscreen] [--display N] [options]\n"
    "\n"
    "Opens an SDL2 window on INPUT... (glTF/GLB, scene file, tileset; none: the\n"
    "built-in demo scene).\n"
    "\n"
    "  --camera LON,LAT,H,HEADING,PITCH[,ROLL] | --fit | --bookmark NAME | --fov DEG\n"
    "                         initial camera, as for citytwin render (default --fit)\n"
    "  --fullscreen           start fullscreen (F11 or F toggles)\n"
    "  --display N            open on display N (0 = primary)\n"
    "  --size WxH             window size (default 1280x720)\n"
    "  --msaa N               samples per pixel (default 4)\n"
    "  --no-vsync             do not wait for vertical blank\n"
    "  --sse N                3D Tiles maximum screen-space error in pixels\n"
    "  --script FILE          scripted input, one event per line: wait N | key NAME [N] |\n"
    "                         drag X1 Y1 X2 Y2 [left|right|middle] [N] | wheel N | pinch D |\n"
    "                         screenshot PATH | quit\n"
    "  --frames N             quit after N frames\n"
    "\n"
    "Mouse: left drag orbits around the point under the cursor, right/middle drag\n"
    "pans, wheel or pinch zooms. Keys: W/A/S/D move, Q/E down/up (Shift faster),\n"
    "Tab orbit/fly mode, Home reset, F11/F fullscreen, F5 reload shaders\n"
    "($CT_SHADER_DIR), P screenshot, Escape quit. The title shows fps and triangles.\n"
    "Exit status 3 when no window or GL context can be made.\n"};
