#include "app/memory.h"

#include <cstdlib>  // defines __GLIBC__ on glibc, which the checks below need

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace app {

namespace {
// Two, not one: the workers reconcile at once, and a single arena would
// serialise their allocations behind one lock.
constexpr int kMallocArenas = 2;
}  // namespace

void limit_malloc_arenas() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, kMallocArenas);
#endif
}

void return_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace app
