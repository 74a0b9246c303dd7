#pragma once
// Image datasets packed into tar shards in the WebDataset layout: sample k is the member pair
// `<key>.jpg` (or `.png`; the original file's bytes) + `<key>.cls` (the class index in ASCII).
// Shards are `<prefix>-000000.tar`, `<prefix>-000001.tar`, ... (ustar, pax for long names), so
// `tar -tf` lists them. Beside them, `<prefix>.index.txt` holds the class names and the sample
// count of every shard, so a reader knows the total without scanning:
//   dnas-shards 1
//   classes <C>          followed by C lines, one class name each (label = line number)
//   shards <M>           followed by M lines "<sample count> <shard file name>"
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnas/data/image_folder.h"

namespace dnas::data {

struct ShardIndex {
  std::string dir;                  // folder of the index file and the shards
  std::vector<std::string> shards;  // shard file names, relative to dir
  std::vector<int64_t> counts;      // samples per shard
  std::vector<std::string> classes;
  int64_t total() const;
  std::string shard_path(size_t i) const;  // dir + "/" + shards[i]
};

std::string shard_index_path(const std::string& prefix);  // "<prefix>.index.txt"

// Writes `samples` (in one order shuffled by shuffle_seed) into shards of at most about
// max_shard_bytes each (a shard holds at least one sample), then the index, each through a
// temporary file. Returns the index. Logs progress for long work.
ShardIndex write_shards(const std::vector<ImageFile>& samples, const std::vector<std::string>& classes,
                        const std::string& output_prefix, int64_t max_shard_bytes, uint64_t shuffle_seed);

// Reads `<prefix>.index.txt` (or an index file path ending in .index.txt). Errors name the file.
ShardIndex read_shard_index(const std::string& prefix_or_path);

// One sample read back from a shard.
struct ShardRecord {
  std::string key;             // member name without its extension
  std::string member;          // image member name ("<key>.jpg")
  std::vector<uint8_t> bytes;  // the encoded image, unchanged
  int64_t label = 0;
};

// Sequential reader of one shard. Errors (dnas::Error naming the shard and the member): an image
// without its .cls (or the reverse), a malformed label, a label outside [0, classes) when
// `classes` > 0, an unreadable or truncated tar, and fewer or more samples than `expected_count`
// when it is >= 0.
class ShardReader {
 public:
  explicit ShardReader(std::string path, int64_t expected_count = -1, int64_t classes = 0);
  ~ShardReader();
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;
  bool next(ShardRecord& out);  // false at the end of the shard
  const std::string& path() const { return path_; }

 private:
  struct Member {
    std::string name, key, ext;
    std::vector<uint8_t> data;
  };
  bool read_member(Member& out);
  std::string path_;
  int64_t expected_, classes_, count_ = 0;
  struct ArchiveHandle;
  std::unique_ptr<ArchiveHandle> archive_;
  std::unique_ptr<Member> pending_;  // a member read ahead that starts the next sample
  bool done_ = false, eof_ = false;  // done_: next() returned false; eof_: no more members
};

// `dnas pack`: lists `input` as class folders, writes shards + index; returns the index.
ShardIndex pack_image_folder(const std::string& input, const std::string& output_prefix, int64_t max_shard_bytes,
                             uint64_t shuffle_seed);

}  // namespace dnas::data
