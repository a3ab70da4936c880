"""Element-by-element work, reductions, softmax and resampling.

- ``activation``: ReLU, GELU, SiLU, Hardswish, sigmoid, tanh, Mish, … 1 per output element;
- ``elementwise``: add, sub, mul, div, pow, exp, comparisons, ``where``, ``masked_fill``,
  ``floor_divide``, … 1 per output element (``addcmul``/``addcdiv``/``lerp``: 2);
- ``reduction``: ``sum``, ``mean``, ``amax``, ``max`` … 1 per input element; variance and standard
  deviation 3 per input element; a vector norm (``F.normalize``) 2 per input element;
- ``softmax``: softmax and log-softmax 3 per element (exp, sum, divide);
- ``resample``: (bi/tri)linear interpolation ``2^(d+1) − 1`` per output element (``d`` spatial
  dimensions: the weighted sum of ``2^d`` neighbours), bicubic 31 per output element (2-D);
  nearest-neighbour resampling only copies (zero-cost, with the data movement ops).

An op whose output is a single number (0-d) costs nothing: in a TorchScript trace that is shape
arithmetic (``H // 2`` on a traced size), and both engines must agree.
"""

from __future__ import annotations

from .base import ZERO, Cost, OpView, numel, of

ACTIVATIONS = [
    "relu", "relu6", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh", "sigmoid",
    "tanh", "elu", "selu", "celu", "leaky_relu", "softplus", "softsign", "prelu",
    "_prelu_kernel", "rrelu", "glu", "logsigmoid", "log_sigmoid_forward", "hardshrink",
    "softshrink", "tanhshrink", "threshold", "quick_gelu",
]
ELEMENTWISE = [
    "add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod", "pow",
    "sqrt", "rsqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "neg", "abs",
    "reciprocal", "square", "sign", "sgn", "erf", "erfc", "erfinv", "sin", "cos", "tan", "atan",
    "atan2", "sinh", "cosh", "floor", "ceil", "round", "trunc", "frac", "clamp", "clamp_min",
    "clamp_max", "clip", "maximum", "minimum", "fmax", "fmin", "eq", "ne", "lt", "le", "gt",
    "ge", "logical_and", "logical_or", "logical_not", "logical_xor", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "__and__", "__or__", "__xor__", "where",
    "masked_fill", "nan_to_num", "isnan", "isinf", "isfinite", "hypot", "xlogy", "heaviside",
    "copysign",
]
TWO_PER_ELEMENT = ["addcmul", "addcdiv", "lerp"]
REDUCTIONS = [
    "sum", "mean", "nansum", "nanmean", "amax", "amin", "max", "min", "prod", "argmax",
    "argmin", "logsumexp", "cumsum", "cumprod", "all", "any", "aminmax", "count_nonzero",
]
VARIANCES = ["var", "std", "var_mean", "std_mean"]
NORMS = ["linalg_vector_norm", "norm", "frobenius_norm", "nuclear_norm"]
SOFTMAX = ["softmax", "log_softmax", "_softmax", "_log_softmax"]


def per_output(category: str, per: int = 1):
    """``per`` FLOPs of ``category`` per output element; nothing for a 0-d output."""
    def handle(op: OpView) -> Cost:
        out = op.out()
        if not out:  # a 0-d result, or none
            return ZERO
        return of(category, per * numel(out))

    return handle


def per_input(category: str, per: int = 1):
    """``per`` FLOPs of ``category`` per element of the first input; nothing for a 0-d input."""
    def handle(op: OpView) -> Cost:
        x = op.shape(0)
        if not x:
            return ZERO
        return of(category, per * numel(x))

    return handle


def linear_resample(dims: int):
    """``upsample_linear1d``/``bilinear2d``/``trilinear3d``: 2^(d+1) − 1 per output element."""
    return per_output("resample", 2 ** (dims + 1) - 1)


def bicubic(op: OpView) -> Cost:
    return of("resample", 31 * numel(op.out()))
