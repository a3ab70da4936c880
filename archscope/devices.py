"""Checking a requested device and dtype before anything is built on them.

Both turn a user's typo or a missing CUDA into one sentence (:class:`ArchscopeError`) instead of
a torch traceback halfway through a run.
"""

from __future__ import annotations

from typing import Any

from .errors import ArchscopeError

def check_device(device: Any):
    """``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"meta"`` → ``torch.device``; unusable ones raise."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ArchscopeError(
            f"unknown device {str(device)!r}; use cpu, cuda or cuda:N (e.g. cuda:0)"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ArchscopeError(
                f"device {str(device)!r} was requested but CUDA is not available here "
                "(no GPU or a CPU-only torch); use --device cpu"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ArchscopeError(
                f"device {str(device)!r} does not exist: this machine has {count} CUDA "
                f"device(s), cuda:0 to cuda:{count - 1}"
            )
    elif dev.type not in ("cpu", "meta"):
        backend = getattr(torch.backends, dev.type, None)
        if backend is None or not getattr(backend, "is_available", lambda: False)():
            raise ArchscopeError(
                f"device {str(device)!r} is not available here; use cpu or cuda"
            )
    return dev


def parse_dtype(name: Any):
    """``"float16"``/``"fp16"``/``"half"`` … → ``torch.float16``; unknown names raise."""
    import torch

    from .dtypes import FLOATS, canonical

    if isinstance(name, torch.dtype):
        return name
    return getattr(torch, canonical(name, FLOATS))
