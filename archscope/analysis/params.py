"""Per-layer parameter counts, weights and biases apart.

Conventions (stated in every output):
- a *weight* is any parameter not named ``bias`` (conv kernels, linear matrices, batch-norm γ);
  a *bias* is a parameter named ``bias`` (batch-norm β included);
- a tensor shared between modules counts once, under the first module that owns it;
- the counts are for one inference forward: modules that did not run in eval mode (GoogLeNet's
  auxiliary classifiers) are left out of the rows and totals and named in a note;
- buffers (batch-norm running statistics) are not parameters and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..models import Target, analysis_target
from .records import LayerTable
from .trace import ModuleRun, trace_forward

if TYPE_CHECKING:
    import pandas as pd

PARAM_COLUMNS = [
    "layer",
    "type",
    "output_shape",
    "weights",
    "biases",
    "params",
    "share",
    "trainable",
]

PARAM_NOTES = [
    "params = weights + biases; a bias is a parameter named 'bias' (batch-norm β included), "
    "every other parameter is a weight",
    "shared tensors count once; buffers (running statistics) are not parameters",
    "counts are for one inference forward (eval mode)",
]


@dataclass
class ModuleParams:
    """A module's own parameters (not its children's): counts and trainability."""

    weights: int = 0
    biases: int = 0
    trainable: int = 0

    @property
    def params(self) -> int:
        return self.weights + self.biases


def own_params(model: nn.Module) -> dict[str, ModuleParams]:
    """Each module's directly owned parameters, with shared tensors counted once."""
    seen: set[int] = set()
    out: dict[str, ModuleParams] = {}
    for path, module in model.named_modules():
        rec = ModuleParams()
        for pname, p in module.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            n = p.numel()
            if pname == "bias" or pname.endswith("_bias"):
                rec.biases += n
            else:
                rec.weights += n
            if p.requires_grad:
                rec.trainable += n
        out[path] = rec
    return out


def depth_of(path: str) -> int:
    """Depth of a module path: the root ``""`` is 0, ``inception3a`` 1, ``inception3a.branch1`` 2."""
    return 0 if path == "" else path.count(".") + 1


def is_within(path: str, ancestor: str) -> bool:
    return ancestor == "" or path == ancestor or path.startswith(ancestor + ".")


def select_layers(
    model: nn.Module, depth: int | None, ran: set[str], extra: set[str] = frozenset(),
    own: dict[str, ModuleParams] | None = None,
) -> list[str]:
    """The module paths shown as rows: leaves, folded at ``depth`` when given.

    A module is a row when it ran and is either a leaf at or above ``depth`` or sits exactly at
    ``depth`` (its whole subtree folded into it). A module above ``depth`` with children that
    also owns parameters of its own, or does work of its own (``extra``: a residual add or a
    concatenation in its ``forward``), gets a row too, so nothing is lost. ``own`` is
    :func:`own_params` of the model, when the caller has it already.
    """
    own = own_params(model) if own is None else own
    rows = []
    for path, module in model.named_modules():
        if path not in ran:
            continue
        d = depth_of(path)
        has_children = any(True for _ in module.children())
        if depth is not None and d > depth:
            continue
        if (depth is not None and d == depth and d > 0) or not has_children:
            rows.append(path)
        elif own[path].params or path in extra:
            rows.append(path)
    if not rows:  # a bare leaf module handed in directly, or depth 0
        rows.append("")
    return rows


def owning_row(path: str, rows: set[str]) -> str | None:
    """The row a module's own figures belong to: itself or its nearest ancestor that is a row."""
    while True:
        if path in rows:
            return path
        if path == "":
            return None
        path = path.rpartition(".")[0]


def fold_into_rows(own: dict[str, ModuleParams], rows: list[str]) -> dict[str, ModuleParams]:
    """Sum each module's own parameters into the row that stands for it."""
    row_set = set(rows)
    out = {r: ModuleParams() for r in rows}
    for path, rec in own.items():
        row = owning_row(path, row_set)
        if row is None:
            continue
        acc = out[row]
        acc.weights += rec.weights
        acc.biases += rec.biases
        acc.trainable += rec.trainable
    return out


def _shape_text(run: ModuleRun | None) -> str:
    if run is None or run.output_shape is None:
        return ""
    return "x".join(str(d) for d in run.output_shape)


def not_run_params(
    model: nn.Module, runs: dict[str, ModuleRun], own: dict[str, ModuleParams] | None = None
) -> tuple[int, list[str]]:
    """Parameters of modules that did not run, and the top-most such module paths."""
    own = own_params(model) if own is None else own
    skipped = [p for p in own if p not in runs]
    tops = [p for p in skipped if not any(q != p and is_within(p, q) for q in skipped)]
    return sum(own[p].params for p in skipped), tops


@dataclass
class ParamRows:
    """The per-layer parameter columns of a traced model, before they become a DataFrame.

    ``paths`` gives each row's module path (``""`` for the root, shown as ``(model)``);
    ``columns`` maps each of :data:`PARAM_COLUMNS` to its values, row by row (a caller such as
    ``flop_report`` adds its own); ``notes`` are the caveats beyond :data:`PARAM_NOTES`
    (modules that did not run).
    """

    paths: list[str]
    columns: dict[str, list[Any]]
    total: dict[str, Any]
    notes: list[str]


def build_param_rows(
    model: nn.Module, runs: dict[str, ModuleRun], depth: int | None,
    extra: set[str] = frozenset(),
) -> ParamRows:
    """The per-layer rows and totals of a traced model (see module docstring for conventions)."""
    every = own_params(model)
    own = {p: rec for p, rec in every.items() if p in runs}
    modules = dict(model.named_modules())
    layers = select_layers(model, depth, set(runs), extra, every)
    folded = [rec for rec in fold_into_rows(own, layers).values()]
    weights = sum(r.weights for r in own.values())
    biases = sum(r.biases for r in own.values())
    total_params = weights + biases
    columns = {
        "layer": [path or "(model)" for path in layers],
        "type": [type(modules[path]).__name__ for path in layers],
        "output_shape": [_shape_text(runs.get(path)) for path in layers],
        "weights": [rec.weights for rec in folded],
        "biases": [rec.biases for rec in folded],
        "params": [rec.params for rec in folded],
        "share": [rec.params / total_params if total_params else 0.0 for rec in folded],
        "trainable": [rec.params == 0 or rec.trainable == rec.params for rec in folded],
    }
    trainable = sum(r.trainable for r in own.values())
    total = {
        "layer": "total",
        "output_shape": _shape_text(runs.get("")),
        "weights": weights,
        "biases": biases,
        "params": total_params,
        "share": 1.0 if total_params else 0.0,
        "trainable_params": trainable,
        "non_trainable_params": total_params - trainable,
    }
    return ParamRows(layers, columns, total, note_not_run(model, runs, total, every))


def note_not_run(
    model: nn.Module, runs: dict[str, ModuleRun], total: dict[str, Any],
    own: dict[str, ModuleParams] | None = None,
) -> list[str]:
    """The note on modules that did not run (GoogLeNet's aux heads), if any; their parameters
    and top-most paths go into ``total`` as ``not_run_params`` and ``not_run_modules``."""
    skipped, tops = not_run_params(model, runs, own)
    if not skipped:
        return []
    total["not_run_params"] = skipped
    total["not_run_modules"] = tops
    return [f"{', '.join(tops)} did not run in eval mode (training only): "
            f"{skipped:,} parameters not counted"]


def _prepare(model_or_name: Any, input_size: Any, batch_size: int | None, kwargs: dict | None):
    target: Target
    target, shape = analysis_target(model_or_name, input_size, batch_size, kwargs)
    expected = (shape[0], *target.sample_shape) if target.sample_shape else None
    runs = trace_forward(target.model, shape, name=target.name, expected=expected)
    return target, shape, runs


def param_report(
    model_or_name: Any,
    input_size: Any = None,
    *,
    batch_size: int | None = None,
    depth: int | None = None,
    kwargs: dict | None = None,
) -> LayerTable:
    """Per-layer parameters of a zoo network (by name) or of any ``nn.Module``.

    ``input_size`` is ``"3x224x224"``, ``"1,3,224,224"`` or a tuple ``(3, 224, 224)``; the zoo's
    default input is used when omitted. ``depth`` folds sub-modules below that depth into their
    ancestor (``depth=1`` on GoogLeNet: one row per stem layer and per inception block).
    """
    if depth is not None and depth < 0:
        from ..errors import ArchscopeError

        raise ArchscopeError(f"depth {depth} must be ≥ 0 (0 folds the whole model into one row)")
    target, shape, runs = _prepare(model_or_name, input_size, batch_size, kwargs)
    rows = build_param_rows(target.model, runs, depth)
    return LayerTable("params", target.name, shape, rows.columns, rows.total,
                      PARAM_NOTES + rows.notes, {"depth": depth})


def param_table(model_or_name: Any, input_size: Any = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`param_report`'s rows as a DataFrame (totals in ``df.attrs['total']``); keyword
    arguments (``batch_size``, ``depth``, ``kwargs``) as there."""
    return param_report(model_or_name, input_size, **kwargs).frame()


def count_params(model: nn.Module) -> int:
    """All parameters of a module, shared tensors once (what ``archscope list`` shows)."""
    return sum(p.numel() for p in model.parameters())


def dtype_bytes(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype, device="meta").element_size()
