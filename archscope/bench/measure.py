"""Timing one configuration: a model, an input and a variant (eager, CUDA graph, compiled).

:func:`measure` warms up, times until the median is stable (or the budget is spent) and turns the
times into the record's figures: statistics, throughput, achieved TFLOP/s against the device's
peak, peak memory, compile time and outcome, and per-layer times when asked for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from . import stats
from .counts import Counts
from .peak import Peak
from .results import new_record
from .timing import chunk_timer, synchronize, time_layers, time_until_stable
from .train import HeadLoss, training_loss

TRAIN_FLOPS_FACTOR = 3  # forward + backward ≈ 3 × forward (grad wrt inputs and wrt weights)


@dataclass
class Config:
    name: str
    device: str
    dtype: str
    channels_last: bool
    batch_size: int
    shape: tuple
    mode: str
    threads: int
    counts: Counts

    def record(self, variant: str, compile_mode: str | None, **fields) -> dict:
        return new_record(
            model=self.name, device=self.device, batch_size=self.batch_size, dtype=self.dtype,
            channels_last=self.channels_last, graph=variant == "graph",
            compile=compile_mode if variant == "compile" else None, mode=self.mode,
            threads=self.threads, input_shape=list(self.shape), **fields,
        )

    def label(self, variant: str) -> str:
        return (f"{self.name} b{self.batch_size} {self.dtype}{' NHWC' if self.channels_last else ''} "
                f"{self.mode} {variant}")


def figures(cfg: Config, times: list[float], stopped: str, peak: Peak) -> dict:
    import torch

    s = stats.summarize(times)
    factor = TRAIN_FLOPS_FACTOR if cfg.mode == "train" else 1
    flops = cfg.counts.flops * factor if cfg.counts.flops is not None else None
    mac_flops = 2 * cfg.counts.macs * factor if cfg.counts.macs is not None else None
    out = dict(s, status="ok", stopped=stopped,
               throughput_items_s=stats.throughput(cfg.batch_size, s["median_ms"]),
               macs=cfg.counts.macs, flops=cfg.counts.flops, flops_per_iter=flops,
               tflops=stats.tflops(flops, s["median_ms"]),
               tflops_from_macs=stats.tflops(mac_flops, s["median_ms"]),
               peak_tflops=peak.best, peak_tflops_datasheet=peak.datasheet, peak_source=peak.source)
    if peak.best and out["tflops_from_macs"] is not None:
        out["peak_share"] = out["tflops_from_macs"] / peak.best
    if cfg.device.startswith("cuda"):
        out["peak_mem_bytes"] = int(torch.cuda.max_memory_allocated(torch.device(cfg.device)))
    return out

def per_layer_figures(cfg: Config, model, step, passes: int) -> dict:
    layers, pass_ms = time_layers(model, step, cfg.device.split(":")[0], passes)
    whole = sum(pass_ms) / len(pass_ms)
    total_macs = cfg.counts.macs or 0
    rows = []
    for path, info in layers.items():
        macs = cfg.counts.per_layer_macs.get(path)
        rows.append({"layer": path, "type": info["type"], "calls": info["calls"],
                     "time_ms": info["time_ms"], "time_share": info["time_ms"] / whole,
                     "macs": macs, "mac_share": macs / total_macs if macs is not None and total_macs else None})
    # A block's own work outside its children (a residual add, a matmul in its forward) is
    # counted but never timed alone: listed only when it holds MACs, so the MAC shares add up.
    modules = dict(model.named_modules())
    for path, macs in cfg.counts.per_layer_macs.items():
        if path not in layers and macs:
            kind = type(modules[path]).__name__ if path in modules else None
            rows.append({"layer": path, "type": kind, "calls": None, "time_ms": None,
                         "time_share": None, "macs": macs,
                         "mac_share": macs / total_macs if total_macs else None})
    return {"per_layer": rows, "layers_sum_ms": sum(i["time_ms"] for i in layers.values()),
            "layers_pass_ms": whole}


def dynamo_counts() -> dict[str, int]:
    """A snapshot of dynamo's global counters that tell compiled from eager runs.

    ``graphs``: FX graphs captured (``stats.unique_graphs``); ``frames``/``frames_ok``: frames
    dynamo tried to convert and converted; ``breaks``: graph breaks; ``limits``: frames given up
    on because the recompile limit (``recompile_limit``, once ``cache_size_limit``) was hit.
    """
    from torch._dynamo.utils import counters

    limits = sum(n for key, n in counters["unimplemented"].items()
                 if "limit" in key.lower() and ("recompile" in key.lower() or "cache_size" in key.lower()))
    return {"graphs": counters["stats"]["unique_graphs"], "frames": counters["frames"]["total"],
            "frames_ok": counters["frames"]["ok"], "breaks": sum(counters["graph_break"].values()),
            "limits": limits}


def compile_outcome(before: dict, compiled: dict, after: dict) -> dict:
    """Record fields for a compiled configuration from three :func:`dynamo_counts` snapshots:
    before the first (compiling) call, after it, and after warm-up and timing.

    ``fallback`` when the first call captured no graph (dynamo ran the whole forward eagerly,
    e.g. a model under ``torch.compiler.disable``), or when the recompile limit was hit or a frame
    failed to convert later (those calls ran eagerly): the timings are then eager ones.
    """
    out = {"compile_graphs": after["graphs"] - before["graphs"],
           "compile_graph_breaks": after["breaks"] - before["breaks"]}
    failed_later = (after["frames"] - after["frames_ok"]) - (compiled["frames"] - compiled["frames_ok"])
    if compiled["graphs"] == before["graphs"]:
        breaks = compiled["breaks"] - before["breaks"]
        out.update(status="fallback", reason=(
            "torch.compile captured no graph" + (f" ({breaks} graph breaks)" if breaks else "")
            + "; dynamo ran the forward eagerly, so these are eager timings"))
    elif after["limits"] > before["limits"] or failed_later > 0:
        out.update(status="fallback", reason=(
            "dynamo hit its recompile limit or failed to convert a frame after compiling; those "
            "calls ran eagerly, so these timings are not compiled ones"))
    return out


def measure(cfg: Config, variant: str, model, x, *, warmup: int, iters: int | None, budget_s: float,
             per_layer: bool, peak: Callable[[], Peak]) -> dict:
    """Time one variant of one configuration; returns the figures for its record."""
    import torch

    dev_type = cfg.device.split(":")[0]
    cuda = dev_type == "cuda"
    device_peak_ = peak()  # measured once per device and math mode, before peak memory is reset
    if cuda:
        torch.cuda.reset_peak_memory_stats(torch.device(cfg.device))
    extra: dict[str, Any] = {}
    if cfg.mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4)
        head_loss = HeadLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            training_loss(model(x), head_loss).backward()
            opt.step()
    else:
        model.eval()

        def step():
            return model(x)

    if variant == "compile":
        counts_before = dynamo_counts()
        t0 = time.perf_counter()
        step()  # the first call traces and generates code
        synchronize(dev_type)
        extra["compile_s"] = time.perf_counter() - t0
        counts_compiled = dynamo_counts()
    timed = step
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    synchronize(dev_type)
    # Size the first auto chunk from the warm-up so a slow configuration keeps to its budget.
    per_iter_s = (time.perf_counter() - t0) / warmup if warmup else 0.0
    first_chunk = max(1, min(10, int(budget_s / per_iter_s / 2))) if per_iter_s > 0 else 10
    if variant == "graph":
        # Warm-up above ran on the current stream; capture needs its own side-stream warm-up.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(x)  # x is the static input: replays read the same memory
        timed = graph.replay
        for _ in range(warmup):
            timed()
        synchronize(dev_type)
    times, stopped = time_until_stable(timed, chunk_timer(dev_type), iters=iters, budget_s=budget_s,
                                       first_chunk=first_chunk)
    out = figures(cfg, times, stopped, device_peak_)
    out.update(extra)
    if variant == "compile":
        out.update(compile_outcome(counts_before, counts_compiled, dynamo_counts()))
    if per_layer and variant == "eager" and cfg.mode == "infer":
        out.update(per_layer_figures(cfg, model, step, passes=max(3, min(20, len(times)))))
    return out
