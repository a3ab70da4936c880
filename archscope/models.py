"""Resolving what the user asked for into a module and its inputs.

A *model spec* is a zoo name (``googlenet``), an ``nn.Module`` handed in from Python, or a
source-qualified spec (``torchvision:resnet50``, ``timm:resnet50``, ``package.module:factory``,
``path/to/file.py:factory``; see :mod:`archscope.specs`). For counting (``device="meta"``),
networks are built without initialising weights: the zoo entirely on the meta device, specs
under :class:`~archscope.building.MetaBuild` (falling back to CPU, with a note, when a
constructor needs real tensors). Timing builds real weights on the requested device.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from .errors import ArchscopeError
from .inputs import (ModelInputs, TensorSpec, check_batch_size, is_multi_input, parse_input_size,
                     parse_input_specs, single_input)


@dataclass
class Target:
    """A module to analyse, its display name, and what it takes as input.

    ``sample_shape`` is one sample (C, H, W) of a single float input, when known; ``example`` the
    full inputs a factory gave (several tensors, token ids…); ``notes`` say how it was built when
    that is worth knowing (a CPU fallback).
    """

    name: str
    model: Any  # torch.nn.Module; typed loosely so this module imports without torch
    sample_shape: tuple[int, ...] | None
    zoo: bool = False
    example: ModelInputs | None = None
    notes: list[str] = field(default_factory=list)

    def expected_text(self, batch: int = 1) -> str | None:
        """What the model takes, for error messages: ``1x3x224x224 (N×C×H×W)`` or the specs."""
        if self.example is not None and not self.example.single_float:
            return self.example.with_batch(batch).text()
        if self.example is not None:
            return f"{self.example.with_batch(batch).text()} (N×C×H×W)"
        if self.sample_shape:
            return "x".join(map(str, (batch, *self.sample_shape))) + " (N×C×H×W)"
        return None


def model_device(model: Any, default: str = "meta"):
    """The device of a module's first parameter or buffer (``default`` if it has none)."""
    import torch

    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device(default)


def materialize(model: Any, device: str = "cpu") -> Any:
    """Give a meta-built module real, zero-filled storage on ``device`` (in place).

    Only meta tensors are replaced: a module that already has storage (a user's, with its own
    weights) is left as it is, so callers need not check first.

    Zeros, not uninitialised memory: stray denormals in uninitialised weights send oneDNN's
    worker threads down slow paths (a GoogLeNet forward took 1.7 s instead of 0.1 s). Written
    out rather than ``Module.to_empty``: that goes through ``torch.empty_like`` on meta
    tensors, whose Python reference implementation imports sympy (half a second). Tensors
    shared between modules stay shared.
    """
    import torch
    from torch import nn

    zeros: dict[int, torch.Tensor] = {}
    params: dict[int, torch.Tensor] = {}

    def real(t: torch.Tensor, as_param: bool) -> torch.Tensor:
        # one storage per tensor; a parameter slot gets one Parameter object over it (a tensor
        # registered as a parameter in one module and a buffer in another stays shared)
        if id(t) not in zeros:
            zeros[id(t)] = torch.zeros(tuple(t.shape), dtype=t.dtype, device=device)
        if not as_param:
            return zeros[id(t)]
        if id(t) not in params:
            params[id(t)] = nn.Parameter(zeros[id(t)], requires_grad=t.requires_grad)
        return params[id(t)]

    for module in model.modules():
        for store, as_param in ((module._parameters, True), (module._buffers, False)):
            for key, t in store.items():
                if t is not None and t.is_meta:
                    store[key] = real(t, as_param)
    return model


def load_target(
    model_or_name: Any, *, device: str = "meta", kwargs: dict | None = None, init: bool = True
) -> Target:
    """Build a zoo network by name (on ``device``), a spec's network, or wrap a given module.

    ``device="meta"`` with ``init=False`` builds for counting: no weight initialisation, no
    weight memory (see the module docstring). Otherwise real weights, on CPU then moved to
    ``device``.
    """
    import torch
    from torch import nn

    from .devices import check_device

    if isinstance(model_or_name, nn.Module):
        if kwargs:
            raise ArchscopeError("builder options only apply to a model given by name")
        return Target(type(model_or_name).__name__.lower(), model_or_name, None)
    if not isinstance(model_or_name, str):
        raise ArchscopeError(
            f"expected a model name or a torch.nn.Module, got {type(model_or_name).__name__}"
        )
    dev = check_device(device)
    counting = dev.type == "meta" and not init
    from .specs import SPEC_FORMS, build_spec, is_spec

    if is_spec(model_or_name):
        built = build_spec(model_or_name, kwargs, meta=counting)
        model = built.model
        if dev.type not in ("cpu", "meta"):
            model = model.to(dev)
        return Target(built.name, model, built.sample_shape, example=built.example,
                      notes=list(built.notes))
    from .zoo import build, model_info

    try:
        info = model_info(model_or_name)
    except ArchscopeError as exc:
        if "did you mean" in str(exc):
            raise
        raise ArchscopeError(f"{exc}, or give your own model as {SPEC_FORMS}") from None
    if counting:
        from .building import MetaBuild

        building = MetaBuild(small=0)
    else:
        building = contextlib.nullcontext()
    with torch.device(dev), building:
        model = build(model_or_name, **(kwargs or {}))
    return Target(info.name, model, info.input_size, zoo=True)


def _sample_and_batch(target: Target, input_size: Any) -> tuple[tuple[int, ...], int | None]:
    """One float sample's shape and the batch inside ``input_size``, if any."""
    if input_size is None:
        if target.sample_shape is None:
            raise ArchscopeError(
                f"{target.name} has no default input size; --input-size is needed, e.g. 3x224x224"
            )
        return tuple(target.sample_shape), None
    if isinstance(input_size, str):
        return parse_input_size(input_size)
    try:
        sample = tuple(int(d) for d in input_size)
    except (TypeError, ValueError):
        raise ArchscopeError(
            f"input size {input_size!r} is not a tuple of whole numbers such as (3, 224, 224)"
        ) from None
    if not sample or any(d <= 0 for d in sample):
        raise ArchscopeError(
            f"input size {input_size!r} needs dimensions ≥ 1, such as (3, 224, 224)"
        )
    return sample, None


def _batch(target: Target, batch_in: int | None, batch_size: int | None) -> int:
    if batch_size is not None and batch_in is not None and batch_size != batch_in:
        raise ArchscopeError(
            f"the input size gives batch {batch_in} but --batch-size is {batch_size}; give one of them"
        )
    return check_batch_size(batch_in if batch_in is not None else
                            (batch_size if batch_size is not None else 1))


def resolve_input_shape(
    target: Target, input_size: Any = None, batch_size: int | None = None
) -> tuple[int, ...]:
    """The full shape (N, C, H, W) of a single-input model from ``input_size`` or its default.

    ``input_size`` is a string (``"3x224x224"`` or ``"1,3,224,224"``, whose leading number is
    the batch) or a tuple of the sample shape without batch. ``batch_size`` (default 1) and a
    batch given inside the string must agree when both are given.
    """
    if input_size is None and target.example is not None:
        if not target.example.single_float:
            raise ArchscopeError(f"{target.name} takes {target.expected_text()}, not one image "
                                 "tensor")
        return target.example.with_batch(_batch(target, None, batch_size)).first_shape
    sample, batch_in = _sample_and_batch(target, input_size)
    if target.sample_shape is not None and len(sample) != len(target.sample_shape):
        want = "x".join(map(str, target.sample_shape))
        raise ArchscopeError(
            f"{target.name} takes a sample of {len(target.sample_shape)} dimensions such as "
            f"{want} (C×H×W), not {len(sample)} ({'x'.join(map(str, sample))})"
        )
    return (_batch(target, batch_in, batch_size), *sample)


def resolve_inputs(target: Target, input_size: Any = None,
                   batch_size: int | None = None) -> ModelInputs:
    """What the model's forward is called with, from ``input_size`` or the model's default.

    The full-shape form (``"1x128:int64,1x128:int64"``: each input with its batch and dtype) is
    taken as given; ``--batch-size`` must then agree with every input's leading dimension. The
    short form (``3x224x224``, ``1,3,224,224``) is one float image tensor, as
    :func:`resolve_input_shape` reads it.
    """
    if isinstance(input_size, str) and is_multi_input(input_size):
        args, kwargs = parse_input_specs(input_size)
        batches = {s.shape[0] for s in (*args, *(k for _, k in kwargs)) if s.shape}
        if batch_size is not None and batches and batches != {batch_size}:
            raise ArchscopeError(
                f"the input size {input_size!r} gives batch {', '.join(map(str, sorted(batches)))}"
                f" but --batch-size is {batch_size}; give one of them")
        inputs = ModelInputs(tuple(args), tuple(kwargs))
        _check_against_example(target, inputs, input_size)
        return inputs
    if input_size is None and target.example is not None:
        return target.example.with_batch(_batch(target, None, batch_size))
    if target.example is not None and not target.example.single_float:
        raise ArchscopeError(
            f"{target.name} takes {target.expected_text()}; give each input as a full shape "
            f"with its dtype, e.g. --input-size {target.expected_text()}")
    shape = resolve_input_shape(target, input_size, batch_size)
    return single_input(shape)


def _check_against_example(target: Target, inputs: ModelInputs, text: str) -> None:
    ex = target.example
    if ex is None:
        return
    if len(inputs.args) != len(ex.args) or {k for k, _ in inputs.kwargs} != {k for k, _ in ex.kwargs}:
        raise ArchscopeError(f"{target.name} takes {ex.text()} ({len(ex.specs)} inputs), not "
                             f"{text!r}; give one shape per input, e.g. {ex.text()}")


__all__ = ["Target", "TensorSpec", "load_target", "materialize",
           "model_device", "resolve_input_shape", "resolve_inputs"]
