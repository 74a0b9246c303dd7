#pragma once
// BatchNorm2d, optionally followed by ReLU, with direct kernels for channels-last CPU float
// tensors (libtorch 1.13's channels-last batch norm is 2x slower than its NCHW one at 36
// channels). Every other tensor goes through torch::batch_norm. The module keeps torch's
// parameters and buffers, so state dicts are unchanged.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/types.h>

namespace dnas::ops {

// bn.forward(x) (training: batch statistics and running-stat update; eval: running stats),
// then ReLU when `relu` is set. The backward recomputes the normalised input from x.
torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, bool relu = false);

// seq->forward(x) from layer `first` on, with every BatchNorm2d through batch_norm, fused with
// a ReLU right after it.
torch::Tensor forward_sequential(torch::nn::Sequential& seq, torch::Tensor x, size_t first = 0);

// True when x takes the direct kernels: CPU float32 or bfloat16, 4-d and channels-last contiguous.
bool channels_last_kernel(const torch::Tensor& x);

}  // namespace dnas::ops
