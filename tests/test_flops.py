"""MACs and FLOPs: hand-derived figures, both engines, categories, and the CLI."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
import torch
from torch import nn

from archscope.analysis.flops import flop_report
from archscope.analysis.record import record_model
from archscope.models import materialize
from archscope.cli import app
from archscope.zoo import list_models


def tiny():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # out 8x8x8 = 512; MACs 512*27 = 13,824; bias 512
        nn.BatchNorm2d(8),  # norm 2*512 = 1,024
        nn.ReLU(),  # activation 512
        nn.MaxPool2d(2),  # out 8x4x4 = 128; pool 128*(4-1) = 384
        nn.Flatten(),
        nn.Linear(128, 10),  # MACs 1,280; bias 10
    )


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1, bias=False)  # out 4x5x5 = 100; MACs 100*4 = 400

    def forward(self, x):
        return x + self.conv(x)  # elementwise 100, charged to the block itself


@pytest.mark.parametrize("engine", ["fvcore", "meta"])
def test_tiny_exact_categories(engine):
    rep = flop_report(tiny(), (3, 8, 8), engine=engine)
    t = rep.total
    assert t["macs"] == 13_824 + 1_280
    assert t["other_flops"] == {"bias": 512 + 10, "norm": 1_024, "pool": 384, "activation": 512}
    # FLOPs = 2 × MACs + other FLOPs
    assert t["flops"] == 2 * (13_824 + 1_280) + 522 + 1_024 + 384 + 512
    assert rep.rows["macs"].sum() == t["macs"] and rep.rows["flops"].sum() == t["flops"]


@pytest.mark.parametrize("engine", ["fvcore", "meta"])
def test_residual_add_gets_its_own_row(engine):
    rows = flop_report(Residual(), (4, 5, 5), engine=engine).rows.set_index("layer")
    assert rows.loc["conv", "macs"] == 400
    assert rows.loc["(model)", "other_flops"] == {"elementwise": 100}


@pytest.mark.parametrize("engine", ["fvcore", "meta"])
def test_lenet5_and_vgg16_macs(engine):
    # LeNet-5: C1 28*28*6*25 = 117,600; C3 10*10*16*150 = 240,000; C5 120*400 = 48,000;
    # F6 120*84 = 10,080; output 84*10 = 840 → 416,520
    assert flop_report("lenet5", engine=engine).total["macs"] == 416_520
    # VGG-16 at 224: Σ over the 13 convs of H·W·Cout·9·Cin + FCs 25088*4096 + 4096*4096 + 4096*1000
    convs = [(224, 3, 64), (224, 64, 64), (112, 64, 128), (112, 128, 128), (56, 128, 256),
             (56, 256, 256), (56, 256, 256), (28, 256, 512), (28, 512, 512), (28, 512, 512),
             (14, 512, 512), (14, 512, 512), (14, 512, 512)]
    expected = sum(h * h * co * 9 * ci for h, ci, co in convs) + 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert expected == 15_470_264_320
    if engine == "meta":  # the fvcore side runs VGG for real; one engine is enough here
        assert flop_report("vgg16", engine=engine).total["macs"] == expected


def test_googlenet_inception_blocks():
    rows = flop_report("googlenet", depth=1, engine="meta").rows.set_index("layer")
    # conv+linear MACs of a block = H·W·(its weights)
    assert rows.loc["inception3a", "macs"] == 163_328 * 28 * 28 == 128_049_152
    assert rows.loc["inception3b", "macs"] == 388_096 * 28 * 28 == 304_267_264
    assert rows.loc["inception4a", "macs"] == 375_552 * 14 * 14 == 73_608_192
    assert rows.loc["inception5b", "macs"] == 1_442_816 * 7 * 7 == 70_697_984
    assert "aux1" not in rows.index


def test_googlenet_lrn_is_norm():
    rows = flop_report("googlenet", depth=1, engine="meta").rows.set_index("layer")
    other = rows.loc["lrn1", "other_flops"]
    # LRN on 64x56x56 = 200,704 elements, size 5: (5 + 5) per element
    assert other == {"norm": 200_704 * 10}


# The deepest networks take several seconds per engine: `slow` (left out by -m "not slow").
HEAVY = {"resnet101", "resnet152", "vgg19", "vgg19_bn", "inception_v3"}
ZOO = [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in list_models()]


@pytest.mark.parametrize("name", ZOO)
def test_engines_agree_layer_by_layer(name):
    a = flop_report(name, engine="fvcore").rows
    b = flop_report(name, engine="meta").rows
    assert list(a["layer"]) == list(b["layer"])
    assert list(a["macs"]) == list(b["macs"])
    assert list(a["other_flops"]) == list(b["other_flops"])


@pytest.mark.parametrize("engine", ["fvcore", "meta"])
@pytest.mark.parametrize("name", ZOO)
def test_no_uncounted_ops_on_the_zoo(name, engine):
    assert record_model(name, engine=engine).uncounted == {}


class Sorted(nn.Module):
    def forward(self, x):
        return torch.sort(x, dim=-1).values + 1  # sort has no cost handle


@pytest.mark.parametrize("engine", ["fvcore", "meta"])
def test_an_op_without_a_handle_is_named_not_dropped(engine):
    rep = flop_report(Sorted(), (4, 5), engine=engine)
    assert rep.total["uncounted_ops"] == {"aten::sort": 1}
    assert any("aten::sort ×1" in n and "NOT in these totals" in n for n in rep.notes)
    assert rep.total["other_flops"] == {"elementwise": 20}  # the + 1 on 1·4·5 elements


def test_meta_engine_big_input_allocates_nothing():
    rep = flop_report("vgg16", "3x2048x2048", engine="meta", depth=0)
    # conv MACs scale with the map: (2048/224)² ... exact: 13 convs at 2048/2^s
    convs = [(2048, 3, 64), (2048, 64, 64), (1024, 64, 128), (1024, 128, 128), (512, 128, 256),
             (512, 256, 256), (512, 256, 256), (256, 256, 512), (256, 512, 512), (256, 512, 512),
             (128, 512, 512), (128, 512, 512), (128, 512, 512)]
    fc = 25088 * 4096 + 4096 * 4096 + 4096 * 1000  # adaptive pool brings 64x64 back to 7x7
    assert rep.total["macs"] == sum(h * h * co * 9 * ci for h, ci, co in convs) + fc


def test_memory_and_intensity():
    t = flop_report(nn.Sequential(nn.Linear(10, 20)), (10,), dtype="fp16").total
    assert t["param_bytes"] == 2 * (10 * 20 + 20)
    assert t["activation_bytes"] == 2 * 20
    # FLOPs 2*200 + 20 bias = 420 over bytes 2*(220 params + 10 in + 20 out) = 500
    assert t["intensity"] == pytest.approx(420 / 500)


def test_callers_module_untouched():
    m = tiny().train()
    flop_report(m, (3, 8, 8), engine="meta")
    flop_report(m, (3, 8, 8), engine="fvcore")
    assert m.training and all(not x._forward_hooks and not x._forward_pre_hooks for x in m.modules())
    assert all(p.device.type == "cpu" for p in m.parameters())


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_cli_flops_formats(runner, fmt):
    res = runner.invoke(app, ["flops", "lenet5", "--format", fmt])
    assert res.exit_code == 0, res.output
    assert "416,520" in res.stdout or "416520" in res.stdout


def test_cli_flops_json_extends_params_schema(runner):
    obj = json.loads(runner.invoke(app, ["flops", "cifar_cnn", "-f", "json", "--engine", "meta"]).stdout)
    assert list(obj)[:4] == ["model", "input_size", "rows", "total"]
    keys = {"layer", "type", "output_shape", "weights", "biases", "params", "macs", "flops",
            "other_flops", "mac_share", "intensity"}
    assert all(keys <= set(r) for r in obj["rows"])
    # 32x32x32*75 + 16x16x32*800 + 8x8x64*800 + 1024*64 + 64*10
    assert obj["total"]["macs"] == 32 * 32 * 32 * 75 + 16 * 16 * 32 * 800 + 8 * 8 * 64 * 800 + 65_536 + 640


def test_cli_flops_csv_expands_categories(runner):
    text = runner.invoke(app, ["flops", "lenet5", "-f", "csv"]).stdout
    df = pd.read_csv(io.StringIO(text), comment="#")
    total = df.iloc[-1]
    # bias: 4,704 + 1,600 + 120 + 84 + 10 (one add per conv/linear output)
    assert int(total["other_flops.bias"]) == 6_518
    assert int(total["flops"]) == 2 * 416_520 + int(total["other_flops"])


@pytest.mark.parametrize("args,needle", [
    (["flops", "lenet5", "--engine", "thop"], "'thop' is not one of 'meta', 'fvcore'"),
    (["flops", "lenet5", "--unit", "gflops"], "unknown unit"),
    (["flops", "lenet5", "--dtype", "fp8"], "unknown dtype"),
    (["flops", "lenet5", "-i", "3x32x32"], "layer features.c1"),
    (["summary", "lenet5", "--depth", "-1"], "depth"),
])
def test_cli_flops_bad_input(runner, args, needle):
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and needle in res.stderr and "Traceback" not in res.output


def test_summary_totals_and_memory(runner):
    res = runner.invoke(app, ["summary", "lenet5", "-f", "json"])
    obj = json.loads(res.stdout)
    assert obj["total"]["params"] == 61_706 and obj["total"]["macs"] == 416_520
    assert obj["total"]["param_bytes"] == 4 * 61_706
    # leaf outputs of LeNet-5 at batch 1: c1/tanh/s2 ... (hand: 4704*2 + 1176 + 1600*2 + 400 +
    # 120*3 (c5, tanh, flatten) + 84*2 + 10) elements, 4 bytes each
    assert obj["total"]["activation_bytes"] == 4 * (4704 * 2 + 1176 + 1600 * 2 + 400 + 120 * 3 + 84 * 2 + 10)


def test_summary_keeps_paths_for_machines_and_a_tree_for_readers(runner):
    rows = json.loads(runner.invoke(app, ["summary", "googlenet", "-d", "2", "-f", "json"]).stdout)
    by = {r["layer"]: r for r in rows["rows"]}
    # GoogLeNet has a `conv` in every BasicConv2d: full paths tell them apart
    assert by["inception3a.branch1"]["depth"] == 2 and by["(model)"]["depth"] == 0
    # inception 3a's subtree: 163,328 weights + 368 biases; its MACs 163,328 · 28·28
    assert by["inception3a"]["params"] == 163_696 and by["inception3a"]["macs"] == 163_328 * 784
    assert rows["total"]["not_run_modules"] == ["aux1", "aux2"]
    text = runner.invoke(app, ["summary", "googlenet", "-d", "2", "--wide"]).stdout
    assert "\n  inception3a " in text and "\n    branch1 " in text  # indented by depth
    assert "aux1, aux2 did not run" in text and "MACs: multiply-accumulates" in text
    md = runner.invoke(app, ["summary", "lenet5", "-f", "markdown"]).stdout
    assert "| \u00a0\u00a0features |" in md  # Markdown keeps no-break spaces


def test_materialize_fills_only_meta_tensors():
    real = nn.Linear(3, 2)
    before = real.weight.detach().clone()
    with torch.device("meta"):
        ghost = nn.Linear(3, 2)
    materialize(nn.Sequential(real, ghost), "cpu")
    assert torch.equal(real.weight, before)  # a user's weights are left as they are
    assert not ghost.weight.is_meta and int(ghost.weight.abs().sum()) == 0  # zeros, 2·3 of them
