"""MACs and FLOPs for a benchmarked configuration, from the counting engine.

The one place the bench talks to :func:`archscope.analysis.flops.flop_report`, so the timing
code does not depend on how counting is done. Counting runs on the meta device (no compute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Counts:
    """One forward's work at a given input shape (batch included): MACs, FLOPs, MACs per leaf."""

    macs: int | None
    flops: int | None
    per_layer_macs: dict[str, int] = field(default_factory=dict)
    note: str | None = None


def model_counts(model_or_name: Any, input_shape: tuple[int, ...], kwargs: dict | None = None) -> Counts:
    """Count one inference forward of ``model_or_name`` on an input of ``input_shape`` (N, C, H, W).

    ``per_layer_macs`` maps each leaf layer path to its MACs (every leaf layer: depth=None).
    """
    from ..analysis.flops import flop_report

    # The meta engine: no compute and no memory, whatever the batch size being timed.
    report = flop_report(
        model_or_name, tuple(input_shape[1:]), batch_size=int(input_shape[0]), depth=None,
        engine="meta", kwargs=kwargs or None,
    )
    rows = report.rows
    per_layer = {}
    if "layer" in rows and "macs" in rows:
        for layer, macs in zip(rows["layer"], rows["macs"]):
            if macs is not None and macs == macs:  # skip missing (NaN) cells
                per_layer[str(layer)] = int(macs)
    return Counts(int(report.total["macs"]), int(report.total["flops"]), per_layer)
