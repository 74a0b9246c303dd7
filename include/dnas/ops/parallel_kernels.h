#pragma once
// How many threads dnas's own kernels run on.

namespace dnas::ops {

// The distinct threads that one at::parallel_for over at::get_num_threads() items, split as the
// kernels split their rows, ran on.
int parallel_kernel_threads();

}  // namespace dnas::ops
