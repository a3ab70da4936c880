"""The bench results file: a versioned JSON document, and merging many of them into one table.

Document (``"schema": "archscope.bench/1"``)::

    {"schema": "archscope.bench/1",
     "env": {archscope, torch, python, platform, cuda, cudnn, device, device_name, sm_count,
             cpu_model, cpu_count, threads, date (UTC, ISO 8601), host},
     "settings": {every option of the run},
     "interrupted": false,
     "notes": [...],
     "records": [one object per configuration, keys in RECORD_FIELDS]}

Units live in the key names: ``*_ms`` milliseconds, ``*_s`` seconds, ``*_bytes`` bytes,
``throughput_items_s`` samples per second, ``tflops`` 10¹² FLOP/s. ``status`` is ``ok``, ``oom``,
``skipped`` or ``error`` (then ``reason`` says why in one line and the figures are null), or
``fallback``: a ``--compile`` configuration that dynamo ran eagerly (no graph captured, or its
recompile limit hit); its figures are kept but are eager timings, and ``reason`` says so.

Additions within ``archscope.bench/1`` (each only adds a key or a value; every key kept its
meaning, so files written before them read as before, with the new keys null):
``status`` values ``error`` and ``fallback``; ``peak_tflops_datasheet`` and ``peak_source``
(``peak_tflops`` is still the peak that ``peak_share`` divides by, now measured on the device
where possible — see :mod:`archscope.bench.peak` — and no longer only on known GPUs);
``compile_graphs`` and ``compile_graph_breaks`` (dynamo's count for a compiled configuration).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path
from typing import Any, Iterable

from ..errors import ArchscopeError

SCHEMA = "archscope.bench/1"

# Every record carries every key (null where it does not apply), in this order.
RECORD_FIELDS = [
    "model", "device", "batch_size", "dtype", "channels_last", "graph", "compile", "mode",
    "threads", "input_shape", "status", "reason",
    "iters", "stopped", "median_ms", "mean_ms", "min_ms", "max_ms", "p5_ms", "p95_ms", "p99_ms",
    "std_ms", "cv", "ci_low_ms", "ci_high_ms", "ci_rel", "throughput_items_s",
    "macs", "flops", "flops_per_iter", "tflops", "tflops_from_macs", "peak_tflops",
    "peak_tflops_datasheet", "peak_source", "peak_share", "peak_mem_bytes", "compile_s",
    "compile_graphs", "compile_graph_breaks", "layers_sum_ms", "layers_pass_ms", "per_layer",
]

# What each field may hold in a file (None/null is always allowed except for REQUIRED_FIELDS).
# JSON has one number type; a whole number written as 3.0 is not accepted where an int belongs.
_STR, _INT, _NUM, _BOOL = "a string", "a whole number", "a number", "true or false"
FIELD_TYPES: dict[str, str] = {
    **dict.fromkeys(["model", "device", "dtype", "mode", "status", "reason", "stopped", "compile",
                     "peak_source"], _STR),
    **dict.fromkeys(["batch_size", "threads", "iters", "macs", "flops", "flops_per_iter",
                     "peak_mem_bytes", "compile_graphs", "compile_graph_breaks"], _INT),
    **dict.fromkeys(["channels_last", "graph"], _BOOL),
    "input_shape": "a list of whole numbers",
    "per_layer": "a list of objects",
}
REQUIRED_FIELDS = ("model", "status", "batch_size")


def new_record(**fields: Any) -> dict[str, Any]:
    """A record with every field present (None unless given); unknown keys are a bug."""
    unknown = set(fields) - set(RECORD_FIELDS)
    if unknown:
        raise KeyError(f"unknown bench record fields: {sorted(unknown)}")
    return {k: fields.get(k) for k in RECORD_FIELDS}


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str, threads: int | None) -> dict[str, Any]:
    """Versions, machine and time of this run (the device's name and SM count on CUDA)."""
    import torch

    from .. import __version__

    env: dict[str, Any] = {
        "archscope": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "device": device,
        "device_name": None,
        "sm_count": None,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
    }
    if device.startswith("cuda"):
        props = torch.cuda.get_device_properties(torch.device(device))
        env["device_name"] = props.name
        env["sm_count"] = props.multi_processor_count
        env["tf32_conv"] = bool(torch.backends.cudnn.allow_tf32)
        env["tf32_matmul"] = bool(torch.backends.cuda.matmul.allow_tf32)
    else:
        env["device_name"] = env["cpu_model"]
    return env


def results_document(records: list[dict], env: dict, settings: dict, *, interrupted: bool = False,
                     notes: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "env": env,
        "settings": settings,
        "interrupted": interrupted,
        "notes": list(notes),
        "records": records,
    }


def default_results_path(now: _dt.datetime | None = None) -> Path:
    """``bench-YYYYmmdd-HHMMSS.json`` in the current directory (UTC time).

    Two runs in the same second get the same name here; :func:`write_results` with
    ``exclusive=True`` then picks ``bench-…-2.json`` (``-3`` …) instead of overwriting.
    """
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return Path(f"bench-{now.strftime('%Y%m%d-%H%M%S')}.json")


def _numbered(path: Path, k: int) -> Path:
    return path if k == 1 else path.with_name(f"{path.stem}-{k}{path.suffix}")


def write_results(path: str | os.PathLike, document: dict, *, exclusive: bool = False) -> Path:
    """Write ``document`` as JSON to ``path`` atomically and return the path written.

    ``exclusive=True`` never replaces an existing file: when ``path`` exists (another run wrote
    it, perhaps a moment ago), ``stem-2.json``, ``stem-3.json`` … are tried. The whole document
    goes to a temporary file first and is then hard-linked to the first free name (the link
    fails, atomically, if the name was taken meanwhile), so no reader ever sees a partial file.
    """
    from ..io import check_writable, discard, write_atomic, write_failed, write_temporary
    from ..render import to_json

    if not exclusive:
        return write_atomic(path, to_json(document))
    target = check_writable(path)
    tmp = write_temporary(target, to_json(document))
    try:
        for k in range(1, 10_000):
            candidate = _numbered(target, k)
            try:
                os.link(tmp, candidate)
            except FileExistsError:
                continue
            except OSError:  # a file system without hard links: reserve the name, then replace
                try:
                    os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                except FileExistsError:
                    continue
                os.replace(tmp, candidate)
            return candidate
        raise ArchscopeError(f"no free file name like {str(target)!r}; give one with -o")
    except OSError as exc:
        raise write_failed(target, exc) from exc
    finally:
        discard(tmp)


def _type_error(value: Any, kind: str) -> bool:
    """True when ``value`` (not None) is not of ``kind`` (one of the FIELD_TYPES phrases)."""
    if kind == _STR:
        return not isinstance(value, str)
    if kind == _BOOL:
        return not isinstance(value, bool)
    if kind == _INT:
        return isinstance(value, bool) or not isinstance(value, int)
    if kind == _NUM:
        return isinstance(value, bool) or not isinstance(value, (int, float))
    if kind == FIELD_TYPES["input_shape"]:
        return not isinstance(value, list) or any(_type_error(v, _INT) for v in value)
    if kind == FIELD_TYPES["per_layer"]:
        return not isinstance(value, list) or any(not isinstance(v, dict) for v in value)
    raise AssertionError(kind)


def check_record(rec: Any, where: str) -> None:
    """Raise ArchscopeError (one line, naming ``where`` and the field) if ``rec`` is not a record.

    Every field holds its type or null; ``model``, ``status`` and ``batch_size`` must be given.
    Unknown keys are allowed (a later archscope may add some within the same schema).
    """
    if not isinstance(rec, dict):
        raise ArchscopeError(f"{where} is not an object; the file is damaged")
    for key in RECORD_FIELDS:
        value = rec.get(key)
        kind = FIELD_TYPES.get(key, _NUM)
        if value is None:
            if key in REQUIRED_FIELDS:
                raise ArchscopeError(f"{where} has no {key!r} ({kind}); the file is damaged")
            continue
        if _type_error(value, kind):
            shown = repr(value)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ArchscopeError(f"{where}: {key!r} is {shown}, not {kind} or null; the file is damaged")


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """One results document; a file that is not one raises ArchscopeError naming it.

    Checked: readable UTF-8 JSON, the schema, the document's parts and every record's field
    types, so a damaged file is one sentence here and not a TypeError deep inside a report.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ArchscopeError(f"cannot read bench results {name!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ArchscopeError(
            f"{name!r} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
            "is it a bench results file?"
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchscopeError(
            f"{name!r} is not valid JSON (line {exc.lineno}: {exc.msg}); is it a bench results file?"
        ) from None
    except RecursionError:
        raise ArchscopeError(f"{name!r} is nested too deeply to be a bench results file") from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ArchscopeError(f"{name!r} has no \"schema\" key; it is not an archscope bench results file")
    if doc["schema"] != SCHEMA:
        raise ArchscopeError(
            f"{name!r} has schema {doc['schema']!r}; this archscope reads {SCHEMA!r}"
        )
    if not isinstance(doc.get("records"), list) or not isinstance(doc.get("env"), dict):
        raise ArchscopeError(f"{name!r} lacks a \"records\" list or an \"env\" object; the file is damaged")
    for key, kind, ok in (("settings", "an object", isinstance(doc.get("settings"), dict)),
                          ("interrupted", "true or false", isinstance(doc.get("interrupted"), bool)),
                          ("notes", "a list", isinstance(doc.get("notes"), list))):
        if doc.get(key) is not None and not ok:
            raise ArchscopeError(f"{name!r}: {key!r} is not {kind}; the file is damaged")
    for i, rec in enumerate(doc["records"]):
        check_record(rec, f"{name!r} record {i}")
    return doc


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]):
    """Merge bench results files (from many runs and machines) into one DataFrame.

    One row per record, the record's fields first, then the run's environment as ``env_*``
    columns (``env_device_name``, ``env_torch``, ``env_date``, …), its settings as
    ``settings_*`` columns (``settings_iters``, ``settings_batch_sizes``, …), ``interrupted``
    (whether that run was stopped by Ctrl-C) and ``source`` (the file). ``per_layer`` stays a
    list of dicts per row. ``df.attrs["runs"]`` keeps each file's document apart from its
    records: ``{"source", "schema", "env", "settings", "interrupted", "notes"}``, in file order.
    """
    import pandas as pd

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = []
    runs = []
    for path in paths:
        doc = read_results(path)
        settings = doc.get("settings") or {}
        interrupted = bool(doc.get("interrupted", False))
        runs.append({"source": str(path), "schema": doc["schema"], "env": doc["env"],
                     "settings": settings, "interrupted": interrupted,
                     "notes": list(doc.get("notes") or [])})
        env = {f"env_{k}": v for k, v in doc["env"].items()}
        run = {**{f"settings_{k}": v for k, v in settings.items()}, "interrupted": interrupted}
        for rec in doc["records"]:
            rows.append({**{k: rec.get(k) for k in RECORD_FIELDS}, **env, **run, "source": str(path)})
    df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=RECORD_FIELDS + ["interrupted", "source"])
    df.attrs["runs"] = runs
    return df
