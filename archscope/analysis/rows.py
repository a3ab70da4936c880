"""From call records to table rows: which modules are rows, and each row's summed figures.

A *row* is a module path. With no depth limit the rows are the leaf modules that ran (no module
call inside them), plus any block that did work of its own (a residual add, a concatenation, a
``F.linear`` on a child's weight) or read parameters itself. With ``depth=N``, a module at depth
N stands for its whole subtree. Every call's own figures go to the row that stands for it: its
own path, or its nearest ancestor that is a row; nothing is lost or counted twice.

Bytes moved: a call's *traffic* is its inputs + the parameters it reads + its outputs, for a
leaf call and for a block that ran ops of its own; a block that only called children moves
nothing itself. A row's or the model's bytes moved is the sum of the traffic of the calls it
stands for, so a folded row, the ``(model)`` row at depth 0 and the total agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .costs import Cost
from .records import CallRecord, ModelRecord, ancestors, depth_of


def traffic(call: CallRecord, float_bytes: int | None = None) -> int:
    """Bytes a call moves itself (see the module docstring)."""
    if call.is_leaf or call.cost or call.params_read:
        return call.bytes_moved(float_bytes)
    return 0


def is_leaf_path(calls: list[CallRecord]) -> bool:
    return all(c.is_leaf for c in calls)


def select_rows(record: ModelRecord, depth: int | None, own_work: bool = True) -> list[str]:
    """The module paths shown as rows, in module order (see the module docstring).

    ``own_work=False`` (the parameter table): a block gets a row of its own only for the
    parameters its code reads, not for FLOPs of its own.
    """
    by_path = record.by_path
    rows = []
    for path in _module_order(record):
        calls = by_path[path]
        d = depth_of(path)
        if depth is not None and d > depth:
            continue
        leaf = is_leaf_path(calls)
        if (depth is not None and d == depth and d > 0) or leaf:
            rows.append(path)
        elif any((own_work and c.cost) or c.params or c.params_read for c in calls):
            rows.append(path)
    return rows or [""]


def _module_order(record: ModelRecord) -> list[str]:
    """Paths that ran, in the order the model defines its modules (then any others)."""
    ran = record.by_path
    ordered = [p for p in record.modules if p in ran]
    seen = set(ordered)
    return ordered + [p for p in ran if p not in seen]


def owning_row(path: str, rows: set[str]) -> str | None:
    """The row that stands for a path: itself or its nearest ancestor that is a row."""
    for p in ancestors(path):
        if p in rows:
            return p
    return None


@dataclass
class RowFigures:
    """A row's figures: the sums over every call it stands for (own figures only)."""

    path: str
    type: str
    calls: int = 0  # calls of the row's own module
    output_shape: tuple[int, ...] | None = None  # its first call's first output
    weights: int = 0
    biases: int = 0
    trainable: int = 0
    costs: list[Cost] = field(default_factory=list)
    traffic: int = 0
    activation_elements: int = 0  # outputs of the leaf calls it stands for

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def cost(self) -> Cost:
        return Cost.total(self.costs)

    def add(self, call: CallRecord, traffic: int) -> None:
        """Add one call's own figures (it moved ``traffic`` bytes itself)."""
        self.weights += call.weights
        self.biases += call.biases
        self.trainable += call.trainable
        if call.cost:
            self.costs.append(call.cost)
        self.traffic += traffic
        if call.is_leaf:
            self.activation_elements += call.output_elements


def _empty_figures(record: ModelRecord, path: str) -> RowFigures:
    """A path's row before any call is added: its type, call count and first call's output."""
    calls = record.by_path.get(path, [])
    first = calls[0] if calls else None
    return RowFigures(path, first.type if first else record.modules[path].type, len(calls),
                      first.outputs[0].shape if first and first.outputs else None)


def fold(record: ModelRecord, rows: list[str], float_bytes: int | None = None
         ) -> dict[str, RowFigures]:
    """Each row's figures, summing the own figures of every call into the row for it."""
    row_set = set(rows)
    out = {r: _empty_figures(record, r) for r in rows}
    for call in record.calls:
        row = owning_row(call.path, row_set)
        if row is not None:
            out[row].add(call, traffic(call, float_bytes))
    return out


def subtree_totals(record: ModelRecord, float_bytes: int | None = None
                   ) -> dict[str, RowFigures]:
    """Every path that ran, with the figures of its whole subtree (each call added to itself
    and to every ancestor): what a tree view shows."""
    out = {path: _empty_figures(record, path) for path in _module_order(record)}
    for call in record.calls:
        t = traffic(call, float_bytes)
        for p in ancestors(call.path):
            if p in out:
                out[p].add(call, t)
    return out
