#include "rnn_settings.h"

namespace dnas::cli {

core::KeyTable rnn_keys(RnnSettings& s) {
  auto& c = s.config;
  auto& m = c.model;
  auto& se = c.search;
  auto& r = c.retrain;
  core::KeyTable t;
  t.add("data.corpus", &c.corpus, "directory with train.txt valid.txt test.txt (PTB format: a sentence per line)");
  t.add("data.limit_tokens", &c.limit_tokens, "use only the first N tokens of each split (0 = all)");
  t.add("model.hidden", &m.hidden, "search: embedding = hidden size");
  t.add("model.steps", &m.steps, "intermediate nodes of the cell");
  t.add("model.dropout", &m.dropout, "search: output dropout (locked)");
  t.add("model.dropout_h", &m.dropout_h, "search: dropout of h_{t-1} and node inputs");
  t.add("model.dropout_x", &m.dropout_x, "search: dropout of x_t");
  t.add("model.dropout_i", &m.dropout_i, "search: dropout of the embedded input (locked)");
  t.add("model.dropout_e", &m.dropout_e, "search: embedding (word) dropout");
  t.add("search.method", &se.method, "darts_1st | darts_2nd | nasp");
  t.add("search.ops", &s.ops,
        "activations, space separated (tanh relu sigmoid identity; none for DARTS), or auto: the method's (DARTS: none "
        "+ the four, NASP: the four)");
  t.add("search.seed", &se.seed, "seed of weights, alphas, dropout masks and sequence lengths");
  t.add("search.epochs", &se.epochs, "search epochs");
  t.add("search.batch_size", &se.batch_size, "batch size of the weight and architecture steps");
  t.add("search.eval_batch_size", &se.eval_batch_size, "batch size of the per-epoch validation");
  t.add("search.bptt", &se.bptt, "mean sequence length (randomised as in the reference)");
  t.add("search.steps_per_epoch", &se.steps_per_epoch, "cap on steps per epoch (0 = a full pass)");
  t.add("search.eval_batches", &se.eval_batches, "cap on validation batches (0 = all)");
  t.add("search.lr", &se.lr, "SGD learning rate of the weights (scaled by seq_len / bptt)");
  t.add("search.weight_decay", &se.weight_decay, "SGD weight decay");
  t.add("search.clip", &se.clip, "gradient-norm clip of the weights");
  t.add("search.ar", &se.ar, "activation regularisation weight");
  t.add("search.tar", &se.tar, "temporal activation regularisation weight");
  t.add("search.arch_lr", &se.arch_lr, "Adam learning rate of the alphas");
  t.add("search.arch_beta1", &se.arch_beta1, "Adam beta1");
  t.add("search.arch_beta2", &se.arch_beta2, "Adam beta2");
  t.add("search.arch_weight_decay", &se.arch_weight_decay, "Adam weight decay");
  t.add("search.hessian_radius", &se.hessian_radius, "darts_2nd: finite-difference radius");
  t.add("retrain.genotype", &r.genotype,
        "dnas rnn train: Genotype(recurrent=[...], concat=...) or DARTS_V1 / DARTS_V2");
  t.add("retrain.seed", &r.seed, "seed of the retrain (0 = search.seed)");
  t.add("retrain.epochs", &r.epochs, "retrain epochs (0 = search only)");
  t.add("retrain.hidden", &r.hidden, "embedding = hidden size");
  t.add("retrain.batch_size", &r.batch_size, "training batch size");
  t.add("retrain.eval_batch_size", &r.eval_batch_size, "validation batch size");
  t.add("retrain.test_batch_size", &r.test_batch_size, "test batch size");
  t.add("retrain.bptt", &r.bptt, "mean sequence length");
  t.add("retrain.steps_per_epoch", &r.steps_per_epoch, "cap on steps per epoch (0 = a full pass)");
  t.add("retrain.eval_batches", &r.eval_batches, "cap on validation batches (0 = all)");
  t.add("retrain.lr", &r.lr, "SGD / ASGD learning rate");
  t.add("retrain.weight_decay", &r.weight_decay, "weight decay");
  t.add("retrain.clip", &r.clip, "gradient-norm clip");
  t.add("retrain.ar", &r.ar, "activation regularisation weight");
  t.add("retrain.tar", &r.tar, "temporal activation regularisation weight");
  t.add("retrain.dropout", &r.dropout, "output dropout");
  t.add("retrain.dropout_h", &r.dropout_h, "dropout of h_{t-1} and node inputs");
  t.add("retrain.dropout_x", &r.dropout_x, "dropout of x_t");
  t.add("retrain.dropout_i", &r.dropout_i, "dropout of the embedded input");
  t.add("retrain.dropout_e", &r.dropout_e, "embedding (word) dropout");
  t.add("retrain.asgd", &r.asgd, "switch to averaged SGD when validation stalls");
  t.add("retrain.nonmono", &r.nonmono, "epochs of patience before the ASGD switch");
  t.add("run.out_dir", &c.out_dir, "output directory (results.h5, config.ini)").run_only();
  t.add("run.threads", &s.threads, "intra-op threads (0 = all cores)").run_only();
  t.add("run.precision", &s.precision,
        "matrix products in fp32 | bf16 (CPU with AVX-512 BF16 or AMX); weights, states, batch norm, losses and the "
        "DARTS Hessian term stay fp32");
  t.add("run.progress", &c.progress, "show progress").run_only();
  t.add("run.stop_after_steps", &c.stop_after_steps,
        "checkpoint and stop after this many steps of the search (rnn train: of the retrain; 0 = never); continue "
        "with --resume")
      .at_least(0)
      .run_only();
  return t;
}

}  // namespace dnas::cli
