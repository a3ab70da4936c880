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


def _check_option(name: str, key: str, value: Any, kind: str) -> None:
    """One builder option against the builder's annotation (the zoo's are int, bool, float)."""
    example = f"e.g. --kwargs {key}="
    if kind == "bool":
        if not isinstance(value, bool):
            raise ArchscopeError(f"{name} option {key} must be true or false, got {value!r}; "
                                 f"{example}false")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ArchscopeError(f"{name} option {key} must be a whole number ≥ 1, got "
                                 f"{value!r}; {example}10")
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not (0 <= value <= 1 if key.startswith("dropout") else value >= 0):
            bound = "between 0 and 1" if key.startswith("dropout") else "≥ 0"
            raise ArchscopeError(f"{name} option {key} must be a number {bound}, got {value!r}; "
                                 f"{example}0.5")


def build(name: str, **kwargs: Any):
    """Build a registered network with the builder's keyword arguments (e.g. ``num_classes``).

    Options are checked against the builder's signature first (names, and whole numbers ≥ 1,
    booleans, dropout probabilities in [0, 1]), so a mistyped option is one sentence rather than
    an error from deep inside torch.
    """
    import inspect

    info = model_info(name)
    params = {k: p for k, p in inspect.signature(info.builder).parameters.items()
              if p.kind is p.KEYWORD_ONLY}
    for key, value in kwargs.items():
        if key not in params:
            options = ", ".join(params) or "none"
            raise ArchscopeError(f"{name} has no option {key!r}; its options: {options}")
        ann = params[key].annotation
        _check_option(name, key, value, ann if isinstance(ann, str) else getattr(ann, "__name__", ""))
    try:
        return info.builder(**kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        text = " ".join(str(exc).split())
        shown = ",".join(f"{k}={v}" for k, v in kwargs.items())
        raise ArchscopeError(f"{name} cannot be built with {shown}: {text}") from None
