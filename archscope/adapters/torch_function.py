"""Keeping a ``TorchFunctionMode`` active inside torch's Python wrappers.

torch's Python-level functions (``F.multi_head_attention_forward``, ``F.adaptive_avg_pool2d``,
``Tensor.split``…) start with ``if has_torch_function…(…): return handle_torch_function(…)``.
A mode sees the call, but torch pops the mode while the mode handles it, so the torch calls
*inside* the wrapper (``F.linear`` on ``out_proj.weight`` inside multi-head attention) are
invisible to it. :func:`inner_visible` returns a copy of such a wrapper whose own check is off,
to be called with the mode pushed again: the wrapper's body runs once, and every torch call in
it reaches the mode. This relies on the wrappers' naming convention (the ``has_torch_function*``
globals of ``torch.overrides``), checked by ``tests/test_adapters.py``.
"""

from __future__ import annotations

import types
from functools import lru_cache
from typing import Any, Callable

CHECKS = ("has_torch_function", "has_torch_function_unary", "has_torch_function_variadic")
# Only the functional wrappers: Tensor methods written in Python (``Tensor.unflatten``) call
# their C method, which dispatches back to the Python method by name, so a mode kept active
# around them would loop.
MODULES = ("torch.nn.functional", "torch.functional")


def _never(*args: Any, **kwargs: Any) -> bool:
    return False


@lru_cache(maxsize=None)
def inner_visible(func: Callable) -> Callable | None:
    """A copy of ``func`` that skips its own torch-function check, or ``None`` if ``func`` is
    not a Python wrapper that has one."""
    if not isinstance(func, types.FunctionType) or func.__module__ not in MODULES:
        return None
    names = set(func.__code__.co_names)
    if not names & set(CHECKS):
        return None
    namespace = dict(func.__globals__)
    for name in CHECKS:
        if name in namespace:
            namespace[name] = _never
    copy = types.FunctionType(func.__code__, namespace, func.__name__, func.__defaults__,
                              func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    return copy


# The C bindings behind F.linear, F.scaled_dot_product_attention and the adaptive average
# pools (``torch._C._nn``, private): F.adaptive_avg_pool2d is a Python wrapper that calls its
# binding, so a torch-function mode sees the binding too, and must know it by name.
NN_BINDINGS = ("linear", "scaled_dot_product_attention", "adaptive_avg_pool2d",
               "adaptive_avg_pool3d")


def nn_binding(name: str) -> Callable:
    """``torch._C._nn.<name>`` (one of :data:`NN_BINDINGS`)."""
    import torch

    return getattr(torch._C._nn, name)
