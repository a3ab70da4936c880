"""Parsing and checking input sizes, and the specs of a model's inputs.

An input size names one sample, channels first: ``3x224x224`` (C×H×W) or ``1,3,224,224``
(N,C,H,W; the leading batch is taken as the batch size). ``224`` alone is not accepted: the
channel count matters to the first layer, so it is asked for explicitly.

A model may take several inputs, or inputs that are not floating point (token ids): then each
input is a full shape, batch first, with an optional dtype, and inputs are separated by commas:
``1x128:int64,1x128:int64``. A keyword input is ``name=1x128:int64``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .dtypes import canonical
from .errors import ArchscopeError, one_line

_SPLIT = re.compile(r"\s*[x×,*]\s*|\s+")
MAX_DIM = 2**31 - 1  # torch's sizes are 64-bit, but no real input dimension comes near this


def parse_input_size(text: str) -> tuple[tuple[int, ...], int | None]:
    """Parse ``"3x224x224"`` or ``"1,3,224,224"``.

    Returns ``(sample_shape, batch)`` where ``sample_shape`` excludes the batch dimension and
    ``batch`` is the leading dimension when four (or more) numbers were given, else ``None``.
    """
    raw = text.strip().lower()
    if not raw:
        raise ArchscopeError(
            f"input size {text!r} is empty; give channels×height×width such as 3x224x224"
        )
    parts = _SPLIT.split(raw)
    if "" in parts:  # "3x32x32x", "3xx32": a separator with no number beside it
        raise ArchscopeError(
            f"input size {text!r} has an empty dimension; give channels×height×width such as "
            "3x224x224"
        )
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise ArchscopeError(
            f"input size {text!r} is not a list of whole numbers; "
            "give channels×height×width such as 3x224x224 or N,C,H,W such as 1,3,224,224"
        ) from None
    huge = [d for d in dims if d > MAX_DIM]
    if huge:
        raise ArchscopeError(
            f"input size {text!r} has a dimension of {huge[0]:,}; each must be at most "
            f"{MAX_DIM:,}, e.g. 3x224x224"
        )
    bad = [d for d in dims if d <= 0]
    if bad:
        raise ArchscopeError(
            f"input size {text!r} has a zero or negative dimension; every dimension must be ≥ 1, "
            "e.g. 3x224x224"
        )
    if len(dims) < 2:
        raise ArchscopeError(
            f"input size {text!r} has one dimension; give channels×height×width such as 3x224x224"
        )
    if len(dims) >= 4:
        return tuple(dims[1:]), dims[0]
    return tuple(dims), None


def check_batch_size(batch_size: int) -> int:
    """Reject a batch size below 1 or above :data:`MAX_DIM` (the cap on every input dimension)
    with one sentence, before torch sees it."""
    if batch_size < 1:
        raise ArchscopeError(f"batch size {batch_size} must be a whole number ≥ 1, e.g. 1 or 64")
    if batch_size > MAX_DIM:
        raise ArchscopeError(
            f"batch size {batch_size:,} is too large; it must be at most {MAX_DIM:,}, e.g. 1 or 64"
        )
    return batch_size


def _literal(text: str):
    low = text.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_kwargs(text: str | None) -> dict:
    """``"num_classes=10,aux_logits=false"`` → ``{"num_classes": 10, "aux_logits": False}``.

    Values become bool, None, int or float where they read as such, else stay strings. A key
    given twice is refused rather than the last value silently winning.
    """
    if not text:
        return {}
    out = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ArchscopeError(
                f"builder option {one_line(item, 80)!r} is not key=value; write e.g. "
                "--kwargs num_classes=10"
            )
        if key in out:
            raise ArchscopeError(
                f"builder option {key!r} is given twice in --kwargs; give each option once, "
                f"e.g. --kwargs {key}={one_line(value.strip(), 40)}"
            )
        out[key] = _literal(value.strip())
    return out


@dataclass(frozen=True)
class TensorSpec:
    """A tensor's shape and dtype (``"float32"``, ``"int64"``…); no data."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= int(d)
        return n

    @property
    def is_float(self) -> bool:
        return self.dtype.startswith(("float", "bfloat", "complex"))

    def text(self) -> str:
        """``1x3x224x224`` (float32) or ``1x128:int64``."""
        dims = "x".join(str(d) for d in self.shape) or "scalar"
        return dims if self.dtype == "float32" else f"{dims}:{self.dtype}"


@dataclass(frozen=True)
class ModelInputs:
    """What a model's forward is called with: positional and keyword tensor specs.

    Shapes include the batch. ``tensors(device)`` makes zero-filled tensors of these specs.
    """

    args: tuple[TensorSpec, ...]
    kwargs: tuple[tuple[str, TensorSpec], ...] = field(default=())

    @property
    def specs(self) -> tuple[TensorSpec, ...]:
        return self.args + tuple(s for _, s in self.kwargs)

    @property
    def first_shape(self) -> tuple[int, ...]:
        return self.specs[0].shape

    @property
    def single_float(self) -> bool:
        """One positional floating-point tensor: an image model's usual input."""
        return len(self.args) == 1 and not self.kwargs and self.args[0].is_float

    def text(self) -> str:
        parts = [s.text() for s in self.args] + [f"{k}={s.text()}" for k, s in self.kwargs]
        return ",".join(parts)

    def with_batch(self, batch: int) -> ModelInputs:
        def rebatch(s: TensorSpec) -> TensorSpec:
            return TensorSpec((batch, *s.shape[1:]), s.dtype) if s.shape else s

        return ModelInputs(tuple(rebatch(s) for s in self.args),
                           tuple((k, rebatch(s)) for k, s in self.kwargs))

    def tensors(self, device: Any = "cpu") -> tuple[tuple, dict]:
        """Zero-filled tensors of these specs on ``device``: ``(args, kwargs)``."""
        import torch

        def make(s: TensorSpec):
            return torch.zeros(s.shape, dtype=getattr(torch, s.dtype), device=device)

        return tuple(make(s) for s in self.args), {k: make(s) for k, s in self.kwargs}


def single_input(shape: tuple[int, ...], dtype: str = "float32") -> ModelInputs:
    return ModelInputs((TensorSpec(tuple(int(d) for d in shape), dtype),))


_DTYPE_SUFFIX = re.compile(r":\s*([A-Za-z0-9_]+)\s*$")


def is_multi_input(text: str) -> bool:
    """Does ``text`` use the full-shape form (a dtype, a keyword, or several ``x`` shapes)?"""
    raw = text.strip()
    if ":" in raw or "=" in raw:
        return True
    groups = [g for g in raw.split(",")]
    return len(groups) > 1 and any(re.search(r"[x×*]", g) for g in groups)


def parse_input_specs(text: str) -> tuple[list[TensorSpec], list[tuple[str, TensorSpec]]]:
    """``"1x128:int64,mask=1x128:bool"`` → positional and keyword specs (full shapes).

    Each shape is complete, batch first; the dtype defaults to float32.
    """
    args: list[TensorSpec] = []
    kwargs: list[tuple[str, TensorSpec]] = []
    example = "e.g. 1x3x224x224 or 1x128:int64,1x128:int64"
    for group in text.split(","):
        raw = group.strip()
        if not raw:
            raise ArchscopeError(f"input size {_cut(text)!r} has an empty input between commas; "
                                 f"{example}")
        key = None
        if "=" in raw:
            key, _, raw = (part.strip() for part in raw.partition("="))
            if not key.isidentifier():
                raise ArchscopeError(f"input name {key!r} in {_cut(text)!r} is not a Python "
                                     f"name; write name=1x128:int64")
        dtype = "float32"
        m = _DTYPE_SUFFIX.search(raw)
        if m:
            dtype = canonical(m.group(1), what=f"dtype in input size {_cut(text)!r}:")
            raw = raw[: m.start()].strip()
        elif ":" in raw:
            raise ArchscopeError(f"input {raw!r} in {_cut(text)!r} has an empty dtype; {example}")
        dims = _dims(raw, text, example)
        spec = TensorSpec(tuple(dims), dtype)
        if key is None:
            if kwargs:
                raise ArchscopeError(f"positional input {raw!r} follows a keyword input in "
                                     f"{_cut(text)!r}; give positional inputs first")
            args.append(spec)
        else:
            kwargs.append((key, spec))
    return args, kwargs


def _dims(raw: str, text: str, example: str) -> list[int]:
    parts = re.split(r"\s*[x×*]\s*", raw)
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise ArchscopeError(f"input {raw!r} in {_cut(text)!r} is not a list of whole numbers; "
                             f"{example}") from None
    if any(d <= 0 for d in dims):
        raise ArchscopeError(f"input {raw!r} in {_cut(text)!r} has a zero or negative "
                             f"dimension; every dimension must be ≥ 1, {example}")
    if any(d > MAX_DIM for d in dims):
        raise ArchscopeError(f"input {raw!r} in {_cut(text)!r} has a dimension over "
                             f"{MAX_DIM:,}; {example}")
    return dims


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
