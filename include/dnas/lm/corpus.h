#pragma once
// Word-level text corpora in the PTB file format: train, valid and test text files with one
// sentence per line and words separated by white space; every line ends with an `<eos>`
// token. Like the reference loader, the vocabulary is built over the three files in reading
// order, so every valid/test word has an id.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dnas::lm {

struct Corpus {
  std::vector<std::string> words;    // id -> word
  torch::Tensor train, valid, test;  // [tokens] int64 ids
  int64_t vocab_size() const { return static_cast<int64_t>(words.size()); }
};

// `dir` holds train.txt/valid.txt/test.txt, ptb.train.txt/... (PTB) or wiki.train.tokens/...
// (WikiText-2, the NASP paper's transfer corpus).
// limit_tokens > 0 keeps only the first that many tokens of each split (small runs).
Corpus load_corpus(const std::string& dir, int64_t limit_tokens = 0);

// [n] -> [n / batch, batch]: column b is the b-th contiguous slice; the remainder is dropped.
// `split` names the data in the error when fewer than 2 rows remain.
torch::Tensor batchify(const torch::Tensor& tokens, int64_t batch, const std::string& split);

struct TokenBatch {
  torch::Tensor input;   // [T, B]
  torch::Tensor target;  // [T * B], the next token of every input position
};
// Rows start .. start+T-1 of a batchified split, with T = min(seq_len, rows - 1 - start).
TokenBatch token_batch(const torch::Tensor& rows, int64_t start, int64_t seq_len);

}  // namespace dnas::lm
