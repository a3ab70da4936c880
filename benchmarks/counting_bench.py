"""Counting speed: archscope's engines against bare fvcore, and the CLI's cold start.

Run: python3 benchmarks/counting_bench.py > benchmarks/results/counting_<date>.md
Two comparisons (medians of --repeat runs, subprocesses so each start is cold):
1. every zoo model at its default input, batch 1, in one process: bare
   ``FlopCountAnalysis(model, x).total()`` (fvcore's own handles, a CPU model with zero weights)
   vs ``flop_report(name, engine=...)`` for both engines (model build included for all three);
2. ``archscope flops googlenet`` cold vs ``python -c "import torch"``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import subprocess
import sys
import time

ALL_ZOO = r"""
import logging, time, warnings, sys
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
import torch
from archscope.zoo import list_models
from archscope.models import analysis_target, load_target, materialize, resolve_input_shape
mode = sys.argv[1]
names = list_models("*")
t = time.perf_counter()
for name in names:
    if mode == "bare":
        from fvcore.nn import FlopCountAnalysis
        target = load_target(name, device="meta", init=False)
        shape = resolve_input_shape(target)
        model = materialize(target.model, "cpu").eval()
        FlopCountAnalysis(model, torch.zeros(shape)).total()
    else:
        from archscope.analysis.flops import flop_report
        flop_report(name, engine=mode)
print(time.perf_counter() - t)
"""


def median_of(cmd: list[str], repeat: int, inner: bool = False) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t
        times.append(float(out.stdout.strip().splitlines()[-1]) if inner else wall)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    import torch

    py = sys.executable
    print(f"# counting benchmark — {datetime.date.today()}, {platform.node()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads; medians of {a.repeat}\n")
    print("## all zoo models, one process (counting loop only, imports excluded)\n")
    bare = median_of([py, "-c", ALL_ZOO, "bare"], a.repeat, inner=True)
    print("| what | seconds | vs bare fvcore |\n|---|---:|---:|")
    print(f"| bare FlopCountAnalysis(model, x).total() | {bare:.2f} | 1.00× |")
    for engine in ("fvcore", "meta"):
        t = median_of([py, "-c", ALL_ZOO, engine], a.repeat, inner=True)
        print(f"| flop_report(name, engine={engine!r}) | {t:.2f} | {t / bare:.2f}× |")
    print("\n## cold start (wall clock of the whole process)\n")
    torch_t = median_of([py, "-c", "import torch"], a.repeat)
    print("| command | seconds | vs import torch |\n|---|---:|---:|")
    print(f"| python -c 'import torch' | {torch_t:.2f} | 1.00× |")
    for extra in ([], ["--engine", "fvcore"]):
        t = median_of([py, "-m", "archscope", "flops", "googlenet", *extra], a.repeat)
        label = " ".join(["archscope flops googlenet", *extra])
        print(f"| {label} | {t:.2f} | {t / torch_t:.2f}× |")
    t = median_of([py, "-m", "archscope", "flops", "vgg16", "--input-size", "3x2048x2048",
                   "--engine", "meta"], a.repeat)
    print(f"| archscope flops vgg16 --input-size 3x2048x2048 --engine meta | {t:.2f} | "
          f"{t / torch_t:.2f}× |")


if __name__ == "__main__":
    main()
