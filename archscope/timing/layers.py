"""Per-layer time: every operator the forward runs, attributed to the module call that ran it.

``torch.profiler`` records each aten operator (on the CPU: its wall time on the calling thread;
on CUDA: the GPU time of the kernels it launched). Forward pre/post hooks open and close one
``record_function`` range per module call, named ``archscope::<module path>``, so every
operator sits inside the ranges of the modules that were running. An operator is charged to
the innermost module range around it, once: a block's own work between its children (the
residual ``add`` of a ResNet block, the ``cat`` of an Inception module) gets the block's row,
a convolution the convolution's row. Operators nested inside another operator (``conv2d`` →
``convolution`` → ``mkldnn_convolution``) count once, through the outermost.

Times are per forward (summed over the module's calls in one forward, averaged over passes).
What the rows leave out is *unattributed*: Python between operators, the hooks, the gaps
between kernels on a GPU that the CPU cannot feed fast enough.

Hook timing (a clock read in the pre and post hook of each leaf module) is kept only as a
fallback where the profiler cannot run, and labelled as such: it times one leaf at a time,
includes the hook's own overhead, and misses a block's own work.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ..analysis.records import ROOT_NAME, is_leaf_module
from .clock import time_cpu, time_cuda

PREFIX = "archscope::"
ROOT = ROOT_NAME  # the root module's path, as the counting core names it


@dataclass
class LayerTimes:
    """Per-module time of one forward: ``own_ms[path]`` (operators charged to that module),
    ``calls[path]`` (calls per forward), ``types[path]`` (module class), ``leaf[path]``;
    ``pass_ms``: the mean whole forward while timed this way; ``source``: how."""

    own_ms: dict[str, float]
    calls: dict[str, int]
    types: dict[str, str]
    leaf: dict[str, bool]
    pass_ms: float
    source: str
    outside_ms: float = 0.0  # operators outside every module range: unattributed too
    notes: list[str] = field(default_factory=list)


def _paths(model) -> list[tuple[str, Any]]:
    return [(p or ROOT, m) for p, m in model.named_modules()]


def leaf_modules(model) -> list[tuple[str, Any]]:
    """``(path, module)`` for every module without children (the layers that do the work)."""
    return [(p, m) for p, m in model.named_modules() if is_leaf_module(m)]


@contextlib.contextmanager
def module_ranges(model) -> Iterator[None]:
    """One ``record_function("archscope::<path>")`` range per module call; hooks removed on exit."""
    from torch.profiler import record_function

    open_ranges: list = []

    def pre(path):
        def hook(module, args):
            rf = record_function(PREFIX + path)
            rf.__enter__()
            open_ranges.append(rf)
        return hook

    def post(module, args, output):
        open_ranges.pop().__exit__(None, None, None)

    handles = []
    try:
        for path, module in _paths(model):
            handles.append(module.register_forward_pre_hook(pre(path)))
            handles.append(module.register_forward_hook(post))
        yield
    finally:
        for h in handles:
            h.remove()
        while open_ranges:  # a forward that raised left its ranges open
            open_ranges.pop().__exit__(None, None, None)


def attribute(events, cuda: bool, passes: int) -> tuple[dict[str, float], dict[str, int], float]:
    """``(own_ms, calls, outside_ms)`` per forward from the profiler's events (see the module
    docstring): each outermost operator's time goes to its innermost module range."""
    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    outside_us = 0.0
    for ev in events:
        name = ev.name
        if name.startswith(PREFIX):
            path = name[len(PREFIX):]
            calls[path] = calls.get(path, 0) + 1
            continue
        if name.startswith("profiler::"):  # the ranges' own bookkeeping
            continue
        parent = ev.cpu_parent
        if parent is not None and not parent.name.startswith(PREFIX):
            continue  # inside another operator, which carries its time
        us = (getattr(ev, "device_time_total", None) or 0.0) if cuda else ev.cpu_time_total
        if parent is None:
            outside_us += us
        else:
            path = parent.name[len(PREFIX):]
            own[path] = own.get(path, 0.0) + us
    scale = 1e-3 / passes  # µs over all passes → ms per forward
    return ({p: t * scale for p, t in own.items()}, {p: n // passes for p, n in calls.items()},
            outside_us * scale)


def profile_layers(model, step: Callable[[], Any], device_type: str, passes: int,
                   trace_to: str | Path | None = None) -> LayerTimes:
    """Profile ``passes`` calls of ``step`` (one forward each) after one unprofiled warm pass;
    ``trace_to``: also write the Chrome/Perfetto trace there."""
    from torch.profiler import ProfilerActivity, profile

    from .scoped import quiet_profiler_log

    cuda = device_type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    timer = time_cuda if cuda else time_cpu
    with module_ranges(model):
        step()  # the hooks' and ranges' first call pays for imports and caches
        with quiet_profiler_log(), profile(activities=activities) as prof:
            pass_ms = timer(step, passes)
        events = prof.events()
        if trace_to is not None:
            prof.export_chrome_trace(str(trace_to))
    own, calls, outside = attribute(events, cuda, passes)
    modules = dict(_paths(model))
    leaves = {p for p, _ in leaf_modules(model)} | ({ROOT} if is_leaf_module(model) else set())
    what = "GPU time of the kernels each operator launched" if cuda else \
        "wall time of each operator on the calling thread"
    return LayerTimes(own, calls, {p: type(modules[p]).__name__ for p in calls if p in modules},
                      {p: p in leaves for p in calls}, sum(pass_ms) / len(pass_ms),
                      f"torch.profiler: {what}", outside)


def _mark(cuda: bool):
    """A point in time: a recorded CUDA event, or ``perf_counter_ns``."""
    if not cuda:
        return time.perf_counter_ns()
    import torch

    mark = torch.cuda.Event(enable_timing=True)
    mark.record()
    return mark


def _ms(start, end, cuda: bool) -> float:
    return start.elapsed_time(end) if cuda else (end - start) / 1e6


def hook_layers(model, step: Callable[[], Any], device_type: str, passes: int) -> LayerTimes:
    """The fallback: a clock (CUDA events) in each leaf module's pre and post hook.

    Leaf intervals never overlap and lie inside the pass, so the sum of the leaves' times is at
    most the whole hooked forward. A block's own work is not timed.
    """
    cuda = device_type == "cuda"
    leaves = leaf_modules(model)
    totals = {p: 0.0 for p, _ in leaves}
    calls = {p: 0 for p, _ in leaves}
    pending: list[tuple[str, Any, Any]] = []  # (path, start, end) per call in this pass
    open_: dict[str, list] = {p: [] for p, _ in leaves}

    def hooks(path):
        def pre(module, args):
            open_[path].append(_mark(cuda))

        def post(module, args, output):
            pending.append((path, open_[path].pop(), _mark(cuda)))
        return pre, post

    handles = []
    pass_ms: list[float] = []
    try:
        for path, module in leaves:
            pre, post = hooks(path)
            handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
        for _ in range(passes):
            pending.clear()
            pass_ms += (time_cuda if cuda else time_cpu)(step, 1)
            for path, start, end in pending:  # CUDA: the pass's synchronize made them readable
                totals[path] += _ms(start, end, cuda)
                calls[path] += 1
    finally:
        for h in handles:
            h.remove()
    timed = [(p, m) for p, m in leaves if calls[p]]
    return LayerTimes({p: totals[p] / passes for p, _ in timed},
                      {p: calls[p] // passes for p, _ in timed},
                      {p: type(m).__name__ for p, m in timed}, {p: True for p, _ in timed},
                      sum(pass_ms) / len(pass_ms), "hooks")


def time_layers(model, step: Callable[[], Any], device_type: str, passes: int,
                trace_to: str | Path | None = None) -> LayerTimes:
    """Per-module times from the profiler; hook timing, labelled, if the profiler fails."""
    try:
        return profile_layers(model, step, device_type, passes, trace_to)
    except Exception as exc:  # noqa: BLE001 - the fallback says why
        why = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        out = hook_layers(model, step, device_type, passes)
        out.source = (f"hooks (fallback: torch.profiler failed, {why}); each leaf timed alone with "
                      "its hook overhead, a block's own work not timed")
        return out
