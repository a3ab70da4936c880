"""How ops that compute move the input windows of their operands (see :mod:`.geometry`).

A rule reads an :class:`Op` (the op's arguments by their schema names, its outputs, its
operands' geometry) and returns the geometry of each output. Here: elementwise ops (the union
of the operands after broadcasting), sliding windows (convolutions and pools, also reported as
:class:`WindowOp` records: the kernel, stride, padding and dilation each one ran with),
reductions and normalisations (an element sees every position it reduces over), and products
(a matrix product's contracted dimension). Views, joins and copies, and the table of every
rule, are in :mod:`.geometry_rules`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .geometry import (Geo, Geometry, Lost, broadcast_to, collapse, has_axis, plain_dim,
                       through_window, union, with_shape)


@dataclass(frozen=True)
class WindowOp:
    """One sliding window an op ran: ``kind`` is ``conv``, ``transposed conv``, ``max pool``,
    ``avg pool`` or ``adaptive avg pool``/``adaptive max pool`` (then ``kernel`` is the output
    size); one value per spatial dimension."""

    kind: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]

    def text(self) -> str:
        """``5×5 conv``, ``3×3/2 max pool``, ``3×3 conv, dilation 2``."""
        if self.kind.startswith("adaptive"):
            return f"{self.kind} to {'×'.join(map(str, self.kernel))}"
        k = "×".join(map(str, self.kernel))
        s = set(self.stride)
        out = f"{k}/{self.stride[0]}" if s != {1} and len(s) == 1 else k
        if len(s) > 1:
            out += f" stride {'×'.join(map(str, self.stride))}"
        out += f" {self.kind}"
        if set(self.dilation) != {1}:
            out += f", dilation {'×'.join(map(str, self.dilation))}"
        return out


class Op:
    """An op as a rule sees it: arguments by schema name, outputs, and operands' geometry."""

    def __init__(self, name: str, func: Any, args: tuple, kwargs: dict, outs: list,
                 geo_of: Callable[[Any], Geo]) -> None:
        self.name, self.outs, self.geo_of = name, outs, geo_of
        schema = func._schema
        named = {a.name: a for a in schema.arguments}
        self.a: dict[str, Any] = {}
        for arg, value in zip(schema.arguments, args):
            self.a[arg.name] = value
        for arg in schema.arguments[len(args):]:
            self.a[arg.name] = kwargs[arg.name] if arg.name in kwargs else (
                arg.default_value if arg.has_default_value() else None)
        self.first = schema.arguments[0].name if named else None

    def geo(self, t: Any) -> Geo:
        return self.geo_of(t) if isinstance(t, torch.Tensor) else None

    def x(self) -> Any:
        return self.a[self.first]

    def lost(self, why: str = "") -> Lost:
        return Lost(f"aten::{self.name}" + (f" ({why})" if why else ""))


def shape_of(t: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _ints(value: Any, n: int, default: Any = None) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        value = default
    value = [value] if isinstance(value, int) else [int(v) for v in value]
    return value * n if len(value) == 1 else value


def operands(op: Op) -> list:
    out = []
    for v in op.a.values():
        if isinstance(v, torch.Tensor):
            out.append(v)
        elif isinstance(v, (list, tuple)):
            out += [t for t in v if isinstance(t, torch.Tensor)]
    return out


def on_geometry(rule: Callable[[Op, Geometry], Any]) -> Callable[[Op], Any]:
    """A rule of the first operand, run only when it has a geometry (else that is passed on)."""

    @functools.wraps(rule)
    def run(op: Op) -> Any:
        g = op.geo(op.x())
        return rule(op, g) if isinstance(g, Geometry) else g

    return run


def elementwise(op: Op) -> Geo:
    """Every tensor operand, broadcast to the output (in place: to the first operand)."""
    out = shape_of(op.outs[0])
    return union([broadcast_to(op.geo(t), shape_of(t), out) for t in operands(op)], out)


# ------------------------------------------------------------------ sliding windows
def window_of(op: Op) -> WindowOp | None:
    """The :class:`WindowOp` a convolution or pool ran, else None."""
    name, a = op.name, op.a
    if name in ("convolution", "_convolution", "convolution_overrideable"):
        w = a["weight"]
        nd = w.dim() - 2
        kind = "transposed conv" if a.get("transposed") else "conv"
        return WindowOp(kind, tuple(int(k) for k in w.shape[2:]), tuple(_ints(a["stride"], nd)),
                        tuple(_ints(a["padding"], nd)), tuple(_ints(a["dilation"], nd)))
    for kind, prefix in (("max pool", "max_pool"), ("avg pool", "avg_pool")):
        if name.startswith(prefix) and name[len(prefix)].isdigit():
            nd = int(name[len(prefix)])
            kernel = _ints(a["kernel_size"], nd)
            dilation = _ints(a.get("dilation"), nd, 1)
            return WindowOp(kind, tuple(kernel), tuple(_ints(a["stride"], nd, kernel)),
                            tuple(_ints(a["padding"], nd, 0)), tuple(dilation))
    for kind in ("adaptive avg pool", "adaptive max pool"):
        if name.lstrip("_").startswith(kind.replace(" ", "_")):
            size = shape_of(op.outs[0])
            nd = int(name.rstrip("d")[-1])
            return WindowOp(kind, size[-nd:], (), (), ())
    return None


def _ceil_div_ok(n_in: int, n_out: int) -> bool:
    return n_out == 1 or n_in % n_out == 0


def sliding(op: Op) -> Geo:
    """Convolutions and pools: each of the last ``nd`` dimensions moves its axis's window."""
    win = window_of(op)
    x = op.x()
    g = op.geo(x)
    weight_geo = [op.geo(op.a.get(k)) for k in ("weight", "bias")]
    if any(w is not None for w in weight_geo):
        return op.lost("weights that depend on the input")
    if not isinstance(g, Geometry):
        return g
    if win.kind == "transposed conv":
        return op.lost("a transposed convolution spreads each input over several outputs")
    out = shape_of(op.outs[0])
    nd = len(win.kernel)
    first = x.dim() - nd
    if win.kind == "conv":
        g = _mix_channels(op, g, first - 1, out)
        if isinstance(g, Lost):
            return g
    for i in range(nd):
        g = _slide(op, g, win, i, first + i, out)
        if isinstance(g, Lost):
            return g
    return g


def _mix_channels(op: Op, g: Geometry, ch: int, out: tuple[int, ...]) -> Geo:
    """A convolution mixes its input channels: a spatial axis held there becomes constant."""
    groups = int(op.a.get("groups") or 1)
    if has_axis(g.dims[ch]):
        if groups != 1:
            return op.lost("a grouped convolution over channels that hold a spatial axis")
        g = collapse(g, [ch])
    dims = list(g.dims)
    dims[ch] = plain_dim(out[ch])
    return Geometry(tuple(dims), g.windows)


def _slide(op: Op, g: Geometry, win, i: int, d: int, out: tuple[int, ...]) -> Geo:
    """Dimension ``d`` (the window's ``i``-th) through the window: fixed or adaptive."""
    if not win.kind.startswith("adaptive"):
        return through_window(g, d, out[d], win.kernel[i], win.stride[i], win.padding[i],
                              win.dilation[i], op.name)
    n_in, n_out = int(op.x().shape[d]), out[d]
    if has_axis(g.dims[d]) and not _ceil_div_ok(n_in, n_out):
        return op.lost(f"adaptive windows of unequal size, {n_in} → {n_out}")
    k = n_in if n_out == 1 or n_in < n_out else n_in // n_out
    return through_window(g, d, n_out, k, k, 0, 1, op.name)


# ------------------------------------------------------------------ mixing along dimensions
def dims_arg(op: Op, key: str, ndim: int) -> list[int]:
    d = op.a.get(key)
    if d is None or (isinstance(d, (list, tuple)) and len(d) == 0):
        return list(range(ndim))
    d = [d] if isinstance(d, int) else list(d)
    return sorted({int(v) % ndim for v in d}) if ndim else []


@on_geometry
def reduction(op: Op, g: Geometry) -> Geo:
    """mean, sum, amax, var, max.dim, …: the reduced dimensions' axes become constant."""
    x = op.x()
    key = "dim" if "dim" in op.a else "dims"
    reduced = dims_arg(op, key, x.dim())
    g = collapse(g, reduced)
    out = shape_of(op.outs[0])
    keep = [dim for d, dim in enumerate(g.dims) if d not in reduced or op.a.get("keepdim")]
    if len(keep) != len(out):
        keep = [() if d in reduced else dim for d, dim in enumerate(g.dims)]
    return with_shape(Geometry(tuple(keep), g.windows), out)


def mixing(op: Op, which: Callable[[int], list[int]]) -> Geo:
    """Each output element sees every position along some dimensions (shape unchanged)."""
    g = op.geo(op.x())
    return collapse(g, which(op.x().dim())) if isinstance(g, Geometry) else g


def softmax(op: Op) -> Geo:
    return mixing(op, lambda n: [int(op.a["dim"]) % n])


def batch_norm(op: Op) -> list[Geo]:
    """Eval mode: per channel, the windows pass. Training: statistics over batch and space."""
    g = op.geo(op.x())
    if op.a.get("training") and isinstance(g, Geometry):
        g = collapse(g, [d for d in range(op.x().dim()) if d != 1])
    return [g] + [None] * (len(op.outs) - 1)


def layer_norm(op: Op) -> list[Geo]:
    n = len(op.a["normalized_shape"])
    g = mixing(op, lambda nd: list(range(nd - n, nd)))
    return [g] + [None] * (len(op.outs) - 1)


def group_norm(op: Op) -> list[Geo]:
    g = mixing(op, lambda nd: list(range(1, nd)))
    return [g] + [None] * (len(op.outs) - 1)


# ------------------------------------------------------------------ products
def _laid(g: Geo, dims: list) -> Geo:
    """A part of a product laid out on the output: ``dims`` lists, per output dimension, the
    operand's dimension that lands there (None: the operand is constant along it)."""
    if not isinstance(g, Geometry):
        return g
    return Geometry(tuple(() if d is None else g.dims[d] for d in dims), g.windows)


def _matmul_parts(op: Op, a: Any, b: Any) -> list[Geo]:
    ga, gb = op.geo(a), op.geo(b)
    if isinstance(ga, Geometry):
        ga = collapse(ga, [a.dim() - 1])
    if isinstance(gb, Geometry):
        gb = collapse(gb, [b.dim() - 2])
    lead = list(range(a.dim() - 2))
    return [_laid(ga, lead + [a.dim() - 2, None]), _laid(gb, lead + [None, b.dim() - 1])]


def matmul(op: Op) -> Geo:
    """mm, bmm, addmm, baddbmm: the contracted dimension's axes become constant."""
    names = ("self", "mat2") if "mat2" in op.a and "mat1" not in op.a else ("mat1", "mat2")
    if op.name == "baddbmm":
        names = ("batch1", "batch2")
    a, b = op.a[names[0]], op.a[names[1]]
    out = shape_of(op.outs[0])
    parts = _matmul_parts(op, a, b)
    bias = op.a.get("self") if names[0] != "self" else None
    if isinstance(bias, torch.Tensor):
        parts.append(broadcast_to(op.geo(bias), shape_of(bias), out))
    return union(parts, out)


def attention(op: Op) -> list[Geo]:
    """Scaled dot-product attention: a query sees all keys and values (causal: Lost)."""
    q, k, v = op.a["query"], op.a["key"], op.a["value"]
    if op.a.get("is_causal"):
        return [op.lost("causal attention")] + [None] * (len(op.outs) - 1)
    out = shape_of(op.outs[0])
    lead = list(range(q.dim() - 2))
    parts = []
    gq = op.geo(q)
    if isinstance(gq, Geometry):
        parts.append(_laid(collapse(gq, [q.dim() - 1]), lead + [q.dim() - 2, None]))
    for t in (k, v):
        g = op.geo(t)
        if isinstance(g, Geometry):
            g = collapse(g, [t.dim() - 2, t.dim() - 1])
        parts.append(_laid(g, lead + [None, None]))
    mask = op.a.get("attn_mask")
    if isinstance(mask, torch.Tensor):
        parts.append(broadcast_to(op.geo(mask), shape_of(mask), out))
    return [union(parts, out)] + [None] * (len(op.outs) - 1)
