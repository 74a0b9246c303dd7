#pragma once
// Attributes every results file carries on its root: format, kind, status, error, the resolved
// config (INI text), dnas version, git revision, host and the time of writing.
#include <string>

#include "dnas/store/h5_file.h"

namespace dnas::store {

struct Provenance {
  std::string kind;         // "search" | "train" | "experiment"
  std::string status;       // "running" | "finished" | "failed" | "interrupted"
  std::string error;        // the error message when failed
  std::string config_text;  // resolved settings as INI
};

void write_provenance(H5File& file, const Provenance& p);

}  // namespace dnas::store
