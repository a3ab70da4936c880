"""MACs, FLOPs and bytes for a benchmarked configuration, from the counting engine.

The one place the bench talks to the counting core, so the timing code does not depend on how
counting is done. Counting runs on the meta device (no compute). Per-layer figures are keyed by
module path (the root is ``"(model)"``), summed over every call of the module in one forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerCounts:
    """One module's own work in one forward, over all its calls: MACs, FLOPs (2 × MACs + other
    FLOPs), bytes read (inputs + the parameters it reads) and written (outputs) at the dtype."""

    macs: int
    flops: int
    bytes_read: int = 0
    bytes_written: int = 0
    calls: int = 1

    @property
    def bytes_moved(self) -> int:
        return self.bytes_read + self.bytes_written


@dataclass(frozen=True)
class Counts:
    """One forward's work at a given input shape (batch included).

    ``per_layer_macs`` maps each leaf layer path to its MACs; ``per_layer`` gives every figure of
    each leaf; ``bytes_moved`` is the whole forward's bytes (every leaf call's inputs, weights and
    outputs), the denominator of the model's arithmetic intensity.
    """

    macs: int | None
    flops: int | None
    per_layer_macs: dict[str, int] = field(default_factory=dict)
    note: str | None = None
    per_layer: dict[str, LayerCounts] = field(default_factory=dict)
    bytes_moved: int | None = None
    mode: str = "infer"  # "train": macs and flops are forward + backward (per-layer: forward)


def model_counts(model_or_name: Any, input_shape: tuple[int, ...], kwargs: dict | None = None,
                 dtype: str = "fp32", mode: str = "infer") -> Counts:
    """Count one forward of ``model_or_name`` on an input of ``input_shape`` (N, C, H, W).

    Per-layer figures are keyed by the rows of ``archscope flops`` at full depth (every leaf
    layer, and every block that does work of its own), each summed over the module's calls;
    bytes at ``dtype`` for floating tensors. ``mode="train"``: the totals are one training step
    as ``archscope flops --mode train`` counts it — the forward in train mode (auxiliary heads
    included) and the backward ops torch dispatches — with no factor; the loss and the
    optimizer's update are not counted.
    """
    from ..analysis.flops import float_bytes
    from ..analysis.record import record_model
    from ..analysis.records import layer_name
    from ..analysis.rows import owning_row, select_rows, traffic

    # The meta engine: no compute and no memory, whatever the batch size being timed.
    record = record_model(model_or_name, tuple(input_shape[1:]), batch_size=int(input_shape[0]),
                          engine="meta", kwargs=kwargs or None)
    elem, _ = float_bytes(dtype)
    rows = select_rows(record, None)
    row_set = set(rows)
    acc = {r: [0, 0, 0, 0, 0] for r in rows}  # macs, flops, read, written, calls
    for call in record.calls:
        row = owning_row(call.path, row_set)
        if row is None:
            continue
        a = acc[row]
        a[0] += call.cost.macs
        a[1] += call.cost.flops
        if traffic(call, elem):
            a[2] += call.bytes_read(elem)
            a[3] += call.bytes_written(elem)
        if call.path == row:
            a[4] += 1
    per_layer = {layer_name(r): LayerCounts(*acc[r]) for r in rows}
    cost = record.cost
    moved = sum(c.bytes_moved for c in per_layer.values())
    if mode == "train":
        from ..analysis.train.count import train_counts
        from ..errors import ArchscopeError

        try:
            forward, backward = train_counts(model_or_name, tuple(input_shape),
                                             kwargs=kwargs or None)
        except ArchscopeError as exc:  # the step cannot run (batch norm at batch 1): the
            # configuration's own timing fails and records why; no figures to divide by
            return Counts(None, None, {k: v.macs for k, v in per_layer.items()}, str(exc),
                          per_layer, moved, mode)
        cost = forward + backward
    return Counts(cost.macs, cost.flops, {k: v.macs for k, v in per_layer.items()}, None,
                  per_layer, moved, mode)
