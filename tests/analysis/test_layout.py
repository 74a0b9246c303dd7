"""analysis/dnas_analysis/layout.py mirrors include/dnas/store/results_layout.h: every name in
one is in the other with the same value, and a file from a newer dnas is refused."""
import re
import sys
from pathlib import Path

import h5py
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "analysis"))
from dnas_analysis import layout  # noqa: E402

HEADER = ROOT / "include" / "dnas" / "store" / "results_layout.h"


def header_names():
    """{PYTHON_NAME: value} from the header: `namespace <kind> {` then
    `constexpr const char* kName = "value";` lines, as <KIND>_<NAME> in upper snake case."""
    names, kind = {}, None
    for line in HEADER.read_text().splitlines():
        m = re.match(r"namespace (\w+) \{", line)
        if m:
            kind = m.group(1)
        m = re.match(r'\s*constexpr const char\* k(\w+) = "([^"]*)";', line)
        if m:
            assert kind not in (None, "layout"), f"{line!r} is outside a file kind's namespace"
            snake = re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(1)).upper()
            names[f"{kind.upper()}_{snake}"] = m.group(2)
        m = re.match(r"constexpr int kResultsFormatVersion = (\d+);", line)
        if m:
            names["FORMAT_VERSION"] = int(m.group(1))
    return names


def python_names():
    return {k: v for k, v in vars(layout).items() if k.isupper() and isinstance(v, (str, int))}


def test_layout_py_equals_the_cpp_header():
    cpp, py = header_names(), python_names()
    assert "FORMAT_VERSION" in cpp and len(cpp) > 100
    assert {k: cpp.get(k) for k in py if cpp.get(k) != py[k]} == {}, "layout.py differs from the header"
    assert sorted(set(cpp) - set(py)) == [], "names of the header missing from layout.py"


def test_newer_format_version_is_refused_and_absent_reads_as_1(tmp_path):
    newer, old = tmp_path / "newer.h5", tmp_path / "old.h5"
    with h5py.File(newer, "w") as f:
        f.attrs[layout.PROVENANCE_FORMAT_VERSION] = layout.FORMAT_VERSION + 1
    h5py.File(old, "w").close()
    with h5py.File(newer, "r") as f, pytest.raises(ValueError, match=re.escape(str(newer))):
        layout.check_format_version(f, newer)
    with h5py.File(old, "r") as f:
        assert layout.check_format_version(f, old) == 1
