#pragma once
// Attributes every results file carries on its root: format, format_version, kind, status, error,
// the resolved config (INI text), dnas version, git revision, host and the time of writing; and
// the format-version check every reader of a results file makes.
#include <string>

#include "dnas/store/h5_file.h"

namespace dnas::store {

struct Provenance {
  std::string kind;         // "search" | "train" | "experiment" | "report" | "rnn"
  std::string status;       // "running" | "finished" | "failed" | "interrupted"
  std::string error;        // the error message when failed
  std::string config_text;  // resolved settings as INI
};

// Writes the root attributes, with format_version = kResultsFormatVersion.
void write_provenance(H5File& file, const Provenance& p);

// The file's format_version (1 when the attribute is absent). Throws dnas::Error naming the file
// when it is greater than kResultsFormatVersion: a newer dnas wrote it.
int check_format_version(const H5File& file);

}  // namespace dnas::store
