"""Parsing and checking the bench's options: dtypes, devices, threads, batch sizes, the sweep.

Each mistake is one :class:`ArchscopeError` sentence, raised before anything is built or timed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..dtypes import canonical, short
from ..errors import ArchscopeError

# The dtypes a model is timed in (archscope.dtypes names them; records use the short forms).
BENCH_DTYPES = ("float32", "bfloat16", "float16")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
MODES = ("infer", "train")


def bench_dtype(name: str) -> str:
    """A dtype to time in, by its short name (``"half"`` → ``"fp16"``), from
    :data:`BENCH_DTYPES`; any other name is one sentence (:func:`archscope.dtypes.canonical`)."""
    return short(canonical(name, BENCH_DTYPES))


def dtype_list(dtypes: Any) -> list[str]:
    """``"fp32,bf16"``, ``"half"`` or a list of names → short names (:func:`bench_dtype`)."""
    if isinstance(dtypes, str):
        dtypes = [d for d in dtypes.split(",") if d.strip()]
    return [bench_dtype(d) for d in dtypes]


def parse_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; CUDA asked for but absent, or no device N, is an error."""
    import torch

    from ..devices import check_device

    key = name.strip().lower()
    if key != "cpu" and not (key == "cuda" or (key.startswith("cuda:") and key[5:].isdigit())):
        raise ArchscopeError(f"unknown device {name!r}; choose from cpu, cuda (or cuda:N)")
    if key.startswith("cuda") and not torch.cuda.is_available():
        raise ArchscopeError(
            f"--device {key} needs CUDA, but torch {torch.__version__} sees no CUDA device; "
            "use --device cpu"
        )
    check_device(key)  # cuda:N beyond the devices present
    return key


def whole(value: Any, option: str, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ArchscopeError(f"{option} {value!r} must be a whole number ≥ {minimum}{hint}")
    return value


def batch_list(batch_sizes: Any) -> list[int | None]:
    """``None`` → ``[None]`` (the batch of the input size, else 1); an int or ints ≥ 1 as a list."""
    if batch_sizes is None:
        return [None]
    if isinstance(batch_sizes, str):
        batch_sizes = int_list(batch_sizes, "--batch-size")
    values = [batch_sizes] if isinstance(batch_sizes, int) else list(batch_sizes)
    if not values:
        raise ArchscopeError("--batch-size needs at least one whole number ≥ 1, e.g. 1,8,64")
    return [whole(b, "--batch-size", 1, ", e.g. 1,8,64") for b in values]


def int_list(text: str, what: str) -> list[int]:
    """``"1, 8,64"`` → ``[1, 8, 64]``: whole numbers ≥ 1, comma-separated."""
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ArchscopeError(f"{what} {text!r} is not a comma-separated list of whole numbers, "
                             "e.g. 1,8,64") from None
    if not values or any(v < 1 for v in values):
        raise ArchscopeError(f"{what} {text!r} needs whole numbers ≥ 1, e.g. 1,8,64")
    return values


def iters_option(iters: Any) -> int | None:
    """``--iters``: a whole number ≥ 1, or ``None``/``"auto"`` (until the CI is narrow)."""
    if iters is None or (isinstance(iters, str) and iters.strip().lower() == "auto"):
        return None
    if isinstance(iters, str):
        try:
            iters = int(iters)
        except ValueError:
            pass
    return whole(iters, "--iters", 1, " or 'auto'")


def threads_option(threads: Any) -> int:
    """``--threads``: a whole number from 1 to :func:`.machine.max_threads` (4 per usable core);
    ``None``: every usable core."""
    from .machine import max_threads, usable_cores

    cores = usable_cores()
    if threads is None:
        return cores
    whole(threads, "--threads", 1, f"; leave it out to use every core ({cores} here)")
    if threads > max_threads():
        raise ArchscopeError(
            f"--threads {threads} is more than {max_threads()} (4 per core, {cores} cores here); "
            f"more threads than that only contend, so use at most {cores}")
    return threads


def budget_option(budget_s: Any) -> float:
    if (isinstance(budget_s, bool) or not isinstance(budget_s, (int, float))
            or not math.isfinite(budget_s) or budget_s <= 0):
        raise ArchscopeError(f"--budget {budget_s!r} must be a finite number of seconds > 0, e.g. 2")
    return float(budget_s)


@dataclass
class Sweep:
    """The bench's options, checked: what to time and how (see :func:`archscope.timing.runner.bench`)."""

    batches: list
    dtypes: list[str]
    layouts: list[bool]
    device: str
    mode: str
    variants: list[str]
    compile_mode: str
    amp: bool
    warmup: int
    iters: int | None
    budget_s: float
    threads: int
    per_layer: bool
    roofs: bool

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")

    def precisions(self) -> list[tuple[str, bool]]:
        """``(dtype, amp)`` pairs: each dtype cast with ``.to(dtype)``, and with ``amp`` also
        each low-precision dtype under autocast (fp32 weights)."""
        out = []
        for d in self.dtypes:
            out.append((d, False))
            if self.amp and d != "fp32":
                out.append((d, True))
        return out


def check_sweep(*, batch_sizes: Any, dtypes: Any, channels_last: Any, device: str, mode: str,
                compile_mode: str, cuda_graphs: bool, compile: bool, amp: bool, warmup: Any,
                iters: Any, budget_s: Any, threads: Any, per_layer: bool, roofs: bool) -> Sweep:
    """Every option checked, in one sentence each, before anything is built or timed."""
    batches = batch_list(batch_sizes)
    dtypes = dtype_list(dtypes)
    if not dtypes:
        raise ArchscopeError(f"--dtype needs at least one of {', '.join(map(short, BENCH_DTYPES))}")
    layouts = [channels_last] if isinstance(channels_last, bool) else list(channels_last)
    if not layouts or not all(isinstance(v, bool) for v in layouts):
        raise ArchscopeError("channels_last must be True, False or a list of them")
    device = parse_device(device)
    if mode not in MODES:
        raise ArchscopeError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if compile_mode not in COMPILE_MODES:
        raise ArchscopeError(f"unknown compile mode {compile_mode!r}; choose from {', '.join(COMPILE_MODES)}")
    if cuda_graphs and not device.startswith("cuda"):
        raise ArchscopeError("--cuda-graphs needs --device cuda")
    if per_layer and mode == "train":
        raise ArchscopeError("--per-layer times inference forwards only; use it with --mode infer "
                             "(the default), or drop it for --mode train")
    if amp and all(d == "fp32" for d in dtypes):
        raise ArchscopeError("--amp autocasts to bf16 or fp16; add one with --dtype, e.g. "
                             "--dtype fp32,bf16 --amp")
    iters = iters_option(iters)
    if warmup is not None:
        whole(warmup, "--warmup", 0)
    cuda = device.startswith("cuda")
    return Sweep(batches, dtypes, layouts, device, mode,
                 ["eager"] + (["graph"] if cuda_graphs else []) + (["compile"] if compile else []),
                 compile_mode, bool(amp), (10 if cuda else 3) if warmup is None else warmup, iters,
                 budget_option(budget_s), threads_option(threads), bool(per_layer), bool(roofs))
