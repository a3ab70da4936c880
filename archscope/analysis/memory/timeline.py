"""Device memory over a run: every tensor storage from its birth to its release.

A storage is *born* when a dispatched op returns a tensor on a storage not seen before, and
*released* when its last reference goes (torch keeps one Python object per storage while the
storage lives, so a weak reference to it reports the release; ``torch.distributed._tools``'
memory tracker relies on the same). On the meta device nothing is allocated, yet births and
releases happen exactly as in a real run of the same code: what Python drops, what autograd
saves until a node's backward has run, what the optimizer step creates.

Sizes are counted as CUDA's caching allocator counts them in ``max_memory_allocated``: each
storage rounded up to a multiple of 512 bytes (zero-byte storages take nothing). Not seen: the
scratch memory a kernel takes for itself (cuDNN workspaces, temporaries inside a CPU kernel),
and the allocator's free-but-reserved blocks.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Iterable

import torch

from ..engines.recorder import tensors_in

BLOCK = 512  # bytes: the CUDA caching allocator's rounding


def allocated(nbytes: int) -> int:
    """Bytes the CUDA caching allocator takes for ``nbytes``."""
    return -(-nbytes // BLOCK) * BLOCK


@dataclass
class Timeline:
    """Live bytes on one device type, the peak, and the peak of each phase.

    :meth:`hold` registers storages that exist before the run (parameters, optimizer state, the
    input batch); :meth:`born` every op's outputs. ``phase`` names the part of the run going on
    (``forward``, ``backward``, ``step``); ``peaks`` keeps the highest live bytes in each.
    """

    device: str = "meta"
    live: int = 0
    peak: int = 0
    phase: str = "start"
    peaks: dict[str, int] = field(default_factory=dict)
    _refs: dict[int, tuple[Any, int]] = field(default_factory=dict)

    def hold(self, tensors: Iterable[Any]) -> None:
        for t in tensors_in(list(tensors)):
            self._add(t)

    def born(self, name: str, args: tuple, out: Any) -> None:
        """An op observer (see :class:`~archscope.analysis.train.step.StepOps`)."""
        for t in tensors_in(out):
            self._add(t)

    def _add(self, t: torch.Tensor) -> None:
        if t.device.type != self.device:
            return
        try:
            st = t.untyped_storage()
        except (RuntimeError, NotImplementedError):  # sparse and other storage-less layouts
            return
        key = id(st)
        known = self._refs.get(key)
        if known is not None and known[0]() is st:
            return
        size = allocated(st.nbytes())
        ref = weakref.ref(st, partial(self._released, key))
        self._refs[key] = (ref, size)
        self.live += size
        if self.live > self.peak:
            self.peak = self.live
        if self.live > self.peaks.get(self.phase, 0):
            self.peaks[self.phase] = self.live

    def _released(self, key: int, ref: Any) -> None:
        known = self._refs.get(key)
        if known is not None and known[0] is ref:
            del self._refs[key]
            self.live -= known[1]

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.peaks[phase] = max(self.peaks.get(phase, 0), self.live)
