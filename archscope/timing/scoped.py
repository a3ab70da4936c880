"""Process-wide settings the bench changes, each behind a context manager that restores it.

torch keeps its intra-op thread count, ``cudnn.benchmark`` and the two TF32 switches in global
state, and Python keeps signal handlers there. The bench needs other values while it times; a
caller (a notebook, a test, another library) must find them as they were afterwards, also after
an error or Ctrl-C. Each manager saves the value on entry and puts it back on exit, whatever
happens inside.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from typing import Iterator


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """``torch.set_num_threads(n)`` inside the block (``None``: leave it as it is)."""
    import torch

    saved = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@contextlib.contextmanager
def cudnn_benchmark(enabled: bool) -> Iterator[None]:
    """``torch.backends.cudnn.benchmark = enabled`` inside the block (cuDNN's autotuner)."""
    import torch

    saved = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = saved


@contextlib.contextmanager
def tf32(*, matmul: bool | None = None, cudnn: bool | None = None) -> Iterator[None]:
    """TF32 for CUDA matmuls (``torch.backends.cuda.matmul.allow_tf32``) and for cuDNN
    convolutions (``torch.backends.cudnn.allow_tf32``) inside the block; ``None`` leaves one as
    it is. Both are restored on exit."""
    import torch

    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    if matmul is not None:
        torch.backends.cuda.matmul.allow_tf32 = matmul
    if cudnn is not None:
        torch.backends.cudnn.allow_tf32 = cudnn
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def device_context(device: str):
    """``torch.cuda.device(device)`` on CUDA (current device for streams, events, synchronize,
    graphs and allocator statistics, restored on exit), nothing on the CPU."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.device(torch.device(device))
    return contextlib.nullcontext()


class Interrupted(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) turned into what Ctrl-C raises, so the bench
    keeps what it measured; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


# SIGINT already raises KeyboardInterrupt (exit 130); these end a process without it.
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                     if s is not None)


def interrupt_code(exc: BaseException | None) -> int:
    """The exit code for an interrupted run: 128 + the signal (130 for Ctrl-C)."""
    return exc.exit_code if isinstance(exc, Interrupted) else 130


@contextlib.contextmanager
def signals_as_interrupts(signals: tuple = STOP_SIGNALS) -> Iterator[None]:
    """Inside the block, ``signals`` raise :class:`Interrupted` in the main thread.

    Outside the main thread Python cannot install handlers; the block then runs unchanged.
    The previous handlers come back on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Interrupted(signum)

    saved = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, previous in saved.items():
            signal.signal(s, previous)


# Kineto (the profiler's library) logs every start and stop on file descriptor 2, from C++:
# "USDT:2026-12-06 12:18:35 10176:10176 SyncActivityProfilerHandler.cpp:52] profiler_start".
_KINETO_CHATTER = re.compile(rb"^(USDT|STAGE):\d{4}-\d\d-\d\d \S+ \d+:\d+ \S+\.cpp:\d+\] ")


@contextlib.contextmanager
def quiet_profiler_log() -> Iterator[None]:
    """Keep kineto's start/stop chatter off stderr; anything else written to file descriptor 2
    inside the block (warnings, errors) is passed on when it ends."""
    import sys
    import tempfile

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no stderr at all: nothing to keep clean
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held:
                if not _KINETO_CHATTER.match(line):
                    try:
                        os.write(2, line)
                    except OSError:
                        break
