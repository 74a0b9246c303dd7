#pragma once
// The files of one experiment: its phases' results files (the search's, shared by experiments
// that differ only in retrain settings, and one per eval seed) and the experiment's record
// <out_dir>/<id>.h5, assembled from them once every phase has settled.
#include <string>
#include <vector>

#include "dnas/sweep/experiment.h"

namespace dnas::sweep {

// The search's work dir: out_dir/searches/<method>_<hash of its result-changing settings>, or
// <id>/search for a study started by an early version.
std::string search_dir(const Experiment& experiment, const std::string& out_dir);
// A search dir whose name an earlier version gave (the name hashes the settings text, which grows
// with new keys) and whose run has the same result-changing settings is renamed to `wanted`.
// Leader only, under the search's lock.
void adopt_earlier_search_name(const std::string& wanted, const std::string& method, const std::string& config_text);
// The retrain work dir of one eval seed: <id>/train_seed<seed>.
std::string seed_dir(const Experiment& experiment, const std::string& out_dir, uint64_t seed);

// The status a results file states ("finished", "failed", "running", "interrupted"); "" when it
// is absent or unreadable (a damaged file is logged and counts as absent).
std::string results_status(const std::string& results_file);
// The work dir's results.h5 says "finished" and was written with the same result-changing
// settings (every key outside [run], and run.device) as `config_text`.
bool finished_phase(const std::string& dir, const std::string& config_text);
// Records a phase's failure in its work dir's results.h5 unless the phase's own loop already did
// (an error before its first epoch): the record the experiment's other items read.
void record_phase_failure(const std::string& dir, const std::string& kind, const std::string& error);

// Writes the experiment's record when its phases have settled: "finished" when the search and
// every eval seed finished, "failed" (with the first error) as soon as one of them failed.
// Returns the status written, or "" while a phase is still to run. Leader only.
std::string assemble_record(const Experiment& experiment, const std::string& out_dir, int devices);

// Failed phases of the experiments not yet finished are renamed results.failed.h5, so that a
// sweep retries each once and its items agree on which phases failed in this sweep. Rank 0, at
// the start of a sweep.
void retry_failed_phases(const std::string& out_dir, const std::vector<Experiment>& experiments);

}  // namespace dnas::sweep
