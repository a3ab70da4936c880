"""The cost of one training step, counted: the forward in train mode, and the backward ops torch
actually dispatches, through the same op-cost registry (no 3× factor).

:func:`record_training` returns a :class:`TrainRecord`: the train-mode forward's
:class:`~archscope.analysis.records.ModelRecord` (every call, its forward cost, the parameters
it read: auxiliary heads included) and, per call, the backward work charged to it
(:class:`~.graph.GradCost`: grad-input and grad-weight MACs, other FLOPs by category). What the
backward costs follows from what autograd needs: a frozen parameter (``--freeze``, or
``requires_grad=False``) gets no weight gradient, and the first layer computes no input
gradient, since the model's input needs none.

Only the meta engine runs a backward; :func:`train_counts` gives the bench its totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ArchscopeError
from ...inputs import ModelInputs
from ...models import Target, load_target, resolve_inputs
from ..costs import Cost, regroup_module
from ..engines import DEFAULT_ENGINE
from ..records import ModelRecord
from .graph import GradCost

TRAIN_ENGINES = ("meta",)


@dataclass
class TrainRecord:
    """A training step's record: the forward's calls and each call's backward work.

    ``backward[i]`` is what call ``i`` of ``record.calls`` cost in the backward (its module's
    other FLOPs regrouped as the forward's are: LRN's under ``norm``); ``frozen`` the names of
    the parameters frozen by pattern; ``uncounted`` the backward ops without a cost handle;
    ``unclaimed`` how many costed backward ops no layer's backward received (charged to the
    root call, and said in the notes).
    """

    record: ModelRecord
    backward: list[GradCost]
    frozen: list[str] = field(default_factory=list)
    uncounted: dict[str, int] = field(default_factory=dict)
    unclaimed: int = 0

    @property
    def forward_cost(self) -> Cost:
        return self.record.cost

    @property
    def backward_cost(self) -> Cost:
        return Cost.total(g.cost() for g in self.backward)

    @property
    def grad_input_macs(self) -> int:
        return sum(g.grad_input_macs for g in self.backward)

    @property
    def grad_weight_macs(self) -> int:
        return sum(g.grad_weight_macs for g in self.backward)


def check_train_engine(engine: str) -> None:
    if engine not in TRAIN_ENGINES:
        raise ArchscopeError(f"--mode train counts the backward with the meta engine only "
                             f"(autograd on the meta device); drop --engine {engine} or use "
                             "--engine meta")


def record_training(target: Target, inputs: ModelInputs, *, freeze: tuple[str, ...] = (),
                    input_grad: bool = False) -> TrainRecord:
    """Count one training step of an already built target (see the module docstring).
    ``input_grad``: count it as if the inputs needed a gradient, as a block's input does inside
    a network (then the first layer computes its input gradient too)."""
    import contextlib
    import sys

    from .step import TrainingStep

    step = TrainingStep(target, inputs, freeze=freeze, input_grad=input_grad,
                        fallback="count the forward alone (--mode infer) or run it on a model "
                        "whose ops have meta kernels")
    with contextlib.redirect_stdout(sys.stderr):  # a model that prints must not corrupt -f json
        step.forward()
        step.backward(dense_seed=False)
    record = step.finish()
    record.notes = [*target.notes, *record.notes]
    graph = step.graph
    backward = []
    for call in record.calls:
        g = graph.backward.get(call.order, GradCost())
        other = regroup_module(call.type, Cost(0, g.other)).other
        backward.append(GradCost(g.grad_input_macs, g.grad_weight_macs, dict(other),
                                 dict(g.uncounted)))
    if graph.unclaimed:
        record.notes.append(f"{graph.unclaimed} backward ops ran outside every layer's backward "
                            "and are charged to the model's own row")
    return TrainRecord(record, backward, sorted(step.frozen), dict(graph.uncounted),
                       graph.unclaimed)


def training_record(model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
                    freeze: tuple[str, ...] | list[str] = (), engine: str = DEFAULT_ENGINE,
                    kwargs: dict | None = None, input_grad: bool = False) -> TrainRecord:
    """Build the model for counting and count one training step (see :func:`record_training`)."""
    check_train_engine(engine)
    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    return record_training(target, inputs, freeze=tuple(freeze), input_grad=input_grad)


def train_counts(model_or_name: Any, input_shape: tuple[int, ...], *,
                 kwargs: dict | None = None, freeze: tuple[str, ...] | list[str] = ()
                 ) -> tuple[Cost, Cost]:
    """(forward, backward) of one training step on an input of ``input_shape`` (N, C, H, W),
    each a :class:`Cost` (MACs and other FLOPs by category) for the whole batch; the step is
    their sum (no loss function counted). What ``bench --mode train`` divides by its time, as
    :func:`archscope.timing.counts.model_counts` gives the inference forward."""
    rec = training_record(model_or_name, tuple(input_shape[1:]), batch_size=int(input_shape[0]),
                          freeze=freeze, kwargs=kwargs)
    return rec.forward_cost, rec.backward_cost
