#include "dnas/core/run_dir.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "dnas/core/build_info.h"
#include "dnas/core/error.h"
#include "dnas/core/run_start.h"
#include "dnas/core/text_file.h"

namespace dnas::core {

namespace {

// dir/.dnas.lock, once `dir` exists.
std::string lock_file_in(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot create the directory (" + ec.message() + ")", dir, "check the path and its permissions");
  return (std::filesystem::path(dir) / ".dnas.lock").string();
}

}  // namespace

RunDirLock::RunDirLock(const std::string& dir, const std::string& what)
    : lock_(lock_file_in(dir), {"cannot open the lock file", "check that the directory is writable",
                                "cannot lock the directory", kFlockHint}) {
  if (!lock_.try_lock()) {
    std::string holder;
    std::getline(std::ifstream(lock_.path()), holder);
    fail("another " + what + " is running in this directory (" + (holder.empty() ? "holder unknown" : holder) + ")",
         dir, "wait for it to end, or give this run another out_dir");
  }
  const std::string me = "host " + host_name() + " pid " + std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_.fd(), 0) == 0 && ::write(lock_.fd(), me.data(), me.size()) < 0) {
    // the record of the holder is informative only
  }
}

void refuse_to_overwrite(const std::string& dir, const std::vector<std::string>& files, const std::string& command) {
  for (const auto& name : files) {
    const auto path = std::filesystem::path(dir) / name;
    if (std::filesystem::exists(path))
      fail("the directory holds an earlier run (" + name + "); a fresh run would overwrite it", path.string(),
           "continue it with `dnas " + command +
               " ... --resume`, replace it with --overwrite, or set another run.out_dir");
  }
}

std::unique_ptr<RunDirLock> start_run_in(const std::string& dir, const std::string& command, bool resume,
                                         bool overwrite, const std::string& config_ini) {
  auto lock = std::make_unique<RunDirLock>(dir, "dnas " + command);
  if (!resume && !overwrite) refuse_to_overwrite(dir, {"checkpoint.h5", "results.h5"}, command);
  if (!config_ini.empty()) write_text_atomically((std::filesystem::path(dir) / "config.ini").string(), config_ini);
  return lock;
}

std::string unique_temp_path(const std::string& path) {
  return path + ".tmp." + host_name() + "." + std::to_string(::getpid());
}

}  // namespace dnas::core
