#include "dnas/store/provenance.h"

#include "dnas/core/build_info.h"
#include "dnas/core/error.h"
#include "dnas/store/results_layout.h"

namespace dnas::store {

namespace names = layout::provenance;

void write_provenance(H5File& f, const Provenance& p) {
  f.set_attribute("/", names::kFormat, std::string(names::kFormatValue));
  f.set_attribute("/", names::kKind, p.kind);
  f.set_attribute("/", names::kStatus, p.status);
  f.set_attribute("/", names::kError, p.error);
  f.set_attribute("/", names::kConfig, p.config_text);
  f.set_attribute("/", names::kDnasVersion, std::string(core::version()));
  f.set_attribute("/", names::kGitRevision, std::string(core::git_revision()));
  f.set_attribute("/", names::kHost, core::host_name());
  f.set_attribute("/", names::kWrittenAt, core::utc_timestamp());
  f.set_attribute("/", names::kFormatVersion, static_cast<int64_t>(kResultsFormatVersion));
}

int check_format_version(const H5File& f) {
  if (!f.has_attribute("/", names::kFormatVersion)) return 1;
  const double version = f.number_attribute("/", names::kFormatVersion);
  if (version > kResultsFormatVersion)
    fail("results file format_version " + std::to_string(static_cast<int64_t>(version)) +
             " is newer than the version this dnas reads (" + std::to_string(kResultsFormatVersion) + ")",
         f.path(), "read it with a newer dnas");
  return static_cast<int>(version);
}

}  // namespace dnas::store
