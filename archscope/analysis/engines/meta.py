"""The meta engine: torch's dispatcher on the meta device, independent of TorchScript.

A ``TorchDispatchMode`` sees every aten op after decomposition (``linear`` arrives as ``t`` +
``addmm``, ``max_pool2d`` as ``max_pool2d_with_indices``) and costs it through the registry,
charged to the innermost module call. The model runs on meta tensors: shapes only, no
arithmetic and no activation memory, so a 2048×2048 VGG-16 takes as long as a 224×224 one. A
model with real weights runs through ``torch.func.functional_call`` on meta stand-ins (one per
distinct tensor, so tied weights stay tied); the caller's tensors are untouched.

A few composite ops decompose on the dispatcher into pieces whose costs land in other
categories than the op's own, where the fvcore engine sees the op whole: ``linear`` on a
non-contiguous input becomes a ``bmm`` and an ``add`` (its bias as elementwise work), adaptive
average pooling to 1×1 a ``mean`` (a reduction, not a pool), RMS norm and ``logsumexp`` their
elementwise pieces. They are costed whole where the torch function is called, and their inner
ops are not counted again. Calls inside torch's own Python wrappers count too (``F.linear``
inside ``F.multi_head_attention_forward``): see :mod:`archscope.adapters.torch_function`.
(Attention needs no such care: its handle counts what torch's math path dispatches, see
:mod:`archscope.analysis.costs.linalg`.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...adapters.torch_function import inner_visible, nn_binding
from ...errors import one_line
from ...inputs import ModelInputs
from ..costs import UNKNOWN
from ..records import ModelRecord
from .meta_shapes import MetaShapeMode
from .recorder import (CallRecorder, ForwardFailed, ParamReads, ParamRef, eval_mode,
                       failures_named, tensors_in)


def _positional(schema: Any, args: tuple, kwargs: dict) -> tuple:
    """``args`` + ``kwargs`` in the schema's argument order, defaults filled in."""
    out = list(args)
    for a in schema.arguments[len(args):]:
        if a.name in kwargs:
            out.append(kwargs[a.name])
        elif a.has_default_value():
            out.append(a.default_value)
        else:
            out.append(None)
    return tuple(out)


class MetaOp:
    """An op seen on the dispatcher, as a cost handle reads it (see :class:`~..costs.OpView`)."""

    __slots__ = ("name", "args", "outs")

    def __init__(self, name: str, args: tuple, outs: list[torch.Tensor]) -> None:
        self.name, self.args, self.outs = name, args, outs

    def shape(self, i: int):
        a = self.args[i] if i < len(self.args) else None
        return tuple(a.shape) if isinstance(a, torch.Tensor) else None

    def shapes(self, i: int):
        a = self.args[i] if i < len(self.args) else None
        return [tuple(t.shape) for t in a if isinstance(t, torch.Tensor)] if isinstance(
            a, (list, tuple)) else []

    def arg(self, i: int, default: Any = None) -> Any:
        if i >= len(self.args):
            return default
        a = self.args[i]
        return UNKNOWN if isinstance(a, torch.Tensor) else a

    def dtype(self, i: int) -> str | None:
        a = self.args[i] if i < len(self.args) else None
        return str(a.dtype).removeprefix("torch.") if isinstance(a, torch.Tensor) else None

    def out(self, j: int = 0):
        return tuple(self.outs[j].shape) if j < len(self.outs) else None

    @property
    def n_outputs(self) -> int:
        return len(self.outs)


class _Counting(MetaShapeMode):
    """Costs every dispatched op (unless inside a composite already costed whole); a ``watch``
    sees every op, composites' insides included."""

    def __init__(self, recorder: CallRecorder, watch: Any = None) -> None:
        super().__init__()
        self.recorder = recorder
        self.inside_composite = 0
        self.watch = watch

    def observe(self, func: Any, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        if self.watch is not None:
            self.watch.op(func, name, args, kwargs, out)
        if self.inside_composite:
            return
        if kwargs:
            args = _positional(func._schema, args, kwargs)
        self.recorder.count(name, MetaOp(name, args, list(tensors_in(out))))


def _composites() -> dict[Any, str]:
    """Torch functions costed whole → their aten name (see the module docstring)."""
    F = torch.nn.functional
    table = {nn_binding("linear"): "linear",
             nn_binding("scaled_dot_product_attention"): "scaled_dot_product_attention",
             F.adaptive_avg_pool1d: "adaptive_avg_pool1d",
             torch.adaptive_avg_pool1d: "adaptive_avg_pool1d",
             F.adaptive_avg_pool2d: "adaptive_avg_pool2d",
             nn_binding("adaptive_avg_pool2d"): "adaptive_avg_pool2d",
             F.adaptive_avg_pool3d: "adaptive_avg_pool3d",
             nn_binding("adaptive_avg_pool3d"): "adaptive_avg_pool3d",
             torch.logsumexp: "logsumexp", torch.Tensor.logsumexp: "logsumexp"}
    if hasattr(F, "rms_norm"):  # torch ≥ 2.4
        table[F.rms_norm] = "rms_norm"
        table[torch.rms_norm] = "rms_norm"
    return table


class _Functions(ParamReads):
    """Parameter reads, plus the composites costed whole at the torch-function level."""

    def __init__(self, recorder: CallRecorder, counting: _Counting,
                 aliases: dict[int, ParamRef]) -> None:
        super().__init__(recorder, aliases)
        self.counting = counting
        self.composites = _composites()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") != "__get__":
            self.note_reads(func, args, kwargs)
        name = self.composites.get(func) if not self.counting.inside_composite else None
        if name is None:
            body = inner_visible(func)
            if body is None:
                return func(*args, **kwargs)
            with self:  # the wrapper's own torch calls reach this mode too
                return body(*args, **kwargs)
        self.counting.inside_composite += 1
        try:
            out = func(*args, **kwargs)
        finally:
            self.counting.inside_composite -= 1
        schema = getattr(torch.ops.aten, name).default._schema
        self.recorder.count(name, MetaOp(name, _positional(schema, args, kwargs),
                                         list(tensors_in(out))))
        return out


def _meta_copy(t: torch.Tensor, ref: ParamRef | None) -> torch.Tensor:
    return t.detach().to("meta")


def stand_ins(model: nn.Module, recorder: CallRecorder, make=_meta_copy):
    """Stand-ins for every parameter and buffer (one per distinct tensor, so tied weights stay
    tied) and their aliases. ``make(tensor, ref)`` builds each (``ref``: the parameter's
    :class:`ParamRef`, ``None`` for a buffer); by default a meta copy. The training count makes
    leaves that require grad (:mod:`archscope.analysis.train`)."""
    made: dict[int, torch.Tensor] = {}
    state: dict[str, torch.Tensor] = {}
    aliases: dict[int, ParamRef] = {}
    named = [*model.named_parameters(remove_duplicate=False),
             *model.named_buffers(remove_duplicate=False)]
    for key, t in named:
        if id(t) not in made:
            ref = recorder.params.get(id(t))
            made[id(t)] = make(t, ref)
            if ref is not None:
                aliases[id(made[id(t)])] = ref
        state[key] = made[id(t)]
    return state, aliases


def _reads_values(failed: ForwardFailed) -> bool:
    """Did the forward fail because it read a tensor's values (``.item()``, ``.tolist()``, a
    data-dependent shape), which the meta device does not have?"""
    text = str(failed.exc).lower()
    return "meta" in text and any(k in text for k in (
        "copy out of meta", "item()", "data-dependent", "no data", "_local_scalar_dense",
        "cannot be called on meta", "not implemented for 'meta'"))


class MetaEngine:
    """``watch`` (optional) follows the forward beside the counting: ``start(recorder, args,
    kwargs)`` before it, ``op(func, name, args, kwargs, out)`` for every dispatched op,
    ``output(call_index, value)`` as each module call returns, ``finish(record)`` at the end
    (the receptive-field trace, :mod:`archscope.analysis.receptive`, is one)."""

    name = "meta"

    def record(self, model: nn.Module, inputs: ModelInputs, *, name: str, watch: Any = None
               ) -> ModelRecord:
        """Record one forward on meta tensors; a forward that reads tensor values is counted on
        a real CPU forward instead (zero-filled weights), with a note that says so."""
        try:
            return self._record(model, inputs, name, "meta", watch)
        except ForwardFailed as failed:
            if not _reads_values(failed):
                raise
            why = one_line(failed.exc, 120)
        from ...models import materialize

        materialize(model, "cpu")
        record = self._record(model, inputs, name, "cpu", watch)
        record.notes.append(f"counted on a real CPU forward with zero-filled weights: the "
                            f"forward reads tensor values, which the meta device lacks ({why})")
        return record

    def _record(self, model: nn.Module, inputs: ModelInputs, name: str, device: str,
                watch: Any) -> ModelRecord:
        recorder = CallRecorder(model, on_output=watch.output if watch is not None else None)
        if device == "meta":
            on_meta = all(t.is_meta for t in (*model.parameters(), *model.buffers()))
            state, aliases = (None, {}) if on_meta else stand_ins(model, recorder)
        else:
            state, aliases = None, {}
        args, kwargs = inputs.tensors(device)
        if watch is not None:
            watch.start(recorder, args, kwargs)
        counting = _Counting(recorder, watch)
        functions = _Functions(recorder, counting, aliases)
        with failures_named(recorder), torch.no_grad(), eval_mode(model), recorder.hooks(), \
                functions, counting:
            if state is None:
                model(*args, **kwargs)
            else:
                torch.func.functional_call(model, state, args, kwargs)
        record = recorder.finish(name, self.name, inputs.specs)
        if watch is not None:
            watch.finish(record)
        return record


ENGINE = MetaEngine()
