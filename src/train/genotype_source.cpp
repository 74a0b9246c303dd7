#include "dnas/train/genotype_source.h"

#include <filesystem>
#include <fstream>

#include "dnas/core/error.h"
#include "dnas/genotype/published.h"

namespace dnas::train {

ResolvedGenotype resolve_genotype(const std::string& value, const std::string& key) {
  if (value.empty())
    fail("no genotype given", key, "set a published name (" + genotype::published_genotype_names() +
                                        "), a Genotype(...) text or a search's genotype.txt");
  if (genotype::is_published_genotype(value))
    return {genotype::published_genotype(value), "published " + value};
  namespace fs = std::filesystem;
  std::error_code ec;
  if (value.find("Genotype") == std::string::npos && value.find('[') == std::string::npos) {
    fs::path file = value;
    if (fs::is_directory(file, ec)) file /= "genotype.txt";
    if (!fs::exists(file, ec))
      fail("'" + value + "' is neither a published genotype, a genotype text nor an existing file", key,
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
