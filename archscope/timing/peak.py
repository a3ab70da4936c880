"""The device's compute roof: the rate of a warm dense matmul in each math mode the model uses.

``peak_share`` asks how close a network comes to what the device can do. Datasheet figures
(:data:`archscope.timing.stats.PEAK_TFLOPS`) answer that only for the GPUs listed, at boost clocks
the board may not hold, and never for a CPU. So the bench measures the peak: the rate of
``C = A @ B`` with n×n operands (``2·n³`` FLOPs) in the math mode being compared, timed with the
same clock as the model (CUDA event pairs; ``perf_counter_ns`` on the CPU).

What makes the figure defensible (a cold, short measurement once gave 0.0005 to 0.13 TFLOP/s on
the same CPU, and ``peak_pct`` of 359 %):

- it is taken warm: the sweep measures it after the first configuration's warm-up, with the
  thread count being benched;
- each size is timed for at least ``MIN_TIME_S`` (50 ms) and ``MIN_ITERS`` multiplies, until the
  median's 95 % CI is within 2 % (or a second per size), after two unmeasured multiplies;
- several sizes are tried (CUDA up to 8192, CPU up to 2048, stopping once a multiply is slow)
  and the best rate among those with a steady median (CI within 5 %) is kept;
- the math mode is the model's own: on CUDA, fp32 convolutions run in TF32 when
  ``torch.backends.cudnn.allow_tf32`` (PyTorch's default) and fp32 matmuls only when
  ``torch.backends.cuda.matmul.allow_tf32`` (off by default), so the two are measured and
  recorded apart and each layer kind is compared with its own roof;
- the sweep measures again at its end and reports a drift over 5 %.

The measured figure is a practical ceiling, not the theoretical one: dense GEMM is the most
efficient thing a device does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import stats

CUDA_SIZES = (2048, 4096, 8192)
CPU_SIZES = (256, 512, 1024, 2048)
SLOW_MS = 50.0  # stop growing n once one multiply takes this long
MIN_ITERS = 6  # the fewest with a 95 % CI of the median
MIN_TIME_S = 0.05
SIZE_BUDGET_S = 0.3
REL = 0.02
STEADY_CI = 0.05  # a size whose median's CI is wider does not set the peak while another is steady
WARMUP = 2


@dataclass(frozen=True)
class Peak:
    """A device's peak TFLOP/s for one math mode: measured (None if that failed) and datasheet;
    ``ci_rel``: the measured median's CI half-width over the median."""

    measured: float | None
    datasheet: float | None
    source: str
    ci_rel: float | None = None

    @property
    def best(self) -> float | None:
        """The peak that ``peak_share`` divides by: the measured one, else the datasheet's."""
        return self.measured if self.measured is not None else self.datasheet


def math_modes(device: str, dtype: str) -> dict[str, str]:
    """``{"conv": mode, "matmul": mode}``: the arithmetic convolutions and matmuls use in ``dtype``
    on ``device`` (fp32 | tf32 | bf16 | fp16), read from PyTorch's current TF32 switches."""
    if dtype == "fp32" and device.startswith("cuda"):
        import torch

        return {"conv": "tf32" if torch.backends.cudnn.allow_tf32 else "fp32",
                "matmul": "tf32" if torch.backends.cuda.matmul.allow_tf32 else "fp32"}
    return {"conv": dtype, "matmul": dtype}


def matmul_rate(n: int, median_ms: float) -> float:
    """TFLOP/s of one n×n by n×n multiply taking ``median_ms``: 2·n³ / seconds / 10¹²."""
    return 2 * n**3 / (median_ms / 1000.0) / 1e12


def measure_matmul(device: str, mode: str, timer: Callable, *,
                   sizes: tuple[int, ...] | None = None) -> tuple[float, int, int, float | None, list]:
    """``(tflops, n, iters, ci_rel, tried)``: the best median rate of ``C = A @ B`` over ``sizes``
    (``tried``: the sizes timed, in order).

    ``mode`` is a math mode: ``tf32`` multiplies fp32 operands with TF32 allowed (CUDA), ``fp32``
    with it forbidden; the switch is restored afterwards. ``timer(step, iters)`` is the bench's
    chunk timer (per-iteration ms).
    """
    import torch

    from ..devices import parse_dtype
    from .scoped import tf32
    from .clock import synchronize, time_until_stable

    cuda = device.startswith("cuda")
    dtype = "fp32" if mode == "tf32" else mode
    element = parse_dtype(dtype)
    sizes = sizes or (CUDA_SIZES if cuda else CPU_SIZES)
    best, tried = None, []
    with tf32(matmul=mode == "tf32") if cuda else _nothing():
        for n in sizes:
            a = torch.randn(n, n, device=device, dtype=element)
            b = torch.randn(n, n, device=device, dtype=element)
            c = torch.empty(n, n, device=device, dtype=element)

            def step(a=a, b=b, c=c):
                torch.mm(a, b, out=c)

            for _ in range(WARMUP):
                step()
            synchronize("cuda" if cuda else "cpu")
            times, _ = time_until_stable(step, timer, iters=None, budget_s=SIZE_BUDGET_S, rel=REL,
                                         first_chunk=MIN_ITERS, min_iters=MIN_ITERS,
                                         min_time_s=MIN_TIME_S)
            ms = stats.median(times)
            tried.append(n)
            found = (matmul_rate(n, ms), n, len(times), stats.ci_halfwidth_rel(times))
            if best is None or _better(found, best):
                best = found
            del a, b, c, step
            if ms > SLOW_MS:
                break
    return (*best, tried)


def _steady(ci: float | None) -> bool:
    return ci is not None and ci <= STEADY_CI


def _better(found: tuple, best: tuple) -> bool:
    """A steady median (CI within 5 %) beats an unsteady one whatever its rate: a noisy size's
    median may sit high by chance; among equals, the higher rate wins."""
    if _steady(found[3]) != _steady(best[3]):
        return _steady(found[3])
    return found[0] > best[0]


def _nothing():
    import contextlib

    return contextlib.nullcontext()


def device_peak(device: str, mode: str, device_name: str | None, timer: Callable) -> Peak:
    """Measure the peak of ``device`` in math ``mode`` and look up the datasheet's; never raises
    for a failed measurement (an unsupported dtype, out of memory): ``measured`` is then None and
    ``source`` says why. Ctrl-C still propagates."""
    datasheet = stats.peak_tflops(device_name, mode) if device.startswith("cuda") and device_name else None
    try:
        rate, n, iters, ci, tried = measure_matmul(device, mode, timer)
    except Exception as exc:  # noqa: BLE001 - a peak we cannot measure is not the sweep's failure
        why = " ".join(str(exc).split())[:120]
        fallback = "; peak_share uses the datasheet figure" if datasheet else ""
        return Peak(None, datasheet, f"matmul peak not measured ({type(exc).__name__}: {why}){fallback}")
    clock = "CUDA events" if device.startswith("cuda") else "perf_counter_ns"
    spread = f", CI ±{100 * ci:.1f} %" if ci is not None else ""
    return Peak(rate, datasheet, f"measured warm: {n}x{n}x{n} {mode} matmul, median of {iters} "
                f"({clock}{spread}), the best of n = {', '.join(map(str, tried))}", ci)


def combined_peak(conv_macs: int, other_macs: int, conv: float | None, other: float | None) -> float | None:
    """The peak of a model whose convolutions run at roof ``conv`` and everything else at
    ``other`` (TFLOP/s): total MACs / (conv MACs / conv + other MACs / other), the rate at which
    both parts would finish if each ran at its own roof."""
    if conv is None or other is None:
        return conv if other_macs == 0 else (other if conv_macs == 0 else None)
    total = conv_macs + other_macs
    if total == 0 or conv <= 0 or other <= 0:
        return None
    return total / (conv_macs / conv + other_macs / other)
