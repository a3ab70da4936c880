"""Words a newcomer reads: no references to the project's private sources, help that is whole.

archscope grew from a handful of blog posts that its developers called "seed 000" … "seed 004".
A user has never seen them, so nothing a user reads (``archscope list``, help texts, the README,
lesson texts) may say "seed"; it cites the paper, or says what the network is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archscope.analysis.explain import LESSONS, explain
from archscope.cli import app
from archscope.zoo import list_models, model_info

ROOT = Path(__file__).resolve().parents[1]
SEED = re.compile(r"\bseeds?\b", re.I)
COMMANDS = ["list", "params", "flops", "summary", "memory", "explain", "verify", "report",
            "bench"]


def test_zoo_metadata_cites_papers_not_seed_posts():
    for name in list_models():
        info = model_info(name)
        for text in (info.description, info.paper, info.builder.__doc__ or ""):
            assert not SEED.search(text), (name, text)


def test_list_output_names_no_seed_post(runner):
    res = runner.invoke(app, ["list", "-f", "csv"])
    assert res.exit_code == 0 and "cifar_cnn" in res.stdout
    assert not SEED.search(res.stdout)
    # the CIFAR-10 network says what it is
    assert "A small CIFAR-10 network (3 conv, 2 linear)" in res.stdout


def test_documents_name_no_seed_post():
    for path in [ROOT / "README.md", ROOT / "reports" / "README.md",
                 *sorted((ROOT / "docs").glob("*.md"))]:
        hits = [line for line in path.read_text(encoding="utf-8").splitlines()
                if SEED.search(line)]
        assert hits == [], (path.name, hits)


@pytest.mark.parametrize("topic", list(LESSONS))
def test_lessons_name_no_seed_post(topic):
    e = explain(topic)
    for text in (e.title, e.text, *e.notes, *e.rows["design"]):
        assert not SEED.search(text), text


@pytest.mark.parametrize("columns", ["60", "100"])
def test_top_level_help_shows_every_command_description_whole(runner, columns):
    res = runner.invoke(app, ["--help"], env={"COLUMNS": columns})
    assert res.exit_code == 0
    listing = res.stdout.split("Commands:", 1)[1]
    assert "..." not in listing, listing
    for name in COMMANDS:
        assert re.search(rf"^  {name} ", listing, re.M), name
    # a description wraps instead of being cut: each one ends with its full stop
    entries = re.split(r"\n  (?=\S)", "\n" + listing.strip("\n"))
    assert all(" ".join(e.split()).endswith(".") for e in entries if e.strip()), entries


def test_command_help_names_no_seed_post(runner):
    for name in COMMANDS:
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0 and not SEED.search(res.stdout), name


def test_explain_help_lists_the_registry_topics():
    from archscope.cli.counting import TOPIC_HELP

    *head, last = LESSONS
    assert TOPIC_HELP == f"{', '.join(head)} or {last}."
