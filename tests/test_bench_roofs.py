"""The device's roofs on this CPU: the matmul peak and the memory bandwidth, each checked against
numpy doing the same work timed independently here; ridge point and bound by hand; the
``archscope device`` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from archscope.timing import bandwidth, roofs
from archscope.timing.peak import device_peak
from archscope.timing.scoped import torch_threads
from archscope.timing.clock import time_cpu
from archscope.cli import app

# Timings against numpy: never beside another timing test (see pyproject's addopts).
pytestmark = pytest.mark.xdist_group("timing")

NUMPY_MATMUL = """
import time, numpy as np
n = 1024
a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
c = np.empty((n, n), np.float32)
for _ in range(3):
    np.matmul(a, b, out=c)
times = []
for _ in range(20):
    t = time.perf_counter(); np.matmul(a, b, out=c); times.append(time.perf_counter() - t)
print(2 * n**3 / min(times) / 1e12)
"""


def _numpy_matmul_tflops() -> float:
    # numpy's BLAS on one thread, in a process of its own (OPENBLAS_NUM_THREADS is read at load)
    out = subprocess.run([sys.executable, "-c", NUMPY_MATMUL], capture_output=True, text=True,
                         env={"OPENBLAS_NUM_THREADS": "1", "PATH": ""}, check=True)
    return float(out.stdout)  # TFLOP/s, best of 20


def test_matmul_peak_is_of_numpys_order_and_never_twice_it():
    before = _numpy_matmul_tflops()
    with torch_threads(1):
        ours = device_peak("cpu", "fp32", None, time_cpu).measured
    # the better of a reference taken before and one after: a burst of load on this shared
    # machine during one of them must not pass for numpy's speed
    reference = max(before, _numpy_matmul_tflops())
    assert reference / 10 <= ours <= 2 * reference, (ours, reference)


def test_bandwidth_is_of_numpys_copy_order_and_never_twice_it():
    half = 64 * 2**20 // 4  # two 64 MiB float32 halves, as the bench's copy uses
    src, dst = np.ones(half, np.float32), np.zeros(half, np.float32)
    times = []
    for _ in range(8):
        t = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t)
    reference = 2 * src.nbytes / min(times) / 1e9  # bytes read + written per second, GB/s
    with torch_threads(1):
        ours = bandwidth.measure_bandwidth("cpu", time_cpu, nbytes=2 * src.nbytes)
    assert ours.buffer_bytes == 128 * 2**20 and ours.copy_gbs and ours.triad_gbs
    assert ours.best == max(ours.copy_gbs, ours.triad_gbs)
    assert reference / 10 <= ours.best <= 2 * reference, (ours, reference)


def test_the_buffer_outgrows_the_last_level_cache(monkeypatch):
    from archscope.timing import machine

    monkeypatch.setattr(machine, "last_level_cache_bytes", lambda: 32 * 2**20)
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: 64 * 2**30)
    assert bandwidth.buffer_bytes("cpu") == (128 * 2**20, "128 MiB (4 × the 32 MiB last-level cache)")
    monkeypatch.setattr(machine, "available_memory_bytes", lambda: 256 * 2**20)  # a quarter: 64
    size, why = bandwidth.buffer_bytes("cpu")
    assert size == 64 * 2**20 and why.startswith("64 MiB (a quarter of the 0.2 GiB free; wanted 128")


def test_ridge_point_and_bound_by_hand():
    # 0.4 TFLOP/s over 20 GB/s: 400e9 / 20e9 = 20 FLOPs per byte
    assert roofs.ridge(0.4, 20.0) == pytest.approx(20.0)
    assert roofs.bound(19.9, 0.4, 20.0) == "memory-bound"
    assert roofs.bound(20.0, 0.4, 20.0) == "compute-bound"
    assert roofs.bound(5.0, 0.4, None) is None and roofs.ridge(None, 20.0) is None


def test_sysfs_cache_sizes_read_as_bytes():
    from archscope.timing.machine import _size

    assert _size("491520K") == 491520 * 1024 and _size("32M") == 32 * 2**20 and _size("64") == 64
    assert _size("") is None


@pytest.fixture
def small_buffer(monkeypatch):
    """The device command with a 64 MiB bandwidth buffer: the wiring, not the figure, is tested."""
    monkeypatch.setattr(bandwidth, "buffer_bytes", lambda device: (64 * 2**20, "64 MiB (test)"))


def test_device_command_table_and_json(runner, small_buffer):
    res = runner.invoke(app, ["device", "--threads", "1", "--dtype", "fp32", "--wide"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].startswith("archscope device · cpu · ") and lines[0].endswith("· 1 thread")
    header = next(line for line in lines if line.startswith("device"))
    for column in ("math", "bandwidth_gbs", "copy_gbs", "triad_gbs", "ridge_flop_per_byte"):
        assert column in header
    res = runner.invoke(app, ["device", "--threads", "1", "-f", "json"])
    doc = json.loads(res.output)
    [row] = doc["roofs"]
    assert doc["schema"] == "archscope.device/1" and doc["env"]["threads"] == 1
    assert row["math"] == "fp32" and row["peak_tflops"] > 0 and row["bandwidth_gbs"] > 0
    assert row["ridge_flop_per_byte"] == pytest.approx(1000 * row["peak_tflops"] / row["bandwidth_gbs"])


def test_device_command_refuses_bad_options_in_one_line(runner):
    res = runner.invoke(app, ["device", "--threads", "99999"])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert res.output.startswith("error: --threads 99999 is more than ")
