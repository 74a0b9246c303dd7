#include "dnas/genotype/published.h"

#include <gtest/gtest.h>

#include "dnas/core/error.h"

namespace dnas::genotype {
namespace {

TEST(Published, ListsTheExpectedNames) {
  for (const char* name : {"NASNet", "AmoebaNet", "DARTS_V1", "DARTS_V2", "NASP_12", "GNAS_2"})
    EXPECT_TRUE(is_published_genotype(name)) << name;
  EXPECT_TRUE(is_published_genotype("darts_v2"));
  EXPECT_TRUE(is_published_genotype("DARTS"));
  EXPECT_FALSE(is_published_genotype("DARTS_V3"));
  EXPECT_EQ(published_genotype("DARTS"), published_genotype("DARTS_V2"));
}

TEST(Published, EveryGenotypeParsesValidatesAndRoundTrips) {
  for (const auto& p : published_genotypes()) {
    SCOPED_TRACE(p.name);
    const Genotype g = published_genotype(p.name);
    EXPECT_NO_THROW(validate_genotype(g, p.name));
    EXPECT_EQ(parse_genotype(to_string(g), "round trip"), g);
    EXPECT_GT(p.cifar10_error, 0.0);
    EXPECT_GT(p.params_m, 0.0);
    EXPECT_FALSE(p.paper.empty());
  }
}

TEST(Published, CellShapes) {
  const Genotype nasnet = published_genotype("NASNet");
  EXPECT_EQ(nasnet.normal.steps(), 5);
  EXPECT_EQ(nasnet.normal.concat, (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(nasnet.reduce.concat, (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(count_op(nasnet.reduce, "sep_conv_7x7"), 2);
  const Genotype amoeba = published_genotype("AmoebaNet");
  EXPECT_EQ(amoeba.reduce.steps(), 5);
  EXPECT_EQ(amoeba.reduce.concat, (std::vector<int>{3, 4, 6}));
  EXPECT_EQ(amoeba.reduce.nodes[4][0], (Gene{"conv_7x1_1x7", 0}));
  EXPECT_EQ(amoeba.reduce.nodes[4][1], (Gene{"sep_conv_3x3", 5}));
  const Genotype nasp = published_genotype("NASP_12");
  EXPECT_EQ(nasp.normal.nodes[0][1], (Gene{"conv_3x3", 1}));  // 'conv 3x3' alias mapped
  EXPECT_EQ(nasp.normal.concat, (std::vector<int>{2, 3, 4, 5}));
  EXPECT_EQ(count_op(nasp.reduce, "skip_connect"), 5);
}

TEST(Published, SkipConnectCounts) {
  EXPECT_EQ(count_op(published_genotype("DARTS_V2").normal, "skip_connect"), 2);
  EXPECT_EQ(count_op(published_genotype("DARTS_V2").reduce, "skip_connect"), 3);
  EXPECT_EQ(count_op(published_genotype("DARTS_V1").normal, "skip_connect"), 3);
  EXPECT_EQ(count_op(published_genotype("DARTS_V1").reduce, "skip_connect"), 3);
  EXPECT_EQ(count_op(published_genotype("DARTS_V1").normal, "identity"), 3);  // alias
  EXPECT_EQ(count_op(published_genotype("GNAS_2").normal, "skip_connect"), 2);
}

TEST(Published, Facts) {
  EXPECT_DOUBLE_EQ(published_genotype_info("DARTS_V2").cifar10_error, 2.76);
  EXPECT_DOUBLE_EQ(published_genotype_info("DARTS_V1").cifar10_error, 3.00);
  EXPECT_DOUBLE_EQ(published_genotype_info("NASNet").cifar10_error, 2.65);
  EXPECT_DOUBLE_EQ(published_genotype_info("AmoebaNet").params_m, 3.2);
  EXPECT_DOUBLE_EQ(published_genotype_info("NASP_12").params_m, 7.4);
  EXPECT_DOUBLE_EQ(published_genotype_info("NASP_12").cifar10_error, 2.5);
}

TEST(Published, UnknownNameListsKnownNames) {
  try {
    published_genotype("ENAS");
    FAIL() << "no error thrown";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("ENAS"), std::string::npos) << msg;
    for (const char* name : {"NASNet", "AmoebaNet", "DARTS_V1", "DARTS_V2", "NASP_12"})
      EXPECT_NE(msg.find(name), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace dnas::genotype
