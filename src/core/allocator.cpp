#include "dnas/core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace dnas::core {

bool keep_freed_memory() {
#if defined(__GLIBC__)
  constexpr int kHeapUpTo = 1 << 30;  // bytes; larger blocks still come from mmap
  const bool threshold = mallopt(M_MMAP_THRESHOLD, kHeapUpTo) == 1;
  const bool trim = mallopt(M_TRIM_THRESHOLD, -1) == 1;  // -1: never trim the heap top
  return threshold && trim;
#else
  return false;
#endif
}

}  // namespace dnas::core
