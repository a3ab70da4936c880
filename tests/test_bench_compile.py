"""``--compile``: a fresh ``torch.compile(dynamic=False)`` per configuration after
``torch._dynamo.reset()``, and a record that says ``fallback`` when dynamo ran eagerly.

Dynamo runs for real here, with its ``eager`` backend (no code generation), so the counters the
bench reads are the ones a real compile produces; only inductor is left out (CPU time)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import archscope
from archscope.timing.report import config_frame
from archscope.timing.results import TIMED

FAST = dict(iters=3, warmup=1, roofs=False)  # 3 iterations: no CI, so "unstable"


@pytest.fixture
def compiles(monkeypatch):
    """torch.compile through dynamo's eager backend; records each call's mode and dynamic."""
    real = torch.compile
    calls = []

    def eager_compile(model, mode=None, dynamic=None):
        calls.append((mode, dynamic))
        return real(model, backend="eager", dynamic=dynamic)

    monkeypatch.setattr(torch, "compile", eager_compile)
    return calls


@pytest.fixture
def resets(monkeypatch):
    import torch._dynamo

    real = torch._dynamo.reset
    calls = []
    monkeypatch.setattr(torch._dynamo, "reset", lambda: calls.append(1) or real())
    return calls


def _tiny():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 4))


def test_fresh_static_compile_per_configuration(compiles, resets):
    # 10 batch sizes × 1 dtype × 1 layout: more configurations than dynamo's recompile limit (8).
    # One shared compiled module would have turned the batch dimension dynamic at the second size
    # and, across dtypes and layouts, hit the limit and run eagerly while labelled "compile".
    batches = list(range(1, 11))
    res = archscope.bench(_tiny(), input_size=(3, 2, 2), batch_sizes=batches, compile=True, **FAST)
    comp = [r for r in res.records if r["compile"]]
    assert [r["batch_size"] for r in comp] == batches
    assert compiles == [("default", False)] * 10
    assert len(resets) >= 10
    for r in comp:
        assert r["status"] in TIMED and r["status"] != "fallback"
        assert r["compile_graphs"] == 1 and r["compile_graph_breaks"] == 0  # one static graph each
        assert r["compile_s"] > 0 and r["median_ms"] > 0  # compile time kept apart from run time


class _Disabled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(12, 4)

    @torch.compiler.disable
    def forward(self, x):
        return self.lin(x.flatten(1))


def test_no_graph_is_a_fallback_not_a_compile(compiles):
    res = archscope.bench(_Disabled(), input_size=(3, 2, 2), compile=True, **FAST)
    eager, comp = res.records
    assert eager["status"] in TIMED and eager["status"] != "fallback"
    assert comp["status"] == "fallback" and comp["compile_graphs"] == 0
    assert comp["reason"].startswith("torch.compile captured no graph")
    assert comp["median_ms"] > 0  # the eager timings are kept, labelled for what they are
    row = config_frame(res.records).iloc[1]
    assert row["status"].startswith("fallback: torch.compile captured no graph")
    assert row["speedup"] != row["speedup"]  # NaN: no speedup claimed for an eager run


class _Recompiling(nn.Module):
    """Each call changes a Python int that dynamo specialises on: a recompile per call."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(12, 4)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.lin(x.flatten(1)) * self.calls


@pytest.mark.slow
def test_recompile_limit_is_a_fallback(compiles):
    # 1 compiling call + 1 warm-up + 12 timed: past the limit of 8 compiled versions
    res = archscope.bench(_Recompiling(), input_size=(3, 2, 2), compile=True, iters=12, warmup=1)
    comp = res.records[1]
    assert comp["status"] == "fallback" and "recompile limit" in comp["reason"]
    assert comp["compile_graphs"] == torch._dynamo.config.recompile_limit  # 8 versions, then eager


def test_compile_failure_is_an_error_record(monkeypatch):
    def broken(model, mode=None, dynamic=None):
        raise RuntimeError("BackendCompilerFailed: no C++ compiler")

    monkeypatch.setattr(torch, "compile", broken)
    res = archscope.bench("lenet5", compile=True, **FAST)
    assert res.records[0]["status"] in TIMED and res.records[1]["status"] == "error"
    assert res.records[1]["reason"] == "RuntimeError: BackendCompilerFailed: no C++ compiler"
