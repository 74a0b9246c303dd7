#include "dnas/lm/rnn_results.h"

#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "dnas/store/h5_file.h"
#include "dnas/store/provenance.h"
#include "dnas/store/results_layout.h"

namespace dnas::lm {
namespace {

namespace names = store::layout::rnn;

torch::Tensor series(const std::vector<double>& v) { return torch::tensor(v, torch::kDouble); }

// "<group>/<name>"
std::string in_group(const char* group, const char* name) { return std::string(group) + "/" + name; }

void write_search(store::H5File& f, const RnnSearchResult& s) {
  f.write_tensor(in_group(names::kSearchGroup, names::kTrainPpl), series(s.train_ppl));
  f.write_tensor(in_group(names::kSearchGroup, names::kValidPpl), series(s.valid_ppl));
  if (!s.alphas.empty()) f.write_tensor(in_group(names::kSearchGroup, names::kAlphas), torch::stack(s.alphas));
  f.write_strings(in_group(names::kSearchGroup, names::kOps), s.ops);
  if (!s.genotypes.empty()) f.write_strings(in_group(names::kSearchGroup, names::kGenotypes), s.genotypes);
  f.set_attribute(names::kSearchGroup, names::kMethod, s.method);
  f.set_attribute(names::kSearchGroup, names::kGenotype, format_rnn_genotype(s.genotype));
  f.set_attribute(names::kSearchGroup, names::kSeconds, s.seconds);
  f.set_attribute(names::kSearchGroup, names::kStepSeconds, s.step_seconds);
  f.set_attribute(names::kSearchGroup, names::kWeightSteps, s.weight_steps);
  f.set_attribute(names::kSearchGroup, names::kEdgeEvaluations, s.edge_evaluations);
}

void write_retrain(store::H5File& f, const RnnTrainResult& r) {
  f.write_tensor(in_group(names::kRetrainGroup, names::kTrainPpl), series(r.train_ppl));
  f.write_tensor(in_group(names::kRetrainGroup, names::kValidPpl), series(r.valid_ppl));
  f.set_attribute(names::kRetrainGroup, names::kGenotype, format_rnn_genotype(r.genotype));
  f.set_attribute(names::kRetrainGroup, names::kParams, r.params);
  f.set_attribute(names::kRetrainGroup, names::kBestValidPpl, r.best_valid_ppl);
  f.set_attribute(names::kRetrainGroup, names::kAsgdEpoch, static_cast<int64_t>(r.asgd_epoch));
  f.set_attribute(names::kRetrainGroup, names::kSeconds, r.seconds);
  f.set_attribute(names::kRetrainGroup, names::kFinished, static_cast<int64_t>(r.finished));
  if (r.finished) f.set_attribute(names::kRetrainGroup, names::kTestPpl, r.test_ppl);
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

void write_rnn_results(const std::string& path, const RnnRunRecord& rec) {
  store::write_atomically(path, [&](store::H5File& f) {
    store::write_provenance(
        f, {store::layout::provenance::kKindRnn, rec.status, rec.error, rec.config ? rec.config->config_text : ""});
    f.set_attribute("/", names::kVocab, rec.vocab);
    if (rec.config) f.set_attribute("/", names::kCorpus, rec.config->corpus);
    if (rec.search) write_search(f, *rec.search);
    if (rec.retrain) write_retrain(f, *rec.retrain);
  });
}

std::string format_rnn_table(const RnnRunRecord& rec) {
  std::ostringstream out;
  out << "| method | search s | search valid ppl | retrain valid ppl | test ppl | params | genotype |\n"
      << "|---|---|---|---|---|---|---|\n";
  const auto* s = rec.search;
  const auto* r = rec.retrain;
  out << "| " << (s ? s->method : "retrain") << " | " << (s ? fixed(s->seconds, 1) : "-") << " | "
      << (s && !s->valid_ppl.empty() ? fixed(s->valid_ppl.back(), 2) : "-") << " | "
      << (r ? fixed(r->best_valid_ppl, 2) : "-") << " | " << (r && r->finished ? fixed(r->test_ppl, 2) : "-") << " | "
      << (r ? std::to_string(r->params) : "-") << " | "
      << (r   ? format_rnn_genotype(r->genotype)
          : s ? format_rnn_genotype(s->genotype)
              : "-")
      << " |\n";
  return out.str();
}

}  // namespace dnas::lm
