"""Per-layer parameter counts: hand-derived figures on tiny nets and on the zoo."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archscope
from archscope.analysis.params import param_report, param_table
from archscope.errors import ArchscopeError


class Shared(nn.Module):
    """Two calls of one Linear plus a second Linear tied to the same weight."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4, bias=False)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(self.a(x)))


def tiny():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),  # 8*3*3*3 = 216 weights + 8 biases
        nn.BatchNorm2d(8),  # γ 8 weights + β 8 biases
        nn.ReLU(),
        nn.Sequential(nn.Conv2d(8, 4, 1, bias=False), nn.ReLU()),  # 4*8 = 32 weights
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 10),  # 256*10 = 2,560 weights + 10 biases
    )


def test_tiny_rows_split_weights_and_biases():
    df = param_table(tiny(), (3, 8, 8))
    by = df.set_index("layer")
    assert by.loc["0", "weights"] == 8 * 3 * 3 * 3 and by.loc["0", "biases"] == 8
    assert by.loc["1", "weights"] == 8 and by.loc["1", "biases"] == 8
    assert by.loc["3.0", "weights"] == 4 * 8 and by.loc["3.0", "biases"] == 0
    assert by.loc["5", "weights"] == 256 * 10 and by.loc["5", "biases"] == 10
    assert by.loc["4", "output_shape"] == "1x256"  # 4 channels * 8 * 8
    total = df.attrs["total"]
    # 216 + 8 + 32 + 2,560 weights; 8 + 8 + 10 biases
    assert (total["weights"], total["biases"]) == (2816, 26)
    assert total["params"] == 2842


def test_sums_match_totals_at_every_depth():
    for depth in (None, 0, 1, 2):
        rep = param_report(tiny(), (3, 8, 8), depth=depth)
        assert rep.rows["weights"].sum() == rep.total["weights"]
        assert rep.rows["biases"].sum() == rep.total["biases"]
        assert rep.rows["share"].sum() == pytest.approx(1.0)


def test_depth_folds_subtree():
    rows = param_table(tiny(), (3, 8, 8), depth=1).set_index("layer")
    assert list(rows.index) == ["0", "1", "2", "3", "4", "5"]
    assert rows.loc["3", "type"] == "Sequential" and rows.loc["3", "weights"] == 32
    assert list(param_table(tiny(), (3, 8, 8), depth=0)["layer"]) == ["(model)"]


def test_shared_parameters_count_once():
    total = param_table(Shared(), (4,)).attrs["total"]
    # a.weight (16) is shared with b; a.bias 4: 16 weights + 4 biases
    assert (total["weights"], total["biases"]) == (16, 4)


def test_caller_model_left_as_it_was():
    m = tiny().train()
    before = [(k, v.clone()) for k, v in m.state_dict().items()]
    param_table(m, (3, 8, 8))
    assert m.training and all(mod.training for mod in m.modules())
    assert all(not mod._forward_hooks and not mod._forward_pre_hooks for mod in m.modules())
    after = m.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before)


def test_wrong_channels_names_the_layer():
    with pytest.raises(ArchscopeError, match=r"at layer 0 \(Conv2d\)"):
        param_table(tiny(), (1, 8, 8))


def test_googlenet_inception3a_and_stage2():
    rows = param_table("googlenet", depth=1).set_index("layer")
    # 3a in 192: 1x1 192*64 + (192*96 + 96*128*9) + (192*16 + 16*32*25) + 192*32
    #          = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328
    assert rows.loc["inception3a", "weights"] == 163_328
    assert rows.loc["inception3a", "biases"] == 64 + 96 + 128 + 16 + 32 + 32  # 368
    assert rows.loc["inception3a", "output_shape"] == "1x256x28x28"  # 64+128+32+32
    # stage 2: 1x1 64->64 (4,096) + 3x3 64->192 (64*192*9 = 110,592) = 114,688
    assert rows.loc["conv2", "weights"] + rows.loc["conv3", "weights"] == 114_688


def test_googlenet_aux_heads_left_out_of_inference_counts():
    rep = param_report("googlenet")
    assert "aux1" not in set(rep.rows["layer"].str.split(".").str[0])
    # each aux head: conv 512|528*128 + 128, fc 2048*1024 + 1024, fc 1024*1000 + 1000
    aux1 = 512 * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000
    aux2 = 528 * 128 + 128 + 2048 * 1024 + 1024 + 1024 * 1000 + 1000
    assert rep.total["not_run_params"] == aux1 + aux2
    assert rep.total["not_run_modules"] == ["aux1", "aux2"]
    full = sum(p.numel() for p in archscope.build("googlenet").parameters())
    assert rep.total["params"] == full - aux1 - aux2


def _vgg16_params() -> int:
    # configuration D: thirteen 3×3 convs (cin·cout·9 weights + cout biases), then
    # FC 512·7·7 → 4096 → 4096 → 1000 (weights + biases)
    cfg = [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    convs = sum(cin * cout * 9 + cout for cin, cout in zip([3, *cfg], cfg))  # 14,714,688
    fcs = (25_088 * 4_096 + 4_096) + (4_096 * 4_096 + 4_096) + (4_096 * 1_000 + 1_000)
    return convs + fcs


def _resnet50_params() -> int:
    # stem conv 7·7·3·64 + BN γβ 2·64; bottleneck (cin, p): 1×1 cin·p, 3×3 9·p², 1×1 p·4p, BN
    # γβ 2p + 2p + 2·4p, and on each stage's first block a projection cin·4p + BN 2·4p;
    # fc 2048·1000 + 1000
    def bottleneck(cin: int, p: int, project: bool) -> int:
        return (cin * p + 9 * p * p + p * 4 * p + 2 * (p + p + 4 * p)
                + (cin * 4 * p + 2 * 4 * p if project else 0))

    total, cin = 3 * 64 * 49 + 2 * 64, 64
    for p, blocks in [(64, 3), (128, 4), (256, 6), (512, 3)]:
        for i in range(blocks):
            total += bottleneck(cin, p, i == 0)
            cin = 4 * p
    return total + 2_048 * 1_000 + 1_000


@pytest.mark.parametrize(
    "name,formula,published",
    [  # the closed forms above, and torchvision's published totals beside them
        ("vgg16", _vgg16_params, 138_357_544),
        ("resnet50", _resnet50_params, 25_557_032),
    ],
)
def test_published_totals(name, formula, published):
    assert formula() == published
    assert param_report(name).total["params"] == formula()


def test_batch_size_in_input_and_option_must_agree():
    assert param_report("lenet5", "4,1,32,32").input_size == (4, 1, 32, 32)
    assert param_report("lenet5", batch_size=3).input_size == (3, 1, 32, 32)
    with pytest.raises(ArchscopeError, match="batch"):
        param_report("lenet5", "4,1,32,32", batch_size=2)


def test_negative_depth_rejected():
    with pytest.raises(ArchscopeError, match="depth"):
        param_report("lenet5", depth=-1)
