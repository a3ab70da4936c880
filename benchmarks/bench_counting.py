"""Counting: archscope against fvcore, torchinfo, ptflops and thop on the zoo, in one process.

For every model and tool: a fresh model per call (peers mutate it: thop adds ``total_ops`` /
``total_params`` buffers, ptflops adds attributes and hooks), built outside the timing — zero-
filled weights on CPU, exactly what archscope counts on — and the same zero input. Each call is
timed alone with ``perf_counter``; per model, one warm-up round and then ``runs`` rounds, each
round calling every tool once (round-robin: load from other processes hits all tools alike);
median reported. A tool's result and model are released after its timing, never inside the next
one (fvcore's and torchinfo's results keep the model alive; freeing VGG's weights takes tens of
milliseconds, which an earlier version of this script charged to the next call of that tool).
The figure each tool reports is kept beside archscope's breakdown.

Tools (a peer that is not installed is reported as missing and skipped):

- ``archscope``: ``flop_report(model, input_size, engine="fvcore")`` — the per-layer table
  (shape trace + fvcore trace with archscope's handles + the params rows);
- ``archscope-meta``: the same with ``engine="meta"`` (the dispatcher on meta tensors);
- ``fvcore``: bare ``FlopCountAnalysis(model, x).total()``;
- ``torchinfo``: ``summary(model, input_data=x, verbose=0).total_mult_adds``;
- ``ptflops``/``ptflops-aten``: ``get_model_complexity_info(model, (C, H, W),
  as_strings=False, print_per_layer_stat=False, backend=…)``, MACs;
- ``thop``: ``profile(model, inputs=(x,), verbose=False)``, MACs.
"""

from __future__ import annotations

import gc
import importlib.util
import io
import logging
import time
import warnings

from run import fmt_delta, fmt_int, fmt_ratio, fmt_seconds, md_table, median, ratio

QUICK_MODELS = ["lenet5", "resnet18", "googlenet"]
TOOLS = ["archscope", "archscope-meta", "fvcore", "torchinfo", "ptflops", "ptflops-aten", "thop"]
PACKAGE = {"fvcore": "fvcore", "torchinfo": "torchinfo", "ptflops": "ptflops",
           "ptflops-aten": "ptflops", "thop": "thop"}
OVERHEAD_LIMIT = 1.25  # archscope (fvcore engine) / bare FlopCountAnalysis


def zoo_networks() -> list[str]:
    """Every zoo network with a default input (the single blocks are left out)."""
    from archscope.zoo import list_models, model_info

    return [n for n in list_models() if getattr(model_info(n), "kind", "model") != "block"]


def fresh(name: str):
    """The zoo network without weight init, zero-filled on CPU, eval mode; and its input shape."""
    from archscope.models import load_target, materialize

    t = load_target(name, device="meta", init=False)
    materialize(t.model, "cpu")
    return t.model.eval(), (1, *t.sample_shape)


def _archscope(engine):
    def run(model, x):
        from archscope.analysis.flops import flop_report

        return flop_report(model, tuple(x.shape[1:]), engine=engine)

    def figures(r):
        return {"macs": r.total["macs"], "flops": r.total["flops"],
                "other_flops": r.total["other_flops"], "params": r.total["params"],
                "uncounted_ops": r.total.get("uncounted_ops", {})}
    return run, figures


def _fvcore():
    def run(model, x):
        from fvcore.nn import FlopCountAnalysis

        a = FlopCountAnalysis(model, x)
        a.total()
        return a

    def figures(a):
        return {"macs": a.total(), "by_operator": dict(a.by_operator()),
                "unsupported_ops": dict(a.unsupported_ops())}
    return run, figures


def _torchinfo():
    def run(model, x):
        from torchinfo import summary

        return summary(model, input_data=x, verbose=0)

    return run, lambda s: {"macs": int(s.total_mult_adds), "params": int(s.total_params)}


def _ptflops(backend):
    def run(model, x):
        from ptflops import get_model_complexity_info

        return get_model_complexity_info(
            model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False,
            input_constructor=lambda _res: x, ost=io.StringIO(), backend=backend)

    return run, lambda r: {"macs": None if r[0] is None else int(r[0]), "params": r[1]}


def _thop():
    def run(model, x):
        from thop import profile

        return profile(model, inputs=(x,), verbose=False)

    return run, lambda r: {"macs": int(r[0]), "params": int(r[1])}


def tool_impls() -> dict:
    return {"archscope": _archscope("fvcore"), "archscope-meta": _archscope("meta"),
            "fvcore": _fvcore(), "torchinfo": _torchinfo(), "ptflops": _ptflops("pytorch"),
            "ptflops-aten": _ptflops("aten"), "thop": _thop()}


def measure_model(name: str, tools: list[str], runs: int) -> dict:
    """Warm-up round + ``runs`` rounds; each round calls every tool once, on a fresh model.

    Round-robin, so a burst of load from another process hits every tool alike (the machine is
    shared). Figures come from each tool's last call; a tool that raises is recorded, not fatal.
    """
    import torch

    impls = tool_impls()
    times = {t: [] for t in tools}
    figures, errors = {}, {}
    for i in range(runs + 1):
        for tool in tools:
            if tool in errors:
                continue
            model, shape = fresh(name)
            x = torch.zeros(shape)
            t0 = time.perf_counter()
            try:
                with torch.no_grad():
                    result = impls[tool][0](model, x)
            except Exception as exc:  # a peer that cannot count a model
                errors[tool] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
                continue
            elapsed = time.perf_counter() - t0
            if i:  # round 0 is the warm-up
                times[tool].append(elapsed)
            # Read the figures and drop the result (fvcore's and torchinfo's hold the model) and
            # the model now, outside any timed region: freeing a VGG's weights takes tens of ms.
            figures[tool] = impls[tool][1](result)
            del result, model
            gc.collect()
    out = {}
    for tool in tools:
        if tool in errors:
            out[tool] = {"error": errors[tool]}
        else:
            out[tool] = {"median_s": median(times[tool]), "times_s": times[tool], **figures[tool]}
    return out


def run(quick: bool, runs: int) -> dict:
    import torch

    warnings.filterwarnings("ignore")
    logging.getLogger("fvcore").setLevel(logging.ERROR)  # unsupported-op warnings: kept in JSON
    missing = sorted({PACKAGE[t] for t in TOOLS
                      if t in PACKAGE and importlib.util.find_spec(PACKAGE[t]) is None})
    for pkg in missing:
        print(f"peer {pkg} is not installed: skipped (pip install -e '.[bench]' or pip install {pkg})")
    tools = [t for t in TOOLS if PACKAGE.get(t) not in missing]
    models = QUICK_MODELS if quick else zoo_networks()
    out = {"models": {}, "tools": tools, "missing": missing, "threads": torch.get_num_threads()}
    for name in models:
        out["models"][name] = rec = measure_model(name, tools, runs)
        for tool, r in rec.items():
            print(f"{name:16s} {tool:15s} {r.get('median_s', float('nan')):8.3f} s  "
                  f"{r.get('macs', r.get('error'))}", flush=True)
    return out


def _overheads(result: dict) -> list[float]:
    return [ratio(r["archscope"]["median_s"], r["fvcore"]["median_s"])
            for r in result["models"].values()
            if "median_s" in r.get("archscope", {}) and "median_s" in r.get("fvcore", {})]


def _sum_ratio(result: dict) -> float:
    both = [r for r in result["models"].values()
            if "median_s" in r.get("archscope", {}) and "median_s" in r.get("fvcore", {})]
    return ratio(sum(r["archscope"]["median_s"] for r in both),
                 sum(r["fvcore"]["median_s"] for r in both))


def _cats(other: dict) -> str:
    short = {"bias": "bias", "norm": "norm", "pool": "pool", "activation": "act",
             "elementwise": "elem", "softmax": "smax"}
    return "<br>".join(f"{short.get(k, k)} {v:,}" for k, v in other.items()) or "0"


def markdown(result: dict) -> str:
    tools = result["tools"]
    time_rows, fig_rows, delta_rows = [], [], []
    for name, rec in result["models"].items():
        a = rec.get("archscope", {})
        time_rows.append([name] + [fmt_seconds(rec[t]["median_s"]) if "median_s" in rec[t]
                                   else "failed" for t in tools]
                         + [fmt_ratio(ratio(a["median_s"], rec["fvcore"]["median_s"]))
                            if "median_s" in a and "median_s" in rec.get("fvcore", {}) else "—"])
        if "macs" not in a:
            continue
        fig_rows.append([name, fmt_int(a["macs"]), _cats(a["other_flops"]), fmt_int(a["flops"])])
        peers = [t for t in tools if not t.startswith("archscope")]
        delta_rows.append([name, fmt_int(a["macs"])] + [
            fmt_delta(rec[t].get("macs"), a["macs"]) if "macs" in rec[t] else rec[t].get("error", "—")
            for t in peers])
    ov = _overheads(result)
    parts = [
        f"Median wall time per call ({result['runs']} runs after a warm-up, fresh model each call, "
        f"torch threads {result['threads']}); last column: archscope (fvcore engine) / bare fvcore.",
        "",
        md_table(["model", *tools, "archscope / fvcore"], time_rows,
                 right=range(1, len(tools) + 2)),
        "",
        f"Overhead archscope / bare fvcore: median over models {fmt_ratio(median(ov))}, "
        f"range {fmt_ratio(min(ov))}–{fmt_ratio(max(ov))}; whole zoo (sum of medians) "
        f"{fmt_ratio(_sum_ratio(result))}." if ov else "",
        "",
        "archscope's breakdown (batch 1, the model's default input): MACs, other FLOPs by "
        "category, FLOPs = 2 × MACs + other.",
        "",
        md_table(["model", "MACs", "other FLOPs", "FLOPs"], fig_rows, right=(1, 3)),
        "",
        "What each peer reports, as the difference from archscope's MACs (fvcore: its total; "
        "torchinfo: total_mult_adds; ptflops, thop: their MACs).",
        "",
        md_table(["model", "archscope MACs", *[t for t in tools if not t.startswith("archscope")]],
                 delta_rows, right=range(1, len(tools))),
    ]
    if result["missing"]:
        parts += ["", f"Not installed, skipped: {', '.join(result['missing'])}."]
    return "\n".join(parts)


def targets(result: dict) -> list[tuple]:
    ov = _overheads(result)
    if not ov:
        return []
    whole = _sum_ratio(result)
    return [(f"counting overhead ≤ {OVERHEAD_LIMIT}× bare fvcore (median over models)",
             f"{fmt_ratio(median(ov))} (range {fmt_ratio(min(ov))}–{fmt_ratio(max(ov))})",
             median(ov), OVERHEAD_LIMIT),
            (f"counting the whole zoo in one process ≤ {OVERHEAD_LIMIT}× bare fvcore",
             fmt_ratio(whole), whole, OVERHEAD_LIMIT)]
