"""What dynamo did for a ``--compile`` configuration: graphs captured, breaks, and fallbacks.

Dynamo keeps process-wide counters (``torch._dynamo.utils.counters``, a private API reached
through :mod:`archscope.adapters.torch_dynamo`); three snapshots around the first call and the
timing tell a compiled run from one that quietly ran eagerly.
"""

from __future__ import annotations


def dynamo_counts() -> dict[str, int]:
    """A snapshot of dynamo's global counters that tell compiled from eager runs.

    ``graphs``: FX graphs captured (``stats.unique_graphs``); ``frames``/``frames_ok``: frames
    dynamo tried to convert and converted; ``breaks``: graph breaks; ``limits``: frames given up
    on because the recompile limit (``recompile_limit``, once ``cache_size_limit``) was hit.
    """
    from ..adapters.torch_dynamo import counters as dynamo_counters

    counters = dynamo_counters()
    limits = sum(n for key, n in counters["unimplemented"].items()
                 if "limit" in key.lower() and ("recompile" in key.lower() or "cache_size" in key.lower()))
    return {"graphs": counters["stats"]["unique_graphs"], "frames": counters["frames"]["total"],
            "frames_ok": counters["frames"]["ok"], "breaks": sum(counters["graph_break"].values()),
            "limits": limits}


def compile_outcome(before: dict, compiled: dict, after: dict) -> dict:
    """Record fields for a compiled configuration from three :func:`dynamo_counts` snapshots:
    before the first (compiling) call, after it, and after warm-up and timing.

    ``fallback`` when the first call captured no graph (dynamo ran the whole forward eagerly,
    e.g. a model under ``torch.compiler.disable``), or when the recompile limit was hit or a frame
    failed to convert later (those calls ran eagerly): the timings are then eager ones.
    """
    out = {"compile_graphs": after["graphs"] - before["graphs"],
           "compile_graph_breaks": after["breaks"] - before["breaks"]}
    failed_later = (after["frames"] - after["frames_ok"]) - (compiled["frames"] - compiled["frames_ok"])
    if compiled["graphs"] == before["graphs"]:
        breaks = compiled["breaks"] - before["breaks"]
        out.update(status="fallback", reason=(
            "torch.compile captured no graph" + (f" ({breaks} graph breaks)" if breaks else "")
            + "; dynamo ran the forward eagerly, so these are eager timings"))
    elif after["limits"] > before["limits"] or failed_later > 0:
        out.update(status="fallback", reason=(
            "dynamo hit its recompile limit or failed to convert a frame after compiling; those "
            "calls ran eagerly, so these timings are not compiled ones"))
    return out
