"""``archscope bench``: CPU and CUDA latency, throughput and achieved TFLOP/s per configuration.

- :mod:`.timing` — CUDA events / ``perf_counter_ns``, the ``--iters auto`` loop, per-layer hooks;
- :mod:`.stats` — pure statistics of a list of times (median CI, percentiles, peak table);
- :mod:`.runner` — the sweep (:func:`bench`), OOM / unsupported-dtype / Ctrl-C handling;
- :mod:`.results` — the versioned JSON document and :func:`load_results`;
- :mod:`.counts` — MACs and FLOPs from the counting engine.

``archscope.bench`` is both this package and the function :func:`bench` (the package object is
callable and forwards to it): the public API names the function ``archscope.bench``, and once the
package is imported Python binds the package to that attribute, so the package must behave as
the function too.
"""

from __future__ import annotations

import sys
import types
from typing import Any


def bench(*args: Any, **kwargs: Any):
    """Run a benchmark sweep; see :func:`archscope.bench.runner.bench`."""
    from .runner import bench as _bench

    return _bench(*args, **kwargs)


def load_results(paths):
    """Merge bench results files into one DataFrame; see :func:`archscope.bench.results.load_results`."""
    from .results import load_results as _load

    return _load(paths)


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any):
        return bench(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage

__all__ = ["bench", "load_results"]
