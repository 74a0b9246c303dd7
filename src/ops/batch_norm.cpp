#include "dnas/ops/batch_norm.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "activation_values.h"
#include "parallel_kernels.h"

namespace dnas::ops {
namespace {

// A channels-last tensor is a [rows = N*H*W, C] row-major matrix of float32 or bfloat16
// activations (read as float; statistics, scale and offset in float32). Reductions run over a fixed
// number of row chunks (it depends only on the shape), summed in chunk order: the result does
// not depend on the thread count.
#define DNAS_BN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
using BF16 = c10::BFloat16;

struct Chunks {
  int64_t rows, count, size;
  explicit Chunks(int64_t r) : rows(r), count(std::clamp<int64_t>(r / 512, 1, 64)), size((r + count - 1) / count) {}
  int64_t begin(int64_t k) const { return std::min(rows, k * size); }
  int64_t end(int64_t k) const { return std::min(rows, (k + 1) * size); }
};

__attribute__((always_inline)) inline float affine(float x, float a, float b) { return x * a + b; }

// sum[c] += x - shift[c], sq[c] += (x - shift[c])^2 over rows [r0, r1).
template <class T>
__attribute__((always_inline)) inline void shifted_sums_impl(const T* __restrict x, int64_t r0, int64_t r1, int64_t C,
                                                             const float* __restrict shift, double* __restrict sum,
                                                             double* __restrict sq) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = x + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const double d = static_cast<double>(widen(row[c]) - shift[c]);
      sum[c] += d;
      sq[c] += d * d;
    }
  }
}

DNAS_BN_CLONES
void shifted_sums(const float* x, int64_t r0, int64_t r1, int64_t C, const float* shift, double* sum, double* sq) {
  shifted_sums_impl(x, r0, r1, C, shift, sum, sq);
}

DNAS_BN_CLONES
void shifted_sums(const BF16* x, int64_t r0, int64_t r1, int64_t C, const float* shift, double* sum, double* sq) {
  shifted_sums_impl(x, r0, r1, C, shift, sum, sq);
}

// The ReLU's gradient mask, recomputed from x exactly as the forward computed y.
template <bool kRelu>
__attribute__((always_inline)) inline float masked(float grad, float x, float a, float b) {
  if constexpr (kRelu) {
    // A bit mask rather than a branch, so that the loops stay vectorised.
    uint32_t bits;
    __builtin_memcpy(&bits, &grad, sizeof bits);
    bits &= -static_cast<uint32_t>(affine(x, a, b) > 0.f);
    __builtin_memcpy(&grad, &bits, sizeof bits);
  }
  return grad;
}

// y = x * a + b (then ReLU) over rows [r0, r1).
template <bool kRelu, class T>
__attribute__((always_inline)) inline void normalize_rows_impl(const T* __restrict x, T* __restrict y, int64_t r0,
                                                               int64_t r1, int64_t C, const float* __restrict a,
                                                               const float* __restrict b) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* in = x + r * C;
    T* out = y + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const float v = affine(widen(in[c]), a[c], b[c]);
      put(out + c, kRelu ? (v > 0.f || v != v ? v : 0.f) : v);  // a NaN stays NaN, as torch::relu keeps it
    }
  }
}

DNAS_BN_CLONES
void normalize_rows(const float* x, float* y, int64_t r0, int64_t r1, int64_t C, const float* a, const float* b,
                    bool relu) {
  if (relu) return normalize_rows_impl<true>(x, y, r0, r1, C, a, b);
  normalize_rows_impl<false>(x, y, r0, r1, C, a, b);
}

DNAS_BN_CLONES
void normalize_rows(const BF16* x, BF16* y, int64_t r0, int64_t r1, int64_t C, const float* a, const float* b,
                    bool relu) {
  if (relu) return normalize_rows_impl<true>(x, y, r0, r1, C, a, b);
  normalize_rows_impl<false>(x, y, r0, r1, C, a, b);
}

// sg[c] += g, sgx[c] += g * (x - mean[c]) with g = dy, masked by the ReLU when kRelu.
template <bool kRelu, class T>
__attribute__((always_inline)) inline void gradient_sums_impl(const T* __restrict x, const T* __restrict dy, int64_t r0,
                                                              int64_t r1, int64_t C, const float* __restrict a,
                                                              const float* __restrict b, const float* __restrict mean,
                                                              double* __restrict sg, double* __restrict sgx) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* in = x + r * C;
    const T* grad = dy + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const float xc = widen(in[c]);
      const float g = masked<kRelu>(widen(grad[c]), xc, a[c], b[c]);
      sg[c] += g;
      sgx[c] += static_cast<double>(g * (xc - mean[c]));
    }
  }
}

DNAS_BN_CLONES
void gradient_sums(const float* x, const float* dy, int64_t r0, int64_t r1, int64_t C, const float* a, const float* b,
                   const float* mean, bool relu, double* sg, double* sgx) {
  if (relu) return gradient_sums_impl<true>(x, dy, r0, r1, C, a, b, mean, sg, sgx);
  gradient_sums_impl<false>(x, dy, r0, r1, C, a, b, mean, sg, sgx);
}

DNAS_BN_CLONES
void gradient_sums(const BF16* x, const BF16* dy, int64_t r0, int64_t r1, int64_t C, const float* a, const float* b,
                   const float* mean, bool relu, double* sg, double* sgx) {
  if (relu) return gradient_sums_impl<true>(x, dy, r0, r1, C, a, b, mean, sg, sgx);
  gradient_sums_impl<false>(x, dy, r0, r1, C, a, b, mean, sg, sgx);
}

// dx = g * a + x * B + D (g as in gradient_sums).
template <bool kRelu, class T>
__attribute__((always_inline)) inline void input_gradient_impl(const T* __restrict x, const T* __restrict dy,
                                                               T* __restrict dx, int64_t r0, int64_t r1, int64_t C,
                                                               const float* __restrict a, const float* __restrict b,
                                                               const float* __restrict coef_x,
                                                               const float* __restrict coef_d) {
  for (int64_t r = r0; r < r1; ++r) {
    const T* in = x + r * C;
    const T* grad = dy + r * C;
    T* out = dx + r * C;
    for (int64_t c = 0; c < C; ++c) {
      const float xc = widen(in[c]);
      put(out + c, masked<kRelu>(widen(grad[c]), xc, a[c], b[c]) * a[c] + xc * coef_x[c] + coef_d[c]);
    }
  }
}

DNAS_BN_CLONES
void input_gradient_rows(const float* x, const float* dy, float* dx, int64_t r0, int64_t r1, int64_t C, const float* a,
                         const float* b, const float* coef_x, const float* coef_d, bool relu) {
  if (relu) return input_gradient_impl<true>(x, dy, dx, r0, r1, C, a, b, coef_x, coef_d);
  input_gradient_impl<false>(x, dy, dx, r0, r1, C, a, b, coef_x, coef_d);
}

DNAS_BN_CLONES
void input_gradient_rows(const BF16* x, const BF16* dy, BF16* dx, int64_t r0, int64_t r1, int64_t C, const float* a,
                         const float* b, const float* coef_x, const float* coef_d, bool relu) {
  if (relu) return input_gradient_impl<true>(x, dy, dx, r0, r1, C, a, b, coef_x, coef_d);
  input_gradient_impl<false>(x, dy, dx, r0, r1, C, a, b, coef_x, coef_d);
}

// Sums per-chunk [count, C] partials into [C] in chunk order.
std::vector<double> total(const std::vector<double>& partial, int64_t count, int64_t C) {
  std::vector<double> out(static_cast<size_t>(C), 0.0);
  for (int64_t k = 0; k < count; ++k)
    for (int64_t c = 0; c < C; ++c) out[static_cast<size_t>(c)] += partial[static_cast<size_t>(k * C + c)];
  return out;
}

class BatchNormFunction : public torch::autograd::Function<BatchNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               const torch::Tensor& weight, const torch::Tensor& bias, torch::Tensor running_mean,
                               torch::Tensor running_var, double momentum, double eps, bool relu) {
    const int64_t C = input.size(1), M = input.numel() / C;
    const Chunks chunks(M);
    std::vector<float> shift(static_cast<size_t>(C));
    std::vector<double> psum(static_cast<size_t>(chunks.count * C), 0.0), psq(psum.size(), 0.0);
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      const T* x = input.data_ptr<T>();
      // Shifted by the first row so that the one-pass variance keeps its precision.
      for (int64_t c = 0; c < C; ++c) shift[static_cast<size_t>(c)] = widen(x[c]);
      at::parallel_for(0, chunks.count, 1, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
          shifted_sums(x, chunks.begin(k), chunks.end(k), C, shift.data(), psum.data() + k * C, psq.data() + k * C);
      });
    });
    const auto sum = total(psum, chunks.count, C), sq = total(psq, chunks.count, C);
    auto opts = input.options().dtype(torch::kFloat32);
    auto mean = torch::empty({C}, opts), invstd = torch::empty({C}, opts);
    auto scale = torch::empty({C}, opts), offset = torch::empty({C}, opts);
    const bool affine_bn = weight.numel() > 0;  // a non-affine BN passes empty placeholders
    const auto gamma = affine_bn ? weight.detach().to(torch::kFloat32).contiguous() : torch::ones({C}, opts);
    const auto beta = affine_bn ? bias.detach().to(torch::kFloat32).contiguous() : torch::zeros({C}, opts);
    const float* g = gamma.data_ptr<float>();
    const float* be = beta.data_ptr<float>();
    float *mp = mean.data_ptr<float>(), *ip = invstd.data_ptr<float>();
    float *sp = scale.data_ptr<float>(), *op = offset.data_ptr<float>();
    std::vector<double> var(static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
      const auto i = static_cast<size_t>(c);
      const double m = sum[i] / static_cast<double>(M);
      var[i] = std::max(sq[i] / static_cast<double>(M) - m * m, 0.0);
      const double mu = m + shift[i];
      const double inv = 1.0 / std::sqrt(var[i] + eps);
      mp[c] = static_cast<float>(mu);
      ip[c] = static_cast<float>(inv);
      sp[c] = static_cast<float>(g[c] * inv);
      op[c] = static_cast<float>(be[c] - mu * g[c] * inv);
    }
    if (running_mean.numel() > 0) {
      torch::NoGradGuard no_grad;
      auto batch_var = torch::tensor(var, torch::kFloat64).mul_(static_cast<double>(M) / std::max<int64_t>(M - 1, 1));
      running_mean.mul_(1.0 - momentum).add_(mean, momentum);
      running_var.mul_(1.0 - momentum).add_(batch_var.to(torch::kFloat32), momentum);
    }
    auto out = torch::empty_like(input, torch::MemoryFormat::ChannelsLast);
    const float* a = scale.data_ptr<float>();
    const float* b = offset.data_ptr<float>();
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      const T* x = input.data_ptr<T>();
      T* y = out.data_ptr<T>();
      at::parallel_for(0, chunks.count, 1, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k) normalize_rows(x, y, chunks.begin(k), chunks.end(k), C, a, b, relu);
      });
    });
    ctx->save_for_backward({input, scale, offset, mean, invstd});
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["affine"] = affine_bn;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& input = saved[0];
    const bool relu = ctx->saved_data["relu"].toBool();
    const int64_t C = input.size(1), M = input.numel() / C;
    const auto dy_t = grads[0].to(input.scalar_type()).contiguous(torch::MemoryFormat::ChannelsLast);
    const float* a = saved[1].data_ptr<float>();
    const float* b = saved[2].data_ptr<float>();
    const float* mean = saved[3].data_ptr<float>();
    const float* invstd = saved[4].data_ptr<float>();
    const Chunks chunks(M);
    std::vector<double> psg(static_cast<size_t>(chunks.count * C), 0.0), psgx(psg.size(), 0.0);
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      const T* x = input.data_ptr<T>();
      const T* dy = dy_t.data_ptr<T>();
      at::parallel_for(0, chunks.count, 1, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
          gradient_sums(x, dy, chunks.begin(k), chunks.end(k), C, a, b, mean, relu, psg.data() + k * C,
                        psgx.data() + k * C);
      });
    });
    const auto sg = total(psg, chunks.count, C), sgx = total(psgx, chunks.count, C);
    std::vector<float> coef_x(static_cast<size_t>(C)), coef_d(static_cast<size_t>(C));
    const auto opts = input.options().dtype(torch::kFloat32);
    auto grad_weight = torch::empty({C}, opts), grad_bias = torch::empty({C}, opts);
    float *gw = grad_weight.data_ptr<float>(), *gb = grad_bias.data_ptr<float>();
    for (int64_t c = 0; c < C; ++c) {
      const auto i = static_cast<size_t>(c);
      const double inv = invstd[c];
      const double bx = -static_cast<double>(a[c]) * inv * inv * sgx[i] / static_cast<double>(M);
      coef_x[i] = static_cast<float>(bx);
      coef_d[i] = static_cast<float>(-mean[c] * bx - a[c] * sg[i] / static_cast<double>(M));
      gw[c] = static_cast<float>(sgx[i] * inv);
      gb[c] = static_cast<float>(sg[i]);
    }
    auto dx_t = torch::empty_like(input, torch::MemoryFormat::ChannelsLast);
    with_activation_type(input, [&](auto* type) {
      using T = std::remove_pointer_t<decltype(type)>;
      const T* x = input.data_ptr<T>();
      const T* dy = dy_t.data_ptr<T>();
      T* dx = dx_t.data_ptr<T>();
      at::parallel_for(0, chunks.count, 1, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
          input_gradient_rows(x, dy, dx, chunks.begin(k), chunks.end(k), C, a, b, coef_x.data(), coef_d.data(), relu);
      });
    });
    const bool affine_bn = ctx->saved_data["affine"].toBool();
    return {dx_t, affine_bn ? grad_weight : torch::Tensor(), affine_bn ? grad_bias : torch::Tensor(), {}, {}, {}, {},
            {}};
  }
};

}  // namespace

bool channels_last_kernel(const torch::Tensor& x) {
  const auto type = x.scalar_type();
  return x.dim() == 4 && x.device().is_cpu() && (type == torch::kFloat32 || type == torch::kBFloat16) &&
         x.is_contiguous(torch::MemoryFormat::ChannelsLast) && x.numel() > 0;
}

torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x, bool relu) {
  const auto& o = bn.options;
  const bool batch_stats = bn.is_training() || !o.track_running_stats();
  double momentum = o.momentum().value_or(0.0);
  if (bn.is_training() && o.track_running_stats() && bn.num_batches_tracked.defined()) {
    bn.num_batches_tracked += 1;
    if (!o.momentum()) momentum = 1.0 / bn.num_batches_tracked.item<double>();
  }
  if (batch_stats && channels_last_kernel(x) && x.numel() / x.size(1) > 1) {
    // Autograd functions take no undefined tensors: empty ones stand for "none".
    const auto none = torch::empty({0}, x.options());
    const bool update = bn.is_training() && o.track_running_stats();
    return BatchNormFunction::apply(x, o.affine() ? bn.weight : none, o.affine() ? bn.bias : none,
                                    update ? bn.running_mean : none, update ? bn.running_var : none, momentum, o.eps(),
                                    relu);
  }
  auto y = torch::batch_norm(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, batch_stats, momentum, o.eps(),
                             /*cudnn_enabled=*/true);
  return relu ? torch::relu(y) : y;
}

torch::Tensor forward_sequential(torch::nn::Sequential& seq, torch::Tensor x, size_t first) {
  const size_t n = seq->size();
  for (size_t i = first; i < n; ++i) {
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(seq->ptr(i).get())) {
      const bool relu_next = i + 1 < n && dynamic_cast<torch::nn::ReLUImpl*>(seq->ptr(i + 1).get());
      x = batch_norm(*bn, x, relu_next);
      if (relu_next) ++i;
    } else {
      x = seq->begin()[static_cast<std::ptrdiff_t>(i)].forward(x);
    }
  }
  return x;
}

}  // namespace dnas::ops
