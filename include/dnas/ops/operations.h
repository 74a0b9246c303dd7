#pragma once
// Candidate operations of docs/methods.md 1.2. Every op maps [N, C, H, W] to [N, C, H/s, W/s].
// Submodule names follow the reference DARTS module tree (e.g. "op.1.weight") so state
// dicts line up with PyTorch checkpoints.
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <string>
#include <vector>

#include "dnas/ops/depthwise_conv.h"

namespace dnas::ops {

// Base of every candidate op. A MixedOp computes ReLU(x) once per edge and hands it to the
// ops that begin with a ReLU through forward_activated.
class CandidateOpImpl : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  // Same result as forward(x) given relu_x = ReLU(x); only valid when starts_with_relu().
  virtual torch::Tensor forward_activated(const torch::Tensor& relu_x) { return forward(relu_x); }
  virtual bool starts_with_relu() const { return false; }
};
using CandidateOpPtr = std::shared_ptr<CandidateOpImpl>;

// `none`: zeros of the output shape (a MixedOp never evaluates it).
class ZeroOpImpl : public CandidateOpImpl {
 public:
  explicit ZeroOpImpl(int64_t stride) : stride_(stride) {}
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  int64_t stride_;
};

class IdentityOpImpl : public CandidateOpImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
};

// ReLU, then two stride-2 1x1 convs (the second on a one-pixel shifted input) concatenated
// to c_out channels, then BN. Odd inputs get one zero row/column so both halves align.
class FactorizedReduceImpl : public CandidateOpImpl {
 public:
  FactorizedReduceImpl(int64_t c_in, int64_t c_out, bool affine);
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward_activated(const torch::Tensor& relu_x) override;
  bool starts_with_relu() const override { return true; }

 private:
  torch::Tensor reduce(const torch::Tensor& x, bool relu);
  torch::nn::Conv2d conv_1{nullptr}, conv_2{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
};

// max/avg pooling; in the search network followed by BN(affine=false) (child "1").
class PoolOpImpl : public CandidateOpImpl {
 public:
  enum class Kind { Max, Avg };
  PoolOpImpl(Kind kind, int64_t kernel, int64_t stride, int64_t channels, bool with_bn);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  Kind kind_;
  int64_t kernel_, stride_;
  torch::nn::BatchNorm2d bn{nullptr};
};

// A fixed chain of ReLU / conv / depthwise conv / BN layers held in a Sequential named "op":
// sep_conv, dil_conv, conv_kxk (ReLUConvBN) and conv_kx1_1xk are all such chains.
class ConvChainImpl : public CandidateOpImpl {
 public:
  struct Layer {
    enum class Kind { Relu, Conv, Depthwise, Norm } kind;
    torch::nn::Conv2d conv{nullptr};
    bool pointwise = false;  // conv is 1x1, stride 1, unpadded, bias-free: runs as ops::conv1x1
    DepthwiseConv2d depthwise{nullptr};
    torch::nn::BatchNorm2d norm{nullptr};
  };
  explicit ConvChainImpl(std::vector<Layer> layers);
  torch::Tensor forward(const torch::Tensor& x) override;
  torch::Tensor forward_activated(const torch::Tensor& relu_x) override;
  bool starts_with_relu() const override;

 private:
  torch::Tensor run_from(size_t first, torch::Tensor x);
  std::vector<Layer> layers_;
  torch::nn::Sequential op{nullptr};
};

}  // namespace dnas::ops
