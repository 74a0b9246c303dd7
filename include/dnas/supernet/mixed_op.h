#pragma once
// One edge of a search cell: every candidate op, mixed as the CellMix says.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <string>
#include <vector>

#include "dnas/ops/operations.h"
#include "dnas/supernet/cell_mix.h"

namespace dnas::supernet {

class MixedOpImpl : public torch::nn::Module {
 public:
  MixedOpImpl(const std::vector<std::string>& op_names, int64_t channels, int64_t stride);

  // x [N, C, H, W]; weights: O scalars (0-dim tensors); modes: O entries.
  // Returns sum over computed ops of weights[o] * op_o(x), [N, C, H/s, W/s], or an undefined
  // tensor when no op is computed. ReLU(x) is computed once for all ops that start with it.
  // skip_dropout: dropout probability on an identity skip_connect's output in training.
  torch::Tensor forward(const torch::Tensor& x, const std::vector<torch::Tensor>& weights, const OpMode* modes,
                        double skip_dropout = 0.0);

  int64_t num_ops() const { return static_cast<int64_t>(ops_.size()); }
  // Number of op evaluations since construction (tests assert skipped ops are not run).
  int64_t evaluations() const { return evaluations_; }

 private:
  std::vector<ops::CandidateOpPtr> ops_;
  std::vector<bool> is_none_, is_identity_;
  torch::nn::ModuleList ops_list_{nullptr};  // registered as "_ops" (reference naming)
  int64_t evaluations_ = 0;
};
TORCH_MODULE(MixedOp);

}  // namespace dnas::supernet
