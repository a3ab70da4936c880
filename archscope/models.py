"""Resolving what the user asked for into a module and an input shape.

A *model spec* is a zoo name (``googlenet``), an ``nn.Module`` handed in from Python, or a
source-qualified spec (``torchvision:resnet50``, ``timm:resnet50``, ``package.module:factory``,
``path/to/file.py:factory``; see :mod:`archscope.specs`). Zoo networks are built on the meta
device by default: their parameters have shapes but no storage, so building VGG-16 costs no
memory and no initialisation time. Counting and shape inference need nothing more. Networks
from specs are built on CPU with real weights (their code is not ours to trust on meta) and
moved to ``device`` when that is a real accelerator.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

from .errors import ArchscopeError
from .inputs import check_batch_size, parse_input_size


@dataclass
class Target:
    """A module to analyse, with its display name and default sample shape (C, H, W), if known."""

    name: str
    model: Any  # torch.nn.Module; typed loosely so this module imports without torch
    sample_shape: tuple[int, ...] | None
    zoo: bool = False


# A module with real weights is traced with a real forward on inputs up to this many elements
# (cheapest for small inputs), on meta stand-ins above it (no compute, no activation memory).
REAL_TRACE_MAX_ELEMENTS = 4 * 3 * 224 * 224


@contextlib.contextmanager
def no_weight_init() -> Iterator[None]:
    """Make ``torch.nn.init``'s in-place initialisers no-ops while building.

    Counting and shape inference never read weight values, so a model built for them skips the
    random initialisation (a second for VGG-16) and, on the meta device, the Python meta kernels
    those initialisers would pull in. Not thread-safe: it patches the module for the duration.
    """
    from torch.nn import init

    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_")]
    saved = {n: getattr(init, n) for n in names}
    try:
        for n in names:
            setattr(init, n, lambda tensor, *a, **k: tensor)
        yield
    finally:
        for n, fn in saved.items():
            setattr(init, n, fn)


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

    made: dict[int, torch.Tensor] = {}

    def real(t: torch.Tensor) -> torch.Tensor:
        if id(t) not in made:
            z = torch.zeros(tuple(t.shape), dtype=t.dtype, device=device)
            made[id(t)] = nn.Parameter(z, requires_grad=t.requires_grad) if isinstance(
                t, nn.Parameter) else z
        return made[id(t)]

    for module in model.modules():
        for store in (module._parameters, module._buffers):
            for key, t in store.items():
                if t is not None and t.is_meta:
                    store[key] = real(t)
    return model


def load_target(
    model_or_name: Any, *, device: str = "meta", kwargs: dict | None = None, init: bool = True
) -> Target:
    """Build a zoo network by name (on ``device``), a spec's network, or wrap a given module.

    ``init=False`` skips weight initialisation (see :func:`no_weight_init`): right for counting,
    wrong for timing or training.
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
    from .specs import SPEC_FORMS, build_spec, is_spec

    if is_spec(model_or_name):
        built = build_spec(model_or_name, kwargs)
        model = built.model
        if dev.type not in ("cpu", "meta"):
            model = model.to(dev)
        return Target(built.name, model, built.sample_shape)
    from .zoo import build, model_info

    try:
        info = model_info(model_or_name)
    except ArchscopeError as exc:
        if "did you mean" in str(exc):
            raise
        raise ArchscopeError(f"{exc}, or give your own model as {SPEC_FORMS}") from None
    with torch.device(dev), (contextlib.nullcontext() if init else no_weight_init()):
        model = build(model_or_name, **(kwargs or {}))
    return Target(info.name, model, info.input_size, zoo=True)


def resolve_input_shape(
    target: Target, input_size: Any = None, batch_size: int | None = None
) -> tuple[int, ...]:
    """The full input shape (N, C, H, W) from ``input_size`` or the model's default.

    ``input_size`` is a string (``"3x224x224"`` or ``"1,3,224,224"``, whose leading number is
    the batch) or a tuple of the sample shape without batch. ``batch_size`` (default 1) wins
    over a batch given inside the string only when both are given and differ: that is an error.
    """
    if input_size is None:
        if target.sample_shape is None:
            raise ArchscopeError(
                f"{target.name} has no default input size; --input-size is needed, e.g. 3x224x224"
            )
        sample, batch_in = tuple(target.sample_shape), None
    elif isinstance(input_size, str):
        sample, batch_in = parse_input_size(input_size)
    else:
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
        batch_in = None
    if target.sample_shape is not None and len(sample) != len(target.sample_shape):
        want = "x".join(map(str, target.sample_shape))
        raise ArchscopeError(
            f"{target.name} takes a sample of {len(target.sample_shape)} dimensions such as "
            f"{want} (C×H×W), not {len(sample)} ({'x'.join(map(str, sample))})"
        )
    if batch_size is not None and batch_in is not None and batch_size != batch_in:
        raise ArchscopeError(
            f"the input size gives batch {batch_in} but --batch-size is {batch_size}; give one of them"
        )
    batch = batch_in if batch_in is not None else (batch_size if batch_size is not None else 1)
    return (check_batch_size(batch), *sample)


def analysis_target(
    model_or_name: Any, input_size: Any = None, batch_size: int | None = None,
    kwargs: dict | None = None,
) -> tuple[Target, tuple[int, ...]]:
    """A target ready for shape tracing and counting, and its full input shape.

    Zoo networks are built on the meta device without initialisation: tracing them costs no
    compute and no memory at any input size (see :class:`~archscope.analysis.flops.meta_shapes.
    MetaShapeMode`). A module given by the caller keeps its own weights.
    """
    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    return target, resolve_input_shape(target, input_size, batch_size)
