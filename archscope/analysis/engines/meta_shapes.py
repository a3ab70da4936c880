"""Output metadata of simple ops on the meta device, computed here instead of by torch.

Why: on the meta device many ops (elementwise arithmetic, activations, ``cat``, batch norm)
run torch's *Python* reference kernels, and the first of those imports ``torch._dynamo``
(1.3–1.9 s here, more than the whole count). For these ops the output is plain to state —
the broadcast shape of the inputs, the input itself for an in-place op, the sum of sizes along
the concatenated dimension — so the meta engine builds it directly with ``torch.empty`` (a C++
factory) and never enters the Python kernel. Convolutions, pools, matrix products and views
keep torch's own (C++) meta kernels.

Only shapes and dtypes matter for counting; outputs made here are contiguous. Ops not listed,
or called with arguments a rule does not cover (``out=`` tensors, non-tensor inputs), go to
torch as usual: a rule returns ``NotImplemented`` to decline.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ...adapters.torch_dispatch import NoDynamoDispatchMode

Rule = Callable[[tuple, dict], Any]


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[len(s) - ndim + i] for s in shapes if len(s) - ndim + i >= 0} - {1}
        if len(sizes) > 1:
            raise RuntimeError(f"shapes {shapes} cannot be broadcast together")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def _empty(shape, dtype) -> torch.Tensor:
    return torch.empty(shape, dtype=dtype, device="meta")


def _all_meta(values) -> bool:
    return all(v.device.type == "meta" for v in values if isinstance(v, torch.Tensor))


def elementwise(n_inputs: int, float_result: bool = False) -> Rule:
    """Out-of-place elementwise op on its first ``n_inputs`` arguments (tensors or numbers)."""

    def rule(args, kwargs):
        if "out" in kwargs or not _all_meta(args):
            return NotImplemented
        operands = args[:n_inputs]
        tensors = [a for a in operands if isinstance(a, torch.Tensor)]
        if not tensors:
            return NotImplemented
        dtype = tensors[0].dtype
        for other in operands[1:]:
            dtype = torch.result_type(_empty((), dtype), other)
        if float_result and not dtype.is_floating_point:
            dtype = torch.get_default_dtype()
        return _empty(_broadcast(*(tuple(t.shape) for t in tensors)), dtype)

    return rule


def in_place(args, kwargs):
    """An in-place op returns its (mutated) first argument; on meta there is nothing to mutate.

    The other operand must broadcast *to* the first one's shape, as torch demands (a residual
    ``out += identity`` whose shapes differ fails here, as it would for real).
    """
    if not isinstance(args[0], torch.Tensor) or not _all_meta(args):
        return NotImplemented
    shape = tuple(args[0].shape)
    for other in args[1:2]:
        if isinstance(other, torch.Tensor) and _broadcast(shape, tuple(other.shape)) != shape:
            raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast "
                               f"shape of the operand {list(other.shape)}")
    return args[0]


def where(args, kwargs):
    if len(args) < 3 or not _all_meta(args):
        return NotImplemented
    cond, a, b = args[:3]
    shapes = [tuple(t.shape) for t in (cond, a, b) if isinstance(t, torch.Tensor)]
    return _empty(_broadcast(*shapes), torch.result_type(a, b))


def cat(args, kwargs):
    tensors = [t for t in args[0] if t.dim() != 1 or t.shape[0] != 0]  # torch skips empty 1-D
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    if not tensors or "out" in kwargs or not _all_meta(tensors):
        return NotImplemented
    dim = dim % tensors[0].dim()
    shape = list(tensors[0].shape)
    for i, t in enumerate(tensors[1:], 1):
        if t.dim() != len(shape) or any(a != b for d, (a, b) in enumerate(zip(shape, t.shape))
                                        if d != dim):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}: tensor 0 "
                               f"is {list(shape)}, tensor {i} is {list(t.shape)}")
    shape[dim] = sum(t.shape[dim] for t in tensors)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return _empty(tuple(shape), dtype)


def batch_norm_eval(args, kwargs):
    """``_native_batch_norm_legit_no_training``: (output, saved mean, saved rstd) of C each; the
    statistics in fp32 for a half-precision input, as torch's kernels keep them."""
    x = args[0]
    if not _all_meta(args):
        return NotImplemented
    c = x.shape[1] if x.dim() > 1 else 0
    for name, t in zip(("weight", "bias", "running_mean", "running_var"), args[1:5]):
        if isinstance(t, torch.Tensor) and t.numel() != c:
            raise RuntimeError(f"batch norm expects {t.numel()} channels ({name} has "
                               f"{t.numel()} elements), got input with {c} (shape {list(x.shape)})")
    stats = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype
    return _empty(tuple(x.shape), x.dtype), _empty((c,), stats), _empty((c,), stats)


def native_batch_norm(args, kwargs):
    """``native_batch_norm`` has the same three outputs in eval mode and in training (the
    training count: batch statistics, the running ones updated in place)."""
    return batch_norm_eval(args, kwargs)


def addmm(args, kwargs):
    """``addmm(bias, m1, m2)``: an m1 rows × m2 columns result (the bias broadcast over it)."""
    bias, m1, m2 = args[:3]
    if "out" in kwargs or not _all_meta(args) or m1.dim() != 2 or m2.dim() != 2:
        return NotImplemented
    if m1.shape[1] != m2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m1.shape[0]}x"
                           f"{m1.shape[1]} and {m2.shape[0]}x{m2.shape[1]})")
    shape = (m1.shape[0], m2.shape[1])
    _broadcast(tuple(bias.shape), shape)  # raises as torch would on a mismatched bias
    return _empty(shape, torch.promote_types(torch.promote_types(bias.dtype, m1.dtype), m2.dtype))


def mean(args, kwargs):
    """``mean(x, dims, keepdim)`` (what a 1×1 adaptive average pool becomes)."""
    x = args[0]
    dims = args[1] if len(args) > 1 else kwargs.get("dim")
    keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
    if "out" in kwargs or not _all_meta(args) or len(args) > 3 or x.dim() == 0:
        return NotImplemented
    dims = range(x.dim()) if dims is None or dims == [] else [dims] if isinstance(dims, int) else dims
    reduced = {d % x.dim() for d in dims}
    shape = [1 if i in reduced else n for i, n in enumerate(x.shape) if keepdim or i not in reduced]
    return _empty(tuple(shape), kwargs.get("dtype") or x.dtype)


def native_layer_norm(args, kwargs):
    """``native_layer_norm(x, normalized_shape, weight, bias, eps)``: (out, mean, rstd), the
    statistics with the normalised dimensions kept as 1 (torch's Python kernel imports dynamo)."""
    x, shape = args[0], args[1]
    if not _all_meta(args) or kwargs:
        return NotImplemented
    n = len(shape)
    if tuple(x.shape[x.dim() - n:]) != tuple(shape):
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size {list(x.shape)}")
    for name, t in zip(("weight", "bias"), args[2:4]):
        if isinstance(t, torch.Tensor) and tuple(t.shape) != tuple(shape):
            raise RuntimeError(f"layer norm {name} of shape {list(t.shape)} does not match "
                               f"normalized_shape {list(shape)}")
    stats = tuple(x.shape[: x.dim() - n]) + (1,) * n
    return _empty(tuple(x.shape), x.dtype), _empty(stats, x.dtype), _empty(stats, x.dtype)


def softmax(args, kwargs):
    """``_softmax``/``_log_softmax``/``_safe_softmax``: the input's shape."""
    x = args[0]
    if not isinstance(x, torch.Tensor) or not _all_meta(args) or kwargs:
        return NotImplemented
    return _empty(tuple(x.shape), x.dtype)


def _window_out(size: int, kernel: int, stride: int, pad: int, dilation: int, ceil: bool) -> int:
    """Output length of a sliding window (PyTorch's formula, ceil mode's last-window rule too)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    if span < 0:
        raise RuntimeError(f"input too small: size {size} is smaller than the kernel window "
                           f"(kernel {kernel}, dilation {dilation}, padding {pad})")
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:  # the last window must start inside the input
        out -= 1
    return out


def convolution(args, kwargs):
    """``convolution(x, w, bias, stride, padding, dilation, transposed, output_padding, groups)``.

    Computed here because torch's meta kernel for it imports sympy (0.5 s) on first use.
    """
    x, w = args[0], args[1]
    if len(args) != 9 or args[6] or not _all_meta(args) or x.dim() != w.dim() or x.dim() < 3:
        return NotImplemented  # transposed, or a form this rule does not cover
    stride, padding, dilation, groups = args[3], args[4], args[5], args[8]
    nd = x.dim() - 2
    if x.shape[1] != w.shape[1] * groups:
        raise RuntimeError(f"expected input with {w.shape[1] * groups} channels, "
                           f"got {x.shape[1]} channels (input shape {list(x.shape)})")
    spatial = [_window_out(x.shape[2 + i], w.shape[2 + i], stride[i % len(stride)],
                           padding[i % len(padding)], dilation[i % len(dilation)], False)
               for i in range(nd)]
    return _empty((x.shape[0], w.shape[0], *spatial), torch.promote_types(x.dtype, w.dtype))


def _as_list(value, n: int, default=None) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and len(value) == 0):
        value = default
    value = [value] if isinstance(value, int) else list(value)
    return value * n if len(value) == 1 else value


def pool(nd: int, kind: str) -> Rule:
    """``max_pool{nd}d_with_indices`` / ``avg_pool{nd}d``: the window formula per spatial dim.

    Computed here because torch's Python meta kernels for pools import sympy through
    ``torch._check`` on first use.
    """

    def rule(args, kwargs):
        x = args[0]
        if kwargs or not _all_meta(args) or x.dim() not in (nd + 1, nd + 2):
            return NotImplemented
        kernel = _as_list(args[1], nd)
        stride = _as_list(args[2] if len(args) > 2 else None, nd, kernel)
        padding = _as_list(args[3] if len(args) > 3 else 0, nd)
        if kind == "max":
            dilation = _as_list(args[4] if len(args) > 4 else 1, nd)
            ceil = bool(args[5]) if len(args) > 5 else False
        else:
            dilation, ceil = [1] * nd, bool(args[4]) if len(args) > 4 else False
        if any(2 * p > k for p, k in zip(padding, kernel)):
            raise RuntimeError(f"pad should be at most half of effective kernel size, "
                               f"got padding {padding} for kernel {kernel}")
        lead = tuple(x.shape[: x.dim() - nd])
        spatial = tuple(_window_out(x.shape[x.dim() - nd + i], kernel[i], stride[i], padding[i],
                                    dilation[i], ceil) for i in range(nd))
        out = _empty(lead + spatial, x.dtype)
        return (out, _empty(lead + spatial, torch.int64)) if kind == "max" else out

    return rule


UNARY = ["relu", "tanh", "sigmoid", "gelu", "silu", "hardtanh", "leaky_relu", "elu", "hardswish",
         "hardsigmoid", "mish", "softplus", "sqrt", "rsqrt", "exp", "neg", "clamp", "clamp_min"]
BINARY = ["add", "sub", "rsub", "mul", "div", "pow"]
FLOAT_RESULT = {"tanh", "sigmoid", "gelu", "silu", "sqrt", "rsqrt", "exp", "div", "mish",
                "softplus", "elu", "hardswish", "hardsigmoid"}


def shape_rules() -> dict[str, Rule]:
    """Overload-packet name → rule (see the module docstring)."""
    rules: dict[str, Rule] = {}
    for name in UNARY:
        rules[name] = elementwise(1, name in FLOAT_RESULT)
        rules[name + "_"] = in_place
    for name in BINARY:
        rules[name] = elementwise(2, name in FLOAT_RESULT)
        rules[name + "_"] = in_place
    rules.update({"where": where, "cat": cat, "_native_batch_norm_legit_no_training": batch_norm_eval,
                  "native_batch_norm": native_batch_norm, "addmm": addmm, "mean": mean,
                  "convolution": convolution, "native_layer_norm": native_layer_norm,
                  "_softmax": softmax, "_log_softmax": softmax, "_safe_softmax": softmax})
    for nd in (1, 2, 3):
        rules[f"max_pool{nd}d_with_indices"] = pool(nd, "max")
        rules[f"avg_pool{nd}d"] = pool(nd, "avg")
    return rules


class MetaShapeMode(NoDynamoDispatchMode):
    """Runs meta-device ops through :func:`shape_rules` first, torch's kernels otherwise.

    Any forward on meta tensors run inside this mode avoids the Python kernels that import
    ``torch._dynamo`` and sympy (and opts out of torch's dynamo wrapper, see
    :mod:`archscope.adapters.torch_dispatch`). Subclasses (the meta counting engine) observe
    each op in :meth:`observe`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rules = shape_rules()

    def observe(self, func: Any, name: str, args: tuple, kwargs: dict, out: Any) -> None:
        """Called after every op with its overload-packet name; nothing by default."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._overloadpacket.__name__
        rule = self.rules.get(name)
        out = rule(args, kwargs) if rule is not None else NotImplemented
        if out is NotImplemented:
            out = func(*args, **kwargs)
        self.observe(func, name, args, kwargs, out)
        return out
