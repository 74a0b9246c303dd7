#pragma once
// A study file turned into experiments: its [study] settings (one key table), its [grid] and the
// base search and retrain configs; expand_study applies every grid point's values to copies of
// the base configs through their key tables.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dnas/core/config_keys.h"
#include "dnas/search/search_config.h"
#include "dnas/sweep/experiment.h"
#include "dnas/sweep/study.h"
#include "dnas/train/train_config.h"

namespace dnas::sweep {

struct StudySettings {
  StudyConfig study;
  std::string search_config;             // study.search_config: base search .ini (empty: retrain-only study)
  std::string train_config;              // study.train_config: base retrain .ini
  bool retrain = true;                   // study.retrain
  std::string eval_seeds = "0";          // study.eval_seeds: retrain seeds per searched cell
  bool eval_layers_from_search = false;  // study.eval_layers_from_search (Stretchable Cells)
  std::string published;                 // study.published: genotype names retrained beside the searched cells
  int64_t threads = 0;                   // study.threads: every experiment's run.threads (0 = the configs')
};

core::KeyTable study_keys(StudySettings& settings);

// One [grid] line: `key = v1 v2 ...`, or zipped `a+b = x1+y1 x2+y2` (rows, not a product).
// A key is a search key (search.method) or retrain.<retrain key> (retrain.model.channels).
struct GridLine {
  std::string key;
  std::vector<std::string> values;
};

struct StudyPlan {
  std::string file;  // the study file, named in errors
  StudySettings settings;
  std::vector<GridLine> grid;                  // in file order
  std::optional<search::SearchConfig> search;  // base settings, not yet validated (empty: retrain-only)
  train::TrainConfig train;                    // base retrain settings, not yet validated
};

// Every experiment of the plan: grid points in order (retrain-only keys vary slowest, so that
// experiments sharing a search are neighbours), then each retrain setting's published genotypes.
// Checks the grid (unknown keys, repeated values, zipped parts, conflicting keys) and every
// resulting config, naming the study file.
std::vector<Experiment> expand_study(const StudyPlan& plan);

}  // namespace dnas::sweep
