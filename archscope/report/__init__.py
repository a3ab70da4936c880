"""Interactive HTML reports: ``archscope.report(models, bench=None, output=None, title=None)``.

``figures``, ``bench_figures``, ``compare_figures`` and ``training_figures`` build Plotly
figures from DataFrames, ``data``, ``sections``, ``compare`` and ``training`` gather what they
show, ``page`` assembles one self-contained HTML file, ``build`` runs it all.

Once this package is imported, ``archscope.report`` is the package itself (Python binds a
sub-package to its parent's attribute), so the package is made callable: ``archscope.report(
["googlenet"])`` writes a report whichever of the two it resolves to.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Sequence


def report(models: Sequence[Any], bench: Sequence[Any] | None = None, output: Any = None,
           title: str | None = None, **options: Any) -> Path:
    """Write the HTML report of ``models`` and return its path (see :func:`.build.build_report`).

    ``options``: ``input_size``, ``engine`` ("meta" by default, or "fvcore"), ``kwargs``,
    ``diff`` (two models: a Differences section), ``train`` (a Training section) with
    ``train_batch_size`` (32) and ``optimizer`` ("adam").
    """
    from .build import build_report

    return build_report(models, bench, output, title, **options)


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Path:
        return report(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["report"]
