"""archscope memory: per-layer bytes derived by hand, the meta figures against real CPU runs.

Which tensors autograd saves (PyTorch's derivative formulas): a convolution its input (for the
weight gradient; its weight is a parameter), a linear layer its input, tanh and ReLU their
output, an average pool its input, a max pool its input and its int64 argmax indices. A tensor
saved twice (a pool's input is the tanh's output) counts once.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from archscope.analysis.memory.view import memory_report
from archscope.cli import app


def rows(rep):
    return rep.rows.set_index("layer")


def test_lenet5_saved_activations_by_hand():
    rep = memory_report("lenet5", batch_size=2)
    saved = rows(rep)["saved_activation_bytes"]
    n = 2 * 4  # batch 2, fp32
    expect = {
        "features.c1": n * 1 * 32 * 32,    # its input
        "features.tanh1": n * 6 * 28 * 28,  # its output
        "features.s2": 0,                   # its input is tanh1's output, saved already
        "features.c3": n * 6 * 14 * 14,    # its input: S2's output
        "features.tanh3": n * 16 * 10 * 10,
        "features.s4": 0,
        "features.c5": n * 16 * 5 * 5,
        "features.tanh5": n * 120,
        "flatten": 0,                       # a view: nothing saved
        "classifier.f6": 0,                 # its input is a view of tanh5's output
        "classifier.tanh6": n * 84,
        "classifier.output": 0,             # its input is tanh6's output
    }
    assert saved.to_dict() == expect
    assert rep.total["saved_activation_bytes"] == sum(expect.values())


@pytest.mark.parametrize("optimizer, states", [("sgd", 0), ("momentum", 1), ("adam", 2),
                                               ("adamw", 2)])
def test_optimizer_state_is_a_multiple_of_the_parameters(optimizer, states):
    rep = memory_report("lenet5", optimizer=optimizer)
    t = rep.total
    assert t["param_bytes"] == 4 * 61_706  # LeNet-5's 61,706 parameters, fp32
    assert t["grad_bytes"] == t["param_bytes"]
    assert t["optimizer_bytes"] == states * t["param_bytes"]
    assert rep.rows["optimizer_bytes"].sum() == t["optimizer_bytes"]


def test_frozen_layers_have_no_gradient_or_state():
    rep = memory_report("lenet5", freeze=["features"])
    r, t = rows(rep), rep.total
    # trainable: f6 (10,164) and output (850)
    assert t["grad_bytes"] == 4 * (10_164 + 850) and t["optimizer_bytes"] == 2 * t["grad_bytes"]
    assert r.loc["features.c1", "grad_bytes"] == 0 and r.loc["features.c1", "param_bytes"] == 624
    # C1 and C3 are frozen and nothing before C5 needs a gradient: C1 and C3 save nothing,
    # tanh1/tanh3 run no backward; C5 is frozen too, so nothing in `features` saves anything
    assert r.loc["features.c1", "saved_activation_bytes"] == 0


def test_bf16_halves_everything():
    fp32 = memory_report("lenet5", batch_size=2).total
    bf16 = memory_report("lenet5", batch_size=2, dtype="bf16").total
    for key in ("param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes"):
        assert 2 * bf16[key] == fp32[key], key


def test_amp_keeps_fp32_state_and_low_precision_activations():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU())
    rep = memory_report(model, "2,3,6,6", amp=True)
    r, t = rows(rep), rep.total
    assert t["param_bytes"] == 4 * 8 * 3 * 9 and t["optimizer_bytes"] == 2 * t["param_bytes"]
    # the conv saves its input cast to fp16 (2·3·36·2 B); ReLU its fp16 output (2·8·36·2 B)
    assert r.loc["0", "saved_activation_bytes"] == 2 * 3 * 36 * 2
    assert r.loc["1", "saved_activation_bytes"] == 2 * 8 * 36 * 2
    # and the conv keeps the fp16 copy of its weight for the backward: 8·3·9·2 B
    assert t["saved_weight_copy_bytes"] == 8 * 3 * 9 * 2


def test_peak_of_a_linear_layer_by_hand():
    """Linear(4, 3, no bias) at batch 2, SGD; every tensor rounded up to 512 B."""
    rep = memory_report(nn.Linear(4, 3, bias=False), "2,4", optimizer="sgd")
    # resident: weight and input (2 blocks); forward: the 2x3 output (3); backward: the seed
    # gradient of ones (4), the weight gradient gᵀ·x (5): it is already in the weight's 3x4
    # layout, so AccumulateGrad keeps it as .grad without a copy; SGD updates in place
    assert rep.total["peak_train_bytes"] == 5 * 512
    # inference: weight, input, output
    assert rep.total["peak_infer_bytes"] == 3 * 512


def test_rows_add_up_to_the_totals():
    rep = memory_report("resnet18", batch_size=2, depth=1)
    for col in ("param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes"):
        assert rep.rows[col].sum() == rep.total[col], col


# ------------------------------------------------------------------ against real CPU runs
def _real_saved_bytes(spec, inputs):
    from archscope.analysis.engines.recorder import CallRecorder
    from archscope.analysis.memory.saved import SavedTensors
    from archscope.models import load_target, materialize

    model = materialize(load_target(spec, device="meta", init=False).model).train()
    saved = SavedTensors(CallRecorder(model), exclude=[*model.parameters(), *model.buffers()])
    args, kwargs = inputs.tensors("cpu")
    with saved.hooks():
        model(*args, **kwargs)
    return saved.total


@pytest.mark.parametrize("spec, size, batch", [
    ("lenet5", None, 2), ("alexnet", None, 2), ("resnet18", "3x64x64", 2),
    ("googlenet", None, 1), ("inception_v1_block", None, 1), ("vgg11_bn", "3x64x64", 2),
    ("examples/my_model.py:build", None, 2), ("examples/two_inputs.py:build", None, 2),
])
def test_saved_bytes_equal_a_real_cpu_forward(spec, size, batch):
    """The same hooks in a real CPU forward (zero weights) save exactly what meta predicts."""
    from archscope.models import load_target, resolve_inputs

    inputs = resolve_inputs(load_target(spec, device="meta", init=False), size, batch)
    rep = memory_report(spec, size, batch_size=batch)
    assert rep.total["saved_activation_bytes"] == _real_saved_bytes(spec, inputs)


def _real_cpu_peak(spec, shape):
    """The CPU allocator's own peak over one step, from torch.profiler's memory events."""
    from torch.profiler import ProfilerActivity, profile

    from archscope.analysis.memory.optim import Optimizer
    from archscope.models import load_target, materialize

    model = materialize(load_target(spec, device="meta", init=False).model).train()
    params = list(model.parameters())
    opt = Optimizer.build("adam", params)
    x = torch.zeros(shape)
    resident = sum(t.untyped_storage().nbytes() for t in
                   [*params, *model.buffers(), *opt.tensors(), x])
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        outs = model(x)
        outs = list(outs) if isinstance(outs, tuple) else [outs]  # GoogLeNet's aux heads
        torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])
        opt.step()
        del outs
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    live = peak = 0
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return resident + peak


@pytest.mark.slow
@pytest.mark.parametrize("spec, shape", [("resnet18", (4, 3, 112, 112)),
                                         ("vgg11", (2, 3, 64, 64))])
def test_peak_is_within_3_percent_of_the_cpu_allocators(spec, shape):
    rep = memory_report(spec, ",".join(map(str, shape)))
    real = _real_cpu_peak(spec, shape)
    assert abs(rep.total["peak_train_bytes"] / real - 1) < 0.03


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["resnet50", "vgg16", "googlenet"])
def test_peak_is_within_5_percent_of_cuda(name):
    """One Adam step at batch 32 on CUDA: max_memory_allocated() after a reset, against the
    meta prediction (weights, Adam state and the input batch resident before the reset)."""
    from archscope.models import load_target, materialize

    model = materialize(load_target(name, device="meta", init=False).model, "cuda").train()
    opt = torch.optim.Adam(model.parameters())  # foreach on CUDA, as the prediction assumes
    x = torch.zeros(32, 3, 224, 224, device="cuda")

    def step():
        outs = model(x)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        torch.autograd.backward(outs, [torch.ones_like(o) for o in outs])
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # creates the optimizer state
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    real = torch.cuda.max_memory_allocated()
    predicted = memory_report(name, batch_size=32).total["peak_train_bytes"]
    assert abs(predicted / real - 1) < 0.05, (predicted, real)


# ------------------------------------------------------------------ the command
def test_cli_json_keys(runner):
    res = runner.invoke(app, ["memory", "lenet5", "-b", "2", "-f", "json"])
    assert res.exit_code == 0, res.output
    total = json.loads(res.stdout)["total"]
    for key in ("param_bytes", "grad_bytes", "optimizer_bytes", "saved_activation_bytes",
                "peak_train_bytes", "peak_infer_bytes"):
        assert isinstance(total[key], int) and total[key] > 0, key


def test_cli_infer_mode(runner):
    res = runner.invoke(app, ["memory", "lenet5", "--mode", "infer", "-f", "json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert "peak_infer_bytes" in obj["total"] and "grad_bytes" not in obj["rows"][0]


@pytest.mark.parametrize("args, words", [
    (["--optimizer", "adamm"], "unknown optimizer 'adamm'; did you mean adam"),
    (["--dtype", "fp8"], "unknown dtype 'fp8'"),
    (["--amp", "--dtype", "fp32"], "give --dtype fp16 or bf16"),
    (["--mode", "inferr"], "did you mean infer"),
    (["--device", "cuda"], "unknown device 'cuda'"),
    (["--freeze", "zzz"], "matches no parameter of lenet5"),
])
def test_cli_bad_input_is_one_sentence(runner, args, words):
    res = runner.invoke(app, ["memory", "lenet5", *args])
    assert res.exit_code == 2
    assert words in res.stderr and "Traceback" not in res.stderr


class NoMetaBackward(torch.autograd.Function):
    """Its backward needs real data (nonzero), which the meta device cannot give."""

    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * (g.nonzero().shape[0] > -1)


class NeedsCpu(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return NoMetaBackward.apply(self.fc(x))


def test_a_backward_without_meta_kernels_names_the_op_and_runs_on_cpu_when_asked():
    from archscope.errors import ArchscopeError

    with pytest.raises(ArchscopeError, match=r"cannot run on the meta device: aten::nonzero.*"
                       r"--device cpu"):
        memory_report(NeedsCpu(), "2,4")
    rep = memory_report(NeedsCpu(), "2,4", device="cpu")
    assert rep.total["grad_bytes"] == 4 * (16 + 4)
