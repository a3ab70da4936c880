"""Timing one configuration: a model, an input and a variant (eager, CUDA graph, compiled).

:func:`time_config` warms up, takes the device's roofs on first use (warm, see :mod:`.peak`),
resets peak memory, times until the median is stable (or the budget is spent) while reading the
load average and the GPU's state around the timed region, and turns the times into the record's
figures: statistics and the noise gate's status, throughput, achieved TFLOP/s against the
model's own roofs, peak memory, energy, compile time and outcome, and per-layer times when asked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from . import stats
from .compiled import compile_outcome, dynamo_counts
from .counts import Counts
from .gate import MIN_TIME_S, gate
from .machine import load_average
from .nvml import ENERGY_MIN_S
from .peak import combined_peak, math_modes
from .results import new_record
from .roofs import Roofs, bound
from .clock import chunk_timer, synchronize, time_until_stable
from .train import HeadLoss, training_loss



@dataclass
class Config:
    """One configuration: what is timed, at which batch and precision, with its counts.

    ``amp``: weights stay fp32 and the forward runs under ``torch.autocast`` to ``dtype``;
    otherwise the model is cast with ``.to(dtype)``. ``conv_macs``: the MACs of convolutions,
    which may run in another math mode than matmuls (TF32 on CUDA).
    """

    name: str
    device: str
    dtype: str
    channels_last: bool
    batch_size: int
    shape: tuple
    mode: str
    threads: int
    counts: Counts
    amp: bool = False
    conv_macs: int = 0

    def record(self, variant: str, compile_mode: str | None, **fields) -> dict:
        return new_record(
            model=self.name, device=self.device, batch_size=self.batch_size, dtype=self.dtype,
            amp=self.amp, channels_last=self.channels_last, graph=variant == "graph",
            compile=compile_mode if variant == "compile" else None, mode=self.mode,
            threads=self.threads, input_shape=list(self.shape), **fields,
        )

    def label(self, variant: str) -> str:
        return (f"{self.name} b{self.batch_size} {self.dtype}{' amp' if self.amp else ''}"
                f"{' NHWC' if self.channels_last else ''} {self.mode} {variant}")


@dataclass
class Context:
    """What every configuration of a sweep shares: options, roofs, the GPU's NVML handle."""

    warmup: int
    iters: int | None
    budget_s: float
    cores: int
    per_layer: bool = False
    roofs: Roofs | None = None
    gpu: Any = None  # nvml.Gpu
    trace: Any = None  # results.TraceFiles: where --trace puts each profiler trace
    notes: list[str] = field(default_factory=list)

    def note_once(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)


def model_peak(cfg: Config, roofs: Roofs) -> tuple[float | None, Any]:
    """The peak this model is compared with (TFLOP/s) and the conv roof's Peak.

    Convolutions are held to the conv math mode's roof and everything else to the matmul one's
    (they differ for fp32 on CUDA when only cuDNN may use TF32): see :func:`.peak.combined_peak`.
    """
    modes = math_modes(cfg.device, cfg.dtype)
    conv, matmul = roofs.peak(modes["conv"]), roofs.peak(modes["matmul"])
    if modes["conv"] == modes["matmul"]:
        return conv.best, conv
    macs = cfg.counts.macs or 0
    return combined_peak(cfg.conv_macs, macs - cfg.conv_macs, conv.best, matmul.best), conv


def peak_check(share: float, ci_rel: float | None, peak) -> str:
    """The sentence a ``peak_share`` over 100 % gets: the measurement is suspected first."""
    head = f"peak_share {100 * share:.0f} % is over 100 %"
    spreads = []
    if ci_rel is None or ci_rel > 0.05:
        spreads.append("this row's timing is unstable" if ci_rel is not None
                       else "this row has too few iterations for a CI")
    if peak.measured is None:
        spreads.append("the peak is the datasheet's, not measured here")
    elif peak.ci_rel is None or peak.ci_rel > 0.02:
        spreads.append("the peak's own median is uncertain"
                       + (f" (±{100 * peak.ci_rel:.1f} %)" if peak.ci_rel is not None else ""))
    if spreads:
        return f"{head}: a measurement problem first — {' and '.join(spreads)}; rerun on a quiet machine"
    return (f"{head} with a stable timing and peak, so the library did fewer multiplies than the "
            "nominal MACs (Winograd or FFT convolutions, common for 3×3 kernels)")


def figures(cfg: Config, times: list[float], stopped: str, ctx: Context,
            loads: tuple[float | None, float | None]) -> dict:
    """The record's figures from the per-iteration times (ms) and the run's roofs."""
    import torch

    s = stats.summarize(times)
    c = cfg.counts  # a training step's counted forward + backward in train mode, no factor
    flops = c.flops
    mac_flops = 2 * c.macs if c.macs is not None else None
    status, reason = gate(s["ci_rel"], s["iters"], stopped=stopped, threads=cfg.threads,
                          cores=ctx.cores, load_before=loads[0], load_after=loads[1],
                          budget_s=ctx.budget_s, device=cfg.device.split(":")[0])
    out = dict(s, status=status, reason=reason, stopped=stopped, load_before=loads[0],
               load_after=loads[1],
               throughput_items_s=stats.throughput(cfg.batch_size, s["median_ms"]),
               macs=c.macs, flops=c.flops, flops_per_iter=flops,
               tflops=stats.tflops(flops, s["median_ms"]),
               tflops_from_macs=stats.tflops(mac_flops, s["median_ms"]),
               bytes_moved=c.bytes_moved,
               intensity=c.flops / c.bytes_moved if c.flops and c.bytes_moved else None)
    if ctx.roofs is not None:
        best, conv = model_peak(cfg, ctx.roofs)
        bw = ctx.roofs.bandwidth().best
        out.update(peak_tflops=best, peak_tflops_datasheet=conv.datasheet,
                   peak_source=conv.source, bandwidth_gbs=bw)
        if cfg.mode == "infer":
            out["bound"] = bound(out["intensity"], best, bw)
        if best and out["tflops_from_macs"] is not None:
            out["peak_share"] = out["tflops_from_macs"] / best
            if out["peak_share"] > 1:
                out["peak_check"] = peak_check(out["peak_share"], s["ci_rel"], conv)
    if cfg.device.startswith("cuda"):
        out["peak_mem_bytes"] = int(torch.cuda.max_memory_allocated(torch.device(cfg.device)))
    return out


def _steps(cfg: Config, model, x) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """``(forward, step)``: one forward (under autocast for ``amp``), and one timed step —
    the forward, or forward + backward + SGD step in train mode. Mixed-precision training in
    fp16 also scales the loss (``torch.amp.GradScaler``), as fp16 training does in practice: its
    gradients would underflow otherwise; bf16 needs no scaler."""
    import torch

    dev_type = cfg.device.split(":")[0]
    if cfg.amp:
        from ..devices import parse_dtype

        low = parse_dtype(cfg.dtype)

        def forward():
            # no weight-cast cache: a CUDA graph must capture the casts, and eager re-enters
            # autocast every step anyway
            with torch.autocast(dev_type, dtype=low, cache_enabled=False):
                return model(x)
    else:
        def forward():
            return model(x)

    if cfg.mode != "train":
        model.eval()
        return forward, forward
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-4)
    head_loss = HeadLoss()

    if cfg.amp and cfg.dtype == "fp16":
        scaler = torch.amp.GradScaler(dev_type)

        def step():
            opt.zero_grad(set_to_none=True)
            scaler.scale(training_loss(forward(), head_loss)).backward()
            scaler.step(opt)
            scaler.update()

        return forward, step

    def step():
        opt.zero_grad(set_to_none=True)
        training_loss(forward(), head_loss).backward()
        opt.step()

    return forward, step


def capture(forward: Callable[[], Any], step: Callable[[], Any], warmup: int):
    """A CUDA graph of one forward, warmed on a side stream as capture requires: ``(replay,
    output)``, where ``output`` is the static tensor each replay writes."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        output = forward()  # the input is static: replays read the same memory
    for _ in range(warmup):
        graph.replay()
    return graph.replay, output


def _first_call(step: Callable[[], Any], dev_type: str) -> tuple[dict, dict, dict]:
    """A compiled configuration's first call, which traces and generates code: ``(fields,
    dynamo counts before, after)``, its time kept apart as ``compile_s``."""
    before = dynamo_counts()
    t0 = time.perf_counter()
    step()
    synchronize(dev_type)
    return {"compile_s": time.perf_counter() - t0}, before, dynamo_counts()


def _warm_up(step: Callable[[], Any], dev_type: str, ctx: Context) -> int:
    """Run the warm-up; returns the first ``--iters auto`` chunk, sized from the warm-up so a
    slow configuration keeps to its budget."""
    t0 = time.perf_counter()
    for _ in range(ctx.warmup):
        step()
    synchronize(dev_type)
    per_iter_s = (time.perf_counter() - t0) / ctx.warmup if ctx.warmup else 0.0
    return max(1, min(10, int(ctx.budget_s / per_iter_s / 2))) if per_iter_s > 0 else 10


def _timed(cfg: Config, timed: Callable[[], Any], ctx: Context, first_chunk: int,
           idle_w: float | None) -> tuple[list[float], str, tuple, dict]:
    """The timed region, with peak memory reset just before it, the load average read around
    it and, on an NVIDIA GPU, its energy: ``(times_ms, stopped, loads, gpu fields)``."""
    import torch

    dev_type = cfg.device.split(":")[0]
    window = None
    if ctx.gpu is not None:
        from .nvml import EnergyWindow

        window = EnergyWindow(ctx.gpu, idle_w)
    if dev_type == "cuda":  # this variant's own peak: not the warm-up's, not the previous variant's
        synchronize(dev_type)
        torch.cuda.reset_peak_memory_stats(torch.device(cfg.device))
    load_before = load_average()
    if window is not None:
        window.start()
    min_time = MIN_TIME_S if window is None else max(MIN_TIME_S, ENERGY_MIN_S)
    times, stopped = time_until_stable(timed, chunk_timer(dev_type), iters=ctx.iters,
                                       budget_s=ctx.budget_s, first_chunk=first_chunk,
                                       min_time_s=min_time)
    extra: dict[str, Any] = {}
    if window is not None:
        energy, why = window.stop(len(times) * cfg.batch_size)
        extra.update(energy, **ctx.gpu.sample())
        if why:
            ctx.note_once(why)
    return times, stopped, (load_before, load_average()), extra


def time_config(cfg: Config, variant: str, model, x, ctx: Context) -> dict:
    """Time one variant of one configuration; returns the figures for its record."""
    dev_type = cfg.device.split(":")[0]
    forward, step = _steps(cfg, model, x)
    idle_w = None
    if ctx.gpu is not None:
        synchronize(dev_type)
        idle_w = ctx.gpu.idle_power_w()  # before this configuration's work heats the board
    extra: dict[str, Any] = {}
    if variant == "compile":
        extra, counts_before, counts_compiled = _first_call(step, dev_type)
    first_chunk = _warm_up(step, dev_type, ctx)
    if ctx.roofs is not None:  # measured once per run, warm: after the first warm-up
        model_peak(cfg, ctx.roofs)
        ctx.roofs.bandwidth()
    timed = capture(forward, step, ctx.warmup)[0] if variant == "graph" else step
    times, stopped, loads, gpu = _timed(cfg, timed, ctx, first_chunk, idle_w)
    out = figures(cfg, times, stopped, ctx, loads)
    out.update(extra, **gpu)
    if variant == "compile":
        out.update(compile_outcome(counts_before, counts_compiled, dynamo_counts()))
    if ctx.per_layer and variant == "eager" and cfg.mode == "infer":
        from .layer_rows import per_layer_figures

        out.update(per_layer_figures(cfg, model, forward, ctx, out, ctx.trace,
                                     passes=max(3, min(20, len(times)))))
    return out
