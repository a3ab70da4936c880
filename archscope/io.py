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
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # permissions (as root, access() says yes), a read-only file system
        raise _unwritten(target, exc) from exc
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):  # disk full, quota, a directory removed meanwhile
            raise _unwritten(target, exc) from exc
        raise
    return target


def _unwritten(target: Path, exc: OSError) -> ArchscopeError:
    return ArchscopeError(
        f"could not write {str(target)!r}: {exc.strerror or exc}; nothing was written, "
        "free space or choose another -o path"
    )
