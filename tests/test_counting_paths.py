"""The meta engine's own shape rules, the import cost of the default path, every CLI format."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from archscope.analysis.engines.meta_shapes import shape_rules
from archscope.cli import app

RULES = shape_rules()


def _meta(*shape):
    return torch.zeros(shape, device="meta")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2),
       st.integers(1, 2), st.integers(1, 2), st.integers(6, 20), st.integers(1, 3))
def test_conv_rule_equals_torchs_meta_kernel(cin_g, cout_g, k, pad, stride, dil, size, groups):
    x = _meta(2, cin_g * groups, size, size + 1)
    w = _meta(cout_g * groups, cin_g, k, k)
    args = (x, w, None, [stride, stride], [pad, pad], [dil, dil], False, [0, 0], groups)
    if size + 2 * pad < dil * (k - 1) + 1:
        return
    ours = RULES["convolution"](args, {})
    assert ours.shape == torch.ops.aten.convolution(*args).shape


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.booleans(), st.integers(5, 17),
       st.sampled_from(["max", "avg"]))
def test_pool_rule_equals_torchs_meta_kernel(k, stride, pad, ceil, size, kind):
    pad = min(pad, k // 2)
    x = _meta(1, 3, size, size + 2)
    if kind == "max":
        args = (x, [k, k], [stride, stride], [pad, pad], [1, 1], ceil)
        ours = RULES["max_pool2d_with_indices"](args, {})[0]
        theirs = torch.ops.aten.max_pool2d_with_indices(*args)[0]
    else:
        args = (x, [k, k], [stride, stride], [pad, pad], ceil)
        ours = RULES["avg_pool2d"](args, {})
        theirs = torch.ops.aten.avg_pool2d(*args)
    assert ours.shape == theirs.shape


def _agrees_with_cpu(rule_call, cpu_call):
    """The rule raises exactly when torch's CPU kernel does, else gives its output shape."""
    try:
        want = cpu_call()
    except RuntimeError:
        with pytest.raises(RuntimeError):
            rule_call()
        return
    got = rule_call()
    got, want = (got[0], want[0]) if isinstance(got, tuple) else (got, want)
    assert tuple(got.shape) == tuple(want.shape)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_addmm_rule_rejects_what_torch_rejects(m, k1, k2, n):
    # a Linear fed the wrong number of features (LeNet-5 on 64×64) must fail, not pass
    _agrees_with_cpu(lambda: RULES["addmm"]((_meta(n), _meta(m, k1), _meta(k2, n)), {}),
                     lambda: torch.addmm(torch.zeros(n), torch.zeros(m, k1), torch.zeros(k2, n)))


_small_shape = st.lists(st.integers(1, 3), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(_small_shape, _small_shape)
def test_in_place_add_rule_rejects_what_torch_rejects(a, b):
    # a residual `out += identity` whose shapes differ
    _agrees_with_cpu(lambda: RULES["add_"]((_meta(*a), _meta(*b)), {}),
                     lambda: torch.zeros(a).add_(torch.zeros(b)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3), min_size=3, max_size=3),
       st.lists(st.integers(1, 3), min_size=3, max_size=3), st.integers(0, 2))
def test_cat_rule_rejects_what_torch_rejects(a, b, dim):
    # inception branches whose maps differ in size cannot be concatenated
    _agrees_with_cpu(lambda: RULES["cat"](([_meta(*a), _meta(*b)], dim), {}),
                     lambda: torch.cat([torch.zeros(a), torch.zeros(b)], dim))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4))
def test_batch_norm_under_the_shape_mode_rejects_what_torch_rejects(c, c_bn):
    from archscope.analysis.engines.meta_shapes import MetaShapeMode

    def on(dev):
        bn = torch.nn.BatchNorm2d(c_bn, device=dev).eval()
        with (MetaShapeMode() if dev == "meta" else contextlib.nullcontext()):
            return bn(torch.zeros(2, c, 3, 3, device=dev))

    _agrees_with_cpu(lambda: on("meta"), lambda: on("cpu"))


def test_elementwise_cat_mean_addmm_rules():
    a, b = _meta(4, 1, 3), _meta(5, 1)
    assert RULES["add"]((a, b), {}).shape == (4, 5, 3)  # broadcast 4x1x3 with 5x1
    assert RULES["add_"]((a, 1.0), {}) is a  # in place: the same tensor
    assert RULES["cat"](([_meta(1, 2, 3), _meta(1, 5, 3)], 1), {}).shape == (1, 7, 3)  # 2 + 5
    assert RULES["mean"]((_meta(2, 8, 7, 7), [-1, -2], True), {}).shape == (2, 8, 1, 1)
    assert RULES["addmm"]((_meta(10), _meta(3, 6), _meta(6, 10)), {}).shape == (3, 10)
    with pytest.raises(RuntimeError):  # 3 channels into a conv expecting 4
        RULES["convolution"]((_meta(1, 3, 8, 8), _meta(2, 4, 3, 3), None, [1, 1], [0, 0],
                              [1, 1], False, [0, 0], 1), {})


def _imported_after(commands, modules) -> list[str]:
    """For each command, run in turn in one fresh process (one ``import torch`` for all), the
    listed modules loaded once it has run: what it imported, or one before it did."""
    code = (
        "import sys, runpy\n"
        "for args in %r:\n"
        "    sys.argv = ['archscope', *args]\n"
        "    try:\n        runpy.run_module('archscope', run_name='__main__')\n"
        "    except SystemExit:\n        pass\n"
        "    print('LOADED', sorted(m for m in %r if m in sys.modules))" % (commands, modules)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [ln.removeprefix("LOADED ") for ln in out.stdout.splitlines() if ln.startswith("LOADED")]


@pytest.mark.slow
def test_flops_default_path_imports_no_dynamo_sympy_plotly_pandas():
    # googlenet covers conv, LRN (avg_pool3d), ceil-mode max pool, cat, adaptive pool → mean;
    # resnet18 batch norm and add_; pandas is a sixth of `import torch`: printing a table needs
    # no DataFrame
    mods = ("torch._dynamo", "sympy", "plotly", "fvcore", "pandas")
    commands = [["flops", "googlenet", "-f", "csv"], ["flops", "resnet18", "-f", "csv"],
                *(["params", "googlenet", "-f", fmt] for fmt in ("table", "json", "markdown")),
                ["summary", "resnet18"]]
    loaded = _imported_after(commands, mods)
    assert dict(zip(map(" ".join, commands), loaded)) == {" ".join(c): "[]" for c in commands}


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "markdown"])
def test_summary_explain_verify_every_format(runner, fmt):
    for args in (["summary", "lenet5"], ["explain", "bottleneck"], ["explain"],
                 ["verify", "googlenet"]):
        res = runner.invoke(app, [*args, "-f", fmt])
        assert res.exit_code == 0, (args, res.output)
        if fmt == "json":
            json.loads(res.stdout)
        # the bottleneck's direct 5×5: (14·14·48)·(5·5·480) MACs
        if args == ["explain", "bottleneck"]:
            assert "112,896,000" in res.stdout or "112896000" in res.stdout


def test_fvcore_engine_flag_still_works(runner):
    res = runner.invoke(app, ["flops", "lenet5", "--engine", "fvcore", "-f", "json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["total"]["macs"] == 416_520  # LeNet-5
