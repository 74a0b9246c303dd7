#include "dnas/search/darts.h"

#include <torch/torch.h>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"

namespace dnas::search {
namespace {

torch::Tensor cross_entropy(WeightTrainer& w, const TensorBatch& b, const supernet::ArchMix& mix,
                            BatchStats* stats) {
  auto logits = w.net->forward(b.x, mix);  // [B, K]
  auto loss = torch::cross_entropy_loss(logits, b.y);
  if (stats) *stats = batch_stats(logits, b.y, loss.item<double>());
  return loss;
}

// p += scale * d for every tensor pair, without autograd.
void axpy(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& d, double scale) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) params[i].add_(d[i], scale);
}

// d loss / d inputs, with zeros for inputs the graph does not reach (e.g. skipped ops).
std::vector<torch::Tensor> grad_or_zero(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs) {
  auto grads = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/c10::nullopt,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < grads.size(); ++i)
    if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);
  return grads;
}

}  // namespace

double finite_difference_epsilon(const std::vector<torch::Tensor>& v, double radius) {
  double sq = 0.0;
  for (const auto& t : v) sq += t.pow(2).sum().item<double>();
  return radius / std::sqrt(sq);
}

DartsStrategy::DartsStrategy(int order, const supernet::SupernetConfig& net, const OptimConfig& optim)
    : order_(order),
      hessian_radius_(optim.hessian_radius),
      output_edges_(optim.derive_edges == "output"),
      net_(net),
      arch_(genotype::num_edges(net.steps), static_cast<int64_t>(net.normal_ops.size()),
            static_cast<int64_t>(net.reduce_ops.size()), optim, net.device) {}

supernet::ArchMix DartsStrategy::mix(bool detach) const {
  auto n = detach ? arch_.alpha_normal.detach() : arch_.alpha_normal;
  auto r = detach ? arch_.alpha_reduce.detach() : arch_.alpha_reduce;
  return {supernet::soft_mix(torch::softmax(n, -1)), supernet::soft_mix(torch::softmax(r, -1))};
}

supernet::ArchMix DartsStrategy::inference_mix() const { return mix(/*detach=*/true); }

std::vector<torch::Tensor> DartsStrategy::first_order_gradient(WeightTrainer& w, const TensorBatch& val,
                                                               BatchStats* stats) {
  return grad_or_zero(cross_entropy(w, val, mix(false), stats), arch_.list());
}

std::vector<torch::Tensor> DartsStrategy::second_order_gradient(WeightTrainer& w,
                                                                const TensorBatch& train,
                                                                const TensorBatch& val,
                                                                BatchStats* stats) {
  const double xi = w.lr(), mu = w.options().momentum, wd = w.options().weight_decay;
  auto params = w.net->parameters();
  std::vector<torch::Tensor> saved;
  for (const auto& p : params) saved.push_back(p.detach().clone());

  // w' = w - xi (mu m + grad L_train(w) + wd w)
  auto train_grads = grad_or_zero(cross_entropy(w, train, mix(true), nullptr), params);
  w.average(train_grads);
  auto momentum = w.momentum_buffers();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i)
      params[i].sub_(xi * (mu * momentum[i] + train_grads[i] + wd * saved[i]));
  }
  // g1 = dL_val(w', a)/da, v = dL_val(w', a)/dw'
  std::vector<torch::Tensor> inputs = arch_.list();
  inputs.insert(inputs.end(), params.begin(), params.end());
  auto val_grads = grad_or_zero(cross_entropy(w, val, mix(false), stats), inputs);
  w.average(val_grads);
  std::vector<torch::Tensor> g1(val_grads.begin(), val_grads.begin() + 2);
  std::vector<torch::Tensor> v(val_grads.begin() + 2, val_grads.end());

  // (g+ - g-) / (2 eps) with g+- = dL_train(w +- eps v, a)/da
  const double eps = finite_difference_epsilon(v, hessian_radius_);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
  }
  axpy(params, v, eps);
  auto g_plus = grad_or_zero(cross_entropy(w, train, mix(false), nullptr), arch_.list());
  axpy(params, v, -2.0 * eps);
  auto g_minus = grad_or_zero(cross_entropy(w, train, mix(false), nullptr), arch_.list());
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
  }
  std::vector<torch::Tensor> hessian_term;
  for (size_t k = 0; k < g1.size(); ++k) hessian_term.push_back((g_plus[k] - g_minus[k]) / (2.0 * eps));
  w.average(hessian_term);
  for (size_t k = 0; k < g1.size(); ++k) g1[k] = g1[k] - xi * hessian_term[k];
  return g1;
}

StepResult DartsStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  const auto& train = b.train;
  const auto& val = b.val;
  StepResult result;
  auto grads = order_ == 2 ? second_order_gradient(w, train, val, &result.val)
                           : first_order_gradient(w, val, &result.val);
  if (order_ == 1) w.average(grads);  // the second-order gradient is averaged term by term
  arch_.optimizer->zero_grad();
  arch_.alpha_normal.mutable_grad() = grads[0];
  arch_.alpha_reduce.mutable_grad() = grads[1];
  arch_.optimizer->step();
  result.train = w.step(train, mix(/*detach=*/true));
  return result;
}

genotype::Genotype DartsStrategy::derive() const {
  torch::NoGradGuard no_grad;
  genotype::Genotype g;
  auto cell = [&](const torch::Tensor& alpha, const std::vector<std::string>& ops) {
    if (!output_edges_) return genotype::derive_darts(torch::softmax(alpha, -1), ops, net_.steps);
    std::vector<double> strength;
    std::vector<std::string> op;
    genotype::strongest_ops(torch::softmax(alpha, -1), ops, static_cast<int>(net_.steps), strength, op);
    return genotype::derive_output_edges(strength, op, static_cast<int>(net_.steps));
  };
  g.normal = cell(arch_.alpha_normal, net_.normal_ops);
  g.reduce = cell(arch_.alpha_reduce, net_.reduce_ops);
  return g;
}

std::vector<NamedTensor> DartsStrategy::arch_tensors() const {
  return {{"alpha_normal", arch_.alpha_normal.detach()}, {"alpha_reduce", arch_.alpha_reduce.detach()}};
}

std::vector<NamedTensor> DartsStrategy::state() {
  std::vector<NamedTensor> out;
  arch_.append_state(out);
  return out;
}

void DartsStrategy::load_state(const std::vector<NamedTensor>& state) { arch_.load_state(state); }

}  // namespace dnas::search
