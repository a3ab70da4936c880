"""Every archscope benchmark in one command; rewrites the committed results.

    python benchmarks/run.py                     # counting, cold start, report (≈10 min on 2 cores)
    python benchmarks/run.py --quick             # a few models, fewer runs: checks the harness
    python benchmarks/run.py --only cold,report  # some sections
    python benchmarks/run.py --only coverage     # torchvision + timm models (needs both installed)
    python benchmarks/run.py --only training     # flops --mode train and memory: times, figures

Each section writes ``benchmarks/results/<section>.json`` (figures + machine, date, versions,
load average, command) and ``benchmarks/results/<section>.md``, then the tables in
``benchmarks/README.md`` between ``<!-- bench:NAME:start -->`` / ``<!-- bench:NAME:end -->``
markers are rewritten from the JSON files present (so ``--only`` refreshes its own tables and
keeps the others). Timings are medians of ``--runs`` runs after a warm-up.

The top level imports only the standard library: the helpers below are what the tests check.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

# The bench's pure helpers (neither imports torch): one median and one CPU name for the whole
# project, re-exported for the section scripts (`from run import median`).
from archscope.timing.results import cpu_model
from archscope.timing.stats import median  # noqa: F401

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
README = HERE / "README.md"
SECTIONS = ("counting", "cold", "report", "coverage", "training")
DEFAULT_SECTIONS = ("counting", "cold", "report", "training")  # coverage: torchvision and timm
VERSIONED = ("torch", "fvcore", "torchinfo", "ptflops", "thop", "pandas", "plotly", "typer",
             "torchvision", "timm")


# --- pure helpers (tested in tests/test_benchmarks.py) -------------------------------------------

def ratio(value: float, baseline: float) -> float:
    """``value / baseline`` (how many times the baseline); a zero baseline is an error."""
    if baseline == 0:
        raise ValueError("ratio against a zero baseline")
    return value / baseline


def fmt_seconds(seconds: float) -> str:
    """Seconds for a table: ms below one second (``0.0423`` → ``42.3 ms``), else ``1.23 s``."""
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}×"


def fmt_int(n: int | float | None) -> str:
    """An exact count with thousands separators; ``None`` (tool missing or failed) → ``—``."""
    if n is None:
        return "—"
    return f"{int(round(n)):,}"


def fmt_delta(n: int | float | None, reference: int) -> str:
    """``n − reference`` signed with separators, and as a percentage of ``reference``."""
    if n is None:
        return "—"
    d = int(round(n)) - int(reference)
    pct = 100.0 * d / reference if reference else 0.0
    return f"{d:+,} ({pct:+.2f} %)"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]],
             right: Sequence[int] = ()) -> str:
    """A GitHub Markdown table; columns whose index is in ``right`` are right-aligned."""
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    for row in rows:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells for {len(headers)} columns: {row!r}")
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def target_status(measured: float, limit: float) -> str:
    """``met`` when ``measured ≤ limit``, else ``missed by N %`` (how far over the limit)."""
    if measured <= limit:
        return "met"
    return f"missed by {100.0 * (measured - limit) / limit:.0f} %"


def replace_block(text: str, name: str, body: str) -> str:
    """Replace what lies between ``<!-- bench:NAME:start -->`` and ``…:end -->`` with ``body``."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"markers for {name!r} not found in order")
    return text[: i + len(start)] + "\n" + body.strip("\n") + "\n" + text[j:]


def time_calls(fn: Callable[[], object], runs: int, warmup: int = 1,
               clock: Callable[[], float] | None = None) -> list[float]:
    """Seconds per call of ``fn`` for ``runs`` calls after ``warmup`` untimed ones."""
    import time

    clock = clock or time.perf_counter
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


# --- environment -----------------------------------------------------------------------------------

def load_average() -> list[float]:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return []


def _memory_gib() -> float | None:
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        return round(kb / 2**20, 1)
    except (OSError, IndexError, ValueError):
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict:
    """Machine, date, versions (read from metadata, nothing imported) and the load average."""
    versions = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "memory_gib": _memory_gib(),
                    "platform": platform.platform(), "gpu": None},
        "versions": versions,
        "git_commit": _git_commit(),
        "load_average_start": load_average(),
    }


def env_line(env: dict) -> str:
    """One line for the README: date, machine, versions, load during the run."""
    m, v = env["machine"], env["versions"]
    vs = ", ".join(f"{k} {val}" for k, val in v.items() if val)
    load = env.get("load_average_start"), env.get("load_average_end")
    return (f"{env['date']} · {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, no GPU · "
            f"{vs} · commit {env.get('git_commit')} · load average (1/5/15 min) at start "
            f"{load[0]}, at end {load[1]}")


# --- orchestration ---------------------------------------------------------------------------------

def _section(name: str):
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(ROOT))
    if name == "counting":
        import bench_counting as mod
    elif name == "cold":
        import bench_cold as mod
    elif name == "coverage":
        import bench_coverage as mod
    elif name == "training":
        import bench_training as mod
    else:
        import bench_report as mod
    return mod


def write_results(name: str, result: dict, markdown: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
    header = f"<!-- written by benchmarks/run.py; {env_line(result['env'])} -->\n\n"
    (RESULTS / f"{name}.md").write_text(header + markdown.strip() + "\n")


def refresh_readme() -> None:
    """Rewrite every marked block of the README from the result files present."""
    text = README.read_text()
    results = {}
    for name in SECTIONS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
            mod = _section(name)
            body = mod.summary(results[name]) if hasattr(mod, "summary") else mod.markdown(results[name])
            text = replace_block(text, name, body)
    text = replace_block(text, "targets", targets_markdown(results))
    README.write_text(text)


def targets_markdown(results: dict) -> str:
    body = []
    for name in SECTIONS:
        if name in results:
            env = results[name]["env"]
            load = f"{env['load_average_start'][0]} → {env.get('load_average_end', ['?'])[0]}"
            body.extend((t, m, target_status(v, lim), env["date"], load)
                        for t, m, v, lim in _section(name).targets(results[name]))
    if not body:
        return "_No results yet: run `python benchmarks/run.py`._"
    return md_table(["target", "measured", "status", "measured on", "load (1 min) start → end"],
                    body)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true", help="few models and 3 runs: a smoke run")
    ap.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                    help=f"comma-separated sections from {', '.join(SECTIONS)} (default: "
                    f"{', '.join(DEFAULT_SECTIONS)})")
    ap.add_argument("--runs", type=int, default=None, help="timed runs per figure (default 7, quick 3)")
    ap.add_argument("--no-write", action="store_true", help="print the tables, write nothing")
    args = ap.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    runs = args.runs or (3 if args.quick else 7)
    command = "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for name in chosen:
        env = environment()
        print(f"== {name} (load {env['load_average_start']}) ==", flush=True)
        result = _section(name).run(quick=args.quick, runs=runs)
        env["load_average_end"] = load_average()
        result.update({"env": env, "command": command.strip(), "runs": runs, "quick": args.quick})
        md = _section(name).markdown(result)
        print(md, flush=True)
        if not args.no_write:
            write_results(name, result, md)
    if not args.no_write:
        refresh_readme()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
