#include "dnas/genotype/published.h"

#include <algorithm>
#include <cctype>

#include "dnas/core/error.h"

namespace dnas::genotype {

const std::vector<PublishedGenotype>& published_genotypes() {
  // Texts as in the DARTS repository's genotypes.py (NASNet, AmoebaNet, DARTS_V1/V2), the NASP
  // code (12-op cell, docs/methods.md 7 oracle 8) and the EoiNAS code (GNAS_2).
  static const std::vector<PublishedGenotype> table = {
      {"NASNet",
       "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), "
       "('sep_conv_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), "
       "('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1)], "
       "normal_concat=[2, 3, 4, 5, 6], "
       "reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0), ('max_pool_3x3', 1), ('sep_conv_7x7', "
       "0), "
       "('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('skip_connect', 3), ('avg_pool_3x3', 2), "
       "('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])",
       "Zoph et al. 2018 (NASNet-A)", 2.65, 3.3, "5 nodes; RL search, 1800 GPU-days"},
      {"AmoebaNet",
       "Genotype(normal=[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), "
       "('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), "
       "('skip_connect', 1), ('skip_connect', 0), ('avg_pool_3x3', 1)], normal_concat=[4, 5, 6], "
       "reduce=[('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_7x7', "
       "2), "
       "('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), "
       "('conv_7x1_1x7', 0), ('sep_conv_3x3', 5)], reduce_concat=[3, 4, 6])",
       "Real et al. 2019 (AmoebaNet-A)", 3.34, 3.2, "5 nodes; evolution, 3150 GPU-days; error 3.34+-0.06"},
      {"DARTS_V1",
       "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
       "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
       "('skip_connect', 2)], normal_concat=[2, 3, 4, 5], "
       "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', "
       "0), "
       "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], "
       "reduce_concat=[2, 3, 4, 5])",
       "Liu et al. 2019 (DARTS, first order)", 3.00, 3.3, "error 3.00+-0.14"},
      {"DARTS_V2",
       "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
       "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
       "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
       "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', "
       "1), "
       "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
       "reduce_concat=[2, 3, 4, 5])",
       "Liu et al. 2019 (DARTS, second order)", 2.76, 3.3,
       "error 2.76+-0.09; 3,349,342 params at C=36, L=20 without aux head (docs/methods.md 1.9)"},
      {"NASP_12",
       "Genotype(normal=[('conv_3x1_1x3', 0), ('conv 3x3', 1), ('dil_conv_3x3', 2), ('conv 3x3', "
       "1), "
       "('dil_conv_3x3', 2), ('conv 3x3', 0), ('skip_connect', 0), ('dil_conv_3x3', 3)], "
       "normal_concat=range(2, 6), "
       "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_5x5', "
       "1), "
       "('skip_connect', 2), ('skip_connect', 3), ('skip_connect', 0), ('skip_connect', 1)], "
       "reduce_concat=range(2, 6))",
       "Yao et al. 2020 (NASP, 12-op space)", 2.5, 7.4,
       "official code cell; 7,363,486 params at C=36, L=20 (docs/methods.md 7 oracle 8)"},
      {"GNAS_2",
       "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
       "('sep_conv_3x3', 1), ('skip_connect', 0), ('dil_conv_3x3', 2), ('skip_connect', 1), "
       "('dil_conv_5x5', 4)], normal_concat=range(2, 6), "
       "reduce=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_5x5', 0), ('dil_conv_5x5', "
       "2), "
       "('dil_conv_3x3', 1), ('dil_conv_5x5', 3), ('dil_conv_5x5', 3), ('dil_conv_5x5', 4)], "
       "reduce_concat=range(2, 6))",
       "Zhou et al. 2021 (EoiNAS, TNNLS)", 2.50, 3.4,
       "eval default of the official EoiNAS code; not confirmed to be the paper's cell; "
       "3,525,598 params at C=36, L=20 by our count (docs/methods.md 4)"},
  };
  return table;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const PublishedGenotype* find_published(const std::string& name) {
  const std::string key = lower(name) == "darts" ? "darts_v2" : lower(name);
  for (const auto& p : published_genotypes())
    if (lower(p.name) == key) return &p;
  return nullptr;
}

}  // namespace

std::string published_genotype_names() {
  std::string s;
  for (const auto& p : published_genotypes()) s += (s.empty() ? "" : ", ") + p.name;
  return s;
}

bool is_published_genotype(const std::string& name) { return find_published(name) != nullptr; }

const PublishedGenotype& published_genotype_info(const std::string& name) {
  const PublishedGenotype* p = find_published(name);
  if (p == nullptr)
    fail("unknown published genotype '" + name + "'", "genotype",
         "use one of: " + published_genotype_names() + ", or give the genotype text itself");
  return *p;
}

Genotype published_genotype(const std::string& name) {
  const PublishedGenotype& p = published_genotype_info(name);
  return parse_genotype(p.text, "published genotype " + p.name);
}

}  // namespace dnas::genotype
