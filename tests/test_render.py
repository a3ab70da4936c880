"""Renderers on plain columns and on DataFrames: the same text either way, by hand."""

from __future__ import annotations

import io
import json

import pandas as pd

from archscope.render import frame_records, to_csv, to_markdown, to_text_table

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
