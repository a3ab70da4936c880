"""Pooling (category ``pool``).

Max pool: ``window − 1`` comparisons per output element; average pool: ``window`` adds and
divides per output element; adaptive pools by their exact windows (PyTorch's
``[floor(i·in/out), ceil((i+1)·in/out))``): Σ window per output for average, Σ (window − 1) for
max.
"""

from __future__ import annotations

import math

from .base import Cost, OpView, Uncountable, ints, numel, of


def _kernel(op: OpView, dims: int) -> list[int]:
    k = op.arg(1)
    if not isinstance(k, (int, list, tuple)):
        raise Uncountable("a pool whose kernel size is not a constant")
    return ints(k, dims)


def max_pool(dims: int):
    def handle(op: OpView) -> Cost:
        return of("pool", numel(op.out()) * (math.prod(_kernel(op, dims)) - 1))

    return handle


def avg_pool(dims: int):
    def handle(op: OpView) -> Cost:
        return of("pool", numel(op.out()) * math.prod(_kernel(op, dims)))

    return handle


def _window_sum(n_in: int, n_out: int) -> int:
    return sum(-(-(i + 1) * n_in // n_out) - (i * n_in // n_out) for i in range(n_out))


def _adaptive(op: OpView, dims: int) -> tuple[int, int, int]:
    """(leading elements, Σ window sizes over the output grid, output grid size)."""
    x, out = op.shape(0), op.out()
    lead = numel(x[: len(x) - dims])
    windows, grid = 1, 1
    for n_in, n_out in zip(x[len(x) - dims:], out[len(out) - dims:]):
        windows *= _window_sum(int(n_in), int(n_out))
        grid *= int(n_out)
    return lead, windows, grid


def adaptive_avg_pool(dims: int):
    def handle(op: OpView) -> Cost:
        lead, windows, _ = _adaptive(op, dims)
        return of("pool", lead * windows)

    return handle


def adaptive_max_pool(dims: int):
    def handle(op: OpView) -> Cost:
        lead, windows, grid = _adaptive(op, dims)
        return of("pool", lead * (windows - grid))

    return handle
