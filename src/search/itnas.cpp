#include "dnas/search/itnas.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"
#include "dnas/search/arch_parameters.h"
#include "dnas/search/gdas.h"

namespace dnas::search {
namespace {

const char* kCellName[] = {"normal", "reduce"};

// Soft annealed Gumbel sample per row: softmax((log softmax(theta) + g) / tau).
torch::Tensor gumbel_softmax(const torch::Tensor& theta, double tau) {
  auto gumbel = -torch::empty_like(theta).exponential_().log();  // Gumbel(0, 1)
  return torch::softmax((torch::log_softmax(theta, -1) + gumbel) / tau, -1);
}

}  // namespace

double itnas_tau(int64_t epoch, int64_t epochs, double tau0, double tau_min) {
  return gdas_tau(epoch, epochs, tau0, tau_min);  // the same linear schedule
}

ItnasStrategy::ItnasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim, const ItnasConfig& itnas)
    : net_(net),
      cfg_(itnas),
      derive_from_(parse_itnas_derive_from(itnas.derive_from)),
      groups_(edge_groups(static_cast<int>(net.steps))),
      tau_(itnas.tau0) {
  for (const auto* ops : {&net.normal_ops, &net.reduce_ops}) {
    const auto o = static_cast<int64_t>(ops->size());
    ItnasCellParameters c;
    const int64_t rows = cfg_.transition ? static_cast<int64_t>(groups_.outer.size()) : genotype::num_edges(net.steps);
    c.theta = (1e-3 * torch::randn({rows, o})).to(net.device).requires_grad_();
    if (cfg_.transition) {
      c.z = (1e-3 * torch::randn({groups_.pairs, o, o})).to(net.device).requires_grad_();
      c.a = (1e-3 * torch::randn({groups_.pairs})).to(net.device).requires_grad_();
    }
    cells_.push_back(c);
  }
  optimizer_ = make_arch_optimizer(parameter_list(), optim);
}

std::vector<torch::Tensor> ItnasStrategy::parameter_list() const {
  std::vector<torch::Tensor> out;
  for (const auto& c : cells_) {
    out.push_back(c.theta);
    if (cfg_.transition) {
      out.push_back(c.z);
      out.push_back(c.a);
    }
  }
  return out;
}

int64_t ItnasStrategy::parameter_count() const {
  int64_t n = 0;
  for (const auto& t : parameter_list()) n += t.numel();
  return n;
}

void ItnasStrategy::begin_epoch(const EpochInfo& info) {
  tau_ = itnas_tau(info.epoch, info.epochs, cfg_.tau0, cfg_.tau_min);
}

torch::Tensor ItnasStrategy::cell_weights(int cell, bool sample) const {
  const auto& c = cells_[static_cast<size_t>(cell)];
  auto probs = torch::softmax(c.theta, -1);
  auto own = sample && cfg_.gumbel ? gumbel_softmax(c.theta, tau_) : probs;  // one sample per pass
  if (!cfg_.transition) return own;                                          // [E, O], every edge independent
  const auto& source = derive_from_ == ItnasDeriveFrom::Probs ? probs : own;
  return transition_weights(groups_, own, source, c.z, c.a);
}

supernet::ArchMix ItnasStrategy::mix(bool sample, bool detach) const {
  auto w = [&](int cell) {
    auto t = cell_weights(cell, sample);
    return supernet::soft_mix(detach ? t.detach() : t);
  };
  return {w(0), w(1)};
}

supernet::ArchMix ItnasStrategy::inference_mix() const {
  torch::NoGradGuard no_grad;
  return mix(/*sample=*/false, /*detach=*/true);
}

StepResult ItnasStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  StepResult result;
  // Architecture step on L_val; gradients reach theta through the inner edges as well.
  auto logits = w.net->forward(b.val.x, mix(/*sample=*/true, /*detach=*/false));
  auto loss = torch::cross_entropy_loss(logits, b.val.y);
  result.val = batch_stats(logits, b.val.y, loss.item<double>());
  auto params = parameter_list();
  auto grads = torch::autograd::grad({loss}, params);
  w.average(grads);
  optimizer_->zero_grad();
  for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = grads[i];
  optimizer_->step();
  result.train = w.step(b.train, mix(/*sample=*/true, /*detach=*/true));
  return result;
}

genotype::Genotype ItnasStrategy::derive() const {
  torch::NoGradGuard no_grad;
  const std::vector<const std::vector<std::string>*> ops = {&net_.normal_ops, &net_.reduce_ops};
  std::vector<genotype::CellGenotype> cells;
  for (int cell = 0; cell < 2; ++cell) {
    const auto& c = cells_[static_cast<size_t>(cell)];
    if (cfg_.tiep)
      cells.push_back(tiep_derive(groups_, c.theta, c.z, c.a, *ops[static_cast<size_t>(cell)]));
    else
      cells.push_back(genotype::derive_darts(cell_weights(cell, false), *ops[static_cast<size_t>(cell)],
                                             static_cast<int>(net_.steps)));
  }
  return {cells[0], cells[1]};
}

std::vector<NamedTensor> ItnasStrategy::arch_tensors() const {
  torch::NoGradGuard no_grad;
  std::vector<NamedTensor> out;
  for (int cell = 0; cell < 2; ++cell) {
    const std::string name = kCellName[cell];
    const auto& c = cells_[static_cast<size_t>(cell)];
    out.emplace_back("edge_logits_" + name, cell_weights(cell, false).clamp_min(1e-30).log());
    out.emplace_back("theta_" + name, c.theta.detach().clone());
    if (cfg_.transition) {
      out.emplace_back("transition_" + name, torch::softmax(c.z.detach(), -1));
      out.emplace_back("attention_logits_" + name, c.a.detach().clone());
    }
  }
  out.emplace_back("tau", torch::tensor(tau_, torch::kFloat64));
  return out;
}

std::vector<NamedTensor> ItnasStrategy::state() {
  std::vector<NamedTensor> out;
  for (int cell = 0; cell < 2; ++cell) {
    const std::string name = kCellName[cell];
    const auto& c = cells_[static_cast<size_t>(cell)];
    out.emplace_back("theta_" + name, c.theta.detach().clone());
    if (cfg_.transition) {
      out.emplace_back("z_" + name, c.z.detach().clone());
      out.emplace_back("a_" + name, c.a.detach().clone());
    }
  }
  out.emplace_back("tau", scalar_state(tau_));
  append_adam_state(out, "adam", *optimizer_);
  return out;
}

void ItnasStrategy::load_state(const std::vector<NamedTensor>& state) {
  for (int cell = 0; cell < 2; ++cell) {
    const std::string name = kCellName[cell];
    auto& c = cells_[static_cast<size_t>(cell)];
    restore_state(state, "theta_" + name, c.theta);
    if (cfg_.transition) {
      restore_state(state, "z_" + name, c.z);
      restore_state(state, "a_" + name, c.a);
    }
  }
  tau_ = restore_scalar(state, "tau");
  load_adam_state(*optimizer_, "adam", state);
}

}  // namespace dnas::search
