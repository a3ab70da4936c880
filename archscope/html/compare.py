"""The report's receptive-field section (every model with an image-like input) and its
"Differences" section (``archscope report A B --diff``): frames, then sections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import compare_figures as CF
from . import data as D
from .page import Chart, Section, Table

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis.diff_view import ModelDiff

RF_COLUMNS = ["model", "step", "layer", "type", "rf", "rf_text", "jump", "largest",
              "input_side"]


def count_with_fields(spec: Any, input_size: Any, engine: str, kwargs: dict | None):
    """The flops table of one model whose record carries the receptive-field trace (traced by
    the meta engine, whichever engine counts)."""
    from ..analysis.flops import flop_report, flop_view
    from ..analysis.receptive import attach_geometry, record_receptive

    if engine == "meta":
        return flop_view(record_receptive(spec, input_size, kwargs=kwargs))
    table = flop_report(spec, input_size, engine=engine, kwargs=kwargs)
    attach_geometry(table.record, record_receptive(spec, input_size, kwargs=kwargs))
    return table


def rf_frame(models: list[D.ModelData]) -> pd.DataFrame:
    """Per model, each leaf layer whose output has a receptive field, in forward order (the
    order the layers return): ``rf`` the largest over its axes, ``rf_text`` per axis
    (height×width), ``largest`` the largest so far, ``input_side`` the input's largest side."""
    import pandas as pd

    from ..analysis.receptive import call_field, has_fields

    recs = []
    for m in models:
        record = m.table.record
        if record is None or not has_fields(record):
            continue
        side = max(record.geometry.spatial)
        calls = sorted((c for c in record.calls if c.is_leaf and c.geometry is not None),
                       key=lambda c: c.geometry.returned)
        largest = step = 0
        for c in calls:
            f = call_field(c)
            if f is None:
                continue
            largest = max(largest, max(f.rf))
            jumps = [j for j in f.jump if j is not None]
            step += 1
            recs.append({"model": m.name, "step": step,
                         "layer": c.path, "type": c.type, "rf": max(f.rf),
                         "rf_text": "×".join(map(str, f.rf)),
                         "jump": "×".join(map(str, jumps)) if jumps else "-",
                         "largest": largest, "input_side": side})
    return pd.DataFrame.from_records(recs, columns=RF_COLUMNS)


def rf_section(models: list[D.ModelData], colors: dict[str, str]) -> Section | None:
    frame = rf_frame(models)
    if not len(frame):
        return None
    return Section(
        "receptive", "Receptive fields",
        "How far into the input each layer's units see, traced from every convolution's and "
        "pool's kernel, stride, padding and dilation (archscope rf MODEL for the table).",
        [Chart(CF.rf_growth(frame, colors),
               "Each marker is one layer's output, in forward order: the side of the input "
               "window one of its units sees (the larger of height and width). Inside an "
               "Inception block the branches take turns, so the markers dip; the line is the "
               "largest field so far, the network's. Dashed: the input's side; above it, units "
               "see zero padding past the border.")])


def _signed(value: Any) -> str:
    v = int(value)
    return f"{v:+,}" if v else "0"


def diff_section(d: ModelDiff) -> Section:
    """Where two models differ: the totals, the causes by layer kind and the blocks."""
    import pandas as pd

    from ..analysis.diff_causes import counted

    t = d.total
    totals = pd.DataFrame({
        "figure": ["parameters", "MACs", "FLOPs"],
        "a": [t["a"][k] for k in ("params", "macs", "flops")],
        "b": [t["b"][k] for k in ("params", "macs", "flops")],
        "delta": [t["delta"][k] for k in ("params", "macs", "flops")],
    })
    causes = pd.DataFrame({
        "what": [counted(c) for c in d.causes], "where": [c.where for c in d.causes],
        "layers": [c.layers for c in d.causes], "params": [c.params for c in d.causes],
        "macs": [c.macs for c in d.causes], "flops": [c.flops for c in d.causes]})
    items: list = [Table(totals, {"figure": "", "a": f"A: {d.model_a}", "b": f"B: {d.model_b}",
                                  "delta": "B − A"},
                         caption=f"Inputs: A {d.input_a}, B {d.input_b}.",
                         formats={"delta": _signed})]
    if d.causes:
        signed = {k: _signed for k in ("params", "macs", "flops")}
        items.append(Table(causes, {"what": "cause", "where": "where", "layers": "layers",
                                    "params": "parameters", "macs": "MACs", "flops": "FLOPs"},
                           caption="Each layer's difference counted once, so the causes add "
                           "up to B − A.", formats=signed, text=("where",)))
        blocks = pd.DataFrame([vars(b) for b in d.blocks])
        items.append(Chart(CF.diff_bars(blocks, f"{d.model_b} against {d.model_a}, by block"),
                           "The difference per top-level module (B − A); the bars add up to "
                           "the totals' difference. archscope diff A B lists every layer."))
    return Section("differences", "Differences", d.headline + ".", items)
