#pragma once
// Test helper: a search small enough for a unit test (3 cells of C=4 with 2 steps, 2 epochs of 3
// steps, batch 16, one thread, no progress) with the settings each method needs at that size.
#include <string>

#include "dnas/search/search_config.h"

namespace dnas::testing {

inline search::SearchConfig tiny_search_config(const std::string& out_dir, const std::string& method) {
  search::SearchConfig c;
  c.data.batch_size = 16;
  c.supernet.channels = 4;
  c.supernet.layers = 3;
  c.supernet.steps = 2;
  c.optim.epochs = 2;
  c.optim.steps_per_epoch = 3;
  c.optim.eval_batches = 2;
  c.run.method = method;
  if (method == "nasp") c.supernet.op_set = "nasp7";  // NASP's space has no `none`
  c.eoinas.warmup_epochs = 1;                         // EoiNAS: one warm-up epoch, then statistics and a prune
  c.eoinas.prune_every = 1;
  c.run.threads = 1;
  c.run.progress = false;
  c.run.out_dir = out_dir;
  return c;
}

}  // namespace dnas::testing
