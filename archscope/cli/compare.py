"""``archscope rf`` (and ``archscope diff``)."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import command
from .common import (BatchOpt, DepthOpt, InputSizeOpt, KwargsOpt, ModelArg, OutFormatOpt,
                     OutputOpt, emit, parse_kwargs, pick_format)

@command("rf", help="Receptive field of every module's output, exact for branched networks. "
         "rf is the input window one unit sees, jump the input pixels between neighbouring "
         "units, start the centre of the first unit's window; the notes say where units start "
         "to see past the input's border and to cover all of it.")
def rf_cmd(
    model: ModelArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    depth: Annotated[int, typer.Option("--depth", "-d", help="Tree depth shown.")] = 3,
    kwargs: KwargsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..analysis.receptive import rf_report
    from ..render import render_layer_table

    rep = rf_report(model, input_size, batch_size=batch_size, depth=depth,
                    kwargs=parse_kwargs(kwargs))
    emit(render_layer_table(rep, pick_format(fmt, output)), output)
