"""``archscope diff`` and ``archscope rf``."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import command
from .common import (BatchOpt, DepthOpt, InputSizeOpt, KwargsOpt, ModelArg, OutFormatOpt,
                     OutputOpt, emit, parse_kwargs, pick_format)

ModelBArg = Annotated[str, typer.Argument(
    help="The model to compare against the first, given the same way.", show_default=False)]


@command("diff", help="Compare two models layer by layer and say where the difference comes "
         "from. Aligned rows show both sides' type, output shape, params and MACs and the "
         "deltas (B − A); layers only one model has are + or - rows; the notes sum the deltas "
         "by cause (layer kind) and by block. Without --input-size each model runs at its own "
         "default input.")
def diff_cmd(
    model_a: ModelArg,
    model_b: ModelBArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    depth: DepthOpt = None,
    changed: Annotated[bool, typer.Option(
        "--changed", help="Show only the rows that differ (the totals still cover every row).")
    ] = False,
    kwargs: KwargsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..analysis.diff_view import diff_models
    from ..render import Format, render_frame

    d = diff_models(model_a, model_b, input_size, batch_size=batch_size, depth=depth,
                    kwargs=parse_kwargs(kwargs))
    f = pick_format(fmt, output)
    merged = f in (Format.table, Format.markdown)
    cols = d.columns(merged=merged, changed_only=changed)
    total = d.total_row()
    notes = list(d.notes)
    if changed:
        notes.append(f"--changed: {sum(r.change == '=' for r in d.rows)} rows that are the "
                     "same are not shown")
    same = d.input_a == d.input_b
    title = (f"{d.model_a} → {d.model_b} · diff · input "
             + (d.input_a if same else f"{d.input_a} → {d.input_b}"))
    emit(render_frame(cols, f, title=title, notes=notes, total={k: total.get(k) for k in cols},
                      json_obj=d.json_obj()), output)


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
