/* citytwin tiles info|validate TILESET [--json]: walks a whole 3D Tiles
 * tileset (external tilesets and implicit subtrees included). */
#include "cli.h"

#include "citytwin/ct_tileset.h"

#include <stdlib.h>
#include <string.h>

static int usage_error(const char *msg)
{
    return cli_fail("tiles", CT_ERR_USAGE, "%s (see citytwin tiles --help)", msg);
}

typedef struct opts {
    const char *input;
    bool json, allow_outside, skip_contents;
    const char *headers[32];
    int n_headers;
    unsigned long long max_tiles;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--allow-outside-folder"))
            o->allow_outside = true;
        else if (!strcmp(a, "--skip-contents"))
            o->skip_contents = true;
        else if (!strcmp(a, "--max-tiles")) {
            char *end = NULL;
            if (i + 1 >= argc || (o->max_tiles = strtoull(argv[i + 1], &end, 10)) == 0 || *end)
                return usage_error("--max-tiles needs a positive count");
            i++;
        } else if (!strcmp(a, "--header")) {
            if (i + 1 >= argc || o->n_headers == 32)
                return usage_error("--header needs 'Name: value'");
            o->headers[o->n_headers++] = argv[++i];
        } else if (a[0] == '-' && a[1])
            return cli_fail("tiles", CT_ERR_USAGE, "unknown option '%s'", a);
        else if (!o->input)
            o->input = a;
        else
            return usage_error("only one TILESET");
    }
    if (!o->input)
        return usage_error("missing TILESET");
    return 0;
}

/* Fills the info object of the CLI contract (also used by `citytwin info`). */
static cJSON *cli_tileset_info_json(const ct_tileset_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "tiles", (double)r->tiles);
    cJSON_AddNumberToObject(o, "max_depth", r->max_depth);
    cJSON *c = cJSON_AddObjectToObject(o, "contents");
    for (int t = CT_CONTENT_TYPE_B3DM; t <= CT_CONTENT_TYPE_JSON; t++)
        cJSON_AddNumberToObject(c, ct_content_type_name((ct_content_type)t), (double)r->contents[t]);
    if (r->contents[CT_CONTENT_TYPE_UNKNOWN])
        cJSON_AddNumberToObject(c, "unknown", (double)r->contents[CT_CONTENT_TYPE_UNKNOWN]);
    cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
    if (r->has_bounds_lonlat) {
        cJSON *b = cJSON_CreateDoubleArray(r->bounds_lonlat, 4);
        cJSON_AddItemToObject(o, "bounds_lonlat", b);
    } else {
        cJSON_AddNullToObject(o, "bounds_lonlat");
    }
    cJSON *p = cJSON_AddArrayToObject(o, "problems");
    for (int i = 0; i < r->n_problems; i++)
        cJSON_AddItemToArray(p, cJSON_CreateString(r->problems[i].message));
    return o;
}

static int inspect(const opts *o, ct_tileset_report *rep)
{
    ct_tileset_inspect_desc d = {
        .uri = o->input,
        .allow_outside_folder = o->allow_outside,
        .skip_contents = o->skip_contents,
        .http_headers = o->headers,
        .n_http_headers = o->n_headers,
        .max_tiles = o->max_tiles,
    };
    ct_error err = {0};
    if (ct_tileset_inspect(&d, rep, &err))
        return cli_fail_err("tiles", &err);
    return 0;
}

static int run_info(const opts *o)
{
    const char *path = o->input;
    ct_tileset_report rep;
    int rc = inspect(o, &rep);
    if (rc)
        return rc;
    if (o->json) {
        cli_print_json(cli_tileset_info_json(&rep));
    } else {
        printf("tileset    %s\n", path);
        printf("tiles      %llu\n", (unsigned long long)rep.tiles);
        printf("max depth  %d\n", rep.max_depth);
        printf("contents  ");
        for (int t = CT_CONTENT_TYPE_B3DM; t <= CT_CONTENT_TYPE_JSON; t++)
            printf(" %s %llu", ct_content_type_name((ct_content_type)t), (unsigned long long)rep.contents[t]);
        printf("\nbytes      %llu\n", (unsigned long long)rep.bytes);
        if (rep.has_bounds_lonlat)
            printf("bounds     lon %.7f..%.7f lat %.7f..%.7f\n", rep.bounds_lonlat[0], rep.bounds_lonlat[2],
                   rep.bounds_lonlat[1], rep.bounds_lonlat[3]);
        else
            printf("bounds     not georeferenced\n");
        printf("problems   %d\n", rep.n_errors + rep.n_warnings);
        for (int i = 0; i < rep.n_problems; i++)
            printf("  %s\n", rep.problems[i].message);
    }
    ct_tileset_report_free(&rep);
    return 0;
}

int cli_tiles_info(const char *path, bool json)
{
    opts o = {.input = path, .json = json};
    return run_info(&o);
}

static int run_validate(const opts *o)
{
    ct_tileset_report rep;
    int rc = inspect(o, &rep);
    if (rc)
        return rc;
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON *e = cJSON_AddArrayToObject(j, "errors");
        cJSON *w = cJSON_AddArrayToObject(j, "warnings");
        for (int i = 0; i < rep.n_problems; i++)
            cJSON_AddItemToArray(rep.problems[i].severity == CT_TILESET_ERROR ? e : w,
                                 cJSON_CreateString(rep.problems[i].message));
        cli_print_json(j);
    } else {
        for (int i = 0; i < rep.n_problems; i++)
            printf("%s: %s\n", rep.problems[i].severity == CT_TILESET_ERROR ? "error" : "warning",
                   rep.problems[i].message);
        printf("%s: %d error(s), %d warning(s), %llu tiles\n", o->input, rep.n_errors, rep.n_warnings,
               (unsigned long long)rep.tiles);
    }
    rc = rep.n_errors ? CT_ERR_INPUT : 0;
    ct_tileset_report_free(&rep);
    return rc;
}

static int run(int argc, char **argv)
{
    if (cli_help_requested(argc, argv, &ct_cmd_tiles) == 0)
        return 0;
    if (argc < 2)
        return usage_error("missing action (info or validate)");
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (!strcmp(argv[1], "info"))
        return run_info(&o);
    if (!strcmp(argv[1], "validate"))
        return run_validate(&o);
    return cli_fail("tiles", CT_ERR_USAGE, "unknown action '%s' (info or validate)", argv[1]);
}

const ct_cli_command ct_cmd_tiles = {
    "tiles", run, "3D Tiles tools: info, validate",
    "usage: citytwin tiles info     TILESET [--json] [options]\n"
    "       citytwin tiles validate TILESET [--json] [options]\n"
    "\n"
    "TILESET is a tileset.json path, file:// or http(s):// URL. Every tile is walked:\n"
    "external tilesets and implicit subtrees are loaded, contents are read.\n"
    "\n"
    "  info      {\"tiles\", \"max_depth\", \"contents\" (b3dm, i3dm, pnts, cmpt, glb, json),\n"
    "             \"bytes\", \"bounds_lonlat\" [west, south, east, north] or null, \"problems\"}\n"
    "  validate  {\"errors\": [...], \"warnings\": [...]}; exit 2 when there are errors\n"
    "\n"
    "  --json                  one JSON object on stdout\n"
    "  --allow-outside-folder  read files outside the tileset's folder (refused by default)\n"
    "  --skip-contents         do not read tile contents (no type counts or bytes)\n"
    "  --header 'Name: value'  extra HTTP header (repeatable), e.g. an access token\n"
    "  --max-tiles N           stop walking after N tiles (default 1000000; reported as a warning)\n"};
