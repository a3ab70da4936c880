"""Bench results files: damaged files are one sentence, old files still load, runs keep their
settings, and default names never overwrite."""

from __future__ import annotations

import json

import pytest

from archscope.timing.results import (
    RECORD_FIELDS, SCHEMA, check_record, load_results, new_record, read_results, write_results,
)
from archscope.cli import app
from archscope.errors import ArchscopeError


def _record(**fields):
    base = dict(model="lenet5", device="cpu", batch_size=1, dtype="fp32", channels_last=False,
                graph=False, compile=None, mode="infer", threads=1, input_shape=[1, 1, 32, 32],
                status="ok", iters=3, stopped="fixed", median_ms=0.5, macs=416_520)
    return new_record(**{**base, **fields})


def _doc(records, **extra):
    return {"schema": SCHEMA, "env": {"device": "cpu", "torch": "x"},
            "settings": {"iters": 3, "batch_sizes": [1]}, "interrupted": False, "notes": [],
            "records": records, **extra}


def _write(tmp_path, doc, name="r.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("field, value, needle", [
    ("median_ms", "fast", "'median_ms' is 'fast', not a number or null"),
    ("median_ms", True, "'median_ms' is True, not a number or null"),
    ("batch_size", 1.5, "'batch_size' is 1.5, not a whole number or null"),
    ("batch_size", True, "'batch_size' is True, not a whole number"),
    ("batch_size", None, "has no 'batch_size' (a whole number)"),
    ("model", 7, "'model' is 7, not a string"),
    ("channels_last", "no", "'channels_last' is 'no', not true or false"),
    ("input_shape", [1, "a"], "'input_shape' is [1, 'a'], not a list of whole numbers"),
    ("per_layer", [1], "'per_layer' is [1], not a list of objects"),
    ("reason", 60, "'reason' is 60, not a string or null"),
])
def test_record_field_types(tmp_path, field, value, needle):
    path = _write(tmp_path, _doc([_record(), _record(**{field: value})]))
    with pytest.raises(ArchscopeError) as info:
        load_results(path)
    msg = str(info.value)
    assert msg.startswith(f"{str(path)!r} record 1") and needle in msg and msg.endswith("the file is damaged")
    assert "\n" not in msg


def test_long_values_are_cut_in_the_message():
    with pytest.raises(ArchscopeError) as info:
        check_record(_record(median_ms="y" * 100), "'f' record 0")
    # repr 'yyy…' of 102 characters → its first 37 and "..."
    assert f"'median_ms' is '{'y' * 36}..., not a number" in str(info.value)


def test_document_parts_are_checked(tmp_path):
    for key, value, kind in (("settings", [], "an object"), ("interrupted", "no", "true or false"),
                             ("notes", "n", "a list")):
        path = _write(tmp_path, _doc([_record()], **{key: value}))
        with pytest.raises(ArchscopeError, match=f"'{key}' is not {kind}; the file is damaged"):
            read_results(path)


def test_non_utf8_file_is_one_line(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"schema": "archscope.bench/1", "note": "caf\xe9"}')
    with pytest.raises(ArchscopeError) as info:
        load_results(path)
    # Before 0xe9: {  "schema"  :␠  "archscope.bench/1"  ,␠  "note"  :␠  "caf
    #              1 +   8     + 2 +        19          + 2 +   6   + 2 + 4  = 44 bytes
    assert str(info.value) == (f"{str(path)!r} is not UTF-8 text (byte 0xe9 at offset 44); "
                               "is it a bench results file?")


@pytest.fixture
def runner_cli():
    import inspect

    from typer.testing import CliRunner

    if "mix_stderr" in inspect.signature(CliRunner.__init__).parameters:
        return CliRunner(mix_stderr=False)
    return CliRunner()


@pytest.mark.parametrize("content, needle", [
    (b"\xff\xfe{}", "is not UTF-8 text (byte 0xff at offset 0)"),
    (json.dumps(_doc([_record(median_ms="fast")])).encode(), "record 0: 'median_ms' is 'fast'"),
    (json.dumps(_doc([_record(batch_size="8")])).encode(), "record 0: 'batch_size' is '8'"),
])
def test_report_with_a_corrupt_bench_file(runner_cli, tmp_path, content, needle):
    bench = tmp_path / "bad.json"
    bench.write_bytes(content)
    res = runner_cli.invoke(app, ["report", "lenet5", "--bench", str(bench), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and needle in line and "Traceback" not in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]  # no report written


def test_older_files_load_with_new_fields_null(tmp_path):
    """A file from before peak_source/compile_graphs existed: same schema, the new keys read null."""
    new = {"peak_tflops_datasheet", "peak_source", "compile_graphs", "compile_graph_breaks"}
    old = {k: v for k, v in _record(peak_tflops=989.4, peak_share=0.1).items() if k not in new}
    path = _write(tmp_path, {"schema": SCHEMA, "env": {"device": "cuda"}, "records": [old]})
    df = load_results(path)
    row = df.iloc[0]
    assert row["peak_tflops"] == 989.4 and row["peak_share"] == 0.1
    assert all(row[k] is None for k in new)
    assert df.attrs["runs"] == [{"source": str(path), "schema": SCHEMA, "env": {"device": "cuda"},
                                 "settings": {}, "interrupted": False, "notes": [], "roofs": []}]


def test_settings_and_interrupted_are_kept(tmp_path):
    a = _write(tmp_path, _doc([_record(), _record(batch_size=2)]), "a.json")
    b = _write(tmp_path, _doc([_record(model="cifar_cnn")], interrupted=True,
                              settings={"iters": "auto", "batch_sizes": [1, 8]}), "b.json")
    df = load_results([a, b])
    assert list(df.columns[:len(RECORD_FIELDS)]) == RECORD_FIELDS
    assert df["interrupted"].tolist() == [False, False, True]
    assert df["settings_iters"].tolist() == [3, 3, "auto"]
    assert df["settings_batch_sizes"].tolist() == [[1], [1], [1, 8]]
    assert [r["interrupted"] for r in df.attrs["runs"]] == [False, True]
    assert df.attrs["runs"][1]["settings"] == {"iters": "auto", "batch_sizes": [1, 8]}
    empty = load_results(_write(tmp_path, _doc([]), "e.json"))
    assert len(empty) == 0 and "interrupted" in empty.columns and len(empty.attrs["runs"]) == 1


def test_exclusive_write_never_replaces(tmp_path):
    path = tmp_path / "bench-x.json"
    path.write_text("earlier run")
    (tmp_path / "bench-x-2.json").write_text("another earlier run")
    got = write_results(path, _doc([_record()]), exclusive=True)
    assert got == tmp_path / "bench-x-3.json"
    assert path.read_text() == "earlier run"
    assert (tmp_path / "bench-x-2.json").read_text() == "another earlier run"
    assert read_results(got)["records"][0]["model"] == "lenet5"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench-x-2.json", "bench-x-3.json", "bench-x.json"]
    # Without exclusive (an explicit -o), the named file is replaced, atomically.
    assert write_results(path, _doc([])) == path and read_results(path)["records"] == []


def test_exclusive_write_without_hard_links(tmp_path, monkeypatch):
    import os

    def no_links(src, dst):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "bench-y.json"
    path.write_text("earlier run")
    assert write_results(path, _doc([_record()]), exclusive=True) == tmp_path / "bench-y-2.json"
    assert path.read_text() == "earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench-y-2.json", "bench-y.json"]


@pytest.mark.parametrize("token", ["Infinity", "-Infinity", "NaN"])
def test_non_finite_constants_are_damage(tmp_path, token):
    text = json.dumps(_doc([_record()])).replace('"median_ms": 0.5', f'"median_ms": {token}')
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(ArchscopeError) as info:
        read_results(path)
    assert str(info.value) == (f"{str(path)!r} holds {token}, which no bench figure can be; "
                               "the file is damaged")


@pytest.mark.parametrize("field, value, needle", [
    ("median_ms", 1e308, "'median_ms' is 1e+308, outside 0 to 1e+09 ms"),
    ("p95_ms", -1.0, "'p95_ms' is -1.0, outside 0 to 1e+09 ms"),
    ("median_ms", 0, "'median_ms' is 0, not above 0"),
    ("median_ms", -2.5, "'median_ms' is -2.5, outside 0 to 1e+09 ms"),
    ("batch_size", 0, "'batch_size' is 0, not between 1 and 2³¹"),
    ("batch_size", -8, "'batch_size' is -8, not between 1 and 2³¹"),
    ("macs", 2**64, "'macs' is 18446744073709551616, outside 0 to 2⁶³"),
    ("throughput_items_s", 1e300, "'throughput_items_s' is 1e+300, outside 0 to 1e+18"),
    ("peak_share", -0.5, "'peak_share' is -0.5, outside 0 to 1e+18"),
])
def test_out_of_range_figures_are_damage(tmp_path, field, value, needle):
    path = _write(tmp_path, _doc([_record(**{field: value})]))
    with pytest.raises(ArchscopeError) as info:
        load_results(path)
    msg = str(info.value)
    assert msg == f"{str(path)!r} record 0: {needle}; the file is damaged"


@pytest.mark.parametrize("row, needle", [
    ({"type": "Conv2d"}, "per_layer row 0 has no 'layer' (a string)"),
    ({"layer": 3}, "per_layer row 0: 'layer' is 3, not a string or null"),
    ({"layer": "c1", "time_ms": "fast"}, "per_layer row 0: 'time_ms' is 'fast', not a number"),
    ({"layer": "c1", "time_ms": -1.0}, "per_layer row 0: 'time_ms' is -1.0, outside 0 to 1e+09 ms"),
    ({"layer": "c1", "calls": 1.5}, "per_layer row 0: 'calls' is 1.5, not a whole number"),
    ({"layer": "c1", "macs": True}, "per_layer row 0: 'macs' is True, not a whole number"),
])
def test_ill_typed_per_layer_rows_are_damage(tmp_path, row, needle):
    path = _write(tmp_path, _doc([_record(per_layer=[row])]))
    with pytest.raises(ArchscopeError) as info:
        load_results(path)
    assert needle in str(info.value) and str(info.value).endswith("the file is damaged")


def test_roofs_must_be_typed_objects(tmp_path):
    path = _write(tmp_path, _doc([_record()], roofs=[{"device": "cpu", "peak_tflops": "fast"}]))
    with pytest.raises(ArchscopeError, match="roof 0: 'peak_tflops' is 'fast', not a number"):
        load_results(path)
    path = _write(tmp_path, _doc([_record()], roofs={"cpu": 1}), "b.json")
    with pytest.raises(ArchscopeError, match="'roofs' is not a list; the file is damaged"):
        load_results(path)


def test_only_regular_files_of_bounded_size_are_read(tmp_path, monkeypatch):
    import os
    import stat

    from archscope.timing import validate

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(ArchscopeError) as info:
        read_results(fifo)
    assert str(info.value) == (f"{str(fifo)!r} is a FIFO, not a bench results file; give the .json "
                               "file that archscope bench wrote")
    zero = tmp_path / "zero"
    os.mknod(zero, stat.S_IFCHR | 0o444, os.makedev(1, 5))  # a /dev/zero of our own
    with pytest.raises(ArchscopeError, match="is a device, not a bench results file"):
        read_results(zero)
    with pytest.raises(ArchscopeError, match="is a directory, not a bench results file"):
        read_results(tmp_path)
    monkeypatch.setattr(validate, "MAX_FILE_BYTES", 100)
    big = _write(tmp_path, _doc([_record()]), "big.json")  # a few hundred bytes
    with pytest.raises(ArchscopeError, match="MiB, over the 0 MiB a bench results file may have"):
        read_results(big)


@pytest.mark.parametrize("token", ["Infinity", "1e308"])
def test_report_refuses_a_damaged_bench_file_in_one_line(runner_cli, tmp_path, token):
    bench = tmp_path / "bad.json"
    bench.write_text(json.dumps(_doc([_record()])).replace('"median_ms": 0.5', f'"median_ms": {token}'))
    res = runner_cli.invoke(app, ["report", "lenet5", "--bench", str(bench), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 2
    [line] = res.stderr.strip().splitlines()
    assert line.startswith("error: ") and line.endswith("the file is damaged")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]
