"""One training step of a model on the meta device: the forward in train mode, then backward.

:class:`TrainingStep` prepares what both the training count (:mod:`.count`) and the memory
estimate (:mod:`archscope.analysis.memory`) run: a :class:`CallRecorder` over the model, the
frozen parameters marked, a stand-in for every parameter and buffer (leaves that require grad
for the trainable ones, so the caller's model is never touched), and the inputs. Its
:meth:`~TrainingStep.forward` runs the model in train mode with gradients on — GoogLeNet's and
Inception v3's auxiliary heads run, batch norm computes batch statistics — under the meta
engine's two modes (parameter reads and composites at the torch-function level, every
dispatched op below autograd), and :meth:`~TrainingStep.backward` runs autograd from a gradient
of ones on every output that requires grad (no loss function is counted).

On the meta device nothing is computed and no memory is used; ``device="cpu"`` runs the same
step on zero-filled CPU tensors, for a model whose backward has no meta kernel.
"""

from __future__ import annotations

import contextlib
import fnmatch
from typing import Any, Callable

import torch

from ...errors import ArchscopeError
from ...inputs import ModelInputs
from ...models import Target
from ..engines.meta import MetaOp, _Counting, _Functions, _positional, stand_ins
from ..engines.recorder import (CallRecorder, ForwardFailed, ParamRef, eval_mode,
                                failures_named, op_cost, tensors_in)
from ..records import layer_name
from .graph import GradGraph
from .shapes import backward_rules

OpObserver = Callable[[str, tuple, Any], None]
# What StepOps does with an op: count it (forward), hand it to the GradGraph (backward), or
# only show it to the observers (anything else run under it: an optimizer step).
FORWARD, BACKWARD, OTHER = "forward", "backward", "other"


def frozen_names(model: torch.nn.Module, patterns: tuple[str, ...], name: str) -> set[str]:
    """Parameter names matched by ``--freeze`` patterns (shell-style, on the parameter's name or
    on the path of any module holding it); a pattern that matches nothing is an error."""
    names = [n for n, _ in model.named_parameters()]
    frozen: set[str] = set()
    for pattern in patterns:
        hit = {n for n in names if _matches(n, pattern)}
        if not hit:
            example = ", ".join(names[:3]) or "none"
            raise ArchscopeError(f"--freeze {pattern!r} matches no parameter of {name}; "
                                 f"parameter names look like {example} (a module path such as "
                                 f"{names[0].rpartition('.')[0] or names[0] if names else 'conv1'}"
                                 " freezes everything in it)")
        frozen |= hit
    return frozen


def _matches(param: str, pattern: str) -> bool:
    parts = param.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatchcase(p, pattern) for p in prefixes)


class StepOps(_Counting):
    """The dispatch mode of a step: the forward counted as the meta engine counts it; in the
    backward each op goes to the :class:`GradGraph`; every op to the ``observers``."""

    def __init__(self, recorder: CallRecorder, graph: GradGraph | None = None) -> None:
        super().__init__(recorder)
        self.rules.update(backward_rules())
        self.graph = graph
        self.phase = FORWARD
        self.observers: list[OpObserver] = []
        self.failed: str | None = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        try:
            return super().__torch_dispatch__(func, types, args, kwargs)
        except Exception:
            self.failed = self.failed or func._overloadpacket.__name__
            raise

    def observe(self, func: Any, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        for observer in self.observers:
            observer(name, args, out)
        if self.phase == FORWARD:
            super().observe(func, name, args, kwargs, out)
        elif self.phase == BACKWARD and self.graph is not None:
            if kwargs:
                args = _positional(func._schema, args, kwargs)
            cost, missing = op_cost(name, MetaOp(name, args, list(tensors_in(out))))
            self.graph.op(name, cost, missing, args, out)


class StepFunctions(_Functions):
    """Parameter reads and composites (as the meta engine), then the new autograd nodes
    claimed for the innermost call."""

    def __init__(self, recorder: CallRecorder, counting: StepOps, aliases: dict[int, ParamRef],
                 graph: GradGraph | None) -> None:
        super().__init__(recorder, counting, aliases)
        self.graph = graph

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = super().__torch_function__(func, types, args, kwargs)
        if self.graph is not None:
            self.graph.claim((args, kwargs), out)
        return out


class TrainingStep:
    """A model ready for one training step (see the module docstring).

    ``param_dtype``: the dtype of parameters, gradients and optimizer state; ``input_dtype``
    the floating inputs' (the parameters' by default; fp32 under mixed precision, see
    :mod:`archscope.analysis.memory.amp`). ``graph``: charge backward ops to calls (the
    training count). ``train=False`` prepares an inference forward (nothing need be trainable).
    ``fallback``: what to suggest when an op has no meta kernel. ``input_grad``: the floating
    inputs need a gradient, as a block's input does inside a network (by default the model's
    input needs none, so its first layer computes no input gradient).
    """

    def __init__(self, target: Target, inputs: ModelInputs, *, freeze: tuple[str, ...] = (),
                 device: str = "meta", param_dtype: torch.dtype = torch.float32,
                 input_dtype: torch.dtype | None = None, graph: bool = True,
                 fallback: str | None = None, train: bool = True, input_grad: bool = False
                 ) -> None:
        self.target, self.inputs, self.device = target, inputs, device
        self.fallback = fallback
        self.model = target.model
        self.param_dtype = param_dtype
        self.recorder = CallRecorder(self.model)
        self.frozen = frozen_names(self.model, tuple(freeze), target.name)
        for ref in self.recorder.params.values():
            if ref.name in self.frozen:
                ref.trainable = False
        if train and not any(ref.trainable for ref in self.recorder.params.values()):
            why = ("every parameter is frozen" if self.frozen else
                   "no parameter requires grad" if self.recorder.params else "it has no parameters")
            raise ArchscopeError(f"{target.name} has nothing to train: {why}; a training step "
                                 "needs at least one parameter that requires grad (see --freeze)")
        self.state, self.aliases = stand_ins(self.model, self.recorder, make=self._make)
        self.leaves = [t for t in self.state.values() if t.requires_grad]
        args, kwargs = inputs.tensors(device)
        cast = input_dtype or param_dtype
        self.args = tuple(_as_float(t, cast) for t in args)
        self.kwargs = {k: _as_float(t, cast) for k, t in kwargs.items()}
        if input_grad:
            for t in tensors_in((self.args, self.kwargs)):
                if t.is_floating_point():
                    t.requires_grad_(True)
        self.graph = GradGraph(self.recorder) if graph else None
        if self.graph is not None:
            self.graph.mark_data(self.args, self.kwargs)
        self.ops = StepOps(self.recorder, self.graph)
        self.functions = StepFunctions(self.recorder, self.ops, self.aliases, self.graph)
        self.outputs: list[torch.Tensor] = []

    def _make(self, t: torch.Tensor, ref: ParamRef | None) -> torch.Tensor:
        dtype = self.param_dtype if t.is_floating_point() else t.dtype
        if self.device == "meta":
            made = torch.empty(tuple(t.shape), dtype=dtype, device="meta")
        else:
            made = torch.zeros(tuple(t.shape), dtype=dtype, device=self.device)
        if ref is not None and ref.trainable and made.is_floating_point():
            made.requires_grad_(True)
        return made

    # ------------------------------------------------------------------ running
    def _where(self) -> str | None:
        frames = self.graph.frames if self.graph is not None else []
        if frames:
            call = self.recorder.calls[frames[-1].call].record
            return f"{layer_name(call.path)} ({call.type})"
        return None

    def forward(self, *contexts: Any, training: bool = True) -> list[torch.Tensor]:
        """Run the model once in train mode (eval mode and no grad with ``training=False``)
        inside ``contexts``; returns the output tensors that require grad."""
        grad = torch.enable_grad() if training else torch.no_grad()
        try:
            with failures_named(self.recorder), grad, eval_mode(self.model, training), \
                    self.recorder.hooks(), contextlib.ExitStack() as stack:
                for c in contexts:
                    stack.enter_context(c)
                stack.enter_context(self.functions)
                stack.enter_context(self.ops)
                self.ops.phase = FORWARD
                # the state names every alias of a shared tensor already: no untying to check
                out = torch.func.functional_call(self.model, self.state, self.args, self.kwargs,
                                                 tie_weights=False)
        except ForwardFailed as failed:
            raise self._forward_error(failed) from failed.exc
        finally:
            self.ops.phase = OTHER
        self.outputs = [t for t in tensors_in(out) if t.requires_grad]
        return self.outputs

    def backward(self, dense_seed: bool = True) -> None:
        """Autograd from a gradient of ones on every output that requires grad.

        ``dense_seed``: each gradient of ones is a tensor of the output's size, as a loss's
        backward makes one (the memory estimate). Otherwise the outputs' sum is differentiated,
        whose gradient of ones is a broadcast scalar: the same ops and costs, without
        ``torch.autograd.backward``'s check of given gradients, which imports sympy (0.5 s)."""
        if not self.outputs:
            raise ArchscopeError(f"no output of {self.target.name} requires grad, so a training "
                                 "step has nothing to differentiate")
        try:
            with self.ops:
                if not dense_seed:
                    total = sum(t.sum() for t in self.outputs)  # phase OTHER: not counted
                self.ops.phase = BACKWARD
                if dense_seed:
                    seeds = [torch.ones_like(t) for t in self.outputs]
                    torch.autograd.backward(self.outputs, seeds)
                    del seeds
                else:
                    total.backward()
        except (KeyboardInterrupt, ArchscopeError):
            raise
        except Exception as exc:
            raise self._op_error("backward", exc, self._where()) from exc
        finally:
            self.ops.phase = OTHER
            if self.graph is not None:
                self.graph.close()

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (an optimizer step) with every op shown to the observers, not counted."""
        with self.ops:
            return fn()

    def finish(self):
        """The forward's :class:`ModelRecord` (train mode: the parameters it read)."""
        return self.recorder.finish(self.target.name, "meta", self.inputs.specs)


    def _forward_error(self, failed: ForwardFailed) -> ArchscopeError:
        text = str(failed.exc)
        if "more than 1 value per channel" in text:
            at = f" at layer {layer_name(failed.where[0])}" if failed.where else ""
            return ArchscopeError(
                f"{self.target.name} cannot run a training step at batch "
                f"{self.inputs.first_shape[0]}{at}: batch norm in train mode needs more than one "
                "value per channel; use --batch-size 2 or more")
        if self.ops.failed and _no_meta_kernel(failed.exc):
            where = (f"{layer_name(failed.where[0])} ({failed.where[1]})"
                     if failed.where else None)
            return self._op_error("forward", failed.exc, where)
        from ..record import forward_error

        return forward_error(self.target, self.inputs, failed.exc, failed.where)

    def _op_error(self, phase: str, exc: BaseException, where: str | None) -> ArchscopeError:
        """One sentence: which op failed in which layer, and what would work."""
        text = " ".join(str(exc).split())[:200] or type(exc).__name__
        at = f" at layer {where}" if where else ""
        op = f"aten::{self.ops.failed}" if self.ops.failed else "an op"
        if self.device == "meta" and _no_meta_kernel(exc) and self.fallback:
            return ArchscopeError(f"the {phase} of {self.target.name} cannot run on the meta "
                                  f"device: {op}{at} failed ({text}); {self.fallback}")
        return ArchscopeError(f"the {phase} of {self.target.name} failed in {op}{at}: {text}")


def _no_meta_kernel(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, NotImplementedError) or "meta" in text


def _as_float(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return t.to(dtype) if t.is_floating_point() and t.dtype != dtype else t
