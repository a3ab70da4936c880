"""``verify MODEL --against torchinfo``: archscope's per-layer figures beside torchinfo's.

torchinfo walks the module tree with its own forward hooks and its own parameter accounting, so
it is an independent witness of every leaf layer's output shape and parameter count. Its
"mult-adds" follow another convention, which is reconciled here exactly, layer by layer, from
archscope's own figures (torchinfo's ``LayerInfo.calculate_macs``):

- a convolution: its parameters (weights *and* biases) × output positions (batch × spatial),
  that is archscope's MACs + its bias adds;
- any other layer with weights or biases: its parameters × the batch (batch norm's γ and β,
  a linear layer's weights and bias on a 2-D input: archscope's MACs + bias adds);
- a layer without parameters: nothing, so the MACs of a bare matmul are missing from torchinfo.

A row matches when the shapes and parameter counts are equal and torchinfo's mult-adds equal
what that rule predicts from archscope's figures. Only leaf modules are compared: torchinfo has
no row for a block's own work outside its children (a residual add, a concatenation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ArchscopeError

CROSSCHECK_NOTES = [
    "torchinfo: its own hooks and parameter accounting, a real forward on CPU (zero weights)",
    "mult_adds_torchinfo: torchinfo's convention, predicted from archscope's figures as "
    "convolution = MACs + bias adds; other layers with parameters = params × batch; "
    "layers without parameters = 0",
    "params = weights + biases; MACs exclude biases; leaf layers only (a block's own residual "
    "add or concatenation has no torchinfo row)",
]


@dataclass
class CrossCheck:
    """Leaf layers side by side: ``columns`` (name → values), ``total``, ``notes``, ``ok``."""

    model: str
    input_size: tuple[int, ...]
    columns: dict[str, list[Any]]
    total: dict[str, Any]
    notes: list[str]
    ok: bool


def _predicted_mult_adds(kind: str, params: int, macs: int, bias_adds: int, batch: int) -> int:
    """torchinfo's mult-adds for one leaf, from archscope's figures (see module docstring)."""
    if not params:
        return 0
    if "Conv" in kind:
        return macs + bias_adds
    return params * batch


def _torchinfo_leaves(model, shape) -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Each executed leaf's (output shape, params, mult-adds) as torchinfo reports them."""
    try:
        import torchinfo
    except ImportError:  # pragma: no cover - a runtime dependency
        raise ArchscopeError("torchinfo is not installed; pip install torchinfo") from None

    info = torchinfo.summary(model, input_size=shape, depth=1_000, verbose=0, mode="eval",
                             col_names=("output_size", "num_params", "mult_adds"))
    paths = {id(m): p or "(model)" for p, m in model.named_modules()}
    leaves: dict[str, tuple[tuple[int, ...], int, int]] = {}
    for layer in info.summary_list:
        if layer.is_leaf_layer and layer.executed and id(layer.module) in paths:
            out = tuple(int(d) for d in layer.output_size)
            # a module called twice appears twice; its first call is the row, as in archscope
            leaves.setdefault(paths[id(layer.module)], (out, int(layer.num_params),
                                                        int(layer.macs)))
    return leaves


def crosscheck_torchinfo(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    engine: str = "meta", kwargs: dict | None = None,
) -> CrossCheck:
    """Compare archscope's leaf rows (output shape, params, MACs) with torchinfo's."""
    from ..models import analysis_target, materialize
    from .flops import flop_report

    target, shape = analysis_target(model_or_name, input_size, batch_size, kwargs)
    model = target.model
    materialize(model, "cpu")  # torchinfo runs a real forward (a meta-built model gets zeros)
    rep = flop_report(model, shape[1:], batch_size=shape[0], engine=engine)
    theirs = _torchinfo_leaves(model, shape)
    leaf = {p or "(model)" for p, m in model.named_modules() if not any(True for _ in m.children())}
    ours = {layer: i for i, layer in enumerate(rep.columns["layer"]) if layer in leaf}

    cols: dict[str, list[Any]] = {k: [] for k in (
        "layer", "type", "output_shape", "output_shape_torchinfo", "params", "params_torchinfo",
        "macs", "mult_adds_torchinfo", "mult_adds_predicted", "match")}
    for layer in [*ours, *(p for p in theirs if p not in ours)]:
        i = ours.get(layer)
        mine = {k: rep.columns[k][i] for k in ("type", "output_shape", "params", "macs")} \
            if i is not None else None
        other = theirs.get(layer)
        predicted = None
        if mine is not None:
            bias_adds = rep.columns["other_flops"][i].get("bias", 0)
            predicted = _predicted_mult_adds(mine["type"], mine["params"], mine["macs"],
                                             bias_adds, shape[0])
        their_shape = "x".join(map(str, other[0])) if other else None
        cols["layer"].append(layer)
        cols["type"].append(mine["type"] if mine else None)
        cols["output_shape"].append(mine["output_shape"] if mine else None)
        cols["output_shape_torchinfo"].append(their_shape)
        cols["params"].append(mine["params"] if mine else None)
        cols["params_torchinfo"].append(other[1] if other else None)
        cols["macs"].append(mine["macs"] if mine else None)
        cols["mult_adds_torchinfo"].append(other[2] if other else None)
        cols["mult_adds_predicted"].append(predicted)
        cols["match"].append(
            mine is not None and other is not None and mine["output_shape"] == their_shape
            and mine["params"] == other[1] and predicted == other[2]
        )

    def col_sum(name: str) -> int:
        return sum(v for v in cols[name] if v is not None)

    ok = all(cols["match"])
    n_bad = cols["match"].count(False)
    total = {
        "layer": "total", "params": col_sum("params"), "params_torchinfo": col_sum("params_torchinfo"),
        "macs": col_sum("macs"), "mult_adds_torchinfo": col_sum("mult_adds_torchinfo"),
        "mult_adds_predicted": col_sum("mult_adds_predicted"), "match": ok,
    }
    notes = [f"archscope's engine: {engine}", *CROSSCHECK_NOTES]
    diff = total["mult_adds_torchinfo"] - total["macs"]
    notes.append(f"torchinfo's total mult-adds {total['mult_adds_torchinfo']:,} = archscope's "
                 f"{total['macs']:,} MACs {'+' if diff >= 0 else '−'} {abs(diff):,} by its "
                 "convention (bias adds, parameters × batch of the other layers)")
    notes.append(f"{len(cols['layer']) - n_bad} of {len(cols['layer'])} leaf layers agree"
                 + ("" if ok else f"; {n_bad} DISAGREE (match = no)"))
    return CrossCheck(target.name, shape, cols, total, notes, ok)

