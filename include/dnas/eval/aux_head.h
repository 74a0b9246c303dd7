#pragma once
// Auxiliary classifier of docs/methods.md 1.8, on the output of cell floor(2L/3) (training only).
// Module names follow the reference (`features.*`, `classifier`).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

namespace dnas::eval {

class AuxHeadImpl : public torch::nn::Module {
 public:
  // imagenet: avgpool stride 2 and no BN after the 768-channel conv (as the reference).
  AuxHeadImpl(int64_t c_in, int64_t classes, bool imagenet);

  // x [N, c_in, H, W] -> [N, classes]. 8x8 (CIFAR) or 7x7 (ImageNet at 224) inputs pool to 2x2
  // with the reference's 5x5 windows; other sizes (e.g. 7x7 from 28x28 images in the CIFAR
  // network) use an adaptive 2x2 average pool, which has no weights, so parameter counts are
  // unchanged.
  torch::Tensor forward(const torch::Tensor& x);
  // The same from ReLU(x) (the head starts with a ReLU).
  torch::Tensor forward_activated(const torch::Tensor& relu_x);

 private:
  torch::nn::Sequential features{nullptr};
  torch::nn::Linear classifier{nullptr};
};
TORCH_MODULE(AuxHead);

}  // namespace dnas::eval
