"""``flop_report``: per-layer MACs and FLOPs, extending the params table row for row.

A view of the call records (:mod:`.records`): each row sums the own work of every call it
stands for (a module called three times shows all three), see :mod:`.rows`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..conventions import FLOPS, INTENSITY, MACS, OTHER_FLOPS
from ..errors import ArchscopeError, check_choice
from .costs import Cost
from .engines import DEFAULT_ENGINE, get_engine
from .params import PARAM_NOTES, check_depth, param_columns, param_totals, record_notes
from .record import record_model
from .records import LayerTable, ModelRecord
from .rows import fold, select_rows

if TYPE_CHECKING:
    import pandas as pd

UNITS = ("macs", "flops")
MODES = ("infer", "train")

# The conventions every flops table states (texts in archscope.conventions).
FLOP_NOTES = [MACS, OTHER_FLOPS, FLOPS, INTENSITY]


def float_bytes(dtype: Any) -> tuple[int, str]:
    """Bytes per element of a floating dtype name (``fp16`` → 2) and its torch name."""
    from ..dtypes import FLOATS, canonical, itemsize

    name = canonical(dtype, FLOATS)
    return itemsize(name), name


def flop_view(record: ModelRecord, *, depth: int | None = None, dtype: Any = "fp32",
              unit: str = "macs", rows: list[str] | None = None) -> LayerTable:
    """The per-layer MACs/FLOPs table of a record (see :func:`flop_report`); ``rows``: the
    module paths shown, when the caller chose them (the training count adds blocks whose only
    own work is in the backward)."""
    if unit not in UNITS:
        raise ArchscopeError(f"unknown unit {unit!r}; use macs or flops")
    check_depth(depth)
    elem, dt = float_bytes(dtype)
    rows = rows if rows is not None else select_rows(record, depth)
    figures = fold(record, rows, elem)
    total = param_totals(record)
    columns = param_columns(rows, figures, total["params"])
    cost = record.cost
    row_costs = [figures[r].cost for r in rows]
    macs = [c.macs for c in row_costs]
    flops = [c.flops for c in row_costs]
    columns["macs"] = macs
    columns["flops"] = flops
    columns["other_flops"] = [c.ordered_other() for c in row_costs]
    columns["mac_share"] = [m / cost.macs if cost.macs else 0.0 for m in macs]
    if unit == "flops":
        columns["flop_share"] = [f / cost.flops if cost.flops else 0.0 for f in flops]
    columns["intensity"] = [f / figures[r].traffic if figures[r].traffic else 0.0
                            for f, r in zip(flops, rows)]
    columns["calls"] = [figures[r].calls for r in rows]
    moved = sum(figures[r].traffic for r in rows)
    activations = sum(c.output_elements for c in record.leaf_calls())
    total.update({
        "macs": cost.macs,
        "flops": cost.flops,
        "other_flops": cost.ordered_other(),
        "mac_share": 1.0 if cost.macs else 0.0,
        "param_bytes": elem * record.params,  # the counted parameters, floats at the dtype
        "activation_bytes": elem * activations,
        "bytes_moved": moved,
        "intensity": cost.flops / moved if moved else 0.0,
    })
    if unit == "flops":
        total["flop_share"] = 1.0 if cost.flops else 0.0
    notes = list(FLOP_NOTES) + PARAM_NOTES[:1]
    notes.append(f"engine: {record.engine}; dtype: {dt} ({elem} bytes)")
    notes += record_notes(record)
    note_uncounted(record.uncounted, notes, total)
    meta = {"engine": record.engine, "dtype": dt, "depth": depth, "unit": unit,
            "inputs": record.input_text()}
    return LayerTable("flops", record.name, record.inputs[0].shape, columns, total, notes,
                      meta, record)


def note_uncounted(uncounted: dict[str, int], notes: list[str], total: dict[str, Any],
                   what: str = "ops", key: str = "uncounted_ops") -> None:
    """Name every op without a cost handle in the notes and the totals: never dropped."""
    if not uncounted:
        return
    listed = ", ".join(f"{op} ×{n}" for op, n in sorted(uncounted.items()))
    notes.append(f"{what} without a cost handle, NOT in these totals: {listed}")
    total[key] = dict(sorted(uncounted.items()))


def flop_report(
    model_or_name: Any,
    input_size: Any = None,
    *,
    batch_size: int | None = None,
    depth: int | None = None,
    engine: str = DEFAULT_ENGINE,
    dtype: Any = "fp32",
    unit: str = "macs",
    kwargs: dict | None = None,
    mode: str = "infer",
    freeze: tuple[str, ...] | list[str] = (),
) -> LayerTable:
    """Per-layer MACs and FLOPs of a zoo network (by name), a spec, or any ``nn.Module``.

    Rows are the :func:`~archscope.analysis.params.param_report` rows (same layers, same
    columns) plus ``macs``, ``flops``, ``other_flops`` (a dict by category), ``mac_share``,
    ``intensity`` (FLOPs per byte moved) and ``calls`` (how often the row's module ran). A module
    that does work of its own in ``forward`` (a residual add, a concatenation) gets a row of its
    own. ``engine``: a registered engine (``"meta"``, the default, or ``"fvcore"``). ``dtype``
    sets the bytes per floating element for intensity and memory.

    ``mode="train"`` counts one training step instead: the forward in train mode and the
    backward beside it, per layer (``freeze``: parameter-name patterns given no gradient); see
    :mod:`archscope.analysis.train`. Meta engine only.
    """
    get_engine(engine)  # an unknown engine is one sentence before anything is built
    if unit not in UNITS:
        raise ArchscopeError(f"unknown unit {unit!r}; use macs or flops")
    check_depth(depth)
    float_bytes(dtype)
    check_choice("mode", mode, MODES)
    if mode == "train":
        from .train.count import training_record
        from .train.view import train_view

        train = training_record(model_or_name, input_size, batch_size=batch_size,
                                freeze=freeze, engine=engine, kwargs=kwargs)
        return train_view(train, depth=depth, dtype=dtype, unit=unit)
    if freeze:
        raise ArchscopeError("--freeze applies to --mode train (an inference forward computes "
                             "no gradients)")
    record = record_model(model_or_name, input_size, batch_size=batch_size, engine=engine,
                          kwargs=kwargs)
    return flop_view(record, depth=depth, dtype=dtype, unit=unit)


def flop_table(model_or_name: Any, input_size: Any = None, *, engine: str = DEFAULT_ENGINE,
               **kwargs: Any) -> pd.DataFrame:
    """:func:`flop_report`'s rows as a DataFrame (totals in ``df.attrs['total']``); the other
    keyword arguments (``batch_size``, ``depth``, ``dtype``, ``unit``, ``kwargs``, ``mode``,
    ``freeze``) as there."""
    return flop_report(model_or_name, input_size, engine=engine, **kwargs).frame()


__all__ = ["FLOP_NOTES", "MODES", "UNITS", "Cost", "flop_report", "flop_table", "flop_view"]
