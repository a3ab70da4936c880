"""``TorchDispatchMode._should_skip_dynamo``: keeping torch._dynamo off the counting path.

torch wraps every dispatch mode's ``__torch_dispatch__`` in ``torch._disable_dynamo``, whose
first call imports ``torch._dynamo`` (about 1.9 s here). A mode that never runs under
``torch.compile`` may opt out through this classmethod hook (torch's own docstring shows it);
the meta engine's modes do.
"""

from __future__ import annotations

from torch.utils._python_dispatch import TorchDispatchMode

SKIP_DYNAMO_HOOK = "_should_skip_dynamo"


class NoDynamoDispatchMode(TorchDispatchMode):
    """A dispatch mode that opts out of torch's dynamo wrapper (see the module docstring)."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False
