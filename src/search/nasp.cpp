#include "dnas/search/nasp.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"
#include "dnas/ops/op_factory.h"
#include "dnas/search/arch_parameters.h"

namespace dnas::search {
namespace {

const char* kCellName[] = {"normal", "reduce"};

// Modes from a discrete architecture: entries with a non-zero weight `selected`, the others `rest`.
std::vector<supernet::OpMode> discrete_modes(const torch::Tensor& a, supernet::OpMode selected, supernet::OpMode rest) {
  auto nz = a.detach().ne(0).to(torch::kCPU).contiguous();
  const bool* p = nz.data_ptr<bool>();
  std::vector<supernet::OpMode> modes(static_cast<size_t>(nz.numel()));
  for (size_t i = 0; i < modes.size(); ++i) modes[i] = p[i] ? selected : rest;
  return modes;
}

}  // namespace

torch::Tensor keep_top2_edges(const torch::Tensor& discrete, const torch::Tensor& alpha, int steps) {
  std::vector<std::vector<int64_t>> node_edges;  // node s = 2 .. steps + 1 has inputs j < s
  for (int s = 2; s < steps + 2; ++s) {
    node_edges.emplace_back();
    for (int j = 0; j < s; ++j) node_edges.back().push_back(genotype::edge_index(s, j));
  }
  return keep_strongest_edges(discrete, alpha, node_edges, 2);
}

torch::Tensor nasp_complexity(const torch::Tensor& a, const std::vector<std::string>& ops) {
  std::vector<double> p;
  double total = 0;
  for (const auto& op : ops) {
    p.push_back(static_cast<double>(ops::conv_weight_count(op, 12)));
    total += p.back();
  }
  if (total == 0) return torch::zeros({}, a.options());  // e.g. a pooling-only reduction cell
  auto weight = torch::tensor(p, a.options()) / total;   // [O]
  return (a.pow(2).sum(0) * weight).sum();
}

NaspStrategy::NaspStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const NaspConfig& nasp)
    : net_(net),
      cfg_(nasp),
      variant_(parse_nasp_variant(nasp.variant)),
      derive_(parse_nasp_derive(nasp.derive)),
      keeps_alpha_values_(variant_ == NaspVariant::Standard ||
                          parse_nasp_discrete_value(nasp.discrete_value) == NaspDiscreteValue::Alpha) {
  const int64_t edges = genotype::num_edges(net.steps);
  for (const auto* ops : {&net.normal_ops, &net.reduce_ops})
    alphas_.push_back(torch::full({edges, static_cast<int64_t>(ops->size())}, 0.5, net.device).requires_grad_());
  optimizer_ = make_arch_optimizer(alphas_, optim);
}

torch::Tensor NaspStrategy::discrete(int cell) const {
  torch::NoGradGuard no_grad;
  auto alpha = alphas_[static_cast<size_t>(cell)].detach();
  if (cfg_.greedy > 0 && torch::rand({1}).item<double>() < cfg_.greedy)
    alpha = torch::rand_like(alpha);  // exploration: uniformly random ops
  auto a = prox_disc(alpha, keeps_alpha_values_);
  return cfg_.edge_top2 ? keep_top2_edges(a, alpha, static_cast<int>(net_.steps)) : a;
}

NaspStrategy::ArchGradient NaspStrategy::architecture_gradient(supernet::Supernet& net, const TensorBatch& val,
                                                               BatchStats& stats) const {
  // Every op runs (so dL/dA exists everywhere), only the selected ones with autograd into
  // their weights.
  std::vector<torch::Tensor> a = {discrete(0).requires_grad_(), discrete(1).requires_grad_()};
  supernet::ArchMix mix{{a[0], discrete_modes(a[0], supernet::OpMode::On, supernet::OpMode::NoGrad), {}},
                        {a[1], discrete_modes(a[1], supernet::OpMode::On, supernet::OpMode::NoGrad), {}}};
  auto logits = net->forward(val.x, mix);
  auto loss = torch::cross_entropy_loss(logits, val.y);
  stats = batch_stats(logits, val.y, loss.item<double>());
  if (cfg_.eta > 0)
    loss = loss + cfg_.eta * (nasp_complexity(a[0], net_.normal_ops) + nasp_complexity(a[1], net_.reduce_ops));
  // Unselected ops carry weight 0, so no gradient flows through them to their inputs and the
  // no-autograd evaluation is exact; a cell whose every later path is `none` gets gradient 0.
  auto grads = torch::autograd::grad({loss}, a, {}, c10::nullopt, /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t c = 0; c < 2; ++c)
    if (!grads[c].defined()) grads[c] = torch::zeros_like(a[c]);
  return {a, grads};
}

void NaspStrategy::arch_update(const std::vector<torch::Tensor>& grads) {
  optimizer_->zero_grad();
  for (size_t c = 0; c < 2; ++c) alphas_[c].mutable_grad() = grads[c];
  optimizer_->step();
  for (const auto& alpha : alphas_) proximal_step(alpha, variant_);
}

StepResult NaspStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  StepResult result;
  auto [a, grads] = architecture_gradient(w.net, b.val, result.val);
  w.average(grads);
  arch_update(grads);
  // Weight step on the new discrete architecture: only the selected ops run.
  std::vector<supernet::CellMix> cells;
  for (int c = 0; c < 2; ++c) {
    auto d = discrete(c);
    cells.push_back({d, discrete_modes(d, supernet::OpMode::On, supernet::OpMode::Off), {}});
  }
  result.train = w.step(b.train, {cells[0], cells[1]});
  return result;
}

supernet::ArchMix NaspStrategy::inference_mix() const {
  std::vector<supernet::CellMix> cells;
  for (int c = 0; c < 2; ++c) {
    auto d = prox_disc(alphas_[static_cast<size_t>(c)].detach(), keeps_alpha_values_);
    if (cfg_.edge_top2) d = keep_top2_edges(d, alphas_[static_cast<size_t>(c)].detach(), static_cast<int>(net_.steps));
    cells.push_back({d, discrete_modes(d, supernet::OpMode::On, supernet::OpMode::Off), {}});
  }
  return {cells[0], cells[1]};
}

genotype::Genotype NaspStrategy::derive() const {
  torch::NoGradGuard no_grad;
  const std::vector<const std::vector<std::string>*> ops = {&net_.normal_ops, &net_.reduce_ops};
  std::vector<genotype::CellGenotype> cells;
  for (size_t c = 0; c < 2; ++c) {
    auto alpha = alphas_[c].detach();
    if (derive_ == NaspDerive::Softmax) {
      cells.push_back(genotype::derive_darts(torch::softmax(alpha, -1), *ops[c], static_cast<int>(net_.steps)));
      continue;
    }
    // The discrete architecture: one op per edge, the two edges with the largest selected alpha.
    auto index = alpha.argmax(-1);
    std::vector<double> strength;
    std::vector<std::string> op;
    for (int64_t e = 0; e < alpha.size(0); ++e) {
      const auto o = index[e].item<int64_t>();
      strength.push_back(alpha[e][o].item<double>());
      op.push_back((*ops[c])[static_cast<size_t>(o)]);
    }
    cells.push_back(genotype::derive_top_k(strength, op, static_cast<int>(net_.steps)));
  }
  return {cells[0], cells[1]};
}

std::vector<NamedTensor> NaspStrategy::arch_tensors() const {
  std::vector<NamedTensor> out;
  for (size_t c = 0; c < 2; ++c) out.emplace_back(std::string("alpha_") + kCellName[c], alphas_[c].detach().clone());
  auto mix = inference_mix();
  out.emplace_back("discrete_normal", mix.normal.weights);
  out.emplace_back("discrete_reduce", mix.reduce.weights);
  return out;
}

std::vector<NamedTensor> NaspStrategy::state() {
  std::vector<NamedTensor> out;
  for (size_t c = 0; c < 2; ++c) out.emplace_back(std::string("alpha_") + kCellName[c], alphas_[c].detach().clone());
  append_adam_state(out, "adam", *optimizer_);
  return out;
}

void NaspStrategy::load_state(const std::vector<NamedTensor>& state) {
  for (size_t c = 0; c < 2; ++c) restore_state(state, std::string("alpha_") + kCellName[c], alphas_[c]);
  load_adam_state(*optimizer_, "adam", state);
}

}  // namespace dnas::search
