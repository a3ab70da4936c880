"""``archscope diff``: alignment, exact reconciliation, causes; figures derived by hand."""

from __future__ import annotations

import json

import pytest

from archscope.analysis.diff_view import diff_models
from archscope.cli import app
from archscope.zoo.googlenet import inception_rows


def reconciles(d) -> None:
    """Rows, causes and blocks each add up to the totals' difference, exactly."""
    for col in ("params", "macs", "flops"):
        want = d.total["b"][col] - d.total["a"][col]
        assert d.total["delta"][col] == want
        assert sum(r.delta(col) for r in d.rows) == want, col
        assert sum(getattr(c, col) for c in d.causes) == want, col
        assert sum(getattr(b, col) for b in d.blocks) == want, col


def test_a_model_against_itself_is_all_zero():
    d = diff_models("googlenet", "googlenet")
    assert {r.change for r in d.rows} == {"="}
    assert d.total["delta"] == {"params": 0, "macs": 0, "flops": 0}
    assert d.causes == [] and d.blocks == []
    assert "same layers" in d.headline
    reconciles(d)


def _basic_block(c: int, side: int) -> tuple[int, int]:
    """A BasicBlock without projection: two 3×3 c→c convs (no bias) and two batch norms (γ, β):
    18c² + 4c params; each conv side²·9c² MACs."""
    return 18 * c * c + 4 * c, 2 * side * side * 9 * c * c


def test_resnet34_against_resnet18_is_exactly_the_extra_blocks():
    d = diff_models("resnet18", "resnet34")
    # blocks per stage: [2, 2, 2, 2] → [3, 4, 6, 3]; stages at 64@56, 128@28, 256@14, 512@7
    extra = {"layer1": (1, 64, 56), "layer2": (2, 128, 28), "layer3": (4, 256, 14),
             "layer4": (1, 512, 7)}
    added = {"layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3", "layer3.4", "layer3.5",
             "layer4.2"}
    assert {r.change for r in d.rows} == {"=", "+"}
    plus = [r.b.path for r in d.rows if r.change == "+"]
    assert {".".join(p.split(".")[:2]) for p in plus} == added
    params = sum(n * _basic_block(c, s)[0] for n, c, s in extra.values())
    macs = sum(n * _basic_block(c, s)[1] for n, c, s in extra.values())
    assert (d.total["delta"]["params"], d.total["delta"]["macs"]) == (params, macs)
    assert [c.what for c in d.causes] == ["BasicBlock added"] and d.causes[0].layers == 8
    assert {b.block: b.params for b in d.blocks} == {
        s: n * _basic_block(c, side)[0] for s, (n, c, side) in extra.items()}
    reconciles(d)


def test_vgg16_bn_against_vgg16_is_exactly_the_13_batch_norms():
    # γ and β on every conv's channels: 2 × (2·64 + 2·128 + 3·256 + 3·512 + 3·512) = 2 × 4,224
    d = diff_models("vgg16", "vgg16_bn")
    plus = [r for r in d.rows if r.change == "+"]
    assert len(plus) == 13 and {r.b.type for r in plus} == {"BatchNorm2d"}
    assert {r.change for r in d.rows} == {"=", "+"}
    assert d.total["delta"]["params"] == 8_448 == 2 * 4_224
    assert d.total["delta"]["macs"] == 0
    assert [(c.what, c.layers, c.params) for c in d.causes] == [("BatchNorm2d added", 13, 8_448)]
    reconciles(d)


def test_the_1x1_reductions_of_the_inception_module():
    # naive (Fig. 2a) vs reduced (Fig. 2b) on 32×32×256: the 3×3 to 192 reads 64 channels
    # instead of 256 (9·192·(256 − 64) fewer weights), the 5×5 to 96 likewise (25·96·192), and
    # three 1×1 256→64 convolutions (with bias) come in
    d = diff_models("inception_naive", "inception_v1_block")
    causes = {c.what: (c.params, c.macs, c.layers) for c in d.causes}
    hw = 32 * 32
    assert causes["Conv2d 64→192 channels instead of 256→192"] == (
        -9 * 192 * 192, -hw * 9 * 192 * 192, 1)
    assert causes["Conv2d 64→96 channels instead of 256→96"] == (
        -25 * 96 * 192, -hw * 25 * 96 * 192, 1)
    assert causes["BasicConv2d added"] == (3 * (256 * 64 + 64), 3 * hw * 256 * 64, 3)
    aligned = {r.a.path: r.b.path for r in d.rows if r.a and r.b}
    assert aligned["branch2.conv"] == "branch2.1.conv"  # the layer a 1×1 was put before
    assert aligned["branch4"] == "branch4.0"  # the pool, now followed by its projection
    reconciles(d)


def test_models_with_different_inputs_run_each_at_its_own():
    # googlenet_d2l: 1×96×96, 10 classes; its fc differs by 1024·990 weights and 990 biases
    d = diff_models("googlenet", "googlenet_d2l")
    assert (d.input_a, d.input_b) == ("1x3x224x224", "1x1x96x96")
    assert any("the inputs differ" in n for n in d.notes)
    fc = next(c for c in d.causes if c.paths == ["fc"])
    assert fc.params == -(1024 * 990 + 990) and fc.macs == -1024 * 990
    reconciles(d)


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_folded_rows_still_add_up_and_keep_the_causes(depth):
    full = diff_models("resnet18", "resnet34")
    d = diff_models("resnet18", "resnet34", depth=depth)
    assert all(len((r.a or r.b).path.split(".")) <= max(depth, 1) for r in d.rows)
    assert [(c.what, c.params) for c in d.causes] == [(c.what, c.params) for c in full.causes]
    reconciles(d)


def test_diff_cli_table_json_and_changed(runner, tmp_path):
    res = runner.invoke(app, ["diff", "vgg16", "vgg16_bn", "--changed"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("+ ")]
    assert len(lines) == 13 and all("BatchNorm2d" in ln and "+" in ln for ln in lines)
    assert "+8,448" in res.stdout and "13 BatchNorm2d added" in res.stdout
    out = tmp_path / "d.json"
    res = runner.invoke(app, ["diff", "resnet18", "resnet34", "-d", "1", "-o", str(out)])
    assert res.exit_code == 0, res.output
    obj = json.loads(out.read_text())
    assert obj["total"]["delta"]["params"] == sum(r["d_params"] for r in obj["rows"])
    assert {r["layer_a"] for r in obj["rows"]} >= {"layer1", "layer4"}
    assert obj["causes"][0]["what"] == "BasicBlock added"
    csv = runner.invoke(app, ["diff", "lenet5", "lenet5", "-f", "csv"]).stdout
    assert "change,depth,layer_a" in csv


def test_diff_cli_errors_are_one_line(runner):
    res = runner.invoke(app, ["diff", "vgg16", "no_such_net"])
    assert res.exit_code == 2 and "no_such_net" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["diff", "vgg16", "vgg11", "-d", "-1"])
    assert res.exit_code == 2 and "depth" in res.output


def _branch3_macs() -> int:
    """torchvision's GoogLeNet runs 3×3 where Table 1 has 5×5 in every branch 3: per module
    side²·(25 − 9)·(#5×5 reduce)·(#5×5) fewer MACs (3a, 3b at 28², 4a–4e at 14², 5a, 5b at 7²)."""
    side = {"3": 28, "4": 14, "5": 7}
    return sum(side[k[0]] ** 2 * 16 * row[4] * row[5] for k, row in inception_rows.items())


def test_torchvision_googlenet_against_the_paper():
    pytest.importorskip("torchvision")
    d = diff_models("googlenet", "torchvision:googlenet")
    causes = {c.what: c for c in d.causes}
    kernel = causes["3×3 conv instead of 5×5 conv"]
    assert kernel.where == "every inception*.branch3.1.conv" and kernel.layers == 9
    assert kernel.macs == -_branch3_macs()
    # 57 convolutions: the biases go, a batch norm (γ, β) comes per output channel
    bias, bn = causes["Conv2d bias removed"], causes["BatchNorm2d added"]
    assert bias.layers == bn.layers == 57 and bn.params == -2 * bias.params
    assert causes["LocalResponseNorm removed"].layers == 2
    assert "2×2/2 max pool instead of 3×3/2 max pool" in causes
    assert "from 3×3 conv instead of 5×5 conv in every inception*.branch3.1.conv" in d.headline
    reconciles(d)
