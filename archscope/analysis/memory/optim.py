"""The optimizer of a training step: torch's own update, on the stand-in parameters.

``sgd`` keeps no state; ``momentum`` (SGD, momentum 0.9) one buffer per trainable parameter;
``adam`` and ``adamw`` two (first and second moments), each the parameter's size and dtype, as
``torch.optim`` allocates them (``zeros_like``; Adam's step counters are CPU scalars, not on
the device). The step calls torch's functional optimizers (``torch.optim.adam.adam``,
``torch.optim.sgd.sgd``) with ``foreach=True``, CUDA's default implementation, so the step's
temporaries (Adam's ``√v``) are the ones a CUDA run makes. (The ``torch.optim`` classes import
``torch._dynamo`` on first use, over a second; their functional forms do not.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ...errors import check_choice

OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def check_optimizer(name: str) -> str:
    return check_choice("optimizer", str(name).lower(), OPTIMIZERS)


@dataclass
class Optimizer:
    """An optimizer's state for ``params`` (steady state: as after its first step)."""

    name: str
    params: list[torch.Tensor]
    state: dict[int, list[torch.Tensor]] = field(default_factory=dict)
    steps: list[torch.Tensor] = field(default_factory=list)

    @classmethod
    def build(cls, name: str, params: list[torch.Tensor]) -> Optimizer:
        opt = cls(check_optimizer(name), list(params))
        per = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[opt.name]
        for p in opt.params:
            # torch.zeros, a C++ factory: zeros_like's meta kernel is Python and imports sympy
            # (half a second); the parameters are contiguous, so the layout is the same
            opt.state[id(p)] = [torch.zeros(tuple(p.shape), dtype=p.dtype, device=p.device)
                                for _ in range(per)]
        if per == 2:
            opt.steps = [torch.tensor(1.0) for _ in opt.params]
        return opt

    def tensors(self) -> list[torch.Tensor]:
        return [t for s in self.state.values() for t in s]

    def state_bytes(self, param: torch.Tensor) -> int:
        return sum(t.untyped_storage().nbytes() for t in self.state.get(id(param), ()))

    def step(self) -> None:
        """One update of every parameter that has a gradient, then the gradients dropped
        (``zero_grad(set_to_none=True)``)."""
        from torch.optim.adam import adam
        from torch.optim.adamw import adamw
        from torch.optim.sgd import sgd

        params = [p for p in self.params if p.grad is not None]
        grads = [p.grad for p in params]
        with torch.no_grad():
            if self.name in ("sgd", "momentum"):
                sgd(
                    params, grads, [self.state[id(p)][0] if self.state[id(p)] else None
                                    for p in params],
                    foreach=True, weight_decay=0.0, momentum=0.9 if self.name == "momentum"
                    else 0.0, lr=0.01, dampening=0.0, nesterov=False, maximize=False)
            else:
                steps = [s for p, s in zip(self.params, self.steps) if p.grad is not None]
                update = adamw if self.name == "adamw" else adam
                update(params, grads, [self.state[id(p)][0] for p in params],
                     [self.state[id(p)][1] for p in params], [], steps, foreach=True,
                     amsgrad=False, beta1=0.9, beta2=0.999, lr=1e-3,
                     weight_decay=0.01 if self.name == "adamw" else 0.0, eps=1e-8,
                     maximize=False)
        del grads
        for p in self.params:
            p.grad = None
