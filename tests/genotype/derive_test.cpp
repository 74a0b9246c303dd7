#include "dnas/genotype/derive.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>

#include "dnas/core/error.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/published.h"
#include "dnas/ops/op_names.h"

namespace dnas::genotype {
namespace {

std::vector<std::string> darts8() { return ops::op_set("darts8", ops::CellType::Normal); }

int column(const std::vector<std::string>& names, const std::string& op) {
  return static_cast<int>(std::find(names.begin(), names.end(), op) - names.begin());
}

// Fills edge row e with `value` at column `hot` and the remainder shared equally by the others.
void set_row(torch::Tensor& w, int e, int hot, double value) {
  const int64_t ops = w.size(1);
  w[e].fill_((1.0 - value) / static_cast<double>(ops - 1));
  w[e][hot] = value;
}

TEST(DeriveDarts, MethodsOracleNodeWithThreeEdges) {
  const auto names = darts8();
  torch::Tensor w = torch::zeros({num_edges(2), 8}, torch::kDouble);
  set_row(w, edge_index(2, 0), column(names, "dil_conv_5x5"), 0.6);
  set_row(w, edge_index(2, 1), column(names, "avg_pool_3x3"), 0.4);
  // j=0: none 0.5, sep_conv_3x3 0.3, the other six share 0.2.
  const int e0 = edge_index(3, 0);
  w[e0].fill_(0.2 / 6);
  w[e0][column(names, "none")] = 0.5;
  w[e0][column(names, "sep_conv_3x3")] = 0.3;
  set_row(w, edge_index(3, 1), column(names, "skip_connect"), 0.35);
  set_row(w, edge_index(3, 2), column(names, "max_pool_3x3"), 0.32);
  ASSERT_TRUE(torch::allclose(w.sum(1), torch::ones({num_edges(2)}, torch::kDouble)));

  const CellGenotype cell = derive_darts(w, names, 2);
  ASSERT_EQ(cell.steps(), 2);
  EXPECT_EQ(cell.nodes[0], (std::vector<Gene>{{"dil_conv_5x5", 0}, {"avg_pool_3x3", 1}}));
  EXPECT_EQ(cell.nodes[1], (std::vector<Gene>{{"skip_connect", 1}, {"max_pool_3x3", 2}}));
  EXPECT_EQ(cell.concat, (std::vector<int>{2, 3}));
  // With keep=3 the j=0 edge follows at strength 0.3 with its best non-none op.
  EXPECT_EQ(derive_darts(w, names, 2, 3).nodes[1][2], (Gene{"sep_conv_3x3", 0}));
}

TEST(DeriveDarts, TiesKeepSmallerEdgeAndLowerColumn) {
  const auto names = darts8();
  const torch::Tensor uniform = torch::full({num_edges(2), 8}, 0.125);
  const CellGenotype cell = derive_darts(uniform, names, 2);
  EXPECT_EQ(cell.nodes[0], (std::vector<Gene>{{"max_pool_3x3", 0}, {"max_pool_3x3", 1}}));
  EXPECT_EQ(cell.nodes[1], (std::vector<Gene>{{"max_pool_3x3", 0}, {"max_pool_3x3", 1}}));

  // Edges j=1 and j=2 of state 3 tie above j=0: the smaller j comes first.
  torch::Tensor w = uniform.clone();
  set_row(w, edge_index(3, 2), column(names, "sep_conv_5x5"), 0.4);
  set_row(w, edge_index(3, 1), column(names, "dil_conv_3x3"), 0.4);
  EXPECT_EQ(derive_darts(w, names, 2).nodes[1], (std::vector<Gene>{{"dil_conv_3x3", 1}, {"sep_conv_5x5", 2}}));
}

// Alphas whose softmax derives `cell`: first gene of a node 2.0, second 1.5, the rest 0, and a
// large `none` on some unused edges (which must not make them win).
torch::Tensor alphas_for(const CellGenotype& cell, const std::vector<std::string>& names) {
  torch::Tensor a = torch::zeros({num_edges(cell.steps()), static_cast<int64_t>(names.size())});
  for (int m = 0; m < cell.steps(); ++m)
    for (size_t r = 0; r < cell.nodes[m].size(); ++r)
      a[edge_index(2 + m, cell.nodes[m][r].src)][column(names, cell.nodes[m][r].op)] = r == 0 ? 2.0 : 1.5;
  const int none = column(names, "none");
  if (none < static_cast<int>(names.size()))
    for (int e = 0; e < a.size(0); ++e)
      if (a[e].max().item<double>() == 0.0 && e % 2 == 0) a[e][none] = 5.0;
  return a;
}

TEST(DeriveDarts, SoftmaxOfHandBuiltAlphasGivesDartsV2) {
  const Genotype v2 = published_genotype("DARTS_V2");
  auto names = darts8();
  for (const CellGenotype* cell : {&v2.normal, &v2.reduce}) {
    const torch::Tensor alpha = alphas_for(*cell, names);
    EXPECT_EQ(derive_darts(torch::softmax(alpha, 1), names, 4), *cell) << to_string(*cell);
  }
  // The column order comes from op_names, not from a fixed op set.
  std::reverse(names.begin(), names.end());
  EXPECT_EQ(derive_darts(torch::softmax(alphas_for(v2.normal, names), 1), names, 4), v2.normal);
  // Without 'none' (darts7) the same alphas minus that column give the same cell.
  const auto seven = ops::op_set("darts7", ops::CellType::Normal);
  EXPECT_EQ(derive_darts(torch::softmax(alphas_for(v2.normal, seven), 1), seven, 4), v2.normal);
}

TEST(DeriveDarts, RejectsBadShapes) {
  const auto names = darts8();
  EXPECT_THROW(derive_darts(torch::zeros({13, 8}), names, 4), Error);
  EXPECT_THROW(derive_darts(torch::zeros({14, 7}), names, 4), Error);
  EXPECT_THROW(derive_darts(torch::zeros({14 * 8}), names, 4), Error);
  EXPECT_THROW(derive_darts(torch::zeros({14, 8}), names, 0), Error);
  EXPECT_THROW(derive_darts(torch::zeros({14, 1}), {"none"}, 4), Error);
  try {
    derive_darts(torch::zeros({13, 8}), names, 4);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[14, 8]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("derive_darts"), std::string::npos) << msg;
  }
  torch::Tensor nan = torch::full({14, 8}, 0.125);
  nan[3][2] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(derive_darts(nan, names, 4), Error);
}

TEST(DeriveTopK, SkipsNoneEdgesAndHonoursKeep) {
  // steps=2: edges 0->2, 1->2 | 0->3, 1->3, 2->3
  const std::vector<double> strength = {0.1, 0.2, 0.9, 0.5, 0.7};
  const std::vector<std::string> op = {"sep_3x3", "skip_connect", "none", "avg_pool_3x3", "dil_conv_5x5"};
  const CellGenotype two = derive_top_k(strength, op, 2);
  EXPECT_EQ(two.nodes[0], (std::vector<Gene>{{"skip_connect", 1}, {"sep_conv_3x3", 0}}));
  EXPECT_EQ(two.nodes[1], (std::vector<Gene>{{"dil_conv_5x5", 2}, {"avg_pool_3x3", 1}}));
  const CellGenotype one = derive_top_k(strength, op, 2, 1);
  EXPECT_EQ(one.nodes[1], (std::vector<Gene>{{"dil_conv_5x5", 2}}));
  EXPECT_EQ(derive_top_k(strength, op, 2, 3).nodes[1].size(), 2u);  // the none edge never counts
  EXPECT_THROW(derive_top_k({0.1, 0.2}, {"none", "none"}, 2), Error);
  EXPECT_THROW(derive_top_k(strength, op, 2, 0), Error);
}

}  // namespace
}  // namespace dnas::genotype

namespace dnas::genotype {
namespace {

// The output-edge rule on a hand example (n = 4): inputs 0 and 1 both send their two outputs to
// nodes 3 and 4, so node 2 receives nothing, is dropped with its outgoing edges, and leaves
// concat; node 3 (two posterior states) feeds 4 and 5; node 4 (one) has no outputs.
TEST(DeriveOutputEdges, EachStateKeepsItsTwoStrongestOutputsThenOrphansAreDropped) {
  std::vector<double> strength(static_cast<size_t>(num_edges(4)), 0.1);
  std::vector<std::string> op(strength.size(), "sep_conv_3x3");
  auto set = [&](int to, int from, double s, const std::string& name) {
    strength[static_cast<size_t>(edge_index(to, from))] = s;
    op[static_cast<size_t>(edge_index(to, from))] = name;
  };
  set(3, 0, 0.9, "max_pool_3x3");
  set(4, 0, 0.8, "skip_connect");
  set(3, 1, 0.7, "dil_conv_3x3");
  set(4, 1, 0.6, "sep_conv_5x5");
  set(4, 2, 0.9, "avg_pool_3x3");  // node 2 would feed 4 and 5, but it has no input
  set(5, 2, 0.8, "avg_pool_3x3");
  const auto cell = derive_output_edges(strength, op, 4);
  ASSERT_EQ(cell.nodes.size(), 4u);
  EXPECT_TRUE(cell.nodes[0].empty());
  EXPECT_EQ(cell.nodes[1], (std::vector<Gene>{{"max_pool_3x3", 0}, {"dil_conv_3x3", 1}}));
  EXPECT_EQ(cell.nodes[2], (std::vector<Gene>{{"skip_connect", 0}, {"sep_conv_5x5", 1}, {"sep_conv_3x3", 3}}));
  EXPECT_EQ(cell.nodes[3], (std::vector<Gene>{{"sep_conv_3x3", 3}}));
  EXPECT_EQ(cell.concat, (std::vector<int>{3, 4, 5}));
  // The nested text form round-trips.
  EXPECT_EQ(parse_genotype(to_string(Genotype{cell, cell})).normal, cell);
}

TEST(DeriveOutputEdges, AllOrphansTakeTheirStrongestInput) {
  // One intermediate: the inputs have a single posterior state each, so no output edges, and
  // node 2 would be dropped; it takes its strongest input instead.
  const auto cell = derive_output_edges({0.2, 0.7}, {"sep_conv_3x3", "max_pool_3x3"}, 1);
  ASSERT_EQ(cell.nodes.size(), 1u);
  EXPECT_EQ(cell.nodes[0], (std::vector<Gene>{{"max_pool_3x3", 1}}));
  EXPECT_EQ(cell.concat, (std::vector<int>{2}));
}

}  // namespace
}  // namespace dnas::genotype
