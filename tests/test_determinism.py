"""The same command twice gives byte-identical output (timings excepted: they are measurements)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archscope.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "my_model.py"
FORMATS = ["table", "csv", "json", "markdown"]


def twice(runner, args: list[str]) -> str:
    first = runner.invoke(app, args)
    second = runner.invoke(app, args)
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    assert first.stdout.encode() == second.stdout.encode()
    return first.stdout


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model", ["googlenet", "resnet18", f"{EXAMPLE}:build"])
def test_params_is_byte_identical(runner, model, fmt):
    out = twice(runner, ["params", model, "-f", fmt])
    assert "params" in out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("model", ["googlenet", "resnet18", f"{EXAMPLE}:build"])
def test_flops_is_byte_identical(runner, model, fmt):
    out = twice(runner, ["flops", model, "-f", fmt])
    assert "macs" in out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args", [["summary", "googlenet"], ["verify", "lenet5"],
                                  ["explain", "inception"], ["list", "resnet*"]])
def test_other_tables_are_byte_identical(runner, args, fmt):
    assert twice(runner, [*args, "-f", fmt])


def test_output_files_are_byte_identical(runner, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        res = runner.invoke(app, ["params", "vgg11", "-f", "json", "-o", str(path)])
        assert res.exit_code == 0, res.output
    assert a.read_bytes() == b.read_bytes()
