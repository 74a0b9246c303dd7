#include "dnas/core/blas_threads.h"

#include <dlfcn.h>

namespace dnas::core {

bool single_threaded_pthread_blas() {
  // Looked up at run time: libtorch may be linked against another BLAS, or none.
  using GetParallel = int (*)();
  using SetThreads = void (*)(int);
  auto* get_parallel = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  auto* set_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  constexpr int kPthreads = 1;  // openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP
  if (!get_parallel || !set_threads || get_parallel() != kPthreads) return false;
  set_threads(1);
  return true;
}

}  // namespace dnas::core
