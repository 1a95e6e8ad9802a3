/* Fuzz target: the --rings list parser and the preset lookup. */
#include "citytwin/ct_impact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    double r[16];
    ct_error err = {0};
    int n = ct_impact_parse_rings(s, r, 16, &err);
    for (int i = 1; i < n; i++)
        if (!(r[i] > r[i - 1]))
            abort(); /* the parser promised increasing radii */
    ct_impact_preset_rings(s, r, 16);
    ct_impact_m2_per_person(s);
    free(s);
    return 0;
}
