"""Cold start: each command in a fresh interpreter, against ``python -c "import torch"``.

The commands run round-robin (one of each per round, after one warm-up round that fills the
OS file cache), so a burst of load from another process hits every command alike. The CLI is
run as ``python -m archscope`` from the repository root (``PYTHONPATH`` set to it): the same code
path as the ``archscope`` console script, which may not be installed, and always this checkout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from run import ROOT, fmt_ratio, fmt_seconds, md_table, median, ratio

HELP_LIMIT_S = 0.3
RATIO_LIMIT = 1.3
BASELINE = "import torch"
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    BASELINE: ["-c", "import torch"],
    "archscope --help": ["-m", "archscope", "--help"],
    "archscope params googlenet": ["-m", "archscope", "params", "googlenet"],
    "archscope flops googlenet": ["-m", "archscope", "flops", "googlenet"],
}


def _time_once(args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {done.stderr[-300:]}")
    return elapsed


def run(quick: bool, runs: int) -> dict:
    times: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for rnd in range(runs + 1):
        for label, args in COMMANDS.items():
            t = _time_once(args)
            if rnd:  # round 0 warms the file cache
                times[label].append(t)
    base = median(times[BASELINE])
    return {"commands": {k: {"median_s": median(v), "times_s": v,
                             "vs_import_torch": ratio(median(v), base)} for k, v in times.items()}}


def markdown(result: dict) -> str:
    rows = [[k, fmt_seconds(v["median_s"]), fmt_ratio(v["vs_import_torch"]),
             f"{fmt_seconds(min(v['times_s']))} – {fmt_seconds(max(v['times_s']))}"]
            for k, v in result["commands"].items()]
    return (f"Wall time of a fresh process, median of {result['runs']} round-robin runs after a "
            "warm-up round.\n\n"
            + md_table(["command", "median", f"× `{BASELINE}`", "min – max"], rows, right=(1, 2)))


def targets(result: dict) -> list[tuple]:
    c = result["commands"]
    out = [("`archscope --help` < 0.3 s", fmt_seconds(c["archscope --help"]["median_s"]),
            c["archscope --help"]["median_s"], HELP_LIMIT_S)]
    for k in ("archscope params googlenet", "archscope flops googlenet"):
        r = c[k]["vs_import_torch"]
        out.append((f"`{k}` ≤ {RATIO_LIMIT}× `import torch`",
                    f"{fmt_ratio(r)} ({fmt_seconds(c[k]['median_s'])} vs "
                    f"{fmt_seconds(c[BASELINE]['median_s'])})", r, RATIO_LIMIT))
    return out
