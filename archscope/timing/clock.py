"""Clocks: CUDA events on the GPU, ``perf_counter_ns`` on the CPU, and the ``--iters auto`` loop.

CUDA: one ``torch.cuda.Event(enable_timing=True)`` pair per iteration, recorded on the current
stream around the step, and ONE ``torch.cuda.synchronize()`` after the whole chunk. No sync sits
inside the timed region, so the GPU queue is never drained between iterations. Each interval is
what the GPU saw between the two events: pure kernel time when the GPU is the bottleneck, kernel
time plus idle gaps when the CPU cannot launch kernels fast enough (small batches), which is
exactly the launch overhead that CUDA graphs remove.

CPU: ``time.perf_counter_ns`` before and after each step (the step returns once the work is
done, so no synchronisation is needed). All times returned are milliseconds. Per-layer time is
:mod:`.layers`'s.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from .gate import MIN_ITERS, MIN_TIME_S
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
    min_iters: int = MIN_ITERS,
    min_time_s: float = MIN_TIME_S,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], str]:
    """Time ``step`` and return ``(times_ms, why_stopped)``.

    With ``iters`` set: exactly that many iterations (``"fixed"``). With ``iters=None`` (``--iters
    auto``): chunks of ``first_chunk`` iterations, doubling up to ``max_chunk`` but never planned
    past the remaining budget. It stops once at least ``min_iters`` iterations and ``min_time_s``
    seconds of timing are done and the 95 % CI of the median lies within ``rel`` of the median
    (``"converged"``), or when ``budget_s`` seconds are spent (``"budget"``) — but never before
    ``min_iters`` iterations: a median of fewer is not worth a status.
    """
    if iters is not None:
        return timer(step, iters), "fixed"
    times: list[float] = []
    start = clock()
    chunk = first_chunk
    while True:
        times.extend(timer(step, chunk))
        elapsed = clock() - start
        enough = len(times) >= min_iters
        if enough and elapsed >= min_time_s and converged(times, rel):
            return times, "converged"
        remaining = budget_s - elapsed
        if enough and remaining <= 0:
            return times, "budget"
        per_iter_s = elapsed / len(times) if elapsed > 0 else 0.0
        fits = int(remaining / per_iter_s) if per_iter_s > 0 and remaining > 0 else max_chunk
        chunk = max(1, min(2 * chunk, max_chunk, fits))
        if not enough:
            chunk = max(chunk, min_iters - len(times)) if remaining > 0 else min_iters - len(times)
