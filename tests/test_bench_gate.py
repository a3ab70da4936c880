"""The noise gate: ``ok`` only for a median pinned within 5 %; ``unstable`` with the likely cause
otherwise — on synthetic figures, and beside a real CPU hog this test starts and stops itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import archscope
from archscope.timing.gate import CI_LIMIT, gate
from archscope.timing.report import config_frame

QUIET = dict(stopped="converged", threads=1, cores=4, load_before=0.1, load_after=0.2, budget_s=2.0)


def test_a_ci_within_five_percent_is_ok():
    assert gate(0.05, 40, **QUIET) == ("ok", None)
    assert gate(0.0, 10, **QUIET) == ("ok", None)


def test_too_few_iterations_for_a_ci_are_unstable():
    status, why = gate(None, 4, **{**QUIET, "stopped": "fixed"})
    assert status == "unstable"
    assert why == ("4 iterations give no 95 % CI of the median (6 are needed), so its spread is "
                   "unknown; use --iters auto or --iters 10 or more")


def test_the_cause_named_is_the_load_when_other_processes_compete():
    # 1 timing thread on 2 cores with a load of 3.4: 2.4 more runnable tasks than the bench's own
    status, why = gate(0.12, 23, stopped="budget", threads=1, cores=2, load_before=1.1,
                       load_after=3.4, budget_s=2.0)
    assert status == "unstable"
    assert why == ("the median's 95 % CI is ±12.0 % (over 5 %): the load average was 3.40 on 2 "
                   "cores while 1 thread timed, so other processes competed for the CPU; rerun on "
                   "a quiet machine")


def test_the_other_causes_in_order():
    # more threads than cores, the load being only the bench's own threads
    _, why = gate(0.08, 50, stopped="converged", threads=8, cores=2, load_before=0.5,
                  load_after=8.0, budget_s=2.0)
    assert why.endswith("8 threads share 2 cores, so they take turns; use --threads 2 or fewer")
    _, why = gate(0.07, 12, **{**QUIET, "stopped": "budget"})
    assert why.endswith("when the --budget of 2 s ran out after 12 iterations; raise --budget so "
                        "more iterations can narrow it")
    _, why = gate(0.07, 30, **{**QUIET, "stopped": "fixed"})
    assert why.endswith("over the 30 iterations asked for; use --iters auto or more iterations")
    _, why = gate(0.06, 900, **{**QUIET, "device": "cuda"})  # no load blamed on a GPU
    assert why.endswith("the times varied from run to run; rerun, or raise --budget")


def test_the_summary_always_shows_n_and_the_ci_with_a_percent_sign():
    res = archscope.bench("lenet5", iters=4, warmup=1, roofs=False)
    row = config_frame(res.records, text=True).iloc[0]
    assert row["n"] == 4 and row["ci_pct"] == "no CI" and row["status"] == "unstable"
    res.records[0]["ci_rel"] = 0.0123
    assert config_frame(res.records, text=True).iloc[0]["ci_pct"] == "1.2%"
    assert config_frame(res.records).iloc[0]["ci_pct"] == pytest.approx(1.23)  # CSV, JSON: a number


def _hogs(n: int) -> list[subprocess.Popen]:
    code = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


@pytest.mark.slow
@pytest.mark.xdist_group("timing")
def test_beside_a_cpu_hog_never_ok_with_a_wide_ci():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    hogs = _hogs(cores)  # every core busy: the bench's threads must share them
    try:
        time.sleep(0.5)
        res = archscope.bench(["lenet5", "cifar_cnn"], batch_sizes=[1, 8], threads=cores,
                              budget_s=0.5, warmup=1, roofs=False)
    finally:
        for hog in hogs:  # stopped by their own PIDs, whatever happened
            hog.kill()
            hog.wait()
    assert all(h.returncode is not None for h in hogs)
    assert len(res.records) == 4
    for r in res.records:
        assert r["status"] in ("ok", "unstable"), r
        assert r["load_before"] is not None and r["load_after"] is not None
        if r["status"] == "ok":
            assert r["ci_rel"] is not None and r["ci_rel"] <= CI_LIMIT, r
        else:
            assert r["reason"] and (r["ci_rel"] is None or r["ci_rel"] > CI_LIMIT), r


def test_an_ok_row_timed_under_contention_is_named_in_the_notes():
    from archscope.timing.report import render_results

    res = archscope.bench("lenet5", batch_sizes=[1, 2], threads=1, iters=4, warmup=0, roofs=False)
    for r in res.records:
        r.update(status="ok", ci_rel=0.01)
    res.records[0].update(load_before=0.4, load_after=0.6)  # the bench's own thread and a little
    res.records[1].update(load_before=2.9, load_after=3.4)  # 2.4 more than its one thread
    res.env["cpu_count"] = 2
    text = render_results(res, "table")
    assert ("ok by their CI, but timed while other processes competed for the 2 cores (load "
            "average above the bench's threads): lenet5 b2 fp32 infer eager (load 3.40)") in text
    assert "lenet5 b1 fp32 infer eager (load" not in text
