#include "dnas/eval/aux_head.h"

#include <torch/torch.h>

#include "dnas/ops/batch_norm.h"

namespace dnas::eval {
namespace {

constexpr int64_t kPooledSize = 2;     // spatial size after the head's average pool
constexpr int64_t kMidChannels = 128;  // 1x1 conv width
constexpr int64_t kOutChannels = 768;  // 2x2 conv width

// The head's pooling: the reference's avgpool 5 on its input size, else adaptive 2x2.
class AuxPoolImpl : public torch::nn::Module {
 public:
  AuxPoolImpl(int64_t reference_size, int64_t stride) : reference_size_(reference_size), stride_(stride) {}
  torch::Tensor forward(const torch::Tensor& x) {
    if (x.size(2) == reference_size_ && x.size(3) == reference_size_)
      return torch::avg_pool2d(x, /*kernel_size=*/5, stride_, /*padding=*/0, /*ceil_mode=*/false,
                               /*count_include_pad=*/false);
    return torch::adaptive_avg_pool2d(x, {kPooledSize, kPooledSize});
  }

 private:
  int64_t reference_size_, stride_;
};
TORCH_MODULE(AuxPool);

}  // namespace

AuxHeadImpl::AuxHeadImpl(int64_t c_in, int64_t classes, bool imagenet) {
  namespace nn = torch::nn;
  features = nn::Sequential(
      // The reference pools 5x5 windows: at stride 3 on CIFAR's 8x8, at stride 2 on ImageNet's
      // 7x7 (224 input), both giving 2x2 (ImageNet windows [0, 5) and [2, 7)).
      nn::ReLU(), AuxPool(imagenet ? 7 : 8, imagenet ? 2 : 3),
      nn::Conv2d(nn::Conv2dOptions(c_in, kMidChannels, 1).bias(false)), nn::BatchNorm2d(kMidChannels), nn::ReLU(),
      nn::Conv2d(nn::Conv2dOptions(kMidChannels, kOutChannels, 2).bias(false)));
  if (!imagenet) features->push_back(nn::BatchNorm2d(kOutChannels));
  features->push_back(nn::ReLU());
  register_module("features", features);
  classifier = register_module("classifier", nn::Linear(kOutChannels, classes));
}

torch::Tensor AuxHeadImpl::forward(const torch::Tensor& x) {
  return classifier(ops::forward_sequential(features, x).flatten(1));  // [N, 768] -> [N, classes]
}

torch::Tensor AuxHeadImpl::forward_activated(const torch::Tensor& relu_x) {
  return classifier(ops::forward_sequential(features, relu_x, /*first=*/1).flatten(1));
}

}  // namespace dnas::eval
