"""fvcore internals used by the fvcore engine.

``FlopCountAnalysis`` keeps its op handles and its list of silently ignored ops in private
attributes. archscope replaces both: its own handles only (fvcore's defaults count some ops
their own way), and nothing ignored, so an op without a handle is reported, never dropped.
"""

from __future__ import annotations

from typing import Any


def bare_analysis(model: Any, inputs: tuple) -> Any:
    """A ``FlopCountAnalysis`` of ``model(*inputs)`` with no handles and no ignored ops."""
    import warnings

    with warnings.catch_warnings():  # fvcore's import scripts a helper: torch.jit's deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, inputs)
    analysis._op_handles = {}
    analysis._ignored_ops = set()
    return analysis
