"""Every counting convention, stated once: the full sentence and its one-line brief.

Tables carry the conventions they rest on as notes. A note here is a :class:`Convention`: a
``str`` (the full text, which CSV, JSON and Markdown keep) that also knows its ``brief`` (the
one short line a text table shows) and its ``key``. ``archscope conventions`` prints them all,
with the cost of each op family read from the docstrings of :mod:`archscope.analysis.costs`,
where the handles that implement them are.

Importing this module imports neither torch nor pandas.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path


class Convention(str):
    """A convention's full text (the string itself), its ``brief`` and its ``key``."""

    key: str
    brief: str

    def __new__(cls, key: str, brief: str, text: str) -> Convention:
        self = super().__new__(cls, text)
        self.key = key
        self.brief = brief
        return self

    def __reduce__(self):  # pickles (multiprocessing, caches) keep key and brief
        return (Convention, (self.key, self.brief, str(self)))


REGISTRY: dict[str, Convention] = {}


def _define(key: str, brief: str, text: str) -> Convention:
    if key in REGISTRY:
        raise ValueError(f"convention {key!r} defined twice")
    REGISTRY[key] = Convention(key, brief, text)
    return REGISTRY[key]


# -- counting: the cost model (details per op family in analysis/costs/*) -------------------
MACS = _define(
    "macs", "MACs: multiply-accumulates of conv, linear, matmul, attention; biases excluded",
    "MACs = multiply-accumulates of conv, linear, matmul and attention (q·kᵀ, attn·v), "
    "biases excluded")
OTHER_FLOPS = _define(
    "other_flops", "other FLOPs: bias, norm, pool, activation, … by category",
    "other FLOPs by category: bias 1/output · norm: batch norm 2/element, layer/group/instance "
    "norm 4/element (6 with γ, β), RMS norm 3 (4 with γ), LRN size+5 · pool: max k·k−1, avg "
    "k·k per output, adaptive by exact windows · activation 1/element · elementwise 1/element · "
    "reduction 1/input element (variance 3, vector norm 2) · softmax 3/element · attention: "
    "softmax 3/score (its scaling and mask as elementwise) · resample: linear 2^(d+1)−1, "
    "bicubic 31 per output")
FLOPS = _define("flops", "FLOPs = 2 × MACs + other FLOPs", "FLOPs = 2 × MACs + other FLOPs")
INTENSITY = _define(
    "intensity", "intensity = FLOPs / bytes moved (inputs, weights, outputs)",
    "intensity = FLOPs / bytes moved (each call's inputs, the weights it reads and its outputs, "
    "at the dtype; summed over a row's calls)")
RF = _define(
    "rf", "rf, jump, start: a unit's input window, its step, its first centre (pixels)",
    "rf = side of the input window one unit of the output sees (its extent, in input pixels); "
    "jump = input pixels between neighbouring units (effective stride); start = centre of the "
    "first unit's window (pixel 0 = the first pixel); one number when height and width agree, "
    "else height x width")
RF_EXACT = _define(
    "rf_exact", "receptive fields exact for branched networks (union of the branches)",
    "exact for branched networks: computed op by op from the convolutions' and pools' kernel, "
    "stride, padding and dilation, branches joined by the union of their windows")

# -- parameters ----------------------------------------------------------------------------
PARAMS = _define(
    "params", "params = weights + biases (a bias: a parameter named 'bias')",
    "params = weights + biases; a bias is a parameter named 'bias' (batch-norm β included), "
    "every other parameter is a weight")
SHARED = _define(
    "shared", "shared tensors once; buffers are not parameters",
    "shared tensors count once; buffers (running statistics) are not parameters")
INFERENCE = _define(
    "inference", "one eval-mode forward: a parameter counts when it is read",
    "counts are for one inference forward (eval mode): a parameter counts when the forward "
    "reads it")
ZOO_PARAMS = _define(
    "zoo_params", "params: all parameters, auxiliary heads included",
    "params: all parameters, auxiliary heads included; input: one sample C×H×W")

# -- timing --------------------------------------------------------------------------------
LATENCY = _define(
    "latency", "median_ms per iteration; ci_pct: its 95 % CI, over 5 % unstable",
    "median_ms: median per-iteration latency; n: timed iterations; ci_pct: half-width of the "
    "median's 95 % CI (order statistics, distribution-free) as % of the median; over 5 %: "
    "unstable")
RATES = _define(
    "rates", "throughput = batch / median; FLOP/s = counted FLOPs / median",
    "throughput_items_s = batch / median; FLOP/s = FLOPs per iteration / median (counting "
    "engine); speedup = eager median / this median")

# Op families whose costs are stated in the docstring of their module, in this order.
COST_FAMILIES = ("linalg", "norm", "pool", "pointwise", "movement")


def module_docstring(module: str) -> str:
    """A module's docstring, read from its source without importing it (no torch)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise LookupError(f"no module {module}")
    return ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""


def cost_family_texts() -> dict[str, str]:
    """Each op family's cost rules (``norm`` → its module docstring), as the code states them."""
    return {f: module_docstring(f"archscope.analysis.costs.{f}") for f in COST_FAMILIES}


def brief(note: str) -> str:
    """The line a text table shows for a note: a convention's brief, any other note whole."""
    return note.brief if isinstance(note, Convention) else note


def is_convention(note: str) -> bool:
    return isinstance(note, Convention)
