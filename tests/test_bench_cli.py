"""``archscope bench`` on the command line: output, results file, exit codes."""

from __future__ import annotations

import json

import pytest
import torch

from archscope.timing import configuration
from archscope.cli import app

FAST = ["--iters", "3", "--warmup", "1", "--no-roofs"]


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
    assert doc["settings"]["batch_sizes"] == [1, 2]
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
    (["--dtype", "fp32,int8"], "unknown dtype 'int8'; use fp32, bf16, fp16"),
    (["--device", "tpu"], "unknown device 'tpu'; choose from cpu, cuda"),
    (["--iters", "many"], "--iters 'many' must be a whole number ≥ 1 or 'auto'"),
    (["-b", "0"], "needs whole numbers ≥ 1"),
    (["--mode", "eval"], "unknown mode 'eval'; choose from infer, train"),
    (["--threads", "0"], "--threads 0 must be a whole number ≥ 1; leave it out to use every core"),
    (["--threads", "-1"], "--threads -1 must be a whole number ≥ 1"),
    (["--warmup", "-1"], "--warmup -1 must be a whole number ≥ 0"),
    (["--budget", "0"], "--budget 0.0 must be a finite number of seconds > 0"),
    (["--budget", "nan"], "--budget nan must be a finite number of seconds > 0"),
    (["--budget", "inf"], "--budget inf must be a finite number of seconds > 0"),
    (["--dtype", ","], "--dtype needs at least one of fp32, bf16, fp16"),
    (["-b", ","], "--batch-size ',' needs whole numbers ≥ 1"),
    (["--per-layer", "--mode", "train"], "--per-layer times inference forwards only"),
    (["-i", "8,1,32,32", "-b", "4"], "the input size gives batch 8 but --batch-size is 4"),
    (["cifar_cnn", "-i", "1x32x32"], "cifar_cnn cannot take input 1x1x32x32"),  # 2nd model: nothing timed
])
def test_bench_cli_bad_options(runner_cli, tmp_path, monkeypatch, args, message):
    monkeypatch.setattr(configuration, "time_until_stable",
                        lambda *a, **k: pytest.fail("timed before checking"))
    monkeypatch.chdir(tmp_path)
    res = runner_cli.invoke(app, ["bench", "lenet5", "-o", str(tmp_path / "r.json"), *args])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.output and res.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no results file, not even an empty one


def test_bench_cli_batch_from_input_size(runner_cli, tmp_path):
    out = tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", "lenet5", "-i", "8,1,32,32", "-o", str(out), *FAST])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert [(r["batch_size"], r["input_shape"]) for r in doc["records"]] == [(8, [8, 1, 32, 32])]
    res = runner_cli.invoke(app, ["bench", "lenet5", "-i", "8,1,32,32", "-b", "8", "--no-save", *FAST])
    assert res.exit_code == 0, res.output


BATCHNORM_FACTORY = """\
from torch import nn


def build():
    # In training, BatchNorm1d refuses a batch of one (one value per channel has no variance).
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8)), (3, 2, 2)
"""


def test_bench_cli_error_in_one_configuration(runner_cli, tmp_path):
    (tmp_path / "bn.py").write_text(BATCHNORM_FACTORY)
    spec, out = f"{tmp_path / 'bn.py'}:build", tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", spec, "--mode", "train", "-b", "2,1", "-o", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    assert "error: ValueError: Expected more than 1 value per channel" in res.stdout  # status column
    doc = json.loads(out.read_text())
    # 3 iterations: no CI
    assert [(r["batch_size"], r["status"]) for r in doc["records"]] == [(2, "unstable"), (1, "error")]
    assert res.stderr.splitlines() == [
        f"wrote {out}",
        f"warning: {spec} b1 fp32 train eager failed: {doc['records'][1]['reason']}",
        "warning: 1 of 2 configurations failed (status error in the table and the results file)",
    ]


def test_bench_cli_every_configuration_failed(runner_cli, tmp_path):
    (tmp_path / "bn.py").write_text(BATCHNORM_FACTORY)
    spec, out = f"{tmp_path / 'bn.py'}:build", tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", spec, "--mode", "train", "-b", "1", "-o", str(out), *FAST])
    assert res.exit_code == 2
    wrote, line = res.stderr.strip().splitlines()  # the results are written before anything else
    assert wrote == f"wrote {out}"
    assert line.startswith(f"error: no configuration could be timed (1 error); first: {spec} b1 fp32 "
                           "train eager: ValueError: Expected more than 1 value per channel")
    assert line.endswith(f"; results in {out}") and "Traceback" not in res.output
    # The file is a whole document (the failure and its reason), not a half-written one.
    assert [r["status"] for r in json.loads(out.read_text())["records"]] == ["error"]


def test_bench_cli_debug_shows_the_failed_configuration_traceback(runner_cli, tmp_path):
    (tmp_path / "bn.py").write_text(BATCHNORM_FACTORY)
    res = runner_cli.invoke(app, ["--debug", "bench", f"{tmp_path / 'bn.py'}:build", "--mode", "train",
                                  "-b", "2,1", "--no-save", *FAST])
    assert res.exit_code == 0
    assert "Traceback (most recent call last)" in res.stderr and "batch_norm" in res.stderr


def test_bench_cli_default_names_never_collide(runner_cli, tmp_path, monkeypatch):
    """Two runs in the same UTC second: the second file gets -2, the first is left alone."""
    from archscope.timing import results as results_mod

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(results_mod, "default_results_path",
                        lambda now=None: results_mod.Path("bench-20260101-000000.json"))
    first = runner_cli.invoke(app, ["bench", "lenet5", *FAST])
    assert first.exit_code == 0 and "wrote bench-20260101-000000.json" in first.stderr
    before = (tmp_path / "bench-20260101-000000.json").read_text()
    second = runner_cli.invoke(app, ["bench", "lenet5", "-b", "2", *FAST])
    assert second.exit_code == 0 and "wrote bench-20260101-000000-2.json" in second.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench-20260101-000000-2.json",
                                                          "bench-20260101-000000.json"]
    assert (tmp_path / "bench-20260101-000000.json").read_text() == before
    second = json.loads((tmp_path / "bench-20260101-000000-2.json").read_text())
    assert second["records"][0]["batch_size"] == 2


def test_bench_cli_progress_bar(runner_cli, monkeypatch):
    """The rich bar on a terminal: one step per configuration, ending at the total."""
    import io

    from rich.console import Console
    from rich.progress import Progress

    from archscope.cli import bench as bench_cli

    bars = []

    class Recording(Progress):
        def update(self, task_id, **kw):
            bars.append((kw.get("completed"), self.tasks[0].total, kw.get("description")))
            super().update(task_id, **kw)

    monkeypatch.setattr(bench_cli, "_progress", lambda: Recording(
        console=Console(file=io.StringIO(), force_terminal=True), transient=True))
    res = runner_cli.invoke(app, ["bench", "lenet5", "cifar_cnn", "-b", "1,2", "--no-save", *FAST])
    assert res.exit_code == 0, res.output
    assert [b[0] for b in bars] == [0, 1, 2, 3, 4] and {b[1] for b in bars} == {4}
    assert bars[0][2] == "lenet5 b1 fp32 infer eager" and bars[-1][2] == "done"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_bench_cli_cuda_unavailable(runner_cli, tmp_path):
    res = runner_cli.invoke(app, ["bench", "lenet5", "--device", "cuda", "-o", str(tmp_path / "r.json")])
    assert res.exit_code == 2
    assert res.stderr.strip().splitlines() == [
        f"error: --device cuda needs CUDA, but torch {torch.__version__} sees no CUDA device; "
        "use --device cpu"]


def test_bench_cli_ctrl_c_writes_partial_results(runner_cli, tmp_path, monkeypatch):
    real = configuration.time_until_stable
    calls = []

    def timer(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(configuration, "time_until_stable", timer)
    out = tmp_path / "r.json"
    res = runner_cli.invoke(app, ["bench", "lenet5", "-b", "1,2,4", "-o", str(out), *FAST])
    assert res.exit_code == 130
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and [r["batch_size"] for r in doc["records"]] == [1]
    assert "interrupted after 1 configuration;" in res.stderr


def test_bench_cli_oom_row(runner_cli, tmp_path, monkeypatch):
    real = configuration.time_until_stable
    calls = []

    def timer(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8.00 GiB")
        return real(*a, **k)

    monkeypatch.setattr(configuration, "time_until_stable", timer)
    res = runner_cli.invoke(app, ["bench", "lenet5", "-b", "64,1", "--no-save", *FAST])
    assert res.exit_code == 0
    assert "oom: CUDA out of memory" in res.stdout


def test_bench_cli_per_layer(runner_cli):
    res = runner_cli.invoke(app, ["bench", "lenet5", "--per-layer", "--no-save", "--format", "markdown",
                                  *FAST])
    assert res.exit_code == 0
    assert "per layer (each module's own operators)" in res.stdout
    assert "| features.c1 | Conv2d |" in res.stdout
