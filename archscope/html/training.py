"""The report's "Training" section (``archscope report … --train``): one training step per model,
at the chosen batch and optimizer, in fp32 — what it keeps in memory and what its backward
costs.

Counted, per model, by :func:`~archscope.analysis.memory.view.memory_report` (per leaf layer:
parameter, gradient, optimizer-state and saved-activation bytes; the step's peak) and
:func:`~archscope.analysis.train.count.training_record` (per leaf layer: forward, grad-input and
grad-weight MACs), both on the meta device. The frames below hold exact ints (bytes in bytes,
MACs for the whole batch); :mod:`.training_figures` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import ArchscopeError
from . import data as D
from . import training_figures as TF
from .figures import PALETTE
from .page import Chart, Section

if TYPE_CHECKING:
    import pandas as pd

    from ..analysis.records import LayerTable

DEFAULT_BATCH = 32
DEFAULT_OPTIMIZER = "adam"
MEMORY_COLUMNS = ["model", "param_bytes", "grad_bytes", "optimizer_bytes",
                  "saved_activation_bytes", "peak_train_bytes", "peak_phase"]
STEP_COLUMNS = ("forward_macs", "grad_input_macs", "grad_weight_macs")
# The report counts on the meta device only; a real CPU step is the memory command's choice.
ON_CPU = ("leave --train out for it, or run its step on the CPU with `archscope memory MODEL "
          "--device cpu`")


@dataclass
class TrainingData:
    """One model's training step: ``memory`` (the memory table, per leaf layer) and ``step``
    (the ``flops --mode train`` table, per leaf layer), both at the same batch."""

    name: str
    memory: LayerTable
    step: LayerTable


def gather_training(models: Sequence[Any], names: Sequence[str], input_size: Any = None, *,
                    batch_size: int = DEFAULT_BATCH, optimizer: str = DEFAULT_OPTIMIZER,
                    kwargs: dict | None = None) -> list[TrainingData]:
    """Count one training step of each model (zoo names, specs or modules), shown as
    ``names``, at ``batch_size`` with ``optimizer``."""
    from ..analysis.memory.estimate import FALLBACK
    from ..analysis.memory.view import memory_report
    from ..analysis.train.count import training_record
    from ..analysis.train.view import train_view

    out = []
    for model, name in zip(models, names):
        try:
            memory = memory_report(model, input_size, batch_size=batch_size,
                                   optimizer=optimizer, kwargs=kwargs)
            step = train_view(training_record(model, input_size, batch_size=batch_size,
                                              kwargs=kwargs))
        except ArchscopeError as exc:  # the library names the memory command's options
            text = str(exc).replace("--batch-size", "--train-batch-size")
            raise ArchscopeError(text.replace(FALLBACK, ON_CPU)) from exc
        out.append(TrainingData(name, memory, step))
    return out


def memory_frame(items: list[TrainingData]) -> pd.DataFrame:
    """One row per model: the step's parameter, gradient, optimizer-state and saved-activation
    bytes, its peak and the phase the peak falls in."""
    import pandas as pd

    rows = [{"model": t.name, **{k: int(t.memory.total[k]) for k in MEMORY_COLUMNS[1:-1]},
             "peak_phase": t.memory.meta.get("peak_phase") or ""} for t in items]
    return pd.DataFrame(rows, columns=MEMORY_COLUMNS)


def layer_memory_frame(item: TrainingData) -> pd.DataFrame:
    """Per leaf layer, in order: its parameter bytes and the activation bytes it saves."""
    rows = item.memory.rows
    out = rows[["layer", "type", "param_bytes", "saved_activation_bytes"]].copy()
    return out.astype({"param_bytes": "int64", "saved_activation_bytes": "int64"}) \
        .reset_index(drop=True)


def step_stage_frame(item: TrainingData) -> pd.DataFrame:
    """Forward, grad-input and grad-weight MACs per stage, grouped as the report's stage bars
    are (:func:`~archscope.html.data.stage_depth`, on the train-mode forward's MACs)."""
    rows = item.step.rows.rename(columns={"macs": "forward_macs"})
    depth = D.stage_depth(rows.rename(columns={"forward_macs": "macs"}))
    return D.stage_frame(rows, depth, columns=STEP_COLUMNS)


def training_section(items: list[TrainingData], colors: dict[str, str], batch_size: int,
                     optimizer: str) -> Section:
    where = f"batch {batch_size}, {optimizer}, fp32"
    charts = [Chart(
        TF.memory_stack(memory_frame(items), where),
        f"Per model, the bytes one training step keeps ({where}): the parameters, their "
        "gradients (trainable parameters only), the optimizer's state and the activations "
        "autograd saves for the backward; the mark is the step's peak, from a simulated "
        "allocation timeline (the sum is not the peak: saved activations are freed as the "
        "backward goes, and temporaries come and go). The Share button shows each bar as "
        "100 %.")]
    for item in items:
        colour = colors.get(item.name, PALETTE[0])
        charts.append(Chart(
            TF.layer_memory_bars(layer_memory_frame(item), item.name, colour),
            f"{item.name}: per layer, in order, the activation bytes it saves for the backward "
            f"at batch {batch_size} against the bytes of its own parameters (gradients and "
            "the optimizer's state are multiples of those). In a CNN the layers near the input "
            "usually save large maps and hold few weights, the last ones the reverse."))
        stages = step_stage_frame(item)
        charts.append(Chart(
            TF.step_stage_bars(stages, item.name, colour),
            f"{item.name}: MACs of the forward (left bar) and of the backward (right bar: input "
            f"gradients below, weight gradients above) per {D.stage_words(stages.attrs['depth'])},"
            f" at batch {batch_size}, in train mode (auxiliary heads included, where a model has "
            "them). Each gradient "
            "of a convolution or linear layer costs its forward's MACs; the first layer "
            "computes no input gradient."))
    return Section(
        "training", "Training",
        f"One training step per model at {where}, counted on the meta device: what it keeps in "
        f"memory (archscope memory MODEL --batch-size {batch_size} --optimizer {optimizer}) and "
        "what its backward costs (archscope flops MODEL --mode train). Train mode runs what "
        "inference leaves out: batch statistics, dropout, auxiliary heads.", charts)
