"""Reading a bench results file defensively: any damage is one sentence, never a traceback.

A results file comes from disk, maybe edited by hand, truncated, or not a results file at all.
Checked before anything uses it: a regular file (not a FIFO or a device such as ``/dev/zero``,
which would be read until memory runs out) of at most ``MAX_FILE_BYTES``; UTF-8 JSON without
``NaN``/``Infinity``; the schema; the document's parts; and every record's fields — each of its
type or null, every number finite and in range (times 0–10⁹ ms, a median above 0, a batch of at
least 1), ``per_layer`` a list of typed rows, ``roofs`` a list of typed objects.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import ArchscopeError

MAX_FILE_BYTES = 64 * 2**20
MAX_MS = 1e9  # 11.6 days: no timing of one iteration is longer
MAX_COUNT = 2**63 - 1  # MACs, FLOPs, bytes: what an int64 holds
MAX_RATE = 1e18  # any other figure (items/s, TFLOP/s, GB/s, shares): finite and below this

_STR, _INT, _NUM, _BOOL = "a string", "a whole number", "a number", "true or false"
_SHAPE, _ROWS = "a list of whole numbers", "a list of objects"

RECORD_TYPES: dict[str, str] = {
    **dict.fromkeys(["model", "device", "dtype", "mode", "status", "reason", "stopped", "compile",
                     "peak_source", "peak_check", "bound", "per_layer_source", "trace_file",
                     "gpu_throttle"], _STR),
    **dict.fromkeys(["batch_size", "threads", "iters", "macs", "flops", "flops_per_iter",
                     "bytes_moved", "peak_mem_bytes", "compile_graphs", "compile_graph_breaks",
                     "gpu_sm_clock_mhz"], _INT),
    **dict.fromkeys(["channels_last", "graph", "amp"], _BOOL),
    "input_shape": _SHAPE,
    "per_layer": _ROWS,
}
LAYER_TYPES: dict[str, str] = {
    **dict.fromkeys(["layer", "type", "math", "bound"], _STR),
    **dict.fromkeys(["calls", "macs", "flops", "bytes_moved"], _INT),
    **dict.fromkeys(["time_ms", "time_share", "mac_share", "intensity", "gflop_s"], _NUM),
}
ROOF_TYPES: dict[str, str] = {
    **dict.fromkeys(["device", "device_name", "math", "peak_source", "bandwidth_source"], _STR),
    "threads": _INT,
    **dict.fromkeys(["peak_tflops", "peak_measured_tflops", "peak_tflops_datasheet", "peak_ci_rel",
                     "peak_end_tflops", "peak_drift", "bandwidth_gbs", "copy_gbs", "triad_gbs",
                     "ridge_flop_per_byte"], _NUM),
}
REQUIRED_FIELDS = ("model", "status", "batch_size")
SIGNED = {"unattributed_ms", "peak_drift"}  # the only figures that may fall below zero


def _type_error(value: Any, kind: str) -> bool:
    """True when ``value`` (not None) is not of ``kind`` (one of the phrases above)."""
    if kind == _STR:
        return not isinstance(value, str)
    if kind == _BOOL:
        return not isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, bool) or not isinstance(value, int)
    if kind == _NUM:
        return isinstance(value, bool) or not isinstance(value, (int, float))
    if kind == _SHAPE:
        return not isinstance(value, list) or any(_type_error(v, _INT) for v in value)
    if kind == _ROWS:
        return not isinstance(value, list) or any(not isinstance(v, dict) for v in value)
    raise AssertionError(kind)


def _range_error(key: str, value: Any) -> str | None:
    """What is wrong with number ``value`` of field ``key`` (None: nothing)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "not finite"
    if key.endswith("_ms"):
        if abs(value) > MAX_MS or (value < 0 and key not in SIGNED):
            return f"outside 0 to {MAX_MS:.0e} ms"
        if key == "median_ms" and value <= 0:
            return "not above 0"
    elif key in ("batch_size", "threads", "iters") and not 1 <= value <= 2**31:
        return "not between 1 and 2³¹"
    elif isinstance(value, int):
        if not -MAX_COUNT <= value <= MAX_COUNT or (value < 0 and key not in SIGNED):
            return "outside 0 to 2⁶³"
    elif abs(value) > MAX_RATE or (value < 0 and key not in SIGNED):
        return f"outside 0 to {MAX_RATE:.0e}"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_fields(obj: Any, types: dict[str, str], where: str, required: tuple = ()) -> None:
    """Raise ArchscopeError (one line naming ``where`` and the field) when ``obj`` is not an
    object whose fields hold their type (numbers by default) or null, finite and in range."""
    if not isinstance(obj, dict):
        raise ArchscopeError(f"{where} is not an object; the file is damaged")
    for key in required:
        if obj.get(key) is None:
            raise ArchscopeError(f"{where} has no {key!r} ({types.get(key, _NUM)}); the file is damaged")
    for key, value in obj.items():
        if value is None:
            continue
        kind = types.get(key)
        if kind is not None and _type_error(value, kind):
            raise ArchscopeError(f"{where}: {key!r} is {_shown(value)}, not {kind} or null; "
                                 "the file is damaged")
        problem = _range_error(key, value)
        if problem:
            raise ArchscopeError(f"{where}: {key!r} is {_shown(value)}, {problem}; the file is damaged")


def check_record(rec: Any, where: str) -> None:
    """A record: typed fields (numbers where :data:`RECORD_TYPES` names no other type), ranges,
    ``model``/``status``/``batch_size`` present, and each ``per_layer`` row typed too. Unknown
    keys are allowed (a later archscope may add some within the same schema) but checked as
    numbers when they hold numbers."""
    from .results import RECORD_FIELDS

    if not isinstance(rec, dict):
        raise ArchscopeError(f"{where} is not an object; the file is damaged")
    known = {k: RECORD_TYPES.get(k, _NUM) for k in RECORD_FIELDS}
    check_fields(rec, known, where, REQUIRED_FIELDS)
    for i, row in enumerate(rec.get("per_layer") or []):
        check_fields(row, LAYER_TYPES, f"{where} per_layer row {i}", ("layer",))


def _read_text(path: str | os.PathLike, name: str) -> str:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ArchscopeError(f"cannot read bench results {name!r}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise ArchscopeError(f"{name!r} is {kind}, not a bench results file; give the .json file "
                             "that archscope bench wrote")
    if info.st_size > MAX_FILE_BYTES:
        raise ArchscopeError(f"{name!r} is {info.st_size / 2**20:,.0f} MiB, over the "
                             f"{MAX_FILE_BYTES // 2**20} MiB a bench results file may have; is it one?")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)  # a file that grew since stat() stops here
    except OSError as exc:
        raise ArchscopeError(f"cannot read bench results {name!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ArchscopeError(f"{name!r} is over the {MAX_FILE_BYTES // 2**20} MiB a bench results "
                             "file may have; is it one?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchscopeError(
            f"{name!r} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "is it a bench results file?"
        ) from None


def _no_constant(name: str):
    def refuse(token: str):
        raise ArchscopeError(f"{name!r} holds {token}, which no bench figure can be; the file is damaged")
    return refuse


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """One results document; a file that is not one raises ArchscopeError naming it."""
    from .results import SCHEMA

    name = str(path)
    text = _read_text(Path(path), name)
    try:
        doc = json.loads(text, parse_constant=_no_constant(name))
    except json.JSONDecodeError as exc:
        raise ArchscopeError(
            f"{name!r} is not valid JSON (line {exc.lineno}: {exc.msg}); is it a bench results file?"
        ) from None
    except RecursionError:
        raise ArchscopeError(f"{name!r} is nested too deeply to be a bench results file") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ArchscopeError(f"{name!r} has no \"schema\" key; it is not an archscope bench results file")
    if doc["schema"] != SCHEMA:
        raise ArchscopeError(f"{name!r} has schema {_shown(doc['schema'])}; this archscope reads {SCHEMA!r}")
    if not isinstance(doc.get("records"), list) or not isinstance(doc.get("env"), dict):
        raise ArchscopeError(f"{name!r} lacks a \"records\" list or an \"env\" object; the file is damaged")
    for key, kind, ok in (("settings", "an object", isinstance(doc.get("settings"), dict)),
                          ("interrupted", "true or false", isinstance(doc.get("interrupted"), bool)),
                          ("notes", "a list", isinstance(doc.get("notes"), list)),
                          ("roofs", "a list", isinstance(doc.get("roofs"), list))):
        if doc.get(key) is not None and not ok:
            raise ArchscopeError(f"{name!r}: {key!r} is not {kind}; the file is damaged")
    for i, rec in enumerate(doc["records"]):
        check_record(rec, f"{name!r} record {i}")
    for i, roof in enumerate(doc.get("roofs") or []):
        check_fields(roof, ROOF_TYPES, f"{name!r} roof {i}")
    return doc
