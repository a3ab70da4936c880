"""``flops --mode train``: the forward table of a training step with its backward beside it.

Each row is a :func:`~archscope.analysis.flops.flop_view` row of the train-mode forward (its
layer, parameters and forward ``macs`` and ``other_flops``), plus the backward work of every
call it stands for: ``backward_macs`` = ``grad_input_macs`` + ``grad_weight_macs``,
``backward_other_flops`` by category, and ``train_macs`` (forward + backward); with
``unit="flops"`` also ``flops``, ``backward_flops``, ``train_flops`` and ``train_flop_share``
(the row's share of the step's FLOPs). The totals add
``forward_macs``, ``backward_macs``, ``grad_input_macs``, ``grad_weight_macs``,
``train_macs``, and in FLOPs (2 × MACs + other FLOPs) ``flops``, ``backward_flops`` and
``train_flops``. Column sums equal the totals.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..costs import Cost
from ..flops import flop_view, note_uncounted
from ..records import LayerTable, ModelRecord
from ..rows import owning_row, select_rows
from .count import TrainRecord
from .graph import GradCost

TRAIN_NOTES = [
    "mode train: one training step on the meta device — the forward in train mode (batch-norm "
    "statistics, dropout, auxiliary heads run) and the backward ops autograd dispatches, costed "
    "by the same rules; backward from a gradient of ones on every output (no loss function)",
    "grad_input_macs: gradients with respect to activations; grad_weight_macs: with respect to "
    "parameters; the first layer computes no input gradient (the input needs none) and a frozen "
    "parameter no weight gradient",
    "backward costs: each input or weight gradient of a conv or matmul = its forward MACs; bias "
    "gradient: reduction 1/output element · norm: β 1, γ 4, input 9 per element (batch "
    "statistics; 1 with running statistics) · pool: max 1, avg window per output gradient · "
    "activation 1/element · softmax 4/element · gradient sums where a tensor feeds two layers: "
    "elementwise, on the layer that made it",
    "train_macs = forward + backward MACs; in the totals, backward_flops = 2 × backward_macs + "
    "backward other FLOPs, train_flops = forward + backward FLOPs",
]


# The forward columns a training table keeps (the rest are in the forward's own table).
TRAIN_COLUMNS = ("layer", "type", "output_shape", "params", "trainable", "macs", "other_flops")


def rows_covering(record: ModelRecord, depth: int | None, calls: Iterable[int]) -> list[str]:
    """The forward table's rows, plus a row for each of ``calls`` that no row stands for (a
    block whose only own work is in the backward, or in memory it saves)."""
    rows = select_rows(record, depth)
    row_set = set(rows)
    extra = {record.calls[i].path for i in calls
             if owning_row(record.calls[i].path, row_set) is None}
    if not extra:
        return rows
    order = {p: i for i, p in enumerate(record.modules)}
    return sorted(row_set | extra, key=lambda p: order.get(p, len(order)))


def train_view(train: TrainRecord, *, depth: int | None = None, dtype: Any = "fp32",
               unit: str = "macs") -> LayerTable:
    """The per-layer table of a training step (see the module docstring)."""
    record = train.record
    rows = rows_covering(record, depth, [i for i, g in enumerate(train.backward)
                                         if g.macs or g.other])
    table = flop_view(record, depth=depth, dtype=dtype, unit=unit, rows=rows)
    row_set = set(rows)
    sums = {r: GradCost() for r in rows}
    for call, g in zip(record.calls, train.backward):
        row = owning_row(call.path, row_set)
        if row is not None:
            sums[row].add(Cost(g.grad_input_macs, g.other), weight=False)
            sums[row].add(Cost(g.grad_weight_macs), weight=True)
    back = [sums[r].cost() for r in rows]
    forward = table.columns
    cols = {k: forward[k] for k in TRAIN_COLUMNS}
    cols["backward_macs"] = [c.macs for c in back]
    cols["grad_input_macs"] = [sums[r].grad_input_macs for r in rows]
    cols["grad_weight_macs"] = [sums[r].grad_weight_macs for r in rows]
    cols["backward_other_flops"] = [c.ordered_other() for c in back]
    cols["train_macs"] = [f + b for f, b in zip(cols["macs"], cols["backward_macs"])]
    if unit == "flops":  # the same in FLOPs, and each row's share of the step's
        cols["flops"] = forward["flops"]
        cols["backward_flops"] = [c.flops for c in back]
        cols["train_flops"] = [f + c.flops for f, c in zip(forward["flops"], back)]
        step = sum(cols["train_flops"])
        cols["train_flop_share"] = [f / step if step else 0.0 for f in cols["train_flops"]]
    cols["calls"] = forward["calls"]
    table.columns = cols
    forward, backward = train.forward_cost, train.backward_cost
    table.total.update({
        "forward_macs": forward.macs,
        "backward_macs": backward.macs,
        "grad_input_macs": train.grad_input_macs,
        "grad_weight_macs": train.grad_weight_macs,
        "backward_other_flops": backward.ordered_other(),
        "backward_flops": backward.flops,
        "train_macs": forward.macs + backward.macs,
        "train_flops": forward.flops + backward.flops,
    })
    table.total.pop("flop_share", None)
    if unit == "flops":
        table.total["train_flop_share"] = 1.0 if table.total["train_flops"] else 0.0
    notes = list(TRAIN_NOTES)
    if train.frozen:
        notes.append(f"frozen ({len(train.frozen)} parameter tensors): "
                     + short_list(train.frozen))
    note_uncounted(train.uncounted, notes, table.total, "backward ops", "uncounted_backward_ops")
    table.notes[:0] = notes
    table.notes = [n for n in table.notes if not n.startswith("intensity")]  # not shown here
    table.meta["mode"] = "train"
    return table


def short_list(names: list[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
