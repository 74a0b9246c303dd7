#include "dnas/search/hypergradient.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace dnas::search {
namespace {

// p += scale * d for every tensor pair (one fused multiply-add each), without autograd.
void axpy(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& d, double scale) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) params[i].add_(d[i], scale);
}

}  // namespace

std::vector<torch::Tensor> gradients_or_zeros(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs) {
  auto grads = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/c10::nullopt,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);
  return grads;
}

double finite_difference_epsilon(const std::vector<torch::Tensor>& v, double radius) {
  double sq = 0.0;
  for (const auto& t : v) sq += t.pow(2).sum().item<double>();
  return radius / std::max(std::sqrt(sq), 1e-12);
}

double clip_to_norm(std::vector<torch::Tensor>& grads, double max_norm) {
  if (max_norm <= 0) return 1;
  double norm2 = 0;
  for (const auto& g : grads) norm2 += g.pow(2).sum().item<double>();
  const double k = max_norm / (std::sqrt(norm2) + 1e-6);
  if (k < 1) {
    torch::NoGradGuard no_grad;
    for (auto& g : grads) g = g * k;
  }
  return k;
}

std::vector<torch::Tensor> unrolled_hypergradient(const UnrolledProblem& p) {
  const auto& w = p.weights;
  std::vector<torch::Tensor> saved;
  for (const auto& t : w) saved.push_back(t.detach().clone());
  const auto restore = [&] {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < w.size(); ++i) w[i].copy_(saved[i]);
  };
  const auto average = [&](const std::vector<torch::Tensor>& grads) {
    if (p.average) p.average(grads);
  };

  // w' from g = dL_train(w)/dw; k is g's clip coefficient
  auto g = gradients_or_zeros(p.step_loss(), w);
  average(g);
  const double k = clip_to_norm(g, p.clip);
  {
    torch::NoGradGuard no_grad;
    p.virtual_step(g);
  }
  // dL_val(w', a)/da and v = dL_val(w', a)/dw'
  std::vector<torch::Tensor> inputs = p.arch;
  inputs.insert(inputs.end(), w.begin(), w.end());
  auto val_grads = gradients_or_zeros(p.val_loss(), inputs);
  average(val_grads);
  const auto n_arch = static_cast<std::ptrdiff_t>(p.arch.size());
  std::vector<torch::Tensor> hypergradient(val_grads.begin(), val_grads.begin() + n_arch);
  std::vector<torch::Tensor> v(val_grads.begin() + n_arch, val_grads.end());
  clip_to_norm(v, p.clip);
  const double eps = finite_difference_epsilon(v, p.hessian_radius);

  // (g+ - g-) / (2 eps) with g+- = dL_train(w +- eps v, a)/da
  if (p.form == FiniteDifferenceForm::Cnn) {
    restore();
    axpy(w, v, eps);
    const auto g_plus = gradients_or_zeros(p.train_loss(), p.arch);
    axpy(w, v, -2.0 * eps);
    const auto g_minus = gradients_or_zeros(p.train_loss(), p.arch);
    restore();
    std::vector<torch::Tensor> hessian_term;
    for (size_t a = 0; a < p.arch.size(); ++a) hessian_term.push_back((g_plus[a] - g_minus[a]) / (2.0 * eps));
    average(hessian_term);
    for (size_t a = 0; a < p.arch.size(); ++a) hypergradient[a] = hypergradient[a] - p.xi * hessian_term[a];
    return hypergradient;
  }
  const auto train_grad_at = [&](double sign) {
    restore();
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < w.size(); ++i) w[i].add_(sign * eps * v[i]);
    }
    return gradients_or_zeros(p.train_loss(), p.arch);
  };
  const auto g_plus = train_grad_at(+1), g_minus = train_grad_at(-1);
  restore();
  std::vector<torch::Tensor> difference;
  for (size_t a = 0; a < p.arch.size(); ++a) difference.push_back(g_plus[a] - g_minus[a]);
  average(difference);
  for (size_t a = 0; a < p.arch.size(); ++a) hypergradient[a] = hypergradient[a] - p.xi * k * difference[a] / (2 * eps);
  return hypergradient;
}

}  // namespace dnas::search
