/* Fuzz target: binary and JSON subtrees (quadtree, 3 levels; octree, 2),
 * their availability and their tile/content metadata (rank indexing). */
#include "citytwin/ct_tileset.h"

#include <stdlib.h>

static const char *SCHEMA =
    "{\"classes\":{\"tileinfo\":{\"properties\":{\"code\":{\"type\":\"SCALAR\",\"componentType\":"
    "\"UINT16\"},\"label\":{\"type\":\"STRING\"}}},\"contentinfo\":{\"properties\":{\"bytes\":"
    "{\"type\":\"SCALAR\",\"componentType\":\"UINT32\"}}},\"tile\":{\"properties\":{\"quadrant\":"
    "{\"type\":\"SCALAR\",\"componentType\":\"UINT8\"},\"color\":{\"type\":\"VEC3\",\"componentType\":"
    "\"UINT8\"}}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ct_implicit_desc imps[2] = {{0, 3}, {1, 2}};
    for (int i = 0; i < 2; i++) {
        ct_subtree *st = NULL;
        ct_error err = {0};
        if (ct_subtree_parse(data, size, &imps[i], NULL, NULL, &st, &err) == CT_OK) {
            for (int l = 0; l < 3; l++)
                for (uint64_t m = 0; m < 70; m++) {
                    ct_subtree_tile_available(st, l, m);
                    ct_subtree_content_available(st, 0, l, m);
                    ct_subtree_child_available(st, m);
                    if (m < 20)
                        for (int c = -1; c < 2; c++)
                            free(ct_subtree_metadata_json(st, SCHEMA, c, l, m, "fuzz"));
                }
            ct_subtree_destroy(st);
        }
    }
    return 0;
}
