"""archscope: take classic CNNs apart.

Public API (imported lazily, so ``import archscope`` is cheap):

- ``build(name, **kw)`` — a zoo network by name;
- ``list_models(pattern="*")`` — zoo names;
- ``param_table(model_or_name, input_size=None)`` — per-layer parameters (DataFrame);
- ``param_report(...)`` — the same with totals and notes (:class:`LayerTable`);
- ``zoo_table()`` — the zoo as a DataFrame;
- ``flop_table`` / ``flop_report`` — per-layer MACs and FLOPs (``mode="train"``: a training
  step, the backward beside the forward); ``summary_report``; ``explain``;
- ``memory_table`` / ``memory_report`` — per-layer training memory and the peaks of a step;
  ``train_counts(model, input_shape)`` — (forward, backward) costs of one training step;
- ``record_model(model_or_name, input_size=None, engine="meta")`` — one forward as a
  :class:`ModelRecord`: a :class:`CallRecord` per module call (what every table aggregates);
- ``count_models(specs)`` — one summary row per model (patterns such as ``"torchvision:resnet*"``);
- ``diff_models(a, b)`` — two models aligned layer by layer, and where they differ
  (:class:`ModelDiff`); ``rf_report(model_or_name)`` — every module's receptive field;
- ``verify_googlenet()`` — Table 1 of the paper; ``crosscheck_torchinfo(model)`` — torchinfo;
- ``bench(models, device=..., batch_sizes=..., dtypes=...)`` — latency sweep (:class:`BenchResults`);
- ``load_results(paths)`` — bench JSON files merged into one DataFrame.

Conventions: params = weights + biases, shared tensors once; MACs = multiply-accumulates of conv,
linear and matmul, biases excluded; FLOPs = 2 × MACs + other FLOPs (by category).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "build": "archscope.zoo",
    "list_models": "archscope.zoo",
    "model_info": "archscope.zoo",
    "param_table": "archscope.analysis.params",
    "param_report": "archscope.analysis.params",
    "zoo_table": "archscope.api",
    "flop_table": "archscope.analysis.flops",
    "flop_report": "archscope.analysis.flops",
    "summary_report": "archscope.analysis.summary",
    "memory_table": "archscope.analysis.memory.view",
    "memory_report": "archscope.analysis.memory.view",
    "train_counts": "archscope.analysis.train.count",
    "explain": "archscope.analysis.explain",
    "verify_googlenet": "archscope.analysis.verify",
    "crosscheck_torchinfo": "archscope.analysis.crosscheck",
    "LayerTable": "archscope.analysis.records",
    "ModelRecord": "archscope.analysis.records",
    "CallRecord": "archscope.analysis.records",
    "record_model": "archscope.analysis.record",
    "count_models": "archscope.analysis.model_set",
    "diff_models": "archscope.analysis.diff_view",
    "ModelDiff": "archscope.analysis.diff_view",
    "rf_report": "archscope.analysis.receptive",
    "engine_names": "archscope.analysis.engines",
    "ArchscopeError": "archscope.errors",
    "report": "archscope.api",
    "bench": "archscope.api",
    "load_results": "archscope.api",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'archscope' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
