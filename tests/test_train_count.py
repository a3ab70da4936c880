"""The training count (flops --mode train): hand-derived backward figures, layer by layer.

Conventions (archscope.analysis.costs.grads): each input or weight gradient of a conv or a
linear layer costs its forward MACs; a bias gradient is a reduction, 1 per output-gradient
element; ReLU's backward 1 per element; batch norm's backward 9 per element when its input needs
a gradient (β 1 and γ 4 per element when it does not). The model's input needs no gradient, so
the first layer computes none.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from archscope.analysis.flops import flop_report
from archscope.analysis.train.count import train_counts, training_record
from archscope.cli import app
from archscope.zoo import list_models


def rows(rep):
    return rep.rows.set_index("layer")


def mlp():
    return nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))


def test_linear_layers_forward_grad_input_grad_weight():
    rep = flop_report(mlp(), "3,6", mode="train")
    r, t = rows(rep), rep.total
    # layer 2, Linear(5, 4) at batch 3: forward 3·5·4 = 60; grad input 60; grad weight 60;
    # its bias gradient sums 3x4 output gradients: reduction 12
    assert (r.loc["2", "macs"], r.loc["2", "grad_input_macs"], r.loc["2", "grad_weight_macs"]) \
        == (60, 60, 60)
    assert r.loc["2", "backward_other_flops"] == {"reduction": 12}
    # layer 0, Linear(6, 5), the first layer: no input gradient; grad weight 3·6·5 = 90
    assert (r.loc["0", "grad_input_macs"], r.loc["0", "grad_weight_macs"]) == (0, 90)
    assert r.loc["1", "backward_other_flops"] == {"activation": 15}  # ReLU on 3x5
    assert t["forward_macs"] == 90 + 60
    assert (t["backward_macs"], t["grad_input_macs"], t["grad_weight_macs"]) == (210, 60, 150)
    assert t["train_macs"] == 150 + 210
    assert t["backward_other_flops"] == {"activation": 15, "reduction": 15 + 12}
    # backward FLOPs = 2 × 210 + 15 + 27
    assert t["backward_flops"] == 2 * 210 + 42
    for col in ("backward_macs", "grad_input_macs", "grad_weight_macs", "train_macs"):
        assert rep.rows[col].sum() == t[col]
    flops = flop_report(mlp(), "3,6", mode="train", unit="flops")
    # forward FLOPs 2·150 + 15 + 15 + 12 = 342; the step 342 + 462 = 804
    assert flops.total["train_flops"] == 804 == flops.rows["train_flops"].sum()
    assert flops.rows["train_flop_share"].sum() == pytest.approx(1.0)


def convs():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(4, 2, 3, padding=1, bias=False))


# At batch 2 on 3x5x5: conv 0 makes 2·4·25 = 200 outputs of 3·9 = 27 taps: 5,400 MACs;
# conv 2 makes 2·2·25 = 100 outputs of 4·9 = 36 taps: 3,600 MACs.
C0, C2 = 5_400, 3_600


@pytest.mark.parametrize("freeze, expect", [
    # nothing frozen: conv 2 both gradients; conv 0 (first) its weight only, and its bias
    ((), {"0": (0, C0), "2": (C2, C2)}),
    # conv 2 frozen: no weight gradient there; it still passes the gradient down to conv 0
    (("2",), {"0": (0, C0), "2": (C2, 0)}),
    # conv 0 frozen: nothing below conv 2 needs a gradient, so conv 2 computes no input gradient
    # and the ReLU runs no backward at all
    (("0",), {"0": (0, 0), "2": (0, C2)}),
])
def test_conv_closed_form_first_and_frozen(freeze, expect):
    rep = flop_report(convs(), "2,3,5,5", mode="train", freeze=freeze)
    r = rows(rep)
    for layer, (gi, gw) in expect.items():
        assert (r.loc[layer, "grad_input_macs"], r.loc[layer, "grad_weight_macs"]) == (gi, gw)
    relu = r.loc["1", "backward_other_flops"]
    assert relu == ({} if freeze == ("0",) else {"activation": 200})
    bias = r.loc["0", "backward_other_flops"]
    assert bias == ({} if freeze == ("0",) else {"reduction": 200})  # conv 0's bias gradient


@pytest.mark.parametrize("freeze, expect", [
    # counted as if inside a network, the input needs a gradient: conv 0 computes both
    ((), {"0": (C0, C0), "2": (C2, C2)}),
    # conv 0 frozen: it still passes the gradient on to the input, with no weight gradient
    (("0",), {"0": (C0, 0), "2": (C2, C2)}),
])
def test_input_grad_counts_the_first_layers_input_gradient(freeze, expect):
    rec = training_record(convs(), "2,3,5,5", freeze=freeze, input_grad=True)
    by_path = {c.path: g for c, g in zip(rec.record.calls, rec.backward)}
    for layer, (gi, gw) in expect.items():
        assert (by_path[layer].grad_input_macs, by_path[layer].grad_weight_macs) == (gi, gw)


def test_requires_grad_false_is_frozen():
    model = convs()
    model[2].weight.requires_grad_(False)
    r = rows(flop_report(model, "2,3,5,5", mode="train"))
    assert (r.loc["2", "grad_input_macs"], r.loc["2", "grad_weight_macs"]) == (C2, 0)
    assert r.loc["2", "trainable"] is False or not r.loc["2", "trainable"]


@pytest.mark.parametrize("freeze, per_element", [
    ((), 9),       # the conv below needs the input gradient: 9 per element (γ and β included)
    (("0",), 5),   # conv frozen: only γ (4) and β (1)
])
def test_batch_norm_in_train_mode(freeze, per_element):
    model = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3))
    r = rows(flop_report(model, "2,2,4,4", mode="train", freeze=freeze))
    # 2·3·4·4 = 96 elements; batch statistics in the forward: 6 per element (not eval's 2)
    assert r.loc["1", "other_flops"] == {"norm": 6 * 96}
    assert r.loc["1", "backward_other_flops"] == {"norm": per_element * 96}


class UsedTwice(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.ReLU()
        self.out = nn.Linear(4, 4)

    def forward(self, x):
        y = self.act(self.fc(x))
        return self.out(y) + y


def test_gradient_sum_is_charged_to_the_layer_whose_output_is_used_twice():
    r = rows(flop_report(UsedTwice(), "2,4", mode="train"))
    # y (2x4) feeds `out` and the add: its two gradients are summed, 8 adds, on `act`
    assert r.loc["act", "backward_other_flops"] == {"activation": 8, "elementwise": 8}
    assert (r.loc["out", "grad_input_macs"], r.loc["out", "grad_weight_macs"]) == (32, 32)
    assert r.loc["(model)", "backward_macs"] == 0  # the add passes its gradient on as it is


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4, bias=False)
        self.b = nn.Linear(4, 4, bias=False)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


def test_tied_weight_gradients_are_summed_once():
    rep = flop_report(Tied(), "2,4", mode="train")
    r = rows(rep)
    # b: grad input and weight 2·4·4 = 32 each; a (first): weight only. The two 4x4 weight
    # gradients are summed into one: 16 adds, on `a`, the layer that owns the weight
    assert rep.total["grad_weight_macs"] == 64 and rep.total["grad_input_macs"] == 32
    assert r.loc["a", "backward_other_flops"] == {"elementwise": 16}


def test_inception_block_branches_that_read_the_input_need_no_input_gradient():
    rec = training_record("inception_v1_block", batch_size=2)
    r = {c.path: g for c, g in zip(rec.record.calls, rec.backward)}
    # the 1x1 convs on the block's input, and the projection after the pool of that input,
    # compute weight gradients only; the 3x3 and 5x5 after the 1x1 reductions both
    for path in ("branch1.conv", "branch2.0.conv", "branch3.0.conv", "branch4.1.conv"):
        assert r[path].grad_input_macs == 0 and r[path].grad_weight_macs > 0, path
    for path in ("branch2.1.conv", "branch3.1.conv"):
        assert r[path].grad_input_macs == r[path].grad_weight_macs > 0, path


def test_googlenet_train_mode_runs_both_aux_heads():
    rec = training_record("googlenet")
    assert rec.record.params == 13_378_280  # every parameter is read in train mode
    paths = {c.path for c in rec.record.calls}
    assert {"aux1.fc2", "aux2.fc2"} <= paths
    # eval forward 1,582,671,872 MACs (tests/test_flops.py) + each aux head: a 1x1 conv on
    # 4x4 (128·512·16 = 1,048,576 for aux1, 128·528·16 = 1,081,344 for aux2), FC 2048→1024
    # (2,097,152) and FC 1024→1000 (1,024,000)
    aux = 1_048_576 + 1_081_344 + 2 * (2_097_152 + 1_024_000)
    assert rec.forward_cost.macs == 1_582_671_872 + aux
    # conv1, 7x7 3→64 to 112x112: 112·112·64·3·49 = 118,013,952 MACs, no input gradient
    assert rec.grad_weight_macs == rec.forward_cost.macs
    assert rec.grad_input_macs == rec.forward_cost.macs - 118_013_952


def test_inception_v3_aux_head_runs_in_train_mode():
    rec = training_record("inception_v3", batch_size=2, kwargs={"aux_logits": True})
    # Szegedy et al. 2015 / torchvision: 27,161,264 parameters with the auxiliary head
    assert rec.record.params == 27_161_264
    assert any(c.path.startswith("AuxLogits.") for c in rec.record.calls)


def test_batch_norm_on_one_value_per_channel_asks_for_a_larger_batch():
    from archscope.errors import ArchscopeError

    # the aux head's 5x5 conv leaves 1x1 maps: at batch 1, one value per channel
    with pytest.raises(ArchscopeError, match="at layer AuxLogits.conv1.bn: batch norm in train "
                       "mode needs more than one value per channel; use --batch-size 2"):
        training_record("inception_v3", kwargs={"aux_logits": True})


@pytest.mark.parametrize("name", list_models(kind="model"))
def test_every_zoo_model_backward_is_twice_its_weighted_layers(name):
    """Every MAC in the zoo is in a conv or linear layer with weights, all trainable: the weight
    gradients cost the forward's MACs, the input gradients the same less the stem's (the one
    layer that reads the input; in a block every branch may read it)."""
    rec = training_record(name, batch_size=2)
    first = next(c for c in rec.record.calls if c.cost.macs)
    assert rec.uncounted == {} and rec.record.uncounted == {} and rec.unclaimed == 0
    assert rec.grad_weight_macs == rec.forward_cost.macs
    assert rec.grad_input_macs == rec.forward_cost.macs - first.cost.macs


def test_resnet18_training_step_matches_flop_counter_mode():
    """torch's FlopCounterMode on a real CPU step counts conv and matmul FLOPs, 2 per MAC."""
    from torch.utils.flop_counter import FlopCounterMode

    from archscope.models import load_target, materialize

    forward, backward = train_counts("resnet18", (2, 3, 64, 64))
    model = materialize(load_target("resnet18", device="meta", init=False).model).train()
    x = torch.randn(2, 3, 64, 64)
    with FlopCounterMode(display=False) as fwd:
        out = model(x)
    with FlopCounterMode(display=False) as bwd:
        out.backward(torch.ones_like(out))
    assert forward.macs == fwd.get_total_flops() // 2
    assert backward.macs == bwd.get_total_flops() // 2


class MatmulNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Parameter(torch.randn(16, 16))
        self.fc = nn.Linear(16, 4)

    def forward(self, x):  # a batched matmul with a parameter, then a linear on 3-d input
        return self.fc(torch.relu(x @ self.proj))


def test_matmul_backward_matches_flop_counter_mode():
    from torch.utils.flop_counter import FlopCounterMode

    model = MatmulNet()
    forward, backward = train_counts(model, (2, 5, 16))
    out = model(torch.randn(2, 5, 16))
    with FlopCounterMode(display=False) as bwd:
        out.backward(torch.ones_like(out))
    # x @ proj: grad weight only, 2·5·16·16 = 2,560; fc: both, 2·5·16·4 = 640 each
    assert backward.macs == 2_560 + 2 * 640 == bwd.get_total_flops() // 2


# ------------------------------------------------------------------ the command
def test_cli_json_keys(runner):
    res = runner.invoke(app, ["flops", "lenet5", "--mode", "train", "-f", "json"])
    assert res.exit_code == 0, res.output
    total = json.loads(res.stdout)["total"]
    assert total["train_macs"] == total["forward_macs"] + total["backward_macs"]
    assert total["backward_macs"] == total["grad_input_macs"] + total["grad_weight_macs"]
    # LeNet-5 at batch 1: C1 117,600 MACs has no input gradient
    assert total["grad_input_macs"] == total["forward_macs"] - 117_600


@pytest.mark.parametrize("args, words", [
    (["--mode", "train", "--engine", "fvcore"], "meta engine only"),
    (["--mode", "trian"], "did you mean train"),
    (["--mode", "train", "--freeze", "nothing.here"], "matches no parameter of lenet5"),
    (["--mode", "train", "--freeze", "*"], "nothing to train: every parameter is frozen"),
    (["--freeze", "features"], "--freeze applies to --mode train"),
])
def test_cli_bad_input_is_one_sentence(runner, args, words):
    res = runner.invoke(app, ["flops", "lenet5", *args])
    assert res.exit_code == 2
    assert words in res.stderr and "Traceback" not in res.stderr


def test_a_model_without_parameters_has_nothing_to_train(runner):
    with pytest.raises(Exception, match="nothing to train: it has no parameters"):
        flop_report(nn.ReLU(), "2,3", mode="train")
