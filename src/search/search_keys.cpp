#include "dnas/search/search_keys.h"

#include "dnas/loop/run_keys.h"

namespace dnas::search {
namespace {

void add_data_and_supernet(core::KeyTable& t, DataConfig& d, SupernetSettings& net) {
  data::add_data_keys(t, d, "batch size of D_train and D_val");
  t.add("data.split_shuffle", &d.split_shuffle, "shuffle the training set before the D_train/D_val split");
  t.add("data.train_portion", &d.train_portion, "share of the training images in D_train (rest: D_val)");
  t.add("supernet.channels", &net.channels, "initial channels C");
  t.add("supernet.layers", &net.layers, "number of cells L").at_least(1);
  t.add("supernet.steps", &net.steps, "intermediate nodes per cell").at_least(1);
  t.add("supernet.stem_multiplier", &net.stem_multiplier, "stem width = multiplier * C").at_least(1);
  t.add("supernet.channels_last", &net.channels_last,
        "NHWC activations and conv weights (false: NCHW; same results up to rounding)");
  t.add("supernet.op_set", &net.op_set, "darts8 | darts7 | nasp7 | nasp12");
  t.add("supernet.normal_ops", &net.normal_ops, "explicit normal-cell ops, space separated (overrides op_set)");
  t.add("supernet.reduce_ops", &net.reduce_ops, "explicit reduction-cell ops, space separated (overrides op_set)");
}

void add_optimisation(core::KeyTable& t, RunConfig& run, OptimConfig& opt) {
  t.add("search.method", &run.method,
        "darts_1st | darts_2nd | milenas | gdas | eoinas | itnas | darts_sc | milenas_sc | nasp | random | random_ws");
  t.add("search.seed", &run.seed, "seed of weights, alphas, splits and batches");
  t.add("search.epochs", &opt.epochs, "search epochs").at_least(1);
  t.add("search.w_lr", &opt.w_lr, "initial SGD learning rate of w (cosine)");
  t.add("search.w_lr_min", &opt.w_lr_min, "final SGD learning rate of w");
  t.add("search.w_momentum", &opt.w_momentum, "SGD momentum");
  t.add("search.w_nesterov", &opt.w_nesterov, "SGD with Nesterov momentum (the GDAS code)");
  t.add("search.w_weight_decay", &opt.w_weight_decay, "SGD weight decay (coupled L2)").at_least(0);
  t.add("search.w_grad_clip", &opt.w_grad_clip, "global gradient-norm clip of w (0 = off)").at_least(0);
  t.add("search.arch_lr", &opt.arch_lr, "Adam learning rate of the architecture parameters");
  t.add("search.arch_beta1", &opt.arch_beta1, "Adam beta1");
  t.add("search.arch_beta2", &opt.arch_beta2, "Adam beta2");
  t.add("search.arch_weight_decay", &opt.arch_weight_decay, "Adam weight decay (coupled L2)").at_least(0);
  t.add("search.hessian_radius", &opt.hessian_radius, "DARTS 2nd order: finite-difference radius r, eps = r / ||v||");
  t.add("search.derive_edges", &opt.derive_edges,
        "darts_1st/2nd: input (2 strongest inputs per node) | output (2 strongest outputs per state, SC Table 5)");
  t.add("search.steps_per_epoch", &opt.steps_per_epoch, "cap on iterations per epoch (0 = full pass over D_train)")
      .at_least(0);
  t.add("search.eval_batches", &opt.eval_batches, "cap on D_val batches in the per-epoch evaluation (0 = all)")
      .at_least(0);
}

void add_gdas_milenas_eoinas(core::KeyTable& t, SearchConfig& c) {
  t.add("gdas.tau_max", &c.gdas.tau_max, "GDAS: Gumbel temperature at the first epoch (linear decay)");
  t.add("gdas.tau_min", &c.gdas.tau_min, "GDAS: Gumbel temperature at the last epoch");
  t.add("gdas.derive", &c.gdas.derive, "GDAS genotype rule: darts | autodl");
  t.add("milenas.lambda", &c.milenas.lambda, "MiLeNAS: weight of the validation gradient").at_least(0);
  t.add("milenas.clip_arch_grads_like_code", &c.milenas.clip_arch_grads_like_code,
        "MiLeNAS: clip the alpha gradient norm to search.w_grad_clip and leave w's unclipped (the code)");
  auto& e = c.eoinas;
  t.add("eoinas.warmup_epochs", &e.warmup_epochs, "EoiNAS: warm-up epochs (w only)").at_least(0);
  t.add("eoinas.prune_every", &e.prune_every, "EoiNAS: epochs between gradual op prunes after the warm-up").at_least(1);
  t.add("eoinas.lambda", &e.lambda, "EoiNAS: indicator weight of Ca/Ce (0 = Baseline+GOP)").at_least(0);
  t.add("eoinas.prune", &e.prune, "EoiNAS ablation: gradual operation pruning");
  t.add("eoinas.forward", &e.forward,
        "EoiNAS: soft (Gumbel softmax over remaining ops) | hard (GDAS straight-through)");
  t.add("eoinas.acc_stat", &e.acc_stat, "EoiNAS: Ca keeps the last | mean accuracy");
  t.add("eoinas.temp0", &e.temp0, "EoiNAS: Gumbel temperature during the warm-up");
  t.add("eoinas.temp_decay", &e.temp_decay, "EoiNAS: per-epoch temperature factor after the warm-up");
  t.add("eoinas.alpha_init", &e.alpha_init, "EoiNAS: zeros (paper) | random (code)");
  t.add("eoinas.arch_grad_clip", &e.arch_grad_clip, "EoiNAS: alpha gradient-norm clip (0 = off; code: 5)").at_least(0);
  t.add("eoinas.c_reference_window", &e.c_reference_window,
        "EoiNAS: C = Ca / Ce is scaled by N / this, N the weight steps since the last prune (7820 = the paper's "
        "window; 0 = unscaled)")
      .at_least(0);
  t.add("eoinas.C_when_Ce0", &e.C_when_Ce0,
        "EoiNAS: C of an op not trained since the last prune: 0 | inf (the code: it is never pruned)");
  t.add("eoinas.skip_dropout", &e.skip_dropout, "EoiNAS: dropout on skip_connect outputs with the code's schedule");
}

void add_sc_nasp_random_itnas(core::KeyTable& t, SearchConfig& c) {
  t.add("sc.variant", &c.sc.variant,
        "Stretchable Cells: stretchable (any topology) | fixed2 (two output edges per state)");
  t.add("sc.perspective", &c.sc.perspective,
        "Stretchable Cells: output | input (pairs of input edges; Table 5 ablation)");
  t.add("sc.lambda", &c.sc.lambda, "Stretchable Cells: weight of the passive-aggressive regulariser").at_least(0);
  t.add("sc.allow_empty_code", &c.sc.allow_empty_code, "Stretchable Cells: allow a state with no output edge");
  t.add("sc.orphan", &c.sc.orphan, "Stretchable Cells: drop | repair intermediates left without inputs");
  t.add("sc.val_split", &c.sc.val_split,
        "Stretchable Cells: auto | shared | separate (beta on its own third of the data)");
  auto& n = c.nasp;
  t.add("nasp.variant", &n.variant,
        "NASP: nasp (box + discrete) | lazy (lazy proximal, no box) | standard (proximal step onto the discrete box "
        "set, Eq. 9)");
  t.add("nasp.discrete_value", &n.discrete_value, "NASP: the selected entry of the discrete A is one | alpha");
  t.add("nasp.edge_top2", &n.edge_top2, "NASP: keep only the 2 strongest incoming edges per node");
  t.add("nasp.eta", &n.eta, "NASP: weight of the model-complexity regulariser").at_least(0);
  t.add("nasp.greedy", &n.greedy, "NASP: probability of a random architecture in a forward").within(0, 1);
  t.add("nasp.derive", &n.derive, "NASP: genotype from the discrete | softmax (DARTS rule) alphas");
  t.add("nasp.restrict7", &n.restrict7,
        "NASP: with op_set nasp7, normal cells get skip + convolutions, reduction cells skip + pooling");
  t.add("random.candidates", &c.random.candidates,
        "random_ws: random architectures scored on D_val after the last epoch")
      .at_least(1);
  t.add("random.eval_batches", &c.random.eval_batches, "random_ws: D_val batches per candidate").at_least(1);
  auto& i = c.itnas;
  t.add("itnas.tau0", &i.tau0, "ITNAS: Gumbel temperature at the first epoch (linear decay)");
  t.add("itnas.tau_min", &i.tau_min, "ITNAS: Gumbel temperature at the last epoch");
  t.add("itnas.derive_from", &i.derive_from, "ITNAS: what outer predecessors pass to inner edges: sample | probs");
  t.add("itnas.gumbel", &i.gumbel, "ITNAS ablation: Gumbel softmax on outer edges (false: plain softmax)");
  t.add("itnas.transition", &i.transition,
        "ITNAS ablation: inner edges through transition matrices (false: own alphas)");
  t.add("itnas.tiep", &i.tiep, "ITNAS ablation: TIEP derivation (false: DARTS rule)");
}

}  // namespace

core::KeyTable search_keys(SearchConfig& c) {
  core::KeyTable t;
  add_data_and_supernet(t, c.data, c.supernet);
  add_optimisation(t, c.run, c.optim);
  add_gdas_milenas_eoinas(t, c);
  add_sc_nasp_random_itnas(t, c);
  loop::add_run_keys(t, c.run);
  return t;
}

std::string config_text(const SearchConfig& config) {
  auto copy = config;
  return core::to_ini(search_keys(copy));
}

std::string identity_text(const SearchConfig& config) {
  auto copy = config;
  return core::identity_text(search_keys(copy));
}

}  // namespace dnas::search
