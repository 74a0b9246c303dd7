#pragma once
// `dnas bench --loader DIR`: decode + augmentation throughput of the image loader's transforms
// on the class folders in DIR, beside libjpeg-turbo/libpng's decode-only ceiling.
#include <cstdint>
#include <string>

namespace dnas::bench {

// The table (images/s and images/s per thread) of: full-size decode only (one thread), the
// ImageNet train transform (RandomResizedCrop 224 with DCT scaling, flip, colour jitter,
// normalisation) and the eval transform (resize 256, centre crop 224), each on `threads` threads
// over at most `max_images` files read into memory first.
std::string run_loader_bench(const std::string& dir, int threads, int64_t max_images);

}  // namespace dnas::bench
