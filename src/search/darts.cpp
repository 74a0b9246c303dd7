#include "dnas/search/darts.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"
#include "dnas/ops/precision.h"
#include "dnas/search/hypergradient.h"

namespace dnas::search {
namespace {

torch::Tensor cross_entropy(WeightTrainer& w, const TensorBatch& b, const supernet::ArchMix& mix, BatchStats* stats) {
  auto logits = w.net->forward(b.x, mix);  // [B, K]
  auto loss = torch::cross_entropy_loss(logits, b.y);
  if (stats) *stats = batch_stats(logits, b.y, loss.item<double>());
  return loss;
}

}  // namespace

DartsStrategy::DartsStrategy(int order, const supernet::SupernetConfig& net, const OptimConfig& optim)
    : order_(order),
      hessian_radius_(optim.hessian_radius),
      output_edges_(parse_derive_edges(optim.derive_edges) == DeriveEdges::Output),
      net_(net),
      arch_(genotype::num_edges(net.steps), static_cast<int64_t>(net.normal_ops.size()),
            static_cast<int64_t>(net.reduce_ops.size()), optim, net.device) {}

supernet::ArchMix DartsStrategy::mix(bool detach) const {
  auto n = detach ? arch_.alpha_normal.detach() : arch_.alpha_normal;
  auto r = detach ? arch_.alpha_reduce.detach() : arch_.alpha_reduce;
  return {supernet::soft_mix(torch::softmax(n, -1)), supernet::soft_mix(torch::softmax(r, -1))};
}

supernet::ArchMix DartsStrategy::inference_mix() const { return mix(/*detach=*/true); }

std::vector<torch::Tensor> DartsStrategy::first_order_gradient(WeightTrainer& w, const TensorBatch& val,
                                                               BatchStats* stats) {
  return gradients_or_zeros(cross_entropy(w, val, mix(false), stats), arch_.list());
}

std::vector<torch::Tensor> DartsStrategy::second_order_gradient(WeightTrainer& w, const TensorBatch& train,
                                                                const TensorBatch& val, BatchStats* stats) {
  const double mu = w.options().momentum, wd = w.options().weight_decay;
  UnrolledProblem problem;
  problem.weights = w.net->parameters();
  problem.arch = arch_.list();
  problem.xi = w.lr();
  problem.hessian_radius = hessian_radius_;
  problem.form = FiniteDifferenceForm::Cnn;
  problem.step_loss = [&] { return cross_entropy(w, train, mix(true), nullptr); };
  problem.val_loss = [&] { return cross_entropy(w, val, mix(false), stats); };
  // The finite-difference Hessian term amplifies rounding by 1 / eps: bf16 activations there
  // give a 76% error on the tiny test net, float32 2e-6 (bf16_hypergradient_test.cpp).
  problem.train_loss = [&] {
    ops::FullPrecisionScope full_precision;
    return cross_entropy(w, train, mix(false), nullptr);
  };
  // w' = w - xi (mu m + grad L_train(w) + wd w), with the momentum buffer m as in the reference
  problem.virtual_step = [&](const std::vector<torch::Tensor>& g) {
    const auto momentum = w.momentum_buffers();
    const auto& params = problem.weights;
    for (size_t i = 0; i < params.size(); ++i) params[i].sub_(problem.xi * (mu * momentum[i] + g[i] + wd * params[i]));
  };
  problem.average = [&](const std::vector<torch::Tensor>& grads) { w.average(grads); };
  return unrolled_hypergradient(problem);
}

StepResult DartsStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  const auto& train = b.train;
  const auto& val = b.val;
  StepResult result;
  auto grads =
      order_ == 2 ? second_order_gradient(w, train, val, &result.val) : first_order_gradient(w, val, &result.val);
  if (order_ == 1) w.average(grads);  // the second-order gradient is averaged term by term
  arch_.optimizer->zero_grad();
  arch_.alpha_normal.mutable_grad() = grads[0];
  arch_.alpha_reduce.mutable_grad() = grads[1];
  arch_.optimizer->step();
  result.train = w.step(train, mix(/*detach=*/true));
  return result;
}

genotype::Genotype DartsStrategy::derive() const {
  torch::NoGradGuard no_grad;
  genotype::Genotype g;
  auto cell = [&](const torch::Tensor& alpha, const std::vector<std::string>& ops) {
    if (!output_edges_) return genotype::derive_darts(torch::softmax(alpha, -1), ops, net_.steps);
    std::vector<double> strength;
    std::vector<std::string> op;
    genotype::strongest_ops(torch::softmax(alpha, -1), ops, static_cast<int>(net_.steps), strength, op);
    return genotype::derive_output_edges(strength, op, static_cast<int>(net_.steps));
  };
  g.normal = cell(arch_.alpha_normal, net_.normal_ops);
  g.reduce = cell(arch_.alpha_reduce, net_.reduce_ops);
  return g;
}

std::vector<NamedTensor> DartsStrategy::arch_tensors() const {
  return {{"alpha_normal", arch_.alpha_normal.detach()}, {"alpha_reduce", arch_.alpha_reduce.detach()}};
}

std::vector<NamedTensor> DartsStrategy::state() {
  std::vector<NamedTensor> out;
  arch_.append_state(out);
  return out;
}

void DartsStrategy::load_state(const std::vector<NamedTensor>& state) { arch_.load_state(state); }

}  // namespace dnas::search
