#include "dnas/core/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "dnas/core/error.h"

namespace dnas::core {

FileLock::FileLock(std::string path, FileLockText text, IfMissing if_missing)
    : path_(std::move(path)), text_(std::move(text)) {
  const int flags = O_RDWR | O_CLOEXEC | (if_missing == IfMissing::Create ? O_CREAT : 0);
  fd_ = ::open(path_.c_str(), flags, 0644);
  if (fd_ < 0) fail(text_.open + " (" + std::strerror(errno) + ")", path_, text_.open_hint);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

void FileLock::lock() {
  while (::flock(fd_, LOCK_EX) != 0)
    if (errno != EINTR) fail_to_lock(errno);
}

bool FileLock::try_lock() {
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) fail_to_lock(errno);
  }
  return true;
}

void FileLock::fail_to_lock(int err) const {
  fail(text_.lock + " (" + std::strerror(err) + ")", path_, text_.lock_hint);
}

}  // namespace dnas::core
