"""The fvcore engine: fvcore's ``FlopCountAnalysis`` (a TorchScript trace) with the registry.

fvcore traces one real forward on CPU (a meta-built model gets zero-filled storage, see
:func:`archscope.models.materialize`) and hands each graph node to the handle registered for
its kind. Every registry entry is registered, each as a thin wrapper that presents the node's
values as an :class:`~..costs.OpView` and charges the cost to the module call that ran it: the
recorder's hooks mark each call with a scope of its own in the trace, so a node's scope names
its call even when a module runs several times. fvcore's own handles and its list of silently
ignored ops are removed (:mod:`archscope.adapters.fvcore`): an op without a handle is reported.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from typing import Any

import torch
from torch import nn

from ...adapters import torch_jit
from ...inputs import ModelInputs, TensorSpec
from ..costs import UNKNOWN, registry
from ..records import ModelRecord
from .recorder import CallRecorder, ParamReads, eval_mode, failures_named

_MARK = "archscope-call-"
_CALL = re.compile(re.escape(_MARK) + r"(\d+)")


class JitOp:
    """A TorchScript graph node, as a cost handle reads it (see :class:`~..costs.OpView`)."""

    __slots__ = ("name", "inputs", "outputs")

    def __init__(self, name: str, inputs: list, outputs: list) -> None:
        self.name, self.inputs, self.outputs = name, inputs, outputs

    @staticmethod
    def _sizes(value) -> tuple[int, ...] | None:
        t = value.type()
        if not torch_jit.is_tensor_type(t):
            return None
        sizes = t.sizes()
        if sizes is None:
            raise ValueError("a tensor of unknown shape")
        return tuple(int(d) for d in sizes)

    def shape(self, i: int):
        return self._sizes(self.inputs[i]) if i < len(self.inputs) else None

    def shapes(self, i: int):
        if i >= len(self.inputs):
            return []
        node = self.inputs[i].node()
        if node.kind() != "prim::ListConstruct":
            return []
        return [s for s in (self._sizes(v) for v in node.inputs()) if s is not None]

    def arg(self, i: int, default: Any = None) -> Any:
        if i >= len(self.inputs):
            return default
        return _constant(self.inputs[i])

    def dtype(self, i: int) -> str | None:
        if i >= len(self.inputs):
            return None
        t = self.inputs[i].type()
        kind = t.scalarType() if torch_jit.is_tensor_type(t) else None
        return _JIT_DTYPES.get(kind, kind.lower() if kind else None)

    def out(self, j: int = 0):
        return self._sizes(self.outputs[j]) if j < len(self.outputs) else None

    @property
    def n_outputs(self) -> int:
        return len(self.outputs)


_JIT_DTYPES = {"Float": "float32", "Half": "float16", "BFloat16": "bfloat16", "Double": "float64",
               "Long": "int64", "Int": "int32", "Bool": "bool", "Byte": "uint8"}


def _constant(value) -> Any:
    node = value.node()
    if node.kind() == "prim::Constant":
        return value.toIValue()
    if node.kind() == "prim::ListConstruct":
        return [_constant(v) for v in node.inputs()]
    return UNKNOWN


def _traced_spec(t: torch.Tensor) -> TensorSpec:
    sizes = torch_jit.value_sizes(t)
    shape = sizes if sizes is not None else tuple(int(d) for d in t.shape)
    return TensorSpec(shape, str(t.dtype).removeprefix("torch."))


def _handles(recorder: CallRecorder) -> dict[str, Any]:
    def wrap(name: str):
        def handle(inputs: list, outputs: list) -> Counter:
            node = (outputs or inputs)[0].node() if (outputs or inputs) else None
            marks = _CALL.findall(node.scopeName()) if node is not None else []
            call = int(marks[-1]) if marks else 0
            recorder.count(name, JitOp(name, inputs, outputs), call)
            return Counter()  # fvcore's own totals are not used

        return handle

    return {f"aten::{name}": wrap(name) for name in registry()}


class _Keywords(nn.Module):
    """Calls a model with its keyword inputs, since a trace takes positional inputs only."""

    def __init__(self, model: nn.Module, n_args: int, names: list[str]) -> None:
        super().__init__()
        self.model, self.n_args, self.names = model, n_args, names

    def forward(self, *tensors):
        return self.model(*tensors[: self.n_args], **dict(zip(self.names, tensors[self.n_args:])))


class FvcoreEngine:
    name = "fvcore"

    def record(self, model: nn.Module, inputs: ModelInputs, *, name: str) -> ModelRecord:
        from ...adapters.fvcore import bare_analysis
        from ...models import materialize, model_device

        materialize(model, "cpu")  # the trace needs real tensors (meta-built: zeros)
        args, kwargs = inputs.tensors(model_device(model, default="cpu"))
        traced: nn.Module = model
        if kwargs:
            traced = _Keywords(model, len(args), list(kwargs))
            args = (*args, *kwargs.values())
        recorder = CallRecorder(model, spec_of=_traced_spec,
                                on_enter=lambda k: torch_jit.push_scope(f"{_MARK}{k}"),
                                on_exit=lambda k: torch_jit.pop_scope())
        analysis = bare_analysis(traced, tuple(args))
        analysis.set_op_handle(**_handles(recorder))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analysis.tracer_warnings("none")
        with failures_named(recorder), eval_mode(model), recorder.hooks(), ParamReads(recorder), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's deprecation and tracer notices
            analysis.total()
        record = recorder.finish(name, self.name, inputs.specs)
        uncounted = Counter(record.uncounted)  # forms a handle could not cost
        uncounted.update(analysis.unsupported_ops(""))
        record.uncounted = dict(sorted(uncounted.items()))
        return record


ENGINE = FvcoreEngine()
