#pragma once
// NASP's proximal operators (docs/methods.md 7), shared by the image and recurrent spaces:
// the box [0, 1], the discrete projection onto one op per edge, the strongest incoming edges of
// each node, and the proximal step that follows every architecture optimizer step.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnas/search/nasp_config.h"

namespace dnas::search {

// clip(alpha, 0, 1).
torch::Tensor prox_box(const torch::Tensor& alpha);
// Per row, the argmax entry only (ties: lowest op index), kept at 1 or at alpha's value.
torch::Tensor prox_disc(const torch::Tensor& alpha, bool keep_value);

// Zeroes the rows of `discrete` [E, O] of every edge that is not among the `k` strongest into
// its node, an edge's strength being alpha [E, O] at its selected (non-zero) op, whatever its
// sign. node_edges[n] lists node n's incoming edge rows; ties go to the one listed first.
torch::Tensor keep_strongest_edges(const torch::Tensor& discrete, const torch::Tensor& alpha,
                                   const std::vector<std::vector<int64_t>>& node_edges, size_t k);

// The proximal step after the architecture optimizer's step, on alpha [E, O] in place without
// autograd: nasp clips alpha to the box, lazy leaves it, standard clips it and then keeps each
// row's largest entry at its value (Proposition 1).
void proximal_step(const torch::Tensor& alpha, NaspVariant variant);

}  // namespace dnas::search
