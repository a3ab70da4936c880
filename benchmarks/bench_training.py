"""Training cost: how long counting a training step and estimating its memory take, what they
find, and how the memory estimate compares with the CPU allocator's own peak.

- in process (after imports and a warm-up): ``flop_report(M)`` against ``flop_report(M,
  mode="train")``, and ``memory_report(M)``;
- cold: ``archscope memory resnet50`` and ``archscope flops resnet50 --mode train`` in a fresh
  interpreter against ``python -c "import torch"`` (round-robin, as bench_cold);
- figures: backward / forward MACs and the peaks at batch 32 (Adam, fp32);
- reality: the predicted training peak against the CPU allocator's peak over one real step
  (``torch.profiler`` memory events), on small inputs so that it runs in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from run import ROOT, fmt_int, fmt_ratio, fmt_seconds, md_table, median, ratio, time_calls

TRAIN_RATIO_LIMIT = 3.0  # flops --mode train ≤ 3× the forward-only count
MEMORY_LIMIT_S = 2.0     # archscope memory resnet50 ≤ 2 s beyond import torch
MODELS = ("resnet50", "vgg16", "googlenet", "inception_v3", "alexnet", "lenet5")
COLD = {
    "import torch": ["-c", "import torch"],
    "archscope flops resnet50": ["-m", "archscope", "flops", "resnet50"],
    "archscope flops resnet50 --mode train": ["-m", "archscope", "flops", "resnet50", "--mode",
                                              "train"],
    "archscope memory resnet50": ["-m", "archscope", "memory", "resnet50"],
}
REAL = (("resnet18", (4, 3, 112, 112)), ("vgg11", (2, 3, 64, 64)), ("alexnet", (2, 3, 227, 227)),
        ("googlenet", (2, 3, 224, 224)), ("lenet5", (8, 1, 32, 32)))


def _cold(runs: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    times: dict[str, list[float]] = {k: [] for k in COLD}
    for rnd in range(runs + 1):
        for label, args in COLD.items():
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{label} exited {done.returncode}: {done.stderr[-300:]}")
            if rnd:
                times[label].append(time.perf_counter() - t0)
    return {k: {"median_s": median(v), "times_s": v} for k, v in times.items()}


def _real_peak(spec: str, shape: tuple[int, ...]) -> int:
    """The CPU allocator's peak over one Adam step (as tests/test_memory.py measures it)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from archscope.analysis.memory.optim import Optimizer
    from archscope.models import load_target, materialize

    model = materialize(load_target(spec, device="meta", init=False).model).train()
    params = list(model.parameters())
    opt = Optimizer.build("adam", params)
    x = torch.zeros(shape)
    resident = sum(t.untyped_storage().nbytes()
                   for t in [*params, *model.buffers(), *opt.tensors(), x])
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        outs = model(x)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])
        opt.step()
        del outs
    live = peak = 0
    for e in sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns()):
        live += e.nbytes()
        peak = max(peak, live)
    return resident + peak


def run(quick: bool, runs: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from archscope.analysis.flops import flop_report
    from archscope.analysis.memory.view import memory_report

    models = MODELS[:2] if quick else MODELS
    rows = {}
    for name in models:
        fwd = time_calls(lambda name=name: flop_report(name), runs)
        train = time_calls(lambda name=name: flop_report(name, mode="train"), runs)
        mem = time_calls(lambda name=name: memory_report(name, batch_size=32), runs)
        t = flop_report(name, mode="train").total
        m = memory_report(name, batch_size=32).total
        rows[name] = {
            "forward_count_s": median(fwd), "train_count_s": median(train),
            "memory_s": median(mem), "train_vs_forward": ratio(median(train), median(fwd)),
            "forward_macs": t["forward_macs"], "backward_macs": t["backward_macs"],
            "grad_input_macs": t["grad_input_macs"], "grad_weight_macs": t["grad_weight_macs"],
            "backward_vs_forward_macs": t["backward_macs"] / t["forward_macs"],
            "peak_train_bytes_b32": m["peak_train_bytes"],
            "peak_infer_bytes_b32": m["peak_infer_bytes"],
            "saved_activation_bytes_b32": m["saved_activation_bytes"],
            "times_s": {"forward": fwd, "train": train, "memory": mem},
        }
    real = {}
    for spec, shape in (REAL[:1] if quick else REAL):
        predicted = memory_report(spec, ",".join(map(str, shape))).total["peak_train_bytes"]
        measured = _real_peak(spec, shape)
        real[spec] = {"shape": list(shape), "predicted": predicted, "cpu_allocator": measured,
                      "error": predicted / measured - 1}
    return {"models": rows, "cold": _cold(1 if quick else runs), "real": real}


def markdown(result: dict) -> str:
    m = result["models"]
    rows = [[k, fmt_seconds(v["forward_count_s"]), fmt_seconds(v["train_count_s"]),
             fmt_ratio(v["train_vs_forward"]), fmt_seconds(v["memory_s"]),
             f"{v['backward_vs_forward_macs']:.4f}", fmt_int(v["peak_train_bytes_b32"]),
             fmt_int(v["peak_infer_bytes_b32"])] for k, v in m.items()]
    cold = result["cold"]
    base = cold["import torch"]["median_s"]
    crow = [[k, fmt_seconds(v["median_s"]), f"+{fmt_seconds(v['median_s'] - base)}"]
            for k, v in cold.items()]
    real = [[k, "x".join(map(str, v["shape"])), fmt_int(v["predicted"]),
             fmt_int(v["cpu_allocator"]), f"{100 * v['error']:+.2f} %"]
            for k, v in result["real"].items()]
    return ("In process, median of the runs after a warm-up (batch 1 for the counts, 32 for "
            "memory; Adam, fp32).\n\n"
            + md_table(["model", "forward count", "training count", "× forward", "memory",
                        "backward / forward MACs", "peak train B (b32)", "peak infer B (b32)"],
                       rows, right=(1, 2, 3, 4, 5, 6, 7))
            + "\n\nCold, a fresh interpreter each (round-robin after a warm-up round).\n\n"
            + md_table(["command", "median", "beyond `import torch`"], crow, right=(1, 2))
            + "\n\nPredicted training peak against the CPU allocator's own peak over one real "
            "step (torch.profiler memory events; Adam, zero weights).\n\n"
            + md_table(["model", "input", "predicted B", "CPU allocator B", "error"], real,
                       right=(2, 3, 4)))


def targets(result: dict) -> list[tuple]:
    out = []
    r = result["models"]["resnet50"]
    out.append((f"`flops resnet50 --mode train` ≤ {TRAIN_RATIO_LIMIT:g}× the forward count",
                f"{fmt_ratio(r['train_vs_forward'])} ({fmt_seconds(r['train_count_s'])} vs "
                f"{fmt_seconds(r['forward_count_s'])})", r["train_vs_forward"], TRAIN_RATIO_LIMIT))
    cold = result["cold"]
    extra = cold["archscope memory resnet50"]["median_s"] - cold["import torch"]["median_s"]
    out.append((f"`archscope memory resnet50` ≤ {MEMORY_LIMIT_S:g} s beyond `import torch`",
                fmt_seconds(extra), extra, MEMORY_LIMIT_S))
    return out
