#include "dnas/store/h5_file.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "common/error_of.h"
#include "dnas/core/error.h"
#include "dnas/store/checkpoint_file.h"
#include "dnas/store/module_state.h"

namespace dnas::store {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dnas_store_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

using dnas::testing::error_of;

TEST_F(StoreTest, TensorsRoundTripExactly) {
  torch::manual_seed(0);
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {
      {"a/f32", torch::randn({3, 4, 2})},
      {"a/b/f64", torch::randn({5}, torch::kFloat64)},
      {"i64", torch::tensor({int64_t{1} << 40, int64_t{-7}})},
      {"u8", torch::randint(0, 255, {7}, torch::kUInt8)},
      {"scalar", torch::tensor(2.5, torch::kFloat64)},
      {"empty", torch::zeros({0, 3})},
      {"cells.0._ops.1.op.1.weight", torch::randn({2, 2})},
  };
  {
    H5File f(path("t.h5"), H5File::Mode::Create);
    for (const auto& [n, t] : tensors) f.write_tensor(n, t);
  }
  H5File f(path("t.h5"), H5File::Mode::Read);
  for (const auto& [n, t] : tensors) {
    auto r = f.read_tensor(n);
    EXPECT_EQ(r.scalar_type(), t.scalar_type()) << n;
    EXPECT_EQ(r.sizes(), t.sizes()) << n;
    EXPECT_TRUE(torch::equal(r, t)) << n;
  }
  EXPECT_EQ(f.list("a"), (std::vector<std::string>{"b", "f32"}));
  EXPECT_TRUE(f.is_dataset("a/f32"));
  EXPECT_FALSE(f.is_dataset("a"));
  EXPECT_FALSE(f.exists("a/zzz/q"));
  EXPECT_NE(error_of([&] { f.read_tensor("nope"); }).find("nope"), std::string::npos);
}

TEST_F(StoreTest, AttributesAndExtensibleRows) {
  {
    H5File f(path("a.h5"), H5File::Mode::Create);
    f.set_attribute("/", "name", std::string("darts_1st"));
    f.set_attribute("/", "empty", std::string());
    f.set_attribute("/", "lr", 0.025);
    f.set_attribute("/", "epochs", int64_t{50});
    for (int i = 0; i < 3; ++i) f.append_row("metrics/loss", torch::tensor(1.0 / (i + 1), torch::kFloat64));
    for (int i = 0; i < 2; ++i) f.append_row("alpha/normal", torch::full({2, 3}, static_cast<float>(i)));
    EXPECT_THROW(f.append_row("alpha/normal", torch::zeros({3, 2})), Error);
  }
  H5File f(path("a.h5"), H5File::Mode::Read);
  EXPECT_EQ(f.string_attribute("/", "name"), "darts_1st");
  EXPECT_EQ(f.string_attribute("/", "empty"), "");
  EXPECT_DOUBLE_EQ(f.number_attribute("/", "lr"), 0.025);
  EXPECT_DOUBLE_EQ(f.number_attribute("/", "epochs"), 50.0);
  auto names = f.attribute_names("/");
  EXPECT_EQ(names.size(), 4u);
  auto loss = f.read_tensor("metrics/loss");
  ASSERT_EQ(loss.sizes(), (std::vector<int64_t>{3}));
  EXPECT_DOUBLE_EQ(loss[2].item<double>(), 1.0 / 3);
  auto alpha = f.read_tensor("alpha/normal");
  ASSERT_EQ(alpha.sizes(), (std::vector<int64_t>{2, 2, 3}));
  EXPECT_EQ(alpha[1][1][2].item<float>(), 1.0f);
}

Checkpoint small_checkpoint(double epoch) {
  Checkpoint c;
  c.kind = "train";
  c.text["genotype"] = "DARTS_V2";
  c.numbers["epoch"] = epoch;
  c.tensors = {{"model/stem.0.weight", torch::full({2, 2}, epoch)}, {"method/adam/0/step", torch::tensor(int64_t{3})}};
  return c;
}

TEST_F(StoreTest, CheckpointRoundTripAndAtomicReplace) {
  const auto p = path("ckpt.h5");
  write_checkpoint(p, small_checkpoint(1));
  auto c = read_checkpoint(p, "train");
  EXPECT_EQ(c.string("genotype"), "DARTS_V2");
  EXPECT_DOUBLE_EQ(c.number("epoch"), 1.0);
  EXPECT_TRUE(torch::equal(c.tensor("model/stem.0.weight"), torch::full({2, 2}, 1.0)));
  EXPECT_EQ(with_prefix(c.tensors, "method").at(0).first, "adam/0/step");
  EXPECT_EQ(c.tensor("method/adam/0/step").item<int64_t>(), 3);

  // A failing write leaves the good file in place and no temporary behind.
  auto bad = small_checkpoint(2);
  bad.tensors.emplace_back("model/complex", torch::zeros({2}, torch::kComplexFloat));
  EXPECT_THROW(write_checkpoint(p, bad), Error);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
  EXPECT_DOUBLE_EQ(read_checkpoint(p, "train").number("epoch"), 1.0);
}

TEST_F(StoreTest, BadCheckpointsAreClearErrors) {
  const auto p = path("ckpt.h5");
  EXPECT_NE(error_of([&] { read_checkpoint(p, "train"); }).find("not found"), std::string::npos);
  write_checkpoint(p, small_checkpoint(1));
  EXPECT_NE(error_of([&] { read_checkpoint(p, "search"); }).find("expected search"), std::string::npos);

  // Truncated copy.
  const auto t = path("truncated.h5");
  {
    std::ifstream in(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream out(t, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  }
  auto msg = error_of([&] { read_checkpoint(t, "train"); });
  EXPECT_NE(msg.find(t), std::string::npos) << msg;

  // Not HDF5 at all, and HDF5 that is not a checkpoint.
  { std::ofstream(path("text.h5")) << "hello"; }
  EXPECT_NE(error_of([&] { read_checkpoint(path("text.h5"), "train"); }).find("not an HDF5"), std::string::npos);
  { H5File f(path("other.h5"), H5File::Mode::Create); }
  EXPECT_NE(error_of([&] { read_checkpoint(path("other.h5"), "train"); }).find("not a dnas checkpoint"),
            std::string::npos);
}

}  // namespace
}  // namespace dnas::store
