#include "dnas/optim/sgd_step.h"

#include <torch/torch.h>

#include <cmath>

#include "../ops/parallel_kernels.h"
#include "dnas/store/module_state.h"

namespace dnas::optim {
namespace {

// Elements per thread below which a parameter's loop runs on one thread (ATen's grain).
constexpr int64_t kGrain = 32768;

// The step's scalars in float32, the precision ATen computes float32 tensor operations in.
struct StepScalars {
  float clip_coef;       // gradient scale of the clipping (1: none)
  float weight_decay;    // 0: none
  float momentum;        // 0: plain SGD
  float one_minus_damp;  // 1 - dampening
  float neg_lr;          // -lr
  bool nesterov;
};

#define DNAS_SGD_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))

// Elements [begin, end) of one parameter p with gradient g and momentum buffer m (null when the
// momentum is 0). Each step rounds as the tensor operation it replaces: the products of mul_
// round on their own, and ATen's vectorised add(x, alpha) is one fused multiply-add.
DNAS_SGD_CLONES void update_elements(float* __restrict p, float* __restrict g, float* __restrict m, int64_t begin,
                                     int64_t end, StepScalars s, bool first_step) {
  for (int64_t i = begin; i < end; ++i) {
    const float grad = g[i] * s.clip_coef;  // clip_grad_norm_: grad.mul_(coef)
    g[i] = grad;
    float d = s.weight_decay != 0 ? std::fma(p[i], s.weight_decay, grad) : grad;  // d = grad.add(p, wd)
    if (m) {
      float buf;
      if (first_step) {
        buf = d;  // buf = clone(d)
      } else {
        const float decayed = m[i] * s.momentum;       // buf.mul_(momentum)
        buf = std::fma(d, s.one_minus_damp, decayed);  // .add_(d, 1 - dampening)
      }
      m[i] = buf;
      d = s.nesterov ? std::fma(buf, s.momentum, d) : buf;  // d.add(buf, momentum) or buf
    }
    p[i] = std::fma(d, s.neg_lr, p[i]);  // p.add_(d, -lr)
  }
}

// Float32 CPU tensors laid out alike (and densely), so one flat index walks all of them.
bool fused_loop_fits(const torch::Tensor& p, const torch::Tensor& g) {
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat && g.scalar_type() == torch::kFloat &&
         g.device().is_cpu() && p.is_non_overlapping_and_dense() && g.strides() == p.strides() &&
         g.sizes() == p.sizes();
}

// libtorch's SGD::step() for one parameter, in tensor operations (any device and dtype).
void step_with_tensor_ops(torch::Tensor& p, torch::Tensor& buf, bool first_step, const torch::optim::SGDOptions& o) {
  auto d = p.grad();
  if (o.weight_decay() != 0) d = d.add(p, o.weight_decay());
  if (o.momentum() != 0) {
    if (first_step)
      buf = torch::clone(d).detach();
    else
      buf.mul_(o.momentum()).add_(d, 1 - o.dampening());
    d = o.nesterov() ? d.add(buf, o.momentum()) : buf;
  }
  p.add_(d, -1 * o.lr());
}

}  // namespace

void clip_and_step(torch::optim::SGD& sgd, double max_norm) {
  torch::NoGradGuard no_grad;
  struct Entry {
    torch::Tensor param, buf;  // buf: the momentum buffer (undefined before the first step)
    const torch::optim::SGDOptions* options;
    bool fused;  // takes the fused loop
  };
  std::vector<Entry> entries;
  auto& state = sgd.state();
  for (auto& group : sgd.param_groups()) {
    const auto& o = static_cast<const torch::optim::SGDOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      torch::Tensor buf;
      if (o.momentum() != 0) {
        auto it = state.find(store::optimizer_state_key(state, p));
        if (it != state.end()) buf = static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
      }
      const bool fused = fused_loop_fits(p, p.grad()) && (!buf.defined() || fused_loop_fits(buf, p.grad()));
      entries.push_back(Entry{p, buf, &o, fused});
    }
  }
  if (entries.empty()) return;

  // The clipping coefficient exactly as clip_grad_norm_ computes it; the fused loop applies it
  // to its own parameters' gradients.
  float clip_coef = 1.0f;
  if (max_norm > 0) {
    std::vector<torch::Tensor> norms;
    norms.reserve(entries.size());
    for (const auto& e : entries) norms.push_back(e.param.grad().norm(2));
    auto total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
    auto coef = torch::clamp(max_norm / (total + 1e-6), c10::nullopt, /*max=*/1.0);  // 0-dim
    bool any_fused = false;
    for (const auto& e : entries) {
      if (!e.fused) e.param.grad().mul_(coef.to(e.param.grad().device()));
      any_fused = any_fused || e.fused;
    }
    if (any_fused) clip_coef = coef.item<float>();
  }

  for (auto& e : entries) {
    const auto& o = *e.options;
    const bool first_step = !e.buf.defined();
    if (!e.fused) {
      step_with_tensor_ops(e.param, e.buf, first_step, o);
    } else {
      if (o.momentum() != 0 && first_step) e.buf = torch::empty_like(e.param);
      const StepScalars s{clip_coef,
                          static_cast<float>(o.weight_decay()),
                          static_cast<float>(o.momentum()),
                          static_cast<float>(1 - o.dampening()),
                          static_cast<float>(-1 * o.lr()),
                          o.nesterov()};
      float* p = e.param.data_ptr<float>();
      float* g = e.param.mutable_grad().data_ptr<float>();
      float* m = o.momentum() != 0 ? e.buf.data_ptr<float>() : nullptr;
      at::parallel_for(0, e.param.numel(), kGrain,
                       [&](int64_t begin, int64_t end) { update_elements(p, g, m, begin, end, s, first_step); });
    }
    if (o.momentum() != 0 && first_step) {
      auto st = std::make_unique<torch::optim::SGDParamState>();
      st->momentum_buffer(e.buf);
      state[store::optimizer_state_key(state, e.param)] = std::move(st);
    }
  }
}

}  // namespace dnas::optim
