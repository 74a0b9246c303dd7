// Welch's t-test of two report rows against values computed by hand and with SciPy
// (scipy.stats.ttest_ind(a, b, equal_var=False), scipy.stats.t).
#include "dnas/sweep/significance.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dnas::sweep {
namespace {

TEST(Significance, StudentTAgainstScipy) {
  EXPECT_NEAR(student_t_cdf(-1.3, 2.5), 0.15024339463535397, 1e-10);
  EXPECT_NEAR(student_t_cdf(0.7, 30.2), 0.7553575197376795, 1e-10);
  EXPECT_NEAR(student_t_cdf(0.0, 7.0), 0.5, 1e-12);
  EXPECT_NEAR(student_t_quantile(0.975, 4.0), 2.7764451051977987, 1e-8);
}

TEST(Significance, WelchOnAHandExample) {
  // a = {10, 12, 14}, b = {20, 22, 24}: difference -10, each variance 4, se = sqrt(8/3),
  // t = -6.1237, df = 4 exactly, p = 0.0036022 (SciPy).
  const auto c = compare_errors({10, 12, 14}, {20, 22, 24});
  EXPECT_DOUBLE_EQ(c.diff, -10.0);
  EXPECT_NEAR(c.df, 4.0, 1e-12);
  EXPECT_NEAR(c.p, 0.0036022326091040033, 1e-9);
  const double half = 2.7764451051977987 * std::sqrt(8.0 / 3.0);
  EXPECT_NEAR(c.ci_low, -10.0 - half, 1e-7);
  EXPECT_NEAR(c.ci_high, -10.0 + half, 1e-7);
  EXPECT_EQ(c.verdict, "better");  // a's error is lower
  EXPECT_EQ(compare_errors({20, 22, 24}, {10, 12, 14}).verdict, "worse");
}

TEST(Significance, UnequalSizesAgainstScipy) {
  const auto c = compare_errors({25.1, 23.9, 26.3}, {24.8, 27.0, 25.5, 26.1});
  EXPECT_NEAR(c.p, 0.42355853889428163, 1e-9);
  EXPECT_NEAR(c.df, 3.7146743020758737, 1e-9);
  EXPECT_NEAR(c.ci_low, -3.140748379423058, 1e-6);
  EXPECT_NEAR(c.ci_high, 1.640748379423051, 1e-6);
  EXPECT_EQ(c.verdict, "within noise");
  EXPECT_TRUE(std::isnan(c.boot_low));  // fewer than five seeds
}

TEST(Significance, OneSeedHasNoTestAndFiveHaveABootstrap) {
  const auto one = compare_errors({25.0}, {24.0, 26.0});
  EXPECT_DOUBLE_EQ(one.diff, 0.0);
  EXPECT_TRUE(std::isnan(one.p));
  EXPECT_EQ(one.verdict, "too few seeds");
  const auto five = compare_errors({10, 11, 12, 13, 14}, {20, 21, 22, 23, 24});
  // Every resample of a lies in [10, 14] and of b in [20, 24]: the interval is inside [-14, -6]
  // and holds the observed difference.
  EXPECT_LE(-14.0, five.boot_low);
  EXPECT_LT(five.boot_low, -10.0);
  EXPECT_LT(-10.0, five.boot_high);
  EXPECT_LE(five.boot_high, -6.0);
  EXPECT_EQ(compare_errors({10, 11, 12, 13, 14}, {20, 21, 22, 23, 24}, 0).boot_low, five.boot_low);  // seeded
}

}  // namespace
}  // namespace dnas::sweep
