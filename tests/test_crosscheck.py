"""torchinfo as an independent witness: ``verify MODEL --against torchinfo``.

torchinfo walks the module tree with its own hooks and its own parameter accounting; on every
leaf layer that ran it must report archscope's output shape and parameter count, and its
mult-adds must be exactly what its convention predicts from archscope's MACs.
"""

from __future__ import annotations

import json

import pytest
import torchinfo

from archscope.analysis import crosscheck
from archscope.analysis.crosscheck import crosscheck_torchinfo
from archscope.analysis.params import param_table
from archscope.cli import app
from archscope.models import load_target, materialize, resolve_inputs


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "googlenet", "resnet50", "vgg11_bn"])
def test_leaf_shapes_and_params_match_torchinfo(name):
    # straight from torchinfo's own summary, without archscope's crosscheck module
    target = load_target(name, device="meta", init=False)  # built for counting: no weights
    shape = resolve_inputs(target).first_shape
    materialize(target.model, "cpu")  # torchinfo runs a real forward
    info = torchinfo.summary(target.model.eval(), input_size=shape, verbose=0, depth=100,
                             col_names=("output_size", "num_params"))
    paths = {id(m): p for p, m in target.model.named_modules()}
    theirs = {}
    for layer in info.summary_list:
        if layer.is_leaf_layer and layer.executed:
            theirs.setdefault(paths[id(layer.module)], (tuple(layer.output_size), layer.num_params))
    ours = param_table(name).set_index("layer")
    assert set(theirs) == set(ours.index)
    for path, (out, n) in theirs.items():
        assert ours.loc[path, "output_shape"] == "x".join(map(str, out)), path
        assert ours.loc[path, "params"] == n, path


def test_lenet5_reconciles_by_its_bias_adds():
    c = crosscheck_torchinfo("lenet5")
    assert c.ok and all(c.columns["match"])
    # torchinfo adds one per conv/linear output for the bias: C1 6·28·28 = 4,704, C3 16·10·10
    # = 1,600, C5 120, F6 84, output 10 → 6,518 on top of LeNet-5's 416,520 MACs
    assert c.total["macs"] == 416_520
    assert c.total["mult_adds_torchinfo"] == 416_520 + 4_704 + 1_600 + 120 + 84 + 10


def test_resnet18_reconciles_by_fc_bias_and_batch_norm_params():
    c = crosscheck_torchinfo("resnet18")
    assert c.ok
    # + fc bias 1,000 + batch norm γ, β × batch 1: BN channels 64 (stem) + 4·64 + (4·128 + 128)
    # + (4·256 + 256) + (4·512 + 512) = 4,800, two parameters each = 9,600
    assert c.total["mult_adds_torchinfo"] - c.total["macs"] == 1_000 + 2 * 4_800
    bn = c.columns["layer"].index("bn1")
    assert c.columns["mult_adds_torchinfo"][bn] == 2 * 64  # γ and β of 64 channels, batch 1


def test_batch_scales_bias_adds():
    c = crosscheck_torchinfo("lenet5", batch_size=4)
    assert c.ok and c.input_size == (4, 1, 32, 32)
    assert c.total["mult_adds_torchinfo"] - c.total["macs"] == 4 * 6_518  # per sample, × 4


def test_cli_verify_any_model_and_disagreement_exit_code(runner, monkeypatch):
    res = runner.invoke(app, ["verify", "lenet5", "-f", "json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["against"] == "torchinfo" and obj["ok"] is True and len(obj["rows"]) == 12
    real = crosscheck._torchinfo_calls

    def off_by_one(model, inputs):  # a witness that disagrees on F6's params
        calls, params, mult_adds = real(model, inputs)
        f6 = calls[("classifier.f6", 0)]
        calls[("classifier.f6", 0)] = crosscheck._Theirs(f6.output, f6.params + 1, f6.mult_adds)
        return calls, params, mult_adds

    monkeypatch.setattr(crosscheck, "_torchinfo_calls", off_by_one)
    res = runner.invoke(app, ["verify", "lenet5"])
    assert res.exit_code == 1
    assert "11 of 12 leaf calls agree; 1 DISAGREE" in res.stdout
    assert "disagree on lenet5" in res.stderr


def test_cli_verify_paper_is_googlenet_only(runner):
    res = runner.invoke(app, ["verify", "lenet5", "--against", "paper"])
    assert res.exit_code == 2 and "--against torchinfo" in res.stderr
    res = runner.invoke(app, ["verify", "googlenet", "--input-size", "3x100x100"])
    assert res.exit_code == 2 and "1x3x224x224" in res.stderr
    res = runner.invoke(app, ["verify", "googlenet", "--against", "nope"])
    assert res.exit_code == 2 and "paper or torchinfo" in res.stderr
