#pragma once
// The HDF5 layout of the results files: every group, dataset and attribute name that dnas writes
// and reads, grouped by file kind. analysis/dnas_analysis/layout.py mirrors these names as
// <NAMESPACE>_<NAME> (kMetricValAcc in `search` -> SEARCH_METRIC_VAL_ACC) and
// tests/analysis/test_layout.py checks that the mirror equals this header.

namespace dnas::store {

// The layout version every results file states in its root attribute `format_version`; a file
// without it is version 1. Raise it when a name below changes meaning or goes away.
constexpr int kResultsFormatVersion = 1;

namespace layout {

// Root attributes of every results file, and their fixed values (store::write_provenance).
namespace provenance {
constexpr const char* kFormat = "format";
constexpr const char* kFormatValue = "dnas-results-1";
constexpr const char* kFormatVersion = "format_version";
constexpr const char* kKind = "kind";
constexpr const char* kStatus = "status";
constexpr const char* kError = "error";
constexpr const char* kConfig = "config";
constexpr const char* kDnasVersion = "dnas_version";
constexpr const char* kGitRevision = "git_revision";
constexpr const char* kHost = "host";
constexpr const char* kWrittenAt = "written_at";
constexpr const char* kKindSearch = "search";
constexpr const char* kKindTrain = "train";
constexpr const char* kKindExperiment = "experiment";
constexpr const char* kKindReport = "report";
constexpr const char* kKindRnn = "rnn";
constexpr const char* kStatusRunning = "running";
constexpr const char* kStatusFinished = "finished";
constexpr const char* kStatusFailed = "failed";
constexpr const char* kStatusInterrupted = "interrupted";
}  // namespace provenance

// A search's group (`dnas search` results.h5 and experiment records): metrics, arch, genotypes.
namespace search {
constexpr const char* kGroup = "/search";
constexpr const char* kMetrics = "metrics";  // subgroup of per-epoch [epochs] float64 series
constexpr const char* kMetricEpoch = "epoch";
constexpr const char* kMetricLr = "lr";
constexpr const char* kMetricTrainLoss = "train_loss";
constexpr const char* kMetricTrainAcc = "train_acc";
constexpr const char* kMetricSearchValAcc = "search_val_acc";
constexpr const char* kMetricValLoss = "val_loss";
constexpr const char* kMetricValAcc = "val_acc";
constexpr const char* kMetricSeconds = "seconds";
constexpr const char* kArch = "arch";  // subgroup of [epochs, ...] architecture tensors
// Prefixes of the arch tensor names the methods write (alpha_normal, discrete_reduce, ...).
constexpr const char* kArchAlphaPrefix = "alpha_";
constexpr const char* kArchDiscretePrefix = "discrete_";
constexpr const char* kGenotypes = "genotypes";
constexpr const char* kOpsNormal = "ops_normal";
constexpr const char* kOpsReduce = "ops_reduce";
constexpr const char* kMethod = "method";
constexpr const char* kGenotype = "genotype";
constexpr const char* kGenotypeHash = "genotype_hash";
constexpr const char* kWeightParameters = "weight_parameters";
constexpr const char* kSeconds = "seconds";
constexpr const char* kEpochs = "epochs";
}  // namespace search

// A retrain's group (`dnas train` results.h5: /train; experiment records: /train/seed<k>).
namespace train {
constexpr const char* kGroup = "/train";
constexpr const char* kSeedGroupPrefix = "/train/seed";
constexpr const char* kMetrics = "metrics";  // subgroup of per-epoch [epochs] float64 series
constexpr const char* kMetricEpoch = "epoch";
constexpr const char* kMetricLr = "lr";
constexpr const char* kMetricDropPath = "drop_path";
constexpr const char* kMetricTrainLoss = "train_loss";
constexpr const char* kMetricTrainAcc = "train_acc";
constexpr const char* kMetricValLoss = "val_loss";
constexpr const char* kMetricValAcc = "val_acc";
constexpr const char* kMetricSeconds = "seconds";
constexpr const char* kMetricDataWait = "data_wait";  // absent in files written before it existed
constexpr const char* kGenotypeText = "genotype_text";
constexpr const char* kGenotype = "genotype";
constexpr const char* kGenotypeHash = "genotype_hash";
constexpr const char* kGenotypeOrigin = "genotype_origin";
constexpr const char* kChannels = "channels";
constexpr const char* kParameters = "parameters";
constexpr const char* kParametersWithAux = "parameters_with_aux";
constexpr const char* kMultiplyAdds = "multiply_adds";
constexpr const char* kSkipConnectionsNormal = "skip_connections_normal";
constexpr const char* kSkipConnectionsReduce = "skip_connections_reduce";
constexpr const char* kSelectedEpoch = "selected_epoch";
constexpr const char* kTestLoss = "test_loss";
constexpr const char* kTestAcc = "test_acc";
constexpr const char* kTestTop5Acc = "test_top5_acc";  // absent in files written before it existed
constexpr const char* kSeconds = "seconds";
}  // namespace train

// An experiment record <id>.h5: root attributes and /test_acc, besides the search/train groups.
namespace experiment {
constexpr const char* kTestAcc = "/test_acc";           // [eval seeds] float64
constexpr const char* kTestTop5Acc = "/test_top5_acc";  // [eval seeds] float64 (absent in older records)
constexpr const char* kId = "id";
constexpr const char* kGridPrefix = "grid.";
constexpr const char* kDevices = "devices";
constexpr const char* kProtocol = "protocol";
constexpr const char* kDataset = "dataset";             // the search's (the retrain's without a search)
constexpr const char* kTrainDataset = "train_dataset";  // the retrain's (absent in older records)
constexpr const char* kMethod = "method";
constexpr const char* kSearchSeed = "search_seed";
constexpr const char* kLayers = "layers";
constexpr const char* kGenotype = "genotype";
constexpr const char* kGenotypeHash = "genotype_hash";
constexpr const char* kParameters = "parameters";
constexpr const char* kMultiplyAdds = "multiply_adds";
constexpr const char* kSkipConnectionsNormal = "skip_connections_normal";
constexpr const char* kSkipConnectionsReduce = "skip_connections_reduce";
constexpr const char* kSearchSeconds = "search_seconds";
constexpr const char* kSearchGpuDays = "search_gpu_days";
constexpr const char* kTrainSeconds = "train_seconds";
}  // namespace experiment

// summary.h5 of `dnas report`: /table/<column>, one entry per row, and its title.
namespace summary {
constexpr const char* kTable = "/table";
constexpr const char* kTitle = "title";
constexpr const char* kGroupColumn = "group";
constexpr const char* kProtocol = "protocol";
constexpr const char* kErrorMean = "error_mean";
constexpr const char* kTop5ErrorMean = "top5_error_mean";  // NaN where the runs have no top-5 accuracy
constexpr const char* kErrorStdSearchSeeds = "error_std_search_seeds";
constexpr const char* kErrorStdEvalSeeds = "error_std_eval_seeds";
constexpr const char* kBestError = "best_error";
constexpr const char* kParamsM = "params_m";
constexpr const char* kMaddsM = "madds_m";
constexpr const char* kSearchGpuDays = "search_gpu_days";
constexpr const char* kSkipsNormal = "skips_normal";
constexpr const char* kSkipsReduce = "skips_reduce";
constexpr const char* kFinished = "finished";
constexpr const char* kRuns = "runs";
constexpr const char* kVsRandom = "vs_random";
constexpr const char* kSearchSeeds = "search_seeds";
constexpr const char* kEvalSeeds = "eval_seeds";
// A Welch comparison's columns: <kVsRandom | kVsBaseline><suffix>.
constexpr const char* kVsBaseline = "vs_baseline";
constexpr const char* kDiffSuffix = "_diff";
constexpr const char* kCiLowSuffix = "_ci_low";
constexpr const char* kCiHighSuffix = "_ci_high";
constexpr const char* kPSuffix = "_p";
constexpr const char* kVerdictSuffix = "_verdict";
}  // namespace summary

// `dnas rnn` results.h5: root attributes, and search/ and retrain/ groups (relative names).
namespace rnn {
constexpr const char* kVocab = "vocab";
constexpr const char* kCorpus = "corpus";
constexpr const char* kSearchGroup = "search";
constexpr const char* kRetrainGroup = "retrain";
constexpr const char* kTrainPpl = "train_ppl";
constexpr const char* kValidPpl = "valid_ppl";
constexpr const char* kAlphas = "alphas";
constexpr const char* kOps = "ops";
constexpr const char* kGenotypes = "genotypes";
constexpr const char* kMethod = "method";
constexpr const char* kGenotype = "genotype";
constexpr const char* kSeconds = "seconds";
constexpr const char* kStepSeconds = "step_seconds";
constexpr const char* kWeightSteps = "weight_steps";
constexpr const char* kEdgeEvaluations = "edge_evaluations";
constexpr const char* kParams = "params";
constexpr const char* kBestValidPpl = "best_valid_ppl";
constexpr const char* kAsgdEpoch = "asgd_epoch";
constexpr const char* kFinished = "finished";
constexpr const char* kTestPpl = "test_ppl";
}  // namespace rnn

}  // namespace layout
}  // namespace dnas::store
