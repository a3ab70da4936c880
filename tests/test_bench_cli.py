"""``archscope bench`` on the command line: output, results file, exit codes."""

from __future__ import annotations

import json

import pytest
import torch

from archscope.bench import runner
from archscope.cli import app

FAST = ["--iters", "3", "--warmup", "1"]


@pytest.fixture
def runner_cli():
    """A CliRunner whose result keeps stderr apart (``result.stderr``) on old and new Click."""
    import inspect

    from typer.testing import CliRunner

    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


def test_bench_cli_writes_results(runner_cli, tmp_path):
    out = tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", "lenet5", "cifar_cnn", "-b", "1,2", "--threads", "1",
                                  "-o", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert "lenet5" in res.stdout and "cifar_cnn" in res.stdout and "median_ms" in res.stdout
    doc = json.loads(out.read_text())
    assert doc["schema"] == "archscope.bench/1" and doc["interrupted"] is False
    assert [(r["model"], r["batch_size"]) for r in doc["records"]] == [
        ("lenet5", 1), ("lenet5", 2), ("cifar_cnn", 1), ("cifar_cnn", 2)]
    assert doc["settings"]["threads"] == 1 and doc["env"]["threads"] == 1


def test_bench_cli_default_path_and_json(runner_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner_cli.invoke(app, ["bench", "lenet5", "--format", "json", *FAST])
    assert res.exit_code == 0, res.output
    files = list(tmp_path.glob("bench-*.json"))
    assert len(files) == 1
    assert json.loads(res.stdout)["records"] == json.loads(files[0].read_text())["records"]


def test_bench_cli_no_save(runner_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner_cli.invoke(app, ["bench", "lenet5", "--no-save", "--format", "csv", *FAST])
    assert res.exit_code == 0 and not list(tmp_path.iterdir())
    assert res.stdout.splitlines()[-1].startswith("lenet5,1,fp32,NCHW,eager,infer,")


@pytest.mark.parametrize("args, message", [
    (["--dtype", "fp32,int8"], "unknown dtype 'int8'; choose from fp32, bf16, fp16"),
    (["--device", "tpu"], "unknown device 'tpu'; choose from cpu, cuda"),
    (["--iters", "many"], "--iters 'many' must be a whole number ≥ 1 or 'auto'"),
    (["-b", "0"], "needs whole numbers ≥ 1"),
    (["--mode", "eval"], "unknown mode 'eval'; choose from infer, train"),
])
def test_bench_cli_bad_options(runner_cli, tmp_path, args, message):
    res = runner_cli.invoke(app, ["bench", "lenet5", "-o", str(tmp_path / "r.json"), *args])
    assert res.exit_code == 2
    assert message in res.stderr and "Traceback" not in res.output
    assert not (tmp_path / "r.json").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_bench_cli_cuda_unavailable(runner_cli, tmp_path):
    res = runner_cli.invoke(app, ["bench", "lenet5", "--device", "cuda", "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"error: --device cuda needs CUDA, but torch {torch.__version__} sees no CUDA device; use --device cpu"]


def test_bench_cli_ctrl_c_writes_partial_results(runner_cli, tmp_path, monkeypatch):
    real = runner.time_until_stable
    calls = []

    def timer(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(runner, "time_until_stable", timer)
    out = tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", "lenet5", "-b", "1,2,4", "-o", str(out), *FAST])
    assert res.exit_code == 130
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and [r["batch_size"] for r in doc["records"]] == [1]
    assert "interrupted after 1 configurations" in res.stderr


def test_bench_cli_oom_row(runner_cli, tmp_path, monkeypatch):
    real = runner.time_until_stable
    calls = []

    def timer(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        return real(*a, **k)

    monkeypatch.setattr(runner, "time_until_stable", timer)
    res = runner_cli.invoke(app, ["bench", "lenet5", "-b", "64,1", "--no-save", *FAST])
    assert res.exit_code == 0
    assert "oom: CUDA out of memory" in res.stdout


def test_bench_cli_per_layer(runner_cli):
    res = runner_cli.invoke(app, ["bench", "lenet5", "--per-layer", "--no-save", "--format", "markdown", *FAST])
    assert res.exit_code == 0
    assert "per layer (leaf modules)" in res.stdout and "| features.c1 | Conv2d |" in res.stdout
