"""Receptive-field geometry: which input window each element of a tensor sees, exactly.

Per spatial axis of the model's input (height and width for an image, length for a signal), a
tensor element at index ``i`` along that axis *sees* the input positions ``lo + i·jump`` …
``hi + i·jump`` (inclusive, in input pixels; position 0 is the first pixel). That is a
:class:`Window`. Its receptive field is ``rf = hi − lo + 1``, its effective stride ``jump``,
and ``start = (lo + hi) / 2`` is the centre of unit 0's window. Positions below 0 or past the
input's last pixel are padding: a window may reach past the border.

The window is the *extent* (hull) of the input positions an element depends on: a dilated
kernel's gaps, or two branches whose windows do not touch, lie inside it. Within that
definition everything here is exact: a window changes only through the arithmetic of a
sliding window (kernel, stride, padding, dilation) or a union, and an op whose effect is not
such an affine window (an upsampling, a roll, a spatial gather) is not approximated: the tensor
it makes is :class:`Lost`, with the op named.

Where the axes are, in a tensor. Each tensor dimension is a tuple of *factors*
``(axis, size)``: a plain dimension (channels, batch) is ``((None, C),)``; an image's height is
``((0, H),)``; a flattened ``C·H·W`` dimension is ``((None, C), (0, H), (1, W))``, so a later
view can split it back. Size-1 factors are never kept (a size-1 dimension is ``()``). An axis
that appears in no dimension is *constant*: every element sees the same window (after a global
pool, a linear layer, or an attention over all positions); its ``jump`` is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod
from typing import Iterable, Union

Factor = tuple[Union[int, None], int]  # (input axis or None, size)
Dim = tuple[Factor, ...]


@dataclass(frozen=True)
class Window:
    """Unit ``i`` sees input positions ``lo + i·jump`` … ``hi + i·jump`` (see module docstring)."""

    lo: int
    hi: int
    jump: int

    @property
    def rf(self) -> int:
        return self.hi - self.lo + 1

    @property
    def start(self) -> float:
        return (self.lo + self.hi) / 2

    def through(self, kernel: int, stride: int, padding: int, dilation: int = 1) -> Window:
        """After a sliding window: output ``o`` reads inputs ``o·stride − padding + t·dilation``
        for ``t`` in ``0 … kernel − 1``, each of which sees this window."""
        return Window(self.lo - padding * self.jump,
                      self.hi + ((kernel - 1) * dilation - padding) * self.jump,
                      stride * self.jump)

    def shifted(self, units: int) -> Window:
        """The same units, renumbered so that unit ``units`` is now unit 0 (a slice, a pad)."""
        return Window(self.lo + units * self.jump, self.hi + units * self.jump, self.jump)

    def spanning(self, units: int) -> Window:
        """The constant window of an element that sees all ``units`` units (a reduction)."""
        return Window(self.lo, self.hi + (units - 1) * self.jump, 0)

    def contains(self, other: Window, units: int) -> bool:
        """Whether this constant window holds every one of ``units`` units of ``other``."""
        return self.lo <= other.lo and self.hi >= other.hi + (units - 1) * other.jump

    def inside(self, other: Window, units: int) -> bool:
        """Whether this constant window lies inside every one of ``units`` units of ``other``."""
        return self.lo >= other.lo + (units - 1) * other.jump and self.hi <= other.hi


def hull(windows: Iterable[Window], jump: int) -> Window:
    ws = list(windows)
    return Window(min(w.lo for w in ws), max(w.hi for w in ws), jump)


@dataclass(frozen=True)
class Lost:
    """A tensor whose windows are not one affine family: ``reason`` names the op that made it."""

    reason: str


@dataclass(frozen=True)
class Geometry:
    """Where the input's axes lie in a tensor's dimensions, and each axis's :class:`Window`."""

    dims: tuple[Dim, ...]
    windows: tuple[Window, ...]

    def axis_dims(self) -> dict[int, int]:
        """Axis → the tensor dimension that holds it (constant axes are absent)."""
        return {a: d for d, factors in enumerate(self.dims) for a, _ in factors if a is not None}

    def units(self, axis: int) -> int:
        """How many distinct windows the axis has in this tensor (1 for a constant axis)."""
        for factors in self.dims:
            for a, n in factors:
                if a == axis:
                    return n
        return 1


Geo = Union[Geometry, Lost, None]  # None: the tensor does not depend on the input


def plain_dim(size: int) -> Dim:
    return ((None, size),) if size != 1 else ()


def has_axis(dim: Dim) -> bool:
    return any(a is not None for a, _ in dim)


def single_axis(dim: Dim) -> int | None:
    """The axis of a dimension that is exactly one axis (else None)."""
    return dim[0][0] if len(dim) == 1 and dim[0][0] is not None else None


def origin(shape: tuple[int, ...], n_spatial: int) -> Geometry:
    """The model's input of ``shape``: plain leading dims (batch, channels), then one axis per
    spatial dimension (the last ``n_spatial``), every pixel seeing itself."""
    lead = len(shape) - n_spatial
    dims = tuple(plain_dim(n) for n in shape[:lead])
    spatial = shape[lead:]
    dims += tuple(((a, n),) if n != 1 else () for a, n in enumerate(spatial))
    return Geometry(dims, tuple(Window(0, 0, 1 if n != 1 else 0) for n in spatial))


def normalized(dims: Iterable[Dim], windows: Iterable[Window]) -> Geometry:
    """Drop size-1 factors; an axis left with one unit becomes constant (jump 0)."""
    ws = list(windows)
    out = []
    for dim in dims:
        kept = []
        for a, n in dim:
            if n == 1:
                if a is not None:
                    ws[a] = Window(ws[a].lo, ws[a].hi, 0)
                continue
            kept.append((a, n))
        out.append(tuple(kept))
    return Geometry(tuple(out), tuple(ws))


def with_shape(geo: Geometry, shape: tuple[int, ...]) -> Geo:
    """``geo`` checked against a tensor's shape (plain sizes corrected); Lost if they disagree."""
    if len(geo.dims) != len(shape):
        return Lost("a tensor whose dimensions could not be followed")
    dims = []
    for dim, size in zip(geo.dims, shape):
        if not has_axis(dim):
            dims.append(plain_dim(size))
        elif prod(n for _, n in dim) == size:
            dims.append(dim)
        else:
            return Lost("a tensor whose dimensions could not be followed")
    return Geometry(tuple(dims), geo.windows)


def collapse(geo: Geometry, which: Iterable[int]) -> Geometry:
    """Every element now sees all positions along the dimensions ``which`` (a reduction, a
    contraction, a softmax): their axes become constant. Those dimensions become plain."""
    ws = list(geo.windows)
    dims = list(geo.dims)
    for d in which:
        for a, n in dims[d]:
            if a is not None:
                ws[a] = ws[a].spanning(n)
        dims[d] = plain_dim(prod(n for _, n in dims[d]))
    return Geometry(tuple(dims), tuple(ws))


def union(parts: Iterable[Geo], shape: tuple[int, ...]) -> Geo:
    """The geometry of an element that depends on every part at the same index (elementwise
    ops after broadcasting, a concatenation across channels, the operands of a product).

    Each part must already be laid out on ``shape``: one entry per output dimension, equal to
    the output's size or ``()`` where it is broadcast. Windows of one axis join by their hull
    when the jumps agree; a constant window joins an affine family only when it holds every
    unit, or lies inside every unit; anything else is not one affine family and is Lost.
    """
    geos = [p for p in parts if p is not None]
    if not geos:
        return None
    lost = next((g for g in geos if isinstance(g, Lost)), None)
    if lost is not None:
        return lost
    dims: list[Dim] = []
    for d, size in enumerate(shape):
        spatial = {g.dims[d] for g in geos if has_axis(g.dims[d])}
        if len(spatial) > 1:
            return Lost("operands whose axes lie in different dimensions meet")
        dims.append(spatial.pop() if spatial else plain_dim(size))
    where = {a: d for d, dim in enumerate(dims) for a, _ in dim if a is not None}
    windows = []
    for axis in range(len(geos[0].windows)):
        w = _join_axis(geos, axis, dims, where)
        if isinstance(w, Lost):
            return w
        windows.append(w)
    return Geometry(tuple(dims), tuple(windows))


def _join_axis(geos: list[Geometry], axis: int, dims: list[Dim], where: dict[int, int]):
    """One axis of :func:`union`: the joined window (``dims`` updated when a constant window
    wins), or :class:`Lost`."""
    affine = [g.windows[axis] for g in geos if axis in g.axis_dims()]
    const = [g.windows[axis] for g in geos if axis not in g.axis_dims()]
    c = hull(const, 0) if const else None
    if not affine:
        return c
    jumps = {w.jump for w in affine}
    if len(jumps) > 1:
        return Lost(f"branches with effective strides {sorted(jumps)} meet")
    w = hull(affine, jumps.pop())
    units = dict(dims[where[axis]])[axis]
    if c is None or c.inside(w, units):
        return w
    if c.contains(w, units):
        d = where[axis]
        dims[d] = tuple((None, n) if a == axis else (a, n) for a, n in dims[d])
        return c
    return Lost("a window shared by all units meets one that moves with the unit")


def broadcast_to(geo: Geo, shape: tuple[int, ...], out: tuple[int, ...]) -> Geo:
    """A part of an elementwise op laid out on the output's shape (numpy broadcasting)."""
    if not isinstance(geo, Geometry):
        return geo
    lead = len(out) - len(shape)
    if lead < 0:
        return Lost("an operand larger than the result")
    dims: list[Dim] = [()] * lead
    for dim, n, m in zip(geo.dims, shape, out[lead:]):
        dims.append(dim if n == m else ())
        if n != m and n != 1:
            return Lost("an operand that does not broadcast")
    return Geometry(tuple(dims), geo.windows)


def regroup(geo: Geometry, shape: tuple[int, ...], new: tuple[int, ...]) -> Geo:
    """A view or reshape from ``shape`` to ``new``: the factors in order, regrouped.

    Factors merge (a flatten) and split back; a plain factor may be split anywhere, an axis
    factor only whole (splitting an axis into windows of windows is Lost).
    """
    flat = [f for dim in geo.dims for f in dim]
    if not any(a is not None for a, _ in flat):
        return Geometry(tuple(plain_dim(n) for n in new), geo.windows)
    dims: list[Dim] = []
    k = 0
    for size in new:
        group: list[Factor] = []
        have = 1
        while have < size:
            if k >= len(flat):
                return Lost("a reshape that could not be followed")
            a, n = flat[k]
            if size % (have * n) == 0:
                group.append((a, n))
                have *= n
                k += 1
            elif a is None and (size % have == 0) and n % (size // have) == 0:
                part = size // have
                group.append((None, part))
                flat[k] = (None, n // part)
                have = size
            else:
                return Lost("a reshape that splits a spatial axis")
        if have != size:
            return Lost("a reshape that could not be followed")
        dims.append(tuple(group))
    if k != len(flat):
        return Lost("a reshape that could not be followed")
    return normalized(dims, geo.windows)


def through_window(geo: Geometry, dim: int, size_out: int, kernel: int, stride: int,
                   padding: int, dilation: int, op: str) -> Geo:
    """One dimension of a convolution or pool: the axis it holds (if any) moves its window."""
    factors = geo.dims[dim]
    if not has_axis(factors):
        dims = list(geo.dims)
        dims[dim] = plain_dim(size_out)
        return replace(geo, dims=tuple(dims))
    axis = single_axis(factors)
    if axis is None:
        return Lost(f"{op} over a dimension that merges a spatial axis with others")
    ws = list(geo.windows)
    ws[axis] = ws[axis].through(kernel, stride, padding, dilation)
    dims = list(geo.dims)
    dims[dim] = ((axis, size_out),)
    return normalized(dims, ws)


def shift(geo: Geometry, dim: int, units: int, size_out: int, step: int = 1) -> Geo:
    """A slice (``units`` = its start, ``step`` its step) or a pad (``units`` = −left)."""
    factors = geo.dims[dim]
    dims = list(geo.dims)
    if not has_axis(factors):
        dims[dim] = plain_dim(size_out)
        return replace(geo, dims=tuple(dims))
    axis = single_axis(factors)
    if axis is None:
        return Lost("a slice of a dimension that merges a spatial axis with others")
    ws = list(geo.windows)
    w = ws[axis].shifted(units)
    ws[axis] = Window(w.lo, w.hi, w.jump * step)
    dims[dim] = ((axis, size_out),)
    return normalized(dims, ws)
