"""Tables that fit the terminal: golden tables at 80 and 120 columns, names shortened in the
middle, prose to numbered notes, columns chosen or left out by name, conventions once."""

from __future__ import annotations

import json

import pytest

from archscope.timing.results import new_record
from archscope.timing.runner import BenchResults
from archscope.cli import app
from archscope.conventions import REGISTRY
from archscope.render import View
from archscope.terminal import abbreviate, choose_columns, fit

COMMANDS = {
    "list": ["list"],
    "params_googlenet": ["params", "googlenet"],
    "flops_resnet18": ["flops", "resnet18"],
    "summary_resnet18": ["summary", "resnet18", "-d", "2"],
    "verify_googlenet": ["verify", "googlenet"],
    "explain_vgg": ["explain", "vgg"],
}


def _width(line: str) -> int:
    return len(line)


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_golden_tables_fit_the_width(runner, golden, name, columns):
    res = runner.invoke(app, COMMANDS[name], env={"COLUMNS": str(columns)})
    assert res.exit_code == 0, res.output
    golden(f"{name}_{columns}.txt", res.stdout)
    # Every line fits, except a single word longer than the width (a path is never broken)
    wide = [ln for ln in res.stdout.splitlines() if _width(ln) > columns and " " in ln.strip()]
    assert not wide


def _bench_results() -> BenchResults:
    """Two timed configurations and one that failed with a sentence for a reason."""
    common = dict(model="torchvision:mobilenet_v3_large", device="cpu", dtype="fp32",
                  channels_last=False, graph=False, compile=None, mode="infer", threads=2,
                  iters=40, ci_rel=0.012, p95_ms=9.5, throughput_items_s=None, tflops=0.0021,
                  peak_share=0.02, peak_mem_bytes=None, compile_s=None)
    recs = [new_record(batch_size=1, status="ok", median_ms=4.0, **common),
            new_record(batch_size=8, status="ok", median_ms=20.0, **common),
            new_record(batch_size=64, status="error", median_ms=None,
                       reason="RuntimeError: the kernel for this dtype is not available on cpu",
                       **{**common, "iters": None, "ci_rel": None, "p95_ms": None,
                          "tflops": None, "peak_share": None})]
    for r in recs:
        if r["median_ms"]:
            r["throughput_items_s"] = r["batch_size"] / r["median_ms"] * 1000
    env = {"device": "cpu", "device_name": "Test CPU", "threads": 2, "torch": "2.13.0+cpu",
           "date": "2026-12-06T12:00:00+00:00"}
    return BenchResults(recs, env, {})


@pytest.mark.parametrize("columns", [80, 120])
def test_bench_table_golden(golden, columns):
    from archscope.timing.report import render_results

    text = render_results(_bench_results(), "table", View(width=columns))
    golden(f"bench_{columns}.txt", text)
    assert max(len(ln) for ln in text.splitlines() if " " in ln.strip()) <= columns
    # the failure's sentence is a note, the cell says it is an error
    assert "error [1]" in text and "[1] error: RuntimeError: the kernel" in text


def test_a_dotted_name_keeps_its_first_and_last_parts():
    name = "features.denseblock4.denselayer16.conv1"  # 39 characters
    assert abbreviate(name, 39) == name
    # first part + ".…." + as many last parts as fit: 8 + 3 + 18 = 29 ≤ 30
    assert abbreviate(name, 30) == "features.….denselayer16.conv1"
    assert abbreviate(name, 17) == "features.….conv1"  # 8 + 3 + 5 = 16
    # no dotted form fits: the two ends around "…", never cut at the end
    short = abbreviate("torchvision:mobilenet_v3_large", 16)
    assert len(short) == 16 and short.startswith("torchvi") and short.endswith("v3_large")
    assert abbreviate("    branch1.conv.bn", 12).startswith("    ")  # a tree's indent stays


def test_prose_moves_to_numbered_notes_and_the_same_text_shares_a_number():
    long = "a sentence of more than twenty-eight characters"
    t = fit(["name", "flag"], [["a", long], ["b", ""], ["c", long], ["d", "short"]],
            [False, False], width=20)
    assert [r[1] for r in t.rows] == ["[1]", "", "[1]", "short"]
    assert t.footnotes == [f"[1] {long}"] and t.dropped == []


def test_columns_are_dropped_least_important_first_and_named():
    cols = ["layer", "a", "b", "c"]
    t = fit(cols, [["x", "1", "2", "3"]], [False, True, True, True], width=9,
            drop_order=("b", "a"))
    # layer(5) + 3 + c(1) = 9: b goes first, then a; c (not listed) stays longest
    assert t.header == ["layer", "c"] and t.dropped == ["b", "a"]


def test_wide_keeps_everything_and_json_csv_ignore_the_width(runner):
    narrow = {"COLUMNS": "40"}
    wide = runner.invoke(app, ["flops", "resnet18", "--wide"], env=narrow).stdout
    assert "other_flops" in wide and "not shown" not in wide
    for fmt in ("json", "csv"):
        a = runner.invoke(app, ["flops", "resnet18", "-f", fmt], env=narrow).stdout
        b = runner.invoke(app, ["flops", "resnet18", "-f", fmt], env={"COLUMNS": "400"}).stdout
        assert a == b
    rows = json.loads(runner.invoke(app, ["flops", "resnet18", "-f", "json"], env=narrow).stdout)
    assert "trainable" in rows["rows"][0] and "other_flops" in rows["rows"][0]


def test_columns_option_chooses_in_every_format(runner):
    res = runner.invoke(app, ["params", "lenet5", "--columns", "params,type"])
    header = res.stdout.splitlines()[res.stdout.splitlines().index("") + 1]
    assert header.split() == ["layer", "params", "type"]
    csv = runner.invoke(app, ["flops", "lenet5", "--columns", "macs,other_flops", "-f", "csv"])
    first = [ln for ln in csv.stdout.splitlines() if not ln.startswith("#")][0]
    assert first.startswith("layer,macs,other_flops,other_flops.bias") and "params" not in first
    rows = json.loads(runner.invoke(app, ["params", "lenet5", "--columns", "params", "-f",
                                          "json"]).stdout)["rows"]
    assert set(rows[0]) == {"layer", "params"}


def test_an_unknown_column_is_one_sentence_with_the_choices(runner):
    res = runner.invoke(app, ["params", "lenet5", "--columns", "paramz"])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert "unknown column 'paramz'" in res.output and "layer, type, output_shape" in res.output
    with pytest.raises(Exception, match="unknown column"):
        choose_columns({"a": [1], "b": [2]}, ("c",))


def test_each_convention_once_briefly_quiet_drops_them(runner):
    text = runner.invoke(app, ["flops", "resnet18"]).stdout
    header = text.split("\n\n")[0]
    for key in ("macs", "other_flops", "flops", "intensity", "params"):
        assert header.count(REGISTRY[key].brief) == 1
        assert str(REGISTRY[key]) not in header or REGISTRY[key].brief == str(REGISTRY[key])
    assert "archscope conventions" in header and "engine: meta" in header
    quiet = runner.invoke(app, ["flops", "resnet18", "--quiet"]).stdout.split("\n\n")[0]
    assert all(c.brief not in quiet for c in REGISTRY.values())
    assert "engine: meta" in quiet  # a run's own facts stay
    # CSV keeps the full texts, whatever --quiet says
    csv = runner.invoke(app, ["flops", "lenet5", "-f", "csv", "--quiet"]).stdout
    assert f"# {REGISTRY['macs']}\n" in csv


def test_conventions_command_states_every_convention_and_each_op_family(runner):
    res = runner.invoke(app, ["conventions", "-f", "json"])
    doc = json.loads(res.stdout)
    assert {k: v["text"] for k, v in doc["conventions"].items()} == {
        k: str(c) for k, c in REGISTRY.items()}
    import archscope.analysis.costs.norm as norm

    assert doc["op_costs"]["norm"] == norm.__doc__.strip().replace("\n    ", "\n")
    text = runner.invoke(app, ["conventions"], env={"COLUMNS": "80"}).stdout
    assert "batch norm in eval mode: 2 per element" in text
    assert max(len(ln) for ln in text.splitlines() if " " in ln.strip()) <= 80


def test_bench_checks_its_columns_before_timing(runner, monkeypatch):
    from archscope.timing import configuration

    monkeypatch.setattr(configuration, "time_until_stable",
                        lambda *a, **k: pytest.fail("timed before checking --columns"))
    res = runner.invoke(app, ["bench", "lenet5", "--no-save", "--columns", "median,n"])
    assert res.exit_code == 2 and "unknown column 'median'" in res.output
    assert "median_ms" in res.output  # the choices are listed


def test_markdown_keeps_conventions_in_full_unless_quiet(runner):
    md = runner.invoke(app, ["params", "lenet5", "-f", "markdown"]).stdout
    assert f"- {REGISTRY['params']}\n" in md  # the full sentence, not the brief
    quiet = runner.invoke(app, ["params", "lenet5", "-f", "markdown", "--quiet"]).stdout
    assert str(REGISTRY["params"]) not in quiet and "| layer |" in quiet


def test_tables_and_the_conventions_command_share_one_text():
    from archscope.analysis.flops import FLOP_NOTES
    from archscope.analysis.params import PARAM_NOTES
    from archscope.timing.report import SUMMARY_NOTES

    for note in [*FLOP_NOTES, *PARAM_NOTES, *SUMMARY_NOTES]:
        assert REGISTRY[note.key] is note  # the registry's object itself, not a copy of its text
