"""Element types by name: one table for every option and record that names a dtype.

Names are torch's (``float32``, ``bfloat16``, ``int64``…); the short forms users type
(``fp32``, ``bf16``, ``half``, ``long``…) are aliases. Importing this module imports no torch.
"""

from __future__ import annotations

from typing import Any, Iterable

from .errors import ArchscopeError, closest

ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "complex64": 8,
            "complex128": 16, "int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint8": 1,
            "bool": 1, "float8_e4m3fn": 1, "float8_e5m2": 1}
ALIASES = {"fp64": "float64", "double": "float64", "fp32": "float32", "float": "float32",
           "fp16": "float16", "half": "float16", "bf16": "bfloat16", "long": "int64",
           "int": "int32"}
SHORT = {"float64": "fp64", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
FLOATS = ("float32", "float16", "bfloat16", "float64")


def canonical(name: Any, allowed: Iterable[str] | None = None, what: str = "dtype") -> str:
    """``"fp16"``/``"half"``/``torch.float16`` → ``"float16"``; a name outside ``allowed`` (all
    known dtypes by default) is one sentence naming the choices."""
    key = str(name).strip().lower().removeprefix("torch.")
    key = ALIASES.get(key, key)
    choices = list(allowed) if allowed is not None else list(ITEMSIZE)
    if key not in choices:
        names = [SHORT.get(c, c) for c in choices]
        hint = closest(str(name).strip().lower(), [*names, *choices])
        more = f" (did you mean {', '.join(dict.fromkeys(hint))}?)" if hint else ""
        raise ArchscopeError(f"unknown {what} {str(name)!r}{more}; use {', '.join(names)}")
    return key


def itemsize(name: str) -> int:
    """Bytes per element of a canonical dtype name (4 for a name not in the table)."""
    return ITEMSIZE.get(name, 4)


def short(name: str) -> str:
    """``"bfloat16"`` → ``"bf16"`` (floating types; others as they are)."""
    return SHORT.get(name, name)
