"""The result record shared by every per-layer analysis.

A :class:`LayerTable` is data only: one row per layer, the totals, and the notes that say what
the figures count. Formatting lives in :mod:`archscope.render`, which reads the plain columns;
the DataFrame (``rows``) is built on first use, so a command that only prints a table never
imports pandas (a sixth of ``import torch`` on every ``params`` call).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class LayerTable:
    """Per-layer figures for one model and input.

    ``input_size`` includes the batch dimension, e.g. ``(1, 3, 224, 224)``. ``columns`` maps each
    column name to its values, one per layer (module path in ``layer``); ``rows`` is the same
    as a DataFrame; ``total`` holds the model's totals under the same column names; ``notes``
    are the conventions and caveats every rendering states up front.
    """

    kind: str
    model: str
    input_size: tuple[int, ...]
    columns: dict[str, list[Any]]
    total: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def rows(self) -> pd.DataFrame:
        """The per-layer rows as a DataFrame (column order as in ``columns``)."""
        import pandas as pd

        return pd.DataFrame(self.columns, columns=list(self.columns))

    def frame(self) -> pd.DataFrame:
        """``rows`` with the model, input size and totals in ``df.attrs``."""
        df = self.rows
        df.attrs.update({"model": self.model, "input_size": self.input_size,
                         "total": self.total})
        return df
