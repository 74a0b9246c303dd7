#include "dnas/bench/bench_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "dnas/data/image_augment.h"
#include "dnas/data/image_codec.h"
#include "dnas/data/image_folder.h"
#include "dnas/data/image_loader.h"

namespace dnas::bench {

std::string run_loader_bench(const std::string& dir, int threads, int64_t max_images) {
  auto listing = data::list_image_folder(dir);
  auto& samples = listing.samples;
  if (static_cast<int64_t>(samples.size()) > max_images) samples.resize(static_cast<size_t>(max_images));
  // Decode-only ceiling: every file at full size on one thread, the bytes already in memory.
  std::vector<std::vector<uint8_t>> bytes;
  for (const auto& s : samples) bytes.push_back(data::read_file_bytes(s.path));
  const auto t0 = std::chrono::steady_clock::now();
  int64_t pixels = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    pixels += data::decode_image(bytes[i].data(), bytes[i].size(), samples[i].path).height;
  const double decode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double decode_rate = static_cast<double>(bytes.size()) / decode_s;

  const auto train =
      data::measure_transform_throughput(samples, data::imagenet_train_transform(), true, threads, max_images);
  const auto eval =
      data::measure_transform_throughput(samples, data::imagenet_eval_transform(), false, threads, max_images);
  std::string out = fmt::format("dnas bench --loader {} ({} images, {} threads)\n\n", dir, samples.size(), threads);
  out += "| work | images/s | images/s per thread |\n|---|---|---|\n";
  out += fmt::format("| decode only, full size (1 thread) | {:.0f} | {:.0f} |\n", decode_rate, decode_rate);
  out += fmt::format("| ImageNet train transform | {:.0f} | {:.0f} |\n", train.images_per_second,
                     train.images_per_second / threads);
  out += fmt::format("| ImageNet eval transform | {:.0f} | {:.0f} |\n", eval.images_per_second,
                     eval.images_per_second / threads);
  return out;
}

}  // namespace dnas::bench
