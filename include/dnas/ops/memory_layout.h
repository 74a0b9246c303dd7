#pragma once
// Channels-last (NHWC) layout of a network's weights.
#include <torch/nn/module.h>
#include <torch/types.h>

namespace dnas::ops {

// Every 4-D parameter of `module` (conv weights) in channels-last memory, values unchanged.
void weights_to_channels_last(torch::nn::Module& module);

// x [N, C, H, W] in channels-last memory, with strides that convolutions read as channels-last.
// A one-channel image batch is contiguous in both layouts and libtorch takes it as NCHW (then
// so is every activation after the stem): it gets NHWC strides explicitly.
torch::Tensor to_channels_last(const torch::Tensor& x);

}  // namespace dnas::ops
