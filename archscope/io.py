"""Writing output files atomically: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ArchscopeError


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, with one sentence, when ``path`` cannot be written."""
    target = Path(path).expanduser()
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise ArchscopeError(f"output path {str(target)!r} is a directory; give a file name inside it")
    if parent.exists() and not parent.is_dir():
        raise ArchscopeError(
            f"output directory {str(parent)!r} is a file, not a directory; choose another -o path"
        )
    if not parent.is_dir():
        raise ArchscopeError(
            f"output directory {str(parent)!r} does not exist; create it or choose another -o path"
        )
    if not os.access(parent, os.W_OK):
        raise ArchscopeError(
            f"output directory {str(parent)!r} is not writable; choose another -o path"
        )
    return target


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    target = check_writable(path)
    tmp = write_temporary(target, data)
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):  # a directory removed meanwhile
            raise write_failed(target, exc) from exc
        raise
    return target


def write_temporary(target: Path, data: str | bytes) -> str:
    """``data`` in a new, complete temporary file beside ``target``; its path, for the caller to
    rename or link into place. On any failure nothing is left behind and an OSError becomes
    one sentence (:func:`write_failed`)."""
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # permissions (as root, access() says yes), a read-only file system
        raise write_failed(target, exc) from exc
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):  # disk full, quota
            raise write_failed(target, exc) from exc
        raise
    return tmp


def discard(path: str) -> None:
    """Remove a temporary file if it is still there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_failed(target: Path, exc: OSError) -> ArchscopeError:
    return ArchscopeError(
        f"could not write {str(target)!r}: {exc.strerror or exc}; nothing was written, "
        "free space or choose another -o path"
    )
