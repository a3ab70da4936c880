"""``archscope bench``: CPU and CUDA latency, throughput and achieved FLOP/s per configuration.

- :mod:`.runner` — the sweep (:func:`bench`), OOM / unsupported-dtype / Ctrl-C handling;
- :mod:`.configuration` — timing one configuration: warm-up, roofs, the timed region, its figures;
- :mod:`.clock` — CUDA events / ``perf_counter_ns`` and the ``--iters auto`` loop;
- :mod:`.gate` — the noise gate (``ok`` or ``unstable``, with the likely cause);
- :mod:`.stats` — pure statistics of a list of times (median CI, percentiles, datasheet peaks);
- :mod:`.peak`, :mod:`.bandwidth`, :mod:`.roofs` — the device's measured roofs and ridge point;
- :mod:`.layers`, :mod:`.layer_rows` — per-layer time from ``torch.profiler``, per module path;
- :mod:`.results`, :mod:`.validate` — the versioned JSON document, writing and reading it;
- :mod:`.compare` — two results files side by side;
- :mod:`.counts` — MACs, FLOPs and bytes from the counting core;
- :mod:`.scoped`, :mod:`.machine`, :mod:`.nvml` — global state restored, machine probes, NVML.

The API functions ``archscope.bench`` and ``archscope.load_results`` live in
:mod:`archscope.api`: a function and a sub-package never share a name.
"""
