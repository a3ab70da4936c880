"""Input-size and builder-option parsing."""

from __future__ import annotations

import pytest

from archscope.errors import ArchscopeError, closest
from archscope.inputs import parse_input_size, parse_kwargs


@pytest.mark.parametrize(
    "text,expected",
    [
        ("3x224x224", ((3, 224, 224), None)),
        ("3×224×224", ((3, 224, 224), None)),
        ("1,3,224,224", ((3, 224, 224), 1)),
        ("8x3x32x32", ((3, 32, 32), 8)),
        (" 1 , 28 , 28 ", ((1, 28, 28), None)),
    ],
)
def test_parse_input_size(text, expected):
    assert parse_input_size(text) == expected


@pytest.mark.parametrize(
    "text,match",
    [("", "empty"), ("3xax224", "whole numbers"), ("3x0x224", "zero or negative"),
     ("3x-1x224", "whole numbers|zero or negative"), ("224", "one dimension"), ("3x2.5x4", "whole")],
)
def test_bad_input_size(text, match):
    with pytest.raises(ArchscopeError, match=match):
        parse_input_size(text)


def test_parse_kwargs():
    assert parse_kwargs("num_classes=10, aux_logits=false,name=x,p=0.5,z=none") == {
        "num_classes": 10, "aux_logits": False, "name": "x", "p": 0.5, "z": None,
    }
    with pytest.raises(ArchscopeError, match="key=value"):
        parse_kwargs("num_classes")


def test_closest_names():
    assert closest("resnt50", ["resnet50", "resnet18", "vgg16"])[0] == "resnet50"
    assert closest("zzz", ["resnet50"]) == []
