"""The private APIs archscope relies on, one adapter each: fail loudly when an upgrade removes one.

Each test names the API and what breaks without it, so a failure here says what to port.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def test_torchscript_value_types_and_scopes():
    # archscope.adapters.torch_jit: the fvcore engine reads traced shapes from value types and
    # marks each module call with a trace scope
    from archscope.adapters import torch_jit

    assert hasattr(torch._C, "_get_tracing_state"), "torch._C._get_tracing_state is gone"
    assert hasattr(torch._C, "_get_value_trace"), "torch._C._get_value_trace is gone"
    seen = {}

    def f(x):
        seen.setdefault("sizes", torch_jit.value_sizes(x))  # the traced call, not the re-check
        torch_jit.push_scope("archscope-call-7")
        y = x * 2
        torch_jit.pop_scope()
        return y

    graph = torch.jit.trace(f, torch.zeros(2, 3), check_trace=False).graph
    assert seen["sizes"] == (2, 3)
    assert any("archscope-call-7" in n.scopeName() for n in graph.nodes())


def test_fvcore_private_handle_table():
    # archscope.adapters.fvcore: FlopCountAnalysis keeps its handles and ignored ops privately
    from archscope.adapters.fvcore import bare_analysis

    a = bare_analysis(torch.nn.ReLU(), (torch.zeros(2),))
    assert a._op_handles == {} and a._ignored_ops == set(), "fvcore renamed its handle tables"


def test_dispatch_mode_dynamo_opt_out():
    # archscope.adapters.torch_dispatch: without this hook the meta engine imports torch._dynamo
    from torch.utils._python_dispatch import TorchDispatchMode

    assert hasattr(TorchDispatchMode, "_should_skip_dynamo"), "the dynamo opt-out hook is gone"


def test_python_wrappers_check_torch_function_by_these_names():
    # archscope.adapters.torch_function: the meta engine sees F.linear inside
    # F.multi_head_attention_forward only if the wrapper's own check uses these globals
    from archscope.adapters.torch_function import CHECKS, inner_visible

    names = set(F.multi_head_attention_forward.__code__.co_names)
    assert names & set(CHECKS), "F's wrappers no longer check has_torch_function by name"
    body = inner_visible(F.multi_head_attention_forward)
    assert body is not None and body is not F.multi_head_attention_forward
    assert inner_visible(torch.Tensor.unflatten) is None  # Tensor methods are left alone


def test_typer_vendored_click_errors():
    # archscope.adapters.typer_click: Typer ≥ 0.20 vendors click; its usage errors become one
    # line only if archscope catches the vendored exception class
    import typer

    from archscope.adapters.typer_click import click_errors

    base, show_help = click_errors()
    assert issubclass(base, Exception)
    vendored = hasattr(typer, "_click")
    assert not vendored or base.__module__ == "typer._click.exceptions", \
        "typer._click.exceptions.ClickException is gone: usage errors would print tracebacks"
    assert not vendored or show_help, "typer._click's NoArgsIsHelpError is gone"


def test_dynamo_counters_tell_a_compiled_run():
    # archscope.adapters.torch_dynamo: --compile's fallback detection reads these counter groups
    from archscope.adapters.torch_dynamo import GROUPS, counters
    from archscope.timing.compiled import dynamo_counts

    c = counters()
    assert all(hasattr(c[g], "values") for g in GROUPS), \
        "torch._dynamo.utils.counters lost a group --compile reads"
    assert set(dynamo_counts()) == {"graphs", "frames", "frames_ok", "breaks", "limits"}


def test_nn_bindings_are_what_the_functionals_call():
    # archscope.adapters.torch_function.nn_binding: the meta engine costs these whole by name
    from archscope.adapters.torch_function import NN_BINDINGS, nn_binding

    for name in NN_BINDINGS:
        assert callable(nn_binding(name)), f"torch._C._nn.{name} is gone"
    assert nn_binding("linear") is F.linear  # F.linear is the binding itself
    assert "adaptive_avg_pool2d" in F.adaptive_avg_pool2d.__code__.co_names
