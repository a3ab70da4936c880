"""Parsing and checking input sizes.

An input size names one sample, channels first: ``3x224x224`` (C×H×W) or ``1,3,224,224``
(N,C,H,W; the leading batch is taken as the batch size). ``224`` alone is not accepted: the
channel count matters to the first layer, so it is asked for explicitly.
"""

from __future__ import annotations

import re

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


def format_shape(shape) -> str:
    """``(1, 3, 224, 224)`` → ``"1x3x224x224"``."""
    return "x".join(str(int(d)) for d in shape)


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
