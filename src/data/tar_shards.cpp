#include "dnas/data/tar_shards.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "dnas/core/error.h"
#include "dnas/core/progress.h"
#include "dnas/data/image_codec.h"
#include "dnas/data/rng.h"

namespace fs = std::filesystem;

namespace dnas::data {
namespace {

constexpr uint64_t kPackOrderSalt = 0x7061636b00000001ULL;  // stream of the packing order
constexpr int64_t kTarBlock = 512;                          // tar header and data block size
constexpr const char* kIndexMagic = "dnas-shards 1";

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "jpg" or "png" for an image file name, "" for anything else.
std::string image_extension(const std::string& path) {
  const std::string ext = lower(fs::path(path).extension().string());
  if (ext == ".jpg" || ext == ".jpeg") return "jpg";
  if (ext == ".png") return "png";
  return "";
}

bool is_image_member_ext(const std::string& ext) { return ext == "jpg" || ext == "jpeg" || ext == "png"; }

// A key without dots or slashes: "<position>_<stem>" (WebDataset splits the extension at the first dot).
std::string sample_member_key(int64_t position, const std::string& path) {
  std::string stem = fs::path(path).stem().string().substr(0, 80);
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return fmt::format("{:09d}_{}", position, stem);
}

// One tar being written, through a temporary file renamed on close().
class TarWriter {
 public:
  explicit TarWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
    a_ = archive_write_new();
    archive_write_set_format_pax_restricted(a_);  // ustar headers, pax extensions only when needed
    if (archive_write_open_filename(a_, tmp_.c_str()) != ARCHIVE_OK)
      fail(std::string("cannot create shard: ") + archive_error_string(a_), tmp_, "check the output folder");
  }
  ~TarWriter() {
    if (a_) archive_write_free(a_);
  }
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  void add(const std::string& name, const uint8_t* data, size_t size) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(size));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 0, 0);  // fixed, so shards are reproducible
    const bool ok = archive_write_header(a_, e) == ARCHIVE_OK &&
                    (size == 0 || archive_write_data(a_, data, size) == static_cast<la_ssize_t>(size));
    archive_entry_free(e);
    if (!ok) fail(std::string("cannot write member: ") + archive_error_string(a_), tmp_ + ": " + name);
  }

  void close() {
    if (archive_write_close(a_) != ARCHIVE_OK)
      fail(std::string("cannot finish shard: ") + archive_error_string(a_), tmp_);
    archive_write_free(a_);
    a_ = nullptr;
    fs::rename(tmp_, path_);
  }

 private:
  std::string path_, tmp_;
  archive* a_ = nullptr;
};

void write_index(const ShardIndex& index, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << kIndexMagic << "\nclasses " << index.classes.size() << "\n";
    for (const auto& c : index.classes) out << c << "\n";
    out << "shards " << index.shards.size() << "\n";
    for (size_t i = 0; i < index.shards.size(); ++i) out << index.counts[i] << " " << index.shards[i] << "\n";
    if (!out) fail("cannot write the shard index", tmp, "check the output folder and free space");
  }
  fs::rename(tmp, path);
}

}  // namespace

int64_t ShardIndex::total() const { return std::accumulate(counts.begin(), counts.end(), int64_t{0}); }

std::string ShardIndex::shard_path(size_t i) const { return (fs::path(dir) / shards.at(i)).string(); }

std::string shard_index_path(const std::string& prefix) { return prefix + ".index.txt"; }

ShardIndex write_shards(const std::vector<ImageFile>& samples, const std::vector<std::string>& classes,
                        const std::string& output_prefix, int64_t max_shard_bytes, uint64_t shuffle_seed) {
  const std::string where = "data.write_shards";
  if (samples.empty()) fail("no samples to pack", output_prefix);
  if (max_shard_bytes <= 0) fail("max shard size must be > 0", where);
  for (const auto& c : classes)
    if (c.empty() || c.find('\n') != std::string::npos) fail("class names must be one non-empty line", where);
  const fs::path prefix(output_prefix);
  if (prefix.filename().empty()) fail("output prefix needs a file name part", output_prefix, "e.g. out/train");
  ShardIndex index;
  index.dir = prefix.has_parent_path() ? prefix.parent_path().string() : ".";
  index.classes = classes;
  fs::create_directories(index.dir);

  std::vector<size_t> order(samples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  SplitMix64 rng(mix_seed(shuffle_seed, kPackOrderSalt));
  fisher_yates(order, rng);

  std::unique_ptr<TarWriter> writer;
  int64_t shard_bytes = 0;
  auto finish_shard = [&] {
    if (writer) writer->close();
    writer.reset();
  };
  core::Progress progress("pack " + output_prefix, static_cast<int64_t>(samples.size()));
  for (size_t position = 0; position < order.size(); ++position) {
    const ImageFile& sample = samples[order[position]];
    const std::string ext = image_extension(sample.path);
    if (ext.empty()) fail("not a .jpg/.jpeg/.png file", sample.path);
    if (sample.label < 0 || (!classes.empty() && sample.label >= static_cast<int64_t>(classes.size())))
      fail("label " + std::to_string(sample.label) + " is out of range", sample.path);
    const std::vector<uint8_t> bytes = read_file_bytes(sample.path);
    const std::string label = std::to_string(sample.label);
    const int64_t cost = 4 * kTarBlock + static_cast<int64_t>(bytes.size());  // headers + padding, about
    if (writer && shard_bytes + cost > max_shard_bytes) finish_shard();
    if (!writer) {
      index.shards.push_back(fmt::format("{}-{:06d}.tar", prefix.filename().string(), index.shards.size()));
      index.counts.push_back(0);
      writer = std::make_unique<TarWriter>(index.shard_path(index.shards.size() - 1));
      shard_bytes = 0;
    }
    const std::string key = sample_member_key(static_cast<int64_t>(position), sample.path);
    writer->add(key + "." + ext, bytes.data(), bytes.size());
    writer->add(key + ".cls", reinterpret_cast<const uint8_t*>(label.data()), label.size());
    shard_bytes += cost;
    ++index.counts.back();
    progress.update(static_cast<int64_t>(position) + 1, fmt::format("shard {}", index.shards.size() - 1));
  }
  finish_shard();
  progress.finish();
  write_index(index, shard_index_path(output_prefix));
  spdlog::info("packed {} samples into {} shards ({})", samples.size(), index.shards.size(),
               shard_index_path(output_prefix));
  return index;
}

ShardIndex read_shard_index(const std::string& prefix_or_path) {
  const std::string suffix = ".index.txt";
  const bool is_path = prefix_or_path.size() > suffix.size() &&
                       prefix_or_path.compare(prefix_or_path.size() - suffix.size(), suffix.size(), suffix) == 0;
  const std::string path = is_path ? prefix_or_path : shard_index_path(prefix_or_path);
  std::ifstream in(path);
  if (!in) fail("cannot open the shard index", path, "write shards with `dnas pack`");
  const std::string hint = "the file is not a dnas shard index or is damaged; run `dnas pack` again";
  std::string line, word;
  if (!std::getline(in, line) || line != kIndexMagic)
    fail("missing header '" + std::string(kIndexMagic) + "'", path, hint);
  ShardIndex index;
  index.dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path().string() : ".";
  int64_t n = -1;
  if (!std::getline(in, line) || !(std::istringstream(line) >> word >> n) || word != "classes" || n < 0)
    fail("expected 'classes <count>'", path, hint);
  for (int64_t i = 0; i < n; ++i) {
    if (!std::getline(in, line)) fail("the class list ends early", path, hint);
    index.classes.push_back(line);
  }
  if (!std::getline(in, line) || !(std::istringstream(line) >> word >> n) || word != "shards" || n <= 0)
    fail("expected 'shards <count>'", path, hint);
  for (int64_t i = 0; i < n; ++i) {
    int64_t count = -1;
    std::string name;
    if (!std::getline(in, line)) fail("the shard list ends early", path, hint);
    std::istringstream fields(line);
    if (!(fields >> count) || count < 0 || !std::getline(fields >> std::ws, name) || name.empty())
      fail("bad shard line '" + abbreviated(line) + "'", path, hint);
    index.counts.push_back(count);
    index.shards.push_back(name);
  }
  return index;
}

struct ShardReader::ArchiveHandle {
  archive* a = nullptr;
  ~ArchiveHandle() {
    if (a) archive_read_free(a);
  }
};

ShardReader::ShardReader(std::string path, int64_t expected_count, int64_t classes)
    : path_(std::move(path)), expected_(expected_count), classes_(classes), archive_(new ArchiveHandle) {
  archive_->a = archive_read_new();
  archive_read_support_format_tar(archive_->a);
  if (archive_read_open_filename(archive_->a, path_.c_str(), size_t{1} << 16) != ARCHIVE_OK)
    fail(std::string("cannot open shard: ") + archive_error_string(archive_->a), path_,
         "check the path; shards are written by `dnas pack`");
}

ShardReader::~ShardReader() = default;

bool ShardReader::read_member(Member& out) {
  archive* a = archive_->a;
  const std::string hint = "the shard is truncated or damaged; pack it again";
  for (;;) {
    archive_entry* e = nullptr;
    if (eof_) return false;
    const int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) {
      eof_ = true;
      return false;
    }
    if (r < ARCHIVE_WARN)
      fail(std::string("cannot read the next tar header: ") + archive_error_string(a),
           path_ + " after sample " + std::to_string(count_), hint);
    if (archive_entry_filetype(e) != AE_IFREG) continue;  // directories and links carry no sample
    out.name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    const la_int64_t size = archive_entry_size(e);
    out.data.resize(static_cast<size_t>(std::max<la_int64_t>(size, 0)));
    size_t done = 0;
    while (done < out.data.size()) {
      const la_ssize_t n = archive_read_data(a, out.data.data() + done, out.data.size() - done);
      if (n <= 0)
        fail(std::string("cannot read member data: ") + (n < 0 ? archive_error_string(a) : "unexpected end of file"),
             path_ + ": " + out.name, hint);
      done += static_cast<size_t>(n);
    }
    const size_t slash = out.name.rfind('/');
    const size_t dot = out.name.find('.', slash == std::string::npos ? 0 : slash + 1);
    if (dot == std::string::npos)
      fail("member has no extension", path_ + ": " + out.name, "expected <key>.jpg/.png + <key>.cls");
    out.key = out.name.substr(0, dot);
    out.ext = lower(out.name.substr(dot + 1));
    return true;
  }
}

bool ShardReader::next(ShardRecord& out) {
  if (done_) return false;
  std::vector<Member> group;
  if (pending_) {
    group.push_back(std::move(*pending_));
    pending_.reset();
  } else {
    Member m;
    if (read_member(m)) group.push_back(std::move(m));
  }
  if (group.empty()) {
    done_ = true;
    if (expected_ >= 0 && count_ != expected_)
      fail("shard holds " + std::to_string(count_) + " samples, the index says " + std::to_string(expected_), path_,
           "the shard is truncated or the index is stale; pack again");
    return false;
  }
  for (;;) {  // the sample's members are consecutive and share its key
    auto m = std::make_unique<Member>();
    if (!read_member(*m)) break;
    if (m->key != group.front().key) {
      pending_ = std::move(m);
      break;
    }
    group.push_back(std::move(*m));
  }
  Member *image = nullptr, *label = nullptr;
  for (Member& m : group) {  // members other than the image and .cls (.json, ...) are ignored
    Member** slot = is_image_member_ext(m.ext) ? &image : (m.ext == "cls" ? &label : nullptr);
    if (!slot) continue;
    if (*slot) fail("sample has two ." + m.ext + " members", path_ + ": " + m.name);
    *slot = &m;
  }
  const std::string& first = group.front().name;
  if (!image) fail("sample has no image member (.jpg/.png)", path_ + ": " + first, "expected <key>.jpg + <key>.cls");
  if (!label) fail("image has no .cls member", path_ + ": " + image->name, "expected <key>.jpg + <key>.cls");
  std::string text(label->data.begin(), label->data.end());
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  const bool digits = !text.empty() && text.size() < 18 &&
                      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits) fail("malformed label '" + abbreviated(text, 40) + "'", path_ + ": " + label->name, "expected digits");
  out.label = std::stoll(text);
  if (classes_ > 0 && out.label >= classes_)
    fail("label " + text + " is out of range [0, " + std::to_string(classes_) + ")", path_ + ": " + label->name);
  out.key = image->key;
  out.member = image->name;
  out.bytes = std::move(image->data);
  ++count_;
  if (expected_ >= 0 && count_ > expected_)
    fail("shard holds more samples than the index's " + std::to_string(expected_), path_, "the index is stale");
  return true;
}

ShardIndex pack_image_folder(const std::string& input, const std::string& output_prefix, int64_t max_shard_bytes,
                             uint64_t shuffle_seed) {
  const ImageFolderListing listing = list_image_folder(input);
  spdlog::info("packing {}: {} images in {} classes", input, listing.samples.size(), listing.classes.size());
  return write_shards(listing.samples, listing.classes, output_prefix, max_shard_bytes, shuffle_seed);
}

}  // namespace dnas::data
