"""Counting several models at once: one summary row per model.

``archscope flops 'torchvision:resnet*'`` or several specs: params, MACs, FLOPs, the ops left
uncounted and the seconds each took, so a family compares in one command. A model that fails
keeps its row, with the error, and the others go on.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from ..errors import ArchscopeError
from .engines import DEFAULT_ENGINE, get_engine
from .flops import FLOP_NOTES
from .record import record_model
from .records import LayerTable

COLUMNS = ["model", "input", "params", "macs", "flops", "uncounted_ops", "seconds", "status"]


def count_models(
    specs: list[str], input_size: Any = None, *, batch_size: int | None = None,
    engine: str = DEFAULT_ENGINE, kwargs: dict | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
) -> LayerTable:
    """One row per model (patterns expanded, see :func:`archscope.specs.expand_specs`)."""
    from ..specs import expand_specs

    get_engine(engine)
    names = expand_specs(list(specs))
    cols: dict[str, list] = {k: [] for k in COLUMNS}
    failed = 0
    for i, spec in enumerate(names):
        if on_progress:
            on_progress(i, len(names), spec)
        t0 = time.perf_counter()
        try:
            record = record_model(spec, input_size, batch_size=batch_size, engine=engine,
                                  kwargs=kwargs)
        except ArchscopeError as exc:
            failed += 1
            for k, v in (("model", spec), ("input", ""), ("params", None), ("macs", None),
                         ("flops", None), ("uncounted_ops", None)):
                cols[k].append(v)
            cols["seconds"].append(time.perf_counter() - t0)
            cols["status"].append(f"error: {exc}")
            continue
        cost = record.cost
        cols["model"].append(spec)
        cols["input"].append(record.input_text())
        cols["params"].append(record.params)
        cols["macs"].append(cost.macs)
        cols["flops"].append(cost.flops)
        cols["uncounted_ops"].append(sum(record.uncounted.values()))
        cols["seconds"].append(time.perf_counter() - t0)
        cols["status"].append("ok" if not record.uncounted else
                              "uncounted: " + ", ".join(sorted(record.uncounted)))
    if on_progress:
        on_progress(len(names), len(names), "")
    if failed == len(names):
        raise ArchscopeError(f"none of the {len(names)} models could be counted: "
                             f"{cols['status'][0].removeprefix('error: ')}")
    notes = [*FLOP_NOTES[:3], f"engine: {engine}; one inference forward per model at its "
             "default input unless --input-size is given"]
    if failed:
        notes.append(f"{failed} of {len(names)} models failed (status: error)")
    total = {"model": "total", "params": sum(v for v in cols["params"] if v is not None),
             "macs": sum(v for v in cols["macs"] if v is not None),
             "flops": sum(v for v in cols["flops"] if v is not None),
             "seconds": sum(cols["seconds"])}
    return LayerTable("models", f"{len(names)} models", (), cols, total, notes,
                      {"engine": engine, "models": names})
