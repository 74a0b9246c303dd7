"""Cells as graphs: parse the genotype text dnas writes (flat DARTS form or the per-node form of
cells with any number of inputs per node) and build graphviz digraphs."""
import ast
import re

import graphviz


def _balanced(text, start):
    """The bracketed expression starting at text[start] == '[' (up to its matching ']')."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    raise ValueError(f"unbalanced brackets in genotype: {text[:80]}")


def _concat(text):
    m = re.match(r"range\(\s*(\d+)\s*,\s*(\d+)\s*\)", text)
    if m:
        return list(range(int(m[1]), int(m[2])))
    return list(ast.literal_eval(_balanced(text, text.index("["))))


def parse_genotype(text):
    """{'normal': (nodes, concat), 'reduce': (nodes, concat)} from Genotype(...) text. nodes[m]
    lists node m's genes as (op, input) pairs: two per node in the flat form, any number in the
    per-node form ([[...], [...], ...]; a node may be empty when it was dropped)."""
    cells = {}
    for name in ("normal", "reduce"):
        m = re.search(rf"\b{name}=\[", text)
        c = re.search(rf"\b{name}_concat=", text)
        if not m or not c:
            raise ValueError(f"not a cell genotype: {text[:80]}")
        genes = ast.literal_eval(_balanced(text, m.end() - 1))
        if genes and isinstance(genes[0], list):  # per-node form
            nodes = [[(op, int(j)) for op, j in node] for node in genes]
        else:
            pairs = [(op, int(j)) for op, j in genes]
            nodes = [pairs[i:i + 2] for i in range(0, len(pairs), 2)]
        cells[name] = (nodes, _concat(text[c.end():]))
    return cells


def cell_graph(nodes, concat, name="cell"):
    """Inputs c_{k-2}, c_{k-1}, intermediate nodes 0.., the output c_{k}; one labelled edge per gene.
    Nodes without genes (dropped by the orphan rule) are left out."""
    g = graphviz.Digraph(name, format="pdf", graph_attr={"rankdir": "LR"},
                         node_attr={"shape": "box", "style": "rounded,filled", "fillcolor": "lightgrey"})
    g.node("c_{k-2}", fillcolor="darkseagreen2")
    g.node("c_{k-1}", fillcolor="darkseagreen2")
    inputs = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(len(nodes))]
    for i, genes in enumerate(nodes):
        if genes:
            g.node(str(i), fillcolor="lightblue")
        for op, j in genes:
            g.edge(inputs[j], str(i), label=op)
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
