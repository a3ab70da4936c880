"""Coverage: every torchvision classifier and a spread of timm models, counted and checked.

For each model, at the input size of its default weights' transforms (timm: its pretrained
config), this records:

- params, against torchvision's published ``num_params`` (the weights enum's metadata; nothing
  is downloaded); inception_v3's published figure includes its auxiliary head, which one
  inference forward does not run (archscope names it in a note);
- MACs from both engines, which must be equal (per module call, and every FLOP category);
- MACs against ``FlopCounterMode``'s total / 2 (it counts 2 per MAC for conv, mm, addmm, bmm,
  without biases), run on the meta device under ``sdpa_kernel(SDPBackend.MATH)``: they must be
  equal exactly;
- MACs against torchvision's published ``_ops`` (GFLOPS in its metadata, rounded to 3
  decimals; it counts MACs), with the relative difference and its reason where over 0.5 %;
- ops without a cost handle (there must be none), and seconds per model: build, each engine,
  the reference.

Nothing is dropped: a model that fails is listed with its error. Needs torchvision and timm
(``bash ../shared/tools/coverage-venv.sh``, then ``/tmp/archscope-tv/bin/python
benchmarks/run.py --only coverage``). ``python benchmarks/bench_coverage.py NAME ...`` counts
some models and prints their rows (for development).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time

from run import ROOT, fmt_int, md_table, median

TIMM_MODELS = """
resnet18 resnet50 resnet50d resnext50_32x4d seresnext26d_32x4d wide_resnet50_2 resnetv2_50x1_bit
resnest14d res2net50_26w_4s skresnet18 resnetaa50 efficientnet_b0 efficientnet_b3
tf_efficientnet_b0 efficientnetv2_rw_s tf_efficientnetv2_s mixnet_s tinynet_a mobilenetv2_100
mobilenetv3_large_100 mobilenetv3_small_100 mobilenetv4_conv_small lcnet_050 rexnet_100
regnetx_002 regnety_004 regnety_016 regnetz_b16 densenet121 dpn68 convnext_atto convnext_tiny
convnextv2_atto inception_next_tiny vit_tiny_patch16_224 vit_small_patch16_224
vit_base_patch16_224 deit_tiny_patch16_224 deit_small_distilled_patch16_224
eva02_tiny_patch14_224 beit_base_patch16_224 cait_xxs24_224 vit_relpos_small_patch16_224
flexivit_small swin_tiny_patch4_window7_224 swinv2_tiny_window8_256 swinv2_cr_tiny_ns_224
maxvit_tiny_tf_224 maxvit_nano_rw_256 coatnet_0_rw_224 mixer_b16_224 resmlp_12_224 gmlp_s16_224
vit_small_r26_s32_224 coat_lite_tiny crossvit_tiny_240 levit_128s levit_conv_128s
edgenext_xx_small edgenext_small fastvit_t8 fastvit_sa12 ghostnet_100 ghostnetv2_100 repvgg_a0
repvgg_b0 dla34 dla46_c hrnet_w18_small cspresnet50 cspdarknet53 darknet53 inception_v3
inception_v4 inception_resnet_v2 xception41 efficientformer_l1 poolformer_s12 mobilevit_xxs
mobilevitv2_050 pvt_v2_b0 convit_tiny tnt_s_patch16_224 xcit_nano_12_p16_224 focalnet_tiny_srf
nfnet_l0 dm_nfnet_f0 hgnet_tiny vgg11 selecsls42b volo_d1_224 mvitv2_tiny davit_tiny
efficientvit_b0 efficientvit_m0 repvit_m1 ese_vovnet19b_dw gcvit_xxtiny nest_tiny pit_ti_224
botnet26t_256 halonet26t lambda_resnet26t hiera_tiny_224 caformer_s18 tiny_vit_5m_224
""".split()

OPS_TOLERANCE = 0.005  # relative difference beyond which the table gives a reason
ROUNDING = 0.0005  # published _ops are G rounded to 3 decimals: ±500,000 MACs


def ops_reason(macs: int, ops: float) -> str:
    """Why MACs differ from a published ``_ops`` by more than :data:`OPS_TOLERANCE`."""
    if abs(macs / 1e9 - ops) <= ROUNDING + 1e-12:
        return (f"rounding: {macs / 1e9:.4f} G rounds to the published {ops:.3f} G; at "
                "3 decimals a small model's figure is only good to ±500,000 MACs")
    return "unexplained"


def _published(name: str) -> tuple[int | None, float | None]:
    """torchvision's published num_params and _ops (G) for the DEFAULT weights, if any."""
    import torchvision

    try:
        meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    except (AttributeError, KeyError, ValueError):
        return None, None
    return meta.get("num_params"), meta.get("_ops")


def _reference_macs(model, inputs) -> int:
    """``FlopCounterMode``'s total / 2 on the meta device, attention on the math backend."""
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    # no parameter needs a gradient: FlopCounterMode's module tracker hooks the autograd graph
    # of any input that does (CaiT passes its class token, a parameter, into its blocks)
    model = model.to("meta").eval().requires_grad_(False)
    args, kwargs = inputs.tensors("meta")
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        model(*args, **kwargs)
    flops = counter.get_total_flops()
    if flops % 2:
        raise ValueError(f"FlopCounterMode gave an odd FLOP count {flops}")
    return flops // 2


def _calls_equal(a, b) -> bool:
    ka = [(c.path, c.index, c.cost) for c in a.calls]
    kb = [(c.path, c.index, c.cost) for c in b.calls]
    return ka == kb


def count_one(spec: str) -> dict:
    """Every figure of one model (see the module docstring); errors are recorded, not raised."""
    from archscope.analysis.record import record_target
    from archscope.models import load_target, resolve_inputs

    row: dict = {"model": spec}
    try:
        t0 = time.perf_counter()
        target = load_target(spec, device="meta", init=False)
        inputs = resolve_inputs(target)
        row["build_s"] = time.perf_counter() - t0
        row["input"] = inputs.text()
        row["notes"] = list(target.notes)
        t0 = time.perf_counter()
        meta = record_target(target, inputs, engine="meta")
        row["meta_s"] = time.perf_counter() - t0
        row.update(params=meta.params, macs=meta.cost.macs, flops=meta.cost.flops,
                   other=meta.cost.ordered_other(), uncounted_meta=meta.uncounted,
                   dead_params=meta.dead_params, dead_modules=meta.dead_modules)
    except Exception as exc:  # noqa: BLE001 - every failure is listed
        row["error"] = f"meta: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
        return row
    try:
        t0 = time.perf_counter()
        fv = record_target(target, inputs, engine="fvcore")
        row["fvcore_s"] = time.perf_counter() - t0
        row.update(macs_fvcore=fv.cost.macs, uncounted_fvcore=fv.uncounted,
                   engines_equal=fv.cost == meta.cost and fv.params == meta.params
                   and _calls_equal(fv, meta))
        if not row["engines_equal"]:
            row["engine_diff"] = {"meta": meta.cost.ordered_other(), "fvcore": fv.cost.ordered_other(),
                                  "params": [meta.params, fv.params]}
        del fv
    except Exception as exc:  # noqa: BLE001
        row["error_fvcore"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    try:
        t0 = time.perf_counter()
        row["macs_reference"] = _reference_macs(target.model, inputs)
        row["reference_s"] = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001
        row["error_reference"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if spec.startswith("torchvision:"):
        row["num_params_published"], ops = _published(spec.split(":", 1)[1])
        row["ops_published"] = ops
        if ops:
            row["ops_diff"] = (row["macs"] - ops * 1e9) / (ops * 1e9)
    else:
        row["num_params_module"] = sum(p.numel() for p in target.model.parameters())
    del target
    gc.collect()
    return row


def check(row: dict) -> list[str]:
    """What is wrong with a row (empty when every check holds)."""
    problems = [row[k] for k in ("error", "error_fvcore", "error_reference") if k in row]
    if "error" in row:
        return problems
    name = row["model"].split(":", 1)[1]
    want = row.get("num_params_published", row.get("num_params_module"))
    if want is not None and row["params"] != want and not (
            name == "inception_v3" and row["params"] + row.get("dead_params", 0) == want):
        problems.append(f"params {row['params']:,} ≠ {want:,}")
    ops = row.get("ops_published")
    if ops and abs(row["ops_diff"]) > OPS_TOLERANCE and ops_reason(row["macs"], ops) == "unexplained":
        problems.append(f"MACs {row['macs']:,} differ from the published {ops} G, unexplained")
    if "macs_reference" in row and row["macs"] != row["macs_reference"]:
        problems.append(f"MACs {row['macs']:,} ≠ FlopCounterMode {row['macs_reference']:,}")
    if row.get("engines_equal") is False:
        problems.append("engines differ")
    for k in ("uncounted_meta", "uncounted_fvcore"):
        if row.get(k):
            problems.append(f"{k}: {row[k]}")
    return problems


def _model_list(quick: bool) -> list[str]:
    import torchvision

    tv = [f"torchvision:{n}" for n in torchvision.models.list_models(module=torchvision.models)]
    timm_models = [f"timm:{n}" for n in TIMM_MODELS]
    if quick:
        return tv[:4] + timm_models[:4]
    return tv + timm_models


def _cli_time(args: list[str]) -> dict:
    """Seconds and peak RSS (MB) of ``python -m archscope ARGS`` in a fresh interpreter."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = ("import resource, subprocess, sys, time; t0 = time.perf_counter(); "
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE); "
            "dt = time.perf_counter() - t0; "
            "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", code, sys.executable, *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    seconds, rss_kb, rc = out.stdout.split()
    return {"seconds": float(seconds), "peak_rss_mb": int(rss_kb) / 1024, "exit_code": int(rc)}


def run(quick: bool, runs: int) -> dict:
    models = _model_list(quick)
    rows = []
    for i, spec in enumerate(models, 1):
        row = count_one(spec)
        row["problems"] = check(row)
        rows.append(row)
        print(f"[{i}/{len(models)}] {spec}: {'ok' if not row['problems'] else row['problems']}",
              flush=True)
    tv = [r for r in rows if r["model"].startswith("torchvision:")]
    commands = {"import_torch": ["-c", "import torch"],
                "import_torchvision": ["-c", "import torchvision.models"],
                "vit_h_14": ["-m", "archscope", "flops", "torchvision:vit_h_14"]}
    rounds = {k: [] for k in commands}
    for _ in range(1 if quick else max(3, runs)):  # round-robin: load hits all three alike
        for k, args in commands.items():
            rounds[k].append(_cli_time(args))
    timing = {k: {"seconds": median([r["seconds"] for r in v]),
                  "peak_rss_mb": median([r["peak_rss_mb"] for r in v]),
                  "runs_s": [r["seconds"] for r in v]} for k, v in rounds.items()}
    timing["torchvision_set"] = _cli_time(["-m", "archscope", "flops", "torchvision:*"])
    return {"models": rows, "timing": timing,
            "torchvision_meta_s": sum(r.get("build_s", 0) + r.get("meta_s", 0) for r in tv)}


def markdown(result: dict) -> str:
    """The full table (results/coverage.md); the README shows :func:`summary` of it."""
    return summary(result) + "\n" + table(result)


def summary(result: dict) -> str:
    rows = result["models"]
    ok = [r for r in rows if not r["problems"]]
    lines = [f"{len(ok)} of {len(rows)} models pass every check "
             f"({sum(r['model'].startswith('torchvision:') for r in rows)} torchvision, "
             f"{sum(r['model'].startswith('timm:') for r in rows)} timm)."]
    t = result.get("timing", {})
    if t:
        base = t["import_torch"]["seconds"]
        lines.append(
            f"\n`archscope flops torchvision:vit_h_14` (at its default 518×518): "
            f"{t['vit_h_14']['seconds']:.2f} s, {t['vit_h_14']['seconds'] - base:+.2f} s beyond "
            f"`import torch` ({base:.2f} s), of which `import torchvision.models` alone takes "
            f"{t['import_torchvision']['seconds'] - base:+.2f} s (it imports torch._dynamo); "
            f"peak RSS {t['vit_h_14']['peak_rss_mb']:.0f} MB (medians of round-robin runs). "
            f"`archscope flops 'torchvision:*'` (every classifier, meta engine, one process): "
            f"{t['torchvision_set']['seconds']:.1f} s. In-process build + meta engine over the "
            f"torchvision classifiers: {result['torchvision_meta_s']:.1f} s. Peak RSS of "
            f"`import torchvision.models` alone in this environment: "
            f"{t['import_torchvision']['peak_rss_mb']:.0f} MB (a CUDA build of torch), so "
            f"counting ViT-H/14's 633M parameters adds "
            f"{t['vit_h_14']['peak_rss_mb'] - t['import_torchvision']['peak_rss_mb']:.0f} MB.")
    failures = [r for r in rows if r["problems"]]
    if failures:
        lines.append("\nFailures: " + "; ".join(f"{r['model']}: {', '.join(r['problems'])}"
                                               for r in failures))
    return "\n".join(lines)


def table(result: dict) -> str:
    rows = result["models"]
    lines = []
    body = []
    for r in rows:
        if "error" in r:
            body.append((r["model"], "", "", "", "", "", "", "", r["error"]))
            continue
        pub = r.get("num_params_published", r.get("num_params_module"))
        ops = r.get("ops_published")
        diff = r.get("ops_diff")
        ops_text = "—" if ops is None else f"{ops:.3f} G ({diff:+.2%})"
        if diff is not None and abs(diff) > OPS_TOLERANCE:
            ops_text += f": {ops_reason(r['macs'], ops)}"
        body.append((r["model"], r.get("input", ""), fmt_int(r["params"]), fmt_int(pub),
                     fmt_int(r["macs"]), fmt_int(r.get("macs_reference")), ops_text,
                     f"{r.get('build_s', 0):.2f} / {r.get('meta_s', 0):.2f} / "
                     f"{r.get('fvcore_s', 0):.2f}",
                     "ok" if not r["problems"] else "; ".join(r["problems"])))
    lines.append("\n" + md_table(
        ["model", "input", "params", "published params", "MACs (both engines)",
         "FlopCounterMode / 2", "published _ops", "s: build / meta / fvcore", "checks"], body))
    lines.append("\nParams: inception_v3's published figure includes the auxiliary head, which "
                 "one inference forward does not run: archscope counts what runs and names the "
                 "head in a note. timm models are checked against the module's own parameter "
                 "count.")
    return "\n".join(lines)


def targets(result: dict) -> list[tuple[str, str, float, float]]:
    t = result.get("timing")
    out = []
    rows = result["models"]
    bad = sum(1 for r in rows if r["problems"])
    out.append(("coverage: every model passes every check (0 failures)",
                f"{bad} failing of {len(rows)}", float(bad), 0.0))
    if t:
        extra = t["vit_h_14"]["seconds"] - t["import_torch"]["seconds"]
        out.append(("`flops torchvision:vit_h_14` ≤ 2 s beyond `import torch`",
                    f"{extra:+.2f} s", extra, 2.0))
        out.append(("`flops torchvision:vit_h_14` peak RSS ≤ 600 MB",
                    f"{t['vit_h_14']['peak_rss_mb']:.0f} MB (`import torchvision.models` alone: "
                    f"{t['import_torchvision']['peak_rss_mb']:.0f} MB)",
                    t["vit_h_14"]["peak_rss_mb"], 600.0))
        own = t["vit_h_14"]["peak_rss_mb"] - t["import_torchvision"]["peak_rss_mb"]
        out.append(("`flops torchvision:vit_h_14`: RSS beyond `import torchvision.models` ≤ 600 MB",
                    f"{own:.0f} MB", own, 600.0))
        out.append(("all torchvision classifiers through the meta engine ≤ 60 s",
                    f"{t['torchvision_set']['seconds']:.1f} s", t["torchvision_set"]["seconds"], 60.0))
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for spec in sys.argv[1:]:
        r = count_one(spec)
        r["problems"] = check(r)
        print(json.dumps(r, default=str))
    resource.getrusage(resource.RUSAGE_SELF)
