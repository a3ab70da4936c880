"""Statistics of a list of per-iteration times: pure functions, no torch.

Every time here is in milliseconds. Conventions (stated so figures can be checked by hand):

- ``median``: the middle value, or the mean of the two middle values when n is even.
- percentiles (``p5``, ``p95``, ``p99``): linear interpolation between order statistics at
  position ``(n - 1) × q`` of the sorted sample (NumPy's default "linear" method).
- ``std``: the sample standard deviation (divisor n − 1); ``cv`` = std / mean.
- Confidence interval of the median: distribution-free, from order statistics. With the sorted
  sample x(1) ≤ … ≤ x(n) and B ~ Binomial(n, 1/2) (the number of values below the true median),
  take the largest l with P(B ≤ l − 1) ≤ α/2 and u = n − l + 1; then
  P(x(l) ≤ median ≤ x(u)) = 1 − 2·P(B ≤ l − 1) ≥ 1 − α. It needs no assumption about the
  shape of the distribution (latencies are skewed, with a long right tail), and exists only
  when P(B = 0) = 2⁻ⁿ ≤ α/2, i.e. n ≥ 6 for 95 %.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

# Datasheet peak dense throughput in TFLOP/s (one FMA = 2 FLOPs, no structured sparsity), per
# GPU variant and math mode. Sources: NVIDIA H100 Tensor Core GPU datasheet (H100 SXM, H100 NVL
# and H100 PCIe columns), NVIDIA H200 datasheet (H200 SXM, H200 NVL), NVIDIA GH200 datasheet,
# NVIDIA A100 datasheet (SXM and PCIe share these figures), NVIDIA V100 / V100S datasheets. The
# datasheets quote tensor-core figures "with sparsity"; the dense figures below are half of those.
# Variants of one chip differ (an H100 NVL is not an H100 SXM), so each row is a pattern over
# ``torch.cuda.get_device_name()`` that names the variant; a name no row matches has no datasheet
# figure (None) rather than a neighbour's. Rows are tried in order, first match wins.
_H100_SXM = {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}
_H100_NVL = {"fp32": 60.0, "tf32": 417.5, "bf16": 835.5, "fp16": 835.5}
PEAK_TFLOPS: list[tuple[str, dict[str, float]]] = [
    (r"\bH100\b.*\bNVL\b", _H100_NVL),  # "NVIDIA H100 NVL"
    (r"\bH100\b.*\bPCIe\b", {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0}),
    (r"\bH100\b.*\b(SXM\d?|HBM3)\b", _H100_SXM),  # "NVIDIA H100 80GB HBM3" is the SXM5 board
    (r"\bGH200\b", _H100_SXM),  # "NVIDIA GH200 480GB": the Hopper GPU at SXM clocks
    (r"\bH200\b.*\bNVL\b", _H100_NVL),  # "NVIDIA H200 NVL"
    (r"\bH200\b", _H100_SXM),  # "NVIDIA H200": the SXM board (the NVL says NVL)
    (r"\bA100\b", {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}),
    (r"\bV100S\b", {"fp32": 16.4, "fp16": 130.0}),  # "Tesla V100S-PCIE-32GB"
    (r"\bV100\b.*\bPCIE\b", {"fp32": 14.0, "fp16": 112.0}),  # "Tesla V100-PCIE-16GB"
    (r"\bV100\b.*\bSXM\d?\b", {"fp32": 15.7, "fp16": 125.0}),  # "Tesla V100-SXM2-16GB"
]
PEAK_SOURCE = (
    "peak_tflops: measured warm, the best median rate of a dense matmul in the model's own math "
    "mode at the benched thread count (see peak_source); on CUDA, convolutions and matmuls are held "
    "to their own mode's roof (TF32 or strict fp32), combined by their MACs; peak_tflops_datasheet: "
    "NVIDIA's dense figure for this GPU variant where known; peak_share = TFLOP/s from MACs / "
    "peak_tflops, and a share over 100 % is flagged in peak_check (a measurement problem first, "
    "then fewer multiplies than the nominal MACs: Winograd or FFT convolutions); bandwidth_gbs: "
    "measured copy/triad; bound: memory-bound below the ridge point peak / bandwidth"
)


def peak_tflops(device_name: str, math_mode: str) -> float | None:
    """Datasheet peak dense TFLOP/s of ``device_name`` in ``math_mode`` (fp32|tf32|bf16|fp16).

    None when the name matches no variant in :data:`PEAK_TFLOPS` or the variant has no figure
    for that math mode.
    """
    for pattern, table in PEAK_TFLOPS:
        if re.search(pattern, device_name, flags=re.IGNORECASE):
            return table.get(math_mode)
    return None


def median(values: Sequence[float]) -> float:
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    return float(xs[mid]) if n % 2 else (xs[mid - 1] + xs[mid]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0 ≤ q ≤ 1) by linear interpolation at position (n − 1)·q."""
    xs = sorted(values)
    if not xs:
        raise ValueError("percentile of no values")
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """1-based ranks (l, u) of the order statistics bounding the median's CI, or None if n is too small.

    l is the largest rank with P(B ≤ l − 1) ≤ α/2 for B ~ Binomial(n, 1/2); u = n − l + 1.
    The binomial terms are summed in log space so large n does not underflow.
    """
    alpha_half = (1.0 - confidence) / 2
    log_half_n = n * math.log(0.5)
    lgn = math.lgamma(n + 1)
    # Start the sum 8·√n below the middle: by Hoeffding, P(B ≤ n/2 − 8√n) ≤ exp(−128), far below
    # any α/2, so every rank below the start qualifies and the sum stays O(√n), not O(n).
    start = max(0, math.floor(n / 2 - 8 * math.sqrt(n)))
    cdf = 0.0
    low = start
    for k in range(start, n // 2 + 1):  # cdf ≈ P(B ≤ k)
        cdf += math.exp(lgn - math.lgamma(k + 1) - math.lgamma(n - k + 1) + log_half_n)
        if cdf > alpha_half:
            break
        low = k + 1  # P(B ≤ low − 1) = P(B ≤ k) ≤ α/2
    if low < 1:
        return None
    return low, n - low + 1


def median_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free CI of the median: (x(l), x(u)); None when n is too small."""
    ranks = median_ci_ranks(len(values), confidence)
    if ranks is None:
        return None
    xs = sorted(values)
    return xs[ranks[0] - 1], xs[ranks[1] - 1]


def ci_halfwidth_rel(values: Sequence[float], confidence: float = 0.95) -> float | None:
    """The CI's larger distance from the median, as a fraction of the median (None: no CI)."""
    ci = median_ci(values, confidence)
    if ci is None:
        return None
    m = median(values)
    if m <= 0:
        return None
    return max(m - ci[0], ci[1] - m) / m


def converged(values: Sequence[float], rel: float = 0.01, confidence: float = 0.95) -> bool:
    """The ``--iters auto`` stopping rule: both CI ends lie within ``rel`` of the median."""
    width = ci_halfwidth_rel(values, confidence)
    return width is not None and width <= rel


def summarize(times_ms: Sequence[float]) -> dict[str, float | int | None]:
    """Median, mean, min, max, p5/p95/p99, std, CV and the median's 95 % CI of times in ms."""
    xs = [float(t) for t in times_ms]
    n = len(xs)
    if n == 0:
        raise ValueError("no timings to summarise")
    mean = sum(xs) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    ci = median_ci(xs)
    return {
        "iters": n,
        "median_ms": median(xs),
        "mean_ms": mean,
        "min_ms": min(xs),
        "max_ms": max(xs),
        "p5_ms": percentile(xs, 0.05),
        "p95_ms": percentile(xs, 0.95),
        "p99_ms": percentile(xs, 0.99),
        "std_ms": std,
        "cv": std / mean if mean > 0 else None,
        "ci_low_ms": ci[0] if ci else None,
        "ci_high_ms": ci[1] if ci else None,
        "ci_rel": ci_halfwidth_rel(xs),
    }


def throughput(batch_size: int, median_ms: float) -> float:
    """Items per second at the median latency: batch / (median_ms / 1000)."""
    return batch_size * 1000.0 / median_ms


def tflops(flops: float | int | None, median_ms: float) -> float | None:
    """Achieved TFLOP/s: FLOPs per iteration / median seconds / 10¹²."""
    if flops is None or median_ms <= 0:
        return None
    return flops / (median_ms / 1000.0) / 1e12
