/* Helpers shared by the visibility sources (not public API). */
#ifndef CT_VISIBILITY_INTERNAL_H
#define CT_VISIBILITY_INTERNAL_H

#include "citytwin/ct_visibility.h"

#include <stddef.h>

/* Asks the kernel for transparent huge pages over a large, not yet touched
 * allocation. Why: a 10,000^2 DEM is 400 MB, and faulting it in 4 KiB pages
 * cost about a fifth of the viewshed's CPU time on a virtual machine; with
 * 2 MiB pages the faults all but vanish. A no-op where unsupported. */
void ct_visibility_advise_huge(void *p, size_t bytes);

/* Maps n xyz positions (interleaved, in place) to the scene's CRS. */
typedef ct_status (*ct_los_map_fn)(void *user, double *xyz, size_t n, ct_error *err);

/* Adds the triangles of a glTF's default scene: positions go through
 * pre * node world * instance (EXT_mesh_gpu_instancing, each instance a
 * copy), then map (NULL: none). */
ct_status ct_los_meshes_add_gltf_mapped(ct_los_meshes *m, const ct_gltf *g, const double pre[16], ct_los_map_fn map,
                                        void *user, ct_error *err);

#endif
