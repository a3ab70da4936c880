"""The Typer app, the ``--debug`` switch and the one place user errors become exit code 2."""

from __future__ import annotations

import functools
import re
import shlex
import sys
from typing import Annotated, Any, Callable

import typer

from .. import __version__
from ..conventions import FLOPS, MACS, PARAMS, SHARED
from ..errors import ArchscopeError, one_line

CONVENTIONS = (f"Conventions: {PARAMS.brief}; {SHARED.brief}. {MACS.brief}. {FLOPS.brief}. "
               "All of them in full: archscope conventions.")

app = typer.Typer(
    name="archscope",
    help="Take classic CNNs apart: exact per-layer parameters and MACs, timing, reports.\n\n"
    + CONVENTIONS,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"archscope {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of any error.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    ctx.obj = {"debug": debug}
    _state["debug"] = debug


# Set by `root` on every invocation. Not read from click's context stack: Typer ≥ 0.20 vendors
# its own click (archscope.adapters.typer_click), so `click.get_current_context()` sees no context and --debug
# was silently ignored.
_state = {"debug": False}


def debugging() -> bool:
    return bool(_state["debug"])


# A run of this many characters without a space is an echoed input, not prose: cut it.
_LONG_WORD = 200
_LONG_MESSAGE = 600


def error_line(message: str) -> str:
    """``error: message`` on one line, an echoed 100 KB input cut to its two ends."""
    text = re.sub(r"\S{%d,}" % (_LONG_WORD + 1), lambda m: one_line(m.group(), _LONG_WORD),
                  one_line(message, 10 * _LONG_MESSAGE))
    return f"error: {one_line(text, _LONG_MESSAGE)}"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the exit to raise."""
    typer.echo(error_line(message), err=True)
    return typer.Exit(code)


def _preload_numpy() -> None:
    """Import numpy from Python before torch imports it from C.

    torch's C code imports numpy and, if that fails, clears the error and goes on without it:
    a Ctrl-C landing there (about a second after start) was swallowed and the command ran on.
    Imported first from Python, the KeyboardInterrupt propagates like any other; torch then
    finds numpy loaded. torch loads numpy anyway, so this costs nothing.
    """
    try:
        import numpy  # noqa: F401
    except ImportError:  # torch works without numpy
        pass


def first_sentence(text: str | None) -> str | None:
    """The first sentence of a help text, whole (``e.g.`` and ``i.e.`` do not end it)."""
    if not text:
        return None
    words = " ".join(text.split())
    end = re.search(r"(?<!\be\.g)(?<!\bi\.e)\.(\s|$)", words)
    return words[: end.end()].strip() if end else words


def command(*args: Any, **kwargs: Any) -> Callable:
    """``app.command`` whose user errors print one line and exit 2 (traceback with --debug).

    The top-level help lists each command with its first sentence, whole: click would cut it at
    the terminal's width and end it with "..." (``short_help=`` gives a shorter line).
    """

    def deco(fn: Callable) -> Callable:
        kwargs.setdefault("short_help", first_sentence(kwargs.get("help") or fn.__doc__))

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            try:
                _preload_numpy()
                return fn(*a, **k)
            except ArchscopeError as exc:
                if debugging():
                    raise
                raise fail(str(exc), exc.exit_code) from None
            except KeyboardInterrupt:
                if debugging():
                    raise
                raise fail("interrupted", 130) from None

        app.command(*args, **kwargs)(wrapper)
        return fn

    return deco


# Options of `archscope` itself, which click reads only before the command's name.
ROOT_OPTIONS = ("--debug", "--version")


def _hint(exc: Exception, argv: list[str]) -> str:
    """What would work, for one of click's usage errors."""
    option = getattr(exc, "option_name", None)
    if option in ROOT_OPTIONS:  # `archscope params lenet6 --debug`
        rest = [a for a in argv if a != option]
        exc.possibilities = []  # click's "Possible options" would name a command's option
        return f"; {option} goes before the command: {shlex.join(['archscope', option, *rest])}"
    ctx = getattr(exc, "ctx", None)
    return f" (see `{ctx.command_path} --help`)" if ctx is not None else ""


def _write_stderr(line: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(line + "\n")


def main() -> None:
    """Console-script entry point.

    Click's own usage errors (a missing argument, an option that is not a number) become one
    line, like archscope's: ``error: … (see `archscope params --help`)``, exit code 2.
    Ctrl-C exits 130 with ``error: interrupted``, from the command or from the imports before
    it; the one known place where a Ctrl-C was lost, torch's import of numpy, is avoided by
    :func:`_preload_numpy`. A Ctrl-C during Python's own start-up, before this function runs,
    is Python's (a traceback, status 130). A reader that goes away (``| head``) ends the run
    quietly with status 1 (click's handling of a broken pipe).
    """
    from typer.main import get_command

    from ..adapters.typer_click import click_errors

    click_error, show_help = click_errors()
    try:
        rv = get_command(app).main(prog_name="archscope", standalone_mode=False)
    except KeyboardInterrupt:  # outside a command (e.g. during import)
        _write_stderr("error: interrupted")
        sys.exit(130)
    except click_error as exc:
        if isinstance(exc, show_help) or debugging():
            exc.show()
            sys.exit(exc.exit_code)
        hint = _hint(exc, sys.argv[1:])
        message = " ".join(exc.format_message().split()).rstrip(".")
        _write_stderr(error_line(f"{message[:1].lower()}{message[1:]}{hint}"))
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
