#include "dnas/lm/corpus.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/error_of.h"
#include "lm/lm_fixtures.h"

namespace dnas::lm {
namespace {

std::vector<int64_t> ids(const torch::Tensor& t) { return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()}; }

TEST(Corpus, ReadsPtbFormatWithEosAndSharedVocabulary) {
  const auto dir = dnas::testing::fresh_dir("format");
  dnas::testing::write_text(dir / "train.txt", " a b c \nb a\n");
  dnas::testing::write_text(dir / "valid.txt", "c a\n");
  dnas::testing::write_text(dir / "test.txt", "a d\n");
  const auto c = load_corpus(dir.string());
  EXPECT_EQ(c.words, (std::vector<std::string>{"a", "b", "c", "<eos>", "d"}));
  EXPECT_EQ(ids(c.train), (std::vector<int64_t>{0, 1, 2, 3, 1, 0, 3}));
  EXPECT_EQ(ids(c.valid), (std::vector<int64_t>{2, 0, 3}));
  EXPECT_EQ(ids(c.test), (std::vector<int64_t>{0, 4, 3}));
  EXPECT_EQ(ids(load_corpus(dir.string(), 2).train), (std::vector<int64_t>{0, 1}));
}

TEST(Corpus, AcceptsPtbFileNames) {
  const auto dir = dnas::testing::fresh_dir("ptbnames");
  for (const char* split : {"train", "valid", "test"})
    dnas::testing::write_text(dir / (std::string("ptb.") + split + ".txt"), "x y\n");
  EXPECT_EQ(load_corpus(dir.string()).vocab_size(), 3);
  const auto wiki = dnas::testing::fresh_dir("wikinames");
  for (const char* split : {"train", "valid", "test"})
    dnas::testing::write_text(wiki / (std::string("wiki.") + split + ".tokens"), " = Title = \n a b\n");
  EXPECT_EQ(load_corpus(wiki.string()).words, (std::vector<std::string>{"=", "Title", "<eos>", "a", "b"}));
}

TEST(Corpus, BadFilesAreClearErrors) {
  const auto dir = dnas::testing::fresh_dir("bad");
  dnas::testing::write_text(dir / "train.txt", "a b\n");
  auto msg = dnas::testing::error_of([&] { load_corpus(dir.string()); });
  EXPECT_NE(msg.find("'valid' not found"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir.string()), std::string::npos) << msg;
  dnas::testing::write_text(dir / "valid.txt", "");
  dnas::testing::write_text(dir / "test.txt", "a\n");
  msg = dnas::testing::error_of([&] { load_corpus(dir.string()); });
  EXPECT_NE(msg.find("empty corpus file"), std::string::npos) << msg;
  dnas::testing::write_text(dir / "valid.txt", std::string("a\0b\n", 4));
  msg = dnas::testing::error_of([&] { load_corpus(dir.string()); });
  EXPECT_NE(msg.find("NUL byte on line 1"), std::string::npos) << msg;
  msg = dnas::testing::error_of([&] { load_corpus((dir / "nope").string()); });
  EXPECT_NE(msg.find("data.corpus"), std::string::npos) << msg;
}

TEST(Corpus, BatchifyAndTokenBatchShiftTargetsByOne) {
  const auto rows = batchify(torch::arange(11), 2, "train");  // 10 tokens used, 5 rows
  ASSERT_EQ(rows.sizes(), (torch::IntArrayRef{5, 2}));
  EXPECT_EQ(ids(rows.select(1, 0).contiguous()), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ids(rows.select(1, 1).contiguous()), (std::vector<int64_t>{5, 6, 7, 8, 9}));
  const auto b = token_batch(rows, 1, 2);
  EXPECT_EQ(ids(b.input.contiguous()), (std::vector<int64_t>{1, 6, 2, 7}));
  EXPECT_EQ(ids(b.target.contiguous()), (std::vector<int64_t>{2, 7, 3, 8}));
  EXPECT_EQ(token_batch(rows, 3, 35).input.size(0), 1);  // clipped to the last target row
  const auto msg = dnas::testing::error_of([] { batchify(torch::arange(5), 4, "valid"); });
  EXPECT_NE(msg.find("valid split has 5 tokens"), std::string::npos) << msg;
}

}  // namespace
}  // namespace dnas::lm
