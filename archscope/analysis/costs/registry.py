"""The op-cost registry: each aten op name → exactly one handle.

Both counting engines read this one table: the meta engine with the overload-packet names torch
dispatches (``convolution``, ``addmm``, ``native_layer_norm``…), the fvcore engine with the
TorchScript node kinds (``aten::conv2d``, ``aten::linear``…, looked up without ``aten::``).
Adding an op is one entry here, and both engines get it. Ops declared zero-cost map to
:data:`~.base.ZERO`; an op with no entry is reported as uncounted, by name.
"""

from __future__ import annotations

from functools import lru_cache

from . import grads, linalg, norm, pointwise, pool
from .base import ZERO, Cost, Handle, OpView
from .movement import ZERO_COST


def _zero(op: OpView) -> Cost:
    return ZERO


@lru_cache(maxsize=None)
def registry() -> dict[str, Handle]:
    """The table (built once): op name without namespace → handle."""
    table: dict[str, Handle] = {name: _zero for name in ZERO_COST}

    def add(names, handle: Handle) -> None:
        for name in [names] if isinstance(names, str) else names:
            table[name] = handle
            if not name.startswith("_") and not name.endswith("_"):
                table.setdefault(name + "_", handle)  # the in-place form costs the same

    # multiply-accumulates
    add(["convolution", "_convolution", "cudnn_convolution", "mkldnn_convolution",
         "_convolution_mode", "_slow_conv2d_forward", "thnn_conv2d"], linalg.convolution)
    add(["conv1d", "conv2d", "conv3d"], linalg.conv_nd)
    add(["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"], linalg.conv_transpose_nd)
    add(["mm", "bmm", "matmul", "mv", "dot", "vdot", "_scaled_mm"], linalg.mm)
    add("linear", linalg.linear)
    add(["addmm", "addmv"], linalg.addmm)
    add("baddbmm", linalg.baddbmm)
    add("addbmm", linalg.addbmm)
    add("einsum", linalg.einsum)
    # attention: the op and every fused kernel torch may dispatch it to
    add("scaled_dot_product_attention", linalg.sdpa)
    add("_scaled_dot_product_attention_math", linalg.sdpa_fused(3, 5))
    add("_scaled_dot_product_flash_attention", linalg.sdpa_fused(None, 4))
    add("_scaled_dot_product_flash_attention_for_cpu", linalg.sdpa_fused(5, 4))
    add("_scaled_dot_product_efficient_attention", linalg.sdpa_fused(3, 6))
    add("_scaled_dot_product_cudnn_attention", linalg.sdpa_fused(3, 6))
    add("_safe_softmax", linalg.safe_softmax)
    # normalisation
    add("batch_norm", norm.batch_norm(training_at=5))
    add("native_batch_norm", norm.batch_norm(training_at=5))
    add("_native_batch_norm_legit_no_training", norm.batch_norm_eval)
    add(["_native_batch_norm_legit", "_native_batch_norm_legit_functional"], norm.batch_norm_stats)
    add(["layer_norm", "native_layer_norm"], norm.layer_norm)
    add("group_norm", norm.group_norm(weight_at=2))
    add("native_group_norm", norm.group_norm(weight_at=1))
    add("instance_norm", norm.instance_norm)
    add(["rms_norm", "_fused_rms_norm"], norm.rms_norm)
    # pooling
    for d in (1, 2, 3):
        add([f"max_pool{d}d", f"max_pool{d}d_with_indices", f"quantized_max_pool{d}d"],
            pool.max_pool(d))
        add(f"avg_pool{d}d", pool.avg_pool(d))
        add([f"adaptive_avg_pool{d}d", f"_adaptive_avg_pool{d}d"], pool.adaptive_avg_pool(d))
        add(f"adaptive_max_pool{d}d", pool.adaptive_max_pool(d))
    # element by element, reductions, softmax, resampling
    add(pointwise.ACTIVATIONS, pointwise.per_output("activation"))
    add(pointwise.ELEMENTWISE, pointwise.per_output("elementwise"))
    add(pointwise.TWO_PER_ELEMENT, pointwise.per_output("elementwise", 2))
    add(pointwise.REDUCTIONS, pointwise.per_input("reduction"))
    add(pointwise.VARIANCES, pointwise.per_input("reduction", 3))
    add(pointwise.NORMS, pointwise.per_input("reduction", 2))
    add(pointwise.SOFTMAX, pointwise.per_output("softmax", 3))
    add(["upsample_linear1d", "_upsample_linear1d"], pointwise.linear_resample(1))
    add(["upsample_bilinear2d", "_upsample_bilinear2d_aa"], pointwise.linear_resample(2))
    add("upsample_trilinear3d", pointwise.linear_resample(3))
    add(["upsample_bicubic2d", "_upsample_bicubic2d_aa"], pointwise.bicubic)
    add("native_dropout", grads.native_dropout)
    add("bernoulli", pointwise.per_output("elementwise"))
    _backward(add)
    return table


def _backward(add) -> None:
    """The ops autograd dispatches in a backward (see :mod:`.grads`)."""
    add("convolution_backward", grads.convolution_backward)
    add(grads.ATTENTION_BACKWARD, grads.attention_backward)
    add("native_batch_norm_backward", grads.batch_norm_backward(training_at=7, mask_at=9))
    add("batch_norm_backward", grads.batch_norm_backward(training_at=7, mask_at=9))
    add("cudnn_batch_norm_backward", grads.cudnn_batch_norm_backward)
    add("native_layer_norm_backward", grads.layer_norm_backward)
    add("native_group_norm_backward", grads.group_norm_backward)
    add("_fused_rms_norm_backward", grads.rms_norm_backward)
    for d in (2, 3):
        add(f"max_pool{d}d_with_indices_backward", grads.per_grad("pool"))
        add(f"avg_pool{d}d_backward", grads.avg_pool_backward(d))
        add(f"_adaptive_avg_pool{d}d_backward", grads.adaptive_avg_pool_backward(d))
        add(f"adaptive_max_pool{d}d_backward", grads.per_grad("pool"))
    add(grads.ACTIVATION_BACKWARD, grads.per_grad("activation"))
    add(grads.SOFTMAX_BACKWARD, grads.per_grad("softmax", 4))
    add("native_dropout_backward", grads.per_grad("elementwise", 2))
    add("embedding_dense_backward", grads.per_grad("elementwise"))
    add(["upsample_linear1d_backward"], grads.per_grad("resample", 4))
    add(["upsample_bilinear2d_backward", "_upsample_bilinear2d_aa_backward"],
        grads.per_grad("resample", 8))
    add("upsample_trilinear3d_backward", grads.per_grad("resample", 16))
    add(["upsample_bicubic2d_backward", "_upsample_bicubic2d_aa_backward"],
        grads.per_grad("resample", 32))
    add(grads.NEAREST_BACKWARD, grads.per_grad("resample"))
    add(grads.ZERO_COST_BACKWARD, _zero)


def lookup(name: str) -> Handle | None:
    """The handle for an op (``aten::conv2d``, ``conv2d`` or ``aten.conv2d``), or ``None``."""
    for prefix in ("aten::", "aten."):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return registry().get(name)
