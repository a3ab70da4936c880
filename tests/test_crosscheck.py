"""torchinfo as an independent cross-check of archscope's per-layer params and shapes.

torchinfo walks the module tree with its own hooks and its own parameter accounting; on every
leaf layer that ran, it must report the same output shape and parameter count as archscope.
"""

from __future__ import annotations

import pytest
import torchinfo

from archscope.analysis.params import param_table
from archscope.models import analysis_target


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "googlenet", "resnet50", "vgg11_bn"])
def test_leaf_shapes_and_params_match_torchinfo(name):
    target, shape = analysis_target(name)
    info = torchinfo.summary(target.model.eval(), input_size=shape, verbose=0, depth=100,
                             col_names=("output_size", "num_params"))
    paths = {id(m): p for p, m in target.model.named_modules()}
    theirs = {}
    for layer in info.summary_list:
        if layer.is_leaf_layer and layer.executed:
            theirs.setdefault(paths[id(layer.module)], (tuple(layer.output_size), layer.num_params))
    ours = param_table(name).set_index("layer")
    assert set(theirs) == set(ours.index)
    for path, (out, n) in theirs.items():
        assert ours.loc[path, "output_shape"] == "x".join(map(str, out)), path
        assert ours.loc[path, "params"] == n, path
