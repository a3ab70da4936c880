"""The compute roof: a warm dense matmul timed with the bench's own clock (fake timers here give
exact figures; the real measurement is checked against numpy in test_bench_roofs.py, and on a
GPU by the CUDA test)."""

from __future__ import annotations

import pytest
import torch

from archscope.timing import peak
from archscope.timing.scoped import tf32


def test_matmul_rate():
    # 2 × 1024³ = 2,147,483,648 FLOP in 2 ms → 1.073741824 × 10¹² FLOP/s
    assert peak.matmul_rate(1024, 2.0) == pytest.approx(1.073741824)
    assert peak.matmul_rate(4096, 1.0) == pytest.approx(137.438953472)  # 2 × 4096³ / 1 ms


def test_cpu_peak_takes_the_best_size_after_enough_multiplies():
    chunks = []

    def timer(step, iters):
        chunks.append(iters)
        return _two_ms(step, iters)  # 2 ms at every size

    rate, n, iters, ci, tried = peak.measure_matmul("cpu", "fp32", timer)
    # The same 2 ms at every size: the largest, n = 2048, does the most work in it:
    # 2 × 2048³ FLOP / 2 ms = 8.589934592 TFLOP/s
    assert tried == [256, 512, 1024, 2048] and n == 2048
    assert rate == pytest.approx(8.589934592) and ci == 0.0
    assert iters >= peak.MIN_ITERS and all(c >= 1 for c in chunks)


def test_cpu_peak_stops_growing_when_a_multiply_is_slow():
    def timer(step, iters):
        return [60.0] * iters  # over the 50 ms limit: 512 and larger are not tried

    rate, n, _, _, tried = peak.measure_matmul("cpu", "fp16", timer)
    # 2 × 256³ = 33,554,432 FLOP in 60 ms → 5.592405333… × 10⁻⁴ TFLOP/s
    assert tried == [256] and n == 256 and rate == pytest.approx(33_554_432 / 0.06 / 1e12)


def _two_ms(step, iters):
    step()  # real work, so the loop's clock advances as it would
    return [2.0] * iters


def test_device_peak_records_its_source_and_survives_failure():
    p = peak.device_peak("cpu", "fp32", "AMD EPYC", _two_ms)
    assert p.measured == pytest.approx(8.589934592) and p.datasheet is None and p.best == p.measured
    assert p.source.startswith("measured warm: 2048x2048x2048 fp32 matmul, median of ")
    assert p.source.endswith("(perf_counter_ns, CI ±0.0 %), the best of n = 256, 512, 1024, 2048")

    def broken(step, n):
        raise RuntimeError("addmm_impl_cpu_ not implemented for 'Half'")

    p = peak.device_peak("cpu", "fp16", "AMD EPYC", broken)
    assert p.measured is None and p.best is None
    assert p.source == ("matmul peak not measured (RuntimeError: addmm_impl_cpu_ not implemented "
                        "for 'Half')")


def test_datasheet_is_the_fallback_on_a_known_gpu(monkeypatch):
    def broken(*a, **k):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(peak, "measure_matmul", broken)
    p = peak.device_peak("cuda:0", "tf32", "NVIDIA H100 NVL", None)
    assert (p.measured, p.datasheet, p.best) == (None, 417.5, 417.5)
    assert p.source.endswith("; peak_share uses the datasheet figure")


def test_math_modes_follow_each_tf32_switch_apart():
    # PyTorch's defaults: cuDNN may use TF32 for convolutions, matmuls stay strict fp32.
    with tf32(matmul=False, cudnn=True):
        assert peak.math_modes("cuda", "fp32") == {"conv": "tf32", "matmul": "fp32"}
        assert peak.math_modes("cpu", "fp32") == {"conv": "fp32", "matmul": "fp32"}
        assert peak.math_modes("cuda:1", "bf16") == {"conv": "bf16", "matmul": "bf16"}
    with tf32(matmul=True, cudnn=False):
        assert peak.math_modes("cuda", "fp32") == {"conv": "fp32", "matmul": "tf32"}


def test_combined_peak_holds_each_part_to_its_own_roof():
    # 3 G conv MACs at 400 TFLOP/s and 1 G other MACs at 50: 4 G / (3 G / 400 + 1 G / 50)
    # = 4 / (0.0075 + 0.02) = 145.45… TFLOP/s
    assert peak.combined_peak(3 * 10**9, 10**9, 400.0, 50.0) == pytest.approx(4 / 0.0275)
    assert peak.combined_peak(10**9, 0, 400.0, None) == 400.0  # nothing at the missing roof
    assert peak.combined_peak(10**9, 10**9, 400.0, None) is None


def test_ctrl_c_is_not_swallowed():
    def interrupted(step, n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        peak.device_peak("cpu", "fp32", None, interrupted)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_peak_is_measured_warm_and_restores_tf32():
    from archscope.timing.clock import time_cuda

    saved = torch.backends.cuda.matmul.allow_tf32
    name = torch.cuda.get_device_name()
    strict = peak.device_peak("cuda", "fp32", name, time_cuda)
    assert strict.measured and strict.measured > 0 and "fp32 matmul" in strict.source
    assert torch.backends.cuda.matmul.allow_tf32 == saved
    fast = peak.device_peak("cuda", "tf32", name, time_cuda)
    assert fast.measured > strict.measured  # tensor cores: TF32 beats strict fp32
    if torch.cuda.get_device_capability()[0] >= 8:
        bf = peak.device_peak("cuda", "bf16", name, time_cuda)
        assert bf.measured > fast.measured


def test_a_noisy_size_does_not_set_the_peak():
    # n = 256: a steady 1 ms. n = 512: six multiplies spread from 1 to 3 ms (median 2 ms, CI the
    # whole range, ±100 %) before its 0.3 s are spent; its rate, 2 × 512³ / 2 ms = 134 GFLOP/s,
    # beats 256's 2 × 256³ / 1 ms = 33.6 GFLOP/s, but only by chance.
    import time

    def timer(step, iters):
        if step.__defaults__[0].shape[0] == 256:
            return [1.0] * iters
        time.sleep(peak.SIZE_BUDGET_S)  # the budget runs out on the first chunk
        return [1.0, 1.5, 2.0, 2.0, 2.5, 3.0][:iters]

    rate, n, _, ci, tried = peak.measure_matmul("cpu", "fp32", timer, sizes=(256, 512))
    assert tried == [256, 512] and n == 256 and ci == 0.0
    assert rate == pytest.approx(2 * 256**3 / 1e-3 / 1e12)
