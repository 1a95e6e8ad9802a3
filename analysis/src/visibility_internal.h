/* Helpers shared by the visibility sources (not public API). */
#ifndef CT_VISIBILITY_INTERNAL_H
#define CT_VISIBILITY_INTERNAL_H

#include <stddef.h>

/* Asks the kernel for transparent huge pages over a large, not yet touched
 * allocation. Why: a 10,000^2 DEM is 400 MB, and faulting it in 4 KiB pages
 * cost about a fifth of the viewshed's CPU time on a virtual machine; with
 * 2 MiB pages the faults all but vanish. A no-op where unsupported. */
void ct_visibility_advise_huge(void *p, size_t bytes);

#endif
