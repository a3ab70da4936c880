"""The device's measured peak: a dense matmul in the configuration's dtype, timed like the model.

``peak_share`` asks how close a network comes to what the device can do. Datasheet figures
(:data:`archscope.bench.stats.PEAK_TFLOPS`) answer that only for the GPUs listed, at boost clocks
the board may not hold, and never for a CPU. So the bench measures a peak as well: the rate of
one large dense matrix multiply ``C = A @ B`` (``2·n³`` FLOPs) in the dtype being timed, with the
same clock as the model (CUDA event pairs, one synchronize per chunk; ``perf_counter_ns`` on the
CPU), its median over a few iterations after warm-up. It runs once per device and math mode per
sweep and costs well under a second:

- CUDA: n = 4096 (137 GFLOP per multiply), 3 warm-up and 10 timed iterations. fp32 is multiplied
  in TF32 when cuDNN may use TF32 for convolutions (PyTorch's default), so the peak is in the
  same math mode as the convolutions it is compared with.
- CPU: n = 256, 512, then 1024 (3 timed iterations each, after one warm-up), stopping early once
  one multiply takes over 50 ms; the best rate wins. Small sizes understate a fast CPU's peak,
  large ones take seconds where a dtype has no fast kernel (fp16 on most CPUs).

The measured figure is a practical ceiling, not the theoretical one: dense GEMM is the most
efficient thing a device does, so a share near 100 % means the network runs as fast as its
matmuls can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import stats

CUDA_N = 4096
CUDA_WARMUP, CUDA_ITERS = 3, 10
CPU_SIZES = (256, 512, 1024)
CPU_ITERS = 3
CPU_SLOW_MS = 50.0


@dataclass(frozen=True)
class Peak:
    """A device's peak TFLOP/s for one math mode: measured (None if that failed) and datasheet."""

    measured: float | None
    datasheet: float | None
    source: str

    @property
    def best(self) -> float | None:
        """The peak that ``peak_share`` divides by: the measured one, else the datasheet's."""
        return self.measured if self.measured is not None else self.datasheet


def math_mode(device: str, dtype: str) -> str:
    """fp32 | tf32 | bf16 | fp16: the arithmetic the device uses for convolutions in ``dtype``."""
    if dtype == "fp32" and device.startswith("cuda"):
        import torch

        return "tf32" if torch.backends.cudnn.allow_tf32 else "fp32"
    return dtype


def matmul_rate(n: int, median_ms: float) -> float:
    """TFLOP/s of one n×n by n×n multiply taking ``median_ms``: 2·n³ / seconds / 10¹²."""
    return 2 * n**3 / (median_ms / 1000.0) / 1e12


def measure_matmul(device: str, dtype: str, timer: Callable, mode: str) -> tuple[float, int, int]:
    """``(tflops, n, iters)``: the median rate of ``C = A @ B`` with n×n operands on ``device``.

    ``timer(step, iters)`` is the bench's chunk timer (per-iteration ms). On CUDA, fp32 runs in
    TF32 when ``mode == "tf32"``; the previous matmul setting is restored afterwards.
    """
    import torch

    from .options import DTYPE_NAMES
    from .timing import synchronize

    torch_dtype = getattr(torch, DTYPE_NAMES[dtype])
    cuda = device.startswith("cuda")
    saved = torch.backends.cuda.matmul.allow_tf32
    try:
        if cuda:
            torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
            sizes, warmup, iters = (CUDA_N,), CUDA_WARMUP, CUDA_ITERS
        else:
            sizes, warmup, iters = CPU_SIZES, 1, CPU_ITERS
        best = None
        for n in sizes:
            a = torch.randn(n, n, device=device, dtype=torch_dtype)
            b = torch.randn(n, n, device=device, dtype=torch_dtype)
            c = torch.empty(n, n, device=device, dtype=torch_dtype)

            def step():
                torch.mm(a, b, out=c)

            for _ in range(warmup):
                step()
            synchronize("cuda" if cuda else "cpu")
            ms = stats.median(timer(step, iters))
            rate = matmul_rate(n, ms)
            if best is None or rate > best[0]:
                best = (rate, n, iters)
            del a, b, c
            if ms > CPU_SLOW_MS:
                break
        return best
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


def device_peak(device: str, dtype: str, device_name: str | None, timer: Callable) -> Peak:
    """Measure the peak of ``device`` in ``dtype`` and look up the datasheet's; never raises
    for a failed measurement (an unsupported dtype, out of memory): ``measured`` is then None and
    ``source`` says why. Ctrl-C still propagates."""
    mode = math_mode(device, dtype)
    datasheet = stats.peak_tflops(device_name, mode) if device.startswith("cuda") and device_name else None
    try:
        rate, n, iters = measure_matmul(device, dtype, timer, mode)
    except Exception as exc:  # noqa: BLE001 - a peak we cannot measure is not the sweep's failure
        why = " ".join(str(exc).split())[:120]
        fallback = "; peak_share uses the datasheet figure" if datasheet else ""
        return Peak(None, datasheet, f"matmul peak not measured ({type(exc).__name__}: {why}){fallback}")
    clock = "CUDA events" if device.startswith("cuda") else "perf_counter_ns"
    return Peak(rate, datasheet, f"measured: median of {iters} {n}x{n}x{n} {mode} matmuls ({clock})")
