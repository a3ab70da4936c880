"""The sweep: every model × dtype × layout × batch size × variant, timed and recorded.

A *configuration* is one record. Variants of the same model/dtype/layout/batch are timed on the
same weights and input: ``eager`` always, then ``graph`` (a CUDA-graph replay of one captured
forward, ``--cuda-graphs``) and ``compile`` (``torch.compile``, ``--compile``), so their gaps to
eager are the cost of Python/launch overhead. Inference runs under ``torch.inference_mode()``;
training runs forward + backward + ``torch.optim.SGD`` step in the dtype asked for (no autocast).

Every model is loaded, traced and counted before anything is timed, so a bad name, spec or input
size fails in one sentence at once instead of after minutes of timings. A user's factory runs
once; the module it returned is the one counted and (copied per dtype and layout) the one timed.
Zoo networks are checked and counted on a meta-device twin and built for real, with the same
builder and options, when their turn comes (holding a whole zoo in memory up front would cost
gigabytes).

``--compile``: each configuration (dtype, layout, batch size) gets ``torch._dynamo.reset()`` and
a fresh ``torch.compile(model, mode=…, dynamic=False)``: no dynamic batch dimension from an
earlier batch size, and no compiled-code cache that would run into dynamo's recompile limit after
a few configurations. Dynamo's counters tell whether a graph was really captured; when it was
not, or the recompile limit was hit, the record says ``status="fallback"`` rather than passing
eager timings off as compiled.

Failures stay inside their configuration: out of memory → ``status="oom"``; a dtype the device
cannot run → ``status="skipped"``; any other exception (a model that cannot run this batch size
in training, a compiler failure) → ``status="error"`` with the exception in one line. Memory is
freed after each failure and the sweep goes on. Ctrl-C stops the sweep and returns what was
measured, with ``interrupted=True``.

On CUDA the whole sweep runs inside ``torch.cuda.device(device)``, so ``cuda:1`` gets its
streams, events, synchronizes and graphs on device 1, not on the current device 0.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import ArchscopeError
from .counts import Counts, model_counts
from .failures import failure, free_memory
from .measure import TRAIN_FLOPS_FACTOR, Config, measure
from .options import (  # noqa: F401  (parse_* and DTYPE_NAMES are this module's API too)
    COMPILE_MODES, DTYPE_NAMES, MODES, batch_list, parse_device, parse_dtype, whole,
)
from .peak import Peak, device_peak, math_mode
from .results import environment, results_document
from .timing import chunk_timer


def device_context(device: str):
    """``torch.cuda.device(device)`` on CUDA (current device for streams, events, synchronize,
    graphs and allocator statistics), nothing on the CPU."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.device(torch.device(device))
    return contextlib.nullcontext()


@dataclass
class BenchResults:
    """Records of one sweep, its environment and settings; ``interrupted`` after Ctrl-C."""

    records: list[dict]
    env: dict
    settings: dict
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict:
        return results_document(self.records, self.env, self.settings,
                                interrupted=self.interrupted, notes=self.notes)

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)


@dataclass
class _Prepared:
    """A model checked, traced and counted before the sweep: shapes and counts per batch size,
    and ``make()`` giving a fresh module to time (a copy of the counted one, or the zoo builder)."""

    target: Any
    shapes: dict[int, tuple]
    counts: dict[int, Counts]
    make: Callable[[], Any]


@dataclass
class _Run:
    """State shared by the whole sweep: progress, the measured peaks, the error hook."""

    device: str
    device_name: str | None
    total: int
    on_progress: Callable[[int, int, str], None] | None
    on_error: Callable[[dict, BaseException], None] | None
    notes: list[str]
    done: int = 0
    peaks: dict[str, Peak] = field(default_factory=dict)

    def progress(self, label: str) -> None:
        if self.on_progress:
            self.on_progress(self.done, self.total, label)
        self.done += 1

    def peak(self, dtype: str) -> Peak:
        """The device's peak in ``dtype``'s math mode, measured on first use and then reused."""
        mode = math_mode(self.device, dtype)
        if mode not in self.peaks:
            pk = device_peak(self.device, dtype, self.device_name, chunk_timer(self.device.split(":")[0]))
            self.peaks[mode] = pk
            shown = f"{pk.measured:.4g} TFLOP/s, {pk.source}" if pk.measured is not None else pk.source
            sheet = f"; datasheet {pk.datasheet:g} TFLOP/s" if pk.datasheet is not None else ""
            self.notes.append(f"peak {mode} on {self.device}: {shown}{sheet}")
        return self.peaks[mode]


def _prepare(spec: Any, device: str, input_size: Any, batches: list[int | None],
             kwargs: dict | None) -> _Prepared:
    """Load, trace and count one model (no timing); any mistake raises ArchscopeError now."""
    from ..analysis.trace import trace_forward
    from ..models import load_target, resolve_input_shape
    from ..specs import is_spec

    if isinstance(spec, str) and not is_spec(spec):  # a zoo name: a meta twin, built for real later
        target = load_target(spec, device="meta", kwargs=kwargs, init=False)

        def make():
            return load_target(spec, device=device, kwargs=kwargs).model
    else:  # a module, or a spec whose factory runs here, once
        target = load_target(spec, device="cpu", kwargs=kwargs)

        def make():
            return copy.deepcopy(target.model)
    shapes: dict[int, tuple] = {}
    for b in batches:
        shape = resolve_input_shape(target, input_size, b)
        shapes.setdefault(shape[0], shape)
    trace_forward(target.model, next(iter(shapes.values())), name=target.name)  # bad input → one line
    counts = {b: model_counts(target.model, s) for b, s in shapes.items()}
    return _Prepared(target, shapes, counts, make)


def bench(
    models: str | Sequence[Any],
    *,
    device: str = "cpu",
    batch_sizes: int | Sequence[int] | None = None,
    dtypes: str | Sequence[str] = ("fp32",),
    channels_last: bool | Sequence[bool] = False,
    cuda_graphs: bool = False,
    compile: bool = False,
    compile_mode: str = "default",
    mode: str = "infer",
    warmup: int | None = None,
    iters: int | None = None,
    budget_s: float = 2.0,
    threads: int | None = None,
    per_layer: bool = False,
    input_size: Any = None,
    kwargs: dict | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    on_error: Callable[[dict, BaseException], None] | None = None,
) -> BenchResults:
    """Time every configuration in the product of the options; see the module docstring.

    ``batch_sizes=None``: the batch inside ``input_size`` (``"8,3,32,32"``), else 1.
    ``iters=None`` is ``--iters auto`` (until the median's 95 % CI is within 1 %, or
    ``budget_s`` seconds per configuration). ``warmup=None``: 10 iterations on CUDA (cuDNN
    autotuning happens in the first ones), 3 on CPU. ``threads=None``: every core this process
    may use (``threads`` must otherwise be ≥ 1). ``on_error(record, exc)`` is called for each
    configuration recorded as ``error``, while ``exc``'s traceback is still at hand.
    Invalid options raise :class:`ArchscopeError` before anything is built or timed.
    """
    import torch

    models = [models] if isinstance(models, (str, torch.nn.Module)) else list(models)
    if not models:
        raise ArchscopeError("give at least one model, e.g. archscope bench lenet5")
    batches = batch_list(batch_sizes)
    dtypes = [parse_dtype(d) for d in ([dtypes] if isinstance(dtypes, str) else dtypes)]
    if not dtypes:
        raise ArchscopeError(f"--dtype needs at least one of {', '.join(DTYPE_NAMES)}")
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
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if iters is not None:
        whole(iters, "--iters", 1, " or auto")
    if warmup is not None:
        whole(warmup, "--warmup", 0)
    if threads is not None:
        whole(threads, "--threads", 1, f"; leave it out to use every core ({cores} here)")
    if (isinstance(budget_s, bool) or not isinstance(budget_s, (int, float))
            or not math.isfinite(budget_s) or budget_s <= 0):
        raise ArchscopeError(f"--budget {budget_s!r} must be a finite number of seconds > 0, e.g. 2")
    cuda = device.startswith("cuda")
    warmup = (10 if cuda else 3) if warmup is None else warmup
    variants = ["eager"] + (["graph"] if cuda_graphs else []) + (["compile"] if compile else [])
    n_threads = cores if threads is None else threads
    settings = dict(models=[m if isinstance(m, str) else type(m).__name__ for m in models],
                    device=device, batch_sizes=batch_sizes, dtypes=dtypes, channels_last=layouts,
                    cuda_graphs=cuda_graphs, compile=compile, compile_mode=compile_mode, mode=mode,
                    warmup=warmup, iters=iters if iters is not None else "auto", budget_s=budget_s,
                    threads=n_threads, per_layer=per_layer, input_size=input_size, kwargs=kwargs)
    results = BenchResults([], {}, settings, notes=[])
    saved = (torch.get_num_threads(), torch.backends.cudnn.benchmark)
    torch.set_num_threads(n_threads)
    torch.backends.cudnn.benchmark = True
    try:
        with device_context(device):
            results.env = environment(device, n_threads)
            # Everything that can fail on the user's input fails here, before any timing.
            prepared = [_prepare(spec, device, input_size, batches, kwargs) for spec in models]
            settings["batch_sizes"] = list(prepared[0].shapes)
            run = _Run(device, results.env.get("device_name"),
                       sum(len(p.shapes) for p in prepared) * len(dtypes) * len(layouts) * len(variants),
                       on_progress, on_error, results.notes)
            for prep in prepared:
                for dtype in dtypes:
                    for layout in layouts:
                        _sweep_model(results, run, prep, dtype, layout, mode, n_threads, variants,
                                     warmup=warmup, iters=iters, budget_s=budget_s,
                                     compile_mode=compile_mode, per_layer=per_layer)
                prep.make = prep.target = None  # this model's weights are no longer needed
            if on_progress:
                on_progress(run.done, run.total, "done")
    except KeyboardInterrupt:
        results.interrupted = True
    finally:
        torch.set_num_threads(saved[0])
        torch.backends.cudnn.benchmark = saved[1]
    if mode == "train":
        results.notes.append(f"train: forward + backward + SGD step; TFLOP/s use {TRAIN_FLOPS_FACTOR} × "
                             "forward FLOPs (approximation; auxiliary heads not counted)")
    return results


def _sweep_model(results: BenchResults, run: _Run, prep: _Prepared, dtype: str, layout: bool, mode: str,
                 n_threads: int, variants: list[str], **opts) -> None:
    import torch

    device = run.device
    cuda = device.startswith("cuda")
    torch_dtype = getattr(torch, DTYPE_NAMES[dtype])
    fmt = torch.channels_last if layout else torch.contiguous_format
    cm = opts["compile_mode"]
    model = run_model = x = None
    try:
        for batch, shape in prep.shapes.items():
            cfg = Config(prep.target.name, device, dtype, layout, batch, shape, mode, n_threads,
                          prep.counts[batch])
            for variant in variants:
                run.progress(cfg.label(variant))
                if cuda and dtype == "bf16" and not torch.cuda.is_bf16_supported():
                    results.records.append(cfg.record(variant, cm, status="skipped",
                                                      reason="this GPU cannot run bf16 (needs Ampere or newer)"))
                    continue
                if variant == "graph" and mode == "train":
                    results.records.append(cfg.record(variant, cm, status="skipped",
                                                      reason="CUDA graphs are timed in infer mode only"))
                    continue
                failed = None
                try:
                    if model is None:
                        model = prep.make().to(device=device, dtype=torch_dtype, memory_format=fmt)
                    run_model = model
                    if variant == "compile":
                        # Fresh per configuration: no dynamic batch dimension inferred from the
                        # previous batch size, no recompile limit reached across configurations.
                        torch._dynamo.reset()
                        run_model = torch.compile(model, mode=cm, dynamic=False)
                    x = torch.randn(shape, device=device, dtype=torch_dtype)
                    if len(shape) == 4:
                        x = x.contiguous(memory_format=fmt)
                    with torch.inference_mode(mode == "infer"):
                        figures = measure(cfg, variant, run_model, x, warmup=opts["warmup"],
                                           iters=opts["iters"], budget_s=opts["budget_s"],
                                           per_layer=opts["per_layer"], peak=lambda: run.peak(dtype))
                    results.records.append(cfg.record(variant, cm, **figures))
                except Exception as exc:  # noqa: BLE001 - every failure stays in its configuration
                    status, reason = failure(exc)
                    failed = cfg.record(variant, cm, status=status, reason=reason)
                    if status == "error" and run.on_error is not None:
                        run.on_error(failed, exc)
                if failed is not None:
                    # Clean up only now: inside the except block the traceback still held every
                    # frame of the failed step, and with them its activations and gradients.
                    results.records.append(failed)
                    run_model = x = None
                    if model is not None:
                        for p in model.parameters():
                            p.grad = None
                    free_memory(device)
    finally:
        model = run_model = x = None
        if "compile" in variants:
            torch._dynamo.reset()  # compiled code holds on to the model's tensors
        free_memory(device)
