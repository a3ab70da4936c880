"""``record_model``: one forward of a model through an engine, as a :class:`ModelRecord`.

Every table (:mod:`.params`, :mod:`.flops`, :mod:`.summary`), the bench's counts and the
report read the record this returns. A forward that fails becomes one sentence naming the
layer that was running and, when the failure is in the user's own code, its file and line.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from ..errors import ArchscopeError, one_line
from ..inputs import ModelInputs
from ..models import Target, load_target, resolve_inputs
from .engines import DEFAULT_ENGINE, get_engine
from .records import ModelRecord, layer_name

# Exceptions a forward raises when the input does not fit the network (shape checks).
_INPUT_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)


def record_model(
    model_or_name: Any, input_size: Any = None, *, batch_size: int | None = None,
    engine: str = DEFAULT_ENGINE, kwargs: dict | None = None,
) -> ModelRecord:
    """Build the model for counting (no weights initialised) and record one forward.

    ``input_size``: ``"3x224x224"``, ``"1,3,224,224"``, ``(3, 224, 224)`` or the full-shape form
    ``"1x128:int64,1x128:int64"``; the model's default when omitted. ``engine``: a name from
    :func:`archscope.analysis.engines.engine_names` (``"meta"`` by default).
    """
    eng = get_engine(engine)
    target = load_target(model_or_name, device="meta", kwargs=kwargs, init=False)
    inputs = resolve_inputs(target, input_size, batch_size)
    return record_target(target, inputs, engine=eng.name)


def record_target(target: Target, inputs: ModelInputs, *, engine: str = DEFAULT_ENGINE,
                  watch: Any = None) -> ModelRecord:
    """Record one forward of an already built target on ``inputs``; ``watch`` follows the
    forward beside the counting (the meta engine's, see :class:`.engines.meta.MetaEngine`)."""
    from .engines.recorder import ForwardFailed

    eng = get_engine(engine)
    extra = {"watch": watch} if watch is not None else {}
    try:
        with contextlib.redirect_stdout(sys.stderr):  # a model that prints must not corrupt -f json
            record = eng.record(target.model, inputs, name=target.name, **extra)
    except ForwardFailed as failed:
        raise forward_error(target, inputs, failed.exc, failed.where) from failed.exc
    record.notes = [*target.notes, *record.notes]
    return record


def _user_frame(exc: BaseException) -> str:
    """`` (file.py line 12)`` for the deepest frame outside torch and archscope, if any."""
    import torch

    skip = (os.path.dirname(torch.__file__), os.path.dirname(os.path.dirname(__file__)))
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not os.path.abspath(f.filename).startswith(skip)
              and "site-packages" not in f.filename]
    if not frames:
        return ""
    return f" ({Path(frames[-1].filename).name} line {frames[-1].lineno})"


def forward_error(target: Target, inputs: ModelInputs, exc: BaseException,
                  where: tuple[str, str] | None) -> ArchscopeError:
    """One sentence for a forward that raised (see the module docstring)."""
    at = f" at layer {layer_name(where[0])} ({where[1]})" if where else ""
    frame = _user_frame(exc)
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return ArchscopeError(
            f"{target.name} ran out of memory on input {inputs.text()}{at}; the meta engine "
            "(--engine meta) needs no activation memory, or use a smaller input or batch")
    if isinstance(exc, _INPUT_ERRORS):
        want = target.expected_text(inputs.first_shape[0] if inputs.first_shape else 1)
        hint = f"; it expects {want}" if want and want.split(" ")[0] != inputs.text() else ""
        return ArchscopeError(f"{target.name} cannot take input {inputs.text()}{at}{frame}: "
                              f"{one_line(exc, 240)}{hint}")
    return ArchscopeError(
        f"{target.name}'s forward raised {type(exc).__name__}{at}{frame}: {one_line(exc, 240)}; "
        "fix the model's code (put --debug before the command for the traceback)")
