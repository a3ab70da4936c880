"""The bench results file: a versioned JSON document, and merging many of them into one table.

Document (``"schema": "archscope.bench/1"``)::

    {"schema": "archscope.bench/1",
     "env": {archscope, torch, python, platform, cuda, cudnn, device, device_name, sm_count,
             cpu_model, cpu_count, threads, date (UTC, ISO 8601), host},
     "settings": {every option of the run},
     "interrupted": false,
     "notes": [...],
     "roofs": [one object per device and math mode],
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
where possible — see :mod:`archscope.timing.peak` — and no longer only on known GPUs);
``compile_graphs`` and ``compile_graph_breaks`` (dynamo's count for a compiled configuration).
Then, for timings one can trust on a busy machine: ``status`` value ``unstable`` (timed, but the
median's 95 % CI is wider than 5 %, or too few iterations for one; ``reason`` names the likely
cause); ``amp`` (autocast to ``dtype`` with fp32 weights); ``load_before``/``load_after`` (the
1-minute load average around the timed region); ``bytes_moved`` and ``intensity`` (FLOPs per
byte, from the counting core at the timed batch and dtype); ``bandwidth_gbs`` (the device's
measured memory bandwidth, 10⁹ B/s, next to ``peak_tflops``) and ``bound`` (``memory-bound`` or
``compute-bound`` against their ridge point); ``peak_check`` (why a ``peak_share`` over 1 is
suspect); ``per_layer_source``, ``unattributed_ms`` and ``trace_file`` (``--per-layer``); the
NVML fields ``gpu_sm_clock_mhz``, ``gpu_temp_c``, ``gpu_power_w``, ``gpu_throttle``,
``energy_j_per_item``, ``power_w`` and ``idle_power_w``; per-layer rows gained ``flops``,
``bytes_moved``, ``intensity``, ``gflop_s``, ``math`` and ``bound``. The document gained
``roofs``: one object per device and math mode (peak, its drift over the sweep, bandwidth,
ridge point; see :meth:`archscope.timing.roofs.Roofs.rows`).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
from pathlib import Path
from typing import Any, Iterable

from ..errors import ArchscopeError
from .validate import check_record, read_results  # noqa: F401  (this module's API too)

SCHEMA = "archscope.bench/1"

# Every record carries every key (null where it does not apply), in this order.
RECORD_FIELDS = [
    "model", "device", "batch_size", "dtype", "amp", "channels_last", "graph", "compile", "mode",
    "threads", "input_shape", "status", "reason",
    "iters", "stopped", "median_ms", "mean_ms", "min_ms", "max_ms", "p5_ms", "p95_ms", "p99_ms",
    "std_ms", "cv", "ci_low_ms", "ci_high_ms", "ci_rel", "load_before", "load_after",
    "throughput_items_s", "macs", "flops", "flops_per_iter", "bytes_moved", "intensity", "tflops",
    "tflops_from_macs", "peak_tflops", "peak_tflops_datasheet", "peak_source", "peak_share",
    "peak_check", "bandwidth_gbs", "bound", "peak_mem_bytes", "compile_s", "compile_graphs",
    "compile_graph_breaks", "gpu_sm_clock_mhz", "gpu_temp_c", "gpu_power_w", "gpu_throttle",
    "energy_j_per_item", "power_w", "idle_power_w",
    "layers_sum_ms", "layers_pass_ms", "unattributed_ms", "per_layer_source", "trace_file",
    "per_layer",
]
# Statuses whose record holds timings (``unstable``: timed, but not to be trusted).
TIMED = ("ok", "unstable", "fallback")


def _given(value: Any) -> bool:
    """Set in a record: not None, not NaN (a merged DataFrame's gap), not empty."""
    return value is not None and value == value and value != ""


def variant_label(graph: Any, compile_mode: Any) -> str:
    """``eager``, ``CUDA graph`` or ``compile (MODE)``: how a record's forward was run (its
    ``graph`` and ``compile`` fields). Every table, chart and comparison names variants so."""
    if _given(graph) and bool(graph):
        return "CUDA graph"
    if _given(compile_mode) and compile_mode:
        return f"compile ({compile_mode})"
    return "eager"


def precision_label(dtype: Any, amp: Any) -> str:
    """``bf16`` (the model cast) or ``bf16 amp`` (fp32 weights under autocast)."""
    return f"{dtype} amp" if amp is True else str(dtype)


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
    from .machine import cpu_governor, load_average

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
        "cpu_governor": cpu_governor(),
        "load_start": load_average(),
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
                     notes: Iterable[str] = (), roofs: Iterable[dict] = ()) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "env": env,
        "settings": settings,
        "interrupted": interrupted,
        "notes": list(notes),
        "roofs": list(roofs),
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


def place(tmp: str, target: Path) -> Path:
    """Give the complete temporary file ``tmp`` the first free name of ``target``, ``stem-2``,
    ``stem-3`` …: hard-linked, so the link fails (atomically) if the name was taken meanwhile
    and no reader ever sees a partial file. The temporary file is removed either way."""
    from ..io import discard, write_failed

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


def write_results(path: str | os.PathLike, document: dict, *, exclusive: bool = False) -> Path:
    """Write ``document`` as JSON to ``path`` atomically and return the path written.

    ``exclusive=True`` never replaces an existing file: when ``path`` exists (another run wrote
    it, perhaps a moment ago), ``stem-2.json``, ``stem-3.json`` … are tried (see :func:`place`).
    A device or FIFO (``-o /dev/stdout``, ``-o /dev/null``) is written through, not numbered.
    """
    from ..io import check_writable, write_atomic, write_temporary, writes_through
    from ..render import to_json

    if not exclusive or writes_through(path):
        return write_atomic(path, to_json(document))
    target = check_writable(path)
    return place(write_temporary(target, to_json(document)), target)


class TraceFiles:
    """Where ``--trace FILE`` puts each profiler trace: FILE, then FILE-2, FILE-3 … (one per
    ``--per-layer`` configuration; an existing file is never replaced)."""

    def __init__(self, path: str | os.PathLike) -> None:
        from ..io import check_writable, writes_through

        self.target = check_writable(path)
        self.stream = writes_through(self.target)  # a device or FIFO: the profiler writes to it
        self.written: list[Path] = []

    def temporary(self) -> str:
        """A fresh temporary path for the profiler to write: beside the target, or in the system's
        temporary folder for a device or FIFO (torch's exporter renames its file into place,
        which would replace the device node itself)."""
        import tempfile

        from ..io import write_temporary

        if self.stream:
            fd, tmp = tempfile.mkstemp(prefix="archscope-trace-", suffix=".json")
            os.close(fd)
            return tmp
        return write_temporary(self.target, "")

    def place(self, tmp: str) -> Path:
        from ..io import discard, write_atomic

        if self.stream:  # written through, as `>` would
            try:
                written = write_atomic(self.target, Path(tmp).read_bytes())
            finally:
                discard(tmp)
        else:
            written = place(tmp, self.target)
        self.written.append(written)
        return written


def load_results(paths: str | os.PathLike | Iterable[str | os.PathLike]):
    """Merge bench results files (from many runs and machines) into one DataFrame.

    One row per record, the record's fields first, then the run's environment as ``env_*``
    columns (``env_device_name``, ``env_torch``, ``env_date``, …), its settings as
    ``settings_*`` columns (``settings_iters``, ``settings_batch_sizes``, …), ``interrupted``
    (whether that run was stopped early) and ``source`` (the file). ``per_layer`` stays a
    list of dicts per row. ``df.attrs["runs"]`` keeps each file's document apart from its
    records: ``{"source", "schema", "env", "settings", "interrupted", "notes", "roofs"}``, in
    file order.
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
                     "notes": list(doc.get("notes") or []), "roofs": list(doc.get("roofs") or [])})
        env = {f"env_{k}": v for k, v in doc["env"].items()}
        run = {**{f"settings_{k}": v for k, v in settings.items()}, "interrupted": interrupted}
        for rec in doc["records"]:
            rows.append({**{k: rec.get(k) for k in RECORD_FIELDS}, **env, **run, "source": str(path)})
    df = pd.DataFrame(rows) if rows else pd.DataFrame(columns=RECORD_FIELDS + ["interrupted", "source"])
    df.attrs["runs"] = runs
    return df
