"""The ``archscope`` command line: one Typer app, one sub-module per group of commands.

Commands only parse options, call the library and render. Importing this package imports no
torch, pandas or plotly: each command imports what it needs when it runs, so ``archscope
--help`` stays fast.
"""

from __future__ import annotations

from .app import app, main
from . import zoo as _zoo  # noqa: F401  (registers list, params)
from . import counting as _counting  # noqa: F401  (registers flops, summary, explain, verify)
from . import report as _report  # noqa: F401  (registers report)
from . import bench as _bench  # noqa: F401  (registers bench, device, compare)
from . import compare as _compare  # noqa: F401  (registers diff, rf)
from . import training as _training  # noqa: F401  (registers memory)
from . import conventions as _conventions  # noqa: F401  (registers conventions)

__all__ = ["app", "main"]
