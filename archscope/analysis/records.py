"""The result record shared by every per-layer analysis.

A :class:`LayerTable` is data only: one row per layer in a DataFrame, the totals, and the notes
that say what the figures count. Formatting lives in :mod:`archscope.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class LayerTable:
    """Per-layer figures for one model and input.

    ``input_size`` includes the batch dimension, e.g. ``(1, 3, 224, 224)``. ``rows`` has one row
    per layer (module path in ``layer``); ``total`` holds the model's totals under the same
    column names; ``notes`` are the conventions and caveats every rendering states up front.
    """

    kind: str
    model: str
    input_size: tuple[int, ...]
    rows: pd.DataFrame
    total: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
