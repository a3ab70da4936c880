"""The model zoo: the classic CNNs as their papers define them, one family per module.

Importing this package is cheap; the family modules (which import torch) load on first use of
the registry.
"""

from __future__ import annotations

import importlib

from .registry import ModelInfo, build, list_models, model_info, register_model

# One module per family; each registers its builders when imported.
FAMILIES = ("small", "lenet", "alexnet", "vgg", "googlenet", "inception", "resnet", "blocks")

_loaded = False


def _load_families() -> None:
    global _loaded
    if _loaded:
        return
    for fam in FAMILIES:
        importlib.import_module(f"{__name__}.{fam}")
    _loaded = True


__all__ = ["ModelInfo", "build", "list_models", "model_info", "register_model"]
