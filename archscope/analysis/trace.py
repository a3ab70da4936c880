"""Checking that a model takes an input, naming the layer that fails when it does not.

A thin use of the meta engine (no compute, no memory); the bench calls it before any timing.
"""

from __future__ import annotations

from typing import Any

from ..inputs import single_input
from ..models import Target


def trace_forward(model: Any, input_shape: tuple[int, ...], *, name: str = "model",
                  expected: tuple[int, ...] | None = None) -> None:
    """Run one meta forward of ``model`` on ``input_shape``; a bad input raises one sentence."""
    from .record import record_target

    sample = tuple(expected[1:]) if expected else None
    record_target(Target(name, model, sample), single_input(tuple(input_shape)))
