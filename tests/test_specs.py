"""Model specs beyond the zoo: torchvision:, timm:, package.module:factory, path/to/file.py:factory.

torchvision and timm are not installed here: their success paths run against small fake packages
injected into ``sys.modules``; their missing-package message is checked with the real absence
forced by ``sys.modules[name] = None`` so it does not depend on this machine.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import torch
from torch import nn

from archscope.cli import app
from archscope.errors import ArchscopeError
from archscope.models import load_target, resolve_input_shape

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "my_model.py"

# TinyNet(num_classes=10, width=16) in examples/my_model.py, by hand:
#   conv 3→16 3x3: 16*3*9 + 16 = 448; conv 16→32 3x3: 32*16*9 + 32 = 4,640; linear 32→10: 320 + 10 = 330
TINYNET_PARAMS = 448 + 4_640 + 330


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def params_json(runner, spec: str, *extra: str) -> dict:
    res = runner.invoke(app, ["params", spec, "-f", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def one_line_error(runner, args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    return lines[0]


# --- the user's own file and module -----------------------------------------------------------


def test_example_file_with_its_own_input_size(runner):
    obj = params_json(runner, f"{EXAMPLE}:build")
    assert obj["input_size"] == [1, 3, 64, 64]  # build() returns (module, (3, 64, 64))
    assert obj["total"]["params"] == TINYNET_PARAMS


def test_file_factory_kwargs(runner):
    obj = params_json(runner, f"{EXAMPLE}:build", "--kwargs", "width=8,num_classes=100")
    # conv 3→8: 8*27 + 8 = 224; conv 8→16: 16*72 + 16 = 1,168; linear 16→100: 1,600 + 100 = 1,700
    assert obj["total"]["params"] == 224 + 1_168 + 1_700


def test_class_as_factory_needs_input_size(runner):
    msg = one_line_error(runner, ["params", f"{EXAMPLE}:TinyNet"])
    assert "--input-size is needed" in msg
    obj = params_json(runner, f"{EXAMPLE}:TinyNet", "-i", "3x16x16")
    assert obj["total"]["params"] == TINYNET_PARAMS


def test_file_load_leaves_sys_modules_clean(tmp_path):
    # A user file named like a real module must neither shadow it nor stay registered.
    write(tmp_path, "json.py", """
        import torch.nn as nn
        def build():
            return nn.Linear(4, 2)
    """)
    before = set(sys.modules)
    target = load_target(f"{tmp_path / 'json.py'}:build")
    assert isinstance(target.model, nn.Linear)
    assert sys.modules["json"] is json  # the stdlib json, untouched
    assert not [m for m in set(sys.modules) - before if m.startswith("_archscope_user_")]
    assert str(tmp_path) not in sys.path


def test_file_can_import_its_sibling(tmp_path):
    write(tmp_path, "blocks_sibling_xyz.py", """
        import torch.nn as nn
        def block():
            return nn.Conv2d(3, 4, 1)
    """)
    write(tmp_path, "net.py", """
        import torch.nn as nn
        from blocks_sibling_xyz import block
        def build():
            return nn.Sequential(block(), nn.ReLU())
    """)
    target = load_target(f"{tmp_path / 'net.py'}:build")
    assert sum(p.numel() for p in target.model.parameters()) == 4 * 3 + 4  # 1x1 conv + bias


def test_package_module_factory(tmp_path, monkeypatch, runner):
    pkg = tmp_path / "userpkg_specs_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    write(pkg, "nets.py", """
        import torch.nn as nn
        def mlp(hidden=5):
            net = nn.Sequential(nn.Flatten(), nn.Linear(12, hidden), nn.ReLU(), nn.Linear(hidden, 2))
            return net, "3x2x2"
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    obj = params_json(runner, "userpkg_specs_test.nets:mlp", "--kwargs", "hidden=7")
    # Linear 12→7: 84 + 7 = 91; Linear 7→2: 14 + 2 = 16
    assert obj["total"]["params"] == 91 + 16
    assert obj["input_size"] == [1, 3, 2, 2]


def test_spec_model_is_built_on_cpu_with_real_weights(tmp_path):
    target = load_target(f"{EXAMPLE}:build")
    assert all(p.device.type == "cpu" for p in target.model.parameters())
    assert resolve_input_shape(target, None, 4) == (4, 3, 64, 64)


# --- torchvision and timm ---------------------------------------------------------------------


@pytest.mark.parametrize("package", ["torchvision", "timm"])
def test_missing_optional_package_names_the_extra(runner, monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # import raises ModuleNotFoundError
    msg = one_line_error(runner, ["params", f"{package}:resnet50"])
    assert f"needs the optional package {package}" in msg
    assert f"pip install 'archscope[{package}]'" in msg


def _fake_torchvision(monkeypatch, calls):
    tv = types.ModuleType("torchvision")
    tv.__version__ = "0.0-fake"
    models = types.ModuleType("torchvision.models")

    def list_models(module=None):
        names = ["resnet50", "inception_v3", "fasterrcnn_resnet50_fpn"]
        return names[:2] if module is models else names  # detection lives in a submodule

    def classifier(*, weights=None, progress=True, **kwargs):
        return nn.Sequential(nn.Conv2d(3, kwargs.get("width", 8), 3), nn.AdaptiveAvgPool2d(1))

    def detector(*, weights=None, progress=True, weights_backbone="IMAGENET1K_V1", **kwargs):
        return nn.Sequential(nn.Conv2d(3, 2, 3))

    def get_model_builder(name):
        return detector if name.startswith("fasterrcnn") else classifier

    def get_model(name, **kwargs):
        calls.append((name, kwargs))
        return get_model_builder(name)(**kwargs)

    class Weights:  # torchvision's weights enum: metadata and transforms, nothing downloaded
        def __init__(self, crop):
            self.transforms = functools.partial(object, crop_size=crop)
            self.meta = {"min_size": (crop, crop)}

    def get_model_weights(name):
        return types.SimpleNamespace(DEFAULT=Weights(299 if name == "inception_v3" else 224))

    models.list_models, models.get_model = list_models, get_model
    models.get_model_builder, models.get_model_weights = get_model_builder, get_model_weights
    tv.models = models
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)


def test_torchvision_success_path_with_fake_package(runner, monkeypatch):
    calls = []
    _fake_torchvision(monkeypatch, calls)
    obj = params_json(runner, "torchvision:resnet50", "--kwargs", "width=4")
    assert calls == [("resnet50", {"width": 4, "weights": None})]  # never downloads weights
    assert obj["input_size"] == [1, 3, 224, 224]
    assert obj["total"]["params"] == 4 * 3 * 9 + 4  # conv 3→4 3x3 + bias
    # the default input is the default weights' transforms' crop size
    assert load_target("torchvision:inception_v3").sample_shape == (3, 299, 299)


def test_torchvision_detection_backbone_weights_are_not_downloaded(monkeypatch):
    calls = []
    _fake_torchvision(monkeypatch, calls)
    t = load_target("torchvision:fasterrcnn_resnet50_fpn")
    assert calls == [("fasterrcnn_resnet50_fpn", {"weights": None, "weights_backbone": None})]
    assert t.sample_shape is None  # not a classifier: --input-size is needed


def test_torchvision_unknown_name_suggests(runner, monkeypatch):
    _fake_torchvision(monkeypatch, [])
    msg = one_line_error(runner, ["params", "torchvision:resnet05"])
    assert "no model 'resnet05'" in msg and "resnet50" in msg


def test_timm_success_path_with_fake_package(runner, monkeypatch):
    calls = []
    timm = types.ModuleType("timm")
    timm.is_model = lambda name: name == "resnet50"
    timm.list_models = lambda: ["resnet50"]

    def create_model(name, **kwargs):
        calls.append((name, kwargs))
        model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 5))
        model.pretrained_cfg = {"input_size": (3, 8, 8)}
        return model

    timm.create_model = create_model
    monkeypatch.setitem(sys.modules, "timm", timm)
    obj = params_json(runner, "timm:resnet50")
    assert calls == [("resnet50", {"pretrained": False})]
    assert obj["input_size"] == [1, 3, 8, 8]
    assert obj["total"]["params"] == 192 * 5 + 5  # Linear 3*8*8 → 5
    assert "resnet50" in one_line_error(runner, ["params", "timm:resnet05"])


# --- mistakes -----------------------------------------------------------------------------------

BAD_FILES = {
    "raises": ("def build():\n    raise ValueError('width must be even')\n",
               ["raised ValueError", "width must be even", "line 2"]),
    "not_module": ("def build():\n    return {'a': 1}\n",
                   ["returned a value of type dict", "not a torch.nn.Module"]),
    "import_error": ("import not_a_real_package_xyz\ndef build():\n    pass\n",
                     ["failed", "ModuleNotFoundError", "not_a_real_package_xyz", "line 1"]),
    "syntax_error": ("def build(:\n    pass\n", ["SyntaxError", "line 1"]),
    "bad_size": ("import torch.nn as nn\ndef build():\n    return nn.ReLU(), (3, 0, 4)\n",
                 ["input size (3, 0, 4)", "≥ 1"]),
    "needs_args": ("import torch.nn as nn\ndef build(depth):\n    return nn.ReLU()\n",
                   ["needs arguments", "--kwargs"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_user_file_is_one_sentence(runner, tmp_path, case):
    body, needles = BAD_FILES[case]
    path = tmp_path / f"{case}.py"
    path.write_text(body)
    msg = one_line_error(runner, ["params", f"{path}:build"])
    for needle in needles:
        assert needle in msg, msg


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("no_such_dir_xyz/model.py:build", "does not exist"),
        (f"{EXAMPLE}:biuld", "did you mean build"),
        (f"{EXAMPLE}:nn", "not a function or class"),
        (f"{EXAMPLE}:build-it", "not a Python name"),
        ("no_such_package_xyz.nets:build", "no module named 'no_such_package_xyz'"),
        (":build", "needs a source and a name"),
        ("torchvision:", "needs a source and a name"),
    ],
)
def test_bad_spec_is_one_sentence(runner, spec, needle):
    assert needle in one_line_error(runner, ["params", spec])


def test_unknown_option_for_factory(runner):
    msg = one_line_error(runner, ["params", f"{EXAMPLE}:build", "--kwargs", "depth=3"])
    assert "unexpected keyword argument 'depth'" in msg


def test_debug_shows_the_factory_traceback(runner, tmp_path):
    path = tmp_path / "boom.py"
    path.write_text("def build():\n    raise ValueError('boom')\n")
    res = runner.invoke(app, ["--debug", "params", f"{path}:build"])
    assert res.exit_code != 0
    # --debug re-raises: the ArchscopeError chained to the user's ValueError
    assert isinstance(res.exception, ArchscopeError)
    assert isinstance(res.exception.__cause__, ValueError)


def test_keyboard_interrupt_in_factory_is_not_swallowed(tmp_path):
    path = tmp_path / "ctrlc.py"
    path.write_text("def build():\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        load_target(f"{path}:build")


def test_spec_stays_on_cpu_for_counting():
    # `meta` (counting) keeps the real CPU weights: the trace makes meta stand-ins itself.
    target = load_target(f"{EXAMPLE}:build", device="meta")
    assert next(target.model.parameters()).device.type == "cpu"
    target = load_target(f"{EXAMPLE}:build", device="cpu")
    assert next(target.model.parameters()).device.type == "cpu"


def test_ctrl_c_in_factory_exits_130_with_one_line(runner, tmp_path):
    path = tmp_path / "ctrlc.py"
    path.write_text("def build():\n    raise KeyboardInterrupt\n")
    out = tmp_path / "p.txt"
    res = runner.invoke(app, ["params", f"{path}:build", "-o", str(out)])
    assert res.exit_code == 130
    assert res.stderr.strip() == "error: interrupted"
    assert not out.exists()


def test_spec_is_moved_to_a_real_accelerator(monkeypatch):
    # No GPU here: pretend CUDA is usable and record where the built module is sent.
    import archscope.devices

    moved = []
    monkeypatch.setattr(archscope.devices, "check_device", lambda d: torch.device("cuda:0"))
    monkeypatch.setattr(nn.Module, "to", lambda self, dev: moved.append(dev) or self)
    target = load_target(f"{EXAMPLE}:build", device="cuda:0")
    assert moved == [torch.device("cuda:0")]
    assert target.sample_shape == (3, 64, 64)


# --- hostile specs: downloads, bare BaseExceptions, archscope calling itself ---------------------


@pytest.mark.parametrize("option", ["weights=DEFAULT", "weights=IMAGENET1K_V2",
                                    "weights_backbone=DEFAULT", "pretrained=true"])
def test_torchvision_download_options_are_refused(runner, monkeypatch, option):
    calls = []
    _fake_torchvision(monkeypatch, calls)
    msg = one_line_error(runner, ["params", "torchvision:resnet50", "--kwargs", option])
    key, _, value = option.partition("=")
    assert f"--kwargs {key}={value} would download" in msg
    assert f"drop {key}" in msg
    assert calls == []  # refused before torchvision was asked for anything


def test_torchvision_weights_none_is_allowed(runner, monkeypatch):
    calls = []
    _fake_torchvision(monkeypatch, calls)
    params_json(runner, "torchvision:resnet50", "--kwargs", "weights=none")
    assert calls == [("resnet50", {"weights": None})]


def test_timm_pretrained_is_refused(runner, monkeypatch):
    timm = types.ModuleType("timm")
    timm.is_model = lambda name: True
    timm.create_model = lambda *a, **k: pytest.fail("timm was asked to build")
    monkeypatch.setitem(sys.modules, "timm", timm)
    msg = one_line_error(runner, ["params", "timm:resnet50", "--kwargs", "pretrained=true"])
    assert "--kwargs pretrained=true would download pretrained weights" in msg


BARE = """\
    class Stop(BaseException):
        pass
    {where}
"""


@pytest.mark.parametrize("where, needles", [
    ("def build():\n        raise Stop('halt')", ["raised Stop", "halt", "line 4"]),
    ("raise Stop('at import')\ndef build(): pass", ["loading", "failed", "Stop: at import"]),
    ("import sys\ndef build():\n        sys.exit(3)", ["raised SystemExit", "3"]),
], ids=["in the factory", "at import", "sys.exit"])
def test_bare_base_exceptions_are_one_sentence(runner, tmp_path, where, needles):
    path = write(tmp_path, "stop.py", BARE.format(where=textwrap.indent(where, "    ").lstrip()))
    msg = one_line_error(runner, ["params", f"{path}:build"])
    for needle in needles:
        assert needle in msg, msg


def test_a_spec_that_runs_archscope_on_itself_is_one_sentence():
    # archscope.cli:main reads sys.argv: it would run `params archscope.cli:main` again, and again
    proc = subprocess.run([sys.executable, "-m", "archscope", "params", "archscope.cli:main"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == (
        "error: model spec 'archscope.cli:main' runs archscope on itself again instead of "
        "building a network; name a function that returns a torch.nn.Module\n")


def test_a_factory_may_build_another_spec(tmp_path):
    # nesting is fine as long as no spec builds itself
    write(tmp_path, "inner.py", "import torch.nn as nn\ndef build():\n    return nn.Linear(2, 3)\n")
    outer = write(tmp_path, "outer.py", f"""\
        from archscope.specs import build_spec
        def build():
            return build_spec({str(tmp_path / 'inner.py') + ':build'!r}).model
    """)
    target = load_target(f"{outer}:build")
    assert sum(p.numel() for p in target.model.parameters()) == 2 * 3 + 3


def test_unreadable_model_path_is_one_sentence(runner, tmp_path):
    msg = one_line_error(runner, ["params", f"{tmp_path / ('m' * 300)}.py:build"])
    assert "cannot read model file" in msg and "File name too long" in msg
