"""``typer._click``: the click that Typer ≥ 0.20 vendors instead of depending on click.

archscope catches click's usage errors to print them as one line (``archscope.cli.app.main``);
with a vendored click those exceptions live in ``typer._click.exceptions``, a private module.
Older Typers use click itself.
"""

from __future__ import annotations


def click_errors() -> tuple[type, tuple]:
    """Click's exception base and the no-arguments-means-help error (empty on a plain click)."""
    try:
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        return ClickException, (NoArgsIsHelpError,)
    except ImportError:  # a Typer that uses click itself
        from click.exceptions import ClickException

        return ClickException, ()
