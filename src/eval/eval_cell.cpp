#include "dnas/eval/eval_cell.h"

#include <torch/torch.h>

#include "dnas/core/error.h"
#include "dnas/eval/drop_path.h"
#include "dnas/ops/op_factory.h"
#include "dnas/ops/op_names.h"
#include "dnas/ops/scaled_sum.h"

namespace dnas::eval {

EvalCellImpl::EvalCellImpl(const genotype::CellGenotype& cell, int64_t c_pp, int64_t c_p, int64_t c, bool reduction,
                           bool reduction_prev)
    : cell_(cell), reduction_(reduction) {
  genotype::validate_cell(cell_, reduction ? "reduce cell" : "normal cell");
  preprocess0 = reduction_prev ? ops::make_factorized_reduce(c_pp, c, /*affine=*/true)
                               : ops::make_relu_conv_bn(c_pp, c, 1, /*affine=*/true);
  preprocess1 = ops::make_relu_conv_bn(c_p, c, 1, /*affine=*/true);
  register_module("preprocess0", preprocess0);
  register_module("preprocess1", preprocess1);
  ops_list_ = register_module("_ops", torch::nn::ModuleList());
  const ops::OpOptions eval_ops{/*affine=*/true, /*pool_bn=*/false};
  for (size_t m = 0; m < cell_.nodes.size(); ++m) {
    for (const auto& gene : cell_.nodes[m]) {
      const int64_t stride = reduction && gene.src < 2 ? 2 : 1;
      ops_.push_back(ops::make_op(gene.op, c, stride, eval_ops));
      ops_list_->push_back(ops_.back());
      is_identity_.push_back(gene.op == "skip_connect" && stride == 1);
    }
  }
  // A node without genes has no value: nothing may read it.
  for (size_t m = 0; m < cell_.nodes.size(); ++m) {
    if (!cell_.nodes[m].empty()) continue;
    const int state = static_cast<int>(m) + 2;
    for (int s : cell_.concat)
      if (s == state)
        fail("node " + std::to_string(state) + " has no inputs but is in concat", genotype::to_string(cell_),
             "drop the node from concat or give it inputs");
    for (const auto& node : cell_.nodes)
      for (const auto& g : node)
        if (g.src == state)
          fail("node " + std::to_string(state) + " has no inputs but feeds another node", genotype::to_string(cell_),
               "give the node inputs or remove its outgoing genes");
  }
}

torch::Tensor EvalCellImpl::forward(const torch::Tensor& s0, const torch::Tensor& s1, double drop_prob) {
  return run_nodes({preprocess0->forward(s0), preprocess1->forward(s1)}, drop_prob);
}

torch::Tensor EvalCellImpl::forward_activated(const torch::Tensor& relu_s0, const torch::Tensor& relu_s1,
                                              double drop_prob) {
  return run_nodes({preprocess0->forward_activated(relu_s0), preprocess1->forward_activated(relu_s1)}, drop_prob);
}

torch::Tensor EvalCellImpl::run_nodes(std::vector<torch::Tensor> states, double drop_prob) {
  size_t k = 0;
  for (const auto& node : cell_.nodes) {
    std::vector<torch::Tensor> terms, factors;
    for (const auto& gene : node) {
      terms.push_back(ops_[k]->forward(states[static_cast<size_t>(gene.src)]));
      factors.push_back(is_identity_[k] ? torch::Tensor() : drop_path_factors(terms.back(), drop_prob));
      ++k;
    }
    // Undefined for a node without genes (never read).
    states.push_back(terms.empty() ? torch::Tensor() : ops::scaled_sum(terms, factors));
  }
  std::vector<torch::Tensor> out;
  for (int s : cell_.concat) out.push_back(states[static_cast<size_t>(s)]);
  return torch::cat(out, /*dim=*/1);
}

}  // namespace dnas::eval
