"""Engine 1: fvcore's ``FlopCountAnalysis`` (a TorchScript trace) with archscope's op handles.

fvcore's own handles are replaced wholesale: each aten op of the trace maps to a handle that
returns a ``Counter`` by category (see :mod:`.costs`), or is declared zero-cost by name. fvcore's
silent ignore list is emptied, so any op without a handle is reported as uncounted, never
dropped. The trace needs real tensors: the model runs once on CPU (zoo networks get
zero-filled storage, see :func:`archscope.models.materialize`). That one forward also gives
each module's input and output shapes (the rows' ``output_shape``, memory and intensity), read
from the trace's own graph values so that recording them adds nothing for fvcore to walk.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import torch
from torch import nn

from ..trace import ModuleRun, RunRecorder, eval_mode
from . import costs

Handle = Callable[[list, list], Counter]


def _shape(value) -> list[int] | None:
    t = value.type()
    if isinstance(t, torch._C.TensorType):
        sizes = t.sizes()
        return list(sizes) if sizes is not None else None
    return None


def _const(value) -> Any:
    """A trace constant; lists built in the graph (prim::ListConstruct) are read item by item."""
    v = value.toIValue()
    if v is None and value.node().kind() == "prim::ListConstruct":
        v = [i.toIValue() for i in value.node().inputs()]
    return v


def _has(value) -> bool:
    return _shape(value) is not None


def _conv(inputs, outputs) -> Counter:
    transposed = bool(_const(inputs[6])) if len(inputs) > 6 else False
    w = _shape(inputs[1])
    if transposed:  # every input element scatters into C_out/groups × kernel outputs
        c = costs.Counter({costs.MACS: costs.numel(_shape(inputs[0])) * costs.numel(w[1:])})
        if _has(inputs[2]):
            c["bias"] = costs.numel(_shape(outputs[0]))
        return c
    return costs.conv(_shape(outputs[0]), w, _has(inputs[2]))


def _conv_nd(inputs, outputs) -> Counter:  # aten::conv2d(input, weight, bias, ...)
    return costs.conv(_shape(outputs[0]), _shape(inputs[1]), _has(inputs[2]))


def _linear(inputs, outputs) -> Counter:
    out = _shape(outputs[0])
    k = _shape(inputs[1])[-1]
    n = costs.numel(out)
    return costs.matmul(1, k, n, bias_elements=n if _has(inputs[2]) else 0)


def _addmm(inputs, outputs) -> Counter:
    (m, k), n = _shape(inputs[1]), _shape(inputs[2])[-1]
    return costs.matmul(m, k, n, bias_elements=m * n)


def _matmul(inputs, outputs) -> Counter:
    a = _shape(inputs[0])
    return Counter({costs.MACS: costs.numel(_shape(outputs[0])) * a[-1]})


def _per_element(category: str, cost: int = 1) -> Handle:
    return lambda inputs, outputs: costs.per_element(category, _shape(outputs[0]), cost)


def _pool(kind: str) -> Handle:
    def handle(inputs, outputs) -> Counter:
        kernel = _const(inputs[1])
        if isinstance(kernel, int):
            kernel = [kernel]
        out = _shape(outputs[0])
        if len(kernel) == 1 and len(out) >= 3:  # an int kernel applies to every spatial dim
            kernel = kernel * (2 if "2d" in handle.op else 3 if "3d" in handle.op else 1)
        return (costs.max_pool if kind == "max" else costs.avg_pool)(out, kernel)

    return handle


def _adaptive_avg(inputs, outputs) -> Counter:
    out = _shape(outputs[0])
    spatial = len(_const(inputs[1]))
    return costs.adaptive_avg_pool(_shape(inputs[0]), out[len(out) - spatial:])


def _adaptive_max(inputs, outputs) -> Counter:
    out = _shape(outputs[0])
    spatial = len(_const(inputs[1]))
    return costs.adaptive_max_pool(_shape(inputs[0]), out[len(out) - spatial:])


def _norm(weight_at: int) -> Handle:
    """layer_norm(x, shape, weight, bias, …) / group_norm(x, groups, weight, bias, …)."""
    def handle(inputs, outputs) -> Counter:
        affine = _has(inputs[weight_at]) or _has(inputs[weight_at + 1])
        return costs.layer_norm(_shape(outputs[0]), affine)

    return handle


def _batch_norm(inputs, outputs) -> Counter:
    return costs.batch_norm(_shape(outputs[0]))


def _zero(inputs, outputs) -> Counter:
    return Counter()


ACTIVATIONS = ["relu", "relu_", "tanh", "tanh_", "sigmoid", "sigmoid_", "gelu", "silu", "silu_",
               "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_", "hardswish",
               "hardswish_", "hardsigmoid", "hardsigmoid_", "relu6", "mish", "softplus"]
ELEMENTWISE = ["add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "pow",
               "sqrt", "rsqrt", "exp", "neg", "clamp", "clamp_"]
ZERO_COST = ["cat", "stack", "view", "reshape", "flatten", "size", "Int", "ScalarImplicit",
             "NumToTensor", "squeeze", "unsqueeze", "dropout", "dropout_", "feature_dropout",
             "alpha_dropout", "pad", "constant_pad_nd", "t", "transpose", "permute", "contiguous",
             "chunk", "split", "select", "slice", "expand", "to", "detach", "clone", "zeros",
             "zeros_like", "ones", "ones_like", "empty", "full", "copy_", "floor_divide", "numel",
             "narrow", "unbind", "masked_fill", "type_as", "dim", "len", "__getitem__",
             "upsample_nearest2d"]


def handle_table() -> dict[str, Handle | None]:
    """aten op name → handle; every op the zoo's traces contain is here."""
    table: dict[str, Handle | None] = {
        "aten::_convolution": _conv,
        "aten::conv1d": _conv_nd,
        "aten::conv2d": _conv_nd,
        "aten::conv3d": _conv_nd,
        "aten::linear": _linear,
        "aten::addmm": _addmm,
        "aten::mm": _matmul,
        "aten::bmm": _matmul,
        "aten::matmul": _matmul,
        "aten::batch_norm": _batch_norm,
        "aten::layer_norm": _norm(2),
        "aten::group_norm": _norm(2),
        "aten::adaptive_max_pool1d": _adaptive_max,
        "aten::adaptive_max_pool2d": _adaptive_max,
        "aten::adaptive_max_pool3d": _adaptive_max,
        "aten::adaptive_avg_pool1d": _adaptive_avg,
        "aten::adaptive_avg_pool2d": _adaptive_avg,
        "aten::adaptive_avg_pool3d": _adaptive_avg,
        "aten::softmax": lambda i, o: costs.softmax(_shape(o[0])),
        "aten::log_softmax": lambda i, o: costs.softmax(_shape(o[0])),
    }
    for dims in ("1d", "2d", "3d"):
        for kind in ("max", "avg"):
            h = _pool(kind)
            h.op = f"{kind}_pool{dims}"
            table[f"aten::{kind}_pool{dims}"] = h
    table.update({f"aten::{n}": _per_element("activation") for n in ACTIVATIONS})
    table.update({f"aten::{n}": _per_element("elementwise") for n in ELEMENTWISE})
    table.update({f"aten::{n}": _zero for n in ZERO_COST})
    return table


def traced_shape(t: torch.Tensor) -> tuple[int, ...]:
    """A tensor's shape inside a TorchScript trace, from its graph value's type.

    Reading ``t.shape`` there records ``aten::size`` and ``aten::Int`` nodes for every
    dimension (hundreds per network, each then walked by fvcore); the value's type holds the
    same sizes at no cost.
    """
    if torch._C._get_tracing_state() is not None:
        try:
            sizes = torch._C._get_value_trace(t).type().sizes()
        except RuntimeError:  # a tensor the trace does not hold
            sizes = None
        if sizes is not None:
            return tuple(sizes)
    return tuple(int(d) for d in t.shape)


def analysis(model: nn.Module, x: torch.Tensor, *, log_unsupported: bool = False):
    """fvcore's ``FlopCountAnalysis`` of ``model(x)`` with archscope's handles and nothing else.

    fvcore's own handles are removed (its defaults count some ops its own way) and its ignore
    list emptied, so an op without an archscope handle is reported by ``unsupported_ops()``.
    ``log_unsupported`` leaves fvcore's own warning for such ops on (the tests use it); archscope
    itself reports them in the table's notes instead.
    """
    import warnings

    with warnings.catch_warnings():  # fvcore's import scripts a helper: torch.jit's deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        from fvcore.nn import FlopCountAnalysis

    a = FlopCountAnalysis(model, (x,))
    a._op_handles = {}
    a._ignored_ops = set()
    a.set_op_handle(**handle_table())
    a.unsupported_ops_warnings(log_unsupported).uncalled_modules_warnings(False)
    a.tracer_warnings("none")
    return a


def count(
    model: nn.Module, x: torch.Tensor
) -> tuple[dict[str, Counter], Counter, dict[str, ModuleRun]]:
    """Own (innermost-module) counts per module path, the ops left uncounted, and each module's
    run (calls, input and output shapes) from the same traced forward."""
    import warnings

    fca = analysis(model, x)
    recorder = RunRecorder(shape_of=traced_shape)
    # Eval mode: inference (aux heads skipped, dropout as in eval).
    with eval_mode(model), recorder.hooks(model), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit's own deprecation notice
        cumulative = fca.by_module_and_operator()
    uncounted = Counter(fca.unsupported_ops(""))
    # fvcore adds each op to every ancestor; keep each module's own share.
    own = {path: Counter(c) for path, c in cumulative.items()}
    for path, c in cumulative.items():
        if path:
            parent = path.rpartition(".")[0]
            if parent in own:
                own[parent].subtract(c)
    return {path: +c for path, c in own.items()}, uncounted, recorder.runs
