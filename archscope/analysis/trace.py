"""One inference forward with hooks: which modules ran, on what shapes.

The forward runs in eval mode (restored afterwards). A module on the meta device (every zoo
network built for analysis), or a large input, runs on meta under
:class:`~archscope.analysis.flops.meta_shapes.MetaShapeMode`: meta tensors carry shapes and
dtypes but no data, so the forward costs no compute and no activation memory, and the mode
keeps torch's Python meta kernels (which import torch._dynamo and sympy) off the path. Small
inputs on a module with real storage run for real on zeros.
A module with real weights runs on meta through ``torch.func.functional_call`` with meta
stand-ins for its parameters and buffers; if that fails for a reason other than the input (a
forward that builds CPU tensors of its own, say), it runs once for real on zeros.
Hooks are always removed: the caller's module is left as it was.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import torch
from torch import nn

from ..errors import ArchscopeError
from ..inputs import format_shape


@dataclass
class ModuleRun:
    """What one module did in the forward: how often it ran and its first input/output shapes."""

    calls: int = 0
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    output_numel: int = field(default=0)


def tensor_shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


class RunRecorder:
    """Forward pre/post hooks that record each module's run and keep the stack of modules
    being run (innermost last), so an op or a failure can be charged to its module.

    ``shape_of`` reads a tensor's shape; a recorder inside a TorchScript trace passes one that
    reads the trace's own values, since ``tensor.shape`` there records graph nodes.
    """

    def __init__(self, shape_of: Callable[[torch.Tensor], tuple[int, ...]] = tensor_shape) -> None:
        self.runs: dict[str, ModuleRun] = {}
        self.stack: list[tuple[str, nn.Module]] = []
        self.shape_of = shape_of

    @property
    def current(self) -> str:
        return self.stack[-1][0] if self.stack else ""

    def pre(self, path: str, module: nn.Module, args: Any) -> None:
        self.stack.append((path, module))
        run = self.runs.setdefault(path, ModuleRun())
        if run.calls == 0:
            t = first_tensor(args)
            run.input_shape = self.shape_of(t) if t is not None else None

    def post(self, path: str, module: nn.Module, args: Any, output: Any) -> None:
        if self.stack and self.stack[-1][0] == path:
            self.stack.pop()
        run = self.runs[path]
        if run.calls == 0:  # the first tensor's shape; the numel of them all
            shapes = [self.shape_of(x) for x in _all_tensors(output)]
            run.output_shape = shapes[0] if shapes else None
            run.output_numel = sum(math.prod(s) for s in shapes)
        run.calls += 1

    def hooks(self, model: nn.Module):
        return module_hooks(model, self.pre, self.post)


def ran_leaves(model: nn.Module, runs: dict[str, ModuleRun]) -> list[str]:
    """Paths of the leaf modules (no children) that ran, in module order."""
    return [p for p, m in model.named_modules() if p in runs and not any(True for _ in m.children())]


def first_tensor(value: Any) -> torch.Tensor | None:
    """The first tensor in a (possibly nested) module output."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


def _all_tensors(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _all_tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _all_tensors(item)


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put every submodule in eval mode, then restore each one's own flag."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, was in flags:
            m.training = was


def model_device(model: nn.Module) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("meta")


def _meta_state(model: nn.Module) -> dict[str, torch.Tensor]:
    state = dict(model.named_parameters(remove_duplicate=False))
    state.update(model.named_buffers(remove_duplicate=False))
    return {k: v.detach().to("meta") for k, v in state.items()}


@contextlib.contextmanager
def module_hooks(model: nn.Module, pre=None, post=None) -> Iterator[None]:
    """Attach forward pre/post hooks (``fn(path, module, args[, output])``) to every module."""
    handles = []
    try:
        for path, module in model.named_modules():
            if pre is not None:
                handles.append(
                    module.register_forward_pre_hook(lambda m, a, _p=path: pre(_p, m, a))
                )
            if post is not None:
                handles.append(
                    module.register_forward_hook(lambda m, a, o, _p=path: post(_p, m, a, o))
                )
        yield
    finally:
        for h in handles:
            h.remove()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def trace_forward(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    dtype: torch.dtype = torch.float32,
    name: str = "model",
    expected: tuple[int, ...] | None = None,
) -> dict[str, ModuleRun]:
    """Run one eval-mode forward on an input of ``input_shape``; return each module's run.

    Modules that did not run (GoogLeNet's auxiliary classifiers in eval mode) are absent. An
    input the network cannot take raises :class:`ArchscopeError` naming the layer that failed.
    """
    rec = RunRecorder()
    runs, stack = rec.runs, rec.stack
    pre, post = rec.pre, rec.post

    device = model_device(model)

    def attempt(on_meta: bool) -> None:
        runs.clear()
        stack.clear()
        from .flops.meta_shapes import MetaShapeMode

        x = torch.zeros(input_shape, dtype=dtype, device="meta" if on_meta else device)
        shapes = MetaShapeMode() if on_meta else contextlib.nullcontext()
        with torch.no_grad(), eval_mode(model), module_hooks(model, pre, post), shapes:
            if on_meta and device.type != "meta":
                torch.func.functional_call(model, _meta_state(model), (x,))
            else:
                model(x)

    def failure(exc: BaseException) -> ArchscopeError:
        where = ""
        if stack:
            path, module = stack[-1]
            where = f" at layer {path or '(model)'} ({type(module).__name__})"
        want = f"; it expects {format_shape(expected)} (N×C×H×W)" if expected else ""
        return ArchscopeError(
            f"{name} cannot take input {format_shape(input_shape)}{where}: {_one_line(exc)}{want}"
        )

    from ..models import REAL_TRACE_MAX_ELEMENTS

    errors = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)
    if device.type != "meta" and math.prod(input_shape) <= REAL_TRACE_MAX_ELEMENTS:
        try:  # small input, real weights: a real forward is cheapest
            attempt(on_meta=False)
        except errors as exc:
            raise failure(exc) from exc
        return runs
    try:
        attempt(on_meta=True)
    except errors as exc:
        if device.type == "meta":
            raise failure(exc) from exc
        try:  # a forward that builds CPU tensors of its own cannot run on meta
            attempt(on_meta=False)
        except errors as exc2:
            raise failure(exc2) from exc2
    return runs
