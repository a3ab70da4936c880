"""TorchScript tracing internals used by the fvcore engine.

- ``value_sizes``: a traced tensor's sizes read from its graph value's type. Reading
  ``tensor.shape`` inside a trace records ``aten::size``/``aten::Int`` nodes for every dimension
  (hundreds per network, each then walked by fvcore); the value's type holds the same sizes.
- ``push_scope``/``pop_scope``: a scope name on the nodes traced until it is popped; the fvcore
  engine marks each module call with one, so every graph node names the call that ran it.
"""

from __future__ import annotations

import torch


def is_tracing() -> bool:
    return torch._C._get_tracing_state() is not None


def value_sizes(t: torch.Tensor) -> tuple[int, ...] | None:
    """The traced sizes of ``t``, or ``None`` outside a trace or for a value it does not hold."""
    if not is_tracing():
        return None
    try:
        sizes = torch._C._get_value_trace(t).type().sizes()
    except RuntimeError:  # a tensor the trace does not hold
        return None
    return tuple(sizes) if sizes is not None else None


def push_scope(name: str) -> None:
    state = torch._C._get_tracing_state()
    if state is not None:
        state.push_scope(name)


def pop_scope() -> None:
    state = torch._C._get_tracing_state()
    if state is not None:
        state.pop_scope()


def is_tensor_type(value_type) -> bool:
    return isinstance(value_type, torch._C.TensorType)

