#include "dnas/search/gdas.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"

namespace dnas::search {

GumbelDraw gumbel_straight_through(const torch::Tensor& alpha, double tau) {
  // g = -log(E), E ~ Exp(1), is Gumbel(0, 1) and never hits log(0).
  auto gumbel = -torch::empty_like(alpha).exponential_().log();                 // [E, O]
  auto h = torch::softmax((torch::log_softmax(alpha, -1) + gumbel) / tau, -1);  // [E, O]
  auto index = h.detach().argmax(-1);                                           // [E]
  auto onehot = torch::zeros_like(h).scatter_(1, index.unsqueeze(1), 1.0);      // [E, O]
  return {onehot - h.detach() + h, index};
}

double gdas_tau(int64_t epoch, int64_t epochs, double tau_max, double tau_min) {
  if (epochs <= 1) return tau_max;
  const double f = static_cast<double>(epoch) / static_cast<double>(epochs - 1);
  return (1.0 - f) * tau_max + f * tau_min;  // exact at both ends
}

GdasStrategy::GdasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const GdasConfig& gdas)
    : net_(net),
      gdas_(gdas),
      derive_(parse_gdas_derive(gdas.derive)),
      arch_(genotype::num_edges(net.steps), static_cast<int64_t>(net.normal_ops.size()),
            static_cast<int64_t>(net.reduce_ops.size()), optim, net.device),
      tau_(gdas.tau_max) {}

void GdasStrategy::begin_epoch(const EpochInfo& info) {
  tau_ = gdas_tau(info.epoch, info.epochs, gdas_.tau_max, gdas_.tau_min);
}

supernet::ArchMix GdasStrategy::sample_mix(bool detach) const {
  auto cell = [&](const torch::Tensor& alpha) {
    auto draw = gumbel_straight_through(detach ? alpha.detach() : alpha, tau_);
    return supernet::CellMix{draw.hard, supernet::argmax_modes(draw.hard), {}};
  };
  return {cell(arch_.alpha_normal), cell(arch_.alpha_reduce)};
}

StepResult GdasStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  const auto& train = b.train;
  const auto& val = b.val;
  StepResult result;
  result.train = w.step(train, sample_mix(/*detach=*/true));
  auto logits = w.net->forward(val.x, sample_mix(/*detach=*/false));
  auto loss = torch::cross_entropy_loss(logits, val.y);
  result.val = batch_stats(logits, val.y, loss.item<double>());
  // A draw can leave one cell type off every path to the loss (e.g. normal cells whose edges from
  // the previous cell all drew `none`, with the reduction cells only there): its gradient is then
  // undefined and Adam skips it, as PyTorch's optimizers skip a parameter without .grad.
  auto grads =
      torch::autograd::grad({loss}, arch_.list(), {}, c10::nullopt, /*create_graph=*/false, /*allow_unused=*/true);
  w.average(grads);
  arch_.optimizer->zero_grad();
  arch_.alpha_normal.mutable_grad() = grads[0];
  arch_.alpha_reduce.mutable_grad() = grads[1];
  arch_.optimizer->step();
  return result;
}

supernet::ArchMix GdasStrategy::inference_mix() const {
  // The strongest op of every edge, `none` excluded as in the derivation.
  auto cell = [](const torch::Tensor& alpha, const std::vector<std::string>& ops) {
    auto a = alpha.detach().clone();  // [E, O]
    for (size_t o = 0; o < ops.size(); ++o)
      if (ops[o] == "none" && ops.size() > 1) a.select(1, static_cast<int64_t>(o)).fill_(-INFINITY);
    auto onehot = torch::zeros_like(a).scatter_(1, a.argmax(-1, true), 1.0);  // [E, O]
    return supernet::CellMix{onehot, supernet::argmax_modes(onehot), {}};
  };
  return {cell(arch_.alpha_normal, net_.normal_ops), cell(arch_.alpha_reduce, net_.reduce_ops)};
}

genotype::CellGenotype derive_autodl(const torch::Tensor& weights, const std::vector<std::string>& ops, int steps) {
  auto w = weights.detach().to(torch::kCPU, torch::kDouble).contiguous();
  auto acc = w.accessor<double, 2>();
  genotype::CellGenotype cell;
  for (int s = 2; s < steps + 2; ++s) {
    struct Pair {
      double weight;
      int src;
      int op;
    };
    std::vector<Pair> pairs;
    for (int j = 0; j < s; ++j)
      for (int o = 0; o < static_cast<int>(ops.size()); ++o)
        if (ops[o] != "none") pairs.push_back({acc[genotype::edge_index(s, j)][o], j, o});
    std::stable_sort(pairs.begin(), pairs.end(), [](const Pair& a, const Pair& b) { return a.weight > b.weight; });
    std::vector<genotype::Gene> genes;
    for (size_t i = 0; i < std::min<size_t>(2, pairs.size()); ++i) genes.push_back({ops[pairs[i].op], pairs[i].src});
    cell.nodes.push_back(genes);
  }
  for (int s = 2; s < steps + 2; ++s) cell.concat.push_back(s);
  return cell;
}

genotype::Genotype GdasStrategy::derive() const {
  torch::NoGradGuard no_grad;
  auto pn = torch::softmax(arch_.alpha_normal, -1), pr = torch::softmax(arch_.alpha_reduce, -1);
  if (derive_ == GdasDerive::Autodl)
    return {derive_autodl(pn, net_.normal_ops, net_.steps), derive_autodl(pr, net_.reduce_ops, net_.steps)};
  return {genotype::derive_darts(pn, net_.normal_ops, net_.steps),
          genotype::derive_darts(pr, net_.reduce_ops, net_.steps)};
}

std::vector<NamedTensor> GdasStrategy::arch_tensors() const {
  return {{"alpha_normal", arch_.alpha_normal.detach()}, {"alpha_reduce", arch_.alpha_reduce.detach()}};
}

std::vector<NamedTensor> GdasStrategy::state() {
  std::vector<NamedTensor> out;
  arch_.append_state(out);
  return out;
}

}  // namespace dnas::search
