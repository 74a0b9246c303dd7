#include "dnas/search/eoinas.h"

#include <torch/torch.h>

#include <cmath>

#include "dnas/genotype/cell_topology.h"
#include "dnas/genotype/derive.h"
#include "dnas/search/arch_parameters.h"
#include "dnas/search/gdas.h"

namespace dnas::search {
namespace {

const char* kCellName[] = {"normal", "reduce"};

// Modes for a soft mix: every remaining op On, removed ops Off.
std::vector<supernet::OpMode> alive_modes(const torch::Tensor& alive) {
  auto a = alive.contiguous();
  std::vector<supernet::OpMode> modes(static_cast<size_t>(a.numel()));
  const bool* p = a.data_ptr<bool>();
  for (size_t i = 0; i < modes.size(); ++i) modes[i] = p[i] ? supernet::OpMode::On : supernet::OpMode::Off;
  return modes;
}

}  // namespace

double eoinas_temperature(int64_t epoch, const EoinasConfig& c) {
  if (epoch <= c.warmup_epochs) return c.temp0;
  return c.temp0 * std::pow(c.temp_decay, static_cast<double>(epoch - c.warmup_epochs));
}

SoftDraw gumbel_softmax_draw(const torch::Tensor& logits, double tau) {
  auto gumbel = -torch::empty_like(logits).exponential_().log();  // Gumbel(0, 1)
  auto h = torch::softmax((logits + gumbel) / tau, -1);           // [E, O], Eq. 4-5
  return {h, h.detach().argmax(-1)};
}

bool eoinas_prunes_after(int64_t epoch, const EoinasConfig& c) {
  const int64_t e1 = epoch + 1;  // 1-based
  return c.prune && e1 > c.warmup_epochs && (e1 - c.warmup_epochs) % c.prune_every == 0;
}

EoinasStrategy::EoinasStrategy(const supernet::SupernetConfig& net, const OptimConfig& optim,
                               const EoinasConfig& eoinas)
    : net_(net),
      optim_(optim),
      cfg_(eoinas),
      forward_(parse_eoinas_forward(eoinas.forward)),
      acc_stat_(parse_eoinas_acc_stat(eoinas.acc_stat)),
      temperature_(eoinas.temp0) {
  const int64_t edges = genotype::num_edges(net.steps);
  const bool zeros = parse_eoinas_alpha_init(cfg_.alpha_init) == EoinasAlphaInit::Zeros;
  const bool inf_when_unsampled = parse_eoinas_C_when_Ce0(cfg_.C_when_Ce0) == EoinasCWhenCe0::Inf;
  for (const auto* ops : {&net.normal_ops, &net.reduce_ops}) {
    const auto o = static_cast<int64_t>(ops->size());
    auto alpha = zeros ? torch::zeros({edges, o}) : 1e-3 * torch::randn({edges, o});
    alphas_.push_back(alpha.to(net.device).requires_grad_());
    stats_.emplace_back(edges, *ops, cfg_.c_reference_window, inf_when_unsampled);
  }
  reset_optimizer();
}

void EoinasStrategy::reset_optimizer() { optimizer_ = make_arch_optimizer(alphas_, optim_); }

double eoinas_skip_dropout(int64_t epoch, int64_t epochs, const EoinasConfig& c) {
  if (!c.skip_dropout) return 0.0;
  if (epoch < c.warmup_epochs) return 0.1 * static_cast<double>(epochs - epoch - 1) / static_cast<double>(epochs);
  return 0.1 * std::exp(-0.2 * static_cast<double>(epoch - c.warmup_epochs));
}

void EoinasStrategy::begin_epoch(const EpochInfo& info) {
  temperature_ = eoinas_temperature(info.epoch, cfg_);
  skip_dropout_ = eoinas_skip_dropout(info.epoch, info.epochs, cfg_);
}

void EoinasStrategy::end_epoch(const EpochInfo& info) {
  if (eoinas_prunes_after(info.epoch, cfg_) && !stats_[0].fully_pruned()) prune();
}

void EoinasStrategy::prune() {
  for (size_t c = 0; c < 2; ++c) stats_[c].prune(alphas_[c], cfg_.lambda);
  reset_optimizer();  // the code rebuilds Adam on the compacted alphas
}

EoinasStrategy::Sample EoinasStrategy::sample(bool detach) const {
  Sample s;
  std::vector<supernet::CellMix> cells;
  for (size_t c = 0; c < 2; ++c) {
    auto logits = stats_[c].masked(detach ? alphas_[c].detach() : alphas_[c]);  // removed ops at -inf
    if (forward_ == EoinasForward::Hard) {
      auto draw = gumbel_straight_through(logits, temperature_);
      cells.push_back({draw.hard, supernet::argmax_modes(draw.hard), {}, skip_dropout_});
      s.chosen.push_back(draw.index);
    } else {
      auto draw = gumbel_softmax_draw(logits, temperature_);
      cells.push_back({draw.h, alive_modes(stats_[c].alive()), {}, skip_dropout_});
      s.chosen.push_back(draw.chosen);
    }
  }
  s.mix = {cells[0], cells[1]};
  return s;
}

StepResult EoinasStrategy::step(WeightTrainer& w, const StepBatches& b, const EpochInfo& info) {
  StepResult result;
  const bool warmup = info.epoch < cfg_.warmup_epochs;
  auto train_sample = sample(/*detach=*/true);
  result.train = w.step(b.train, train_sample.mix);
  if (warmup) return result;  // w only: no alpha steps, no statistics
  for (size_t c = 0; c < 2; ++c) stats_[c].count_training(train_sample.chosen[c]);

  auto val_sample = sample(/*detach=*/false);
  auto logits = w.net->forward(b.val.x, val_sample.mix);
  auto loss = torch::cross_entropy_loss(logits, b.val.y);
  result.val = batch_stats(logits, b.val.y, loss.item<double>());
  // With eoinas.forward = hard a draw can leave one cell type off every path to the loss (see
  // GdasStrategy::step): its gradient is undefined and Adam skips it.
  auto grads = torch::autograd::grad({loss}, alphas_, {}, c10::nullopt, /*create_graph=*/false, /*allow_unused=*/true);
  w.average(grads);
  optimizer_->zero_grad();
  for (size_t c = 0; c < 2; ++c) alphas_[c].mutable_grad() = grads[c];
  // clip_grad_norm_ scales the .grad of the tensors it is given (not the tensors themselves)
  if (cfg_.arch_grad_clip > 0) torch::nn::utils::clip_grad_norm_(alphas_, cfg_.arch_grad_clip);
  optimizer_->step();
  // Accuracy (percent) of the alpha-step forward over the whole (group) batch.
  auto totals = w.group().sum({static_cast<double>(result.val.correct), static_cast<double>(result.val.count)});
  const double acc = totals[1] > 0 ? 100.0 * totals[0] / totals[1] : 0.0;
  for (size_t c = 0; c < 2; ++c) stats_[c].record_accuracy(val_sample.chosen[c], acc, acc_stat_ == EoinasAccStat::Mean);
  return result;
}

supernet::ArchMix EoinasStrategy::inference_mix() const {
  torch::NoGradGuard no_grad;
  std::vector<supernet::CellMix> cells;
  for (size_t c = 0; c < 2; ++c) {
    auto beta = stats_[c].beta(alphas_[c].detach());
    if (forward_ == EoinasForward::Hard) {
      auto onehot = torch::zeros_like(beta).scatter_(1, beta.argmax(-1, true), 1.0);
      cells.push_back({onehot, supernet::argmax_modes(onehot), {}});
    } else {
      cells.push_back({beta, alive_modes(stats_[c].alive()), {}});
    }
  }
  return {cells[0], cells[1]};
}

genotype::Genotype EoinasStrategy::derive() const {
  std::vector<genotype::CellGenotype> cells;
  const std::vector<const std::vector<std::string>*> ops = {&net_.normal_ops, &net_.reduce_ops};
  for (size_t c = 0; c < 2; ++c) {
    const auto& st = stats_[c];
    auto ind = st.indicator(alphas_[c], cfg_.lambda);  // [E, O], removed ops at -inf
    std::vector<double> strength;
    std::vector<std::string> op;
    for (int64_t e = 0; e < ind.size(0); ++e) {
      auto row = ind[e].clone();
      for (size_t o = 0; o < ops[c]->size(); ++o)
        if ((*ops[c])[o] == "none") row[static_cast<int64_t>(o)] = -INFINITY;
      const auto best = row.argmax().item<int64_t>();
      op.push_back((*ops[c])[static_cast<size_t>(best)]);
      // One op left: its strength is I at the last prune; otherwise the current max I.
      strength.push_back(st.remaining(e) == 1 ? st.strength()[e].item<double>() : row[best].item<double>());
    }
    cells.push_back(genotype::derive_top_k(strength, op, static_cast<int>(net_.steps)));
  }
  return {cells[0], cells[1]};
}

std::vector<NamedTensor> EoinasStrategy::arch_tensors() const {
  std::vector<NamedTensor> out;
  for (size_t c = 0; c < 2; ++c) {
    const std::string name = kCellName[c];
    out.emplace_back("alpha_" + name, stats_[c].masked(alphas_[c].detach()).clone());
    out.emplace_back("indicator_" + name, stats_[c].indicator(alphas_[c], cfg_.lambda));
    out.emplace_back("ce_" + name, stats_[c].ce().clone());
    out.emplace_back("ca_" + name, stats_[c].ca().clone());
    out.emplace_back("alive_" + name, stats_[c].alive().to(torch::kFloat));
  }
  out.emplace_back("temperature", torch::tensor(temperature_, torch::kFloat64));
  return out;
}

std::vector<NamedTensor> EoinasStrategy::state() {
  std::vector<NamedTensor> out;
  for (size_t c = 0; c < 2; ++c) {
    const std::string name = kCellName[c];
    out.emplace_back("alpha_" + name, alphas_[c].detach().clone());
    stats_[c].append_state(out, "stats_" + name + "/");
  }
  append_adam_state(out, "adam", *optimizer_);
  return out;
}

void EoinasStrategy::load_state(const std::vector<NamedTensor>& state) {
  for (size_t c = 0; c < 2; ++c) {
    const std::string name = kCellName[c];
    restore_state(state, "alpha_" + name, alphas_[c]);
    stats_[c].load_state(state, "stats_" + name + "/");
  }
  reset_optimizer();
  load_adam_state(*optimizer_, "adam", state);
}

}  // namespace dnas::search
