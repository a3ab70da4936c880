"""The typed cost of one op, and the view of an op that every cost handle reads.

A handle is ``handle(op: OpView) -> Cost``. The :class:`OpView` hides where the op came from:
the meta engine's dispatched aten calls and the fvcore engine's TorchScript graph nodes both
present their arguments in the op's schema order, so one handle serves both engines.

**Several gradients from one kernel.** A backward op such as ``convolution_backward`` computes
the input, weight and bias gradients in one call. Its handle returns :meth:`Cost.per_output`:
the whole cost, plus ``parts``, what each of the op's outputs cost, in output order (an output
the op did not compute costs nothing). Whoever needs to know which gradient paid for what (the
training count: grad-input vs grad-weight MACs) reads ``parts``; everything else sees an
ordinary Cost. Sums of Costs drop ``parts``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, Sequence

Shape = tuple[int, ...]

# Categories of the other FLOPs, in display order (see archscope.analysis.costs for each cost).
CATEGORIES = ("bias", "norm", "pool", "activation", "elementwise", "reduction", "softmax",
              "attention", "resample")


class _Unknown:
    """An argument whose value the engine cannot know (a traced scalar computed from shapes)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class Uncountable(Exception):
    """A handle cannot cost this form of its op; the op is reported as uncounted, by name."""


@dataclass(frozen=True)
class Cost:
    """Work of one op (or a sum of ops), in counts per forward of the whole batch.

    ``macs``: multiply-accumulates of conv, linear and matmul, biases excluded. ``other``: the
    other FLOPs by category (keys from :data:`CATEGORIES`; zero entries absent). Treat ``other``
    as read-only: a Cost is a value.
    """

    macs: int = 0
    other: dict[str, int] = field(default_factory=dict)
    parts: tuple[Cost, ...] = field(default=(), compare=False, repr=False)

    @staticmethod
    def per_output(*parts: Cost) -> Cost:
        """The sum of ``parts``, one Cost per output of the op, kept in ``parts``."""
        return Cost(*_summed(parts), parts=tuple(parts))

    @property
    def other_flops(self) -> int:
        return sum(self.other.values())

    @property
    def flops(self) -> int:
        """FLOPs = 2 × MACs + other FLOPs."""
        return 2 * self.macs + self.other_flops

    def __bool__(self) -> bool:
        return bool(self.macs) or any(self.other.values())

    def __add__(self, other: Cost) -> Cost:
        return Cost(*_summed((self, other)))

    @staticmethod
    def total(costs: Iterable[Cost]) -> Cost:
        return Cost(*_summed(costs))

    def ordered_other(self) -> dict[str, int]:
        """``other`` in :data:`CATEGORIES` order (the order every table shows)."""
        return {k: int(self.other[k]) for k in CATEGORIES if self.other.get(k)}

    def regrouped(self, category: str) -> Cost:
        """All other FLOPs moved under one category (LRN's mul/pool/pow → norm)."""
        n = self.other_flops
        return Cost(self.macs, {category: n} if n else {})


def _summed(costs: Iterable[Cost]) -> tuple[int, dict[str, int]]:
    macs, other = 0, {}
    for c in costs:
        macs += c.macs
        for k, v in c.other.items():
            other[k] = other.get(k, 0) + v
    return macs, {k: v for k, v in other.items() if v}


ZERO = Cost()


def of(category: str, n: int) -> Cost:
    """``n`` FLOPs of one category (nothing when ``n`` is 0)."""
    return Cost(0, {category: int(n)}) if n else ZERO


class OpView(Protocol):
    """One op as a handle sees it: arguments in schema order, output shapes.

    ``shape(i)`` is the shape of tensor argument ``i`` (``None`` when it is absent or not a
    tensor); ``shapes(i)`` the shapes of a tensor-list argument; ``arg(i, default)`` a constant
    argument (int, float, bool, str, list, ``None``), or :data:`UNKNOWN` when the engine cannot
    know it; ``dtype(i)`` the dtype name of tensor argument ``i`` (``"float32"``, ``"bool"``…);
    ``out(j)`` the shape of output ``j``.
    """

    name: str

    def shape(self, i: int) -> Shape | None: ...

    def shapes(self, i: int) -> list[Shape]: ...

    def arg(self, i: int, default: Any = None) -> Any: ...

    def dtype(self, i: int) -> str | None: ...

    def out(self, j: int = 0) -> Shape | None: ...

    @property
    def n_outputs(self) -> int: ...


Handle = Callable[[OpView], Cost]


def numel(shape: Sequence[int] | None) -> int:
    return math.prod(int(d) for d in shape) if shape is not None else 0


def ints(value: Any, n: int) -> list[int]:
    """An int or a list of ints as ``n`` ints (one value repeats)."""
    value = [value] if isinstance(value, int) else list(value)
    return value * n if len(value) == 1 else value
