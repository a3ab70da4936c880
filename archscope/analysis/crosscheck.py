"""``verify MODEL --against torchinfo``: archscope's per-layer figures beside torchinfo's.

torchinfo walks the module tree with its own forward hooks and its own parameter accounting, so
it is an independent witness of every leaf call's output shape and of the parameter total. Its
"mult-adds" follow another convention (``LayerInfo.calculate_macs``), predicted here from
archscope's own figures, call by call:

- a convolution (a class named ``*Conv*``): its parameters named ``weight``/``bias`` × the
  output positions (batch × spatial). For an ordinary convolution that is archscope's MACs +
  its bias adds, so the row also checks archscope's MACs; a transposed convolution scatters
  from the input, so torchinfo's figure is not its MACs and only the convention is checked;
- any other layer with ``weight``/``bias``: those parameters × the batch (a linear layer on a
  2-D input: archscope's MACs + bias adds, checked too); other parameters with ``weight`` or
  ``bias`` in their name: × batch × the second output dimension (RNN-style);
- a layer without parameters: nothing.

A row matches when the shapes agree, the parameters agree (on a module's first call; later
calls read the same weights), torchinfo's mult-adds equal the prediction, and, where the
convention counts MACs, archscope's MACs + bias adds equal it. The totals must agree too:
torchinfo's parameter total against archscope's (plus any parameters that did not run, which
torchinfo counts), and the mult-add totals. Only leaf modules are compared row by row: a
block's own work (a residual add) or a weight its code reads from a child it never calls has no
torchinfo row, and the totals account for both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ArchscopeError
from .engines import DEFAULT_ENGINE
from .records import is_leaf_module, layer_name

CROSSCHECK_NOTES = [
    "torchinfo: its own hooks and parameter accounting, a real forward on CPU (zero weights)",
    "mult_adds_torchinfo: torchinfo's convention, predicted from archscope's params and shapes "
    "(convolutions: weight and bias × output positions; other layers: × batch); where it counts "
    "MACs (ordinary convolutions, linear layers on a 2-D input) archscope's MACs + bias adds "
    "must equal it",
    "params = weights + biases; MACs exclude biases; leaf calls only (a block's own residual "
    "add or concatenation has no torchinfo row; the totals include it)",
]


@dataclass
class CrossCheck:
    """Leaf calls side by side: ``columns`` (name → values), ``total``, ``notes``, ``ok``."""

    model: str
    input_size: tuple[int, ...]
    columns: dict[str, list[Any]]
    total: dict[str, Any]
    notes: list[str]
    ok: bool


@dataclass
class _Theirs:
    output: tuple[int, ...]
    params: int
    mult_adds: int


def _torchinfo_calls(model, inputs) -> tuple[dict[tuple[str, int], _Theirs], int, int]:
    """Each executed leaf call's figures as torchinfo reports them, keyed by (path, call
    index), and torchinfo's own parameter and mult-add totals."""
    try:
        import torchinfo
    except ImportError:  # pragma: no cover - a runtime dependency
        raise ArchscopeError("torchinfo is not installed; pip install torchinfo") from None

    args, kwargs = inputs.tensors("cpu")
    data = list(args) if len(args) != 1 else args[0]
    info = torchinfo.summary(model, input_data=data, depth=1_000, verbose=0, mode="eval",
                             col_names=("output_size", "num_params", "mult_adds"), **kwargs)
    paths = {id(m): p for p, m in model.named_modules()}
    calls: dict[tuple[str, int], _Theirs] = {}
    seen: dict[str, int] = {}
    for layer in info.summary_list:
        if not (layer.is_leaf_layer and layer.executed and id(layer.module) in paths):
            continue
        path = paths[id(layer.module)]
        k = seen.get(path, 0)
        seen[path] = k + 1
        out = tuple(int(d) for d in layer.output_size)
        calls[(path, k)] = _Theirs(out, int(layer.num_params), int(layer.macs))
    return calls, int(info.total_params), int(info.total_mult_adds)


def _predict(module, output: tuple[int, ...]) -> tuple[int, bool]:
    """torchinfo's mult-adds for one call of ``module`` with this output shape, and whether
    that figure is the layer's MACs + bias adds (see the module docstring)."""
    conv = "Conv" in type(module).__name__
    transposed = bool(getattr(module, "transposed", False))
    total = 0
    for name, p in module.named_parameters():
        leaf = name.rpartition(".")[2]
        n = p.numel()
        if leaf in ("weight", "bias"):
            if conv:
                total += n * math.prod((output[:1] or (1,)) + output[2:])
            else:
                total += (output[0] if output else 1) * n
        elif "weight" in leaf or "bias" in leaf:
            total += math.prod(output[:2]) * n
    counts_macs = (conv and not transposed) or (
        type(module).__name__ == "Linear" and len(output) == 2)
    return total, counts_macs


def crosscheck_torchinfo(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    engine: str = DEFAULT_ENGINE, kwargs: dict | None = None,
) -> CrossCheck:
    """Compare archscope's leaf calls (output shape, params, MACs) and totals with torchinfo's."""
    from ..models import load_target, materialize, resolve_inputs
    from .record import forward_error, record_target

    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    record = record_target(target, inputs, engine=engine)
    model = materialize(target.model, "cpu")  # torchinfo runs a real forward: zero weights
    try:
        theirs, their_params, their_mult_adds = _torchinfo_calls(model, inputs)
    except (KeyboardInterrupt, ArchscopeError):
        raise
    except BaseException as exc:  # torchinfo wraps the forward's own failure
        raise forward_error(target, inputs, getattr(exc, "__cause__", None) or exc, None) from exc
    modules = dict(model.named_modules())
    cols: dict[str, list[Any]] = {k: [] for k in (
        "layer", "call", "type", "output_shape", "output_shape_torchinfo", "params",
        "params_torchinfo", "macs", "mult_adds_torchinfo", "mult_adds_predicted", "match")}
    ours = {(c.path, c.index): c for c in record.calls
            if c.is_leaf and is_leaf_module(modules[c.path])}
    keys = list(ours) + [k for k in theirs if k not in ours]
    predicted_total = 0
    for key in keys:
        call, other = ours.get(key), theirs.get(key)
        predicted = counts_macs = None
        mine_shape = None
        if call is not None:
            out = call.outputs[0].shape if call.outputs else ()
            mine_shape = "x".join(map(str, out))
            predicted, counts_macs = _predict(modules[call.path], out)
            predicted_total += predicted
        their_shape = "x".join(map(str, other.output)) if other else None
        first = key[1] == 0
        params_ok = call is not None and other is not None and (
            not first or call.params == other.params)
        macs_ok = call is None or not counts_macs or (
            call.cost.macs + call.cost.other.get("bias", 0) == predicted)
        cols["layer"].append(layer_name(key[0]))
        cols["call"].append(key[1])
        cols["type"].append(call.type if call else type(modules[key[0]]).__name__)
        cols["output_shape"].append(mine_shape)
        cols["output_shape_torchinfo"].append(their_shape)
        cols["params"].append(call.params if call else None)
        cols["params_torchinfo"].append(other.params if other and first else None)
        cols["macs"].append(call.cost.macs if call else None)
        cols["mult_adds_torchinfo"].append(other.mult_adds if other else None)
        cols["mult_adds_predicted"].append(predicted)
        cols["match"].append(bool(
            call is not None and other is not None and mine_shape == their_shape and params_ok
            and predicted == other.mult_adds and macs_ok))
    rows_ok = all(cols["match"])
    n_bad = cols["match"].count(False)
    params_expected = record.params + record.dead_params
    params_ok = their_params in (record.params, params_expected)
    mult_adds_ok = their_mult_adds == predicted_total
    ok = rows_ok and params_ok and mult_adds_ok
    cost = record.cost
    total = {
        "layer": "total", "params": record.params, "params_torchinfo": their_params,
        "macs": cost.macs, "mult_adds_torchinfo": their_mult_adds,
        "mult_adds_predicted": predicted_total, "match": ok,
    }
    notes = [f"archscope's engine: {record.engine}", *CROSSCHECK_NOTES]
    dead = (f" + {record.dead_params:,} parameters that did not run"
            if their_params == params_expected and record.dead_params else "")
    notes.append(
        f"parameters: torchinfo {their_params:,}, archscope {record.params:,}{dead}"
        + ("" if params_ok else " — DISAGREE"))
    diff = their_mult_adds - cost.macs
    notes.append(f"torchinfo's total mult-adds {their_mult_adds:,} = archscope's {cost.macs:,} "
                 f"MACs {'+' if diff >= 0 else '−'} {abs(diff):,} by its convention"
                 + ("" if mult_adds_ok else f" — DISAGREES with the predicted {predicted_total:,}"))
    notes.append(f"{len(keys) - n_bad} of {len(keys)} leaf calls agree"
                 + ("" if rows_ok else f"; {n_bad} DISAGREE (match = no)"))
    return CrossCheck(record.name, inputs.first_shape, cols, total, notes, ok)
