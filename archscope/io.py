"""Writing output files: atomically for regular files, straight through for devices and pipes.

``-o PATH`` means "put the result there", the way a shell's ``> PATH`` does, with one
improvement: a regular file is replaced atomically (a temporary file beside it, then a rename),
so readers see either the old file or the whole new one. What sits at the path decides how:

- a regular file, or nothing: the atomic replace; an existing file keeps its permission bits
  (and its owner and group where the process may set them); a new one gets ``0o666`` less the
  umask, as ``>`` would give it;
- a symbolic link: the file it points to is written (created if missing); the link stays;
- a character device (``/dev/null``, a terminal) or a FIFO: written through, never replaced;
- a directory, a block device or a socket: refused in one sentence.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import ArchscopeError


def _stat(path: Path) -> os.stat_result | None:
    """``os.stat`` (links followed), ``None`` when nothing is there, one sentence otherwise."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a name too long, a folder that cannot be searched, a link loop
        raise ArchscopeError(
            f"cannot use output path {str(path)!r}: {exc.strerror or exc}; choose another -o path"
        ) from exc


def _is_stream(st: os.stat_result | None) -> bool:
    """A character device or a FIFO: something to write through, not a file to replace."""
    return st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode))


def writes_through(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a device or FIFO, which :func:`write_atomic` writes through rather
    than replaces (a writer that picks a fresh name beside an existing file must not make
    ``/dev/null-2``)."""
    return _is_stream(_stat(Path(path).expanduser()))


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, with one sentence, when ``path`` cannot be written; else the path to write.

    For a symbolic link that is the file it points to (what a rename must replace); for a
    device or FIFO, the path as given (opening it follows links, ``/dev/stdout`` included).
    """
    given = Path(path).expanduser()
    st = _stat(given)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise ArchscopeError(f"output path {str(given)!r} is a directory; give a file name inside it")
    if _is_stream(st):
        if not os.access(given, os.W_OK):
            raise ArchscopeError(f"output {str(given)!r} is not writable; choose another -o path")
        return given
    if st is not None and not stat.S_ISREG(st.st_mode):
        what = "a block device" if stat.S_ISBLK(st.st_mode) else (
            "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise ArchscopeError(
            f"output path {str(given)!r} is {what}, which archscope does not write to; give a "
            "file path, or /dev/stdout"
        )
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    parent = target.parent if str(target.parent) else Path(".")
    try:
        if parent.exists() and not parent.is_dir():
            raise ArchscopeError(
                f"output directory {str(parent)!r} is a file, not a directory; choose another -o path"
            )
        if not parent.is_dir():
            raise ArchscopeError(
                f"output directory {str(parent)!r} does not exist; create it or choose another -o path"
            )
    except OSError as exc:  # a folder on the way that cannot be searched
        raise ArchscopeError(
            f"cannot use output path {str(given)!r}: {exc.strerror or exc}; choose another -o path"
        ) from exc
    if not os.access(parent, os.W_OK):
        raise ArchscopeError(
            f"output directory {str(parent)!r} is not writable; choose another -o path"
        )
    if st is not None and not os.access(target, os.W_OK):  # as `>` would, root excepted
        raise ArchscopeError(
            f"output file {str(target)!r} is read-only; make it writable or choose another -o path"
        )
    return target


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one
    (devices and FIFOs are written through; see the module's docstring). Returns the path
    written: a link's target, not the link."""
    target = check_writable(path)
    existing = _stat(target)
    if _is_stream(existing):
        _write_through(target, data)
        return target
    tmp = write_temporary(target, data, like=existing)
    try:
        os.replace(tmp, target)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):  # a directory removed meanwhile
            raise write_failed(target, exc) from exc
        raise
    return target


def _write_through(target: Path, data: str | bytes) -> None:
    """Write to a device or FIFO as ``>`` does (a FIFO waits for its reader)."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8")
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
    except OSError as exc:
        raise ArchscopeError(
            f"could not write to {str(target)!r}: {exc.strerror or exc}; choose another -o path"
        ) from exc


def _new_file_mode() -> int:
    """``0o666`` less the process's umask: the mode ``>`` gives a new file."""
    try:  # Linux states the umask without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, restored at once
    os.umask(mask)
    return 0o666 & ~mask


def write_temporary(target: Path, data: str | bytes, like: os.stat_result | None = None) -> str:
    """``data`` in a new, complete temporary file beside ``target``; its path, for the caller to
    rename or link into place. Its mode is ``like``'s (the file it will replace; also owner and
    group where allowed), else that of a new file. On any failure nothing is left behind and an
    OSError becomes one sentence (:func:`write_failed`)."""
    mode = "wb" if isinstance(data, bytes) else "w"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:  # permissions (as root, access() says yes), a read-only file system
        raise write_failed(target, exc) from exc
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        if like is None:
            os.chmod(tmp, _new_file_mode())
        else:  # owner first: chown clears set-id bits that chmod then restores
            try:
                os.chown(tmp, like.st_uid, like.st_gid)
            except OSError:  # not ours to give away: the file becomes the writer's
                pass
            os.chmod(tmp, stat.S_IMODE(like.st_mode))
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
