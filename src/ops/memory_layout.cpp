#include "dnas/ops/memory_layout.h"

#include <torch/torch.h>

namespace dnas::ops {

void weights_to_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace dnas::ops
