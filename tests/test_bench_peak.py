"""The measured peak: a dense matmul timed with the bench's own clock (fake clocks here: exact
figures; the CUDA test runs only where a GPU is present)."""

from __future__ import annotations

import pytest
import torch

from archscope.bench import peak


def test_matmul_rate():
    # 2 × 1024³ = 2,147,483,648 FLOP in 2 ms → 1.073741824 × 10¹² FLOP/s
    assert peak.matmul_rate(1024, 2.0) == pytest.approx(1.073741824)
    assert peak.matmul_rate(4096, 1.0) == pytest.approx(137.438953472)  # 2 × 4096³ / 1 ms


def test_cpu_peak_takes_the_best_size():
    sizes = []

    def timer(step, iters):
        sizes.append(iters)
        step()  # a real multiply, to prove the step runs
        return [2.0, 1.0, 3.0][:iters]  # median 2 ms at every size

    rate, n, iters = peak.measure_matmul("cpu", "fp32", timer, "fp32")
    # Same 2 ms at n = 256, 512, 1024: the largest n does the most work in it.
    assert (n, iters) == (1024, 3) and rate == pytest.approx(1.073741824)
    assert sizes == [3, 3, 3]


def test_cpu_peak_stops_growing_when_slow():
    calls = []

    def timer(step, iters):
        calls.append(iters)
        return [60.0] * iters  # over the 50 ms limit: 512 and 1024 are not tried

    rate, n, _ = peak.measure_matmul("cpu", "fp16", timer, "fp16")
    # 2 × 256³ = 33,554,432 FLOP in 60 ms → 5.592405333… × 10⁻⁴ TFLOP/s
    assert n == 256 and len(calls) == 1 and rate == pytest.approx(33_554_432 / 0.06 / 1e12)


def test_device_peak_records_its_source_and_survives_failure():
    p = peak.device_peak("cpu", "fp32", "AMD EPYC", lambda step, n: [2.0] * n)
    assert p.measured == pytest.approx(1.073741824) and p.datasheet is None and p.best == p.measured
    assert p.source == "measured: median of 3 1024x1024x1024 fp32 matmuls (perf_counter_ns)"

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
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    p = peak.device_peak("cuda:0", "fp32", "NVIDIA H100 NVL", None)
    assert (p.measured, p.datasheet, p.best) == (None, 417.5, 417.5)  # fp32 convs run in TF32
    assert p.source.endswith("; peak_share uses the datasheet figure")


def test_math_mode(monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", True)
    assert peak.math_mode("cuda", "fp32") == "tf32" and peak.math_mode("cpu", "fp32") == "fp32"
    assert peak.math_mode("cuda:1", "bf16") == "bf16"
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    assert peak.math_mode("cuda", "fp32") == "fp32"


def test_ctrl_c_is_not_swallowed():
    def interrupted(step, n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        peak.device_peak("cpu", "fp32", None, interrupted)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_peak_is_measured_and_restores_tf32():
    from archscope.bench.timing import time_cuda

    saved = torch.backends.cuda.matmul.allow_tf32
    p = peak.device_peak("cuda", "fp32", torch.cuda.get_device_name(), time_cuda)
    assert p.measured and p.measured > 0 and "4096x4096x4096" in p.source
    assert torch.backends.cuda.matmul.allow_tf32 == saved
    bf = peak.device_peak("cuda", "bf16", torch.cuda.get_device_name(), time_cuda)
    if torch.cuda.is_bf16_supported():
        assert bf.measured > p.measured / 4  # bf16 tensor cores are not slower than fp32's
