"""``archscope compare BASE.json NEW.json``: two bench runs, configuration by configuration.

Configurations match on model, device type, batch size, dtype, autocast, layout, variant and
mode (not the thread count or the machine: comparing machines is the point). Per match:

- ``speedup`` = BASE median / NEW median (above 1: NEW is faster);
- ``verdict``: ``faster`` when NEW's 95 % CI of the median lies wholly below BASE's, ``slower``
  when wholly above, ``no change`` when the two overlap (the difference is within the noise),
  ``no CI`` when either has too few iterations for one, ``not timed`` when either failed;
- configurations present in only one file are listed as ``only in BASE`` / ``only in NEW``.
"""

from __future__ import annotations

import os
from typing import Any

from .report import precision, variant
from .results import TIMED
from .validate import read_results

COLUMNS = ["model", "batch", "dtype", "layout", "variant", "mode", "base_ms", "new_ms", "speedup",
           "base_ci_pct", "new_ci_pct", "verdict"]


def _key(rec: dict) -> tuple:
    return (rec["model"], str(rec.get("device") or "").split(":")[0], rec["batch_size"],
            rec.get("dtype"), bool(rec.get("amp")), bool(rec.get("channels_last")), variant(rec),
            rec.get("mode"))


def verdict(base: dict, new: dict) -> str:
    """faster / slower / no change from the two records' CIs (see the module docstring)."""
    for rec in (base, new):
        if rec["status"] not in TIMED or not rec.get("median_ms"):
            return f"not timed ({rec['status']})"
    if None in (base.get("ci_low_ms"), base.get("ci_high_ms"), new.get("ci_low_ms"), new.get("ci_high_ms")):
        return "no CI"
    if new["ci_high_ms"] < base["ci_low_ms"]:
        return "faster"
    if new["ci_low_ms"] > base["ci_high_ms"]:
        return "slower"
    return "no change"


def _row(rec: dict, base: dict | None, new: dict | None, what: str) -> dict[str, Any]:
    def ci(r):
        return 100 * r["ci_rel"] if r is not None and r.get("ci_rel") is not None else None

    timed = what in ("faster", "slower", "no change", "no CI")
    return {"model": rec["model"], "batch": rec["batch_size"], "dtype": precision(rec),
            "layout": "NHWC" if rec.get("channels_last") else "NCHW", "variant": variant(rec),
            "mode": rec.get("mode"), "base_ms": base.get("median_ms") if base else None,
            "new_ms": new.get("median_ms") if new else None,
            "speedup": base["median_ms"] / new["median_ms"] if timed else None,
            "base_ci_pct": ci(base), "new_ci_pct": ci(new), "verdict": what}


def _describe(label: str, path: str, doc: dict) -> str:
    env = doc["env"]
    n = env.get("threads")
    return (f"{label}: {path} ({env.get('device_name') or env.get('device')}, {n} "
            f"thread{'' if n == 1 else 's'}, torch {env.get('torch')}, {env.get('date')})")


def compare_results(base_path: str | os.PathLike, new_path: str | os.PathLike):
    """``(frame, notes)``: one row per configuration of either file (columns :data:`COLUMNS`),
    matches in NEW's order, then what only BASE has; notes name both runs and the rule."""
    import pandas as pd

    base_doc, new_doc = read_results(base_path), read_results(new_path)
    base: dict[tuple, dict] = {}
    repeats = 0
    for rec in base_doc["records"]:
        if _key(rec) in base:
            repeats += 1
        base.setdefault(_key(rec), rec)
    rows, seen = [], set()
    for rec in new_doc["records"]:
        key = _key(rec)
        if key in seen:
            repeats += 1
            continue
        seen.add(key)
        old = base.get(key)
        rows.append(_row(rec, old, rec, verdict(old, rec) if old is not None else "only in NEW"))
    rows += [_row(rec, rec, None, "only in BASE") for key, rec in base.items() if key not in seen]
    notes = [_describe("BASE", str(base_path), base_doc), _describe("NEW", str(new_path), new_doc),
             "speedup = BASE median / NEW median; faster or slower when the medians' 95 % CIs do "
             "not overlap, no change when they do"]
    if repeats:
        notes.append(f"{repeats} repeated configuration(s) within a file: the first of each is compared")
    return pd.DataFrame(rows, columns=COLUMNS), notes
