#include "dnas/ops/parallel_kernels.h"

#include "parallel_kernels.h"

#include <mutex>
#include <set>

namespace dnas::ops {

int parallel_kernel_threads() {
  std::mutex mutex;
  std::set<int> threads;
  at::parallel_for(0, at::get_num_threads(), 1, [&](int64_t, int64_t) {
    const std::lock_guard<std::mutex> lock(mutex);
    threads.insert(at::get_thread_num());
  });
  return static_cast<int>(threads.size());
}

}  // namespace dnas::ops
