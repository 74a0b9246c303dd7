#include "dnas/search/random_search.h"

#include <torch/torch.h>

#include <limits>

#include "dnas/core/log.h"
#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"

namespace dnas::search {
namespace {

const char* kCellName[] = {"normal", "reduce"};
constexpr uint64_t kCandidateSeedOffset = 7919;  // candidates differ from the `random` draw of the same seed

int64_t uniform_int(int64_t n, const c10::optional<at::Generator>& gen) {
  return torch::randint(n, {1}, gen, torch::kLong).item<int64_t>();
}

std::vector<supernet::OpMode> selected_modes(const torch::Tensor& a) {
  auto nz = a.ne(0).to(torch::kCPU).contiguous();
  const bool* p = nz.data_ptr<bool>();
  std::vector<supernet::OpMode> modes(static_cast<size_t>(nz.numel()));
  for (size_t i = 0; i < modes.size(); ++i) modes[i] = p[i] ? supernet::OpMode::On : supernet::OpMode::Off;
  return modes;
}

}  // namespace

torch::Tensor random_architecture(int steps, const std::vector<std::string>& ops, c10::optional<at::Generator> gen) {
  std::vector<int64_t> usable;
  for (size_t k = 0; k < ops.size(); ++k)
    if (ops[k] != "none") usable.push_back(static_cast<int64_t>(k));
  TORCH_CHECK(!usable.empty(), "random_architecture: the op list has only `none`");
  auto arch = torch::zeros({genotype::num_edges(steps), static_cast<int64_t>(ops.size())});
  for (int s = 2; s < steps + 2; ++s) {
    const int64_t first = uniform_int(s, gen);
    int64_t second = uniform_int(s - 1, gen);
    if (second >= first) ++second;  // distinct predecessors
    for (int64_t j : {first, second})
      arch[genotype::edge_index(s, static_cast<int>(j))]
          [usable[static_cast<size_t>(uniform_int(static_cast<int64_t>(usable.size()), gen))]] = 1;
  }
  return arch;
}

genotype::CellGenotype architecture_genotype(const torch::Tensor& arch, const std::vector<std::string>& ops,
                                             int steps) {
  const auto a = arch.detach().contiguous();
  std::vector<double> strength;
  std::vector<std::string> op;
  for (int64_t e = 0; e < a.size(0); ++e) {
    const auto k = a[e].argmax().item<int64_t>();
    const bool used = a[e][k].item<float>() != 0;
    strength.push_back(used ? 1.0 : 0.0);
    op.push_back(used ? ops[static_cast<size_t>(k)] : "none");
  }
  return genotype::derive_top_k(strength, op, steps);
}

supernet::ArchMix architecture_mix(const torch::Tensor& normal, const torch::Tensor& reduce, torch::Device device) {
  return {{normal.to(device), selected_modes(normal), {}}, {reduce.to(device), selected_modes(reduce), {}}};
}

RandomStrategy::RandomStrategy(const supernet::SupernetConfig& net, uint64_t seed) : net_(net) {
  auto gen = at::detail::createCPUGenerator(seed);
  const int steps = static_cast<int>(net_.steps);
  arch_ = {random_architecture(steps, net_.normal_ops, gen), random_architecture(steps, net_.reduce_ops, gen)};
}

genotype::Genotype RandomStrategy::derive() const {
  const int steps = static_cast<int>(net_.steps);
  return {architecture_genotype(arch_[0], net_.normal_ops, steps),
          architecture_genotype(arch_[1], net_.reduce_ops, steps)};
}

std::vector<NamedTensor> RandomStrategy::arch_tensors() const {
  return {{std::string("architecture_") + kCellName[0], arch_[0]},
          {std::string("architecture_") + kCellName[1], arch_[1]}};
}

void RandomStrategy::load_state(const std::vector<NamedTensor>& state) {
  for (int c = 0; c < 2; ++c)
    restore_state(state, std::string("architecture_") + kCellName[c], arch_[static_cast<size_t>(c)]);
}

RandomWsStrategy::RandomWsStrategy(const supernet::SupernetConfig& net, uint64_t seed, const RandomConfig& cfg)
    : RandomStrategy(net, seed), cfg_(cfg), seed_(seed) {}

StepResult RandomWsStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo&) {
  const int steps = static_cast<int>(net_.steps);
  const auto normal = random_architecture(steps, net_.normal_ops);
  const auto reduce = random_architecture(steps, net_.reduce_ops);
  StepResult result;
  result.train = w.step(b.train, architecture_mix(normal, reduce, net_.device));
  return result;
}

void RandomWsStrategy::finish(const std::function<double(const supernet::ArchMix&)>& val_loss) {
  auto gen = at::detail::createCPUGenerator(seed_ + kCandidateSeedOffset);
  const int steps = static_cast<int>(net_.steps);
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i < cfg_.candidates; ++i) {
    auto normal = random_architecture(steps, net_.normal_ops, gen);
    auto reduce = random_architecture(steps, net_.reduce_ops, gen);
    const double loss = val_loss(architecture_mix(normal, reduce, net_.device));
    if (loss < best) {
      best = loss;
      arch_ = {normal, reduce};
    }
  }
  spdlog::info("random_ws: best of {} random architectures has D_val loss {:.4f}", cfg_.candidates, best);
}

}  // namespace dnas::search
