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
``throughput_items_s`` samples per second, ``tflops`` 10¹² FLOP/s. ``status`` is ``ok``, ``oom``
or ``skipped`` (then ``reason`` says why and the figures are null).
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
    "macs", "flops", "flops_per_iter", "tflops", "tflops_from_macs", "peak_tflops", "peak_share",
    "peak_mem_bytes", "compile_s", "layers_sum_ms", "layers_pass_ms", "per_layer",
]


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
    """``bench-YYYYmmdd-HHMMSS.json`` in the current directory (UTC time)."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return Path(f"bench-{now.strftime('%Y%m%d-%H%M%S')}.json")


def write_results(path: str | os.PathLike, document: dict) -> Path:
    from ..io import write_atomic
    from ..render import to_json

    return write_atomic(path, to_json(document))


def read_results(path: str | os.PathLike) -> dict[str, Any]:
    """One results document; a file that is not one raises ArchscopeError naming it."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ArchscopeError(f"cannot read bench results {name!r}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArchscopeError(
            f"{name!r} is not valid JSON (line {exc.lineno}: {exc.msg}); is it a bench results file?"
        ) from None
    if not isinstance(doc, dict) or "schema" not in doc:
        raise ArchscopeError(f"{name!r} has no \"schema\" key; it is not an archscope bench results file")
    if doc["schema"] != SCHEMA:
        raise ArchscopeError(
            f"{name!r} has schema {doc['schema']!r}; this archscope reads {SCHEMA!r}"
        )
    if not isinstance(doc.get("records"), list) or not isinstance(doc.get("env"), dict):
        raise ArchscopeError(f"{name!r} lacks a \"records\" list or an \"env\" object; the file is damaged")
    return doc


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]):
    """Merge bench results files (from many runs and machines) into one DataFrame.

    One row per record, the record's fields first, then the run's environment as ``env_*``
    columns (``env_device_name``, ``env_torch``, ``env_date``, …) and ``source`` (the file).
    ``per_layer`` stays a list of dicts per row.
    """
    import pandas as pd

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows = []
    for path in paths:
        doc = read_results(path)
        env = {f"env_{k}": v for k, v in doc["env"].items()}
        for rec in doc["records"]:
            if not isinstance(rec, dict):
                raise ArchscopeError(f"{str(path)!r} has a record that is not an object; the file is damaged")
            rows.append({**{k: rec.get(k) for k in RECORD_FIELDS}, **env, "source": str(path)})
    if not rows:
        return pd.DataFrame(columns=RECORD_FIELDS + ["source"])
    return pd.DataFrame(rows)
