"""Where a difference comes from: the aligned rows of :mod:`.diff`, grouped by cause and block.

**Causes.** Each row's deltas go to causes, and each delta to exactly one, so the causes add up
to the difference of the totals:

* a layer only one model has goes to its top-most block without a partner ("7 BasicBlock
  added", "13 BatchNorm2d added", "2 LocalResponseNorm removed");
* an aligned layer whose bias came or went gives its bias parameters (and bias FLOPs) to
  "bias removed"/"bias added";
* the rest of an aligned layer's delta goes to what differs first among: its type, its sliding
  window ("3×3 conv instead of 5×5 conv"), its channels, its output shape, its parameter
  shapes, its other work.

A cause says where it happens as one pattern when its layers are all the layers of that model
the pattern matches ("every ``inception*.branch3.1.conv``"), else by its first few paths.

**Blocks.** The same deltas summed per top-level module (the first component of the path; the
root's own work is ``(model)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os.path import commonprefix

from .diff import DiffRow, Side, Tree
from .records import layer_name


@dataclass
class Cause:
    """One reason the models differ: what, on which layers, and its deltas (B − A)."""

    what: str
    paths: list[str] = field(default_factory=list)
    params: int = 0
    macs: int = 0
    flops: int = 0
    where: str = ""
    side: str = "a"  # whose paths: "b" for layers only B has

    @property
    def layers(self) -> int:
        return len(self.paths)

    def add(self, path: str, params: int, macs: int, flops: int) -> None:
        if path not in self.paths:
            self.paths.append(path)
        self.params += params
        self.macs += macs
        self.flops += flops


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}" + ("es" if word.endswith("s") else "s")


def _main_change(a: Side, b: Side) -> str | None:
    """What differs first between two aligned layers (see the module docstring)."""
    if a.type != b.type:
        return f"{b.type} instead of {a.type}"
    if a.windows != b.windows and a.windows and b.windows:
        return f"{', '.join(b.windows)} instead of {', '.join(a.windows)}"
    if a.channels != b.channels and a.channels and b.channels:
        return (f"{a.type} {b.channels[0]}→{b.channels[1]} channels instead of "
                f"{a.channels[0]}→{a.channels[1]}")
    if a.output_shape != b.output_shape:
        shape = "x".join(map(str, b.output_shape or ())) or "nothing"
        was = "x".join(map(str, a.output_shape or ())) or "nothing"
        return f"{a.type} output {shape} instead of {was}"
    if a.weight_shapes != b.weight_shapes:
        return f"{a.type} parameters {_shapes(b)} instead of {_shapes(a)}"
    if a.cost != b.cost:
        return f"{a.type}: other work differs"
    return None


def _shapes(s: Side) -> str:
    return ", ".join("x".join(map(str, sh)) for sh in s.weight_shapes) or "none"


def _bias_flops(s: Side | None) -> int:
    return s.cost.other.get("bias", 0) if s is not None else 0


def covered(paired: set[str]) -> set[str]:
    """The paired modules and every ancestor of one (a block wrapping a paired layer)."""
    out = set()
    for p in paired:
        while p not in out:
            out.add(p)
            if p == "":
                break
            p = p.rpartition(".")[0]
    return out


def _top_unpaired(path: str, cover: set[str]) -> str:
    """The top-most ancestor of ``path`` (itself included) with nothing paired inside it."""
    top = path
    p = path
    while p:
        p = p.rpartition(".")[0]
        if p in cover or p == "":
            break
        top = p
    return top


def causes(rows: list[DiffRow], ta: Tree, tb: Tree, paired_a: set[str], paired_b: set[str]
           ) -> list[Cause]:
    """The rows' deltas grouped by cause (see the module docstring), largest first."""
    found: dict[str, Cause] = {}
    cover_a, cover_b = covered(paired_a), covered(paired_b)

    def charge(what: str, path: str, params: int, macs: int, flops: int, side: str = "a"
               ) -> None:
        found.setdefault(what, Cause(what, side=side)).add(path, params, macs, flops)

    for row in rows:
        a, b = row.a, row.b
        if row.change == "=":
            continue
        if a is None or b is None:
            side, tree, cover, verb = (b, tb, cover_b, "added") if a is None else \
                (a, ta, cover_a, "removed")
            top = _top_unpaired(side.path, cover)
            charge(f"{tree.type(top)} {verb}", top, row.delta("params"), row.delta("macs"),
                   row.delta("flops"), "b" if a is None else "a")
            continue
        d_bias, d_bias_flops = 0, 0
        if (a.biases > 0) != (b.biases > 0):
            d_bias, d_bias_flops = b.biases - a.biases, _bias_flops(b) - _bias_flops(a)
            charge(f"{a.type} bias {'added' if b.biases else 'removed'}", a.path, d_bias, 0,
                   d_bias_flops)
        rest = (row.delta("params") - d_bias, row.delta("macs"), row.delta("flops") - d_bias_flops)
        what = _main_change(a, b)
        if what is None and any(rest):
            what = f"{a.type}: other work differs"
        if what is not None and (any(rest) or d_bias == 0):
            charge(what, a.path, *rest)
    out = list(found.values())
    for c in out:
        c.where = _where(c.paths, tb if c.side == "b" else ta)
    out.sort(key=lambda c: (-(abs(c.params) + abs(c.macs)), -abs(c.flops), c.what))
    return out


def _glob(paths: list[str]) -> str | None:
    """One pattern for paths of one depth: differing components as ``prefix*``."""
    split = [p.split(".") for p in paths]
    if len({len(s) for s in split}) != 1:
        return None
    parts = []
    for comps in zip(*split):
        if len(set(comps)) == 1:
            parts.append(comps[0])
        else:
            parts.append(commonprefix(list(comps)) + "*")
    return ".".join(parts)


def _matches(pattern: str, path: str) -> bool:
    pp, cc = pattern.split("."), path.split(".")
    return len(pp) == len(cc) and all(
        c == p or (p.endswith("*") and c.startswith(p[:-1])) for p, c in zip(pp, cc))


def _where(paths: list[str], tree: Tree) -> str:
    names = [layer_name(p) for p in paths]
    if len(paths) == 1:
        return names[0]
    pattern = _glob(paths)
    if pattern is not None and "*" in pattern and \
            {p for p in tree.children if p and _matches(pattern, p)} == set(paths):
        return f"every {pattern}"
    shown = ", ".join(names[:4])
    return shown + (", …" if len(names) > 4 else "")


@dataclass
class BlockDelta:
    block: str
    params: int = 0
    macs: int = 0
    flops: int = 0


def blocks(rows: list[DiffRow]) -> list[BlockDelta]:
    """The deltas summed per top-level module, in row order, blocks with no delta left out."""
    out: dict[str, BlockDelta] = {}
    for row in rows:
        path = (row.a or row.b).path
        name = layer_name(path.split(".")[0] if path else "")
        d = out.setdefault(name, BlockDelta(name))
        d.params += row.delta("params")
        d.macs += row.delta("macs")
        d.flops += row.delta("flops")
    return [d for d in out.values() if d.params or d.macs or d.flops]


def signed(n: int) -> str:
    return f"{n:+,}" if n else "0"


def counted(c: Cause) -> str:
    """``13 BatchNorm2d added`` for layers one model lacks, else the cause as it is."""
    if c.what.endswith((" added", " removed")) and " bias " not in c.what:
        return f"{c.layers} {c.what}"
    return c.what


def cause_text(c: Cause) -> str:
    """``+8,448 params, 0 MACs: 13 BatchNorm2d added (features.1, …)``."""
    extra = f"; {signed(c.flops)} FLOPs" if c.flops and not c.params and not c.macs else ""
    where = c.where if counted(c) != c.what else f"{_plural(c.layers, 'layer')}: {c.where}"
    return f"{signed(c.params)} params, {signed(c.macs)} MACs{extra}: {counted(c)} ({where})"


def headline(name_a: str, name_b: str, found: list[Cause], limit: int = 3) -> str:
    """One sentence: B against A, its largest causes."""
    big = [c for c in found if c.params or c.macs][:limit]
    if not found:
        return f"{name_b} and {name_a} have the same layers, parameters and work"
    if not big:
        big = found[:limit]
    parts = []
    for c in big:
        figures = [f"{signed(c.params)} params"] if c.params else []
        figures += [f"{signed(c.macs)} MACs"] if c.macs else []
        if not figures:
            figures = [f"{signed(c.flops)} FLOPs"]
        where = f" in {c.where}" if c.where.startswith("every") or c.layers == 1 else ""
        parts.append(f"{', '.join(figures)} from {counted(c)}{where}")
    more = len(found) - len(big)
    tail = f" (and {more} more cause{'s' if more != 1 else ''} below)" if more > 0 else ""
    return f"{name_b} against {name_a}: " + "; ".join(parts) + tail
