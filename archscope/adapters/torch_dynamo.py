"""``torch._dynamo.utils.counters``: what dynamo did for a ``torch.compile`` call.

Dynamo keeps process-wide counters, a private API with no public equivalent: they are the one
way to tell a compiled run from one that dynamo quietly ran eagerly (no graph captured, the
recompile limit hit). :func:`counters` is the only place archscope reaches them; resetting
dynamo goes through the public ``torch.compiler.reset``.
"""

from __future__ import annotations

from typing import Any

# The counter groups archscope reads (see archscope.timing.compiled.dynamo_counts).
GROUPS = ("stats", "frames", "graph_break", "unimplemented")


def counters() -> Any:
    """Dynamo's counters: a mapping from group name to a ``Counter`` (imports torch._dynamo)."""
    from torch._dynamo.utils import counters as _counters

    return _counters
