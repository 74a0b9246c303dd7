#include "dnas/store/provenance.h"

#include "dnas/core/build_info.h"

namespace dnas::store {

void write_provenance(H5File& f, const Provenance& p) {
  f.set_attribute("/", "format", std::string("dnas-results-1"));
  f.set_attribute("/", "kind", p.kind);
  f.set_attribute("/", "status", p.status);
  f.set_attribute("/", "error", p.error);
  f.set_attribute("/", "config", p.config_text);
  f.set_attribute("/", "dnas_version", std::string(core::version()));
  f.set_attribute("/", "git_revision", std::string(core::git_revision()));
  f.set_attribute("/", "host", core::host_name());
  f.set_attribute("/", "written_at", core::utc_timestamp());
}

}  // namespace dnas::store
