"""Safety: no network at run time, no unpickling, user names escaped in HTML."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from archscope.cli import app

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "archscope"
EXAMPLE = ROOT / "examples" / "my_model.py"


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails the test loudly."""
    attempts: list[str] = []

    def refuse(*args, **kwargs):
        attempts.append(repr(args[:2]))
        raise AssertionError(f"archscope tried to reach the network: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


# (args, the module it needs until every branch is merged)
COMMANDS = [
    (["list"], None),
    (["params", "googlenet", "-f", "json"], None),
    (["params", "{example}:build", "-f", "csv", "-o", "{tmp}/p.csv"], None),
    (["flops", "resnet18", "-f", "json"], "archscope.analysis.flops"),
    (["flops", "{example}:build", "--engine", "fvcore"], "archscope.analysis.flops"),
    (["summary", "lenet5"], "archscope.analysis.flops"),
    (["bench", "lenet5", "--device", "cpu", "-o", "{tmp}/b.json"], "archscope.bench"),
    (["report", "lenet5", "{example}:build", "-o", "{tmp}/r.html"], "archscope.analysis.flops"),
]


@pytest.mark.parametrize("args, needs", COMMANDS, ids=[" ".join(a[:2]) for a, _ in COMMANDS])
def test_main_commands_make_no_network_calls(runner, no_network, tmp_path, args, needs):
    args = [a.format(example=EXAMPLE, tmp=tmp_path) for a in args]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (args, res.output, res.exception)
    assert no_network == []


def test_the_network_guard_itself_bites(no_network):
    # The guard must catch a real attempt, or the test above proves nothing.
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("example.org", 80), timeout=0.1)
    assert no_network


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))]


def test_sources_are_found():
    assert len(_sources()) > 20  # the scans below really read the package


def test_nothing_is_ever_unpickled():
    for path, text in _sources():
        assert not re.search(r"\bpickle\.loads?\s*\(|\bcPickle\b|\bdill\b|\bjoblib\.load\b", text), path
        for call in re.finditer(r"torch\.load\s*\(([^)]*)\)", text):
            assert "weights_only=True" in call.group(1), f"{path}: {call.group(0)}"
        assert not re.search(r"\bnp\.load\s*\([^)]*allow_pickle\s*=\s*True", text), path


def test_no_weights_are_downloaded():
    for path, text in _sources():
        assert "load_state_dict_from_url" not in text, path
        assert not re.search(r"pretrained\s*=\s*True", text), path
        assert not re.search(r"^\s*import (requests|urllib3|httpx)\b", text, re.M), path


def test_user_supplied_names_are_escaped_in_html(runner, tmp_path):
    # The model's display name is the spec as typed, so a folder name reaches the page.
    evil = tmp_path / "<img src=x onerror=alert(1)>"
    evil.mkdir()
    model = evil / "m.py"
    model.write_text(EXAMPLE.read_text())
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", f"{model}:build", "-o", str(out)])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "<img src=x onerror=alert(1)>" not in page
    assert "onerror=alert(1)" in page  # it is there, as text


def test_quotes_in_chart_titles_are_shown_as_quotes():
    # plotly decodes &lt; &gt; &amp; but prints &quot; as is: quotes stay, markup is escaped
    import pandas as pd

    from archscope.html.figures import hierarchy_treemap, stage_bars

    name = 'net "v2" <b>'
    stages = pd.DataFrame({"stage": ['block "a"'], "params": [10], "macs": [20]})
    fig = stage_bars(stages, name)
    assert fig.layout.title.text == 'net "v2" &lt;b&gt;: where parameters and MACs sit, by stage'
    assert list(fig.data[0].x) == ['block "a"']
    nodes = pd.DataFrame({"id": [name], "parent": [""], "label": [name], "params": [10],
                          "macs": [20]})
    fig = hierarchy_treemap(nodes, name)
    assert fig.layout.title.text.startswith('net "v2" &lt;b&gt;: module hierarchy')
    assert "&quot;" not in fig.to_json() and "&#x27;" not in fig.to_json()
