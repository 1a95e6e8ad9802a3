/* Impact rings: the --rings list and the presets. */
#include "citytwin/ct_impact.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ct_impact_parse_rings(const char *text, double *radii, int max, ct_error *err)
{
    if (!text || !*text) {
        ct_error_set(err, CT_ERR_USAGE, "rings: empty list");
        return -1;
    }
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v)) {
            ct_error_set(err, CT_ERR_USAGE, "rings: not a number at byte %d of '%.40s'", (int)(p - text), text);
            return -1;
        }
        if (!(v > 0)) {
            ct_error_set(err, CT_ERR_USAGE, "rings: radius %g at byte %d must be > 0", v, (int)(p - text));
            return -1;
        }
        if (n == max) {
            ct_error_set(err, CT_ERR_USAGE, "rings: more than %d radii", max);
            return -1;
        }
        if (n > 0 && v <= radii[n - 1]) {
            ct_error_set(err, CT_ERR_USAGE, "rings: radii must increase (%g after %g at byte %d)", v, radii[n - 1],
                         (int)(p - text));
            return -1;
        }
        radii[n++] = v;
        p = end;
        if (*p == 0)
            return n;
        if (*p != ',') {
            ct_error_set(err, CT_ERR_USAGE, "rings: unexpected '%c' at byte %d", *p, (int)(p - text));
            return -1;
        }
        p++;
    }
}

/* Initial isolation / protective-action distances of the Emergency Response
 * Guidebook 2020 (US DOT PHMSA, Transport Canada, SCT Mexico):
 *   gas-leak  Guide 115 (flammable gases, e.g. natural gas UN1971): isolate 100 m
 *             in all directions; large leak: consider downwind evacuation 800 m;
 *             tank involved in fire: isolate 1600 m.
 *   explosion Guide 112 (explosives 1.1-1.3): isolate 500 m; large spill:
 *             consider evacuation 800 m; fire: isolate 1600 m.
 *   chemical  Guide 111 (mixed load / unidentified cargo): isolate 100 m; large
 *             spill: consider downwind evacuation 500 m; fire: isolate 800 m. */
int ct_impact_preset_rings(const char *preset, double *radii, int max)
{
    static const struct {
        const char *name;
        double r[3];
    } presets[] = {
        {"gas-leak", {100, 800, 1600}},
        {"explosion", {500, 800, 1600}},
        {"chemical", {100, 500, 800}},
    };
    for (size_t i = 0; preset && i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, preset)) {
            int n = max < 3 ? max : 3;
            for (int k = 0; k < n; k++)
                radii[k] = presets[i].r[k];
            return n;
        }
    return -1;
}

/* Square metres of floor per occupant by use: IBC 2021 Table 1004.5 ("maximum
 * floor area allowances per occupant", gross unless noted), converted from
 * square feet (x 0.0929). These are design (egress) loads, so they estimate
 * the most people a building holds, not its average. */
double ct_impact_m2_per_person(const char *use)
{
    static const struct {
        const char *key;
        double m2;
    } uses[] = {
        {"residential", 18.6}, {"house", 18.6}, {"apartments", 18.6}, {"detached", 18.6}, {"terrace", 18.6},
        {"semidetached_house", 18.6}, {"dormitory", 11.1}, {"hotel", 18.6},  /* residential 200 sf; sleeping 120 sf */
        {"office", 13.9}, {"commercial", 13.9}, {"government", 13.9}, {"public", 13.9}, /* business 150 sf */
        {"retail", 5.6}, {"shop", 5.6}, {"supermarket", 5.6}, {"kiosk", 5.6},         /* mercantile 60 sf */
        {"school", 4.6}, {"kindergarten", 4.6}, {"university", 4.6}, {"college", 4.6}, /* educational 50 sf net */
        {"hospital", 22.3}, {"clinic", 9.3},                                         /* inpatient 240 sf, outpatient 100 sf */
        {"industrial", 9.3}, {"factory", 9.3}, {"manufacture", 9.3},                 /* industrial 100 sf */
        {"warehouse", 27.9}, {"storage", 27.9}, {"garage", 18.6}, {"garages", 18.6}, {"parking", 18.6}, /* storage 300, parking 200 */
        {"church", 1.4}, {"chapel", 1.4}, {"mosque", 1.4}, {"temple", 1.4}, {"civic", 1.4}, /* assembly unconcentrated 15 sf net */
    };
    if (use && *use)
        for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++)
            if (!strcmp(uses[i].key, use))
                return uses[i].m2;
    return 18.6; /* unknown ("yes"): residential */
}
