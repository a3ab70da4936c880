"""``flop_report``: per-layer MACs and FLOPs, extending the params table row for row."""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ...errors import ArchscopeError
from ...models import analysis_target, load_target, materialize, resolve_input_shape
from ..params import build_param_rows, owning_row, PARAM_NOTES
from ..records import LayerTable
from ..trace import ModuleRun, ran_leaves, trace_forward
from . import costs

if TYPE_CHECKING:
    import pandas as pd

ENGINES = ("fvcore", "meta")
UNITS = ("macs", "flops")

FLOP_NOTES = [
    "MACs = multiply-accumulates of conv, linear and matmul, biases excluded",
    "other FLOPs by category: bias 1/output · norm: batch norm 2/element, layer/group norm "
    "4/element (6 with γ, β), LRN size+5/element · pool: max k·k−1, avg k·k per output, "
    "adaptive by exact windows · activation 1/element · elementwise add/mul/… 1/element · "
    "softmax 3/element",
    "FLOPs = 2 × MACs + other FLOPs",
    "intensity = FLOPs / bytes moved (the layer's weights + its input + its output, at the dtype)",
]


def _dtype(dtype: Any) -> torch.dtype:
    from ...devices import parse_dtype

    return parse_dtype(dtype)


def _count(target, shape, engine: str):
    """Own counts per module, uncounted ops and module runs from the chosen engine.

    An engine that fails is followed by a shape-only trace, which names the layer that cannot
    take the input (or, if the input is fine, lets the engine's own error through).
    """
    model, name = target.model, target.name
    expected = (shape[0], *target.sample_shape) if target.sample_shape else None
    errors = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)
    if engine == "meta":
        from . import meta_engine

        try:
            return meta_engine.count(model, shape)
        except errors:
            trace_forward(model, shape, name=name, expected=expected)
            raise
    from . import fvcore_engine

    materialize(model, "cpu")  # the trace needs real tensors (a meta-built zoo model gets zeros)
    device = next((t.device for t in model.parameters()), torch.device("cpu"))
    try:
        return fvcore_engine.count(model, torch.zeros(shape, device=device))
    except errors:
        trace_forward(model, shape, name=name, expected=expected)
        raise


def _regroup(model: nn.Module, own: dict[str, Counter]) -> dict[str, Counter]:
    """Charge a leaf module's other FLOPs to its own category (LRN's mul/pool/pow → norm)."""
    modules = dict(model.named_modules())
    out = {}
    for path, c in own.items():
        category = costs.MODULE_CATEGORY.get(type(modules.get(path)).__name__)
        if category:
            other = sum(v for k, v in c.items() if k != costs.MACS)
            c = Counter({k: v for k, v in c.items() if k == costs.MACS})
            if other:
                c[category] = other
        out[path] = c
    return out


def _ordered(c: Counter) -> dict[str, int]:
    return {k: int(c[k]) for k in costs.CATEGORIES if c.get(k)}


def _io_numel(run: ModuleRun | None) -> int:
    if run is None:
        return 0
    n_in = costs.numel(run.input_shape) if run.input_shape else 0
    return n_in + run.output_numel


def measure(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    engine: str = "fvcore", kwargs: dict | None = None,
):
    """Run one engine: ``(target, input_shape, own counts per module, uncounted ops, runs)``.

    Own counts are each module's ops outside its children, with LRN-like modules' other FLOPs
    regrouped under their category; modules with no counts are omitted.
    """
    if engine not in ENGINES:
        raise ArchscopeError(f"unknown engine {engine!r}; use fvcore or meta")
    if engine == "meta":
        target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
        shape = resolve_input_shape(target, input_size, batch_size)
    else:
        target, shape = analysis_target(model_or_name, input_size, batch_size, kwargs)
    own, uncounted, runs = _count(target, shape, engine)
    own = _regroup(target.model, {p: c for p, c in own.items() if c})
    return target, shape, own, uncounted, runs


def flop_report(
    model_or_name: Any,
    input_size: Any = None,
    *,
    batch_size: int | None = None,
    depth: int | None = None,
    engine: str = "fvcore",
    dtype: Any = "fp32",
    unit: str = "macs",
    kwargs: dict | None = None,
) -> LayerTable:
    """Per-layer MACs and FLOPs of a zoo network (by name) or of any ``nn.Module``.

    Rows are the :func:`~archscope.analysis.params.param_report` rows (same layers, same
    columns) plus ``macs``, ``flops``, ``other_flops`` (a dict by category), ``mac_share`` and
    ``intensity`` (FLOPs per byte). A module that does work of its own in ``forward`` (a
    residual add, a concatenation) gets a row of its own. ``engine`` is ``"fvcore"`` (a
    TorchScript trace on CPU) or ``"meta"`` (torch's dispatcher on the meta device: no compute,
    any input size). ``dtype`` sets the bytes per element for intensity and memory.
    """
    if engine not in ENGINES:
        raise ArchscopeError(f"unknown engine {engine!r}; use fvcore or meta")
    if unit not in UNITS:
        raise ArchscopeError(f"unknown unit {unit!r}; use macs or flops")
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0 (0 folds the whole model into one row)")
    dt = _dtype(dtype)
    target, shape, own, uncounted, runs = measure(
        model_or_name, input_size, batch_size=batch_size, engine=engine, kwargs=kwargs
    )
    model = target.model

    rows = build_param_rows(model, runs, depth, extra=set(own))
    paths, columns, total = rows.paths, rows.columns, rows.total
    row_set = set(paths)
    per_row = {p: Counter() for p in paths}
    for path, c in own.items():
        row = owning_row(path, row_set)
        if row is None:  # the engine ran a module the shape trace did not: a bug, not input
            raise RuntimeError(f"{engine} engine counted ops in {path!r}, which did not run")
        per_row[row].update(c)

    elem = torch.empty((), dtype=dt, device="meta").element_size()
    all_counts = sum(own.values(), Counter())
    total_macs = all_counts.get(costs.MACS, 0)
    total_flops = costs.total_flops(all_counts)
    macs = [int(per_row[p].get(costs.MACS, 0)) for p in paths]
    flops = [costs.total_flops(per_row[p]) for p in paths]
    bytes_moved = [elem * (n + _io_numel(runs.get(p))) for p, n in zip(paths, columns["params"])]
    columns["macs"] = macs
    columns["flops"] = flops
    columns["other_flops"] = [_ordered(per_row[p]) for p in paths]
    columns["mac_share"] = [m / total_macs if total_macs else 0.0 for m in macs]
    if unit == "flops":
        columns["flop_share"] = [f / total_flops if total_flops else 0.0 for f in flops]
    columns["intensity"] = [f / b if b else 0.0 for f, b in zip(flops, bytes_moved)]

    # Memory and the whole model's intensity, layer by layer: every leaf that ran reads its
    # weights and input and writes its output once.
    leaves = ran_leaves(model, runs)
    activation_elems = sum(runs[p].output_numel for p in leaves)
    io_elems = sum(_io_numel(runs[p]) for p in leaves)
    total.update(
        {
            "macs": int(total_macs),
            "flops": int(total_flops),
            "other_flops": _ordered(all_counts),
            "mac_share": 1.0 if total_macs else 0.0,
            "param_bytes": elem * total["params"],
            "activation_bytes": elem * activation_elems,
            "intensity": total_flops / (elem * (total["params"] + io_elems))
            if total["params"] + io_elems else 0.0,
        }
    )
    if unit == "flops":
        total["flop_share"] = 1.0 if total_flops else 0.0
    notes = list(FLOP_NOTES) + PARAM_NOTES[:1]
    notes.append(f"engine: {engine}; dtype: {str(dt).removeprefix('torch.')} ({elem} bytes)")
    notes += rows.notes
    if uncounted:
        listed = ", ".join(f"{op} ×{n}" for op, n in sorted(uncounted.items()))
        notes.append(f"ops without a cost handle, NOT in these totals: {listed}")
        total["uncounted_ops"] = dict(sorted(uncounted.items()))
    meta = {"engine": engine, "dtype": str(dt).removeprefix("torch."), "depth": depth, "unit": unit}
    return LayerTable("flops", target.name, shape, columns, total, notes, meta)


def flop_table(
    model_or_name: Any, input_size: Any = None, *, engine: str = "fvcore", **kwargs: Any
) -> pd.DataFrame:
    """:func:`flop_report`'s rows as a DataFrame (totals in ``df.attrs['total']``); the other
    keyword arguments (``batch_size``, ``depth``, ``dtype``, ``unit``, ``kwargs``) as there."""
    return flop_report(model_or_name, input_size, engine=engine, **kwargs).frame()
