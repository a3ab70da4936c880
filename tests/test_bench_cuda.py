"""The CUDA paths on a real GPU (``pytest -m cuda``): no mocks, real kernels, real clocks.

Each test checks what a GPU user relies on: a graph replay computes what eager computes, CUDA
events agree with the wall clock, inductor beats eager where it should, every variant yields a
trusted (``ok``) record, a variant's peak memory is its own, and ``cuda:0`` is a device. They
skip cleanly where torch sees no GPU. ``benchmarks/gpu_proof.sh`` runs them on the H100.
"""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

import archscope
from archscope.timing.configuration import capture
from archscope.timing.clock import time_cuda

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _model(name: str, dtype=torch.float32, channels_last: bool = False):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    return archscope.build(name).to(device="cuda", dtype=dtype, memory_format=fmt).eval()


def test_graph_replay_equals_eager():
    model = _model("resnet18")
    x = torch.randn(8, 3, 224, 224, device="cuda")
    with torch.inference_mode():
        replay, out = capture(lambda: model(x), lambda: model(x), warmup=2)
        x.copy_(torch.randn_like(x))  # a new input in the captured buffer
        replay()
        expected = model(x)
        torch.cuda.synchronize()
    assert out.shape == expected.shape == (8, 1000)
    torch.testing.assert_close(out, expected, rtol=1e-3, atol=1e-3)


def test_event_times_agree_with_the_wall_clock():
    model = _model("resnet50", torch.bfloat16, channels_last=True)
    x = torch.randn(64, 3, 224, 224, device="cuda", dtype=torch.bfloat16).contiguous(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        for _ in range(10):
            model(x)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        times = time_cuda(lambda: model(x), 50)  # one synchronize, after the 50
        wall_ms = (time.perf_counter() - t0) * 1000
    # the GPU is busy throughout, so the events' intervals tile the wall-clock window
    assert sum(times) == pytest.approx(wall_ms, rel=0.05)


def test_compile_beats_eager_on_resnet50_at_batch_256():
    res = archscope.bench("resnet50", device="cuda", batch_sizes=[256], dtypes=["bf16"],
                          channels_last=True, compile=True, budget_s=1.0, roofs=False)
    eager, compiled = res.records
    assert eager["status"] == "ok" and compiled["status"] == "ok", (eager, compiled)
    assert compiled["compile_graphs"] >= 1 and compiled["compile_s"] > 0
    assert compiled["median_ms"] < eager["median_ms"]


def test_every_variant_gives_a_trusted_record():
    res = archscope.bench("resnet18", device="cuda", batch_sizes=[64], dtypes=["fp32", "bf16"],
                          channels_last=[False, True], amp=True, cuda_graphs=True,
                          per_layer=True, budget_s=0.5)
    assert len(res.records) == 3 * 2 * 2  # (fp32, bf16, bf16 amp) × layouts × (eager, graph)
    assert [r["status"] for r in res.records] == ["ok"] * 12, [r["reason"] for r in res.records]
    eager = [r for r in res.records if not r["graph"]]
    assert all(r["per_layer"] and r["per_layer_source"].startswith("torch.profiler: GPU time")
               for r in eager)
    assert all(r["peak_tflops"] and r["bandwidth_gbs"] for r in res.records)
    train = archscope.bench("resnet18", device="cuda", mode="train", batch_sizes=[32],
                            dtypes=["bf16"], budget_s=0.5, roofs=False)
    assert train.records[0]["status"] == "ok", train.records[0]["reason"]


class _Greedy(nn.Module):
    """Takes 2 GiB for a moment in every eager forward, nothing while a CUDA graph captures."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 64)

    def forward(self, x):
        if not torch.cuda.is_current_stream_capturing():
            torch.empty(2**29, device=x.device)  # 2 GiB of fp32, freed at once
        return self.lin(x.flatten(1))


def test_graph_peak_memory_excludes_the_eager_warm_up():
    res = archscope.bench(_Greedy(), device="cuda", input_size=(4, 4, 4), cuda_graphs=True,
                          iters=20, warmup=2, roofs=False)
    eager, graph = res.records
    assert eager["peak_mem_bytes"] >= 2**31
    assert graph["peak_mem_bytes"] < 2**30  # its replays only, though eager warm-ups came first


def test_cuda_0_is_a_device():
    res = archscope.bench("lenet5", device="cuda:0", batch_sizes=[8], roofs=False)
    assert res.records[0]["device"] == "cuda:0" and res.records[0]["status"] == "ok"


def test_per_layer_kernel_time_adds_up_to_the_forward():
    rec = archscope.bench("resnet50", device="cuda", batch_sizes=[64], dtypes=["bf16"],
                          per_layer=True, budget_s=1.0, roofs=False).records[0]
    # kernels of every module's operators against the event-timed forward
    assert rec["layers_sum_ms"] == pytest.approx(rec["layers_pass_ms"], rel=0.10), rec["unattributed_ms"]


def test_nvml_state_and_energy_when_available():
    pytest.importorskip("pynvml")
    rec = archscope.bench("resnet18", device="cuda", batch_sizes=[64], budget_s=2.0,
                          roofs=False).records[0]
    assert rec["gpu_sm_clock_mhz"] > 0 and rec["gpu_temp_c"] > 0 and rec["gpu_power_w"] > 0
    assert rec["gpu_throttle"] is not None
    assert rec["energy_j_per_item"] > 0 and rec["power_w"] > rec["idle_power_w"] > 0
