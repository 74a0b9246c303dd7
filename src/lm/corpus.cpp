#include "dnas/lm/corpus.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "dnas/core/error.h"

namespace dnas::lm {
namespace {

namespace fs = std::filesystem;

std::string split_file(const std::string& dir, const std::string& split) {
  for (const auto& name : {split + ".txt", "ptb." + split + ".txt", "wiki." + split + ".tokens"}) {
    const auto path = fs::path(dir) / name;
    if (fs::is_regular_file(path)) return path.string();
  }
  fail("corpus split '" + split + "' not found", dir,
       "the corpus directory needs " + split + ".txt (or ptb." + split + ".txt, or WikiText's wiki." + split +
           ".tokens): one sentence per line");
}

class Vocabulary {
 public:
  int64_t id(const std::string& word) {
    auto [it, inserted] = ids_.try_emplace(word, static_cast<int64_t>(words_.size()));
    if (inserted) words_.push_back(word);
    return it->second;
  }
  std::vector<std::string> take() { return std::move(words_); }

 private:
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<std::string> words_;
};

torch::Tensor read_split(const std::string& path, Vocabulary& vocab, int64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open corpus file", path, "check the permissions of the file");
  std::vector<int64_t> ids;
  int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find('\0') != std::string::npos)
      fail("not a text file (NUL byte on line " + std::to_string(line_no) + ")", path,
           "the corpus must be plain text in the PTB format, one sentence per line");
    std::istringstream words(line);
    for (std::string w; words >> w;) ids.push_back(vocab.id(w));
    ids.push_back(vocab.id("<eos>"));
    if (limit > 0 && static_cast<int64_t>(ids.size()) >= limit) break;
  }
  if (ids.empty()) fail("empty corpus file", path, "each split needs at least one line of text");
  if (limit > 0 && static_cast<int64_t>(ids.size()) > limit) ids.resize(static_cast<size_t>(limit));
  return torch::tensor(ids, torch::kLong);
}

}  // namespace

Corpus load_corpus(const std::string& dir, int64_t limit_tokens) {
  if (!fs::is_directory(dir))
    fail("corpus directory not found", dir, "set data.corpus to a directory with train.txt, valid.txt, test.txt");
  Vocabulary vocab;
  Corpus c;
  c.train = read_split(split_file(dir, "train"), vocab, limit_tokens);
  c.valid = read_split(split_file(dir, "valid"), vocab, limit_tokens);
  c.test = read_split(split_file(dir, "test"), vocab, limit_tokens);
  c.words = vocab.take();
  return c;
}

torch::Tensor batchify(const torch::Tensor& tokens, int64_t batch, const std::string& split) {
  const int64_t rows = tokens.size(0) / batch;
  if (rows < 2)
    fail("the " + split + " split has " + std::to_string(tokens.size(0)) + " tokens, too few for batch size " +
             std::to_string(batch),
         split, "use a smaller batch size or a larger corpus (each column needs at least 2 tokens)");
  return tokens.narrow(0, 0, rows * batch).view({batch, rows}).t().contiguous();
}

TokenBatch token_batch(const torch::Tensor& rows, int64_t start, int64_t seq_len) {
  const int64_t len = std::min(seq_len, rows.size(0) - 1 - start);
  TORCH_CHECK(len > 0, "token_batch: start ", start, " is past the last target row");
  return {rows.narrow(0, start, len), rows.narrow(0, start + 1, len).reshape({-1})};
}

}  // namespace dnas::lm
