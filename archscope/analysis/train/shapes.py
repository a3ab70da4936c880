"""Output shapes of the ops a training step adds, computed here (see :mod:`..engines.meta_shapes`).

On the meta device torch runs most backward ops through Python decompositions; the first one
imports ``torch._dynamo`` (over a second), and each costs far more than the forward's C++
kernels. Their outputs are plain to state: a gradient has the shape of the tensor it is the
gradient of (an activation's, a pool's input, a convolution's input, weight and bias). The
optimizer's multi-tensor (``_foreach_*``) ops are listed too. A rule returns ``NotImplemented``
to let torch decide (a tensor not on meta, an ``out=`` form).
"""

from __future__ import annotations

import torch

from ..engines.meta_shapes import Rule, _all_meta, _empty, in_place, mean
from ..costs.grads import ACTIVATION_BACKWARD


def like(i: int) -> Rule:
    """The output has argument ``i``'s shape and dtype (an activation's or a pool's backward)."""

    def rule(args, kwargs):
        if "out" in kwargs or not _all_meta(args) or not isinstance(args[i], torch.Tensor):
            return NotImplemented
        return _empty(tuple(args[i].shape), args[0].dtype)

    return rule


def _like(t, dtype=None):
    return _empty(tuple(t.shape), dtype or t.dtype) if isinstance(t, torch.Tensor) else None


def _mask(value, n: int = 3) -> list[bool]:
    return list(value) if isinstance(value, (list, tuple)) else [True] * n


def convolution_backward(args, kwargs):
    """(grad input, grad weight, grad bias) as ``output_mask`` asks; ``None`` for the others."""
    if kwargs or len(args) != 11 or not _all_meta(args):
        return NotImplemented
    grad, x, w, bias_sizes = args[0], args[1], args[2], args[3]
    m = _mask(args[10])
    bias = _empty(tuple(bias_sizes), grad.dtype) if m[2] and bias_sizes is not None else None
    return (_like(x, grad.dtype) if m[0] else None, _like(w, grad.dtype) if m[1] else None, bias)


def native_batch_norm_backward(args, kwargs):
    """``(grad_out, input, weight, …, output_mask)``: input-, γ- and β-shaped gradients."""
    if kwargs or len(args) != 10 or not _all_meta(args):
        return NotImplemented
    grad, x, w = args[0], args[1], args[2]
    m = _mask(args[9])
    c = (x.shape[1],) if x.dim() > 1 else (1,)
    dt = w.dtype if isinstance(w, torch.Tensor) else x.dtype
    return (_like(x, grad.dtype) if m[0] else None, _empty(c, dt) if m[1] else None,
            _empty(c, dt) if m[2] else None)


def native_layer_norm_backward(args, kwargs):
    """``(grad_out, input, normalized_shape, mean, rstd, weight, bias, output_mask)``."""
    if kwargs or len(args) != 8 or not _all_meta(args):
        return NotImplemented
    m = _mask(args[7])
    return (_like(args[1], args[0].dtype) if m[0] else None,
            _like(args[5]) if m[1] else None, _like(args[6]) if m[2] else None)


def softmax_backward(args, kwargs):
    """``_softmax_backward_data(grad, output, dim, input_dtype)``: grad's shape, input's dtype."""
    if kwargs or len(args) != 4 or not _all_meta(args):
        return NotImplemented
    return _empty(tuple(args[0].shape), args[3])


def mm(args, kwargs):
    a, b = args[0], args[1]
    if kwargs or not _all_meta(args) or a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        return NotImplemented  # torch raises its own error for a mismatch
    return _empty((a.shape[0], b.shape[1]), torch.promote_types(a.dtype, b.dtype))


def sum_dims(args, kwargs):
    """``sum.dim_IntList`` on a floating tensor: the ``mean`` rule's shape."""
    if not isinstance(args[0], torch.Tensor) or not args[0].is_floating_point():
        return NotImplemented
    return mean(args, kwargs)


def factory_like(args, kwargs):
    """``empty_like``/``ones_like``/``zeros_like`` of a meta tensor."""
    x = args[0]
    if len(args) > 1 or not _all_meta(args) or kwargs.get("device") not in (None, x.device):
        return NotImplemented
    if kwargs.get("layout") not in (None, torch.strided):
        return NotImplemented
    return _empty(tuple(x.shape), kwargs.get("dtype") or x.dtype)


def constant_pad_nd(args, kwargs):
    x, pad = args[0], list(args[1])
    if kwargs or not _all_meta(args) or len(pad) % 2 or len(pad) // 2 > x.dim():
        return NotImplemented
    shape = list(x.shape)
    for k in range(len(pad) // 2):
        d = x.dim() - 1 - k
        shape[d] += pad[2 * k] + pad[2 * k + 1]
    if any(n < 0 for n in shape):
        return NotImplemented
    return _empty(tuple(shape), x.dtype)


def adaptive_avg_pool2d(args, kwargs):
    x, size = args[0], args[1]
    if kwargs or not _all_meta(args) or x.dim() not in (3, 4):
        return NotImplemented
    size = [size, size] if isinstance(size, int) else list(size)
    return _empty(tuple(x.shape[:-2]) + tuple(size), x.dtype)


def _foreach(in_place_op: bool) -> Rule:
    def rule(args, kwargs):
        lists = [a for a in args if isinstance(a, (list, tuple))]
        tensors = [t for lst in lists for t in lst if isinstance(t, torch.Tensor)]
        if not lists or "out" in kwargs or not tensors or \
                any(t.device.type != "meta" for t in tensors) or not _all_meta(args):
            return NotImplemented
        if in_place_op:
            return None
        return [_empty(tuple(t.shape), t.dtype) for t in lists[0]]

    return rule


# The multi-tensor ops torch.optim's SGD, Adam and AdamW steps dispatch (foreach=True).
FOREACH = ["add", "sub", "mul", "div", "lerp", "addcmul", "addcdiv", "sqrt", "maximum", "neg",
           "reciprocal", "pow", "sign", "copy", "zero"]


def backward_rules() -> dict[str, Rule]:
    """Overload-packet name → rule, for the ops a training step adds to the forward's."""
    rules: dict[str, Rule] = {name: like(0) for name in ACTIVATION_BACKWARD
                              if name != "_prelu_kernel_backward"}
    for d in (2, 3):
        for name in (f"max_pool{d}d_with_indices_backward", f"avg_pool{d}d_backward",
                     f"_adaptive_avg_pool{d}d_backward"):
            rules[name] = like(1)
    rules.update({
        "convolution_backward": convolution_backward,
        "native_batch_norm_backward": native_batch_norm_backward,
        "native_layer_norm_backward": native_layer_norm_backward,
        "_softmax_backward_data": softmax_backward,
        "_log_softmax_backward_data": softmax_backward,
        "native_dropout_backward": like(0),
        "mm": mm,
        "sum": sum_dims,
        "empty_like": factory_like, "ones_like": factory_like, "zeros_like": factory_like,
        "bernoulli_": in_place,
        "constant_pad_nd": constant_pad_nd,
        "_adaptive_avg_pool2d": adaptive_avg_pool2d,
    })
    for name in FOREACH:
        rules[f"_foreach_{name}"] = _foreach(False)
        rules[f"_foreach_{name}_"] = _foreach(True)
    return rules
