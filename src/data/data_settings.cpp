#include "dnas/data/data_settings.h"

namespace dnas::data {

void add_data_keys(core::KeyTable& t, DataSettings& d, const std::string& batch_help) {
  t.add("data.dataset", &d.dataset,
        "fashion_mnist | mnist | cifar10 | cifar100 | svhn | cinic10 | tiny_imagenet | imagenet");
  t.add("data.root", &d.root, "dataset directory (empty: the dataset's default location)");
  t.add("data.limit", &d.limit, "use only this many training images (0 = all)").at_least(0);
  t.add("data.batch_size", &d.batch_size, batch_help).at_least(1);
  t.add("data.crop_padding", &d.crop_padding, "random-crop zero padding (0 = no crop)").at_least(0);
  t.add("data.flip", &d.flip, "random horizontal flip");
  t.add("data.image_size", &d.image_size,
        "imagenet: side of the square images (shorter side resized, centre crop; 0 = 224); other datasets: 0 or "
        "their own size")
      .at_least(0);
  t.add("data.svhn_extra", &d.svhn_extra, "svhn: add the 531,131 images of extra_32x32.mat to the training set");
  t.add("data.bad_images", &d.bad_images,
        "error | skip: an image file that does not decode stops loading, or is left out, counted and logged");
}

}  // namespace dnas::data
