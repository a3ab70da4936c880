"""Per-layer parameter counts, weights and biases apart: a view of the call records.

Conventions (stated in every output):
- a *weight* is any parameter not named ``bias`` (conv kernels, linear matrices, batch-norm γ);
  a *bias* is a parameter named ``bias`` or ``*_bias`` (batch-norm β included);
- a tensor shared between modules counts once; a parameter counts when the forward reads it,
  whether its module is called or its parent uses it (``nn.MultiheadAttention``'s
  ``out_proj``), and is shown on the layer whose code read it;
- the counts are for one inference forward: parameters nothing read (GoogLeNet's auxiliary
  classifiers in eval mode) are left out and named in a note;
- buffers (batch-norm running statistics) are not parameters and are not counted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..conventions import INFERENCE, PARAMS, SHARED
from ..errors import ArchscopeError
from .engines import DEFAULT_ENGINE
from .record import record_model
from .records import LayerTable, ModelRecord, layer_name
from .rows import RowFigures, fold, select_rows

if TYPE_CHECKING:
    import pandas as pd

PARAM_COLUMNS = ["layer", "type", "output_shape", "weights", "biases", "params", "share",
                 "trainable"]

# The conventions every params table states (texts in archscope.conventions).
PARAM_NOTES = [PARAMS, SHARED, INFERENCE]


def shape_text(shape: tuple[int, ...] | None) -> str:
    return "x".join(str(d) for d in shape) if shape else ""


def check_depth(depth: int | None) -> None:
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0 (0 folds the whole model into one row)")


def param_columns(rows: list[str], figures: dict[str, RowFigures], total_params: int
                  ) -> dict[str, list[Any]]:
    """The :data:`PARAM_COLUMNS` of the rows. ``trainable`` is ``None`` on a row without
    parameters (nothing to train), else whether all of them are trainable."""
    figs = [figures[r] for r in rows]
    return {
        "layer": [layer_name(r) for r in rows],
        "type": [f.type for f in figs],
        "output_shape": [shape_text(f.output_shape) for f in figs],
        "weights": [f.weights for f in figs],
        "biases": [f.biases for f in figs],
        "params": [f.params for f in figs],
        "share": [f.params / total_params if total_params else 0.0 for f in figs],
        "trainable": [None if not f.params else f.trainable == f.params for f in figs],
    }


def param_totals(record: ModelRecord) -> dict[str, Any]:
    weights = sum(c.weights for c in record.calls)
    biases = sum(c.biases for c in record.calls)
    trainable = sum(c.trainable for c in record.calls)
    first = record.root.outputs[0].shape if record.root.outputs else None
    total = {
        "layer": "total",
        "output_shape": shape_text(first),
        "weights": weights,
        "biases": biases,
        "params": weights + biases,
        "share": 1.0 if weights + biases else 0.0,
        "trainable_params": trainable,
        "non_trainable_params": weights + biases - trainable,
    }
    total.update(dead_totals(record))
    return total


def dead_totals(record: ModelRecord) -> dict[str, Any]:
    """``not_run_params`` and ``not_run_modules`` for a total, when parameters went unread."""
    if not record.dead_params:
        return {}
    return {"not_run_params": record.dead_params, "not_run_modules": list(record.dead_modules)}


def record_notes(record: ModelRecord) -> list[str]:
    """Caveats every view of this record states: parameters nothing read, how it was built."""
    notes = list(record.notes)
    if record.dead_params:
        tops = ", ".join(record.dead_modules) or "some modules"
        notes.append(f"{tops} did not run in this eval-mode forward (training only): "
                     f"{record.dead_params:,} parameters not counted")
    return notes


def param_report(
    model_or_name: Any,
    input_size: Any = None,
    *,
    batch_size: int | None = None,
    depth: int | None = None,
    engine: str = DEFAULT_ENGINE,
    kwargs: dict | None = None,
) -> LayerTable:
    """Per-layer parameters of a zoo network (by name), a spec, or any ``nn.Module``.

    ``input_size`` is ``"3x224x224"``, ``"1,3,224,224"``, a tuple ``(3, 224, 224)`` or the
    full-shape form ``"1x128:int64"``; the model's default when omitted. ``depth`` folds
    sub-modules below that depth into their ancestor (``depth=1`` on GoogLeNet: one row per
    stem layer and per inception block).
    """
    check_depth(depth)
    record = record_model(model_or_name, input_size, batch_size=batch_size, engine=engine,
                          kwargs=kwargs)
    rows = select_rows(record, depth, own_work=False)
    total = param_totals(record)
    columns = param_columns(rows, fold(record, rows), total["params"])
    return LayerTable("params", record.name, record.inputs[0].shape, columns, total,
                      PARAM_NOTES + record_notes(record),
                      {"depth": depth, "inputs": record.input_text(), "engine": engine}, record)


def param_table(model_or_name: Any, input_size: Any = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`param_report`'s rows as a DataFrame (totals in ``df.attrs['total']``); keyword
    arguments (``batch_size``, ``depth``, ``kwargs``, ``engine``) as there."""
    return param_report(model_or_name, input_size, **kwargs).frame()


def count_params(model: Any) -> int:
    """All parameters of a module, shared tensors once (what ``archscope list`` shows)."""
    return sum(p.numel() for p in model.parameters())
