"""What autograd saves for the backward, observed with ``saved_tensors_hooks``, per module call.

Every tensor autograd keeps for a backward formula passes through the pack hook while the
forward runs; the hook charges its storage to the innermost module call, once: a view of a
tensor saved already, or a second layer saving the same tensor, costs nothing more (the whole
storage counts, as a saved view keeps all of it alive). Storages of parameters and buffers are
not activations and are left out; so are the low-precision weight copies that mixed precision
makes (counted apart, as ``weight_copies``).

The same class observes a real CPU forward, which is how the tests check the meta figures.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


class SavedTensors:
    """Bytes saved for backward per call index of a :class:`CallRecorder` (see the module
    docstring). ``exclude`` holds the tensors whose storages are not activations; ``copies``
    the storages of low-precision weight copies (mixed precision)."""

    def __init__(self, recorder, exclude: list[torch.Tensor] = ()) -> None:
        self.recorder = recorder
        self.excluded = {id(t.untyped_storage()) for t in exclude}
        self.copies: set[int] = set()
        self.by_call: dict[int, int] = {}
        self.weight_copies = 0
        self.seen: set[int] = set()
        self._alive: list[torch.UntypedStorage] = []  # ids stay unique while the forward runs

    def mark_copy(self, t: torch.Tensor) -> None:
        self.copies.add(id(t.untyped_storage()))

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        st = t.untyped_storage()
        key = id(st)
        if key in self.seen or key in self.excluded:
            return t
        self.seen.add(key)
        self._alive.append(st)
        if key in self.copies:
            self.weight_copies += st.nbytes()
        else:
            stack = self.recorder.stack
            call = stack[-1] if stack else 0
            self.by_call[call] = self.by_call.get(call, 0) + st.nbytes()
        return t

    @staticmethod
    def unpack(t: torch.Tensor) -> torch.Tensor:
        return t

    @contextlib.contextmanager
    def hooks(self) -> Iterator[None]:
        try:
            with torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack):
                yield
        finally:
            self._alive = []
            self.seen = set()

    @property
    def total(self) -> int:
        return sum(self.by_call.values())
