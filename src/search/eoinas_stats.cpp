#include "dnas/search/eoinas_stats.h"

#include <torch/torch.h>

#include <limits>

#include "dnas/search/strategy_state.h"

namespace dnas::search {
namespace {

auto f64() { return torch::TensorOptions().dtype(torch::kDouble); }

}  // namespace

OpStatistics::OpStatistics(int64_t edges, std::vector<std::string> op_names, double reference_window,
                           bool inf_when_unsampled)
    : ops_(std::move(op_names)), reference_window_(reference_window), inf_when_unsampled_(inf_when_unsampled) {
  const auto o = static_cast<int64_t>(ops_.size());
  alive_ = torch::ones({edges, o}, torch::kBool);
  ce_ = torch::zeros({edges, o}, f64());
  ca_ = torch::zeros({edges, o}, f64());
  ca_count_ = torch::zeros({edges, o}, f64());
  strength_ = torch::zeros({edges}, f64());
}

void OpStatistics::count_training(const torch::Tensor& sampled) {
  auto k = sampled.to(torch::kCPU, torch::kLong).unsqueeze(1);  // [E, 1]
  ce_.scatter_add_(1, k, torch::ones(k.sizes(), f64()));
}

void OpStatistics::record_accuracy(const torch::Tensor& sampled, double acc, bool mean) {
  auto k = sampled.to(torch::kCPU, torch::kLong).unsqueeze(1);  // [E, 1]
  if (!mean) {
    ca_.scatter_(1, k, acc);
    return;
  }
  auto n = ca_count_.gather(1, k) + 1.0;  // running mean since the last prune
  auto previous = ca_.gather(1, k);
  ca_.scatter_(1, k, previous + (acc - previous) / n);
  ca_count_.scatter_(1, k, n);
}

torch::Tensor OpStatistics::masked(const torch::Tensor& alpha) const {
  return alpha.masked_fill(alive_.logical_not().to(alpha.device()), -std::numeric_limits<double>::infinity());
}

torch::Tensor OpStatistics::beta(const torch::Tensor& alpha) const { return torch::softmax(masked(alpha), -1); }

torch::Tensor OpStatistics::indicator(const torch::Tensor& alpha, double lambda) const {
  torch::NoGradGuard no_grad;
  auto i = beta(alpha.detach().to(torch::kCPU, torch::kDouble));
  if (lambda > 0) {
    auto c = ca_ / ce_.clamp_min(1.0);
    if (reference_window_ > 0) c = c * (ce_.sum(1, /*keepdim=*/true) / reference_window_);  // [E, 1]: N per edge
    const double unsampled = inf_when_unsampled_ ? std::numeric_limits<double>::infinity() : 0.0;
    i = i + lambda * torch::where(ce_ > 0, c, torch::full_like(c, unsampled));
  }
  return i.masked_fill(alive_.logical_not(), -std::numeric_limits<double>::infinity());
}

std::vector<int64_t> OpStatistics::prune(const torch::Tensor& alpha, double lambda) {
  auto ind = indicator(alpha, lambda).contiguous();
  auto acc = ind.accessor<double, 2>();
  std::vector<int64_t> removed(static_cast<size_t>(alive_.size(0)), -1);
  for (int64_t e = 0; e < alive_.size(0); ++e) {
    if (remaining(e) <= 1) continue;
    double best = -std::numeric_limits<double>::infinity(), worst = std::numeric_limits<double>::infinity();
    int64_t drop = -1, none = -1;
    for (int64_t o = 0; o < static_cast<int64_t>(ops_.size()); ++o) {
      if (!alive_[e][o].item<bool>()) continue;
      if (ops_[static_cast<size_t>(o)] == "none")
        none = o;
      else
        best = std::max(best, acc[e][o]);
      if (acc[e][o] < worst) {  // strict: on ties the lower op index is the one removed
        worst = acc[e][o];
        drop = o;
      }
    }
    if (remaining(e) == 2 && none >= 0) drop = none;  // the last prune never leaves `none`
    strength_[e] = best;
    alive_[e][drop] = false;
    removed[static_cast<size_t>(e)] = drop;
  }
  ce_.zero_();
  ca_count_.zero_();
  ++prunes_;
  return removed;
}

int64_t OpStatistics::remaining(int64_t edge) const { return alive_[edge].sum().item<int64_t>(); }

bool OpStatistics::fully_pruned() const { return (alive_.sum(1) == 1).all().item<bool>(); }

void OpStatistics::append_state(std::vector<NamedTensor>& out, const std::string& prefix) const {
  out.emplace_back(prefix + "alive", alive_.to(torch::kLong));
  out.emplace_back(prefix + "ce", ce_.clone());
  out.emplace_back(prefix + "ca", ca_.clone());
  out.emplace_back(prefix + "ca_count", ca_count_.clone());
  out.emplace_back(prefix + "strength", strength_.clone());
  out.emplace_back(prefix + "prunes", scalar_state(static_cast<double>(prunes_)));
}

void OpStatistics::load_state(const std::vector<NamedTensor>& state, const std::string& prefix) {
  restore_state(state, prefix + "alive", alive_);
  restore_state(state, prefix + "ce", ce_);
  restore_state(state, prefix + "ca", ca_);
  restore_state(state, prefix + "ca_count", ca_count_);
  restore_state(state, prefix + "strength", strength_);
  prunes_ = static_cast<int64_t>(restore_scalar(state, prefix + "prunes"));
}

}  // namespace dnas::search
