#pragma once
// Small text outputs (CSV, genotype, INI) written through a temporary file and a rename, so a
// reader never sees half a file and an interrupted write never destroys the previous one.
#include <string>

namespace dnas::core {

void write_text_atomically(const std::string& path, const std::string& content);

}  // namespace dnas::core
