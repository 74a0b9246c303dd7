#include "dnas/core/file_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "dnas/core/error.h"

namespace {

namespace fs = std::filesystem;
using dnas::core::FileLock;
using namespace std::chrono_literals;

// A fresh directory under the system's temporary directory, removed with its files at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "dnas_file_lock_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string content_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Appends `line` to the lock's file through its descriptor; true when all of it was written.
bool append(const FileLock& lock, const std::string& line) {
  return ::lseek(lock.fd(), 0, SEEK_END) >= 0 &&
         ::write(lock.fd(), line.data(), line.size()) == static_cast<ssize_t>(line.size());
}

// The exit status of `child`, killing it when it has not ended within `limit`.
int wait_at_most(pid_t child, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      ADD_FAILURE() << "the child process did not end within " << limit.count() << " s";
      return status;
    }
    std::this_thread::sleep_for(10ms);
  }
  return status;
}

}  // namespace

TEST(FileLock, TwoLocksOnOnePathExcludeEachOtherWithinOneProcess) {
  TempDir dir;
  const auto path = (dir.path() / "a.lock").string();
  auto first = std::make_unique<FileLock>(path);
  FileLock second(path);
  first->lock();
  EXPECT_FALSE(second.try_lock());
  EXPECT_TRUE(first->try_lock());  // the holder asking again
  EXPECT_FALSE(second.try_lock());
  first.reset();  // closing releases
  EXPECT_TRUE(second.try_lock());
  FileLock third(path);
  EXPECT_FALSE(third.try_lock());
}

TEST(FileLock, ABlockingLockInAnotherProcessWaitsForTheRelease) {
  TempDir dir;
  const auto path = (dir.path() / "order.lock").string();
  auto parent = std::make_unique<FileLock>(path);
  parent->lock();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(60);  // a lock that never comes ends the child
    ::close(ready[0]);
    ::close(parent->fd());  // the inherited descriptor shares the parent's lock: it would keep it held
    int code = 1;
    try {
      FileLock mine(path);  // its own open file description
      const bool told = ::write(ready[1], "r", 1) == 1;
      ::close(ready[1]);
      mine.lock();
      code = told && append(mine, "child\n") ? 0 : 1;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  ::close(ready[1]);
  char byte = 0;
  const bool child_started = ::read(ready[0], &byte, 1) == 1;  // 0 (end of file) if the child ended early
  ::close(ready[0]);
  // Gives the child time to reach lock(): a lock that did not wait would write "child" first.
  std::this_thread::sleep_for(300ms);
  const bool written = append(*parent, "parent\n");
  parent.reset();
  const int status = wait_at_most(child, 60s);
  EXPECT_TRUE(child_started);
  EXPECT_TRUE(written);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(content_of(path), "parent\nchild\n");
}

TEST(FileLock, AnUnwritableDirectoryIsAnErrorNamingThePath) {
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
  // root writes through permissions: then sysfs's top directory, where no one creates files
  const fs::path unwritable = ::access(dir.path().c_str(), W_OK) == 0 ? fs::path("/sys") : dir.path();
  const auto path = (unwritable / "dnas_file_lock_test.lock").string();
  try {
    FileLock lock(path);
    FAIL() << "opened " << path;
  } catch (const dnas::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot open the lock file ("), std::string::npos) << what;
    EXPECT_NE(what.find("[" + path + "]"), std::string::npos) << what;
    EXPECT_NE(what.find("Hint: check that the directory is writable"), std::string::npos) << what;
  }
}

TEST(FileLock, AMissingFileIsAnErrorWhenItMustExist) {
  TempDir dir;
  const auto path = (dir.path() / "counter").string();
  try {
    FileLock lock(path, {"cannot open the counter", "create it first", "cannot lock", dnas::core::kFlockHint},
                  FileLock::IfMissing::Fail);
    FAIL() << "opened " << path;
  } catch (const dnas::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cannot open the counter (No such file or directory) [" + path + "]. Hint: create it first"),
              std::string::npos)
        << what;
  }
  EXPECT_FALSE(fs::exists(path));
}
