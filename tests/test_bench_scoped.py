"""What the bench leaves behind: global state restored, results kept on SIGTERM/SIGHUP and with a
closed stdout, no file ever replaced, and absurd thread counts refused in one sentence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import archscope
from archscope.timing import configuration
from archscope.timing import runner as bench_runner
from archscope.timing.scoped import (Interrupted, cudnn_benchmark, interrupt_code,
                                    signals_as_interrupts, tf32, torch_threads)
from archscope.cli import app

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--iters", "3", "--warmup", "1", "--no-roofs"]


def _state():
    return (torch.get_num_threads(), torch.backends.cudnn.benchmark,
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)


def test_each_manager_restores_its_setting_even_after_an_error():
    before = _state()
    with pytest.raises(ValueError):
        with torch_threads(1), cudnn_benchmark(not before[1]), tf32(matmul=not before[2],
                                                                      cudnn=not before[3]):
            assert _state() == (1, not before[1], not before[2], not before[3])
            raise ValueError("inside")
    assert _state() == before
    with tf32(cudnn=not before[3]):  # one switch only: the other stays
        assert _state()[2:] == (before[2], not before[3])
    assert _state() == before


def test_the_bench_restores_global_state_also_when_interrupted(monkeypatch):
    before = _state()
    monkeypatch.setattr(configuration, "time_until_stable",
                        lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    res = archscope.bench("lenet5", threads=1, iters=3, warmup=0, roofs=False)
    assert res.interrupted and _state() == before


def test_termination_signals_raise_like_ctrl_c_inside_the_block_only():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted) as info:
        with signals_as_interrupts():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)  # the handler runs at the next bytecode
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.exit_code == 143 and interrupt_code(info.value) == 143  # 128 + 15
    assert interrupt_code(KeyboardInterrupt()) == 130
    assert signal.getsignal(signal.SIGTERM) is previous


SLOW_FACTORY = """\
import time
from pathlib import Path

from torch import nn


class Slow(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        # Timing the second configuration (batch 2, a real tensor: counting runs on meta) means
        # the first one's record is complete, however long a busy machine made it take
        if x.device.type != "meta" and x.shape[0] == 2:
            Path({ready!r}).write_text("timing")
        time.sleep(0.01)
        return self.lin(x.flatten(1))


def build():
    return Slow(), (1, 2, 2)
"""


@pytest.mark.slow
@pytest.mark.xdist_group("timing")
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signalled_bench_writes_its_partial_results(tmp_path, signum, code):
    ready, out = tmp_path / "ready", tmp_path / "r.json"
    (tmp_path / "slow.py").write_text(SLOW_FACTORY.format(ready=str(ready)))
    cmd = [sys.executable, "-m", "archscope", "bench", f"{tmp_path / 'slow.py'}:build", "-b",
           ",".join(str(b) for b in range(1, 31)), "--budget", "1", "--no-roofs", "-o", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.2)  # the second configuration under way
        os.kill(proc.pid, signum)  # this process, by its PID
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code, stderr
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and 1 <= len(doc["records"]) < 30
    assert f"interrupted: the sweep stopped early ({signal.Signals(signum).name})" in stdout
    assert stderr.splitlines()[-1].startswith(f"error: interrupted after {len(doc['records'])} ")
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_a_closed_stdout_costs_the_table_not_the_results(tmp_path):
    out = tmp_path / "r.json"
    cmd = [sys.executable, "-m", "archscope", "bench", "lenet5", *FAST, "-o", str(out)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # `| true`: nobody reads the table
    stderr = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 0, stderr
    assert json.loads(out.read_text())["records"][0]["model"] == "lenet5"
    assert stderr.splitlines() == [
        f"wrote {out}",
        f"note: stdout is closed, so the table was not printed; the results are in {out}"]
    # with --no-save the table was all there was: an error, not silence
    proc = subprocess.Popen([*cmd[:-2], "--no-save"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=60)
    assert proc.returncode == 1 and stderr.startswith("error: stdout is closed")


def test_an_existing_results_file_is_never_replaced(runner, tmp_path):
    out = tmp_path / "r.json"
    out.write_text("an earlier run")
    res = runner.invoke(app, ["bench", "lenet5", *FAST, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text() == "an earlier run"
    assert json.loads((tmp_path / "r-2.json").read_text())["records"][0]["model"] == "lenet5"
    assert (f"wrote {tmp_path / 'r-2.json'} ({out} exists; bench never replaces a results file)"
            in res.output)


def test_absurd_thread_counts_are_refused_before_anything_runs(runner, monkeypatch):
    monkeypatch.setattr(bench_runner, "_prepare", lambda *a, **k: pytest.fail("built a model"))
    res = runner.invoke(app, ["bench", "lenet5", "--threads", "99999", "--no-save"])
    cores = len(os.sched_getaffinity(0))
    assert res.exit_code == 2
    assert res.output == (f"error: --threads 99999 is more than {4 * cores} (4 per core, {cores} "
                          f"cores here); more threads than that only contend, so use at most "
                          f"{cores}\n")


def test_help_says_what_bench_does(runner):
    text = " ".join(runner.invoke(app, ["bench", "--help"]).output.split())
    assert "Zoo names" not in text
    assert "zoo names (see `archscope list`) or specs: torchvision:NAME, timm:NAME" in text
    assert "never replaces an existing file (-2, -3 … are added)" in text
    assert "SIGTERM (143) or SIGHUP (129)" in text


def test_one_thread_reads_in_the_singular(runner):
    res = runner.invoke(app, ["bench", "lenet5", "--threads", "1", "--no-save", *FAST])
    assert " · 1 CPU thread · " in res.output.splitlines()[0]


def test_a_device_is_written_through_not_numbered(runner, tmp_path):
    import stat

    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    res = runner.invoke(app, ["bench", "lenet5", *FAST, "-o", str(null), "--per-layer",
                              "--trace", str(null)])
    assert res.exit_code == 0, res.output
    assert f"wrote {null}\n" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no null-2, no temporaries
    assert stat.S_ISCHR(null.stat().st_mode)
