#include "dnas/search/sc.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"

namespace dnas::search {
namespace {

const char* kCellName[] = {"normal", "reduce"};

ScTopologySettings topology_settings(const ScConfig& c) {
  return {parse_sc_variant(c.variant), parse_sc_perspective(c.perspective), c.allow_empty_code,
          parse_sc_orphan(c.orphan)};
}

std::vector<torch::Tensor> grad_or_zero(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs) {
  auto grads = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/c10::nullopt, /*create_graph=*/false,
                                     /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);
  return grads;
}

}  // namespace

ScStrategy::ScStrategy(ScBase base, const supernet::SupernetConfig& net, const OptimConfig& optim, const ScConfig& sc,
                       double milenas_lambda)
    : base_(base),
      net_(net),
      cfg_(sc),
      milenas_lambda_(milenas_lambda),
      separate_(parse_sc_val_split(sc.val_split) == ScValSplit::Separate),
      topology_(static_cast<int>(net.steps), topology_settings(sc)),
      arch_(genotype::num_edges(net.steps), static_cast<int64_t>(net.normal_ops.size()),
            static_cast<int64_t>(net.reduce_ops.size()), optim, net.device) {
  for (int c = 0; c < 2; ++c) {
    std::vector<torch::Tensor> cell;
    for (int64_t size : topology_.logit_sizes())
      cell.push_back((1e-3 * torch::randn({size})).to(net.device).requires_grad_());
    betas_.push_back(cell);
  }
  beta_optimizer_ = make_arch_optimizer(beta_list(), optim);
}

std::vector<torch::Tensor> ScStrategy::beta_list() const {
  std::vector<torch::Tensor> out;
  for (const auto& cell : betas_) out.insert(out.end(), cell.begin(), cell.end());
  return out;
}

supernet::ArchMix ScStrategy::mix(bool detach) const {
  const auto present = topology_.present_edges();
  auto cell = [&](const torch::Tensor& alpha, const std::vector<torch::Tensor>& betas) {
    std::vector<torch::Tensor> b;
    for (const auto& t : betas) b.push_back(detach ? t.detach() : t);
    supernet::CellMix m = supernet::soft_mix(torch::softmax(detach ? alpha.detach() : alpha, -1));
    m.edge_scale = topology_.edge_scales(b);  // [E]
    const auto ops = m.weights.size(1);
    m.modes.assign(static_cast<size_t>(m.weights.numel()), supernet::OpMode::On);
    for (size_t e = 0; e < present.size(); ++e)  // absent edges are never computed
      if (!present[e])
        for (int64_t o = 0; o < ops; ++o)
          m.modes[e * static_cast<size_t>(ops) + static_cast<size_t>(o)] = supernet::OpMode::Off;
    return m;
  };
  return {cell(arch_.alpha_normal, betas_[0]), cell(arch_.alpha_reduce, betas_[1])};
}

torch::Tensor ScStrategy::regularizer() const {
  return topology_.regularizer(betas_[0]) + topology_.regularizer(betas_[1]);
}

std::vector<torch::Tensor> ScStrategy::gradients(WeightTrainer& w, const TensorBatch& b, BatchStats* stats) {
  auto logits = w.net->forward(b.x, mix(/*detach=*/false));
  auto loss = torch::cross_entropy_loss(logits, b.y);
  if (stats) *stats = batch_stats(logits, b.y, loss.item<double>());
  auto inputs = arch_.list();
  const auto betas = beta_list();
  inputs.insert(inputs.end(), betas.begin(), betas.end());
  return grad_or_zero(loss, inputs);
}

StepResult ScStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  StepResult result;
  // g = dL_val (DARTS-SC) or dL_tr + lambda' dL_val (MiLeNAS-SC); beta may use its own split.
  const bool milenas = base_ == ScBase::Milenas;
  std::vector<torch::Tensor> g = milenas ? gradients(w, b.train, nullptr) : std::vector<torch::Tensor>{};
  const double val_weight = milenas ? milenas_lambda_ : 1.0;
  auto add = [&](const std::vector<torch::Tensor>& extra, size_t from, size_t to) {
    if (g.empty()) g.resize(extra.size());
    for (size_t i = from; i < to; ++i) g[i] = g[i].defined() ? g[i] + val_weight * extra[i] : val_weight * extra[i];
  };
  auto g_val = gradients(w, b.val, &result.val);
  if (separate_) {
    add(g_val, 0, 2);  // alphas from D_val_alpha
    add(gradients(w, b.val_beta, nullptr), 2, g_val.size());
  } else {
    add(g_val, 0, g_val.size());
  }
  if (cfg_.lambda > 0) {
    const auto betas = beta_list();
    auto r_grads = grad_or_zero(regularizer(), betas);
    for (size_t i = 0; i < betas.size(); ++i) g[2 + i] = g[2 + i] + cfg_.lambda * r_grads[i];
  }
  w.average(g);
  arch_.optimizer->zero_grad();
  beta_optimizer_->zero_grad();
  arch_.alpha_normal.mutable_grad() = g[0];
  arch_.alpha_reduce.mutable_grad() = g[1];
  auto betas = beta_list();
  for (size_t i = 0; i < betas.size(); ++i) betas[i].mutable_grad() = g[2 + i];
  arch_.optimizer->step();
  beta_optimizer_->step();
  result.train = w.step(b.train, mix(/*detach=*/true));
  return result;
}

genotype::Genotype ScStrategy::derive() const {
  return {topology_.derive(betas_[0], arch_.alpha_normal, net_.normal_ops),
          topology_.derive(betas_[1], arch_.alpha_reduce, net_.reduce_ops)};
}

std::vector<NamedTensor> ScStrategy::arch_tensors() const {
  torch::NoGradGuard no_grad;
  std::vector<NamedTensor> out = {{"alpha_normal", arch_.alpha_normal.detach().clone()},
                                  {"alpha_reduce", arch_.alpha_reduce.detach().clone()}};
  for (int c = 0; c < 2; ++c) {
    const std::string name = kCellName[c];
    out.emplace_back("edge_scale_" + name, topology_.edge_scales(betas_[static_cast<size_t>(c)]));
    for (size_t k = 0; k < topology_.choosers().size(); ++k)
      out.emplace_back("beta_" + name + "_s" + std::to_string(topology_.choosers()[k].state),
                       betas_[static_cast<size_t>(c)][k].detach().clone());
  }
  out.emplace_back("regularizer", regularizer().to(torch::kFloat64));
  return out;
}

std::vector<NamedTensor> ScStrategy::state() {
  std::vector<NamedTensor> out;
  arch_.append_state(out);
  const auto betas = beta_list();
  for (size_t i = 0; i < betas.size(); ++i) out.emplace_back("beta/" + std::to_string(i), betas[i].detach().clone());
  append_adam_state(out, "beta_adam", *beta_optimizer_);
  return out;
}

void ScStrategy::load_state(const std::vector<NamedTensor>& state) {
  arch_.load_state(state);
  const auto betas = beta_list();
  for (size_t i = 0; i < betas.size(); ++i) restore_state(state, "beta/" + std::to_string(i), betas[i]);
  load_adam_state(*beta_optimizer_, "beta_adam", state);
}

}  // namespace dnas::search
