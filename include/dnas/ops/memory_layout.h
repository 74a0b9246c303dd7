#pragma once
// Channels-last (NHWC) layout of a network's weights.
#include <torch/nn/module.h>

namespace dnas::ops {

// Every 4-D parameter of `module` (conv weights) in channels-last memory, values unchanged.
void weights_to_channels_last(torch::nn::Module& module);

}  // namespace dnas::ops
