"""The report's Training section (`report --train`): frames and figures against hand counts.

LeNet-5 (61,706 parameters, all trainable, fp32 = 4 B each). What autograd saves per image
(tests/test_memory.py derives each one): C1 its 1×32×32 input, tanh1 its 6×28×28 output, C3
its 6×14×14 input, tanh3 16×10×10, C5 its 16×5×5 input, tanh5 120, tanh6 84: 9,108 values.
Forward MACs per image: C1 117,600, C3 240,000, C5 48,000, F6 10,080, output 840.
"""

from __future__ import annotations

import pytest
from torch import nn

from archscope.cli import app
from archscope.errors import ArchscopeError
from archscope.html import training as T
from archscope.html import training_figures as TF

LENET_PARAMS = 61_706
LENET_SAVED = 1 * 32 * 32 + 6 * 28 * 28 + 6 * 14 * 14 + 16 * 10 * 10 + 16 * 5 * 5 + 120 + 84
BATCH = 4


@pytest.fixture(scope="module")
def lenet():
    return T.gather_training(["lenet5"], ["lenet5"], batch_size=BATCH, optimizer="adam")


def test_memory_parts_of_lenet5_by_hand(lenet):
    frame = T.memory_frame(lenet)
    row = frame.iloc[0]
    assert row.param_bytes == 4 * LENET_PARAMS == 246_824
    assert row.grad_bytes == row.param_bytes  # every parameter trainable
    assert row.optimizer_bytes == 2 * row.param_bytes  # Adam: m and v, fp32
    assert row.saved_activation_bytes == BATCH * 4 * LENET_SAVED
    assert row.peak_phase in ("forward", "backward", "step")
    fig = TF.memory_stack(frame, "batch 4, adam, fp32")
    params, grads, state, saved, peak = fig.data
    assert [t.name for t in fig.data] == ["parameters", "gradients", "optimizer state",
                                          "saved activations", "peak of the step"]
    assert list(params.y) == [246_824] and list(grads.y) == [246_824]
    assert list(state.y) == [2 * 246_824] and list(saved.y) == [BATCH * 4 * LENET_SAVED]
    assert list(peak.y) == [row.peak_train_bytes]
    # the Share button: the four parts as percentages of their sum, the peak hidden
    share = fig.layout.updatemenus[0].buttons[1].args[0]
    total = 4 * 246_824 + BATCH * 4 * LENET_SAVED
    assert share["y"][0] == [pytest.approx(100 * 246_824 / total)]
    assert sum(ys[0] for ys in share["y"][:4]) == pytest.approx(100)
    assert share["visible"] == [True] * 4 + [False]


@pytest.mark.parametrize("optimizer, states", [("sgd", 0), ("momentum", 1), ("adamw", 2)])
def test_optimizer_state_follows_the_optimizer(optimizer, states):
    items = T.gather_training(["lenet5"], ["lenet5"], batch_size=2, optimizer=optimizer)
    assert T.memory_frame(items).at[0, "optimizer_bytes"] == states * 4 * LENET_PARAMS


def test_gradients_are_the_trainable_parameters_only():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))
    model[0].requires_grad_(False)  # the conv: 4·3·3·3 + 4 = 112 frozen parameters
    items = T.gather_training([model], ["net"], "3x8x8", batch_size=2)
    row = T.memory_frame(items).iloc[0]
    trainable = 144 * 5 + 5  # the linear layer: 725
    assert row.param_bytes == 4 * (112 + trainable)
    assert row.grad_bytes == 4 * trainable
    assert row.optimizer_bytes == 2 * 4 * trainable  # Adam's two moments, trainable only


def test_per_layer_saved_activations_against_parameters(lenet):
    layers = T.layer_memory_frame(lenet[0]).set_index("layer")
    n = BATCH * 4  # batch × 4 bytes
    assert layers.at["features.c1", "param_bytes"] == 4 * (6 * 25 + 6)
    assert layers.at["features.c1", "saved_activation_bytes"] == n * 32 * 32
    assert layers.at["features.tanh1", "saved_activation_bytes"] == n * 6 * 28 * 28
    assert layers.at["classifier.f6", "param_bytes"] == 4 * (84 * 120 + 84)
    assert layers["param_bytes"].sum() == 4 * LENET_PARAMS
    fig = TF.layer_memory_bars(T.layer_memory_frame(lenet[0]), "lenet5", "#4e79a7")
    saved, params = fig.data
    assert list(saved.x) == list(layers.index) and saved.marker.color == "#4e79a7"
    assert list(saved.y) == list(layers["saved_activation_bytes"])
    assert list(params.y) == list(layers["param_bytes"])
    assert fig.layout.updatemenus[0].buttons[1].label == "Log"


def test_forward_and_backward_macs_per_stage(lenet):
    stages = T.step_stage_frame(lenet[0]).set_index("stage")
    # features holds 405,600 of 416,520 MACs (more than half): stages one level down
    assert stages.attrs["depth"] == 2
    assert stages.at["features.c1", "forward_macs"] == BATCH * 117_600
    assert stages.at["features.c1", "grad_input_macs"] == 0  # the first layer
    assert stages.at["features.c1", "grad_weight_macs"] == BATCH * 117_600
    for stage, macs in [("features.c3", 240_000), ("features.c5", 48_000),
                        ("classifier.f6", 10_080), ("classifier.output", 840)]:
        assert tuple(stages.loc[stage, list(T.STEP_COLUMNS)]) == (BATCH * macs,) * 3, stage
    fig = TF.step_stage_bars(T.step_stage_frame(lenet[0]), "lenet5")
    forward, grad_in, grad_w = fig.data
    assert list(forward.y) == list(stages["forward_macs"])
    # the weight gradients stand on the input gradients, beside the forward
    assert list(grad_w.base) == list(grad_in.y) == list(stages["grad_input_macs"])
    assert forward.offsetgroup != grad_in.offsetgroup == grad_w.offsetgroup


def test_section_has_one_memory_chart_and_two_per_model(lenet):
    section = T.training_section(lenet * 2, {"lenet5": "#4e79a7"}, BATCH, "adam")
    assert section.anchor == "training" and len(section.items) == 1 + 2 * 2
    assert "batch 4, adam, fp32" in section.intro


def test_batch_norm_at_batch_1_names_the_report_option():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
    with pytest.raises(ArchscopeError, match="use --train-batch-size 2"):
        T.gather_training([model], ["bn"], "3x1x1", batch_size=1)


def test_a_backward_without_meta_kernels_points_to_the_memory_command():
    from test_memory import NeedsCpu

    with pytest.raises(ArchscopeError, match=r"cannot run on the meta device: aten::nonzero.*"
                       r"leave --train out for it, or run its step on the CPU with `archscope "
                       r"memory MODEL --device cpu`$"):
        T.gather_training([NeedsCpu()], ["needs_cpu"], "2,4")


def test_cli_writes_the_section(runner, tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "lenet5", "--train", "--train-batch-size", "2",
                              "--optimizer", "sgd", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert '<section id="training">' in page and "Training: one step in train mode" in page


@pytest.mark.parametrize("args, words", [
    (["--optimizer", "sgd"], "--optimizer sets the Training section; add --train"),
    (["--train-batch-size", "8", "--optimizer", "sgd"], "--train-batch-size and --optimizer set"),
    (["--train", "--optimizer", "adamm"], "unknown optimizer 'adamm'; did you mean adam"),
    (["--train", "--train-batch-size", "0"], "--train-batch-size"),
])
def test_cli_bad_train_options_are_one_sentence(runner, tmp_path, args, words):
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", "lenet5", "-o", str(out), *args])
    assert res.exit_code == 2 and words in res.stderr and "Traceback" not in res.output
    assert not out.exists()
