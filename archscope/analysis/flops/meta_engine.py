"""Engine 2: torch's dispatcher on the meta device, independent of TorchScript.

A ``TorchDispatchMode`` sees every aten op after decomposition (``linear`` arrives as ``t`` +
``addmm``, ``max_pool2d`` as ``max_pool2d_with_indices``), and forward pre/post hooks keep a
stack of the modules being run, so each op is charged to the innermost module. The model runs
on meta tensors: shapes only, no arithmetic and no activation memory, so a 2048×2048 VGG-16
takes as long as a 224×224 one. Costs come from :mod:`.costs`, as in the fvcore engine; what
differs is how the ops are found (dispatch vs. trace), which is what makes agreement a check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import torch
from torch import nn

from ..trace import ModuleRun, RunRecorder, eval_mode, first_tensor
from . import costs
from .meta_shapes import MetaShapeMode

Handle = Callable[[tuple, dict, Any], Counter]


def _shape(t) -> list[int]:
    return list(t.shape)


def _conv(args, kwargs, out) -> Counter:
    x, w, bias = args[0], args[1], args[2]
    transposed = bool(args[6]) if len(args) > 6 else False
    if transposed:
        c = Counter({costs.MACS: x.numel() * costs.numel(w.shape[1:])})
        if bias is not None:
            c["bias"] = out.numel()
        return c
    return costs.conv(_shape(out), _shape(w), bias is not None)


def _addmm(args, kwargs, out) -> Counter:
    (m, k), n = args[1].shape, args[2].shape[-1]
    return costs.matmul(m, k, n, bias_elements=m * n)


def _mm(args, kwargs, out) -> Counter:
    return Counter({costs.MACS: out.numel() * args[0].shape[-1]})


def _per_element(category: str) -> Handle:
    return lambda args, kwargs, out: costs.per_element(category, _shape(first_tensor(out)))


def _kernel(args, dims: int) -> list[int]:
    k = args[1]
    k = [k] if isinstance(k, int) else list(k)
    return k * dims if len(k) == 1 else k


def _pool(kind: str, dims: int) -> Handle:
    fn = costs.max_pool if kind == "max" else costs.avg_pool
    return lambda args, kwargs, out: fn(_shape(first_tensor(out)), _kernel(args, dims))


def _adaptive_avg(args, kwargs, out) -> Counter:
    spatial = len(args[1])
    return costs.adaptive_avg_pool(_shape(args[0]), _shape(out)[-spatial:])


def _adaptive_max(args, kwargs, out) -> Counter:
    spatial = len(args[1])
    return costs.adaptive_max_pool(_shape(args[0]), _shape(first_tensor(out))[-spatial:])


def _layer_norm(args, kwargs, out) -> Counter:  # native_layer_norm(x, shape, weight, bias, eps)
    return costs.layer_norm(_shape(args[0]), args[2] is not None or args[3] is not None)


def _group_norm(args, kwargs, out) -> Counter:  # native_group_norm(x, weight, bias, N, C, HW, ...)
    return costs.layer_norm(_shape(args[0]), args[1] is not None or args[2] is not None)


def _mean(args, kwargs, out) -> Counter:
    # adaptive_avg_pool to 1×1 decomposes to mean over H, W: one add or divide per input element
    return Counter({"pool": args[0].numel()})


def _batch_norm(args, kwargs, out) -> Counter:
    return costs.batch_norm(_shape(first_tensor(out)))


def _zero(args, kwargs, out) -> Counter:
    return Counter()


ACTIVATIONS = ["relu", "relu_", "tanh", "tanh_", "sigmoid", "sigmoid_", "gelu", "gelu_", "silu",
               "silu_", "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "elu", "elu_",
               "hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_", "mish", "softplus"]
ELEMENTWISE = ["add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_", "pow", "sqrt",
               "rsqrt", "exp", "neg", "clamp", "clamp_", "clamp_min", "clamp_min_"]
ZERO_COST = ["cat", "stack", "view", "_unsafe_view", "reshape", "flatten", "squeeze", "unsqueeze",
             "constant_pad_nd", "t", "transpose", "permute", "contiguous", "clone", "expand",
             "select", "slice", "split", "split_with_sizes", "unbind", "detach", "_to_copy",
             "copy_", "empty", "empty_like", "zeros", "zeros_like", "ones", "ones_like", "fill_",
             "zero_", "full", "new_empty", "new_zeros", "alias", "lift_fresh", "native_dropout",
             "as_strided", "_reshape_alias", "upsample_nearest2d"]


def handle_table() -> dict[str, Handle]:
    """Overload-packet name (``aten.convolution``'s ``convolution``) → handle."""
    table: dict[str, Handle] = {
        "convolution": _conv,
        "addmm": _addmm,
        "mm": _mm,
        "bmm": _mm,
        "native_batch_norm": _batch_norm,
        "_native_batch_norm_legit_no_training": _batch_norm,
        "_native_batch_norm_legit": _batch_norm,
        "_adaptive_avg_pool2d": _adaptive_avg,
        "_adaptive_avg_pool3d": _adaptive_avg,
        "adaptive_avg_pool1d": _adaptive_avg,
        "mean": _mean,
        "adaptive_max_pool1d": _adaptive_max,
        "adaptive_max_pool2d": _adaptive_max,
        "adaptive_max_pool3d": _adaptive_max,
        "native_layer_norm": _layer_norm,
        "native_group_norm": _group_norm,
        "_softmax": lambda a, k, o: costs.softmax(_shape(o)),
        "_log_softmax": lambda a, k, o: costs.softmax(_shape(o)),
    }
    for dims in (1, 2, 3):
        table[f"max_pool{dims}d_with_indices"] = _pool("max", dims)
        table[f"max_pool{dims}d"] = _pool("max", dims)
        table[f"avg_pool{dims}d"] = _pool("avg", dims)
    table.update({n: _per_element("activation") for n in ACTIVATIONS})
    table.update({n: _per_element("elementwise") for n in ELEMENTWISE})
    table.update({n: _zero for n in ZERO_COST})
    return table


class _Counting(MetaShapeMode):
    def __init__(self, recorder: RunRecorder):
        super().__init__()
        self.recorder = recorder
        self.table = handle_table()
        self.own: dict[str, Counter] = {}
        self.uncounted: Counter = Counter()

    def observe(self, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        handle = self.table.get(name)
        if handle is None:
            self.uncounted[f"aten::{name}"] += 1
        else:
            c = handle(args, kwargs, out)
            if c:
                self.own.setdefault(self.recorder.current, Counter()).update(c)


def count(
    model: nn.Module, input_shape: tuple[int, ...], dtype: torch.dtype = torch.float32
) -> tuple[dict[str, Counter], Counter, dict[str, ModuleRun]]:
    """Own counts per module path, uncounted ops, and each module's run (shapes), on meta."""
    rec = RunRecorder()

    x = torch.zeros(input_shape, dtype=dtype, device="meta")
    mode = _Counting(rec)
    on_meta = all(t.device.type == "meta" for t in (*model.parameters(), *model.buffers()))
    with torch.no_grad(), eval_mode(model), rec.hooks(model), mode:
        if on_meta:
            model(x)
        else:  # real weights: meta stand-ins, the caller's tensors untouched
            state = dict(model.named_parameters(remove_duplicate=False))
            state.update(model.named_buffers(remove_duplicate=False))
            meta = {k: v.detach().to("meta") for k, v in state.items()}
            torch.func.functional_call(model, meta, (x,))
    return mode.own, mode.uncounted, rec.runs
