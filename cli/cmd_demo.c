/* citytwin demo: writes the built-in demo district's files (docs/demo.md). */
#include "cli.h"

#include "citytwin/ct_demo.h"

#include <stdlib.h>
#include <string.h>

static const char USAGE[] =
    "usage: citytwin demo [--out-dir DIR] [--seed N] [--cell-size M] [--json]\n"
    "\n"
    "Generates the demo district (a synthetic riverside quarter of a river-delta\n"
    "port city, EPSG:4547): scene.json, dem.tif, buildings/roads/pois/river\n"
    "GeoJSON and district.glb, then runs the scene's analysis presets and\n"
    "writes their results, drawn as layers: flood_depth.tif and\n"
    "flood_extent.geojson (river flood to 2.0 m), impact.geojson (gas-leak\n"
    "rings), route.geojson (fire engine route). Same options, same bytes.\n"
    "\n"
    "  --out-dir DIR    where to write (default: the demo cache that `render` and\n"
    "                   `view` use with no INPUT, generated once)\n"
    "  --seed N         layout seed (default: the built-in one); needs --out-dir\n"
    "  --cell-size M    DEM cell size in metres (default 2); needs --out-dir\n"
    "  --json           print {\"dir\", \"scene\", \"files\": [...]} on stdout\n";

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_demo) == 0)
        return 0;
    const char *out_dir = NULL;
    bool json = false, custom = false;
    ct_demo_desc desc = {.results = cli_demo_results};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--out-dir") && has_value) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--seed") && has_value) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (*end || end == argv[i] || v == 0 || v > 0xFFFFFFFFul)
                return cli_fail("demo", CT_ERR_USAGE, "--seed: expected a positive integer, got '%s'", argv[i]);
            desc.seed = (uint32_t)v;
            custom = true;
        } else if (!strcmp(a, "--cell-size") && has_value) {
            double v;
            if (cli_parse_numbers(argv[++i], &v, 1, 1) != 1 || !(v > 0 && v <= 100))
                return cli_fail("demo", CT_ERR_USAGE, "--cell-size: expected metres in (0, 100], got '%s'", argv[i]);
            desc.cell_size = v;
            custom = true;
        } else {
            return cli_fail("demo", CT_ERR_USAGE, "unknown or incomplete option '%s' (see citytwin demo --help)", a);
        }
    }
    if (custom && !out_dir)
        return cli_fail("demo", CT_ERR_USAGE, "--seed and --cell-size need --out-dir (the cache holds the default demo)");
    ct_error err = {0};
    char scene[4200], dir[4200];
    if (out_dir) {
        if (ct_demo_generate(out_dir, &desc, &err))
            return cli_fail_err("demo", &err);
        snprintf(dir, sizeof dir, "%s", out_dir);
        snprintf(scene, sizeof scene, "%s/scene.json", out_dir);
    } else {
        if (ct_demo_scene_path_ex(scene, sizeof scene, &desc, &err))
            return cli_fail_err("demo", &err);
        char *d = ct_path_dirname(scene);
        snprintf(dir, sizeof dir, "%s", d ? d : ".");
        free(d);
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dir", dir);
        cJSON_AddStringToObject(o, "scene", scene);
        cJSON *files = cJSON_AddArrayToObject(o, "files");
        for (int k = 0; k < 2; k++)
            for (const char *const *f = k ? ct_demo_result_files : ct_demo_files; *f; f++) {
                char *p = ct_path_join(dir, *f);
                cJSON_AddItemToArray(files, cJSON_CreateString(p ? p : *f));
                free(p);
            }
        cli_print_json(o);
    } else {
        printf("demo district written to %s\n", dir);
        for (int i = 0; ct_demo_files[i]; i++)
            printf("  %s\n", ct_demo_files[i]);
        printf("analysis results (the scene's presets):\n");
        for (int i = 0; ct_demo_result_files[i]; i++)
            printf("  %s\n", ct_demo_result_files[i]);
        printf("open it with: citytwin view %s   (or: citytwin render %s -o demo.png)\n", scene, scene);
    }
    return 0;
}

const ct_cli_command ct_cmd_demo = {"demo", run, "generate the built-in demo district's data files", USAGE};
