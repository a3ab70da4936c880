"""The cost model: what each op costs, stated once, in one registry both engines read.

Units are counts per forward of the whole batch.

- **MACs**: multiply-accumulates of convolutions, linear layers, matrix products and
  attention's q·kᵀ and attn·v, biases excluded — the papers' and torchvision's convention.
- **other FLOPs**, by category (:data:`~.base.CATEGORIES`): ``bias``, ``norm``, ``pool``,
  ``activation``, ``elementwise``, ``reduction``, ``softmax``, ``attention``, ``resample``; each
  family module states its costs (:mod:`.linalg`, :mod:`.norm`, :mod:`.pool`, :mod:`.pointwise`).
- **FLOPs** = 2 × MACs + other FLOPs.

Ops that only move or reshape data cost nothing and are listed by name (:mod:`.movement`), so
no op is skipped silently: an op without an entry is reported as uncounted.
"""

from .base import CATEGORIES, UNKNOWN, ZERO, Cost, Handle, OpView, Uncountable, numel
from .norm import MODULE_CATEGORY, regroup_module
from .registry import lookup, registry

MACS = "macs"

__all__ = ["CATEGORIES", "MACS", "UNKNOWN", "ZERO", "Cost", "Handle", "OpView", "Uncountable",
           "MODULE_CATEGORY", "lookup", "numel", "regroup_module", "registry"]
