"""Time `archscope report googlenet vgg16 resnet50` after imports, and the size of the file.

Run: python3 benchmarks/report_build.py [--out /tmp/bench-report.html]  (benchmarks/run.py --only report
runs it per model with medians, through measure()).
Prints counting time (flop_report, meta engine), figures + page time, total, and file size.
Target: total ≤ 3 s on a 2-core machine, file < 6 MB (plotly.js alone ~4.8 MB, embedded once).
"""

from __future__ import annotations

import argparse
import os
import time


def measure(models: list[str], out: str) -> dict:
    """Build one report of ``models`` into ``out``; seconds per stage (imports done before)."""
    import plotly.graph_objects  # noqa: F401  (imports are not what is timed)
    import plotly.offline
    import torch  # noqa: F401

    from archscope.io import write_atomic
    from archscope.html import build, page, sections
    from archscope.zoo import list_models

    list_models()  # registry import
    t0 = time.perf_counter()
    gathered = build.gather_models(models)
    t1 = time.perf_counter()
    secs = sections.build_sections(gathered, None, "meta")
    html_text = page.render_page("bench", "bench", secs, build.NOTES, plotly.offline.get_plotlyjs())
    write_atomic(out, html_text)
    t2 = time.perf_counter()
    return {"counting_s": t1 - t0, "page_s": t2 - t1, "total_s": t2 - t0,
            "file_bytes": os.path.getsize(out), "plotlyjs_bytes": len(plotly.offline.get_plotlyjs())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="/tmp/bench-report.html")
    ap.add_argument("models", nargs="*", default=["googlenet", "vgg16", "resnet50"])
    args = ap.parse_args()
    r = measure(args.models, args.out)
    print(f"models: {' '.join(args.models)}")
    print(f"counting (meta engine): {r['counting_s']:.2f} s")
    print(f"figures + lessons + page + write: {r['page_s']:.2f} s")
    print(f"total after imports: {r['total_s']:.2f} s")
    print(f"file size: {r['file_bytes'] / 1e6:.2f} MB (plotly.js {r['plotlyjs_bytes'] / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
