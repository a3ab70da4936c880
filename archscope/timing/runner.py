"""The sweep: every model × dtype (× autocast) × layout × batch size × variant, timed and recorded.

A *configuration* is one record. Variants of the same model/dtype/layout/batch are timed on the
same weights and input: ``eager`` always, then ``graph`` (a CUDA-graph replay of one captured
forward, ``--cuda-graphs``) and ``compile`` (``torch.compile``, ``--compile``), so their gaps to
eager are the cost of Python/launch overhead. Inference runs under ``torch.inference_mode()``;
training runs forward + backward + ``torch.optim.SGD`` step. Precision: the model cast with
``.to(dtype)``, and with ``--amp`` also fp32 weights under ``torch.autocast`` to each of bf16/fp16.

Every model is loaded, traced and counted before anything is timed, so a bad name, spec or input
size fails in one sentence at once instead of after minutes of timings. A user's factory runs
once; the module it returned is the one counted and (copied per dtype and layout) the one timed.
Zoo networks are checked and counted on a meta-device twin and built for real, with the same
builder and options, when their turn comes (holding a whole zoo in memory up front would cost
gigabytes).

Trust: each timing passes the noise gate (:mod:`.gate`; ``unstable`` otherwise, with the likely
cause). The device's roofs (matmul peak per math mode, memory bandwidth; :mod:`.roofs`) are
measured warm after the first configuration's warm-up, at the thread count being benched, and
the peaks again at the end of the sweep, which reports a drift over 5 %.

``--compile``: each configuration (dtype, layout, batch size) gets ``torch.compiler.reset()`` and
a fresh ``torch.compile(model, mode=…, dynamic=False)``: no dynamic batch dimension from an
earlier batch size, and no compiled-code cache that would run into dynamo's recompile limit after
a few configurations. Dynamo's counters tell whether a graph was really captured; when it was
not, or the recompile limit was hit, the record says ``status="fallback"`` rather than passing
eager timings off as compiled.

Failures stay inside their configuration: out of memory → ``status="oom"``; a dtype the device
cannot run → ``status="skipped"``; any other exception (a model that cannot run this batch size
in training, a compiler failure) → ``status="error"`` with the exception in one line. Memory is
freed after each failure and the sweep goes on. Ctrl-C (or any ``KeyboardInterrupt``, such as
the CLI's SIGTERM/SIGHUP handler raises) stops the sweep and returns what was measured, with
``interrupted=True``.

Global state is scoped (:mod:`.scoped`): thread count and ``cudnn.benchmark`` are set for the
sweep and restored afterwards. On CUDA the whole sweep runs inside ``torch.cuda.device(device)``,
so ``cuda:1`` gets its streams, events, synchronizes and graphs on device 1.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..devices import parse_dtype
from ..errors import ArchscopeError
from .counts import Counts, model_counts
from .failures import failure, free_memory
from .layer_rows import conv_macs
from .machine import usable_cores
from .configuration import Config, Context, time_config
from .options import (  # noqa: F401  (bench_dtype and parse_device are this module's API too)
    COMPILE_MODES, MODES, Sweep, bench_dtype, check_sweep, parse_device,
)
from .results import environment, results_document
from .roofs import Roofs
from .scoped import cudnn_benchmark, device_context, torch_threads
from .clock import chunk_timer


def bf16_native(device: str) -> bool:
    """Whether the GPU runs bf16 in hardware (Ampere or newer), not emulated in fp32."""
    import torch

    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # a torch before the including_emulation argument
        return torch.cuda.get_device_capability(torch.device(device))[0] >= 8


@dataclass
class BenchResults:
    """Records of one sweep, its environment, settings and roofs; ``interrupted`` after Ctrl-C,
    SIGTERM or SIGHUP (``stopped_by``: the KeyboardInterrupt that stopped it)."""

    records: list[dict]
    env: dict
    settings: dict
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)
    roofs: list[dict] = field(default_factory=list)
    stopped_by: BaseException | None = None

    def document(self) -> dict:
        return results_document(self.records, self.env, self.settings,
                                interrupted=self.interrupted, notes=self.notes, roofs=self.roofs)

    def frame(self):
        import pandas as pd

        return pd.DataFrame(self.records)


@dataclass
class _Prepared:
    """A model checked, traced and counted before the sweep: shapes per batch size, counts per
    (batch size, dtype), and ``make()`` giving a fresh module to time (a copy of the counted one,
    or the zoo builder)."""

    target: Any
    shapes: dict[int, tuple]
    counts: dict[tuple[int, str], Counts]
    conv_macs: dict[int, int]
    make: Callable[[], Any]


def _prepare(spec: Any, device: str, input_size: Any, batches: list[int | None],
             kwargs: dict | None, dtypes: list[str], mode: str = "infer") -> _Prepared:
    """Load, trace and count one model (no timing); any mistake raises ArchscopeError now."""
    from ..analysis.record import record_target
    from ..inputs import single_input
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
    # a bad input is one sentence naming the layer, before anything is timed
    record_target(target, single_input(next(iter(shapes.values()))))
    counts = {(b, d): model_counts(target.model, s, None, d, mode)
              for b, s in shapes.items() for d in dtypes}
    convs = {b: conv_macs(target.model, counts[b, dtypes[0]]) for b in shapes}
    return _Prepared(target, shapes, counts, convs, make)


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
    amp: bool = False,
    warmup: int | None = None,
    iters: int | None = None,
    budget_s: float = 2.0,
    threads: int | None = None,
    per_layer: bool = False,
    roofs: bool = True,
    trace: Any = None,
    input_size: Any = None,
    kwargs: dict | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    on_error: Callable[[dict, BaseException], None] | None = None,
) -> BenchResults:
    """Time every configuration in the product of the options; see the module docstring.

    ``batch_sizes=None``: the batch inside ``input_size`` (``"8,3,32,32"``), else 1.
    ``iters=None`` is ``--iters auto`` (at least 10 iterations and 0.2 s, then until the median's
    95 % CI is within 1 %, or ``budget_s`` seconds per configuration). ``warmup=None``: 10
    iterations on CUDA (cuDNN autotuning happens in the first ones), 3 on CPU. ``threads=None``:
    every core this process may use (at most 4 per core otherwise). ``roofs=False`` skips
    measuring the device's peak and bandwidth (no ``peak_share``, ``bound`` or roofline).
    ``trace``: a :class:`.results.TraceFiles` for ``--per-layer`` profiler traces.
    ``on_error(record, exc)`` is called for each configuration recorded as ``error``, while
    ``exc``'s traceback is still at hand. Invalid options raise :class:`ArchscopeError` before
    anything is built or timed.
    """
    import torch

    models = [models] if isinstance(models, (str, torch.nn.Module)) else list(models)
    if not models:
        raise ArchscopeError("give at least one model, e.g. archscope bench lenet5")
    sw = check_sweep(batch_sizes=batch_sizes, dtypes=dtypes, channels_last=channels_last,
                     device=device, mode=mode, compile_mode=compile_mode, cuda_graphs=cuda_graphs,
                     compile=compile, amp=amp, warmup=warmup, iters=iters, budget_s=budget_s,
                     threads=threads, per_layer=per_layer, roofs=roofs)
    settings = dict(models=[m if isinstance(m, str) else type(m).__name__ for m in models],
                    device=sw.device, batch_sizes=batch_sizes, dtypes=sw.dtypes, amp=sw.amp,
                    channels_last=sw.layouts, cuda_graphs=cuda_graphs, compile=compile,
                    compile_mode=compile_mode, mode=mode, warmup=sw.warmup,
                    iters=sw.iters if sw.iters is not None else "auto", budget_s=sw.budget_s,
                    threads=sw.threads, per_layer=per_layer, roofs=sw.roofs,
                    input_size=input_size, kwargs=kwargs)
    results = BenchResults([], {}, settings)
    ctx = Context(sw.warmup, sw.iters, sw.budget_s, usable_cores(), sw.per_layer, trace=trace,
                  notes=results.notes)
    try:
        with torch_threads(sw.threads), cudnn_benchmark(True), device_context(sw.device):
            results.env = environment(sw.device, sw.threads)
            # Everything that can fail on the user's input fails here, before any timing.
            prepared = [_prepare(spec, sw.device, input_size, sw.batches, kwargs, sw.dtypes,
                                 mode) for spec in models]
            settings["batch_sizes"] = list(prepared[0].shapes)
            _instruments(ctx, sw, results.env)
            _sweep(results, ctx, sw, prepared, on_progress, on_error)
    except KeyboardInterrupt as exc:
        results.interrupted, results.stopped_by = True, exc
    finally:
        if ctx.gpu is not None:
            with contextlib.suppress(Exception):
                ctx.gpu.nvml.nvmlShutdown()
    if ctx.roofs is not None:
        results.roofs = ctx.roofs.rows()
    if mode == "train":
        results.notes.append("train: forward + backward + SGD step timed; TFLOP/s from the "
                             "counted forward and backward ops (archscope flops --mode train, "
                             "auxiliary heads included; the loss and the update not counted)")
    return results


def _sweep(results: BenchResults, ctx: Context, sw: Sweep, prepared: list[_Prepared],
           on_progress, on_error) -> None:
    """Every model × precision × layout, then the peaks again (their drift over the sweep)."""
    total = sum(len(p.shapes) for p in prepared) * len(sw.precisions()) * len(sw.layouts) \
        * len(sw.variants)
    done = 0
    for prep in prepared:
        for dtype, amp in sw.precisions():
            for layout in sw.layouts:
                done = _sweep_model(results, ctx, sw, prep, dtype, amp, layout, done, total,
                                    on_progress, on_error)
        prep.make = prep.target = None  # this model's weights are no longer needed
    if ctx.roofs is not None:
        results.notes.extend(ctx.roofs.remeasure())
    if on_progress:
        on_progress(done, total, "done")


def _instruments(ctx: Context, sw: Sweep, env: dict) -> None:
    """The roofs to measure (warm, on first use) and the GPU's NVML handle, or why not."""
    from .nvml import open_gpu

    if sw.roofs:
        ctx.roofs = Roofs(sw.device, env.get("device_name"), chunk_timer(sw.device.split(":")[0]),
                          sw.threads)
    ctx.gpu, why = open_gpu(sw.device)
    if why:
        ctx.note_once(why)


class _Model:
    """One model in one precision and layout: built on first use, shared by its batch sizes and
    variants, and dropped (with dynamo's compiled code) when they are done."""

    def __init__(self, prep: _Prepared, sw: Sweep, dtype: str, amp: bool, layout: bool) -> None:
        import torch

        self.prep, self.sw = prep, sw
        self.weights = torch.float32 if amp else parse_dtype(dtype)
        self.fmt = torch.channels_last if layout else torch.contiguous_format
        self.model = None

    def inputs(self, shape: tuple, variant: str) -> tuple[Any, Any]:
        """``(module to run, input)``; ``compile``: a fresh ``torch.compile(dynamic=False)``, so no
        dynamic batch dimension comes from the previous batch size and no recompile limit is
        reached across configurations."""
        import torch

        if self.model is None:
            self.model = self.prep.make().to(device=self.sw.device, dtype=self.weights,
                                             memory_format=self.fmt)
        run = self.model
        if variant == "compile":
            torch.compiler.reset()
            run = torch.compile(self.model, mode=self.sw.compile_mode, dynamic=False)
        x = torch.randn(shape, device=self.sw.device, dtype=self.weights)
        return run, x.contiguous(memory_format=self.fmt) if len(shape) == 4 else x

    def after_failure(self) -> None:
        if self.model is not None:
            for p in self.model.parameters():
                p.grad = None
        free_memory(self.sw.device)

    def release(self) -> None:
        import torch

        self.model = None
        if "compile" in self.sw.variants:
            torch.compiler.reset()  # compiled code holds on to the model's tensors
        free_memory(self.sw.device)


def _skip_reason(sw: Sweep, dtype: str, variant: str) -> str | None:
    if sw.cuda and dtype == "bf16" and not bf16_native(sw.device):
        return "this GPU has no native bf16 (needs Ampere or newer; emulation is not timed)"
    if variant == "graph" and sw.mode == "train":
        return "CUDA graphs are timed in infer mode only"
    return None


def _configuration(cfg: Config, variant: str, held: _Model, ctx: Context, sw: Sweep,
                   on_error) -> dict:
    """The record of one configuration: timed, skipped, or failed with its reason."""
    import torch

    skip = _skip_reason(sw, cfg.dtype, variant)
    if skip:
        return cfg.record(variant, sw.compile_mode, status="skipped", reason=skip)
    failed = None
    try:
        run, x = held.inputs(cfg.shape, variant)
        with torch.inference_mode(sw.mode == "infer"):
            return cfg.record(variant, sw.compile_mode, **time_config(cfg, variant, run, x, ctx))
    except Exception as exc:  # noqa: BLE001 - every failure stays in its configuration
        status, reason = failure(exc)
        failed = cfg.record(variant, sw.compile_mode, status=status, reason=reason)
        if status == "error" and on_error is not None:
            on_error(failed, exc)
    # Clean up only now: inside the except block the traceback still held every frame of the
    # failed step, and with them its activations and gradients.
    run = x = None  # noqa: F841
    held.after_failure()
    return failed


def _sweep_model(results: BenchResults, ctx: Context, sw: Sweep, prep: _Prepared, dtype: str,
                 amp: bool, layout: bool, done: int, total: int, on_progress, on_error) -> int:
    """Time every batch size and variant of one model in one precision and layout; returns the
    number of configurations done so far."""
    held = _Model(prep, sw, dtype, amp, layout)
    try:
        for batch, shape in prep.shapes.items():
            cfg = Config(prep.target.name, sw.device, dtype, layout, batch, shape, sw.mode,
                         sw.threads, prep.counts[batch, dtype], amp, prep.conv_macs[batch])
            for variant in sw.variants:
                if on_progress:
                    on_progress(done, total, cfg.label(variant))
                done += 1
                results.records.append(_configuration(cfg, variant, held, ctx, sw, on_error))
    finally:
        held.release()
    return done
