"""Receptive fields per layer: the input window each unit of a module's output sees, exactly.

A :class:`GeometryTrace` follows the meta engine's forward op by op (:mod:`.geometry_ops`):
the model's first image-like input (N×C×H×W, or N×C×L) starts with every pixel seeing itself,
and every dispatched op moves the windows of its outputs, so branches join where the network
joins them: an Inception block's output sees the union of its branches (the largest), a
residual block's the union of its body and its shortcut. Nothing is read from module names or
types. Each module call keeps the geometry of its first output (:class:`CallGeometry`).

Columns, per spatial axis, in input pixels (one number when every axis agrees, else one per
axis, height first): ``rf`` = side of the window one unit sees (its extent, a dilated kernel's
gaps inside), ``jump`` = input pixels between neighbouring units (the effective stride; blank
once each element sees the whole map, after a global pool or a linear layer), ``start`` =
centre of the first unit's window (0 = centre of the first pixel; negative when it is
centred in the padding). A window may reach past the border into zero padding.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from ..conventions import RF, RF_EXACT
from ..errors import ArchscopeError
from .geometry import Geo, Geometry, Lost, origin
from .geometry_ops import WindowOp
from .geometry_rules import propagate
from .records import CallRecord, LayerTable, ModelRecord, depth_of, layer_name


@dataclass(frozen=True)
class CallGeometry:
    """One module call: the geometry of its first output, the sliding windows it ran itself,
    and when it returned (0 for the first call to return: the forward's data-flow order, a
    block after its children)."""

    output: Geo
    windows: tuple[WindowOp, ...] = ()
    returned: int = -1


@dataclass
class ModelGeometry:
    """The trace of one forward: the input's spatial size (``()`` when no input is image-like),
    how many sliding windows touched a spatial axis, where the windows were lost (reason →
    [count, the first layer it happened in]), and the first elementwise op where a branch that
    sees the whole map (a squeeze-and-excitation gate) made every unit see all of it."""

    spatial: tuple[int, ...]
    windows_on_input: int = 0
    lost: dict[str, list] = field(default_factory=dict)
    global_gate: tuple[str, str] | None = None  # (op, layer) where a global branch met a local


class GeometryTrace:
    """A watch for the meta engine (:class:`~.engines.meta.MetaEngine`): see the module
    docstring. Tensors are keyed by ``id`` with a weak reference to tell a reused id apart, so
    nothing is attached to the model's or the caller's tensors."""

    def __init__(self) -> None:
        self.recorder: Any = None
        self.geo: dict[int, tuple[Any, Geo]] = {}
        self.outputs: dict[int, Geo] = {}
        self.returned: dict[int, int] = {}
        self.windows: dict[int, list[WindowOp]] = {}
        self.info = ModelGeometry(())

    def lookup(self, t: Any) -> Geo:
        entry = self.geo.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def store(self, t: Any, g: Geo) -> None:
        self.geo[id(t)] = (weakref.ref(t), g)

    def start(self, recorder: Any, args: tuple, kwargs: dict) -> None:
        from .engines.recorder import tensors_in

        self.recorder = recorder
        for t in tensors_in((args, kwargs)):
            if t.dim() >= 3 and t.is_floating_point():
                shape = tuple(int(d) for d in t.shape)
                self.store(t, origin(shape, len(shape) - 2))
                self.info.spatial = shape[2:]
                return

    def _call(self) -> int | None:
        stack = self.recorder.stack if self.recorder is not None else []
        return stack[-1] if stack else None

    def op(self, func: Any, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        from .engines.recorder import tensors_in

        outs = list(tensors_in(out))
        if not outs:
            return
        before = [self.lookup(t) for t in tensors_in((args, kwargs))]
        geos, win = propagate(name, func, args, kwargs, outs, self.lookup)
        call = self._call()
        if win is not None and call is not None:
            self.windows.setdefault(call, []).append(win)
            if any(isinstance(g, Geometry) for g in before):
                self.info.windows_on_input += 1
        if self.info.global_gate is None and _gates(name, func, before, geos):
            where = self.recorder.calls[call].record.path if call is not None else ""
            self.info.global_gate = (f"aten::{name}", where)
        if not any(isinstance(g, Lost) for g in before):
            for g in geos:
                if isinstance(g, Lost):
                    where = self.recorder.calls[call].record.path if call is not None else ""
                    entry = self.info.lost.setdefault(g.reason, [0, where])
                    entry[0] += 1
                    break
        for t, g in zip(outs, geos):
            self.store(t, g)

    def output(self, order: int, value: Any) -> None:
        from .engines.recorder import tensors_in

        first = next(tensors_in(value), None)
        self.outputs[order] = self.lookup(first) if first is not None else None
        self.returned[order] = len(self.returned)

    def finish(self, record: ModelRecord) -> None:
        for c in record.calls:
            c.geometry = CallGeometry(self.outputs.get(c.order),
                                      tuple(self.windows.get(c.order, ())),
                                      self.returned.get(c.order, -1))
        record.geometry = self.info
        self.geo.clear()


def _layout(g: Geo) -> set[int]:
    return set(g.axis_dims()) if isinstance(g, Geometry) else set()


def _gates(name: str, func: Any, before: list[Geo], after: list[Geo]) -> bool:
    """An elementwise op whose output has fewer axes that move with the unit than one of its
    operands: a branch that sees the whole map met one that sees a window."""
    from .geometry_ops import elementwise
    from .geometry_rules import rule_for

    if not after or not isinstance(after[0], Geometry) or rule_for(name, func) is not elementwise:
        return False
    out = _layout(after[0])
    return any(_layout(g) - out for g in before)


def record_receptive(model_or_name: Any, input_size: Any = None, *,
                     batch_size: int | None = None, kwargs: dict | None = None) -> ModelRecord:
    """Build the model on the meta device and record one forward with the geometry trace."""
    from ..models import load_target, resolve_inputs
    from .record import record_target

    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    return record_target(target, inputs, engine="meta", watch=GeometryTrace())


def attach_geometry(record: ModelRecord, traced: ModelRecord) -> bool:
    """Copy the geometry of ``traced`` (the same model's meta record) onto ``record`` (another
    engine's), call by call; False when their calls differ."""
    if [(c.path, c.index) for c in record.calls] != [(c.path, c.index) for c in traced.calls]:
        return False
    for c, t in zip(record.calls, traced.calls):
        c.geometry = t.geometry
    record.geometry = traced.geometry
    return True


# ---------------------------------------------------------------------- reading a geometry
@dataclass(frozen=True)
class Field:
    """A unit's receptive field, per spatial axis (see the module docstring); ``units`` is how
    many distinct windows the axis has (1 once every element sees the same window)."""

    rf: tuple[int, ...]
    jump: tuple[int | None, ...]
    start: tuple[float, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    units: tuple[int, ...]

    def covers(self, spatial: tuple[int, ...]) -> bool:
        """Whether every unit sees the whole input (its window holds pixels 0 … size − 1)."""
        return all(lo + (n - 1) * (j or 0) <= 0 and hi >= size - 1
                   for lo, hi, j, n, size in zip(self.lo, self.hi, self.jump, self.units, spatial))

    def exceeds(self, spatial: tuple[int, ...]) -> bool:
        """Whether the window is larger than the input on some axis: every unit sees padding."""
        return any(rf > size for rf, size in zip(self.rf, spatial))


def field_of(geo: Geo) -> Field | None:
    if not isinstance(geo, Geometry) or not geo.windows:
        return None
    n = len(geo.windows)
    units = tuple(geo.units(a) for a in range(n))
    ws = geo.windows
    return Field(tuple(w.rf for w in ws),
                 tuple(w.jump if u > 1 else None for w, u in zip(ws, units)),
                 tuple(_half(w.start) for w in ws), tuple(w.lo for w in ws),
                 tuple(w.hi for w in ws), units)


def _returned(call: CallRecord) -> int:
    return call.geometry.returned if call.geometry is not None else -1


def _half(v: float) -> float | int:
    return int(v) if v == int(v) else v


def one_or_each(values: tuple) -> Any:
    """One value when every axis agrees, else the tuple (height first)."""
    return values[0] if len(set(values)) == 1 else values


def call_field(call: CallRecord) -> Field | None:
    return field_of(call.geometry.output) if call.geometry is not None else None


def has_fields(record: ModelRecord) -> bool:
    """Whether the record was traced on an image-like input that a sliding window touched."""
    g = record.geometry
    return g is not None and bool(g.spatial) and g.windows_on_input > 0


def size_text(spatial: tuple[int, ...]) -> str:
    return "×".join(map(str, spatial))


def check_spatial(record: ModelRecord) -> None:
    """One sentence when receptive fields mean nothing for this model and input."""
    g = record.geometry
    if g is None:
        raise ArchscopeError("receptive fields need the meta engine's trace; use --engine meta")
    if not g.spatial:
        raise ArchscopeError(
            f"{record.name} takes no image-like input (got {record.input_text()}): a receptive "
            "field is the input window one unit of a feature map sees, so it needs an input "
            "N×C×H×W (or N×C×L)")
    if not g.windows_on_input:
        raise ArchscopeError(
            f"{record.name} has no convolution or pooling over its input {record.input_text()}: "
            "every unit sees its own position only, so it has no receptive field to show")


def border_layers(record: ModelRecord, rows: list[tuple[str, Field | None]]
                  ) -> tuple[str | None, str | None]:
    """The first of ``rows`` (path, field) in data-flow order (a block counted when it
    returns) whose window is larger than the input, and the first where every unit covers
    the whole input."""
    spatial = record.geometry.spatial
    by_path = record.by_path
    rows = sorted(rows, key=lambda r: _returned(by_path[r[0]][0]))
    past = next((p for p, f in rows if f is not None and f.exceeds(spatial)), None)
    whole = next((p for p, f in rows if f is not None and f.covers(spatial)), None)
    return past, whole


def border_notes(record: ModelRecord, rows: list[tuple[str, Field | None]]) -> list[str]:
    """Where units start to see past the input's border, and to cover all of it (see
    :func:`border_layers`), and where the windows were lost."""
    g = record.geometry
    size = size_text(g.spatial)
    notes = []
    past, whole = border_layers(record, rows)
    if past is not None:
        notes.append(f"the receptive field is larger than the {size} input from "
                     f"{layer_name(past)} on: from there every unit also sees zero padding past "
                     "the border")
    if whole is not None:
        notes.append(f"every unit covers the whole {size} input from {layer_name(whole)} on")
    elif rows:
        notes.append(f"no layer shown covers the whole {size} input with every unit")
    if g.global_gate is not None:
        op, where = g.global_gate
        notes.append(f"from {layer_name(where)} on every unit sees its whole input map: a branch "
                     f"that sees all of it (a squeeze-and-excitation gate, a norm over space) "
                     f"meets the local one at {op}, so rf stops growing with depth")
    for reason, (count, where) in g.lost.items():
        notes.append(f"receptive fields end at {reason} in {layer_name(where)} (×{count}): the "
                     "windows after it are not one sliding window, so they are left blank")
    return notes


def top_level_fields(record: ModelRecord) -> list[tuple[str, Field | None]]:
    """(path, field) of every top-level module's first call (the stages of a network)."""
    return [(p, call_field(calls[0])) for p, calls in record.by_path.items()
            if depth_of(p) == 1]


RF_NOTES = [RF, RF_EXACT]


def rf_view(record: ModelRecord, *, depth: int | None = 3) -> LayerTable:
    """The module tree down to ``depth`` with each module's output receptive field."""
    from .params import shape_text
    from .rows import subtree_totals

    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0")
    check_spatial(record)
    spatial = record.geometry.spatial
    cols: dict[str, list] = {k: [] for k in ("layer", "depth", "type", "output_shape", "rf",
                                             "jump", "start", "whole_input")}
    shown: list[tuple[str, Field | None]] = []
    for path, fig in subtree_totals(record).items():
        if depth is not None and depth_of(path) > depth:
            continue
        f = call_field(record.by_path[path][0])
        shown.append((path, f))
        cols["layer"].append(layer_name(path))
        cols["depth"].append(depth_of(path))
        cols["type"].append(fig.type)
        cols["output_shape"].append(shape_text(fig.output_shape))
        for k, v in field_columns(f).items():
            cols[k].append(v)
        cols["whole_input"].append(f.covers(spatial) if f is not None else None)
    notes = [*RF_NOTES, f"input {record.input_text()}; whole_input: every unit's window holds "
             f"the whole {size_text(spatial)} input", *border_notes(record, shown)]
    return LayerTable("receptive fields", record.name, record.inputs[0].shape, cols,
                      {"layer": "input", "output_shape": record.input_text()}, notes,
                      {"depth": depth, "tree": True, "inputs": record.input_text(),
                       "spatial": list(spatial)}, record)


def field_columns(f: Field | None) -> dict[str, Any]:
    """``rf``, ``jump``, ``start`` of one row (None where the output sees no input window)."""
    if f is None:
        return {"rf": None, "jump": None, "start": None}
    jump = None if all(j is None for j in f.jump) else one_or_each(f.jump)
    return {"rf": one_or_each(f.rf), "jump": jump, "start": one_or_each(f.start)}


def rf_report(model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
              depth: int | None = 3, kwargs: dict | None = None) -> LayerTable:
    """Receptive field of every module's output, down to ``depth`` (None: every module)."""
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0")
    record = record_receptive(model_or_name, input_size, batch_size=batch_size, kwargs=kwargs)
    return rf_view(record, depth=depth)


__all__ = ["CallGeometry", "Field", "GeometryTrace", "ModelGeometry", "attach_geometry",
           "call_field", "field_of", "has_fields", "record_receptive", "rf_report", "rf_view"]
