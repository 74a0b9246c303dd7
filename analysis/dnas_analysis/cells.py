"""Cells as graphs: parse the genotype text dnas writes and build graphviz digraphs."""
import ast
import re

import graphviz

_CELL = re.compile(r"(\w+)=\[(.*?)\],\s*\1_concat=(range\(\s*\d+\s*,\s*\d+\s*\)|\[[\d,\s]*\])")
_NESTED = re.compile(r"(\w+)=\[\[")


def _concat(text):
    m = re.fullmatch(r"range\(\s*(\d+)\s*,\s*(\d+)\s*\)", text.strip())
    return list(range(int(m[1]), int(m[2]))) if m else list(ast.literal_eval(text))


def parse_genotype(text):
    """{'normal': (genes, concat), 'reduce': (genes, concat)} from Genotype(...) text; genes are
    (op, input) pairs, two per intermediate node. The nested per-node form is not handled."""
    if _NESTED.search(text):
        raise ValueError("per-node (nested) genotypes are not supported by parse_genotype")
    cells = {}
    for name, genes, concat in _CELL.findall(text):
        cells[name] = ([(op, int(j)) for op, j in ast.literal_eval("[" + genes + "]")], _concat(concat))
    if not {"normal", "reduce"} <= cells.keys():
        raise ValueError(f"not a cell genotype: {text[:80]}")
    return cells


def cell_graph(genes, concat, name="cell"):
    """Inputs c_{k-2}, c_{k-1}, intermediate nodes 0.., the output c_{k}; one labelled edge per gene."""
    g = graphviz.Digraph(name, format="pdf", graph_attr={"rankdir": "LR"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "lightgrey"})
    g.node("c_{k-2}", fillcolor="darkseagreen2")
    g.node("c_{k-1}", fillcolor="darkseagreen2")
    steps = len(genes) // 2
    for i in range(steps):
        g.node(str(i), fillcolor="lightblue")
    inputs = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(steps)]
    for n, (op, j) in enumerate(genes):
        g.edge(inputs[j], str(n // 2), label=op)
    g.node("c_{k}", fillcolor="palegoldenrod")
    for k in concat:
        g.edge(inputs[k], "c_{k}")
    return g


def render(graph, path):
    """Writes the DOT source, and a PDF too when graphviz's `dot` is installed; returns the paths."""
    path = str(path)
    out = []
    try:
        out.append(graph.render(outfile=path + ".pdf", cleanup=True))
    except graphviz.ExecutableNotFound:
        pass
    with open(path + ".gv", "w") as f:  # after render: its cleanup removes a source of that name
        f.write(graph.source)
    return [path + ".gv"] + out
