"""The cost model: what each kind of op costs, stated once and shared by both engines.

Units are counts per forward of the whole batch. Two quantities:

- **MACs** (key ``"macs"``): multiply-accumulates of convolutions, linear layers and matrix
  products, biases excluded — the papers' and torchvision's convention. A convolution producing
  ``out`` elements with ``C_in/groups × k_h × k_w`` taps costs ``out × C_in/groups × k_h × k_w``.
- **other FLOPs**, by category (every other key):

  ============ =====================================================================
  category     cost
  ============ =====================================================================
  bias         1 add per output element of a conv / linear that has a bias
  norm         batch norm (eval): 2 per element (scale and shift, the statistics
               folded); layer and group norm (statistics computed in the forward):
               4 per element (mean, variance, subtract, divide) + 2 with an affine
               γ, β; LRN: the ops it is made of (square 1, window sum and mean
               over ``size`` channels ``size``, ×α 1, +k 1, power 1, divide 1 →
               ``size + 5`` per element) regrouped under ``norm``
  pool         max pool: ``k_h·k_w − 1`` comparisons per output element; average
               pool: ``k_h·k_w`` per output element (adds and one divide); adaptive
               average pool: its exact window sizes (``Σ window`` per channel);
               adaptive max pool: ``window − 1`` per output element, exactly
  activation   ReLU, tanh, sigmoid, GELU, …: 1 per output element
  elementwise  add, sub, mul, div, pow: 1 per output element (residual adds here)
  softmax      3 per element (exp, sum, divide)
  ============ =====================================================================

- **FLOPs** = 2 × MACs + other FLOPs.

Ops that only move or reshape data (view, cat, pad, flatten, transpose, dropout in eval mode,
…) cost nothing and are listed by name in each engine's table, so no op is skipped silently.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

MACS = "macs"
CATEGORIES = ("bias", "norm", "pool", "activation", "elementwise", "softmax")

# Leaf modules whose arithmetic is spread over generic ops (LRN is mul/avg_pool/pow/div in
# torch): their other FLOPs are regrouped under this category.
MODULE_CATEGORY = {"LocalResponseNorm": "norm", "CrossMapLRN2d": "norm"}

Shape = Sequence[int]


def numel(shape: Shape) -> int:
    return math.prod(int(d) for d in shape)


def conv(out_shape: Shape, weight_shape: Shape, has_bias: bool) -> Counter:
    """Convolution of any dimensionality; ``weight_shape`` = (C_out, C_in/groups, *kernel)."""
    out = numel(out_shape)
    taps = numel(weight_shape[1:])
    c = Counter({MACS: out * taps})
    if has_bias:
        c["bias"] = out
    return c


def matmul(m: int, k: int, n: int, batch: int = 1, bias_elements: int = 0) -> Counter:
    """(batch ×) an m×k by k×n product, plus a broadcast bias over ``bias_elements`` outputs."""
    c = Counter({MACS: batch * m * k * n})
    if bias_elements:
        c["bias"] = bias_elements
    return c


def per_element(category: str, out_shape: Shape, cost: int = 1) -> Counter:
    return Counter({category: cost * numel(out_shape)})


def max_pool(out_shape: Shape, kernel: Sequence[int]) -> Counter:
    return Counter({"pool": numel(out_shape) * (math.prod(kernel) - 1)})


def avg_pool(out_shape: Shape, kernel: Sequence[int]) -> Counter:
    return Counter({"pool": numel(out_shape) * math.prod(kernel)})


def _window_sum(n_in: int, n_out: int) -> int:
    # PyTorch's adaptive windows: [floor(i·in/out), ceil((i+1)·in/out)) for i in range(out)
    return sum(-(-(i + 1) * n_in // n_out) - (i * n_in // n_out) for i in range(n_out))


def adaptive_avg_pool(in_shape: Shape, out_spatial: Sequence[int]) -> Counter:
    """Exact adds+divides of an adaptive average pool: Σ over outputs of their window size."""
    lead = numel(in_shape[: len(in_shape) - len(out_spatial)])
    spatial_in = in_shape[len(in_shape) - len(out_spatial):]
    total = lead
    for n_in, n_out in zip(spatial_in, out_spatial):
        total *= _window_sum(int(n_in), int(n_out))
    return Counter({"pool": total})


def adaptive_max_pool(in_shape: Shape, out_spatial: Sequence[int]) -> Counter:
    """Exact comparisons of an adaptive max pool: Σ over outputs of (window size − 1)."""
    lead = numel(in_shape[: len(in_shape) - len(out_spatial)])
    spatial_in = in_shape[len(in_shape) - len(out_spatial):]
    windows = math.prod(_window_sum(int(a), int(b)) for a, b in zip(spatial_in, out_spatial))
    return Counter({"pool": lead * (windows - numel(out_spatial))})


def layer_norm(out_shape: Shape, affine: bool) -> Counter:
    """Layer or group norm: statistics and normalisation 4 per element, affine γ, β 2 more."""
    return Counter({"norm": (6 if affine else 4) * numel(out_shape)})


def batch_norm(out_shape: Shape) -> Counter:
    return Counter({"norm": 2 * numel(out_shape)})


def softmax(out_shape: Shape) -> Counter:
    return Counter({"softmax": 3 * numel(out_shape)})


def total_flops(counts: Counter) -> int:
    """FLOPs = 2 × MACs + the other categories."""
    return 2 * counts.get(MACS, 0) + sum(v for k, v in counts.items() if k != MACS)
