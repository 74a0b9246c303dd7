#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

#include "dnas/core/allocator.h"

namespace {

long minor_faults() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return r.ru_minflt;
}

// Allocates, writes every page of and frees `bytes`; returns the page faults that took.
long faults_of_one_use(size_t bytes) {
  const long before = minor_faults();
  auto* p = static_cast<char*>(std::malloc(bytes));
  std::memset(p, 1, bytes);
  __asm__ volatile("" : : "r"(p) : "memory");  // keep the writes
  std::free(p);
  return minor_faults() - before;
}

}  // namespace

#if defined(__GLIBC__)
TEST(Allocator, FreedLargeBlocksAreReusedWithoutPageFaults) {
  ASSERT_TRUE(dnas::core::keep_freed_memory());
  const size_t bytes = 64u << 20;  // 16,384 pages; glibc would mmap and unmap it each time
  faults_of_one_use(bytes);        // the first use may grow the heap
  const long again = faults_of_one_use(bytes);
  EXPECT_LT(again, 100) << "a reused 64 MiB block should not fault its 16,384 pages in again";
}
#endif
