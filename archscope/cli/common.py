"""Options shared by several commands, and writing a rendered result to stdout or ``-o``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..render import Format, View


def _model_name(value: str) -> str:
    """Refuse a blank model name here: every name would be a close match to suggest."""
    if not value.strip():
        raise typer.BadParameter(
            "the model name is empty; give a zoo name such as lenet5 (see `archscope list`) or "
            "a spec such as path/to/file.py:build"
        )
    return value


ModelArg = Annotated[str, typer.Argument(
    help="A zoo name (see `archscope list`), or torchvision:NAME, timm:NAME, "
    "package.module:factory, path/to/file.py:factory.", show_default=False,
    callback=_model_name)]
FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", case_sensitive=False)
]
OutFormatOpt = Annotated[
    Optional[Format],
    typer.Option("--format", "-f", case_sensitive=False, show_default=False,
                 help="Output format: table, csv, json or markdown. Default: from the -o file's "
                 "extension (.csv, .json, .md), else table."),
]
SUFFIX_FORMATS = {".csv": Format.csv, ".json": Format.json, ".md": Format.markdown,
                  ".markdown": Format.markdown}


def pick_format(fmt: Format | None, output: Path | None) -> Format:
    """The format asked for, else the one the output file's extension names, else a table."""
    if fmt is not None:
        return fmt
    return SUFFIX_FORMATS.get(output.suffix.lower(), Format.table) if output else Format.table


OutputOpt = Annotated[
    Optional[Path],
    typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
]
InputSizeOpt = Annotated[
    Optional[str],
    typer.Option(
        "--input-size",
        "-i",
        help="One sample C×H×W such as 3x224x224, or N,C,H,W such as 1,3,224,224; for "
        "several inputs or non-float ones, each full shape with its dtype: "
        "1x128:int64,1x128:int64 (name=1x128:bool for a keyword input). Default: the model's own.",
        show_default=False,
    ),
]
BatchOpt = Annotated[
    Optional[int],
    typer.Option("--batch-size", "-b", help="Batch size (default 1).", show_default=False),
]
DepthOpt = Annotated[
    Optional[int],
    typer.Option(
        "--depth",
        "-d",
        help="Fold sub-modules below this depth into their ancestor (1: one row per top-level "
        "module). Default: every leaf layer.",
        show_default=False,
    ),
]


WideOpt = Annotated[bool, typer.Option(
    "--wide", help="Text tables as wide as their content. Default: fitted to $COLUMNS, else the "
    "terminal's width, else 100 columns (long text to numbered notes, names shortened in the "
    "middle, the least important columns left out and named).")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No conventions above a table or Markdown (CSV and JSON keep them; "
    "`archscope conventions` states them all).")]
ColumnsOpt = Annotated[Optional[str], typer.Option(
    "--columns", help="Only these columns, in this order, after the name column (e.g. "
    "layer,params,macs); in every format.", show_default=False)]


def table_view(wide: bool = False, quiet: bool = False, columns: str | None = None) -> View:
    """The :class:`~archscope.render.View` the options ask for."""
    from ..terminal import parse_columns, terminal_width

    return View(width=terminal_width(wide), quiet=quiet, columns=parse_columns(columns))


def emit(text: str, output: Path | None) -> None:
    """Print ``text``, or write it atomically to ``output`` and say where it went.

    A closed or failing stdout is an error (:func:`~archscope.streams.write_stdout`), never a
    silent exit 0 with the result lost."""
    if output is None:
        from ..streams import write_stdout

        write_stdout(text)
        return
    from ..io import write_atomic

    path = write_atomic(output, text)
    typer.echo(f"wrote {path}", err=True)
KwargsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--kwargs",
        help="Builder options as key=value,... (e.g. num_classes=10,aux_logits=false).",
        show_default=False,
    ),
]


def parse_kwargs(text: str | None) -> dict:
    """``"num_classes=10,aux_logits=false"`` → ``{"num_classes": 10, "aux_logits": False}``."""
    from ..inputs import parse_kwargs as _parse

    return _parse(text)
