#pragma once
// The seam between search methods and the supernet: for one cell type, how each edge mixes
// its candidate ops. A method fills a CellMix per cell type for every forward pass.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace dnas::supernet {

// How one op of one edge is evaluated.
enum class OpMode : uint8_t {
  Off,     // not computed (pruned, unsampled, unselected, or `none`)
  On,      // computed with autograd into its weights and input
  NoGrad,  // computed without autograd: only its mixing weight gets a gradient
};

struct CellMix {
  torch::Tensor weights;      // [E, O] mixing weights; gradients flow back to arch params
  std::vector<OpMode> modes;  // [E * O] row-major; empty means On for every op
  torch::Tensor edge_scale;   // [E] per-edge factor (topology weights); undefined means 1
  double skip_dropout = 0.0;  // dropout on identity skip_connect outputs in training (EoiNAS code)

  OpMode mode(int64_t edge, int64_t op, int64_t num_ops) const {
    return modes.empty() ? OpMode::On : modes[edge * num_ops + op];
  }
};

struct ArchMix {
  CellMix normal, reduce;
};

// Soft mix: every op On with the given weights [E, O].
CellMix soft_mix(torch::Tensor weights);

// Modes that compute only the largest-weight op of each edge ([E, O] weights whose rows are
// one-hot in value, e.g. Gumbel straight-through or a discrete architecture).
std::vector<OpMode> argmax_modes(const torch::Tensor& weights);

}  // namespace dnas::supernet
