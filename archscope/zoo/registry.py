"""The model registry: every zoo network known by name, with its default input and metadata.

Builders register with :func:`register_model`; the registry refuses duplicate names. The
registry is filled by importing the family modules (see ``archscope.zoo.__init__``), so
``archscope --help`` never pays for it.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ArchscopeError, closest


@dataclass(frozen=True)
class ModelInfo:
    """What the zoo knows about one network or block.

    ``input_size`` is one sample, channels first (C, H, W); ``kind`` is ``"model"`` for whole
    networks and ``"block"`` for building blocks that can be inspected alone.
    """

    name: str
    builder: Callable[..., Any] = field(repr=False, compare=False)
    family: str
    year: int
    input_size: tuple[int, ...]
    num_classes: int | None
    paper: str
    description: str
    kind: str = "model"


_REGISTRY: dict[str, ModelInfo] = {}


def register_model(
    *,
    family: str,
    year: int,
    input_size: tuple[int, ...],
    num_classes: int | None,
    paper: str,
    description: str,
    kind: str = "model",
    name: str | None = None,
):
    """Decorator: register a builder under its function name (or ``name``)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        key = name or fn.__name__
        if key in _REGISTRY:
            raise ValueError(f"model name {key!r} is registered twice")
        if kind not in ("model", "block"):
            raise ValueError(f"kind must be 'model' or 'block', not {kind!r}")
        _REGISTRY[key] = ModelInfo(
            name=key,
            builder=fn,
            family=family,
            year=year,
            input_size=tuple(input_size),
            num_classes=num_classes,
            paper=paper,
            description=description,
            kind=kind,
        )
        return fn

    return wrap


def _natural_key(name: str):
    # resnet18 < resnet34 < resnet101, as timm sorts
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _ensure_loaded() -> None:
    from . import _load_families

    _load_families()


def list_models(pattern: str = "*", kind: str | None = None) -> list[str]:
    """Registered names matching a shell-style ``pattern``, sorted naturally."""
    _ensure_loaded()
    names = [
        n
        for n, info in _REGISTRY.items()
        if fnmatch.fnmatchcase(n, pattern) and (kind is None or info.kind == kind)
    ]
    return sorted(names, key=_natural_key)


def model_info(name: str) -> ModelInfo:
    """The registry entry for ``name``; an unknown name raises with the closest names."""
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        pass
    hint = closest(name, _REGISTRY)
    suggestion = f"did you mean {', '.join(hint)}?" if hint else "run `archscope list` for the zoo"
    raise ArchscopeError(f"unknown model {name!r}; {suggestion}")


def build(name: str, **kwargs: Any):
    """Build a registered network with the builder's keyword arguments (e.g. ``num_classes``)."""
    info = model_info(name)
    try:
        return info.builder(**kwargs)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ArchscopeError(f"{name} does not take that option: {exc}") from None
        raise
