"""Counting MACs and FLOPs: two independent engines over one cost model.

- :mod:`.costs` — what each op costs, by category (the conventions, stated once);
- :mod:`.fvcore_engine` — fvcore's ``FlopCountAnalysis`` trace with archscope's handles;
- :mod:`.meta_engine` — torch's dispatcher on the meta device (no compute, any input size);
- :mod:`.table` — :func:`flop_report` / :func:`flop_table`, the per-layer table.
"""

from .table import ENGINES, UNITS, flop_report, flop_table

__all__ = ["ENGINES", "UNITS", "flop_report", "flop_table"]
