"""One record per module call, one cost registry: hand-derived figures beyond the zoo.

Every figure below is derived by hand in its comment. Both engines must give it.
"""

from __future__ import annotations

import json

import pytest
import torch.nn.functional as F
from torch import nn

from archscope.analysis.flops import flop_report
from archscope.analysis.params import param_report
from archscope.analysis.record import record_model
from archscope.analysis.summary import summary_report
from archscope.cli import app

ENGINES = ["meta", "fvcore"]


class TwiceReLU(nn.Module):
    """One ReLU module called twice: the zoo's Bottleneck calls its relu three times."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.conv(self.relu(x)))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_module_called_twice_reports_both_calls(engine):
    # input 1x2x4x4 = 32 elements; each relu call reads 32 and writes 32 floats
    rep = flop_report(TwiceReLU(), (2, 4, 4), engine=engine)
    rows = rep.rows.set_index("layer")
    assert rows.loc["relu", "calls"] == 2
    assert rows.loc["relu", "flops"] == 2 * 32  # activation: 1 per output element, twice
    # bytes moved: 2 calls × (32 in + 32 out) × 4 B = 512; intensity 64 / 512 = 0.125
    assert rows.loc["relu", "intensity"] == pytest.approx(64 / 512)
    # activations: every leaf call's output: relu 32, conv 32, relu 32 → 96 × 4 B
    assert rep.total["activation_bytes"] == 96 * 4
    record = record_model(TwiceReLU(), (2, 4, 4), engine=engine)
    relu_calls = [c for c in record.calls if c.path == "relu"]
    assert [c.index for c in relu_calls] == [0, 1]
    assert [c.cost.other for c in relu_calls] == [{"activation": 32}, {"activation": 32}]


def _resnet50_leaf_outputs() -> int:
    """Every leaf call's output elements in the zoo's ResNet-50 at 1x3x224x224, in closed form.

    Stem: conv1, bn1, relu 64·112² each; maxpool 64·56². A bottleneck of width p, input side
    s_in and output side s (stride on its 3x3): conv1/bn1/relu p·s_in² each, conv2/bn2/relu
    p·s² each, conv3/bn3/relu (after the add) 4p·s² each, and the first block of a stage a
    projection (conv + bn) of 4p·s² each. Head: avgpool 2048, fc 1000.
    """
    total = 3 * 64 * 112 * 112 + 64 * 56 * 56
    side = 56
    for p, s, blocks in ((64, 56, 3), (128, 28, 4), (256, 14, 6), (512, 7, 3)):
        for b in range(blocks):
            s_in = side if b == 0 else s
            total += 3 * p * s_in * s_in + 3 * p * s * s + 3 * 4 * p * s * s
            if b == 0:
                total += 2 * 4 * p * s * s
        side = s
    return total + 2048 + 1000


def test_resnet50_activations_are_every_leaf_calls_output():
    n = _resnet50_leaf_outputs()
    assert n * 4 == 128_161_696  # the figure the old first-call-only record missed by 21.5 %
    assert summary_report("resnet50").total["activation_bytes"] == 4 * n
    assert flop_report("resnet50").total["activation_bytes"] == 4 * n


class Block(nn.Module):
    """A ViT block as timm writes it: fused qkv, F.scaled_dot_product_attention, MLP."""

    def __init__(self, dim: int = 64, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, d)
        x = x + self.proj(a)
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


@pytest.mark.parametrize("engine", ENGINES)
def test_vit_block_macs_in_closed_form(engine):
    n, d, h = 17, 64, 4  # 16 patches + a class token, width 64, 4 heads of 16
    rec = record_model(Block(d, h), (n, d), engine=engine)
    by = {c.path: c.cost for c in rec.calls}
    assert by["qkv"].macs == n * d * 3 * d  # 17·64·192 = 208,896
    assert by["proj"].macs == n * d * d
    assert by["fc1"].macs == n * d * 4 * d and by["fc2"].macs == n * 4 * d * d
    # the block's own work: q·kᵀ h·n·n·(d/h) = n²·d and attn·v n²·d MACs
    assert by[""].macs == 2 * n * n * d == 36_992
    # softmax 3 per score (h·n² scores); scaling q and k by √scale, 1 per element of each;
    # the two residual adds n·d each
    assert by[""].other == {"attention": 3 * h * n * n, "elementwise": 2 * n * d + 2 * n * d}
    # total: 12·n·d² (qkv 3, proj 1, MLP 8) + 2·n²·d
    assert rec.cost.macs == 12 * n * d * d + 2 * n * n * d == 872_576


@pytest.mark.parametrize("engine", ENGINES)
def test_multihead_attention_out_proj_is_counted(engine):
    # nn.MultiheadAttention reads out_proj.weight through F.multi_head_attention_forward
    # without calling out_proj: its 64·64 + 64 parameters are live
    mha = nn.MultiheadAttention(64, 4, batch_first=True)

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = mha

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    rep = param_report(SelfAttention(), (10, 64), engine=engine)
    # in_proj 3·64·64 + 3·64 and out_proj 64·64 + 64
    assert rep.total["params"] == 3 * 64 * 64 + 3 * 64 + 64 * 64 + 64 == 16_640
    assert "not_run_params" not in rep.total
    assert not any("did not run" in n for n in rep.notes)
    rows = rep.rows.set_index("layer")
    assert rows.loc["attn", "params"] == 16_640  # on the layer whose code read them
    macs = flop_report(SelfAttention(), (10, 64), engine=engine).total["macs"]
    # in_proj 10·64·192 + q·kᵀ 10·10·64 + attn·v 10·10·64 + out_proj 10·64·64
    assert macs == 10 * 64 * 192 + 2 * 10 * 10 * 64 + 10 * 64 * 64


def test_a_single_module_model_has_one_row(runner):
    rep = flop_report(nn.Conv2d(3, 4, 3), (3, 8, 8))
    assert rep.columns["layer"] == ["(model)"]
    # 4·6·6 outputs × 27 taps
    assert rep.columns["macs"] == [4 * 36 * 27]
    res = runner.invoke(app, ["flops", "examples/my_model.py:build", "-d", "0", "-f", "json"])
    rows = json.loads(res.stdout)["rows"]
    assert [r["layer"] for r in rows] == ["(model)"]


def test_depth_zero_row_and_total_share_one_intensity():
    rep = flop_report("resnet50", depth=0)
    assert rep.columns["layer"] == ["(model)"]
    assert rep.columns["intensity"][0] == pytest.approx(rep.total["intensity"])
    assert rep.columns["flops"][0] == rep.total["flops"]


def test_api_and_cli_defaults_agree(runner):
    api = flop_report("resnet18").total
    cli = json.loads(runner.invoke(app, ["flops", "resnet18", "-f", "json"]).stdout)
    assert cli["engine"] == "meta" and flop_report("lenet5").meta["engine"] == "meta"
    assert cli["total"]["macs"] == api["macs"] and cli["total"]["flops"] == api["flops"]
    assert summary_report("lenet5").meta["engine"] == "meta"


@pytest.mark.parametrize("engine", ENGINES)
def test_two_input_factory(engine):
    # conv 3→8 3x3 on 32²: 8·32²·27; side 6→8: 48; head 16→10: 160 (batch 1)
    rep = flop_report("examples/two_inputs.py:build", engine=engine)
    assert rep.meta["inputs"] == "1x3x32x32,1x6"
    assert rep.total["macs"] == 8 * 32 * 32 * 27 + 6 * 8 + 16 * 10
    rep8 = flop_report("examples/two_inputs.py:build", "8x3x32x32,8x6", engine=engine)
    assert rep8.total["macs"] == 8 * rep.total["macs"]


@pytest.mark.parametrize("engine", ENGINES)
def test_token_factory(engine):
    # embedding (no arithmetic) + 2 pre-norm encoder layers, d = 64, L = 128, FF 256, 4 heads:
    # per layer in_proj L·d·3d + q·kᵀ and attn·v 2·L²·d + out_proj L·d² + FF 2·L·d·4d
    L, d = 128, 64
    layer = L * d * 3 * d + 2 * L * L * d + L * d * d + 2 * L * d * 4 * d
    rep = flop_report("examples/token_model.py:build", engine=engine)
    assert rep.meta["inputs"] == "1x128:int64"
    assert rep.total["macs"] == 2 * layer + d * 5  # + the head 64→5
    # params: embedding 1000·64, positions 512·64, per layer 4·64² + 4·64 (attention)
    # + 2·64·256 + 256 + 64 (FF) + 2·2·64 (norms), head 64·5 + 5
    per_layer = 4 * d * d + 4 * d + 2 * d * 256 + 256 + d + 4 * d
    assert rep.total["params"] == 1000 * d + 512 * d + 2 * per_layer + d * 5 + 5


def test_token_model_errors_name_its_input_format(runner):
    res = runner.invoke(app, ["flops", "examples/token_model.py:build", "-i", "3x224x224"])
    assert res.exit_code == 2
    assert "takes 1x128:int64" in res.stderr and "--input-size 1x128:int64" in res.stderr
    res = runner.invoke(app, ["flops", "examples/two_inputs.py:build", "-i", "1x3x32x32"])
    assert res.exit_code == 2 and "1x3x32x32,1x6" in res.stderr


def test_keyword_inputs_count_in_both_engines():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(8, 8, bias=False)

        def forward(self, x, mask=None):
            return self.lin(x).masked_fill(mask, 0.0)

    for engine in ENGINES:
        rep = flop_report(Masked(), "1x4x8,mask=1x4x8:bool", engine=engine)
        # linear 4·8·8 MACs; masked_fill 1 per element of 1·4·8
        assert rep.total["macs"] == 256 and rep.total["other_flops"] == {"elementwise": 32}


@pytest.mark.parametrize("engine", ENGINES)
def test_transposed_conv_passes_verify(runner, engine, tmp_path):
    spec = tmp_path / "up.py"
    spec.write_text("from torch import nn\n"
                    "def build():\n"
                    "    return nn.Sequential(nn.ConvTranspose2d(8, 4, 2, stride=2)), (8, 8, 8)\n")
    res = runner.invoke(app, ["verify", f"{spec}:build", "-e", engine, "-f", "json"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    # MACs: every input element (8·8·8 = 512) scatters into 4 × 2·2 outputs: 8,192
    assert obj["total"]["macs"] == 512 * 16 == 8_192
    # torchinfo: (weights 8·4·2·2 + bias 4) × 16·16 output positions
    assert obj["total"]["mult_adds_torchinfo"] == 132 * 256 == 33_792


def test_verify_fails_on_an_unexplained_total(monkeypatch):
    from archscope.analysis import crosscheck

    real = crosscheck._torchinfo_calls

    def one_param_more(model, inputs):  # a witness whose total disagrees, rows intact
        calls, params, mult_adds = real(model, inputs)
        return calls, params + 1, mult_adds

    monkeypatch.setattr(crosscheck, "_torchinfo_calls", one_param_more)
    c = crosscheck.crosscheck_torchinfo("lenet5")
    assert all(c.columns["match"]) and not c.ok
    assert any("DISAGREE" in n for n in c.notes)


def test_verify_counts_functional_weights_in_the_total():
    # a block that applies its child's weight with F.linear and never calls the child
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(6, 3)

        def forward(self, x):
            return F.linear(x, self.inner.weight, self.inner.bias)

    from archscope.analysis.crosscheck import crosscheck_torchinfo

    c = crosscheck_torchinfo(nn.Sequential(Functional()), (6,))
    assert c.ok and c.total["params"] == c.total["params_torchinfo"] == 6 * 3 + 3


def test_dead_modules_name_only_what_did_not_run():
    class Looped(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(nn.Linear(4, 4) for _ in range(2))
            self.unused = nn.Linear(4, 4)  # never called, never read

        def forward(self, x):
            for b in self.blocks:  # the ModuleList itself is never called
                x = b(x)
            return x

    rec = record_model(Looped(), (4,))
    assert rec.dead_modules == ["unused"] and rec.dead_params == 20
    assert rec.params == 2 * 20


def test_shared_weights_count_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(5, 5, bias=False)
            self.b = nn.Linear(5, 5, bias=False)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    for engine in ENGINES:
        rec = record_model(Tied(), (5,), engine=engine)
        assert rec.params == 25  # one 5·5 tensor, read twice
        assert [c.params_read[0].numel for c in rec.calls if c.path in ("a", "b")] == [25, 25]
        assert rec.cost.macs == 2 * 25


def test_a_third_engine_needs_no_change_to_the_tables(monkeypatch):
    from archscope.analysis import engines
    from archscope.analysis.engines import base
    from archscope.analysis.engines.meta import MetaEngine

    class Echo(MetaEngine):  # a new engine: here the meta engine under another name
        name = "echo"

    import types
    import sys

    module = types.ModuleType("archscope_test_echo_engine")
    module.ENGINE = Echo()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(base, "ENGINES", dict(base.ENGINES))
    base.register_engine(base.EngineInfo("echo", module.__name__, "the meta engine, renamed"))
    assert "echo" in engines.engine_names() or "echo" in base.engine_names()
    rep = flop_report("lenet5", engine="echo")
    assert rep.meta["engine"] == "echo" and rep.total["macs"] == 416_520
    assert "echo: the meta engine, renamed" in base.engine_help()


def test_a_forward_that_reads_values_is_counted_on_cpu():
    class Gated(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            y = self.lin(x)
            if y.abs().sum().item() >= 0:  # reads a value: the meta device has none
                y = y * 2
            return y

    rep = flop_report(Gated(), (4,), engine="meta")
    # linear 4·4 MACs + bias 4; abs 4 and sum over 4 inputs; the multiply 4
    assert rep.total["macs"] == 16
    assert rep.total["other_flops"] == {"bias": 4, "elementwise": 8, "reduction": 4}
    assert any("real CPU forward" in n and "reads tensor values" in n for n in rep.notes)
