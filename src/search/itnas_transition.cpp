#include "dnas/search/itnas_transition.h"

#include <torch/torch.h>

#include <algorithm>

#include "dnas/genotype/cell_topology.h"

namespace dnas::search {

EdgeGroups edge_groups(int steps) {
  EdgeGroups g;
  g.steps = steps;
  g.outer_row.assign(static_cast<size_t>(genotype::num_edges(steps)), -1);
  for (int s = 2; s < steps + 2; ++s)
    for (int j = 0; j < s; ++j) {
      const int e = genotype::edge_index(s, j);
      if (j < 2) {
        g.outer_row[static_cast<size_t>(e)] = static_cast<int>(g.outer.size());
        g.outer.push_back(e);
        continue;
      }
      std::vector<int> preds;
      for (int k = 0; k < j; ++k) preds.push_back(genotype::edge_index(j, k));
      g.inner.push_back(e);
      g.pair_begin.push_back(g.pairs);
      g.pairs += static_cast<int>(preds.size());
      g.preds.push_back(std::move(preds));
    }
  return g;
}

torch::Tensor transition_weights(const EdgeGroups& g, const torch::Tensor& outer, const torch::Tensor& source,
                                 const torch::Tensor& z, const torch::Tensor& a) {
  const auto edges = static_cast<size_t>(genotype::num_edges(g.steps));
  std::vector<torch::Tensor> rows(edges), passed(edges);  // own weights, what successors receive
  for (size_t r = 0; r < g.outer.size(); ++r) {
    rows[static_cast<size_t>(g.outer[r])] = outer[static_cast<int64_t>(r)];
    passed[static_cast<size_t>(g.outer[r])] = source[static_cast<int64_t>(r)];
  }
  auto t = torch::softmax(z, -1);  // [P, O, O], rows sum to 1
  for (size_t k = 0; k < g.inner.size(); ++k) {
    const auto& preds = g.preds[k];
    const int64_t begin = g.pair_begin[k], n = static_cast<int64_t>(preds.size());
    std::vector<torch::Tensor> w;
    for (int p : preds) w.push_back(passed[static_cast<size_t>(p)]);
    auto wp = torch::stack(w).unsqueeze(1);                         // [n, 1, O]
    auto moved = torch::bmm(wp, t.narrow(0, begin, n)).squeeze(1);  // [n, O]: w_p T_{p->q}
    auto attention = torch::softmax(a.narrow(0, begin, n), 0);      // [n]
    auto wq = (attention.unsqueeze(1) * moved).sum(0);              // [O]
    rows[static_cast<size_t>(g.inner[k])] = wq;
    passed[static_cast<size_t>(g.inner[k])] = wq;
  }
  return torch::stack(rows);  // [E, O]
}

genotype::CellGenotype tiep_derive(const EdgeGroups& g, const torch::Tensor& theta, const torch::Tensor& z,
                                   const torch::Tensor& a, const std::vector<std::string>& ops) {
  torch::NoGradGuard no_grad;
  auto probs = torch::softmax(theta.to(torch::kCPU, torch::kDouble), -1);  // [n_outer, O]
  auto t = torch::softmax(z.to(torch::kCPU, torch::kDouble), -1);          // [P, O, O]
  auto logits = a.to(torch::kCPU, torch::kDouble);                         // [P]
  std::vector<int> inner_pos(static_cast<size_t>(genotype::num_edges(g.steps)), -1);
  for (size_t k = 0; k < g.inner.size(); ++k) inner_pos[static_cast<size_t>(g.inner[k])] = static_cast<int>(k);

  std::vector<int> chosen_op(inner_pos.size(), -1);  // the one-hot op of every kept edge
  genotype::CellGenotype cell;
  for (int s = 2; s < g.steps + 2; ++s) {
    struct Scored {
      int src, edge, op;
      double strength;
    };
    std::vector<Scored> scored;
    for (int j = 0; j < s; ++j) {
      const int e = genotype::edge_index(s, j);
      torch::Tensor v;  // [O]
      if (j < 2) {
        v = probs[g.outer_row[static_cast<size_t>(e)]];
      } else {
        // Surviving predecessors: the kept incoming edges of state j, one-hot on their ops.
        const int k = inner_pos[static_cast<size_t>(e)];
        const auto& preds = g.preds[static_cast<size_t>(k)];
        std::vector<int64_t> pair;
        std::vector<torch::Tensor> picked;
        for (size_t i = 0; i < preds.size(); ++i) {
          const int op = chosen_op[static_cast<size_t>(preds[i])];
          if (op < 0) continue;  // pruned
          const int64_t pi = g.pair_begin[static_cast<size_t>(k)] + static_cast<int64_t>(i);
          pair.push_back(pi);
          picked.push_back(t[pi][op]);  // onehot_p T_{p->q}
        }
        auto attention = torch::softmax(logits.index({torch::tensor(pair)}), 0);  // renormalised
        v = (attention.unsqueeze(1) * torch::stack(picked)).sum(0);
      }
      v = v.clone();
      for (size_t o = 0; o < ops.size(); ++o)
        if (ops[o] == "none") v[static_cast<int64_t>(o)] = -1.0;  // never chosen (probabilities are >= 0)
      const int op = static_cast<int>(v.argmax().item<int64_t>());
      scored.push_back({j, e, op, v.max().item<double>()});
    }
    // Keep the two strongest; on ties the smaller source survives (stable sort by strength).
    std::stable_sort(scored.begin(), scored.end(),
                     [](const Scored& x, const Scored& y) { return x.strength > y.strength; });
    scored.resize(std::min<size_t>(2, scored.size()));
    std::vector<genotype::Gene> genes;
    for (const auto& sc : scored) {
      chosen_op[static_cast<size_t>(sc.edge)] = sc.op;
      genes.push_back({ops[static_cast<size_t>(sc.op)], sc.src});
    }
    cell.nodes.push_back(genes);
  }
  for (int s = 2; s < g.steps + 2; ++s) cell.concat.push_back(s);
  return cell;
}

}  // namespace dnas::search
