"""Shared test fixtures."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_terminal_size(monkeypatch):
    """Tables fitted to 100 columns, as without a terminal, in every test and every process:
    pytest-xdist's workers inherit COLUMNS=80 from their terminal writer, and a user's shell may
    export any width. A test that wants a width passes COLUMNS to the command it runs."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/* from the current output instead of comparing",
    )


@pytest.fixture
def golden(request):
    """Compare text with tests/golden/NAME; regenerate only with --update-golden."""
    from pathlib import Path

    root = Path(__file__).parent / "golden"

    def check(name: str, text: str) -> None:
        path = root / name
        if request.config.getoption("--update-golden"):
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-golden"
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path}"

    return check
