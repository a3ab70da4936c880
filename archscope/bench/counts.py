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


def model_counts(model_or_name: Any, input_shape: tuple[int, ...], kwargs: dict | None = None,
                 dtype: str = "fp32") -> Counts:
    """Count one inference forward of ``model_or_name`` on an input of ``input_shape`` (N, C, H, W).

    ``per_layer_macs`` maps each leaf layer path to its MACs (every leaf layer: depth=None).
    """
    from ..analysis.flops import flop_report

    # The meta engine: no compute and no memory, whatever the batch size being timed.
    report = flop_report(
        model_or_name, tuple(input_shape[1:]), batch_size=int(input_shape[0]), depth=None,
        engine="meta", kwargs=kwargs or None, dtype=dtype,
    )
    cols = report.columns
    per_layer_macs, per_layer = {}, {}
    for layer, macs, flops, intensity in zip(cols["layer"], cols["macs"], cols["flops"],
                                             cols["intensity"]):
        per_layer_macs[str(layer)] = int(macs)
        moved = round(flops / intensity) if intensity else 0
        per_layer[str(layer)] = LayerCounts(int(macs), int(flops), moved, 0, 1)
    total = report.total
    moved = round(total["flops"] / total["intensity"]) if total.get("intensity") else None
    return Counts(int(total["macs"]), int(total["flops"]), per_layer_macs, None, per_layer, moved)
