"""Which module call each backward op belongs to, and which gradient it computes.

A backward runs after every module hook has returned, so the forward's call stack cannot say
whose work an op is. The autograd graph can: every node of it was created by a torch function
called inside some module call. :class:`GradGraph` claims each new node for the innermost call
as the forward runs (a walk back from each function's outputs to nodes already claimed, so a
composite's inner nodes — ``linear``'s transpose of the weight — go to the same call), and
brackets each node's run in the backward with a pre-hook and a post-hook, so every op dispatched
in between is charged to that node's call.

**Grad-input or grad-weight.** A node's outputs are the gradients of its forward inputs. One
that flows to a parameter — its ``AccumulateGrad`` node, or a node computed from parameters
alone (a weight's transpose, its low-precision copy) — is a *weight* gradient; one that flows to
a tensor computed from the data, or to the model's input itself when that needs a gradient
(a block counted as if inside a network), is an *input* gradient. Which forward tensors come from the
data is known where they are made: the model's inputs do, and so does every output of a torch
function given one (a node inside a composite, which no function returns, comes from the data
when one of the nodes it reads does). Within a node's run, the ops form a small graph from the
incoming gradient to the node's outputs; each op is labelled by the outputs its results reach,
and its MACs are grad-weight when they reach weight gradients only, grad-input otherwise. An op
that computes several gradients at once says what each one cost (:meth:`Cost.per_output`).

Ops the autograd engine runs between nodes — summing the gradients of a tensor used twice, as
a residual's skip is — are charged to the node that receives the sum (matched by identity in
its pre-hook), that is to the call whose output was used twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.weak import WeakIdKeyDictionary

from ..costs import Cost
from ..engines.recorder import CallRecorder, tensors_in

INPUT, WEIGHT = "input", "weight"


@dataclass
class GradCost:
    """The backward work charged to one module call."""

    grad_input_macs: int = 0
    grad_weight_macs: int = 0
    other: dict[str, int] = field(default_factory=dict)
    uncounted: dict[str, int] = field(default_factory=dict)

    @property
    def macs(self) -> int:
        return self.grad_input_macs + self.grad_weight_macs

    def cost(self) -> Cost:
        """All of it as one Cost (MACs = grad input + grad weight)."""
        return Cost(self.macs, {k: v for k, v in self.other.items() if v})

    def add(self, cost: Cost, weight: bool) -> None:
        if weight:
            self.grad_weight_macs += cost.macs
        else:
            self.grad_input_macs += cost.macs
        for k, v in cost.other.items():
            self.other[k] = self.other.get(k, 0) + v


@dataclass
class _Op:
    cost: Cost
    outs: list[Any]  # the op's outputs in order, None where it returned none
    ins: list[torch.Tensor]


@dataclass
class _Frame:
    node: Any
    call: int
    ops: list[_Op] = field(default_factory=list)


class GradGraph:
    """Claims autograd nodes in the forward; charges backward ops to calls (module docstring).

    Use :meth:`mark_data` on the model's inputs, :meth:`claim` after every torch function of the
    forward, :meth:`op` for every op dispatched in the backward, :meth:`close` at the end.
    ``backward[i]`` is then the work charged to call ``i`` of the recorder.
    """

    def __init__(self, recorder: CallRecorder) -> None:
        self.recorder = recorder
        self.call_of: dict[Any, int] = {}
        self.data: dict[Any, bool] = {}
        self.data_tensors = WeakIdKeyDictionary()
        self.handles: list[Any] = []
        self.frames: list[_Frame] = []
        self.pending: list[_Op] = []
        self.backward: dict[int, GradCost] = {}
        self.uncounted: dict[str, int] = {}
        self.unclaimed = 0  # ops with a cost that no node received, charged to the root

    # ------------------------------------------------------------------ the forward
    def mark_data(self, *values: Any) -> None:
        for t in tensors_in(values):
            self.data_tensors[t] = True

    def from_data(self, t: torch.Tensor) -> bool:
        if t in self.data_tensors:
            return True
        fn = t.grad_fn
        return fn is not None and self.data.get(fn, False)

    def claim(self, args: Any, out: Any) -> None:
        """After a torch function: its new nodes go to the innermost call (module docstring)."""
        derived = any(self.from_data(t) for t in tensors_in(args))
        stack = self.recorder.stack
        call = stack[-1] if stack else 0
        roots = []
        for t in tensors_in(out):
            if derived:
                self.data_tensors[t] = True
            fn = t.grad_fn
            if fn is not None and fn not in self.call_of:
                roots.append(fn)
                self.data[fn] = derived
        todo = list(roots)
        new = []
        while todo:
            node = todo.pop()
            if node in self.call_of:
                continue
            self.call_of[node] = call
            new.append(node)
            self.handles.append(node.register_prehook(self._enter(node)))
            self.handles.append(node.register_hook(self._exit(node)))
            todo.extend(n for n, _ in node.next_functions if n is not None and n not in self.call_of)
        for node in new:
            self._data_of(node)

    def _data_of(self, node: Any) -> bool:
        """A node no function returned comes from the data when a node it reads does; a leaf
        when it is an input that needs a gradient (not a parameter)."""
        if node not in self.data:
            if self._is_leaf(node):
                self.data[node] = node.variable in self.data_tensors
                return self.data[node]
            self.data[node] = False  # a cycle cannot occur; this only guards the recursion
            self.data[node] = any(self._data_of(n) for n, _ in node.next_functions
                                  if n is not None)
        return self.data[node]

    # ------------------------------------------------------------------ the backward
    def _enter(self, node: Any):
        def hook(grad_outputs):
            frame = _Frame(node, self.call_of[node])
            frame.ops = self._summed_into(grad_outputs)
            self.frames.append(frame)

        return hook

    def _summed_into(self, grad_outputs: tuple) -> list[_Op]:
        """The pending ops that made these gradients (the engine's sums for a tensor used
        several times: ``(a + b) + c`` is two adds), taken off the pending list."""
        wanted = {id(g) for g in grad_outputs if g is not None}
        mine, keep = [], []
        for op in reversed(self.pending):
            if any(id(o) in wanted for o in op.outs if o is not None):
                mine.append(op)
                wanted.update(id(t) for t in op.ins)
            else:
                keep.append(op)
        self.pending = keep[::-1]
        return mine[::-1]

    def _exit(self, node: Any):
        def hook(grad_inputs, grad_outputs):
            frame = self.frames.pop()
            self._settle(frame, grad_inputs)

        return hook

    def op(self, name: str, cost: Cost, missing: str | None, args: tuple, out: Any) -> None:
        """An op dispatched in the backward: kept until its node's post-hook labels it."""
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        rec = _Op(cost, [o if isinstance(o, torch.Tensor) else None for o in outs],
                  list(tensors_in(args)))
        frame = self.frames[-1] if self.frames else None
        if missing is not None:
            call = frame.call if frame else 0
            gc = self.backward.setdefault(call, GradCost())
            gc.uncounted[missing] = gc.uncounted.get(missing, 0) + 1
            self.uncounted[missing] = self.uncounted.get(missing, 0) + 1
        if frame is not None:
            frame.ops.append(rec)
        elif cost:
            self.pending.append(rec)

    def _settle(self, frame: _Frame, grad_inputs: tuple) -> None:
        """Label the frame's ops by the gradients they reach and charge them to its call."""
        kinds = [self._kind(n) for n, _ in frame.node.next_functions] or [WEIGHT]
        labels: dict[int, set[str]] = {}
        for g, kind in zip(grad_inputs, kinds):
            if g is not None:
                labels.setdefault(id(g), set()).add(kind)
        if self._is_leaf(frame.node):  # a leaf's own gradient: a parameter's, or the input's
            default = {self._kind(frame.node)}
        else:
            default = set()
        gc = self.backward.setdefault(frame.call, GradCost())
        for op in reversed(frame.ops):
            per_out = [labels.get(id(o), set()) if o is not None else set() for o in op.outs]
            reached = set().union(*per_out) or default
            for t in op.ins:
                labels.setdefault(id(t), set()).update(reached)
            if op.cost.parts and len(op.cost.parts) == len(per_out):
                for part, lab in zip(op.cost.parts, per_out):
                    gc.add(part, (lab or default) == {WEIGHT})
            else:
                gc.add(op.cost, reached == {WEIGHT})

    def _kind(self, node: Any) -> str:
        if node is None:
            return INPUT
        if self._is_leaf(node):  # a parameter, unless the model's input needs a gradient
            return INPUT if self._data_of(node) else WEIGHT
        return INPUT if self.data.get(node, True) else WEIGHT

    @staticmethod
    def _is_leaf(node: Any) -> bool:
        return type(node).__name__ == "AccumulateGrad"

    def close(self) -> None:
        """Charge what no node received to the root call; drop every hook and node."""
        root = self.backward.setdefault(0, GradCost())
        for op in self.pending:
            root.add(op.cost, False)
        self.unclaimed = len(self.pending)
        self.pending = []
        for h in self.handles:
            h.remove()
        self.handles = []
        self.call_of.clear()
        self.data.clear()
