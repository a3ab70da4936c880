"""Parsing and checking the bench's options: dtypes, devices, whole numbers, batch sizes.

Each mistake is one :class:`ArchscopeError` sentence, raised before anything is built or timed.
"""

from __future__ import annotations

from typing import Any

from ..errors import ArchscopeError

DTYPE_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
DTYPE_ALIASES = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16",
                 "half": "fp16"}
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
MODES = ("infer", "train")


def parse_dtype(name: str) -> str:
    key = name.strip().lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_NAMES:
        raise ArchscopeError(f"unknown dtype {name!r}; choose from {', '.join(DTYPE_NAMES)}")
    return key


def parse_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; CUDA asked for but absent, or no device N, is an error."""
    import torch

    from ..devices import check_device

    key = name.strip().lower()
    if key != "cpu" and not (key == "cuda" or (key.startswith("cuda:") and key[5:].isdigit())):
        raise ArchscopeError(f"unknown device {name!r}; choose from cpu, cuda (or cuda:N)")
    if key.startswith("cuda") and not torch.cuda.is_available():
        raise ArchscopeError(
            f"--device {key} needs CUDA, but torch {torch.__version__} sees no CUDA device; "
            "use --device cpu"
        )
    check_device(key)  # cuda:N beyond the devices present
    return key


def whole(value: Any, option: str, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArchscopeError(f"{option} {value!r} must be a whole number ≥ {minimum}{hint}")
    return value


def batch_list(batch_sizes: Any) -> list[int | None]:
    """``None`` → ``[None]`` (the batch of the input size, else 1); an int or ints ≥ 1 as a list."""
    if batch_sizes is None:
        return [None]
    values = [batch_sizes] if isinstance(batch_sizes, int) else list(batch_sizes)
    if not values:
        raise ArchscopeError("--batch-size needs at least one whole number ≥ 1, e.g. 1,8,64")
    return [whole(b, "--batch-size", 1, ", e.g. 1,8,64") for b in values]
