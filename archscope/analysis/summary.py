"""``summary``: the module tree with output shapes, params and MACs, plus memory.

Each tree row aggregates its whole subtree (a block's params and MACs include its children's).
Rows carry the full module path and its depth; text and Markdown indent each name by its depth.
Memory: parameter bytes = params × dtype size; activation bytes = the sum of every leaf
module's output elements × dtype size for one forward at the chosen batch — what a forward
writes if nothing is freed or fused, an upper bound on what inference keeps alive.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from .flops import costs
from .flops.table import FLOP_NOTES, measure, _dtype
from .params import depth_of, note_not_run, own_params
from .records import LayerTable
from .trace import ran_leaves


def _self_and_ancestors(path: str):
    """``"a.b.c"`` → ``a.b.c``, ``a.b``, ``a``, ``""`` (the root)."""
    while True:
        yield path
        if path == "":
            return
        path = path.rpartition(".")[0]


def summary_report(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    depth: int | None = 3, engine: str = "fvcore", dtype: Any = "fp32", kwargs: dict | None = None,
) -> LayerTable:
    """The module tree down to ``depth`` (None: all), subtree totals per row, and memory."""
    from ..errors import ArchscopeError

    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0")
    dt = _dtype(dtype)
    target, shape, own, _, runs = measure(
        model_or_name, input_size, batch_size=batch_size, engine=engine, kwargs=kwargs
    )
    model = target.model
    params = {p: r.params for p, r in own_params(model).items() if p in runs}
    sub_params: Counter = Counter()
    sub_counts: dict[str, Counter] = {}
    for path in runs:
        sub_counts[path] = Counter()
    for path, n in params.items():  # add each module's own figures to itself and its ancestors
        for p in _self_and_ancestors(path):
            sub_params[p] += n
    for path, c in own.items():
        for p in _self_and_ancestors(path):
            sub_counts.setdefault(p, Counter()).update(c)
    columns: dict[str, list] = {k: [] for k in ("layer", "depth", "type", "output_shape",
                                                "params", "macs", "flops")}
    for path, module in model.named_modules():
        if path not in runs or (depth is not None and depth_of(path) > depth):
            continue
        run, counts = runs[path], sub_counts.get(path, Counter())
        columns["layer"].append(path or "(model)")
        columns["depth"].append(depth_of(path))
        columns["type"].append(type(module).__name__)
        columns["output_shape"].append(
            "x".join(map(str, run.output_shape)) if run.output_shape else "")
        columns["params"].append(int(sub_params.get(path, 0)))
        columns["macs"].append(int(counts.get(costs.MACS, 0)))
        columns["flops"].append(costs.total_flops(counts))
    elem = torch.empty((), dtype=dt, device="meta").element_size()
    leaves = ran_leaves(model, runs)
    act = elem * sum(runs[p].output_numel for p in leaves)
    total_params = int(sub_params.get("", 0))
    total = {
        "layer": "total",
        "params": total_params,
        "macs": int(sub_counts[""].get(costs.MACS, 0)),
        "flops": costs.total_flops(sub_counts[""]),
        "param_bytes": elem * total_params,
        "activation_bytes": act,
        "input_bytes": elem * costs.numel(shape),
    }
    mib = 1024 * 1024
    notes = [
        *FLOP_NOTES[:3],
        "each row totals its whole subtree (the model's row: the whole network)",
        f"memory at {str(dt).removeprefix('torch.')} ({elem} bytes): parameters "
        f"{total['param_bytes']:,} B ({total['param_bytes'] / mib:.1f} MiB); activations "
        f"{act:,} B ({act / mib:.1f} MiB) = every leaf output of one forward at batch {shape[0]}; "
        f"input {total['input_bytes']:,} B",
    ]
    notes += note_not_run(model, runs, total)
    # tree: text and Markdown show each row as its name indented by depth (render.tree_view)
    return LayerTable("summary", target.name, shape, columns, total, notes,
                      {"engine": engine, "dtype": str(dt).removeprefix("torch."), "depth": depth,
                       "tree": True})
