"""``archscope list`` and ``archscope params``."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import command
from .common import (
    BatchOpt, ColumnsOpt, DepthOpt, InputSizeOpt, KwargsOpt, ModelArg, OutFormatOpt, OutputOpt, QuietOpt,
    WideOpt, emit, parse_kwargs, pick_format, table_view,
)


@command("list")
def list_cmd(
    pattern: Annotated[
        Optional[str], typer.Argument(help="Shell-style filter, e.g. 'resnet*'.")
    ] = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """The model zoo: every network and block with its default input, classes and params."""
    from ..api import zoo_table
    from ..conventions import ZOO_PARAMS
    from ..render import render_frame

    df = zoo_table(pattern or "*")
    emit(
        render_frame(df, pick_format(fmt, output), title="archscope model zoo", notes=[ZOO_PARAMS],
                     view=table_view(wide, quiet, columns), kind="zoo"),
        output,
    )


@command("params")
def params_cmd(
    model: ModelArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    depth: DepthOpt = None,
    kwargs: KwargsOpt = None,
    wide: WideOpt = False,
    quiet: QuietOpt = False,
    columns: ColumnsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Per-layer parameters, weights and biases apart, with each layer's output shape."""
    from ..analysis.params import param_report
    from ..render import render_layer_table

    report = param_report(
        model, input_size, batch_size=batch_size, depth=depth, kwargs=parse_kwargs(kwargs)
    )
    emit(render_layer_table(report, pick_format(fmt, output), table_view(wide, quiet, columns)),
         output)
