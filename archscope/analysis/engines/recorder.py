"""What every engine shares: module hooks that open one record per call, and parameter reads.

:class:`CallRecorder` keeps the stack of module calls being run (innermost last); an engine
charges each op's cost to the innermost call (:meth:`CallRecorder.charge`). :class:`ParamReads`
is a ``TorchFunctionMode`` that sees every torch function's arguments, so a parameter is known to
be *read* whether its module is called or its parent uses it functionally
(``nn.MultiheadAttention`` passes ``out_proj.weight`` to ``F.multi_head_attention_forward``
without calling ``out_proj``). Each parameter is attributed once, to the first call that reads
it; a parameter nobody read is attributed to its module's first call if that module ran, and
is otherwise *dead* (GoogLeNet's auxiliary heads in eval mode), named in the notes.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from ...inputs import TensorSpec
from ..costs import Cost, OpView, lookup, regroup_module
from ..records import CallRecord, ModelRecord, ModuleInfo, is_leaf_module, is_within

SpecOf = Callable[[torch.Tensor], TensorSpec]


def tensor_spec(t: torch.Tensor) -> TensorSpec:
    return TensorSpec(tuple(int(d) for d in t.shape), str(t.dtype).removeprefix("torch."))


def tensors_in(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in a (possibly nested) value: tuples, lists, dicts, dataclass-like outputs."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors_in(item)


def is_bias(name: str) -> bool:
    """A bias is a parameter named ``bias`` (batch-norm β included) or ``*_bias``."""
    leaf = name.rpartition(".")[2]
    return leaf == "bias" or leaf.endswith("_bias")


@dataclass
class ParamRef:
    """One parameter tensor of the model (shared tensors once, under their first name)."""

    name: str
    owner: str
    spec: TensorSpec
    bias: bool
    trainable: bool
    attributed_to: int | None = None  # index of the call it is counted on


@dataclass
class _Open:
    """A call record being filled while the forward runs."""

    record: CallRecord
    ops: dict[str, int] = field(default_factory=dict)
    macs: int = 0
    other: dict[str, int] = field(default_factory=dict)
    reads: list[ParamRef] = field(default_factory=list)
    read_ids: set[int] = field(default_factory=set)


def op_cost(name: str, op: OpView) -> tuple[Cost, str | None]:
    """An op's cost through the registry, or (zero, the name it is reported uncounted under):
    an op without a handle, or in a form its handle cannot cost."""
    handle = lookup(name)
    if handle is None:
        return Cost(), f"aten::{name}"
    try:
        return handle(op), None
    except Exception as exc:  # Uncountable, or a form the handle does not know
        return Cost(), f"aten::{name} ({' '.join(str(exc).split())[:80]})"


class CallRecorder:
    """Forward pre/post hooks that open a :class:`CallRecord` per module call.

    ``spec_of`` reads a tensor's spec; inside a TorchScript trace the fvcore engine passes one
    that reads the trace's own value types, since ``tensor.shape`` there records graph nodes.
    ``on_enter``/``on_exit`` run after a call opens and before it closes (the fvcore engine
    marks each call's scope in the trace); ``on_output`` gets each call's index and the value it
    returned (the receptive-field trace reads the output tensors' geometry there).
    """

    def __init__(self, model: nn.Module, spec_of: SpecOf = tensor_spec,
                 on_enter: Callable[[int], None] | None = None,
                 on_exit: Callable[[int], None] | None = None,
                 on_output: Callable[[int, Any], None] | None = None) -> None:
        self.model = model
        self.spec_of = spec_of
        self.on_enter, self.on_exit, self.on_output = on_enter, on_exit, on_output
        self.calls: list[_Open] = []
        self.stack: list[int] = []
        self.n_calls: dict[str, int] = {}
        self.uncounted: dict[str, int] = {}
        self.params: dict[int, ParamRef] = {}
        for name, p in model.named_parameters():
            owner = name.rpartition(".")[0]
            self.params[id(p)] = ParamRef(name, owner, tensor_spec(p), is_bias(name),
                                          p.requires_grad)

    # ----------------------------------------------------------------------- the stack
    @property
    def current(self) -> _Open | None:
        return self.calls[self.stack[-1]] if self.stack else None

    def current_module(self) -> tuple[str, str] | None:
        """(path, type) of the innermost call being run, for error messages."""
        if not self.stack:
            return None
        r = self.calls[self.stack[-1]].record
        return r.path, r.type

    def _pre(self, path: str, module: nn.Module, args: tuple, kwargs: dict) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is not None:
            self.calls[parent].record.is_leaf = False
        index = self.n_calls.get(path, 0)
        self.n_calls[path] = index + 1
        inputs = tuple(self.spec_of(t) for t in tensors_in((args, kwargs)))
        order = len(self.calls)
        rec = CallRecord(path, type(module).__name__, index, order, parent, inputs)
        self.calls.append(_Open(rec))
        self.stack.append(order)
        if self.on_enter is not None:
            self.on_enter(order)

    def _post(self, path: str, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        if not self.stack or self.calls[self.stack[-1]].record.path != path:
            return  # a hook of a call whose pre-hook we did not see
        order = self.stack[-1]
        self.calls[order].record.outputs = tuple(self.spec_of(t) for t in tensors_in(output))
        if self.on_output is not None:
            self.on_output(order, output)
        if self.on_exit is not None:
            self.on_exit(order)
        self.stack.pop()

    @contextlib.contextmanager
    def hooks(self) -> Iterator[None]:
        """Pre/post hooks on every module (removed afterwards: the caller's model is untouched)."""
        handles = []
        try:
            for path, module in self.model.named_modules():
                handles.append(module.register_forward_pre_hook(
                    lambda m, a, k, _p=path: self._pre(_p, m, a, k), with_kwargs=True))
                handles.append(module.register_forward_hook(
                    lambda m, a, k, o, _p=path: self._post(_p, m, a, k, o), with_kwargs=True))
            yield
        finally:
            for h in handles:
                h.remove()

    # ------------------------------------------------------------------ charging ops
    def charge(self, cost: Cost, call: int | None = None) -> None:
        """Add an op's cost to a call (the innermost one by default)."""
        if not cost:
            return
        target = self.calls[call] if call is not None else self.current
        if target is None:
            return
        target.macs += cost.macs
        for k, v in cost.other.items():
            target.other[k] = target.other.get(k, 0) + v

    def count(self, name: str, op: OpView, call: int | None = None) -> None:
        """Cost one op through the registry and charge it; an op without a handle, or in a form
        its handle cannot cost, is recorded as uncounted, by name."""
        cost, missing = op_cost(name, op)
        if missing is not None:
            self.not_counted(missing, call)
            return
        self.charge(cost, call)

    def not_counted(self, op: str, call: int | None = None) -> None:
        self.uncounted[op] = self.uncounted.get(op, 0) + 1
        target = self.calls[call] if call is not None else self.current
        if target is not None:
            target.ops[op] = target.ops.get(op, 0) + 1

    def read(self, ref: ParamRef) -> None:
        """A parameter was passed to a torch function inside the current call."""
        cur = self.current
        if cur is None or id(ref) in cur.read_ids:
            return
        cur.read_ids.add(id(ref))
        cur.reads.append(ref)
        if ref.attributed_to is None:
            ref.attributed_to = cur.record.order

    # ------------------------------------------------------------------ the record
    def finish(self, name: str, engine: str, inputs: tuple[TensorSpec, ...]) -> ModelRecord:
        """Attribute the parameters, freeze each call's cost, and build the record."""
        first_call = {}
        for c in self.calls:
            first_call.setdefault(c.record.path, c.record.order)
        dead: list[ParamRef] = []
        for ref in self.params.values():
            if ref.attributed_to is None:
                ref.attributed_to = first_call.get(ref.owner)
            if ref.attributed_to is None:
                dead.append(ref)
                continue
            rec = self.calls[ref.attributed_to].record
            n = ref.spec.numel
            if ref.bias:
                rec.biases += n
            else:
                rec.weights += n
            if ref.trainable:
                rec.trainable += n
        calls = []
        for c in self.calls:
            cost = Cost(c.macs, {k: v for k, v in c.other.items() if v})
            c.record.cost = regroup_module(c.record.type, cost)
            c.record.params_read = tuple(ref.spec for ref in c.reads)
            c.record.uncounted = dict(c.ops)
            calls.append(c.record)
        modules = _module_infos(self.model, self.params)
        dead_modules = _dead_tops(dead, modules, set(first_call))
        return ModelRecord(name, engine, inputs, calls, modules, dict(self.uncounted),
                           sum(r.spec.numel for r in dead), dead_modules)


def _module_infos(model: nn.Module, params: dict[int, ParamRef]) -> dict[str, ModuleInfo]:
    infos = {p: ModuleInfo(p, type(m).__name__, not is_leaf_module(m))
             for p, m in model.named_modules()}
    for ref in params.values():
        info = infos.get(ref.owner)
        if info is None:
            continue
        if ref.bias:
            info.biases += ref.spec.numel
        else:
            info.weights += ref.spec.numel
    return infos


def _dead_tops(dead: list[ParamRef], modules: dict[str, ModuleInfo], ran: set[str]) -> list[str]:
    """The top-most modules whose parameters are all dead and in which nothing ran."""
    if not dead:
        return []
    owners = {r.owner for r in dead}
    live_owners = {p for p in modules if p in ran}
    candidates = []
    for path in modules:
        if not any(is_within(o, path) for o in owners):
            continue
        if any(is_within(r, path) for r in live_owners):
            continue  # something inside it ran (a ModuleList the forward loops over)
        candidates.append(path)
    return [p for p in candidates
            if not any(q != p and is_within(p, q) for q in candidates)]


class ParamReads(TorchFunctionMode):
    """Sees every torch function call's arguments and tells the recorder which were parameters.

    ``aliases`` maps the ids of stand-in tensors (meta copies of real weights) to the parameter
    they stand for. Property reads (``weight.shape``) are not reads of the data.
    """

    def __init__(self, recorder: CallRecorder, aliases: dict[int, ParamRef] | None = None):
        super().__init__()
        self.recorder = recorder
        self.ids = dict(recorder.params)
        if aliases:
            self.ids.update(aliases)

    def note_reads(self, func: Any, args: tuple, kwargs: dict) -> None:
        ids = self.ids
        for a in (*args, *kwargs.values()):
            if isinstance(a, torch.Tensor):
                ref = ids.get(id(a))
                if ref is not None:
                    self.recorder.read(ref)
            elif isinstance(a, (list, tuple)):
                for b in a:
                    ref = ids.get(id(b)) if isinstance(b, torch.Tensor) else None
                    if ref is not None:
                        self.recorder.read(ref)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") != "__get__":
            self.note_reads(func, args, kwargs)
        return func(*args, **kwargs)


@contextlib.contextmanager
def eval_mode(model: nn.Module, training: bool = False) -> Iterator[nn.Module]:
    """Put every submodule in eval mode (train mode with ``training``), then restore each one's
    own flag."""
    flags = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for m, was in flags:
            m.training = was


class ForwardFailed(Exception):
    """The model's forward raised: the exception, and the innermost module call running then."""

    def __init__(self, exc: BaseException, where: tuple[str, str] | None) -> None:
        super().__init__(str(exc))
        self.exc = exc
        self.where = where


@contextlib.contextmanager
def failures_named(recorder: CallRecorder) -> Iterator[None]:
    """Turn anything the forward raises (not Ctrl-C) into :class:`ForwardFailed`."""
    try:
        yield
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except BaseException as exc:  # a user's forward may raise anything, BaseException included
        raise ForwardFailed(exc, recorder.current_module()) from exc
