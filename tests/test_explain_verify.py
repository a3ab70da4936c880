"""`explain` lessons and `verify googlenet`, with the figures of the papers and posts derived by hand."""

from __future__ import annotations

import json
import math

import pytest

from archscope.analysis.explain import LESSONS, explain
from archscope.analysis.verify import TABLE1, table1_weights, verify_googlenet
from archscope.cli import app


def test_bottleneck_figures():
    df = explain("bottleneck").rows
    assert df.macs[0] == (14 * 14 * 48) * (5 * 5 * 480) == 112_896_000
    assert df.macs[1] == 14 * 14 * 16 * 480 == 1_505_280
    assert df.macs[2] == (14 * 14 * 48) * (5 * 5 * 16) == 3_763_200
    assert df.macs[3] == 1_505_280 + 3_763_200 == 5_268_480
    assert df.weights[0] == 48 * 480 * 25 and df.weights[3] == 16 * 480 + 48 * 16 * 25


def test_inception_figures():
    df = explain("inception").rows
    # 256·128 + 256·192·9 + 256·96·25 = 1,089,536; 128 + 192 + 96 + 256 = 672 channels
    assert df.weights[0] == 1_089_536 and df.out_channels[0] == 672
    # 256·128 + 256·64 + 64·192·9 + 256·64 + 64·96·25 + 256·64 = 346,112; 128+192+96+64 = 480
    assert df.weights[1] == 346_112 and df.out_channels[1] == 480
    assert df.macs[0] == 1_089_536 * 32 * 32  # every conv keeps the 32×32 map


def test_vgg_and_1x1_figures():
    df = explain("vgg").rows
    assert list(df.weights) == [256 * 256 * 25, 2 * 256 * 256 * 9] == [1_638_400, 1_179_648]
    # one map size, 56×56 (VGG-16's 256-channel stage): MACs = 56·56 positions × weights
    assert list(df.macs) == [56 * 56 * 1_638_400, 56 * 56 * 1_179_648]
    assert list(df.receptive_field) == [5, 5]
    df = explain("1x1").rows
    assert df.weights[0] == 192 * 128 * 9 == 221_184
    assert df.weights[1] == 192 * 96 + 96 * 128 * 9 == 129_024
    # on Inception 3a's 28×28 map: 28·28·221,184 = 173,408,256 and 28·28·129,024 = 101,154,816
    assert list(df.macs[:2]) == [28 * 28 * 221_184, 28 * 28 * 129_024]
    assert df.weights[2] == 3 and df.macs[2] == 224 * 224 * 3
    assert "124.2" in explain("1x1").text  # 0.299·200 + 0.587·100 + 0.114·50


def test_gap_and_residual_figures():
    df = explain("gap").rows
    assert df.params[0] == 1024 * 1000 + 1000
    # weights only: 50,176·4096 + 4096·4096 + 4096·1000 = 226,394,112 (221× the GAP head's)
    assert df.weights[2] == 50_176 * 4096 + 4096 * 4096 + 4096 * 1000 == 226_394_112
    assert df.params[2] == (50_176 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 1000 + 1000)
    df = explain("residual").rows
    # the paper's Fig. 5 pair on 56×56 (3,136 positions): basic block at 64 channels, two 3×3
    # convs 2 · 9·64·64 = 73,728 weights + 2 BN (2·64) = 73,984; MACs 3,136 · 73,728
    assert df.params[0] == 2 * 9 * 64 * 64 + 2 * 2 * 64
    assert df.macs[0] == 56 * 56 * 2 * 9 * 64 * 64  # 231,211,008
    # bottleneck: 256·64 + 9·64·64 + 64·256 conv weights + BN 2·(64+64+256) = 70,400;
    # MACs 3,136 · 69,632 = 218,365,952
    assert df.params[1] == 256 * 64 + 9 * 64 * 64 + 64 * 256 + 2 * (64 + 64 + 256)
    assert df.macs[1] == 56 * 56 * (256 * 64 + 9 * 64 * 64 + 64 * 256)
    # a basic block at 256: 2 × (3·3·256·256) conv weights + 2 BN (2·256) = 1,180,672
    assert df.params[2] == 2 * 9 * 256 * 256 + 2 * 2 * 256


@pytest.mark.parametrize("topic", list(LESSONS))
def test_every_lesson_states_its_map_size_and_its_biases(topic):
    e = explain(topic)
    h, w = e.map_size
    assert f"{h}×{w}" in e.title and f"{h}×{w}" in e.text and f"{h}×{w}" in e.notes[0]
    # every compared design runs on that map: the row's input is C×h×w
    assert all(s.endswith(f"x{h}x{w}") for s in e.compared.input), e.compared.input
    assert "exclude biases" in e.notes[1]
    for b in e.compared.biases:
        assert f"{int(b):,}" in e.notes[1]
    assert list(e.compared.params) == list(e.compared.weights + e.compared.biases)


def test_lesson_bias_counts_by_hand():
    # bottleneck: the 5×5 480→48 conv has 48 biases; 1×1 to 16 then 5×5 to 48: 16 + 48 = 64
    assert list(explain("bottleneck").compared.biases) == [48, 16 + 48]
    # 1x1: 3×3 192→128: 128; 1×1 to 96 then 3×3 to 128: 96 + 128 = 224
    assert list(explain("1x1").compared.biases) == [128, 96 + 128]
    # residual: batch norm β per channel: basic 64 + 64; bottleneck 64 + 64 + 256; basic at
    # 256: 256 + 256
    assert list(explain("residual").compared.biases) == [128, 384, 512]


def test_every_topic_renders(runner):
    for topic in LESSONS:
        res = runner.invoke(app, ["explain", topic, "-f", "json"])
        assert res.exit_code == 0 and json.loads(res.stdout)["topic"] == topic
    res = runner.invoke(app, ["explain"])
    assert all(t in res.stdout for t in LESSONS)
    res = runner.invoke(app, ["explain", "bottlenek"])
    assert res.exit_code == 2 and "did you mean bottleneck" in res.stderr


def test_table1_closed_form():
    # 3a: 192·64 + 192·96 + 96·128·9 + 192·16 + 16·32·25 + 192·32 = 163,328
    widths = {name: w for name, _, _, _, _, w in TABLE1}
    assert table1_weights(widths["inception (3a)"]) == 163_328
    assert table1_weights(widths["conv 3×3/1 (1×1 reduce 64)"]) == 64 * 64 + 64 * 192 * 9


def test_verify_googlenet_flags_the_papers_errata():
    v = verify_googlenet()
    assert v.ok and v.rows.table1_widths_match.all()
    flagged = set(v.rows.row[v.rows.flag != ""])
    # 4c: 463K·1024·196 = 92.9M ≠ its own 100M ops; 5a and conv1 are self-consistent but not
    # what their widths give (1,042,432 and 9,408 weights)
    assert flagged == {"conv 7×7/2", "inception (4c)", "inception (5a)"}
    assert "params figure" in v.rows.set_index("row").flag["inception (4c)"]


def test_verify_diffs_too_small_to_show_are_zero_not_negative_zero():
    rows = verify_googlenet().rows.set_index("row")
    # 4e: 867,328 weights × 14² = 169,996,288 MACs vs the printed 170M:
    # (169,996,288 − 170,000,000) / 170,000,000 = −0.0022 %, below the 0.01 % shown → +0.0
    assert rows.at["inception (4e)", "ops_diff"] == 0.0
    assert math.copysign(1.0, rows.at["inception (4e)", "ops_diff"]) == 1.0
    # conv2 + conv3: (64·64 + 64·192·9) × 56² = 359,661,568 vs 360M: −0.094 %, kept exactly
    assert rows.at["conv 3×3/1 (1×1 reduce 64)", "ops_diff"] == (359_661_568 - 360e6) / 360e6


def test_verify_cli(runner):
    res = runner.invoke(app, ["verify", "googlenet"])
    assert res.exit_code == 0 and "paper errata" in res.stdout
    assert "-0.00%" not in res.stdout
    res = runner.invoke(app, ["verify", "vgg16", "--against", "paper"])  # no table for VGG
    assert res.exit_code == 2 and "no paper table" in res.stderr
