"""Bench statistics and the --iters auto stopping rule on synthetic timings (hand-derived figures)."""

from __future__ import annotations

import itertools
import math

import pytest

from archscope.timing import stats
from archscope.timing.clock import time_until_stable


def test_summary_of_one_to_ten():
    s = stats.summarize([float(v) for v in [7, 3, 10, 1, 5, 9, 2, 8, 4, 6]])  # 1..10 shuffled
    assert s["iters"] == 10
    assert s["median_ms"] == 5.5  # (5 + 6) / 2, the two middle values of ten
    assert s["mean_ms"] == 5.5  # 55 / 10
    assert s["min_ms"] == 1.0 and s["max_ms"] == 10.0
    assert s["p5_ms"] == pytest.approx(1.45)  # position 9 × 0.05 = 0.45 → 1 + 0.45 × (2 − 1)
    assert s["p95_ms"] == pytest.approx(9.55)  # position 8.55 → 9 + 0.55 × (10 − 9)
    assert s["p99_ms"] == pytest.approx(9.91)  # position 8.91 → 9 + 0.91
    # Σ(x − 5.5)² = 2 × (4.5² + 3.5² + 2.5² + 1.5² + 0.5²) = 82.5; sample std = √(82.5 / 9)
    assert s["std_ms"] == pytest.approx(math.sqrt(82.5 / 9))
    assert s["cv"] == pytest.approx(math.sqrt(82.5 / 9) / 5.5)
    # n = 10 → ranks (2, 9) (see test below): the 2nd and 9th smallest values
    assert (s["ci_low_ms"], s["ci_high_ms"]) == (2.0, 9.0)
    assert s["ci_rel"] == pytest.approx(3.5 / 5.5)  # max(5.5 − 2, 9 − 5.5) / 5.5


def test_odd_median_and_single_value():
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    s = stats.summarize([4.0])
    assert s["median_ms"] == 4.0 and s["std_ms"] == 0.0 and s["ci_low_ms"] is None


@pytest.mark.parametrize(
    "n, ranks",
    [
        # P(B ≤ 0) = 1/32 = 0.031 > 0.025 for B ~ Bin(5, ½): no 95 % interval exists.
        (5, None),
        # P(B ≤ 0) = 1/64 = 0.0156 ≤ 0.025, P(B ≤ 1) = 7/64 > 0.025 → l = 1, u = 6.
        (6, (1, 6)),
        # P(B ≤ 1) = 11/1024 = 0.0107 ≤ 0.025, P(B ≤ 2) = 56/1024 = 0.0547 → l = 2, u = 9.
        (10, (2, 9)),
        # Σ_{k≤5} C(20,k) = 1+20+190+1140+4845+15504 = 21700; 21700/2²⁰ = 0.0207 ≤ 0.025;
        # adding C(20,6) = 38760 gives 60460/2²⁰ = 0.0577 → l = 6, u = 15.
        (20, (6, 15)),
    ],
)
def test_median_ci_ranks(n, ranks):
    assert stats.median_ci_ranks(n) == ranks


def test_median_ci_large_n_matches_normal_rank():
    # For large n, l ≈ n/2 − 1.96·√n/2: n = 10,000 → 5000 − 98 = 4902 (±1 for the discrete step).
    low, u = stats.median_ci_ranks(10_000)
    assert abs(low - 4902) <= 1 and u == 10_000 - low + 1


def test_throughput_tflops_and_peak():
    assert stats.throughput(8, 4.0) == 2000.0  # 8 items / 0.004 s
    assert stats.tflops(4e9, 2.0) == pytest.approx(2.0)  # 4e9 FLOP / 0.002 s = 2e12 FLOP/s
    assert stats.tflops(None, 2.0) is None
    assert stats.peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert stats.peak_tflops("NVIDIA H100 80GB HBM3", "tf32") == 494.7
    assert stats.peak_tflops("NVIDIA H100 PCIe", "fp16") == 756.0  # PCIe matched before SXM
    assert stats.peak_tflops("NVIDIA A100-SXM4-40GB", "fp32") == 19.5
    assert stats.peak_tflops("AMD EPYC", "fp32") is None


@pytest.mark.parametrize("name, mode, peak", [
    # torch.cuda.get_device_name() strings. Datasheet "with sparsity" tensor figures halved.
    ("NVIDIA H100 80GB HBM3", "bf16", 989.4),  # SXM5: 1,979 / 2
    ("NVIDIA H100 NVL", "bf16", 835.5),  # NVL: 1,671 / 2, not the SXM's 989.4
    ("NVIDIA H100 NVL", "tf32", 417.5),  # 835 / 2
    ("NVIDIA H100 NVL", "fp32", 60.0),
    ("NVIDIA H100 PCIe", "tf32", 378.0),  # 756 / 2
    ("NVIDIA H100 PCIe", "fp32", 51.2),
    ("NVIDIA H200", "bf16", 989.4),  # H200 SXM: same tensor cores and clocks as H100 SXM
    ("NVIDIA H200 NVL", "bf16", 835.5),
    ("NVIDIA GH200 480GB", "tf32", 494.7),
    ("NVIDIA A100 80GB PCIe", "bf16", 312.0),  # A100 PCIe and SXM: 624 / 2
    ("Tesla V100-SXM2-16GB", "fp16", 125.0),
    ("Tesla V100-PCIE-32GB", "fp16", 112.0),
    ("Tesla V100S-PCIE-32GB", "fp32", 16.4),
    ("Tesla V100-SXM2-16GB", "bf16", None),  # Volta has no bf16 tensor cores
    ("NVIDIA H100", "bf16", None),  # variant not named: no guess
    ("NVIDIA H100 80GB HBM2e", "bf16", None),
    ("NVIDIA GeForce RTX 4090", "fp16", None),
])
def test_datasheet_peak_names_the_variant(name, mode, peak):
    assert stats.peak_tflops(name, mode) == peak


def _fake_clock(step=0.001):
    counter = itertools.count()
    return lambda: next(counter) * step


def test_auto_stops_at_first_chunk_when_constant():
    chunks = []

    def timer(step, n):
        chunks.append(n)
        return [2.0] * n

    # 0.25 s per clock reading: the first chunk of 10 already has the 0.2 s it needs
    times, why = time_until_stable(lambda: None, timer, iters=None, clock=_fake_clock(0.25))
    assert why == "converged" and chunks == [10] and len(times) == 10


def test_auto_needs_the_minimum_time_before_it_may_stop():
    chunks = []

    def timer(step, n):
        chunks.append(n)
        return [2.0] * n

    # 0.05 s per reading: 0.05, 0.10, 0.15 after the first three chunks, 0.20 after the fourth
    times, why = time_until_stable(lambda: None, timer, iters=None, clock=_fake_clock(0.05))
    assert why == "converged" and chunks == [10, 20, 40, 80] and len(times) == 150


def test_auto_needs_ten_iterations_and_the_budget_cannot_cut_them_short():
    chunks = []

    def timer(step, n):
        chunks.append(n)
        return [1.0 + 0.1 * (i % 2) for i in range(n)]  # never within 1 %

    # A chunk of 2, then the budget (0.5 s) is spent at the first reading (1 s) — but only 2
    # iterations are done, so 8 more are timed before the budget may stop it.
    _, why = time_until_stable(lambda: None, timer, iters=None, budget_s=0.5, first_chunk=2,
                               clock=_fake_clock(1.0))
    assert why == "budget" and chunks == [2, 8]
    chunks.clear()
    # With time to spare, the next chunk is sized to reach 10 at once: 3, then 7.
    timer_const = lambda step, n: chunks.append(n) or [2.0] * n  # noqa: E731
    _, why = time_until_stable(lambda: None, timer_const, iters=None, budget_s=100, first_chunk=3,
                               clock=_fake_clock(1.0))
    assert why == "converged" and chunks == [3, 7]


def test_auto_converges_once_the_ci_narrows():
    # Chunk 1: 1..10 (CI ranks 2, 9 → [2, 9] around 5.5: far wider than 1 %).
    # Chunk 2 (doubled to 20): twenty 5.0s. n = 30 → ranks (10, 21) (P(B ≤ 9) = 0.0214,
    # P(B ≤ 10) = 0.0494); sorted: 1..4, then 5.0 at ranks 5..25, then 6..10 → CI [5, 5].
    chunks = []

    def timer(step, n):
        chunks.append(n)
        return [float(v) for v in range(1, 11)] if len(chunks) == 1 else [5.0] * n

    times, why = time_until_stable(lambda: None, timer, iters=None, clock=_fake_clock(0.25))
    assert stats.median_ci_ranks(30) == (10, 21)
    assert why == "converged" and chunks == [10, 20] and len(times) == 30


def test_auto_stops_on_budget_when_never_stable():
    # Alternating 1.0 / 1.1: the median's CI always spans both values (≈ ±5 %), so only the
    # budget stops it. Fake clock: 1 s per reading, budget 3 s → stops at the 3rd check.
    chunks = []

    def timer(step, n):
        chunks.append(n)
        return [1.0 + 0.1 * (i % 2) for i in range(n)]

    _, why = time_until_stable(lambda: None, timer, iters=None, budget_s=3.0, clock=_fake_clock(1.0))
    assert why == "budget" and len(chunks) == 3


def test_fixed_iters():
    times, why = time_until_stable(lambda: None, lambda s, n: [1.0] * n, iters=7)
    assert why == "fixed" and len(times) == 7
