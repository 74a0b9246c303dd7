#include "dnas/supernet/search_cell.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/ops/op_factory.h"

namespace dnas::supernet {

SearchCellImpl::SearchCellImpl(int64_t steps, int64_t c_prev_prev, int64_t c_prev, int64_t channels, bool reduction,
                               bool reduction_prev, const std::vector<std::string>& op_names)
    : steps_(steps), channels_(channels), reduction_(reduction) {
  preprocess0_ = reduction_prev ? ops::make_factorized_reduce(c_prev_prev, channels, false)
                                : ops::make_relu_conv_bn(c_prev_prev, channels, 1, false);
  preprocess1_ = ops::make_relu_conv_bn(c_prev, channels, 1, false);
  register_module("preprocess0", preprocess0_);
  register_module("preprocess1", preprocess1_);
  edges_list_ = register_module("_ops", torch::nn::ModuleList());
  for (int64_t s = 2; s < steps + 2; ++s) {
    for (int64_t j = 0; j < s; ++j) {
      const int64_t stride = reduction && j < 2 ? 2 : 1;
      edges_.emplace_back(op_names, channels, stride);
      edges_list_->push_back(edges_.back());
    }
  }
}

torch::Tensor SearchCellImpl::forward(const torch::Tensor& s0, const torch::Tensor& s1, const CellMix& mix) {
  const int64_t E = static_cast<int64_t>(edges_.size());
  TORCH_CHECK(mix.weights.dim() == 2 && mix.weights.size(0) == E, "CellMix weights must be [", E, ", O], got ",
              mix.weights.sizes());
  const int64_t O = mix.weights.size(1);
  TORCH_CHECK(mix.modes.empty() || static_cast<int64_t>(mix.modes.size()) == E * O,
              "CellMix modes must have E*O entries");
  // Per-edge scale folded into the [E, O] weights: one small op instead of E big ones.
  auto weights = mix.edge_scale.defined() ? mix.weights * mix.edge_scale.unsqueeze(1) : mix.weights;
  auto rows = weights.unbind(0);  // E tensors [O]

  std::vector<torch::Tensor> states{preprocess0_->forward(s0), preprocess1_->forward(s1)};
  const int64_t stride = reduction_ ? 2 : 1;
  for (int64_t s = 2; s < steps_ + 2; ++s) {
    torch::Tensor node;
    for (int64_t j = 0; j < s; ++j) {
      const int64_t e = genotype::edge_index(s, j);
      const OpMode* modes = mix.modes.empty() ? nullptr : mix.modes.data() + e * O;
      auto term = edges_[e]->forward(states[j], rows[e].unbind(0), modes, mix.skip_dropout);
      if (!term.defined()) continue;
      if (node.defined())
        node.add_(term);  // node starts as an edge output this cell owns: safe to accumulate into
      else
        node = term;
    }
    if (!node.defined()) {  // every incoming op skipped: the node is zero
      const auto& ref = states[1];
      node = torch::zeros(
          {ref.size(0), channels_, (ref.size(2) + stride - 1) / stride, (ref.size(3) + stride - 1) / stride},
          ref.options());
    }
    states.push_back(node);
  }
  return torch::cat(std::vector<torch::Tensor>(states.begin() + 2, states.end()), /*dim=*/1);
}

int64_t SearchCellImpl::evaluations() const {
  int64_t total = 0;
  for (const auto& e : edges_) total += e->evaluations();
  return total;
}

}  // namespace dnas::supernet
