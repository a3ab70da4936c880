"""The GPU latency proof: models × batch sizes × fp32/bf16 × NCHW/channels_last, eager and CUDA-graph
replay (and torch.compile for ``--compile-models``, in bf16 channels_last at ``--compile-batches``,
where compiling pays), each configuration timed twice:

- by ``archscope.timing`` (CUDA event pair per iteration, its noise gate, its capture code);
- by an independent reference written here: the same model built, cast and captured with plain
  torch calls, timed by ``torch.utils.benchmark.Timer(...).blocked_autorange()`` (blocks of calls,
  one synchronize per block). Nothing of archscope's timing or capture code is imported for it.

Pass criteria (GPU proof issue): for configurations over 1 ms the two medians agree within 2 %;
at batch ≥ 64 the CV of archscope's iterations is at most 1 %. Both are columns of the table.

Writes ``<out-dir>/gpu_bench-<device>-<UTC time>.json`` (the archscope.bench/1 document plus a
``comparison`` list) and a Markdown table beside it.

    python benchmarks/gpu_bench.py --models resnet50,vgg16,googlenet,resnet18 --compile-models resnet50
    python benchmarks/gpu_bench.py --device cpu --quick   # lenet5, batch 1 and 8, fp32: smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AGREE = 0.02  # medians over 1 ms agree within 2 %
CV_MAX = 0.01  # at batch ≥ 64
TORCH_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def timer_median_ms(fn, min_run_time: float) -> float:
    """``torch.utils.benchmark`` median of ``fn()`` in ms (it synchronizes CUDA itself)."""
    from torch.utils import benchmark

    t = benchmark.Timer(stmt="fn()", globals={"fn": fn})
    return t.blocked_autorange(min_run_time=min_run_time).median * 1e3


def reference_fn(name: str, rec: dict, device: str, warmup: int):
    """The record's configuration built independently: a callable running one forward.

    The model comes from the zoo's builder (the network itself is not under test); the cast,
    layout, inference mode, warm-up and, for graph rows, the capture follow the CUDA-graphs
    example of the PyTorch documentation ("whole network capture"), not archscope's code.
    """
    import torch

    import archscope

    dtype = getattr(torch, TORCH_DTYPES[rec["dtype"]])
    fmt = torch.channels_last if rec["channels_last"] else torch.contiguous_format
    model = archscope.build(name).to(device=device, dtype=dtype, memory_format=fmt).eval()
    x = torch.randn(rec["input_shape"], device=device, dtype=dtype).contiguous(memory_format=fmt)
    if rec["compile"]:
        model = torch.compile(model, mode=rec["compile"], dynamic=False)

    def eager():
        with torch.inference_mode():
            return model(x)

    for _ in range(warmup):
        eager()
    if not rec["graph"]:
        return eager
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s), torch.inference_mode():
        for _ in range(3):
            model(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g), torch.inference_mode():
        model(x)
    return g.replay


def reference_ms(name: str, rec: dict, device: str, budget: float) -> float | None:
    """The Timer's median for the record's configuration (None: out of memory)."""
    import torch

    cuda = device.startswith("cuda")
    fn = None
    try:
        fn = reference_fn(name, rec, device, warmup=10 if cuda else 3)
        return timer_median_ms(fn, min_run_time=budget)
    except torch.cuda.OutOfMemoryError:
        return None
    finally:
        del fn
        if cuda:
            torch.cuda.empty_cache()


def compare_row(name: str, rec: dict, ref_ms: float | None) -> dict:
    """One comparison row with its two pass/fail checks (None where a check does not apply)."""
    med = rec["median_ms"]
    ratio = med / ref_ms if ref_ms else None
    from archscope.timing.results import variant_label

    variant = variant_label(rec["graph"], rec["compile"])
    return {
        "model": name, "batch": rec["batch_size"], "dtype": rec["dtype"],
        "layout": "NHWC" if rec["channels_last"] else "NCHW", "variant": variant,
        "archscope_median_ms": med, "timer_median_ms": ref_ms, "ratio": ratio,
        "ci_pct": 100 * rec["ci_rel"] if rec["ci_rel"] is not None else None,
        "cv_pct": 100 * rec["cv"] if rec["cv"] is not None else None,
        "agree_2pct": (abs(ratio - 1) <= AGREE) if ratio is not None and med > 1.0 else None,
        "cv_1pct": (rec["cv"] <= CV_MAX) if rec["batch_size"] >= 64 and rec["cv"] is not None else None,
        "status": rec["status"],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--models", default="resnet50,vgg16,googlenet,resnet18")
    ap.add_argument("--batch-sizes", default="1,64,256")
    ap.add_argument("--dtypes", default="fp32,bf16")
    ap.add_argument("--compile-models", default="", help="models also timed with torch.compile")
    ap.add_argument("--compile-batches", default="256", help="batch sizes of the compiled runs")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds of timing per configuration")
    ap.add_argument("--quick", action="store_true", help="lenet5, batch 1 and 8, fp32, short budget")
    ap.add_argument("--out-dir", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    import pandas as pd

    import archscope
    from archscope.timing.report import render_results, run_title
    from archscope.timing.results import write_results
    from archscope.timing.runner import BenchResults
    from archscope.timing.scoped import signals_as_interrupts
    from archscope.io import write_atomic
    from archscope.render import render_frame

    if args.quick:
        args.models, args.batch_sizes, args.dtypes, args.budget = "lenet5", "1,8", "fp32", 0.2
    cuda = args.device.startswith("cuda")
    batches = [int(b) for b in args.batch_sizes.split(",")]
    compiled = [m for m in args.compile_models.split(",") if m]
    runs = [(name, dict(batch_sizes=batches, dtypes=args.dtypes.split(","),
                        channels_last=(False, True), cuda_graphs=cuda))
            for name in args.models.split(",")]
    runs += [(name, dict(batch_sizes=[int(b) for b in args.compile_batches.split(",")],
                         dtypes=["bf16"], channels_last=True, compile=True)) for name in compiled]
    records, comparison, env, notes, roofs, interrupted = [], [], None, [], [], False
    with signals_as_interrupts():  # `timeout` sends SIGTERM: keep what was measured
        try:
            for name, options in runs:
                res = archscope.bench(name, device=args.device, budget_s=args.budget, **options)
                env = env or res.env
                notes += [n for n in res.notes if n not in notes]
                roofs = roofs or res.roofs
                # a compile run times eager too (its baseline): the table has eager rows already
                new = [r for r in res.records if r["compile"] or not options.get("compile")]
                records += new
                if res.interrupted:
                    raise KeyboardInterrupt
                comparison += [compare_row(name, rec, reference_ms(name, rec, args.device, args.budget))
                               for rec in new if rec["status"] in ("ok", "unstable")]
        except KeyboardInterrupt:
            interrupted = True

    results = BenchResults(records, env or {}, {"script": "benchmarks/gpu_bench.py", **vars(args)},
                           interrupted=interrupted, notes=notes, roofs=roofs)
    doc = results.document()
    doc["comparison"] = comparison
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(args.out_dir) / f"gpu_bench-{args.device.replace(':', '')}-{stamp}"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_results(out.with_suffix(".json"), doc)
    frame = pd.DataFrame(comparison)
    checks = []
    for column, what in (("agree_2pct", "medians over 1 ms within 2 % of the Timer's"),
                         ("cv_1pct", "CV ≤ 1 % at batch ≥ 64")):
        if len(frame) and column in frame and frame[column].notna().any():
            kept = frame[column].dropna()
            checks.append(f"{what}: {int(kept.sum())} of {len(kept)} pass")
    md = render_results(results, "markdown") + "\n" + render_frame(
        frame, "markdown",
        title="archscope median vs torch.utils.benchmark.Timer.blocked_autorange median",
        notes=[run_title(env or {}), "ratio = archscope / Timer; Timer times a block of calls with "
               "one synchronize per block, archscope one CUDA-event pair per call", *checks])
    write_atomic(out.with_suffix(".md"), md)
    print(md)
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}", file=sys.stderr)
    return 143 if interrupted else 0


def _main() -> int:
    from archscope.errors import ArchscopeError

    try:
        return main()
    except ArchscopeError as exc:  # a mistake in the options, e.g. --device cuda without CUDA
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_main())
