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
    # archscope.cli.app: Typer ≥ 0.20 vendors click; its usage errors become one line
    from archscope.cli.app import _click_errors

    base, show_help = _click_errors()
    assert issubclass(base, Exception)
