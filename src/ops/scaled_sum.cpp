// A cell node's drop-path products and their sum in one pass: the tensor form h0 * m0 + h1 * m1
// makes three passes over the activations forward (two products, a sum) and two backward (one
// per product); the kernel makes one each way.
#include "dnas/ops/scaled_sum.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>

#include "dnas/core/error.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

// Elements per thread below which a loop stays on one thread.
constexpr int64_t kGrainElements = 32768;
// Elements per pass over all terms, so that the partial sums stay in the cache.
constexpr int64_t kBlockElements = 2048;

// This file is compiled with -ffp-contract=off: a product and the sum it enters round
// separately, as the tensor ops do.
#define DNAS_SUM_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

DNAS_SUM_CLONES void first_term(const float* __restrict x, float s, bool scaled, float* __restrict out, int64_t n) {
  if (scaled)
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] * s;
  else
    std::copy(x, x + n, out);
}

DNAS_SUM_CLONES void add_term(const float* __restrict x, float s, bool scaled, float* __restrict out, int64_t n) {
  if (scaled)
    for (int64_t i = 0; i < n; ++i) out[i] = out[i] + x[i] * s;
  else
    for (int64_t i = 0; i < n; ++i) out[i] = out[i] + x[i];
}

DNAS_SUM_CLONES void scale_rows(const float* __restrict g, float s, float* __restrict out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * s;
}

// Calls body(sample, begin, end) for the element ranges of [0, numel) split at sample
// boundaries (each sample is `per_sample` consecutive elements), over the threads.
template <typename Body>
void for_sample_ranges(int64_t numel, int64_t per_sample, const Body& body) {
  at::parallel_for(0, numel, kGrainElements, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      const int64_t sample = i / per_sample;
      const int64_t stop = std::min({end, (sample + 1) * per_sample, i + kBlockElements});
      body(sample, i, stop);
      i = stop;
    }
  });
}

// Per-sample factors of one term: a pointer to N floats, or null for factor 1.
const float* factors(const torch::Tensor& scale) { return scale.defined() ? scale.data_ptr<float>() : nullptr; }

struct ScaledSumFunction : public torch::autograd::Function<ScaledSumFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, at::TensorList terms,
                               const std::vector<torch::Tensor>& scales) {
    const auto& x0 = terms[0];
    auto out = torch::empty_like(x0);
    const int64_t numel = x0.numel(), per_sample = numel / x0.size(0);
    std::vector<const float*> xs, ss;
    for (size_t k = 0; k < terms.size(); ++k) {
      xs.push_back(terms[k].data_ptr<float>());
      ss.push_back(factors(scales[k]));
    }
    float* o = out.data_ptr<float>();
    for_sample_ranges(numel, per_sample, [&](int64_t n, int64_t b, int64_t e) {
      first_term(xs[0] + b, ss[0] ? ss[0][n] : 1.f, ss[0] != nullptr, o + b, e - b);
      for (size_t k = 1; k < xs.size(); ++k)
        add_term(xs[k] + b, ss[k] ? ss[k][n] : 1.f, ss[k] != nullptr, o + b, e - b);
    });
    ctx->save_for_backward(scales);  // undefined entries stay undefined
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto scales = ctx->get_saved_variables();
    auto g = grads[0];
    if (!g.defined()) return torch::autograd::variable_list(scales.size() + 1);
    const bool dense = g.is_contiguous() || g.is_contiguous(at::MemoryFormat::ChannelsLast);
    torch::autograd::variable_list out;
    for (const auto& s : scales) {
      if (!s.defined()) {
        out.push_back(g);  // d(a + b)/da passes the gradient on, as AddBackward does
      } else if (!dense || g.scalar_type() != torch::kFloat) {
        out.push_back(g * s.view(broadcast_shape(g, s)));
      } else {
        auto gs = torch::empty_like(g);
        const float* gp = g.data_ptr<float>();
        const float* sp = s.data_ptr<float>();
        float* op = gs.data_ptr<float>();
        const int64_t numel = g.numel();
        for_sample_ranges(numel, numel / g.size(0),
                          [&](int64_t n, int64_t b, int64_t e) { scale_rows(gp + b, sp[n], op + b, e - b); });
        out.push_back(gs);
      }
    }
    out.emplace_back();  // no gradient for the factors
    return out;
  }

  // [N] factors viewed as [N, 1, ..., 1] against a gradient of g's rank.
  static std::vector<int64_t> broadcast_shape(const torch::Tensor& g, const torch::Tensor& s) {
    std::vector<int64_t> shape(static_cast<size_t>(g.dim()), 1);
    shape[0] = s.numel();
    return shape;
  }
};

// Whether the kernel takes these terms: float32 on the CPU with autocast off, one shape and one
// dense layout (NCHW or NHWC, so each sample is one run of consecutive elements), and float32
// per-sample factors that need no gradient.
bool kernel_takes(const std::vector<torch::Tensor>& terms, const std::vector<torch::Tensor>& scales) {
  const auto& x0 = terms[0];
  if (!x0.device().is_cpu() || x0.scalar_type() != torch::kFloat || x0.dim() < 1 || x0.size(0) == 0 ||
      at::autocast::is_cpu_enabled())
    return false;
  if (!(x0.is_contiguous() || x0.is_contiguous(at::MemoryFormat::ChannelsLast))) return false;
  for (size_t k = 0; k < terms.size(); ++k) {
    const auto& x = terms[k];
    if (x.sizes() != x0.sizes() || x.strides() != x0.strides() || x.scalar_type() != torch::kFloat ||
        !x.device().is_cpu())
      return false;
    const auto& s = scales[k];
    if (s.defined() && (s.scalar_type() != torch::kFloat || !s.is_contiguous() || s.numel() != x0.size(0) ||
                        s.requires_grad() || !s.device().is_cpu()))
      return false;
  }
  return true;
}

}  // namespace

torch::Tensor scaled_sum(const std::vector<torch::Tensor>& terms, const std::vector<torch::Tensor>& scales) {
  if (terms.empty() || terms.size() != scales.size())
    fail("scaled_sum takes one factor (or none) per term: got " + std::to_string(terms.size()) + " terms and " +
             std::to_string(scales.size()) + " factors",
         "ops::scaled_sum", "pass an undefined tensor for an unscaled term");
  if (terms.size() == 1 && !scales[0].defined()) return terms[0];
  if (kernel_takes(terms, scales)) {
    std::vector<torch::Tensor> flat;
    for (const auto& s : scales) flat.push_back(s.defined() ? s.reshape({-1}) : s);
    return ScaledSumFunction::apply(at::TensorList(terms), flat);
  }
  torch::Tensor sum;
  for (size_t k = 0; k < terms.size(); ++k) {
    const auto term = scales[k].defined() ? terms[k] * scales[k] : terms[k];
    sum = sum.defined() ? sum + term : term;
  }
  return sum;
}

}  // namespace dnas::ops
