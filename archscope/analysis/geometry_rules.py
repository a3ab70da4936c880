"""The table of geometry rules, with the rules for views, joins and copies (see :mod:`.geometry`).

One rule per op family, keyed by overload-packet name (``convolution``, ``max_pool2d_with_indices``,
``view``, …); ops torch tags *pointwise* take the union of their operands after broadcasting
(:func:`~.geometry_ops.elementwise`). An op not listed here whose operands carry a window makes
a :class:`~.geometry.Lost` tensor naming it: nothing is guessed. Ops that only create tensors
(``empty``, ``zeros_like``) make tensors that see nothing.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .geometry import (Geo, Geometry, Lost, broadcast_to, has_axis, plain_dim, regroup, shift,
                       union, with_shape)
from .geometry_ops import (Op, WindowOp, dims_arg, shape_of, operands, attention, batch_norm,
                           elementwise, group_norm, layer_norm, matmul, on_geometry, reduction,
                           sliding, softmax, window_of)


# ------------------------------------------------------------------ views and copies
def same(op: Op) -> Geo:
    return op.geo(op.x())


@on_geometry
def view(op: Op, g: Geometry) -> Geo:
    return regroup(g, shape_of(op.x()), shape_of(op.outs[0]))


@on_geometry
def permute(op: Op, g: Geometry) -> Geo:
    n = op.x().dim()
    if op.name == "permute":
        order = [int(d) % n for d in op.a["dims"]]
    else:  # transpose, t
        order = list(range(n))
        d0, d1 = (0, 1) if op.name == "t" else (int(op.a["dim0"]) % n, int(op.a["dim1"]) % n)
        if n >= 2:
            order[d0], order[d1] = order[d1], order[d0]
    return Geometry(tuple(g.dims[d] for d in order), g.windows)


@on_geometry
def unsqueeze(op: Op, g: Geometry) -> Geo:
    d = int(op.a["dim"]) % (op.x().dim() + 1)
    return Geometry(g.dims[:d] + ((),) + g.dims[d:], g.windows)


@on_geometry
def squeeze(op: Op, g: Geometry) -> Geo:
    x = op.x()
    which = dims_arg(op, "dim", x.dim()) if op.a.get("dim") is not None else list(range(x.dim()))
    keep = [dim for d, dim in enumerate(g.dims) if not (d in which and x.shape[d] == 1)]
    return with_shape(Geometry(tuple(keep), g.windows), shape_of(op.outs[0]))


@on_geometry
def expand(op: Op, g: Geometry) -> Geo:
    return with_shape(broadcast_to(g, shape_of(op.x()), shape_of(op.outs[0])), shape_of(op.outs[0]))


@on_geometry
def slice_(op: Op, g: Geometry) -> Geo:
    x = op.x()
    d = int(op.a["dim"]) % x.dim()
    n = int(x.shape[d])
    start = op.a.get("start")
    start = 0 if start is None else int(start)
    start = max(0, min(n, start + n if start < 0 else start))
    return shift(g, d, start, int(op.outs[0].shape[d]), int(op.a.get("step") or 1))


@on_geometry
def select(op: Op, g: Geometry) -> Geo:
    x = op.x()
    d = int(op.a["dim"]) % x.dim()
    i = int(op.a["index"]) % int(x.shape[d])
    picked = shift(g, d, i, 1)
    if not isinstance(picked, Geometry):
        return picked
    return Geometry(picked.dims[:d] + picked.dims[d + 1:], picked.windows)


def split(op: Op) -> list[Geo]:
    """split, split_with_sizes, unbind: each output a slice along the dimension."""
    g = op.geo(op.x())
    x = op.x()
    d = int(op.a.get("dim") or 0) % x.dim()
    out, at = [], 0
    for t in op.outs:
        n = int(t.shape[d]) if t.dim() == x.dim() else 1
        if not isinstance(g, Geometry):
            out.append(g)
        else:
            part = shift(g, d, at, n)
            if isinstance(part, Geometry) and t.dim() != x.dim():  # unbind drops the dim
                part = Geometry(part.dims[:d] + part.dims[d + 1:], part.windows)
            out.append(part)
        at += n
    return out


@on_geometry
def pad(op: Op, g: Geometry) -> Geo:
    """constant_pad_nd: pads (left, right) per dimension from the last one backwards."""
    x, out = op.x(), shape_of(op.outs[0])
    pads = [int(p) for p in op.a["pad"]]
    for i in range(len(pads) // 2):
        d = x.dim() - 1 - i
        g = shift(g, d, -pads[2 * i], out[d])
        if not isinstance(g, Geometry):
            return g
    return g


def _join(op: Op, new_dim: bool) -> Geo:
    """cat (``new_dim`` False) and stack: the joined dimension is plain; joining along a
    spatial axis is Lost; the other dimensions are the union of the operands'."""
    tensors = [t for t in op.a["tensors"] if new_dim or not (t.dim() == 1 and t.shape[0] == 0)]
    if not tensors:
        return None
    out = shape_of(op.outs[0])
    d = int(op.a.get("dim") or 0) % len(out)
    parts = []
    for t in tensors:
        g = op.geo(t)
        if isinstance(g, Geometry):
            if not new_dim and has_axis(g.dims[d]):
                return op.lost("a concatenation along a spatial axis")
            rest = g.dims[d:] if new_dim else g.dims[d + 1:]
            g = Geometry(g.dims[:d] + (plain_dim(out[d]),) + rest, g.windows)
        parts.append(g)
    return union(parts, out)


def copy_into(op: Op) -> Geo:
    out = shape_of(op.outs[0])
    src = op.a["src"]
    return broadcast_to(op.geo(src), shape_of(src), out)


@on_geometry
def glu(op: Op, g: Geometry) -> Geo:
    """GLU halves one dimension (a gate on the other half): fine on channels, Lost on space."""
    d = int(op.a.get("dim") if op.a.get("dim") is not None else -1) % op.x().dim()
    if has_axis(g.dims[d]):
        return op.lost("a gate that halves a spatial axis")
    return with_shape(g, shape_of(op.outs[0]))


def nothing(op: Op) -> Geo:
    """The output's values do not depend on the operands' values (``zeros_like``, ``fill_``)."""
    return None


Rule = Callable[[Op], Any]

RULES: dict[str, Rule] = {
    "convolution": sliding, "_convolution": sliding, "convolution_overrideable": sliding,
    "_native_batch_norm_legit_no_training": batch_norm, "native_batch_norm": batch_norm,
    "_native_batch_norm_legit": batch_norm, "native_layer_norm": layer_norm,
    "native_group_norm": group_norm,
    "_softmax": softmax, "_log_softmax": softmax, "_safe_softmax": softmax,
    "mm": matmul, "bmm": matmul, "addmm": matmul, "baddbmm": matmul,
    "view": view, "_unsafe_view": view, "reshape": view, "_reshape_alias": view,
    "view_copy": view, "permute": permute, "transpose": permute, "t": permute,
    "unsqueeze": unsqueeze, "squeeze": squeeze, "expand": expand, "slice": slice_,
    "select": select, "split": split, "split_with_sizes": split, "unbind": split,
    "constant_pad_nd": pad, "cat": lambda op: _join(op, False),
    "stack": lambda op: _join(op, True), "copy_": copy_into,
    "alias": same, "clone": same, "_to_copy": same, "detach": same, "lift_fresh_copy": same,
    "native_dropout": lambda op: [same(op), None], "glu": glu,
    "log_sigmoid_forward": lambda op: [same(op), None],
    "fill_": nothing, "zero_": nothing, "empty_like": nothing, "zeros_like": nothing,
    "ones_like": nothing, "full_like": nothing, "rand_like": nothing, "randn_like": nothing,
    "new_empty": nothing, "new_zeros": nothing, "new_ones": nothing, "new_full": nothing,
    "scalar_tensor": nothing, "empty": nothing, "zeros": nothing, "ones": nothing,
    "full": nothing, "arange": nothing,
}
for _nd in (1, 2, 3):
    for _name in (f"max_pool{_nd}d_with_indices", f"max_pool{_nd}d", f"avg_pool{_nd}d",
                  f"_adaptive_avg_pool{_nd}d", f"adaptive_avg_pool{_nd}d",
                  f"adaptive_max_pool{_nd}d"):
        RULES[_name] = sliding
for _name in ("mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean",
              "std_mean", "logsumexp", "linalg_vector_norm", "norm", "prod", "nansum",
              "nanmean", "argmax", "argmin", "all", "any", "count_nonzero"):
    RULES[_name] = reduction
for _name in ("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_attention_math",
              "_scaled_dot_product_efficient_attention", "_scaled_dot_product_flash_attention",
              "_scaled_dot_product_cudnn_attention", "scaled_dot_product_attention"):
    RULES[_name] = attention


# Elementwise ops torch does not tag pointwise (torch 2.13)
UNTAGGED_ELEMENTWISE = {"where", "gelu_", "hardswish", "hardswish_", "mish_", "threshold_",
                        "masked_fill_", "_prelu_kernel"}


def rule_for(name: str, func: Any) -> Rule | None:
    """The rule of an op: listed, or elementwise when torch tags it pointwise."""
    rule = RULES.get(name)
    if rule is None and (name in UNTAGGED_ELEMENTWISE
                         or torch.Tag.pointwise in getattr(func, "tags", ())):
        return elementwise
    return rule


def propagate(name: str, func: Any, args: tuple, kwargs: dict, outs: list,
              geo_of: Callable[[Any], Geo]) -> tuple[list[Geo], WindowOp | None]:
    """Each output's geometry, and the sliding window the op ran (if it is one)."""
    op = Op(name, func, args, kwargs, outs, geo_of)
    rule = rule_for(name, func)
    win = window_of(op) if rule is sliding else None
    if rule is None:
        seen = [op.geo(t) for t in operands(op)]
        lost = next((g for g in seen if isinstance(g, Lost)), None)
        if lost is None and any(g is not None for g in seen):
            lost = op.lost()
        return [lost] * len(outs), None
    result = rule(op)
    geos = result if isinstance(result, list) else [result] * len(outs)
    return [with_shape(g, shape_of(t)) if isinstance(g, Geometry) else g
            for g, t in zip(geos, outs)], win


__all__ = ["RULES", "propagate", "rule_for"]
