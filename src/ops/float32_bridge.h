#pragma once
// bf16 activations through dnas's float32 NCHW CPU kernels: measured here, converting at the
// kernel boundary is faster than libtorch's bf16 depthwise-conv backward and NCHW pooling (the
// supernet's layout), and the kernels' sums stay float32. Private to the ops module.
#include <torch/torch.h>

#include "dnas/ops/precision.h"

namespace dnas::ops {

// NCHW bf16 on the CPU. Channels-last bf16 takes the NHWC kernels directly: they read bf16
// activations themselves (activation_values.h).
inline bool nchw_cpu_bf16(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kBFloat16 &&
         x.suggest_memory_format() != torch::MemoryFormat::ChannelsLast;
}

// f(x as float32) with autocast off, converted back to bf16; autograd sees both conversions.
template <class F>
torch::Tensor through_float32(const torch::Tensor& x, F&& f) {
  FullPrecisionScope full_precision;
  return f(x.to(torch::kFloat32)).to(torch::kBFloat16);
}

}  // namespace dnas::ops
