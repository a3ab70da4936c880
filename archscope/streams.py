"""Standard output belongs to archscope's results.

``-f json`` and ``-f csv`` are read by programs, so nothing else may reach stdout:
:func:`stdout_to_stderr` sends whatever user code prints there (a model file's ``print``, a
factory that shells out) to stderr while that code runs. :func:`write_stdout` prints a result
and turns a closed or failing stdout into one sentence instead of losing the output silently.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

from .errors import ArchscopeError


def _fd(stream) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):  # None, closed, or an in-memory stream
        return None


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While the block runs, everything written to stdout goes to stderr instead.

    Python-level writes (``print``, ``sys.stdout.write``) are redirected by swapping
    ``sys.stdout``; when stdout and stderr are the process's file descriptors 1 and 2 (the
    console script, not an in-memory test runner), descriptor 1 is pointed at stderr too, so C
    code and child processes are caught as well. Both are restored on exit, also on errors.
    Process-wide while it lasts (stdout is): not for use from several threads at once. Nests.
    """
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = None
    if _fd(out) == 1 and _fd(err) == 2:
        saved = os.dup(1)
        os.dup2(2, 1)
    sys.stdout = err if err is not None else open(os.devnull, "w", encoding="utf-8")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        if sys.stdout is not err:
            with contextlib.suppress(Exception):
                sys.stdout.close()
        sys.stdout = out
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def write_stdout(text: str) -> None:
    """Print ``text`` to stdout and flush it.

    Raises :class:`ArchscopeError` when stdout is closed (``archscope params lenet5 >&-``: Python
    then has no ``sys.stdout`` and would drop the output with exit code 0) or a write fails
    (``>/dev/full``). A broken pipe (``| head``) is left to the caller as ``BrokenPipeError``:
    the reader has gone, which is no mistake to report.
    """
    out = sys.stdout
    if out is None:
        raise ArchscopeError(
            "standard output is closed, so the result has nowhere to go; write it to a file "
            "with -o FILE"
        )
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a stream closed from inside Python
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is closed"
        raise ArchscopeError(
            f"could not write to standard output: {reason}; write the result to a file with "
            "-o FILE"
        ) from exc
