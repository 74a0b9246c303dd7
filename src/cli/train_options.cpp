#include <boost/program_options.hpp>

#include <sstream>

#include "dnas/cli/options.h"
#include "settings_parser.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

po::options_description train_keys(train::TrainConfig& c) {
  po::options_description d("Settings (INI section.key; override with --section.key=value)");
  auto& data = c.data;
  auto& m = c.model;
  auto& o = c.optim;
  auto& r = c.run;
  d.add_options()
      ("data.dataset", with_default(&data.dataset), "fashion_mnist | mnist | cifar10 | cifar100")
      ("data.root", with_default(&data.root), "dataset directory (empty: the dataset's default location)")
      ("data.batch_size", with_default(&data.batch_size), "batch size")
      ("data.crop_padding", with_default(&data.crop_padding), "random-crop zero padding (0 = no crop)")
      ("data.flip", with_default(&data.flip), "random horizontal flip")
      ("data.cutout", with_default(&data.cutout), "cutout square side (0 = off)")
      ("data.limit", with_default(&data.limit), "use only this many training images (0 = all)")
      ("data.val_portion", with_default(&data.val_portion), "hold out this share of the training set for validation (0 = none)")
      ("data.test_limit", with_default(&data.test_limit), "test on only this many test images (0 = all)")
      ("model.genotype", with_default(&m.genotype), "published name, Genotype(...) text, or a search's genotype.txt / output directory")
      ("model.channels", with_default(&m.channels), "initial channels C")
      ("model.layers", with_default(&m.layers), "number of cells L")
      ("model.auxiliary", with_default(&m.auxiliary), "auxiliary head on cell 2L/3")
      ("model.aux_weight", with_default(&m.aux_weight), "weight of the auxiliary loss")
      ("model.drop_path", with_default(&m.drop_path), "maximum drop-path rate (linear schedule from 0)")
      ("model.stem", with_default(&m.stem), "cifar | imagenet")
      ("model.channels_last", with_default(&m.channels_last), "NHWC activations and conv weights (false: NCHW; same results up to rounding)")
      ("model.target_params", with_default(&m.target_params), "millions of parameters (without aux); > 0 replaces model.channels by the C that matches")
      ("model.genotype_epoch", with_default(&m.genotype_epoch), "with a search directory as model.genotype: its cell after this epoch (0 = final)")
      ("train.epochs", with_default(&o.epochs), "epochs")
      ("train.lr", with_default(&o.lr), "initial SGD learning rate")
      ("train.lr_min", with_default(&o.lr_min), "final learning rate of the cosine schedule")
      ("train.schedule", with_default(&o.schedule), "cosine | exponential | linear_warmup")
      ("train.lr_gamma", with_default(&o.lr_gamma), "per-epoch factor of the exponential schedule")
      ("train.warmup_epochs", with_default(&o.warmup_epochs), "warm-up epochs of linear_warmup")
      ("train.momentum", with_default(&o.momentum), "SGD momentum")
      ("train.weight_decay", with_default(&o.weight_decay), "SGD weight decay")
      ("train.grad_clip", with_default(&o.grad_clip), "global gradient-norm clip (0 = off)")
      ("train.label_smoothing", with_default(&o.label_smoothing), "label smoothing eps (0 = off)")
      ("train.steps_per_epoch", with_default(&o.steps_per_epoch), "cap on steps per epoch (0 = full epoch)")
      ("train.select", with_default(&o.select), "final | best_val (needs data.val_portion > 0)")
      ("train.seed", with_default(&r.seed), "seed of weights, data order and augmentation")
      ("run.threads", with_default(&r.threads), "intra-op threads (0 = all cores)")
      ("run.device", with_default(&r.device), "cpu | cuda (the GPU of this rank: local rank % GPUs) | cuda:N")
      ("run.out_dir", with_default(&r.out_dir), "output directory")
      ("run.log_period_s", with_default(&r.log_period_s), "seconds between progress lines when stderr is not a terminal")
      ("run.progress", with_default(&r.progress), "show progress")
      ("run.stop_after_steps", with_default(&r.stop_after_steps), "checkpoint and stop after this many steps (0 = never); continue with --resume");
  return d;
}

}  // namespace

TrainCommand parse_train_command(const std::vector<std::string>& args) {
  TrainCommand cmd;
  auto flags = parse_settings(args, train_keys(cmd.config), "train");
  cmd.help = flags.help;
  cmd.config.run.resume = flags.resume;
  cmd.config.run.overwrite = flags.overwrite;
  if (!cmd.help) train::validate(cmd.config);
  return cmd;
}

std::string train_help() {
  train::TrainConfig defaults;
  return settings_help("usage: dnas train --config FILE.ini [--section.key=value ...] [--resume]", train_keys(defaults));
}

std::string to_ini(const train::TrainConfig& c) {
  std::ostringstream o;
  o << std::boolalpha;
  o << "[data]\ndataset = " << c.data.dataset << "\nroot = " << c.data.root << "\nbatch_size = " << c.data.batch_size
    << "\ncrop_padding = " << c.data.crop_padding << "\nflip = " << c.data.flip << "\ncutout = " << c.data.cutout
    << "\nlimit = " << c.data.limit << "\nval_portion = " << c.data.val_portion
    << "\ntest_limit = " << c.data.test_limit << "\n";
  o << "[model]\ngenotype = " << c.model.genotype << "\nchannels = " << c.model.channels
    << "\nlayers = " << c.model.layers << "\nauxiliary = " << c.model.auxiliary
    << "\naux_weight = " << c.model.aux_weight << "\ndrop_path = " << c.model.drop_path
    << "\nstem = " << c.model.stem << "\nchannels_last = " << c.model.channels_last << "\ntarget_params = " << c.model.target_params
    << "\ngenotype_epoch = " << c.model.genotype_epoch << "\n";
  const auto& p = c.optim;
  o << "[train]\nepochs = " << p.epochs << "\nlr = " << p.lr << "\nlr_min = " << p.lr_min
    << "\nschedule = " << p.schedule << "\nlr_gamma = " << p.lr_gamma << "\nwarmup_epochs = " << p.warmup_epochs
    << "\nmomentum = " << p.momentum << "\nweight_decay = " << p.weight_decay << "\ngrad_clip = " << p.grad_clip
    << "\nlabel_smoothing = " << p.label_smoothing << "\nsteps_per_epoch = " << p.steps_per_epoch
    << "\nselect = " << p.select << "\nseed = " << c.run.seed << "\n";
  o << "[run]\nthreads = " << c.run.threads << "\ndevice = " << c.run.device << "\nout_dir = " << c.run.out_dir
    << "\nlog_period_s = " << c.run.log_period_s << "\nprogress = " << c.run.progress
    << "\nstop_after_steps = " << c.run.stop_after_steps << "\n";
  return o.str();
}

}  // namespace dnas::cli
