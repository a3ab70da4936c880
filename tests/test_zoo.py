"""The model zoo: every registered network builds, runs (CPU and meta device) and has the exact
parameter counts, feature-map sizes and figures of its paper, seed or torchvision.

Every expected number is derived by hand in the comment beside it. Big networks are built and run
on the meta device (shapes only), so the file stays fast on two CPU cores.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from archscope.errors import ArchscopeError
from archscope.zoo import build, list_models, model_info, register_model
from archscope.zoo.googlenet import GoogLeNetOutputs, Inception
from archscope.zoo.inception import InceptionOutputs

ALL = list_models()
MODELS = list_models(kind="model")
BLOCKS = list_models(kind="block")

# Output channels of each block at its registered default input (spatial size is preserved).
BLOCK_CHANNELS = {
    "inception_naive": 128 + 192 + 96 + 256,  # 1x1 | 3x3 | 5x5 | pool passes 256 through = 672
    "inception_v1_block": 128 + 192 + 96 + 64,  # = 480
    "basic_block": 256,
    "bottleneck_block": 64 * 4,  # planes * expansion = 256
}

# Cheap enough for a real CPU forward at the default input (the rest run on meta only).
CPU_FORWARD = {"cifar_cnn", "lenet5", "alexnet", "googlenet", "googlenet_d2l", "resnet18",
               "inception_naive", "inception_v1_block", "basic_block", "bottleneck_block"}


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def meta_build(name: str, **kw) -> nn.Module:
    with torch.device("meta"):
        return build(name, **kw)


def meta_input(name: str, batch: int = 1, **overrides) -> torch.Tensor:
    size = list(model_info(name).input_size)
    if "in_channels" in overrides:
        size[0] = overrides["in_channels"]
    return torch.empty(batch, *size, device="meta")


def conv_weights(c_in: int, c_out: int, k: int) -> int:
    return c_in * c_out * k * k


def inception_v1_params(row: tuple[int, ...]) -> int:
    """Table 1 row (in, 1x1, 3x3red, 3x3, 5x5red, 5x5, pool proj): weights + one bias per filter."""
    cin, c1, r3, c3, r5, c5, pp = row
    weights = cin * c1 + cin * r3 + r3 * c3 * 9 + cin * r5 + r5 * c5 * 25 + cin * pp
    biases = c1 + r3 + c3 + r5 + c5 + pp
    return weights + biases


# Table 1 of Going Deeper with Convolutions, copied here independently of the model code.
TABLE1 = [
    (192, 64, 96, 128, 16, 32, 32),
    (256, 128, 128, 192, 32, 96, 64),
    (480, 192, 96, 208, 16, 48, 64),
    (512, 160, 112, 224, 24, 64, 64),
    (512, 128, 128, 256, 24, 64, 64),
    (512, 112, 144, 288, 32, 64, 64),
    (528, 256, 160, 320, 32, 128, 128),
    (832, 256, 160, 320, 32, 128, 128),
    (832, 384, 192, 384, 48, 128, 128),
]
INCEPTIONS_V1 = sum(inception_v1_params(r) for r in TABLE1)  # 5,849,136
GOOGLENET_STEM = (
    (conv_weights(3, 64, 7) + 64)  # conv1 7x7: 9,408 + 64
    + (conv_weights(64, 64, 1) + 64)  # conv2 1x1: 4,096 + 64
    + (conv_weights(64, 192, 3) + 192)  # conv3 3x3: 110,592 + 192
)  # = 124,416


def googlenet_aux(c_in: int) -> int:
    # 1x1 conv c_in->128 (+bias), FC 128*4*4=2048 -> 1024, FC 1024 -> 1000
    return (c_in * 128 + 128) + (2048 * 1024 + 1024) + (1024 * 1000 + 1000)


GOOGLENET_NOAUX = GOOGLENET_STEM + INCEPTIONS_V1 + (1024 * 1000 + 1000)  # = 6,998,552
# Inception v3's aux head: conv0 768->128 1x1 + BN(2*128), conv1 128->768 5x5 + BN(2*768), FC 768->1000.
V3_AUX = (768 * 128 + 256) + (128 * 768 * 25 + 1536) + (768 * 1000 + 1000)  # = 3,326,696

# VGG's configurations A, B, D, E (Simonyan & Zisserman, Table 1): 3×3 conv widths, "M" a pool.
VGG_CONVS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


def vgg_params(depth: int, bn: bool) -> int:
    # each 3×3 conv: cin·cout·9 + cout (+ BN γβ 2·cout); FC 512·7·7 → 4096 → 4096 → 1000
    widths = [w for w in VGG_CONVS[depth] if w != "M"]
    convs = sum(cin * cout * 9 + cout + (2 * cout if bn else 0)
                for cin, cout in zip([3, *widths], widths))
    return convs + (25_088 * 4_096 + 4_096) + (4_096 * 4_096 + 4_096) + (4_096 * 1_000 + 1_000)


RESNET_STAGES = {18: (False, [2, 2, 2, 2]), 34: (False, [3, 4, 6, 3]), 50: (True, [3, 4, 6, 3]),
                 101: (True, [3, 4, 23, 3]), 152: (True, [3, 8, 36, 3])}


def resnet_params(depth: int) -> int:
    # stem 7·7·3·64 + BN 2·64; basic block (cin→p): 3×3 cin·p·9 + 3×3 p·p·9 + BN 2p + 2p;
    # bottleneck: 1×1 cin·p + 3×3 9p² + 1×1 p·4p + BN 2(p + p + 4p); a stage's first block
    # projects when the shape changes: 1×1 cin·out + BN 2·out; fc out·1000 + 1000
    bottleneck, blocks = RESNET_STAGES[depth]
    total, cin = 3 * 64 * 49 + 2 * 64, 64
    for p, n in zip([64, 128, 256, 512], blocks):
        out = 4 * p if bottleneck else p
        for i in range(n):
            if bottleneck:
                total += cin * p + 9 * p * p + p * out + 2 * (p + p + out)
            else:
                total += cin * p * 9 + p * p * 9 + 2 * (p + p)
            if i == 0 and cin != out or i == 0 and p != 64:  # channels or stride change
                total += cin * out + 2 * out
            cin = out
    return total + cin * 1_000 + 1_000


# torchvision's documented totals, which the closed forms above must equal
TORCHVISION_PARAMS = {
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_868_840, "vgg13_bn": 133_053_736, "vgg16_bn": 138_365_992,
    "vgg19_bn": 143_678_248, "resnet18": 11_689_512, "resnet34": 21_797_672,
    "resnet50": 25_557_032, "resnet101": 44_549_160, "resnet152": 60_192_808,
}

EXPECTED_PARAMS = {
    # seed 001's CF: three 5x5 convs, FC 1024->64, FC 64->10
    "cifar_cnn": (3 * 25 * 32 + 32) + (32 * 25 * 32 + 32) + (32 * 25 * 64 + 64)
    + (1024 * 64 + 64) + (64 * 10 + 10),  # 2,432 + 25,632 + 51,264 + 65,600 + 650 = 145,578
    # C1 1->6 5x5, C3 6->16 5x5 (full), C5 16->120 5x5, F6 120->84, out 84->10
    "lenet5": (1 * 25 * 6 + 6) + (6 * 25 * 16 + 16) + (16 * 25 * 120 + 120)
    + (120 * 84 + 84) + (84 * 10 + 10),  # 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706
    "alexnet": (conv_weights(3, 96, 11) + 96)  # 34,944
    + (conv_weights(96, 256, 5) + 256)  # 614,656
    + (conv_weights(256, 384, 3) + 384)  # 885,120
    + (conv_weights(384, 384, 3) + 384)  # 1,327,488
    + (conv_weights(384, 256, 3) + 256)  # 884,992
    + (9216 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000),  # = 62,378,344
    # Stem + Table 1 modules + fc, plus the two aux heads (on 4a: 512 ch, on 4d: 528 ch).
    "googlenet": GOOGLENET_NOAUX + googlenet_aux(512) + googlenet_aux(528),  # = 13,378,280
    # d2l: same modules, 1-channel 7x7 stem conv, FC 1024->10, no LRN, no aux.
    "googlenet_d2l": (conv_weights(1, 64, 7) + 64) + (conv_weights(64, 64, 1) + 64)
    + (conv_weights(64, 192, 3) + 192) + INCEPTIONS_V1 + (1024 * 10 + 10),  # = 5,977,530
    # torchvision documents 27,161,264 for inception_v3 (its weights carry AuxLogits); our default
    # has no aux head: 27,161,264 - 3,326,696 = 23,834,568.
    "inception_v3": 27_161_264 - V3_AUX,
    # VGG and ResNet from their closed forms (below), each equal to torchvision's documented total
    **{f"vgg{d}{bn}": vgg_params(d, bool(bn)) for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{f"resnet{d}": resnet_params(d) for d in (18, 34, 50, 101, 152)},
    # Blocks, on 256 input channels.
    "inception_naive": (256 * 128 + 256 * 192 * 9 + 256 * 96 * 25)  # weights 1,089,536
    + (128 + 192 + 96),  # biases 416 -> 1,089,952
    "inception_v1_block": inception_v1_params((256, 128, 64, 192, 64, 96, 64)),  # 346,112 + 608
    "basic_block": 2 * (256 * 256 * 9) + 2 * (2 * 256),  # two 3x3 convs + two BNs = 1,180,672
    "bottleneck_block": (256 * 64) + (64 * 64 * 9) + (64 * 256)  # 69,632 conv weights
    + 2 * (64 + 64 + 256),  # three BNs = 768 -> 70,400
}


# ---------------------------------------------------------------- registry-wide checks


def test_closed_forms_equal_torchvision_totals():
    assert {n: EXPECTED_PARAMS[n] for n in TORCHVISION_PARAMS} == TORCHVISION_PARAMS


def test_every_registered_name_has_an_expected_total():
    assert set(EXPECTED_PARAMS) == set(ALL)
    assert set(BLOCK_CHANNELS) == set(BLOCKS)


@pytest.mark.parametrize("name", ALL)
def test_builds(name):
    m = build(name)
    assert isinstance(m, nn.Module)
    assert n_params(m) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", ALL)
def test_metadata_complete(name):
    info = model_info(name)
    assert info.name == name
    assert info.kind in ("model", "block")
    assert info.family and info.description and info.paper
    assert any(str(y) in info.paper for y in range(1990, 2030)), "paper citation carries a year"
    assert 1989 <= info.year <= 2020
    assert len(info.input_size) == 3 and all(isinstance(d, int) and d > 0 for d in info.input_size)
    if info.kind == "model":
        assert isinstance(info.num_classes, int) and info.num_classes > 0
    else:
        assert info.num_classes is None
    # Builders take keyword arguments only, all with defaults, and cite their paper.
    sig = inspect.signature(info.builder)
    for p in sig.parameters.values():
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
    assert "in_channels" in sig.parameters
    if info.kind == "model":
        assert sig.parameters["num_classes"].default == info.num_classes
    assert sig.parameters["in_channels"].default == info.input_size[0]
    assert info.builder.__doc__


def _expected_shape(name: str, batch: int = 1) -> tuple[int, ...]:
    info = model_info(name)
    if info.kind == "model":
        return (batch, info.num_classes)
    return (batch, BLOCK_CHANNELS[name], *info.input_size[1:])


@pytest.mark.parametrize("name", ALL)
def test_meta_build_and_eval_forward(name):
    m = meta_build(name).eval()
    assert all(p.is_meta for p in m.parameters())
    with torch.no_grad():
        y = m(meta_input(name))
    assert isinstance(y, torch.Tensor) and y.is_meta
    assert tuple(y.shape) == _expected_shape(name)
    assert n_params(m) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", sorted(CPU_FORWARD))
def test_cpu_eval_forward(name):
    torch.manual_seed(0)
    m = build(name).eval()
    with torch.no_grad():
        y = m(torch.randn(1, *model_info(name).input_size))
    assert tuple(y.shape) == _expected_shape(name)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("name", MODELS)
def test_in_channels_and_num_classes_honoured(name):
    m = meta_build(name, num_classes=7, in_channels=1).eval()
    y = m(meta_input(name, in_channels=1))
    assert tuple(y.shape) == (1, 7)


@pytest.mark.parametrize("name", BLOCKS)
def test_block_in_channels_honoured(name):
    m = meta_build(name, in_channels=64).eval()
    y = m(meta_input(name, in_channels=64))
    extra = 64 - 256 if name == "inception_naive" else 0  # the naive pool branch passes input through
    assert tuple(y.shape) == (1, BLOCK_CHANNELS[name] + extra, *model_info(name).input_size[1:])


# ---------------------------------------------------------------- registry behaviour


def test_registry_refuses_duplicate_names():
    with pytest.raises(ValueError, match="registered twice"):
        register_model(family="lenet", year=1998, input_size=(1, 32, 32), num_classes=10,
                       paper="x 1998", description="x", name="lenet5")(lambda: None)


def test_list_models_natural_order_and_kinds():
    assert list_models("resnet*") == ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
    assert list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert BLOCKS == ["basic_block", "bottleneck_block", "inception_naive", "inception_v1_block"]
    assert len(ALL) == 23  # 19 networks + 4 blocks


def test_unknown_name_and_option_are_user_errors():
    with pytest.raises(ArchscopeError, match="resnet"):
        build("resnet5")
    with pytest.raises(ArchscopeError):
        build("lenet5", depth=3)


# ---------------------------------------------------------------- LeNet-5 and AlexNet figures


def _run_hooks(name: str, kinds: tuple[type, ...]) -> list[tuple[nn.Module, torch.Tensor]]:
    """(module, output) for each module of ``kinds``, in call order, on the meta device."""
    m = meta_build(name).eval()
    seen: list = []
    handles = [mod.register_forward_hook(lambda mod, i, o: seen.append((mod, o)))
               for mod in m.modules() if isinstance(mod, kinds)]
    try:
        m(meta_input(name))
    finally:
        for h in handles:
            h.remove()
    return seen


def test_lenet5_feature_maps_and_macs():
    seen = _run_hooks("lenet5", (nn.Conv2d, nn.AvgPool2d, nn.Linear))
    sizes = [o.shape[-1] for mod, o in seen if not isinstance(mod, nn.Linear)]
    assert sizes == [28, 14, 10, 5, 1]  # C1, S2, C3, S4, C5
    macs = 0
    for mod, o in seen:
        if isinstance(mod, nn.Conv2d):
            kh, kw = mod.kernel_size
            macs += o.numel() * mod.in_channels * kh * kw
        elif isinstance(mod, nn.Linear):
            macs += mod.in_features * mod.out_features
    # C1 6*28*28*25 = 117,600; C3 16*10*10*150 = 240,000; C5 120*400 = 48,000;
    # F6 120*84 = 10,080; output 84*10 = 840
    assert macs == 117_600 + 240_000 + 48_000 + 10_080 + 840 == 416_520


def test_alexnet_feature_maps():
    seen = _run_hooks("alexnet", (nn.Conv2d, nn.MaxPool2d))
    sizes = [o.shape[-1] for _, o in seen]
    # conv1 (227-11)/4+1 = 55, pool (55-3)/2+1 = 27, conv2 27, pool 13, conv3-5 13, pool 6
    assert sizes == [55, 27, 27, 13, 13, 13, 13, 6]
    assert tuple(seen[-1][1].shape) == (1, 256, 6, 6)  # 9,216 into FC6
    lrns = [mod for mod in meta_build("alexnet").modules() if isinstance(mod, nn.LocalResponseNorm)]
    assert [(m.size, m.alpha, m.beta, m.k) for m in lrns] == [(5, 1e-4, 0.75, 2.0)] * 2


# ---------------------------------------------------------------- GoogLeNet figures


GOOGLENET_CHILDREN = [
    "conv1", "maxpool1", "lrn1", "conv2", "conv3", "lrn2", "maxpool2", "inception3a",
    "inception3b", "maxpool3", "inception4a", "inception4b", "inception4c", "inception4d",
    "inception4e", "maxpool4", "inception5a", "inception5b", "aux1", "aux2", "avgpool", "dropout", "fc",
]


def test_googlenet_module_names():
    m = meta_build("googlenet")
    assert sorted(n for n, _ in m.named_children()) == sorted(GOOGLENET_CHILDREN)
    assert isinstance(m.conv1.conv, nn.Conv2d) and m.conv1.conv.kernel_size == (7, 7)
    assert [n for n, _ in m.inception3a.named_children()] == ["branch1", "branch2", "branch3", "branch4"]
    lrn = m.lrn1
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k) == (5, 1e-4, 0.75, 1.0)
    assert m.dropout.p == 0.4 and m.aux1.dropout.p == 0.7
    no_aux = meta_build("googlenet", aux_logits=False)
    assert no_aux.aux1 is None and no_aux.aux2 is None
    assert n_params(no_aux) == GOOGLENET_NOAUX == 6_998_552


def test_googlenet_stage_shapes_and_block_depths():
    m = meta_build("googlenet").eval()
    out: dict[str, tuple[int, ...]] = {}
    handles = [getattr(m, n).register_forward_hook(lambda mod, i, o, n=n: out.__setitem__(n, tuple(o.shape)))
               for n in GOOGLENET_CHILDREN if n not in ("aux1", "aux2")]
    y = m(torch.empty(1, 3, 224, 224, device="meta"))
    for h in handles:
        h.remove()
    assert out["conv1"] == (1, 64, 112, 112)  # (224 + 2*3 - 7)//2 + 1 = 112
    assert out["maxpool1"] == (1, 64, 56, 56)  # ceil((112-3)/2) + 1 = 56
    assert out["maxpool2"] == (1, 192, 28, 28)
    assert out["maxpool3"] == (1, 480, 14, 14)
    assert out["maxpool4"] == (1, 832, 7, 7)
    assert out["avgpool"] == (1, 1024, 1, 1)
    assert tuple(y.shape) == (1, 1000)
    depths = {n[-2:]: out[n][1] for n in out if n.startswith("inception")}
    # each depth = #1x1 + #3x3 + #5x5 + pool proj of its Table 1 row
    assert depths == {"3a": 256, "3b": 480, "4a": 512, "4b": 512, "4c": 512, "4d": 528,
                      "4e": 832, "5a": 832, "5b": 1024}


def test_googlenet_inception3a_and_stage2_figures():
    m = meta_build("googlenet")
    blk = m.inception3a
    weights = sum(p.numel() for n, p in blk.named_parameters() if n.endswith("weight"))
    biases = sum(p.numel() for n, p in blk.named_parameters() if n.endswith("bias"))
    # 192*64 + 192*96 + 96*128*9 + 192*16 + 16*32*25 + 192*32
    # = 12,288 + 18,432 + 110,592 + 3,072 + 12,800 + 6,144 = 163,328 (seed 002)
    assert weights == 163_328
    assert biases == 64 + 96 + 128 + 16 + 32 + 32 == 368
    y = blk(torch.empty(1, 192, 28, 28, device="meta"))
    assert tuple(y.shape) == (1, 256, 28, 28)  # 64 + 128 + 32 + 32
    stage2 = m.conv2.conv.weight.numel() + m.conv3.conv.weight.numel()
    assert stage2 == 64 * 64 + 64 * 192 * 9 == 4_096 + 110_592 == 114_688  # seed 002


def test_googlenet_train_returns_three_outputs_eval_one():
    m = meta_build("googlenet").train()
    outs = m(torch.empty(2, 3, 224, 224, device="meta"))
    assert isinstance(outs, GoogLeNetOutputs) and len(outs) == 3
    assert [tuple(t.shape) for t in outs] == [(2, 1000)] * 3
    y = m.eval()(torch.empty(2, 3, 224, 224, device="meta"))
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == (2, 1000)
    y = meta_build("googlenet", aux_logits=False).train()(torch.empty(2, 3, 224, 224, device="meta"))
    assert isinstance(y, torch.Tensor)


@pytest.mark.parametrize("name,aux_names", [("googlenet", ("aux1", "aux2")),
                                            ("inception_v3", ("AuxLogits",))])
def test_aux_heads_run_only_in_training(name, aux_names):
    m = meta_build(name, aux_logits=True)
    calls: list[str] = []
    handles = [getattr(m, a).register_forward_hook(lambda *_, a=a: calls.append(a)) for a in aux_names]
    x = meta_input(name, batch=2)
    try:
        m.eval()(x)
        assert calls == []  # inference never touches the aux heads
        out = m.train()(x)
        assert calls == list(aux_names)
        assert len(out) == 1 + len(aux_names)
    finally:
        for h in handles:
            h.remove()


def test_googlenet_d2l_follows_seed_003():
    m = meta_build("googlenet_d2l")
    assert [n for n, _ in m.named_children()] == ["b1", "b2", "b3", "b4", "b5", "fc"]
    assert isinstance(m.b5[-2], nn.AdaptiveAvgPool2d) and m.fc.in_features == 1024
    x = torch.empty(1, 1, 96, 96, device="meta")
    shapes = []
    for blk in list(m.children())[:-1]:
        x = blk(x)
        shapes.append(tuple(x.shape))
    # 96 -> conv/2 48 -> pool 24; b2 pool 12; b3 pool 6; b4 pool 3; b5 global pool
    assert shapes == [(1, 64, 24, 24), (1, 192, 12, 12), (1, 480, 6, 6), (1, 832, 3, 3), (1, 1024)]


# ---------------------------------------------------------------- Inception v3, VGG, ResNet


def test_inception_v3_aux_count_and_outputs():
    m = meta_build("inception_v3", aux_logits=True)
    assert n_params(m) == EXPECTED_PARAMS["inception_v3"] + V3_AUX == 27_161_264  # torchvision's
    out = m.train()(torch.empty(2, 3, 299, 299, device="meta"))
    assert isinstance(out, InceptionOutputs) and tuple(out.aux_logits.shape) == (2, 1000)
    assert all(mod.eps == 0.001 for mod in m.modules() if isinstance(mod, nn.BatchNorm2d))


def test_vgg16_runs_at_2048_and_32():
    m = meta_build("vgg16").eval()
    for side in (2048, 32):  # the adaptive 7x7 pool lets any input >= 32 reach the classifier
        assert tuple(m(torch.empty(1, 3, side, side, device="meta")).shape) == (1, 1000)


def test_resnet_bottleneck_stride_on_3x3_and_projection_shortcuts():
    m = meta_build("resnet50")
    first = m.layer2[0]
    assert first.conv1.stride == (1, 1) and first.conv2.stride == (2, 2)  # torchvision v1.5
    assert isinstance(first.downsample[0], nn.Conv2d) and first.downsample[0].kernel_size == (1, 1)
    assert m.layer1[1].downsample is None
    r18 = meta_build("resnet18")
    assert r18.layer1[0].downsample is None and r18.layer2[0].downsample is not None


@settings(max_examples=25, deadline=None)
@given(cin=st.integers(1, 16), c1=st.integers(1, 8), r3=st.integers(1, 8), c3=st.integers(1, 8),
       r5=st.integers(1, 8), c5=st.integers(1, 8), pp=st.integers(1, 8))
def test_inception_channels_and_params_follow_the_row(cin, c1, r3, c3, r5, c5, pp):
    row = (cin, c1, r3, c3, r5, c5, pp)
    blk = Inception(*row)
    assert n_params(blk) == inception_v1_params(row)
    y = blk(torch.zeros(1, cin, 5, 5))
    assert tuple(y.shape) == (1, c1 + c3 + c5 + pp, 5, 5)
