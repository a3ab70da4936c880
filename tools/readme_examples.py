"""Refresh (or check) the example outputs in README.md and docs/*.md.

Each example is a block

    <!-- example: archscope params lenet5 | head -n 20 -->
    ```console
    ...
    ```

whose console text is the command's real output (stdout and stderr, as a user sees it),
prefixed by ``$ <command>``. ``python tools/readme_examples.py`` rewrites every block;
``--check`` exits 1 if any block is stale (the test suite runs that, so the README cannot drift
from what the tool prints). Only ``| head -n N`` and ``| grep WORD`` are understood after the
command; timings (bench) are not examples here, being different on every run.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"<!-- example: (?P<cmd>.+?) -->\n```console\n.*?```", re.S)


def run(cmd: str) -> str:
    parts = [p.strip() for p in cmd.split("|")]
    argv = shlex.split(parts[0])
    assert argv[0] == "archscope", cmd
    proc = subprocess.run([sys.executable, "-m", "archscope", *argv[1:]], cwd=ROOT,
                          capture_output=True, text=True,
                          env={"COLUMNS": "100", "PATH": "", "PYTHONIOENCODING": "utf-8"})
    lines = (proc.stdout + proc.stderr).splitlines()
    for filt in parts[1:]:
        f = shlex.split(filt)
        if f[0] == "head":
            lines = lines[: int(f[-1])]
        elif f[0] == "grep":
            lines = [ln for ln in lines if f[-1] in ln]
        else:
            raise ValueError(f"unsupported filter {filt!r} in {cmd!r}")
    return "\n".join(line.rstrip() for line in lines)


def refresh(text: str) -> str:
    def sub(m: re.Match) -> str:
        cmd = m.group("cmd")
        return f"<!-- example: {cmd} -->\n```console\n$ {cmd}\n{run(cmd)}\n```"

    return BLOCK.sub(sub, text)


def documents() -> list[Path]:
    """README.md and every page under docs/ (the own-model guide shows real output too)."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def main() -> int:
    stale = []
    for doc in documents():
        old = doc.read_text(encoding="utf-8")
        new = refresh(old)
        if new == old:
            continue
        if "--check" in sys.argv:
            stale.append(str(doc.relative_to(ROOT)))
        else:
            doc.write_text(new, encoding="utf-8")
    if stale:
        print(f"examples are stale in {', '.join(stale)}: run python tools/readme_examples.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
