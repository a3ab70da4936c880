"""``diff_models``: two models recorded, aligned (:mod:`.diff`), explained (:mod:`.diff_causes`).

The result is a :class:`ModelDiff`: the aligned rows, each model's totals, the causes and the
per-block deltas, a one-sentence headline and the notes every rendering states. Deltas are
B − A everywhere. Both models are recorded by the meta engine with the geometry trace (the
causes name sliding windows: ``3×3 conv instead of 5×5 conv``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diff import (CHANGES, DiffRow, Tree, align, check_depth, diff_rows, pair_text,
                   row_depth, row_layer, totals)
from .diff_causes import BlockDelta, Cause, blocks, cause_text, causes, headline, signed
from .params import record_notes, shape_text
from .records import ModelRecord

LABELS = {"params": "params", "macs": "MACs", "flops": "FLOPs"}
SHOWN_CAUSES = 12  # notes list this many causes and blocks; -f json has them all


@dataclass
class ModelDiff:
    """Two models compared (see the module docstring); ``total`` holds ``a``, ``b`` and
    ``delta`` for params, MACs and FLOPs."""

    model_a: str
    model_b: str
    input_a: str
    input_b: str
    depth: int | None
    rows: list[DiffRow]
    causes: list[Cause]
    blocks: list[BlockDelta]
    total: dict[str, dict[str, int]]
    headline: str
    notes: list[str] = field(default_factory=list)

    def columns(self, merged: bool = True, changed_only: bool = False) -> dict[str, list]:
        """The rows as columns. ``merged`` (text, Markdown): one layer, type and output column
        reading ``a → b`` where the sides differ; else (CSV, JSON) one column per side."""
        rows = [r for r in self.rows if r.change != "=" or not changed_only]
        a = [r.a for r in rows]
        b = [r.b for r in rows]
        cols: dict[str, list] = {"change": [r.change for r in rows]}
        if merged:
            cols["layer"] = [row_layer(r) for r in rows]
            cols["type"] = [pair_text(x.type if x else None, y.type if y else None)
                            for x, y in zip(a, b)]
            cols["output"] = [pair_text(_shape(x), _shape(y)) for x, y in zip(a, b)]
        else:
            cols["depth"] = [row_depth(r) for r in rows]
            for side, name in ((a, "a"), (b, "b")):
                cols[f"layer_{name}"] = [x.path or "(model)" if x else None for x in side]
                cols[f"type_{name}"] = [x.type if x else None for x in side]
                cols[f"output_{name}"] = [_shape(x) for x in side]
        for col in ("params", "macs", "flops"):
            if not merged or col != "flops":
                cols[f"{col}_a"] = [getattr(x, col) if x else None for x in a]
                cols[f"{col}_b"] = [getattr(y, col) if y else None for y in b]
            cols[f"d_{col}"] = [r.delta(col) for r in rows]
        return cols

    def total_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"change": "", "layer": "total", "layer_a": "total"}
        for col in ("params", "macs", "flops"):
            row[f"{col}_a"] = self.total["a"][col]
            row[f"{col}_b"] = self.total["b"][col]
            row[f"d_{col}"] = self.total["delta"][col]
        return row

    def json_obj(self) -> dict[str, Any]:
        return {
            "model_a": self.model_a, "model_b": self.model_b, "input_a": self.input_a,
            "input_b": self.input_b, "depth": self.depth, "headline": self.headline,
            "total": self.total,
            "causes": [{"what": c.what, "where": c.where, "layers": c.paths,
                        "params": c.params, "macs": c.macs, "flops": c.flops}
                       for c in self.causes],
            "blocks": [vars(b) for b in self.blocks],
        }


def _shape(side: Any) -> str | None:
    return shape_text(side.output_shape) or None if side is not None else None


def compare_records(ra: ModelRecord, rb: ModelRecord, depth: int | None = None) -> ModelDiff:
    """Align two records and explain their difference (see :mod:`.diff`)."""
    check_depth(depth)
    ta, tb = Tree(ra), Tree(rb)
    pairs = align(ta, tb)
    rows = diff_rows(ra, rb, depth, pairs)
    paired_a = {pa for pa, pb in pairs if pa is not None and pb is not None}
    paired_b = {pb for pa, pb in pairs if pa is not None and pb is not None}
    # causes read every layer, whatever depth the rows are folded to
    leaves = rows if depth is None else diff_rows(ra, rb, None, pairs)
    found = causes(leaves, ta, tb, paired_a, paired_b)
    ta_, tb_ = totals(ra), totals(rb)
    total = {"a": ta_, "b": tb_, "delta": {k: tb_[k] - ta_[k] for k in ta_}}
    text = headline(ra.name, rb.name, found)
    diff = ModelDiff(ra.name, rb.name, ra.input_text(), rb.input_text(), depth, rows, found,
                     blocks(rows), total, text)
    diff.notes = diff_notes(diff, ra, rb)
    return diff


def diff_notes(d: ModelDiff, ra: ModelRecord, rb: ModelRecord) -> list[str]:
    t = d.total
    changes = ", ".join(f"{k} {v}" for k, v in CHANGES.items())
    notes = [
        f"A = {d.model_a}, B = {d.model_b}; every delta (d_) is B − A; rows: {changes}",
        "layers aligned by name inside aligned blocks, else by order and type; rows are each "
        "model's flops-table layers, so the deltas add up to the totals' difference",
        "MACs = multiply-accumulates of conv, linear, matmul and attention, biases excluded; "
        "FLOPs = 2 × MACs + other FLOPs",
        "totals: " + "; ".join(f"{LABELS[k]} {t['a'][k]:,} → {t['b'][k]:,} "
                               f"({signed(t['delta'][k])})"
                               for k in ("params", "macs", "flops")),
    ]
    if d.input_a != d.input_b:
        notes.append(f"the inputs differ: {d.model_a} at {d.input_a}, {d.model_b} at "
                     f"{d.input_b} (each model at its own default input)")
    else:
        notes.append(f"input {d.input_a} for both")
    notes.append(d.headline)
    if d.causes:
        notes.append("where the difference comes from, by layer kind:")
        notes += [f"  {cause_text(c)}" for c in d.causes[:SHOWN_CAUSES]]
        if len(d.causes) > SHOWN_CAUSES:
            notes.append(f"  … {len(d.causes) - SHOWN_CAUSES} more (-f json lists every cause)")
        shown = d.blocks[:SHOWN_CAUSES]
        notes.append("by block: " + "; ".join(
            f"{b.block} {signed(b.params)} params, {signed(b.macs)} MACs" +
            (f", {signed(b.flops)} FLOPs" if not b.params and not b.macs else "")
            for b in shown) + (" …" if len(d.blocks) > SHOWN_CAUSES else ""))
    for name, rec in ((d.model_a, ra), (d.model_b, rb)):
        notes += [f"{name}: {n}" for n in record_notes(rec)]
        if rec.uncounted:
            notes.append(f"{name}: ops without a cost handle, NOT counted: "
                         + ", ".join(f"{op} ×{n}" for op, n in sorted(rec.uncounted.items())))
    return notes


def diff_models(model_a: Any, model_b: Any, input_size: Any = None, *,
                batch_size: int | None = None, depth: int | None = None,
                kwargs: dict | None = None) -> ModelDiff:
    """Compare two models (zoo names, specs or modules) layer by layer, B against A.

    ``input_size`` applies to both; without it each model runs at its own default input (the
    notes say when those differ). ``depth`` folds the rows as ``archscope flops --depth`` does.
    """
    from .receptive import record_receptive

    check_depth(depth)
    ra = record_receptive(model_a, input_size, batch_size=batch_size, kwargs=kwargs)
    rb = record_receptive(model_b, input_size, batch_size=batch_size, kwargs=kwargs)
    return compare_records(ra, rb, depth)


__all__ = ["ModelDiff", "compare_records", "diff_models"]
