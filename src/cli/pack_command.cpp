// `dnas pack`: an image folder (class folders, as torchvision's ImageFolder) into tar shards.
#include <fmt/format.h>
#include <boost/program_options.hpp>

#include <iostream>

#include "dnas/core/error.h"
#include "dnas/data/tar_shards.h"
#include "subcommands.h"

namespace po = boost::program_options;

namespace dnas::cli {

int pack_command(const std::vector<std::string>& args) {
  std::string input, output;
  int64_t shard_mb = 1024;
  uint64_t seed = 0;
  po::options_description d("dnas pack: pack <input>/<class>/*.{jpg,jpeg,png} into WebDataset-style tar shards");
  d.add_options()("help,h", "this help")("input", po::value(&input), "split folder with one folder per class")(
      "output", po::value(&output), "output prefix: writes <prefix>-000000.tar ... and <prefix>.index.txt")(
      "shard-mb", po::value(&shard_mb)->default_value(shard_mb), "largest shard size in MiB (about)")(
      "seed", po::value(&seed)->default_value(seed), "seed of the sample order (shuffled once)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    fail(std::string("bad pack option: ") + e.what(), "command line", "see `dnas pack --help`");
  }
  if (vm.count("help") || input.empty() || output.empty()) {
    std::cout << "usage: dnas pack --input DIR --output PREFIX [--shard-mb 1024] [--seed 0]\n\n" << d;
    return vm.count("help") ? 0 : 2;
  }
  if (shard_mb <= 0) fail("--shard-mb must be > 0, got " + std::to_string(shard_mb), "command line");
  const auto index = data::pack_image_folder(input, output, shard_mb * 1024 * 1024, seed);
  std::cout << fmt::format("packed {} images of {} classes into {} shards: {}-{:06d}.tar ... {}\n", index.total(),
                           index.classes.size(), index.shards.size(), output, 0, data::shard_index_path(output));
  return 0;
}

}  // namespace dnas::cli
