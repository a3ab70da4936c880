"""Building networks for counting without initialising weights.

Counting reads shapes, never weight values, so a network built for it should cost neither the
memory nor the time of its weights. :class:`MetaBuild` is a ``TorchFunctionMode`` active only
while a constructor runs (nothing is patched process-wide):

- tensor factories called without a device put tensors of :data:`SMALL` elements or more on the
  meta device (shapes, no storage); smaller ones stay on CPU, so a constructor that reads a
  value back (``torch.linspace(0, rate, depth).tolist()``, ``.item()``) still works;
- in-place initialisers on meta tensors (``uniform_``, ``normal_``, ``fill_``, … and the
  arithmetic ``nn.init`` does with them) return at once: there is nothing to initialise.

A constructor that still needs real data fails inside the mode; the caller then builds on CPU
and says so in the notes (:func:`archscope.specs.build_spec`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

SMALL = 4096  # elements: below this a factory's tensor stays on CPU (cheap, and readable)

# In-place ops that only change values: no-ops on a meta tensor while building.
_VALUE_IN_PLACE = frozenset("""
uniform_ normal_ fill_ zero_ bernoulli_ exponential_ geometric_ log_normal_ cauchy_ random_
erfinv_ mul_ add_ sub_ div_ clamp_ clamp_min_ clamp_max_ copy_ abs_ sqrt_ exp_ neg_ fill_diagonal_
addcmul_ addcdiv_ pow_ masked_fill_ index_fill_ scatter_ trunc_normal_ kaiming_uniform_
kaiming_normal_ xavier_uniform_ xavier_normal_ orthogonal_ constant_ ones_ zeros_ eye_ dirac_
sparse_
""".split())


def _factories() -> dict[Any, str]:
    names = ["empty", "zeros", "ones", "full", "rand", "randn", "randint", "normal", "arange",
             "linspace", "logspace", "eye", "empty_strided", "randperm", "tensor", "as_tensor",
             "scalar_tensor"]
    return {getattr(torch, n): n for n in names if hasattr(torch, n)}


def _size(args: tuple, kwargs: dict, start: int = 0) -> int | None:
    size = kwargs.get("size", args[start:] if len(args) > start else None)
    if size and len(size) == 1 and isinstance(size[0], (list, tuple, torch.Size)):
        size = size[0]
    try:
        return math.prod(int(d) for d in size) if size is not None else None
    except (TypeError, ValueError):
        return None


def _requested_numel(name: str, args: tuple, kwargs: dict) -> int | None:
    """How many elements a factory call will make; ``None`` if it cannot tell."""
    try:
        if name in ("tensor", "as_tensor", "scalar_tensor"):
            return 0  # from Python data: small, and often read back
        if name in ("linspace", "logspace"):
            return int(kwargs.get("steps", args[2] if len(args) > 2 else 100))
        if name == "arange":
            nums = [float(a) for a in args if isinstance(a, (int, float))]
            start, end, step = (0.0, nums[0], 1.0) if len(nums) == 1 else (*nums[:2], *(nums[2:3] or [1.0]))
            return max(0, math.ceil((end - start) / step))
        if name == "eye":
            n = int(args[0])
            return n * int(args[1] if len(args) > 1 and isinstance(args[1], int) else n)
        if name in ("full", "randint"):
            return _size((args[0],) if name == "full" else args[-1:], kwargs)
        if name == "randperm":
            return int(args[0])
        if name == "normal":
            return _size(args[2:3], kwargs) if len(args) > 2 or "size" in kwargs else None
        return _size(args, kwargs)
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None


class MetaBuild(TorchFunctionMode):
    """While a constructor runs: big tensors on meta, initialisers skipped (module docstring).

    ``small=0`` puts every factory tensor on meta (archscope's own zoo, which reads nothing
    back).
    """

    def __init__(self, small: int = SMALL) -> None:
        super().__init__()
        self.small = small
        self.factories = _factories()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in _VALUE_IN_PLACE:
            # nn.init's functions pass their tensor by keyword (``tensor=``)
            target = args[0] if args else kwargs.get("tensor", kwargs.get("input"))
            if isinstance(target, torch.Tensor) and target.is_meta:
                return target
        factory = self.factories.get(func)
        if factory is not None and kwargs.get("device") is None:
            n = _requested_numel(factory, args, kwargs)
            if n is None or n >= self.small:
                kwargs["device"] = "meta"
        return func(*args, **kwargs)
