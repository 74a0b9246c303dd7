#include "dnas/cli/options.h"

#include <boost/program_options.hpp>

#include <sstream>

#include "dnas/core/error.h"
#include "settings_parser.h"

namespace po = boost::program_options;

namespace dnas::cli {
namespace {

// Space-separated op lists (supernet.normal_ops) are read as one string and split.
struct OpLists {
  std::string normal, reduce;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string join_words(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

po::options_description search_keys(search::SearchConfig& c, OpLists& lists) {
  po::options_description d("Settings (INI section.key; override with --section.key=value)");
  auto& data = c.data;
  auto& net = c.supernet;
  auto& opt = c.optim;
  auto& run = c.run;
  d.add_options()
      ("data.dataset", po::value(&data.dataset)->default_value(data.dataset), "fashion_mnist | mnist | cifar10 | cifar100")
      ("data.root", po::value(&data.root)->default_value(data.root), "dataset directory (empty: the dataset's default location)")
      ("data.split_shuffle", po::value(&data.split_shuffle)->default_value(data.split_shuffle), "shuffle the training set before the D_train/D_val split")
      ("data.train_portion", po::value(&data.train_portion)->default_value(data.train_portion), "share of the training images in D_train (rest: D_val)")
      ("data.limit", po::value(&data.limit)->default_value(data.limit), "use only this many training images (0 = all)")
      ("data.batch_size", po::value(&data.batch_size)->default_value(data.batch_size), "batch size of D_train and D_val")
      ("data.crop_padding", po::value(&data.crop_padding)->default_value(data.crop_padding), "random-crop zero padding (0 = no crop)")
      ("data.flip", po::value(&data.flip)->default_value(data.flip), "random horizontal flip")
      ("supernet.channels", po::value(&net.channels)->default_value(net.channels), "initial channels C")
      ("supernet.layers", po::value(&net.layers)->default_value(net.layers), "number of cells L")
      ("supernet.steps", po::value(&net.steps)->default_value(net.steps), "intermediate nodes per cell")
      ("supernet.stem_multiplier", po::value(&net.stem_multiplier)->default_value(net.stem_multiplier), "stem width = multiplier * C")
      ("supernet.op_set", po::value(&net.op_set)->default_value(net.op_set), "darts8 | darts7 | nasp7 | nasp12")
      ("supernet.normal_ops", po::value(&lists.normal)->default_value(""), "explicit normal-cell ops, space separated (overrides op_set)")
      ("supernet.reduce_ops", po::value(&lists.reduce)->default_value(""), "explicit reduction-cell ops, space separated (overrides op_set)")
      ("search.method", po::value(&run.method)->default_value(run.method), "darts_1st | darts_2nd | milenas | gdas | eoinas | itnas | darts_sc | milenas_sc | nasp | random | random_ws")
      ("search.seed", po::value(&run.seed)->default_value(run.seed), "seed of weights, alphas, splits and batches")
      ("search.epochs", po::value(&opt.epochs)->default_value(opt.epochs), "search epochs")
      ("search.w_lr", po::value(&opt.w_lr)->default_value(opt.w_lr), "initial SGD learning rate of w (cosine)")
      ("search.w_lr_min", po::value(&opt.w_lr_min)->default_value(opt.w_lr_min), "final SGD learning rate of w")
      ("search.w_momentum", po::value(&opt.w_momentum)->default_value(opt.w_momentum), "SGD momentum")
      ("search.w_nesterov", po::value(&opt.w_nesterov)->default_value(opt.w_nesterov), "SGD with Nesterov momentum (the GDAS code)")
      ("search.w_weight_decay", po::value(&opt.w_weight_decay)->default_value(opt.w_weight_decay), "SGD weight decay (coupled L2)")
      ("search.w_grad_clip", po::value(&opt.w_grad_clip)->default_value(opt.w_grad_clip), "global gradient-norm clip of w (0 = off)")
      ("search.arch_lr", po::value(&opt.arch_lr)->default_value(opt.arch_lr), "Adam learning rate of the architecture parameters")
      ("search.arch_beta1", po::value(&opt.arch_beta1)->default_value(opt.arch_beta1), "Adam beta1")
      ("search.arch_beta2", po::value(&opt.arch_beta2)->default_value(opt.arch_beta2), "Adam beta2")
      ("search.arch_weight_decay", po::value(&opt.arch_weight_decay)->default_value(opt.arch_weight_decay), "Adam weight decay (coupled L2)")
      ("search.hessian_radius", po::value(&opt.hessian_radius)->default_value(opt.hessian_radius), "DARTS 2nd order: finite-difference radius r, eps = r / ||v||")
      ("search.derive_edges", po::value(&opt.derive_edges)->default_value(opt.derive_edges), "darts_1st/2nd: input (2 strongest inputs per node) | output (2 strongest outputs per state, SC Table 5)")
      ("search.steps_per_epoch", po::value(&opt.steps_per_epoch)->default_value(opt.steps_per_epoch), "cap on iterations per epoch (0 = full pass over D_train)")
      ("search.eval_batches", po::value(&opt.eval_batches)->default_value(opt.eval_batches), "cap on D_val batches in the per-epoch evaluation (0 = all)")
      ("gdas.tau_max", po::value(&c.gdas.tau_max)->default_value(c.gdas.tau_max), "GDAS: Gumbel temperature at the first epoch (linear decay)")
      ("gdas.tau_min", po::value(&c.gdas.tau_min)->default_value(c.gdas.tau_min), "GDAS: Gumbel temperature at the last epoch")
      ("gdas.derive", po::value(&c.gdas.derive)->default_value(c.gdas.derive), "GDAS genotype rule: darts | autodl")
      ("milenas.lambda", po::value(&c.milenas.lambda)->default_value(c.milenas.lambda), "MiLeNAS: weight of the validation gradient")
      ("milenas.clip_arch_grads_like_code", po::value(&c.milenas.clip_arch_grads_like_code)->default_value(c.milenas.clip_arch_grads_like_code), "MiLeNAS: clip the alpha gradient norm to search.w_grad_clip and leave w's unclipped (the code)")
      ("eoinas.warmup_epochs", po::value(&c.eoinas.warmup_epochs)->default_value(c.eoinas.warmup_epochs), "EoiNAS: warm-up epochs (w only)")
      ("eoinas.prune_every", po::value(&c.eoinas.prune_every)->default_value(c.eoinas.prune_every), "EoiNAS: epochs between gradual op prunes after the warm-up")
      ("eoinas.lambda", po::value(&c.eoinas.lambda)->default_value(c.eoinas.lambda), "EoiNAS: indicator weight of Ca/Ce (0 = Baseline+GOP)")
      ("eoinas.prune", po::value(&c.eoinas.prune)->default_value(c.eoinas.prune), "EoiNAS ablation: gradual operation pruning")
      ("eoinas.forward", po::value(&c.eoinas.forward)->default_value(c.eoinas.forward), "EoiNAS: soft (Gumbel softmax over remaining ops) | hard (GDAS straight-through)")
      ("eoinas.acc_stat", po::value(&c.eoinas.acc_stat)->default_value(c.eoinas.acc_stat), "EoiNAS: Ca keeps the last | mean accuracy")
      ("eoinas.temp0", po::value(&c.eoinas.temp0)->default_value(c.eoinas.temp0), "EoiNAS: Gumbel temperature during the warm-up")
      ("eoinas.temp_decay", po::value(&c.eoinas.temp_decay)->default_value(c.eoinas.temp_decay), "EoiNAS: per-epoch temperature factor after the warm-up")
      ("eoinas.alpha_init", po::value(&c.eoinas.alpha_init)->default_value(c.eoinas.alpha_init), "EoiNAS: zeros (paper) | random (code)")
      ("eoinas.arch_grad_clip", po::value(&c.eoinas.arch_grad_clip)->default_value(c.eoinas.arch_grad_clip), "EoiNAS: alpha gradient-norm clip (0 = off; code: 5)")
      ("eoinas.c_reference_window", po::value(&c.eoinas.c_reference_window)->default_value(c.eoinas.c_reference_window), "EoiNAS: C = Ca / Ce is scaled by N / this, N the weight steps since the last prune (7820 = the paper's window; 0 = unscaled)")
      ("eoinas.C_when_Ce0", po::value(&c.eoinas.C_when_Ce0)->default_value(c.eoinas.C_when_Ce0), "EoiNAS: C of an op not trained since the last prune: 0 | inf (the code: it is never pruned)")
      ("eoinas.skip_dropout", po::value(&c.eoinas.skip_dropout)->default_value(c.eoinas.skip_dropout), "EoiNAS: dropout on skip_connect outputs with the code's schedule")
      ("sc.variant", po::value(&c.sc.variant)->default_value(c.sc.variant), "Stretchable Cells: stretchable (any topology) | fixed2 (two output edges per state)")
      ("sc.perspective", po::value(&c.sc.perspective)->default_value(c.sc.perspective), "Stretchable Cells: output | input (pairs of input edges; Table 5 ablation)")
      ("sc.lambda", po::value(&c.sc.lambda)->default_value(c.sc.lambda), "Stretchable Cells: weight of the passive-aggressive regulariser")
      ("sc.allow_empty_code", po::value(&c.sc.allow_empty_code)->default_value(c.sc.allow_empty_code), "Stretchable Cells: allow a state with no output edge")
      ("sc.orphan", po::value(&c.sc.orphan)->default_value(c.sc.orphan), "Stretchable Cells: drop | repair intermediates left without inputs")
      ("sc.val_split", po::value(&c.sc.val_split)->default_value(c.sc.val_split), "Stretchable Cells: auto | shared | separate (beta on its own third of the data)")
      ("nasp.variant", po::value(&c.nasp.variant)->default_value(c.nasp.variant), "NASP: nasp (box + discrete) | lazy (lazy proximal, no box) | standard (proximal step onto the discrete box set, Eq. 9)")
      ("nasp.discrete_value", po::value(&c.nasp.discrete_value)->default_value(c.nasp.discrete_value), "NASP: the selected entry of the discrete A is one | alpha")
      ("nasp.edge_top2", po::value(&c.nasp.edge_top2)->default_value(c.nasp.edge_top2), "NASP: keep only the 2 strongest incoming edges per node")
      ("nasp.eta", po::value(&c.nasp.eta)->default_value(c.nasp.eta), "NASP: weight of the model-complexity regulariser")
      ("nasp.greedy", po::value(&c.nasp.greedy)->default_value(c.nasp.greedy), "NASP: probability of a random architecture in a forward")
      ("nasp.derive", po::value(&c.nasp.derive)->default_value(c.nasp.derive), "NASP: genotype from the discrete | softmax (DARTS rule) alphas")
      ("nasp.restrict7", po::value(&c.nasp.restrict7)->default_value(c.nasp.restrict7), "NASP: with op_set nasp7, normal cells get skip + convolutions, reduction cells skip + pooling")
      ("random.candidates", po::value(&c.random.candidates)->default_value(c.random.candidates), "random_ws: random architectures scored on D_val after the last epoch")
      ("random.eval_batches", po::value(&c.random.eval_batches)->default_value(c.random.eval_batches), "random_ws: D_val batches per candidate")
      ("itnas.tau0", po::value(&c.itnas.tau0)->default_value(c.itnas.tau0), "ITNAS: Gumbel temperature at the first epoch (linear decay)")
      ("itnas.tau_min", po::value(&c.itnas.tau_min)->default_value(c.itnas.tau_min), "ITNAS: Gumbel temperature at the last epoch")
      ("itnas.derive_from", po::value(&c.itnas.derive_from)->default_value(c.itnas.derive_from), "ITNAS: what outer predecessors pass to inner edges: sample | probs")
      ("itnas.gumbel", po::value(&c.itnas.gumbel)->default_value(c.itnas.gumbel), "ITNAS ablation: Gumbel softmax on outer edges (false: plain softmax)")
      ("itnas.transition", po::value(&c.itnas.transition)->default_value(c.itnas.transition), "ITNAS ablation: inner edges through transition matrices (false: own alphas)")
      ("itnas.tiep", po::value(&c.itnas.tiep)->default_value(c.itnas.tiep), "ITNAS ablation: TIEP derivation (false: DARTS rule)")
      ("run.threads", po::value(&run.threads)->default_value(run.threads), "intra-op threads (0 = all cores)")
      ("run.device", po::value(&run.device)->default_value(run.device), "cpu | cuda (the GPU of this rank: local rank % GPUs) | cuda:N")
      ("run.out_dir", po::value(&run.out_dir)->default_value(run.out_dir), "output directory")
      ("run.log_period_s", po::value(&run.log_period_s)->default_value(run.log_period_s), "seconds between progress lines when stderr is not a terminal")
      ("run.progress", po::value(&run.progress)->default_value(run.progress), "show progress")
      ("run.stop_after_steps", po::value(&run.stop_after_steps)->default_value(run.stop_after_steps), "checkpoint and stop after this many steps (0 = never); continue with --resume");
  return d;
}

}  // namespace

SearchCommand parse_search_command(const std::vector<std::string>& args) {
  SearchCommand cmd;
  OpLists lists;
  auto flags = parse_settings(args, search_keys(cmd.config, lists), "search");
  cmd.help = flags.help;
  cmd.config.run.resume = flags.resume;
  cmd.config.run.overwrite = flags.overwrite;
  if (cmd.help) return cmd;
  cmd.config.supernet.normal_ops = split_words(lists.normal);
  cmd.config.supernet.reduce_ops = split_words(lists.reduce);
  search::validate(cmd.config);
  return cmd;
}

std::string search_help() {
  search::SearchConfig defaults;
  OpLists lists;
  return settings_help("usage: dnas search --config FILE.ini [--section.key=value ...] [--resume]",
                       search_keys(defaults, lists));
}

std::string to_ini(const search::SearchConfig& c) {
  std::ostringstream o;
  o << std::boolalpha;
  o << "[data]\ndataset = " << c.data.dataset << "\nroot = " << c.data.root
    << "\nsplit_shuffle = " << c.data.split_shuffle << "\ntrain_portion = " << c.data.train_portion
    << "\nlimit = " << c.data.limit << "\nbatch_size = " << c.data.batch_size
    << "\ncrop_padding = " << c.data.crop_padding << "\nflip = " << c.data.flip << "\n";
  o << "[supernet]\nchannels = " << c.supernet.channels << "\nlayers = " << c.supernet.layers
    << "\nsteps = " << c.supernet.steps << "\nstem_multiplier = " << c.supernet.stem_multiplier
    << "\nop_set = " << c.supernet.op_set << "\nnormal_ops = " << join_words(c.supernet.normal_ops)
    << "\nreduce_ops = " << join_words(c.supernet.reduce_ops) << "\n";
  const auto& p = c.optim;
  o << "[search]\nmethod = " << c.run.method << "\nseed = " << c.run.seed << "\nepochs = " << p.epochs
    << "\nw_lr = " << p.w_lr << "\nw_lr_min = " << p.w_lr_min << "\nw_momentum = " << p.w_momentum << "\nw_nesterov = " << p.w_nesterov
    << "\nw_weight_decay = " << p.w_weight_decay << "\nw_grad_clip = " << p.w_grad_clip
    << "\narch_lr = " << p.arch_lr << "\narch_beta1 = " << p.arch_beta1
    << "\narch_beta2 = " << p.arch_beta2 << "\narch_weight_decay = " << p.arch_weight_decay
    << "\nhessian_radius = " << p.hessian_radius << "\nderive_edges = " << p.derive_edges << "\nsteps_per_epoch = " << p.steps_per_epoch << "\neval_batches = " << p.eval_batches << "\n";
  o << "[gdas]\ntau_max = " << c.gdas.tau_max << "\ntau_min = " << c.gdas.tau_min
    << "\nderive = " << c.gdas.derive << "\n[milenas]\nlambda = " << c.milenas.lambda
    << "\nclip_arch_grads_like_code = " << c.milenas.clip_arch_grads_like_code << "\n";
  const auto& eo = c.eoinas;
  o << "[eoinas]\nwarmup_epochs = " << eo.warmup_epochs << "\nprune_every = " << eo.prune_every << "\nlambda = " << eo.lambda
    << "\nprune = " << eo.prune << "\nforward = " << eo.forward << "\nacc_stat = " << eo.acc_stat << "\ntemp0 = " << eo.temp0
    << "\ntemp_decay = " << eo.temp_decay << "\nalpha_init = " << eo.alpha_init << "\narch_grad_clip = " << eo.arch_grad_clip
    << "\nc_reference_window = " << eo.c_reference_window << "\nC_when_Ce0 = " << eo.C_when_Ce0 << "\nskip_dropout = " << eo.skip_dropout << "\n";
  o << "[sc]\nvariant = " << c.sc.variant << "\nperspective = " << c.sc.perspective << "\nlambda = " << c.sc.lambda
    << "\nallow_empty_code = " << c.sc.allow_empty_code << "\norphan = " << c.sc.orphan << "\nval_split = " << c.sc.val_split << "\n";
  o << "[nasp]\nvariant = " << c.nasp.variant << "\ndiscrete_value = " << c.nasp.discrete_value << "\nedge_top2 = " << c.nasp.edge_top2
    << "\neta = " << c.nasp.eta << "\ngreedy = " << c.nasp.greedy << "\nderive = " << c.nasp.derive << "\nrestrict7 = " << c.nasp.restrict7 << "\n";
  o << "[random]\ncandidates = " << c.random.candidates << "\neval_batches = " << c.random.eval_batches << "\n";
  o << "[itnas]\ntau0 = " << c.itnas.tau0 << "\ntau_min = " << c.itnas.tau_min << "\nderive_from = " << c.itnas.derive_from
    << "\ngumbel = " << c.itnas.gumbel << "\ntransition = " << c.itnas.transition << "\ntiep = " << c.itnas.tiep << "\n";
  o << "[run]\nthreads = " << c.run.threads << "\ndevice = " << c.run.device << "\nout_dir = " << c.run.out_dir
    << "\nlog_period_s = " << c.run.log_period_s << "\nprogress = " << c.run.progress
    << "\nstop_after_steps = " << c.run.stop_after_steps << "\n";
  return o.str();
}

}  // namespace dnas::cli
