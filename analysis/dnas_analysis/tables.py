"""Comparison tables (the rows of summary.h5) as Markdown and LaTeX."""
import math

HEAD = ["Method", "Test error (%)", "± eval seeds", "Params (M)", "FLOPs (M)", "Search (GPU-days)",
        "Skips (N/R)", "Runs", "vs random (%)", "Δ vs random [95% CI], p", "Δ vs baseline [95% CI], p", "Protocol"]


def _test(r, name):
    """A Welch comparison of summary.h5 as "-1.20 [-2.51, +0.11], p = 0.071, within noise"."""
    diff, p = r.get(f"{name}_diff", math.nan), r.get(f"{name}_p", math.nan)
    verdict = r.get(f"{name}_verdict", "")
    if math.isnan(diff):
        return "-"
    if math.isnan(p):
        return f"{diff:+.2f}, {verdict}"
    return f"{diff:+.2f} [{r[name + '_ci_low']:+.2f}, {r[name + '_ci_high']:+.2f}], p = {p:.2g}, {verdict}"


def _cells(r, pm):
    runs = int(r["runs"])
    finished = int(r["finished"])
    err = "-" if not finished else f"{r['error_mean']:.2f} {pm} {r['error_std_search_seeds']:.2f}"
    eval_std = f"{r['error_std_eval_seeds']:.2f}" if finished and r["error_std_eval_seeds"] > 0 else "-"
    vs = r.get("vs_random", math.nan)
    return [r["group"], err, eval_std, f"{r['params_m']:.3f}", f"{r['madds_m']:.1f}", f"{r['search_gpu_days']:.4f}",
            f"{r['skips_normal']:.1f}/{r['skips_reduce']:.1f}", f"{finished}/{runs}",
            "-" if math.isnan(vs) else f"{vs:+.1f}", _test(r, "vs_random"), _test(r, "vs_baseline"),
            r.get("protocol") or "-"]


def markdown(rows, title=""):
    lines = [f"### {title}", ""] if title else []
    lines.append("| " + " | ".join(HEAD) + " |")
    lines.append("|" + "---|" * len(HEAD))
    lines += ["| " + " | ".join(_cells(r, "±")) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _tex_escape(s):
    for a, b in (("\\", "\\textbackslash{}"), ("_", "\\_"), ("%", "\\%"), ("&", "\\&"), ("#", "\\#"),
                 ("Δ", "$\\Delta$")):
        s = s.replace(a, b)
    return s


def latex(rows, title=""):
    out = [f"% {title}" if title else "% dnas comparison table", "\\begin{tabular}{l" + "c" * (len(HEAD) - 2) + "l}",
           "\\hline", " & ".join(_tex_escape(h) for h in HEAD) + " \\\\", "\\hline"]
    for r in rows:
        cells = [_tex_escape(c).replace("PLUSMINUS", "$\\pm$") for c in _cells(r, "PLUSMINUS")]
        out.append(" & ".join(cells) + " \\\\")
    out += ["\\hline", "\\end{tabular}"]
    return "\n".join(out) + "\n"
