// The results files' format version: written by write_provenance, refused when newer than this
// build's, read as 1 when absent.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error_of.h"
#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"
#include "dnas/sweep/experiment_record.h"
#include "dnas/train/train_results.h"

namespace dnas::store {
namespace {

namespace fs = std::filesystem;
using dnas::testing::error_of;

class ResultsLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("dnas_layout_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(ResultsLayoutTest, WriteProvenanceStatesTheFormatVersion) {
  {
    H5File f(path("r.h5"), H5File::Mode::Create);
    write_provenance(f, {layout::provenance::kKindTrain, layout::provenance::kStatusFinished, "", ""});
  }
  H5File f(path("r.h5"), H5File::Mode::Read);
  EXPECT_DOUBLE_EQ(f.number_attribute("/", layout::provenance::kFormatVersion), kResultsFormatVersion);
  EXPECT_EQ(f.string_attribute("/", layout::provenance::kFormat), "dnas-results-1");
  EXPECT_EQ(check_format_version(f), kResultsFormatVersion);
}

TEST_F(ResultsLayoutTest, NewerFormatVersionIsRefusedNamingTheFile) {
  const auto file = path("newer.h5");
  {
    H5File f(file, H5File::Mode::Create);
    write_provenance(f, {layout::provenance::kKindTrain, layout::provenance::kStatusFinished, "", ""});
    f.set_attribute("/", layout::provenance::kFormatVersion, static_cast<int64_t>(kResultsFormatVersion + 1));
  }
  const H5File f(file, H5File::Mode::Read);
  const auto message = error_of([&] { check_format_version(f); });
  EXPECT_NE(message.find(file), std::string::npos) << message;
  EXPECT_NE(message.find("newer dnas"), std::string::npos) << message;
  // The readers make the check before they read anything.
  EXPECT_NE(error_of([&] { train::read_train_results(f, layout::train::kGroup); }).find(file), std::string::npos);
  EXPECT_NE(error_of([&] { sweep::results_status(file); }).find(file), std::string::npos);
}

TEST_F(ResultsLayoutTest, FileWithoutFormatVersionIsReadAsVersion1) {
  const auto file = path("old.h5");
  {
    H5File f(file, H5File::Mode::Create);
    f.set_attribute("/", layout::provenance::kStatus, std::string(layout::provenance::kStatusFinished));
  }
  const H5File f(file, H5File::Mode::Read);
  EXPECT_FALSE(f.has_attribute("/", layout::provenance::kFormatVersion));
  EXPECT_EQ(check_format_version(f), 1);
  EXPECT_EQ(sweep::results_status(file), layout::provenance::kStatusFinished);
}

}  // namespace
}  // namespace dnas::store
