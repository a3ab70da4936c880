"""`explain training`: a training step against a forward, every figure derived by hand.

Conventions (archscope.analysis.costs.grads): a convolution's or linear layer's input gradient
and weight gradient each cost its forward MACs; the model's input needs no gradient unless the
step is counted as if inside a network (``input_grad``), so the first layer computes none.
"""

from __future__ import annotations

import json

import pytest
from torch import nn

from archscope.analysis.explain import explain
from archscope.analysis.memory.view import memory_report
from archscope.analysis.train.count import training_record
from archscope.cli import app

# one 3×3 conv 256→256 on 56×56: 56·56 outputs per channel × 256 channels × 3·3·256 taps
CONV = 56 * 56 * 256 * 9 * 256  # 1,849,688,064
PAIR = 2 * CONV  # 3,699,376,128
# ResNet-50's bottleneck at 256 channels on 56×56: 1×1 256→64, 3×3 64→64, 1×1 64→256
BOTTLENECK = 56 * 56 * (256 * 64 + 9 * 64 * 64 + 64 * 256)  # 218,365,952


@pytest.fixture(scope="module")
def lesson():
    e = explain("training")
    return e, e.rows.set_index("design")


def test_linear_at_batch_n_inside_a_network():
    # Linear(6, 5) at batch 3 whose input needs a gradient: forward 3·6·5 = 90 MACs; the input
    # gradient g·W is 3×5 by 5×6: 90; the weight gradient gᵀ·x is 5×3 by 3×6: 90
    rec = training_record(nn.Linear(6, 5), "3,6", input_grad=True)
    assert (rec.forward_cost.macs, rec.grad_input_macs, rec.grad_weight_macs) == (90, 90, 90)
    # as a network's first layer its input needs none: the weight gradient alone
    rec = training_record(nn.Linear(6, 5), "3,6")
    assert (rec.grad_input_macs, rec.grad_weight_macs) == (0, 90)


def test_the_pair_of_convolutions_by_hand(lesson):
    _, rows = lesson
    expect = {  # (grad input, grad weight, step / forward)
        # inside a network: both convolutions compute both gradients → 3 × forward
        "two 3×3 convs 256→256, inside a network": (PAIR, PAIR, 3.0),
        # first layers: the first conv has no input gradient → 3·PAIR − CONV = 2.5 × forward
        "the same, as a network's first layers": (CONV, PAIR, 2.5),
        # first conv frozen inside a network: it still passes the gradient on, no weight grad
        "the same inside a network, first conv frozen": (PAIR, CONV, 2.5),
        # first conv frozen as the first layers: it needs nothing; the second conv's input
        # comes from frozen work on the input, so it computes its weight gradient only
        "the same as first layers, first conv frozen": (0, CONV, 1.5),
    }
    for design, (gi, gw, ratio) in expect.items():
        r = rows.loc[design]
        assert (r.macs, r.forward_macs, r.grad_input_macs, r.grad_weight_macs) == \
            (PAIR, PAIR, gi, gw), design
        assert r.step_x_forward == ratio, design


def test_batch_norm_in_train_mode_costs_flops_not_macs(lesson):
    _, rows = lesson
    r = rows.loc["ResNet-50 bottleneck with batch norm, inside a network"]
    assert (r.macs, r.grad_input_macs, r.grad_weight_macs) == (BOTTLENECK,) * 3
    assert r.step_x_forward == 3.0
    bn = 56 * 56 * (64 + 64 + 256)  # elements through its three batch norms: 1,204,224
    relu = bn  # a ReLU after each batch norm (the last one after the add)
    add = 56 * 56 * 256  # the residual add
    # inference: 2·MACs + batch norm 2/element (running statistics) + ReLU + add
    infer = 2 * BOTTLENECK + 2 * bn + relu + add
    # train-mode forward: batch norm 6/element (the batch's mean and variance, then normalise)
    forward = 2 * BOTTLENECK + 6 * bn + relu + add
    # backward: 2 gradients × 2 FLOPs per MAC; batch norm 9/element (input, γ, β); ReLU 1;
    # the gradient sum at the block's input (used by conv1 and by the skip): 1/element
    backward = 4 * BOTTLENECK + 9 * bn + relu + add
    assert r.step_x_forward_flops == round((forward + backward) / infer, 4) == 3.02


def test_googlenet_aux_heads_and_whole_networks(lesson):
    e, rows = lesson
    g = rows.loc["GoogLeNet (auxiliary heads run in training)"]
    assert g.step_params == 13_378_280  # every parameter, the auxiliary heads' included
    # each aux head: 1×1 conv on 4×4 (128·512·16, then 128·528·16), FC 2048→1024,
    # FC 1024→1000
    aux = 1_048_576 + 1_081_344 + 2 * (2_097_152 + 1_024_000)
    assert g.forward_macs == g.macs + aux
    assert f"{g.step_params - g.params:,} more parameters and {aux:,} more MACs" in e.text
    for name in ("VGG-16", "ResNet-50"):
        r = rows.loc[name]
        # fp32 parameters (4 B), their gradients (4 B) and Adam's m and v (8 B): 16 B each
        assert r.state_bytes == 16 * r.params, name
    assert rows.loc["VGG-16", "params"] == 138_357_544


def test_pair_memory_at_batch_32(lesson):
    _, rows = lesson
    r = rows.loc["the same, as a network's first layers"]
    # 2 convs of 256·256·9 weights + 256 biases, 16 B each (fp32 parameter, gradient, m, v)
    assert r.state_bytes == 16 * 2 * (256 * 256 * 9 + 256)
    # conv 0 saves its input, the ReLU its output (which conv 2 reads: counted once):
    # 2 maps of 32·256·56·56 fp32 values
    assert r.saved_bytes == 2 * 32 * 256 * 56 * 56 * 4
    frozen = rows.loc["the same as first layers, first conv frozen"]
    # the frozen conv keeps its 4 B parameters only; the ReLU's output alone is saved
    assert frozen.state_bytes == 4 * (256 * 256 * 9 + 256) + 16 * (256 * 256 * 9 + 256)
    assert frozen.saved_bytes == 32 * 256 * 56 * 56 * 4


def test_the_activations_outgrow_the_weights_from_the_batch_the_text_says(lesson):
    e, rows = lesson
    state = int(rows.loc["VGG-16", "state_bytes"])
    # the text's batch: the first at which VGG-16's saved activations exceed its weights' state
    batch = int(e.text.split("outgrow the weights from batch ")[1].split()[0])
    below = memory_report("vgg16", batch_size=batch - 1).total["saved_activation_bytes"]
    above = memory_report("vgg16", batch_size=batch).total["saved_activation_bytes"]
    assert below <= state < above


def test_cli_json(runner):
    res = runner.invoke(app, ["explain", "training", "-f", "json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["topic"] == "training" and obj["map_size"] == [56, 56]
    first = obj["rows"][0]
    assert first["grad_input_macs"] == first["grad_weight_macs"] == first["forward_macs"] == PAIR


def test_report_chart_stacks_the_step_in_multiples_of_the_forward(lesson):
    from archscope.html.training_figures import step_lesson_bars

    e, _ = lesson
    fig = step_lesson_bars(e.compared, e.title)
    forward, grad_in, grad_w, flops = fig.data
    assert list(forward.y) == [1.0] * 5
    # inside, first layers, first conv frozen (inside), frozen first layers, bottleneck
    assert list(grad_in.y) == [1.0, 0.5, 1.0, 0.0, 1.0]
    assert list(grad_w.y) == [1.0, 1.0, 0.5, 0.5, 1.0]
    assert list(grad_in.customdata) == [PAIR, CONV, PAIR, 0, BOTTLENECK]
    assert flops.y[-1] == 3.02
