"""Rendering tables: columns (+ totals and notes) → aligned text table, CSV, JSON or Markdown.

A table is a DataFrame or plain columns (``{name: [values…]}``); neither path imports pandas.

Renderers return strings; only the CLI prints. Every format states the table's conventions up
front: the text table and Markdown above the table, CSV as ``#`` comment lines (read back with
``pandas.read_csv(f, comment="#")``), JSON under ``"notes"``. Output is deterministic: the same
data gives byte-identical text.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import math
import numbers
import sys
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # rendering never loads pandas: only a caller's DataFrame brings it
    import pandas as pd


class Format(str, enum.Enum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


# Columns shown as fractions of the whole (0.25 → "25.00%") in text and Markdown.
PERCENT_COLUMNS = {"share", "mac_share", "flop_share", "time_share", "params_diff", "ops_diff",
                   "train_flop_share"}
# Differences (B − A): an explicit sign in text and Markdown (+128, -64, 0).
SIGNED_COLUMNS = {"d_params", "d_macs", "d_flops"}
# Integer columns that are labels, not quantities: no thousands separators.
PLAIN_INT_COLUMNS = {"year"}
# Yes/no columns about a row's parameters: "-" in text and Markdown on a row that has none
# (a ReLU is neither trainable nor frozen). CSV and JSON keep the value as computed.
PARAM_FLAG_COLUMNS = {"trainable"}
NOT_APPLICABLE = "-"


Columns = dict[str, list]  # column name → values, one per row, in display order


@dataclass(frozen=True)
class View:
    """What the reader asked of a table: ``width`` to fit (text tables; None: no limit),
    ``quiet`` (no conventions above text and Markdown tables) and ``columns`` (these, in this
    order, after the name column; every format)."""

    width: int | None = None
    quiet: bool = False
    columns: tuple[str, ...] = ()


def as_columns(data: pd.DataFrame | Columns) -> Columns:
    """The plain columns of a DataFrame (values as Python objects), or the columns as given."""
    if isinstance(data, dict):
        return data
    return {str(c): data[c].tolist() for c in data.columns}


def _n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    pd = sys.modules.get("pandas")  # pd.NA can only be here if pandas is loaded already
    return pd is not None and value is pd.NA


def _plain(value: Any) -> Any:
    """A JSON-safe plain Python value (numpy scalars, tuples, NaN → None)."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict, str)):
        value = value.item()
    if not isinstance(value, (list, tuple, dict)) and _missing(value):
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def frame_records(data: pd.DataFrame | Columns) -> list[dict[str, Any]]:
    """One JSON-safe dict per row."""
    cols = as_columns(data)
    return [{c: _plain(v[i]) for c, v in cols.items()} for i in range(_n_rows(cols))]


def printable(text: str) -> str:
    """``text`` with control characters as escapes (a newline as ``\\n``, ESC as ``\\x1b``).

    A layer or model name may hold anything; in a text or Markdown table one value must stay
    one cell on one line, and must not drive the terminal. Other characters, non-ASCII spaces
    included, are kept.
    """
    if all(c.isprintable() or c == "\u00a0" for c in text):
        return text
    return "".join(
        repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text
    )


def format_float(value: float) -> str:
    """Three significant digits, trailing zeros kept, so one column reads alike: ``1.00``,
    ``0.400``, ``7.27``, ``16.0``, ``190``; from 1,000 whole and grouped (``12,345``); below
    0.001 in e-notation (``8.20e-06``)."""
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 999.5:
        return f"{value:,.0f}"
    rounded = float(f"{value:.3g}")  # first, so 9.996 is "10.0", not "10.00"
    if abs(rounded) < 0.001:
        return f"{value:.2e}"
    return f"{rounded:.{max(0, 2 - math.floor(math.log10(abs(rounded))))}f}"


def _format_int(column: str, value: int) -> str:
    if column in SIGNED_COLUMNS:
        return f"{value:+,}" if value else "0"
    return str(value) if column in PLAIN_INT_COLUMNS else f"{value:,}"


def format_cell(column: str, value: Any) -> str:
    """One cell as text: integers with thousands separators, shares as percentages, other
    numbers to three significant digits, control characters escaped."""
    if not isinstance(value, (list, tuple, dict)) and _missing(value):
        return ""
    if hasattr(value, "item") and not isinstance(value, (str, bool)):
        value = value.item()  # a numpy scalar: its Python value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if column in PERCENT_COLUMNS and isinstance(value, (int, float)):
        return f"{100 * value:.2f}%"
    if isinstance(value, int):
        return _format_int(column, value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, (list, tuple)):
        return printable("x".join(str(v) for v in value))
    if isinstance(value, dict):
        return ", ".join(f"{printable(str(k))}={format_cell(k, v)}" for k, v in value.items() if v)
    return printable(str(value))


def _is_numeric(values: list) -> bool:
    """A column of numbers (right-aligned): no value other than numbers or missing ones."""
    present = [v for v in values if v is not None and not _missing(v)]
    return bool(present) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present
    )


def _no_params(cols: Columns, column: str, i: int) -> bool:
    params = cols.get("params")
    return column in PARAM_FLAG_COLUMNS and params is not None and params[i] == 0


def _text_rows(cols: Columns, total: dict | None) -> list[list[str]]:
    rows = [[NOT_APPLICABLE if _no_params(cols, c, i) else format_cell(c, v[i])
             for c, v in cols.items()] for i in range(_n_rows(cols))]
    if total is not None:
        rows.append([format_cell(c, total.get(c)) for c in cols])
    return rows


def to_text_table(
    data: pd.DataFrame | Columns, *, title: str | None = None, notes: Iterable[str] = (),
    total: dict | None = None, width: int | None = None, drop_order: tuple[str, ...] = (),
    quiet: bool = False,
) -> str:
    """A plain aligned text table, fitted to ``width`` characters (None: as wide as its
    content) as :mod:`archscope.terminal` describes; conventions shown by their brief.

    Written by hand rather than with rich: rich lays out a 200-row table in about 0.3 s, a
    fifth of ``import torch``, on every ``params`` call.
    """
    from .terminal import dropped_line, fit, header_notes, wrap

    data = as_columns(data)
    t = fit(list(data), _text_rows(data, total), [_is_numeric(v) for v in data.values()],
            width, drop_order)
    widths = t.widths()

    def line(cells: list[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, t.right)]
        return "   ".join(parts).rstrip()

    rule = "─" * t.width()
    out = []
    if title:
        out += wrap(printable(title), width, "", "  ")
    for n in header_notes(notes, brief=True, quiet=quiet):
        out += wrap(printable(n), width, "  ", "    ")
    if out:
        out.append("")
    out += [line(t.header), rule]
    rows = t.rows[:-1] if total is not None else t.rows
    out += [line(r) for r in rows]
    if total is not None:
        out += [rule, line(t.rows[-1])]
    below = [*t.footnotes, *([dropped_line(t.dropped, width)] if t.dropped else [])]
    if below:
        out.append("")
    for n in below:
        out += wrap(printable(n), width, "  ", "      ")
    return "\n".join(out) + "\n"


def to_markdown(
    data: pd.DataFrame | Columns, *, title: str | None = None, notes: Iterable[str] = (),
    total: dict | None = None, quiet: bool = False,
) -> str:
    def esc(text: str) -> str:
        return printable(text).replace("|", "\\|")

    out = []
    if title:
        out += [f"**{esc(title)}**", ""]
    from .terminal import header_notes

    notes = header_notes(notes, brief=False, quiet=quiet)
    if notes:
        out += [f"- {esc(n)}" for n in notes] + [""]
    data = as_columns(data)
    out.append("| " + " | ".join(esc(str(c)) for c in data) + " |")
    out.append("|" + "|".join("---:" if _is_numeric(v) else "---" for v in data.values()) + "|")
    rows = _text_rows(data, total)
    for i, row in enumerate(rows):
        cells = [esc(c) for c in row]
        if total is not None and i == len(rows) - 1:
            cells = [f"**{c}**" if c else c for c in cells]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_plain(value))
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    return "" if _missing(value) else value


def to_csv(
    data: pd.DataFrame | Columns, *, notes: Iterable[str] = (), total: dict | None = None
) -> str:
    """CSV with the notes as leading ``#`` lines; nested values (a dict by category) as JSON."""
    data = as_columns(data)
    buf = io.StringIO()
    header = "".join(f"# {n}\n" for n in notes)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(data))
    rows = [[v[i] for v in data.values()] for i in range(_n_rows(data))]
    if total is not None:
        rows.append([total.get(c) for c in data])
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    return header + buf.getvalue()


def to_json(obj: dict[str, Any]) -> str:
    return json.dumps(_plain(obj), indent=2, ensure_ascii=False) + "\n"


def layer_table_json(table) -> dict[str, Any]:
    """The JSON object of a :class:`~archscope.analysis.records.LayerTable`.

    Keys: ``model``, ``input_size``, ``rows``, ``total`` (stable, later commands add to them),
    then ``notes`` and any metadata.
    """
    obj = {
        "model": table.model,
        "input_size": list(table.input_size),
        "rows": frame_records(table.columns),
        "total": table.total,
        "notes": table.notes,
    }
    for k, v in table.meta.items():
        obj.setdefault(k, v)
    return obj


def layer_table_title(table) -> str:
    if not table.input_size:
        return f"{table.model} · {table.kind}"
    shape = table.meta.get("inputs") or "x".join(str(d) for d in table.input_size)
    return f"{table.model} · {table.kind} · input {shape}"


def _dict_columns(cols: Columns) -> list[str]:
    return [c for c, v in cols.items() if v and isinstance(v[0], dict)]


def _flatten(cols: Columns, total: dict, expand: bool) -> tuple[Columns, dict]:
    """Dict-valued columns (``other_flops`` by category) for flat formats.

    ``expand``: one column per key (``other_flops.bias`` …, CSV); else the column holds the
    sum of its values (text tables), the breakdown being in the totals line of the notes.
    """
    out: Columns = {}
    total = dict(total)
    nested = _dict_columns(cols)
    for col, values in cols.items():
        if col not in nested:
            out[col] = values
            continue
        tot = total.get(col) or {}
        out[col] = [sum(d.values()) for d in values]
        total[col] = sum(tot.values())
        if expand:
            keys: list[str] = []
            for d in [*values, tot]:
                keys += [k for k in d if k not in keys]
            for k in keys:
                out[f"{col}.{k}"] = [d.get(k, 0) for d in values]
                total[f"{col}.{k}"] = tot.get(k, 0)
    return out, total


def _breakdown_notes(table) -> list[str]:
    lines = []
    for col in _dict_columns(table.columns):
        tot = table.total.get(col) or {}
        if tot:
            parts = "; ".join(f"{k} {v:,}" for k, v in tot.items())
            lines.append(f"{col.replace('_', ' ')} in total: {parts} (each row's breakdown: "
                         "-f csv or -f json)")
    return lines


def tree_view(cols: Columns, model: str, indent: str = "  ") -> Columns:
    """A module tree for reading: each path as its last name indented by its ``depth``
    (the root as the model's name), and no depth column."""
    names = [model if path == "(model)" else indent * depth + path.rpartition(".")[2]
             for path, depth in zip(cols["layer"], cols["depth"])]
    return {"layer": names, **{c: v for c, v in cols.items() if c not in ("layer", "depth")}}


def render_layer_table(table, fmt: Format | str, view: View = View()) -> str:
    """Render a LayerTable in the given format, as ``view`` asks.

    A table whose ``meta`` says ``tree`` (``summary``) keeps full paths and depths in CSV and
    JSON, and shows indented names in text and Markdown (indented with no-break spaces there,
    which Markdown keeps).
    """
    from .terminal import DROP_ORDER, choose_columns

    fmt = Format(fmt)
    if fmt is Format.json:
        obj = layer_table_json(table)
        if view.columns:
            obj["rows"] = frame_records(choose_columns(table.columns, view.columns))
        return to_json(obj)
    cols = table.columns
    if table.meta.get("tree") and fmt is not Format.csv:
        cols = tree_view(cols, table.model, "\u00a0\u00a0" if fmt is Format.markdown else "  ")
    rows, total = _flatten(cols, table.total, expand=fmt is Format.csv)
    rows = choose_columns(rows, view.columns)
    if fmt is Format.csv:
        return to_csv(rows, notes=table.notes, total=total)
    kw = dict(title=layer_table_title(table), notes=table.notes + _breakdown_notes(table),
              total=total, quiet=view.quiet)
    if fmt is Format.markdown:
        return to_markdown(rows, **kw)
    return to_text_table(rows, width=view.width, drop_order=DROP_ORDER.get(table.kind, ()), **kw)


def render_frame(
    df: pd.DataFrame | Columns, fmt: Format | str, *, title: str | None = None,
    notes: Iterable[str] = (), json_obj: dict[str, Any] | None = None,
    total: dict[str, Any] | None = None, view: View = View(), kind: str = "",
) -> str:
    """Render a DataFrame or plain columns, with a totals row when ``total`` is given; JSON is
    ``json_obj`` plus ``rows`` (and ``total``, ``notes``). ``kind`` names the table in
    :data:`archscope.terminal.DROP_ORDER` (which columns go first when it must be narrowed)."""
    from .terminal import DROP_ORDER, choose_columns

    fmt = Format(fmt)
    df = choose_columns(as_columns(df), view.columns)
    notes = list(notes)
    if fmt is Format.json:
        obj = dict(json_obj or {})
        obj.setdefault("rows", frame_records(df))
        if total is not None:
            obj.setdefault("total", total)
        if notes:
            obj.setdefault("notes", notes)
        return to_json(obj)
    if fmt is Format.csv:
        return to_csv(df, notes=notes, total=total)
    if fmt is Format.markdown:
        return to_markdown(df, title=title, notes=notes, total=total, quiet=view.quiet)
    return to_text_table(df, title=title, notes=notes, total=total, width=view.width,
                         drop_order=DROP_ORDER.get(kind, ()), quiet=view.quiet)
