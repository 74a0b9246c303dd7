#pragma once
// Comparing two resolved configs (the INI text the cli writes): which setting differs.
#include <string>

namespace dnas::core {

// The first key whose value differs between two resolved configs, as "section.key: 'a' -> 'b'";
// empty when they agree. [run] keys other than run.device and run.precision cannot change results and are left
// out, and so is a key that only one side has (a newer version's key at its default). A text may
// hold several configs one after the other (a search's, then a retrain's): a section seen again
// starts the next one, and they are compared in order.
std::string first_setting_difference(const std::string& before, const std::string& now);

}  // namespace dnas::core
