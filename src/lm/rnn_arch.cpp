#include "dnas/lm/rnn_arch.h"

#include <torch/torch.h>

#include "dnas/lm/rnn_model.h"
#include "dnas/search/nasp_proximal.h"

namespace dnas::lm {
namespace {

RnnGenotype with_all_nodes(std::vector<std::pair<std::string, int>> genes) {
  RnnGenotype g;
  g.recurrent = std::move(genes);
  for (int i = 1; i <= static_cast<int>(g.recurrent.size()); ++i) g.concat.push_back(i);
  return g;
}

}  // namespace

torch::Tensor nasp_rnn_discrete(const torch::Tensor& alpha, int steps) {
  std::vector<std::vector<int64_t>> node_edges;  // node i = 1 .. steps has inputs j < i
  for (int i = 1; i <= steps; ++i) {
    node_edges.emplace_back();
    for (int j = 0; j < i; ++j) node_edges.back().push_back(rnn_edge_index(i, j));
  }
  return search::keep_strongest_edges(search::prox_disc(alpha, /*keep_value=*/false), alpha, node_edges, 1);
}

RnnGenotype derive_rnn_genotype(const torch::Tensor& weights, const std::vector<std::string>& ops, int steps) {
  const auto w = weights.detach().to(torch::kDouble).contiguous();
  const auto acc = w.accessor<double, 2>();
  std::vector<std::pair<std::string, int>> genes;
  for (int i = 1; i <= steps; ++i) {
    int best_j = -1, best_k = -1;
    double best = 0;
    for (int j = 0; j < i; ++j) {
      for (size_t k = 0; k < ops.size(); ++k) {
        if (ops[k] == "none") continue;
        const double v = acc[rnn_edge_index(i, j)][static_cast<int64_t>(k)];
        if (best_j < 0 || v > best) best = v, best_j = j, best_k = static_cast<int>(k);
      }
    }
    genes.emplace_back(ops[static_cast<size_t>(best_k)], best_j);
  }
  return with_all_nodes(std::move(genes));
}

RnnGenotype discrete_rnn_genotype(const torch::Tensor& discrete, const std::vector<std::string>& ops, int steps) {
  const auto d = discrete.detach().to(torch::kDouble).contiguous();
  const auto acc = d.accessor<double, 2>();
  std::vector<std::pair<std::string, int>> genes;
  for (int i = 1; i <= steps; ++i) {
    for (int j = 0; j < i; ++j)
      for (size_t k = 0; k < ops.size(); ++k)
        if (acc[rnn_edge_index(i, j)][static_cast<int64_t>(k)] != 0) genes.emplace_back(ops[k], j);
    TORCH_CHECK(static_cast<int>(genes.size()) == i, "discrete architecture must select one edge at node ", i);
  }
  return with_all_nodes(std::move(genes));
}

}  // namespace dnas::lm
