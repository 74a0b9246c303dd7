#include <gtest/gtest.h>

#include <string>

#include "dnas/core/error.h"
#include "dnas/genotype/genotype.h"

namespace dnas::genotype {
namespace {

// DARTS_V2 exactly as printed in docs/methods.md 1.7.
const std::string kDartsV2 =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), "
    "('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
    "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

// A small valid genotype (2 nodes) to vary in the syntax tests.
const Genotype& small() {
  static const Genotype g = [] {
    Genotype s;
    s.normal.nodes = {{{"sep_conv_3x3", 0}, {"skip_connect", 1}}, {{"dil_conv_3x3", 2}, {"sep_conv_5x5", 0}}};
    s.normal.concat = {2, 3};
    s.reduce.nodes = {{{"max_pool_3x3", 0}, {"avg_pool_3x3", 1}}, {{"skip_connect", 2}, {"max_pool_3x3", 1}}};
    s.reduce.concat = {2, 3};
    return s;
  }();
  return g;
}

const std::string kSmallNormal = "[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), ('sep_conv_5x5', 0)]";
const std::string kSmallReduce = "[('max_pool_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1)]";

TEST(GenotypeParser, ParsesDartsV2AsPrinted) {
  const Genotype g = parse_genotype(kDartsV2);
  ASSERT_EQ(g.normal.steps(), 4);
  ASSERT_EQ(g.reduce.steps(), 4);
  EXPECT_EQ(g.normal.nodes[0][0], (Gene{"sep_conv_3x3", 0}));
  EXPECT_EQ(g.normal.nodes[0][1], (Gene{"sep_conv_3x3", 1}));
  EXPECT_EQ(g.normal.nodes[2][1], (Gene{"skip_connect", 0}));
  EXPECT_EQ(g.normal.nodes[3][1], (Gene{"dil_conv_3x3", 2}));
  EXPECT_EQ(g.reduce.nodes[1][0], (Gene{"skip_connect", 2}));
  EXPECT_EQ(g.reduce.nodes[3][1], (Gene{"max_pool_3x3", 1}));
  EXPECT_EQ(g.normal.concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(g.reduce.concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(count_op(g.normal, "skip_connect"), 2);
  EXPECT_EQ(count_op(g.reduce, "skip_connect"), 3);
}

TEST(GenotypeParser, CanonicalTextOfDartsV2EqualsInput) {
  EXPECT_EQ(to_string(parse_genotype(kDartsV2)), kDartsV2);
  EXPECT_EQ(parse_genotype(to_string(small())), small());
}

TEST(GenotypeParser, AcceptsSyntaxVariants) {
  const std::vector<std::string> variants = {
      "SMALL = Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], reduce=" + kSmallReduce +
          ", reduce_concat=[2, 3])",
      "Genotype(normal=[(\"sep_conv_3x3\", 0), (\"skip_connect\", 1), (\"dil_conv_3x3\", 2), "
      "(\"sep_conv_5x5\", 0)], normal_concat=[2, 3], reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])",
      "Genotype(\n  normal = [\n    ('sep_conv_3x3', 0),\n    ('skip_connect', 1),\n    "
      "('dil_conv_3x3', 2),\n"
      "    ('sep_conv_5x5', 0),\n  ],\n  normal_concat = [2, 3,],\n  reduce = " +
          kSmallReduce + ",\n  reduce_concat = [2, 3],\n)\n",
      "Genotype(reduce_concat=[2, 3], reduce=" + kSmallReduce + ", normal_concat=[2, 3], normal=" + kSmallNormal + ")",
      "Genotype(" + kSmallNormal + ", [2, 3], " + kSmallReduce + ", [2, 3])",
      "Genotype(normal=" + kSmallNormal + ", normal_concat=range(2, 4), reduce=" + kSmallReduce +
          ", reduce_concat=range(2,4))",
      "Genotype(normal=[('sep_conv_3x3', 0, 0.41), ('skip_connect', 1, 0.3), ('dil_conv_3x3', 2, "
      "1e-2), "
      "('sep_conv_5x5', 0, 0.2,)], normal_concat=[2, 3], reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])",
      "Genotype(normal=(('sep_conv_3x3', 0), ('skip_connect', 1), ['dil_conv_3x3', 2], "
      "('sep_conv_5x5', 0)), "
      "normal_concat=(2, 3), reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])",
      "Genotype(normal=[('sep_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), ('sep_5x5', 0)], "
      "normal_concat=[2, 3], reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])",
      "genotypes.Genotype(normal=[[('sep_conv_3x3', 0), ('skip_connect', 1)], [('dil_conv_3x3', "
      "2), "
      "('sep_conv_5x5', 0)]], normal_concat=[2, 3], reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])  # c",
  };
  for (const auto& text : variants) {
    SCOPED_TRACE(text);
    EXPECT_EQ(parse_genotype(text, "variant"), small());
  }
}

TEST(GenotypeParser, MapsAliases) {
  const Genotype g = parse_genotype(
      "Genotype(normal=[('conv 3x3', 0), ('sep_3x3', 1)], normal_concat=[2], "
      "reduce=[('conv 1x1', 0), ('sep_7x7', 1)], reduce_concat=[2])");
  EXPECT_EQ(g.normal.nodes[0][0].op, "conv_3x3");
  EXPECT_EQ(g.normal.nodes[0][1].op, "sep_conv_3x3");
  EXPECT_EQ(g.reduce.nodes[0][0].op, "conv_1x1");
  EXPECT_EQ(g.reduce.nodes[0][1].op, "sep_conv_7x7");
}

TEST(GenotypeParser, NestedFormWithVariableInDegreeRoundTrips) {
  const std::string text =
      "Genotype(normal=[[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], [], [('skip_connect', 0), "
      "('dil_conv_3x3', 1), ('sep_conv_5x5', 2)]], normal_concat=[2, 3, 4], reduce=" +
      kSmallReduce + ", reduce_concat=[2, 3])";
  const Genotype g = parse_genotype(text);
  ASSERT_EQ(g.normal.steps(), 3);
  EXPECT_EQ(g.normal.nodes[1].size(), 0u);
  ASSERT_EQ(g.normal.nodes[2].size(), 3u);
  EXPECT_EQ(g.normal.nodes[2][2], (Gene{"sep_conv_5x5", 2}));
  EXPECT_FALSE(is_flat(g.normal));
  EXPECT_TRUE(is_flat(g.reduce));
  EXPECT_EQ(to_string(g), text);  // normal stays nested, reduce stays flat
  EXPECT_EQ(parse_genotype(to_string(g)), g);
}

// Expects parse_genotype(text, "cfg:arch") to throw a dnas::Error whose message contains
// the source and every string of `parts`.
void expect_parse_error(const std::string& text, const std::vector<std::string>& parts) {
  SCOPED_TRACE(text);
  try {
    parse_genotype(text, "cfg:arch");
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cfg:arch"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Hint:"), std::string::npos) << msg;
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "missing '" << p << "' in: " << msg;
  }
}

TEST(GenotypeParser, RejectsBadText) {
  const std::string tail = ", normal_concat=[2, 3], reduce=" + kSmallReduce + ", reduce_concat=[2, 3])";
  expect_parse_error(
      "Genotype(normal=[('sep_conv_9x9', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), "
      "('sep_conv_5x5', 0)]" +
          tail,
      {"sep_conv_9x9", "position 19", "known ops"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 2), ('dil_conv_3x3', 2), "
      "('sep_conv_5x5', 0)]" +
          tail,
      {"out of range for node 0", "position"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 3), "
      "('sep_conv_5x5', 0)]" +
          tail,
      {"out of range for node 1"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', -1), ('skip_connect', 1)], normal_concat=[2], "
      "reduce=" +
          kSmallReduce + ", reduce_concat=[2, 3])",
      {"out of range"});
  expect_parse_error("Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2)]" + tail,
                     {"odd number"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3])", {"missing field 'reduce'"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], reduce=" + kSmallReduce + ")",
                     {"missing field 'reduce_concat'"});
  expect_parse_error(
      "Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 4], reduce=" + kSmallReduce + ", reduce_concat=[2, 3])",
      {"normal_concat state 4 is out of range"});
  expect_parse_error(
      "Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], reduce=" + kSmallReduce + ", reduce_concat=[3, 3])",
      {"reduce_concat state 3 appears twice"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + ", normal_concat=range(2, 5), reduce=" + kSmallReduce +
                         ", reduce_concat=[2, 3])",
                     {"out of range"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), "
      "('sep_conv_5x5', 0)" +
          tail,
      {"expected an edge", "normal_concat", "bracket"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', 0), ('skip_connect', 1), ('dil_conv_3x3', 2), "
      "('sep_conv_5x5', 0))]" +
          tail,
      {"expected ',' or ']'", "found ')'"});
  expect_parse_error(
      "Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], reduce=" + kSmallReduce + ", reduce_concat=[2, 3]",
      {"end of text"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + tail + ")", {"after the closing ')'"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + tail + " extra", {"extra"});
  expect_parse_error("", {"empty"});
  expect_parse_error("   \n ", {"empty"});
  expect_parse_error(
      "Genotype(normal=[('sep_conv_3x3', 0.5), ('skip_connect', 1), ('dil_conv_3x3', 2), "
      "('sep_conv_5x5', 0)]" +
          tail,
      {"integer", "0.5"});
  expect_parse_error("Genotype(normal=[('sep_conv_3x3', zero), ('skip_connect', 1)]" + tail, {"integer", "zero"});
  expect_parse_error("Genotype(normal=[('sep_conv_3x3, 0)]" + tail, {"unterminated"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], normal=" + kSmallNormal + tail,
                     {"given twice"});
  expect_parse_error("Genotype(normal=" + kSmallNormal + ", normal_concat=[2, 3], reduced=" + kSmallReduce + tail,
                     {"unknown field 'reduced'"});
  expect_parse_error("Genotype(normal=[[('sep_conv_3x3', 0)], ('skip_connect', 1)]" + tail, {"edge"});
  expect_parse_error("Network(normal=" + kSmallNormal + tail, {"expected 'Genotype('", "Network"});
  expect_parse_error("Genotype(normal=[]" + tail, {"empty cell"});
}

TEST(GenotypeParser, ErrorReportsLineAndColumn) {
  expect_parse_error("Genotype(\n  normal=[('sep_conv_3x3', 0), ('bogus', 1)],", {"line 2, column 33", "bogus"});
}

TEST(Genotype, ValidateCellCatchesProgrammaticMistakes) {
  Genotype g = small();
  EXPECT_NO_THROW(validate_genotype(g, "test"));
  g.normal.nodes[1][0].src = 3;
  EXPECT_THROW(validate_genotype(g, "test"), Error);
  g = small();
  g.reduce.concat = {2, 2};
  EXPECT_THROW(validate_genotype(g, "test"), Error);
  g = small();
  g.normal.nodes[0][0].op = "sep_3x3";  // alias, not canonical
  EXPECT_THROW(validate_genotype(g, "test"), Error);
}

}  // namespace
}  // namespace dnas::genotype
