#pragma once
// Parses a study file into the study settings and its experiments (the grid expanded, every
// experiment's search and retrain configs resolved through the search/train parsers).
#include <string>
#include <vector>

#include "dnas/sweep/study.h"

namespace dnas::cli {

struct StudyCommand {
  sweep::StudyConfig study;
  std::vector<sweep::Experiment> experiments;
  bool help = false;
  int only = -1;      // --only INDEX: run just that experiment (job arrays)
  bool list = false;  // --list: print the experiments and exit
};

// args: `--config STUDY.ini` plus `--study.key=value` overrides.
StudyCommand parse_study_command(const std::vector<std::string>& args);
std::string study_help();

}  // namespace dnas::cli
