#include <gtest/gtest.h>

#include "dnas/core/error.h"
#include "dnas/ops/op_factory.h"
#include "dnas/ops/op_names.h"

using dnas::ops::CellType;

TEST(OpNames, Darts8OrderFixesAlphaColumns) {
  auto ops = dnas::ops::op_set("darts8", CellType::Normal);
  ASSERT_EQ(ops.size(), 8u);
  EXPECT_EQ(ops[0], "none");
  EXPECT_EQ(ops[3], "skip_connect");
  EXPECT_EQ(ops[7], "dil_conv_5x5");
  auto seven = dnas::ops::op_set("darts7", CellType::Reduce);
  ASSERT_EQ(seven.size(), 7u);
  EXPECT_EQ(seven[0], "max_pool_3x3");
}

TEST(OpNames, Nasp12SplitsNormalAndReduceIntoTwelveOps) {
  auto normal = dnas::ops::op_set("nasp12", CellType::Normal);
  auto reduce = dnas::ops::op_set("nasp12", CellType::Reduce);
  EXPECT_EQ(normal.size(), 8u);
  EXPECT_EQ(reduce.size(), 5u);
  // skip_connect is in both lists: 8 + 5 - 1 = 12 distinct ops
  std::set<std::string> all(normal.begin(), normal.end());
  all.insert(reduce.begin(), reduce.end());
  EXPECT_EQ(all.size(), 12u);
}

TEST(OpNames, AliasesMapToCanonicalNames) {
  EXPECT_EQ(dnas::ops::canonical_op_name("conv 3x3"), "conv_3x3");
  EXPECT_EQ(dnas::ops::canonical_op_name("conv 1x1"), "conv_1x1");
  EXPECT_EQ(dnas::ops::canonical_op_name("sep_3x3"), "sep_conv_3x3");
  EXPECT_EQ(dnas::ops::canonical_op_name("sep_7x7"), "sep_conv_7x7");
  EXPECT_TRUE(dnas::ops::is_known_op("conv_7x1_1x7"));
  EXPECT_FALSE(dnas::ops::is_known_op("sep_conv_9x9"));
}

TEST(OpNames, UnknownOpAndSetAreErrorsNamingThem) {
  try {
    dnas::ops::canonical_op_name("warp_conv", "genotype.text");
    FAIL() << "expected an error";
  } catch (const dnas::Error& e) {
    EXPECT_NE(std::string(e.what()).find("warp_conv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("genotype.text"), std::string::npos);
  }
  EXPECT_THROW(dnas::ops::op_set("darts9", CellType::Normal), dnas::Error);
}

TEST(OpNames, ConvWeightCountsMatchTheNaspTableAtC12) {
  using dnas::ops::conv_weight_count;
  EXPECT_EQ(conv_weight_count("conv_1x1", 12), 144);
  EXPECT_EQ(conv_weight_count("conv_3x3", 12), 1296);
  EXPECT_EQ(conv_weight_count("conv_3x1_1x3", 12), 864);
  EXPECT_EQ(conv_weight_count("conv_7x1_1x7", 12), 2016);
  EXPECT_EQ(conv_weight_count("sep_conv_3x3", 12), 504);
  EXPECT_EQ(conv_weight_count("sep_conv_5x5", 12), 888);
  EXPECT_EQ(conv_weight_count("sep_conv_7x7", 12), 1464);
  EXPECT_EQ(conv_weight_count("dil_conv_3x3", 12), 252);
  EXPECT_EQ(conv_weight_count("dil_conv_5x5", 12), 444);
  EXPECT_EQ(conv_weight_count("skip_connect", 12), 0);
  EXPECT_EQ(conv_weight_count("max_pool_3x3", 12), 0);
}
