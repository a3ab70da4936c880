"""The device's memory roof: how many bytes per second a copy and a triad move.

Two STREAM-style kernels over one fp32 buffer, timed with the bench's own clock:

- *copy*: ``b[:] = a`` over two halves of the buffer;
- *triad*: ``a[:] = b + 3 · c`` over three thirds of it.

Bytes per iteration count every element read and every element written once (STREAM's
convention; a CPU's write-allocate reads are not counted, so a CPU moves somewhat more than
credited). GB/s are 10⁹ bytes per second. ``bandwidth_gbs`` is the better of the two: the
slope of the roofline, the most a memory-bound layer could move.

The buffer must not fit in a cache, or the figure is the cache's: at least 4 × the last-level
cache on a CPU (as sysfs reports it; a VM may report the whole host's cache) and at least
1 GiB, and 4 × the L2 cache, on a GPU. It is capped at a quarter of the memory available, and
the source says when the cap applied. Each kernel is timed for at least ``MIN_TIME_S`` and
``MIN_ITERS`` iterations after a warm-up pass, until its median's CI is within 2 % or half a
second is spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

CPU_FALLBACK_BYTES = 2**30  # when sysfs reports no cache size
GPU_MIN_BYTES = 2**30
CACHE_FACTOR = 4
MIN_ITERS = 3
MIN_TIME_S = 0.1
BUDGET_S = 0.5
REL = 0.02
TRIAD_SCALAR = 3.0


@dataclass(frozen=True)
class Bandwidth:
    """Measured copy and triad rates in GB/s (None when not measured) and how."""

    copy_gbs: float | None
    triad_gbs: float | None
    buffer_bytes: int
    source: str

    @property
    def best(self) -> float | None:
        rates = [r for r in (self.copy_gbs, self.triad_gbs) if r is not None]
        return max(rates) if rates else None


def buffer_bytes(device: str) -> tuple[int, str]:
    """``(bytes, why)``: the buffer size for ``device`` and the sentence that justifies it."""
    import torch

    from .machine import available_memory_bytes, last_level_cache_bytes

    if device.startswith("cuda"):
        dev = torch.device(device)
        l2 = int(getattr(torch.cuda.get_device_properties(dev), "L2_cache_size", 0) or 0)
        want = max(GPU_MIN_BYTES, CACHE_FACTOR * l2)
        free = torch.cuda.mem_get_info(dev)[0]
        why = f"{want / 2**30:.2f} GiB (at least 1 GiB and 4 × the {l2 / 2**20:.0f} MiB L2 cache)"
    else:
        llc = last_level_cache_bytes()
        want = CACHE_FACTOR * llc if llc else CPU_FALLBACK_BYTES
        free = available_memory_bytes()
        why = (f"{want / 2**20:.0f} MiB (4 × the {llc / 2**20:.0f} MiB last-level cache)" if llc
               else f"{want / 2**20:.0f} MiB (no cache size reported)")
    if free and want > free // 4:
        want = free // 4
        why = (f"{want / 2**20:.0f} MiB (a quarter of the {free / 2**30:.1f} GiB free; "
               f"wanted {why})")
    return want, why


def _rate(step: Callable, moved: int, timer: Callable, device: str) -> float:
    from . import stats
    from .clock import synchronize, time_until_stable

    step()
    synchronize(device.split(":")[0])
    times, _ = time_until_stable(step, timer, iters=None, budget_s=BUDGET_S, rel=REL,
                                 first_chunk=MIN_ITERS, min_iters=MIN_ITERS, min_time_s=MIN_TIME_S)
    return moved / (stats.median(times) / 1000.0) / 1e9


def measure_bandwidth(device: str, timer: Callable, nbytes: int | None = None) -> Bandwidth:
    """Copy and triad GB/s on ``device`` over a buffer of ``nbytes`` (default: :func:`buffer_bytes`).

    Never raises for a failed measurement (out of memory): the rates are then None and
    ``source`` says why. Ctrl-C still propagates.
    """
    import torch

    why = f"{nbytes / 2**20:.0f} MiB as asked" if nbytes else None
    try:
        if nbytes is None:
            nbytes, why = buffer_bytes(device)
        n = nbytes // 4
        buf = torch.empty(n, dtype=torch.float32, device=device)
        buf.fill_(1.0)  # touch every page: untouched memory reads as the zero page, from cache
        half, third = n // 2, n // 3
        src, dst = buf[:half], buf[half:2 * half]
        a, b, c = buf[:third], buf[third:2 * third], buf[2 * third:3 * third]
        copy = _rate(lambda: dst.copy_(src), 2 * half * 4, timer, device)
        triad = _rate(lambda: torch.add(b, c, alpha=TRIAD_SCALAR, out=a), 3 * third * 4, timer,
                      device)
    except Exception as exc:  # noqa: BLE001 - a roof we cannot measure is not the sweep's failure
        text = " ".join(str(exc).split())[:120]
        return Bandwidth(None, None, nbytes or 0,
                         f"memory bandwidth not measured ({type(exc).__name__}: {text})")
    finally:
        buf = src = dst = a = b = c = None  # noqa: F841 - give the buffer back at once
    clock = "CUDA events" if device.startswith("cuda") else "perf_counter_ns"
    return Bandwidth(copy, triad, nbytes,
                     f"measured: copy {copy:.1f} GB/s and triad {triad:.1f} GB/s (bytes read + "
                     f"written, {clock}) over a buffer of {why}; the roof is the better one")
