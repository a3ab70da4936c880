"""``archscope memory``: the memory of a training step (``flops --mode train`` is in
:mod:`.counting`)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .app import command
from .common import (BatchOpt, DepthOpt, InputSizeOpt, KwargsOpt, ModelArg, OutFormatOpt,
                     OutputOpt, emit, parse_kwargs, pick_format)
from .counting import FreezeOpt


@command("memory", help="Per-layer memory of one training step: parameter, gradient and "
         "optimizer-state bytes, the activations autograd saves for the backward, and the peak "
         "bytes of a training step and of an inference forward, estimated on the meta device "
         "(no memory used).")
def memory_cmd(
    model: ModelArg,
    input_size: InputSizeOpt = None,
    batch_size: BatchOpt = None,
    dtype: Annotated[Optional[str], typer.Option(
        "--dtype", help="fp32, bf16 or fp16: parameters, gradients, optimizer state and "
        "activations; with --amp the activations only. Default: fp32 (fp16 with --amp).",
        show_default=False)] = None,
    amp: Annotated[bool, typer.Option(
        "--amp", help="Mixed precision: fp32 master weights, gradients and optimizer state, "
        "the forward cast to --dtype as CUDA's autocast casts.")] = False,
    optimizer: Annotated[str, typer.Option(
        "--optimizer", help="sgd (no state), momentum (one buffer), adam or adamw (two "
        "moments).")] = "adam",
    mode: Annotated[str, typer.Option(
        "--mode", "-m", help="train: a training step (and the inference peak beside it); "
        "infer: one inference forward only.")] = "train",
    freeze: FreezeOpt = None,
    depth: DepthOpt = None,
    device: Annotated[str, typer.Option(
        "--device", help="meta (default): nothing allocated. cpu: run the step for real on "
        "zero weights, for a model whose backward has no meta kernel.")] = "meta",
    kwargs: KwargsOpt = None,
    fmt: OutFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from ..analysis.memory.view import memory_report
    from ..render import render_layer_table

    rep = memory_report(model, input_size, batch_size=batch_size, dtype=dtype, amp=amp,
                        optimizer=optimizer, mode=mode, freeze=tuple(freeze or ()), depth=depth,
                        device=device, kwargs=parse_kwargs(kwargs))
    emit(render_layer_table(rep, pick_format(fmt, output)), output)
