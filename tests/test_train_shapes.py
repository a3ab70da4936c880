"""The training step's own output-shape rules agree with torch's meta kernels, op by op.

archscope.analysis.train.shapes states the output of each backward (and optimizer) op rather
than running torch's Python decompositions; here every op a rule answers is also run through
torch's kernel, and shapes and dtypes must be the same.
"""

from __future__ import annotations

import pytest
import torch

from archscope.analysis.engines.meta_shapes import MetaShapeMode
from archscope.analysis.memory.view import memory_report
from archscope.analysis.train.count import training_record


def _same(ours, theirs, where: str) -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), where
        for a, b in zip(ours, theirs):
            _same(a, b, where)
    elif isinstance(theirs, torch.Tensor):
        assert isinstance(ours, torch.Tensor), where
        assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype), where
    else:
        assert ours is None and theirs is None, where


@pytest.fixture
def checked(monkeypatch):
    """Every rule's answer compared with torch's own kernel; the ops checked, by name."""
    seen: set[str] = set()
    original = MetaShapeMode.__torch_dispatch__

    def dispatch(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._overloadpacket.__name__
        rule = self.rules.get(name)
        ours = rule(args, kwargs) if rule is not None else NotImplemented
        if ours is not NotImplemented and not name.endswith("_"):  # in-place: nothing new
            _same(ours, func(*args, **kwargs), str(func))
            seen.add(name)
        return original(self, func, types, args, kwargs)

    monkeypatch.setattr(MetaShapeMode, "__torch_dispatch__", dispatch)
    return seen


def test_rules_match_torch_on_the_zoo_training_steps(checked):
    for name in ("lenet5", "resnet18", "googlenet", "vgg11", "inception_v3"):
        training_record(name, batch_size=2)
    memory_report("resnet18", "3x32x32", batch_size=2, optimizer="adam", amp=True)
    memory_report("lenet5", optimizer="momentum", dtype="bf16")
    # the backward ops the zoo dispatches, and the optimizer's multi-tensor ops
    assert {"convolution_backward", "native_batch_norm_backward", "threshold_backward",
            "tanh_backward", "max_pool2d_with_indices_backward", "avg_pool2d_backward",
            "avg_pool3d_backward", "_adaptive_avg_pool2d_backward", "mm", "sum",
            "constant_pad_nd", "_foreach_sqrt"} <= checked
