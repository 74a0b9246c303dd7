#pragma once
// Is a difference between two rows of a table real? Welch's t-test on the per-search-seed
// test errors of two rows (each seed's error averaged over its eval seeds), with a 95 %
// confidence interval of the difference of means, and a bootstrap interval over search seeds
// when both rows have at least five.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace dnas::sweep {

struct Comparison {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double diff = kNaN;                        // mean(a) - mean(b), in the errors' unit
  double ci_low = kNaN, ci_high = kNaN;      // 95 % Welch interval of diff
  double p = kNaN;                           // two-sided Welch t-test
  double df = kNaN;                          // Welch-Satterthwaite degrees of freedom
  double boot_low = kNaN, boot_high = kNaN;  // 95 % bootstrap interval (>= 5 seeds per row)
  // "better" (a's error lower at p < 0.05), "worse", "within noise", or "too few seeds"
  // (fewer than two per row).
  std::string verdict = "too few seeds";
};

// Row a against row b (test errors: lower is better). The bootstrap is seeded, so a report is
// reproducible.
Comparison compare_errors(const std::vector<double>& a, const std::vector<double>& b, uint64_t seed = 0);

// P(T <= t) for Student's t with `df` degrees of freedom (df > 0, not necessarily whole).
double student_t_cdf(double t, double df);
// The t with P(T <= t) = q.
double student_t_quantile(double q, double df);

}  // namespace dnas::sweep
