"""The empirical receptive field, for the tests: the input pixels one output unit's value
depends on, read from the input gradient.

Every weight is set to the same positive value (1 / fan-in: ones, scaled so float64 keeps every
value finite), biases and batch-norm shifts to 0, batch-norm statistics to mean 0 and variance
1, and the input to ones: every activation is positive, no ReLU is cut off, no product cancels,
so the gradient of one unit is nonzero exactly on the pixels it depends on. Max pools become
average pools of the same window (a max routes its gradient to one pixel only). Each probe is
one batch element, so one backward reads many units.

Nothing here reads archscope's geometry: the tests compare the two.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode


def constant_weights(model: nn.Module) -> nn.Module:
    """float64, every weight 1 / fan-in, biases 0, batch norm the identity (eval mode)."""
    model = model.double().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.zero_()
                m.running_var.fill_(1.0)
                if m.weight is not None:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
                continue
            w = getattr(m, "weight", None)
            if isinstance(w, torch.Tensor) and w.dim() >= 2:
                w.fill_(1.0 / w[0].numel())
            b = getattr(m, "bias", None)
            if isinstance(b, torch.Tensor):
                b.zero_()
    return model


class MaxAsAverage(TorchFunctionMode):
    """Max pools run as average pools of the same kernel, stride, padding and rounding."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in (F.max_pool2d, torch.max_pool2d, F.max_pool2d_with_indices,
                    torch._C._nn.max_pool2d_with_indices):
            names = ["kernel_size", "stride", "padding", "dilation", "ceil_mode"]
            given = dict(zip(names, args[1:]))
            given.update({k: v for k, v in kwargs.items() if k in names})
            dilation = given.get("dilation", 1)
            assert dilation in (1, (1, 1), [1, 1]), "a dilated max pool has no average twin"
            out = F.avg_pool2d(args[0], given["kernel_size"], given.get("stride") or None,
                               given.get("padding", 0), bool(given.get("ceil_mode", False)))
            if func in (F.max_pool2d_with_indices, torch._C._nn.max_pool2d_with_indices) or \
                    kwargs.get("return_indices"):
                return out, torch.zeros_like(out, dtype=torch.int64)
            return out
        return func(*args, **kwargs)


def probe(model: nn.Module, sample: tuple[int, ...], probes: list[tuple[str, tuple[int, ...]]]
          ) -> list[list[tuple[int, int]]]:
    """For each (module path, unit index along the spatial axes), the nonzero extent of the
    input gradient per axis: [(first, last) for height, (first, last) for width]. The unit is one
    position of the module's first output, all its channels (an Inception block's output
    position holds every branch)."""
    modules = dict(model.named_modules())
    outputs: dict[str, torch.Tensor] = {}
    hooks = []
    for path in {p for p, _ in probes}:
        def keep(_m, _a, out, _p=path):
            outputs.setdefault(_p, out[0] if isinstance(out, (tuple, list)) else out)
        hooks.append(modules[path].register_forward_hook(keep))
    x = torch.ones((len(probes), *sample), dtype=torch.float64, requires_grad=True)
    try:
        with MaxAsAverage():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    total = sum(outputs[path][b][(slice(None), *unit)].sum() for b, (path, unit) in enumerate(probes))
    total.backward()
    extents = []
    for b in range(len(probes)):
        seen = x.grad[b].abs().sum(0) != 0
        axes = []
        for d in range(seen.dim()):
            hit = seen.movedim(d, 0).reshape(seen.shape[d], -1).any(1).nonzero().flatten()
            axes.append((int(hit.min()), int(hit.max())))
        extents.append(axes)
    return extents
