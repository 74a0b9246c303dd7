#pragma once
// Small corpora in the PTB file format for the recurrent-space tests.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "dnas/lm/rnn_config.h"

namespace dnas::testing {

inline std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("dnas_lm_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Sentences of 4..9 words over `vocab` words w0..; the next word is (3 * w + 1) % vocab with
// probability 0.9, else uniform: a language model can learn most of it.
inline std::string markov_text(int sentences, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> word(0, vocab - 1), len(4, 9);
  std::uniform_real_distribution<double> u(0, 1);
  std::string text;
  for (int s = 0; s < sentences; ++s) {
    int w = word(rng);
    const int n = len(rng);
    for (int k = 0; k < n; ++k) {
      text += (k ? " w" : "w") + std::to_string(w);
      w = u(rng) < 0.9 ? (3 * w + 1) % vocab : word(rng);
    }
    text += "\n";
  }
  return text;
}

inline std::filesystem::path markov_corpus(const std::string& name, int train_sentences = 600, int vocab = 12) {
  const auto dir = fresh_dir(name);
  write_text(dir / "train.txt", markov_text(train_sentences, vocab, 1));
  write_text(dir / "valid.txt", markov_text(train_sentences / 4, vocab, 2));
  write_text(dir / "test.txt", markov_text(train_sentences / 4, vocab, 3));
  return dir;
}

// A search small enough for a unit test: hidden 16, batch 8, bptt 8, no dropout.
inline lm::RnnConfig tiny_rnn_config(const std::string& corpus, const std::string& method) {
  lm::RnnConfig c;
  c.corpus = corpus;
  c.progress = false;
  c.model.hidden = 16;
  c.model.dropout = c.model.dropout_h = c.model.dropout_x = c.model.dropout_i = 0.1;
  c.search.method = method;
  c.search.epochs = 2;
  c.search.batch_size = 8;
  c.search.eval_batch_size = 8;
  c.search.bptt = 8;
  c.search.steps_per_epoch = 6;
  c.search.lr = 5;  // the paper's 20 is for hidden 300; a 16-unit model overshoots with none in the mix
  c.search.eval_batches = 4;
  c.retrain.hidden = 24;
  c.retrain.batch_size = 8;
  c.retrain.eval_batch_size = 8;
  c.retrain.test_batch_size = 8;
  c.retrain.bptt = 8;
  c.retrain.dropout = c.retrain.dropout_h = c.retrain.dropout_x = c.retrain.dropout_i = 0.1;
  c.retrain.dropout_e = 0;
  c.retrain.lr = 5;
  c.retrain.seed = 3;
  return c;
}

}  // namespace dnas::testing
