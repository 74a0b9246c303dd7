// Recursive-descent parser for the genotype text of docs/methods.md 1.7.
#include <cctype>
#include <cstdlib>
#include <set>
#include <string>

#include "dnas/core/error.h"
#include "dnas/genotype/genotype.h"
#include "dnas/ops/op_names.h"

namespace dnas::genotype {
namespace {

enum class Tok { Ident, String, Number, Open, Close, Comma, Equals, End };

struct Token {
  Tok kind;
  std::string text;  // for Open/Close the bracket itself; for String the unquoted content
  size_t pos;        // 0-based offset of the first character
};

const char* const kFieldNames[4] = {"normal", "normal_concat", "reduce", "reduce_concat"};
const char* const kExample =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], "
    "reduce=[...], reduce_concat=[2, 3, 4, 5])";

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class Parser {
 public:
  Parser(const std::string& text, const std::string& source) : text_(text), source_(source) { tokenize(); }

  Genotype parse() {
    if (peek().kind == Tok::End)
      fail("empty genotype text", source_, "paste a genotype such as " + std::string(kExample));
    if (peek().kind == Tok::Ident && peek(1).kind == Tok::Equals) k_ += 2;  // `NAME =` prefix
    const Token& head = peek();                                             // `Genotype` or a dotted name ending in it
    if (head.kind != Tok::Ident || head.text.substr(head.text.rfind('.') + 1) != "Genotype")
      error_at(head, "expected 'Genotype('", std::string("the text must look like ") + kExample);
    ++k_;
    expect_open("'(' after Genotype", "(");
    parse_fields();
    if (peek().kind != Tok::End)
      error_at(peek(), "unexpected text after the closing ')'", "remove everything after ')'");
    Genotype g;
    finish_cell(0, g.normal);
    finish_cell(2, g.reduce);
    return g;
  }

 private:
  const std::string& text_;
  const std::string& source_;
  std::vector<Token> tokens_;
  size_t k_ = 0;  // index of the current token
  // Fields seen (kFieldNames order); cells and concats (with entry positions) as parsed.
  bool given_[4] = {false, false, false, false};
  CellGenotype cells_[2];
  std::vector<int> concats_[2];
  std::vector<size_t> concat_pos_[2];

  const Token& peek(size_t ahead = 0) const { return tokens_[std::min(k_ + ahead, tokens_.size() - 1)]; }
  bool at(Tok kind, const std::string& text = "") const {
    return peek().kind == kind && (text.empty() || peek().text == text);
  }
  // Consumes the current token when it is `kind` (with `text`), else reports `what` missing.
  void expect(Tok kind, const std::string& text, const std::string& what, const std::string& hint) {
    if (!at(kind, text)) error_at(peek(), "expected " + what, hint);
    ++k_;
  }

  std::string location(size_t pos) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) col = text_[i] == '\n' ? (++line, 1) : col + 1;
    return "at position " + std::to_string(pos + 1) + " (line " + std::to_string(line) + ", column " +
           std::to_string(col) + ")";
  }
  [[noreturn]] void error_at(const Token& t, const std::string& what, const std::string& hint) const {
    const std::string found = t.kind == Tok::End ? "end of text" : "'" + abbreviated(t.text, 60) + "'";
    fail(what + " " + location(t.pos) + ", found " + found, source_, hint);
  }

  void tokenize() {
    size_t i = 0;
    const size_t n = text_.size();
    while (true) {
      while (i < n && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
      if (i < n && text_[i] == '#') {  // Python comment
        while (i < n && text_[i] != '\n') ++i;
        continue;
      }
      if (i >= n) break;
      const char c = text_[i];
      const size_t start = i;
      const size_t single = std::string("([)],=").find(c);
      if (single != std::string::npos) {
        const Tok kinds[] = {Tok::Open, Tok::Open, Tok::Close, Tok::Close, Tok::Comma, Tok::Equals};
        tokens_.push_back({kinds[single], std::string(1, c), i++});
      } else if (c == '\'' || c == '"') {
        const size_t close = text_.find(c, i + 1);
        if (close == std::string::npos)
          fail("unterminated string " + location(start), source_, "close the quote " + std::string(1, c));
        tokens_.push_back({Tok::String, text_.substr(i + 1, close - i - 1), start});
        i = close + 1;
      } else if (is_digit(c) || c == '-' || c == '+' || c == '.') {  // int or float
        while (i < n && (is_ident(text_[i]) || text_[i] == '-' || text_[i] == '+')) ++i;
        tokens_.push_back({Tok::Number, text_.substr(start, i - start), start});
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        while (i < n && is_ident(text_[i])) ++i;
        tokens_.push_back({Tok::Ident, text_.substr(start, i - start), start});
      } else {
        fail("unexpected character '" + std::string(1, c) + "' " + location(i), source_,
             std::string("the text must look like ") + kExample);
      }
    }
    tokens_.push_back({Tok::End, "", n});
  }

  // Consumes '(' or '[' (only `only` when given) and returns the matching closer.
  std::string expect_open(const std::string& what, const std::string& only = "") {
    const std::string closer = at(Tok::Open, "(") ? ")" : "]";
    expect(Tok::Open, only, what, "check for a missing or extra bracket");
    return closer;
  }

  // Parses `item (',' item)* [',']` up to and including `closer`.
  template <class ItemFn>
  void parse_sequence(const std::string& closer, ItemFn item) {
    while (!at(Tok::Close, closer)) {
      item();
      if (at(Tok::Comma))
        ++k_;
      else if (!at(Tok::Close, closer))
        error_at(peek(), "expected ',' or '" + closer + "'", "check for a missing comma or bracket");
    }
    ++k_;
  }

  long expect_int(const std::string& what) {
    const Token& t = peek();
    char* end = nullptr;
    const long v = std::strtol(t.text.c_str(), &end, 10);
    if (t.kind != Tok::Number || *end != '\0' || t.text.size() > 9)
      error_at(t, "expected " + what + " (an integer)", "write a whole number such as 0 or 2");
    ++k_;
    return v;
  }

  void parse_fields() {
    bool keyword_seen = false;
    int positional = 0;
    parse_sequence(")", [&] {
      const Token& start = peek();
      int field = -1;
      if (start.kind == Tok::Ident && peek(1).kind == Tok::Equals) {
        for (int f = 0; f < 4; ++f)
          if (start.text == kFieldNames[f]) field = f;
        if (field < 0)
          error_at(start, "unknown field '" + start.text + "'",
                   "fields are normal, normal_concat, reduce, reduce_concat");
        keyword_seen = true;
        k_ += 2;
      } else {
        if (keyword_seen)
          error_at(start, "positional field after a keyword field", "name every field after the first keyword");
        if (positional >= 4)
          error_at(start, "too many fields", "a genotype has normal, normal_concat, reduce, reduce_concat");
        field = positional++;
      }
      if (given_[field])
        error_at(start, "field '" + std::string(kFieldNames[field]) + "' given twice", "give each field once");
      given_[field] = true;
      if (field % 2 == 0) return parse_cell(cells_[field / 2]);
      parse_concat(concats_[field / 2], concat_pos_[field / 2]);
    });
    for (int f = 0; f < 4; ++f)
      if (!given_[f])
        error_at(tokens_[k_ - 1], "missing field '" + std::string(kFieldNames[f]) + "'",
                 "a genotype needs normal, normal_concat, reduce and reduce_concat");
  }

  // `(op, src)` or `(op, src, weight)` read as an input of node m.
  Gene parse_edge(int m) {
    const std::string closer = expect_open("an edge such as ('sep_conv_3x3', 0)");
    const Token& op = peek();
    if (!at(Tok::String)) error_at(op, "expected a quoted op name", "an edge looks like ('sep_conv_3x3', 0)");
    if (!ops::is_known_op(op.text))
      error_at(op, "unknown operation '" + op.text + "'", "use one of the known ops: " + join(ops::known_op_names()));
    ++k_;
    Gene gene{ops::canonical_op_name(op.text), 0};
    expect(Tok::Comma, "", "',' after the op name", "an edge looks like ('sep_conv_3x3', 0)");
    const Token& src_tok = peek();
    const long src = expect_int("input state index");
    if (src < 0 || src >= 2 + m)
      error_at(src_tok,
               "input state " + src_tok.text + " is out of range for node " + std::to_string(m) + " (state " +
                   std::to_string(2 + m) + ")",
               "node m may only read states 0.." + std::to_string(1 + m));
    gene.src = static_cast<int>(src);
    if (at(Tok::Comma) && peek(1).kind == Tok::Number) k_ += 2;  // edge weight, ignored
    if (at(Tok::Comma)) ++k_;
    expect(Tok::Close, closer, "'" + closer + "' to close the edge", "an edge is ('op', src) or ('op', src, weight)");
    return gene;
  }

  void parse_cell(CellGenotype& cell) {
    const Token& open = peek();
    const std::string closer = expect_open("a list of edges");
    if (at(Tok::Close, closer)) error_at(open, "empty cell list", "a cell needs at least one node");
    const bool nested = at(Tok::Open) && peek(1).kind != Tok::String;
    if (nested) {
      parse_sequence(closer, [&] {
        const int m = cell.steps();
        const Token& node_open = peek();
        const std::string node_closer = expect_open("a list of edges for node " + std::to_string(m));
        if (at(Tok::String))
          error_at(node_open, "an edge where a node's edge list was expected",
                   "use either a flat list of edges or one list of edges per node, not both");
        cell.nodes.emplace_back();
        parse_sequence(node_closer, [&] { cell.nodes[m].push_back(parse_edge(m)); });
      });
      return;
    }
    std::vector<Gene> genes;
    parse_sequence(closer, [&] { genes.push_back(parse_edge(static_cast<int>(genes.size()) / 2)); });
    if (genes.size() % 2 != 0)
      error_at(tokens_[k_ - 1], "flat edge list has an odd number of edges (" + std::to_string(genes.size()) + ")",
               "a flat list gives exactly two edges per node; use one list per node for other "
               "in-degrees");
    for (size_t e = 0; e < genes.size(); e += 2) cell.nodes.push_back({genes[e], genes[e + 1]});
  }

  void parse_concat(std::vector<int>& concat, std::vector<size_t>& pos) {
    const Token& start = peek();
    if (at(Tok::Ident, "range")) {
      ++k_;
      expect_open("'(' after range", "(");
      const long a = expect_int("range start");
      expect(Tok::Comma, "", "',' in range(a, b)", "write range(2, 6)");
      const long b = expect_int("range end");
      if (at(Tok::Comma)) ++k_;
      expect(Tok::Close, ")", "')' to close range(", "write range(2, 6)");
      if (b <= a) error_at(start, "empty concat range", "write range(2, n+2) for n nodes");
      for (long c = a; c < b; ++c) concat.push_back(static_cast<int>(c)), pos.push_back(start.pos);
      return;
    }
    const std::string closer = expect_open("a concat list such as [2, 3, 4, 5] or range(2, 6)");
    parse_sequence(closer, [&] { pos.push_back(peek().pos), concat.push_back(expect_int("concat state")); });
    if (concat.empty()) error_at(start, "empty concat list", "list the states forming the cell output");
  }

  // Moves the parsed cell `field` (0 normal, 2 reduce) into `out` after checking its concat.
  void finish_cell(int field, CellGenotype& out) {
    const int c = field / 2;
    const int steps = cells_[c].steps();
    std::set<int> seen;
    for (size_t i = 0; i < concats_[c].size(); ++i) {
      const int s = concats_[c][i];
      const Token at_entry{Tok::Number, std::to_string(s), concat_pos_[c][i]};
      const std::string name = kFieldNames[field + 1];
      if (s < 2 || s >= 2 + steps)
        error_at(at_entry,
                 name + " state " + std::to_string(s) + " is out of range for a cell with " + std::to_string(steps) +
                     " nodes",
                 "concat lists intermediate states 2.." + std::to_string(1 + steps));
      if (!seen.insert(s).second)
        error_at(at_entry, name + " state " + std::to_string(s) + " appears twice", "list each state once");
    }
    out = std::move(cells_[c]);
    out.concat = concats_[c];
  }
};

}  // namespace

Genotype parse_genotype(const std::string& text, const std::string& source) { return Parser(text, source).parse(); }

}  // namespace dnas::genotype
