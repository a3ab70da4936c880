"""Clocks: CUDA events on the GPU, ``perf_counter_ns`` on the CPU, and the ``--iters auto`` loop.

CUDA: one ``torch.cuda.Event(enable_timing=True)`` pair per iteration, recorded on the current
stream around the step, and ONE ``torch.cuda.synchronize()`` after the whole chunk. No sync sits
inside the timed region, so the GPU queue is never drained between iterations. Each interval is
what the GPU saw between the two events: pure kernel time when the GPU is the bottleneck, kernel
time plus idle gaps when the CPU cannot launch kernels fast enough (small batches), which is
exactly the launch overhead that CUDA graphs remove.

CPU: ``time.perf_counter_ns`` before and after each step (the step returns once the work is
done, so no synchronisation is needed). All times returned are milliseconds.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from .stats import converged

Step = Callable[[], Any]
ChunkTimer = Callable[[Step, int], list]


def time_cpu(step: Step, iters: int) -> list[float]:
    """Per-iteration wall times in ms of ``iters`` calls of ``step``."""
    out = []
    clock = time.perf_counter_ns
    for _ in range(iters):
        t0 = clock()
        step()
        out.append((clock() - t0) / 1e6)
    return out


def time_cuda(step: Step, iters: int) -> list[float]:
    """Per-iteration GPU times in ms from CUDA event pairs; one synchronize at the end."""
    import torch

    stream = torch.cuda.current_stream()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        starts[i].record(stream)
        step()
        ends[i].record(stream)
    torch.cuda.synchronize()
    return [s.elapsed_time(e) for s, e in zip(starts, ends)]


def chunk_timer(device_type: str) -> ChunkTimer:
    return time_cuda if device_type == "cuda" else time_cpu


def synchronize(device_type: str) -> None:
    if device_type == "cuda":
        import torch

        torch.cuda.synchronize()


def time_until_stable(
    step: Step,
    timer: ChunkTimer,
    *,
    iters: int | None,
    budget_s: float = 2.0,
    rel: float = 0.01,
    first_chunk: int = 10,
    max_chunk: int = 1000,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], str]:
    """Time ``step`` and return ``(times_ms, why_stopped)``.

    With ``iters`` set: exactly that many iterations (``"fixed"``). With ``iters=None`` (``--iters
    auto``): chunks of ``first_chunk`` iterations, doubling up to ``max_chunk`` but never planned
    past the remaining budget, until the 95 % CI of the median lies within ``rel`` of the median
    (``"converged"``) or ``budget_s`` seconds of timing are spent (``"budget"``).
    """
    if iters is not None:
        return timer(step, iters), "fixed"
    times: list[float] = []
    start = clock()
    chunk = first_chunk
    while True:
        times.extend(timer(step, chunk))
        if converged(times, rel):
            return times, "converged"
        elapsed = clock() - start
        remaining = budget_s - elapsed
        if remaining <= 0:
            return times, "budget"
        per_iter_s = elapsed / len(times) if elapsed > 0 else 0.0
        fits = int(remaining / per_iter_s) if per_iter_s > 0 else max_chunk
        chunk = max(1, min(2 * chunk, max_chunk, fits))


def leaf_modules(model) -> list[tuple[str, Any]]:
    """``(path, module)`` for every module without children (the layers that do the work)."""
    return [(p, m) for p, m in model.named_modules() if not any(True for _ in m.children())]


def time_layers(model, run: Step, device_type: str, passes: int) -> tuple[dict[str, dict], list[float]]:
    """Per-leaf-module times over ``passes`` forwards of ``run``; hooks are removed afterwards.

    Returns ``({path: {"type", "calls", "time_ms"}}, pass_ms)`` where ``time_ms`` is the mean
    over passes of the summed time of that leaf's calls in one pass, and ``pass_ms`` the whole
    hooked forward of each pass. Leaf intervals never overlap and lie inside the pass, so the
    sum of the ``time_ms`` is at most the mean of ``pass_ms`` (mean of sums = sum of means).
    CUDA: events recorded in the pre/post hooks, one synchronize per pass.
    """
    import torch

    cuda = device_type == "cuda"
    leaves = leaf_modules(model)
    totals = {p: 0.0 for p, _ in leaves}
    calls = {p: 0 for p, _ in leaves}
    pending: list[tuple[str, Any, Any]] = []  # (path, start, end) per call in this pass
    open_: dict[str, list] = {}

    def pre(path):
        def hook(module, args):
            mark = torch.cuda.Event(enable_timing=True) if cuda else None
            if cuda:
                mark.record()
            open_.setdefault(path, []).append(mark if cuda else time.perf_counter_ns())
        return hook

    def post(path):
        def hook(module, args, output):
            start = open_[path].pop()
            if cuda:
                end = torch.cuda.Event(enable_timing=True)
                end.record()
            else:
                end = time.perf_counter_ns()
            pending.append((path, start, end))
        return hook

    handles = []
    pass_ms: list[float] = []
    try:
        for path, module in leaves:
            handles.append(module.register_forward_pre_hook(pre(path)))
            handles.append(module.register_forward_hook(post(path)))
        for _ in range(passes):
            pending.clear()
            [t] = (time_cuda if cuda else time_cpu)(run, 1)
            pass_ms.append(t)
            for path, s, e in pending:
                totals[path] += s.elapsed_time(e) if cuda else (e - s) / 1e6
                calls[path] += 1
    finally:
        for h in handles:
            h.remove()
    out = {
        path: {"type": type(m).__name__, "calls": calls[path] // passes,
               "time_ms": totals[path] / passes}
        for path, m in leaves if calls[path]
    }
    return out, pass_ms
