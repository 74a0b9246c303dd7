#include "dnas/search/arch_parameters.h"

#include <torch/torch.h>

#include "dnas/search/strategy_state.h"

namespace dnas::search {

std::unique_ptr<torch::optim::Adam> make_arch_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimConfig& o) {
  return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(o.arch_lr)
                                                          .betas({o.arch_beta1, o.arch_beta2})
                                                          .eps(1e-8)
                                                          .weight_decay(o.arch_weight_decay));
}

ArchParameters::ArchParameters(int64_t edges, int64_t normal_ops, int64_t reduce_ops, const OptimConfig& o,
                               torch::Device device) {
  // Drawn on the CPU, then moved: the same alphas for a seed on every device.
  alpha_normal = (1e-3 * torch::randn({edges, normal_ops})).to(device).requires_grad_();
  alpha_reduce = (1e-3 * torch::randn({edges, reduce_ops})).to(device).requires_grad_();
  optimizer = make_arch_optimizer(list(), o);
}

void ArchParameters::append_state(std::vector<NamedTensor>& out, const std::string& prefix) const {
  out.emplace_back(prefix + "alpha_normal", alpha_normal.detach().clone());
  out.emplace_back(prefix + "alpha_reduce", alpha_reduce.detach().clone());
  append_adam_state(out, prefix + "adam", *optimizer);
}

void ArchParameters::load_state(const std::vector<NamedTensor>& state, const std::string& prefix) {
  restore_state(state, prefix + "alpha_normal", alpha_normal);
  restore_state(state, prefix + "alpha_reduce", alpha_reduce);
  load_adam_state(*optimizer, prefix + "adam", state);
}

}  // namespace dnas::search
