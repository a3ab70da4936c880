"""Backward ops: what autograd dispatches to compute gradients, costed like the forward.

Only the meta engine runs a backward (``flops --mode train``); these handles cost the ops torch
dispatches for it. Ops that several gradients come out of return :meth:`Cost.per_output`, so the
grad-input and grad-weight shares are known.

- ``convolution_backward`` (input, weight, bias gradients, as its ``output_mask`` asks): each of
  the input and weight gradients is a convolution as large as the forward one — the same MACs
  (``out × C_in/groups × kernel``; for a transposed convolution ``in × C_out/groups × kernel``).
  The bias gradient sums the output gradient over batch and positions: ``reduction``, 1 per
  output-gradient element, like the ``sum`` a linear layer's bias gradient dispatches.
- Matrix products (``mm``, ``bmm``, ``addmm``…) are the forward handles (:mod:`.linalg`).
- Fused attention backward (flash, efficient, cuDNN, flash-for-CPU): the scores recomputed,
  then dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K, dK = dSᵀ·Q: ``3·B·L·S·E + 2·B·L·S·Ev`` MACs (as
  ``torch.utils.flop_counter`` counts it); ``attention`` 7 per score (softmax recomputed 3,
  its backward 4); the q and k gradients scaled (``elementwise``, 1 per element of each).
- Norms (``norm``), per element of the input, for each gradient asked for: β: Σg, 1; γ: Σg·x̂
  with x̂ recomputed, 4; input with statistics from the batch (training batch norm, layer,
  group norm): the two sums (5, shared with γ and β when those are asked too) and 4 to combine
  them (``γσ⁻¹·(g − mean g − x̂·mean g·x̂)``), + 1 where γ scales each feature (layer and group
  norm); input with running statistics (batch norm in eval): 1 (g times the per-channel
  ``γσ⁻¹``). RMS norm: input 6 (x̂, Σg·x̂, combine, scale) + 1 with γ; γ 3 (x̂, product, sum).
- Pools (``pool``), per output-gradient element: max 1 (added at its argmax), average the window
  (each gradient spread over it), adaptive average by the exact windows, adaptive max 1.
- Activations (``activation``): 1 per gradient element, like the forward.
- Softmax and log-softmax (``softmax``): 4 per element (``y·(g − Σg·y)``, ``g − exp(y)·Σg``).
- Dropout (``elementwise``): the fused kernel, 3 per element in training (draw, scale,
  multiply; nothing in eval) and 2 in its backward (mask and scale); the decomposed form CPU and
  meta run costs its own ops (``bernoulli_`` 1 per element, then ``div_`` and ``mul``).
- Resampling backward (``resample``), per output-gradient element: linear ``2^(d+1)`` (a
  weighted add into each of ``2^d`` neighbours), bicubic 32, nearest 1 (an add).
- Embedding backward (``elementwise``): 1 per gradient element, added into its row.
"""

from __future__ import annotations

import math

from .base import ZERO, Cost, OpView, numel, of
from .pool import _adaptive, _kernel


def _mask(op: OpView, at: int, n: int = 3) -> list[bool]:
    value = op.arg(at)
    return [bool(v) for v in value] if isinstance(value, (list, tuple)) else [True] * n


# ------------------------------------------------------------------ MACs
def convolution_backward(op: OpView) -> Cost:
    """``convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation,
    transposed, output_padding, groups, output_mask)`` → (grad input, grad weight, grad bias)."""
    grad, x, w = op.shape(0), op.shape(1), op.shape(2)
    taps = numel(w[1:])
    forward = numel(x) * taps if op.arg(7, False) is True else numel(grad) * taps
    gi, gw, gb = _mask(op, 10)
    return Cost.per_output(Cost(forward if gi else 0), Cost(forward if gw else 0),
                           of("reduction", numel(grad) if gb else 0))


def attention_backward(op: OpView) -> Cost:
    """A fused attention backward with (grad_out, query, key, value, …) first."""
    q, k, v = op.shape(1), op.shape(2), op.shape(3)
    scores = numel(q[:-2]) * q[-2] * k[-2]
    return Cost(3 * scores * q[-1] + 2 * scores * v[-1],
                {"attention": 7 * scores, "elementwise": numel(q) + numel(k)})


# ------------------------------------------------------------------ norms
def _norm(n: int, mask: list[bool], batch_stats: bool, gamma_scales: bool, has_gamma: bool
          ) -> Cost:
    gi, gw, gb = mask
    gw = gw and has_gamma
    per = (1 if gb else 0) + (4 if gw else 0)
    if gi and batch_stats:
        per = 9 + (1 if gamma_scales and has_gamma else 0)  # the sums serve γ and β too
    elif gi:
        per += 1
    return of("norm", per * n)


def batch_norm_backward(training_at: int, mask_at: int):
    """``native_batch_norm_backward(grad_out, input, weight, running_mean, running_var,
    save_mean, save_invstd, train, eps, output_mask)`` and ``batch_norm_backward``."""
    def handle(op: OpView) -> Cost:
        return _norm(numel(op.shape(1)), _mask(op, mask_at), op.arg(training_at, True) is True,
                     False, op.shape(2) is not None)

    return handle


def rms_norm_backward(op: OpView) -> Cost:
    """``_fused_rms_norm_backward(grad_out, input, normalized_shape, rstd, weight, output_mask)``."""
    gi, gw = _mask(op, 5, 2)
    has_gamma = op.shape(4) is not None
    per = (6 + (1 if has_gamma else 0) if gi else 0) + (3 if gw and has_gamma else 0)
    return of("norm", per * numel(op.shape(1)))


def cudnn_batch_norm_backward(op: OpView) -> Cost:
    """``cudnn_batch_norm_backward(input, grad_out, weight, …)``: all three, batch statistics."""
    return _norm(numel(op.shape(0)), [True] * 3, True, False, True)


def layer_norm_backward(op: OpView) -> Cost:
    """``native_layer_norm_backward(grad_out, input, normalized_shape, mean, rstd, weight,
    bias, output_mask)``."""
    return _norm(numel(op.shape(1)), _mask(op, 7), True, True, op.shape(5) is not None)


def group_norm_backward(op: OpView) -> Cost:
    """``native_group_norm_backward(grad_out, input, mean, rstd, weight, N, C, HxW, group,
    output_mask)``."""
    return _norm(numel(op.shape(1)), _mask(op, 9), True, True, op.shape(4) is not None)


# ------------------------------------------------------------------ pools
def per_grad(category: str, per: int = 1):
    """``per`` FLOPs of ``category`` per element of the output gradient (argument 0)."""
    def handle(op: OpView) -> Cost:
        return of(category, per * numel(op.shape(0)))

    return handle


def avg_pool_backward(dims: int):
    """``avg_pool{d}d_backward(grad_out, input, kernel_size, …)``: the window per gradient."""
    def handle(op: OpView) -> Cost:
        view = _Shifted(op)
        return of("pool", numel(op.shape(0)) * math.prod(_kernel(view, dims)))

    return handle


def adaptive_avg_pool_backward(dims: int):
    """``_adaptive_avg_pool{d}d_backward(grad_out, input)``: Σ windows, as the forward."""
    def handle(op: OpView) -> Cost:
        lead, windows, _ = _adaptive(_AsForward(op), dims)
        return of("pool", lead * windows)

    return handle


class _Shifted:
    """An op view with argument 0 dropped (``avg_pool2d_backward``'s ``kernel_size`` is argument
    2, the forward's argument 1)."""

    def __init__(self, op: OpView) -> None:
        self.op = op

    def arg(self, i: int, default=None):
        return self.op.arg(i + 1, default)


class _AsForward:
    """``(grad_out, input)`` seen as the forward op: input as argument 0, grad_out as output."""

    def __init__(self, op: OpView) -> None:
        self.op = op

    def shape(self, i: int):
        return self.op.shape(1) if i == 0 else None

    def out(self, j: int = 0):
        return self.op.shape(0)


# ------------------------------------------------------------------ dropout
def native_dropout(op: OpView) -> Cost:
    """``native_dropout(input, p, train)``: 3 per element in training, nothing otherwise."""
    return of("elementwise", 3 * numel(op.shape(0))) if op.arg(2, True) is not False else ZERO


ACTIVATION_BACKWARD = [
    "threshold_backward", "tanh_backward", "sigmoid_backward", "gelu_backward", "silu_backward",
    "hardtanh_backward", "leaky_relu_backward", "elu_backward", "hardswish_backward",
    "hardsigmoid_backward", "softplus_backward", "mish_backward", "log_sigmoid_backward",
    "glu_backward", "hardshrink_backward", "softshrink_backward", "rrelu_with_noise_backward",
    "_prelu_kernel_backward",
]
SOFTMAX_BACKWARD = ["_softmax_backward_data", "_log_softmax_backward_data"]
ATTENTION_BACKWARD = [
    "_scaled_dot_product_flash_attention_backward",
    "_scaled_dot_product_flash_attention_for_cpu_backward",
    "_scaled_dot_product_efficient_attention_backward",
    "_scaled_dot_product_cudnn_attention_backward",
]
NEAREST_BACKWARD = [
    "upsample_nearest1d_backward", "upsample_nearest2d_backward", "upsample_nearest3d_backward",
    "_upsample_nearest_exact1d_backward", "_upsample_nearest_exact2d_backward",
    "_upsample_nearest_exact3d_backward",
]
# Backward ops that only place gradients (zeros, then a copy into a slice): no arithmetic.
ZERO_COST_BACKWARD = [
    "select_backward", "slice_backward", "diagonal_backward", "unfold_backward",
    "as_strided_scatter", "slice_scatter", "select_scatter", "diagonal_scatter", "narrow_copy",
]
