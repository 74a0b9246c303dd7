"""Tables and figures from dnas results files (HDF5): comparison tables as Markdown/LaTeX,
architecture-weight evolution per edge, search curves, error against layer count, and cells
drawn as graphs. Needs Debian's python3-h5py, python3-numpy, python3-matplotlib and
python3-graphviz (plus graphviz's `dot` to render the cell drawings)."""
