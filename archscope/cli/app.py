"""The Typer app, the ``--debug`` switch and the one place user errors become exit code 2."""

from __future__ import annotations

import functools
import re
import sys
from typing import Annotated, Any, Callable

import typer

from .. import __version__
from ..errors import ArchscopeError

CONVENTIONS = (
    "Conventions: params = weights + biases (shared tensors once). "
    "MACs = multiply-accumulates of conv, linear and matmul, biases excluded. "
    "FLOPs = 2 × MACs + other FLOPs (norm, pool, activation, add, … by category)."
)

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
# its own click (typer._click), so `click.get_current_context()` sees no context and --debug
# was silently ignored.
_state = {"debug": False}


def debugging() -> bool:
    return bool(_state["debug"])


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


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


def _click_errors() -> tuple[type, tuple]:
    """Click's exception base and the no-arguments-means-help error (Typer vendors click)."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
        return ClickException, (NoArgsIsHelpError,)
    except ImportError:  # a Typer that uses click itself
        from click.exceptions import ClickException

        return ClickException, ()


def main() -> None:
    """Console-script entry point.

    Click's own usage errors (a missing argument, an option that is not a number) become one
    line, like archscope's: ``error: … (see `archscope params --help`)``, exit code 2.
    """
    from typer.main import get_command

    click_error, show_help = _click_errors()
    try:
        rv = get_command(app).main(prog_name="archscope", standalone_mode=False)
    except KeyboardInterrupt:  # outside a command (e.g. during import)
        sys.stderr.write("error: interrupted\n")
        sys.exit(130)
    except click_error as exc:
        if isinstance(exc, show_help) or debugging():
            exc.show()
            sys.exit(exc.exit_code)
        ctx = getattr(exc, "ctx", None)
        hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = " ".join(exc.format_message().split()).rstrip(".")
        sys.stderr.write(f"error: {message[:1].lower()}{message[1:]}{hint}\n")
        sys.exit(exc.exit_code)
    sys.exit(rv if isinstance(rv, int) else 0)
