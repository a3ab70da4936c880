"""One exception type for user mistakes.

An :class:`ArchscopeError` carries one sentence that says what was wrong and what would work.
The CLI prints it on one line to stderr and exits with code 2; a traceback is shown only with
``--debug``. Anything else that escapes is a bug in archscope, not a user mistake.
"""

from __future__ import annotations

import difflib
from typing import Iterable


class ArchscopeError(Exception):
    """A mistake in what the user asked for (exit code 2)."""

    exit_code = 2


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The up-to-``n`` choices closest to ``name`` (case-insensitive), best first."""
    if not name.strip():  # every name starts with "": a blank name is like none
        return []
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    if not hits:  # prefix matches catch "res" → resnet18 … where ratios are low
        hits = [c for c in lowered if c.startswith(name.lower())][:n]
    return [lowered[h] for h in hits]


def check_choice(what: str, value: str, choices: Iterable[str]) -> str:
    """``value`` when it is one of ``choices``; otherwise one sentence naming the closest ones
    (``unknown optimizer 'adamm'; did you mean adam, adamw?``)."""
    choices = list(choices)
    if value in choices:
        return value
    hint = closest(str(value), choices)
    more = f"did you mean {', '.join(hint)}?" if hint else f"use {', '.join(choices)}"
    raise ArchscopeError(f"unknown {what} {str(value)!r}; {more}")


def one_line(value: object, limit: int = 200) -> str:
    """``value`` (a message, a user's input or an exception) as one line of at most ``limit``
    characters: runs of whitespace, newlines included, become one space, and a longer text keeps
    its beginning and its end around ``…``. An exception with no message gives its type's name.

    Error messages quote what the user gave; this keeps a pasted 100 KB input from filling the
    terminal while both ends stay recognisable.
    """
    text = " ".join(str(value).split())
    if not text and isinstance(value, BaseException):
        text = type(value).__name__
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")
