#pragma once
// The two pixel grids FactorizedReduce reads: x[:, :, 0::2, 0::2] and x[:, :, 1::2, 1::2],
// the second zero-padded to the first's size for odd inputs. A stride-2 1x1 conv on x equals a
// stride-1 one on the first grid, and on the one-pixel shifted x one on the second.
#include <torch/types.h>

#include <utility>

namespace dnas::ops {

// Both grids of ReLU(x) (or of x when `relu` is false), contiguous in x's memory format. The
// backward writes every pixel of the input gradient once, in x's memory format.
std::pair<torch::Tensor, torch::Tensor> stride2_grids(const torch::Tensor& x, bool relu);

}  // namespace dnas::ops
