"""The example outputs in README.md and docs/ are what the tool prints today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_readme_examples_are_current():
    proc = subprocess.run([sys.executable, "tools/readme_examples.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_states_the_two_setup_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install torch==2.13.0 && pip install . && archscope report googlenet vgg16 resnet50" in text
    assert "bash .ci/run" in text
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text()
