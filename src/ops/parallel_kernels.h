#pragma once
// dnas's own kernels split their rows with at::parallel_for. With an OpenMP build of libtorch
// that function is inline and runs serially in a file compiled without OpenMP, so the kernel
// files are compiled with it (src/CMakeLists.txt) and refuse to build otherwise.
#include <ATen/Parallel.h>

#if AT_PARALLEL_OPENMP && !defined(_OPENMP)
#error "compile the dnas kernel files with OpenMP: at::parallel_for runs serially without it"
#endif
