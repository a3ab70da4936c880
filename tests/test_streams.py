"""stdout carries results only, and a lost stdout or a Ctrl-C is never a silent exit 0.

Most cases run the real console entry point in a subprocess: closed descriptors, broken pipes,
file-descriptor redirection and signals cannot be shown through an in-memory runner.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archscope.cli import app

ROOT = Path(__file__).resolve().parents[1]

# A model file that talks on stdout three ways: print at import, print in the factory, and a
# child process that inherits descriptor 1 (as C code writing to stdout would).
NOISY = textwrap.dedent("""\
    import os, subprocess, sys
    import torch.nn as nn
    print("loading noisy.py")
    def build():
        print("building")
        subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
        return nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), (3, 2, 2)
""")
NOISES = ["loading noisy.py", "building", "from a child process"]


def _archscope(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archscope", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300, **kw)


def test_user_prints_go_to_stderr_in_process(runner, tmp_path):
    (tmp_path / "noisy.py").write_text(NOISY)
    res = runner.invoke(app, ["params", f"{tmp_path / 'noisy.py'}:build", "-f", "json"])
    assert res.exit_code == 0, res.output
    # Linear(12, 2): 12·2 = 24 weights + 2 biases
    assert json.loads(res.stdout)["total"]["params"] == 26
    assert "loading noisy.py" in res.stderr and "building" in res.stderr


def test_user_prints_and_child_processes_go_to_stderr(tmp_path):
    (tmp_path / "noisy.py").write_text(NOISY)
    proc = _archscope("params", f"{tmp_path / 'noisy.py'}:build", "-f", "csv")
    assert proc.returncode == 0, proc.stderr
    for noise in NOISES:
        assert noise not in proc.stdout and noise in proc.stderr
    rows = list(csv.DictReader(line for line in io.StringIO(proc.stdout) if not line.startswith("#")))
    assert [r["layer"] for r in rows] == ["0", "1", "total"]
    assert rows[1]["params"] == "26"


def test_closed_stdout_is_an_error():
    # the child starts with descriptor 1 closed, as after `archscope params lenet5 >&-`
    proc = _archscope("params", "lenet5", preexec_fn=lambda: os.close(1))
    assert proc.returncode == 2
    assert proc.stderr == ("error: standard output is closed, so the result has nowhere to go; "
                           "write it to a file with -o FILE\n")


def test_closed_stdout_with_an_output_file_is_fine(tmp_path):
    out = tmp_path / "p.csv"
    proc = _archscope("params", "lenet5", "-o", str(out), preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr
    assert "features.c1" in out.read_text()


def test_full_disk_on_stdout_is_one_line(tmp_path):
    full = tmp_path / "full"
    try:  # Linux's /dev/full, as a node of our own: every write fails with ENOSPC
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
        fd = os.open(full, os.O_WRONLY)
    except OSError as exc:
        pytest.skip(f"cannot make or open a device node here: {exc}")
    try:
        proc = subprocess.run([sys.executable, "-m", "archscope", "params", "lenet5"],
                              stdout=fd, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=300)
    finally:
        os.close(fd)
    assert proc.returncode == 2
    assert proc.stderr == ("error: could not write to standard output: No space left on device; "
                           "write the result to a file with -o FILE\n")


def test_broken_pipe_ends_quietly():
    child = subprocess.Popen([sys.executable, "-m", "archscope", "params", "resnet50"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    child.stdout.close()  # the reader is gone before anything is written (`| true`)
    _, err = child.communicate(timeout=300)
    assert child.returncode == 1  # click's answer to EPIPE; not "could not write" on stderr
    assert err == b""


# Sent from the child's own import hook: it says where it is on stderr, then waits, inside the
# import of numpy's core, for the parent's SIGINT.
WAIT_IN_NUMPY = textwrap.dedent("""\
    import sys, time
    def hook(event, args):
        if event == "import" and args[0] in ("numpy._core.multiarray", "numpy.core.multiarray"):
            if not getattr(hook, "done", False):
                hook.done = True
                sys.stderr.write("in numpy\\n"); sys.stderr.flush()
                time.sleep(60)
    sys.addaudithook(hook)
    from archscope.cli import main
    sys.argv = ["archscope", "params", "lenet5"]
    main()
""")


def test_ctrl_c_inside_the_numpy_import_exits_130():
    # torch imports numpy from C and clears any error it raises: a Ctrl-C there was lost and
    # the command ran on to exit 0.
    child = subprocess.Popen([sys.executable, "-c", WAIT_IN_NUMPY], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stderr.readline() == "in numpy\n"
        os.kill(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (out, err)
    assert err == "error: interrupted\n" and out == ""
