"""The GPU latency proof: the zoo at batch 1, 64, 256 × fp32/bf16 × NCHW/channels_last, eager and
CUDA-graph replay, each beside ``torch.utils.benchmark.Timer(...).blocked_autorange()``'s median
for the same configuration (an independent timer: if the two disagree, one of them is wrong).

Writes ``benchmarks/results/gpu_bench-<device>-<UTC time>.json`` (the archscope.bench/1 document
plus a ``comparison`` list) and a Markdown table beside it.

    python benchmarks/gpu_bench.py                        # whole zoo on CUDA (long: split it)
    python benchmarks/gpu_bench.py --models resnet50,vgg16 --budget 1
    python benchmarks/gpu_bench.py --device cpu --quick   # lenet5, batch 1 and 8, fp32: smoke run

One command has 10 minutes on the lent GPU machine: pass a few models per run with ``--models``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timer_median_ms(fn, device: str, min_run_time: float) -> float:
    """``torch.utils.benchmark`` median of ``fn()`` in ms (it synchronizes CUDA itself)."""
    from torch.utils import benchmark

    t = benchmark.Timer(stmt="fn()", globals={"fn": fn})
    return t.blocked_autorange(min_run_time=min_run_time).median * 1e3


def reference_fn(name, rec, device, warmup):
    """The same configuration built independently: eager forward or a captured graph's replay."""
    import torch

    from archscope.models import load_target

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[rec["dtype"]]
    fmt = torch.channels_last if rec["channels_last"] else torch.contiguous_format
    model = load_target(name, device=device).model.to(dtype=dtype, memory_format=fmt).eval()
    x = torch.randn(rec["input_shape"], device=device, dtype=dtype).contiguous(memory_format=fmt)

    def eager():
        with torch.inference_mode():
            model(x)

    for _ in range(warmup):
        eager()
    if not rec["graph"]:
        return eager
    with torch.inference_mode():
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(x)
    return graph.replay


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--models", default=None, help="comma-separated zoo names (default: every model)")
    ap.add_argument("--batch-sizes", default="1,64,256")
    ap.add_argument("--dtypes", default="fp32,bf16")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of timing per configuration")
    ap.add_argument("--quick", action="store_true", help="lenet5, batch 1 and 8, fp32, short budget")
    ap.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    import torch

    import archscope
    from archscope.bench.report import render_results, run_title
    from archscope.bench.results import write_results
    from archscope.io import write_atomic
    from archscope.render import render_frame

    if args.quick:
        args.models, args.batch_sizes, args.dtypes, args.budget = "lenet5", "1,8", "fp32", 0.2
    models = args.models.split(",") if args.models else archscope.list_models(kind="model")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    cuda = args.device.startswith("cuda")
    records, comparison, env, notes, interrupted = [], [], None, [], False
    for name in models:
        res = archscope.bench(name, device=args.device, batch_sizes=batches, dtypes=args.dtypes.split(","),
                              channels_last=(False, True), cuda_graphs=cuda, budget_s=args.budget)
        env = env or res.env
        notes += [n for n in res.notes if n not in notes]
        records += res.records
        for rec in res.records:
            if rec["status"] != "ok":
                continue
            fn = None
            try:
                fn = reference_fn(name, rec, args.device, warmup=10 if cuda else 3)
                ref = timer_median_ms(fn, args.device, min_run_time=args.budget)
            except torch.cuda.OutOfMemoryError:
                ref = None
            del fn
            if cuda:
                torch.cuda.empty_cache()
            comparison.append({
                "model": name, "batch": rec["batch_size"], "dtype": rec["dtype"],
                "layout": "NHWC" if rec["channels_last"] else "NCHW",
                "variant": "cuda-graph" if rec["graph"] else "eager",
                "archscope_median_ms": rec["median_ms"], "ci_pct": 100 * (rec["ci_rel"] or 0),
                "timer_median_ms": ref,
                "ratio": rec["median_ms"] / ref if ref else None,
            })
        if res.interrupted:
            interrupted = True
            break

    import pandas as pd

    from archscope.bench.runner import BenchResults

    results = BenchResults(records, env, {"script": "benchmarks/gpu_bench.py", **vars(args)},
                           interrupted=interrupted, notes=notes)
    doc = results.document()
    doc["comparison"] = comparison
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out_dir) / f"gpu_bench-{args.device.replace(':', '')}-{stamp}"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_results(out.with_suffix(".json"), doc)
    md = render_results(results, "markdown") + "\n" + render_frame(
        pd.DataFrame(comparison), "markdown",
        title="archscope median vs torch.utils.benchmark.Timer.blocked_autorange median",
        notes=[run_title(env), "ratio = archscope / Timer; Timer times a block of calls with one "
               "synchronize per block, archscope one CUDA-event pair per call"])
    write_atomic(out.with_suffix(".md"), md)
    print(md)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}", file=sys.stderr)
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
