"""``archscope bench``: CPU and CUDA latency, throughput and achieved FLOP/s per configuration.

- :mod:`.runner` — the sweep (:func:`bench`), OOM / unsupported-dtype / Ctrl-C handling;
- :mod:`.configuration` — timing one configuration: warm-up, roofs, the timed region, its figures;
- :mod:`.timing` — CUDA events / ``perf_counter_ns`` and the ``--iters auto`` loop;
- :mod:`.gate` — the noise gate (``ok`` or ``unstable``, with the likely cause);
- :mod:`.stats` — pure statistics of a list of times (median CI, percentiles, datasheet peaks);
- :mod:`.peak`, :mod:`.bandwidth`, :mod:`.roofs` — the device's measured roofs and ridge point;
- :mod:`.layers`, :mod:`.layer_rows` — per-layer time from ``torch.profiler``, per module path;
- :mod:`.results`, :mod:`.validate` — the versioned JSON document, writing and reading it;
- :mod:`.compare` — two results files side by side;
- :mod:`.counts` — MACs, FLOPs and bytes from the counting core;
- :mod:`.scoped`, :mod:`.machine`, :mod:`.nvml` — global state restored, machine probes, NVML.

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
