// Index splits for search: halves, three-way, limit, shuffling, bad fractions, subset.
#include "dnas/data/split.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dnas/core/error.h"

namespace dnas::data {
namespace {

using ::testing::HasSubstr;

torch::Tensor range(int64_t begin, int64_t end) { return torch::arange(begin, end, torch::kInt64); }

TEST(Split, DefaultIsFirstAndSecondHalfInOrder) {
  const auto parts = split_indices(10, SplitOptions{});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(torch::equal(parts[0], range(0, 5)));
  EXPECT_TRUE(torch::equal(parts[1], range(5, 10)));
  // Odd n: floor for the first part, the remainder for the last.
  const auto odd = split_indices(7, SplitOptions{});
  EXPECT_TRUE(torch::equal(odd[0], range(0, 3)));
  EXPECT_TRUE(torch::equal(odd[1], range(3, 7)));
}

TEST(Split, ThreeWayIsDisjointAndCovering) {
  SplitOptions opt;
  opt.fractions = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  for (int64_t n : {9, 10, 11, 300}) {
    const auto parts = split_indices(n, opt);
    ASSERT_EQ(parts.size(), 3u);
    const auto all = torch::cat(parts);  // [n]
    EXPECT_TRUE(torch::equal(all, range(0, n))) << "n=" << n;
    for (const auto& p : parts) EXPECT_GE(p.size(0), n / 3) << "n=" << n;
  }
  opt.shuffle = true;
  const auto shuffled = split_indices(30, opt);
  auto sorted = std::get<0>(torch::cat(shuffled).sort());
  EXPECT_TRUE(torch::equal(sorted, range(0, 30)));
}

TEST(Split, FractionsBelowOneLeaveTheRestUnused) {
  SplitOptions opt;
  opt.fractions = {0.25, 0.25};
  const auto parts = split_indices(8, opt);
  EXPECT_TRUE(torch::equal(parts[0], range(0, 2)));
  EXPECT_TRUE(torch::equal(parts[1], range(2, 4)));
}

TEST(Split, LimitUsesFirstExamples) {
  SplitOptions opt;
  opt.limit = 6;
  const auto parts = split_indices(100, opt);
  EXPECT_TRUE(torch::equal(parts[0], range(0, 3)));
  EXPECT_TRUE(torch::equal(parts[1], range(3, 6)));
  opt.limit = 1000;  // larger than n: everything
  EXPECT_EQ(split_indices(100, opt)[1].size(0), 50);
  // With shuffling, the limit applies to the shuffled order.
  opt.limit = 6;
  opt.shuffle = true;
  opt.seed = 3;
  const auto shuffled = split_indices(100, opt);
  const auto perm = permutation(100, 3);
  EXPECT_EQ(shuffled[0][0].item<int64_t>(), perm[0]);
  EXPECT_EQ(shuffled[1][2].item<int64_t>(), perm[5]);
}

TEST(Split, ShuffleIsDeterministicPerSeed) {
  SplitOptions opt;
  opt.shuffle = true;
  opt.seed = 42;
  const auto a = split_indices(1000, opt);
  torch::manual_seed(1);  // torch's global RNG must not matter
  const auto b = split_indices(1000, opt);
  torch::manual_seed(2);
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  EXPECT_TRUE(torch::equal(a[1], b[1]));
  EXPECT_FALSE(torch::equal(a[0], range(0, 500)));
  opt.seed = 43;
  const auto c = split_indices(1000, opt);
  EXPECT_FALSE(torch::equal(a[0], c[0]));
  const auto all = std::get<0>(torch::cat(a).sort());
  EXPECT_TRUE(torch::equal(all, range(0, 1000)));
}

TEST(Split, BadFractionsThrowWithKey) {
  const auto expect_split_error = [](int64_t n, std::vector<double> fractions) {
    SplitOptions opt;
    opt.fractions = std::move(fractions);
    try {
      split_indices(n, opt);
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr("data.split"));
    }
  };
  expect_split_error(10, {0.5, 0.0});
  expect_split_error(10, {0.5, -0.1});
  expect_split_error(10, {0.6, 0.5});
  expect_split_error(10, {});
  expect_split_error(10, {0.01, 0.99});  // first part empty
  expect_split_error(0, {0.5, 0.5});
}

TEST(Split, SubsetPicksRows) {
  ImageSet set{torch::arange(24, torch::kUInt8).view({4, 1, 2, 3}), torch::tensor({0, 1, 2, 3}, torch::kInt64)};
  const auto sub = subset(set, torch::tensor({3, 1}, torch::kInt64));
  EXPECT_EQ(sub.size(), 2);
  EXPECT_TRUE(torch::equal(sub.labels, torch::tensor({3, 1}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(sub.images[0], set.images[3]));
  EXPECT_THROW(subset(set, torch::tensor({4}, torch::kInt64)), Error);
}

}  // namespace
}  // namespace dnas::data
