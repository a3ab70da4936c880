"""Every user mistake: one line on stderr starting ``error: ``, exit code 2, no traceback, no file.

Each case names what it feeds in and the words the message must carry (what was wrong and what
would work). ``--debug`` turns the same mistakes into a traceback.
"""

from __future__ import annotations

import subprocess
import sys

import os
from pathlib import Path

import pytest

from archscope.cli import app
from archscope.devices import check_device, parse_dtype
from archscope.errors import ArchscopeError
from archscope.io import write_atomic

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "my_model.py"


def user_error(runner, args: list[str]) -> str:
    """Run the CLI; assert the one-line error contract; return the line."""
    res = runner.invoke(app, args)
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in res.stderr
    return lines[0]


# --- model names and sizes, through `params` --------------------------------------------------

CASES = [
    # (args after the command, words the message must hold)
    (["resnt50"], ["unknown model 'resnt50'", "did you mean", "resnet50"]),
    (["lenet"], ["unknown model 'lenet'", "lenet5"]),
    (["zzzz"], ["unknown model 'zzzz'", "archscope list", "path/to/file.py:factory"]),
    (["lenet5", "-i", "3xax32"], ["not a list of whole numbers", "3x224x224"]),
    (["lenet5", "-i", "1x0x32"], ["zero or negative", "≥ 1"]),
    (["lenet5", "-i", "1x-32x32"], ["zero or negative"]),
    (["lenet5", "-i", ""], ["empty"]),
    (["lenet5", "-i", "32"], ["one dimension", "channels×height×width"]),
    (["lenet5", "-i", "1x32x32x"], ["empty dimension"]),  # a trailing separator
    (["lenet5", "-i", "1xx32"], ["empty dimension"]),
    (["lenet5", "-i", "1x99999999999999999999x32"], ["at most 2,147,483,647"]),
    # LeNet-5's first conv takes 1 channel: the layer that failed and the expected shape
    (["lenet5", "-i", "3x224x224"], ["layer features.c1 (Conv2d)", "expects 1x1x32x32"]),
    # LeNet-5 on 64×64: C5 leaves 16·... → 120×9×9 = 9,720 features where F6 takes 120
    (["lenet5", "-i", "1x64x64"], ["layer classifier.f6 (Linear)", "1x9720 and 120x84"]),
    # AlexNet on 32×32: conv1 ⌊(32-11)/4⌋+1 = 6, pool ⌊(6-3)/2⌋+1 = 2, conv2 (pad 2) 2,
    # then the second 3×3 pool (features.7): ⌊(2-3)/2⌋+1 = 0 < 1
    (["alexnet", "-i", "3x32x32"], ["layer features.7 (MaxPool2d)", "too small", "3x227x227"]),
    (["lenet5", "-b", "0"], ["batch size 0", "≥ 1"]),
    (["lenet5", "-b", "-4"], ["batch size -4", "≥ 1"]),
    # torch's size overflow, C++ frames and all, never reaches the user
    (["lenet5", "-b", "99999999999999999999"], ["99,999,999,999,999,999,999 is too large",
                                               "at most 2,147,483,647"]),
    (["lenet5", "--kwargs", "num_classes=10,num_classes=20"], ["given twice"]),
    (["lenet5", "-i", "2,1,32,32", "-b", "3"], ["batch 2", "--batch-size is 3"]),
    (["lenet5", "-d", "-1"], ["depth -1", "≥ 0"]),
    (["lenet5", "--kwargs", "num_classes"], ["not key=value", "--kwargs num_classes=10"]),
    (["lenet5", "--kwargs", "colour=red"], ["no option 'colour'", "num_classes, in_channels"]),
    # builder options are checked against the builder's signature before torch sees them
    (["lenet5", "--kwargs", "num_classes=abc"], ["num_classes", "whole number ≥ 1", "'abc'"]),
    (["lenet5", "--kwargs", "num_classes=-1"], ["whole number ≥ 1", "-1"]),
    (["lenet5", "--kwargs", "num_classes=0"], ["whole number ≥ 1", "got 0"]),
    (["lenet5", "--kwargs", "num_classes=1.5"], ["whole number ≥ 1", "1.5"]),
    (["googlenet", "--kwargs", "aux_logits=maybe"], ["aux_logits", "true or false"]),
    (["alexnet", "--kwargs", "dropout=2"], ["dropout", "between 0 and 1"]),
    # two numbers for a C×H×W network: the rank is wrong, said before any layer runs
    (["lenet5", "-i", "3x224"], ["3 dimensions", "1x32x32", "not 2"]),
    (["examples/my_model.py:TinyNet"], ["--input-size is needed"]),
]


@pytest.mark.parametrize("args, needles", CASES, ids=[" ".join(c[0]) or "empty" for c in CASES])
def test_params_mistakes(runner, monkeypatch, args, needles):
    monkeypatch.chdir(ROOT)
    msg = user_error(runner, ["params", *args])
    for needle in needles:
        assert needle in msg, msg


def test_debug_shows_the_traceback(runner):
    res = runner.invoke(app, ["--debug", "params", "lenet5", "-i", "3x224x224"])
    assert isinstance(res.exception, ArchscopeError)  # re-raised, so the traceback prints
    assert "features.c1" in str(res.exception)
    assert res.exception.__cause__ is not None  # the torch error it came from is chained


# --- output paths -----------------------------------------------------------------------------


def test_output_in_missing_directory(runner, tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "p.csv"
    msg = user_error(runner, ["params", "lenet5", "-f", "csv", "-o", str(out)])
    assert "does not exist" in msg and "-o" in msg
    assert not (tmp_path / "no").exists()


def test_output_under_a_file(runner, tmp_path):
    # Works as root too: no permission bit can make a file a directory.
    (tmp_path / "plain.txt").write_text("x")
    msg = user_error(runner, ["params", "lenet5", "-o", str(tmp_path / "plain.txt" / "p.txt")])
    assert "is a file, not a directory" in msg
    assert (tmp_path / "plain.txt").read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes through chmod; test_output_under_a_file covers root")
def test_output_in_unwritable_directory(runner, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        msg = user_error(runner, ["params", "lenet5", "-o", str(locked / "p.txt")])
        assert "not writable" in msg
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_output_directory_refused_by_permissions(runner, tmp_path, monkeypatch):
    # CI runs as root, which may write anywhere: the permission answers are simulated here
    import archscope.io as aio

    monkeypatch.setattr(aio.os, "access", lambda path, mode: False)
    assert "not writable" in user_error(runner, ["params", "lenet5", "-o", str(tmp_path / "a")])
    monkeypatch.undo()

    def refuse(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(aio.tempfile, "mkstemp", refuse)
    msg = user_error(runner, ["params", "lenet5", "-o", str(tmp_path / "b")])
    assert "could not write" in msg and "Permission denied" in msg
    assert list(tmp_path.iterdir()) == []


def test_output_is_a_directory(runner, tmp_path):
    assert "is a directory" in user_error(runner, ["params", "lenet5", "-o", str(tmp_path)])


def test_failed_model_leaves_no_file(runner, tmp_path):
    out = tmp_path / "p.json"
    user_error(runner, ["params", "lenet5", "-i", "3x224x224", "-f", "json", "-o", str(out)])
    assert list(tmp_path.iterdir()) == []


# --- atomic writes: a failure mid-write leaves the old file and no temporary -----------------


class _HalfWriter:
    """A file object that writes half of what it is given, then fails like a full disk."""

    def __init__(self, real, exc):
        self.real, self.exc = real, exc

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.real.close()

    def write(self, data):
        self.real.write(data[: len(data) // 2])
        self.real.flush()
        raise self.exc


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_write_atomic_failure_mid_write(tmp_path, monkeypatch, exc):
    target = tmp_path / "out.csv"
    target.write_text("old contents\n")
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _HalfWriter(real_fdopen(fd, *a, **k), exc))
    expected = ArchscopeError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        write_atomic(target, "new contents that never fully land\n")
    if expected is ArchscopeError:
        assert "No space left on device" in str(info.value) and "nothing was written" in str(info.value)
    assert target.read_text() == "old contents\n"  # readers still see the whole old file
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary left behind


def test_cli_disk_full_is_one_line(runner, tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _HalfWriter(
        real_fdopen(fd, *a, **k), OSError(28, "No space left on device")))
    msg = user_error(runner, ["params", "lenet5", "-o", str(tmp_path / "p.txt")])
    assert "No space left on device" in msg
    assert list(tmp_path.iterdir()) == []


# --- devices and dtypes -----------------------------------------------------------------------


@pytest.mark.parametrize("device, needle", [
    ("gpu", "unknown device 'gpu'"),
    ("cuda:x", "unknown device 'cuda:x'"),
    ("", "unknown device ''"),
])
def test_unknown_device(device, needle):
    with pytest.raises(ArchscopeError, match=needle) as info:
        check_device(device)
    assert "cpu, cuda or cuda:N" in str(info.value)


def test_cuda_without_cuda(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ArchscopeError, match="CUDA is not available.*--device cpu"):
        check_device("cuda")


def test_cuda_index_beyond_the_machine(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ArchscopeError, match="cuda:3.*1 CUDA device.*cuda:0 to cuda:0"):
        check_device("cuda:3")


def test_known_devices_and_dtypes():
    import torch

    assert check_device("cpu").type == "cpu" and check_device("meta").type == "meta"
    assert parse_dtype("fp16") is torch.float16 and parse_dtype("torch.bfloat16") is torch.bfloat16
    assert parse_dtype("float32") is torch.float32


def test_unknown_dtype():
    with pytest.raises(ArchscopeError, match="unknown dtype 'float17'.*float16"):
        parse_dtype("float17")


def test_load_target_checks_the_device_first():
    from archscope.models import load_target

    with pytest.raises(ArchscopeError, match="unknown device 'gpu'"):
        load_target("lenet5", device="gpu")


# --- bench and its results files --------------------------------------------------------------

BENCH_CASES = [
    (["lenet5", "--device", "gpu"], ["unknown device 'gpu'", "cpu"]),
    (["lenet5", "--dtype", "float17"], ["unknown dtype 'float17'", "fp32"]),
    (["lenet5", "-b", "0"], ["≥ 1"]),
    (["lenet5", "-b", "-2"], ["≥ 1"]),
    (["lenet5", "-b", "x"], ["whole numbers"]),
    (["resnt50"], ["unknown model 'resnt50'", "resnet50"]),
    (["lenet5", "-i", "3x224x224"], ["layer features.c1 (Conv2d)"]),
    (["lenet5", "-i", "0x32x32"], ["zero or negative"]),
    (["lenet5", "-o", "missing_dir/b.json"], ["does not exist"]),
    (["examples/my_model.py:TinyNet"], ["--input-size is needed"]),
]


@pytest.mark.parametrize("args, needles", BENCH_CASES, ids=[" ".join(c[0]) for c in BENCH_CASES])
def test_bench_mistakes_write_nothing(runner, tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    args = [str(EXAMPLE) + a[len("examples/my_model.py"):] if a.startswith("examples/") else a
            for a in args]
    msg = user_error(runner, ["bench", *args, "--iters", "1"])
    for needle in needles:
        assert needle in msg, msg
    assert list(tmp_path.iterdir()) == []  # no results file, not even an empty one


def test_bench_cuda_without_cuda(runner, tmp_path, monkeypatch):
    import torch

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    msg = user_error(runner, ["bench", "lenet5", "--device", "cuda"])
    assert "needs CUDA" in msg and "--device cpu" in msg
    assert list(tmp_path.iterdir()) == []


RESULTS = {
    "corrupt": ('{"schema": "archscope.bench/1", "records": [', "not valid JSON"),
    "empty": ("", "not valid JSON"),
    "not-ours": ('{"hello": 1}', "no \"schema\" key"),
    "future": ('{"schema": "archscope.bench/99", "records": [], "env": {}}',
               "schema 'archscope.bench/99'"),
    "damaged": ('{"schema": "archscope.bench/1", "records": 3, "env": {}}', "damaged"),
}


@pytest.mark.parametrize("case", sorted(RESULTS))
def test_load_results_rejects_bad_files(tmp_path, case):
    from archscope import load_results

    text, needle = RESULTS[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text)
    with pytest.raises(ArchscopeError) as info:
        load_results([path])
    assert needle in str(info.value) and str(path) in str(info.value)


def test_load_results_missing_file(tmp_path):
    from archscope import load_results

    with pytest.raises(ArchscopeError, match="cannot read bench results"):
        load_results(tmp_path / "nope.json")


@pytest.mark.parametrize("case", sorted(RESULTS))
def test_report_with_bad_bench_file(runner, tmp_path, case):
    text, needle = RESULTS[case]
    bench = tmp_path / "bench.json"
    bench.write_text(text)
    out = tmp_path / "r.html"
    msg = user_error(runner, ["report", "lenet5", "--bench", str(bench), "-o", str(out)])
    assert needle in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json"]  # no report written


# --- click's own usage errors, through the console entry point ------------------------------


@pytest.mark.parametrize("args, needle", [
    (["params", "lenet5", "-d", "abc"], "invalid value for '--depth'"),
    (["params"], "missing argument 'model'"),
    (["paramz", "lenet5"], "no such command 'paramz'"),
    (["params", "lenet5", "--bogus"], "no such option: --bogus"),
])
def test_usage_errors_are_one_line(args, needle):
    proc = subprocess.run([sys.executable, "-m", "archscope", *args], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("error: ") and needle in proc.stderr
    assert "--help`)" in proc.stderr and proc.stdout == ""


# --- hostile input: empty, enormous, misplaced ---------------------------------------------------


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_model_name_says_so(name):
    # a usage error, which only the console entry point puts on one line
    proc = subprocess.run([sys.executable, "-m", "archscope", "params", name],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("error: invalid value for 'model': the model name is empty; give a zoo "
                           "name such as lenet5 (see `archscope list`) or a spec such as "
                           "path/to/file.py:build (see `archscope params --help`)\n")


@pytest.mark.parametrize("args", [
    ["params", "q" * 100_000],
    ["params", "lenet5", "-i", "3x" * 50_000],
    ["params", "lenet5", "--kwargs", "k" * 100_000],
], ids=["model", "input size", "kwargs"])
def test_a_100kb_input_is_cut_in_the_message(runner, args):
    msg = user_error(runner, args)
    # the echoed input is cut to 200 characters around an ellipsis; the advice stays whole
    assert len(msg) < 450 and "…" in msg
    assert msg.rstrip().endswith(("FILE", "3x224x224", "factory", "num_classes=10")), msg


def test_a_root_option_after_the_command_is_pointed_before_it():
    proc = subprocess.run([sys.executable, "-m", "archscope", "params", "lenet6", "--debug"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == ("error: no such option: --debug; --debug goes before the command: "
                           "archscope --debug params lenet6\n")


FAULTY_FORWARD = '''
import torch
from torch import nn


class Faulty(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        y = self.conv(x)
        if self.kind == "attribute":
            return y.no_such_attribute
        if self.kind == "assert":
            assert y.shape[1] == 5, "expected 5 channels"
        if self.kind == "key":
            return {"a": y}["b"]
        if self.kind == "memory" and x.device.type == "cpu":  # only a real forward
            raise MemoryError("cannot allocate 64 GiB")
        if self.kind == "cpu_key" and x.device.type == "cpu":
            return {"a": y}["b"]
        return y


def build(kind="attribute"):
    return Faulty(kind), (3, 8, 8)
'''


@pytest.mark.parametrize("kind,exc", [("attribute", "AttributeError"), ("assert", "AssertionError"),
                                      ("key", "KeyError")])
@pytest.mark.parametrize("engine", ["meta", "fvcore"])
def test_a_user_forward_that_raises_is_one_sentence(runner, tmp_path, kind, exc, engine):
    spec = tmp_path / "faulty.py"
    spec.write_text(FAULTY_FORWARD)
    res = runner.invoke(app, ["flops", f"{spec}:build", "--kwargs", f"kind={kind}", "-e", engine])
    assert res.exit_code == 2 and "Traceback" not in res.output
    line = res.stderr.strip()
    assert "\n" not in line and exc in line
    assert "(model)" in line and "faulty.py line" in line  # the layer, the file and the line


def test_out_of_memory_on_a_real_forward_points_to_the_meta_engine(runner, tmp_path):
    spec = tmp_path / "faulty.py"
    spec.write_text(FAULTY_FORWARD)
    res = runner.invoke(app, ["flops", f"{spec}:build", "--kwargs", "kind=memory", "-e", "fvcore"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "ran out of memory" in res.stderr and "--engine meta" in res.stderr
    ok = runner.invoke(app, ["flops", f"{spec}:build", "--kwargs", "kind=memory"])  # meta
    assert ok.exit_code == 0


def test_a_failure_inside_torchinfo_is_one_sentence(runner, tmp_path):
    spec = tmp_path / "faulty.py"
    spec.write_text(FAULTY_FORWARD)
    res = runner.invoke(app, ["verify", f"{spec}:build", "--kwargs", "kind=cpu_key"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "KeyError" in res.stderr and len(res.stderr.strip().splitlines()) == 1
