#include "dnas/lm/rnn_genotype.h"

#include <gtest/gtest.h>

#include "common/error_of.h"

namespace dnas::lm {
namespace {

TEST(RnnGenotype, PublishedDartsV2RoundTrips) {
  const auto g = published_rnn_genotype("DARTS_V2");
  ASSERT_EQ(g.recurrent.size(), 8u);
  EXPECT_EQ(g.recurrent[0], (std::pair<std::string, int>{"sigmoid", 0}));
  EXPECT_EQ(g.recurrent[5], (std::pair<std::string, int>{"sigmoid", 5}));
  EXPECT_EQ(g.concat, (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
  const auto text = format_rnn_genotype(g);
  EXPECT_EQ(text.substr(0, 52), "Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('r");
  EXPECT_EQ(text.substr(text.size() - 22), "], concat=range(1, 9))");
  const auto back = parse_rnn_genotype(text, "test");
  EXPECT_EQ(back.recurrent, g.recurrent);
  EXPECT_EQ(back.concat, g.concat);
}

TEST(RnnGenotype, ListConcatAndNames) {
  const auto g = resolve_rnn_genotype("Genotype(recurrent=[('tanh', 0), ('identity', 0)], concat=[0, 2])", "x");
  EXPECT_EQ(g.concat, (std::vector<int>{0, 2}));
  EXPECT_EQ(format_rnn_genotype(g), "Genotype(recurrent=[('tanh', 0), ('identity', 0)], concat=[0, 2])");
  EXPECT_EQ(resolve_rnn_genotype("DARTS_V1", "x").recurrent[5].first, "identity");
}

TEST(RnnGenotype, BadStringsNameTheProblem) {
  const auto err = [](const std::string& text) {
    return dnas::testing::error_of([&] { resolve_rnn_genotype(text, "retrain.genotype"); });
  };
  EXPECT_NE(err("Genotype(recurrent=[('gelu', 0)], concat=range(1, 2))").find("unknown activation 'gelu' at node 1"),
            std::string::npos);
  EXPECT_NE(
      err("Genotype(recurrent=[('tanh', 0), ('relu', 2)], concat=range(1, 3))").find("node 2 takes predecessor 2"),
      std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 0) junk], concat=range(1, 2))").find("unexpected text"),
            std::string::npos);
  EXPECT_NE(err("Genotype(recurrent=[('tanh', 0)], concat=range(1, 5))").find("concat must list"), std::string::npos);
  EXPECT_NE(err("Genotype(normal=[])").find("retrain.genotype"), std::string::npos);
  EXPECT_NE(err("DARTS_V9").find("DARTS_V1, DARTS_V2"), std::string::npos);
}

}  // namespace
}  // namespace dnas::lm
