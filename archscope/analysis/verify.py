"""``verify googlenet``: the paper's Table 1 beside archscope's computed figures.

Three columns of figures per row: the paper's params and ops as printed; what Table 1's own
channel columns imply (closed form, computed here from the row's widths); and what archscope
counts on its built network. archscope must equal the closed form exactly — otherwise the zoo is
wrong and ``verify`` fails. Where the *paper's printed figure* is more than 2% from that, the
row is flagged as a paper erratum with the likely reason, found by checking the printed figures
against each other (params × output positions = ops for every layer here).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .engines import DEFAULT_ENGINE

K = 1024  # the paper's "K" (params); its "M" (ops) is 10**6
TOLERANCE = 0.02

# Table 1 of Szegedy et al. 2015: name, output side, modules it covers, the paper's params (K)
# and ops (M), and the widths needed to recompute them (in, #1×1, #3×3 red, #3×3, #5×5 red,
# #5×5, pool proj) — the paper's own data, so written out here.
TABLE1 = [
    # name, side, archscope modules, params_K, ops_M, widths
    ("conv 7×7/2", 112, ["conv1"], 2.7, 34, ("conv", 3, 64, 7)),
    ("conv 3×3/1 (1×1 reduce 64)", 56, ["conv2", "conv3"], 112, 360, ("conv2", 64, 64, 192)),
    ("inception (3a)", 28, ["inception3a"], 159, 128, (192, 64, 96, 128, 16, 32, 32)),
    ("inception (3b)", 28, ["inception3b"], 380, 304, (256, 128, 128, 192, 32, 96, 64)),
    ("inception (4a)", 14, ["inception4a"], 364, 73, (480, 192, 96, 208, 16, 48, 64)),
    ("inception (4b)", 14, ["inception4b"], 437, 88, (512, 160, 112, 224, 24, 64, 64)),
    ("inception (4c)", 14, ["inception4c"], 463, 100, (512, 128, 128, 256, 24, 64, 64)),
    ("inception (4d)", 14, ["inception4d"], 580, 119, (512, 112, 144, 288, 32, 64, 64)),
    ("inception (4e)", 14, ["inception4e"], 840, 170, (528, 256, 160, 320, 32, 128, 128)),
    ("inception (5a)", 7, ["inception5a"], 1072, 54, (832, 256, 160, 320, 32, 128, 128)),
    ("inception (5b)", 7, ["inception5b"], 1388, 71, (832, 384, 192, 384, 48, 128, 128)),
    ("linear", 1, ["fc"], 1000, 1, ("linear", 1024, 1000)),
]
PAPER_TOTAL_OPS = 1.5e9  # "about 1.5 billion multiply-adds"


def table1_weights(widths) -> int:
    """Weights implied by a Table 1 row's widths (biases are not in the paper's counts)."""
    if widths[0] == "conv":
        _, c_in, c_out, k = widths
        return c_in * c_out * k * k
    if widths[0] == "conv2":
        _, c_in, reduce, c_out = widths
        return c_in * reduce + reduce * c_out * 9
    if widths[0] == "linear":
        return widths[1] * widths[2]
    c_in, c1, r3, c3, r5, c5, pp = widths
    return c_in * c1 + c_in * r3 + r3 * c3 * 9 + c_in * r5 + r5 * c5 * 25 + c_in * pp


def _rel(a: float, b: float) -> float:
    return (a - b) / b if b else float("inf")


SHOWN = 5e-5  # diffs print as percentages to 0.01 %: anything smaller reads as 0.00 %


def _diff(a: float, b: float) -> float:
    """``_rel``, with a difference too small to show stored as 0.0 (no ``-0.00%`` row)."""
    d = _rel(a, b)
    return d if abs(d) >= SHOWN else 0.0


def _agrees(value: int, printed: float, unit: float) -> bool:
    """Within 2%, or equal to the printed figure at the precision it is printed with."""
    decimals = len(f"{printed:g}".partition(".")[2])
    return abs(_rel(value, printed * unit)) <= TOLERANCE or round(value / unit, decimals) == printed


@dataclass
class Verification:
    rows: pd.DataFrame
    total: dict
    notes: list[str]
    ok: bool


def _reason(row, paper_w: float, paper_ops: float, side: int) -> str:
    """Why the printed figures disagree with the row's widths, from their mutual consistency."""
    own = paper_ops / (paper_w * side * side) if paper_w else float("inf")
    if abs(own - 1) <= TOLERANCE:
        return (f"the printed params and ops agree with each other ({paper_w / K:g}K × {side}² ≈ "
                f"{paper_ops / 1e6:g}M) but not with the row's channel widths: a typo in the widths "
                "or figures of this row")
    if _agrees(row["ops"], paper_ops / 1e6, 1e6):
        return (f"the printed ops match the widths but the printed params do not "
                f"({paper_w / K:g}K × {side}² = {paper_w * side * side / 1e6:.1f}M ≠ "
                f"{paper_ops / 1e6:g}M): a typo in the params figure")
    if _agrees(row["params_weights"], paper_w / K, K):
        return "the printed params match the widths but the printed ops do not: a typo in the ops"
    return "neither printed figure matches the row's widths nor each other"


def verify_googlenet(engine: str = DEFAULT_ENGINE) -> Verification:
    """Compare Table 1 with archscope's GoogLeNet, row by row (see module docstring)."""
    from .flops import flop_report

    rep = flop_report("googlenet", depth=1, engine=engine)
    by = rep.rows.set_index("layer")
    records, all_ok = [], True
    for name, side, modules, params_k, ops_m, widths in TABLE1:
        weights = int(sum(by.loc[m, "weights"] for m in modules))
        macs = int(sum(by.loc[m, "macs"] for m in modules))
        expected_w = table1_weights(widths)
        expected_ops = expected_w * side * side
        built_ok = weights == expected_w and macs == expected_ops
        all_ok &= built_ok
        paper_w, paper_ops = params_k * K, ops_m * 1e6
        rec = {
            "row": name,
            "modules": "+".join(modules),
            "paper_params": f"{params_k:g}K",
            "params_weights": weights,
            "params_diff": _diff(weights, paper_w),
            "paper_ops": f"{ops_m:g}M",
            "ops": macs,
            "ops_diff": _diff(macs, paper_ops),
            "table1_widths_match": built_ok,
        }
        off = not (_agrees(weights, params_k, K) and _agrees(macs, ops_m, 1e6))
        rec["flag"] = _reason(rec, paper_w, paper_ops, side) if off else ""
        records.append(rec)
    df = pd.DataFrame(records)
    total_macs = int(rep.total["macs"])
    errata = [r["row"] for r in records if r["flag"]]
    notes = [
        "params_weights: weights only (Table 1 counts no biases); paper K = 1024, M = 10^6",
        "ops: MACs (multiply-adds) of the convolutions and the linear layer, at 224×224",
        "table1_widths_match: archscope's network equals the closed form of the row's widths",
        "a printed figure agrees when within 2% or equal at the precision printed (the linear "
        "row's '1M' ops is 1,024,000 MACs: +2.4%, but 1M to one digit)",
        "flag: the printed figures disagree with the row's own channel widths, which archscope "
        "equals exactly — the paper's erratum, with the likely reason read from its figures",
        f"whole network: {total_macs:,} MACs vs the paper's 'about 1.5 billion' "
        f"({_rel(total_macs, PAPER_TOTAL_OPS):+.1%})",
    ]
    if errata:
        notes.append(f"paper errata (flagged rows): {', '.join(errata)}")
    if not all_ok:
        bad = [r["row"] for r in records if not r["table1_widths_match"]]
        notes.append(f"archscope's network does not match Table 1's widths in: {', '.join(bad)}")
    total = {"row": "total", "params_weights": int(df.params_weights.sum()), "ops": total_macs}
    return Verification(df, total, notes, all_ok)
