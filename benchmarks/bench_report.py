"""Report: build time and file size for googlenet, vgg16, resnet50 and the three together.

Two figures per model set:

- in process, through ``report_build.measure`` (counting + figures + page + write, imports
  excluded), median of ``runs`` builds after a warm-up build — the first build in a process
  also pays the meta engine's one-time imports, which the end-to-end figure includes;
- end to end, ``python -m archscope report MODELS -o FILE`` in a fresh process (imports, first-
  call costs and all), median of ``runs`` runs after a warm-up run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from run import ROOT, fmt_seconds, md_table, median

LIMIT_S = 3.0
SETS = [["googlenet"], ["vgg16"], ["resnet50"], ["googlenet", "vgg16", "resnet50"]]


def _cli_once(models: list[str], out: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "archscope", "report", *models, "-o", out],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"archscope report {' '.join(models)} exited {done.returncode}: "
                           f"{done.stderr[-300:]}")
    return elapsed


def run(quick: bool, runs: int) -> dict:
    import report_build

    sets = SETS[:1] if quick else SETS
    out = {"sets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for models in sets:
            key = " ".join(models)
            path = str(Path(tmp) / "report.html")
            builds = [report_build.measure(models, path) for _ in range(runs + 1)][1:]
            cli = [_cli_once(models, path) for _ in range(runs + 1)][1:]
            out["sets"][key] = {
                "in_process_s": median([b["total_s"] for b in builds]),
                "counting_s": median([b["counting_s"] for b in builds]),
                "page_s": median([b["page_s"] for b in builds]),
                "cli_s": median(cli), "cli_times_s": cli,
                "in_process_times_s": [b["total_s"] for b in builds],
                "file_bytes": builds[-1]["file_bytes"], "plotlyjs_bytes": builds[-1]["plotlyjs_bytes"],
            }
            print(f"{key:32s} in process {out['sets'][key]['in_process_s']:.2f} s, "
                  f"CLI {out['sets'][key]['cli_s']:.2f} s", flush=True)
    return out


def markdown(result: dict) -> str:
    rows = [[k, fmt_seconds(v["counting_s"]), fmt_seconds(v["page_s"]),
             fmt_seconds(v["in_process_s"]), fmt_seconds(v["cli_s"]),
             f"{v['file_bytes'] / 1e6:.2f} MB (plotly.js {v['plotlyjs_bytes'] / 1e6:.2f} MB)"]
            for k, v in result["sets"].items()]
    return (f"Medians of {result['runs']} runs after a warm-up. In process: "
            "`report_build.measure` (imports excluded). End to end: `python -m archscope report "
            "MODELS -o FILE` in a fresh process.\n\n"
            + md_table(["models", "counting", "figures + page + write", "in process",
                        "end to end (CLI)", "file"], rows, right=(1, 2, 3, 4)))


def targets(result: dict) -> list[tuple]:
    out = []
    for k, v in result["sets"].items():
        out.append((f"`archscope report {k}` ≤ {LIMIT_S:.0f} s, in process (after imports)",
                    fmt_seconds(v["in_process_s"]), v["in_process_s"], LIMIT_S))
        out.append((f"`archscope report {k}` ≤ {LIMIT_S:.0f} s, end to end (CLI)",
                    fmt_seconds(v["cli_s"]), v["cli_s"], LIMIT_S))
    return out
