"""The bench sweep on CPU: records, results files, OOM/Ctrl-C handling, train loss, per-layer."""

from __future__ import annotations

import json
import math
import sys
import types
from collections import namedtuple

import pytest
import torch
from torch import nn

import archscope
from archscope.timing import clock, configuration, runner
from archscope.timing.counts import model_counts
from archscope.timing.results import RECORD_FIELDS, SCHEMA, TIMED, load_results, write_results
from archscope.timing.train import AUX_WEIGHT, HeadLoss, training_loss
from archscope.errors import ArchscopeError

# Four iterations give no CI, so these timings are "unstable" (TIMED covers ok, unstable,
# fallback); roofs=False skips the seconds of peak and bandwidth measurement.
FAST = dict(iters=4, warmup=1, roofs=False)


def statuses(records):
    """Each record's status, any timed one as "timed"."""
    return ["timed" if r["status"] in TIMED else r["status"] for r in records]


def test_cpu_bench_lenet5_and_cifar_cnn():
    before = torch.get_num_threads()
    res = archscope.bench(["lenet5", "cifar_cnn"], batch_sizes=[1, 2], threads=1, **FAST)
    assert [(r["model"], r["batch_size"]) for r in res.records] == [
        ("lenet5", 1), ("lenet5", 2), ("cifar_cnn", 1), ("cifar_cnn", 2)]
    for r in res.records:
        assert list(r) == RECORD_FIELDS
        assert r["status"] in TIMED and r["iters"] == 4 and r["stopped"] == "fixed"
        assert r["threads"] == 1 and r["device"] == "cpu" and r["dtype"] == "fp32"
        assert r["graph"] is False and r["compile"] is None and r["mode"] == "infer"
        assert r["min_ms"] <= r["median_ms"] <= r["max_ms"]
        assert r["throughput_items_s"] == pytest.approx(r["batch_size"] * 1000 / r["median_ms"])
    assert res.records[2]["input_shape"] == [1, 3, 32, 32]  # cifar_cnn's own 3×32×32 sample
    assert res.env["threads"] == 1 and res.env["torch"] == torch.__version__
    assert res.settings["iters"] == 4 and res.settings["batch_sizes"] == [1, 2]
    assert torch.get_num_threads() == before  # restored, not left at 1 for the caller
    assert callable(archscope.bench) and callable(archscope.report)  # functions, not packages


def test_results_round_trip_two_files(tmp_path):
    a = archscope.bench("lenet5", batch_sizes=[1, 2], **FAST)
    b = archscope.bench("cifar_cnn", **FAST)
    write_results(tmp_path / "a.json", a.document())
    write_results(tmp_path / "b.json", b.document())
    assert json.loads((tmp_path / "a.json").read_text())["schema"] == SCHEMA
    df = archscope.load_results([tmp_path / "a.json", tmp_path / "b.json"])
    assert len(df) == 3  # 2 records + 1 record
    assert list(df["model"]) == ["lenet5", "lenet5", "cifar_cnn"]
    assert list(df["source"]) == [str(tmp_path / "a.json")] * 2 + [str(tmp_path / "b.json")]
    assert df["env_torch"].eq(torch.__version__).all() and "env_cpu_model" in df
    assert df["median_ms"].tolist()[0] == a.records[0]["median_ms"]


def test_load_results_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ArchscopeError, match="bad.json.*not valid JSON"):
        load_results(bad)
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"schema": "archscope.bench/99", "env": {}, "records": []}))
    with pytest.raises(ArchscopeError, match="future.json.*archscope.bench/99"):
        load_results([future])


def _failing_timer(exc, on_call):
    real = configuration.time_until_stable
    calls = []

    def timer(*a, **k):
        calls.append(1)
        if len(calls) == on_call:
            raise exc
        return real(*a, **k)

    return timer


@pytest.mark.parametrize("exc", [
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory"),
])
def test_oom_is_recorded_and_the_sweep_goes_on(monkeypatch, exc):
    monkeypatch.setattr(configuration, "time_until_stable", _failing_timer(exc, on_call=2))
    res = archscope.bench("lenet5", batch_sizes=[1, 2, 4], **FAST)
    assert statuses(res.records) == ["timed", "oom", "timed"]
    oom = res.records[1]
    assert oom["batch_size"] == 2 and oom["median_ms"] is None and "allocate" in oom["reason"]


def test_unexpected_error_is_recorded_and_the_sweep_goes_on(monkeypatch):
    monkeypatch.setattr(configuration, "time_until_stable",
                        _failing_timer(ValueError("bug\n  on two lines"), on_call=2))
    seen = []
    res = archscope.bench("lenet5", batch_sizes=[1, 2, 4], on_error=lambda rec, exc: seen.append(
        (rec["batch_size"], type(exc).__name__, exc.__traceback__ is not None)), **FAST)
    assert statuses(res.records) == ["timed", "error", "timed"]
    err = res.records[1]
    assert err["reason"] == "ValueError: bug on two lines" and err["median_ms"] is None
    assert seen == [(2, "ValueError", True)]  # the hook sees the live traceback (--debug prints it)


class _FlatBatchNorm(nn.Module):
    """Flatten → Linear(12, 8) → BatchNorm1d(8): in training, BatchNorm1d refuses a batch of 1."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8))

    def forward(self, x):
        return self.net(x)


def test_batchnorm_batch_one_in_training_is_an_error_record():
    res = archscope.bench(_FlatBatchNorm(), mode="train", batch_sizes=[2, 1], input_size=(3, 2, 2), **FAST)
    ok, err = res.records
    assert (ok["batch_size"], ok["status"] in TIMED) == (2, True)
    assert (err["batch_size"], err["status"]) == (1, "error")
    assert err["reason"].startswith("ValueError: Expected more than 1 value per channel when training")
    assert "\n" not in err["reason"] and not res.interrupted


def test_oom_clean_up_runs_after_the_except_block(monkeypatch):
    """While the except block runs, the traceback pins the failed step's frames and tensors;
    freeing memory there frees nothing. The clean-up must see no exception and a dead tensor."""
    import gc
    import weakref

    refs, seen = [], []

    def timer(*a, **k):
        activations = torch.empty(1000)
        refs.append(weakref.ref(activations))
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    real_free = runner.free_memory

    def spy(device):
        gc.collect()
        seen.append((sys.exc_info()[0], refs[0]() is None))
        real_free(device)

    monkeypatch.setattr(configuration, "time_until_stable", timer)
    monkeypatch.setattr(runner, "free_memory", spy)
    res = archscope.bench("lenet5", **FAST)
    assert res.records[0]["status"] == "oom"
    assert seen[0] == (None, True)


def test_every_model_is_checked_before_anything_is_timed(monkeypatch):
    monkeypatch.setattr(configuration, "time_until_stable",
                        lambda *a, **k: pytest.fail("timed before checking"))
    with pytest.raises(ArchscopeError, match="unknown model 'resnt50'"):
        archscope.bench(["lenet5", "resnt50"], **FAST)
    # lenet5 takes 1×32×32 but cifar_cnn 3 channels: the second model's input fails up front
    with pytest.raises(ArchscopeError, match="cifar_cnn"):
        archscope.bench(["lenet5", "cifar_cnn"], input_size="1x32x32", **FAST)


def test_factory_runs_once_and_the_counted_module_is_timed(tmp_path, monkeypatch):
    calls = tmp_path / "calls"
    factory = tmp_path / "net.py"
    factory.write_text(
        "from pathlib import Path\n"
        "from torch import nn\n"
        "def build():\n"
        f"    log = Path({str(calls)!r})\n"
        "    log.write_text(str(int(log.read_text()) + 1) if log.exists() else '1')\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8)), (3, 2, 2)\n")
    counted = []
    real_counts = runner.model_counts

    def spy(model, shape, kwargs=None, dtype="fp32", mode="infer"):
        counted.append(model)
        return real_counts(model, shape, kwargs, dtype, mode)

    monkeypatch.setattr(runner, "model_counts", spy)
    res = archscope.bench(f"{factory}:build", batch_sizes=[1, 2, 4], **FAST)
    assert calls.read_text() == "1"  # not 1 + one per batch size
    assert len(counted) == 3 and all(m is counted[0] and isinstance(m, nn.Module) for m in counted)
    # Linear(12, 8): 12 × 8 = 96 MACs per sample
    assert [(r["batch_size"], r["macs"]) for r in res.records] == [(1, 96), (2, 192), (4, 384)]
    assert statuses(res.records) == ["timed"] * 3


def test_batch_from_the_input_size_when_no_batch_sizes():
    res = archscope.bench("lenet5", input_size="8,1,32,32", **FAST)
    assert [(r["batch_size"], r["input_shape"]) for r in res.records] == [(8, [8, 1, 32, 32])]
    assert res.settings["batch_sizes"] == [8]
    run = archscope.bench("lenet5", input_size="8,1,32,32", batch_sizes=[8], **FAST)
    assert run.records[0]["batch_size"] == 8
    with pytest.raises(ArchscopeError, match="batch 8 but --batch-size is 4"):
        archscope.bench("lenet5", input_size="8,1,32,32", batch_sizes=[4], **FAST)
    assert archscope.bench("lenet5", **FAST).records[0]["batch_size"] == 1  # neither given: 1


@pytest.mark.parametrize("options, message", [
    (dict(threads=0), "--threads 0 must be a whole number ≥ 1; leave it out to use every core"),
    (dict(threads=-2), "--threads -2 must be a whole number ≥ 1"),
    (dict(warmup=-1), "--warmup -1 must be a whole number ≥ 0"),
    (dict(iters=0), "--iters 0 must be a whole number ≥ 1 or 'auto'"),
    (dict(budget_s=0), "--budget 0 must be a finite number of seconds > 0"),
    (dict(budget_s=float("nan")), "--budget nan must be a finite number"),
    (dict(budget_s=float("inf")), "--budget inf must be a finite number"),
    (dict(dtypes=[]), "--dtype needs at least one of fp32, bf16, fp16"),
    (dict(batch_sizes=[]), "--batch-size needs at least one whole number ≥ 1"),
    (dict(batch_sizes=[2, 0]), "--batch-size 0 must be a whole number ≥ 1"),
    (dict(channels_last=[]), "channels_last must be True, False or a list of them"),
    (dict(per_layer=True, mode="train"), "--per-layer times inference forwards only"),
])
def test_bad_options_fail_before_anything_runs(monkeypatch, options, message):
    monkeypatch.setattr(runner, "_prepare", lambda *a, **k: pytest.fail("built a model"))
    with pytest.raises(ArchscopeError) as info:
        archscope.bench("lenet5", **options)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_cuda_n_runs_inside_its_device_context(monkeypatch):
    """cuda:1: streams, events, synchronize and graphs must go to device 1, so everything from
    building to timing runs inside torch.cuda.device(1). Faked: this test needs no GPU."""
    log = []

    class FakeDevice:
        def __init__(self, device):
            self.idx = torch.device(device).index

        def __enter__(self):
            log.append(("enter", self.idx))

        def __exit__(self, *exc):
            log.append(("exit", self.idx))

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "device", FakeDevice)
    monkeypatch.setattr(runner, "environment", lambda device, threads: log.append("env") or {
        "device": device, "device_name": "fake", "threads": threads})
    monkeypatch.setattr(runner, "_prepare", lambda *a, **k: log.append("prepare") or types.SimpleNamespace(
        shapes={1: (1, 1, 32, 32)}, counts={}, make=None, target=None))
    monkeypatch.setattr(runner, "_sweep_model",
                        lambda results, ctx, sw, *a, **k: log.append(("sweep", sw.device)) or 1)
    archscope.bench("lenet5", device="cuda:1", **FAST)
    assert log == [("enter", 1), "env", "prepare", ("sweep", "cuda:1"), ("exit", 1)]
    assert runner.device_context("cpu").__class__.__name__ == "nullcontext"


def test_cuda_index_beyond_the_devices_is_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ArchscopeError, match="'cuda:3' does not exist: this machine has 1 CUDA device"):
        archscope.bench("lenet5", device="cuda:3")


def test_roofs_once_per_math_mode_then_again_at_the_end(monkeypatch):
    from archscope.timing import roofs
    from archscope.timing.bandwidth import Bandwidth
    from archscope.timing.peak import Peak

    calls, copies = [], []
    rates = iter([2.0, 4.0, 2.2, 4.0])  # fp32 and bf16 at the start; at the end fp32 is 10 % up

    def fake_peak(device, mode, name, timer):
        calls.append(mode)
        return Peak(next(rates), None, "fake matmul", 0.01)

    monkeypatch.setattr(roofs, "device_peak", fake_peak)
    monkeypatch.setattr(roofs, "measure_bandwidth", lambda device, timer: copies.append(device)
                        or Bandwidth(5.0, 8.0, 2**20, "fake copy"))
    res = archscope.bench("lenet5", batch_sizes=[1, 2], dtypes=["fp32", "bf16"], iters=4, warmup=1)
    assert calls == ["fp32", "bf16", "fp32", "bf16"]  # four configurations, two peaks, twice
    assert copies == ["cpu"]  # the bandwidth once per run
    for r in res.records:
        peak = {"fp32": 2.0, "bf16": 4.0}[r["dtype"]]
        assert r["peak_tflops"] == peak and r["peak_source"] == "fake matmul"
        assert r["bandwidth_gbs"] == 8.0  # the better of copy and triad
        # LeNet-5: 416,520 MACs per sample → 2 × MACs × batch FLOPs per median
        achieved = 2 * 416_520 * r["batch_size"] / (r["median_ms"] / 1000) / 1e12
        assert r["tflops_from_macs"] == pytest.approx(achieved)
        assert r["peak_share"] == pytest.approx(achieved / peak)
        # ridge = 1000 × peak TFLOP/s / 8 GB/s FLOPs per byte; below it memory-bound
        assert r["intensity"] == r["flops"] / r["bytes_moved"]
        assert r["bound"] == ("memory-bound" if r["intensity"] < 1000 * peak / 8 else "compute-bound")
    rows = {r["math"]: r for r in res.roofs}
    assert rows["fp32"]["ridge_flop_per_byte"] == pytest.approx(250.0)  # 1000 × 2 / 8
    assert rows["fp32"]["peak_drift"] == pytest.approx(0.1) and rows["bf16"]["peak_drift"] == 0
    assert [n for n in res.notes if "drifted" in n] == [
        "the fp32 peak on cpu drifted +10.0 % during the sweep (2 → 2.2 TFLOP/s): clocks or load "
        "changed, so compare peak_pct between rows with care"]
    assert res.document()["roofs"] == res.roofs


def test_unsupported_dtype_is_skipped(monkeypatch):
    exc = RuntimeError('"slow_conv2d_cpu" not implemented for \'Half\'')
    monkeypatch.setattr(configuration, "time_until_stable", _failing_timer(exc, on_call=1))
    res = archscope.bench("lenet5", dtypes=["fp16", "fp32"], **FAST)
    assert [r["dtype"] for r in res.records] == ["fp16", "fp32"]
    assert statuses(res.records) == ["skipped", "timed"]
    assert "not implemented for 'Half'" in res.records[0]["reason"]


def test_ctrl_c_keeps_results_so_far(monkeypatch):
    monkeypatch.setattr(configuration, "time_until_stable", _failing_timer(KeyboardInterrupt(), on_call=2))
    res = archscope.bench("lenet5", batch_sizes=[1, 2, 4], **FAST)
    assert res.interrupted and [r["batch_size"] for r in res.records] == [1]
    assert res.document()["interrupted"] is True


def test_ctrl_c_while_loading_returns_an_empty_interrupted_run(monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_prepare", interrupted)
    res = archscope.bench("lenet5", **FAST)
    assert res.interrupted and res.records == [] and res.env["device"] == "cpu"


def test_bad_names():
    with pytest.raises(ArchscopeError,
                       match=r"unknown dtype 'fp8' \(did you mean fp32, fp16\?\); use fp32, bf16, fp16"):
        archscope.bench("lenet5", dtypes="fp8")
    with pytest.raises(ArchscopeError, match="unknown device 'tpu'"):
        archscope.bench("lenet5", device="tpu")
    with pytest.raises(ArchscopeError, match="--cuda-graphs needs --device cuda"):
        archscope.bench("lenet5", cuda_graphs=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_cuda():
    with pytest.raises(ArchscopeError, match="needs CUDA.*use --device cpu"):
        archscope.bench("lenet5", device="cuda")


Heads = namedtuple("Heads", "logits aux_logits1 aux_logits2")


def test_training_loss_weights_aux_heads():
    out = Heads(torch.tensor([1.0]), torch.tensor([10.0]), torch.tensor([100.0]))
    loss = training_loss(out, lambda t: t.sum())
    assert loss.item() == pytest.approx(1 + 0.3 * 10 + 0.3 * 100)  # main + 0.3·aux1 + 0.3·aux2 = 34
    assert AUX_WEIGHT == 0.3
    assert training_loss(torch.tensor([2.0]), lambda t: t.sum()).item() == 2.0  # no aux heads
    # Eval-style None aux entries are ignored: 1 + 0.3 × 10 = 4
    loss = training_loss((torch.tensor([1.0]), None, torch.tensor([10.0])), lambda t: t.sum())
    assert loss.item() == pytest.approx(4.0)


def test_head_loss_cross_entropy_of_uniform_logits():
    # Equal logits over C classes: softmax = 1/C for every class, so CE = ln C for any target.
    assert HeadLoss()(torch.zeros(2, 4)).item() == pytest.approx(math.log(4))
    assert HeadLoss()(torch.full((1, 2, 3), 2.0)).item() == 4.0  # non-logit output: mean of squares


class _FakeGoogLeNet(nn.Module):
    """Returns (logits, aux1, aux2) like the zoo GoogLeNet in train mode."""

    def __init__(self):
        super().__init__()
        self.main, self.aux1, self.aux2 = nn.Linear(4, 3), nn.Linear(4, 3), nn.Linear(4, 3)

    def forward(self, x):
        x = x.flatten(1)
        return Heads(self.main(x), self.aux1(x), self.aux2(x)) if self.training else self.main(x)


def test_train_mode_uses_aux_heads(monkeypatch):
    seen = []
    real = configuration.training_loss

    def spy(output, head_loss):
        seen.append(type(output).__name__)
        return real(output, head_loss)

    monkeypatch.setattr(configuration, "training_loss", spy)
    model = _FakeGoogLeNet()
    res = archscope.bench(model, mode="train", input_size=(1, 2, 2), **FAST)
    assert res.records[0]["status"] in TIMED and res.records[0]["mode"] == "train"
    assert seen and set(seen) == {"Heads"}
    assert model.training is True and model.main.weight.grad is None  # caller's model untouched


def test_train_mode_googlenet_224():
    # The zoo GoogLeNet's aux heads need the 224 input (14×14 map → 5×5/3 pool → 4×4).
    res = archscope.bench("googlenet", mode="train", iters=1, warmup=0, roofs=False)
    assert res.records[0]["status"] in TIMED and res.records[0]["iters"] == 1


def test_train_mode_divides_the_counted_step_not_three_forwards():
    # LeNet-5 at batch 2: forward 2 · 416,520 MACs. Backward: every layer's weight gradient
    # (again 2 · 416,520) and every input gradient but C1's (the image needs none):
    # 2 · (416,520 − 117,600). So the step is 2 · (3 · 416,520 − 117,600) MACs, not 3 × forward.
    res = archscope.bench("lenet5", mode="train", batch_sizes=[2], **FAST)
    rec = res.records[0]
    assert rec["macs"] == 2 * (3 * 416_520 - 117_600)
    assert rec["flops_per_iter"] == rec["flops"] != 3 * 2 * 852_370
    assert any("counted forward and backward" in n for n in res.notes)


def test_compile_variant_is_timed_apart(monkeypatch):
    compiled = []
    real = torch.compile

    def eager_compile(model, mode=None, dynamic=None):
        compiled.append((mode, dynamic))
        return real(model, backend="eager", dynamic=dynamic)  # dynamo for real, no code generation

    monkeypatch.setattr(torch, "compile", eager_compile)
    res = archscope.bench("lenet5", compile=True, compile_mode="max-autotune", **FAST)
    eager, comp = res.records
    assert compiled == [("max-autotune", False)]
    assert eager["compile"] is None and eager["compile_s"] is None
    assert comp["compile"] == "max-autotune" and comp["compile_s"] > 0 and comp["status"] in TIMED
    assert comp["compile_graphs"] == 1 and comp["compile_graph_breaks"] == 0


def test_no_compile_unless_asked(monkeypatch):
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("torch.compile called"))
    assert archscope.bench("lenet5", **FAST).records[0]["status"] in TIMED


def test_model_counts_from_the_counting_engine():
    c = model_counts("lenet5", (8, 1, 32, 32), {"num_classes": 10})
    # LeNet-5: 416,520 MACs per sample (see test_flops), 8 samples
    assert c.macs == 8 * 416_520
    # C1 at batch 8: 8 * 28*28*6*25
    assert c.per_layer_macs["features.c1"] == 8 * 117_600
    assert c.flops > 2 * c.macs


def test_cuda_events_one_sync(monkeypatch):
    """time_cuda records an event pair per iteration and synchronizes once, after the loop."""
    log = []

    class Event:
        n = 0

        def __init__(self, enable_timing=False):
            assert enable_timing
            Event.n += 1
            self.id = Event.n

        def record(self, stream=None):
            log.append(("record", self.id))

        def elapsed_time(self, end):
            return float(end.id - self.id)  # ms, fake

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "current_stream", lambda: "stream")
    monkeypatch.setattr(torch.cuda, "synchronize", lambda: log.append(("sync",)))
    times = clock.time_cuda(lambda: log.append(("step",)), 3)
    # Events 1..3 are starts, 4..6 ends: elapsed = end.id − start.id = 3 each.
    assert times == [3.0, 3.0, 3.0]
    assert log == [("record", 1), ("step",), ("record", 4), ("record", 2), ("step",), ("record", 5),
                   ("record", 3), ("step",), ("record", 6), ("sync",)]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_bench_eager_and_graph():
    res = archscope.bench("lenet5", device="cuda", batch_sizes=[1, 8], cuda_graphs=True, **FAST)
    assert [(r["batch_size"], r["graph"]) for r in res.records] == [
        (1, False), (1, True), (8, False), (8, True)]
    assert statuses(res.records) == ["timed"] * 4
    assert all(r["peak_mem_bytes"] > 0 for r in res.records)
    assert res.env["sm_count"] > 0


class _Probe(nn.Module):
    """Records (weight dtype, output dtype) of every forward, on the class: the bench times copies."""

    seen: list = []

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(12, 4)

    def forward(self, x):
        out = self.lin(x.flatten(1))
        _Probe.seen.append((self.lin.weight.dtype, out.dtype))
        return out


def test_amp_autocasts_beside_the_cast_model():
    _Probe.seen.clear()
    res = archscope.bench(_Probe(), input_size=(3, 2, 2), dtypes=["fp32", "bf16"], amp=True, **FAST)
    assert [(r["dtype"], r["amp"]) for r in res.records] == [
        ("fp32", False), ("bf16", False), ("bf16", True)]
    # .to(bf16): bf16 weights and outputs; autocast: fp32 weights, the linear computes in bf16
    assert set(_Probe.seen) == {(torch.float32, torch.float32), (torch.bfloat16, torch.bfloat16),
                                (torch.float32, torch.bfloat16)}
    assert res.settings["amp"] is True
    with pytest.raises(ArchscopeError, match="--amp autocasts to bf16 or fp16; add one with --dtype"):
        archscope.bench("lenet5", amp=True, **FAST)


def test_fp16_amp_training_scales_the_loss(monkeypatch):
    steps = []
    real = torch.amp.GradScaler.step

    def counting_step(self, optimizer, *args, **kwargs):
        steps.append(type(optimizer).__name__)
        return real(self, optimizer, *args, **kwargs)

    monkeypatch.setattr(torch.amp.GradScaler, "step", counting_step)
    res = archscope.bench(_Probe(), mode="train", input_size=(3, 2, 2), batch_sizes=[2],
                          dtypes=["fp16"], amp=True, **FAST)
    amp_rows = [r for r in res.records if r["amp"]]
    assert amp_rows and all(r["status"] in TIMED for r in amp_rows), res.records
    assert steps and set(steps) == {"SGD"}  # the fp16 amp step went through GradScaler
    steps.clear()
    archscope.bench(_Probe(), mode="train", input_size=(3, 2, 2), batch_sizes=[2],
                    dtypes=["bf16"], amp=True, **FAST)
    assert steps == []  # bf16 needs no loss scaling
