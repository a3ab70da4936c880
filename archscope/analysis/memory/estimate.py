"""The memory of one training step and of one inference forward, estimated on the meta device.

:func:`estimate_memory` runs, on meta stand-ins (no memory used):

1. the optimizer's state, allocated as torch.optim allocates it (:mod:`.optim`);
2. one training step — forward in train mode with ``saved_tensors_hooks`` observing what
   autograd saves (:mod:`.saved`), backward, ``optimizer.step()``, ``zero_grad(set_to_none=
   True)`` — on a :class:`~.timeline.Timeline` that starts with the parameters, buffers,
   optimizer state and input batch resident;
3. one inference forward (eval mode, no grad) on a timeline that starts with the parameters,
   buffers and input.

The peaks are those timelines' highest live bytes. With ``amp``, parameters, gradients and the
optimizer state are fp32 and the forward runs under :class:`~.amp.Autocast` in ``dtype``.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field

import torch

from ...inputs import ModelInputs
from ...models import Target
from ..records import ModelRecord
from ..train.step import TrainingStep
from .amp import Autocast
from .optim import Optimizer
from .saved import SavedTensors
from .timeline import Timeline

FALLBACK = "add --device cpu to run the step on the CPU instead (real memory, zero weights)"


@dataclass
class MemoryEstimate:
    """What one step keeps in memory, per call of ``record`` (the train-mode forward's; the
    inference forward's when ``train`` is false) and in total, in bytes."""

    record: ModelRecord
    train: bool
    param_dtype: str
    compute_dtype: str
    optimizer: str | None
    param_bytes: dict[int, int] = field(default_factory=dict)
    grad_bytes: dict[int, int] = field(default_factory=dict)
    optimizer_bytes: dict[int, int] = field(default_factory=dict)
    saved_bytes: dict[int, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    peak_phase: str | None = None
    frozen: list[str] = field(default_factory=list)


def _bytes(tensors) -> int:
    seen, n = set(), 0
    for t in tensors:
        st = t.untyped_storage()
        if id(st) not in seen:
            seen.add(id(st))
            n += st.nbytes()
    return n


def _per_call(step: TrainingStep, record: ModelRecord, size) -> dict[int, int]:
    """``size(tensor, ref)`` summed per call the parameter is attributed to."""
    by_id = {id(t): t for t in step.state.values()}
    out: dict[int, int] = {}
    for sid, ref in step.aliases.items():
        if ref.attributed_to is None:
            continue
        n = size(by_id[sid], ref)
        if n:
            out[ref.attributed_to] = out.get(ref.attributed_to, 0) + n
    return out


def estimate_memory(target: Target, inputs: ModelInputs, *, dtype: torch.dtype = torch.float32,
                    amp: bool = False, optimizer: str = "adam", train: bool = True,
                    freeze: tuple[str, ...] = (), device: str = "meta") -> MemoryEstimate:
    """See the module docstring. ``dtype``: parameters, gradients, state and activations (the
    activations alone with ``amp``)."""
    param_dtype = torch.float32 if amp else dtype
    with contextlib.redirect_stdout(sys.stderr):  # a model that prints must not corrupt -f json
        infer_peak, infer_step = _inference(target, inputs, dtype, param_dtype, amp, freeze,
                                            device)
        if not train:
            record = infer_step.finish()
            est = MemoryEstimate(record, False, _name(param_dtype), _name(dtype), None,
                                 frozen=sorted(infer_step.frozen))
            est.param_bytes = _per_call(infer_step, record, lambda t, ref: t.nbytes)
            est.total = {"param_bytes": _bytes(p for p in _params(infer_step)),
                         "buffer_bytes": _bytes(_buffers(infer_step)),
                         "input_bytes": _bytes(_inputs(infer_step)),
                         "peak_infer_bytes": infer_peak}
            return est
        return _training(target, inputs, dtype, param_dtype, amp, optimizer, freeze, device,
                         infer_peak)


def _params(step: TrainingStep):
    by_id = {id(t): t for t in step.state.values()}
    return [by_id[i] for i in step.aliases]


def _buffers(step: TrainingStep):
    params = set(step.aliases)
    return [t for t in step.state.values() if id(t) not in params]


def _inputs(step: TrainingStep):
    return [*step.args, *step.kwargs.values()]


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _inference(target, inputs, dtype, param_dtype, amp, freeze, device):
    step = TrainingStep(target, inputs, freeze=freeze, device=device, param_dtype=param_dtype,
                        graph=False, fallback=FALLBACK, train=False)
    timeline = Timeline(device)
    timeline.hold([*step.state.values(), *_inputs(step)])
    step.ops.observers.append(timeline.born)
    contexts = [Autocast(dtype)] if amp else []
    timeline.enter("forward")
    step.forward(*contexts, training=False)
    step.outputs = []
    return timeline.peak, step


def _training(target, inputs, dtype, param_dtype, amp, optimizer, freeze, device, infer_peak
              ) -> MemoryEstimate:
    step = TrainingStep(target, inputs, freeze=freeze, device=device, param_dtype=param_dtype,
                        graph=False, fallback=FALLBACK)
    opt = Optimizer.build(optimizer, step.leaves)
    timeline = Timeline(device)
    timeline.hold([*step.state.values(), *opt.tensors(), *_inputs(step)])
    step.ops.observers.append(timeline.born)
    saved = SavedTensors(step.recorder, exclude=list(step.state.values()))
    contexts = [Autocast(dtype, on_copy=saved.mark_copy)] if amp else []
    timeline.enter("forward")
    step.forward(*contexts, saved.hooks())
    timeline.enter("backward")
    step.backward()
    timeline.enter("step")
    step.run(opt.step)
    step.outputs = []
    record = step.finish()
    est = MemoryEstimate(record, True, _name(param_dtype), _name(dtype), optimizer,
                         frozen=sorted(step.frozen))
    est.param_bytes = _per_call(step, record, lambda t, ref: t.nbytes)
    est.grad_bytes = _per_call(step, record, lambda t, ref: t.nbytes if t.requires_grad else 0)
    est.optimizer_bytes = _per_call(step, record, lambda t, ref: opt.state_bytes(t))
    est.saved_bytes = dict(saved.by_call)
    est.peak_phase = max(timeline.peaks, key=timeline.peaks.get)
    est.total = {
        "param_bytes": _bytes(_params(step)),
        "grad_bytes": sum(est.grad_bytes.values()),
        "optimizer_bytes": sum(opt.state_bytes(p) for p in step.leaves),
        "saved_activation_bytes": saved.total,
        "peak_train_bytes": timeline.peak,
        "peak_infer_bytes": infer_peak,
        "buffer_bytes": _bytes(_buffers(step)),
        "input_bytes": _bytes(_inputs(step)),
    }
    if amp:
        est.total["saved_weight_copy_bytes"] = saved.weight_copies
    return est
