#pragma once
// A run's output directory: held by one run at a time, and never overwritten by accident.
#include <string>
#include <vector>

#include "dnas/core/file_lock.h"

namespace dnas::core {

// An exclusive lock on `dir` (flock on dir/.dnas.lock, which records "host pid" of the holder),
// held for the object's lifetime. A directory already held is an error naming the holder.
class RunDirLock {
 public:
  RunDirLock(const std::string& dir, const std::string& what);

 private:
  FileLock lock_;
};

// Refuses to start a fresh run in a directory that holds an earlier run's state (any of `files`,
// e.g. checkpoint.h5 and results.h5), naming the file: --resume continues it, --overwrite
// replaces it.
void refuse_to_overwrite(const std::string& dir, const std::vector<std::string>& files, const std::string& command);

// "<path>.tmp.<host>.<pid>": a temporary name that concurrent writers on a shared file system
// never share.
std::string unique_temp_path(const std::string& path);

}  // namespace dnas::core
