"""``-o PATH`` treats what is at PATH as a shell's ``>`` would: devices and FIFOs are written
through, links are followed, an existing file keeps its mode; directories, block devices and
sockets are refused in one sentence.

Device nodes are made with ``mknod`` in a temporary folder (root only): no test writes to a real
device such as /dev/null.
"""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest

from archscope.cli import app
from archscope.errors import ArchscopeError
from archscope.io import write_atomic

NULL = os.makedev(1, 3)  # Linux's null device: swallows every write
ZERO = os.makedev(1, 5)  # a character device too; as a block device it is only a node to refuse


def _node(path, kind: int, dev: int):
    """A device node at ``path``, or skip where nodes cannot be made or used (not root, or a
    file system mounted nodev)."""
    try:
        os.mknod(path, kind | 0o666, dev)
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    if stat.S_ISCHR(kind):
        try:
            os.close(os.open(path, os.O_WRONLY))
        except OSError as exc:
            pytest.skip(f"device nodes cannot be opened here: {exc}")
    return path


def _params_to(runner, path) -> str:
    res = runner.invoke(app, ["params", "lenet5", "-f", "csv", "-o", str(path)])
    assert res.exit_code == 0, (res.output, res.exception)
    return res.stderr


def test_character_device_is_written_through_not_replaced(runner, tmp_path):
    null = _node(tmp_path / "null", stat.S_IFCHR, NULL)
    before = os.stat(null)
    _params_to(runner, null)
    after = os.lstat(null)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == NULL  # still the device
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]  # no temporary left


def test_fifo_is_written_through_to_its_reader(runner, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    _params_to(runner, fifo)
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    lines = got[0].decode().splitlines()
    # the CSV went through the pipe: its header and LeNet-5's first conv, 6·1·5·5 = 150 weights
    assert "layer,type,output_shape,weights,biases,params,share,trainable" in lines
    assert any(line.startswith("features.c1,Conv2d,1x6x28x28,150,6,156,") for line in lines)


@pytest.mark.parametrize("kind", ["block device", "socket"])
def test_block_devices_and_sockets_are_refused(runner, tmp_path, kind):
    path = tmp_path / "thing"
    if kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
    else:
        _node(path, stat.S_IFBLK, ZERO)
    try:
        res = runner.invoke(app, ["params", "lenet5", "-o", str(path)])
        assert res.exit_code == 2 and res.stdout == ""
        assert res.stderr.strip().splitlines() == [
            f"error: output path {str(path)!r} is a {kind}, which archscope does not write to; "
            "give a file path, or /dev/stdout"
        ]
        mode = os.lstat(path).st_mode
        assert stat.S_ISSOCK(mode) if kind == "socket" else stat.S_ISBLK(mode)
    finally:
        if kind == "socket":
            sock.close()


def test_symlink_is_followed_and_kept(runner, tmp_path):
    real = tmp_path / "data" / "table.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(os.path.relpath(real, tmp_path))
    err = _params_to(runner, link)
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "table.csv")
    assert real.read_text().startswith("#") and "features.c1" in real.read_text()
    assert err.strip() == f"wrote {real}"  # says which file really changed
    assert sorted(p.name for p in real.parent.iterdir()) == ["table.csv"]


def test_dangling_symlink_creates_its_target(runner, tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "made.csv")
    _params_to(runner, link)
    assert link.is_symlink() and "features.c1" in (tmp_path / "made.csv").read_text()


def test_symlink_loop_is_one_sentence(runner, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    res = runner.invoke(app, ["params", "lenet5", "-o", str(loop)])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: cannot use output path {str(loop)!r}: ")
    assert "choose another -o path" in res.stderr and len(res.stderr.splitlines()) == 1


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755])
def test_existing_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "t.csv"
    path.write_text("old\n")
    path.chmod(mode)
    write_atomic(path, "new\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert path.read_text() == "new\n"


def test_read_only_file_is_kept_read_only_or_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old\n")
    path.chmod(0o444)
    if os.geteuid() == 0:  # root may write it, as `>` may: the new file is read-only still
        write_atomic(path, "new\n")
        assert path.read_text() == "new\n"
    else:  # anyone else is told, and the file is untouched
        with pytest.raises(ArchscopeError, match="is read-only; make it writable"):
            write_atomic(path, "new\n")
        assert path.read_text() == "old\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444


def test_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.csv", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.csv").st_mode) == 0o666 & ~0o027  # 0o640


def test_too_long_a_name_is_one_sentence(runner, tmp_path):
    res = runner.invoke(app, ["params", "lenet5", "-o", str(tmp_path / ("a" * 300))])
    assert res.exit_code == 2 and len(res.stderr.splitlines()) == 1
    assert "File name too long" in res.stderr and "choose another -o path" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_writes_through_names_devices_and_fifos_only(tmp_path):
    from archscope.io import writes_through

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "pipe")
    assert writes_through(tmp_path / "pipe") and writes_through(tmp_path / "link")
    assert not writes_through(tmp_path / "file") and not writes_through(tmp_path / "none")
