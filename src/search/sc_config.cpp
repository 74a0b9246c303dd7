#include "dnas/search/sc_config.h"

#include "config_checks.h"

namespace dnas::search {
namespace {

constexpr ModeName<ScVariant> kVariantNames[] = {{ScVariant::Stretchable, "stretchable"},
                                                 {ScVariant::Fixed2, "fixed2"}};
constexpr ModeName<ScPerspective> kPerspectiveNames[] = {{ScPerspective::Output, "output"},
                                                         {ScPerspective::Input, "input"}};
constexpr ModeName<ScOrphan> kOrphanNames[] = {{ScOrphan::Drop, "drop"}, {ScOrphan::Repair, "repair"}};
constexpr ModeName<ScValSplit> kValSplitNames[] = {
    {ScValSplit::Auto, "auto"}, {ScValSplit::Shared, "shared"}, {ScValSplit::Separate, "separate"}};

}  // namespace

ScVariant parse_sc_variant(const std::string& value) { return parse_mode(kVariantNames, value, "sc.variant"); }
ScPerspective parse_sc_perspective(const std::string& value) {
  return parse_mode(kPerspectiveNames, value, "sc.perspective");
}
ScOrphan parse_sc_orphan(const std::string& value) { return parse_mode(kOrphanNames, value, "sc.orphan"); }
ScValSplit parse_sc_val_split(const std::string& value) { return parse_mode(kValSplitNames, value, "sc.val_split"); }
const char* mode_name(ScVariant mode) { return mode_name(kVariantNames, mode); }
const char* mode_name(ScPerspective mode) { return mode_name(kPerspectiveNames, mode); }
const char* mode_name(ScOrphan mode) { return mode_name(kOrphanNames, mode); }
const char* mode_name(ScValSplit mode) { return mode_name(kValSplitNames, mode); }

void validate(const ScConfig& c) {
  parse_sc_variant(c.variant);
  parse_sc_perspective(c.perspective);
  parse_sc_orphan(c.orphan);
  parse_sc_val_split(c.val_split);
}

}  // namespace dnas::search
