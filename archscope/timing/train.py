"""Train-mode loss: the main head plus 0.3 × each auxiliary head.

GoogLeNet (Szegedy et al. 2014, §5) trains with two auxiliary classifiers whose losses are added
to the total with weight 0.3; the zoo's GoogLeNet returns ``GoogLeNetOutputs(logits,
aux_logits1, aux_logits2)`` in train mode. The rule is applied to any tuple or namedtuple output:
the first element is the main head, every other non-None element an auxiliary head (weight 0.3).
A head of shape (N, classes) is scored with cross-entropy against class-0 targets (the values do
not matter for timing, and fixed targets need no random numbers); any other output shape with
the mean of its squares, so blocks without a classifier can be timed in train mode too.
"""

from __future__ import annotations

from typing import Any, Callable

AUX_WEIGHT = 0.3


def split_outputs(output: Any) -> tuple[Any, list]:
    """A model output → (main head, auxiliary heads). Tuples/namedtuples: first is main."""
    if isinstance(output, (tuple, list)):
        return output[0], [o for o in output[1:] if o is not None]
    return output, []


class HeadLoss:
    """Loss of one head: cross-entropy against class-0 targets for (N, classes) logits, else the
    mean square of the output. Targets are made once per shape, on the output's device."""

    def __init__(self) -> None:
        self._targets: dict[tuple, Any] = {}

    def __call__(self, out):
        import torch
        import torch.nn.functional as F

        if out.dim() != 2:
            return out.float().square().mean()
        key = (out.shape[0], out.device)
        if key not in self._targets:
            self._targets[key] = torch.zeros(out.shape[0], dtype=torch.long, device=out.device)
        return F.cross_entropy(out.float(), self._targets[key])


def training_loss(output: Any, head_loss: Callable[[Any], Any]) -> Any:
    """main + 0.3 × each auxiliary head (GoogLeNet's rule, applied to any tuple output)."""
    main, aux = split_outputs(output)
    loss = head_loss(main)
    for a in aux:
        loss = loss + AUX_WEIGHT * head_loss(a)
    return loss


