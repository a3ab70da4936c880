"""Per-layer time from torch.profiler: each operator charged once, to the module call that ran
it, a block's own work (residual add, cat) included; hook timing only as a labelled fallback."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest
import torch
from torch import nn

import archscope
from archscope.timing import layers
from archscope.timing.results import TraceFiles
from archscope.timing.scoped import quiet_profiler_log

FAST = dict(iters=4, warmup=1, roofs=False)

# LeNet-5 MACs at batch 1, by hand (out_channels × H_out × W_out × in_channels × k²; in × out):
LENET_MACS = {
    "features.c1": 6 * 28 * 28 * 1 * 25,  # 117,600
    "features.c3": 16 * 10 * 10 * 6 * 25,  # 240,000
    "features.c5": 120 * 1 * 1 * 16 * 25,  # 48,000
    "classifier.f6": 120 * 84,  # 10,080
    "classifier.output": 84 * 10,  # 840
}


def test_per_layer_rows_from_the_profiler():
    total = sum(LENET_MACS.values())  # 416,520
    rec = archscope.bench("lenet5", per_layer=True, **FAST).records[0]
    rows = {r["layer"]: r for r in rec["per_layer"]}
    for layer, macs in LENET_MACS.items():
        assert rows[layer]["macs"] == macs and rows[layer]["mac_share"] == macs / total
        assert rows[layer]["time_ms"] > 0 and rows[layer]["calls"] == 1
    c1 = rows["features.c1"]
    # conv 1→6, 5×5 on 32×32: reads the 1×32×32 input (4,096 B) and 6·25 + 6 = 156 parameters
    # (624 B), writes 6×28×28 outputs (18,816 B), fp32 → 23,536 bytes
    assert c1["bytes_moved"] == 4096 + 624 + 18816
    assert c1["intensity"] == c1["flops"] / c1["bytes_moved"]
    assert c1["gflop_s"] == pytest.approx(c1["flops"] / c1["time_ms"] / 1e6)
    assert rec["per_layer_source"].startswith("torch.profiler: wall time of each operator")
    assert rec["layers_sum_ms"] == pytest.approx(sum(r["time_ms"] or 0 for r in rows.values()))
    assert rec["layers_sum_ms"] <= rec["layers_pass_ms"]
    assert rec["unattributed_ms"] == pytest.approx(rec["layers_pass_ms"] - rec["layers_sum_ms"])


def test_a_blocks_own_residual_add_has_a_row():
    rec = archscope.bench("basic_block", per_layer=True, **FAST).records[0]
    rows = {r["layer"]: r for r in rec["per_layer"]}
    block = rows["(model)"]  # the block itself: its `out += identity` between its children
    assert block["type"] == "BasicBlock" and block["time_ms"] > 0 and block["macs"] == 0
    assert block["flops"] == 256 * 56 * 56  # one add per output element
    assert rows["conv1"]["macs"] == rows["conv2"]["macs"] == 56 * 56 * 256 * 9 * 256
    assert rows["relu"]["calls"] == 2  # one ReLU module, called twice per forward


@pytest.mark.slow
def test_resnet18_every_leaf_and_block_has_a_row_and_the_sum_is_the_forward():
    rec = archscope.bench("resnet18", batch_sizes=[8], threads=1, per_layer=True, iters=5,
                          warmup=1, roofs=False).records[0]
    rows = {r["layer"]: r for r in rec["per_layer"]}
    model = archscope.build("resnet18")
    leaves = [p for p, m in model.named_modules() if not list(m.children())]
    blocks = [p for p, m in model.named_modules() if type(m).__name__ == "BasicBlock"]
    assert len(blocks) == 8
    missing = [p for p in leaves + blocks if not (rows.get(p) or {}).get("time_ms")]
    assert missing == []
    # every operator of the forward is charged to some module: the rows add up to the forward
    # they were measured in (the unprofiled median is another run: on a shared machine the load
    # between the two can move it more than the attribution ever misses)
    assert rec["layers_sum_ms"] == pytest.approx(rec["layers_pass_ms"], rel=0.15)


@dataclass
class Ev:
    name: str
    cpu_parent: "Ev | None" = None
    cpu_time_total: float = 0.0  # µs
    device_time_total: float = 0.0


def _events(scale: float = 1.0):
    root = Ev("archscope::(model)")
    block = Ev("archscope::block", root)
    conv_range = Ev("archscope::block.conv", block)
    conv = Ev("aten::conv2d", conv_range, 100 * scale, 40)
    inner = Ev("aten::convolution", conv, 90 * scale, 40)  # inside conv2d: not counted again
    add = Ev("aten::add", block, 5 * scale, 2)
    enter = Ev("profiler::_record_function_enter_new", block, 1)
    flat = Ev("aten::flatten", root, 2 * scale, 0)
    outside = Ev("aten::randn", None, 7 * scale, 0)
    return [root, block, conv_range, conv, inner, add, enter, flat, outside]


def test_attribute_charges_each_outermost_operator_to_its_innermost_module():
    own, calls, outside = layers.attribute(_events(), cuda=False, passes=1)
    # µs → ms: conv2d 100 µs to the conv, the block's own add 5 µs, the root's flatten 2 µs
    assert own == {"block.conv": 0.1, "block": 0.005, "(model)": 0.002}
    assert calls == {"(model)": 1, "block": 1, "block.conv": 1}
    assert outside == pytest.approx(0.007)
    # two passes: times averaged per forward, calls per forward
    own, calls, _ = layers.attribute(_events() + _events(3.0), cuda=False, passes=2)
    assert own["block.conv"] == pytest.approx((100 + 300) / 2 / 1000)
    assert calls["block"] == 1
    # CUDA: the GPU time of the kernels each operator launched
    own, _, _ = layers.attribute(_events(), cuda=True, passes=1)
    assert own == {"block.conv": 0.04, "block": 0.002, "(model)": 0.0}


def _hooks(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hooks_are_removed_and_a_failed_forward_closes_its_ranges():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    x = torch.randn(2, 3)
    prof = layers.profile_layers(model, lambda: model(x), "cpu", passes=2)
    assert {"0", "1", "2.0"} <= set(prof.own_ms) and _hooks(model) == 0
    hooked = layers.hook_layers(model, lambda: model(x), "cpu", passes=2)
    assert set(hooked.own_ms) == {"0", "1", "2.0"} and _hooks(model) == 0
    with pytest.raises(RuntimeError):
        with layers.module_ranges(model):
            model(torch.randn(2, 4))  # wrong width: raises inside the first Linear
    assert _hooks(model) == 0


def test_hook_timing_is_only_a_labelled_fallback(monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("kineto is not available")

    monkeypatch.setattr(layers, "profile_layers", broken)
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
    out = layers.time_layers(model, lambda: model(torch.randn(2, 3)), "cpu", passes=2)
    assert out.source.startswith("hooks (fallback: torch.profiler failed, RuntimeError: kineto is "
                                 "not available); each leaf timed alone")
    assert set(out.own_ms) == {"0", "1"}


def test_trace_files_are_written_and_never_replaced(tmp_path):
    (tmp_path / "t.json").write_text("an earlier trace")
    traces = TraceFiles(tmp_path / "t.json")
    res = archscope.bench("lenet5", batch_sizes=[1, 2], per_layer=True, trace=traces, **FAST)
    assert [r["trace_file"] for r in res.records] == [str(tmp_path / "t-2.json"),
                                                      str(tmp_path / "t-3.json")]
    assert (tmp_path / "t.json").read_text() == "an earlier trace"
    trace = json.loads((tmp_path / "t-2.json").read_text())
    names = {e.get("name") for e in trace["traceEvents"]}
    assert "archscope::features.c1" in names and "aten::conv2d" in names
    assert sorted(os.listdir(tmp_path)) == ["t-2.json", "t-3.json", "t.json"]  # no temporaries


def test_kineto_chatter_is_kept_off_stderr(capfd):
    with quiet_profiler_log():
        os.write(2, b"USDT:2026-12-06 12:18:35 10176:10176 SyncActivityProfilerHandler.cpp:52] "
                    b"profiler_start\n")
        os.write(2, b"a real warning\n")
    assert capfd.readouterr().err == "a real warning\n"
