#include "dnas/data/data_settings.h"

namespace dnas::data {

void add_data_keys(core::KeyTable& t, DataSettings& d, const std::string& batch_help) {
  t.add("data.dataset", &d.dataset, "fashion_mnist | mnist | cifar10 | cifar100");
  t.add("data.root", &d.root, "dataset directory (empty: the dataset's default location)");
  t.add("data.limit", &d.limit, "use only this many training images (0 = all)").at_least(0);
  t.add("data.batch_size", &d.batch_size, batch_help).at_least(1);
  t.add("data.crop_padding", &d.crop_padding, "random-crop zero padding (0 = no crop)").at_least(0);
  t.add("data.flip", &d.flip, "random horizontal flip");
}

}  // namespace dnas::data
