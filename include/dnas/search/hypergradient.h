#pragma once
// The unrolled (second-order) DARTS hypergradient of both search spaces (docs/methods.md 1.5):
//   g = dL_val(w', a)/da - xi * (dL_train(w+, a)/da - dL_train(w-, a)/da) / (2 eps)
// with w' the virtual weight step from w, v = dL_val(w', a)/dw', w+- = w +- eps v and
// eps = r / ||v||. The spaces supply the losses and the virtual step; the rest is shared.
#include <torch/types.h>

#include <functional>
#include <vector>

namespace dnas::search {

// The two reference architects take the same steps with different floating-point arithmetic;
// each space keeps its reference's, so its numbers stay those of its port.
enum class FiniteDifferenceForm {
  // CNN: w+ = w + eps v and w- = w+ - 2 eps v (fused multiply-adds); the averaged
  // (g+ - g-) / (2 eps) is then scaled by xi.
  Cnn,
  // RNN: w+- = w + (+-eps) v, each from the saved w; the term is (xi k) (g+ - g-) / (2 eps), k
  // the clip coefficient of the virtual step's gradient (1 without clipping).
  Rnn,
};

struct UnrolledProblem {
  std::vector<torch::Tensor> weights;  // w: moved to w', w+ and w-, restored exactly on return
  std::vector<torch::Tensor> arch;     // a
  double xi = 0;                       // the virtual step's learning rate
  double hessian_radius = 0.01;        // r
  // Clip the virtual step's gradient and v to this global norm (the RNN reference); 0 = off.
  double clip = 0;
  FiniteDifferenceForm form = FiniteDifferenceForm::Cnn;
  std::function<torch::Tensor()> step_loss;   // L_train(w, a) with a detached: the virtual step's gradient
  std::function<torch::Tensor()> val_loss;    // L_val(w', a)
  std::function<torch::Tensor()> train_loss;  // L_train(w+-, a)
  // w -> w' in place (without autograd) from g = dL_train/dw, averaged and clipped.
  std::function<void(const std::vector<torch::Tensor>& g)> virtual_step;
  // Averages gradients over the data-parallel group in place; empty for a single process.
  std::function<void(const std::vector<torch::Tensor>&)> average;
};

// The hypergradient, one tensor per entry of `arch`. Each loss closure is called once per point
// (val once, train twice), so closures may record statistics or carry state.
std::vector<torch::Tensor> unrolled_hypergradient(const UnrolledProblem& problem);

// Finite-difference step of the Hessian-vector product: radius / ||v||_2 (global norm; a
// zero v counts as norm 1e-12).
double finite_difference_epsilon(const std::vector<torch::Tensor>& v, double radius);

// The reference RNN architect's clip: k = max_norm / (||grads|| + 1e-6); grads *= k when k < 1.
// Returns k (not capped at 1); max_norm 0 = off (returns 1).
double clip_to_norm(std::vector<torch::Tensor>& grads, double max_norm);

// d loss / d inputs, with zeros for inputs the graph does not reach (e.g. skipped ops).
std::vector<torch::Tensor> gradients_or_zeros(const torch::Tensor& loss, const std::vector<torch::Tensor>& inputs);

}  // namespace dnas::search
