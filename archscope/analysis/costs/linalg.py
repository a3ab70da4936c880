"""Convolutions, matrix products and attention: the ops that do multiply-accumulates.

- A convolution producing ``out`` elements with ``C_in/groups × kernel`` taps: ``out × taps``
  MACs. A transposed convolution scatters each *input* element into ``C_out/groups × kernel``
  outputs: ``in × C_out/groups × kernel``. Bias: 1 add per output element (``bias``).
- A matrix product with output ``out`` and inner dimension ``k``: ``out × k`` MACs, whatever the
  batching or broadcasting (mm, bmm, matmul, linear, addmm). ``addmm``/``linear`` add a bias
  (``bias``, 1 per output element); ``baddbmm``/``addbmm`` add a tensor (``elementwise``).
- Attention (``scaled_dot_product_attention`` and its fused kernels): q·kᵀ and attn·v are MACs
  (``B·L·S·E + B·L·S·Ev``); the softmax over the scores is ``attention`` (3 per score); the rest
  is counted as torch's reference (math) path runs it, so a fused op and its decomposition
  cost the same: q and k scaled by √scale (``elementwise``, 1 per element of each), a mask
  added to the scores (1 per score), a boolean or causal mask first turned into −∞/0 (1 per
  mask element).
- ``einsum`` costs what torch runs for it: indices summed inside one operand are reduced first
  (``reduction``), then a contraction is a batched matrix product (MACs = the product of every
  index size), or without a contracted index a broadcast multiply (``elementwise``).
"""

from __future__ import annotations

from .base import ZERO, Cost, OpView, Shape, Uncountable, numel, of


def _conv(op: OpView, transposed: bool, bias_at: int = 2) -> Cost:
    x, w, out = op.shape(0), op.shape(1), op.out()
    taps = numel(w[1:])
    macs = numel(x) * taps if transposed else numel(out) * taps
    bias = numel(out) if op.shape(bias_at) is not None else 0
    return Cost(macs, {"bias": bias} if bias else {})


def convolution(op: OpView) -> Cost:
    """``convolution``/``_convolution(x, w, bias, stride, padding, dilation, transposed, …)``."""
    return _conv(op, bool(op.arg(6, False)))


def conv_nd(op: OpView) -> Cost:
    """``conv1d/2d/3d(x, w, bias, …)``."""
    return _conv(op, False)


def conv_transpose_nd(op: OpView) -> Cost:
    """``conv_transpose1d/2d/3d(x, w, bias, …)``."""
    return _conv(op, True)


def _product(out: Shape | None, k: int) -> int:
    return numel(out) * int(k)


def mm(op: OpView) -> Cost:
    """``mm``/``bmm``/``matmul``/``mv``/``dot``/``_scaled_mm``: output × inner dimension."""
    a = op.shape(0)
    return Cost(_product(op.out(), a[-1])) if a else ZERO


def linear(op: OpView) -> Cost:
    """``linear(x, w, bias)``."""
    out = op.out()
    bias = numel(out) if op.shape(2) is not None else 0
    return Cost(_product(out, op.shape(1)[-1]), {"bias": bias} if bias else {})


def addmm(op: OpView) -> Cost:
    """``addmm(bias, m1, m2)`` (a linear layer after decomposition) and ``addmv``."""
    out = op.out()
    return Cost(_product(out, op.shape(1)[-1]), {"bias": numel(out)})


def baddbmm(op: OpView) -> Cost:
    """``baddbmm(input, b1, b2)``: a batched product plus a tensor."""
    out = op.out()
    return Cost(_product(out, op.shape(1)[-1]), {"elementwise": numel(out)})


def addbmm(op: OpView) -> Cost:
    """``addbmm(input, b1, b2)``: the products of every batch summed into one matrix."""
    b1, out = op.shape(1), op.out()
    return Cost(b1[0] * _product(out, b1[-1]), {"elementwise": numel(out)})


def _attention(op: OpView, mask_at: int | None, causal_at: int | None) -> Cost:
    q, k, v = op.shape(0), op.shape(1), op.shape(2)
    mask = op.shape(mask_at) if mask_at is not None else None
    causal = causal_at is not None and op.arg(causal_at, False) is True
    scores = numel(q[:-2]) * q[-2] * k[-2]
    elementwise = numel(q) + numel(k)
    if mask is not None:
        elementwise += scores + (numel(mask) if op.dtype(mask_at) == "bool" else 0)
    elif causal:
        elementwise += scores + q[-2] * k[-2]
    macs = scores * q[-1] + scores * v[-1]
    return Cost(macs, {"elementwise": elementwise, "attention": 3 * scores})


def sdpa(op: OpView) -> Cost:
    """``scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale, …)``."""
    return _attention(op, 3, 5)


def sdpa_fused(mask_at: int | None, causal_at: int | None):
    """A fused kernel (flash, efficient, cudnn, flash-for-CPU): the same work as the op."""
    def handle(op: OpView) -> Cost:
        return _attention(op, mask_at, causal_at)

    return handle


def safe_softmax(op: OpView) -> Cost:
    """``_safe_softmax``: the softmax inside attention's math path."""
    return of("attention", 3 * numel(op.out()))


def _letter_sizes(terms: list[str], shapes: list) -> dict[str, int]:
    size: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for letter, n in zip(term, shape):
            size[letter] = max(size.get(letter, 1), int(n))
    return size


def _own_sums(terms: list[str], shapes: list, out: set[str]) -> tuple[int, list[str]]:
    """Elements reduced inside each operand before any product, and what is left of each term."""
    reduce = 0
    kept = []
    for i, term in enumerate(terms):
        others = set("".join(t for j, t in enumerate(terms) if j != i))
        own_sum = [c for c in set(term) if c not in out and c not in others]
        if own_sum:  # summed inside this operand before any product
            reduce += numel(shapes[i])
        kept.append("".join(c for c in term if c not in own_sum))
    return reduce, kept


def einsum(op: OpView) -> Cost:
    """``einsum(equation, operands)`` as torch evaluates two operands (see module docstring)."""
    equation, shapes = op.arg(0), op.shapes(1)
    if not isinstance(equation, str) or not shapes:
        raise Uncountable("an einsum whose equation is not a constant")
    lhs, _, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if "." in equation or len(terms) != len(shapes) or len(terms) > 2:
        raise Uncountable(f"einsum {equation!r} (ellipsis or more than two operands)")
    size = _letter_sizes(terms, shapes)
    if "->" not in equation:  # implicit output: the letters seen once, sorted
        rhs = "".join(sorted(c for c in size if lhs.count(c) == 1))
    out = set(rhs)
    reduce, kept = _own_sums(terms, shapes, out)
    if len(kept) == 1:
        return of("reduction", reduce)
    letters = set(kept[0]) | set(kept[1])
    contracted = set(kept[0]) & set(kept[1]) - out
    product = 1
    for c in letters:
        product *= size[c]
    if contracted:
        return Cost(product, {"reduction": reduce} if reduce else {})
    other = {"elementwise": product}
    if reduce:
        other["reduction"] = reduce
    return Cost(0, other)

