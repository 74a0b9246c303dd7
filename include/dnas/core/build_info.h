#pragma once
// Provenance for results files and logs: the dnas version, the git revision the build was
// configured from (with "-dirty" for uncommitted changes), and this machine's host name.
#include <string>

namespace dnas::core {

const char* version();
const char* git_revision();
std::string host_name();
std::string utc_timestamp();  // "2026-11-22T09:01:56Z"

}  // namespace dnas::core
