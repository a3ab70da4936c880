"""``archscope diff A B``: two networks layer by layer, and where their difference comes from.

**Alignment.** The two module trees are aligned level by level: children of two aligned blocks
pair up by name where both have the same name that is not a position (``conv1``, ``branch3``,
``bn``), and the others by order and type (the longest common subsequence of their types, so
``features.1`` ReLU in VGG-16 pairs with ``features.2`` ReLU in VGG-16-BN, and the batch norm
between them has no partner). Blocks that pair up are aligned inside in turn; a block without
a partner brings its whole subtree along as added (``+``, only in B) or removed (``-``, only
in A) layers.

**Rows** are the layers of ``archscope flops`` for each model at the same ``depth``: leaf
layers, plus a block that does work of its own (a residual add), with its own figures only; a
row at ``depth`` stands for its subtree. Every call's figures are on exactly one row, so per
column the rows add up to each model's total, and the deltas (B − A) add up to the difference
of the totals, exactly. ``=`` rows agree in type, output shape, parameters and work; ``~`` rows
are aligned and differ.

The causes (:mod:`.diff_causes`) read the aligned rows and say, by block and by layer kind,
where the difference comes from; they add up to the totals' difference too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import ArchscopeError
from .costs import Cost
from .records import ModelRecord, depth_of, layer_name
from .rows import RowFigures, fold, select_rows

CHANGES = {"=": "the same", "~": "changed", "+": "only in B", "-": "only in A"}


@dataclass
class Side:
    """One model's row: the layer's path, type, output shape and own figures; ``windows``
    names the sliding windows it ran (``5×5 conv``), ``channels`` its input → output channels,
    ``weight_shapes`` the shapes of the parameters it read."""

    path: str
    type: str
    output_shape: tuple[int, ...] | None
    weights: int = 0
    biases: int = 0
    cost: Cost = field(default_factory=Cost)
    windows: tuple[str, ...] = ()
    channels: tuple[int, int] | None = None
    weight_shapes: tuple[tuple[int, ...], ...] = ()

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def macs(self) -> int:
        return self.cost.macs

    @property
    def flops(self) -> int:
        return self.cost.flops

    def same_as(self, other: Side) -> bool:
        return (self.type, self.output_shape, self.weights, self.biases, self.macs,
                self.cost.ordered_other()) == (other.type, other.output_shape, other.weights,
                                               other.biases, other.macs,
                                               other.cost.ordered_other())


@dataclass
class DiffRow:
    """An aligned pair of rows (``a`` or ``b`` None for a layer only one model has)."""

    a: Side | None
    b: Side | None

    @property
    def change(self) -> str:
        if self.a is None:
            return "+"
        if self.b is None:
            return "-"
        return "=" if self.a.same_as(self.b) else "~"

    def delta(self, attr: str) -> int:
        return (getattr(self.b, attr) if self.b else 0) - (getattr(self.a, attr) if self.a else 0)


# ------------------------------------------------------------------------- the trees
class Tree:
    """The modules of one record that ran, each under its nearest ancestor that ran."""

    def __init__(self, record: ModelRecord) -> None:
        self.record = record
        ran = record.by_path
        order = [p for p in record.modules if p in ran] + [p for p in ran
                                                           if p not in record.modules]
        self.children: dict[str, list[str]] = {p: [] for p in order}
        for p in order:
            if p == "":
                continue
            parent = p.rpartition(".")[0]
            while parent not in ran and parent != "":
                parent = parent.rpartition(".")[0]
            self.children.setdefault(parent, []).append(p)

    def type(self, path: str) -> str:
        return self.record.by_path[path][0].type

    def key(self, path: str) -> tuple:
        """What aligning compares: the type, then the first output's shape."""
        call = self.record.by_path[path][0]
        return call.type, call.outputs[0].shape if call.outputs else None

    def subtree(self, path: str) -> Iterator[str]:
        yield path
        for c in self.children.get(path, []):
            yield from self.subtree(c)


def _name(path: str) -> str:
    return path.rpartition(".")[2]


def _match(xs: list[tuple], ys: list[tuple]) -> list[tuple[int, int]]:
    """Index pairs of an order-keeping matching of two lists of (type, output shape): only
    equal types pair, as many as possible, and among those as many equal shapes as possible
    (a longest common subsequence, weighted); ties go to the earliest pairs."""
    n, m = len(xs), len(ys)

    def score(i: int, j: int) -> int:
        if xs[i][0] != ys[j][0]:
            return 0
        return 1_000_000 + (1 if xs[i][1] == ys[j][1] else 0)

    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            s = score(i, j)
            best[i][j] = max(best[i + 1][j], best[i][j + 1],
                             s + best[i + 1][j + 1] if s else 0)
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = score(i, j)
        if s and best[i][j] == s + best[i + 1][j + 1]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def pair_children(ta: Tree, tb: Tree, pa: str, pb: str) -> list[tuple[str | None, str | None]]:
    """The children of two aligned blocks, paired (see the module docstring), in A's order
    with B's unpaired children placed before the first pair that follows them in B."""
    ca, cb = ta.children.get(pa, []), tb.children.get(pb, [])
    partner: dict[str, str] = {}
    names_b = {_name(q): q for q in cb if not _name(q).isdigit()}
    for q in ca:
        name = _name(q)
        if not name.isdigit() and name in names_b:
            partner[q] = names_b.pop(name)
    taken = set(partner.values())
    rest_a = [q for q in ca if q not in partner]
    rest_b = [q for q in cb if q not in taken]
    for i, j in _match([ta.key(q) for q in rest_a], [tb.key(q) for q in rest_b]):
        partner[rest_a[i]] = rest_b[j]
    taken = set(partner.values())
    out: list[tuple[str | None, str | None]] = []
    placed: set[str] = set()
    position = {q: k for k, q in enumerate(cb)}
    for q in ca:
        mate = partner.get(q)
        if mate is not None:
            for r in cb[: position[mate]]:
                if r not in taken and r not in placed:
                    out.append((None, r))
                    placed.add(r)
        out.append((q, mate))
    out += [(None, r) for r in cb if r not in taken and r not in placed]
    return out


def _wrapped(ta: Tree, tb: Tree, pa: str, pb: str) -> str | None:
    """``"b"`` when B's block wraps A's layer (a ``Sequential`` whose children include one of
    A's type: a 1×1 reduction put before a convolution), ``"a"`` the other way round."""
    if ta.type(pa) == tb.type(pb):
        return None
    if any(tb.type(q) == ta.type(pa) for q in tb.children.get(pb, [])):
        return "b"
    if any(ta.type(q) == tb.type(pb) for q in ta.children.get(pa, [])):
        return "a"
    return None


def align(ta: Tree, tb: Tree) -> list[tuple[str | None, str | None]]:
    """Every module of both trees as (path in A, path in B), pre-order (a block first).

    Where one model wraps a layer in a block that the other calls directly (a 1×1 reduction
    added in front of it), the layer pairs with its match inside the block, and the block and
    its other children have no partner.
    """
    return _Aligner(ta, tb).run()


class _Aligner:
    """The walk behind :func:`align`: one method per case, the pairs in ``out``."""

    def __init__(self, ta: Tree, tb: Tree) -> None:
        self.ta, self.tb = ta, tb
        self.out: list[tuple[str | None, str | None]] = []

    def run(self) -> list[tuple[str | None, str | None]]:
        self.walk("", "")
        return self.out

    def walk(self, pa: str | None, pb: str | None) -> None:
        wrapper = _wrapped(self.ta, self.tb, pa, pb) if pa is not None and pb is not None else None
        if wrapper == "b":
            self.unwrap_b(pa, pb)
        elif wrapper == "a":
            self.unwrap_a(pa, pb)
        else:
            self.out.append((pa, pb))
            self.children(pa, pb)

    def unwrap_b(self, pa: str, pb: str) -> None:
        """B wraps A's layer ``pa`` in the block ``pb``: the layer pairs inside the block."""
        ta, tb = self.ta, self.tb
        self.out.append((None, pb))
        inner = tb.children[pb]
        j = _match([ta.key(pa)], [tb.key(q) for q in inner])[0][1]
        for k, q in enumerate(inner):
            self.walk(pa if k == j else None, q)

    def unwrap_a(self, pa: str, pb: str) -> None:
        ta, tb = self.ta, self.tb
        self.out.append((pa, None))
        inner = ta.children[pa]
        i = _match([ta.key(q) for q in inner], [tb.key(pb)])[0][0]
        for k, q in enumerate(inner):
            self.walk(q, pb if k == i else None)

    def children(self, pa: str | None, pb: str | None) -> None:
        if pa is not None and pb is not None:
            for qa, qb in pair_children(self.ta, self.tb, pa, pb):
                self.walk(qa, qb)
        elif pa is not None:
            for q in self.ta.children.get(pa, []):
                self.walk(q, None)
        else:
            for q in self.tb.children.get(pb, []):
                self.walk(None, q)


# ------------------------------------------------------------------------- the rows
def _side(record: ModelRecord, fig: RowFigures) -> Side:
    call = record.by_path[fig.path][0]
    g = call.geometry
    windows = tuple(w.text() for w in g.windows) if g is not None else ()
    ins = call.inputs[0].shape if call.inputs else ()
    outs = call.outputs[0].shape if call.outputs else ()
    channels = (ins[1], outs[1]) if len(ins) > 1 and len(outs) > 1 else None
    return Side(fig.path, fig.type, fig.output_shape, fig.weights, fig.biases, fig.cost,
                windows, channels, tuple(s.shape for s in call.params_read))


def diff_rows(ra: ModelRecord, rb: ModelRecord, depth: int | None,
              pairs: list[tuple[str | None, str | None]]) -> list[DiffRow]:
    """The aligned rows of two records, from their aligned modules ``pairs`` (:func:`align`)."""
    rows_a, rows_b = select_rows(ra, depth), select_rows(rb, depth)
    fa, fb = fold(ra, rows_a), fold(rb, rows_b)
    ta, tb = Tree(ra), Tree(rb)
    out = []
    for pa, pb in pairs:
        a = _side(ra, fa[pa]) if pa in fa else None
        b = _side(rb, fb[pb]) if pb in fb else None
        if a is None and b is None:
            continue
        # a pair where only one side is a row (a block with work of its own): the other side
        # is the same block with nothing of its own
        if a is None and pa is not None:
            a = Side(pa, ta.type(pa), ra.by_path[pa][0].outputs[0].shape
                     if ra.by_path[pa][0].outputs else None)
        if b is None and pb is not None:
            b = Side(pb, tb.type(pb), rb.by_path[pb][0].outputs[0].shape
                     if rb.by_path[pb][0].outputs else None)
        out.append(DiffRow(a, b))
    return out


def totals(record: ModelRecord) -> dict[str, int]:
    cost = record.cost
    return {"params": record.params, "macs": cost.macs, "flops": cost.flops}


def check_depth(depth: int | None) -> None:
    if depth is not None and depth < 0:
        raise ArchscopeError(f"depth {depth} must be ≥ 0 (0 compares the two models as one row)")


def row_layer(row: DiffRow) -> str:
    """The row's layer name: the shared path, ``a → b`` where they differ."""
    pa = row.a.path if row.a else None
    pb = row.b.path if row.b else None
    if pa is None or pb is None or pa == pb:
        return layer_name(pa if pa is not None else pb)
    return f"{layer_name(pa)} → {layer_name(pb)}"


def row_depth(row: DiffRow) -> int:
    return depth_of((row.a or row.b).path)


def pair_text(a: Any, b: Any) -> str:
    """``x`` when both sides agree (or one is missing), else ``x → y``."""
    if a is None or b is None or a == b:
        return str(a if a is not None else b)
    return f"{a} → {b}"
