"""Mixed precision on the meta device: what ``torch.autocast`` does on CUDA, re-enacted.

Autocast has no meta backend, so ``memory --amp`` casts as CUDA's autocast would, at the level
of torch functions: matrix products and convolutions run in the low-precision dtype (their
floating inputs cast to it), the ops autocast keeps in fp32 (softmax, norms other than batch
norm, reductions such as ``sum``, ``exp``, ``log``, losses…) get fp32 inputs, and a few ops
that take several tensors (``cat``, ``stack``, ``addcmul``…) get them all at the widest
dtype; everything else runs on what it is given (batch norm on a low-precision input with fp32
parameters, ReLU, pooling, additions). Lists from PyTorch's "Autocast op reference" (CUDA).

As autocast does, a parameter's low-precision copy (a leaf that requires grad) is made once and
kept for the whole forward; a layer that saves it for the backward keeps it until then. The
parameters, their gradients and the optimizer state stay fp32 ("master weights").
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.overrides import TorchFunctionMode

LOW = {
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "linear", "matmul", "__matmul__", "__rmatmul__", "mm", "mv", "bmm", "addmm",
    "addmv", "addr", "addbmm", "baddbmm", "chain_matmul", "multi_dot", "prelu", "einsum",
    "scaled_dot_product_attention", "_convolution",
}
FP32 = {
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
    "reciprocal", "rsqrt", "sinh", "tan", "pow", "__pow__", "__rpow__", "softplus", "layer_norm",
    "group_norm", "norm", "nuclear_norm", "frobenius_norm", "cosine_similarity", "normalize",
    "softmax", "log_softmax", "softmin", "cumsum", "cumprod", "sum", "prod", "dist", "pdist",
    "cdist", "renorm", "logsumexp", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "nll_loss", "cross_entropy", "kl_div", "binary_cross_entropy_with_logits",
    "poisson_nll_loss", "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "multilabel_margin_loss", "multi_margin_loss", "soft_margin_loss", "triplet_margin_loss",
    "rms_norm", "__rdiv__", "__rtruediv__",
}
WIDEST = {"addcdiv", "addcmul", "atan2", "bilinear", "cross", "dot", "grid_sample",
          "index_put", "scatter_add", "tensordot", "cat", "stack", "index_copy"}


class Autocast(TorchFunctionMode):
    """Casts the floating arguments of torch functions as CUDA's autocast would (see the module
    docstring). ``on_copy`` is told of every cached parameter copy (they are not activations)."""

    def __init__(self, dtype: torch.dtype, on_copy: Callable[[torch.Tensor], None] | None = None):
        super().__init__()
        self.dtype = dtype
        self.on_copy = on_copy
        self.cache: dict[int, torch.Tensor] = {}

    def __exit__(self, *exc: Any) -> Any:
        self.cache = {}  # autocast drops its cast cache when the region ends
        return super().__exit__(*exc)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in LOW:
            args, kwargs = self._cast(args, kwargs, self.dtype)
        elif name in FP32:
            args, kwargs = self._cast(args, kwargs, torch.float32)
        elif name in WIDEST:
            widest = _widest((args, kwargs))
            if widest is not None:
                args, kwargs = self._cast(args, kwargs, widest)
        return func(*args, **kwargs)

    def _cast(self, args: tuple, kwargs: dict, dtype: torch.dtype) -> tuple[tuple, dict]:
        def cast(v: Any) -> Any:
            if isinstance(v, torch.Tensor):
                return self._one(v, dtype)
            if isinstance(v, (list, tuple)) and any(isinstance(x, torch.Tensor) for x in v):
                return type(v)(cast(x) for x in v)
            return v

        return tuple(cast(a) for a in args), {k: cast(v) for k, v in kwargs.items()}

    def _one(self, t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        if not t.is_floating_point() or t.dtype == dtype or t.dtype == torch.float64:
            return t
        # autocast caches the low-precision copy of an fp32 leaf that requires grad (a weight)
        cached = (dtype == self.dtype and t.dtype == torch.float32 and t.is_leaf
                  and t.requires_grad)
        if cached:
            copy = self.cache.get(id(t))
            if copy is None:
                copy = self.cache[id(t)] = t.to(dtype)
                if self.on_copy is not None:
                    self.on_copy(copy)
            return copy
        return t.to(dtype)


def _widest(value: Any) -> torch.dtype | None:
    from ..engines.recorder import tensors_in

    dtypes = [t.dtype for t in tensors_in(value) if t.is_floating_point()]
    if not dtypes:
        return None
    out = dtypes[0]
    for d in dtypes[1:]:
        out = torch.promote_types(out, d)
    return out
