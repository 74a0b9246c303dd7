#include "dnas/train/genotype_source.h"

#include <filesystem>
#include <fstream>

#include "dnas/core/error.h"
#include "dnas/genotype/published.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::train {
namespace {

// The cell a search derived after `epoch` (1-based), from its results.h5.
ResolvedGenotype epoch_genotype(const std::string& value, const std::string& key, int64_t epoch) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path file = value;
  if (fs::is_directory(file, ec)) file /= "results.h5";
  if (!fs::exists(file, ec))
    fail("model.genotype_epoch = " + std::to_string(epoch) + " needs a search output directory, and '" + value +
             "' has no results.h5",
         key, "point model.genotype at the search's run.out_dir, or set model.genotype_epoch = 0");
  const store::H5File f(file.string(), store::H5File::Mode::Read);
  store::check_format_version(f);
  const std::string name = std::string(store::layout::search::kGroup) + "/" + store::layout::search::kGenotypes;
  if (!f.exists(name))
    fail("no per-epoch genotypes (" + name + ")", file.string(), "this is not the results file of a search");
  const auto genotypes = f.read_strings(name);
  if (epoch > static_cast<int64_t>(genotypes.size()))
    fail("the search has " + std::to_string(genotypes.size()) + " epochs, model.genotype_epoch asks for epoch " +
             std::to_string(epoch),
         file.string(), "use an epoch from 1 to " + std::to_string(genotypes.size()) + " (0 = the final cell)");
  const auto& text = genotypes[static_cast<size_t>(epoch - 1)];
  return {genotype::parse_genotype(text, file.string() + " epoch " + std::to_string(epoch)),
          "file " + file.string() + " epoch " + std::to_string(epoch)};
}

}  // namespace

ResolvedGenotype resolve_genotype(const std::string& value, const std::string& key, int64_t epoch) {
  if (epoch > 0) return epoch_genotype(value, key, epoch);
  if (value.empty())
    fail("no genotype given", key,
         "set a published name (" + genotype::published_genotype_names() +
             "), a Genotype(...) text or a search's genotype.txt");
  if (genotype::is_published_genotype(value)) return {genotype::published_genotype(value), "published " + value};
  namespace fs = std::filesystem;
  std::error_code ec;
  if (value.find("Genotype") == std::string::npos && value.find('[') == std::string::npos) {
    fs::path file = value;
    if (fs::is_directory(file, ec)) file /= "genotype.txt";
    if (!fs::exists(file, ec))
      fail("'" + abbreviated(value) + "' is neither a published genotype, a genotype text nor an existing file", key,
           "published names: " + genotype::published_genotype_names() + "; or point at a search's genotype.txt");
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line) && line.find_first_not_of(" \t\r") == std::string::npos) {
    }
    if (line.empty()) fail("genotype file is empty", file.string(), "it should hold one Genotype(...) line");
    return {genotype::parse_genotype(line, file.string()), "file " + file.string()};
  }
  return {genotype::parse_genotype(value, key), "text"};
}

}  // namespace dnas::train
