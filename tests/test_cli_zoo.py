"""`archscope list` and `archscope params` through Typer's CliRunner."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pandas as pd
import pytest

from archscope.cli import app

FORMATS = ["table", "csv", "json", "markdown"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_params_lenet5_golden(runner, golden, fmt):
    res = runner.invoke(app, ["params", "lenet5", "--format", fmt])
    assert res.exit_code == 0, res.output
    golden(f"params_lenet5.{ {'table': 'txt', 'markdown': 'md'}.get(fmt, fmt)}", res.stdout)


def test_params_json_schema_and_figures(runner):
    res = runner.invoke(app, ["params", "lenet5", "-f", "json"])
    obj = json.loads(res.stdout)
    assert list(obj)[:4] == ["model", "input_size", "rows", "total"]
    assert obj["model"] == "lenet5" and obj["input_size"] == [1, 1, 32, 32]
    row_keys = {"layer", "type", "output_shape", "weights", "biases", "params", "share", "trainable"}
    assert all(row_keys <= set(r) for r in obj["rows"])
    # C1 6*1*5*5 + 6 = 156; C3 16*6*5*5 + 16 = 2,416; C5 120*16*5*5 + 120 = 48,120;
    # F6 84*120 + 84 = 10,164; output 10*84 + 10 = 850  → 61,706
    assert obj["total"]["params"] == 156 + 2_416 + 48_120 + 10_164 + 850
    assert obj["total"]["weights"] == 150 + 2_400 + 48_000 + 10_080 + 840
    assert sum(r["params"] for r in obj["rows"]) == obj["total"]["params"]


def test_params_csv_reads_back(runner):
    res = runner.invoke(app, ["params", "cifar_cnn", "-f", "csv"])
    df = pd.read_csv(io.StringIO(res.stdout), comment="#")
    body, total = df.iloc[:-1], df.iloc[-1]
    # 3*32*25+32 = 2,432; 32*32*25+32 = 25,632; 32*64*25+64 = 51,264; 1024*64+64 = 65,600; 64*10+10 = 650
    assert int(total["params"]) == 2_432 + 25_632 + 51_264 + 65_600 + 650
    assert body["params"].sum() == total["params"]


def test_params_depth1_googlenet(runner):
    res = runner.invoke(app, ["params", "googlenet", "--depth", "1", "-f", "json"])
    layers = [r["layer"] for r in json.loads(res.stdout)["rows"]]
    for name in ["conv1", "conv2", "conv3", "inception3a", "inception5b", "fc"]:
        assert name in layers
    assert not any("." in layer for layer in layers)


def test_params_output_file_written_atomically(runner, tmp_path):
    out = tmp_path / "p.json"
    res = runner.invoke(app, ["params", "lenet5", "-f", "json", "-o", str(out)])
    assert res.exit_code == 0
    assert json.loads(out.read_text())["model"] == "lenet5"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


@pytest.mark.parametrize(
    "args,needle",
    [
        (["params", "googlenett"], "did you mean googlenet"),
        (["params", "lenet5", "--input-size", "3x0x32"], "zero or negative"),
        (["params", "lenet5", "--input-size", "abc"], "whole numbers"),
        (["params", "lenet5", "--input-size", "3x224x224"], "at layer"),
        (["params", "lenet5", "--batch-size", "0"], "batch size"),
        (["params", "lenet5", "-o", "/nonexistent-dir/x.txt"], "does not exist"),
    ],
)
def test_bad_input_one_line_exit_2(runner, args, needle):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in res.output


def test_wrong_input_says_what_model_expects(runner):
    res = runner.invoke(app, ["params", "lenet5", "--input-size", "3x224x224"])
    assert "c1" in res.stderr or "conv" in res.stderr.lower()
    assert "1x1x32x32" in res.stderr


def test_debug_shows_traceback(runner):
    res = runner.invoke(app, ["--debug", "params", "googlenett"])
    assert res.exit_code != 0 and res.exception is not None


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_every_format(runner, fmt):
    res = runner.invoke(app, ["list", "--format", fmt])
    assert res.exit_code == 0
    for name in ["lenet5", "alexnet", "vgg16_bn", "googlenet", "inception_v3", "resnet152"]:
        assert name in res.stdout


def test_list_json_params_match_hand_figures(runner):
    rows = {r["name"]: r for r in json.loads(runner.invoke(app, ["list", "-f", "json"]).stdout)["rows"]}
    assert rows["lenet5"]["params"] == 61_706  # see test_params_json_schema_and_figures
    # VGG16: convs 14,714,688 (Σ cin·cout·9 + cout) + FC 102,764,544 + 16,781,312 + 4,097,000
    assert rows["vgg16"]["params"] == 14_714_688 + 102_764_544 + 16_781_312 + 4_097_000
    assert rows["resnet50"]["year"] == 2016 or rows["resnet50"]["year"] == 2015


def test_list_pattern_and_no_match(runner):
    res = runner.invoke(app, ["list", "resnet*", "-f", "csv"])
    names = pd.read_csv(io.StringIO(res.stdout), comment="#")["name"].tolist()
    assert names == ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
    res = runner.invoke(app, ["list", "nothing*"])
    assert res.exit_code == 2


def _imported_after(args):
    code = (
        "import sys, runpy; sys.argv = ['archscope', *%r]\n"
        "try:\n    runpy.run_module('archscope', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'pandas', 'plotly') if m in sys.modules))" % (args,)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_help_imports_no_torch():
    assert _imported_after(["--help"]) == "[]"


def test_params_imports_no_plotly():
    assert "plotly" not in _imported_after(["params", "lenet5", "-f", "csv"])


@pytest.mark.parametrize("name, first", [
    ("p.csv", "# params = weights"),  # the CSV's comment lines
    ("p.json", "{"),
    ("p.md", "**lenet5 · params"),
    ("p.txt", "lenet5 · params"),  # no known extension: the text table
])
def test_output_format_follows_the_file_extension(runner, tmp_path, name, first):
    res = runner.invoke(app, ["params", "lenet5", "-o", str(tmp_path / name)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / name).read_text(encoding="utf-8").startswith(first)


def test_explicit_format_wins_over_the_extension(runner, tmp_path):
    res = runner.invoke(app, ["params", "lenet5", "-f", "csv", "-o", str(tmp_path / "p.json")])
    assert res.exit_code == 0 and (tmp_path / "p.json").read_text().startswith("# params")
