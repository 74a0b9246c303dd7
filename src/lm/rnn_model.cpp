#include "dnas/lm/rnn_model.h"

#include <torch/torch.h>

#include <optional>

#include "dnas/core/error.h"

namespace dnas::lm {
namespace {

constexpr double kEmbeddingInit = 0.1;  // encoder ~ U(-0.1, 0.1)
constexpr double kCellInit = 0.04;      // W_0, W_i ~ U(-0.04, 0.04) (reference INITRANGE)
constexpr double kBnEps = 1e-5;

enum class Act { None, Tanh, Relu, Sigmoid, Identity };

Act activation_of(const std::string& name) {
  if (name == "none") return Act::None;
  if (name == "tanh") return Act::Tanh;
  if (name == "relu") return Act::Relu;
  if (name == "sigmoid") return Act::Sigmoid;
  if (name == "identity") return Act::Identity;
  fail("unknown recurrent op '" + name + "'", "model.ops", "use tanh, relu, sigmoid, identity (and none for DARTS)");
}

torch::Tensor activate(Act act, const torch::Tensor& h) {
  switch (act) {
    case Act::Tanh:
      return torch::tanh(h);
    case Act::Relu:
      return torch::relu(h);
    case Act::Sigmoid:
      return torch::sigmoid(h);
    default:
      return h;
  }
}

// Bernoulli(keep) / keep of the given shape, or undefined when the dropout is off.
torch::Tensor dropout_mask(std::vector<int64_t> shape, double p, bool training, const torch::TensorOptions& o) {
  if (!training || p <= 0) return {};
  return torch::empty(shape, o).bernoulli_(1 - p).div_(1 - p);
}

torch::Tensor masked(const torch::Tensor& t, const torch::Tensor& mask) { return mask.defined() ? t * mask : t; }

// bf16/fp16 values as float32; float32 and float64 as they are.
torch::Tensor full_precision(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf ? t.to(torch::kFloat32) : t;
}

}  // namespace

int rnn_edge_count(int steps) { return steps * (steps + 1) / 2; }
int rnn_edge_index(int node, int pred) { return (node - 1) * node / 2 + pred; }

CellPlan CellPlan::mixed(torch::Tensor weights, std::vector<std::string> ops) {
  CellPlan p;
  p.weights = std::move(weights);
  p.ops = std::move(ops);
  return p;
}

CellPlan CellPlan::fixed(RnnGenotype genotype) {
  CellPlan p;
  p.genotype = std::move(genotype);
  return p;
}

RnnLanguageModelImpl::RnnLanguageModelImpl(const RnnModelConfig& config) : cfg_(config) {
  if (cfg_.vocab <= 0) fail("empty vocabulary", "data.corpus", "the corpus must contain words");
  if (cfg_.hidden <= 0) fail("hidden size must be positive", "model.hidden");
  if (cfg_.steps <= 0) fail("the cell needs at least one node", "model.steps");
  const int64_t h = cfg_.hidden;
  encoder_ =
      register_parameter("encoder_weight", torch::empty({cfg_.vocab, h}).uniform_(-kEmbeddingInit, kEmbeddingInit));
  decoder_bias_ = register_parameter("decoder_bias", torch::zeros({cfg_.vocab}));
  w0_ = register_parameter("W0", torch::empty({2 * h, 2 * h}).uniform_(-kCellInit, kCellInit));
  for (int i = 0; i < cfg_.steps; ++i)
    ws_.push_back(
        register_parameter("Ws_" + std::to_string(i), torch::empty({h, 2 * h}).uniform_(-kCellInit, kCellInit)));
}

torch::Tensor RnnLanguageModelImpl::init_hidden(int64_t batch) const {
  return torch::zeros({batch, cfg_.hidden}, encoder_.options());
}

// Batch statistics in training and evaluation alike (no running statistics): with running
// statistics, near-constant features in training batches made eval-mode perplexities blow up.
// Float32 whatever the precision: the statistics of a low-precision batch lose the small
// differences the normalisation divides by.
torch::Tensor RnnLanguageModelImpl::node_norm(const torch::Tensor& s) {
  if (!cfg_.node_bn) return s;
  return torch::batch_norm(full_precision(s), {}, {}, {}, {}, /*training=*/true, /*momentum=*/0.0, kBnEps,
                           /*cudnn_enabled=*/false);
}

// s0 = h + sigmoid(c0) * (tanh(h0) - h), [c0, h0] = [x, h] W_0.
torch::Tensor RnnLanguageModelImpl::init_state(const torch::Tensor& x, const torch::Tensor& h,
                                               const torch::Tensor& x_mask, const torch::Tensor& h_mask) {
  const auto ch = torch::cat({masked(x, x_mask), masked(h, h_mask)}, /*dim=*/-1).mm(w0_);
  const auto c0 = torch::sigmoid(ch.narrow(-1, 0, cfg_.hidden));
  const auto h0 = torch::tanh(ch.narrow(-1, cfg_.hidden, cfg_.hidden));
  return node_norm(h + c0 * (h0 - h));
}

// [sigmoid(c), h] of the edges from states s ([..., B, H]) into node i: [c, h] = s W_i.
std::pair<torch::Tensor, torch::Tensor> RnnLanguageModelImpl::gates(const torch::Tensor& s, const torch::Tensor& h_mask,
                                                                    int node) {
  const int64_t hd = cfg_.hidden;
  auto shape = s.sizes().vec();
  shape.back() = 2 * hd;
  const auto ch = masked(s, h_mask).reshape({-1, hd}).mm(ws_[static_cast<size_t>(node - 1)]).view(shape);
  return {torch::sigmoid(ch.narrow(-1, 0, hd)), ch.narrow(-1, hd, hd)};
}

// The nonzero-weight pairs (j, op) of every node, `none` aside, for NASP's architecture step;
// none for other plans. Once per forward: the weights do not change over the time steps.
RnnLanguageModelImpl::SelectedPairs RnnLanguageModelImpl::selected_pairs(const CellPlan& plan) const {
  SelectedPairs selected(static_cast<size_t>(cfg_.steps) + 1);
  if (!plan.weights.defined() || !plan.grads_through_selected_only) return selected;
  const auto nonzero = plan.weights.detach().ne(0).to(torch::kCPU);
  const auto nz = nonzero.accessor<bool, 2>();
  for (int i = 1; i <= cfg_.steps; ++i)
    for (int j = 0; j < i; ++j)
      for (int64_t k = 0; k < nonzero.size(1); ++k)
        if (nz[rnn_edge_index(i, j)][k] && activation_of(plan.ops[static_cast<size_t>(k)]) != Act::None)
          selected[static_cast<size_t>(i)].emplace_back(j, k);
  return selected;
}

// Node i = sum over (j, op) of weight * (s_j + sigmoid(c_j) * (op(h_j) - s_j)), [c_j, h_j] = s_j W_i.
torch::Tensor RnnLanguageModelImpl::mixed_cell(const torch::Tensor& s0, const torch::Tensor& h_mask,
                                               const CellPlan& plan, const SelectedPairs& selected) {
  const bool selected_only = plan.grads_through_selected_only;
  std::vector<Act> acts;
  for (const auto& op : plan.ops) acts.push_back(activation_of(op));
  auto states = s0.unsqueeze(0);  // [nodes so far, B, H]
  for (int i = 1; i <= cfg_.steps; ++i) {
    const auto w = plan.weights.narrow(0, rnn_edge_index(i, 0), i);  // [i, O]
    torch::Tensor s;
    {
      // NASP's architecture step: every pair's value without autograd; only w takes a gradient.
      std::optional<torch::NoGradGuard> values_only;
      if (selected_only) values_only.emplace();
      const auto [c, h] = gates(states, h_mask, i);  // [i, B, H] each
      std::vector<torch::Tensor> edges(acts.size());
      for (size_t k = 0; k < acts.size(); ++k)
        if (acts[k] != Act::None) edges[k] = states + c * (activate(acts[k], h) - states);
      values_only.reset();
      for (size_t k = 0; k < acts.size(); ++k) {
        if (!edges[k].defined()) continue;
        const auto term = (w.select(1, static_cast<int64_t>(k)).view({i, 1, 1}) * edges[k]).sum(0);
        s = s.defined() ? s + term : term;
        evaluations_ += i;
      }
    }
    // The selected pairs again with autograd: adding weight * (e - e) leaves the value as it is
    // and gives their inputs and W_i the gradient weight * dL/ds_i.
    for (const auto& [j, k] : selected[static_cast<size_t>(i)]) {
      const auto& sj = states[j];
      const auto [c, h] = gates(sj, h_mask, i);
      const auto e = sj + c * (activate(acts[static_cast<size_t>(k)], h) - sj);
      s = s + w[j][k] * (e - e.detach());
      ++evaluations_;
    }
    if (!s.defined()) s = torch::zeros_like(s0);
    states = torch::cat({states, node_norm(s).unsqueeze(0)}, 0);
  }
  return states.narrow(0, 1, cfg_.steps).mean(0);
}

torch::Tensor RnnLanguageModelImpl::fixed_cell(const torch::Tensor& s0, const torch::Tensor& h_mask,
                                               const CellPlan& plan) {
  const auto& genes = plan.genotype.recurrent;
  if (static_cast<int>(genes.size()) != cfg_.steps)
    fail("genotype has " + std::to_string(genes.size()) + " nodes, the model " + std::to_string(cfg_.steps), "genotype",
         "set model.steps to the genotype's node count");
  const int64_t hd = cfg_.hidden;
  std::vector<torch::Tensor> states = {s0};
  for (int i = 1; i <= cfg_.steps; ++i) {
    const auto& [op, pred] = genes[static_cast<size_t>(i - 1)];
    const auto& prev = states[static_cast<size_t>(pred)];
    const auto ch = masked(prev, h_mask).mm(ws_[static_cast<size_t>(i - 1)]);
    const auto c = torch::sigmoid(ch.narrow(-1, 0, hd));
    states.push_back(node_norm(prev + c * (activate(activation_of(op), ch.narrow(-1, hd, hd)) - prev)));
    ++evaluations_;
  }
  std::vector<torch::Tensor> out;
  for (int k : plan.genotype.concat) out.push_back(states[static_cast<size_t>(k)]);
  return torch::stack(out, 0).mean(0);
}

LmForward RnnLanguageModelImpl::forward(const torch::Tensor& input, const torch::Tensor& hidden, const CellPlan& plan) {
  ops::AutocastScope autocast(cfg_.precision, encoder_.device());
  const int64_t steps_t = input.size(0), b = input.size(1), hd = cfg_.hidden;
  const bool train = is_training();
  const auto o = encoder_.options();
  auto table = encoder_;
  if (const auto rows = dropout_mask({cfg_.vocab, 1}, cfg_.dropout_e, train, o); rows.defined())
    table = encoder_ * rows;
  auto emb = torch::embedding(table, input);  // [T, B, H]
  emb = masked(emb, dropout_mask({1, b, hd}, cfg_.dropout_i, train, o));
  const auto x_mask = dropout_mask({b, hd}, cfg_.dropout_x, train, o);
  const auto h_mask = dropout_mask({b, hd}, cfg_.dropout_h, train, o);
  auto h = hidden;
  std::vector<torch::Tensor> outs;
  const auto selected = selected_pairs(plan);
  for (int64_t t = 0; t < steps_t; ++t) {
    const auto s0 = init_state(emb[t], h, x_mask, h_mask);
    h = plan.weights.defined() ? mixed_cell(s0, h_mask, plan, selected) : fixed_cell(s0, h_mask, plan);
    outs.push_back(h);
  }
  LmForward f;
  // The regularised outputs, the log-probabilities and the carried state are float32 in every
  // precision; only the decoder's product runs in the low one.
  f.outputs = full_precision(torch::stack(outs, 0));
  f.dropped = masked(f.outputs, dropout_mask({1, b, hd}, cfg_.dropout, train, o));
  const auto logits = torch::addmm(decoder_bias_, f.dropped.view({-1, hd}), encoder_.t());
  f.log_probs = torch::log_softmax(full_precision(logits), /*dim=*/-1);
  f.hidden = full_precision(h);
  return f;
}

int64_t parameter_count(const RnnLanguageModel& model) {
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  return n;
}

}  // namespace dnas::lm
