"""The sweep: every model × dtype × layout × batch size × variant, timed and recorded.

A *configuration* is one record. Variants of the same model/dtype/layout/batch are timed on the
same weights and input: ``eager`` always, then ``graph`` (a CUDA-graph replay of one captured
forward, ``--cuda-graphs``) and ``compile`` (``torch.compile``, ``--compile``), so their gaps to
eager are the cost of Python/launch overhead. Inference runs under ``torch.inference_mode()``;
training runs forward + backward + ``torch.optim.SGD`` step in the dtype asked for (no autocast).

Failures stay inside their configuration: out of memory → ``status="oom"`` (memory freed, the
sweep goes on); a dtype the device cannot run → ``status="skipped"`` with the reason. Ctrl-C
stops the sweep and returns what was measured, with ``interrupted=True``.
"""

from __future__ import annotations

import copy
import gc
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..errors import ArchscopeError
from . import stats
from .counts import Counts, model_counts
from .results import environment, new_record, results_document
from .train import HeadLoss, training_loss
from .timing import chunk_timer, synchronize, time_layers, time_until_stable

DTYPE_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
DTYPE_ALIASES = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16",
                 "half": "fp16"}
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")
MODES = ("infer", "train")
TRAIN_FLOPS_FACTOR = 3  # forward + backward ≈ 3 × forward (grad wrt inputs and wrt weights)


def parse_dtype(name: str) -> str:
    key = name.strip().lower()
    key = DTYPE_ALIASES.get(key, key)
    if key not in DTYPE_NAMES:
        raise ArchscopeError(f"unknown dtype {name!r}; choose from {', '.join(DTYPE_NAMES)}")
    return key


def parse_device(name: str) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; CUDA asked for but absent is an error (exit 2)."""
    import torch

    key = name.strip().lower()
    if key != "cpu" and not (key == "cuda" or (key.startswith("cuda:") and key[5:].isdigit())):
        raise ArchscopeError(f"unknown device {name!r}; choose from cpu, cuda (or cuda:N)")
    if key.startswith("cuda") and not torch.cuda.is_available():
        raise ArchscopeError(
            f"--device {key} needs CUDA, but torch {torch.__version__} sees no CUDA device; "
            "use --device cpu"
        )
    return key


def is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


def unsupported_reason(exc: BaseException) -> str | None:
    """The one-line reason when ``exc`` says the device cannot run this dtype/op, else None."""
    text = " ".join(str(exc).split())
    if isinstance(exc, NotImplementedError) or (
        isinstance(exc, RuntimeError)
        and any(s in text for s in ("not implemented for", "not supported", "Unsupported"))
    ):
        return text[:200]
    return None


def free_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


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
class _Config:
    name: str
    device: str
    dtype: str
    channels_last: bool
    batch_size: int
    shape: tuple
    mode: str
    threads: int
    counts: Counts

    def record(self, variant: str, compile_mode: str | None, **fields) -> dict:
        return new_record(
            model=self.name, device=self.device, batch_size=self.batch_size, dtype=self.dtype,
            channels_last=self.channels_last, graph=variant == "graph",
            compile=compile_mode if variant == "compile" else None, mode=self.mode,
            threads=self.threads, input_shape=list(self.shape), **fields,
        )


def _figures(cfg: _Config, times: list[float], stopped: str) -> dict:
    import torch

    s = stats.summarize(times)
    factor = TRAIN_FLOPS_FACTOR if cfg.mode == "train" else 1
    flops = cfg.counts.flops * factor if cfg.counts.flops is not None else None
    mac_flops = 2 * cfg.counts.macs * factor if cfg.counts.macs is not None else None
    out = dict(s, stopped=stopped, throughput_items_s=stats.throughput(cfg.batch_size, s["median_ms"]),
               macs=cfg.counts.macs, flops=cfg.counts.flops, flops_per_iter=flops,
               tflops=stats.tflops(flops, s["median_ms"]),
               tflops_from_macs=stats.tflops(mac_flops, s["median_ms"]))
    if cfg.device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(cfg.device))
        math_mode = cfg.dtype
        if cfg.dtype == "fp32":
            math_mode = "tf32" if torch.backends.cudnn.allow_tf32 else "fp32"
        peak = stats.peak_tflops(name, math_mode)
        out["peak_tflops"] = peak
        if peak and out["tflops_from_macs"] is not None:
            out["peak_share"] = out["tflops_from_macs"] / peak
        out["peak_mem_bytes"] = int(torch.cuda.max_memory_allocated(torch.device(cfg.device)))
    return out


def _per_layer(cfg: _Config, model, step, passes: int) -> dict:
    layers, pass_ms = time_layers(model, step, cfg.device.split(":")[0], passes)
    whole = sum(pass_ms) / len(pass_ms)
    total_macs = cfg.counts.macs or 0
    rows = []
    for path, info in layers.items():
        macs = cfg.counts.per_layer_macs.get(path)
        rows.append({"layer": path, "type": info["type"], "calls": info["calls"],
                     "time_ms": info["time_ms"], "time_share": info["time_ms"] / whole,
                     "macs": macs, "mac_share": macs / total_macs if macs is not None and total_macs else None})
    for path, macs in cfg.counts.per_layer_macs.items():  # counted layers that never ran alone
        if path not in layers:
            rows.append({"layer": path, "type": None, "calls": 0, "time_ms": None, "time_share": None,
                         "macs": macs, "mac_share": macs / total_macs if total_macs else None})
    return {"per_layer": rows, "layers_sum_ms": sum(i["time_ms"] for i in layers.values()),
            "layers_pass_ms": whole}


def _measure(cfg: _Config, variant: str, model, x, *, warmup: int, iters: int | None, budget_s: float,
             per_layer: bool) -> dict:
    """Time one variant of one configuration; returns the figures for its record."""
    import torch

    dev_type = cfg.device.split(":")[0]
    cuda = dev_type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(torch.device(cfg.device))
    extra: dict[str, Any] = {}
    if cfg.mode == "train":
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-4)
        head_loss = HeadLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            training_loss(model(x), head_loss).backward()
            opt.step()
    else:
        model.eval()

        def step():
            return model(x)

    if variant == "compile":
        t0 = time.perf_counter()
        step()  # the first call traces and generates code
        synchronize(dev_type)
        extra["compile_s"] = time.perf_counter() - t0
    timed = step
    t0 = time.perf_counter()
    for _ in range(warmup):
        step()
    synchronize(dev_type)
    # Size the first auto chunk from the warm-up so a slow configuration keeps to its budget.
    per_iter_s = (time.perf_counter() - t0) / warmup if warmup else 0.0
    first_chunk = max(1, min(10, int(budget_s / per_iter_s / 2))) if per_iter_s > 0 else 10
    if variant == "graph":
        # Warm-up above ran on the current stream; capture needs its own side-stream warm-up.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            model(x)  # x is the static input: replays read the same memory
        timed = graph.replay
        for _ in range(warmup):
            timed()
        synchronize(dev_type)
    times, stopped = time_until_stable(timed, chunk_timer(dev_type), iters=iters, budget_s=budget_s,
                                       first_chunk=first_chunk)
    out = _figures(cfg, times, stopped)
    out.update(extra)
    if per_layer and variant == "eager" and cfg.mode == "infer":
        out.update(_per_layer(cfg, model, step, passes=max(3, min(20, len(times)))))
    return out


def bench(
    models: str | Sequence[Any],
    *,
    device: str = "cpu",
    batch_sizes: int | Sequence[int] = (1,),
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
) -> BenchResults:
    """Time every configuration in the product of the options; see the module docstring.

    ``iters=None`` is ``--iters auto`` (until the median's 95 % CI is within 1 %, or
    ``budget_s`` seconds per configuration). ``warmup=None``: 10 iterations on CUDA (cuDNN
    autotuning happens in the first ones), 3 on CPU. ``threads=None``: every core this process
    may use. Models are built for real on ``device`` from the zoo (or taken as given).
    """
    import torch

    from ..analysis.trace import trace_forward
    from ..models import load_target, resolve_input_shape

    models = [models] if isinstance(models, (str, torch.nn.Module)) else list(models)
    batch_sizes = [batch_sizes] if isinstance(batch_sizes, int) else list(batch_sizes)
    dtypes = [parse_dtype(d) for d in ([dtypes] if isinstance(dtypes, str) else dtypes)]
    layouts = [channels_last] if isinstance(channels_last, bool) else list(channels_last)
    device = parse_device(device)
    if mode not in MODES:
        raise ArchscopeError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if compile_mode not in COMPILE_MODES:
        raise ArchscopeError(f"unknown compile mode {compile_mode!r}; choose from {', '.join(COMPILE_MODES)}")
    if cuda_graphs and not device.startswith("cuda"):
        raise ArchscopeError("--cuda-graphs needs --device cuda")
    if iters is not None and iters < 1 or budget_s <= 0:
        raise ArchscopeError("--iters must be ≥ 1 (or auto) and --budget > 0 seconds")
    cuda = device.startswith("cuda")
    warmup = (10 if cuda else 3) if warmup is None else warmup
    variants = ["eager"] + (["graph"] if cuda_graphs else []) + (["compile"] if compile else [])
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    n_threads = threads or cores
    settings = dict(models=[m if isinstance(m, str) else type(m).__name__ for m in models],
                    device=device, batch_sizes=batch_sizes, dtypes=dtypes, channels_last=layouts,
                    cuda_graphs=cuda_graphs, compile=compile, compile_mode=compile_mode, mode=mode,
                    warmup=warmup, iters=iters if iters is not None else "auto", budget_s=budget_s,
                    threads=n_threads, per_layer=per_layer, input_size=input_size, kwargs=kwargs)
    results = BenchResults([], {}, settings, notes=[])
    total = len(models) * len(dtypes) * len(layouts) * len(batch_sizes) * len(variants)
    done = 0
    saved = (torch.get_num_threads(), torch.backends.cudnn.benchmark)
    torch.set_num_threads(n_threads)
    torch.backends.cudnn.benchmark = True
    try:
        results.env = environment(device, n_threads)
        for spec in models:
            target = load_target(spec, device=device, kwargs=kwargs)
            shapes = {b: resolve_input_shape(target, input_size, b) for b in batch_sizes}
            trace_forward(target.model, shapes[batch_sizes[0]], name=target.name)  # bad input → one line
            counts = {b: model_counts(spec if isinstance(spec, str) else target.model, s, kwargs)
                      for b, s in shapes.items()}
            for note in {c.note for c in counts.values() if c.note}:
                if note not in results.notes:
                    results.notes.append(note)
            for dtype in dtypes:
                for layout in layouts:
                    done = _sweep_model(results, target, shapes, counts, device, dtype, layout, mode,
                                        n_threads, variants, done, total, on_progress,
                                        warmup=warmup, iters=iters, budget_s=budget_s,
                                        compile_mode=compile_mode, per_layer=per_layer)
    except KeyboardInterrupt:
        results.interrupted = True
    finally:
        torch.set_num_threads(saved[0])
        torch.backends.cudnn.benchmark = saved[1]
    if mode == "train":
        results.notes.append(f"train: forward + backward + SGD step; TFLOP/s use {TRAIN_FLOPS_FACTOR} × "
                             "forward FLOPs (approximation; auxiliary heads not counted)")
    return results


def _sweep_model(results, target, shapes, counts, device, dtype, layout, mode, n_threads, variants,
                 done, total, on_progress, **opts) -> int:
    import torch

    cuda = device.startswith("cuda")
    torch_dtype = getattr(torch, DTYPE_NAMES[dtype])
    fmt = torch.channels_last if layout else torch.contiguous_format
    model = compiled = None
    for batch, shape in shapes.items():
        cfg = _Config(target.name, device, dtype, layout, batch, shape, mode, n_threads, counts[batch])
        for variant in variants:
            label = f"{cfg.name} b{batch} {dtype}{' NHWC' if layout else ''} {mode} {variant}"
            if on_progress:
                on_progress(done, total, label)
            done += 1
            cm = opts["compile_mode"]
            if cuda and dtype == "bf16" and not torch.cuda.is_bf16_supported():
                results.records.append(cfg.record(variant, cm, status="skipped",
                                                  reason="this GPU cannot run bf16 (needs Ampere or newer)"))
                continue
            if variant == "graph" and mode == "train":
                results.records.append(cfg.record(variant, cm, status="skipped",
                                                  reason="CUDA graphs are timed in infer mode only"))
                continue
            x = None
            try:
                if model is None:
                    model = copy.deepcopy(target.model).to(
                        device=device, dtype=torch_dtype, memory_format=fmt)
                run_model = model
                if variant == "compile":
                    if compiled is None:
                        compiled = torch.compile(model, mode=cm)
                    run_model = compiled
                x = torch.randn(shape, device=device, dtype=torch_dtype)
                if len(shape) == 4:
                    x = x.contiguous(memory_format=fmt)
                with torch.inference_mode(mode == "infer"):
                    figures = _measure(cfg, variant, run_model, x, warmup=opts["warmup"],
                                       iters=opts["iters"], budget_s=opts["budget_s"],
                                       per_layer=opts["per_layer"])
                results.records.append(cfg.record(variant, cm, status="ok", **figures))
            except Exception as exc:  # noqa: BLE001 - OOM and unsupported dtypes stay in their record
                if is_oom(exc):
                    results.records.append(cfg.record(variant, cm, status="oom",
                                                      reason=" ".join(str(exc).split())[:200]))
                elif unsupported_reason(exc):
                    results.records.append(cfg.record(variant, cm, status="skipped",
                                                      reason=unsupported_reason(exc)))
                else:
                    raise
                del exc
                x = None
                if model is not None:
                    for p in model.parameters():
                        p.grad = None
                free_memory(device)
    del model, compiled
    free_memory(device)
    return done
