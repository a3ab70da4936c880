"""Input-size and builder-option parsing."""

from __future__ import annotations

import pytest

from archscope.errors import ArchscopeError, closest, one_line
from archscope.inputs import MAX_DIM, check_batch_size, parse_input_size, parse_kwargs


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


def test_a_duplicate_kwargs_key_is_refused():
    with pytest.raises(ArchscopeError, match="'num_classes' is given twice in --kwargs; give each "
                       "option once, e.g. --kwargs num_classes=20"):
        parse_kwargs("num_classes=10,width=2, num_classes=20")


def test_batch_size_is_capped_like_every_input_dimension():
    assert check_batch_size(MAX_DIM) == MAX_DIM == 2**31 - 1
    with pytest.raises(ArchscopeError, match="batch size 2,147,483,648 is too large; it must be "
                       "at most 2,147,483,647"):
        check_batch_size(MAX_DIM + 1)


def test_closest_to_a_blank_name_is_nothing():
    # "" is a prefix of every name: it used to suggest the first three
    assert closest("", ["lenet5", "alexnet"]) == [] and closest("  ", ["lenet5"]) == []


def test_one_line():
    assert one_line("a\n  b\tc") == "a b c"
    assert one_line(KeyError()) == "KeyError"  # no message: the type says what happened
    assert one_line(ValueError("bad\nvalue")) == "bad value"
    cut = one_line("x" * 50 + "y" * 50, 21)
    # 20 characters kept around the ellipsis, two thirds of them from the start
    assert cut == "x" * 13 + "…" + "y" * 7 and len(cut) == 21
    assert one_line("z" * 21, 21) == "z" * 21
