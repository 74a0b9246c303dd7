#include "dnas/sweep/significance.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace dnas::sweep {
namespace {

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double variance(const std::vector<double>& v) {  // sample variance (n - 1)
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return s / static_cast<double>(v.size() - 1);
}

// The continued fraction of the regularised incomplete beta function I_x(a, b) (modified
// Lentz method), converging for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  d = 1.0 / (std::fabs(d) < tiny ? tiny : d);
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    for (const double coefficient :
         {m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))}) {
      d = 1.0 + coefficient * d;
      d = 1.0 / (std::fabs(d) < tiny ? tiny : d);
      c = 1.0 + coefficient / c;
      if (std::fabs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (std::fabs(d * c - 1.0) < eps) break;
  }
  return h;
}

// I_x(a, b).
double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double front =
      std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_fraction(a, b, x) / a;
  return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

}  // namespace

double student_t_cdf(double t, double df) {
  const double tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));  // P(T > |t|)
  return t >= 0 ? 1.0 - tail : tail;
}

double student_t_quantile(double q, double df) {
  double lo = -1e3, hi = 1e3;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (student_t_cdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

Comparison compare_errors(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed) {
  Comparison c;
  if (a.empty() || b.empty()) return c;
  c.diff = mean(a) - mean(b);
  if (a.size() < 2 || b.size() < 2) return c;
  const double va = variance(a) / static_cast<double>(a.size()), vb = variance(b) / static_cast<double>(b.size());
  const double se = std::sqrt(va + vb);
  if (se == 0.0) {  // no spread in either row: the difference is exact
    c.p = c.diff == 0.0 ? 1.0 : 0.0;
    c.ci_low = c.ci_high = c.diff;
  } else {
    c.df = (va + vb) * (va + vb) /
           (va * va / static_cast<double>(a.size() - 1) + vb * vb / static_cast<double>(b.size() - 1));
    const double t = c.diff / se;
    c.p = 2.0 * (1.0 - student_t_cdf(std::fabs(t), c.df));
    const double half = student_t_quantile(0.975, c.df) * se;
    c.ci_low = c.diff - half;
    c.ci_high = c.diff + half;
  }
  if (a.size() >= 5 && b.size() >= 5) {  // percentile bootstrap over search seeds
    std::mt19937_64 rng(seed);
    std::vector<double> diffs;
    auto resampled_mean = [&](const std::vector<double>& v) {
      std::uniform_int_distribution<size_t> pick(0, v.size() - 1);
      double s = 0;
      for (size_t i = 0; i < v.size(); ++i) s += v[pick(rng)];
      return s / static_cast<double>(v.size());
    };
    for (int i = 0; i < 10000; ++i) diffs.push_back(resampled_mean(a) - resampled_mean(b));
    std::sort(diffs.begin(), diffs.end());
    c.boot_low = diffs[249];    // 2.5 %
    c.boot_high = diffs[9749];  // 97.5 %
  }
  c.verdict = c.p < 0.05 ? (c.diff < 0 ? "better" : "worse") : "within noise";
  return c;
}

}  // namespace dnas::sweep
