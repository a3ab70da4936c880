"""``--per-layer`` rows: each module's measured time beside its counted work and its roof.

Times come from :mod:`.layers` (the profiler, per module call), counts from :mod:`.counts`
(keyed by the same module paths, the root as ``"(model)"``). A row per module that ran
operators of its own or holds counted FLOPs: every leaf layer, and every block with work of its
own (a residual add, a concatenation). Per row:

- ``time_ms``: the module's own operators per forward; ``time_share`` = time_ms / the whole
  profiled forward;
- ``macs``, ``flops``, ``bytes_moved`` (inputs + weights read, outputs written, at the timed
  dtype) and ``intensity`` = flops / bytes_moved (FLOPs per byte);
- ``gflop_s`` = flops / time (10⁹ FLOP/s); ``math``: the math mode of its roof (convolutions
  may run in another one than matmuls); ``bound``: ``memory-bound`` when its intensity is
  below that roof's ridge point (peak / bandwidth), else ``compute-bound``.
"""

from __future__ import annotations

from typing import Any, Callable

from .layers import ROOT, time_layers
from .peak import math_modes
from .roofs import bound


def is_conv(module: Any) -> bool:
    from torch import nn

    return isinstance(module, nn.modules.conv._ConvNd)


def conv_macs(model, counts) -> int:
    """MACs of the model's convolution modules (they may run in another math mode)."""
    return sum(counts.per_layer[p].macs for p, m in model.named_modules()
               if is_conv(m) and p in counts.per_layer)


def per_layer_figures(cfg, model, forward: Callable[[], Any], ctx, record: dict, trace,
                      passes: int) -> dict:
    """The record's per-layer fields: rows, their sum against the whole forward, the source."""
    tmp = trace.temporary() if trace is not None else None
    times = time_layers(model, forward, cfg.device.split(":")[0], passes, tmp)
    trace_file = str(trace.place(tmp)) if tmp is not None else None
    whole = times.pass_ms
    counts = cfg.counts.per_layer
    total_macs = cfg.counts.macs or 0
    modes = math_modes(cfg.device, cfg.dtype)
    bw = ctx.roofs.bandwidth().best if ctx.roofs is not None else None
    rows = []
    for path, module in model.named_modules():
        path = path or ROOT
        own = times.own_ms.get(path)
        lc = counts.get(path)
        has_work = lc is not None and (lc.flops or lc.macs)
        if not has_work and not own and not times.leaf.get(path):
            continue  # a container (Sequential) with nothing of its own
        math = modes["conv" if is_conv(module) else "matmul"]
        peak = ctx.roofs.peak(math).best if ctx.roofs is not None else None
        flops = lc.flops if lc is not None else None
        moved = lc.bytes_moved if lc is not None else None
        intensity = flops / moved if flops and moved else None
        rows.append({
            "layer": path, "type": type(module).__name__, "calls": times.calls.get(path),
            "time_ms": own, "time_share": own / whole if own is not None and whole else None,
            "macs": lc.macs if lc is not None else None,
            "mac_share": lc.macs / total_macs if lc is not None and total_macs else None,
            "flops": flops, "bytes_moved": moved, "intensity": intensity,
            "gflop_s": flops / own / 1e6 if flops and own else None,
            "math": math, "bound": bound(intensity, peak, bw),
        })
    layers_sum = sum(t for t in times.own_ms.values())
    return {"per_layer": rows, "layers_sum_ms": layers_sum, "layers_pass_ms": whole,
            "unattributed_ms": whole - layers_sum if whole else None,
            "per_layer_source": times.source, "trace_file": trace_file}
