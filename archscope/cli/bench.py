"""``archscope bench``: time models on CPU or CUDA over a sweep of batch sizes, dtypes and variants."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .app import command, fail
from .common import FormatOpt, InputSizeOpt, KwargsOpt, parse_kwargs
from ..errors import ArchscopeError
from ..render import Format


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ArchscopeError(f"{what} {text!r} is not a comma-separated list of whole numbers, e.g. 1,8,64") from None
    if not values or any(v < 1 for v in values):
        raise ArchscopeError(f"{what} {text!r} needs whole numbers ≥ 1, e.g. 1,8,64")
    return values


def _iters(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ArchscopeError(f"--iters {text!r} must be a whole number ≥ 1 or 'auto'")
    return n


def _progress():
    """A rich progress bar on stderr, or None when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


@command("bench")
def bench_cmd(
    models: Annotated[List[str], typer.Argument(help="Zoo names (see `archscope list`).", show_default=False)],
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    batch_size: Annotated[Optional[str], typer.Option("--batch-size", "-b", help="Batch sizes, e.g. 1,8,64 (default: the batch of --input-size N,C,H,W, else 1).", show_default=False)] = None,
    dtype: Annotated[str, typer.Option("--dtype", help="Dtypes: fp32, bf16, fp16 (comma-separated).")] = "fp32",
    channels_last: Annotated[bool, typer.Option("--channels-last", help="Weights and input in channels_last (NHWC).")] = False,
    cuda_graphs: Annotated[bool, typer.Option("--cuda-graphs", help="Also time CUDA-graph replays of one captured forward.")] = False,
    compile_: Annotated[bool, typer.Option("--compile", help="Also time torch.compile (compile time reported apart).")] = False,
    compile_mode: Annotated[str, typer.Option("--compile-mode", help="default, reduce-overhead or max-autotune.")] = "default",
    mode: Annotated[str, typer.Option("--mode", help="infer (inference_mode) or train (forward+backward+SGD step).")] = "infer",
    warmup: Annotated[Optional[int], typer.Option("--warmup", help="Warm-up iterations, ≥ 0 (default: 10 on CUDA, 3 on CPU).", show_default=False)] = None,
    iters: Annotated[str, typer.Option("--iters", help="Timed iterations, or auto: until the median's 95% CI is within 1%, or --budget.")] = "auto",
    budget: Annotated[float, typer.Option("--budget", help="Seconds of timing per configuration with --iters auto (finite, > 0).")] = 2.0,
    threads: Annotated[Optional[int], typer.Option("--threads", help="torch.set_num_threads, ≥ 1 (default: every core this process may use; the number used is printed).", show_default=False)] = None,
    per_layer: Annotated[bool, typer.Option("--per-layer", help="Also time each leaf layer (forward hooks) beside its MACs (--mode infer only).")] = False,
    input_size: InputSizeOpt = None,
    kwargs: KwargsOpt = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Results JSON path (default: bench-<UTC time>.json in the current directory).", show_default=False)] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not write the results JSON.")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Latency, throughput and achieved TFLOP/s; eager beside CUDA graphs and torch.compile.

    Several values in one option sweep their product. Every model is loaded and checked before
    anything is timed. Every run writes its results as JSON (schema archscope.bench/1) to -o or
    bench-<UTC time>.json (never replacing an existing file: -2, -3 … are added), also after
    Ctrl-C (exit 130); the table goes to stdout. A configuration that fails (out of memory, a
    dtype the device cannot run, any other error) is recorded with its reason and the sweep goes
    on; errors are listed on stderr. Exit code 0 when at least one configuration was timed, 2
    when none could be (the results file is still written). Merge many files with
    archscope.load_results(paths).
    """
    from ..bench.report import record_label, render_results
    from ..bench.results import default_results_path, write_results
    from ..bench.options import parse_device, parse_dtype
    from ..bench.runner import bench
    from ..io import check_writable
    from .app import debugging

    dtypes = [parse_dtype(d) for d in dtype.split(",") if d.strip()]
    batches = None if batch_size is None else _int_list(batch_size, "--batch-size")
    n_iters = _iters(iters)
    device = parse_device(device)
    path = None if no_save else check_writable(output or default_results_path())
    progress = _progress()
    task = None

    def on_progress(done: int, total: int, label: str) -> None:
        nonlocal task
        if progress is None:
            return
        if task is None:
            task = progress.add_task(label, total=total)
        progress.update(task, completed=done, description=label)

    def on_error(record: dict, exc: BaseException) -> None:
        if debugging():  # --debug: the full traceback of each failed configuration, as it happens
            import traceback

            traceback.print_exception(exc, file=sys.stderr)

    if progress is not None:
        progress.start()
    try:
        results = bench(
            models, device=device, batch_sizes=batches, dtypes=dtypes, channels_last=channels_last,
            cuda_graphs=cuda_graphs, compile=compile_, compile_mode=compile_mode, mode=mode,
            warmup=warmup, iters=n_iters, budget_s=budget, threads=threads, per_layer=per_layer,
            input_size=input_size, kwargs=parse_kwargs(kwargs), on_progress=on_progress,
            on_error=on_error,
        )
    finally:
        if progress is not None:
            progress.stop()
    typer.echo(render_results(results, fmt), nl=False)
    if path is not None:
        path = write_results(path, results.document(), exclusive=output is None)
    saved = f"results in {path}" if path is not None else "results not saved (--no-save)"
    if results.interrupted:
        if path is not None:
            typer.echo(f"wrote {path}", err=True)
        typer.echo(f"error: interrupted after {len(results.records)} configurations"
                   + (f"; results so far in {path}" if path else ""), err=True)
        raise typer.Exit(130)
    records = results.records
    errors = [r for r in records if r["status"] == "error"]
    if records and not any(r["status"] in ("ok", "fallback") for r in records):
        counts = ", ".join(f"{sum(r['status'] == s for r in records)} {s}"
                           for s in dict.fromkeys(r["status"] for r in records))
        first = next((r for r in records if r["status"] == "error"), records[0])
        raise fail(f"no configuration could be timed ({counts}); first: {record_label(first)}: "
                   f"{first['reason']}; {saved}")
    if path is not None:
        typer.echo(f"wrote {path}", err=True)
    for r in errors:
        typer.echo(f"warning: {record_label(r)} failed: {r['reason']}", err=True)
    if errors:
        typer.echo(f"warning: {len(errors)} of {len(records)} configurations failed "
                   "(status error in the table and the results file)", err=True)
