#pragma once
// An exclusive flock(2) on one file: the lock shared by processes and hosts (run directories, a
// study's searches and records, the file-based experiment counter).
#include <string>

namespace dnas::core {

// The hint of a failed flock.
inline constexpr const char* kFlockHint = "the file system must support flock (on Lustre: mount with -o flock)";

// How a FileLock's failures read: "<open> (<reason>) [path]. Hint: <open_hint>" when the file
// cannot be opened, "<lock> (<reason>) [path]. Hint: <lock_hint>" when flock fails.
struct FileLockText {
  std::string open = "cannot open the lock file";
  std::string open_hint = "check that the directory is writable";
  std::string lock = "cannot lock";
  std::string lock_hint = kFlockHint;
};

// `path` opened read-write with O_CLOEXEC; lock() and try_lock() take an exclusive flock on it.
// Destroying the object closes the file, which releases the lock. Every FileLock is its own open
// file description, so two on one path exclude each other, also within one process.
class FileLock {
 public:
  enum class IfMissing { Create, Fail };  // Create: mode 0644
  explicit FileLock(std::string path, FileLockText text = {}, IfMissing if_missing = IfMissing::Create);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Waits until the lock is held (a wait interrupted by a signal goes on waiting).
  void lock();
  // Takes the lock without waiting: false when another open file description holds it.
  bool try_lock();

  // The open file, for reading and writing its content (under the lock).
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail_to_lock(int err) const;

  std::string path_;
  FileLockText text_;
  int fd_ = -1;
};

}  // namespace dnas::core
