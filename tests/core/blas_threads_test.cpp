#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/core/blas_threads.h"

namespace {

template <class F>
F lookup(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

TEST(BlasThreads, PthreadOpenBlasRunsOnTheCallingThreadOnly) {
  auto* get_parallel = lookup<int (*)()>("openblas_get_parallel");
  auto* get_threads = lookup<int (*)()>("openblas_get_num_threads");
  const bool changed = dnas::core::single_threaded_pthread_blas();
  if (!get_parallel || !get_threads) {
    EXPECT_FALSE(changed) << "no OpenBLAS is loaded, so there is nothing to change";
    return;
  }
  EXPECT_EQ(changed, get_parallel() == 1);  // only the pthread build is changed
  if (changed) {
    EXPECT_EQ(get_threads(), 1);
  }
  // BLAS still computes: a matrix product through libtorch's BLAS path.
  auto a = torch::arange(6, torch::kFloat32).view({2, 3});
  EXPECT_FLOAT_EQ(a.mm(a.t())[1][1].item<float>(), 9.f + 16.f + 25.f);
}
