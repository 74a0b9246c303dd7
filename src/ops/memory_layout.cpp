#include "dnas/ops/memory_layout.h"

#include <torch/torch.h>

namespace dnas::ops {

void weights_to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

torch::Tensor to_channels_last(const torch::Tensor& x) {
  auto y = x.contiguous(torch::MemoryFormat::ChannelsLast);
  if (y.dim() != 4 || y.size(1) != 1) return y;
  // One channel: memory [N, H, W] either way; only the channel stride differs.
  return y.as_strided(y.sizes(), {y.size(2) * y.size(3), 1, y.size(3), 1}, y.storage_offset());
}

}  // namespace dnas::ops
