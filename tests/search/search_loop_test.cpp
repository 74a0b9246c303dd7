// End-to-end search on a small Fashion-MNIST subset: determinism and outputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/tiny_search.h"
#include "dnas/genotype/genotype.h"
#include "dnas/loop/schedule.h"
#include "dnas/search/search_loop.h"

using namespace dnas;

namespace {

search::SearchConfig tiny(const std::string& out_dir, const std::string& method) {
  auto c = dnas::testing::tiny_search_config(out_dir, method);
  c.run.overwrite = true;  // the directories are reused by every method and every test run
  c.data.limit = 256;
  return c;
}

bool have_fashion_mnist() { return std::filesystem::exists("/usr/share/datasets/fashion-mnist"); }

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(SearchLoop, SameSeedGivesTheSameGenotypeAndMetrics) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const auto dir = std::filesystem::temp_directory_path() / "dnas_search_loop";
  for (const char* method :
       {"darts_1st", "darts_2nd", "milenas", "gdas", "itnas", "eoinas", "darts_sc", "milenas_sc", "nasp"}) {
    auto a = search::run_search(tiny((dir / "a").string(), method));
    auto b = search::run_search(tiny((dir / "b").string(), method));
    EXPECT_EQ(genotype::to_string(a.genotype), genotype::to_string(b.genotype)) << method;
    ASSERT_EQ(a.epochs.size(), 2u);
    for (size_t e = 0; e < a.epochs.size(); ++e) {
      EXPECT_EQ(a.epochs[e].train_loss, b.epochs[e].train_loss) << method;
      EXPECT_EQ(a.epochs[e].val_acc, b.epochs[e].val_acc) << method;
    }
    auto other = tiny((dir / "c").string(), method);
    other.run.seed = 1;
    auto c = search::run_search(other);
    EXPECT_NE(a.epochs[0].train_loss, c.epochs[0].train_loss) << method;
  }
  // outputs: the genotype file parses back to the result
  auto text = read(dir / "a" / "genotype.txt");
  EXPECT_NO_THROW(genotype::parse_genotype(text, "genotype.txt"));
  EXPECT_NE(read(dir / "a" / "metrics.csv").find("epoch,lr"), std::string::npos);
}

TEST(SearchLoop, LearningRateFollowsTheCosineSchedulePerEpoch) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  auto c = tiny((std::filesystem::temp_directory_path() / "dnas_search_lr").string(), "darts_1st");
  c.optim.steps_per_epoch = 1;
  auto r = search::run_search(c);
  EXPECT_DOUBLE_EQ(r.epochs[0].lr, 0.025);
  EXPECT_DOUBLE_EQ(r.epochs[1].lr, loop::cosine_lr(0.025, 0.001, 1, 2));
}
