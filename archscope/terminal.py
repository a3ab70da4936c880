"""Fitting a text table to a terminal's width, and choosing its columns.

Only the text table meets the terminal; CSV, JSON and Markdown keep every column and every
character (``--columns`` is the one choice that applies to all formats). Three steps, each taken
only while the table is still wider than the terminal:

1. prose (a cell with spaces, longer than :data:`LONG_TEXT`) moves to a numbered note below
   the table, ``[1]`` in its cell (``error [2]`` when it begins ``error: …``);
2. names are abbreviated in the middle, down to :data:`MIN_NAME` characters: a dotted path keeps
   its first and last parts (``features.….conv1``), never cut at the end;
3. the least important columns are dropped, in the order :data:`DROP_ORDER` states for each
   table, and a footer line names them.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass, field
from typing import Iterable

from .conventions import brief as brief_of, is_convention
from .errors import ArchscopeError

# The width when stdout is not a terminal and $COLUMNS is unset (a pipe, a file, CI logs).
DEFAULT_WIDTH = 100
MIN_WIDTH = 40
# A prose cell longer than this leaves its column for a numbered note.
LONG_TEXT = 28
# Names are not abbreviated below this many characters.
MIN_NAME = 16
GAP = 3  # spaces between columns

# Columns that hold names (abbreviated in the middle when space runs short).
# Paths and spec names only: a label such as verify's "conv 3×3/1 (1×1 reduce 64)" or a type
# such as "AdaptiveAvgPool2d" is shown whole or not at all.
NAME_COLUMNS = ("layer", "name", "model")

# Per table, its columns from least to most important: dropped in this order while the table
# does not fit. The first column (the row's name) is never dropped; columns not listed go after
# the listed ones, from the right. The figures a table is about stay longest: params and share for
# `params`, macs and mac_share for `flops`, the median and its CI for `bench`.
DROP_ORDER: dict[str, tuple[str, ...]] = {
    "params": ("trainable", "weights", "biases", "type", "output_shape", "share", "params"),
    "flops": ("trainable", "weights", "biases", "calls", "share", "other_flops", "type",
              "output_shape", "intensity", "flop_share", "flops", "params", "mac_share", "macs"),
    "summary": ("calls", "type", "flops", "output_shape", "params", "macs"),
    "models": ("seconds", "uncounted_ops", "input", "flops", "params", "macs", "status"),
    "zoo": ("family", "year", "classes", "kind", "input", "description", "params"),
    "verify-paper": ("modules", "table1_widths_match", "paper_params", "paper_ops",
                     "params_weights", "ops", "params_diff", "ops_diff", "flag"),
    "verify-torchinfo": ("call", "output_shape_torchinfo", "mult_adds_predicted", "type",
                         "params_torchinfo", "output_shape", "mult_adds_torchinfo", "params",
                         "macs", "match"),
    "explain": ("receptive_field", "input", "output", "weights", "biases", "params", "macs"),
    "bench": ("p95_ms", "j_per_item", "layout", "compile_s", "peak_mem_mib", "mode",
              "throughput_items_s", "bound", "peak_pct", "tflop_s", "gflop_s", "speedup",
              "variant", "dtype", "batch", "status", "ci_pct", "n"),
    "bench-layers": ("type", "calls", "bound", "gflop_s", "intensity", "mac_share", "macs",
                     "time_share", "time_ms"),
    "device": ("copy_gbs", "triad_gbs", "datasheet_tflop_s", "peak_ci_pct"),
    "compare": ("layout", "mode", "base_ci_pct", "new_ci_pct", "variant", "dtype", "batch",
                "base_ms", "new_ms", "speedup", "verdict"),
}


def terminal_width(wide: bool = False) -> int | None:
    """The width tables are fitted to: None (no limit) with ``--wide``, else ``$COLUMNS``, else
    the terminal's, else :data:`DEFAULT_WIDTH` when stdout is not a terminal."""
    if wide:
        return None
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def parse_columns(text: str | None) -> tuple[str, ...]:
    """``"layer,macs"`` → ``("layer", "macs")``; None or blank → ``()`` (every column)."""
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def choose_columns(cols: dict[str, list], wanted: tuple[str, ...]) -> dict[str, list]:
    """The columns named in ``wanted``, in that order, after the first (name) column, which is
    always kept. A name also selects its expanded columns (``other_flops`` →
    ``other_flops.bias`` …). An unknown name is one sentence listing the choices."""
    if not wanted or not cols:
        return cols
    names = list(cols)
    base = list(dict.fromkeys(c.split(".")[0] for c in names))
    unknown = [w for w in wanted if w not in names and w not in base]
    if unknown:
        raise ArchscopeError(f"unknown column {unknown[0]!r} in --columns; this table has: "
                             f"{', '.join(base)}")
    keep = [names[0]]
    for w in wanted:
        keep += [c for c in names if (c == w or c.split(".")[0] == w) and c not in keep]
    return {c: cols[c] for c in keep}


def abbreviate(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters, shortened in the middle.

    A dotted path keeps its first part and as many last parts as fit
    (``features.denseblock4.denselayer16.conv1`` → ``features.….conv1``); otherwise the
    beginning and the end are kept around ``…``. Leading indentation (a tree view) is kept.
    """
    if len(name) <= width:
        return name
    body = name.lstrip(" \u00a0")
    indent = name[: len(name) - len(body)]
    room = width - len(indent)
    parts = body.split(".")
    if len(parts) > 2:
        tail = parts[-1]
        for part in reversed(parts[1:-1]):
            if len(parts[0]) + 3 + len(part) + 1 + len(tail) > room:
                break
            tail = f"{part}.{tail}"
        if len(parts[0]) + 3 + len(tail) <= room:
            return f"{indent}{parts[0]}.….{tail}"
    if room < 3:
        return name[:width]
    head = (room - 1) // 2
    tail_n = room - 1 - head
    return f"{indent}{body[:head]}…{body[-tail_n:]}"


def _prose(cell: str) -> bool:
    return len(cell) > LONG_TEXT and " " in cell.strip()


def _reference(cell: str, n: int) -> str:
    """``[n]``, or ``error [n]`` for a cell that begins with a status word and a colon."""
    head, sep, _ = cell.partition(":")
    label = sep and head.isalpha() and head.islower() and len(head) <= 12
    return f"{head} [{n}]" if label else f"[{n}]"


@dataclass
class Fitted:
    """A table's cells after fitting: what :func:`archscope.render.to_text_table` prints."""

    header: list[str]
    rows: list[list[str]]
    right: list[bool]
    footnotes: list[str] = field(default_factory=list)  # "[1] the full text"
    dropped: list[str] = field(default_factory=list)

    def widths(self) -> list[int]:
        return [max([len(h)] + [len(r[i]) for r in self.rows]) for i, h in enumerate(self.header)]

    def width(self) -> int:
        w = self.widths()
        return sum(w) + GAP * (len(w) - 1)

    def drop(self, column: str) -> None:
        i = self.header.index(column)
        for seq in (self.header, self.right, *self.rows):
            del seq[i]
        self.dropped.append(column)


def _move_prose(t: Fitted) -> None:
    numbers: dict[str, int] = {}
    for row in t.rows:
        for i, cell in enumerate(row):
            if t.right[i] or t.header[i] in NAME_COLUMNS or not _prose(cell):
                continue
            if cell not in numbers:
                numbers[cell] = len(numbers) + 1
                t.footnotes.append(f"[{numbers[cell]}] {cell}")
            row[i] = _reference(cell, numbers[cell])


def _abbreviate_names(t: Fitted, width: int) -> None:
    while t.width() > width:
        widths = t.widths()
        shrinkable = [(widths[i], i) for i, h in enumerate(t.header)
                      if h in NAME_COLUMNS and not t.right[i]
                      and widths[i] > max(MIN_NAME, len(h))]
        if not shrinkable:
            return
        w, i = max(shrinkable)
        target = max(MIN_NAME, len(t.header[i]), w - (t.width() - width))
        for row in t.rows:
            row[i] = abbreviate(row[i], target)


def _drop_columns(t: Fitted, width: int, order: tuple[str, ...]) -> None:
    listed = [h for o in order for h in t.header[1:] if h.split(".")[0] == o]
    unlisted = [h for h in reversed(t.header[1:]) if h.split(".")[0] not in order]
    for column in listed + unlisted:
        if t.width() <= width:
            return
        t.drop(column)


def fit(header: list[str], rows: list[list[str]], right: list[bool], width: int | None,
        drop_order: tuple[str, ...] = ()) -> Fitted:
    """The cells of a table made to fit ``width`` characters (None: left as they are)."""
    def fresh(drop: list[str]) -> Fitted:
        t = Fitted(list(header), [list(r) for r in rows], list(right))
        for column in drop:
            t.drop(column)
        return t

    t = fresh([])
    if width is None or t.width() <= width:
        return t
    _move_prose(t)
    _abbreviate_names(t, width)
    _drop_columns(t, width, drop_order)
    if not t.dropped:
        return t
    # Again without the dropped columns: no footnote for a cell not shown, and names shortened
    # only as much as the remaining columns need.
    t = fresh(t.dropped)
    _move_prose(t)
    _abbreviate_names(t, width)
    return t


def wrap(text: str, width: int | None, first: str, rest: str) -> list[str]:
    """``text`` as lines of at most ``width`` characters (None: one line), words never broken."""
    if width is None:
        return [first + text]
    return textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first]


def header_notes(notes: Iterable[str], *, brief: bool, quiet: bool) -> list[str]:
    """The notes above a table: conventions as their one-line brief (``brief``) or whole, or
    left out (``quiet``); every other note (engine, caveats, warnings) always, whole."""
    notes = list(notes)
    out = [brief_of(n) if brief else n for n in notes if not (quiet and is_convention(n))]
    if brief and not quiet and any(is_convention(n) for n in notes):
        out.append("conventions in full: archscope conventions")
    return out


def dropped_line(dropped: list[str], width: int | None) -> str:
    """The footer that names the columns left out to fit the width."""
    return (f"not shown at {width} columns: {', '.join(dropped)} (the least important; "
            "--wide, --columns or -f csv/json show them)")
