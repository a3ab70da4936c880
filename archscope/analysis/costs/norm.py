"""Normalisation layers (category ``norm``).

- batch norm in eval mode: 2 per element (scale and shift; the statistics are folded in);
- norms that compute their statistics in the forward (layer, group, instance norm, and batch
  norm in training): 4 per element (mean, variance, subtract, divide) + 2 with an affine γ, β;
- RMS norm: 3 per element (square, mean, scale) + 1 with γ;
- local response norm is made of generic ops in torch (square, average pool, pow, divide); a
  ``LocalResponseNorm`` module's other FLOPs are regrouped under ``norm`` (``size + 5`` per
  element: square 1, window sum and mean ``size``, ×α 1, +k 1, power 1, divide 1).
"""

from __future__ import annotations

from .base import Cost, OpView, numel, of

# Modules whose arithmetic torch spreads over generic ops: their own other FLOPs are regrouped
# under one category (LRN is mul/avg_pool/pow/div in torch).
MODULE_CATEGORY = {"LocalResponseNorm": "norm", "CrossMapLRN2d": "norm"}


def regroup_module(module_type: str, cost: Cost) -> Cost:
    """A call's own cost with its other FLOPs under its module's category, if it has one."""
    category = MODULE_CATEGORY.get(module_type)
    return cost.regrouped(category) if category and cost.other else cost


def _stats(op: OpView, affine: bool) -> Cost:
    return of("norm", (6 if affine else 4) * numel(op.shape(0)))


def batch_norm(training_at: int, weight_at: int = 1):
    """``batch_norm``/``native_batch_norm(x, weight, bias, mean, var, training, …)``."""
    def handle(op: OpView) -> Cost:
        if op.arg(training_at, False) is True:
            return _stats(op, op.shape(weight_at) is not None or op.shape(weight_at + 1) is not None)
        return of("norm", 2 * numel(op.shape(0)))

    return handle


def batch_norm_eval(op: OpView) -> Cost:
    """``_native_batch_norm_legit_no_training(x, weight, bias, mean, var, …)``."""
    return of("norm", 2 * numel(op.shape(0)))


def batch_norm_stats(op: OpView) -> Cost:
    """``_native_batch_norm_legit(x, weight, bias, …)``: batch statistics computed."""
    return _stats(op, op.shape(1) is not None or op.shape(2) is not None)


def layer_norm(op: OpView) -> Cost:
    """``layer_norm``/``native_layer_norm(x, normalized_shape, weight, bias, eps)``."""
    return _stats(op, op.shape(2) is not None or op.shape(3) is not None)


def group_norm(weight_at: int):
    """``group_norm(x, groups, weight, bias, …)`` / ``native_group_norm(x, weight, bias, …)``."""
    def handle(op: OpView) -> Cost:
        return _stats(op, op.shape(weight_at) is not None or op.shape(weight_at + 1) is not None)

    return handle


def instance_norm(op: OpView) -> Cost:
    """``instance_norm(x, weight, bias, running_mean, running_var, use_input_stats, …)``."""
    if op.arg(5, True) is False:  # running statistics: scale and shift only
        return of("norm", 2 * numel(op.shape(0)))
    return _stats(op, op.shape(1) is not None or op.shape(2) is not None)


def rms_norm(op: OpView) -> Cost:
    """``rms_norm``/``_fused_rms_norm(x, normalized_shape, weight, eps)``."""
    return of("norm", (4 if op.shape(2) is not None else 3) * numel(op.shape(0)))
