#include "dnas/core/text_file.h"

#include <filesystem>
#include <fstream>

#include "dnas/core/error.h"
#include "dnas/core/run_dir.h"

namespace dnas::core {

void write_text_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = unique_temp_path(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) fail("cannot write file", tmp, "check that the directory exists, is writable and has free space");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot rename " + tmp + ": " + ec.message(), path, "check permissions");
}

}  // namespace dnas::core
