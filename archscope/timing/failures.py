"""What a failed configuration records: out of memory, an unsupported dtype, or another error.

A failure stays inside its configuration (see :mod:`.runner`): these helpers classify the
exception into a status and a one-line reason, and free the memory it held.
"""

from __future__ import annotations

import gc

REASON_CHARS = 300


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


def unsupported_reason(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` says the device cannot run this dtype/op, else None."""
    text = " ".join(str(exc).split())
    if isinstance(exc, NotImplementedError) or (
        isinstance(exc, RuntimeError)
        and any(s in text for s in ("not implemented for", "not supported", "Unsupported"))
    ):
        return text[:200]
    return None


def failure(exc: BaseException) -> tuple[str, str]:
    """``(status, reason)`` of a configuration that raised ``exc``: oom, skipped or error."""
    if is_oom(exc):
        return "oom", one_line(str(exc), 200)
    reason = unsupported_reason(exc)
    if reason:
        return "skipped", reason
    return "error", one_line(f"{type(exc).__name__}: {exc}")


def free_memory(device: str) -> None:
    """Collect garbage; on CUDA give cached blocks back and restart the peak-memory count."""
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(torch.device(device))
