#pragma once
// A search cell (docs/methods.md 1.3): two preprocessed inputs, `steps` intermediate nodes, each
// the sum of MixedOps over all earlier states; output = concat of the intermediates.
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <string>
#include <vector>

#include "dnas/ops/operations.h"
#include "dnas/supernet/cell_mix.h"
#include "dnas/supernet/mixed_op.h"

namespace dnas::supernet {

class SearchCellImpl : public torch::nn::Module {
 public:
  SearchCellImpl(int64_t steps, int64_t c_prev_prev, int64_t c_prev, int64_t channels, bool reduction,
                 bool reduction_prev, const std::vector<std::string>& op_names);

  // s0 [N, C_pp, H0, W0], s1 [N, C_p, H, W] -> [N, steps*C, H/r, W/r] (r = 2 if reduction).
  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, const CellMix& mix);

  bool reduction() const { return reduction_; }
  int64_t evaluations() const;  // op evaluations so far, summed over edges

 private:
  int64_t steps_, channels_;
  bool reduction_;
  ops::CandidateOpPtr preprocess0_, preprocess1_;
  std::vector<MixedOp> edges_;
  torch::nn::ModuleList edges_list_{nullptr};  // registered as "_ops"
};
TORCH_MODULE(SearchCell);

}  // namespace dnas::supernet
