"""``archscope memory``: per-layer bytes of a training step and the peaks, as a table.

Rows are the flops table's rows (:mod:`..rows`). Per row: ``param_bytes``, ``grad_bytes``
(trainable parameters only), ``optimizer_bytes`` and ``saved_activation_bytes`` (what autograd
keeps for the backward, charged to the layer that saved it); in the totals the same, plus
``peak_train_bytes`` and ``peak_infer_bytes`` and what they start from (``buffer_bytes``,
``input_bytes``). Every figure is in bytes. ``mode="infer"`` shows one inference forward only.
"""

from __future__ import annotations

from typing import Any

from ...errors import ArchscopeError, check_choice
from ..params import check_depth, param_columns, param_totals, record_notes, shape_text
from ..records import LayerTable
from ..rows import fold, owning_row
from ..train.view import rows_covering, short_list
from . import human
from .estimate import MemoryEstimate, estimate_memory
from .optim import check_optimizer

MODES = ("train", "infer")
DTYPES = {"fp32": "float32", "float32": "float32", "bf16": "bfloat16", "bfloat16": "bfloat16",
          "fp16": "float16", "float16": "float16"}
STATE = {"sgd": "none", "momentum": "one momentum buffer", "adam": "two moments (m, v)",
         "adamw": "two moments (m, v)"}


def _peaks(est: MemoryEstimate) -> str:
    t = est.total
    if not est.train:
        return f"peak of an inference forward: {human(t['peak_infer_bytes'])}"
    return (f"peak of a training step: {human(t['peak_train_bytes'])}, during the "
            f"{est.peak_phase}; of an inference forward: {human(t['peak_infer_bytes'])}")


def _notes(est: MemoryEstimate, amp: bool, frozen: list[str]) -> list[str]:
    p, c = est.param_dtype, est.compute_dtype
    notes = [_peaks(est),f"bytes; parameters at {p}, activations at {c}" + (
        f" (mixed precision: fp32 master weights, gradients and optimizer state; the forward "
        f"cast to {c} where CUDA's autocast casts, its weight copies kept for the forward)"
        if amp else "")]
    if est.train:
        notes += [
            f"optimizer {est.optimizer}: state per trainable parameter: {STATE[est.optimizer]}, "
            "as torch.optim allocates it; its step is torch's own (foreach, CUDA's default); "
            "gradients: trainable parameters only",
            "saved_activation_bytes: what autograd saves for the backward (saved_tensors_hooks "
            "on the meta device), each storage once, on the layer that saved it first; "
            "parameters and buffers are not activations",
            "peak_train_bytes: the most bytes alive during one step (train-mode forward, "
            "backward, optimizer.step(), zero_grad(set_to_none=True)), following every "
            "tensor from its birth to its release, from the parameters, buffers, optimizer state "
            "and input batch on",
        ]
    notes += [
        "peak_infer_bytes: the same for one forward in eval mode under no_grad",
        "each tensor rounded up to 512 B as CUDA's caching allocator counts it; not included: "
        "scratch memory kernels take for themselves (cuDNN workspaces), the allocator's reserved "
        "but free blocks, and the CUDA context",
    ]
    if frozen:
        notes.append(f"frozen ({len(frozen)} parameter tensors): {short_list(frozen)}")
    return notes + record_notes(est.record)


def memory_view(est: MemoryEstimate, *, depth: int | None = None, amp: bool = False
                ) -> LayerTable:
    record = est.record
    calls = {*est.param_bytes, *est.saved_bytes, *est.optimizer_bytes}
    rows = rows_covering(record, depth, sorted(calls))
    total = param_totals(record)
    columns = param_columns(rows, fold(record, rows), total["params"])
    del columns["share"]
    row_set = set(rows)
    figures = {"param_bytes": est.param_bytes}
    if est.train:
        figures.update(grad_bytes=est.grad_bytes, optimizer_bytes=est.optimizer_bytes,
                       saved_activation_bytes=est.saved_bytes)
    for column, per_call in figures.items():
        sums = dict.fromkeys(rows, 0)
        for i, n in per_call.items():
            row = owning_row(record.calls[i].path, row_set)
            if row is not None:
                sums[row] += n
        columns[column] = [sums[r] for r in rows]
    total = {"layer": "total", "output_shape": shape_text(
        record.root.outputs[0].shape if record.root.outputs else None),
        **{k: total[k] for k in ("weights", "biases", "params")}, **est.total}
    meta = {"mode": "train" if est.train else "infer", "dtype": est.compute_dtype,
            "param_dtype": est.param_dtype, "amp": amp, "optimizer": est.optimizer,
            "peak_phase": est.peak_phase,
            "depth": depth, "inputs": record.input_text()}
    return LayerTable("memory", record.name, record.inputs[0].shape, columns, total,
                      _notes(est, amp, est.frozen), meta, record)


def memory_report(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    dtype: str | None = None, amp: bool = False, optimizer: str = "adam", mode: str = "train",
    freeze: tuple[str, ...] | list[str] = (), depth: int | None = None, device: str = "meta",
    kwargs: dict | None = None,
) -> LayerTable:
    """Per-layer memory of a training step (or, with ``mode="infer"``, an inference forward).

    ``dtype``: ``fp32`` (default), ``bf16`` or ``fp16`` — parameters, gradients, optimizer state
    and activations; with ``amp``, the activations only (fp16 by default), the rest fp32.
    ``optimizer``: ``sgd``, ``momentum``, ``adam`` (default) or ``adamw``. ``freeze``: shell-style
    patterns of parameters given no gradient. ``device``: ``meta`` (default, no memory used) or
    ``cpu`` (a real step on zero weights, for a model whose ops lack meta kernels).
    """
    import torch

    from ...models import load_target, resolve_inputs

    check_choice("mode", mode, MODES)
    check_optimizer(optimizer)
    check_depth(depth)
    name = dtype or ("fp16" if amp else "fp32")
    dt = getattr(torch, DTYPES[check_choice("dtype", str(name).lower(), list(DTYPES))])
    if amp and dt == torch.float32:
        raise ArchscopeError("--amp runs the forward in fp16 or bf16 with fp32 master weights; "
                             "give --dtype fp16 or bf16 (fp16 when --dtype is left out)")
    check_choice("device", device, ("meta", "cpu"))
    if freeze and mode == "infer":
        raise ArchscopeError("--freeze applies to --mode train (an inference forward computes "
                             "no gradients)")
    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    est = estimate_memory(target, inputs, dtype=dt, amp=amp, optimizer=optimizer.lower(),
                          train=mode == "train", freeze=tuple(freeze), device=device)
    return memory_view(est, depth=depth, amp=amp)


def memory_table(model_or_name: Any, input_size: Any = None, **kwargs: Any):
    """:func:`memory_report`'s rows as a DataFrame (totals in ``df.attrs['total']``)."""
    return memory_report(model_or_name, input_size, **kwargs).frame()
