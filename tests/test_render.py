"""Renderers on plain columns and on DataFrames: the same text either way, by hand."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from archscope.render import format_float, frame_records, to_csv, to_markdown, to_text_table

COLS = {
    "layer": ["conv", "fc"],
    "params": [1_234, None],          # a number and a missing one: still a numeric column
    "share": [0.25, 0.75],            # shown as percentages
    "trainable": [True, False],       # booleans are yes/no and left-aligned
    "other_flops": [{"bias": 6}, {}],  # nested: JSON in CSV
}


def test_text_table_by_hand():
    text = to_text_table(COLS, title="t", notes=["n"], total={"layer": "total", "params": 1_234})
    # widths: layer 5 ("total"), params 6 ("params"), share 6, trainable 9, other_flops 11;
    # numbers right-aligned, text and yes/no left-aligned, three spaces between columns
    assert text.splitlines() == [
        "t",
        "  n",
        "",
        "layer   params    share   trainable   other_flops",
        "─" * (5 + 6 + 6 + 9 + 11 + 3 * 4),
        "conv     1,234   25.00%   yes         bias=6",
        "fc               75.00%   no",
        "─" * 49,
        "total    1,234",
    ]


def test_dataframe_and_columns_render_alike():
    df = pd.DataFrame(COLS)
    assert to_text_table(df) == to_text_table(COLS)
    assert to_markdown(df) == to_markdown(COLS)
    assert frame_records(df) == frame_records(COLS)


def test_markdown_alignment_row():
    md = to_markdown(COLS).splitlines()
    assert md[1] == "|---|---:|---:|---|---|"  # params and share numeric; the rest text


def test_csv_by_hand_and_read_back():
    text = to_csv(COLS, notes=["a note"], total={"layer": "total", "params": 1_234})
    assert text.splitlines() == [
        "# a note",
        "layer,params,share,trainable,other_flops",
        'conv,1234,0.25,True,"{""bias"": 6}"',
        "fc,,0.75,False,{}",
        "total,1234,,,",
    ]
    back = pd.read_csv(io.StringIO(text), comment="#")
    assert back["params"].tolist()[0] == 1234
    assert json.loads(back["other_flops"][0]) == {"bias": 6}


def test_json_records_are_plain():
    recs = frame_records(COLS)
    assert recs[1] == {"layer": "fc", "params": None, "share": 0.75, "trainable": False,
                       "other_flops": {}}
    json.dumps(recs)  # serialisable as is


def test_control_characters_in_names_stay_in_their_cell():
    # a ModuleDict key may hold a newline or a terminal escape; each row stays one line
    cols = {"layer": ["a\nb", "c\x1b[31md", "e\u00a0f"], "params": [1, 2, 3]}
    text = to_text_table(cols, title="net\nx").splitlines()
    assert text[0] == "net\\nx"
    # layer width 10 (c\x1b[31md as ten characters), params width 6, three spaces between
    assert text[4:] == ["a\\nb" + " " * 14 + "1", "c\\x1b[31md" + " " * 8 + "2",
                        "e\u00a0f" + " " * 15 + "3"]
    md = to_markdown(cols).splitlines()
    assert md[2:] == ["| a\\nb | 1 |", "| c\\x1b[31md | 2 |", "| e\u00a0f | 3 |"]
    assert to_csv(cols).splitlines()[1:3] == ['"a', 'b",1']  # CSV quotes it: the value as is


@pytest.mark.parametrize("value, text", [
    (1.0, "1.00"), (0.4, "0.400"), (16.0, "16.0"), (190.0, "190"), (7.27, "7.27"),
    (0.125, "0.125"), (9.996, "10.0"), (999.6, "1,000"), (12_345.6, "12,346"),
    (0.0009996, "0.00100"), (8.2e-06, "8.20e-06"), (-3.14159, "-3.14"), (0.0, "0"),
])
def test_floats_have_three_significant_digits(value, text):
    assert format_float(value) == text


def test_trainable_is_a_dash_on_rows_without_parameters():
    cols = {"layer": ["conv", "relu", "frozen"], "params": [10, 0, 4],
            "trainable": [True, True, False]}
    rows = to_text_table(cols).splitlines()[2:]
    assert [r.split()[-1] for r in rows] == ["yes", "-", "no"]
    assert to_markdown(cols).splitlines()[3] == "| relu | 0 | - |"
    assert frame_records(cols)[1]["trainable"] is True  # the data itself is left as computed
