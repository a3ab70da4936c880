"""``archscope bench``, ``device`` and ``compare``: timing models, the machine's roofs, two runs."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .app import command, fail
from .common import (ColumnsOpt, FormatOpt, InputSizeOpt, KwargsOpt, OutFormatOpt, OutputOpt, QuietOpt,
                     WideOpt, emit, parse_kwargs, pick_format, table_view)
from ..errors import ArchscopeError
from ..render import Format


def _progress():
    """A rich progress bar on stderr, or None when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


@contextlib.contextmanager
def _progress_callback():
    """``on_progress(done, total, label)`` driving the bar (a no-op without a terminal)."""
    progress = _progress()
    task = None

    def on_progress(done: int, total: int, label: str) -> None:
        nonlocal task
        if progress is None:
            return
        if task is None:
            task = progress.add_task(label, total=total)
        progress.update(task, completed=done, description=label)

    if progress is not None:
        progress.start()
    try:
        yield on_progress
    finally:
        if progress is not None:
            progress.stop()


def _print(text: str, saved: Path | None) -> None:
    """The table on stdout; a closed stdout (``| head``, ``| true``) costs the table only."""
    try:
        typer.echo(text, nl=False)
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError) as exc:
        with contextlib.suppress(OSError, ValueError):  # no "Exception ignored" at exit
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if saved is None:
            raise fail(f"stdout is closed ({type(exc).__name__}), so the table was lost and nothing "
                       "was saved (--no-save); drop --no-save or give -o", 1) from None
        typer.echo(f"note: stdout is closed, so the table was not printed; the results are in {saved}",
                   err=True)


def _save(results, path: Path | None) -> Path | None:
    """Write the results document (never replacing a file) and say where it went."""
    from ..timing.results import write_results

    if path is None:
        return None
    written = write_results(path, results.document(), exclusive=True)
    extra = f" ({path} exists; bench never replaces a results file)" if written != path else ""
    typer.echo(f"wrote {written}{extra}", err=True)
    return written


def _finish(results, saved: Path | None) -> None:
    """Exit code and warnings after the table: interrupted, nothing timed, some errors."""
    from ..timing.report import record_label
    from ..timing.results import TIMED
    from ..timing.scoped import interrupt_code

    records = results.records
    where = f"results in {saved}" if saved is not None else "results not saved (--no-save)"
    if results.interrupted:
        typer.echo(f"error: interrupted after {len(records)} configuration"
                   f"{'' if len(records) == 1 else 's'}" + (f"; results so far in {saved}" if saved else ""),
                   err=True)
        raise typer.Exit(interrupt_code(results.stopped_by))
    if records and not any(r["status"] in TIMED for r in records):
        counts = ", ".join(f"{sum(r['status'] == s for r in records)} {s}"
                           for s in dict.fromkeys(r["status"] for r in records))
        first = next((r for r in records if r["status"] == "error"), records[0])
        raise fail(f"no configuration could be timed ({counts}); first: {record_label(first)}: "
                   f"{first['reason']}; {where}")
    errors = [r for r in records if r["status"] == "error"]
    for r in errors:
        typer.echo(f"warning: {record_label(r)} failed: {r['reason']}", err=True)
    if errors:
        typer.echo(f"warning: {len(errors)} of {len(records)} configurations failed "
                   "(status error in the table and the results file)", err=True)


ModelsArg = Annotated[List[str], typer.Argument(
    help="Models: zoo names (see `archscope list`) or specs: torchvision:NAME, timm:NAME, "
    "package.module:factory, path/to/file.py:factory.", show_default=False)]


@command("bench")
def bench_cmd(
    models: ModelsArg,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    batch_size: Annotated[Optional[str], typer.Option(
        "--batch-size", "-b", show_default=False,
        help="Batch sizes, e.g. 1,8,64 (default: the batch of --input-size N,C,H,W, else 1)."
    )] = None,
    dtype: Annotated[str, typer.Option(
        "--dtype",
        help="Dtypes: fp32, bf16, fp16 (comma-separated); the model is cast with .to(dtype)."
    )] = "fp32",
    amp: Annotated[bool, typer.Option(
        "--amp",
        help="Also time each bf16/fp16 dtype as autocast with fp32 weights."
    )] = False,
    channels_last: Annotated[bool, typer.Option(
        "--channels-last",
        help="Weights and input in channels_last (NHWC)."
    )] = False,
    cuda_graphs: Annotated[bool, typer.Option(
        "--cuda-graphs",
        help="Also time CUDA-graph replays of one captured forward."
    )] = False,
    compile_: Annotated[bool, typer.Option(
        "--compile",
        help="Also time torch.compile (compile time reported apart)."
    )] = False,
    compile_mode: Annotated[str, typer.Option(
        "--compile-mode",
        help="default, reduce-overhead or max-autotune."
    )] = "default",
    mode: Annotated[str, typer.Option(
        "--mode",
        help="infer (inference_mode) or train (forward+backward+SGD step)."
    )] = "infer",
    warmup: Annotated[Optional[int], typer.Option(
        "--warmup", show_default=False,
        help="Warm-up iterations, ≥ 0 (default: 10 on CUDA, 3 on CPU)."
    )] = None,
    iters: Annotated[str, typer.Option(
        "--iters",
        help="Timed iterations, or auto: at least 10 and 0.2 s, then until the median's 95% CI is within 1%,"
             " or --budget."
    )] = "auto",
    budget: Annotated[float, typer.Option(
        "--budget",
        help="Seconds of timing per configuration with --iters auto (finite, > 0)."
    )] = 2.0,
    threads: Annotated[Optional[int], typer.Option(
        "--threads", show_default=False,
        help="torch.set_num_threads, 1 to 4 per core (default: every core this process may use; the number "
             "used is printed)."
    )] = None,
    per_layer: Annotated[bool, typer.Option(
        "--per-layer",
        help="Also time each module's own operators with torch.profiler, beside its counts and roof (--mode "
             "infer only)."
    )] = False,
    trace: Annotated[Optional[Path], typer.Option(
        "--trace", show_default=False,
        help="With --per-layer: write the profiler trace (Chrome/Perfetto JSON) here; never replaced: -2, -3"
             " … are added."
    )] = None,
    no_roofs: Annotated[bool, typer.Option(
        "--no-roofs",
        help="Do not measure the device's peak and memory bandwidth (no peak_pct, bound or roofline; a few "
             "seconds faster)."
    )] = False,
    input_size: InputSizeOpt = None,
    kwargs: KwargsOpt = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", show_default=False,
        help="Results JSON path (default: bench-<UTC time>.json in the current directory); never replaced: "
             "-2, -3 … are added."
    )] = None,
    no_save: Annotated[bool, typer.Option("--no-save", help="Do not write the results JSON.")] = False,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Latency, throughput and achieved FLOP/s; eager beside CUDA graphs and torch.compile.

    Several values in one option sweep their product. Every model is loaded and checked before
    anything is timed. A timing whose median's 95% CI is wider than 5% is marked unstable, with
    the likely cause. Every run writes its results as JSON (schema archscope.bench/1) to -o or
    bench-<UTC time>.json, before printing the table, and never replaces an existing file (-2,
    -3 … are added); also after Ctrl-C (exit 130), SIGTERM (143) or SIGHUP (129). A
    configuration that fails (out of memory, a dtype the device cannot run, any other error) is
    recorded with its reason and the sweep goes on; errors are listed on stderr. Exit code 0
    when at least one configuration was timed, 2 when none could be (the results file is still
    written). Compare two runs with `archscope compare`.
    """
    from ..timing.report import CONFIG_COLUMNS, render_results
    from ..terminal import choose_columns
    from ..timing.results import TraceFiles, default_results_path
    from ..timing.runner import bench
    from ..timing.scoped import signals_as_interrupts
    from ..io import check_writable
    from .app import debugging

    # The runner checks every option (one sentence each) before anything is built or timed.
    view = table_view(wide, quiet, columns)
    choose_columns(dict.fromkeys(CONFIG_COLUMNS, []), view.columns)  # a typo fails now, not after
    if trace is not None and not per_layer:
        raise ArchscopeError("--trace writes the profiler trace of --per-layer; add --per-layer")
    traces = TraceFiles(trace) if trace is not None else None
    path = None if no_save else check_writable(output or default_results_path())

    def on_error(record: dict, exc: BaseException) -> None:
        if debugging():  # --debug: the full traceback of each failed configuration, as it happens
            import traceback

            traceback.print_exception(exc, file=sys.stderr)

    with _progress_callback() as on_progress, signals_as_interrupts():
        results = bench(
            models, device=device, batch_sizes=batch_size, dtypes=dtype, channels_last=channels_last,
            cuda_graphs=cuda_graphs, compile=compile_, compile_mode=compile_mode, mode=mode,
            amp=amp, warmup=warmup, iters=iters, budget_s=budget, threads=threads,
            per_layer=per_layer, roofs=not no_roofs, trace=traces, input_size=input_size,
            kwargs=parse_kwargs(kwargs), on_progress=on_progress, on_error=on_error,
        )
    saved = _save(results, path)  # first: a closed stdout must not cost the run
    _print(render_results(results, fmt, view), saved)
    _finish(results, saved)


@command("device")
def device_cmd(
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    dtype: Annotated[str, typer.Option(
        "--dtype",
        help="Dtypes whose math modes to measure (comma-separated; fp32 on CUDA: strict fp32 and TF32)."
    )] = "fp32",
    threads: Annotated[Optional[int], typer.Option(
        "--threads", show_default=False,
        help="Threads to measure with (default: every core this process may use)."
    )] = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The machine's measured roofs: matmul peak per math mode, memory bandwidth, ridge point.

    The peak is the best warm median rate of a dense matmul; the bandwidth the better of a copy
    and a triad over a buffer 4 × the last-level cache (at least 1 GiB on a GPU). Work below the
    ridge point (FLOPs per byte = peak / bandwidth) is memory-bound, above it compute-bound.
    Takes a few seconds.
    """
    from ..timing.report import roof_frame
    from ..timing.roofs import device_roofs
    from ..render import render_frame, to_json

    roofs, env = device_roofs(device, dtype, threads)
    fmt = pick_format(fmt, output)
    if fmt is Format.json:
        text = to_json({"schema": "archscope.device/1", "env": env, "roofs": roofs.rows()})
    else:
        frame, notes = roof_frame(roofs.rows(), text=fmt in (Format.table, Format.markdown))
        n = env.get("threads")
        text = render_frame(frame, fmt, title=f"archscope device · {env.get('device')} · "
                            f"{env.get('device_name')} · {n} thread{'' if n == 1 else 's'}",
                            notes=notes, view=table_view(wide, quiet, columns), kind="device")
    emit(text, output)


@command("compare")
def compare_cmd(
    base: Annotated[Path, typer.Argument(help="The earlier bench results (JSON).", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The later bench results (JSON).", show_default=False)],
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Two bench runs side by side: speedup per matching configuration and whether it is real.

    faster or slower when the two medians' 95% CIs do not overlap, no change when they do; rows
    present in only one file are listed as such.
    """
    from ..timing.compare import compare_results
    from ..render import render_frame

    frame, notes = compare_results(base, new)
    emit(render_frame(frame, pick_format(fmt, output), title=f"archscope compare · {base} → {new}",
                      notes=notes, view=table_view(wide, quiet, columns), kind="compare"), output)
