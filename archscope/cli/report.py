"""``archscope report``: one self-contained interactive HTML page for one or more models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .app import command
from .common import InputSizeOpt, KwargsOpt, parse_kwargs
from .counting import DEFAULT, EngineOpt


@command("report")
def report_cmd(
    models: Annotated[List[str], typer.Argument(
        help="Zoo names (see `archscope list`) or specs such as path/to/file.py:factory.",
        show_default=False)],
    bench: Annotated[
        Optional[List[Path]],
        typer.Option("--bench", help="Timing results written by `archscope bench` (repeatable).",
                     show_default=False),
    ] = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="HTML file to write. Default: reports/<models>.html "
                     "(reports/ is created).", show_default=False),
    ] = None,
    title: Annotated[Optional[str], typer.Option("--title", help="Page title.",
                                                 show_default=False)] = None,
    input_size: InputSizeOpt = None,
    engine: EngineOpt = DEFAULT,
    kwargs: KwargsOpt = None,
    diff: Annotated[bool, typer.Option(
        "--diff", help="With two models: a Differences section, the second against the first "
        "(as `archscope diff A B`).")] = False,
    train: Annotated[bool, typer.Option(
        "--train", help="Add a Training section: one training step per model, its memory "
        "(parameters, gradients, optimizer state, saved activations; per layer) and its "
        "forward vs backward MACs per stage (as `archscope memory` and `flops --mode train`)."
    )] = False,
    train_batch_size: Annotated[Optional[int], typer.Option(
        "--train-batch-size", min=1, help="Batch of the Training section's step. Default: 32.",
        show_default=False)] = None,
    optimizer: Annotated[Optional[str], typer.Option(
        "--optimizer", help="Optimizer of the Training section's step: sgd, momentum, adam or "
        "adamw. Default: adam.", show_default=False)] = None,
) -> None:
    """Interactive HTML report: params and MACs per model and per layer, timings if given."""
    from ..html.build import build_report

    path = build_report(models, bench or None, output, title, input_size=input_size,
                        engine=engine.value, kwargs=parse_kwargs(kwargs), diff=diff,
                        train=train, train_batch_size=train_batch_size, optimizer=optimizer)
    typer.echo(f"wrote {path}", err=True)
