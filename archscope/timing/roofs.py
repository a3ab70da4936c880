"""A device's roofs: compute peaks per math mode and the memory bandwidth, and what they imply.

The roofline model bounds a piece of work of intensity I (FLOPs per byte moved) at
``min(peak, I × bandwidth)``. The two roofs meet at the *ridge point* ``peak / bandwidth``
(FLOPs per byte): work below it is **memory-bound** (moving bytes takes longer than the
arithmetic), work above it **compute-bound**. Peaks are TFLOP/s (10¹² FLOP/s), bandwidth GB/s
(10⁹ B/s), so the ridge is ``1000 × peak_tflops / bandwidth_gbs``.

:class:`Roofs` holds what the bench measured on one device in one run (see :mod:`.peak` and
:mod:`.bandwidth`); ``archscope device`` shows it before any model is timed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .bandwidth import Bandwidth, measure_bandwidth
from .peak import Peak, device_peak

DRIFT_LIMIT = 0.05  # a peak that moved more than this between the start and end of a sweep


def ridge(peak_tflops: float | None, bandwidth_gbs: float | None) -> float | None:
    """FLOPs per byte where the bandwidth slope meets the compute roof."""
    if not peak_tflops or not bandwidth_gbs:
        return None
    return 1000.0 * peak_tflops / bandwidth_gbs


def bound(intensity: float | None, peak_tflops: float | None, bandwidth_gbs: float | None) -> str | None:
    """``memory-bound`` below the ridge point, ``compute-bound`` at or above it (None: unknown)."""
    point = ridge(peak_tflops, bandwidth_gbs)
    if point is None or intensity is None or intensity != intensity:
        return None
    return "memory-bound" if intensity < point else "compute-bound"


@dataclass
class Roofs:
    """The roofs of one device measured in one run: ``peaks[math mode]``, the bandwidth, and the
    peaks measured again at the end (``end[math mode]``) to show drift."""

    device: str
    device_name: str | None
    timer: Callable
    threads: int | None = None
    peaks: dict[str, Peak] = field(default_factory=dict)
    end: dict[str, float | None] = field(default_factory=dict)
    memory: Bandwidth | None = None

    def peak(self, mode: str) -> Peak:
        """The peak in math ``mode``, measured on first use and then reused."""
        if mode not in self.peaks:
            self.peaks[mode] = device_peak(self.device, mode, self.device_name, self.timer)
        return self.peaks[mode]

    def bandwidth(self) -> Bandwidth:
        """The memory bandwidth, measured on first use and then reused."""
        if self.memory is None:
            self.memory = measure_bandwidth(self.device, self.timer)
        return self.memory

    def remeasure(self) -> list[str]:
        """Measure each peak again (the end of a sweep); one sentence per drift over 5 %."""
        notes = []
        for mode, pk in self.peaks.items():
            if pk.measured is None:
                continue
            again = device_peak(self.device, mode, self.device_name, self.timer).measured
            self.end[mode] = again
            moved = self.drift(mode)
            if moved is not None and abs(moved) > DRIFT_LIMIT:
                notes.append(
                    f"the {mode} peak on {self.device} drifted {100 * moved:+.1f} % during the "
                    f"sweep ({pk.measured:.4g} → {again:.4g} TFLOP/s): clocks or load changed, so "
                    "compare peak_pct between rows with care")
        return notes

    def drift(self, mode: str) -> float | None:
        """(end − start) / start of the ``mode`` peak; None unless both were measured."""
        start, end = self.peaks.get(mode), self.end.get(mode)
        if start is None or start.measured is None or not end:
            return None
        return (end - start.measured) / start.measured

    def rows(self) -> list[dict]:
        """One dict per math mode: what the results document and ``archscope device`` show."""
        bw = self.memory.best if self.memory else None
        out = []
        for mode, pk in self.peaks.items():
            out.append({
                "device": self.device, "device_name": self.device_name, "threads": self.threads,
                "math": mode, "peak_tflops": pk.best, "peak_measured_tflops": pk.measured,
                "peak_tflops_datasheet": pk.datasheet, "peak_ci_rel": pk.ci_rel,
                "peak_end_tflops": self.end.get(mode), "peak_drift": self.drift(mode),
                "peak_source": pk.source, "bandwidth_gbs": bw,
                "copy_gbs": self.memory.copy_gbs if self.memory else None,
                "triad_gbs": self.memory.triad_gbs if self.memory else None,
                "bandwidth_source": self.memory.source if self.memory else None,
                "ridge_flop_per_byte": ridge(pk.best, bw),
            })
        return out


def measure_roofs(device: str, modes: list[str], device_name: str | None, timer: Callable,
                  threads: int | None = None) -> Roofs:
    """Every peak in ``modes`` and the bandwidth of ``device``, measured now (``archscope device``)."""
    roofs = Roofs(device, device_name, timer, threads)
    for mode in modes:
        roofs.peak(mode)
    roofs.bandwidth()
    return roofs


def device_roofs(device: str = "cpu", dtypes=("fp32",), threads: int | None = None) -> tuple[Roofs, dict]:
    """``(roofs, env)``: the roofs of ``device`` for each dtype's math mode (fp32 on CUDA: both
    strict fp32 and TF32), measured at ``threads`` (default: every usable core), and the
    environment they were measured in. Options are checked first, each mistake one sentence."""
    from .options import dtype_list, parse_device, threads_option
    from .results import environment
    from .scoped import device_context, torch_threads
    from .clock import chunk_timer

    dtypes = dtype_list(dtypes)
    device = parse_device(device)
    n = threads_option(threads)
    cuda = device.startswith("cuda")
    modes = list(dict.fromkeys(m for d in dtypes
                               for m in (("fp32", "tf32") if cuda and d == "fp32" else (d,))))
    with torch_threads(n), device_context(device):
        env = environment(device, n)
        roofs = measure_roofs(device, modes, env.get("device_name"), chunk_timer(device.split(":")[0]), n)
    return roofs, env
