"""``summary``: the module tree with output shapes, params and MACs, plus memory.

On an image-like input the tree also shows each module's output receptive field (``rf``,
``jump``, ``start``; see :mod:`.receptive`), read from the meta engine's geometry trace.

Each tree row aggregates its whole subtree (a block's params and MACs include its children's),
over every call. Rows carry the full module path and its depth; text and Markdown indent each
name by its depth. Memory: parameter bytes = params × dtype size; activation bytes = the sum of
every leaf call's output elements × dtype size for one forward at the chosen batch (a module
called three times counts three outputs) — what a forward writes if nothing is freed or fused,
an upper bound on what inference keeps alive.
"""

from __future__ import annotations

from typing import Any

from ..errors import ArchscopeError
from .engines import DEFAULT_ENGINE, get_engine
from .flops import FLOP_NOTES, float_bytes, note_uncounted
from .params import dead_totals, record_notes, shape_text
from ..models import load_target, resolve_inputs
from .record import record_target
from .receptive import RF_NOTES, attach_geometry, call_field, field_columns, has_fields
from .records import ROOT_NAME, LayerTable, ModelRecord, depth_of, layer_name, nbytes
from .rows import subtree_totals


def summary_view(record: ModelRecord, *, depth: int | None = 3, dtype: Any = "fp32"
                 ) -> LayerTable:
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0")
    elem, dt = float_bytes(dtype)
    tree = subtree_totals(record, elem)
    columns: dict[str, list] = {k: [] for k in ("layer", "depth", "type", "output_shape",
                                                "params", "macs", "flops", "calls")}
    for path, fig in tree.items():
        if depth is not None and depth_of(path) > depth:
            continue
        cost = fig.cost
        columns["layer"].append(layer_name(path))
        columns["depth"].append(depth_of(path))
        columns["type"].append(fig.type)
        columns["output_shape"].append(shape_text(fig.output_shape))
        columns["params"].append(fig.params)
        columns["macs"].append(cost.macs)
        columns["flops"].append(cost.flops)
        columns["calls"].append(fig.calls)
    fields = has_fields(record)
    if fields:
        for path in columns["layer"]:
            f = call_field(record.by_path["" if path == ROOT_NAME else path][0])
            for k, v in field_columns(f).items():
                columns.setdefault(k, []).append(v)
    root = tree[""]
    cost = root.cost
    act = elem * root.activation_elements
    input_bytes = nbytes(record.inputs, elem)
    total = {
        "layer": "total",
        "params": root.params,
        "macs": cost.macs,
        "flops": cost.flops,
        "param_bytes": elem * root.params,
        "activation_bytes": act,
        "input_bytes": input_bytes,
    }
    total.update(dead_totals(record))
    mib = 1024 * 1024
    batch = record.inputs[0].shape[0] if record.inputs and record.inputs[0].shape else 1
    notes = [
        *FLOP_NOTES[:3],
        "each row totals its whole subtree over all its calls (the model's row: the whole network)",
        f"memory at {dt} ({elem} bytes): parameters {total['param_bytes']:,} B "
        f"({total['param_bytes'] / mib:.1f} MiB); activations {act:,} B ({act / mib:.1f} MiB) = "
        f"every leaf call's output in one forward at batch {batch}; input {input_bytes:,} B",
    ]
    if fields:
        notes.append(RF_NOTES[0])
    notes += record_notes(record)
    note_uncounted(record.uncounted, notes, total)
    # tree: text and Markdown show each row as its name indented by depth (render.tree_view)
    return LayerTable("summary", record.name, record.inputs[0].shape, columns, total, notes,
                      {"engine": record.engine, "dtype": dt, "depth": depth, "tree": True,
                       "inputs": record.input_text()}, record)


def summary_report(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    depth: int | None = 3, engine: str = DEFAULT_ENGINE, dtype: Any = "fp32",
    kwargs: dict | None = None,
) -> LayerTable:
    """The module tree down to ``depth`` (None: all), subtree totals per row, and memory; with
    receptive fields on an image-like input (traced by the meta engine whichever ``engine``
    counts)."""
    from .receptive import GeometryTrace

    get_engine(engine)
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0")
    float_bytes(dtype)
    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    traced = record_target(target, inputs, engine="meta", watch=GeometryTrace())
    record = traced if engine == "meta" else record_target(target, inputs, engine=engine)
    if record is not traced:
        attach_geometry(record, traced)
    return summary_view(record, depth=depth, dtype=dtype)
