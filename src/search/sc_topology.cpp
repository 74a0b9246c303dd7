#include "dnas/search/sc_topology.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "dnas/core/error.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"

namespace dnas::search {
namespace {

// Posterior states of state i in a cell with `steps` intermediates: the intermediates it can feed.
std::vector<int> posterior(int i, int steps) {
  std::vector<int> p;
  for (int j = std::max(2, i + 1); j < steps + 2; ++j) p.push_back(j);
  return p;
}

// Every pair (a < b) of `members`, lexicographic.
std::vector<std::pair<int, int>> pairs_of(const std::vector<int>& members) {
  std::vector<std::pair<int, int>> out;
  for (size_t a = 0; a < members.size(); ++a)
    for (size_t b = a + 1; b < members.size(); ++b) out.emplace_back(members[a], members[b]);
  return out;
}

// Float options on the logits' device (the CPU when there are none).
torch::TensorOptions float_options(const std::vector<torch::Tensor>& logits) {
  return logits.empty() ? torch::TensorOptions() : logits.front().options();
}

// [options, E] 0/1 matrix of which edges each option switches on (built once per chooser).
torch::Tensor membership(const ScTopology::Chooser& k, int edges) {
  std::vector<float> m(k.options.size() * static_cast<size_t>(edges), 0.0f);
  for (size_t o = 0; o < k.options.size(); ++o)
    for (int e : k.options[o]) m[o * static_cast<size_t>(edges) + static_cast<size_t>(e)] = 1.0f;
  return torch::tensor(m).reshape({static_cast<int64_t>(k.options.size()), edges});
}

}  // namespace

ScTopology::ScTopology(int steps, const ScTopologySettings& s) : steps_(steps), settings_(s) {
  build(steps, s);
  for (auto& k : choosers_) k.membership = membership(k, genotype::num_edges(steps));
}

void ScTopology::build(int steps, const ScTopologySettings& s) {
  if (s.perspective == ScPerspective::Input) {
    for (int j = 2; j < steps + 2; ++j) {
      std::vector<int> preds;
      for (int i = 0; i < j; ++i) preds.push_back(i);
      Chooser k{j, {}, 1.0, {}};
      for (auto [a, b] : pairs_of(preds)) k.options.push_back({genotype::edge_index(j, a), genotype::edge_index(j, b)});
      choosers_.push_back(k);
    }
    return;
  }
  for (int i = 0; i < steps + 1; ++i) {
    const auto post = posterior(i, steps);
    const int d = static_cast<int>(post.size());
    Chooser k{i, {}, 1.0, {}};
    if (s.variant == ScVariant::Fixed2) {
      if (d < 2) continue;  // no output edges
      for (auto [a, b] : pairs_of(post)) k.options.push_back({genotype::edge_index(a, i), genotype::edge_index(b, i)});
      k.scale = (d * (d - 1) / 2.0) / (d - 1);
    } else {
      if (d < 1) continue;
      for (int code = s.allow_empty_code ? 0 : 1; code < (1 << d); ++code) {
        std::vector<int> edges;
        for (int bit = 0; bit < d; ++bit)
          if (code & (1 << bit)) edges.push_back(genotype::edge_index(post[static_cast<size_t>(bit)], i));
        k.options.push_back(edges);
      }
      k.scale = s.allow_empty_code ? 2.0 : ((1 << d) - 1) / static_cast<double>(1 << (d - 1));
    }
    choosers_.push_back(k);
  }
}

std::vector<int64_t> ScTopology::logit_sizes() const {
  std::vector<int64_t> out;
  for (const auto& k : choosers_) out.push_back(static_cast<int64_t>(k.options.size()));
  return out;
}

torch::Tensor ScTopology::edge_scales(const std::vector<torch::Tensor>& logits) const {
  const int edges = genotype::num_edges(steps_);
  auto s = torch::zeros({edges}, float_options(logits));
  for (size_t k = 0; k < choosers_.size(); ++k) {
    auto p = torch::softmax(logits[k], 0);  // [options]
    s = s + choosers_[k].scale * torch::matmul(p, choosers_[k].membership.to(p.device()));
  }
  return s;  // [E]
}

std::vector<bool> ScTopology::present_edges() const {
  std::vector<bool> present(static_cast<size_t>(genotype::num_edges(steps_)), false);
  for (const auto& k : choosers_)
    for (const auto& option : k.options)
      for (int e : option) present[static_cast<size_t>(e)] = true;
  return present;
}

torch::Tensor ScTopology::regularizer(const std::vector<torch::Tensor>& logits) const {
  auto r = torch::zeros({}, float_options(logits));
  if (settings_.perspective == ScPerspective::Input) return r;
  for (int j = 2; j < steps_ + 2; ++j) {
    auto term = torch::ones({}, float_options(logits));
    bool fed = false;
    for (size_t k = 0; k < choosers_.size(); ++k) {
      const int i = choosers_[k].state;
      if (i >= j) continue;
      auto has_j = choosers_[k].membership.select(1, genotype::edge_index(j, i)).to(torch::kBool);  // [options]
      if (!has_j.any().item<bool>()) continue;
      auto p = torch::softmax(logits[k], 0);
      auto best_with_j = p.masked_fill(has_j.logical_not().to(p.device()), -1.0).max();
      term = term * (1.0 - best_with_j / p.max());
      fed = true;
    }
    if (fed) r = r + term;
  }
  return r;
}

genotype::CellGenotype ScTopology::derive(const std::vector<torch::Tensor>& logits, const torch::Tensor& alpha,
                                          const std::vector<std::string>& ops) const {
  torch::NoGradGuard no_grad;
  const int n = steps_;
  auto a = alpha.detach().clone();
  for (size_t o = 0; o < ops.size(); ++o)
    if (ops[o] == "none") a.select(1, static_cast<int64_t>(o)).fill_(-std::numeric_limits<float>::infinity());
  auto best_op = [&](int e) { return ops[static_cast<size_t>(a[e].argmax().item<int64_t>())]; };

  std::vector<bool> on(static_cast<size_t>(genotype::num_edges(n)), false);
  for (size_t k = 0; k < choosers_.size(); ++k) {
    const auto chosen = torch::softmax(logits[k], 0).argmax().item<int64_t>();
    for (int e : choosers_[k].options[static_cast<size_t>(chosen)]) on[static_cast<size_t>(e)] = true;
  }
  auto alive = settings_.orphan == ScOrphan::Drop ? genotype::surviving_states(on, n)
                                                  : std::vector<bool>(static_cast<size_t>(n + 2), true);
  const bool none_left = std::none_of(alive.begin() + 2, alive.end(), [](bool b) { return b; });
  if (settings_.orphan == ScOrphan::Repair || none_left) {
    std::fill(alive.begin(), alive.end(), true);
    for (int j = 2; j < n + 2; ++j) {
      bool fed = false;
      for (int i = 0; i < j; ++i) fed = fed || on[static_cast<size_t>(genotype::edge_index(j, i))];
      if (fed) continue;
      // The predecessor whose best option containing j comes closest to its best option.
      int best_i = -1;
      double best_ratio = -1.0;
      for (size_t k = 0; k < choosers_.size(); ++k) {
        const int i = choosers_[k].state;
        if (i >= j) continue;
        const int e = genotype::edge_index(j, i);
        auto p = torch::softmax(logits[k], 0);
        double with_j = -1.0;
        for (size_t o = 0; o < choosers_[k].options.size(); ++o) {
          const auto& opt = choosers_[k].options[o];
          if (std::find(opt.begin(), opt.end(), e) != opt.end())
            with_j = std::max(with_j, p[static_cast<int64_t>(o)].item<double>());
        }
        const double ratio = with_j / p.max().item<double>();
        if (with_j >= 0 && ratio > best_ratio) {
          best_ratio = ratio;
          best_i = i;
        }
      }
      if (best_i < 0)
        fail("state " + std::to_string(j) + " has no possible input", "sc derivation", "report this as a bug");
      on[static_cast<size_t>(genotype::edge_index(j, best_i))] = true;
    }
  }
  std::vector<std::string> edge_op(static_cast<size_t>(genotype::num_edges(n)));
  for (int e = 0; e < genotype::num_edges(n); ++e) edge_op[static_cast<size_t>(e)] = best_op(e);
  const auto cell = genotype::cell_of_edges(on, alive, edge_op, n);
  return cell;
}

}  // namespace dnas::search
