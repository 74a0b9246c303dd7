#pragma once
// Stretchable Cells settings (docs/methods.md 6).
#include <string>

namespace dnas::search {

// sc.variant: stretchable (any subset of a state's output edges) | fixed2 (two, "w/o SC")
enum class ScVariant { Stretchable, Fixed2 };
// sc.perspective: choosers per state over its output edges | per node over pairs of its inputs (Table 5)
enum class ScPerspective { Output, Input };
// sc.orphan: drop | repair the intermediates a derived cell leaves without inputs
enum class ScOrphan { Drop, Repair };
// sc.val_split: auto (separate for milenas_sc on imagenet, else shared) | shared | separate (beta
// on its own third of the data)
enum class ScValSplit { Auto, Shared, Separate };

// Each throws dnas::Error naming its key and the allowed values.
ScVariant parse_sc_variant(const std::string& value);
ScPerspective parse_sc_perspective(const std::string& value);
ScOrphan parse_sc_orphan(const std::string& value);
ScValSplit parse_sc_val_split(const std::string& value);
const char* mode_name(ScVariant mode);
const char* mode_name(ScPerspective mode);
const char* mode_name(ScOrphan mode);
const char* mode_name(ScValSplit mode);

struct ScConfig {
  std::string variant = "stretchable";  // sc.variant: stretchable (any topology) | fixed2 ("w/o SC")
  std::string perspective = "output";   // sc.perspective: output | input (Table 5 ablation)
  double lambda = 10.0;                 // sc.lambda: weight of the passive-aggressive regulariser r(beta)
  bool allow_empty_code = false;        // sc.allow_empty_code: include the empty output code
  std::string orphan = "drop";          // sc.orphan: drop | repair (intermediates without inputs)
  std::string val_split =
      "auto";  // sc.val_split: auto (separate for milenas_sc on imagenet, else shared) | shared | separate
};

// Checks ranges and modes; throws dnas::Error naming the offending key.
void validate(const ScConfig& config);

}  // namespace dnas::search
